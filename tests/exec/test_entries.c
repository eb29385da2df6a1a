/*
 * test_entries.c - every execute entry (typed, value, msgpack) checks a
 * command against the schema and its key against the key rule before
 * decide runs, refuses the same inputs, stores nothing for them, and says
 * in es_result.message what was wrong; the store's appends apply the same
 * key rule; a load that fails names the event and the field.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "es/es_mp.h"
#include "exec_support.h"

static es_store *store;
static es_app *app;

static void setup(void) {
  cr_assert_eq(es_store_open_memory(&store, NULL), 0);
  app = ex_app(store, NULL);
}

static void teardown(void) {
  es_app_close(app);
  es_store_close(store);
}

TestSuite(entries, .init = setup, .fini = teardown);

/* A string of `n` copies of 'x' (the caller frees it). */
static char *text_of(size_t n) {
  char *s = malloc(n + 1);
  cr_assert(s);
  memset(s, 'x', n);
  s[n] = '\0';
  return s;
}

/* Executes Open through the msgpack entry with `owner`. */
static int open_msgpack(const char *key, const char *owner, es_result *r) {
  es_buf b;
  int rc;
  es_buf_init(&b, 0);
  es_mp_write_array(&b, 2);
  es_mp_write_cstr(&b, owner);
  es_mp_write_int(&b, 5);
  cr_assert_eq(b.err, 0);
  rc = es_app_execute(app, "Account", key, "Open", b.data, b.len, NULL, r);
  es_buf_close(&b);
  return rc;
}

static int open_typed(const char *key, const char *owner, es_result *r) {
  ledger_account_open c = {.owner = owner, .initial = 5};
  return ledger_account_execute_open(app, key, &c, NULL, r);
}

/* ---- bounds ------------------------------------------------------------- */

Test(entries, a_string_over_its_max_is_refused_at_every_entry_naming_it) {
  char *ok = text_of(200), *big = text_of(201);
  const char *want = "field 'owner' of command 'Account.Open': 201 bytes, "
                     "max 200";
  es_result r;

  cr_assert_eq(open_typed("a", big, &r), ES_EBOUND, "typed entry");
  cr_assert_eq(r.rc, ES_EBOUND);
  cr_assert_eq(r.outcome, ES_OUTCOME_FAILED);
  cr_assert_str_eq(r.message, want);
  cr_assert_eq(open_msgpack("a", big, &r), ES_EBOUND, "msgpack entry");
  cr_assert_str_eq(r.message, want);
  cr_assert_eq(ex_head(store), 0, "nothing stored");
  cr_assert_eq(ledger_decide_calls(), 0, "decide never ran");
  cr_assert_eq(open_typed("a", ok, &r), 0, "exactly the max");
  cr_assert_str_eq(r.message, "");
  cr_assert_eq(ex_head(store), 1);
  free(ok);
  free(big);
}

Test(entries, a_list_over_its_max_and_a_bad_enum_are_refused) {
  int64_t amounts[65] = {0};
  ledger_account_split split = {.amounts = {amounts, 65}};
  ledger_badge_grant grant = {.level = (ledger_level)7};
  es_uuid badge;
  es_result r;

  cr_assert_eq(ex_open(app, "a", 0), 0);
  cr_assert_eq(ledger_account_execute_split(app, "a", &split, NULL, &r),
               ES_EBOUND);
  cr_assert_str_eq(r.message, "field 'amounts' of command 'Account.Split': "
                              "65 items, max 64");
  split.amounts.items = NULL;
  split.amounts.count = 2;
  cr_assert_eq(ledger_account_execute_split(app, "a", &split, NULL, &r),
               ES_EINVAL);
  cr_assert_str_eq(r.message, "field 'amounts' of command 'Account.Split': "
                              "2 items and a NULL items pointer");
  memset(&badge, 0x5a, sizeof badge);
  cr_assert_eq(ledger_badge_execute_grant(app, &badge, &grant, NULL, &r),
               ES_EENUM);
  cr_assert_str_eq(r.message, "field 'level' of command 'Badge.Grant': 7 is "
                              "not a value of enum 'Level' (0 .. 1)");
  cr_assert_eq(ex_head(store), 1);
}

