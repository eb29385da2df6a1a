/*
 * test_decision.c - es_decision_* over a hand-written aggregate: two
 * commands, two events, two errors.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "es/es.h"

TestSuite(decision, .timeout = 10);

/* ---- a hand-written "Account" aggregate ---------------------------------- */

typedef struct deposited {
  uint64_t amount;
} deposited;
typedef struct withdrawn {
  uint64_t amount;
  const char *memo;
} withdrawn;

static void deposited_enc(const void *value, es_buf *out, int depth) {
  const deposited *e = value;
  (void)depth;
  es_mp_write_array(out, 1);
  es_mp_write_uint(out, e->amount);
}

static void withdrawn_enc(const void *value, es_buf *out, int depth) {
  const withdrawn *e = value;
  (void)depth;
  es_mp_write_array(out, 2);
  es_mp_write_uint(out, e->amount);
  es_mp_write_cstr(out, e->memo);
}

/* Writes a few bytes and then fails, like an encoder meeting a bad value. */
static void failing_enc(const void *value, es_buf *out, int depth) {
  (void)value;
  (void)depth;
  es_mp_write_array(out, 3);
  es_mp_write_uint(out, 1);
  es_buf_fail(out, ES_EBOUND);
}

static const es_type_desc deposit_t = {.magic = ES_TYPE_DESC_MAGIC,
                                       .role = ES_ROLE_COMMAND,
                                       .name = "Account.Deposit",
                                       .type_id = 1,
                                       .version = 1};
static const es_type_desc withdraw_t = {.magic = ES_TYPE_DESC_MAGIC,
                                        .role = ES_ROLE_COMMAND,
                                        .name = "Account.Withdraw",
                                        .type_id = 2,
                                        .version = 1};
static const es_type_desc deposited_t = {.magic = ES_TYPE_DESC_MAGIC,
                                         .role = ES_ROLE_EVENT,
                                         .name = "Account.Deposited",
                                         .type_id = 3,
                                         .version = 1,
                                         .size = sizeof(deposited),
                                         .enc = deposited_enc};
static const es_type_desc withdrawn_t = {.magic = ES_TYPE_DESC_MAGIC,
                                         .role = ES_ROLE_EVENT,
                                         .name = "Account.Withdrawn",
                                         .type_id = 4,
                                         .version = 1,
                                         .size = sizeof(withdrawn),
                                         .enc = withdrawn_enc};
/* Same name as Deposited but another descriptor: must not pass for it. */
static const es_type_desc impostor_t = {.magic = ES_TYPE_DESC_MAGIC,
                                        .role = ES_ROLE_EVENT,
                                        .name = "Account.Deposited",
                                        .type_id = 3,
                                        .version = 1,
                                        .size = sizeof(deposited),
                                        .enc = deposited_enc};
/* Listed as emittable by Withdraw, but its encoder fails. */
static const es_type_desc broken_t = {.magic = ES_TYPE_DESC_MAGIC,
                                      .role = ES_ROLE_EVENT,
                                      .name = "Account.Broken",
                                      .type_id = 5,
                                      .version = 1,
                                      .enc = failing_enc};

static const uint32_t deposit_emits[] = {0};
static const uint32_t withdraw_emits[] = {1, 2};
static const es_command_route commands[] = {
    {&deposit_t, NULL, 1, deposit_emits},
    {&withdraw_t, NULL, 2, withdraw_emits},
};
static const es_event_route events[] = {
    {&deposited_t, NULL, 0, NULL, 0, NULL},
    {&withdrawn_t, NULL, 0, NULL, 0, NULL},
    {&broken_t, NULL, 0, NULL, 0, NULL},
};
static const char *const errors[] = {"InsufficientFunds", "AccountClosed"};
static const es_aggregate_desc account = {.name = "Account",
                                          .key_kind = ES_KEY_STRING,
                                          .n_commands = 2,
                                          .commands = commands,
                                          .n_events = 3,
                                          .events = events,
                                          .n_errors = 2,
                                          .errors = errors};

