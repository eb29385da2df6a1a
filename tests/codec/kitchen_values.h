/*
 * kitchen_values.h - sample values of the kitchen.es types and deep
 * equality assertions for them, shared by the codec test programs.
 *
 * Builders fill a value whose strings, byte strings and lists live in
 * static storage, so it stays valid for the whole test. The eq_*
 * functions compare every field (floats bit for bit, so NaN and -0.0
 * count) and fail the running Criterion test, naming the field, on the
 * first difference.
 */
#ifndef KITCHEN_VALUES_H
#define KITCHEN_VALUES_H

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kitchen.es.h"

/* A UTF-8 string with 1-, 2-, 3- and 4-byte characters. */
#define KV_UNICODE "h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8d\xb3!"

static inline es_uuid kv_uuid(uint8_t seed) {
  es_uuid u;
  for (int i = 0; i < 16; i++)
    u.bytes[i] = (uint8_t)(seed + i * 17);
  return u;
}

/* ---- equality ---------------------------------------------------------- */

static inline void eq_str(const char *a, const char *b, const char *what) {
  /* The encoder writes NULL as "": compare them alike. */
  cr_assert_str_eq(a ? a : "", b ? b : "", "%s", what);
}

static inline void eq_bytes(es_bytes a, es_bytes b, const char *what) {
  cr_assert_eq(a.len, b.len, "%s: length %zu vs %zu", what, a.len, b.len);
  if (a.len)
    cr_assert(memcmp(a.data, b.data, a.len) == 0, "%s: content", what);
}

static inline void eq_f32(float a, float b, const char *what) {
  cr_assert(memcmp(&a, &b, sizeof a) == 0, "%s: %.9g vs %.9g", what, a, b);
}

static inline void eq_f64(double a, double b, const char *what) {
  cr_assert(memcmp(&a, &b, sizeof a) == 0, "%s: %.17g vs %.17g", what, a, b);
}

static inline void eq_uuid(es_uuid a, es_uuid b, const char *what) {
  cr_assert(memcmp(a.bytes, b.bytes, 16) == 0, "%s", what);
}

static inline void eq_point(const kitchen_point *a, const kitchen_point *b,
                            const char *what) {
  cr_assert_eq(a->x, b->x, "%s.x", what);
  cr_assert_eq(a->y, b->y, "%s.y", what);
}

static inline void eq_scalars(const kitchen_scalars *a,
                              const kitchen_scalars *b) {
  cr_assert_eq(a->f_bool, b->f_bool, "f_bool");
  cr_assert_eq(a->f_i8, b->f_i8, "f_i8");
  cr_assert_eq(a->f_i16, b->f_i16, "f_i16");
  cr_assert_eq(a->f_i32, b->f_i32, "f_i32");
  cr_assert_eq(a->f_i64, b->f_i64, "f_i64");
  cr_assert_eq(a->f_u8, b->f_u8, "f_u8");
  cr_assert_eq(a->f_u16, b->f_u16, "f_u16");
  cr_assert_eq(a->f_u32, b->f_u32, "f_u32");
  cr_assert_eq(a->f_u64, b->f_u64, "f_u64");
  eq_f32(a->f_f32, b->f_f32, "f_f32");
  eq_f64(a->f_f64, b->f_f64, "f_f64");
  eq_str(a->f_string, b->f_string, "f_string");
  eq_bytes(a->f_bytes, b->f_bytes, "f_bytes");
  cr_assert_eq(a->f_ts, b->f_ts, "f_ts");
  eq_uuid(a->f_uuid, b->f_uuid, "f_uuid");
}

