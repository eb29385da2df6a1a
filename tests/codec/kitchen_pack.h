/*
 * kitchen_pack.h - kitchen.es values written with msgpack-c's own packer,
 * independently of the generated encoders: what another implementation
 * (or an older or newer writer) would send.
 *
 * Each kp_<type>() writes an array header of `n` elements and then the
 * fields in schema order; `n` below the field count is an older writer,
 * above it a newer one. An override may replace any field (including the
 * ones past the schema's) with something else; without one, fields past
 * the schema's are written as nil. Integers are written in the width
 * kp_int_mode selects.
 */
#ifndef KITCHEN_PACK_H
#define KITCHEN_PACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <string.h>

#include "kitchen.es.h"

typedef enum kp_mode {
  KP_MIN,    /* msgpack-c's choice: the shortest form */
  KP_OWN,    /* fixed at the field's own width (int8 for i8, ...) */
  KP_WIDE64, /* always 9 bytes: int64 for signed fields, uint64 else */
  KP_CROSS   /* 9 bytes of the other signedness where the value allows */
} kp_mode;

static kp_mode kp_int_mode = KP_MIN;

/* Returns true when it wrote field `i` itself. */
typedef bool (*kp_override)(msgpack_packer *pk, uint32_t i, void *ctx);

static inline void kp_i(msgpack_packer *pk, int64_t v, int bits) {
  switch (kp_int_mode) {
  case KP_MIN:
    msgpack_pack_int64(pk, v);
    break;
  case KP_OWN:
    if (bits == 8)
      msgpack_pack_fix_int8(pk, (int8_t)v);
    else if (bits == 16)
      msgpack_pack_fix_int16(pk, (int16_t)v);
    else if (bits == 32)
      msgpack_pack_fix_int32(pk, (int32_t)v);
    else
      msgpack_pack_fix_int64(pk, v);
    break;
  case KP_WIDE64:
    msgpack_pack_fix_int64(pk, v);
    break;
  case KP_CROSS:
    if (v >= 0)
      msgpack_pack_fix_uint64(pk, (uint64_t)v);
    else
      msgpack_pack_fix_int64(pk, v);
    break;
  }
}

static inline void kp_u(msgpack_packer *pk, uint64_t v, int bits) {
  switch (kp_int_mode) {
  case KP_MIN:
    msgpack_pack_uint64(pk, v);
    break;
  case KP_OWN:
    if (bits == 8)
      msgpack_pack_fix_uint8(pk, (uint8_t)v);
    else if (bits == 16)
      msgpack_pack_fix_uint16(pk, (uint16_t)v);
    else if (bits == 32)
      msgpack_pack_fix_uint32(pk, (uint32_t)v);
    else
      msgpack_pack_fix_uint64(pk, v);
    break;
  case KP_WIDE64:
    msgpack_pack_fix_uint64(pk, v);
    break;
  case KP_CROSS:
    if (v <= (uint64_t)INT64_MAX)
      msgpack_pack_fix_int64(pk, (int64_t)v);
    else
      msgpack_pack_fix_uint64(pk, v);
    break;
  }
}

static inline void kp_bool(msgpack_packer *pk, bool v) {
  if (v)
    msgpack_pack_true(pk);
  else
    msgpack_pack_false(pk);
}

static inline void kp_str(msgpack_packer *pk, const char *s) {
  size_t n = s ? strlen(s) : 0;
  msgpack_pack_str_with_body(pk, s ? s : "", n);
}

static inline void kp_bin(msgpack_packer *pk, const void *p, size_t n) {
  msgpack_pack_bin_with_body(pk, n ? p : "", n);
}

static inline void kp_uuid(msgpack_packer *pk, es_uuid u) {
  kp_bin(pk, u.bytes, 16);
}

#define KP_BEGIN(n_)                                                           \
  msgpack_pack_array(pk, n_);                                                  \
  for (uint32_t i = 0; i < (n_); i++) {                                        \
    if (ov && ov(pk, i, ctx))                                                  \
      continue;                                                                \
    switch (i) {
#define KP_END                                                                 \
  default:                                                                     \
    msgpack_pack_nil(pk);                                                      \
    }                                                                          \
    }

