/*
 * key.c - what an instance key may be: the one rule every entry applies
 * (the store's appends, the executor's entries). See es_key_check().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "es/es_error.h"
#include "es/es_meta.h"

/* The length of the well-formed UTF-8 sequence at `s` (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  unsigned char lo = 0x80, hi = 0xbf;
  size_t n;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4;
  else
    return 0;
  if (c == 0xe0)
    lo = 0xa0;
  else if (c == 0xed)
    hi = 0x9f;
  else if (c == 0xf0)
    lo = 0x90;
  else if (c == 0xf4)
    hi = 0x8f;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return n;
}

/* Writes why the key is refused; returns ES_EINVAL. */
static int say(char *why, size_t cap, const char *fmt, ...) {
  va_list ap;
  if (why && cap) {
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
  }
  return ES_EINVAL;
}

int es_key_check(const char *key, char *why, size_t cap) {
  const unsigned char *s = (const unsigned char *)key;
  size_t n, i = 0;

  if (why && cap)
    why[0] = '\0';
  if (!key)
    return say(why, cap, "no key (NULL)");
  n = strnlen(key, ES_KEY_MAX + 1);
  if (n == 0)
    return say(why, cap, "empty key");
  if (n > ES_KEY_MAX)
    return say(why, cap, "key longer than %d bytes", ES_KEY_MAX);
  while (i < n) {
    size_t k = utf8_len(s + i);
    unsigned cp;
    if (k == 0)
      return say(why, cap, "invalid UTF-8 at byte %zu (0x%02x)", i, s[i]);
    /* Control characters (C0, DEL, C1) take one or two bytes. */
    cp = k == 1 ? s[i] : (s[i] & 0x1fu) << 6 | (s[i + 1] & 0x3fu);
    if (k <= 2 && (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)))
      return say(why, cap, "control character at byte %zu (U+%04X)", i, cp);
    i += k;
  }
  return 0;
}
