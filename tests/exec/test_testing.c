/*
 * test_testing.c - the given / when / then helper (es_testing.h) on the
 * ledger schema: each check passes when it should, and fails with a
 * message that says what happened instead.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "es/es_testing.h"
#include "ledger_impl.h"

static es_test *t;

static void setup(void) {
  t = es_test_new(&ledger_schema, &ledger_account_aggregate, "acc-1");
  cr_assert_not_null(t);
}

static void teardown(void) { es_test_free(t); }

TestSuite(testing, .init = setup, .fini = teardown);

#define MSG_HAS(needle)                                                        \
  cr_assert(strstr(es_test_message(t), (needle)) != NULL,                      \
            "message lacks <%s>:\n%s", (needle), es_test_message(t))

static void given_open(int64_t initial) {
  cr_assert_eq(es_test_given(t, &ledger_account_opened_desc,
                             &(ledger_account_opened){.owner = "ann",
                                                      .initial = initial}),
               0);
}

Test(testing, rejection_matches_by_name) {
  given_open(100);
  cr_assert_eq(es_test_when(t, &ledger_account_withdraw_desc,
                            &(ledger_account_withdraw){.amount = 500}),
               ES_EREJECTED);
  ES_TEST_CR_ASSERT(t, es_test_then_rejected(t, "InsufficientFunds"));
  cr_assert(es_test_then_rejected(t, NULL));
  cr_assert_str_eq(es_test_message(t), "");
  cr_assert_str_eq(es_test_result(t)->message, "balance too low");

  cr_assert_not(es_test_then_rejected(t, "NotOpen"));
  MSG_HAS("expected rejection NotOpen");
  MSG_HAS("rejected with InsufficientFunds");
  MSG_HAS("balance too low");

  cr_assert_not(es_test_then_events(t, 0));
  MSG_HAS("expected 0 event(s), but the command was rejected");
}

Test(testing, events_match_by_encoded_bytes) {
  given_open(100);
  cr_assert_eq(es_test_when(t, &ledger_account_deposit_desc,
                            &(ledger_account_deposit){.amount = 5}),
               0);
  ES_TEST_CR_ASSERT(t, es_test_then_events(t, 1, &ledger_account_deposited_desc,
                                           &(ledger_account_deposited){
                                               .amount = 5, .note = ""}));

  /* A different value: both sides shown as JSON. */
  cr_assert_not(es_test_then_events(
      t, 1, &ledger_account_deposited_desc,
      &(ledger_account_deposited){.amount = 6, .note = ""}));
  MSG_HAS("expected 1 event(s):");
  MSG_HAS("Account.Deposited v2 {\"amount\":6");
  MSG_HAS("but the command appended 1:");
  MSG_HAS("Account.Deposited v2 {\"amount\":5");

  /* A different type, a different count. */
  cr_assert_not(es_test_then_events(t, 1, &ledger_account_withdrawn_desc,
                                    &(ledger_account_withdrawn){.amount = 5}));
  MSG_HAS("Account.Withdrawn");
  cr_assert_not(es_test_then_events(t, 0));
  MSG_HAS("expected 0 event(s):");
  cr_assert_not(es_test_then_rejected(t, "NotOpen"));
  MSG_HAS("the command succeeded, appending 1 event(s):");
  MSG_HAS("{\"amount\":5");
}

Test(testing, several_events_and_none) {
  int64_t amounts[] = {1, 2};
  given_open(0);
  cr_assert_eq(es_test_when(t, &ledger_account_split_desc,
                            &(ledger_account_split){.amounts = {amounts, 2}}),
               0);
  ES_TEST_CR_ASSERT(
      t, es_test_then_events(
             t, 2, &ledger_account_deposited_desc,
             &(ledger_account_deposited){.amount = 1, .note = "split"},
             &ledger_account_deposited_desc,
             &(ledger_account_deposited){.amount = 2, .note = "split"}));
  cr_assert_not(es_test_then_events(
      t, 2, &ledger_account_deposited_desc,
      &(ledger_account_deposited){.amount = 2, .note = "split"},
      &ledger_account_deposited_desc,
      &(ledger_account_deposited){.amount = 1, .note = "split"}));
  MSG_HAS("[1] Account.Deposited v2 {\"amount\":2");

  /* Only the last when() counts. */
  cr_assert_eq(es_test_when(t, &ledger_account_nothing_desc,
                            &(ledger_account_nothing){0}),
               0);
  ES_TEST_CR_ASSERT(t, es_test_then_events(t, 0));
}

Test(testing, state_after_given_and_when) {
  const ledger_account_state *s;
  given_open(100);
  /* An older event version, lifted by the upcaster. */
  cr_assert_eq(es_test_given(t, &ledger_account_deposited_v1_desc,
                             &(ledger_account_deposited_v1){.cents = 700}),
               0);
  cr_assert_eq(es_test_when(t, &ledger_account_deposit_desc,
                            &(ledger_account_deposit){.amount = 3}),
               0);
  s = es_test_state(t);
  cr_assert_not_null(s, "%s", es_test_message(t));
  cr_assert_eq(s->balance, 110);
  cr_assert_eq(s->postings, 2);
  cr_assert_str_eq(s->owner, "ann");

  ledger_account_state want = {
      .owner = "ann", .balance = 110, .open = true, .postings = 2};
  ES_TEST_CR_ASSERT(t, es_test_then_state(t, &want));
  want.balance = 111;
  cr_assert_not(es_test_then_state(t, &want));
  MSG_HAS("expected state {\"owner\":\"ann\",\"balance\":111");
  MSG_HAS("but it is    {\"owner\":\"ann\",\"balance\":110");
}

