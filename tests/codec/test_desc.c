/*
 * test_desc.c - what kitchen.es generates besides codecs: type
 * descriptors, es_json_write over them, the routing table (aggregates,
 * commands, events, subscribers, saga handlers and sends), and the
 * decide/apply/projection/saga functions reached through it.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kitchen.es.h"
#include "kitchen_impl.h"
#include "kitchen_values.h"

static es_arena arena;
static es_buf buf;

static void setup(void) {
  es_arena_init(&arena, 0);
  es_buf_init(&buf, 0);
}

static void teardown(void) {
  es_buf_close(&buf);
  es_arena_close(&arena);
}

TestSuite(desc, .init = setup, .fini = teardown);
TestSuite(json, .init = setup, .fini = teardown);
TestSuite(routing, .init = setup, .fini = teardown);
TestSuite(emit, .init = setup, .fini = teardown);
TestSuite(flow, .init = setup, .fini = teardown);

/* ---- type descriptors --------------------------------------------------- */

static void check_type(const es_type_desc *t, es_role role, const char *name,
                       const char *c_name, const char *id_text,
                       uint32_t version, uint32_t n_fields, size_t size) {
  cr_assert_eq(t->magic, ES_TYPE_DESC_MAGIC, "%s", name);
  cr_assert_eq(t->role, (uint32_t)role, "%s: role", name);
  cr_assert_str_eq(t->name, name);
  cr_assert_str_eq(t->c_name, c_name);
  cr_assert_eq(t->type_id, es_fnv1a64(id_text), "%s: type id", name);
  cr_assert_eq(t->version, version, "%s: version", name);
  cr_assert_eq(t->n_fields, n_fields, "%s: n_fields", name);
  cr_assert_eq(t->size, size, "%s: size", name);
  cr_assert(t->enc && t->dec, "%s: functions", name);
  cr_assert(n_fields == 0 || t->fields, "%s: fields", name);
}

Test(desc, names_ids_versions_roles) {
  check_type(&kitchen_point_desc, ES_ROLE_RECORD, "Point", "kitchen_point",
             "kitchen.Point", 1, 2, sizeof(kitchen_point));
  check_type(&kitchen_node_desc, ES_ROLE_RECORD, "Node", "kitchen_node",
             "kitchen.Node", 1, 3, sizeof(kitchen_node));
  check_type(&kitchen_oven_state_desc, ES_ROLE_STATE, "Oven#state",
             "kitchen_oven_state", "kitchen.Oven#state", 1, 12,
             sizeof(kitchen_oven_state));
  check_type(&kitchen_oven_bake_desc, ES_ROLE_COMMAND, "Oven.Bake",
             "kitchen_oven_bake", "kitchen.Oven.Bake", 1, 4,
             sizeof(kitchen_oven_bake));
  check_type(&kitchen_oven_baked_v1_desc, ES_ROLE_EVENT, "Oven.Baked",
             "kitchen_oven_baked_v1", "kitchen.Oven.Baked", 1, 2,
             sizeof(kitchen_oven_baked_v1));
  check_type(&kitchen_oven_baked_v2_desc, ES_ROLE_EVENT, "Oven.Baked",
             "kitchen_oven_baked_v2", "kitchen.Oven.Baked", 2, 2,
             sizeof(kitchen_oven_baked_v2));
  check_type(&kitchen_oven_baked_desc, ES_ROLE_EVENT, "Oven.Baked",
             "kitchen_oven_baked", "kitchen.Oven.Baked", 3, 3,
             sizeof(kitchen_oven_baked));
  check_type(&kitchen_oven_defaults_desc, ES_ROLE_EVENT, "Oven.Defaults",
             "kitchen_oven_defaults", "kitchen.Oven.Defaults", 1, 22,
             sizeof(kitchen_oven_defaults));
  check_type(&kitchen_pantry_stocked_desc, ES_ROLE_EVENT, "Pantry.Stocked",
             "kitchen_pantry_stocked", "kitchen.Pantry.Stocked", 1, 2,
             sizeof(kitchen_pantry_stocked));
  check_type(&kitchen_service_state_desc, ES_ROLE_SAGA_STATE, "Service#state",
             "kitchen_service_state", "kitchen.Service#state", 1, 3,
             sizeof(kitchen_service_state));
  /* the header's constants are the same ids */
  cr_assert_eq(KITCHEN_OVEN_BAKED_TYPE_ID, kitchen_oven_baked_desc.type_id);
  cr_assert_eq(KITCHEN_OVEN_BAKED_V1_TYPE_ID, kitchen_oven_baked_desc.type_id);
  cr_assert_eq(KITCHEN_POINT_TYPE_ID, es_fnv1a64("kitchen.Point"));
  cr_assert_eq(KITCHEN_PANTRY_STATE_TYPE_ID,
               es_fnv1a64("kitchen.Pantry#state"));
}

Test(desc, empty_structs) {
  check_type(&kitchen_oven_light_desc, ES_ROLE_COMMAND, "Oven.Light",
             "kitchen_oven_light", "kitchen.Oven.Light", 1, 0,
             sizeof(kitchen_oven_light));
  check_type(&kitchen_oven_lit_desc, ES_ROLE_EVENT, "Oven.Lit",
             "kitchen_oven_lit", "kitchen.Oven.Lit", 1, 0,
             sizeof(kitchen_oven_lit));
  cr_assert_null(kitchen_oven_lit_desc.fields);
}

/* One field descriptor, every member. */
#define FIELD(desc, i, name_, kind_, list_, opt_, max_, type_, member, rec_,   \
              en_)                                                             \
  do {                                                                         \
    const es_field_desc *f_ = &(desc).fields[i];                               \
    cr_assert_str_eq(f_->name, name_);                                         \
    cr_assert_eq(f_->kind, kind_, "%s: kind", name_);                          \
    cr_assert_eq(f_->is_list, list_, "%s: is_list", name_);                    \
    cr_assert_eq(f_->optional, opt_, "%s: optional", name_);                   \
    cr_assert_eq(f_->max, max_, "%s: max", name_);                             \
    cr_assert_eq(f_->offset, offsetof(type_, member), "%s: offset", name_);    \
    cr_assert_eq(f_->record, rec_, "%s: record", name_);                       \
    cr_assert_eq(f_->enumeration, en_, "%s: enumeration", name_);              \
  } while (0)

