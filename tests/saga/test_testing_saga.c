/*
 * test_testing_saga.c - the saga test helper (es_testing_saga.h) on the
 * bank's MoneyTransfer saga (schemas/bank.es, examples/bank/bank.stubs.c):
 * the happy path, a rejected withdrawal, a rejected deposit and its
 * refund, giving up before and after the withdrawal (and a withdrawal that
 * comes after giving up), then the helper's own contract: messages with
 * JSON, claims, sticky setup errors, bad arguments.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "bank_app.h"
#include "es/es_testing_saga.h"

#define MINUTE INT64_C(60000000)
#define CHECK(t, c) ES_SAGA_TEST_CR_ASSERT(t, c)

static es_saga_test *t;

static void setup(void) {
  t = es_saga_test_new(&bank_schema, &bank_money_transfer_saga);
  cr_assert(t);
}
static void teardown(void) { es_saga_test_free(t); }

TestSuite(testing_saga, .init = setup, .fini = teardown);

/* ---- the bank's values ----------------------------------------------------
 */

static int started(const char *id, const char *from, const char *to,
                   int64_t amount) {
  bank_transfer_started ev;
  bank_transfer_started_init(&ev);
  ev.from = from;
  ev.to = to;
  ev.amount = amount;
  return es_saga_test_given(t, "Transfer", id, &bank_transfer_started_desc,
                            &ev);
}

static int withdrawn(const char *account, const char *transfer,
                     int64_t amount) {
  bank_account_withdrawn ev;
  bank_account_withdrawn_init(&ev);
  ev.amount = amount;
  ev.has_transfer = transfer != NULL;
  ev.transfer = transfer;
  return es_saga_test_given(t, "Account", account, &bank_account_withdrawn_desc,
                            &ev);
}

static int deposited(const char *account, const char *transfer,
                     int64_t amount) {
  bank_account_deposited ev;
  bank_account_deposited_init(&ev);
  ev.amount = amount;
  ev.has_transfer = transfer != NULL;
  ev.transfer = transfer;
  return es_saga_test_given(t, "Account", account, &bank_account_deposited_desc,
                            &ev);
}

static bool sent_withdraw(const char *account, const char *transfer,
                          int64_t amount) {
  bank_account_withdraw c;
  bank_account_withdraw_init(&c);
  c.amount = amount;
  c.has_transfer = true;
  c.transfer = transfer;
  return es_saga_test_then_sent(t, &bank_account_aggregate, account,
                                &bank_account_withdraw_desc, &c);
}

/* transfer NULL: an untagged deposit (a refund). */
static bool sent_deposit(const char *account, const char *transfer,
                         int64_t amount) {
  bank_account_deposit c;
  bank_account_deposit_init(&c);
  c.amount = amount;
  c.has_transfer = transfer != NULL;
  c.transfer = transfer;
  return es_saga_test_then_sent(t, &bank_account_aggregate, account,
                                &bank_account_deposit_desc, &c);
}

static bool sent_complete(const char *transfer) {
  bank_transfer_complete c;
  bank_transfer_complete_init(&c);
  return es_saga_test_then_sent(t, &bank_transfer_aggregate, transfer,
                                &bank_transfer_complete_desc, &c);
}

static bool sent_fail(const char *transfer, const char *reason) {
  bank_transfer_fail c;
  bank_transfer_fail_init(&c);
  c.reason = reason;
  return es_saga_test_then_sent(t, &bank_transfer_aggregate, transfer,
                                &bank_transfer_fail_desc, &c);
}

/* ---- the saga's behaviour -------------------------------------------------
 */

