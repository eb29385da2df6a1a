/*
 * test_json.c - es_json_write over a hand-written descriptor set that has
 * every kind, optional fields present and absent, lists, nested records and
 * an enum; the exact JSON text is asserted.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "es/es.h"

TestSuite(json, .timeout = 10);

/* ---- the descriptors a generator would emit ------------------------------ */

typedef enum color { COLOR_RED, COLOR_GREEN, COLOR_BLUE } color;
static const char *const color_names[] = {"Red", "Green", "Blue"};
static const es_enum_desc color_desc = {"Color", 3, color_names};

typedef struct point {
  int32_t x;
  int32_t y;
} point;
typedef struct point_list {
  point *items;
  uint32_t count;
} point_list;
typedef struct color_list {
  color *items;
  uint32_t count;
} color_list;

static const es_field_desc point_fields[] = {
    {.name = "x", .kind = ES_KIND_I32, .offset = offsetof(point, x)},
    {.name = "y", .kind = ES_KIND_I32, .offset = offsetof(point, y)},
};
static const es_type_desc point_desc = {.magic = ES_TYPE_DESC_MAGIC,
                                        .role = ES_ROLE_RECORD,
                                        .name = "Point",
                                        .c_name = "t_point",
                                        .type_id = 1,
                                        .version = 1,
                                        .n_fields = 2,
                                        .fields = point_fields,
                                        .size = sizeof(point)};

typedef struct all {
  bool flag;
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  float f32;
  double f64;
  const char *s;
  es_bytes by;
  es_timestamp ts;
  es_uuid id;
  color c;
  point at;
  const point *maybe_at;
  const point *nowhere;
  int32_t opt_i32;
  bool has_opt_i32;
  const char *opt_str;
  bool has_opt_str;
  es_uuid opt_id;
  bool has_opt_id;
  es_i32_list ints;
  es_i8_list small;
  es_u16_list shorts;
  es_string_list names;
  point_list points;
  color_list colors;
  es_bool_list flags;
  es_bytes_list blobs;
  es_f64_list reals;
  es_f32_list halves;
  es_timestamp_list times;
  es_uuid_list ids;
  es_u8_list empty;
  es_i64_list opt_list;
  bool has_opt_list;
} all;

#define F(nm, k, m)                                                            \
  { .name = nm, .kind = k, .offset = offsetof(all, m) }
