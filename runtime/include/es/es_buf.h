/*
 * es_buf.h - a growable byte buffer with a size cap and a sticky error.
 *
 * Encoders append to an es_buf without checking each call: the first
 * failure (allocation, or growth past `max`) is kept in `err`, later
 * appends do nothing, and the caller checks `err` once at the end.
 */
#ifndef ES_BUF_H
#define ES_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Used when es_buf_init() is given a cap of 0. */
#define ES_BUF_DEFAULT_MAX ((size_t)16 << 20)

/* Caller-owned. `data[0 .. len)` is the content. */
typedef struct es_buf {
  uint8_t *data;
  size_t len;
  size_t cap; /* bytes allocated at `data` */
  size_t max; /* `len` may never exceed this */
  int err;    /* 0, or the first ES_E* code met */
} es_buf;

#define ES_BUF_INIT                                                            \
  { NULL, 0, 0, ES_BUF_DEFAULT_MAX, 0 }

/* Prepares an empty buffer that may grow to `max` bytes (0: the default). */
void es_buf_init(es_buf *b, size_t max);

/* Frees the content; `b` is empty afterwards. Accepts NULL. */
void es_buf_close(es_buf *b);

/* Empties the buffer and clears `err`, keeping the allocation. */
void es_buf_clear(es_buf *b);

/* Slow path of es_buf_reserve(): grows to hold `n` more bytes. */
int es__buf_grow(es_buf *b, size_t n);

/* Makes room for `n` more bytes. Returns a pointer to them, or NULL (and
 * sets `err`) on failure. The caller then adds them with es_buf_commit(). */
static inline uint8_t *es_buf_reserve(es_buf *b, size_t n) {
  if (b->err)
    return NULL;
  /* `!b->data`: even a 0-byte reserve needs a real pointer (NULL + 0 is UB) */
  if ((b->cap - b->len < n || !b->data) && es__buf_grow(b, n) != 0)
    return NULL;
  return b->data + b->len;
}

static inline void es_buf_commit(es_buf *b, size_t n) { b->len += n; }

/* Records `err` unless an earlier error is already kept. */
static inline void es_buf_fail(es_buf *b, int err) {
  if (!b->err)
    b->err = err;
}

/* Appends `n` bytes; failures land in `err`. */
static inline void es_buf_append(es_buf *b, const void *p, size_t n) {
  uint8_t *d = es_buf_reserve(b, n);
  if (d) {
    if (n)
      memcpy(d, p, n);
    b->len += n;
  }
}

#ifdef __cplusplus
}
#endif
#endif
