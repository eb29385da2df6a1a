/*
 * hex.c - hexadecimal digits.
 */
#include <stddef.h>
#include <stdint.h>

#include "util/hex.h"

int es__hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int es__hex_decode(const char *s, size_t n, uint8_t *out) {
  if (n % 2)
    return -1;
  for (size_t i = 0; i < n; i += 2) {
    int hi = es__hex_digit(s[i]), lo = es__hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}