Test(desc, fields_of_nested_records) {
  const es_type_desc *t = &kitchen_shape_desc;
  FIELD(*t, 0, "name", ES_KIND_STRING, 0, 0, 8, kitchen_shape, name, NULL,
        NULL);
  FIELD(*t, 1, "color", ES_KIND_ENUM, 0, 0, 0, kitchen_shape, color, NULL,
        &kitchen_color_desc);
  FIELD(*t, 2, "origin", ES_KIND_RECORD, 0, 0, 0, kitchen_shape, origin,
        &kitchen_point_desc, NULL);
  FIELD(*t, 3, "corners", ES_KIND_RECORD, 1, 0, 3, kitchen_shape, corners,
        &kitchen_point_desc, NULL);
  FIELD(*t, 4, "label", ES_KIND_RECORD, 0, 1, 0, kitchen_shape, label,
        &kitchen_point_desc, NULL);
  cr_assert_eq(t->fields[3].elem_size, sizeof(kitchen_point));
  cr_assert_eq(t->fields[0].elem_size, 0);
  /* recursion: Node's fields point back at Node */
  FIELD(kitchen_node_desc, 1, "children", ES_KIND_RECORD, 1, 0, 0, kitchen_node,
        children, &kitchen_node_desc, NULL);
  FIELD(kitchen_node_desc, 2, "next", ES_KIND_RECORD, 0, 1, 0, kitchen_node,
        next, &kitchen_node_desc, NULL);
}

Test(desc, fields_of_every_scalar_kind) {
  static const struct {
    const char *name;
    es_kind kind;
    size_t offset;
  } want[] = {
      {"f_bool", ES_KIND_BOOL, offsetof(kitchen_scalars, f_bool)},
      {"f_i8", ES_KIND_I8, offsetof(kitchen_scalars, f_i8)},
      {"f_i16", ES_KIND_I16, offsetof(kitchen_scalars, f_i16)},
      {"f_i32", ES_KIND_I32, offsetof(kitchen_scalars, f_i32)},
      {"f_i64", ES_KIND_I64, offsetof(kitchen_scalars, f_i64)},
      {"f_u8", ES_KIND_U8, offsetof(kitchen_scalars, f_u8)},
      {"f_u16", ES_KIND_U16, offsetof(kitchen_scalars, f_u16)},
      {"f_u32", ES_KIND_U32, offsetof(kitchen_scalars, f_u32)},
      {"f_u64", ES_KIND_U64, offsetof(kitchen_scalars, f_u64)},
      {"f_f32", ES_KIND_F32, offsetof(kitchen_scalars, f_f32)},
      {"f_f64", ES_KIND_F64, offsetof(kitchen_scalars, f_f64)},
      {"f_string", ES_KIND_STRING, offsetof(kitchen_scalars, f_string)},
      {"f_bytes", ES_KIND_BYTES, offsetof(kitchen_scalars, f_bytes)},
      {"f_ts", ES_KIND_TIMESTAMP, offsetof(kitchen_scalars, f_ts)},
      {"f_uuid", ES_KIND_UUID, offsetof(kitchen_scalars, f_uuid)},
  };
  cr_assert_eq(kitchen_scalars_desc.n_fields, 15);
  for (int i = 0; i < 15; i++) {
    const es_field_desc *f = &kitchen_scalars_desc.fields[i];
    cr_assert_str_eq(f->name, want[i].name);
    cr_assert_eq(f->kind, want[i].kind, "%s", f->name);
    cr_assert_eq(f->offset, want[i].offset, "%s", f->name);
    cr_assert_eq(f->is_list | f->optional | f->max, 0, "%s", f->name);
  }
}

Test(desc, fields_of_optionals_carry_presence_offsets) {
  static const size_t has[] = {
      offsetof(kitchen_optionals, has_o_bool),
      offsetof(kitchen_optionals, has_o_i8),
      offsetof(kitchen_optionals, has_o_i16),
      offsetof(kitchen_optionals, has_o_i32),
      offsetof(kitchen_optionals, has_o_i64),
      offsetof(kitchen_optionals, has_o_u8),
      offsetof(kitchen_optionals, has_o_u16),
      offsetof(kitchen_optionals, has_o_u32),
      offsetof(kitchen_optionals, has_o_u64),
      offsetof(kitchen_optionals, has_o_f32),
      offsetof(kitchen_optionals, has_o_f64),
      offsetof(kitchen_optionals, has_o_string),
      offsetof(kitchen_optionals, has_o_bytes),
      offsetof(kitchen_optionals, has_o_ts),
      offsetof(kitchen_optionals, has_o_uuid),
      offsetof(kitchen_optionals, has_o_enum),
      0, /* o_record: a pointer, NULL when absent */
      offsetof(kitchen_optionals, has_o_list),
      offsetof(kitchen_optionals, has_o_short),
  };
  const es_type_desc *t = &kitchen_optionals_desc;
  cr_assert_eq(t->n_fields, 19);
  for (uint32_t i = 0; i < 19; i++) {
    cr_assert(t->fields[i].optional, "%s", t->fields[i].name);
    cr_assert_eq(t->fields[i].has_offset, has[i], "%s", t->fields[i].name);
  }
  FIELD(*t, 15, "o_enum", ES_KIND_ENUM, 0, 1, 0, kitchen_optionals, o_enum,
        NULL, &kitchen_color_desc);
  FIELD(*t, 16, "o_record", ES_KIND_RECORD, 0, 1, 0, kitchen_optionals,
        o_record, &kitchen_point_desc, NULL);
  FIELD(*t, 17, "o_list", ES_KIND_I32, 1, 1, 0, kitchen_optionals, o_list, NULL,
        NULL);
  FIELD(*t, 18, "o_short", ES_KIND_STRING, 0, 1, 8, kitchen_optionals, o_short,
        NULL, NULL);
}

