/*
 * test_misc.c - error names, uuids, FNV-1a, schema lookups, keys.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "es/es.h"

Test(abi, version_matches_header) {
  cr_assert_eq(es_abi_version(), ES_ABI_VERSION);
}

/* ---- errors -------------------------------------------------------------- */

Test(error, every_code_has_its_message_and_name) {
  int n = 0;
#define CHECK(name, value, msg)                                                \
  cr_assert_eq(ES_##name, value);                                              \
  cr_assert(value <= -30900 && value >= -30999, #name " out of range");        \
  cr_assert_str_eq(es_strerror(ES_##name), msg);                               \
  cr_assert_str_eq(es_err_name(ES_##name), "ES_" #name);                       \
  n++;
  ES_ERRNO_MAP(CHECK)
#undef CHECK
  /* Every code in the map was checked, and there is at least the set the
   * codecs rely on. */
  cr_assert_geq(n, 22);
}

Test(error, codes_are_distinct) {
  static const int codes[] = {
#define CODE(name, value, msg) value,
      ES_ERRNO_MAP(CODE)
#undef CODE
  };
  size_t n = sizeof codes / sizeof codes[0], i, j;
  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++)
      cr_assert_neq(codes[i], codes[j], "codes %zu and %zu collide", i, j);
}

Test(error, success_and_unknown) {
  cr_assert_str_eq(es_strerror(0), "success");
  cr_assert_str_eq(es_err_name(0), "ES_OK");
  cr_assert_str_eq(es_strerror(-1), "unknown error");
  cr_assert_str_eq(es_strerror(-30999), "unknown error");
  cr_assert_str_eq(es_strerror(42), "unknown error");
  cr_assert_str_eq(es_err_name(-1), "ES_UNKNOWN");
  cr_assert_str_eq(es_err_name(-30998), "ES_UNKNOWN");
}

/* ---- uuid ---------------------------------------------------------------- */

static const es_uuid sample_uuid = {{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12,
                                     0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
                                     0x40, 0x00}};

Test(uuid, format_is_lowercase_8_4_4_4_12) {
  char out[37];
  memset(out, 'x', sizeof out);
  es_uuid_format(&sample_uuid, out);
  cr_assert_str_eq(out, "123e4567-e89b-12d3-a456-426614174000");
  cr_assert_eq(out[36], '\0');

  es_uuid ff;
  memset(ff.bytes, 0xab, sizeof ff.bytes);
  es_uuid_format(&ff, out);
  cr_assert_str_eq(out, "abababab-abab-abab-abab-abababababab");
}

Test(uuid, parse_either_case_round_trips) {
  es_uuid u;
  cr_assert_eq(es_uuid_parse(&u, "123e4567-e89b-12d3-a456-426614174000"), 0);
  cr_assert_arr_eq(u.bytes, sample_uuid.bytes, 16);
  memset(&u, 0, sizeof u);
  cr_assert_eq(es_uuid_parse(&u, "123E4567-E89B-12D3-A456-426614174000"), 0);
  cr_assert_arr_eq(u.bytes, sample_uuid.bytes, 16);

  for (int i = 0; i < 256; i++) {
    es_uuid a, b;
    char text[37];
    for (int k = 0; k < 16; k++)
      a.bytes[k] = (uint8_t)(i * 31 + k * 17);
    es_uuid_format(&a, text);
    cr_assert_eq(es_uuid_parse(&b, text), 0, "%s", text);
    cr_assert_arr_eq(a.bytes, b.bytes, 16, "%s", text);
  }
}

Test(uuid, parse_is_strict_and_leaves_output_alone) {
  static const char *const bad[] = {
      "",
      "123e4567-e89b-12d3-a456-42661417400",   /* short */
      "123e4567-e89b-12d3-a456-4266141740000", /* long */
      "123e4567e89b12d3a456426614174000",      /* no dashes */
      "123e4567-e89b-12d3-a456_426614174000",  /* wrong separator */
      "123e4567-e89b-12d3-a4560426614174000",
      "{123e4567-e89b-12d3-a456-426614174000}",
      "123e4567-e89b-12d3-a456-42661417400g", /* not hex */
      "123e4567-e89b-12d3-a456-42661417400 ",
      "123e456-7e89b-12d3-a456-426614174000", /* dash moved */
      "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
      " 123e4567-e89b-12d3-a456-426614174000",
  };
  es_uuid u;
  memset(&u, 0x5a, sizeof u);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(es_uuid_parse(&u, bad[i]), ES_EINVAL, "accepted '%s'", bad[i]);
    for (int k = 0; k < 16; k++)
      cr_assert_eq(u.bytes[k], 0x5a, "'%s' clobbered the output", bad[i]);
  }
  cr_assert_eq(es_uuid_parse(&u, NULL), ES_EINVAL);
}

/* ---- FNV-1a -------------------------------------------------------------- */

Test(fnv, known_vectors) {
  cr_assert_eq(es_fnv1a64(""), UINT64_C(0xcbf29ce484222325));
  cr_assert_eq(es_fnv1a64("a"), UINT64_C(0xaf63dc4c8601ec8c));
  cr_assert_eq(es_fnv1a64("foobar"), UINT64_C(0x85944171f73967e8));
  cr_assert_eq(es_fnv1a64(NULL), es_fnv1a64(""));
}

Test(fnv, bytes_above_0x7f_are_unsigned) {
  /* one step by hand: (offset ^ 0xe9) * prime, as unsigned bytes */
  uint64_t h = UINT64_C(14695981039346656037);
  h ^= 0xe9;
  h *= UINT64_C(1099511628211);
  cr_assert_eq(es_fnv1a64("\xe9"), h);
}

/* ---- schema lookups ------------------------------------------------------ */

#define TYPE(var, nm, id, ver)                                                 \
  static const es_type_desc var = {ES_TYPE_DESC_MAGIC,                         \
                                   ES_ROLE_EVENT,                              \
                                   nm,                                         \
                                   NULL,                                       \
                                   id,                                         \
                                   0,                                          \
                                   ver,                                        \
                                   0,                                          \
                                   NULL,                                       \
                                   0,                                          \
                                   NULL,                                       \
                                   NULL,                                       \
                                   NULL}

TYPE(t_deposit, "Account.Deposit", 10, 1);
TYPE(t_withdraw, "Account.Withdraw", 20, 1);
TYPE(t_deposited_v1, "Account.Deposited", 30, 1);
TYPE(t_deposited_v2, "Account.Deposited", 30, 2);
TYPE(t_deposited_v3, "Account.Deposited", 30, 3);
TYPE(t_withdrawn, "Account.Withdrawn", 40, 1);
TYPE(t_post, "Ledger.Post", 50, 1);

static const es_command_route account_cmds[] = {
    {&t_deposit, NULL, 0, NULL},
    {&t_withdraw, NULL, 0, NULL},
};
static const es_event_route account_events[] = {
    {&t_deposited_v3, NULL, 0, NULL, 0, NULL},
    {&t_withdrawn, NULL, 0, NULL, 0, NULL},
};
static const es_aggregate_desc account = {
    "Account", ES_KEY_STRING,  NULL, 2,    account_cmds,
    2,         account_events, 0,    NULL, 0};
static const es_command_route ledger_cmds[] = {{&t_post, NULL, 0, NULL}};
static const es_aggregate_desc ledger = {
    "Ledger", ES_KEY_U64, NULL, 1, ledger_cmds, 0, NULL, 0, NULL, 0};

static const es_aggregate_desc *const aggs[] = {&account, &ledger};
static const es_type_desc *const types[] = {
    &t_deposit,      &t_withdraw,  &t_deposited_v1, &t_deposited_v2,
    &t_deposited_v3, &t_withdrawn, &t_post};
static const es_schema_desc schema = {
    ES_ABI_VERSION, "bank", 2, aggs, 0, NULL, 0, NULL, 7, types, NULL, 0};

Test(schema, find_type_by_id_and_version) {
  for (size_t i = 0; i < 7; i++)
    cr_assert_eq(
        es_schema_find_type(&schema, types[i]->type_id, types[i]->version),
        types[i], "entry %zu", i);
  cr_assert_null(es_schema_find_type(&schema, 30, 4));
  cr_assert_null(es_schema_find_type(&schema, 30, 0));
  cr_assert_null(es_schema_find_type(&schema, 0, 1));
  cr_assert_null(es_schema_find_type(&schema, 35, 1));
  cr_assert_null(es_schema_find_type(&schema, UINT64_MAX, 1));
  cr_assert_null(es_schema_find_type(NULL, 10, 1));
}

Test(schema, find_type_in_empty_and_single_tables) {
  static const es_schema_desc empty = {
      ES_ABI_VERSION, "e", 0, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, 0};
  static const es_type_desc *const one[] = {&t_post};
  static const es_schema_desc single = {
      ES_ABI_VERSION, "s", 0, NULL, 0, NULL, 0, NULL, 1, one, NULL, 0};
  cr_assert_null(es_schema_find_type(&empty, 10, 1));
  cr_assert_eq(es_schema_find_type(&single, 50, 1), &t_post);
  cr_assert_null(es_schema_find_type(&single, 49, 1));
  cr_assert_null(es_schema_find_type(&single, 51, 1));
}

Test(schema, find_aggregate_by_name) {
  cr_assert_eq(es_schema_find_aggregate(&schema, "Account"), &account);
  cr_assert_eq(es_schema_find_aggregate(&schema, "Ledger"), &ledger);
  cr_assert_null(es_schema_find_aggregate(&schema, "account"));
  cr_assert_null(es_schema_find_aggregate(&schema, "Acc"));
  cr_assert_null(es_schema_find_aggregate(&schema, ""));
  cr_assert_null(es_schema_find_aggregate(&schema, NULL));
}

Test(schema, find_command_and_event_by_short_or_qualified_name) {
  cr_assert_eq(es_aggregate_find_command(&account, "Deposit"), 0);
  cr_assert_eq(es_aggregate_find_command(&account, "Withdraw"), 1);
  cr_assert_eq(es_aggregate_find_command(&account, "Account.Withdraw"), 1);
  cr_assert_eq(es_aggregate_find_command(&account, "Deposited"), -1);
  cr_assert_eq(es_aggregate_find_command(&account, "Depos"), -1);
  cr_assert_eq(es_aggregate_find_command(&account, "Ledger.Deposit"), -1);
  cr_assert_eq(es_aggregate_find_command(&account, ""), -1);
  cr_assert_eq(es_aggregate_find_command(&account, NULL), -1);
  cr_assert_eq(es_aggregate_find_command(&ledger, "Post"), 0);

  cr_assert_eq(es_aggregate_find_event(&account, "Deposited"), 0);
  cr_assert_eq(es_aggregate_find_event(&account, "Withdrawn"), 1);
  cr_assert_eq(es_aggregate_find_event(&account, "Account.Deposited"), 0);
  cr_assert_eq(es_aggregate_find_event(&account, "Deposit"), -1);
  cr_assert_eq(es_aggregate_find_event(&ledger, "Posted"), -1);
  cr_assert_eq(es_aggregate_find_event(NULL, "Posted"), -1);
}

/* ---- keys ---------------------------------------------------------------- */

Test(key, from_u64_is_decimal) {
  char out[21];
  es_key_from_u64(0, out);
  cr_assert_str_eq(out, "0");
  es_key_from_u64(42, out);
  cr_assert_str_eq(out, "42");
  es_key_from_u64(UINT64_MAX, out);
  cr_assert_str_eq(out, "18446744073709551615");
}

Test(key, from_uuid_is_canonical) {
  char out[37];
  es_key_from_uuid(&sample_uuid, out);
  cr_assert_str_eq(out, "123e4567-e89b-12d3-a456-426614174000");
}
