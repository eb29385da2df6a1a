/*
 * es_testing_saga.h - "given these events (and rejections, and elapsed
 * time), then these commands are sent / this timeout is scheduled / the
 * saga completes" for a saga, on a private memory store.
 *
 *   es_saga_test *t =
 *       es_saga_test_new(&bank_schema, &bank_money_transfer_saga);
 *   es_saga_test_given(t, "Transfer", "t-1", &bank_transfer_started_desc,
 *                      &(bank_transfer_started){.from = "acc-1",
 *                                               .to = "acc-2",
 *                                               .amount = 30});
 *   ok = es_saga_test_then_sent(t, &bank_account_aggregate, "acc-1",
 *                               &bank_account_withdraw_desc, &expected) &&
 *        es_saga_test_then_nothing_else_sent(t) &&
 *        es_saga_test_then_scheduled(t, "give-up");
 *   if (!ok) puts(es_saga_test_message(t));  // what was sent instead
 *   es_saga_test_advance(t, INT64_C(3600) * 1000000);   // an hour passes
 *   ok = es_saga_test_then_completed(t);
 *   es_saga_test_free(t);
 *
 * How it runs. The saga runs in the real runner (es_saga_run.h) on a
 * memory store with a clock the test moves: given() appends the event to
 * its stream and runs the runner until it is caught up, advance() moves
 * the clock and runs it again (firing what came due). What the saga sends
 * does not reach the target aggregates: the helper answers each command
 * itself (es_saga_options.execute) and records it. A command is accepted,
 * emitting nothing (what its aggregate would emit is for the test to give
 * as the next event), unless a rejection was arranged for it with
 * reject(), in which case the runner hands the rejection to the saga's
 * `on rejected` handler, as in production, within the same run.
 *
 * Checks. then_sent() looks at the commands sent during the last given()
 * or advance() (rejected ones included): each check claims one command
 * equal to the expected one (same target aggregate, instance key, command
 * type and encoded bytes, so defaults and optional fields count), in any
 * order; then_nothing_else_sent() holds when every command of that run was
 * claimed. The instance checks (scheduled, completed) are about the
 * instance the last run stored a step for (or the one named with
 * es_saga_test_follow()). Every check returns true when it holds and false
 * otherwise, and es_saga_test_message() then says what was found instead
 * (commands shown as JSON). Setup failures (an event that is not the named
 * aggregate's, a value that does not encode, a handler returning an error
 * during a run) are remembered: every later check fails and reports the
 * first.
 *
 * Works with any test framework; not thread-safe (one thread per test).
 */
#ifndef ES_TESTING_SAGA_H
#define ES_TESTING_SAGA_H

#include <stdbool.h>
#include <stdint.h>

#include "es_desc.h"
#include "es_saga_run.h"
#include "es_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct es_saga_test es_saga_test;

/* A fresh test of saga `saga` (one of `schema`'s sagas) on an empty memory
 * store, its clock at 2023-11-14T22:13:20Z (1,700,000,000 s). NULL when an
 * argument is bad (NULL, a saga not in the schema), the schema was
 * generated for another libes, or memory runs out. */
es_saga_test *es_saga_test_new(const es_schema_desc *schema,
                               const es_saga_desc *saga);

/* Releases everything `t` holds. Accepts NULL. */
void es_saga_test_free(es_saga_test *t);

/* Appends an event of type `event` (the current or an older version of one
 * of the events of the aggregate named `aggregate`) with value `value` to
 * the stream (`aggregate`, `key`), as if a command had emitted it, then
 * runs the saga until it has handled it and everything it caused. Returns
 * 0 or an ES_E* code (a bad argument, or what the run returned: a
 * handler's error, ...), which is also remembered as the setup error. */
int es_saga_test_given(es_saga_test *t, const char *aggregate, const char *key,
                       const es_type_desc *event, const void *value);

/* Arranges that the next command `command` (its descriptor, e.g.
 * &bank_account_deposit_desc) the saga sends to instance `key` of `agg`
 * (NULL key: to any instance) is rejected with the aggregate's error named
 * `error` ("AccountClosed"). Each call rejects one command; call it before
 * the given() or advance() that makes the saga send it. Returns 0, or
 * ES_EUNKNOWN (a command or error not of `agg`) / ES_EINVAL (a command the
 * saga does not send), remembered as the setup error. */
int es_saga_test_reject(es_saga_test *t, const es_aggregate_desc *agg,
                        const char *key, const es_type_desc *command,
                        const char *error);

/* Moves the clock `us` microseconds on (0 allowed, negative not) and runs
 * the saga: every timeout due by then fires, earliest first. Returns like
 * given(). */
int es_saga_test_advance(es_saga_test *t, int64_t us);

/* True when the last given() or advance() sent command `command` with
 * value `value` to instance `key` of `agg`, and the command was not
 * claimed by an earlier then_sent(). Claims it. */
bool es_saga_test_then_sent(es_saga_test *t, const es_aggregate_desc *agg,
                            const char *key, const es_type_desc *command,
                            const void *value);

/* True when every command the last given() or advance() sent was claimed
 * by a then_sent() (so: true when it sent nothing and none was expected). */
bool es_saga_test_then_nothing_else_sent(es_saga_test *t);

/* True when the followed instance has a pending timeout named `name`
 * (scheduled and neither fired, cancelled, nor dropped by completion). */
bool es_saga_test_then_scheduled(es_saga_test *t, const char *name);

/* True when it has none named `name`. */
bool es_saga_test_then_not_scheduled(es_saga_test *t, const char *name);

/* True when the followed instance exists and is complete. */
bool es_saga_test_then_completed(es_saga_test *t);

/* True when it exists and is not complete. */
bool es_saga_test_then_not_completed(es_saga_test *t);

/* Makes the instance checks look at instance `key` from now on (NULL:
 * back to the instance of the last stored step). */
void es_saga_test_follow(es_saga_test *t, const char *key);

/* The key of the instance the checks look at; "" when there is none. */
const char *es_saga_test_instance(const es_saga_test *t);

/* The followed instance's state (a value of the saga's state type), or
 * NULL when there is no instance; valid until the next call on `t`. */
const void *es_saga_test_state(es_saga_test *t);

/* What the last failed check (or setup step) found; "" when nothing
 * failed. Valid until the next call on `t`. */
const char *es_saga_test_message(const es_saga_test *t);

/* What the last given() or advance() run did (zeroed before the first). */
const es_saga_report *es_saga_test_report(const es_saga_test *t);

/* The test's clock, microseconds since the epoch. */
int64_t es_saga_test_now(const es_saga_test *t);

/* The store and the runner underneath, for anything else a test needs. */
es_store *es_saga_test_store(es_saga_test *t);
es_saga_runner *es_saga_test_runner(es_saga_test *t);

/* With Criterion: asserts `check` and prints the message when it fails,
 * e.g. ES_SAGA_TEST_CR_ASSERT(t, es_saga_test_then_completed(t)). */
#define ES_SAGA_TEST_CR_ASSERT(t, check)                                       \
  cr_assert((check), "%s", es_saga_test_message(t))

#ifdef __cplusplus
}
#endif
#endif