Test(desc, fields_of_lists_carry_element_sizes) {
  static const size_t sizes[] = {
      sizeof(bool),          sizeof(int8_t),       sizeof(int16_t),
      sizeof(int32_t),       sizeof(int64_t),      sizeof(uint8_t),
      sizeof(uint16_t),      sizeof(uint32_t),     sizeof(uint64_t),
      sizeof(float),         sizeof(double),       sizeof(const char *),
      sizeof(es_bytes),      sizeof(es_timestamp), sizeof(es_uuid),
      sizeof(kitchen_color), sizeof(kitchen_point)};
  const es_type_desc *t = &kitchen_lists_desc;
  cr_assert_eq(t->n_fields, 17);
  for (uint32_t i = 0; i < 17; i++) {
    const es_field_desc *f = &t->fields[i];
    cr_assert(f->is_list, "%s", f->name);
    cr_assert_eq(f->kind,
                 i < 15    ? i
                 : i == 15 ? ES_KIND_ENUM
                           : ES_KIND_RECORD,
                 "%s", f->name);
    cr_assert_eq(f->elem_size, sizes[i], "%s", f->name);
  }
  /* bounds */
  FIELD(kitchen_bounded_desc, 1, "blob", ES_KIND_BYTES, 0, 0, 4,
        kitchen_bounded, blob, NULL, NULL);
  FIELD(kitchen_bounded_desc, 2, "items", ES_KIND_I32, 1, 0, 3, kitchen_bounded,
        items, NULL, NULL);
  FIELD(kitchen_bounded_desc, 3, "tags", ES_KIND_STRING, 1, 0, 3,
        kitchen_bounded, tags, NULL, NULL);
  FIELD(kitchen_bounded_desc, 4, "maybe", ES_KIND_BYTES, 0, 1, 4,
        kitchen_bounded, maybe, NULL, NULL);
  /* the largest bound */
  FIELD(kitchen_limits_desc, 0, "text", ES_KIND_STRING, 0, 0, UINT32_MAX,
        kitchen_limits, text, NULL, NULL);
  FIELD(kitchen_limits_desc, 2, "items", ES_KIND_U8, 1, 0, UINT32_MAX,
        kitchen_limits, items, NULL, NULL);
}

Test(desc, layout_hash_sees_one_field_change) {
  const es_type_desc *variants[] = {
      &kitchen_pair_type_desc, &kitchen_pair_name_desc,
      &kitchen_pair_optional_desc, &kitchen_pair_list_desc,
      &kitchen_pair_order_desc};
  uint64_t a = kitchen_pair_a_desc.layout_hash;
  for (size_t i = 0; i < 5; i++) {
    cr_assert_neq(variants[i]->layout_hash, a, "%s", variants[i]->name);
    for (size_t j = 0; j < i; j++)
      cr_assert_neq(variants[i]->layout_hash, variants[j]->layout_hash,
                    "%s vs %s", variants[i]->name, variants[j]->name);
  }
  /* same fields under another name: same layout, another type */
  cr_assert_eq(kitchen_pair_same_desc.layout_hash, a);
  cr_assert_neq(kitchen_pair_same_desc.type_id, kitchen_pair_a_desc.type_id);
  /* Stock and Stocked share their fields; the versions of Baked do not */
  cr_assert_eq(kitchen_pantry_stock_desc.layout_hash,
               kitchen_pantry_stocked_desc.layout_hash);
  cr_assert_neq(kitchen_oven_baked_v1_desc.layout_hash,
                kitchen_oven_baked_v2_desc.layout_hash);
  /* one added field */
  cr_assert_neq(kitchen_oven_clean_desc.layout_hash,
                kitchen_oven_cleaned_desc.layout_hash);
  cr_assert_neq(kitchen_oven_configure_desc.layout_hash,
                kitchen_oven_configured_desc.layout_hash);
}

Test(desc, find_type_finds_every_type) {
  const es_schema_desc *s = &kitchen_schema;
  /* 15 records, 2 aggregate states, 5 commands, 9 events (three of them
   * versions of Baked), 1 saga state */
  cr_assert_eq(s->n_types, 32);
  for (uint32_t i = 0; i < s->n_types; i++) {
    const es_type_desc *t = s->types[i];
    cr_assert_eq(es_schema_find_type(s, t->type_id, t->version), t, "%s v%u",
                 t->name, t->version);
    if (i)
      cr_assert(s->types[i - 1]->type_id < t->type_id ||
                    (s->types[i - 1]->type_id == t->type_id &&
                     s->types[i - 1]->version < t->version),
                "sorted by id, then version");
    for (uint32_t j = 0; j < i; j++)
      cr_assert_neq(s->types[j], t, "listed once");
  }
  cr_assert_eq(es_schema_find_type(s, KITCHEN_OVEN_BAKED_TYPE_ID, 1),
               &kitchen_oven_baked_v1_desc);
  cr_assert_eq(es_schema_find_type(s, KITCHEN_OVEN_BAKED_TYPE_ID, 2),
               &kitchen_oven_baked_v2_desc);
  cr_assert_eq(es_schema_find_type(s, KITCHEN_OVEN_BAKED_TYPE_ID, 3),
               &kitchen_oven_baked_desc);
  cr_assert_null(es_schema_find_type(s, KITCHEN_OVEN_BAKED_TYPE_ID, 4));
  cr_assert_null(es_schema_find_type(s, KITCHEN_POINT_TYPE_ID, 2));
  cr_assert_null(es_schema_find_type(s, es_fnv1a64("kitchen.Nope"), 1));
  /* every type a descriptor can reach is in the table */
  const es_type_desc *reach[] = {
      &kitchen_point_desc,          &kitchen_shape_desc,
      &kitchen_node_desc,           &kitchen_scalars_desc,
      &kitchen_optionals_desc,      &kitchen_lists_desc,
      &kitchen_bounded_desc,        &kitchen_oven_state_desc,
      &kitchen_oven_configure_desc, &kitchen_oven_configured_desc,
      &kitchen_oven_defaults_desc,  &kitchen_oven_burnt_desc,
      &kitchen_oven_cleaned_desc,   &kitchen_pantry_state_desc,
      &kitchen_pantry_stock_desc,   &kitchen_service_state_desc};
  for (size_t i = 0; i < sizeof reach / sizeof reach[0]; i++)
    cr_assert_eq(es_schema_find_type(s, reach[i]->type_id, 1), reach[i], "%s",
                 reach[i]->name);
}

Test(desc, enums) {
  cr_assert_str_eq(kitchen_color_desc.name, "Color");
  cr_assert_eq(kitchen_color_desc.count, 3);
  cr_assert_eq(KITCHEN_COLOR_COUNT, 3);
  cr_assert_str_eq(kitchen_color_desc.values[0], "Red");
  cr_assert_str_eq(kitchen_color_desc.values[2], "Blue");
  cr_assert_eq(KITCHEN_HEAT_BROIL, 3);
  cr_assert_str_eq(kitchen_heat_name(KITCHEN_HEAT_MEDIUM), "Medium");
  cr_assert_null(kitchen_heat_name((kitchen_heat)4));
  cr_assert_null(kitchen_color_name((kitchen_color)-1));
}

