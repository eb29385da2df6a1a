/*
 * uuid.c - the canonical 8-4-4-4-12 text form of a uuid.
 */
#include <stddef.h>

#include "es/es_error.h"
#include "es/es_types.h"
#include "util/hex.h"

/* Offsets of the dashes in the 36-character form. */
static int is_dash_pos(size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

void es_uuid_format(const es_uuid *u, char out[37]) {
  static const char digits[] = "0123456789abcdef";
  size_t i, o = 0;

  for (i = 0; i < 16; i++) {
    if (is_dash_pos(o))
      out[o++] = '-';
    out[o++] = digits[u->bytes[i] >> 4];
    out[o++] = digits[u->bytes[i] & 0x0f];
  }
  out[o] = '\0';
}

/* Strict on purpose: keys and ids are compared as text elsewhere, so braces,
 * "urn:uuid:" prefixes or missing dashes would make two spellings of one
 * uuid. `u` is left untouched on failure. */
int es_uuid_parse(es_uuid *u, const char *s) {
  es_uuid tmp;
  size_t i, n = 0;

  if (!u || !s)
    return ES_EINVAL;
  for (i = 0; i < 36; i++) {
    if (is_dash_pos(i)) {
      if (s[i] != '-')
        return ES_EINVAL;
    } else {
      int v = es__hex_digit(s[i]);
      if (v < 0)
        return ES_EINVAL;
      if (n % 2 == 0)
        tmp.bytes[n / 2] = (uint8_t)(v << 4);
      else
        tmp.bytes[n / 2] |= (uint8_t)v;
      n++;
    }
  }
  if (s[36] != '\0')
    return ES_EINVAL;
  *u = tmp;
  return 0;
}
