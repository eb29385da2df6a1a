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

static inline void es_mp_write_nil(es_buf *b) {
  uint8_t *d = es_buf_reserve(b, 1);
  if (d) {
    d[0] = 0xc0;
    b->len += 1;
  }
}

static inline void es_mp_write_bool(es_buf *b, bool v) {
  uint8_t *d = es_buf_reserve(b, 1);
  if (d) {
    d[0] = v ? 0xc3 : 0xc2;
    b->len += 1;
  }
}

static inline void es_mp_write_uint(es_buf *b, uint64_t v) {
  size_t n = v < 0x80           ? 1
             : v <= 0xff        ? 2
             : v <= 0xffff      ? 3
             : v <= 0xffffffffu ? 5
                                : 9;
  uint8_t *d = es_buf_reserve(b, n);
  if (!d)
    return;
  if (n == 1) {
    d[0] = (uint8_t)v;
  } else if (n == 2) {
    d[0] = 0xcc;
    d[1] = (uint8_t)v;
  } else if (n == 3) {
    d[0] = 0xcd;
    es__mp_be16(d + 1, (uint16_t)v);
  } else if (n == 5) {
    d[0] = 0xce;
    es__mp_be32(d + 1, (uint32_t)v);
  } else {
    d[0] = 0xcf;
    es__mp_be64(d + 1, v);
  }
  b->len += n;
}

static inline void es_mp_write_int(es_buf *b, int64_t v) {
  size_t n;
  uint8_t *d;
  if (v >= 0) {
    es_mp_write_uint(b, (uint64_t)v);
    return;
  }
  n = v >= -32         ? 1
      : v >= INT8_MIN  ? 2
      : v >= INT16_MIN ? 3
      : v >= INT32_MIN ? 5
                       : 9;
  d = es_buf_reserve(b, n);
  if (!d)
    return;
  if (n == 1) {
    d[0] = (uint8_t)(int8_t)v;
  } else if (n == 2) {
    d[0] = 0xd0;
    d[1] = (uint8_t)(int8_t)v;
  } else if (n == 3) {
    d[0] = 0xd1;
    es__mp_be16(d + 1, (uint16_t)(int16_t)v);
  } else if (n == 5) {
    d[0] = 0xd2;
    es__mp_be32(d + 1, (uint32_t)(int32_t)v);
  } else {
    d[0] = 0xd3;
    es__mp_be64(d + 1, (uint64_t)v);
  }
  b->len += n;
}

static inline void es_mp_write_f32(es_buf *b, float v) {
  uint8_t *d = es_buf_reserve(b, 5);
  uint32_t u;
  if (!d)
    return;
  memcpy(&u, &v, 4);
  d[0] = 0xca;
  es__mp_be32(d + 1, u);
  b->len += 5;
}

static inline void es_mp_write_f64(es_buf *b, double v) {
  uint8_t *d = es_buf_reserve(b, 9);
  uint64_t u;
  if (!d)
    return;
  memcpy(&u, &v, 8);
  d[0] = 0xcb;
  es__mp_be64(d + 1, u);
  b->len += 9;
}

/* Header byte(s) for an array of `n` elements. */
static inline void es_mp_write_array(es_buf *b, uint32_t n) {
  size_t h = n < 16 ? 1 : n <= 0xffff ? 3 : 5;
  uint8_t *d = es_buf_reserve(b, h);
  if (!d)
    return;
  if (h == 1) {
    d[0] = (uint8_t)(0x90 | n);
  } else if (h == 3) {
    d[0] = 0xdc;
    es__mp_be16(d + 1, (uint16_t)n);
  } else {
    d[0] = 0xdd;
    es__mp_be32(d + 1, n);
  }
  b->len += h;
}

/* A string of `n` bytes; values over 4 GiB set ES_ETOOBIG. */
static inline void es_mp_write_str(es_buf *b, const char *s, size_t n) {
  size_t h = n < 32 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
  uint8_t *d;
  if (n > 0xffffffffu) {
    if (!b->err)
      b->err = ES_ETOOBIG;
    return;
  }
  d = es_buf_reserve(b, h + n);
  if (!d)
    return;
  if (h == 1) {
    d[0] = (uint8_t)(0xa0 | n);
  } else if (h == 2) {
    d[0] = 0xd9;
    d[1] = (uint8_t)n;
  } else if (h == 3) {
    d[0] = 0xda;
    es__mp_be16(d + 1, (uint16_t)n);
  } else {
    d[0] = 0xdb;
    es__mp_be32(d + 1, (uint32_t)n);
  }
  if (n)
    memcpy(d + h, s, n);
  b->len += h + n;
}

/* A NUL-terminated string; NULL is written as the empty string. */
static inline void es_mp_write_cstr(es_buf *b, const char *s) {
  es_mp_write_str(b, s ? s : "", s ? strlen(s) : 0);
}

