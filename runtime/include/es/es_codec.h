/*
 * es_codec.h - one schema value at a time: the calls generated encoders
 * and decoders are made of. Each checks what the schema says (bounds,
 * ranges, enum counts) and, for decoding, copies strings, bytes and list
 * items into the caller's arena. The fields' calls are inline: generated
 * codecs stay straight-line code with no table interpreter behind them;
 * what every type would otherwise repeat (a record's header and end, the
 * whole value's buffer rollback and trailing-byte check) is shared here
 * and in libes.
 *
 * A `max` of 0 means no bound. Encoders record failures in the es_buf's
 * sticky `err`; decoders return 0 or an ES_E* code.
 */
#ifndef ES_CODEC_H
#define ES_CODEC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "es_arena.h"
#include "es_buf.h"
#include "es_desc.h"
#include "es_error.h"
#include "es_mp.h"
#include "es_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- a record: what every generated codec shares ----------------------- */

/* A record's encoder and decoder (es_enc_record_fn, es_dec_record_fn in
 * es_desc.h), as generated for each type: the value's fields in order, as
 * one msgpack array. */

/* Encodes `value` with `enc` at the end of `b`. On failure `b` is left as
 * it was (its length and `err`). Returns 0 or the ES_E* code. */
int es_encode_value(es_buf *b, es_enc_record_fn enc, const void *value);

/* Decodes the `len` bytes at `data` into `value` with `dec`; every byte
 * must belong to the value. Returns 0, the decoder's ES_E* code, or
 * ES_ETRAILING. */
int es_decode_value(const void *data, size_t len, es_dec_record_fn dec,
                    void *value, es_arena *a);

/* A record's array header of `n_fields` at nesting `depth`; false (with
 * `err` set) when nested too deep, and its fields must not be written. */
static inline bool es_enc_record(es_buf *b, int depth, uint32_t n_fields) {
  if (depth >= ES_MP_MAX_DEPTH) {
    es_buf_fail(b, ES_EDEPTH);
    return false;
  }
  es_mp_write_array(b, n_fields);
  return true;
}

/* A record's array header: its field count into `*n`, at least
 * `required` (the fields an older writer could not have left out). Pair
 * success with es_dec_record_end(). */
static inline int es_dec_record(es_mp_reader *r, uint32_t *n,
                                uint32_t required) {
  int rc = es_mp_read_array(r, n);
  if (rc != 0)
    return rc;
  return *n < required ? ES_EMISSING : 0;
}

/* After the `known` fields of a record of `n`: skips the fields a newer
 * writer added, and leaves the record. Returns 0 or the ES_E* code. */
static inline int es_dec_record_end(es_mp_reader *r, uint32_t n,
                                    uint32_t known) {
  for (uint32_t i = known; i < n; i++) {
    int rc = es_mp_skip(r);
    if (rc != 0)
      return rc;
  }
  es_mp_leave(r);
  return 0;
}

/* ---- encoding ---------------------------------------------------------- */

/* NULL is written as the empty string. */
static inline void es_enc_string(es_buf *b, const char *s, uint32_t max) {
  size_t n = s ? strlen(s) : 0;
  if (max && n > max)
    es_buf_fail(b, ES_EBOUND);
  es_mp_write_str(b, s ? s : "", n);
}

static inline void es_enc_bytes(es_buf *b, es_bytes v, uint32_t max) {
  if (v.len && !v.data)
    es_buf_fail(b, ES_EINVAL);
  if (max && v.len > max)
    es_buf_fail(b, ES_EBOUND);
  es_mp_write_bin(b, v.data, v.len);
}

static inline void es_enc_uuid(es_buf *b, const es_uuid *v) {
  es_mp_write_bin(b, v->bytes, 16);
}

static inline void es_enc_enum(es_buf *b, uint32_t v, uint32_t count) {
  if (v >= count)
    es_buf_fail(b, ES_EENUM);
  es_mp_write_uint(b, v);
}

/* A list's header; false (with `err` set) when the list is malformed or
 * over its bound, and its items must not be written. */
static inline bool es_enc_list(es_buf *b, uint32_t count, const void *items,
                               uint32_t max) {
  if (count && !items)
    es_buf_fail(b, ES_EINVAL);
  if (max && count > max)
    es_buf_fail(b, ES_EBOUND);
  es_mp_write_array(b, count);
  return b->err == 0;
}

/* ---- decoding ---------------------------------------------------------- */

