/*
 * json_out.h - the value writers of json.c, shared with the
 * description-driven decoder (described.c) and esctl's event printer, so
 * that all of them write values alike.
 */
#ifndef ES__JSON_OUT_H
#define ES__JSON_OUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "es/es_buf.h"
#include "es/es_mp.h"

/* A JSON string of `n` bytes; invalid UTF-8 becomes U+FFFD. */
void es__json_put_str(es_buf *b, const char *s, size_t n);

/* Bytes as a base64 JSON string. */
void es__json_put_base64(es_buf *b, const uint8_t *p, size_t n);

/* The NUL-terminated `s` as it is (punctuation, literals). */
void es__json_put_raw(es_buf *b, const char *s);

/* printf-formatted text, as it is; cut at ES__JSON_PUTF_MAX bytes. */
#define ES__JSON_PUTF_MAX 511
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void es__json_putf(es_buf *b, const char *fmt, ...);
void es__json_vputf(es_buf *b, const char *fmt, va_list ap);

/* `v` with `digits` significant digits (9 round-trip a float, 17 a
 * double), a '.' whatever the locale; NaN and infinities (which JSON
 * lacks) as null. */
void es__json_put_float(es_buf *b, double v, int digits);

/* The msgpack value at `r` as JSON: an integer of any width and sign as a
 * number, a string as a string, a byte string as base64. Each returns 0 or
 * the reader's error (ES_ETYPE, ES_ETRUNC) and writes nothing then. */
int es__json_put_mp_int(es_mp_reader *r, es_buf *b);
int es__json_put_mp_str(es_mp_reader *r, es_buf *b);
int es__json_put_mp_bin(es_mp_reader *r, es_buf *b);

#endif