static inline void kp_point(msgpack_packer *pk, const kitchen_point *v,
                            uint32_t n, kp_override ov, void *ctx) {
  KP_BEGIN(n)
case 0:
  kp_i(pk, v->x, 32);
  break;
case 1:
  kp_i(pk, v->y, 32);
  break;
  KP_END
}

static inline void kp_scalars(msgpack_packer *pk, const kitchen_scalars *v,
                              uint32_t n, kp_override ov, void *ctx) {
  KP_BEGIN(n)
case 0:
  kp_bool(pk, v->f_bool);
  break;
case 1:
  kp_i(pk, v->f_i8, 8);
  break;
case 2:
  kp_i(pk, v->f_i16, 16);
  break;
case 3:
  kp_i(pk, v->f_i32, 32);
  break;
case 4:
  kp_i(pk, v->f_i64, 64);
  break;
case 5:
  kp_u(pk, v->f_u8, 8);
  break;
case 6:
  kp_u(pk, v->f_u16, 16);
  break;
case 7:
  kp_u(pk, v->f_u32, 32);
  break;
case 8:
  kp_u(pk, v->f_u64, 64);
  break;
case 9:
  msgpack_pack_float(pk, v->f_f32);
  break;
case 10:
  msgpack_pack_double(pk, v->f_f64);
  break;
case 11:
  kp_str(pk, v->f_string);
  break;
case 12:
  kp_bin(pk, v->f_bytes.data, v->f_bytes.len);
  break;
case 13:
  kp_i(pk, v->f_ts, 64);
  break;
case 14:
  kp_uuid(pk, v->f_uuid);
  break;
  KP_END
}

#define KP_OPT(has, body)                                                      \
  if (!(has))                                                                  \
    msgpack_pack_nil(pk);                                                      \
  else {                                                                       \
    body;                                                                      \
  }                                                                            \
  break

static inline void kp_optionals(msgpack_packer *pk, const kitchen_optionals *v,
                                uint32_t n, kp_override ov, void *ctx) {
  KP_BEGIN(n)
case 0:
  KP_OPT(v->has_o_bool, kp_bool(pk, v->o_bool));
case 1:
  KP_OPT(v->has_o_i8, kp_i(pk, v->o_i8, 8));
case 2:
  KP_OPT(v->has_o_i16, kp_i(pk, v->o_i16, 16));
case 3:
  KP_OPT(v->has_o_i32, kp_i(pk, v->o_i32, 32));
case 4:
  KP_OPT(v->has_o_i64, kp_i(pk, v->o_i64, 64));
case 5:
  KP_OPT(v->has_o_u8, kp_u(pk, v->o_u8, 8));
case 6:
  KP_OPT(v->has_o_u16, kp_u(pk, v->o_u16, 16));
case 7:
  KP_OPT(v->has_o_u32, kp_u(pk, v->o_u32, 32));
case 8:
  KP_OPT(v->has_o_u64, kp_u(pk, v->o_u64, 64));
case 9:
  KP_OPT(v->has_o_f32, msgpack_pack_float(pk, v->o_f32));
case 10:
  KP_OPT(v->has_o_f64, msgpack_pack_double(pk, v->o_f64));
case 11:
  KP_OPT(v->has_o_string, kp_str(pk, v->o_string));
case 12:
  KP_OPT(v->has_o_bytes, kp_bin(pk, v->o_bytes.data, v->o_bytes.len));
case 13:
  KP_OPT(v->has_o_ts, kp_i(pk, v->o_ts, 64));
case 14:
  KP_OPT(v->has_o_uuid, kp_uuid(pk, v->o_uuid));
case 15:
  KP_OPT(v->has_o_enum, kp_u(pk, (uint32_t)v->o_enum, 32));
case 16:
  KP_OPT(v->o_record, kp_point(pk, v->o_record, 2, NULL, NULL));
case 17:
  KP_OPT(v->has_o_list, {
    msgpack_pack_array(pk, v->o_list.count);
    for (uint32_t k = 0; k < v->o_list.count; k++)
      kp_i(pk, v->o_list.items[k], 32);
  });
case 18:
  KP_OPT(v->has_o_short, kp_str(pk, v->o_short));
  KP_END
}

#define KP_LIST(f, each)                                                       \
  msgpack_pack_array(pk, v->f.count);                                          \
  for (uint32_t k = 0; k < v->f.count; k++) {                                  \
    each;                                                                      \
  }                                                                            \
  break