enum { DEPOSIT, WITHDRAW };

static es_decision d;

static void setup(void) { es_decision_init(&d, &account, DEPOSIT); }
static void teardown(void) { es_decision_close(&d); }

TestSuite(emit, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(reject, .init = setup, .fini = teardown, .timeout = 10);

Test(decision, init_is_empty) {
  es_decision x;
  memset(&x, 0xa5, sizeof x);
  es_decision_init(&x, &account, WITHDRAW);
  cr_assert_eq(x.aggregate, &account);
  cr_assert_eq(x.command, WITHDRAW);
  cr_assert_eq(x.n_emitted, 0);
  cr_assert_eq(x.error, 0);
  cr_assert_eq(x.fault, 0);
  cr_assert_str_eq(x.message, "");
  cr_assert_eq(x.payloads.len, 0);
  cr_assert_null(es_decision_error_name(&x));
  es_decision_close(&x);
  es_decision_close(&x); /* twice is fine */
  es_decision_close(NULL);
}

Test(emit, allowed_event_is_encoded_and_recorded) {
  deposited e = {250};
  cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), 0);
  cr_assert_eq(d.n_emitted, 1);
  cr_assert_eq(d.emitted[0].type, &deposited_t);
  cr_assert_eq(d.emitted[0].offset, 0);
  cr_assert_eq(d.emitted[0].len, 3);
  static const uint8_t want[] = {0x91, 0xcc, 250};
  cr_assert_arr_eq(d.payloads.data, want, 3);
  cr_assert_eq(d.fault, 0);
  cr_assert_eq(d.error, 0);
}

Test(emit, payloads_lie_back_to_back) {
  es_decision_reset(&d, WITHDRAW);
  withdrawn w = {5, "rent"};
  deposited e = {7};
  /* Withdraw may emit Withdrawn (index 1) */
  cr_assert_eq(es_decision_emit(&d, &withdrawn_t, &w), 0);
  cr_assert_eq(es_decision_emit(&d, &withdrawn_t, &w), 0);
  cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), ES_ENOTEMITTED);
  cr_assert_eq(d.n_emitted, 2);
  cr_assert_eq(d.emitted[0].offset, 0);
  cr_assert_eq(d.emitted[1].offset, d.emitted[0].len);
  cr_assert_eq(d.payloads.len, d.emitted[0].len + d.emitted[1].len);

  es_mp_reader r;
  uint32_t n;
  uint64_t amount;
  const char *memo;
  uint32_t memo_len;
  es_mp_reader_init(&r, d.payloads.data + d.emitted[1].offset,
                    d.emitted[1].len);
  cr_assert_eq(es_mp_read_array(&r, &n), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(es_mp_read_uint(&r, &amount, UINT64_MAX), 0);
  cr_assert_eq(amount, 5);
  cr_assert_eq(es_mp_read_str(&r, &memo, &memo_len), 0);
  cr_assert_eq(memo_len, 4);
  cr_assert_eq(memcmp(memo, "rent", 4), 0);
  cr_assert_eq(es_mp_remaining(&r), 0);
}

Test(emit, disallowed_event_is_refused_and_leaves_no_trace) {
  withdrawn w = {5, "x"};
  deposited e = {1};
  cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), 0);
  size_t len = d.payloads.len;
  cr_assert_eq(es_decision_emit(&d, &withdrawn_t, &w), ES_ENOTEMITTED);
  cr_assert_eq(d.n_emitted, 1);
  cr_assert_eq(d.payloads.len, len);
  cr_assert_eq(d.fault, ES_ENOTEMITTED);
}

Test(emit, same_name_other_descriptor_is_refused) {
  deposited e = {1};
  cr_assert_eq(es_decision_emit(&d, &impostor_t, &e), ES_ENOTEMITTED);
  cr_assert_eq(d.n_emitted, 0);
}