/* A byte string (msgpack bin) of `n` bytes. */
static inline void es_mp_write_bin(es_buf *b, const void *p, size_t n) {
  size_t h = n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
  uint8_t *d;
  if (n > 0xffffffffu) {
    if (!b->err)
      b->err = ES_ETOOBIG;
    return;
  }
  d = es_buf_reserve(b, h + n);
  if (!d)
    return;
  if (h == 2) {
    d[0] = 0xc4;
    d[1] = (uint8_t)n;
  } else if (h == 3) {
    d[0] = 0xc5;
    es__mp_be16(d + 1, (uint16_t)n);
  } else {
    d[0] = 0xc6;
    es__mp_be32(d + 1, (uint32_t)n);
  }
  if (n)
    memcpy(d + h, p, n);
  b->len += h + n;
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
  switch (c) {
  case 0xcc:
    if (rem < 2)
      return ES_ETRUNC;
    *u = p[1], *neg = false, r->p += 2;
    return 0;
  case 0xcd:
    if (rem < 3)
      return ES_ETRUNC;
    *u = es__mp_ld16(p + 1), *neg = false, r->p += 3;
    return 0;
  case 0xce:
    if (rem < 5)
      return ES_ETRUNC;
    *u = es__mp_ld32(p + 1), *neg = false, r->p += 5;
    return 0;
  case 0xcf:
    if (rem < 9)
      return ES_ETRUNC;
    *u = es__mp_ld64(p + 1), *neg = false, r->p += 9;
    return 0;
  case 0xd0:
    if (rem < 2)
      return ES_ETRUNC;
    *u = (uint64_t)(int64_t)(int8_t)p[1], r->p += 2;
    break;
  case 0xd1:
    if (rem < 3)
      return ES_ETRUNC;
    *u = (uint64_t)(int64_t)(int16_t)es__mp_ld16(p + 1), r->p += 3;
    break;
  case 0xd2:
    if (rem < 5)
      return ES_ETRUNC;
    *u = (uint64_t)(int64_t)(int32_t)es__mp_ld32(p + 1), r->p += 5;
    break;
  case 0xd3:
    if (rem < 9)
      return ES_ETRUNC;
    *u = es__mp_ld64(p + 1), r->p += 9;
    break;
  default:
    return ES_ETYPE;
  }
  *neg = (int64_t)*u < 0;
  return 0;
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

/* A float32 (or, losing precision, a float64). */
static inline int es_mp_read_f32(es_mp_reader *r, float *v) {
  size_t rem = (size_t)(r->end - r->p);
  if (rem < 1)
    return ES_ETRUNC;
  if (r->p[0] == 0xca) {
    uint32_t u;
    if (rem < 5)
      return ES_ETRUNC;
    u = es__mp_ld32(r->p + 1);
    memcpy(v, &u, 4);
    r->p += 5;
    return 0;
  }
  if (r->p[0] == 0xcb) {
    uint64_t u;
    double d;
    if (rem < 9)
      return ES_ETRUNC;
    u = es__mp_ld64(r->p + 1);
    memcpy(&d, &u, 8);
    *v = (float)d;
    r->p += 9;
    return 0;
  }
  return ES_ETYPE;
}

/* A float64 or float32. */
static inline int es_mp_read_f64(es_mp_reader *r, double *v) {
  size_t rem = (size_t)(r->end - r->p);
  if (rem < 1)
    return ES_ETRUNC;
  if (r->p[0] == 0xcb) {
    uint64_t u;
    if (rem < 9)
      return ES_ETRUNC;
    u = es__mp_ld64(r->p + 1);
    memcpy(v, &u, 8);
    r->p += 9;
    return 0;
  }
  if (r->p[0] == 0xca) {
    float f = 0.0f;
    int rc = es_mp_read_f32(r, &f);
    if (rc == 0)
      *v = f;
    return rc;
  }
  return ES_ETYPE;
}

/* An array header. The count is checked against the bytes left (each
 * element takes at least one byte) and the depth limit is applied; pair
 * every successful call with es_mp_leave(). */
static inline int es_mp_read_array(es_mp_reader *r, uint32_t *n) {
  size_t rem = (size_t)(r->end - r->p);
  uint32_t count;
  if (rem < 1)
    return ES_ETRUNC;
  if ((r->p[0] & 0xf0) == 0x90) {
    count = r->p[0] & 0x0f;
    r->p += 1;
  } else if (r->p[0] == 0xdc) {
    if (rem < 3)
      return ES_ETRUNC;
    count = es__mp_ld16(r->p + 1);
    r->p += 3;
  } else if (r->p[0] == 0xdd) {
    if (rem < 5)
      return ES_ETRUNC;
    count = es__mp_ld32(r->p + 1);
    r->p += 5;
  } else {
    return ES_ETYPE;
  }
  if (count > (size_t)(r->end - r->p))
    return ES_ETRUNC;
  if (r->depth >= ES_MP_MAX_DEPTH)
    return ES_EDEPTH;
  r->depth++;
  *n = count;
  return 0;
}

static inline void es_mp_leave(es_mp_reader *r) { r->depth--; }

/* Shared by str and bin: a header of the given kind, then `*n` bytes. */
static inline int es__mp_read_blob(es_mp_reader *r, bool is_str,
                                   const uint8_t **p, uint32_t *n) {
  size_t rem = (size_t)(r->end - r->p);
  const uint8_t *s = r->p;
  uint32_t len;
  size_t hdr;
  if (rem < 1)
    return ES_ETRUNC;
  if (is_str && (s[0] & 0xe0) == 0xa0) {
    len = s[0] & 0x1f, hdr = 1;
  } else if (s[0] == (is_str ? 0xd9 : 0xc4)) {
    if (rem < 2)
      return ES_ETRUNC;
    len = s[1], hdr = 2;
  } else if (s[0] == (is_str ? 0xda : 0xc5)) {
    if (rem < 3)
      return ES_ETRUNC;
    len = es__mp_ld16(s + 1), hdr = 3;
  } else if (s[0] == (is_str ? 0xdb : 0xc6)) {
    if (rem < 5)
      return ES_ETRUNC;
    len = es__mp_ld32(s + 1), hdr = 5;
  } else {
    return ES_ETYPE;
  }
  if (len > rem - hdr)
    return ES_ETRUNC;
  *p = s + hdr;
  *n = len;
  r->p = s + hdr + len;
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