Test(desc, generic_functions_are_the_typed_ones) {
  kitchen_shape in, out;
  es_buf typed = ES_BUF_INIT;
  kv_shape_full(&in);
  cr_assert_eq(es_type_encode(&kitchen_shape_desc, &in, &buf), 0);
  cr_assert_eq(kitchen_shape_encode(&in, &typed), 0);
  cr_assert_eq(buf.len, typed.len);
  cr_assert(memcmp(buf.data, typed.data, buf.len) == 0);
  cr_assert_eq(
      es_type_decode(&kitchen_shape_desc, &out, buf.data, buf.len, &arena), 0);
  eq_shape(&in, &out);
  es_type_init(&kitchen_shape_desc, &out);
  cr_assert_str_eq(out.name, "");
  es_buf_close(&typed);
}

/* A type whose defaults are all zero has no init function in its
 * descriptor; es_type_init() zeroes it. One with defaults sets them. */
Test(desc, init_through_the_descriptor) {
  kitchen_point p;
  kitchen_oven_baked baked;
  cr_assert_null(kitchen_point_desc.init);
  memset(&p, 0xa5, sizeof p);
  es_type_init(&kitchen_point_desc, &p);
  cr_assert_eq(p.x, 0);
  cr_assert_eq(p.y, 0);

  cr_assert_not_null(kitchen_oven_baked_desc.init);
  memset(&baked, 0xa5, sizeof baked);
  es_type_init(&kitchen_oven_baked_desc, &baked);
  cr_assert_eq(baked.minutes, 30);
  cr_assert_eq(baked.dishes.count, 0);
  cr_assert_null(baked.dishes.items);
  cr_assert_eq(baked.temp_c, 0.0);
}

/* ---- JSON ---------------------------------------------------------------- */

static const char *json_of(const es_type_desc *t, const void *v) {
  es_buf_clear(&buf);
  int rc = es_json_write(t, v, &buf);
  cr_assert_eq(rc, 0, "%s: %s", t->name, es_err_name(rc));
  es_buf_append(&buf, "", 1);
  return (const char *)buf.data;
}

Test(json, decoded_event_prints_exactly) {
  kitchen_oven_defaults in, out;
  kitchen_oven_defaults_init(&in);
  in.required = 7;
  cr_assert_eq(kitchen_oven_defaults_encode(&in, &buf), 0);
  cr_assert_eq(kitchen_oven_defaults_decode(&out, buf.data, buf.len, &arena),
               0);
  cr_assert_str_eq(
      json_of(&kitchen_oven_defaults_desc, &out),
      "{\"required\":7,\"d_bool\":true,\"d_false\":false,\"d_i8\":-128,"
      "\"d_i16\":32767,\"d_i32\":-2147483648,"
      "\"d_i64\":-9223372036854775808,\"d_u8\":255,\"d_u16\":65535,"
      "\"d_u32\":3735928559,\"d_u64\":18446744073709551615,\"d_f32\":1.5,"
      "\"d_f32_int\":2,\"d_f64\":-0.125,\"d_f64_exp\":6.02e+23,"
      "\"d_string\":\"caf\xc3\xa9 \\\"q\\\" \\\\ \\u000a\\u0009"
      "\xf0\x9f\x8d\xb3\",\"d_empty\":\"\","
      "\"d_comment\":\"/* not a comment */\",\"d_short\":\"ok\","
      "\"d_ts\":1700000000000000,"
      "\"d_uuid\":\"123e4567-e89b-12d3-a456-426614174000\","
      "\"d_enum\":\"Broil\"}");
}

Test(json, nested_optional_and_recursive) {
  kitchen_shape sh;
  kitchen_bounded b;
  kitchen_optionals o;
  kv_shape_full(&sh);
  cr_assert_str_eq(json_of(&kitchen_shape_desc, &sh),
                   "{\"name\":\"triangle\",\"color\":\"Green\","
                   "\"origin\":{\"x\":-3,\"y\":4},\"corners\":[{\"x\":0,\"y\":"
                   "0},{\"x\":10,\"y\":0},{\"x\":10,\"y\":-10}],"
                   "\"label\":{\"x\":5,\"y\":-5}}");
  kv_bounded_max(&b);
  cr_assert_str_eq(json_of(&kitchen_bounded_desc, &b),
                   "{\"name\":\"ab\xe6\x97\xa5\xe6\x9c\xac\",\"blob\":"
                   "\"AQIDBA==\",\"items\":[7,8,9],\"tags\":[\"abcdefgh\","
                   "\"\xe6\x97\xa5\xe6\x9c\xac"
                   "ab\",\"\"],"
                   "\"maybe\":\"AQIDBA==\"}");
  kitchen_optionals_init(&o);
  o.has_o_list = true;
  o.has_o_enum = true;
  o.o_enum = KITCHEN_COLOR_BLUE;
  cr_assert_str_eq(
      json_of(&kitchen_optionals_desc, &o),
      "{\"o_bool\":null,\"o_i8\":null,\"o_i16\":null,\"o_i32\":null,"
      "\"o_i64\":null,\"o_u8\":null,\"o_u16\":null,\"o_u32\":null,"
      "\"o_u64\":null,\"o_f32\":null,\"o_f64\":null,\"o_string\":null,"
      "\"o_bytes\":null,\"o_ts\":null,\"o_uuid\":null,\"o_enum\":\"Blue\","
      "\"o_record\":null,\"o_list\":[],\"o_short\":null}");
  cr_assert_str_eq(
      json_of(&kitchen_node_desc, kv_tree()),
      "{\"value\":1,\"children\":[{\"value\":2,\"children\":[],\"next\":"
      "{\"value\":3,\"children\":[],\"next\":null}},{\"value\":4,"
      "\"children\":[{\"value\":5,\"children\":[],\"next\":null}],\"next\":"
      "null}],\"next\":{\"value\":6,\"children\":[],\"next\":{\"value\":7,"
      "\"children\":[],\"next\":null}}}");
}

