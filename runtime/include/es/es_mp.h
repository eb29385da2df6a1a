/*
 * es_mp.h - the msgpack primitives that generated codecs are made of.
 *
 * Writers append to an es_buf (errors are sticky there). Readers walk a
 * bounded byte range: every length is checked against the bytes present
 * before anything is copied or allocated, and nesting is limited, so a
 * hostile input yields an ES_E* code, never a crash or a large allocation.
 * Integers are written in their shortest msgpack form, which is what
 * msgpack-c and every other implementation expect. Each writer reserves
 * exactly the bytes it writes, so a value fits a capped es_buf whenever
 * its encoding does.
 */
#ifndef ES_MP_H
#define ES_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "es_buf.h"
#include "es_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Nesting deeper than this (arrays within arrays) is refused. */
#define ES_MP_MAX_DEPTH 64

/* ---- writing ---------------------------------------------------------- */

static inline void es__mp_be16(uint8_t *d, uint16_t v) {
  d[0] = (uint8_t)(v >> 8);
  d[1] = (uint8_t)v;
}
static inline void es__mp_be32(uint8_t *d, uint32_t v) {
  d[0] = (uint8_t)(v >> 24);
  d[1] = (uint8_t)(v >> 16);
  d[2] = (uint8_t)(v >> 8);
  d[3] = (uint8_t)v;
}
static inline void es__mp_be64(uint8_t *d, uint64_t v) {
  es__mp_be32(d, (uint32_t)(v >> 32));
  es__mp_be32(d + 4, (uint32_t)v);
}

/* `v` in `width` big-endian bytes (0, 1, 2, 4 or 8) at `d`. */
static inline void es__mp_st(uint8_t *d, uint64_t v, size_t width) {
  switch (width) {
  case 0:
    break;
  case 1:
    d[0] = (uint8_t)v;
    break;
  case 2:
    es__mp_be16(d, (uint16_t)v);
    break;
  case 4:
    es__mp_be32(d, (uint32_t)v);
    break;
  default:
    es__mp_be64(d, v);
  }
}

/* Appends a header, the byte `tag` then `v` in `width` bytes, and room for
 * `extra` bytes after it; returns where those go, or NULL when `b` failed
 * (its error says why). */
static inline uint8_t *es__mp_put(es_buf *b, uint8_t tag, size_t width,
                                  uint64_t v, size_t extra) {
  uint8_t *d = es_buf_reserve(b, 1 + width + extra);
  if (!d)
    return NULL;
  d[0] = tag;
  es__mp_st(d + 1, v, width);
  b->len += 1 + width + extra;
  return d + 1 + width;
}

static inline void es_mp_write_nil(es_buf *b) { es__mp_put(b, 0xc0, 0, 0, 0); }

static inline void es_mp_write_bool(es_buf *b, bool v) {
  es__mp_put(b, v ? 0xc3 : 0xc2, 0, 0, 0);
}

static inline void es_mp_write_uint(es_buf *b, uint64_t v) {
  if (v < 0x80)
    es__mp_put(b, (uint8_t)v, 0, 0, 0);
  else if (v <= 0xff)
    es__mp_put(b, 0xcc, 1, v, 0);
  else if (v <= 0xffff)
    es__mp_put(b, 0xcd, 2, v, 0);
  else if (v <= 0xffffffffu)
    es__mp_put(b, 0xce, 4, v, 0);
  else
    es__mp_put(b, 0xcf, 8, v, 0);
}

/* The narrowest encoding; a negative value keeps its two's-complement bits
 * in the bytes written. */