Test(entries, bytes_over_their_max_are_refused_by_the_msgpack_entry_too) {
  ledger_slot_fill fill = {.note = {(const uint8_t *)"12345", 5}};
  es_buf b;
  es_result r;

  cr_assert_eq(ledger_slot_execute_fill(app, 9, &fill, NULL, &r), ES_EBOUND);
  cr_assert_str_eq(r.message,
                   "field 'note' of command 'Slot.Fill': 5 bytes, max 4");
  es_buf_init(&b, 0);
  es_mp_write_array(&b, 1);
  es_mp_write_bin(&b, "12345", 5);
  cr_assert_eq(
      es_app_execute(app, "Slot", "9", "Fill", b.data, b.len, NULL, &r),
      ES_EBOUND);
  cr_assert_str_eq(r.message,
                   "field 'note' of command 'Slot.Fill': 5 bytes, max 4");
  es_buf_clear(&b);
  es_mp_write_array(&b, 0);
  cr_assert_eq(
      es_app_execute(app, "Slot", "9", "Fill", b.data, b.len, NULL, &r),
      ES_EMISSING);
  cr_assert_str_eq(r.message, "field 'note' of command 'Slot.Fill': missing "
                              "(0 of 1 fields given)");
  es_buf_clear(&b);
  es_mp_write_array(&b, 1);
  es_mp_write_cstr(&b, "text");
  cr_assert_eq(
      es_app_execute(app, "Slot", "9", "Fill", b.data, b.len, NULL, &r),
      ES_ETYPE);
  cr_assert_str_eq(r.message, "field 'note' of command 'Slot.Fill': msgpack "
                              "value has the wrong type");
  es_buf_close(&b);
  cr_assert_eq(ex_head(store), 0);
}

/* ---- which aggregate ---------------------------------------------------- */

Test(entries, a_descriptor_the_app_was_not_opened_with_is_refused) {
  es_aggregate_desc other = ledger_account_aggregate; /* same shape */
  ledger_account_open c = {.owner = "ann", .initial = 1};
  es_result r;
  cr_assert_eq(es_app_execute_value(app, &other, 0, "a", &c, NULL, &r),
               ES_EUNKNOWN);
  cr_assert_str_eq(r.message, "aggregate 'Account' is not one of schema "
                              "'ledger', which the app was opened with");
  cr_assert_eq(es_app_read_state(app, &other, "a", ex_account_fn, NULL),
               ES_EUNKNOWN);
  cr_assert_eq(ex_head(store), 0);
  cr_assert_eq(es_app_execute_value(app, &ledger_account_aggregate, 99, "a", &c,
                                    NULL, &r),
               ES_EINVAL);
  cr_assert_str_eq(r.message, "aggregate 'Account' has no command number 99");
  cr_assert_eq(es_app_execute(app, "Acount", "a", "Open", "", 0, NULL, &r),
               ES_EUNKNOWN);
  cr_assert_str_eq(r.message, "schema 'ledger' has no aggregate 'Acount'");
  cr_assert_eq(es_app_execute(app, "Account", "a", "Opn", "", 0, NULL, &r),
               ES_EUNKNOWN);
  cr_assert_str_eq(r.message, "aggregate 'Account' has no command 'Opn'");
}

/* ---- keys ---------------------------------------------------------------- */

/* The key is refused by both entries with the same reason. */
static void refused(const char *key, const char *why) {
  es_result r;
  cr_assert_eq(open_typed(key, "ann", &r), ES_EINVAL, "typed: %s", why);
  cr_assert_str_eq(r.message, why);
  cr_assert_eq(open_msgpack(key, "ann", &r), ES_EINVAL, "msgpack: %s", why);
  cr_assert_str_eq(r.message, why);
}