Test(json, lists_of_every_kind_from_decoded_bytes) {
  kitchen_lists in, out;
  static bool b[] = {true};
  static int8_t i8[] = {-8};
  static uint64_t u64[] = {UINT64_MAX};
  static float f32[] = {0.25f};
  static double f64[] = {-1e-3};
  static const char *str[] = {"x\"y"};
  static const uint8_t raw[] = {0xfb, 0xff};
  static es_bytes bytes[] = {{raw, 2}};
  static es_timestamp ts[] = {-5};
  static es_uuid uuid[1];
  static kitchen_color colors[] = {KITCHEN_COLOR_RED};
  static kitchen_point points[] = {{1, -1}};
  memset(uuid[0].bytes, 0xab, 16);
  kitchen_lists_init(&in);
  in.l_bool.items = b, in.l_bool.count = 1;
  in.l_i8.items = i8, in.l_i8.count = 1;
  in.l_u64.items = u64, in.l_u64.count = 1;
  in.l_f32.items = f32, in.l_f32.count = 1;
  in.l_f64.items = f64, in.l_f64.count = 1;
  in.l_string.items = str, in.l_string.count = 1;
  in.l_bytes.items = bytes, in.l_bytes.count = 1;
  in.l_ts.items = ts, in.l_ts.count = 1;
  in.l_uuid.items = uuid, in.l_uuid.count = 1;
  in.l_enum.items = colors, in.l_enum.count = 1;
  in.l_record.items = points, in.l_record.count = 1;
  cr_assert_eq(kitchen_lists_encode(&in, &buf), 0);
  cr_assert_eq(kitchen_lists_decode(&out, buf.data, buf.len, &arena), 0);
  cr_assert_str_eq(
      json_of(&kitchen_lists_desc, &out),
      "{\"l_bool\":[true],\"l_i8\":[-8],\"l_i16\":[],\"l_i32\":[],"
      "\"l_i64\":[],\"l_u8\":[],\"l_u16\":[],\"l_u32\":[],"
      "\"l_u64\":[18446744073709551615],\"l_f32\":[0.25],"
      "\"l_f64\":[-0.001],\"l_string\":[\"x\\\"y\"],\"l_bytes\":[\"+/8=\"],"
      "\"l_ts\":[-5],"
      "\"l_uuid\":[\"abababab-abab-abab-abab-abababababab\"],"
      "\"l_enum\":[\"Red\"],\"l_record\":[{\"x\":1,\"y\":-1}]}");
}

/* ---- routing table ------------------------------------------------------- */

Test(routing, schema) {
  const es_schema_desc *s = &kitchen_schema;
  cr_assert_eq(s->abi, ES_ABI_VERSION);
  cr_assert_str_eq(s->name, "kitchen");
  cr_assert_eq(s->n_aggregates, 2);
  cr_assert_eq(s->aggregates[0], &kitchen_oven_aggregate);
  cr_assert_eq(s->aggregates[1], &kitchen_pantry_aggregate);
  cr_assert_eq(s->n_projections, 1);
  cr_assert_eq(s->projections[0], &kitchen_menu_projection);
  cr_assert_eq(s->n_sagas, 1);
  cr_assert_eq(s->sagas[0], &kitchen_service_saga);
  cr_assert_eq(es_schema_find_aggregate(s, "Pantry"),
               &kitchen_pantry_aggregate);
  cr_assert_null(es_schema_find_aggregate(s, "Fridge"));
}

/* The names of the events a command emits, comma-separated. */
static const char *emits(const es_aggregate_desc *a, uint32_t c) {
  static char out[256];
  const es_command_route *r = &a->commands[c];
  out[0] = '\0';
  for (uint32_t i = 0; i < r->n_emits; i++) {
    cr_assert_lt(r->emits[i], a->n_events);
    strcat(out, i ? "," : "");
    strcat(out, a->events[r->emits[i]].event->name);
  }
  return out;
}

Test(routing, aggregates_commands_events_errors) {
  const es_aggregate_desc *o = &kitchen_oven_aggregate;
  const es_aggregate_desc *p = &kitchen_pantry_aggregate;
  static const char *const events[] = {"Oven.Baked",    "Oven.Burnt",
                                       "Oven.Cleaned",  "Oven.Configured",
                                       "Oven.Defaults", "Oven.Lit"};

  cr_assert_str_eq(o->name, "Oven");
  cr_assert_eq(o->key_kind, ES_KEY_UUID);
  cr_assert_eq(o->state, &kitchen_oven_state_desc);
  cr_assert_eq(o->snapshot_every, 100);
  cr_assert_eq(o->n_commands, 4);
  cr_assert_eq(o->commands[0].command, &kitchen_oven_bake_desc);
  cr_assert_eq(o->commands[1].command, &kitchen_oven_clean_desc);
  cr_assert_eq(o->commands[2].command, &kitchen_oven_configure_desc);
  cr_assert_eq(o->commands[3].command, &kitchen_oven_light_desc);
  for (uint32_t i = 0; i < 4; i++)
    cr_assert_not_null(o->commands[i].decide);
  cr_assert_str_eq(emits(o, 0), "Oven.Baked,Oven.Burnt");
  cr_assert_str_eq(emits(o, 1), "Oven.Cleaned");
  cr_assert_str_eq(emits(o, 2), "Oven.Configured,Oven.Defaults");
  cr_assert_str_eq(emits(o, 3), "Oven.Lit");
  /* only current versions are routed; older ones hang off Baked */
  cr_assert_eq(o->n_events, 6);
  for (uint32_t i = 0; i < 6; i++) {
    cr_assert_str_eq(o->events[i].event->name, events[i]);
    cr_assert_not_null(o->events[i].apply);
    cr_assert_eq(o->events[i].n_old, i == 0 ? 2 : 0);
  }
  cr_assert_eq(o->n_errors, 3);
  cr_assert_str_eq(o->errors[0], "TooHot");
  cr_assert_str_eq(o->errors[KITCHEN_OVEN_ALREADY_CLEAN - 1], "AlreadyClean");

  cr_assert_str_eq(p->name, "Pantry");
  cr_assert_eq(p->key_kind, ES_KEY_U64);
  cr_assert_eq(p->snapshot_every, 0);
  cr_assert_eq(p->n_commands, 1);
  cr_assert_str_eq(emits(p, 0), "Pantry.Stocked");
  cr_assert_eq(p->n_errors, 1);
  cr_assert_str_eq(p->errors[0], "Full");

  cr_assert_eq(es_aggregate_find_command(o, "Configure"), 2);
  cr_assert_eq(es_aggregate_find_command(o, "Oven.Clean"), 1);
  cr_assert_eq(es_aggregate_find_event(o, "Defaults"), 4);
  cr_assert_eq(es_aggregate_find_event(o, "Bake"), -1);
}

static void check_sub(const es_subscriber *s, bool saga, uint32_t index,
                      uint32_t handler) {
  cr_assert_eq(s->is_saga, saga);
  cr_assert_eq(s->index, index);
  cr_assert_eq(s->handler, handler);
}