#define OPT(nm, k, m)                                                          \
  {                                                                            \
    .name = nm, .kind = k, .optional = 1, .offset = offsetof(all, m),          \
    .has_offset = offsetof(all, has_##m)                                       \
  }
#define LIST(nm, k, m, T)                                                      \
  {                                                                            \
    .name = nm, .kind = k, .is_list = 1, .offset = offsetof(all, m),           \
    .elem_size = sizeof(T)                                                     \
  }

static const es_field_desc all_fields[] = {
    F("flag", ES_KIND_BOOL, flag),
    F("i8", ES_KIND_I8, i8),
    F("i16", ES_KIND_I16, i16),
    F("i32", ES_KIND_I32, i32),
    F("i64", ES_KIND_I64, i64),
    F("u8", ES_KIND_U8, u8),
    F("u16", ES_KIND_U16, u16),
    F("u32", ES_KIND_U32, u32),
    F("u64", ES_KIND_U64, u64),
    F("f32", ES_KIND_F32, f32),
    F("f64", ES_KIND_F64, f64),
    F("s", ES_KIND_STRING, s),
    F("by", ES_KIND_BYTES, by),
    F("ts", ES_KIND_TIMESTAMP, ts),
    F("id", ES_KIND_UUID, id),
    {.name = "c",
     .kind = ES_KIND_ENUM,
     .offset = offsetof(all, c),
     .enumeration = &color_desc},
    {.name = "at",
     .kind = ES_KIND_RECORD,
     .offset = offsetof(all, at),
     .record = &point_desc},
    {.name = "maybe_at",
     .kind = ES_KIND_RECORD,
     .optional = 1,
     .offset = offsetof(all, maybe_at),
     .record = &point_desc},
    {.name = "nowhere",
     .kind = ES_KIND_RECORD,
     .optional = 1,
     .offset = offsetof(all, nowhere),
     .record = &point_desc},
    OPT("opt_i32", ES_KIND_I32, opt_i32),
    OPT("opt_str", ES_KIND_STRING, opt_str),
    OPT("opt_id", ES_KIND_UUID, opt_id),
    LIST("ints", ES_KIND_I32, ints, int32_t),
    LIST("small", ES_KIND_I8, small, int8_t),
    LIST("shorts", ES_KIND_U16, shorts, uint16_t),
    LIST("names", ES_KIND_STRING, names, const char *),
    {.name = "points",
     .kind = ES_KIND_RECORD,
     .is_list = 1,
     .offset = offsetof(all, points),
     .elem_size = sizeof(point),
     .record = &point_desc},
    {.name = "colors",
     .kind = ES_KIND_ENUM,
     .is_list = 1,
     .offset = offsetof(all, colors),
     .elem_size = sizeof(color),
     .enumeration = &color_desc},
    LIST("flags", ES_KIND_BOOL, flags, bool),
    LIST("blobs", ES_KIND_BYTES, blobs, es_bytes),
    LIST("reals", ES_KIND_F64, reals, double),
    LIST("halves", ES_KIND_F32, halves, float),
    LIST("times", ES_KIND_TIMESTAMP, times, es_timestamp),
    LIST("ids", ES_KIND_UUID, ids, es_uuid),
    LIST("empty", ES_KIND_U8, empty, uint8_t),
    {.name = "opt_list",
     .kind = ES_KIND_I64,
     .is_list = 1,
     .optional = 1,
     .offset = offsetof(all, opt_list),
     .has_offset = offsetof(all, has_opt_list),
     .elem_size = sizeof(int64_t)},
};

static const es_type_desc all_desc = {.magic = ES_TYPE_DESC_MAGIC,
                                      .role = ES_ROLE_EVENT,
                                      .name = "T.All",
                                      .c_name = "t_all",
                                      .type_id = 2,
                                      .version = 1,
                                      .n_fields = sizeof all_fields /
                                                  sizeof all_fields[0],
                                      .fields = all_fields,
                                      .size = sizeof(all)};

static const es_uuid uuid1 = {{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
                               0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}};

/* Writes `v` with `t` into a fresh buffer and checks the exact text. */
static void expect_json(const es_type_desc *t, const void *v,
                        const char *want) {
  es_buf b = ES_BUF_INIT;
  int rc = es_json_write(t, v, &b);
  cr_assert_eq(rc, 0, "rc %d (%s)", rc, es_err_name(rc));
  cr_assert_eq(b.len, strlen(want), "length %zu, want %zu:\n got %.*s\nwant %s",
               b.len, strlen(want), (int)b.len, (const char *)b.data, want);
  cr_assert(memcmp(b.data, want, b.len) == 0, "\n got %.*s\nwant %s",
            (int)b.len, (const char *)b.data, want);
  es_buf_close(&b);
}

Test(json, every_kind) {
  static const point there = {3, 4};
  static int32_t ints[] = {1, -2, 3};
  static int8_t small[] = {-1, 2};
  static uint16_t shorts[] = {65535};
  static const char *names[] = {"a", NULL, "\xc3\xa9"};
  static point pts[] = {{5, 6}, {7, 8}};
  static color colors[] = {COLOR_RED, (color)7};
  static bool flags[] = {true, false};
  static es_bytes blobs[] = {{NULL, 0}, {(const uint8_t *)"fo", 2}};
  static double reals[] = {1.0, 0, 0, 1e100};
  static float halves[] = {0.5f, -0.25f};
  static es_timestamp times[] = {0, -1};
  static es_uuid ids[1];
  reals[1] = NAN;
  reals[2] = -INFINITY;
  ids[0] = uuid1;

  all v;
  memset(&v, 0, sizeof v);
  v.flag = true;
  v.i8 = INT8_MIN;
  v.i16 = INT16_MIN;
  v.i32 = INT32_MIN;
  v.i64 = INT64_MIN;
  v.u8 = UINT8_MAX;
  v.u16 = UINT16_MAX;
  v.u32 = UINT32_MAX;
  v.u64 = UINT64_MAX;
  v.f32 = 1.5f;
  v.f64 = 0.1;
  v.s = "say \"hi\"\\\n";
  v.by = (es_bytes){(const uint8_t *)"\x00\xff\x10", 3};
  v.ts = INT64_C(1700000000123456);
  v.id = uuid1;
  v.c = COLOR_BLUE;
  v.at = (point){1, -2};
  v.maybe_at = &there;
  v.nowhere = NULL;
  v.opt_i32 = 7;
  v.has_opt_i32 = true;
  v.opt_str = "ignored";
  v.has_opt_str = false;
  v.opt_id = uuid1;
  v.has_opt_id = true;
  v.ints = (es_i32_list){ints, 3};
  v.small = (es_i8_list){small, 2};
  v.shorts = (es_u16_list){shorts, 1};
  v.names = (es_string_list){names, 3};
  v.points = (point_list){pts, 2};
  v.colors = (color_list){colors, 2};
  v.flags = (es_bool_list){flags, 2};
  v.blobs = (es_bytes_list){blobs, 2};
  v.reals = (es_f64_list){reals, 4};
  v.halves = (es_f32_list){halves, 2};
  v.times = (es_timestamp_list){times, 2};
  v.ids = (es_uuid_list){ids, 1};
  v.empty = (es_u8_list){NULL, 0};
  v.opt_list = (es_i64_list){NULL, 5}; /* absent: never looked at */
  v.has_opt_list = false;

  expect_json(&all_desc, &v,
              "{\"flag\":true,\"i8\":-128,\"i16\":-32768,\"i32\":-2147483648,"
              "\"i64\":-9223372036854775808,\"u8\":255,\"u16\":65535,"
              "\"u32\":4294967295,\"u64\":18446744073709551615,"
              "\"f32\":1.5,\"f64\":0.10000000000000001,"
              "\"s\":\"say \\\"hi\\\"\\\\\\u000a\",\"by\":\"AP8Q\","
              "\"ts\":1700000000123456,"
              "\"id\":\"123e4567-e89b-12d3-a456-426614174000\","
              "\"c\":\"Blue\",\"at\":{\"x\":1,\"y\":-2},"
              "\"maybe_at\":{\"x\":3,\"y\":4},\"nowhere\":null,"
              "\"opt_i32\":7,\"opt_str\":null,"
              "\"opt_id\":\"123e4567-e89b-12d3-a456-426614174000\","
              "\"ints\":[1,-2,3],\"small\":[-1,2],\"shorts\":[65535],"
              "\"names\":[\"a\",\"\",\"\xc3\xa9\"],"
              "\"points\":[{\"x\":5,\"y\":6},{\"x\":7,\"y\":8}],"
              "\"colors\":[\"Red\",7],\"flags\":[true,false],"
              "\"blobs\":[\"\",\"Zm8=\"],\"reals\":[1,null,null,1e+100],"
              "\"halves\":[0.5,-0.25],\"times\":[0,-1],"
              "\"ids\":[\"123e4567-e89b-12d3-a456-426614174000\"],"
              "\"empty\":[],\"opt_list\":null}");
}

Test(json, optional_flip_and_zero_value) {
  static int64_t longs[] = {INT64_MAX};
  all v;
  memset(&v, 0, sizeof v);
  v.has_opt_i32 = false;
  v.opt_str = "x\ty";
  v.has_opt_str = true;
  v.opt_list = (es_i64_list){longs, 1};
  v.has_opt_list = true;
  v.c = (color)-1;

  expect_json(&all_desc, &v,
              "{\"flag\":false,\"i8\":0,\"i16\":0,\"i32\":0,\"i64\":0,"
              "\"u8\":0,\"u16\":0,\"u32\":0,\"u64\":0,\"f32\":0,\"f64\":0,"
              "\"s\":\"\",\"by\":\"\",\"ts\":0,"
              "\"id\":\"00000000-0000-0000-0000-000000000000\","
              "\"c\":-1,\"at\":{\"x\":0,\"y\":0},\"maybe_at\":null,"
              "\"nowhere\":null,\"opt_i32\":null,\"opt_str\":\"x\\u0009y\","
              "\"opt_id\":null,\"ints\":[],\"small\":[],\"shorts\":[],"
              "\"names\":[],\"points\":[],\"colors\":[],\"flags\":[],"
              "\"blobs\":[],\"reals\":[],\"halves\":[],\"times\":[],"
              "\"ids\":[],\"empty\":[],"
              "\"opt_list\":[9223372036854775807]}");
}

/* ---- a one-field record for focused cases -------------------------------- */

typedef struct one {
  const char *s;
  double d;
  float f;
  es_bytes by;
} one;
static const es_field_desc one_s_field[] = {
    {.name = "s", .kind = ES_KIND_STRING, .offset = offsetof(one, s)}};
static const es_field_desc one_d_field[] = {
    {.name = "d", .kind = ES_KIND_F64, .offset = offsetof(one, d)}};
static const es_field_desc one_f_field[] = {
    {.name = "f", .kind = ES_KIND_F32, .offset = offsetof(one, f)}};
static const es_field_desc one_by_field[] = {
    {.name = "b", .kind = ES_KIND_BYTES, .offset = offsetof(one, by)}};
#define ONE_DESC(var, fl)                                                      \
  static const es_type_desc var = {.magic = ES_TYPE_DESC_MAGIC,                \
                                   .name = "One",                              \
                                   .n_fields = 1,                              \
                                   .fields = fl,                               \
                                   .size = sizeof(one)}
ONE_DESC(one_s, one_s_field);
ONE_DESC(one_d, one_d_field);
ONE_DESC(one_f, one_f_field);
ONE_DESC(one_by, one_by_field);

static void expect_str(const char *in, const char *want_value) {
  one v = {in, 0, 0, {NULL, 0}};
  char want[512];
  snprintf(want, sizeof want, "{\"s\":%s}", want_value);
  expect_json(&one_s, &v, want);
}

Test(json, string_escapes) {
  expect_str("", "\"\"");
  expect_str("plain", "\"plain\"");
  expect_str("\"", "\"\\\"\"");
  expect_str("\\", "\"\\\\\"");
  expect_str("/", "\"/\"");
  expect_str("\x01\x1f\t\r\n\b\f", "\"\\u0001\\u001f\\u0009\\u000d\\u000a"
                                   "\\u0008\\u000c\"");
  expect_str("\x7f", "\"\x7f\"");
}

Test(json, valid_utf8_passes_through) {
  /* 2, 3 and 4 byte forms, U+FFFF, the last code point, U+2028 */
  expect_str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
             "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  expect_str("\xef\xbf\xbf\xf4\x8f\xbf\xbf\xe2\x80\xa8",
             "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\xe2\x80\xa8\"");
  expect_str("\xc2\x80", "\"\xc2\x80\"");
}