static inline void es_mp_write_int(es_buf *b, int64_t v) {
  if (v >= 0)
    es_mp_write_uint(b, (uint64_t)v);
  else if (v >= -32)
    es__mp_put(b, (uint8_t)(int8_t)v, 0, 0, 0);
  else if (v >= INT8_MIN)
    es__mp_put(b, 0xd0, 1, (uint64_t)v, 0);
  else if (v >= INT16_MIN)
    es__mp_put(b, 0xd1, 2, (uint64_t)v, 0);
  else if (v >= INT32_MIN)
    es__mp_put(b, 0xd2, 4, (uint64_t)v, 0);
  else
    es__mp_put(b, 0xd3, 8, (uint64_t)v, 0);
}

static inline void es_mp_write_f32(es_buf *b, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  es__mp_put(b, 0xca, 4, u, 0);
}

static inline void es_mp_write_f64(es_buf *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  es__mp_put(b, 0xcb, 8, u, 0);
}

/* Header byte(s) for an array of `n` elements. */
static inline void es_mp_write_array(es_buf *b, uint32_t n) {
  if (n < 16)
    es__mp_put(b, (uint8_t)(0x90 | n), 0, 0, 0);
  else if (n <= 0xffff)
    es__mp_put(b, 0xdc, 2, n, 0);
  else
    es__mp_put(b, 0xdd, 4, n, 0);
}

/* Shared by str and bin: the header of a value of `n` bytes and room for
 * them, returned (NULL when `b` failed); over 4 GiB sets ES_ETOOBIG. */
static inline uint8_t *es__mp_put_blob(es_buf *b, bool is_str, size_t n) {
  uint8_t sized = is_str ? 0xd9 : 0xc4; /* 8-bit length; 16, 32 follow */
  if (n > 0xffffffffu) {
    if (!b->err)
      b->err = ES_ETOOBIG;
    return NULL;
  }
  if (is_str && n < 32)
    return es__mp_put(b, (uint8_t)(0xa0 | n), 0, 0, n);
  if (n <= 0xff)
    return es__mp_put(b, sized, 1, n, n);
  if (n <= 0xffff)
    return es__mp_put(b, (uint8_t)(sized + 1), 2, n, n);
  return es__mp_put(b, (uint8_t)(sized + 2), 4, n, n);
}

/* A string of `n` bytes; values over 4 GiB set ES_ETOOBIG. */
static inline void es_mp_write_str(es_buf *b, const char *s, size_t n) {
  uint8_t *d = es__mp_put_blob(b, true, n);
  if (d && n)
    memcpy(d, s, n);
}

/* A NUL-terminated string; NULL is written as the empty string. */
static inline void es_mp_write_cstr(es_buf *b, const char *s) {
  es_mp_write_str(b, s ? s : "", s ? strlen(s) : 0);
}

/* A byte string (msgpack bin) of `n` bytes. */
static inline void es_mp_write_bin(es_buf *b, const void *p, size_t n) {
  uint8_t *d = es__mp_put_blob(b, false, n);
  if (d && n)
    memcpy(d, p, n);
}

/* ---- reading ---------------------------------------------------------- */

/* A bounded cursor over `[p, end)`. */
typedef struct es_mp_reader {
  const uint8_t *p;
  const uint8_t *end;
  int depth; /* arrays entered and not yet finished */
} es_mp_reader;

static inline void es_mp_reader_init(es_mp_reader *r, const void *data,
                                     size_t len) {
  r->p = (const uint8_t *)data;
  r->end = len ? r->p + len : r->p; /* NULL + 0 is UB */
  r->depth = 0;
}

static inline size_t es_mp_remaining(const es_mp_reader *r) {
  return (size_t)(r->end - r->p);
}

static inline uint16_t es__mp_ld16(const uint8_t *s) {
  return (uint16_t)((unsigned)s[0] << 8 | s[1]);
}
static inline uint32_t es__mp_ld32(const uint8_t *s) {
  return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 |
         s[3];
}
static inline uint64_t es__mp_ld64(const uint8_t *s) {
  return (uint64_t)es__mp_ld32(s) << 32 | es__mp_ld32(s + 4);
}