Test(routing, subscribers) {
  const es_event_route *ev = kitchen_oven_aggregate.events;
  const es_event_route *st = kitchen_pantry_aggregate.events;
  /* Baked: Menu's 1st handler */
  cr_assert_eq(ev[0].n_subscribers, 1);
  check_sub(&ev[0].subscribers[0], false, 0, 0);
  /* Burnt: Menu's 2nd handler, and the saga's start */
  cr_assert_eq(ev[1].n_subscribers, 2);
  check_sub(&ev[1].subscribers[0], false, 0, 1);
  check_sub(&ev[1].subscribers[1], true, 0, 0);
  /* Cleaned: the saga only */
  cr_assert_eq(ev[2].n_subscribers, 1);
  check_sub(&ev[2].subscribers[0], true, 0, 1);
  /* nobody reads Configured, Defaults or Lit */
  cr_assert_eq(ev[3].n_subscribers, 0);
  cr_assert_eq(ev[4].n_subscribers, 0);
  cr_assert_eq(ev[5].n_subscribers, 0);
  cr_assert_null(ev[5].subscribers);
  /* Stocked: both */
  cr_assert_eq(st[0].n_subscribers, 2);
  check_sub(&st[0].subscribers[0], false, 0, 2);
  check_sub(&st[0].subscribers[1], true, 0, 2);
}

Test(routing, projection_handlers) {
  const es_projection_desc *m = &kitchen_menu_projection;
  cr_assert_str_eq(m->name, "Menu");
  cr_assert_eq(m->n_handlers, 3);
  cr_assert_eq(m->handlers[0].aggregate, &kitchen_oven_aggregate);
  cr_assert_eq(m->handlers[0].event, 0);
  cr_assert_eq(m->handlers[1].aggregate, &kitchen_oven_aggregate);
  cr_assert_eq(m->handlers[1].event, 1);
  cr_assert_eq(m->handlers[2].aggregate, &kitchen_pantry_aggregate);
  cr_assert_eq(m->handlers[2].event, 0);
  for (uint32_t i = 0; i < 3; i++)
    cr_assert_not_null(m->handlers[i].handler);
}

Test(routing, saga_handlers_by_fields_and_sends) {
  const es_saga_desc *s = &kitchen_service_saga;
  cr_assert_str_eq(s->name, "Service");
  cr_assert_eq(s->key_kind, ES_KEY_UUID);
  cr_assert_eq(s->state, &kitchen_service_state_desc);
  cr_assert_eq(s->n_handlers, 3);
  /* start on Oven.Burnt: no `by`, the stream key */
  cr_assert_eq(s->handlers[0].aggregate, &kitchen_oven_aggregate);
  cr_assert_eq(s->handlers[0].event, 1);
  cr_assert_eq(s->handlers[0].starts, 1);
  cr_assert_null(s->handlers[0].by);
  /* on Oven.Cleaned by batch */
  cr_assert_eq(s->handlers[1].aggregate, &kitchen_oven_aggregate);
  cr_assert_eq(s->handlers[1].event, 2);
  cr_assert_eq(s->handlers[1].starts, 0);
  cr_assert_eq(s->handlers[1].by, &kitchen_oven_cleaned_desc.fields[0]);
  cr_assert_str_eq(s->handlers[1].by->name, "batch");
  cr_assert_eq(s->handlers[1].by->kind, ES_KIND_UUID);
  cr_assert(s->handlers[1].by->optional);
  cr_assert_eq(s->handlers[1].by->offset,
               offsetof(kitchen_oven_cleaned, batch));
  /* on Pantry.Stocked by oven */
  cr_assert_eq(s->handlers[2].aggregate, &kitchen_pantry_aggregate);
  cr_assert_eq(s->handlers[2].event, 0);
  cr_assert_eq(s->handlers[2].by, &kitchen_pantry_stocked_desc.fields[1]);
  cr_assert_str_eq(s->handlers[2].by->name, "oven");
  for (uint32_t i = 0; i < 3; i++)
    cr_assert_not_null(s->handlers[i].handler);
  /* sends Oven.Clean (with on rejected), Pantry.Stock (without) */
  cr_assert_eq(s->n_sends, 2);
  cr_assert_eq(s->sends[0].aggregate, &kitchen_oven_aggregate);
  cr_assert_eq(s->sends[0].command, 1);
  cr_assert_not_null(s->sends[0].on_rejected);
  cr_assert_eq(s->sends[1].aggregate, &kitchen_pantry_aggregate);
  cr_assert_eq(s->sends[1].command, 0);
  cr_assert_null(s->sends[1].on_rejected);
  cr_assert_not_null(s->on_timeout);
}

/* ---- emitting through the generated wrappers ----------------------------- */

Test(emit, only_events_in_the_commands_emits) {
  es_decision d;
  kitchen_oven_baked baked;
  kitchen_oven_burnt burnt;
  kitchen_oven_cleaned cleaned;
  kitchen_oven_baked out;
  const char *dish[1] = {"pie"};
  size_t len;

  es_decision_init(
      &d, &kitchen_oven_aggregate,
      (uint32_t)es_aggregate_find_command(&kitchen_oven_aggregate, "Bake"));
  kitchen_oven_baked_init(&baked);
  baked.dishes.items = dish;
  baked.dishes.count = 1;
  cr_assert_eq(kitchen_oven_emit_baked(&d, &baked), 0);
  kitchen_oven_burnt_init(&burnt);
  cr_assert_eq(kitchen_oven_emit_burnt(&d, &burnt), 0);
  cr_assert_eq(d.n_emitted, 2);
  len = d.payloads.len;

  kitchen_oven_cleaned_init(&cleaned);
  cr_assert_eq(kitchen_oven_emit_cleaned(&d, &cleaned), ES_ENOTEMITTED);
  cr_assert_eq(d.fault, ES_ENOTEMITTED);
  cr_assert_eq(d.n_emitted, 2);
  cr_assert_eq(d.payloads.len, len);

  cr_assert_eq(d.emitted[0].type, &kitchen_oven_baked_desc);
  cr_assert_eq(d.emitted[1].type, &kitchen_oven_burnt_desc);
  cr_assert_eq(kitchen_oven_baked_decode(&out,
                                         d.payloads.data + d.emitted[0].offset,
                                         d.emitted[0].len, &arena),
               0);
  cr_assert_str_eq(out.dishes.items[0], "pie");
  es_decision_close(&d);

  /* another command's decision refuses Baked */
  es_decision_init(&d, &kitchen_oven_aggregate, 1);
  cr_assert_eq(kitchen_oven_emit_baked(&d, &baked), ES_ENOTEMITTED);
  cr_assert_eq(kitchen_oven_emit_cleaned(&d, &cleaned), 0);
  es_decision_close(&d);
}