Test(emit, encoder_failure_is_rolled_back_and_kept_as_fault) {
  es_decision_reset(&d, WITHDRAW);
  withdrawn w = {9, "ok"};
  cr_assert_eq(es_decision_emit(&d, &withdrawn_t, &w), 0);
  size_t len = d.payloads.len;
  cr_assert_eq(es_decision_emit(&d, &broken_t, &w), ES_EBOUND);
  cr_assert_eq(d.payloads.len, len, "partial event bytes left behind");
  cr_assert_eq(d.payloads.err, 0, "the buffer must not stay poisoned");
  cr_assert_eq(d.n_emitted, 1);
  cr_assert_eq(d.fault, ES_EBOUND);
  /* later emits still work; the fault stays */
  cr_assert_eq(es_decision_emit(&d, &withdrawn_t, &w), 0);
  cr_assert_eq(d.n_emitted, 2);
  cr_assert_eq(d.emitted[1].offset, len);
  cr_assert_eq(d.fault, ES_EBOUND);
}

Test(emit, first_fault_wins) {
  deposited e = {1};
  withdrawn w = {1, "x"};
  cr_assert_eq(es_decision_emit(&d, &withdrawn_t, &w), ES_ENOTEMITTED);
  cr_assert_eq(es_decision_reject(&d, 0, "bad code"), ES_EINVAL);
  cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), 0);
  cr_assert_eq(d.fault, ES_ENOTEMITTED);
}

/* Writers reserve exactly what they write, so 5 bytes of room hold one
 * 3-byte event but not two. */
Test(emit, payload_limit_is_etoobig) {
  d.payloads.max = 5;
  deposited e = {250}; /* 3 bytes */
  cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), 0);
  cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), ES_ETOOBIG);
  cr_assert_eq(d.n_emitted, 1);
  cr_assert_eq(d.payloads.len, 3);
  cr_assert_eq(d.payloads.err, 0);
  cr_assert_eq(d.fault, ES_ETOOBIG);
  cr_assert_eq(es_decision_reject(&d, 1, "too much"), ES_EREJECTED);
  cr_assert_eq(d.fault, ES_ETOOBIG);
}

Test(emit, many_events_grow_the_table) {
  for (uint32_t i = 0; i < 1000; i++) {
    deposited e = {i};
    cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), 0, "event %u", i);
  }
  cr_assert_eq(d.n_emitted, 1000);
  cr_assert_geq(d.cap_emitted, 1000);
  size_t off = 0;
  for (uint32_t i = 0; i < 1000; i++) {
    es_mp_reader r;
    uint32_t n;
    uint64_t v;
    cr_assert_eq(d.emitted[i].offset, off);
    es_mp_reader_init(&r, d.payloads.data + off, d.emitted[i].len);
    cr_assert_eq(es_mp_read_array(&r, &n), 0);
    cr_assert_eq(es_mp_read_uint(&r, &v, UINT64_MAX), 0);
    cr_assert_eq(v, i);
    off += d.emitted[i].len;
  }
  cr_assert_eq(off, d.payloads.len);
}

Test(emit, invalid_arguments) {
  deposited e = {1};
  cr_assert_eq(es_decision_emit(&d, NULL, &e), ES_EINVAL);
  cr_assert_eq(es_decision_emit(&d, &deposited_t, NULL), ES_EINVAL);
  es_decision_reset(&d, 7); /* no such command */
  cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), ES_ENOTEMITTED);
}

Test(emit, reset_forgets_everything_but_keeps_memory) {
  deposited e = {1};
  cr_assert_eq(es_decision_emit(&d, &deposited_t, &e), 0);
  cr_assert_eq(es_decision_emit(&d, &withdrawn_t, &e), ES_ENOTEMITTED);
  es_decision_reject(&d, 1, "no");
  uint8_t *data = d.payloads.data;
  es_emitted *table = d.emitted;
  es_decision_reset(&d, WITHDRAW);
  cr_assert_eq(d.command, WITHDRAW);
  cr_assert_eq(d.n_emitted, 0);
  cr_assert_eq(d.payloads.len, 0);
  cr_assert_eq(d.error, 0);
  cr_assert_eq(d.fault, 0);
  cr_assert_str_eq(d.message, "");
  cr_assert_eq(d.payloads.data, data);
  cr_assert_eq(d.emitted, table);
  withdrawn w = {1, ""};
  cr_assert_eq(es_decision_emit(&d, &withdrawn_t, &w), 0);
}