static inline void kp_lists(msgpack_packer *pk, const kitchen_lists *v,
                            uint32_t n, kp_override ov, void *ctx) {
  KP_BEGIN(n)
case 0:
  KP_LIST(l_bool, kp_bool(pk, v->l_bool.items[k]));
case 1:
  KP_LIST(l_i8, kp_i(pk, v->l_i8.items[k], 8));
case 2:
  KP_LIST(l_i16, kp_i(pk, v->l_i16.items[k], 16));
case 3:
  KP_LIST(l_i32, kp_i(pk, v->l_i32.items[k], 32));
case 4:
  KP_LIST(l_i64, kp_i(pk, v->l_i64.items[k], 64));
case 5:
  KP_LIST(l_u8, kp_u(pk, v->l_u8.items[k], 8));
case 6:
  KP_LIST(l_u16, kp_u(pk, v->l_u16.items[k], 16));
case 7:
  KP_LIST(l_u32, kp_u(pk, v->l_u32.items[k], 32));
case 8:
  KP_LIST(l_u64, kp_u(pk, v->l_u64.items[k], 64));
case 9:
  KP_LIST(l_f32, msgpack_pack_float(pk, v->l_f32.items[k]));
case 10:
  KP_LIST(l_f64, msgpack_pack_double(pk, v->l_f64.items[k]));
case 11:
  KP_LIST(l_string, kp_str(pk, v->l_string.items[k]));
case 12:
  KP_LIST(l_bytes,
          kp_bin(pk, v->l_bytes.items[k].data, v->l_bytes.items[k].len));
case 13:
  KP_LIST(l_ts, kp_i(pk, v->l_ts.items[k], 64));
case 14:
  KP_LIST(l_uuid, kp_uuid(pk, v->l_uuid.items[k]));
case 15:
  KP_LIST(l_enum, kp_u(pk, (uint32_t)v->l_enum.items[k], 32));
case 16:
  KP_LIST(l_record, kp_point(pk, &v->l_record.items[k], 2, NULL, NULL));
  KP_END
}

static inline void kp_bounded(msgpack_packer *pk, const kitchen_bounded *v,
                              uint32_t n, kp_override ov, void *ctx) {
  KP_BEGIN(n)
case 0:
  kp_str(pk, v->name);
  break;
case 1:
  kp_bin(pk, v->blob.data, v->blob.len);
  break;
case 2:
  KP_LIST(items, kp_i(pk, v->items.items[k], 32));
case 3:
  KP_LIST(tags, kp_str(pk, v->tags.items[k]));
case 4:
  KP_OPT(v->has_maybe, kp_bin(pk, v->maybe.data, v->maybe.len));
  KP_END
}

static inline void kp_shape(msgpack_packer *pk, const kitchen_shape *v,
                            uint32_t n, kp_override ov, void *ctx) {
  KP_BEGIN(n)
case 0:
  kp_str(pk, v->name);
  break;
case 1:
  kp_u(pk, (uint32_t)v->color, 32);
  break;
case 2:
  kp_point(pk, &v->origin, 2, NULL, NULL);
  break;
case 3:
  KP_LIST(corners, kp_point(pk, &v->corners.items[k], 2, NULL, NULL));
case 4:
  KP_OPT(v->label, kp_point(pk, v->label, 2, NULL, NULL));
  KP_END
}

static inline void kp_node(msgpack_packer *pk, const kitchen_node *v,
                           uint32_t n, kp_override ov, void *ctx) {
  KP_BEGIN(n)
case 0:
  kp_i(pk, v->value, 32);
  break;
case 1:
  KP_LIST(children, kp_node(pk, &v->children.items[k], 3, NULL, NULL));
case 2:
  KP_OPT(v->next, kp_node(pk, v->next, 3, NULL, NULL));
  KP_END
}

/* A msgpack-c buffer and packer, reset for each value. */
typedef struct kp_buf {
  msgpack_sbuffer sb;
  msgpack_packer pk;
} kp_buf;

static inline void kp_open(kp_buf *b) {
  msgpack_sbuffer_init(&b->sb);
  msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

static inline msgpack_packer *kp_reset(kp_buf *b) {
  msgpack_sbuffer_clear(&b->sb);
  return &b->pk;
}

static inline void kp_close(kp_buf *b) { msgpack_sbuffer_destroy(&b->sb); }

#endif
