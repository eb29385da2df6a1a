/*
 * test_projection_helper.c - es_testing_projection.h on the bank
 * example's Balances projection (examples/bank/bank.stubs.c), the way
 * docs/projections.md shows it.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "bank_app.h"
#include "es/es_testing_projection.h"

Test(projection_helper, given_events_then_the_read_model) {
  bank_balances_view view;
  memset(&view, 0, sizeof view);
  es_projection_test *t =
      es_projection_test_new(&bank_schema, &bank_balances_projection, &view);
  cr_assert_not_null(t);

  es_projection_test_given(
      t, "acc-1", &bank_account_opened_desc,
      &(bank_account_opened){.owner = "ann", .initial = 100});
  es_projection_test_given(t, "acc-1", &bank_account_deposited_desc,
                           &(bank_account_deposited){.amount = 50});
  es_projection_test_given(
      t, "acc-2", &bank_account_opened_desc,
      &(bank_account_opened){.owner = "bob", .initial = 7});
  es_projection_test_given(t, "acc-1", &bank_account_withdrawn_desc,
                           &(bank_account_withdrawn){.amount = 30});
  /* not listed by Balances: skipped */
  es_projection_test_given(t, "acc-2", &bank_account_closed_desc,
                           &(bank_account_closed){0});
  ES_PROJECTION_TEST_CR_ASSERT(t, es_projection_test_run(t));

  cr_assert_eq(bank_view_balance(&view, "acc-1"), 120);
  cr_assert_eq(bank_view_balance(&view, "acc-2"), 7);
  cr_assert_eq(es_projection_test_report(t)->events, 4);
  cr_assert_eq(es_projection_test_report(t)->position, 5);

  /* more given events, another run: only those are handled */
  es_projection_test_given(t, "acc-2", &bank_account_deposited_desc,
                           &(bank_account_deposited){.amount = 3});
  ES_PROJECTION_TEST_CR_ASSERT(t, es_projection_test_run(t));
  cr_assert_eq(bank_view_balance(&view, "acc-2"), 10);
  cr_assert_eq(es_projection_test_report(t)->events, 1);
  es_projection_test_free(t);
}

Test(projection_helper, a_failing_handler_is_reported) {
  bank_balances_view view;
  memset(&view, 0, sizeof view);
  es_projection_test *t =
      es_projection_test_new(&bank_schema, &bank_balances_projection, &view);
  /* a deposit to an account the view has never seen opened */
  es_projection_test_given(t, "ghost", &bank_account_deposited_desc,
                           &(bank_account_deposited){.amount = 5});
  cr_assert_not(es_projection_test_run(t));
  cr_assert_not_null(strstr(es_projection_test_message(t), "position 1"), "%s",
                     es_projection_test_message(t));
  cr_assert_not_null(strstr(es_projection_test_message(t), "ES_EINVAL"), "%s",
                     es_projection_test_message(t));
  es_projection_test_free(t);
}

Test(projection_helper, a_bad_given_is_reported) {
  bank_balances_view view;
  memset(&view, 0, sizeof view);
  es_projection_test *t =
      es_projection_test_new(&bank_schema, &bank_balances_projection, &view);
  /* a command is not an event */
  cr_assert_eq(es_projection_test_given(t, "acc-1", &bank_account_deposit_desc,
                                        &(bank_account_deposit){.amount = 1}),
               ES_EUNKNOWN);
  cr_assert_not(es_projection_test_run(t));
  cr_assert_not_null(strstr(es_projection_test_message(t), "not an event"));
  es_projection_test_free(t);
}