/* ---- reject -------------------------------------------------------------- */

Test(reject, records_code_name_and_message) {
  cr_assert_eq(es_decision_reject(&d, 1, "balance is 10, asked 20"),
               ES_EREJECTED);
  cr_assert_eq(d.error, 1);
  cr_assert_str_eq(d.message, "balance is 10, asked 20");
  cr_assert_str_eq(es_decision_error_name(&d), "InsufficientFunds");
  cr_assert_eq(d.fault, 0, "a rejection is a result, not a fault");

  es_decision_reset(&d, DEPOSIT);
  cr_assert_eq(es_decision_reject(&d, 2, NULL), ES_EREJECTED);
  cr_assert_str_eq(d.message, "");
  cr_assert_str_eq(es_decision_error_name(&d), "AccountClosed");
}

Test(reject, code_out_of_range_is_einval) {
  cr_assert_eq(es_decision_reject(&d, 0, "x"), ES_EINVAL);
  cr_assert_eq(d.error, 0);
  cr_assert_eq(d.fault, ES_EINVAL);
  cr_assert_eq(es_decision_reject(&d, 3, "x"), ES_EINVAL);
  cr_assert_eq(es_decision_reject(&d, UINT32_MAX, "x"), ES_EINVAL);
  cr_assert_eq(d.error, 0);
  cr_assert_str_eq(d.message, "");
  cr_assert_null(es_decision_error_name(&d));
}

Test(reject, first_rejection_stands) {
  cr_assert_eq(es_decision_reject(&d, 2, "closed"), ES_EREJECTED);
  cr_assert_eq(es_decision_reject(&d, 1, "poor"), ES_EREJECTED);
  cr_assert_eq(d.error, 2);
  cr_assert_str_eq(d.message, "closed");
}

Test(reject, long_message_is_cut) {
  char msg[600];
  memset(msg, 'm', sizeof msg - 1);
  msg[sizeof msg - 1] = '\0';
  cr_assert_eq(es_decision_reject(&d, 1, msg), ES_EREJECTED);
  cr_assert_eq(strlen(d.message), ES_MESSAGE_MAX - 1);
  cr_assert_eq(memcmp(d.message, msg, ES_MESSAGE_MAX - 1), 0);

  /* exactly ES_MESSAGE_MAX - 1 fits whole */
  es_decision_reset(&d, DEPOSIT);
  msg[ES_MESSAGE_MAX - 1] = '\0';
  cr_assert_eq(es_decision_reject(&d, 1, msg), ES_EREJECTED);
  cr_assert_str_eq(d.message, msg);
}

Test(reject, cut_does_not_split_a_utf8_character) {
  /* 254 ASCII bytes, then a 3-byte character straddling the 255 limit */
  char msg[300];
  memset(msg, 'a', 254);
  memcpy(msg + 254, "\xe2\x82\xac", 3);
  memcpy(msg + 257, "tail", 5);
  cr_assert_eq(es_decision_reject(&d, 1, msg), ES_EREJECTED);
  cr_assert_eq(strlen(d.message), 254);

  /* a 2-byte character that ends exactly at the limit is kept */
  es_decision_reset(&d, DEPOSIT);
  memset(msg, 'a', 253);
  memcpy(msg + 253, "\xc3\xa9zz", 5);
  cr_assert_eq(es_decision_reject(&d, 1, msg), ES_EREJECTED);
  cr_assert_eq(strlen(d.message), 255);
  cr_assert_eq(memcmp(d.message + 253, "\xc3\xa9", 2), 0);
}