Test(emit, invalid_event_is_not_recorded) {
  es_decision d;
  kitchen_oven_baked baked;
  const char *dishes[4] = {"a", "b", "c", "d"};
  es_decision_init(&d, &kitchen_oven_aggregate, 0);
  kitchen_oven_baked_init(&baked);
  baked.dishes.items = dishes;
  baked.dishes.count = 4; /* max 3 */
  cr_assert_eq(kitchen_oven_emit_baked(&d, &baked), ES_EBOUND);
  cr_assert_eq(d.n_emitted, 0);
  cr_assert_eq(d.payloads.len, 0);
  baked.dishes.count = 3;
  cr_assert_eq(kitchen_oven_emit_baked(&d, &baked), 0);
  cr_assert_eq(d.n_emitted, 1);
  es_decision_close(&d);
}

/* ---- decide, apply, project and react through the tables ----------------- */

/* Runs command `c` of `agg` on `state` through the routing table, then
 * decodes every emitted event and applies it to `state`. */
static int run(const es_aggregate_desc *agg, uint32_t c, void *state,
               const void *command, es_decision *d) {
  int rc;
  es_decision_reset(d, c);
  rc = agg->commands[c].decide(state, command, d);
  if (rc)
    return rc;
  for (uint32_t i = 0; i < d->n_emitted; i++) {
    const es_emitted *e = &d->emitted[i];
    int ev = -1;
    for (uint32_t k = 0; k < agg->n_events; k++)
      if (agg->events[k].event == e->type)
        ev = (int)k;
    cr_assert_geq(ev, 0);
    void *event = es_arena_calloc(&arena, 1, e->type->size);
    cr_assert_eq(es_type_decode(e->type, event, d->payloads.data + e->offset,
                                e->len, &arena),
                 0);
    agg->events[ev].apply(state, event, &arena);
  }
  return 0;
}

Test(flow, oven_decides_and_folds) {
  const es_aggregate_desc *o = &kitchen_oven_aggregate;
  kitchen_oven_state st;
  kitchen_oven_bake bake;
  kitchen_oven_clean clean;
  es_decision d;
  const char *names[] = {"bun", "pie", "tart", "cake"};

  kitchen_oven_state_init(&st);
  es_decision_init(&d, o, 0);
  kitchen_oven_clean_init(&clean);
  cr_assert_eq(run(o, 1, &st, &clean, &d), ES_EREJECTED);
  cr_assert_str_eq(es_decision_error_name(&d), "AlreadyClean");

  kitchen_oven_bake_init(&bake);
  bake.minutes = 20;
  bake.temp_f = 392;
  for (int i = 0; i < 4; i++) {
    bake.dish = names[i];
    cr_assert_eq(run(o, 0, &st, &bake, &d), 0);
    cr_assert_eq(d.n_emitted, 1);
  }
  cr_assert_eq(st.bakes, 4);
  cr_assert_eq(st.dishes.count, 3, "the newest three");
  cr_assert_str_eq(st.dishes.items[0], "pie");
  cr_assert_str_eq(st.dishes.items[2], "cake");
  cr_assert_float_eq(st.temp_c, 200.0, 1e-9);

  /* too hot: rejected, nothing emitted, the message kept */
  bake.temp_f = 700;
  cr_assert_eq(run(o, 0, &st, &bake, &d), ES_EREJECTED);
  cr_assert_eq(d.error, KITCHEN_OVEN_TOO_HOT);
  cr_assert_str_eq(d.message, "cake");
  cr_assert_eq(d.n_emitted, 0);

  /* hot enough to burn: two events */
  bake.temp_f = 500;
  bake.at = 1000;
  cr_assert_eq(run(o, 0, &st, &bake, &d), 0);
  cr_assert_eq(d.n_emitted, 2);
  cr_assert_eq(d.emitted[1].type, &kitchen_oven_burnt_desc);
  cr_assert(st.has_burnt);
  cr_assert_str_eq(st.burnt, "cake");
  cr_assert_not(st.lit);

  /* not lit: rejected */
  bake.temp_f = 300;
  cr_assert_eq(run(o, 0, &st, &bake, &d), ES_EREJECTED);
  cr_assert_str_eq(es_decision_error_name(&d), "NotLit");

  /* an empty command and an empty event: Light, twice */
  kitchen_oven_light light;
  kitchen_oven_light_init(&light);
  cr_assert_eq(run(o, 3, &st, &light, &d), 0);
  cr_assert_eq(d.n_emitted, 1);
  cr_assert_eq(d.emitted[0].len, 1, "an empty array");
  cr_assert_eq(d.payloads.data[d.emitted[0].offset], 0x90);
  cr_assert(st.lit);
  cr_assert_eq(run(o, 3, &st, &light, &d), 0);
  cr_assert_eq(d.n_emitted, 0, "already lit");
  st.lit = false; /* as the burn left it, for the clean below */

  /* clean: back to a fresh oven */
  clean.has_batch = true;
  clean.batch = kv_uuid(1);
  cr_assert_eq(run(o, 1, &st, &clean, &d), 0);
  cr_assert(st.lit);
  cr_assert_not(st.has_burnt);
  cr_assert_eq(st.bakes, 0);
  es_decision_close(&d);
}

Test(flow, configure_emits_two_and_state_survives_a_snapshot) {
  const es_aggregate_desc *o = &kitchen_oven_aggregate;
  kitchen_oven_state st, snap;
  kitchen_oven_configure cfg;
  es_decision d;

  kitchen_oven_state_init(&st);
  kitchen_oven_configure_init(&cfg);
  kv_scalars_unicode(&cfg.scalars);
  kv_shape_full(&cfg.shape);
  cfg.required = 9;
  es_decision_init(&d, o, 2);
  cr_assert_eq(run(o, 2, &st, &cfg, &d), 0);
  cr_assert_eq(d.n_emitted, 2);
  cr_assert_eq(d.emitted[1].type, &kitchen_oven_defaults_desc);
  cr_assert_str_eq(st.name, KV_UNICODE);
  cr_assert_not_null(st.last);
  eq_shape(&cfg.shape, st.last);
  cr_assert_eq(st.shapes.count, 1);
  cr_assert_eq(st.heat, KITCHEN_HEAT_BROIL, "from the Defaults event");
  cr_assert_eq(st.ratio, 1.5f);
  cr_assert_eq(st.temp_c, -0.125);

  /* a snapshot: the state through its own codec */
  cr_assert_eq(es_type_encode(o->state, &st, &buf), 0);
  cr_assert_eq(es_type_decode(o->state, &snap, buf.data, buf.len, &arena), 0);
  cr_assert_str_eq(snap.name, st.name);
  cr_assert_eq(snap.heat, st.heat);
  eq_shape(st.last, snap.last);
  eq_shape(&st.shapes.items[0], &snap.shapes.items[0]);
  es_decision_close(&d);
}