/* The big-endian unsigned number of `width` bytes (1, 2, 4 or 8) at `s`. */
static inline uint64_t es__mp_ld(const uint8_t *s, size_t width) {
  switch (width) {
  case 1:
    return s[0];
  case 2:
    return es__mp_ld16(s);
  case 4:
    return es__mp_ld32(s);
  default:
    return es__mp_ld64(s);
  }
}

/* Consumes a one-byte tag and the `width`-byte number after it into `*v`;
 * ES_ETRUNC, consuming nothing, when fewer bytes are left. */
static inline int es__mp_take(es_mp_reader *r, size_t width, uint64_t *v) {
  if ((size_t)(r->end - r->p) < 1 + width)
    return ES_ETRUNC;
  *v = es__mp_ld(r->p + 1, width);
  r->p += 1 + width;
  return 0;
}

/* True (and consumes it) when the next value is nil. */
static inline bool es_mp_read_nil(es_mp_reader *r) {
  if (r->p < r->end && *r->p == 0xc0) {
    r->p++;
    return true;
  }
  return false;
}

static inline int es_mp_read_bool(es_mp_reader *r, bool *v) {
  if (r->p >= r->end)
    return ES_ETRUNC;
  if (*r->p == 0xc2 || *r->p == 0xc3) {
    *v = *r->p == 0xc3;
    r->p++;
    return 0;
  }
  return ES_ETYPE;
}

/* Reads any msgpack integer as a sign flag plus magnitude bits. */
static inline int es__mp_read_intbits(es_mp_reader *r, uint64_t *u, bool *neg) {
  const uint8_t *p = r->p;
  size_t rem = (size_t)(r->end - p);
  uint8_t c;
  if (rem < 1)
    return ES_ETRUNC;
  c = p[0];
  if (c < 0x80) {
    *u = c, *neg = false, r->p += 1;
    return 0;
  }
  if (c >= 0xe0) {
    *u = (uint64_t)(int64_t)(int8_t)c, *neg = true, r->p += 1;
    return 0;
  }
  if (c >= 0xcc && c <= 0xd3) { /* uint 8..64, then int 8..64 */
    size_t width = (size_t)1 << (c & 3);
    int rc = es__mp_take(r, width, u);
    if (rc)
      return rc;
    if (c >= 0xd0 && width < 8 && (*u >> (8 * width - 1)) & 1)
      *u |= UINT64_MAX << (8 * width); /* sign-extends */
    *neg = c >= 0xd0 && (int64_t)*u < 0;
    return 0;
  }
  return ES_ETYPE;
}

/* A signed integer in [lo, hi]; any msgpack integer encoding is accepted. */
static inline int es_mp_read_int(es_mp_reader *r, int64_t *v, int64_t lo,
                                 int64_t hi) {
  uint64_t u;
  bool neg;
  const uint8_t *save = r->p;
  int rc = es__mp_read_intbits(r, &u, &neg);
  if (rc)
    return rc;
  if (!neg && u > (uint64_t)INT64_MAX)
    goto range;
  if ((int64_t)u < lo || (int64_t)u > hi)
    goto range;
  *v = (int64_t)u;
  return 0;
range:
  r->p = save;
  return ES_ERANGE;
}

/* An unsigned integer in [0, hi]. */
static inline int es_mp_read_uint(es_mp_reader *r, uint64_t *v, uint64_t hi) {
  uint64_t u;
  bool neg;
  const uint8_t *save = r->p;
  int rc = es__mp_read_intbits(r, &u, &neg);
  if (rc)
    return rc;
  if (neg || u > hi) {
    r->p = save;
    return ES_ERANGE;
  }
  *v = u;
  return 0;
}

/* Shared by the float readers: a float32 or float64, as both a float and
 * a double (each converted from the other where it was not sent; a sent
 * float32 keeps its exact bits in `*f32`). */
