/*
 * buf_text.c - strings and decimal integers appended to an es_buf.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/buf_text.h"

void es__buf_puts(es_buf *b, const char *s) { es_buf_append(b, s, strlen(s)); }

void es__buf_put_i64(es_buf *b, int64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
  es_buf_append(b, tmp, (size_t)n);
}

void es__buf_put_u64(es_buf *b, uint64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
  es_buf_append(b, tmp, (size_t)n);
}