Test(entries, keys_that_break_the_rule_are_refused_saying_why) {
  char *long_key = text_of(ES_KEY_MAX + 1);
  refused(NULL, "aggregate 'Account': no key (NULL)");
  refused("", "aggregate 'Account': empty key");
  refused(long_key, "aggregate 'Account': key longer than 255 bytes in key "
                    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
  refused("a\nb", "aggregate 'Account': control character at byte 1 "
                  "(U+000A) in key 'a\\x0ab'");
  refused("a\x7f", "aggregate 'Account': control character at byte 1 "
                   "(U+007F) in key 'a\\x7f'");
  refused("\xc2\x85", "aggregate 'Account': control character at byte 0 "
                      "(U+0085) in key '\\xc2\\x85'");
  refused("ab\xff", "aggregate 'Account': invalid UTF-8 at byte 2 (0xff) in "
                    "key 'ab\\xff'");
  refused("\xc0\xaf", "aggregate 'Account': invalid UTF-8 at byte 0 (0xc0) "
                      "in key '\\xc0\\xaf'"); /* overlong '/' */
  refused("\xed\xa0\x80", "aggregate 'Account': invalid UTF-8 at byte 0 "
                          "(0xed) in key '\\xed\\xa0\\x80'"); /* surrogate */
  refused("x\xe2\x82", "aggregate 'Account': invalid UTF-8 at byte 1 (0xe2) "
                       "in key 'x\\xe2\\x82'"); /* cut short */
  cr_assert_eq(ex_head(store), 0);
  free(long_key);
}

Test(entries, slashes_dots_spaces_and_any_script_are_legal_keys) {
  const char *keys[] = {"a/b",
                        "../..",
                        "/",
                        "two words",
                        "caf\xc3\xa9",
                        "\xe2\x82\xac 5",
                        "\xf0\x9f\x8d\xb3",
                        "a\\b'c\""};
  char *longest = text_of(ES_KEY_MAX);
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    cr_assert_eq(open_typed(keys[i], "ann", NULL), 0, "%s", keys[i]);
    cr_assert_eq(ex_version(store, "Account", keys[i]), 1);
  }
  cr_assert_eq(open_msgpack(longest, "ann", NULL), 0);
  cr_assert_eq(ex_read(app, "a/b").version, 1);
  free(longest);
}

Test(entries, u64_and_uuid_keys_must_be_canonical) {
  const char *bad_u64[] = {
      "not-a-number",         "0042", "+42", "-1", " 42", "42 ", "4 2",
      "18446744073709551616", "0x2a", "00"};
  const char *bad_uuid[] = {"not-a-uuid",
                            "0123456789ABCDEF0123456789abcdef",
                            "01234567-89AB-CDEF-0123-456789ABCDEF",
                            "01234567-89ab-cdef-0123-456789abcde",
                            "01234567-89ab-cdef-0123-456789abcdef0",
                            "0123456789-ab-cdef-0123-456789abcdef",
                            "{01234567-89ab-cdef-0123-456789abcdef}"};
  es_buf b;
  es_result r;
  char want[256];

  es_buf_init(&b, 0);
  es_mp_write_array(&b, 1);
  es_mp_write_bin(&b, "n", 1);
  for (size_t i = 0; i < sizeof bad_u64 / sizeof *bad_u64; i++) {
    cr_assert_eq(es_app_execute(app, "Slot", bad_u64[i], "Fill", b.data, b.len,
                                NULL, &r),
                 ES_EINVAL, "%s", bad_u64[i]);
    snprintf(want, sizeof want,
             "aggregate 'Slot' (key u64): key '%s' is not a u64 in canonical "
             "form (decimal digits, no sign or leading zero, at most "
             "18446744073709551615)",
             bad_u64[i]);
    cr_assert_str_eq(r.message, want);
  }
  cr_assert_eq(
      es_app_execute(app, "Slot", "0", "Fill", b.data, b.len, NULL, &r), 0);
  cr_assert_eq(es_app_execute(app, "Slot", "18446744073709551615", "Fill",
                              b.data, b.len, NULL, &r),
               0);
  es_buf_clear(&b);
  es_mp_write_array(&b, 1);
  es_mp_write_uint(&b, 1);
  for (size_t i = 0; i < sizeof bad_uuid / sizeof *bad_uuid; i++) {
    cr_assert_eq(es_app_execute(app, "Badge", bad_uuid[i], "Grant", b.data,
                                b.len, NULL, &r),
                 ES_EINVAL, "%s", bad_uuid[i]);
    cr_assert(strstr(r.message, "is not a uuid in canonical form (36 "
                                "characters, lowercase 8-4-4-4-12 hex)"),
              "%s", r.message);
  }
  cr_assert_eq(es_app_execute(app, "Badge",
                              "01234567-89ab-cdef-0123-456789abcdef", "Grant",
                              b.data, b.len, NULL, &r),
               0);
  es_buf_close(&b);
  cr_assert_eq(ex_head(store), 3);
  cr_assert_eq(es_app_read_state(app, &ledger_slot_aggregate, "0042",
                                 ex_account_fn, NULL),
               ES_EINVAL, "reads take the same keys");
  cr_assert_eq(es_app_read_state(app, &ledger_account_aggregate, "a\tb",
                                 ex_account_fn, NULL),
               ES_EINVAL);
  /* the typed entries write exactly these forms */
  {
    ledger_slot_fill fill = {.note = {(const uint8_t *)"n", 1}};
    es_uuid u;
    ledger_badge_grant grant = {.level = LEDGER_LEVEL_LOW};
    cr_assert_eq(ledger_slot_execute_fill(app, 0, &fill, NULL, &r), 0);
    cr_assert_eq(r.version, 2, "the same stream as \"0\"");
    cr_assert_eq(es_uuid_parse(&u, "01234567-89ab-cdef-0123-456789abcdef"), 0);
    cr_assert_eq(ledger_badge_execute_grant(app, &u, &grant, NULL, &r), 0);
    cr_assert_eq(r.version, 2);
  }
}