Test(json, invalid_utf8_becomes_replacement_chars) {
  expect_str("a\x80z", "\"a\\ufffdz\"");          /* lone continuation */
  expect_str("a\xc3", "\"a\\ufffd\"");            /* cut at the end */
  expect_str("\xe2\x82z", "\"\\ufffd\\ufffdz\""); /* cut in the middle */
  expect_str("\xc0\xaf", "\"\\ufffd\\ufffd\"");   /* overlong '/' */
  expect_str("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""); /* overlong */
  expect_str("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
  expect_str("\xf4\x90\x80\x80",
             "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* past U+10FFFF */
  expect_str("\xff\xfe", "\"\\ufffd\\ufffd\"");
}

Test(json, keys_are_escaped_too) {
  static const es_field_desc f[] = {
      {.name = "we\"ird", .kind = ES_KIND_STRING, .offset = offsetof(one, s)}};
  static const es_type_desc t = {.magic = ES_TYPE_DESC_MAGIC,
                                 .name = "W",
                                 .n_fields = 1,
                                 .fields = f,
                                 .size = sizeof(one)};
  one v = {"v", 0, 0, {NULL, 0}};
  expect_json(&t, &v, "{\"we\\\"ird\":\"v\"}");
}

Test(json, float_text) {
  static const struct {
    double d;
    const char *want;
  } dc[] = {{0.0, "0"},
            {-0.0, "-0"},
            {1.0, "1"},
            {0.1, "0.10000000000000001"},
            {1e21, "1e+21"},
            {123456789012345678.0, "1.2345678901234568e+17"},
            {DBL_MAX, "1.7976931348623157e+308"},
            {4.9406564584124654e-324, "4.9406564584124654e-324"}};
  for (size_t i = 0; i < sizeof dc / sizeof dc[0]; i++) {
    one v = {NULL, dc[i].d, 0, {NULL, 0}};
    char want[128];
    snprintf(want, sizeof want, "{\"d\":%s}", dc[i].want);
    expect_json(&one_d, &v, want);
  }
  static const struct {
    float f;
    const char *want;
  } fc[] = {{0.1f, "0.100000001"},
            {1.5f, "1.5"},
            {FLT_MAX, "3.40282347e+38"},
            {16777216.0f, "16777216"}};
  for (size_t i = 0; i < sizeof fc / sizeof fc[0]; i++) {
    one v = {NULL, 0, fc[i].f, {NULL, 0}};
    char want[128];
    snprintf(want, sizeof want, "{\"f\":%s}", fc[i].want);
    expect_json(&one_f, &v, want);
  }
}

Test(json, nan_and_infinity_are_null) {
  one v = {NULL, NAN, NAN, {NULL, 0}};
  expect_json(&one_d, &v, "{\"d\":null}");
  expect_json(&one_f, &v, "{\"f\":null}");
  v.d = INFINITY;
  v.f = -INFINITY;
  expect_json(&one_d, &v, "{\"d\":null}");
  expect_json(&one_f, &v, "{\"f\":null}");
}

Test(json, base64_rfc4648_vectors) {
  static const char *const in[] = {"",     "f",     "fo",    "foo",
                                   "foob", "fooba", "foobar"};
  static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t i = 0; i < 7; i++) {
    one v = {NULL, 0, 0, {(const uint8_t *)in[i], strlen(in[i])}};
    char want[64];
    snprintf(want, sizeof want, "{\"b\":\"%s\"}", out[i]);
    expect_json(&one_by, &v, want);
  }
  static const uint8_t hi[] = {0xfb, 0xff, 0xbf};
  one v = {NULL, 0, 0, {hi, 3}};
  expect_json(&one_by, &v, "{\"b\":\"+/+/\"}");
}

Test(json, appends_after_existing_content) {
  es_buf b = ES_BUF_INIT;
  one v = {"x", 0, 0, {NULL, 0}};
  es_buf_append(&b, "[", 1);
  cr_assert_eq(es_json_write(&one_s, &v, &b), 0);
  es_buf_append(&b, ",", 1);
  cr_assert_eq(es_json_write(&one_s, &v, &b), 0);
  cr_assert_eq(b.len, strlen("[{\"s\":\"x\"},{\"s\":\"x\"}"));
  cr_assert_eq(memcmp(b.data, "[{\"s\":\"x\"},{\"s\":\"x\"}", b.len), 0);
  es_buf_close(&b);
}

/* ---- failures leave the buffer as it was --------------------------------- */

static void expect_failure(const es_type_desc *t, const void *v, int want_rc) {
  es_buf b = ES_BUF_INIT;
  es_buf_append(&b, "keep", 4);
  int rc = es_json_write(t, v, &b);
  cr_assert_eq(rc, want_rc, "rc %s, want %s", es_err_name(rc),
               es_err_name(want_rc));
  cr_assert_eq(b.len, 4, "partial output left behind");
  cr_assert_eq(memcmp(b.data, "keep", 4), 0);
  cr_assert_eq(b.err, 0, "a bad descriptor or value must not poison b");
  es_buf_close(&b);
}

Test(json, bad_magic_is_einval) {
  es_type_desc t = one_s;
  one v = {"x", 0, 0, {NULL, 0}};
  t.magic = 0;
  expect_failure(&t, &v, ES_EINVAL);
  es_buf b = ES_BUF_INIT;
  cr_assert_eq(es_json_write(NULL, &v, &b), ES_EINVAL);
  cr_assert_eq(es_json_write(&one_s, NULL, &b), ES_EINVAL);
  es_buf_close(&b);
}

Test(json, bad_values_are_einval) {
  one v = {NULL, 0, 0, {NULL, 3}};
  expect_failure(&one_by, &v, ES_EINVAL);

  all a;
  memset(&a, 0, sizeof a);
  a.ints.count = 2; /* items NULL */
  expect_failure(&all_desc, &a, ES_EINVAL);
}

Test(json, list_element_size_smaller_than_kind_is_einval) {
  static const es_field_desc f[] = {{.name = "l",
                                     .kind = ES_KIND_I64,
                                     .is_list = 1,
                                     .offset = 0,
                                     .elem_size = 4}};
  static const es_type_desc t = {.magic = ES_TYPE_DESC_MAGIC,
                                 .name = "L",
                                 .n_fields = 1,
                                 .fields = f,
                                 .size = sizeof(es_i64_list)};
  static int64_t items[] = {1};
  es_i64_list l = {items, 1};
  expect_failure(&t, &l, ES_EINVAL);
}

/* A record that points to itself: the walk stops at the depth limit. */
typedef struct node {
  int32_t v;
  const struct node *next;
} node;
static const es_type_desc node_desc;
static const es_field_desc node_fields[] = {
    {.name = "v", .kind = ES_KIND_I32, .offset = offsetof(node, v)},
    {.name = "next",
     .kind = ES_KIND_RECORD,
     .optional = 1,
     .offset = offsetof(node, next),
     .record = &node_desc},
};
static const es_type_desc node_desc = {.magic = ES_TYPE_DESC_MAGIC,
                                       .name = "Node",
                                       .n_fields = 2,
                                       .fields = node_fields,
                                       .size = sizeof(node)};

Test(json, pointer_cycle_hits_the_depth_limit) {
  node n = {1, NULL};
  n.next = &n;
  expect_failure(&node_desc, &n, ES_EDEPTH);

  node chain[3] = {{1, &chain[1]}, {2, &chain[2]}, {3, NULL}};
  expect_json(&node_desc, &chain[0],
              "{\"v\":1,\"next\":{\"v\":2,\"next\":{\"v\":3,\"next\":null}}}");
}

Test(json, buffer_limit_is_etoobig) {
  es_buf b;
  es_buf_init(&b, 8);
  one v = {"a long string that cannot fit", 0, 0, {NULL, 0}};
  cr_assert_eq(es_json_write(&one_s, &v, &b), ES_ETOOBIG);
  cr_assert_eq(b.len, 0);
  cr_assert_eq(b.err, ES_ETOOBIG);
  cr_assert_eq(es_json_write(&one_s, &v, &b), ES_ETOOBIG, "sticky");
  es_buf_close(&b);
}

/* A bool or has_ flag holding a byte other than 0 or 1 (memory never set
 * through a bool) reads as true, without undefined behaviour. */
Test(json, any_nonzero_bool_byte_is_true) {
  typedef struct flags {
    bool on;
    int32_t n;
    bool has_n;
  } flags;
  static const es_field_desc f[] = {
      {.name = "on", .kind = ES_KIND_BOOL, .offset = offsetof(flags, on)},
      {.name = "n",
       .kind = ES_KIND_I32,
       .optional = 1,
       .offset = offsetof(flags, n),
       .has_offset = offsetof(flags, has_n)},
  };
  static const es_type_desc t = {.magic = ES_TYPE_DESC_MAGIC,
                                 .name = "Flags",
                                 .n_fields = 2,
                                 .fields = f,
                                 .size = sizeof(flags)};
  unsigned char raw[sizeof(flags)];
  memset(raw, 0, sizeof raw);
  raw[offsetof(flags, on)] = 0x02;
  raw[offsetof(flags, has_n)] = 0xff;
  int32_t n = -5;
  memcpy(raw + offsetof(flags, n), &n, sizeof n);
  expect_json(&t, raw, "{\"on\":true,\"n\":-5}");
}
