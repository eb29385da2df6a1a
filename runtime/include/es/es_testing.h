/*
 * es_testing.h - given / when / then for an aggregate's decide and apply
 * functions, on a private memory store.
 *
 *   es_test *t = es_test_new(&bank_schema, &bank_account_aggregate, "acc-1");
 *   es_test_given(t, &bank_account_opened_desc,
 *                 &(bank_account_opened){.owner = "ann", .initial = 100});
 *   es_test_when(t, &bank_account_withdraw_desc,
 *                &(bank_account_withdraw){.amount = 500});
 *   ok = es_test_then_rejected(t, "InsufficientFunds");
 *   if (!ok) puts(es_test_message(t));   // says what happened instead
 *   es_test_free(t);
 *
 * Works with any test framework: every check returns true when it holds
 * and false otherwise, and es_test_message() then describes the mismatch
 * (events shown as JSON) for the framework's assertion to print. Setup
 * failures (an event that is not the aggregate's, a value that does not
 * encode) are remembered: every later check fails and reports the first.
 *
 * One es_test is one instance (`key`) of one aggregate; given events and
 * commands run through the real executor (es_app) on a memory store, so
 * what passes here behaves the same in the application. Not thread-safe:
 * one thread per es_test.
 */
#ifndef ES_TESTING_H
#define ES_TESTING_H

#include <stdbool.h>
#include <stdint.h>

#include "es_app.h"
#include "es_desc.h"
#include "es_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct es_test es_test;

/* A fresh test of instance `key` of `agg` (an aggregate of `schema`, with
 * state) on an empty memory store. Returns NULL when an argument is bad
 * (NULL, an aggregate not in the schema, an invalid key), the schema was
 * generated for another libes, or memory runs out. */
es_test *es_test_new(const es_schema_desc *schema, const es_aggregate_desc *agg,
                     const char *key);

/* Releases everything `t` holds. Accepts NULL. */
void es_test_free(es_test *t);

/* Appends an event of type `event` (the current or an older version of
 * one of the aggregate's events) with value `value` to the instance's
 * stream, as if an earlier command had emitted it. Returns 0 or an ES_E*
 * code, which is also remembered as the setup error. */
int es_test_given(es_test *t, const es_type_desc *event, const void *value);

/* Executes command `command` (its descriptor, e.g. &bank_account_withdraw_desc)
 * with value `value` through the executor and remembers the result and
 * the events it appended. `opt` may be NULL. Returns what
 * es_app_execute_value() returns (0, ES_EREJECTED, ...); a command that is
 * not the aggregate's is ES_EUNKNOWN and a setup error. */
int es_test_when(es_test *t, const es_type_desc *command, const void *value);
int es_test_when_opt(es_test *t, const es_type_desc *command, const void *value,
                     const es_exec_options *opt);

/* True when the last when() succeeded and appended exactly `n` events
 * equal, in order, to the `n` pairs that follow: (const es_type_desc *type,
 * const void *value). Equal means the same event type and version and the
 * same encoded bytes (msgpack), so defaults and optional fields count.
 * n = 0 checks that the command succeeded and appended nothing. */
bool es_test_then_events(es_test *t, uint32_t n, ...);

/* True when the last when() was rejected with the error named `error`
 * ("InsufficientFunds"); NULL accepts any of the aggregate's errors.
 * Nothing was appended in either case (the executor guarantees it). */
bool es_test_then_rejected(es_test *t, const char *error);

/* True when the last when() returned `rc` (an ES_E* code, or 0). For
 * faults: a decide returning an error, an event outside `emits`, ... */
bool es_test_then_rc(es_test *t, int rc);

/* True when the instance's current state (given events, then whatever
 * when() appended, folded by the apply functions) equals `expected`, a
 * value of the aggregate's state type, compared by encoded bytes. */
bool es_test_then_state(es_test *t, const void *expected);

/* The instance's current state, decoded into memory `t` owns; valid until
 * the next call on `t`. NULL on failure (see es_test_message()). */
const void *es_test_state(es_test *t);

/* What the last failed check (or setup step) found; "" when nothing
 * failed. Valid until the next call on `t`. */
const char *es_test_message(const es_test *t);

/* The result of the last when() (zeroed before the first). */
const es_result *es_test_result(const es_test *t);

/* The app and the store underneath, for anything else a test needs. */
es_app *es_test_app(es_test *t);
es_store *es_test_store(es_test *t);

/* With Criterion: asserts `check` and prints the message when it fails,
 * e.g. ES_TEST_CR_ASSERT(t, es_test_then_rejected(t, "NotOpen")). */
#define ES_TEST_CR_ASSERT(t, check) cr_assert((check), "%s", es_test_message(t))

#ifdef __cplusplus
}
#endif
#endif
