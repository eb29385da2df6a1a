/*
 * test_saga_ctx.c - es_saga_ctx_* over a hand-written saga that may send
 * Account.Deposit and Ledger.Post, but not Account.Withdraw.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "es/es.h"

typedef struct amount_cmd {
  uint64_t amount;
} amount_cmd;

static void amount_enc(const void *value, es_buf *out, int depth) {
  const amount_cmd *c = value;
  (void)depth;
  es_mp_write_array(out, 1);
  es_mp_write_uint(out, c->amount);
}

static void failing_enc(const void *value, es_buf *out, int depth) {
  (void)value;
  (void)depth;
  es_mp_write_array(out, 2);
  es_buf_fail(out, ES_EBOUND);
}

static const es_type_desc deposit_t = {.magic = ES_TYPE_DESC_MAGIC,
                                       .role = ES_ROLE_COMMAND,
                                       .name = "Account.Deposit",
                                       .enc = amount_enc};
static const es_type_desc withdraw_t = {.magic = ES_TYPE_DESC_MAGIC,
                                        .role = ES_ROLE_COMMAND,
                                        .name = "Account.Withdraw",
                                        .enc = amount_enc};
static const es_type_desc post_t = {.magic = ES_TYPE_DESC_MAGIC,
                                    .role = ES_ROLE_COMMAND,
                                    .name = "Ledger.Post",
                                    .enc = amount_enc};
static const es_type_desc broken_t = {.magic = ES_TYPE_DESC_MAGIC,
                                      .role = ES_ROLE_COMMAND,
                                      .name = "Ledger.Broken",
                                      .enc = failing_enc};

static const es_command_route account_cmds[] = {
    {&deposit_t, NULL, 0, NULL},
    {&withdraw_t, NULL, 0, NULL},
};
static const es_aggregate_desc account = {.name = "Account",
                                          .key_kind = ES_KEY_STRING,
                                          .n_commands = 2,
                                          .commands = account_cmds};
static const es_command_route ledger_cmds[] = {
    {&post_t, NULL, 0, NULL},
    {&broken_t, NULL, 0, NULL},
};
static const es_aggregate_desc ledger = {.name = "Ledger",
                                         .key_kind = ES_KEY_U64,
                                         .n_commands = 2,
                                         .commands = ledger_cmds};
/* Not a target at all (same shape as account, another descriptor). */
static const es_aggregate_desc stranger = {.name = "Account",
                                           .key_kind = ES_KEY_STRING,
                                           .n_commands = 2,
                                           .commands = account_cmds};

static const es_saga_target sends[] = {
    {&account, 0, NULL}, /* Account.Deposit */
    {&ledger, 0, NULL},  /* Ledger.Post */
    {&ledger, 1, NULL},  /* Ledger.Broken */
    {&ledger, 9, NULL},  /* a command index the aggregate lacks */
};
static const es_saga_desc saga = {
    .name = "Transfer", .key_kind = ES_KEY_UUID, .n_sends = 4, .sends = sends};

static es_saga_ctx c;

static void setup(void) { es_saga_ctx_init(&c, &saga); }
static void teardown(void) { es_saga_ctx_close(&c); }

TestSuite(saga, .init = setup, .fini = teardown, .timeout = 10);

Test(saga, init_is_empty_and_close_accepts_null) {
  cr_assert_eq(c.saga, &saga);
  cr_assert_eq(c.n_effects, 0);
  cr_assert(!c.completed);
  cr_assert_eq(c.fault, 0);
  cr_assert_eq(c.payloads.len, 0);
  es_saga_ctx_close(NULL);
}

Test(saga, send_records_target_key_and_payload) {
  amount_cmd a = {300}, b = {7};
  cr_assert_eq(es_saga_send(&c, &account, 0, "acc-1", &a), 0);
  cr_assert_eq(es_saga_send(&c, &ledger, 0, "42", &b), 0);
  cr_assert_eq(c.n_effects, 2);

  const es_effect *e = &c.effects[0];
  cr_assert_eq(e->kind, ES_EFFECT_SEND);
  cr_assert_eq(e->target, 0);
  cr_assert_str_eq(e->key, "acc-1");
  cr_assert_str_eq(e->name, "");
  cr_assert_eq(e->offset, 0);
  cr_assert_eq(e->len, 4);
  static const uint8_t want_a[] = {0x91, 0xcd, 0x01, 0x2c};
  cr_assert_arr_eq(c.payloads.data, want_a, 4);

  e = &c.effects[1];
  cr_assert_eq(e->target, 1);
  cr_assert_str_eq(e->key, "42");
  cr_assert_eq(e->offset, 4);
  cr_assert_eq(e->len, 2);
  static const uint8_t want_b[] = {0x91, 0x07};
  cr_assert_arr_eq(c.payloads.data + 4, want_b, 2);
  cr_assert_eq(c.payloads.len, 6);
  cr_assert_eq(c.fault, 0);
}