static inline int es__mp_read_float(es_mp_reader *r, float *f32, double *f64) {
  uint64_t bits;
  uint32_t u;
  if (r->p >= r->end)
    return ES_ETRUNC;
  if (r->p[0] != 0xca && r->p[0] != 0xcb)
    return ES_ETYPE;
  if (r->p[0] == 0xca) {
    if (es__mp_take(r, 4, &bits))
      return ES_ETRUNC;
    u = (uint32_t)bits;
    memcpy(f32, &u, 4);
    *f64 = *f32;
  } else {
    if (es__mp_take(r, 8, &bits))
      return ES_ETRUNC;
    memcpy(f64, &bits, 8);
    *f32 = (float)*f64;
  }
  return 0;
}

/* A float32 (or, losing precision, a float64). */
static inline int es_mp_read_f32(es_mp_reader *r, float *v) {
  double unused;
  return es__mp_read_float(r, v, &unused);
}

/* A float64 or float32. */
static inline int es_mp_read_f64(es_mp_reader *r, double *v) {
  float unused;
  return es__mp_read_float(r, &unused, v);
}

/* An array header. The count is checked against the bytes left (each
 * element takes at least one byte) and the depth limit is applied; pair
 * every successful call with es_mp_leave(). */
static inline int es_mp_read_array(es_mp_reader *r, uint32_t *n) {
  uint64_t count;
  int rc;
  if (r->p >= r->end)
    return ES_ETRUNC;
  if ((r->p[0] & 0xf0) == 0x90) {
    count = r->p[0] & 0x0f;
    r->p += 1;
  } else if (r->p[0] == 0xdc || r->p[0] == 0xdd) {
    if ((rc = es__mp_take(r, r->p[0] == 0xdc ? 2 : 4, &count)) != 0)
      return rc;
  } else {
    return ES_ETYPE;
  }
  if (count > (size_t)(r->end - r->p))
    return ES_ETRUNC;
  if (r->depth >= ES_MP_MAX_DEPTH)
    return ES_EDEPTH;
  r->depth++;
  *n = (uint32_t)count;
  return 0;
}

static inline void es_mp_leave(es_mp_reader *r) { r->depth--; }

/* Shared by str and bin: a header of the given kind, then `*n` bytes. */
static inline int es__mp_read_blob(es_mp_reader *r, bool is_str,
                                   const uint8_t **p, uint32_t *n) {
  const uint8_t *s = r->p;
  unsigned sized = is_str ? 0xd9 : 0xc4; /* 8-bit length; 16, 32 follow */
  uint64_t len;
  int rc;
  if (s >= r->end)
    return ES_ETRUNC;
  if (is_str && (s[0] & 0xe0) == 0xa0) {
    len = s[0] & 0x1f;
    r->p += 1;
  } else if (s[0] >= sized && s[0] <= sized + 2) {
    if ((rc = es__mp_take(r, (size_t)1 << (s[0] - sized), &len)) != 0)
      return rc;
  } else {
    return ES_ETYPE;
  }
  if (len > es_mp_remaining(r)) {
    r->p = s;
    return ES_ETRUNC;
  }
  *p = r->p;
  *n = (uint32_t)len;
  r->p += len;
  return 0;
}

/* A string: `*p` points into the input (not NUL-terminated). */
static inline int es_mp_read_str(es_mp_reader *r, const char **p, uint32_t *n) {
  const uint8_t *s = NULL; /* casting `p` would break strict aliasing */
  int rc = es__mp_read_blob(r, true, &s, n);
  if (rc == 0)
    *p = (const char *)s;
  return rc;
}

/* A byte string: `*p` points into the input. */
static inline int es_mp_read_bin(es_mp_reader *r, const uint8_t **p,
                                 uint32_t *n) {
  return es__mp_read_blob(r, false, p, n);
}

/* Skips one whole value of any type (for fields a newer writer added).
 * Bounded by the input and by ES_MP_MAX_DEPTH. */
int es_mp_skip(es_mp_reader *r);

#ifdef __cplusplus
}
#endif
#endif