Test(flow, pantry_rejects_when_full) {
  const es_aggregate_desc *p = &kitchen_pantry_aggregate;
  kitchen_pantry_state st;
  kitchen_pantry_stock stock;
  es_decision d;
  kitchen_pantry_state_init(&st);
  kitchen_pantry_stock_init(&stock);
  es_decision_init(&d, p, 0);
  for (int i = 0; i < 3; i++) {
    stock.item = i == 1 ? "flour" : "eggs";
    cr_assert_eq(run(p, 0, &st, &stock, &d), 0);
  }
  cr_assert_eq(st.stock.count, 3);
  cr_assert_str_eq(st.stock.items[1], "flour");
  cr_assert_eq(run(p, 0, &st, &stock, &d), ES_EREJECTED);
  cr_assert_str_eq(es_decision_error_name(&d), "Full");
  es_decision_close(&d);
}

Test(flow, projection_through_its_handlers) {
  const es_projection_desc *m = &kitchen_menu_projection;
  kitchen_menu_view view = {0};
  es_event_meta meta = {0};
  kitchen_oven_baked baked;
  kitchen_oven_burnt burnt;
  kitchen_pantry_stocked stocked;
  const char *dishes[2] = {"pie", "tart"};

  kitchen_oven_baked_init(&baked);
  baked.dishes.items = dishes;
  baked.dishes.count = 2;
  meta.position = 10;
  cr_assert_eq(m->handlers[0].handler(&baked, &meta, &view), 0);
  kitchen_oven_burnt_init(&burnt);
  burnt.dish = "tart";
  meta.position = 11;
  cr_assert_eq(m->handlers[1].handler(&burnt, &meta, &view), 0);
  kitchen_pantry_stocked_init(&stocked);
  stocked.item = "sugar";
  meta.position = 12;
  cr_assert_eq(m->handlers[2].handler(&stocked, &meta, &view), 0);
  cr_assert_eq(view.dishes, 2);
  cr_assert_eq(view.burnt, 1);
  cr_assert_eq(view.stocked, 1);
  cr_assert_str_eq(view.last_dish, "sugar");
  cr_assert_eq(view.last_position, 12);
  cr_assert_eq(m->handlers[0].handler(&baked, &meta, NULL), ES_EINVAL);
}

Test(flow, saga_through_its_handlers) {
  const es_saga_desc *s = &kitchen_service_saga;
  kitchen_service_state st;
  es_saga_ctx ctx;
  es_event_meta meta = {0};
  kitchen_oven_burnt burnt;
  kitchen_oven_cleaned cleaned;
  kitchen_oven_clean sent;
  es_uuid oven = kv_uuid(42);
  char key[37];
  es_timeout t = {KITCHEN_CLEAN_TIMEOUT, 0};
  es_rejection why = {"TooHot", KITCHEN_OVEN_TOO_HOT, ""};

  es_uuid_format(&oven, key);
  meta.aggregate = "Oven";
  meta.key = key;
  kitchen_service_state_init(&st);
  es_saga_ctx_init(&ctx, s);

  /* a burn starts it: Clean sent to that oven, and a deadline */
  kitchen_oven_burnt_init(&burnt);
  cr_assert_eq(s->handlers[0].handler(&st, &burnt, &meta, &ctx), 0);
  cr_assert_eq(st.burnt, 1);
  cr_assert(st.cleaning);
  cr_assert_eq(ctx.n_effects, 2);
  cr_assert_eq(ctx.effects[0].kind, ES_EFFECT_SEND);
  cr_assert_eq(ctx.effects[0].target, 0, "sends[0]: Oven.Clean");
  cr_assert_str_eq(ctx.effects[0].key, key);
  cr_assert_eq(kitchen_oven_clean_decode(
                   &sent, ctx.payloads.data + ctx.effects[0].offset,
                   ctx.effects[0].len, &arena),
               0);
  cr_assert(sent.has_batch);
  eq_uuid(sent.batch, oven, "batch is the oven");
  cr_assert_eq(ctx.effects[1].kind, ES_EFFECT_SCHEDULE);
  cr_assert_str_eq(ctx.effects[1].name, KITCHEN_CLEAN_TIMEOUT);
  cr_assert_eq(ctx.effects[1].delay_us, KITCHEN_CLEAN_DELAY_US);

  /* the Clean was rejected for another reason: try again later */
  es_saga_ctx_reset(&ctx);
  cr_assert_eq(s->sends[0].on_rejected(&st, &sent, &why, &ctx), 0);
  cr_assert_not(ctx.completed);
  cr_assert_eq(ctx.n_effects, 1);
  cr_assert_eq(ctx.effects[0].kind, ES_EFFECT_SCHEDULE);

  /* the deadline: send again */
  es_saga_ctx_reset(&ctx);
  cr_assert_eq(s->on_timeout(&st, &t, &ctx), 0);
  cr_assert_eq(ctx.effects[0].kind, ES_EFFECT_SEND);

  /* cleaned: cancel the deadline, done */
  es_saga_ctx_reset(&ctx);
  kitchen_oven_cleaned_init(&cleaned);
  cleaned.has_batch = true;
  cleaned.batch = oven;
  cr_assert_eq(s->handlers[1].handler(&st, &cleaned, &meta, &ctx), 0);
  cr_assert_eq(ctx.effects[0].kind, ES_EFFECT_CANCEL);
  cr_assert(ctx.completed);
  cr_assert_not(st.cleaning);
  es_saga_ctx_close(&ctx);
}

Test(flow, saga_send_wrapper_for_a_u64_key) {
  es_saga_ctx ctx;
  kitchen_pantry_stock stock;
  kitchen_oven_bake bake;
  es_saga_ctx_init(&ctx, &kitchen_service_saga);
  kitchen_pantry_stock_init(&stock);
  stock.item = "milk";
  cr_assert_eq(kitchen_service_send_pantry_stock(&ctx, UINT64_MAX, &stock), 0);
  cr_assert_str_eq(ctx.effects[0].key, "18446744073709551615");
  cr_assert_eq(ctx.effects[0].target, 1);
  /* Bake is not in `sends` */
  kitchen_oven_bake_init(&bake);
  cr_assert_eq(es_saga_send(&ctx, &kitchen_oven_aggregate, 0, "k", &bake),
               ES_ENOTSENT);
  es_saga_ctx_close(&ctx);
}
