/*
 * es_testing_projection.h - "given these events, then the read model
 * holds this" for a projection, on a private memory store.
 *
 *   bank_balances_view view = {0};
 *   es_projection_test *t =
 *       es_projection_test_new(&bank_schema, &bank_balances_projection, &view);
 *   es_projection_test_given(t, "acc-1", &bank_account_opened_desc,
 *                            &(bank_account_opened){.owner = "ann",
 *                                                   .initial = 100});
 *   es_projection_test_given(t, "acc-1", &bank_account_deposited_desc,
 *                            &(bank_account_deposited){.amount = 5});
 *   ok = es_projection_test_run(t);    // every given event, in order
 *   if (!ok) puts(es_projection_test_message(t));
 *   // then: inspect `view` with your own assertions
 *   es_projection_test_free(t);
 *
 * Given events are appended to the stream (their aggregate, `key`) of a
 * memory store in the order given; run() drives the real projection
 * runner (es_projection.h) over them, with the handlers' `ctx` set to
 * what new() was given. A handler failure is not retried: run() returns
 * false at once and the message says which event failed with which code.
 * Events of types the projection does not list may be given too (they
 * must be skipped). Given and run may alternate: each run() handles what
 * was given since the previous one. Works with any test framework; not
 * thread-safe.
 */
#ifndef ES_TESTING_PROJECTION_H
#define ES_TESTING_PROJECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "es_desc.h"
#include "es_projection.h"
#include "es_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct es_projection_test es_projection_test;

/* A fresh test of projection `proj` of `schema`, handing `ctx` to its
 * handlers, on an empty memory store. NULL when an argument is bad (see
 * es_projection_open()) or memory runs out. */
es_projection_test *es_projection_test_new(const es_schema_desc *schema,
                                           const es_projection_desc *proj,
                                           void *ctx);

/* Releases everything `t` holds (not `ctx`). Accepts NULL. */
void es_projection_test_free(es_projection_test *t);

/* Appends an event of type `event` (the current or an older version of
 * any aggregate's event in the schema) with value `value` to the stream
 * of that aggregate keyed `key`. Returns 0 or an ES_E* code, which is
 * also remembered: run() then fails and reports it. */
int es_projection_test_given(es_projection_test *t, const char *key,
                             const es_type_desc *event, const void *value);

/* Runs the projection until it has handled every event given so far.
 * True when it did; false (see es_projection_test_message()) when a
 * given() failed or a handler or decode failed. */
bool es_projection_test_run(es_projection_test *t);

/* What the last run() did (events handled, position, ...). */
const es_projection_report *
es_projection_test_report(const es_projection_test *t);

/* Why the last run() (or a given()) failed; "" when nothing did. */
const char *es_projection_test_message(const es_projection_test *t);

/* The store and the runner underneath, for anything else a test needs
 * (es_projection_rebuild(), appending with es_store_append(), ...). */
es_store *es_projection_test_store(es_projection_test *t);
es_projection *es_projection_test_runner(es_projection_test *t);

/* With Criterion: asserts `check` and prints the message when it fails,
 * e.g. ES_PROJECTION_TEST_CR_ASSERT(t, es_projection_test_run(t)). */
#define ES_PROJECTION_TEST_CR_ASSERT(t, check)                                 \
  cr_assert((check), "%s", es_projection_test_message(t))

#ifdef __cplusplus
}
#endif
#endif