Test(saga, send_outside_sends_is_enotsent) {
  amount_cmd a = {1};
  cr_assert_eq(es_saga_send(&c, &account, 1, "k", &a), ES_ENOTSENT,
               "Withdraw is not in sends");
  cr_assert_eq(c.fault, ES_ENOTSENT);
  cr_assert_eq(es_saga_send(&c, &stranger, 0, "k", &a), ES_ENOTSENT,
               "aggregates are matched by descriptor");
  cr_assert_eq(es_saga_send(&c, &ledger, 9, "k", &a), ES_ENOTSENT,
               "listed, but the aggregate has no such command");
  cr_assert_eq(c.n_effects, 0);
  cr_assert_eq(c.payloads.len, 0);
}

Test(saga, key_is_validated) {
  amount_cmd a = {1};
  char key[ES_KEY_MAX + 2];
  cr_assert_eq(es_saga_send(&c, &account, 0, "", &a), ES_EINVAL);
  cr_assert_eq(es_saga_send(&c, &account, 0, NULL, &a), ES_EINVAL);
  cr_assert_eq(es_saga_send(&c, &account, 0, "a\nb", &a), ES_EINVAL);
  cr_assert_eq(es_saga_send(&c, &account, 0, "\xff", &a), ES_EINVAL);
  cr_assert_eq(c.fault, ES_EINVAL);

  memset(key, 'k', ES_KEY_MAX + 1);
  key[ES_KEY_MAX + 1] = '\0';
  cr_assert_eq(es_saga_send(&c, &account, 0, key, &a), ES_EINVAL,
               "ES_KEY_MAX + 1 bytes");
  cr_assert_eq(c.n_effects, 0);

  key[ES_KEY_MAX] = '\0';
  cr_assert_eq(es_saga_send(&c, &account, 0, key, &a), 0, "ES_KEY_MAX bytes");
  cr_assert_eq(c.n_effects, 1);
  cr_assert_eq(strlen(c.effects[0].key), ES_KEY_MAX);
  cr_assert_str_eq(c.effects[0].key, key);
}

Test(saga, send_checks_its_arguments) {
  amount_cmd a = {1};
  cr_assert_eq(es_saga_send(&c, NULL, 0, "k", &a), ES_EINVAL);
  cr_assert_eq(es_saga_send(&c, &account, 0, "k", NULL), ES_EINVAL);
  cr_assert_eq(c.n_effects, 0);
}

Test(saga, encoder_failure_leaves_no_trace) {
  amount_cmd a = {1};
  cr_assert_eq(es_saga_send(&c, &ledger, 0, "1", &a), 0);
  size_t len = c.payloads.len;
  cr_assert_eq(es_saga_send(&c, &ledger, 1, "1", &a), ES_EBOUND);
  cr_assert_eq(c.payloads.len, len);
  cr_assert_eq(c.payloads.err, 0, "the buffer must not stay poisoned");
  cr_assert_eq(c.n_effects, 1);
  cr_assert_eq(c.fault, ES_EBOUND);
  cr_assert_eq(es_saga_send(&c, &ledger, 0, "2", &a), 0);
  cr_assert_eq(c.n_effects, 2);
  cr_assert_eq(c.effects[1].offset, len);
  cr_assert_eq(c.fault, ES_EBOUND, "the first fault stays");
}

/* 3 bytes hold one 2-byte command but not two: writers reserve exactly
 * what they write, so the cap is exact. */
Test(saga, payload_limit_is_etoobig) {
  amount_cmd a = {1};
  c.payloads.max = 3;
  cr_assert_eq(es_saga_send(&c, &ledger, 0, "1", &a), 0);
  cr_assert_eq(es_saga_send(&c, &ledger, 0, "1", &a), ES_ETOOBIG);
  cr_assert_eq(c.n_effects, 1);
  cr_assert_eq(c.payloads.len, 2);
  cr_assert_eq(c.payloads.err, 0);
  cr_assert_eq(c.fault, ES_ETOOBIG);
  /* timers need no payload room */
  cr_assert_eq(es_saga_schedule(&c, "t", 5), 0);
}