#define ES__DEC_INT(name, T, lo, hi)                                           \
  static inline int es_dec_##name(es_mp_reader *r, T *v) {                     \
    int64_t t;                                                                 \
    int rc = es_mp_read_int(r, &t, lo, hi);                                    \
    if (rc == 0)                                                               \
      *v = (T)t;                                                               \
    return rc;                                                                 \
  }
#define ES__DEC_UINT(name, T, hi)                                              \
  static inline int es_dec_##name(es_mp_reader *r, T *v) {                     \
    uint64_t t;                                                                \
    int rc = es_mp_read_uint(r, &t, hi);                                       \
    if (rc == 0)                                                               \
      *v = (T)t;                                                               \
    return rc;                                                                 \
  }
ES__DEC_INT(i8, int8_t, INT8_MIN, INT8_MAX)
ES__DEC_INT(i16, int16_t, INT16_MIN, INT16_MAX)
ES__DEC_INT(i32, int32_t, INT32_MIN, INT32_MAX)
ES__DEC_INT(i64, int64_t, INT64_MIN, INT64_MAX)
ES__DEC_INT(timestamp, es_timestamp, INT64_MIN, INT64_MAX)
ES__DEC_UINT(u8, uint8_t, UINT8_MAX)
ES__DEC_UINT(u16, uint16_t, UINT16_MAX)
ES__DEC_UINT(u32, uint32_t, UINT32_MAX)
ES__DEC_UINT(u64, uint64_t, UINT64_MAX)
#undef ES__DEC_INT
#undef ES__DEC_UINT

static inline int es_dec_bool(es_mp_reader *r, bool *v) {
  return es_mp_read_bool(r, v);
}

static inline int es_dec_f32(es_mp_reader *r, float *v) {
  return es_mp_read_f32(r, v);
}

static inline int es_dec_f64(es_mp_reader *r, double *v) {
  return es_mp_read_f64(r, v);
}

/* A string without NUL bytes, copied (NUL-terminated) into `a`; an empty
 * one is a static "", which outlives any arena. */
static inline int es_dec_string(es_mp_reader *r, const char **v, uint32_t max,
                                es_arena *a) {
  const char *p;
  char *s;
  uint32_t n;
  int rc = es_mp_read_str(r, &p, &n);
  if (rc != 0)
    return rc;
  if (max && n > max)
    return ES_EBOUND;
  if (n == 0) { /* nothing to copy: a static empty string lives long enough */
    *v = "";
    return 0;
  }
  if (memchr(p, 0, n))
    return ES_EDECODE;
  if (!(s = es_arena_strndup(a, p, n)))
    return ES_ENOMEM;
  *v = s;
  return 0;
}

/* A byte string, copied into `a`. */
static inline int es_dec_bytes(es_mp_reader *r, es_bytes *v, uint32_t max,
                               es_arena *a) {
  const uint8_t *p;
  void *d;
  uint32_t n;
  int rc = es_mp_read_bin(r, &p, &n);
  if (rc != 0)
    return rc;
  if (max && n > max)
    return ES_EBOUND;
  if (!(d = es_arena_memdup(a, p, n)))
    return ES_ENOMEM;
  v->data = (const uint8_t *)d;
  v->len = n;
  return 0;
}

static inline int es_dec_uuid(es_mp_reader *r, es_uuid *v) {
  const uint8_t *p;
  uint32_t n;
  int rc = es_mp_read_bin(r, &p, &n);
  if (rc != 0)
    return rc;
  if (n != 16)
    return ES_EDECODE;
  memcpy(v->bytes, p, 16);
  return 0;
}

/* An enum's number, below `count`. */
static inline int es_dec_enum(es_mp_reader *r, uint32_t *v, uint32_t count) {
  uint64_t t;
  int rc = es_mp_read_uint(r, &t, UINT32_MAX);
  if (rc != 0)
    return rc;
  if (t >= count)
    return ES_EENUM;
  *v = (uint32_t)t;
  return 0;
}

/* A list's header, and room in `a` for its `*n` items of `size` bytes.
 * Pair success with es_mp_leave() after the items. */
static inline int es_dec_list(es_mp_reader *r, uint32_t *n, uint32_t max,
                              size_t size, void **items, es_arena *a) {
  int rc = es_mp_read_array(r, n);
  if (rc != 0)
    return rc;
  if (max && *n > max)
    return ES_EBOUND;
  *items = NULL;
  if (*n && !(*items = es_arena_alloc_array(a, *n, size)))
    return ES_ENOMEM;
  return 0;
}

#ifdef __cplusplus
}
#endif
#endif
