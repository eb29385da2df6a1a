/*
 * buf_text.h - text written into an es_buf: strings and decimal integers,
 * for the JSON, Prometheus and JSON-lines writers.
 */
#ifndef ES__BUF_TEXT_H
#define ES__BUF_TEXT_H

#include <stdint.h>

#include "es/es_buf.h"

/* Appends the NUL-terminated `s`. Errors stick in the buffer (es_buf). */
void es__buf_puts(es_buf *b, const char *s);

/* Appends `v` in decimal, with a minus sign when negative. */
void es__buf_put_i64(es_buf *b, int64_t v);

/* Appends `v` in decimal. */
void es__buf_put_u64(es_buf *b, uint64_t v);

#endif
