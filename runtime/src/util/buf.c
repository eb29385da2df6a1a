/*
 * buf.c - the out-of-line half of es_buf.
 */
#include <stdint.h>
#include <stdlib.h>

#include "es/es_buf.h"
#include "es/es_error.h"
#include "util/alloc.h"

/* The first allocation: enough for a typical small event. */
#define ES__BUF_FIRST ((size_t)64)

void es_buf_init(es_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max ? max : ES_BUF_DEFAULT_MAX;
  b->err = 0;
}

/* Keeps `max`, so a closed buffer can be filled again under the same cap. */
void es_buf_close(es_buf *b) {
  if (!b)
    return;
  es__free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->err = 0;
}

void es_buf_clear(es_buf *b) {
  b->len = 0;
  b->err = 0;
}

/* Doubles the capacity until `n` more bytes fit, never allocating past
 * `max`; the content is kept on failure. Also called with a NULL `data`
 * and any `n` (even 0) to get a first allocation. */
int es__buf_grow(es_buf *b, size_t n) {
  size_t max = b->max ? b->max : ES_BUF_DEFAULT_MAX;
  size_t need, cap;
  uint8_t *p;

  if (b->err)
    return b->err;
  if (n > SIZE_MAX - b->len || b->len + n > max) {
    es_buf_fail(b, ES_ETOOBIG);
    return b->err;
  }
  need = b->len + n;
  if (b->data && need <= b->cap)
    return 0;

  cap = b->cap ? b->cap : ES__BUF_FIRST;
  while (cap < need)
    cap = cap > max / 2 ? max : cap * 2;
  if (cap > max) /* a tiny `max`: need <= max, so this still fits */
    cap = max;

  p = es__realloc(b->data, cap);
  if (!p && cap > need && need > 0) { /* the doubling was greedy: try less */
    cap = need;
    p = es__realloc(b->data, cap);
  }
  if (!p) {
    es_buf_fail(b, ES_ENOMEM);
    return b->err;
  }
  b->data = p;
  b->cap = cap;
  return 0;
}
