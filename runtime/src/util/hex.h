/*
 * hex.h - hexadecimal digits, for uuids and the byte strings that text
 * files carry.
 */
#ifndef ES__HEX_H
#define ES__HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit `c` (either case), or -1. */
int es__hex_digit(char c);

/* Decodes the `n` hex digits at `s` into `out` (n / 2 bytes). Returns 0,
 * or -1 (nothing meaningful in `out`) for an odd `n` or a non-digit. */
int es__hex_decode(const char *s, size_t n, uint8_t *out);

#endif