#define EQ_OPT(name, cmp)                                                      \
  do {                                                                         \
    cr_assert_eq(a->has_##name, b->has_##name, "has_" #name);                  \
    if (a->has_##name) {                                                       \
      cmp;                                                                     \
    }                                                                          \
  } while (0)

static inline void eq_optionals(const kitchen_optionals *a,
                                const kitchen_optionals *b) {
  EQ_OPT(o_bool, cr_assert_eq(a->o_bool, b->o_bool, "o_bool"));
  EQ_OPT(o_i8, cr_assert_eq(a->o_i8, b->o_i8, "o_i8"));
  EQ_OPT(o_i16, cr_assert_eq(a->o_i16, b->o_i16, "o_i16"));
  EQ_OPT(o_i32, cr_assert_eq(a->o_i32, b->o_i32, "o_i32"));
  EQ_OPT(o_i64, cr_assert_eq(a->o_i64, b->o_i64, "o_i64"));
  EQ_OPT(o_u8, cr_assert_eq(a->o_u8, b->o_u8, "o_u8"));
  EQ_OPT(o_u16, cr_assert_eq(a->o_u16, b->o_u16, "o_u16"));
  EQ_OPT(o_u32, cr_assert_eq(a->o_u32, b->o_u32, "o_u32"));
  EQ_OPT(o_u64, cr_assert_eq(a->o_u64, b->o_u64, "o_u64"));
  EQ_OPT(o_f32, eq_f32(a->o_f32, b->o_f32, "o_f32"));
  EQ_OPT(o_f64, eq_f64(a->o_f64, b->o_f64, "o_f64"));
  EQ_OPT(o_string, eq_str(a->o_string, b->o_string, "o_string"));
  EQ_OPT(o_bytes, eq_bytes(a->o_bytes, b->o_bytes, "o_bytes"));
  EQ_OPT(o_ts, cr_assert_eq(a->o_ts, b->o_ts, "o_ts"));
  EQ_OPT(o_uuid, eq_uuid(a->o_uuid, b->o_uuid, "o_uuid"));
  EQ_OPT(o_enum, cr_assert_eq(a->o_enum, b->o_enum, "o_enum"));
  cr_assert_eq(!a->o_record, !b->o_record, "o_record presence");
  if (a->o_record)
    eq_point(a->o_record, b->o_record, "o_record");
  EQ_OPT(o_list, {
    cr_assert_eq(a->o_list.count, b->o_list.count, "o_list.count");
    for (uint32_t i = 0; i < a->o_list.count; i++)
      cr_assert_eq(a->o_list.items[i], b->o_list.items[i], "o_list[%u]", i);
  });
  EQ_OPT(o_short, eq_str(a->o_short, b->o_short, "o_short"));
}

/* Same count, and `cmp` (using i) true for every element. */
#define EQ_LIST(name, cmp)                                                     \
  do {                                                                         \
    cr_assert_eq(a->name.count, b->name.count, #name ".count: %u vs %u",       \
                 a->name.count, b->name.count);                                \
    for (uint32_t i = 0; i < a->name.count; i++) {                             \
      cmp;                                                                     \
    }                                                                          \
  } while (0)

static inline void eq_lists(const kitchen_lists *a, const kitchen_lists *b) {
  EQ_LIST(l_bool, cr_assert_eq(a->l_bool.items[i], b->l_bool.items[i]));
  EQ_LIST(l_i8, cr_assert_eq(a->l_i8.items[i], b->l_i8.items[i]));
  EQ_LIST(l_i16, cr_assert_eq(a->l_i16.items[i], b->l_i16.items[i]));
  EQ_LIST(l_i32, cr_assert_eq(a->l_i32.items[i], b->l_i32.items[i]));
  EQ_LIST(l_i64, cr_assert_eq(a->l_i64.items[i], b->l_i64.items[i]));
  EQ_LIST(l_u8, cr_assert_eq(a->l_u8.items[i], b->l_u8.items[i]));
  EQ_LIST(l_u16, cr_assert_eq(a->l_u16.items[i], b->l_u16.items[i]));
  EQ_LIST(l_u32, cr_assert_eq(a->l_u32.items[i], b->l_u32.items[i]));
  EQ_LIST(l_u64, cr_assert_eq(a->l_u64.items[i], b->l_u64.items[i]));
  EQ_LIST(l_f32, eq_f32(a->l_f32.items[i], b->l_f32.items[i], "l_f32"));
  EQ_LIST(l_f64, eq_f64(a->l_f64.items[i], b->l_f64.items[i], "l_f64"));
  EQ_LIST(l_string,
          eq_str(a->l_string.items[i], b->l_string.items[i], "l_string"));
  EQ_LIST(l_bytes,
          eq_bytes(a->l_bytes.items[i], b->l_bytes.items[i], "l_bytes"));
  EQ_LIST(l_ts, cr_assert_eq(a->l_ts.items[i], b->l_ts.items[i]));
  EQ_LIST(l_uuid, eq_uuid(a->l_uuid.items[i], b->l_uuid.items[i], "l_uuid"));
  EQ_LIST(l_enum, cr_assert_eq(a->l_enum.items[i], b->l_enum.items[i]));
  EQ_LIST(l_record,
          eq_point(&a->l_record.items[i], &b->l_record.items[i], "l_record"));
}

static inline void eq_bounded(const kitchen_bounded *a,
                              const kitchen_bounded *b) {
  eq_str(a->name, b->name, "name");
  eq_bytes(a->blob, b->blob, "blob");
  EQ_LIST(items, cr_assert_eq(a->items.items[i], b->items.items[i]));
  EQ_LIST(tags, eq_str(a->tags.items[i], b->tags.items[i], "tags"));
  EQ_OPT(maybe, eq_bytes(a->maybe, b->maybe, "maybe"));
}

static inline void eq_shape(const kitchen_shape *a, const kitchen_shape *b) {
  eq_str(a->name, b->name, "shape.name");
  cr_assert_eq(a->color, b->color, "shape.color");
  eq_point(&a->origin, &b->origin, "shape.origin");
  EQ_LIST(corners,
          eq_point(&a->corners.items[i], &b->corners.items[i], "corners"));
  cr_assert_eq(!a->label, !b->label, "shape.label presence");
  if (a->label)
    eq_point(a->label, b->label, "shape.label");
}

static inline void eq_node(const kitchen_node *a, const kitchen_node *b) {
  cr_assert_eq(a->value, b->value, "node.value %d vs %d", a->value, b->value);
  EQ_LIST(children, eq_node(&a->children.items[i], &b->children.items[i]));
  cr_assert_eq(!a->next, !b->next, "node %d: next presence", a->value);
  if (a->next)
    eq_node(a->next, b->next);
}

static inline void eq_configured(const kitchen_oven_configured *a,
                                 const kitchen_oven_configured *b) {
  eq_scalars(&a->scalars, &b->scalars);
  eq_optionals(&a->optionals, &b->optionals);
  eq_lists(&a->lists, &b->lists);
  eq_bounded(&a->bounded, &b->bounded);
  eq_shape(&a->shape, &b->shape);
  cr_assert_eq(!a->tree, !b->tree, "tree presence");
  if (a->tree)
    eq_node(a->tree, b->tree);
}

/* ---- sample values ----------------------------------------------------- */

/* The largest value of every scalar field. */
static inline void kv_scalars_max(kitchen_scalars *v) {
  static uint8_t blob[70000]; /* bin32 */
  static char text[70001];    /* str32 */
  for (size_t i = 0; i < sizeof blob; i++)
    blob[i] = (uint8_t)(i * 7 + 1);
  memset(text, 'z', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  kitchen_scalars_init(v);
  v->f_bool = true;
  v->f_i8 = INT8_MAX;
  v->f_i16 = INT16_MAX;
  v->f_i32 = INT32_MAX;
  v->f_i64 = INT64_MAX;
  v->f_u8 = UINT8_MAX;
  v->f_u16 = UINT16_MAX;
  v->f_u32 = UINT32_MAX;
  v->f_u64 = UINT64_MAX;
  v->f_f32 = FLT_MAX;
  v->f_f64 = DBL_MAX;
  v->f_string = text;
  v->f_bytes.data = blob;
  v->f_bytes.len = sizeof blob;
  v->f_ts = INT64_MAX;
  memset(v->f_uuid.bytes, 0xff, 16);
}

/* The smallest value of every scalar field. */
static inline void kv_scalars_min(kitchen_scalars *v) {
  kitchen_scalars_init(v);
  v->f_bool = false;
  v->f_i8 = INT8_MIN;
  v->f_i16 = INT16_MIN;
  v->f_i32 = INT32_MIN;
  v->f_i64 = INT64_MIN;
  v->f_f32 = -FLT_MAX;
  v->f_f64 = -DBL_MIN; /* the smallest normal, negated */
  v->f_ts = INT64_MIN;
}

/* Non-ASCII text and binary bytes with NUL and 0xff in them. */
static inline void kv_scalars_unicode(kitchen_scalars *v) {
  static const uint8_t blob[] = {0x00, 0xff, 0xc0, 0xc1, 0x90, 0x00};
  kitchen_scalars_init(v);
  v->f_bool = true;
  v->f_i8 = -33; /* just below negative fixint */
  v->f_i16 = -129;
  v->f_i32 = 65536;
  v->f_i64 = -2147483649LL;
  v->f_u8 = 128;
  v->f_u16 = 256;
  v->f_u32 = 65536;
  v->f_u64 = UINT64_C(4294967296);
  v->f_f32 = -0.0f;
  v->f_f64 = NAN;
  v->f_string = KV_UNICODE;
  v->f_bytes.data = blob;
  v->f_bytes.len = sizeof blob;
  v->f_ts = 1700000000123456;
  v->f_uuid = kv_uuid(3);
}

static inline void kv_optionals_full(kitchen_optionals *v) {
  static const kitchen_point rec = {-7, 7};
  static int32_t list[] = {1, -1, 1000000};
  static const uint8_t blob[] = {0, 1, 2};
  kitchen_optionals_init(v);
  v->has_o_bool = true, v->o_bool = true;
  v->has_o_i8 = true, v->o_i8 = INT8_MIN;
  v->has_o_i16 = true, v->o_i16 = INT16_MAX;
  v->has_o_i32 = true, v->o_i32 = -100000;
  v->has_o_i64 = true, v->o_i64 = INT64_MIN;
  v->has_o_u8 = true, v->o_u8 = 200;
  v->has_o_u16 = true, v->o_u16 = 60000;
  v->has_o_u32 = true, v->o_u32 = 4000000000u;
  v->has_o_u64 = true, v->o_u64 = UINT64_MAX;
  v->has_o_f32 = true, v->o_f32 = 3.25f;
  v->has_o_f64 = true, v->o_f64 = -1e300;
  v->has_o_string = true, v->o_string = KV_UNICODE;
  v->has_o_bytes = true, v->o_bytes.data = blob, v->o_bytes.len = sizeof blob;
  v->has_o_ts = true, v->o_ts = -1;
  v->has_o_uuid = true, v->o_uuid = kv_uuid(9);
  v->has_o_enum = true, v->o_enum = KITCHEN_COLOR_BLUE;
  v->o_record = &rec;
  v->has_o_list = true, v->o_list.items = list, v->o_list.count = 3;
  v->has_o_short = true, v->o_short = "8 bytes!";
}

/* Present, but each the zero of its type: not the same as absent. */
static inline void kv_optionals_zero(kitchen_optionals *v) {
  static const kitchen_point rec = {0, 0};
  kitchen_optionals_init(v);
  v->has_o_bool = v->has_o_i8 = v->has_o_i16 = v->has_o_i32 = true;
  v->has_o_i64 = v->has_o_u8 = v->has_o_u16 = v->has_o_u32 = true;
  v->has_o_u64 = v->has_o_f32 = v->has_o_f64 = v->has_o_string = true;
  v->has_o_bytes = v->has_o_ts = v->has_o_uuid = v->has_o_enum = true;
  v->has_o_list = v->has_o_short = true;
  v->o_string = "";
  v->o_short = "";
  v->o_record = &rec;
}

static inline void kv_lists_full(kitchen_lists *v) {
  static bool b[] = {true, false, true};
  static int8_t i8[] = {INT8_MIN, -1, 0, INT8_MAX};
  static int16_t i16[] = {INT16_MIN, -129, 128, INT16_MAX};
  static int32_t i32[1000]; /* array16 */
  static int64_t i64[] = {INT64_MIN, -4294967296LL, 4294967296LL, INT64_MAX};
  static uint8_t u8[70000]; /* array32 */
  static uint16_t u16[] = {0, 255, 256, UINT16_MAX};
  static uint32_t u32[] = {0, 65535, 65536, UINT32_MAX};
  static uint64_t u64[] = {0, 127, 4294967296u, UINT64_MAX};
  static float f32[] = {0.0f, -0.0f, 1.5f, FLT_MIN, INFINITY};
  static double f64[] = {0.1, -2.5, DBL_MAX, -INFINITY};
  static const char *str[] = {"", "a", KV_UNICODE, "tab\tnewline\n"};
  static const uint8_t raw[] = {0xde, 0xad, 0xbe, 0xef};
  static es_bytes bytes[3];
  static es_timestamp ts[] = {INT64_MIN, 0, INT64_MAX};
  static es_uuid uuid[2];
  static kitchen_color colors[] = {KITCHEN_COLOR_RED, KITCHEN_COLOR_BLUE,
                                   KITCHEN_COLOR_GREEN, KITCHEN_COLOR_BLUE};
  static kitchen_point points[] = {{1, 2}, {INT32_MIN, INT32_MAX}};
  for (int i = 0; i < 1000; i++)
    i32[i] = i * 1000 - 500000;
  for (int i = 0; i < 70000; i++)
    u8[i] = (uint8_t)i;
  bytes[0] = (es_bytes){raw, 4};
  bytes[1] = (es_bytes){raw, 0};
  bytes[2] = (es_bytes){raw + 1, 2};
  uuid[0] = kv_uuid(1);
  uuid[1] = kv_uuid(2);
#define SET(f, arr)                                                            \
  v->f.items = arr, v->f.count = (uint32_t)(sizeof arr / sizeof arr[0])
  kitchen_lists_init(v);
  SET(l_bool, b);
  SET(l_i8, i8);
  SET(l_i16, i16);
  SET(l_i32, i32);
  SET(l_i64, i64);
  SET(l_u8, u8);
  SET(l_u16, u16);
  SET(l_u32, u32);
  SET(l_u64, u64);
  SET(l_f32, f32);
  SET(l_f64, f64);
  SET(l_string, str);
  SET(l_bytes, bytes);
  SET(l_ts, ts);
  SET(l_uuid, uuid);
  SET(l_enum, colors);
  SET(l_record, points);
#undef SET
}

/* Every bound exactly reached. */
static inline void kv_bounded_max(kitchen_bounded *v) {
  static const uint8_t blob[4] = {1, 2, 3, 4};
  static int32_t items[3] = {7, 8, 9};
  /* 8 bytes each, counted in bytes, not characters */
  static const char *tags[3] = {"abcdefgh", "\xe6\x97\xa5\xe6\x9c\xac\x61\x62",
                                ""}; /* "日本ab" */
  kitchen_bounded_init(v);
  v->name = "ab\xe6\x97\xa5\xe6\x9c\xac"; /* "ab日本": 8 bytes */
  v->blob.data = blob;
  v->blob.len = 4;
  v->items.items = items;
  v->items.count = 3;
  v->tags.items = tags;
  v->tags.count = 3;
  v->has_maybe = true;
  v->maybe.data = blob;
  v->maybe.len = 4;
}

static inline void kv_shape_full(kitchen_shape *v) {
  static kitchen_point corners[3] = {{0, 0}, {10, 0}, {10, -10}};
  static const kitchen_point label = {5, -5};
  kitchen_shape_init(v);
  v->name = "triangle";
  v->color = KITCHEN_COLOR_GREEN;
  v->origin = (kitchen_point){-3, 4};
  v->corners.items = corners;
  v->corners.count = 3;
  v->label = &label;
}

/* A tree that recurses both ways:
 *   1 -> children [2 -> next 3, 4 -> children [5]] -> next 6 -> next 7 */
static inline const kitchen_node *kv_tree(void) {
  static kitchen_node n[7];
  static bool done;
  if (!done) {
    for (int i = 0; i < 7; i++) {
      kitchen_node_init(&n[i]);
      n[i].value = i + 1;
    }
    static kitchen_node kids1[2], kids4[1];
    n[1].next = &n[2];
    kids4[0] = n[4];
    n[3].children.items = kids4;
    n[3].children.count = 1;
    kids1[0] = n[1];
    kids1[1] = n[3];
    n[0].children.items = kids1;
    n[0].children.count = 2;
    n[5].next = &n[6];
    n[0].next = &n[5];
    done = true;
  }
  return &n[0];
}

/* A chain of `n` nodes linked through `next` (through_list: through a
 * one-element `children` list instead), in `nodes`. */
static inline void kv_chain(kitchen_node *nodes, int n, bool through_list) {
  for (int i = 0; i < n; i++) {
    kitchen_node_init(&nodes[i]);
    nodes[i].value = i;
  }
  for (int i = 0; i + 1 < n; i++) {
    if (through_list) {
      nodes[i].children.items = &nodes[i + 1];
      nodes[i].children.count = 1;
    } else {
      nodes[i].next = &nodes[i + 1];
    }
  }
}

static inline void kv_configured_full(kitchen_oven_configured *v) {
  kitchen_oven_configured_init(v);
  kv_scalars_unicode(&v->scalars);
  kv_optionals_full(&v->optionals);
  kv_lists_full(&v->lists);
  kv_bounded_max(&v->bounded);
  kv_shape_full(&v->shape);
  v->tree = kv_tree();
}

#endif