Test(testing_saga, happy_path) {
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  CHECK(t, sent_withdraw("acc-1", "t-1", 30));
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  CHECK(t, es_saga_test_then_scheduled(t, BANK_TRANSFER_TIMEOUT));
  CHECK(t, es_saga_test_then_not_completed(t));
  cr_assert_str_eq(es_saga_test_instance(t), "t-1");

  cr_assert_eq(withdrawn("acc-1", "t-1", 30), 0);
  CHECK(t, sent_deposit("acc-2", "t-1", 30));
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  {
    const bank_money_transfer_state *s = es_saga_test_state(t);
    cr_assert(s, "%s", es_saga_test_message(t));
    cr_assert(s->withdrawn);
    cr_assert_str_eq(s->to, "acc-2");
  }

  cr_assert_eq(deposited("acc-2", "t-1", 30), 0);
  CHECK(t, sent_complete("t-1"));
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  CHECK(t, es_saga_test_then_not_scheduled(t, BANK_TRANSFER_TIMEOUT));
  CHECK(t, es_saga_test_then_completed(t));
  cr_assert_eq(es_saga_test_report(t)->completed, 1);

  /* Nothing fires later: completion dropped the timeout. */
  cr_assert_eq(es_saga_test_advance(t, 10 * 60 * MINUTE), 0);
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  cr_assert_eq(es_saga_test_report(t)->timeouts_fired, 0);
}

Test(testing_saga, rejected_withdraw_fails_the_transfer) {
  cr_assert_eq(es_saga_test_reject(t, &bank_account_aggregate, "acc-1",
                                   &bank_account_withdraw_desc,
                                   "InsufficientFunds"),
               0);
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 500), 0);
  CHECK(t, sent_withdraw("acc-1", "t-1", 500));
  CHECK(t, sent_fail("t-1", "InsufficientFunds"));
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  CHECK(t, es_saga_test_then_completed(t));
  CHECK(t, es_saga_test_then_not_scheduled(t, BANK_TRANSFER_TIMEOUT));
  cr_assert_eq(es_saga_test_report(t)->rejections, 1);
}

Test(testing_saga, rejected_deposit_is_refunded) {
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  CHECK(t, sent_withdraw("acc-1", "t-1", 30));
  /* acc-2 turns out to be closed. */
  cr_assert_eq(es_saga_test_reject(t, &bank_account_aggregate, "acc-2",
                                   &bank_account_deposit_desc, "NotOpen"),
               0);
  cr_assert_eq(withdrawn("acc-1", "t-1", 30), 0);
  CHECK(t, sent_deposit("acc-2", "t-1", 30)); /* rejected ... */
  CHECK(t, sent_deposit("acc-1", NULL, 30));  /* ... so: the refund */
  CHECK(t, sent_fail("t-1", "NotOpen"));
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  CHECK(t, es_saga_test_then_completed(t));
  CHECK(t, es_saga_test_then_not_scheduled(t, BANK_TRANSFER_TIMEOUT));
}

Test(testing_saga, timeout_before_the_withdrawal_fails_and_waits) {
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  CHECK(t, sent_withdraw("acc-1", "t-1", 30));

  /* 59 minutes: nothing yet. */
  cr_assert_eq(es_saga_test_advance(t, 59 * MINUTE), 0);
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  CHECK(t, es_saga_test_then_scheduled(t, BANK_TRANSFER_TIMEOUT));

  /* The hour is up: the transfer fails; the saga stays open, because the
   * withdrawal may still come (a dead-lettered Withdraw re-dispatched). */
  cr_assert_eq(es_saga_test_advance(t, MINUTE), 0);
  cr_assert_eq(es_saga_test_report(t)->timeouts_fired, 1);
  CHECK(t, sent_fail("t-1", BANK_TRANSFER_TIMED_OUT));
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  CHECK(t, es_saga_test_then_not_scheduled(t, BANK_TRANSFER_TIMEOUT));
  CHECK(t, es_saga_test_then_not_completed(t));

  /* It comes: refunded, never deposited to acc-2. */
  cr_assert_eq(withdrawn("acc-1", "t-1", 30), 0);
  CHECK(t, sent_deposit("acc-1", NULL, 30));
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  CHECK(t, es_saga_test_then_completed(t));
}

