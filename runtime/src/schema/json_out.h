/*
 * json_out.h - the string and byte-string writers of json.c, shared with
 * the description-driven decoder so both write values alike.
 */
#ifndef ES__JSON_OUT_H
#define ES__JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "es/es_buf.h"

/* A JSON string of `n` bytes; invalid UTF-8 becomes U+FFFD. */
void es__json_put_str(es_buf *b, const char *s, size_t n);

/* Bytes as a base64 JSON string. */
void es__json_put_base64(es_buf *b, const uint8_t *p, size_t n);

#endif