Test(entries, the_store_applies_the_same_key_rule_to_appends) {
  es_new_event e;
  es_snapshot_info info = {1, 2};
  char *longest = text_of(ES_KEY_MAX);
  const char *bad[] = {"", "a\tb", "\xff", "\xe0\x80\x80"};
  memset(&e, 0, sizeof e);
  e.type_id = 1;
  e.type_version = 1;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char why[96] = "unchanged";
    cr_assert_eq(
        es_store_append_one(store, "T", bad[i], es_expect_any(), &e, 1, NULL),
        ES_EINVAL, "%zu", i);
    cr_assert_eq(es_store_snapshot_put(store, "T", bad[i], &info, "x", 1),
                 ES_EINVAL);
    cr_assert_eq(es_key_check(bad[i], why, sizeof why), ES_EINVAL);
    cr_assert_neq(strcmp(why, "unchanged"), 0);
    cr_assert_neq(why[0], '\0');
  }
  cr_assert_eq(es_key_check(NULL, NULL, 0), ES_EINVAL);
  cr_assert_eq(
      es_store_append_one(store, "T", "a/b", es_expect_any(), &e, 1, NULL), 0);
  cr_assert_eq(
      es_store_append_one(store, "T", longest, es_expect_any(), &e, 1, NULL),
      0);
  cr_assert_eq(ex_head(store), 2);
  free(longest);
}

/* ---- loading ------------------------------------------------------------- */

Test(entries, a_load_that_fails_names_the_event_its_version_and_the_field) {
  es_buf b;
  es_new_event e;
  es_result r;
  es_buf_init(&b, 0);
  es_mp_write_array(&b, 1); /* Opened without `initial` */
  es_mp_write_cstr(&b, "ann");
  memset(&e, 0, sizeof e);
  e.type_id = LEDGER_ACCOUNT_OPENED_TYPE_ID;
  e.type_version = 1;
  e.payload = b.data;
  e.len = b.len;
  cr_assert_eq(
      es_store_append_one(store, "Account", "a", es_expect_any(), &e, 1, NULL),
      0);
  cr_assert_eq(ex_deposit(app, "a", 5, NULL, &r), ES_EMISSING);
  cr_assert_str_eq(r.message,
                   "cannot load Account 'a': its event 1 (position 1, type "
                   "version 1): field 'initial' of event 'Account.Opened': "
                   "missing (1 of 2 fields given)");
  es_buf_close(&b);
}