Test(testing_saga, timeout_fires_once) {
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  cr_assert_eq(es_saga_test_advance(t, 2 * 60 * MINUTE), 0);
  CHECK(t, sent_fail("t-1", BANK_TRANSFER_TIMED_OUT));
  cr_assert_eq(es_saga_test_advance(t, 2 * 60 * MINUTE), 0);
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  cr_assert_eq(es_saga_test_report(t)->timeouts_fired, 0);
}

Test(testing_saga, timeout_after_the_withdrawal_refunds) {
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  cr_assert_eq(withdrawn("acc-1", "t-1", 30), 0);
  CHECK(t, sent_deposit("acc-2", "t-1", 30));
  /* The deposit never shows up (say it was dead-lettered). */
  cr_assert_eq(es_saga_test_advance(t, 60 * MINUTE), 0);
  CHECK(t, sent_deposit("acc-1", NULL, 30));
  CHECK(t, sent_fail("t-1", BANK_TRANSFER_TIMED_OUT));
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  CHECK(t, es_saga_test_then_completed(t));
}

Test(testing_saga, untagged_events_are_not_the_sagas) {
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  cr_assert_eq(deposited("acc-1", NULL, 30), 0); /* someone's refund */
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  cr_assert_eq(es_saga_test_report(t)->skipped, 1);
  CHECK(t, es_saga_test_then_not_completed(t));
}

Test(testing_saga, instances_are_kept_apart) {
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  cr_assert_eq(started("t-2", "acc-3", "acc-4", 5), 0);
  cr_assert_str_eq(es_saga_test_instance(t), "t-2");
  CHECK(t, sent_withdraw("acc-3", "t-2", 5));
  cr_assert_eq(deposited("acc-2", "t-1", 30), 0); /* t-1 completes */
  cr_assert_str_eq(es_saga_test_instance(t), "t-1");
  CHECK(t, es_saga_test_then_completed(t));
  es_saga_test_follow(t, "t-2");
  CHECK(t, es_saga_test_then_not_completed(t));
  CHECK(t, es_saga_test_then_scheduled(t, BANK_TRANSFER_TIMEOUT));
  es_saga_test_follow(t, NULL);
  cr_assert_str_eq(es_saga_test_instance(t), "t-1");
}

/* ---- the helper's contract -------------------------------------------------
 */

Test(testing_saga, mismatch_shows_both_as_json) {
  const char *m;
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  cr_assert_not(sent_withdraw("acc-1", "t-1", 31));
  m = es_saga_test_message(t);
  cr_assert(strstr(m, "expected Account.Withdraw to acc-1 "
                      "{\"amount\":31,\"transfer\":\"t-1\"}"),
            "%s", m);
  cr_assert(strstr(m, "[0] Account.Withdraw to acc-1 "
                      "{\"amount\":30,\"transfer\":\"t-1\"}"),
            "%s", m);
  /* Wrong key, wrong target: no match either. */
  cr_assert_not(sent_withdraw("acc-2", "t-1", 30));
  cr_assert_not(sent_deposit("acc-1", "t-1", 30));
  /* A passing check clears the message; a command is claimed once. */
  CHECK(t, sent_withdraw("acc-1", "t-1", 30));
  cr_assert_str_eq(es_saga_test_message(t), "");
  cr_assert_not(sent_withdraw("acc-1", "t-1", 30));
  cr_assert(strstr(es_saga_test_message(t), "claimed by an earlier"), "%s",
            es_saga_test_message(t));
}

Test(testing_saga, unclaimed_commands_are_listed) {
  const char *m;
  cr_assert_eq(es_saga_test_reject(t, &bank_account_aggregate, NULL,
                                   &bank_account_withdraw_desc,
                                   "AccountClosed"),
               0);
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  cr_assert_not(es_saga_test_then_nothing_else_sent(t));
  m = es_saga_test_message(t);
  cr_assert(strstr(m, "also sent 2 command(s)"), "%s", m);
  cr_assert(strstr(m, "(rejected: AccountClosed)"), "%s", m);
  cr_assert(strstr(m, "Transfer.Fail to t-1 {\"reason\":\"AccountClosed\"}"),
            "%s", m);
}