Test(saga, schedule_and_cancel) {
  cr_assert_eq(es_saga_schedule(&c, "payment-deadline", 30000000), 0);
  cr_assert_eq(es_saga_schedule(&c, "now", 0), 0);
  cr_assert_eq(es_saga_cancel(&c, "payment-deadline"), 0);
  cr_assert_eq(c.n_effects, 3);
  cr_assert_eq(c.effects[0].kind, ES_EFFECT_SCHEDULE);
  cr_assert_str_eq(c.effects[0].name, "payment-deadline");
  cr_assert_eq(c.effects[0].delay_us, 30000000);
  cr_assert_str_eq(c.effects[0].key, "");
  cr_assert_eq(c.effects[1].delay_us, 0);
  cr_assert_eq(c.effects[2].kind, ES_EFFECT_CANCEL);
  cr_assert_str_eq(c.effects[2].name, "payment-deadline");
  cr_assert_eq(c.payloads.len, 0);
  cr_assert_eq(c.fault, 0);
}

Test(saga, timeout_names_and_delays_are_validated) {
  char name[ES_TIMEOUT_NAME_MAX + 2];
  memset(name, 'n', sizeof name);
  name[ES_TIMEOUT_NAME_MAX + 1] = '\0';
  cr_assert_eq(es_saga_schedule(&c, name, 1), ES_EINVAL);
  cr_assert_eq(es_saga_cancel(&c, name), ES_EINVAL);
  cr_assert_eq(es_saga_schedule(&c, "", 1), ES_EINVAL);
  cr_assert_eq(es_saga_cancel(&c, ""), ES_EINVAL);
  cr_assert_eq(es_saga_schedule(&c, NULL, 1), ES_EINVAL);
  cr_assert_eq(es_saga_cancel(&c, NULL), ES_EINVAL);
  cr_assert_eq(es_saga_schedule(&c, "t", -1), ES_EINVAL);
  cr_assert_eq(es_saga_schedule(&c, "t", INT64_MIN), ES_EINVAL);
  cr_assert_eq(c.n_effects, 0);
  cr_assert_eq(c.fault, ES_EINVAL);

  name[ES_TIMEOUT_NAME_MAX] = '\0';
  cr_assert_eq(es_saga_schedule(&c, name, INT64_MAX), 0);
  cr_assert_str_eq(c.effects[0].name, name);
  cr_assert_eq(c.effects[0].delay_us, INT64_MAX);
}

Test(saga, complete_and_reset) {
  amount_cmd a = {1};
  es_saga_complete(&c);
  cr_assert(c.completed);
  cr_assert_eq(es_saga_send(&c, &account, 0, "k", &a), 0);
  cr_assert_eq(es_saga_cancel(&c, ""), ES_EINVAL);
  uint8_t *data = c.payloads.data;
  es_saga_ctx_reset(&c);
  cr_assert(!c.completed);
  cr_assert_eq(c.n_effects, 0);
  cr_assert_eq(c.payloads.len, 0);
  cr_assert_eq(c.fault, 0);
  cr_assert_eq(c.payloads.data, data, "reset keeps the allocation");
  cr_assert_eq(c.saga, &saga);
}

Test(saga, many_effects_keep_their_order) {
  char key[32];
  for (uint32_t i = 0; i < 500; i++) {
    amount_cmd a = {i};
    es_key_from_u64(i, key);
    cr_assert_eq(es_saga_send(&c, &ledger, 0, key, &a), 0);
    cr_assert_eq(es_saga_schedule(&c, key, i), 0);
  }
  cr_assert_eq(c.n_effects, 1000);
  size_t off = 0;
  for (uint32_t i = 0; i < 500; i++) {
    const es_effect *s = &c.effects[2 * i], *t = &c.effects[2 * i + 1];
    es_key_from_u64(i, key);
    cr_assert_eq(s->kind, ES_EFFECT_SEND);
    cr_assert_str_eq(s->key, key);
    cr_assert_eq(s->offset, off);
    es_mp_reader r;
    uint32_t n;
    uint64_t v;
    es_mp_reader_init(&r, c.payloads.data + s->offset, s->len);
    cr_assert_eq(es_mp_read_array(&r, &n), 0);
    cr_assert_eq(es_mp_read_uint(&r, &v, UINT64_MAX), 0);
    cr_assert_eq(v, i);
    off += s->len;
    cr_assert_eq(t->kind, ES_EFFECT_SCHEDULE);
    cr_assert_str_eq(t->name, key);
    cr_assert_eq(t->delay_us, (int64_t)i);
  }
}