Test(testing, faults_by_code) {
  given_open(1);
  cr_assert_eq(
      es_test_when(t, &ledger_account_stray_desc, &(ledger_account_stray){0}),
      ES_ENOTEMITTED);
  ES_TEST_CR_ASSERT(t, es_test_then_rc(t, ES_ENOTEMITTED));
  cr_assert_not(es_test_then_rc(t, 0));
  MSG_HAS("expected ES_OK, but the command failed with ES_ENOTEMITTED");
  cr_assert_not(es_test_then_events(t, 1, &ledger_account_deposited_desc,
                                    &(ledger_account_deposited){.amount = 1}));
  MSG_HAS("failed with ES_ENOTEMITTED");
  cr_assert_eq(es_test_when(t, &ledger_account_fault_desc,
                            &(ledger_account_fault){.code = ES_EIO}),
               ES_EIO);
  cr_assert(es_test_then_rc(t, ES_EIO));
}

Test(testing, checks_before_any_when_fail) {
  given_open(1);
  cr_assert_not(es_test_then_events(t, 0));
  MSG_HAS("no when() ran");
  cr_assert_not(es_test_then_rejected(t, NULL));
  MSG_HAS("no when() ran");
  /* The state is there all the same. */
  const ledger_account_state *s = es_test_state(t);
  cr_assert_not_null(s);
  cr_assert_eq(s->balance, 1);
}

Test(testing, setup_errors_are_sticky) {
  /* An event of another aggregate. */
  cr_assert_eq(es_test_given(t, &ledger_counter_added_desc,
                             &(ledger_counter_added){.amount = 1}),
               ES_EUNKNOWN);
  MSG_HAS("setup failed: given: not an event of the aggregate");
  given_open(1); /* later steps still run ... */
  cr_assert_eq(es_test_when(t, &ledger_account_deposit_desc,
                            &(ledger_account_deposit){.amount = 1}),
               0);
  /* ... but every check fails, naming the first error. */
  cr_assert_not(es_test_then_events(t, 1, &ledger_account_deposited_desc,
                                    &(ledger_account_deposited){.amount = 1}));
  MSG_HAS("setup failed: given: not an event of the aggregate");
  cr_assert_null(es_test_state(t));
  cr_assert_not(es_test_then_state(t, &(ledger_account_state){0}));
}

Test(testing, when_with_a_foreign_command) {
  cr_assert_eq(es_test_when(t, &ledger_counter_add_desc,
                            &(ledger_counter_add){.amount = 1}),
               ES_EUNKNOWN);
  cr_assert_not(es_test_then_rc(t, ES_EUNKNOWN));
  MSG_HAS("when: not a command of the aggregate");
}

Test(testing, idempotent_when_through_options) {
  es_exec_options o = {.command_id = {{1, 2, 3}}};
  given_open(0);
  cr_assert_eq(es_test_when_opt(t, &ledger_account_deposit_desc,
                                &(ledger_account_deposit){.amount = 4}, &o),
               0);
  cr_assert(es_test_then_events(t, 1, &ledger_account_deposited_desc,
                                &(ledger_account_deposited){.amount = 4}));
  cr_assert_eq(es_test_when_opt(t, &ledger_account_deposit_desc,
                                &(ledger_account_deposit){.amount = 4}, &o),
               0);
  cr_assert(es_test_result(t)->duplicate);
  cr_assert(es_test_then_events(t, 0));
  cr_assert_not_null(es_test_app(t));
  cr_assert_not_null(es_test_store(t));
}

Test(testing, bad_arguments, .init = NULL, .fini = NULL) {
  char long_key[ES_KEY_MAX + 2];
  memset(long_key, 'k', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = '\0';
  cr_assert_null(es_test_new(NULL, &ledger_account_aggregate, "a"));
  cr_assert_null(es_test_new(&ledger_schema, NULL, "a"));
  cr_assert_null(es_test_new(&ledger_schema, &ledger_account_aggregate, NULL));
  cr_assert_null(es_test_new(&ledger_schema, &ledger_account_aggregate, ""));
  cr_assert_null(
      es_test_new(&ledger_schema, &ledger_account_aggregate, long_key));
  es_test_free(NULL);
  cr_assert_str_eq(es_test_message(NULL), "");
  cr_assert_eq(es_test_given(NULL, NULL, NULL), ES_EINVAL);
  cr_assert_eq(es_test_when(NULL, NULL, NULL), ES_EINVAL);
  cr_assert_not(es_test_then_events(NULL, 0));
  cr_assert_not(es_test_then_rejected(NULL, NULL));
  cr_assert_not(es_test_then_rc(NULL, 0));
  cr_assert_not(es_test_then_state(NULL, NULL));
  cr_assert_null(es_test_state(NULL));
}