Test(testing_saga, instance_checks_explain) {
  const char *m;
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), 0);
  cr_assert_not(es_saga_test_then_completed(t));
  m = es_saga_test_message(t);
  cr_assert(strstr(m, "expected instance t-1 of MoneyTransfer complete"), "%s",
            m);
  cr_assert(strstr(m, "\"from\":\"acc-1\""), "%s", m);
  cr_assert_not(es_saga_test_then_scheduled(t, "other"));
  m = es_saga_test_message(t);
  cr_assert(strstr(m, "\"give-up\" due in 3600.000 s"), "%s", m);
  es_saga_test_follow(t, "nobody");
  cr_assert_not(es_saga_test_then_not_completed(t));
  cr_assert(strstr(es_saga_test_message(t), "has no instance nobody"), "%s",
            es_saga_test_message(t));
}

Test(testing_saga, checks_need_a_run) {
  cr_assert_not(es_saga_test_then_nothing_else_sent(t));
  cr_assert(strstr(es_saga_test_message(t), "no given() or advance()"));
  cr_assert_not(es_saga_test_then_completed(t));
  cr_assert_null(es_saga_test_state(t));
  /* A run that stored no step: still no instance. */
  cr_assert_eq(withdrawn("acc-1", NULL, 5), 0);
  CHECK(t, es_saga_test_then_nothing_else_sent(t));
  cr_assert_not(es_saga_test_then_completed(t));
  cr_assert(strstr(es_saga_test_message(t), "has no instance"), "%s",
            es_saga_test_message(t));
}

Test(testing_saga, setup_errors_are_sticky) {
  bank_transfer_started ev;
  bank_transfer_started_init(&ev);
  /* Started is Transfer's, not Account's. */
  cr_assert_eq(
      es_saga_test_given(t, "Account", "t-1", &bank_transfer_started_desc, &ev),
      ES_EUNKNOWN);
  cr_assert_eq(started("t-1", "acc-1", "acc-2", 30), ES_EUNKNOWN);
  cr_assert_not(sent_withdraw("acc-1", "t-1", 30));
  cr_assert(
      strstr(es_saga_test_message(t), "setup failed: given: not an event"),
      "%s", es_saga_test_message(t));
  cr_assert_not(es_saga_test_then_nothing_else_sent(t));
  cr_assert_eq(es_saga_test_advance(t, MINUTE), ES_EUNKNOWN);
}

Test(testing_saga, bad_arrangements) {
  es_saga_test *u;
  cr_assert_eq(es_saga_test_reject(t, &bank_account_aggregate, "a",
                                   &bank_account_withdraw_desc, "Nope"),
               ES_EUNKNOWN);
  es_saga_test_free(t);
  t = es_saga_test_new(&bank_schema, &bank_money_transfer_saga);
  cr_assert(t);
  /* Account.Open is not in the saga's `sends`. */
  cr_assert_eq(es_saga_test_reject(t, &bank_account_aggregate, "a",
                                   &bank_account_open_desc, "AlreadyOpen"),
               ES_EINVAL);
  es_saga_test_free(t);
  t = es_saga_test_new(&bank_schema, &bank_money_transfer_saga);
  cr_assert(t);
  cr_assert_eq(es_saga_test_reject(t, &bank_transfer_aggregate, "a",
                                   &bank_account_withdraw_desc, "NotPending"),
               ES_EUNKNOWN);
  es_saga_test_free(t);
  t = es_saga_test_new(&bank_schema, &bank_money_transfer_saga);
  cr_assert(t);
  cr_assert_eq(es_saga_test_advance(t, -1), ES_EINVAL);
  /* new() refuses a saga that is not the schema's. */
  cr_assert_null(es_saga_test_new(&bank_schema, NULL));
  {
    es_saga_desc other = bank_money_transfer_saga;
    cr_assert_null(es_saga_test_new(&bank_schema, &other));
  }
  u = NULL;
  es_saga_test_free(u);
  cr_assert_eq(es_saga_test_now(t), INT64_C(1700000000000000));
}
