/*
 * test_codec.c - the generated encoders and decoders of kitchen.es:
 * round trips of every type, defaults, schema evolution (older and newer
 * writers), bounds, enums, integer ranges and upcasting.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kitchen.es.h"
#include "kitchen_impl.h"
#include "kitchen_pack.h"
#include "kitchen_values.h"

static es_arena arena;
static es_buf buf;
static kp_buf kp;

static void setup(void) {
  es_arena_init(&arena, 0);
  es_buf_init(&buf, 0);
  kp_open(&kp);
  kp_int_mode = KP_MIN;
}

static void teardown(void) {
  kp_close(&kp);
  es_buf_close(&buf);
  es_arena_close(&arena);
}

TestSuite(roundtrip, .init = setup, .fini = teardown);
TestSuite(defaults, .init = setup, .fini = teardown);
TestSuite(evolution, .init = setup, .fini = teardown);
TestSuite(bounds, .init = setup, .fini = teardown);
TestSuite(enums, .init = setup, .fini = teardown);
TestSuite(ranges, .init = setup, .fini = teardown);
TestSuite(upcast, .init = setup, .fini = teardown);

/* Encodes `in` into the (cleared) buffer, decodes it into `out`, and
 * checks that encoding `out` again gives the very same bytes. */
#define ROUNDTRIP(type, in, out)                                               \
  do {                                                                         \
    es_buf again_ = ES_BUF_INIT;                                               \
    es_buf_clear(&buf);                                                        \
    int rc_ = type##_encode((in), &buf);                                       \
    cr_assert_eq(rc_, 0, #type " encode: %s", es_err_name(rc_));               \
    rc_ = type##_decode((out), buf.data, buf.len, &arena);                     \
    cr_assert_eq(rc_, 0, #type " decode: %s", es_err_name(rc_));               \
    cr_assert_eq(type##_encode((out), &again_), 0);                            \
    cr_assert_eq(again_.len, buf.len, #type ": re-encoded length");            \
    cr_assert(memcmp(again_.data, buf.data, buf.len) == 0,                     \
              #type ": re-encoded bytes");                                     \
    es_buf_close(&again_);                                                     \
  } while (0)

/* Decodes what msgpack-c's packer holds. */
#define KP_DECODE(type, out)                                                   \
  type##_decode((out), kp.sb.data, kp.sb.size, &arena)

/* ---- round trips ------------------------------------------------------- */

Test(roundtrip, scalars_zero) {
  kitchen_scalars in, out;
  kitchen_scalars_init(&in);
  ROUNDTRIP(kitchen_scalars, &in, &out);
  eq_scalars(&in, &out);
  cr_assert_str_eq(out.f_string, "");
  cr_assert_eq(out.f_bytes.len, 0);
}

Test(roundtrip, scalars_max) {
  kitchen_scalars in, out;
  kv_scalars_max(&in);
  ROUNDTRIP(kitchen_scalars, &in, &out);
  eq_scalars(&in, &out);
  cr_assert_eq(out.f_u64, UINT64_MAX);
  cr_assert_eq(strlen(out.f_string), 70000);
  /* decoded values live in the arena, not in the input */
  cr_assert(out.f_string != in.f_string);
  cr_assert((const uint8_t *)out.f_bytes.data < buf.data ||
            (const uint8_t *)out.f_bytes.data >= buf.data + buf.len);
}

Test(roundtrip, scalars_min) {
  kitchen_scalars in, out;
  kv_scalars_min(&in);
  ROUNDTRIP(kitchen_scalars, &in, &out);
  eq_scalars(&in, &out);
  cr_assert_eq(out.f_i64, INT64_MIN);
  cr_assert_eq(out.f_ts, INT64_MIN);
}

Test(roundtrip, scalars_unicode_and_special_floats) {
  kitchen_scalars in, out;
  kv_scalars_unicode(&in);
  ROUNDTRIP(kitchen_scalars, &in, &out);
  eq_scalars(&in, &out);
  cr_assert_str_eq(out.f_string, KV_UNICODE);
  cr_assert(signbit(out.f_f32), "-0.0f keeps its sign");
  cr_assert(isnan(out.f_f64));
  cr_assert_eq(out.f_bytes.data[0], 0x00);
  cr_assert_eq(out.f_bytes.data[1], 0xff);
}

Test(roundtrip, infinities) {
  kitchen_scalars in, out;
  kitchen_scalars_init(&in);
  in.f_f32 = -INFINITY;
  in.f_f64 = INFINITY;
  ROUNDTRIP(kitchen_scalars, &in, &out);
  cr_assert(isinf(out.f_f32) && out.f_f32 < 0);
  cr_assert(isinf(out.f_f64) && out.f_f64 > 0);
}

/* Bytes msgpack needs for an integer in its shortest form. */
static size_t int_width(int64_t v) {
  if (v >= 0) {
    uint64_t u = (uint64_t)v;
    return u < 0x80           ? 1
           : u <= 0xff        ? 2
           : u <= 0xffff      ? 3
           : u <= 0xffffffffu ? 5
                              : 9;
  }
  return v >= -32         ? 1
         : v >= INT8_MIN  ? 2
         : v >= INT16_MIN ? 3
         : v >= INT32_MIN ? 5
                          : 9;
}

static size_t uint_width(uint64_t u) {
  return u < 0x80           ? 1
         : u <= 0xff        ? 2
         : u <= 0xffff      ? 3
         : u <= 0xffffffffu ? 5
                            : 9;
}

/* Every boundary of every msgpack integer form, in every integer field
 * that can hold it: exact round trip, and the shortest encoding. */
Test(roundtrip, integer_boundaries_shortest_form) {
  static const int64_t s[] = {INT64_MIN,
                              (int64_t)INT32_MIN - 1,
                              INT32_MIN,
                              INT16_MIN - 1,
                              INT16_MIN,
                              INT8_MIN - 1,
                              INT8_MIN,
                              -33,
                              -32,
                              -1,
                              0,
                              1,
                              127,
                              128,
                              255,
                              256,
                              INT16_MAX,
                              UINT16_MAX,
                              (int64_t)UINT16_MAX + 1,
                              INT32_MAX,
                              UINT32_MAX,
                              (int64_t)UINT32_MAX + 1,
                              INT64_MAX};
  static const uint64_t u[] = {0,           127,       128,   255,
                               256,         65535,     65536, 4294967295u,
                               4294967296u, UINT64_MAX};
  kitchen_scalars zero, in, out;
  size_t base;
  kitchen_scalars_init(&zero);
  cr_assert_eq(kitchen_scalars_encode(&zero, &buf), 0);
  base = buf.len;

  for (size_t k = 0; k < sizeof s / sizeof s[0]; k++) {
    int64_t v = s[k];
    for (int f = 0; f < 4; f++) {
      in = zero;
      if (f == 0 && v >= INT8_MIN && v <= INT8_MAX)
        in.f_i8 = (int8_t)v;
      else if (f == 1 && v >= INT16_MIN && v <= INT16_MAX)
        in.f_i16 = (int16_t)v;
      else if (f == 2 && v >= INT32_MIN && v <= INT32_MAX)
        in.f_i32 = (int32_t)v;
      else if (f == 3)
        in.f_ts = v;
      else
        continue;
      ROUNDTRIP(kitchen_scalars, &in, &out);
      eq_scalars(&in, &out);
      cr_assert_eq(buf.len - base, int_width(v) - 1,
                   "field %d value %lld: %zu bytes", f, (long long)v,
                   buf.len - base + 1);
    }
    in = zero;
    in.f_i64 = v;
    ROUNDTRIP(kitchen_scalars, &in, &out);
    cr_assert_eq(out.f_i64, v);
    cr_assert_eq(buf.len - base, int_width(v) - 1);
  }
  for (size_t k = 0; k < sizeof u / sizeof u[0]; k++) {
    uint64_t v = u[k];
    in = zero;
    in.f_u64 = v;
    if (v <= UINT8_MAX)
      in.f_u8 = (uint8_t)v;
    ROUNDTRIP(kitchen_scalars, &in, &out);
    eq_scalars(&in, &out);
    cr_assert_eq(buf.len - base,
                 (v <= UINT8_MAX ? 2 : 1) * (uint_width(v) - 1));
    in = zero;
    if (v <= UINT16_MAX)
      in.f_u16 = (uint16_t)v;
    if (v <= UINT32_MAX)
      in.f_u32 = (uint32_t)v;
    ROUNDTRIP(kitchen_scalars, &in, &out);
    eq_scalars(&in, &out);
  }
}

Test(roundtrip, optionals_all_absent) {
  kitchen_optionals in, out;
  kitchen_optionals_init(&in);
  ROUNDTRIP(kitchen_optionals, &in, &out);
  eq_optionals(&in, &out);
  cr_assert_null(out.o_record);
  cr_assert_not(out.has_o_list);
  /* array16 of 19 nils: absent is written as nil, never skipped */
  cr_assert_eq(buf.len, 3 + 19);
  cr_assert_eq(buf.data[0], 0xdc);
  cr_assert_eq(buf.data[2], 19);
  for (size_t i = 3; i < buf.len; i++)
    cr_assert_eq(buf.data[i], 0xc0, "byte %zu", i);
}

Test(roundtrip, optionals_all_present) {
  kitchen_optionals in, out;
  kv_optionals_full(&in);
  ROUNDTRIP(kitchen_optionals, &in, &out);
  eq_optionals(&in, &out);
  cr_assert_not_null(out.o_record);
  cr_assert_eq(out.o_record->x, -7);
  cr_assert_eq(out.o_list.count, 3);
}

Test(roundtrip, optionals_present_zero_is_not_absent) {
  kitchen_optionals in, out;
  kv_optionals_zero(&in);
  ROUNDTRIP(kitchen_optionals, &in, &out);
  eq_optionals(&in, &out);
  cr_assert(out.has_o_bool && !out.o_bool);
  cr_assert(out.has_o_string && strcmp(out.o_string, "") == 0);
  cr_assert(out.has_o_list && out.o_list.count == 0);
  cr_assert(out.has_o_bytes && out.o_bytes.len == 0);
  cr_assert_not_null(out.o_record);
  for (size_t i = 3; i < buf.len; i++)
    cr_assert_neq(buf.data[i], 0xc0, "no nil in the encoding");
}

Test(roundtrip, optionals_each_alone) {
  /* One field present at a time: nothing leaks into its neighbours. */
  kitchen_optionals full, in, out;
  kv_optionals_full(&full);
  for (int f = 0; f < 19; f++) {
    kitchen_optionals_init(&in);
    switch (f) {
    case 0:
      in.has_o_bool = true, in.o_bool = full.o_bool;
      break;
    case 1:
      in.has_o_i8 = true, in.o_i8 = full.o_i8;
      break;
    case 2:
      in.has_o_i16 = true, in.o_i16 = full.o_i16;
      break;
    case 3:
      in.has_o_i32 = true, in.o_i32 = full.o_i32;
      break;
    case 4:
      in.has_o_i64 = true, in.o_i64 = full.o_i64;
      break;
    case 5:
      in.has_o_u8 = true, in.o_u8 = full.o_u8;
      break;
    case 6:
      in.has_o_u16 = true, in.o_u16 = full.o_u16;
      break;
    case 7:
      in.has_o_u32 = true, in.o_u32 = full.o_u32;
      break;
    case 8:
      in.has_o_u64 = true, in.o_u64 = full.o_u64;
      break;
    case 9:
      in.has_o_f32 = true, in.o_f32 = full.o_f32;
      break;
    case 10:
      in.has_o_f64 = true, in.o_f64 = full.o_f64;
      break;
    case 11:
      in.has_o_string = true, in.o_string = full.o_string;
      break;
    case 12:
      in.has_o_bytes = true, in.o_bytes = full.o_bytes;
      break;
    case 13:
      in.has_o_ts = true, in.o_ts = full.o_ts;
      break;
    case 14:
      in.has_o_uuid = true, in.o_uuid = full.o_uuid;
      break;
    case 15:
      in.has_o_enum = true, in.o_enum = full.o_enum;
      break;
    case 16:
      in.o_record = full.o_record;
      break;
    case 17:
      in.has_o_list = true, in.o_list = full.o_list;
      break;
    case 18:
      in.has_o_short = true, in.o_short = full.o_short;
      break;
    }
    ROUNDTRIP(kitchen_optionals, &in, &out);
    eq_optionals(&in, &out);
  }
}

Test(roundtrip, lists_empty) {
  kitchen_lists in, out;
  kitchen_lists_init(&in);
  ROUNDTRIP(kitchen_lists, &in, &out);
  eq_lists(&in, &out);
  cr_assert_eq(buf.len, 3 + 17, "array16 header and 17 empty arrays");
  for (size_t i = 3; i < buf.len; i++)
    cr_assert_eq(buf.data[i], 0x90);
}

Test(roundtrip, lists_full) {
  kitchen_lists in, out;
  kv_lists_full(&in);
  ROUNDTRIP(kitchen_lists, &in, &out);
  eq_lists(&in, &out);
  cr_assert_eq(out.l_u8.count, 70000);
  cr_assert_eq(out.l_i32.items[999], 999 * 1000 - 500000);
  cr_assert_str_eq(out.l_string.items[2], KV_UNICODE);
  cr_assert_eq(out.l_enum.items[1], KITCHEN_COLOR_BLUE);
}

Test(roundtrip, bounded_at_every_bound) {
  kitchen_bounded in, out;
  kv_bounded_max(&in);
  ROUNDTRIP(kitchen_bounded, &in, &out);
  eq_bounded(&in, &out);
  cr_assert_eq(strlen(out.name), 8);
  cr_assert_eq(out.tags.count, 3);
}

Test(roundtrip, largest_bounds) {
  /* max 4294967295 is as good as none: long values pass */
  static char text[100001];
  static uint8_t items[70000];
  kitchen_limits in, out;
  memset(text, 'q', sizeof text - 1);
  kitchen_limits_init(&in);
  in.text = text;
  in.data.data = items;
  in.data.len = sizeof items;
  in.items.items = items;
  in.items.count = sizeof items;
  in.has_maybe = true;
  in.maybe = text + 99000;
  ROUNDTRIP(kitchen_limits, &in, &out);
  cr_assert_str_eq(out.text, text);
  eq_bytes(in.data, out.data, "data");
  cr_assert_eq(out.items.count, 70000);
  cr_assert_eq(strlen(out.maybe), 1000);
}

Test(roundtrip, bounded_empty) {
  kitchen_bounded in, out;
  kitchen_bounded_init(&in);
  ROUNDTRIP(kitchen_bounded, &in, &out);
  eq_bounded(&in, &out);
  cr_assert_not(out.has_maybe);
}

Test(roundtrip, nested_records) {
  kitchen_shape in, out;
  kv_shape_full(&in);
  ROUNDTRIP(kitchen_shape, &in, &out);
  eq_shape(&in, &out);
  cr_assert_not_null(out.label);
  cr_assert(out.label != in.label);

  in.label = NULL;
  in.corners.count = 0;
  ROUNDTRIP(kitchen_shape, &in, &out);
  eq_shape(&in, &out);
  cr_assert_null(out.label);
}

Test(roundtrip, recursive_record) {
  kitchen_node out;
  ROUNDTRIP(kitchen_node, kv_tree(), &out);
  eq_node(kv_tree(), &out);
  cr_assert_eq(out.children.count, 2);
  cr_assert_eq(out.children.items[0].next->value, 3);
  cr_assert_eq(out.children.items[1].children.items[0].value, 5);
  cr_assert_eq(out.next->next->value, 7);
  cr_assert_null(out.next->next->next);
}

Test(roundtrip, deepest_chains_that_fit) {
  /* Through `next`, each node is one array and its empty children list
   * another: 63 nodes nest 64 arrays, the limit. */
  static kitchen_node chain[64];
  kitchen_node out;
  kv_chain(chain, 63, false);
  ROUNDTRIP(kitchen_node, &chain[0], &out);
  eq_node(&chain[0], &out);
  /* Through lists, each node costs two arrays. */
  kv_chain(chain, 32, true);
  ROUNDTRIP(kitchen_node, &chain[0], &out);
  eq_node(&chain[0], &out);
}

Test(roundtrip, event_with_everything) {
  kitchen_oven_configured in, out;
  kv_configured_full(&in);
  ROUNDTRIP(kitchen_oven_configured, &in, &out);
  eq_configured(&in, &out);
}

Test(roundtrip, command_and_state) {
  kitchen_oven_configure cmd, cmd_out;
  kitchen_oven_state st, st_out;
  kitchen_shape shapes[3];
  const char *dishes[3] = {"pie", KV_UNICODE, ""};

  kitchen_oven_configure_init(&cmd);
  kv_scalars_max(&cmd.scalars);
  kv_lists_full(&cmd.lists);
  cmd.required = -1;
  ROUNDTRIP(kitchen_oven_configure, &cmd, &cmd_out);
  eq_scalars(&cmd.scalars, &cmd_out.scalars);
  eq_lists(&cmd.lists, &cmd_out.lists);
  cr_assert_eq(cmd_out.required, -1);
  cr_assert_null(cmd_out.tree);

  kitchen_oven_state_init(&st);
  for (int i = 0; i < 3; i++)
    kv_shape_full(&shapes[i]);
  shapes[1].label = NULL;
  st.shapes.items = shapes;
  st.shapes.count = 3;
  st.dishes.items = dishes;
  st.dishes.count = 3;
  st.last = &shapes[2];
  st.has_burnt = true;
  st.burnt = "toast";
  ROUNDTRIP(kitchen_oven_state, &st, &st_out);
  cr_assert_str_eq(st_out.name, st.name);
  cr_assert_eq(st_out.budget, UINT64_MAX);
  cr_assert_eq(st_out.low, INT64_MIN);
  for (int i = 0; i < 3; i++) {
    eq_shape(&st.shapes.items[i], &st_out.shapes.items[i]);
    cr_assert_str_eq(st_out.dishes.items[i], dishes[i]);
  }
  eq_shape(st.last, st_out.last);
  cr_assert_str_eq(st_out.burnt, "toast");
}

Test(roundtrip, empty_struct) {
  kitchen_pantry_state in, out;
  kitchen_pantry_state_init(&in);
  ROUNDTRIP(kitchen_pantry_state, &in, &out);
  cr_assert_eq(out.stock.count, 0);
}

Test(roundtrip, every_type_from_its_init) {
  /* Through the descriptors: whatever init produces must encode, decode
   * and encode again to the same bytes, for every type in the schema. */
  for (uint32_t i = 0; i < kitchen_schema.n_types; i++) {
    const es_type_desc *t = kitchen_schema.types[i];
    void *a = es_arena_calloc(&arena, 1, t->size);
    void *b = es_arena_calloc(&arena, 1, t->size);
    es_buf one = ES_BUF_INIT, two = ES_BUF_INIT;
    es_type_init(t, a);
    cr_assert_eq(es_type_encode(t, a, &one), 0, "%s", t->name);
    cr_assert_eq(es_type_decode(t, b, one.data, one.len, &arena), 0, "%s",
                 t->name);
    cr_assert_eq(es_type_encode(t, b, &two), 0, "%s", t->name);
    cr_assert_eq(one.len, two.len, "%s", t->name);
    cr_assert(memcmp(one.data, two.data, one.len) == 0, "%s", t->name);
    if (t->n_fields < 16)
      cr_assert_eq(one.data[0], 0x90 | t->n_fields, "%s: fixarray", t->name);
    else
      cr_assert_eq(one.data[0], 0xdc, "%s: array16", t->name);
    es_buf_close(&one);
    es_buf_close(&two);
  }
}

Test(roundtrip, encode_appends) {
  /* Encoders append: two values back to back in one buffer. */
  kitchen_point a = {1, 2}, b = {-3, 300}, out;
  size_t first;
  cr_assert_eq(kitchen_point_encode(&a, &buf), 0);
  first = buf.len;
  cr_assert_eq(kitchen_point_encode(&b, &buf), 0);
  cr_assert_eq(kitchen_point_decode(&out, buf.data, first, &arena), 0);
  eq_point(&a, &out, "first");
  cr_assert_eq(
      kitchen_point_decode(&out, buf.data + first, buf.len - first, &arena), 0);
  eq_point(&b, &out, "second");
  /* one decode of both: the second is trailing garbage */
  cr_assert_eq(kitchen_point_decode(&out, buf.data, buf.len, &arena),
               ES_ETRAILING);
}

/* ---- defaults ---------------------------------------------------------- */

static const char default_string[] =
    "caf\xc3\xa9 \"q\" \\ \n\t\xf0\x9f\x8d\xb3";
static const uint8_t default_uuid[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b,
                                         0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66,
                                         0x14, 0x17, 0x40, 0x00};

/* Field i of Defaults: the value kp_defaults() writes when i < n, the
 * schema's default otherwise. */
static void check_defaults(const kitchen_oven_defaults *v, uint32_t n) {
#define FIELD(i, from_bytes, from_default)                                     \
  do {                                                                         \
    if ((i) < n)                                                               \
      cr_assert(from_bytes, "field %d from the bytes (n=%u)", i, n);           \
    else                                                                       \
      cr_assert(from_default, "field %d from its default (n=%u)", i, n);       \
  } while (0)
  FIELD(0, v->required == 42, v->required == 0);
  FIELD(1, v->d_bool == false, v->d_bool == true);
  FIELD(2, v->d_false == true, v->d_false == false);
  FIELD(3, v->d_i8 == 5, v->d_i8 == -128);
  FIELD(4, v->d_i16 == -5, v->d_i16 == 32767);
  FIELD(5, v->d_i32 == 7, v->d_i32 == INT32_MIN);
  FIELD(6, v->d_i64 == 8, v->d_i64 == INT64_MIN);
  FIELD(7, v->d_u8 == 9, v->d_u8 == 255);
  FIELD(8, v->d_u16 == 10, v->d_u16 == 65535);
  FIELD(9, v->d_u32 == 11, v->d_u32 == 0xdeadbeefu);
  FIELD(10, v->d_u64 == 12, v->d_u64 == UINT64_MAX);
  FIELD(11, v->d_f32 == 0.25f, v->d_f32 == 1.5f);
  FIELD(12, v->d_f32_int == 0.5f, v->d_f32_int == 2.0f);
  FIELD(13, v->d_f64 == 3.5, v->d_f64 == -0.125);
  FIELD(14, v->d_f64_exp == -1.0, v->d_f64_exp == 6.02e23);
  FIELD(15, strcmp(v->d_string, "new") == 0,
        strcmp(v->d_string, default_string) == 0);
  FIELD(16, strcmp(v->d_empty, "x") == 0, strcmp(v->d_empty, "") == 0);
  FIELD(17, strcmp(v->d_comment, "c") == 0,
        strcmp(v->d_comment, "/* not a comment */") == 0);
  FIELD(18, strcmp(v->d_short, "s") == 0, strcmp(v->d_short, "ok") == 0);
  FIELD(19, v->d_ts == 99, v->d_ts == INT64_C(1700000000000000));
  FIELD(20, v->d_uuid.bytes[0] == kv_uuid(5).bytes[0],
        memcmp(v->d_uuid.bytes, default_uuid, 16) == 0);
  FIELD(21, v->d_enum == KITCHEN_HEAT_LOW, v->d_enum == KITCHEN_HEAT_BROIL);
#undef FIELD
}

/* What an older writer of Defaults sent: its first `n` fields. */
static void kp_defaults(msgpack_packer *pk, uint32_t n) {
  msgpack_pack_array(pk, n);
  for (uint32_t i = 0; i < n; i++) {
    switch (i) {
    case 0:
      msgpack_pack_int32(pk, 42);
      break;
    case 1:
      msgpack_pack_false(pk);
      break;
    case 2:
      msgpack_pack_true(pk);
      break;
    case 3:
      msgpack_pack_int8(pk, 5);
      break;
    case 4:
      msgpack_pack_int16(pk, -5);
      break;
    case 5:
      msgpack_pack_int32(pk, 7);
      break;
    case 6:
      msgpack_pack_int64(pk, 8);
      break;
    case 7:
      msgpack_pack_uint8(pk, 9);
      break;
    case 8:
      msgpack_pack_uint16(pk, 10);
      break;
    case 9:
      msgpack_pack_uint32(pk, 11);
      break;
    case 10:
      msgpack_pack_uint64(pk, 12);
      break;
    case 11:
      msgpack_pack_float(pk, 0.25f);
      break;
    case 12:
      msgpack_pack_float(pk, 0.5f);
      break;
    case 13:
      msgpack_pack_double(pk, 3.5);
      break;
    case 14:
      msgpack_pack_double(pk, -1.0);
      break;
    case 15:
      kp_str(pk, "new");
      break;
    case 16:
      kp_str(pk, "x");
      break;
    case 17:
      kp_str(pk, "c");
      break;
    case 18:
      kp_str(pk, "s");
      break;
    case 19:
      msgpack_pack_int64(pk, 99);
      break;
    case 20:
      kp_uuid(pk, kv_uuid(5));
      break;
    case 21:
      msgpack_pack_uint8(pk, KITCHEN_HEAT_LOW);
      break;
    default:
      msgpack_pack_nil(pk);
      break;
    }
  }
}

Test(defaults, init_applies_every_default) {
  kitchen_oven_defaults v;
  memset(&v, 0xa5, sizeof v);
  kitchen_oven_defaults_init(&v);
  check_defaults(&v, 0);
  cr_assert_eq(memcmp(&v.d_f32_int, &(float){2.0f}, sizeof(float)), 0);
  cr_assert_str_eq(v.d_string, default_string);
  cr_assert_eq(strlen(v.d_string), 18, "escapes decoded to UTF-8 bytes");
}

Test(defaults, init_of_state_record_and_command) {
  kitchen_oven_state s;
  kitchen_shape sh;
  kitchen_oven_bake b;
  kitchen_service_state ss;
  memset(&s, 0xa5, sizeof s);
  kitchen_oven_state_init(&s);
  cr_assert_str_eq(s.name, "caf\xc3\xa9 \xf0\x9f\x8d\xb3");
  cr_assert_eq(s.heat, KITCHEN_HEAT_MEDIUM);
  cr_assert(s.lit);
  cr_assert_eq(s.bakes, 0);
  cr_assert_eq(s.budget, UINT64_MAX);
  cr_assert_eq(s.low, INT64_MIN);
  cr_assert_eq(s.ratio, 0.5f);
  cr_assert_eq(s.temp_c, -40.0);
  cr_assert_eq(s.dishes.count, 0);
  cr_assert_null(s.dishes.items);
  cr_assert_eq(s.shapes.count, 0);
  cr_assert_null(s.last);
  cr_assert_not(s.has_burnt);

  memset(&sh, 0xa5, sizeof sh);
  kitchen_shape_init(&sh);
  cr_assert_str_eq(sh.name, "");
  cr_assert_eq(sh.color, KITCHEN_COLOR_RED);
  cr_assert_eq(sh.origin.x, 0);
  cr_assert_null(sh.label);

  memset(&b, 0xa5, sizeof b);
  kitchen_oven_bake_init(&b);
  cr_assert_str_eq(b.dish, "");
  cr_assert_eq(b.temp_f, 0);

  memset(&ss, 0xa5, sizeof ss);
  kitchen_service_state_init(&ss);
  cr_assert_not(ss.has_oven);
  cr_assert_eq(ss.burnt, 0);
}

Test(defaults, older_writer_every_prefix) {
  /* 1 .. 21 fields: the rest fill in from their defaults; all 22 and
   * none missing. */
  for (uint32_t n = 1; n <= 22; n++) {
    kitchen_oven_defaults v;
    kp_defaults(kp_reset(&kp), n);
    int rc = KP_DECODE(kitchen_oven_defaults, &v);
    cr_assert_eq(rc, 0, "n=%u: %s", n, es_err_name(rc));
    check_defaults(&v, n);
  }
}

Test(defaults, required_field_missing) {
  kitchen_oven_defaults v;
  kp_defaults(kp_reset(&kp), 0);
  cr_assert_eq(KP_DECODE(kitchen_oven_defaults, &v), ES_EMISSING);
}

Test(defaults, missing_without_default_is_emissing) {
  kitchen_scalars s;
  kitchen_shape sh;
  kitchen_oven_state st;
  kitchen_scalars_init(&s);
  /* 14 of 15 fields: the uuid has no default */
  kp_scalars(kp_reset(&kp), &s, 14, NULL, NULL);
  cr_assert_eq(KP_DECODE(kitchen_scalars, &s), ES_EMISSING);
  /* Shape without its nested record, or without its list */
  kv_shape_full(&sh);
  kp_shape(kp_reset(&kp), &sh, 2, NULL, NULL);
  cr_assert_eq(KP_DECODE(kitchen_shape, &sh), ES_EMISSING);
  kv_shape_full(&sh);
  kp_shape(kp_reset(&kp), &sh, 3, NULL, NULL);
  cr_assert_eq(KP_DECODE(kitchen_shape, &sh), ES_EMISSING);
  /* ...but without only its optional label it decodes */
  kv_shape_full(&sh);
  kp_shape(kp_reset(&kp), &sh, 4, NULL, NULL);
  cr_assert_eq(KP_DECODE(kitchen_shape, &sh), 0);
  cr_assert_null(sh.label);

  /* State: the eight defaulted fields fill in, the list has no default */
  msgpack_packer *pk = kp_reset(&kp);
  msgpack_pack_array(pk, 0);
  cr_assert_eq(KP_DECODE(kitchen_oven_state, &st), ES_EMISSING);
  pk = kp_reset(&kp);
  msgpack_pack_array(pk, 1);
  kp_str(pk, "mine");
  cr_assert_eq(KP_DECODE(kitchen_oven_state, &st), ES_EMISSING);
}

Test(defaults, optional_missing_is_absent) {
  kitchen_oven_cleaned c;
  kitchen_optionals o;
  msgpack_packer *pk = kp_reset(&kp);
  msgpack_pack_array(pk, 0);
  cr_assert_eq(KP_DECODE(kitchen_oven_cleaned, &c), 0);
  cr_assert_not(c.has_batch);
  cr_assert_eq(c.at, 0);
  /* Optionals from an older writer that knew only the first 5 */
  kv_optionals_full(&o);
  kp_optionals(kp_reset(&kp), &o, 5, NULL, NULL);
  cr_assert_eq(KP_DECODE(kitchen_optionals, &o), 0);
  cr_assert(o.has_o_i64 && o.o_i64 == INT64_MIN);
  cr_assert_not(o.has_o_u8);
  cr_assert_null(o.o_record);
  cr_assert_not(o.has_o_short);
}

Test(defaults, current_event_from_older_writer) {
  kitchen_oven_baked b;
  msgpack_packer *pk = kp_reset(&kp);
  msgpack_pack_array(pk, 2);
  msgpack_pack_array(pk, 1);
  kp_str(pk, "bread");
  msgpack_pack_double(pk, 180.0);
  cr_assert_eq(KP_DECODE(kitchen_oven_baked, &b), 0);
  cr_assert_eq(b.minutes, 30);
  cr_assert_str_eq(b.dishes.items[0], "bread");
}

/* ---- newer writers ------------------------------------------------------ */

/* A newer writer's extra fields: every msgpack type, nested. */
static bool extra_fields(msgpack_packer *pk, uint32_t i, void *ctx) {
  uint32_t first = *(const uint32_t *)ctx;
  if (i < first)
    return false;
  switch ((i - first) % 6) {
  case 0:
    msgpack_pack_map(pk, 2);
    kp_str(pk, "k");
    msgpack_pack_array(pk, 3);
    msgpack_pack_int(pk, -1);
    msgpack_pack_double(pk, 2.5);
    kp_str(pk, "deep");
    msgpack_pack_uint64(pk, UINT64_MAX);
    msgpack_pack_map(pk, 0);
    break;
  case 1:
    msgpack_pack_ext_with_body(pk, "\x01\x02\x03\x04", 4, 7);
    break;
  case 2:
    kp_bin(pk, "\x00\xff", 2);
    break;
  case 3:
    msgpack_pack_float(pk, 1.0f);
    break;
  case 4:
    msgpack_pack_str_with_body(pk, "a str8 header for a long text...x", 33);
    break;
  default:
    msgpack_pack_nil(pk);
    break;
  }
  return true;
}

Test(evolution, trailing_unknown_fields_are_skipped) {
  kitchen_scalars s, out;
  uint32_t first = 15;
  kv_scalars_unicode(&s);
  for (uint32_t extra = 1; extra <= 7; extra++) {
    kp_scalars(kp_reset(&kp), &s, 15 + extra, extra_fields, &first);
    int rc = KP_DECODE(kitchen_scalars, &out);
    cr_assert_eq(rc, 0, "%u extra: %s", extra, es_err_name(rc));
    eq_scalars(&s, &out);
  }
}

Test(evolution, unknown_fields_in_nested_records) {
  /* Node elements written by a newer writer: each has a fourth field */
  kitchen_node out;
  uint32_t first = 3;
  msgpack_packer *pk = kp_reset(&kp);
  /* hand-written: [1, [[2, [], nil, {..}]], nil, ext] */
  msgpack_pack_array(pk, 4);
  msgpack_pack_int(pk, 1);
  msgpack_pack_array(pk, 1);
  msgpack_pack_array(pk, 4);
  msgpack_pack_int(pk, 2);
  msgpack_pack_array(pk, 0);
  msgpack_pack_nil(pk);
  extra_fields(pk, 3, &first);
  msgpack_pack_nil(pk);
  extra_fields(pk, 4, &first);
  cr_assert_eq(KP_DECODE(kitchen_node, &out), 0);
  cr_assert_eq(out.value, 1);
  cr_assert_eq(out.children.count, 1);
  cr_assert_eq(out.children.items[0].value, 2);
  cr_assert_null(out.next);

  /* a record in a list, then the list's owner, both with extras */
  kitchen_shape sh, sh_out;
  kv_shape_full(&sh);
  first = 5;
  kp_shape(kp_reset(&kp), &sh, 9, extra_fields, &first);
  cr_assert_eq(KP_DECODE(kitchen_shape, &sh_out), 0);
  eq_shape(&sh, &sh_out);
}

Test(evolution, newer_field_that_is_malformed_fails) {
  kitchen_point p = {1, 2}, out;
  msgpack_packer *pk = kp_reset(&kp);
  kp_point(pk, &p, 3, NULL, NULL);
  /* replace the trailing nil by a str8 header claiming 200 bytes */
  kp.sb.data[kp.sb.size - 1] = (char)0xd9;
  msgpack_sbuffer_write(&kp.sb, "\xc8xyz", 4);
  cr_assert_eq(KP_DECODE(kitchen_point, &out), ES_ETRUNC);
  /* 0xc1 is never valid msgpack */
  pk = kp_reset(&kp);
  kp_point(pk, &p, 3, NULL, NULL);
  kp.sb.data[kp.sb.size - 1] = (char)0xc1;
  cr_assert_eq(KP_DECODE(kitchen_point, &out), ES_EDECODE);
}

Test(evolution, trailing_bytes_after_the_value) {
  kitchen_point p = {1, 2}, out;
  kp_point(kp_reset(&kp), &p, 2, NULL, NULL);
  msgpack_pack_nil(&kp.pk);
  cr_assert_eq(KP_DECODE(kitchen_point, &out), ES_ETRAILING);
}

/* ---- bounds ------------------------------------------------------------ */

/* Encodes `v` after a marker value and checks the failure left the buffer
 * exactly as it was: same length, same bytes, no sticky error; then that
 * the buffer still takes a valid value. */
#define ENCODE_FAILS(type, v, code)                                            \
  do {                                                                         \
    kitchen_point mark_ = {123456, -7};                                        \
    uint8_t before_[64];                                                       \
    size_t len_;                                                               \
    es_buf_clear(&buf);                                                        \
    cr_assert_eq(kitchen_point_encode(&mark_, &buf), 0);                       \
    len_ = buf.len;                                                            \
    memcpy(before_, buf.data, len_);                                           \
    int rc_ = type##_encode((v), &buf);                                        \
    cr_assert_eq(rc_, (code), #type ": %s, not %s", es_err_name(rc_),          \
                 es_err_name(code));                                           \
    cr_assert_eq(buf.len, len_, #type ": length changed");                     \
    cr_assert(memcmp(buf.data, before_, len_) == 0, #type ": bytes changed");  \
    cr_assert_eq(buf.err, 0, #type ": sticky error left behind");              \
    cr_assert_eq(kitchen_point_encode(&mark_, &buf), 0);                       \
    cr_assert_eq(buf.len, 2 * len_);                                           \
  } while (0)

Test(bounds, encode_refuses_every_bound_violation) {
  kitchen_bounded b;
  int32_t four[4] = {1, 2, 3, 4};
  const char *tags4[4] = {"a", "b", "c", "d"};
  const char *tag9[1] = {"123456789"};
  const uint8_t five[5] = {1, 2, 3, 4, 5};

  kv_bounded_max(&b);
  b.name = "123456789";
  ENCODE_FAILS(kitchen_bounded, &b, ES_EBOUND);
  kv_bounded_max(&b);
  b.name = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"; /* 3 characters, 9 bytes */
  ENCODE_FAILS(kitchen_bounded, &b, ES_EBOUND);
  kv_bounded_max(&b);
  b.blob.data = five;
  b.blob.len = 5;
  ENCODE_FAILS(kitchen_bounded, &b, ES_EBOUND);
  kv_bounded_max(&b);
  b.items.items = four;
  b.items.count = 4;
  ENCODE_FAILS(kitchen_bounded, &b, ES_EBOUND);
  kv_bounded_max(&b);
  b.tags.items = tags4;
  b.tags.count = 4;
  ENCODE_FAILS(kitchen_bounded, &b, ES_EBOUND);
  kv_bounded_max(&b);
  b.tags.items = tag9;
  b.tags.count = 1;
  ENCODE_FAILS(kitchen_bounded, &b, ES_EBOUND);
  kv_bounded_max(&b);
  b.maybe.data = five;
  b.maybe.len = 5;
  ENCODE_FAILS(kitchen_bounded, &b, ES_EBOUND);
  /* an absent optional is not checked */
  b.has_maybe = false;
  es_buf_clear(&buf);
  cr_assert_eq(kitchen_bounded_encode(&b, &buf), 0);
}

Test(bounds, encode_bound_deep_inside_an_event) {
  kitchen_oven_configured c;
  kitchen_point corners[4] = {{0, 0}, {1, 1}, {2, 2}, {3, 3}};
  kitchen_optionals *o = &c.optionals;
  kv_configured_full(&c);
  c.shape.corners.items = corners;
  c.shape.corners.count = 4;
  ENCODE_FAILS(kitchen_oven_configured, &c, ES_EBOUND);
  kv_configured_full(&c);
  o->o_short = "too long!";
  ENCODE_FAILS(kitchen_oven_configured, &c, ES_EBOUND);
  kv_configured_full(&c);
  c.bounded.name = "way too long";
  ENCODE_FAILS(kitchen_oven_configured, &c, ES_EBOUND);

  /* the state's list bound and a command's string bound */
  kitchen_oven_state st;
  const char *dishes[4] = {"a", "b", "c", "d"};
  kitchen_oven_state_init(&st);
  st.dishes.items = dishes;
  st.dishes.count = 4;
  ENCODE_FAILS(kitchen_oven_state, &st, ES_EBOUND);
  kitchen_oven_bake bake;
  kitchen_oven_bake_init(&bake);
  bake.dish = "croissant";
  ENCODE_FAILS(kitchen_oven_bake, &bake, ES_EBOUND);
}

Test(bounds, encode_refuses_inconsistent_values) {
  kitchen_scalars s;
  kitchen_lists l;
  kitchen_scalars_init(&s);
  s.f_bytes.len = 3; /* and no data */
  ENCODE_FAILS(kitchen_scalars, &s, ES_EINVAL);
  kitchen_lists_init(&l);
  l.l_f64.count = 2; /* and no items */
  ENCODE_FAILS(kitchen_lists, &l, ES_EINVAL);
}

/* A capped es_buf takes a value whose encoding fits exactly, and refuses
 * one byte less with ES_ETOOBIG, keeping what it held. */
static void fits_exactly(const es_type_desc *t, const void *v) {
  static const uint8_t prefix[5] = {0xc0, 0xc2, 0xc3, 0x01, 0x02};
  es_buf full = ES_BUF_INIT, capped;
  cr_assert_eq(es_type_encode(t, v, &full), 0, "%s", t->name);
  for (size_t pre = 0; pre <= sizeof prefix; pre += sizeof prefix) {
    es_buf_init(&capped, pre + full.len);
    es_buf_append(&capped, prefix, pre);
    cr_assert_eq(es_type_encode(t, v, &capped), 0, "%s in exactly %zu bytes",
                 t->name, full.len);
    cr_assert_eq(capped.len, pre + full.len);
    cr_assert(memcmp(capped.data + pre, full.data, full.len) == 0);
    es_buf_close(&capped);

    es_buf_init(&capped, pre + full.len - 1);
    es_buf_append(&capped, prefix, pre);
    int rc = es_type_encode(t, v, &capped);
    cr_assert_eq(rc, ES_ETOOBIG, "%s in %zu bytes: %s", t->name, full.len - 1,
                 es_err_name(rc));
    cr_assert_eq(capped.len, pre);
    cr_assert_eq(capped.err, 0);
    if (pre)
      cr_assert(memcmp(capped.data, prefix, pre) == 0);
    es_buf_close(&capped);
  }
  es_buf_close(&full);
}

Test(bounds, capped_buffer_takes_exactly_the_encoding) {
  kitchen_point p = {1, 2};
  kitchen_scalars s1, s2, s3;
  kitchen_optionals o;
  kitchen_lists l;
  kitchen_shape sh;
  kitchen_oven_configured c;
  kitchen_oven_defaults d;
  kv_scalars_max(&s1);
  kv_scalars_min(&s2);
  kv_scalars_unicode(&s3);
  kv_optionals_full(&o);
  kv_lists_full(&l);
  kv_shape_full(&sh);
  kv_configured_full(&c);
  kitchen_oven_defaults_init(&d);
  fits_exactly(&kitchen_point_desc, &p);
  fits_exactly(&kitchen_scalars_desc, &s1);
  fits_exactly(&kitchen_scalars_desc, &s2);
  fits_exactly(&kitchen_scalars_desc, &s3);
  fits_exactly(&kitchen_optionals_desc, &o);
  fits_exactly(&kitchen_lists_desc, &l);
  fits_exactly(&kitchen_shape_desc, &sh);
  fits_exactly(&kitchen_node_desc, kv_tree());
  fits_exactly(&kitchen_oven_configured_desc, &c);
  fits_exactly(&kitchen_oven_defaults_desc, &d);
}

/* Replaces field `i` of Bounded with a value past its bound. */
static bool over_bound(msgpack_packer *pk, uint32_t i, void *ctx) {
  uint32_t which = *(const uint32_t *)ctx;
  if (i != which)
    return false;
  switch (i) {
  case 0:
    kp_str(pk, "123456789");
    break;
  case 1:
    kp_bin(pk, "12345", 5);
    break;
  case 2:
    msgpack_pack_array(pk, 4);
    for (int k = 0; k < 4; k++)
      msgpack_pack_int(pk, k);
    break;
  case 3:
    msgpack_pack_array(pk, 1);
    kp_str(pk, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    break;
  case 4:
    kp_bin(pk, "12345", 5);
    break;
  }
  return true;
}

Test(bounds, decode_refuses_every_bound_violation) {
  kitchen_bounded b, out;
  kv_bounded_max(&b);
  for (uint32_t which = 0; which < 5; which++) {
    kp_bounded(kp_reset(&kp), &b, 5, over_bound, &which);
    int rc = KP_DECODE(kitchen_bounded, &out);
    cr_assert_eq(rc, ES_EBOUND, "field %u: %s", which, es_err_name(rc));
  }
  /* four tags */
  msgpack_packer *pk = kp_reset(&kp);
  msgpack_pack_array(pk, 4);
  kp_str(pk, "");
  kp_bin(pk, "", 0);
  msgpack_pack_array(pk, 0);
  msgpack_pack_array(pk, 4);
  for (int k = 0; k < 4; k++)
    kp_str(pk, "t");
  cr_assert_eq(KP_DECODE(kitchen_bounded, &out), ES_EBOUND);
  /* and exactly at the bounds it decodes */
  kp_bounded(kp_reset(&kp), &b, 5, NULL, NULL);
  cr_assert_eq(KP_DECODE(kitchen_bounded, &out), 0);
  eq_bounded(&b, &out);
}

/* ---- enums ------------------------------------------------------------- */

Test(enums, encode_out_of_range) {
  kitchen_shape sh;
  kitchen_lists l;
  kitchen_optionals o;
  kitchen_oven_defaults d;
  kitchen_color colors[2] = {KITCHEN_COLOR_BLUE, (kitchen_color)3};

  kv_shape_full(&sh);
  sh.color = (kitchen_color)KITCHEN_COLOR_COUNT;
  ENCODE_FAILS(kitchen_shape, &sh, ES_EENUM);
  sh.color = (kitchen_color)-1;
  ENCODE_FAILS(kitchen_shape, &sh, ES_EENUM);
  kitchen_lists_init(&l);
  l.l_enum.items = colors;
  l.l_enum.count = 2;
  ENCODE_FAILS(kitchen_lists, &l, ES_EENUM);
  kitchen_optionals_init(&o);
  o.has_o_enum = true;
  o.o_enum = (kitchen_color)100;
  ENCODE_FAILS(kitchen_optionals, &o, ES_EENUM);
  /* absent, its value is not looked at */
  o.has_o_enum = false;
  es_buf_clear(&buf);
  cr_assert_eq(kitchen_optionals_encode(&o, &buf), 0);
  kitchen_oven_defaults_init(&d);
  d.d_enum = (kitchen_heat)KITCHEN_HEAT_COUNT;
  ENCODE_FAILS(kitchen_oven_defaults, &d, ES_EENUM);
  d.d_enum = KITCHEN_HEAT_BROIL; /* the last one is fine */
  es_buf_clear(&buf);
  cr_assert_eq(kitchen_oven_defaults_encode(&d, &buf), 0);
}

static bool color_value(msgpack_packer *pk, uint32_t i, void *ctx) {
  if (i != 1)
    return false;
  msgpack_pack_int64(pk, *(const int64_t *)ctx);
  return true;
}

Test(enums, decode_out_of_range) {
  kitchen_shape sh, out;
  static const struct {
    int64_t v;
    int rc;
  } cases[] = {{0, 0},
               {2, 0},
               {3, ES_EENUM},
               {127, ES_EENUM},
               {UINT32_MAX, ES_EENUM},
               {(int64_t)UINT32_MAX + 1, ES_ERANGE},
               {-1, ES_ERANGE}};
  kv_shape_full(&sh);
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int64_t v = cases[k].v;
    kp_shape(kp_reset(&kp), &sh, 5, color_value, &v);
    int rc = KP_DECODE(kitchen_shape, &out);
    cr_assert_eq(rc, cases[k].rc, "color %lld: %s", (long long)v,
                 es_err_name(rc));
    if (rc == 0)
      cr_assert_eq((int64_t)out.color, v);
  }
  /* in a list and in an optional */
  msgpack_packer *pk = kp_reset(&kp);
  kitchen_lists l;
  kitchen_lists_init(&l);
  msgpack_pack_array(pk, 17);
  for (int i = 0; i < 17; i++) {
    if (i == 15) {
      msgpack_pack_array(pk, 2);
      msgpack_pack_int(pk, 1);
      msgpack_pack_int(pk, 3);
    } else {
      msgpack_pack_array(pk, 0);
    }
  }
  cr_assert_eq(KP_DECODE(kitchen_lists, &l), ES_EENUM);
  kitchen_optionals o;
  kitchen_optionals_init(&o);
  o.has_o_enum = true;
  kp_optionals(kp_reset(&kp), &o, 19, NULL, NULL);
  kp.sb.data[3 + 15] = 0x05; /* the o_enum slot: fixint 5 */
  cr_assert_eq(KP_DECODE(kitchen_optionals, &o), ES_EENUM);
}

/* ---- integer ranges on decode ------------------------------------------ */

typedef struct range_case {
  uint32_t field; /* of Scalars */
  bool is_unsigned;
  int64_t s;
  uint64_t u;
  int rc;
} range_case;

static bool range_value(msgpack_packer *pk, uint32_t i, void *ctx) {
  const range_case *c = ctx;
  if (i != c->field)
    return false;
  if (c->is_unsigned)
    msgpack_pack_uint64(pk, c->u);
  else
    msgpack_pack_int64(pk, c->s);
  return true;
}

Test(ranges, decode_checks_every_integer_width) {
  static const range_case cases[] = {
      {1, false, 127, 0, 0},
      {1, false, 128, 0, ES_ERANGE},
      {1, false, -128, 0, 0},
      {1, false, -129, 0, ES_ERANGE},
      {2, false, 32767, 0, 0},
      {2, false, 32768, 0, ES_ERANGE},
      {2, false, -32769, 0, ES_ERANGE},
      {3, false, INT32_MAX, 0, 0},
      {3, false, (int64_t)INT32_MAX + 1, 0, ES_ERANGE},
      {3, false, (int64_t)INT32_MIN - 1, 0, ES_ERANGE},
      {4, false, INT64_MIN, 0, 0},
      {4, true, 0, (uint64_t)INT64_MAX + 1, ES_ERANGE},
      {5, true, 0, 255, 0},
      {5, true, 0, 256, ES_ERANGE},
      {5, false, -1, 0, ES_ERANGE},
      {6, true, 0, 65536, ES_ERANGE},
      {6, false, -32768, 0, ES_ERANGE},
      {7, true, 0, UINT32_MAX, 0},
      {7, true, 0, (uint64_t)UINT32_MAX + 1, ES_ERANGE},
      {8, true, 0, UINT64_MAX, 0},
      {8, false, -1, 0, ES_ERANGE},
      {8, false, INT64_MIN, 0, ES_ERANGE},
      {13, true, 0, UINT64_MAX, ES_ERANGE},
      {13, false, INT64_MIN, 0, 0},
  };
  kitchen_scalars s, out;
  kitchen_scalars_init(&s);
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    kp_scalars(kp_reset(&kp), &s, 15, range_value, (void *)&cases[k]);
    int rc = KP_DECODE(kitchen_scalars, &out);
    cr_assert_eq(rc, cases[k].rc, "case %zu (field %u): %s", k, cases[k].field,
                 es_err_name(rc));
  }
}

/* ---- upcasting ---------------------------------------------------------- */

/* Decodes `data`, written as version `version` of the event `r` routes,
 * with that version's decoder, then lifts it through the generated
 * upcaster chain to the current version. */
static int lift(const es_event_route *r, uint32_t version, const void *data,
                size_t len, void **out) {
  const es_type_desc *t = r->event;
  uint32_t i = r->n_old;
  void *cur;
  int rc;
  for (uint32_t k = 0; k < r->n_old; k++)
    if (r->old[k].type->version == version)
      t = r->old[k].type, i = k;
  if (t->version != version)
    return ES_EVERSION;
  cur = es_arena_calloc(&arena, 1, t->size);
  if ((rc = es_type_decode(t, cur, data, len, &arena)) != 0)
    return rc;
  for (; i < r->n_old; i++) {
    const es_type_desc *next = i + 1 < r->n_old ? r->old[i + 1].type : r->event;
    void *to = es_arena_calloc(&arena, 1, next->size);
    if ((rc = r->old[i].upcast(cur, to, &arena)) != 0)
      return rc;
    cur = to;
  }
  *out = cur;
  return 0;
}

static const es_event_route *baked_route(void) {
  int e = es_aggregate_find_event(&kitchen_oven_aggregate, "Baked");
  cr_assert_geq(e, 0);
  return &kitchen_oven_aggregate.events[e];
}

Test(upcast, chain_shape) {
  const es_event_route *r = baked_route();
  cr_assert_eq(r->event, &kitchen_oven_baked_desc);
  cr_assert_eq(r->event->version, 3);
  cr_assert_eq(r->n_old, 2);
  cr_assert_eq(r->old[0].type, &kitchen_oven_baked_v1_desc);
  cr_assert_eq(r->old[0].type->version, 1);
  cr_assert_eq(r->old[1].type, &kitchen_oven_baked_v2_desc);
  cr_assert_eq(r->old[1].type->version, 2);
  cr_assert_not_null(r->old[0].upcast);
  cr_assert_not_null(r->old[1].upcast);
}

Test(upcast, v1_bytes_reach_the_current_shape) {
  /* What a v1 writer stored: ["pie,tart", 392] (392 F = 200 C). */
  kitchen_oven_baked *now;
  msgpack_packer *pk = kp_reset(&kp);
  msgpack_pack_array(pk, 2);
  kp_str(pk, "pie,tart");
  msgpack_pack_int(pk, 392);
  cr_assert_eq(lift(baked_route(), 1, kp.sb.data, kp.sb.size, (void **)&now),
               0);
  cr_assert_eq(now->dishes.count, 2);
  cr_assert_str_eq(now->dishes.items[0], "pie");
  cr_assert_str_eq(now->dishes.items[1], "tart");
  cr_assert_float_eq(now->temp_c, 200.0, 1e-9);
  cr_assert_eq(now->minutes, 30, "v3's default");
  /* and the result is a valid current event */
  cr_assert_eq(kitchen_oven_baked_encode(now, &buf), 0);
}

Test(upcast, v2_bytes_from_the_generated_v2_encoder) {
  kitchen_oven_baked_v2 v2;
  kitchen_oven_baked *now;
  kitchen_oven_baked_v2_init(&v2);
  v2.dish = "bun";
  v2.temp_c = 175.5;
  cr_assert_eq(kitchen_oven_baked_v2_encode(&v2, &buf), 0);
  cr_assert_eq(lift(baked_route(), 2, buf.data, buf.len, (void **)&now), 0);
  cr_assert_eq(now->dishes.count, 1);
  cr_assert_str_eq(now->dishes.items[0], "bun");
  cr_assert_eq(now->temp_c, 175.5);
}

Test(upcast, v1_through_each_decoder_and_upcaster) {
  kitchen_oven_baked_v1 v1, v1_out;
  kitchen_oven_baked_v2 v2;
  kitchen_oven_baked v3;
  kitchen_oven_baked_v1_init(&v1);
  v1.dish = "a,b,c";
  v1.temp_f = 32;
  cr_assert_eq(kitchen_oven_baked_v1_encode(&v1, &buf), 0);
  cr_assert_eq(kitchen_oven_baked_v1_decode(&v1_out, buf.data, buf.len, &arena),
               0);
  cr_assert_eq(kitchen_oven_upcast_baked_v1(&v1_out, &v2, &arena), 0);
  cr_assert_eq(v2.temp_c, 0.0);
  cr_assert_eq(kitchen_oven_upcast_baked_v2(&v2, &v3, &arena), 0);
  cr_assert_eq(v3.dishes.count, 3);
  cr_assert_str_eq(v3.dishes.items[2], "c");
  /* the current decoder refuses v1 bytes: a string where a list goes */
  cr_assert_eq(kitchen_oven_baked_decode(&v3, buf.data, buf.len, &arena),
               ES_ETYPE);
}

Test(upcast, failing_upcaster_stops_the_chain) {
  kitchen_oven_baked *now = NULL;
  msgpack_packer *pk = kp_reset(&kp);
  msgpack_pack_array(pk, 2);
  kp_str(pk, "ice");
  msgpack_pack_int(pk, -500); /* below absolute zero */
  cr_assert_eq(lift(baked_route(), 1, kp.sb.data, kp.sb.size, (void **)&now),
               ES_EUPCAST);
  pk = kp_reset(&kp);
  msgpack_pack_array(pk, 2);
  kp_str(pk, "a,b,c,d"); /* four dishes do not fit v3's max 3 */
  msgpack_pack_double(pk, 1.0);
  cr_assert_eq(lift(baked_route(), 2, kp.sb.data, kp.sb.size, (void **)&now),
               ES_EUPCAST);
  cr_assert_null(now);
}
