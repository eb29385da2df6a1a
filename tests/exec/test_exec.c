/*
 * test_exec.c - the command executor (es_app) on the ledger test schema:
 * expected versions, conflicts and retries, idempotent command ids,
 * rejections and faults, metadata, the type-erased entry under hostile
 * input, snapshots, cache eviction and upcasting on load.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "exec_support.h"

static es_store *store;
static es_app *app;

static void mem_setup(void) {
  cr_assert_eq(es_store_open_memory(&store, NULL), 0);
  app = ex_app(store, NULL);
}

static void mem_teardown(void) {
  ledger_deposit_hook = NULL;
  ledger_deposit_hook_ctx = NULL;
  es_app_close(app);
  es_store_close(store);
  app = NULL;
  store = NULL;
}

TestSuite(exec, .init = mem_setup, .fini = mem_teardown);

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

static es_uuid uuid_of(uint8_t b) {
  es_uuid u;
  memset(u.bytes, b, sizeof u.bytes);
  return u;
}

/* ---- expected versions ----------------------------------------------------
 */

Test(exec, expect_any_appends_whatever_the_version) {
  es_exec_options o = {.expected = {ES_EXPECT_ANY, 0}};
  es_result r;
  cr_assert_eq(ex_open(app, "a", 10), 0);
  cr_assert_eq(ex_deposit(app, "a", 5, &o, &r), 0);
  cr_assert_eq(r.outcome, ES_OUTCOME_OK);
  cr_assert_eq(r.version, 2);
  cr_assert_eq(r.n_events, 1);
  cr_assert_eq(r.first_position, 2);
  cr_assert_eq(r.last_position, 2);
  cr_assert_eq(ex_read(app, "a").balance, 15);
}

Test(exec, expect_no_stream) {
  es_exec_options o = {.expected = es_expect_no_stream()};
  ledger_account_open c = {.owner = "ann", .initial = 1};
  es_result r;
  unsigned long calls;
  cr_assert_eq(ledger_account_execute_open(app, "a", &c, &o, &r), 0);
  cr_assert_eq(r.outcome, ES_OUTCOME_OK);
  cr_assert_eq(r.version, 1);
  /* Not met: a conflict, decided nothing, stored nothing. */
  calls = ledger_decide_calls();
  cr_assert_eq(ex_deposit(app, "a", 5, &o, &r), ES_ECONFLICT);
  cr_assert_eq(r.outcome, ES_OUTCOME_CONFLICT);
  cr_assert_eq(r.rc, ES_ECONFLICT);
  cr_assert_eq(r.version, 1);
  cr_assert_eq(r.n_events, 0);
  cr_assert_eq(r.retries, 0);
  cr_assert_eq(ledger_decide_calls(), calls);
  cr_assert_eq(ex_head(store), 1);
}

Test(exec, expect_exists) {
  es_exec_options o = {.expected = es_expect_exists()};
  es_result r;
  ledger_account_open c = {.owner = "ann", .initial = 1};
  cr_assert_eq(ledger_account_execute_open(app, "a", &c, &o, &r), ES_ECONFLICT);
  cr_assert_eq(r.outcome, ES_OUTCOME_CONFLICT);
  cr_assert_eq(r.version, 0);
  cr_assert_eq(ex_head(store), 0);
  cr_assert_eq(ex_open(app, "a", 1), 0);
  cr_assert_eq(ex_deposit(app, "a", 5, &o, &r), 0);
  cr_assert_eq(r.version, 2);
}

Test(exec, expect_exact_met_and_not_met) {
  es_result r;
  cr_assert_eq(ex_open(app, "a", 1), 0);
  cr_assert_eq(ex_deposit(app, "a", 1, NULL, NULL), 0);
  for (uint64_t n = 0; n < 5; n++) {
    es_exec_options o = {.expected = es_expect_exact(n)};
    if (n == 2)
      continue;
    cr_assert_eq(ex_deposit(app, "a", 100, &o, &r), ES_ECONFLICT, "n=%lu",
                 (unsigned long)n);
    cr_assert_eq(r.outcome, ES_OUTCOME_CONFLICT);
    cr_assert_eq(r.version, 2);
    cr_assert_eq(ex_head(store), 2);
  }
  es_exec_options o = {.expected = es_expect_exact(2)};
  cr_assert_eq(ex_deposit(app, "a", 100, &o, &r), 0);
  cr_assert_eq(r.version, 3);
  cr_assert_eq(ex_read(app, "a").balance, 102);
}

/* The cached copy is behind another writer: an exact expectation equal
 * to the store's real version holds (the executor looks again); the stale
 * one fails without storing. */
Test(exec, expect_exact_against_a_stale_cache) {
  es_app *other = ex_app(store, NULL);
  es_result r;
  cr_assert_eq(ex_open(app, "a", 1), 0);
  cr_assert_eq(ex_deposit(other, "a", 10, NULL, NULL), 0); /* version 2 */
  es_exec_options stale = {.expected = es_expect_exact(1)};
  cr_assert_eq(ex_deposit(app, "a", 100, &stale, &r), ES_ECONFLICT);
  cr_assert_eq(r.outcome, ES_OUTCOME_CONFLICT);
  cr_assert_eq(ex_head(store), 2);
  es_exec_options fresh = {.expected = es_expect_exact(2)};
  cr_assert_eq(ex_deposit(other, "a", 1, NULL, NULL), 0); /* version 3 */
  fresh.expected.version = 3;
  cr_assert_eq(ex_deposit(app, "a", 100, &fresh, &r), 0);
  cr_assert_eq(r.version, 4);
  cr_assert_eq(ex_read(app, "a").balance, 112);
  es_app_close(other);
}

Test(exec, bad_expectation_kind_is_einval) {
  es_exec_options o = {.expected = {ES_EXPECT_EXACT + 1, 0}};
  es_result r;
  cr_assert_eq(ex_deposit(app, "a", 1, &o, &r), ES_EINVAL);
  cr_assert_eq(r.outcome, ES_OUTCOME_FAILED);
}

/* ---- conflicts and retries ----------------------------------------------- */

Test(exec, second_writer_reloads_decides_again_and_succeeds) {
  es_app *b = ex_app(store, NULL);
  es_result r;
  cr_assert_eq(ex_open(app, "a", 0), 0);
  cr_assert_eq(ex_deposit(app, "a", 1, NULL, NULL), 0); /* a is cached */
  cr_assert_eq(ex_deposit(b, "a", 10, NULL, NULL), 0);  /* b loads fresh */
  cr_assert_eq(ex_deposit(b, "a", 10, NULL, NULL), 0);
  /* a still thinks the version is 2. */
  unsigned long calls = ledger_decide_calls();
  cr_assert_eq(ex_deposit(app, "a", 100, NULL, &r), 0);
  cr_assert_eq(r.outcome, ES_OUTCOME_OK);
  cr_assert_eq(r.retries, 1);
  cr_assert_eq(r.version, 5);
  cr_assert_eq(ledger_decide_calls(), calls + 2);
  cr_assert_eq(ex_read(app, "a").balance, 121);
  cr_assert_eq(ex_read(b, "a").balance, 121);
  cr_assert_eq(ex_read(b, "a").version, 5);
  es_app_close(b);
}

/* Appends one Deposited straight to the store: another writer. */
static int interfere(void *ctx) {
  es_store *s = ctx;
  ledger_account_deposited ev;
  es_buf b;
  es_new_event e;
  int rc;
  ledger_account_deposited_init(&ev);
  ev.amount = 1000;
  es_buf_init(&b, 0);
  cr_assert_eq(ledger_account_deposited_encode(&ev, &b), 0);
  memset(&e, 0, sizeof e);
  e.type_id = ledger_account_deposited_desc.type_id;
  e.type_version = ledger_account_deposited_desc.version;
  e.payload = b.data;
  e.len = b.len;
  rc = es_store_append_one(s, "Account", "a", es_expect_any(), &e, 1, NULL);
  es_buf_close(&b);
  return rc;
}

Test(exec, retries_used_up_is_a_conflict) {
  es_app_options ao = ES_APP_OPTIONS_INIT;
  es_app *a2;
  es_result r;
  ao.max_retries = 2;
  a2 = ex_app(store, &ao);
  cr_assert_eq(ex_open(a2, "a", 0), 0);
  ledger_deposit_hook = interfere;
  ledger_deposit_hook_ctx = store;
  unsigned long calls = ledger_decide_calls();
  cr_assert_eq(ex_deposit(a2, "a", 1, NULL, &r), ES_ECONFLICT);
  cr_assert_eq(r.outcome, ES_OUTCOME_CONFLICT);
  cr_assert_eq(r.retries, 2);
  cr_assert_eq(r.n_events, 0);
  cr_assert_eq(ledger_decide_calls(), calls + 3);
  /* Only the interfering writer's three events are stored. */
  cr_assert_eq(ex_head(store), 4);
  ledger_deposit_hook = NULL;
  cr_assert_eq(ex_read(a2, "a").balance, 3000);
  /* And the app works on afterwards. */
  cr_assert_eq(ex_deposit(a2, "a", 1, NULL, &r), 0);
  cr_assert_eq(r.version, 5);
  cr_assert_eq(ex_read(a2, "a").balance, 3001);
  es_app_close(a2);
}

/* ---- idempotency ------------------------------------------------------------
 */

Test(exec, command_id_replays_the_first_result) {
  es_exec_options o = {.command_id = uuid_of(7)};
  es_result first, again;
  cr_assert_eq(ex_open(app, "a", 0), 0);
  cr_assert_eq(ex_deposit(app, "a", 5, &o, &first), 0);
  cr_assert_not(first.duplicate);
  unsigned long calls = ledger_decide_calls();
  cr_assert_eq(ex_deposit(app, "a", 5, &o, &again), 0);
  cr_assert(again.duplicate);
  cr_assert_eq(again.outcome, ES_OUTCOME_OK);
  cr_assert_eq(again.version, first.version);
  cr_assert_eq(again.first_position, first.first_position);
  cr_assert_eq(again.last_position, first.last_position);
  cr_assert_eq(again.n_events, 1);
  cr_assert_eq(ledger_decide_calls(), calls);
  cr_assert_eq(ex_head(store), 2);
  /* Even after other commands. */
  cr_assert_eq(ex_deposit(app, "a", 1, NULL, NULL), 0);
  cr_assert_eq(ex_deposit(app, "a", 5, &o, &again), 0);
  cr_assert(again.duplicate);
  cr_assert_eq(again.version, 2);
  /* A different id executes. */
  o.command_id = uuid_of(8);
  cr_assert_eq(ex_deposit(app, "a", 5, &o, &again), 0);
  cr_assert_not(again.duplicate);
  cr_assert_eq(again.version, 4);
  cr_assert_eq(ex_read(app, "a").balance, 11);
}

Test(exec, command_id_of_a_multi_event_command) {
  es_exec_options o = {.command_id = uuid_of(9)};
  int64_t amounts[] = {1, 2, 3};
  ledger_account_split c = {.amounts = {amounts, 3}};
  es_result first, again;
  cr_assert_eq(ex_open(app, "a", 0), 0);
  cr_assert_eq(ledger_account_execute_split(app, "a", &c, &o, &first), 0);
  cr_assert_eq(first.n_events, 3);
  cr_assert_eq(ledger_account_execute_split(app, "a", &c, &o, &again), 0);
  cr_assert(again.duplicate);
  cr_assert_eq(again.n_events, 3);
  cr_assert_eq(again.first_position, first.first_position);
  cr_assert_eq(again.last_position, first.last_position);
  cr_assert_eq(again.version, 4);
  /* The same after a reload from the store. */
  es_app *fresh = ex_app(store, NULL);
  cr_assert_eq(ledger_account_execute_split(fresh, "a", &c, &o, &again), 0);
  cr_assert(again.duplicate);
  cr_assert_eq(again.n_events, 3);
  cr_assert_eq(again.first_position, first.first_position);
  cr_assert_eq(again.last_position, first.last_position);
  cr_assert_eq(ex_head(store), 4);
  es_app_close(fresh);
}

Test(exec, command_id_survives_eviction) {
  es_app_options ao = ES_APP_OPTIONS_INIT;
  es_exec_options o = {.command_id = uuid_of(1)};
  es_app_stats st;
  es_result first, again;
  es_app *a2;
  ao.cache_idle_us = 1;
  a2 = ex_app(store, &ao);
  cr_assert_eq(ex_open(a2, "a", 0), 0);
  cr_assert_eq(ex_deposit(a2, "a", 5, &o, &first), 0);
  sleep_us(2000);
  es_app_evict(a2);
  es_app_stats_get(a2, &st);
  cr_assert_eq(st.loaded, 0);
  cr_assert_geq(st.evictions, 1);
  cr_assert_eq(ex_deposit(a2, "a", 5, &o, &again), 0);
  cr_assert(again.duplicate);
  cr_assert_eq(again.version, first.version);
  cr_assert_eq(again.first_position, first.first_position);
  cr_assert_eq(ex_head(store), 2);
  es_app_close(a2);
}

/* Another app executed the id; this one's cache is stale. It must notice
 * the id when it catches up, not execute the command a second time. */
Test(exec, command_id_seen_by_another_writer) {
  es_app *b = ex_app(store, NULL);
  es_exec_options o = {.command_id = uuid_of(3)};
  es_result first, again;
  cr_assert_eq(ex_open(app, "a", 0), 0);
  cr_assert_eq(ex_read(b, "a").version, 1); /* b caches version 1 */
  cr_assert_eq(ex_deposit(app, "a", 5, &o, &first), 0);
  cr_assert_eq(ex_deposit(b, "a", 5, &o, &again), 0);
  cr_assert(again.duplicate, "executed twice");
  cr_assert_eq(again.version, first.version);
  cr_assert_eq(ex_head(store), 2);
  cr_assert_eq(ex_read(b, "a").balance, 5);
  es_app_close(b);
}

Test(exec, command_id_survives_reopening_a_log_store) {
  char dir[64];
  es_store *s;
  es_app *a2;
  es_exec_options o = {.command_id = uuid_of(4)};
  es_result first, again;
  cr_assert_eq(ex_fresh_dir(dir), 0);
  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  a2 = ex_app(s, NULL);
  cr_assert_eq(ex_open(a2, "a", 0), 0);
  cr_assert_eq(ex_deposit(a2, "a", 5, &o, &first), 0);
  es_app_close(a2);
  es_store_close(s);

  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  a2 = ex_app(s, NULL);
  cr_assert_eq(ex_deposit(a2, "a", 5, &o, &again), 0);
  cr_assert(again.duplicate);
  cr_assert_eq(again.version, first.version);
  cr_assert_eq(again.first_position, first.first_position);
  cr_assert_eq(ex_head(s), 2);
  o.command_id = uuid_of(5);
  cr_assert_eq(ex_deposit(a2, "a", 5, &o, &again), 0);
  cr_assert_not(again.duplicate);
  cr_assert_eq(ex_read(a2, "a").balance, 10);
  es_app_close(a2);
  es_store_close(s);
  remove_dir(dir);
}

/* The executor's window holds an instance's last `dedup_window` (256)
 * command ids; the store's command index holds every id for its retention
 * time. A saga step re-sent after its target took 10,000 other commands
 * must not execute again. */
static void step_then_many(es_app *a, es_uuid step, int others,
                           es_result *first) {
  es_exec_options o = {.command_id = step};
  cr_assert_eq(ex_open(a, "merchant", 0), 0);
  cr_assert_eq(ex_deposit(a, "merchant", 70, &o, first), 0);
  cr_assert_not(first->duplicate);
  for (int i = 0; i < others; i++)
    cr_assert_eq(ex_deposit(a, "merchant", 1, NULL, NULL), 0);
}

static void redispatch_is_a_duplicate(es_app *a, es_uuid step,
                                      const es_result *first, int64_t balance) {
  es_exec_options o = {.command_id = step};
  es_result again;
  unsigned long calls = ledger_decide_calls();
  cr_assert_eq(ex_deposit(a, "merchant", 70, &o, &again), 0);
  cr_assert(again.duplicate, "the step executed twice");
  cr_assert_eq(again.outcome, ES_OUTCOME_OK);
  cr_assert_eq(again.version, first->version);
  cr_assert_eq(again.first_position, first->first_position);
  cr_assert_eq(again.last_position, first->last_position);
  cr_assert_eq(again.n_events, 1);
  cr_assert_eq(ledger_decide_calls(), calls, "decide ran for a duplicate");
  cr_assert_eq(ex_read(a, "merchant").balance, balance, "effect not once");
}

Test(exec, a_step_resent_after_ten_thousand_commands_executes_once,
     .timeout = 120) {
  es_uuid step;
  es_result first;
  es_saga_command_id("Transfer", "t-1", 1, 0, &step);
  step_then_many(app, step, 10000, &first);
  redispatch_is_a_duplicate(app, step, &first, 10070);
  cr_assert_eq(ex_head(store), 10002);
  /* a cold cache (another app, as after a restart) answers the same */
  es_app *fresh = ex_app(store, NULL);
  redispatch_is_a_duplicate(fresh, step, &first, 10070);
  cr_assert_eq(ex_head(store), 10002);
  es_app_close(fresh);
}

Test(exec, a_step_resent_after_a_log_store_reopen_executes_once,
     .timeout = 300) {
  es_store_options so = ES_STORE_OPTIONS_INIT;
  char dir[64];
  es_store *s;
  es_app *a;
  es_uuid step;
  es_result first;
  es_saga_command_id("Transfer", "t-2", 3, 1, &step);
  so.segment_size = 64 << 10; /* sealed segments with their N.cmd */
  cr_assert_eq(ex_fresh_dir(dir), 0);
  cr_assert_eq(es_store_open_log(&s, dir, &so, 0), 0);
  a = ex_app(s, NULL);
  step_then_many(a, step, 10000, &first);
  redispatch_is_a_duplicate(a, step, &first, 10070);
  es_app_close(a);
  es_store_close(s);

  cr_assert_eq(es_store_open_log(&s, dir, &so, 0), 0);
  a = ex_app(s, NULL);
  redispatch_is_a_duplicate(a, step, &first, 10070);
  cr_assert_eq(ex_head(s), 10002);
  es_app_close(a);
  es_store_close(s);
  remove_dir(dir);
}

static int64_t exec_now;
static int64_t exec_clock(void *ctx) {
  (void)ctx;
  return exec_now;
}

/* Past the store's command retention the guarantee lapses: an id seen
 * only by the store (not in the instance's window) executes again. Within
 * it, however far the clock moved, it does not. */
Test(exec, a_step_resent_after_the_command_retention_executes_again) {
  es_store_options so = ES_STORE_OPTIONS_INIT;
  es_store *s;
  es_app *a;
  es_uuid step;
  es_result first, again;
  es_exec_options o;
  es_saga_command_id("Transfer", "t-3", 1, 0, &step);
  exec_now = 1700000000000000;
  so.now_us = exec_clock;
  so.command_retention_us = (int64_t)2 * 24 * 3600 * 1000000; /* two days */
  cr_assert_eq(es_store_open_memory(&s, &so), 0);
  a = ex_app(s, NULL);
  step_then_many(a, step, 300, &first);
  exec_now += so.command_retention_us; /* the last moment it is kept */
  redispatch_is_a_duplicate(a, step, &first, 370);
  exec_now += 1;
  memset(&o, 0, sizeof o);
  o.command_id = step;
  cr_assert_eq(ex_deposit(a, "merchant", 70, &o, &again), 0);
  cr_assert_not(again.duplicate, "kept past its retention");
  cr_assert_eq(ex_read(a, "merchant").balance, 440);
  es_app_close(a);
  es_store_close(s);
}

/* Within an instance's last `dedup_window` commands an id stays a
 * duplicate even past the store's command retention: a cold instance
 * reads the window's ids back from its stream when it first needs them
 * (a load does not), ahead of the ids it took since. */
Test(exec, the_window_outlives_the_command_retention) {
  es_store_options so = ES_STORE_OPTIONS_INIT;
  es_store *s;
  es_app *a, *b;
  es_exec_options o;
  es_result r;
  exec_now = 1700000000000000;
  so.now_us = exec_clock;
  so.command_retention_us = 1000;
  cr_assert_eq(es_store_open_memory(&s, &so), 0);
  a = ex_app(s, NULL);
  memset(&o, 0, sizeof o);
  cr_assert_eq(ex_open(a, "w", 0), 0);
  for (int i = 0; i < 40; i++) {
    o.command_id = uuid_of((uint8_t)(0x40 + i));
    cr_assert_eq(ex_deposit(a, "w", 1, &o, &r), 0);
    cr_assert_not(r.duplicate);
  }
  exec_now += 10 * so.command_retention_us; /* the store forgot them */

  o.command_id = uuid_of(0x40); /* the oldest, in a's grown window */
  cr_assert_eq(ex_deposit(a, "w", 1, &o, &r), 0);
  cr_assert(r.duplicate, "a's window lost the oldest id");
  cr_assert_eq(r.version, 2);

  b = ex_app(s, NULL);          /* cold: the window comes from the stream */
  o.command_id = uuid_of(0x90); /* new: b's first lookup reads it */
  cr_assert_eq(ex_deposit(b, "w", 1, &o, &r), 0);
  cr_assert_not(r.duplicate);
  cr_assert_eq(r.version, 42);
  for (int i = 0; i < 40; i += 13) {
    o.command_id = uuid_of((uint8_t)(0x40 + i));
    cr_assert_eq(ex_deposit(b, "w", 1, &o, &r), 0);
    cr_assert(r.duplicate, "id %d executed twice on a cold instance", i);
    cr_assert_eq(r.version, (uint64_t)i + 2);
  }
  o.command_id = uuid_of(0x90); /* taken after the load, still known */
  cr_assert_eq(ex_deposit(b, "w", 1, &o, &r), 0);
  cr_assert(r.duplicate);
  cr_assert_eq(r.version, 42);
  cr_assert_eq(ex_head(s), 42);
  cr_assert_eq(ex_read(b, "w").balance, 41);
  es_app_close(b);
  es_app_close(a);
  es_store_close(s);
}

/* ---- rejections and faults -------------------------------------------------
 */

Test(exec, rejection_carries_name_and_message_and_stores_nothing) {
  ledger_account_withdraw w = {.amount = 500};
  es_result r;
  cr_assert_eq(ledger_account_execute_withdraw(app, "a", &w, NULL, &r),
               ES_EREJECTED);
  cr_assert_eq(r.outcome, ES_OUTCOME_REJECTED);
  cr_assert_str_eq(r.error_name, "NotOpen");
  cr_assert_eq(r.error, LEDGER_ACCOUNT_NOT_OPEN);
  cr_assert_str_eq(r.message, "withdraw");
  cr_assert_eq(ex_head(store), 0);

  cr_assert_eq(ex_open(app, "a", 100), 0);
  cr_assert_eq(ledger_account_execute_withdraw(app, "a", &w, NULL, &r),
               ES_EREJECTED);
  cr_assert_eq(r.rc, ES_EREJECTED);
  cr_assert_str_eq(r.error_name, "InsufficientFunds");
  cr_assert_eq(r.error, LEDGER_ACCOUNT_INSUFFICIENT_FUNDS);
  cr_assert_str_eq(r.message, "balance too low");
  cr_assert_eq(r.n_events, 0);
  cr_assert_eq(r.version, 1);
  cr_assert_eq(ex_head(store), 1);
  cr_assert_eq(ex_read(app, "a").balance, 100);
}

Test(exec, decide_fault_fails_and_stores_nothing) {
  ledger_account_fault f = {.code = ES_EIO};
  es_result r;
  cr_assert_eq(ex_open(app, "a", 1), 0);
  cr_assert_eq(ledger_account_execute_fault(app, "a", &f, NULL, &r), ES_EIO);
  cr_assert_eq(r.outcome, ES_OUTCOME_FAILED);
  cr_assert_eq(r.rc, ES_EIO);
  cr_assert_eq(r.n_events, 0);
  cr_assert_eq(ex_head(store), 1);
  cr_assert_eq(ex_read(app, "a").postings, 0);
}

Test(exec, event_outside_emits_fails_and_stores_nothing) {
  ledger_account_stray c = {0};
  es_result r;
  cr_assert_eq(ex_open(app, "a", 1), 0);
  cr_assert_eq(ledger_account_execute_stray(app, "a", &c, NULL, &r),
               ES_ENOTEMITTED);
  cr_assert_eq(r.outcome, ES_OUTCOME_FAILED);
  cr_assert_eq(ex_head(store), 1);
  cr_assert_eq(ex_read(app, "a").balance, 1);
}

Test(exec, deciding_nothing_is_ok_and_appends_nothing) {
  ledger_account_nothing c = {0};
  es_result r;
  cr_assert_eq(ex_open(app, "a", 1), 0);
  cr_assert_eq(ledger_account_execute_nothing(app, "a", &c, NULL, &r), 0);
  cr_assert_eq(r.outcome, ES_OUTCOME_OK);
  cr_assert_eq(r.n_events, 0);
  cr_assert_eq(r.version, 1);
  cr_assert_eq(r.first_position, 0);
  cr_assert_eq(ex_head(store), 1);
}

/* ---- several events, metadata ------------------------------------------- */

typedef struct seen {
  es_event_meta meta[8];
  int64_t amount[8];
  char note[8][16];
  uint32_t n;
} seen;

static int see(const es_stored_event *ev, void *ctx) {
  seen *s = ctx;
  cr_assert_lt(s->n, 8);
  s->meta[s->n] = ev->meta;
  s->meta[s->n].aggregate = NULL;
  s->meta[s->n].key = NULL;
  if (ev->meta.type_id == ledger_account_deposited_desc.type_id) {
    ledger_account_deposited d;
    es_arena a;
    es_arena_init(&a, 0);
    cr_assert_eq(ledger_account_deposited_decode(&d, ev->payload, ev->len, &a),
                 0);
    s->amount[s->n] = d.amount;
    snprintf(s->note[s->n], sizeof s->note[0], "%s", d.note);
    es_arena_close(&a);
  }
  s->n++;
  return 0;
}

static bool uuid_eq(es_uuid a, es_uuid b) {
  return memcmp(a.bytes, b.bytes, 16) == 0;
}

static bool uuid_zero(es_uuid a) { return uuid_eq(a, uuid_of(0)); }

Test(exec, multi_event_command) {
  int64_t amounts[] = {1, 2, 3};
  ledger_account_split c = {.amounts = {amounts, 3}};
  es_result r;
  seen s = {0};
  cr_assert_eq(ex_open(app, "a", 10), 0);
  cr_assert_eq(ledger_account_execute_split(app, "a", &c, NULL, &r), 0);
  cr_assert_eq(r.n_events, 3);
  cr_assert_eq(r.version, 4);
  cr_assert_eq(r.first_position, 2);
  cr_assert_eq(r.last_position, 4);
  ex_account acc = ex_read(app, "a");
  cr_assert_eq(acc.balance, 16);
  cr_assert_eq(acc.postings, 3);
  cr_assert_eq(es_store_read_stream(store, "Account", "a", 2, 0, see, &s), 0);
  cr_assert_eq(s.n, 3);
  for (uint32_t i = 0; i < 3; i++) {
    cr_assert_eq(s.meta[i].version, i + 2);
    cr_assert_eq(s.amount[i], amounts[i]);
    cr_assert_str_eq(s.note[i], "split");
    cr_assert(uuid_eq(s.meta[i].causation_id, s.meta[0].causation_id));
  }
  /* A fresh app folds the same. */
  es_app *fresh = ex_app(store, NULL);
  cr_assert_eq(ex_read(fresh, "a").balance, 16);
  es_app_close(fresh);
}

Test(exec, correlation_and_causation) {
  es_exec_options o = {.command_id = uuid_of(0x11),
                       .correlation_id = uuid_of(0x22)};
  seen s = {0};
  cr_assert_eq(ex_open(app, "a", 0), 0);
  /* Given: on the events. */
  cr_assert_eq(ex_deposit(app, "a", 1, &o, NULL), 0);
  /* Absent: the command id. */
  o.correlation_id = uuid_of(0);
  o.command_id = uuid_of(0x33);
  cr_assert_eq(ex_deposit(app, "a", 1, &o, NULL), 0);
  cr_assert_eq(es_store_read_stream(store, "Account", "a", 0, 0, see, &s), 0);
  cr_assert_eq(s.n, 3);
  /* Neither: one fresh id for both. */
  cr_assert_not(uuid_zero(s.meta[0].causation_id));
  cr_assert(uuid_eq(s.meta[0].correlation_id, s.meta[0].causation_id));
  cr_assert(uuid_eq(s.meta[1].causation_id, uuid_of(0x11)));
  cr_assert(uuid_eq(s.meta[1].correlation_id, uuid_of(0x22)));
  cr_assert(uuid_eq(s.meta[2].causation_id, uuid_of(0x33)));
  cr_assert(uuid_eq(s.meta[2].correlation_id, uuid_of(0x33)));
  /* Fresh event ids and timestamps. */
  cr_assert_not(uuid_zero(s.meta[0].event_id));
  cr_assert_not(uuid_eq(s.meta[0].event_id, s.meta[1].event_id));
  cr_assert_gt(s.meta[2].timestamp, 0);
  cr_assert_eq(s.meta[1].type_version, 2);
}

/* ---- the type-erased entry --------------------------------------------------
 */

static size_t encode_deposit(int64_t amount, uint8_t *out, size_t cap) {
  ledger_account_deposit c = {.amount = amount};
  es_buf b;
  size_t n;
  es_buf_init(&b, 0);
  cr_assert_eq(ledger_account_deposit_encode(&c, &b), 0);
  cr_assert_leq(b.len, cap);
  memcpy(out, b.data, b.len);
  n = b.len;
  es_buf_close(&b);
  return n;
}

Test(exec, type_erased_entry_executes) {
  uint8_t mp[64];
  size_t n = encode_deposit(7, mp, sizeof mp);
  es_result r;
  cr_assert_eq(ex_open(app, "a", 1), 0);
  cr_assert_eq(es_app_execute(app, "Account", "a", "Deposit", mp, n, NULL, &r),
               0);
  cr_assert_eq(r.outcome, ES_OUTCOME_OK);
  cr_assert_eq(r.version, 2);
  cr_assert_eq(ex_read(app, "a").balance, 8);
  /* A rejection comes through the same way. */
  cr_assert_eq(es_app_execute(app, "Account", "b", "Deposit", mp, n, NULL, &r),
               ES_EREJECTED);
  cr_assert_str_eq(r.error_name, "NotOpen");
}

Test(exec, type_erased_entry_refuses_hostile_input) {
  uint8_t mp[64], garbage[] = {0xc1, 0xc1, 0xc1}, *big;
  size_t n = encode_deposit(7, mp, sizeof mp);
  char long_key[ES_KEY_MAX + 2], max_key[ES_KEY_MAX + 1];
  es_result r;
  es_exec_options bad = {.expected = {99, 0}};
  cr_assert_eq(ex_open(app, "a", 1), 0);
  uint64_t head = ex_head(store);

  memset(long_key, 'k', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = '\0';
  memset(max_key, 'm', sizeof max_key - 1);
  max_key[sizeof max_key - 1] = '\0';
  big = calloc(1, store->opt.max_event_size + 1);
  cr_assert_not_null(big);

  struct {
    const char *agg, *key, *cmd;
    const void *mp;
    size_t len;
    const es_exec_options *opt;
    int rc;
  } cases[] = {
      {"Nope", "a", "Deposit", mp, n, NULL, ES_EUNKNOWN},
      {"Account", "a", "Nope", mp, n, NULL, ES_EUNKNOWN},
      {"account", "a", "Deposit", mp, n, NULL, ES_EUNKNOWN},
      {"Counter", "a", "Deposit", mp, n, NULL, ES_EUNKNOWN},
      {"", "a", "Deposit", mp, n, NULL, ES_EUNKNOWN},
      {"Account", "a", "Deposit", garbage, sizeof garbage, NULL, 1},
      {"Account", "a", "Deposit", mp, n - 1, NULL, ES_ETRUNC},
      {"Account", "a", "Deposit", mp, 0, NULL, ES_ETRUNC},
      {"Account", "a", "Deposit", NULL, 0, NULL, ES_ETRUNC},
      {"Account", "a", "Deposit", big, store->opt.max_event_size + 1, NULL,
       ES_ETOOBIG},
      {"Account", "a", "Deposit", mp, SIZE_MAX, NULL, ES_ETOOBIG},
      {"Account", long_key, "Deposit", mp, n, NULL, ES_EINVAL},
      {"Account", "", "Deposit", mp, n, NULL, ES_EINVAL},
      {"Account", NULL, "Deposit", mp, n, NULL, ES_EINVAL},
      {NULL, "a", "Deposit", mp, n, NULL, ES_EINVAL},
      {"Account", "a", NULL, mp, n, NULL, ES_EINVAL},
      {"Account", "a", "Deposit", NULL, n, NULL, ES_EINVAL},
      {"Account", "a", "Deposit", mp, n, &bad, ES_EINVAL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memset(&r, 0xff, sizeof r);
    int rc = es_app_execute(app, cases[i].agg, cases[i].key, cases[i].cmd,
                            cases[i].mp, cases[i].len, cases[i].opt, &r);
    if (cases[i].rc == 1)
      cr_assert(rc < 0, "case %zu: %d", i, rc);
    else
      cr_assert_eq(rc, cases[i].rc, "case %zu: %s, want %s", i, es_err_name(rc),
                   es_err_name(cases[i].rc));
    cr_assert_eq(r.rc, rc, "case %zu", i);
    cr_assert_eq(r.outcome, ES_OUTCOME_FAILED, "case %zu", i);
    cr_assert_eq(r.n_events, 0, "case %zu", i);
    cr_assert_eq(ex_head(store), head, "case %zu", i);
  }
  cr_assert_eq(es_app_execute(NULL, "Account", "a", "Deposit", mp, n, NULL, &r),
               ES_EINVAL);
  cr_assert_eq(
      es_app_execute(app, "Account", "a", "Deposit", mp, n, NULL, NULL), 0);
  /* The longest key is fine. */
  cr_assert_eq(ex_open(app, max_key, 1), 0);
  cr_assert_eq(
      es_app_execute(app, "Account", max_key, "Deposit", mp, n, NULL, &r), 0);
  cr_assert_eq(ex_read(app, max_key).balance, 8);
  free(big);

  /* The typed entry's own argument checks. */
  ledger_account_deposit c = {.amount = 1};
  cr_assert_eq(es_app_execute_value(app, &ledger_account_aggregate, 99, "a", &c,
                                    NULL, &r),
               ES_EINVAL);
  cr_assert_eq(es_app_execute_value(app, &ledger_account_aggregate, 1, "a",
                                    NULL, NULL, &r),
               ES_EINVAL);
  cr_assert_eq(es_app_execute_value(app, NULL, 1, "a", &c, NULL, &r),
               ES_EINVAL);
  cr_assert_eq(es_app_execute_value(app, &ledger_account_aggregate, 1, long_key,
                                    &c, NULL, &r),
               ES_EINVAL);
  cr_assert_eq(es_app_open(NULL, &ledger_schema, store, NULL), ES_EINVAL);
}

/* A command whose decoded form is much larger than its msgpack (a list of
 * empty strings: one byte each on the wire, a pointer and an allocation in
 * memory) must decode at the type-erased entry as it does when typed. */
Test(exec, type_erased_entry_decodes_compact_lists) {
  enum { N = 4000 };
  const char **tags = calloc(N, sizeof *tags);
  ledger_account_tag c;
  es_buf b;
  es_result r;
  cr_assert_not_null(tags);
  for (int i = 0; i < N; i++)
    tags[i] = "";
  c.tags.items = tags;
  c.tags.count = N;
  es_buf_init(&b, 0);
  cr_assert_eq(ledger_account_tag_encode(&c, &b), 0);
  cr_assert_eq(
      es_app_execute(app, "Account", "t", "Tag", b.data, b.len, NULL, &r), 0,
      "%s", es_err_name(r.rc));
  cr_assert_eq(r.n_events, 1);
  es_buf_close(&b);
  free(tags);
}

/* ---- snapshots
 * ---------------------------------------------------------------- */

typedef struct counted {
  int64_t total;
  uint64_t adds, version;
} counted;

static int counter_fn(const void *state, uint64_t version, void *ctx) {
  const ledger_counter_state *s = state;
  counted *c = ctx;
  c->total = s->total;
  c->adds = s->adds;
  c->version = version;
  return 0;
}

static counted read_counter(es_app *a, const char *key) {
  counted c = {0};
  cr_assert_eq(
      es_app_read_state(a, &ledger_counter_aggregate, key, counter_fn, &c), 0);
  return c;
}

static void add(es_app *a, const char *key, int n) {
  for (int i = 1; i <= n; i++) {
    ledger_counter_add c = {.amount = i};
    cr_assert_eq(ledger_counter_execute_add(a, key, &c, NULL, NULL), 0);
  }
}

Test(exec, snapshot_is_written_and_used_on_reload) {
  es_app_stats st;
  es_snapshot_info info;
  es_buf b;
  add(app, "c", 25); /* snapshot every 10: at 10 and 20 */
  es_app_stats_get(app, &st);
  cr_assert_eq(st.snapshots, 2);
  es_buf_init(&b, 0);
  cr_assert_eq(es_store_snapshot_get(store, "Counter", "c", &info, &b), 0);
  cr_assert_eq(info.version, 20);
  cr_assert_eq(info.layout, ledger_counter_state_desc.layout_hash);
  es_buf_close(&b);

  es_app *fresh = ex_app(store, NULL);
  counted c = read_counter(fresh, "c");
  cr_assert_eq(c.total, 25 * 26 / 2);
  cr_assert_eq(c.adds, 25);
  cr_assert_eq(c.version, 25);
  es_app_stats_get(fresh, &st);
  cr_assert_eq(st.replayed, 5);
  /* It goes on from there. */
  add(fresh, "c", 5);
  cr_assert_eq(read_counter(fresh, "c").total, 25 * 26 / 2 + 15);
  es_app_stats_get(fresh, &st);
  cr_assert_eq(st.snapshots, 1); /* at 30 */
  es_app_close(fresh);
}

static void put_snapshot(uint64_t layout, uint64_t version, int64_t total) {
  ledger_counter_state s = {.total = total, .adds = 1};
  es_snapshot_info info = {.version = version, .layout = layout};
  es_buf b;
  es_buf_init(&b, 0);
  cr_assert_eq(ledger_counter_state_encode(&s, &b), 0);
  cr_assert_eq(
      es_store_snapshot_put(store, "Counter", "c", &info, b.data, b.len), 0);
  es_buf_close(&b);
}

Test(exec, snapshot_of_another_layout_is_ignored) {
  es_app_stats st;
  add(app, "c", 25);
  /* Wrong layout, a plausible version, a wrong total. */
  put_snapshot(ledger_counter_state_desc.layout_hash ^ 1, 24, 999999);
  es_app *fresh = ex_app(store, NULL);
  counted c = read_counter(fresh, "c");
  cr_assert_eq(c.total, 25 * 26 / 2);
  cr_assert_eq(c.version, 25);
  es_app_stats_get(fresh, &st);
  cr_assert_eq(st.replayed, 25);
  /* It is rebuilt with the current layout at the next opportunity. */
  add(fresh, "c", 1);
  es_app_stats_get(fresh, &st);
  cr_assert_eq(st.snapshots, 1);
  es_app_close(fresh);
  fresh = ex_app(store, NULL);
  cr_assert_eq(read_counter(fresh, "c").total, 25 * 26 / 2 + 1);
  es_app_stats_get(fresh, &st);
  cr_assert_eq(st.replayed, 0);
  es_app_close(fresh);
}

Test(exec, undecodable_snapshot_is_ignored) {
  es_snapshot_info info = {.version = 20,
                           .layout = ledger_counter_state_desc.layout_hash};
  add(app, "c", 25);
  cr_assert_eq(es_store_snapshot_put(store, "Counter", "c", &info, "\xc1", 1),
               0);
  es_app *fresh = ex_app(store, NULL);
  counted c = read_counter(fresh, "c");
  cr_assert_eq(c.total, 25 * 26 / 2);
  cr_assert_eq(c.adds, 25);
  es_app_close(fresh);
}

/* ---- the cache --------------------------------------------------------------
 */

Test(exec, idle_eviction_then_reload_gives_the_same_state) {
  es_app_options ao = ES_APP_OPTIONS_INIT;
  es_app_stats st;
  ao.cache_idle_us = 1000;
  es_app *a2 = ex_app(store, &ao);
  cr_assert_eq(ex_open(a2, "a", 3), 0);
  for (int i = 0; i < 20; i++)
    cr_assert_eq(ex_deposit(a2, "a", i, NULL, NULL), 0);
  add(a2, "c", 15);
  ex_account before = ex_read(a2, "a");
  counted cbefore = read_counter(a2, "c");
  sleep_us(3000);
  cr_assert_eq(es_app_evict(a2), 2);
  es_app_stats_get(a2, &st);
  cr_assert_eq(st.loaded, 0);
  cr_assert_eq(st.bytes, 0);
  cr_assert_eq(st.instances, 2);
  ex_account after = ex_read(a2, "a");
  cr_assert_eq(after.balance, before.balance);
  cr_assert_eq(after.postings, before.postings);
  cr_assert_eq(after.version, before.version);
  counted cafter = read_counter(a2, "c");
  cr_assert_eq(cafter.total, cbefore.total);
  cr_assert_eq(cafter.version, 15);
  es_app_stats_get(a2, &st);
  cr_assert_eq(st.loaded, 2);
  cr_assert_gt(st.bytes, 0);
  /* And commands go on from the reloaded state. */
  cr_assert_eq(ex_deposit(a2, "a", 1000, NULL, NULL), 0);
  cr_assert_eq(ex_read(a2, "a").balance, before.balance + 1000);
  es_app_close(a2);
}

Test(exec, memory_bound_evicts_and_reloads) {
  es_app_options ao = ES_APP_OPTIONS_INIT;
  es_app_stats st;
  char key[16];
  ao.cache_max_bytes = 1; /* every instance is over it */
  ao.cache_idle_us = -1;
  es_app *a2 = ex_app(store, &ao);
  for (int k = 0; k < 10; k++) {
    snprintf(key, sizeof key, "k%d", k);
    cr_assert_eq(ex_open(a2, key, k), 0);
    for (int i = 0; i < 5; i++)
      cr_assert_eq(ex_deposit(a2, key, 10, NULL, NULL), 0);
  }
  es_app_stats_get(a2, &st);
  cr_assert_gt(st.evictions, 0);
  cr_assert_leq(st.loaded, 1);
  for (int k = 0; k < 10; k++) {
    snprintf(key, sizeof key, "k%d", k);
    ex_account a = ex_read(a2, key);
    cr_assert_eq(a.balance, k + 50);
    cr_assert_eq(a.version, 6);
  }
  es_app_close(a2);
}

/* What es_app_read_state() shows of an Account's tags. */
typedef struct tag_check {
  uint32_t count;
  char first[24], last[24];
} tag_check;

static int tags_fn(const void *state, uint64_t version, void *ctx) {
  const ledger_account_state *s = state;
  tag_check *c = ctx;
  (void)version;
  c->count = s->tags.count;
  if (s->tags.count) {
    snprintf(c->first, sizeof c->first, "%s", s->tags.items[0]);
    snprintf(c->last, sizeof c->last, "%s", s->tags.items[s->tags.count - 1]);
  }
  return 0;
}

/* Many large events make the state's arena compact (re-encode) itself;
 * the state must come through unchanged and the memory stay bounded. */
Test(exec, state_compaction_keeps_the_state) {
  enum { N = 400, ROUNDS = 80 };
  const char **tags = calloc(N, sizeof *tags);
  char(*text)[24] = calloc(N, sizeof *text);
  es_app_stats st;
  tag_check got = {0};
  cr_assert_not_null(tags);
  cr_assert_not_null(text);
  for (int round = 0; round < ROUNDS; round++) {
    ledger_account_tag c;
    for (int i = 0; i < N; i++) {
      snprintf(text[i], sizeof text[i], "tag-%d-%d", round, i);
      tags[i] = text[i];
    }
    c.tags.items = tags;
    c.tags.count = N;
    cr_assert_eq(ledger_account_execute_tag(app, "t", &c, NULL, NULL), 0);
  }
  es_app_stats_get(app, &st);
  /* 80 rounds of over 10 KiB decoded each would be about 1 MiB uncompacted. */
  cr_assert_lt(st.bytes, (size_t)512 << 10, "%zu bytes", st.bytes);
  cr_assert_eq(
      es_app_read_state(app, &ledger_account_aggregate, "t", tags_fn, &got), 0);
  cr_assert_eq(got.count, N);
  cr_assert_str_eq(got.first, "tag-79-0");
  cr_assert_str_eq(got.last, "tag-79-399");
  free(tags);
  free(text);
}

/* ---- upcasting on load ----------------------------------------------------
 */

static void append_raw(const char *key, const es_type_desc *t, const void *v,
                       uint32_t version_override) {
  es_buf b;
  es_new_event e;
  es_buf_init(&b, 0);
  cr_assert_eq(es_type_encode(t, v, &b), 0);
  memset(&e, 0, sizeof e);
  e.type_id = t->type_id;
  e.type_version = version_override ? version_override : t->version;
  e.payload = b.data;
  e.len = b.len;
  cr_assert_eq(
      es_store_append_one(store, "Account", key, es_expect_any(), &e, 1, NULL),
      0);
  es_buf_close(&b);
}

Test(exec, older_event_versions_are_upcast_on_load) {
  ledger_account_opened o = {.owner = "ann", .initial = 10};
  ledger_account_deposited_v1 old = {.cents = 250};
  append_raw("a", &ledger_account_opened_desc, &o, 0);
  append_raw("a", &ledger_account_deposited_v1_desc, &old, 0);
  ex_account a = ex_read(app, "a");
  cr_assert_eq(a.balance, 12);
  cr_assert_eq(a.postings, 1);
  cr_assert_eq(a.version, 2);
  /* Commands work on top, and a fresh app reloads the same. */
  cr_assert_eq(ex_deposit(app, "a", 5, NULL, NULL), 0);
  es_app *fresh = ex_app(store, NULL);
  cr_assert_eq(ex_read(fresh, "a").balance, 17);
  es_app_close(fresh);
}

Test(exec, failing_upcast_or_unknown_version_fails_the_load) {
  ledger_account_opened o = {.owner = "ann", .initial = 10};
  ledger_account_deposited_v1 bad = {.cents = -1};
  ledger_account_deposited future = {.amount = 1};
  ex_account acc;
  es_result r;
  append_raw("a", &ledger_account_opened_desc, &o, 0);
  append_raw("a", &ledger_account_deposited_v1_desc, &bad, 0);
  cr_assert_eq(es_app_read_state(app, &ledger_account_aggregate, "a",
                                 ex_account_fn, &acc),
               ES_EUPCAST);
  cr_assert_eq(ex_deposit(app, "a", 1, NULL, &r), ES_EUPCAST);
  cr_assert_eq(r.outcome, ES_OUTCOME_FAILED);
  cr_assert_eq(ex_head(store), 2);

  append_raw("b", &ledger_account_opened_desc, &o, 0);
  append_raw("b", &ledger_account_deposited_desc, &future, 9);
  cr_assert_eq(es_app_read_state(app, &ledger_account_aggregate, "b",
                                 ex_account_fn, &acc),
               ES_EVERSION);
  cr_assert_eq(ex_deposit(app, "b", 1, NULL, &r), ES_EVERSION);
  cr_assert_eq(ex_head(store), 4);
}

Test(exec, read_state_argument_checks) {
  ex_account acc;
  cr_assert_eq(es_app_read_state(NULL, &ledger_account_aggregate, "a",
                                 ex_account_fn, &acc),
               ES_EINVAL);
  cr_assert_eq(es_app_read_state(app, NULL, "a", ex_account_fn, &acc),
               ES_EINVAL);
  cr_assert_eq(es_app_read_state(app, &ledger_account_aggregate, "",
                                 ex_account_fn, &acc),
               ES_EINVAL);
  cr_assert_eq(
      es_app_read_state(app, &ledger_account_aggregate, "a", NULL, &acc),
      ES_EINVAL);
  /* A stream without events reads as the initial state at version 0. */
  acc = ex_read(app, "nobody");
  cr_assert_eq(acc.version, 0);
  cr_assert_not(acc.open);
}

/* Command ids from before a snapshot are still recognized after a reload
 * that starts from the snapshot. */
Test(exec, command_id_survives_a_reload_from_a_snapshot) {
  es_exec_options o = {.command_id = uuid_of(0x5a)};
  ledger_counter_add c = {.amount = 1000};
  es_result first, again;
  es_app_stats st;
  add(app, "c", 3);
  cr_assert_eq(ledger_counter_execute_add(app, "c", &c, &o, &first), 0);
  add(app, "c", 20); /* snapshots at 10 and 20 */
  es_app *fresh = ex_app(store, NULL);
  cr_assert_eq(ledger_counter_execute_add(fresh, "c", &c, &o, &again), 0);
  cr_assert(again.duplicate, "executed twice");
  cr_assert_eq(again.version, first.version);
  cr_assert_eq(again.first_position, first.first_position);
  es_app_stats_get(fresh, &st);
  cr_assert_eq(st.replayed, 4); /* from the snapshot at 20 */
  cr_assert_eq(read_counter(fresh, "c").total, 3 * 4 / 2 + 1000 + 20 * 21 / 2);
  es_app_close(fresh);
}

/* More events than the executor's on-stack array holds. */
Test(exec, many_events_in_one_command) {
  int64_t amounts[64];
  ledger_account_split c = {.amounts = {amounts, 64}};
  es_result r;
  for (int i = 0; i < 64; i++)
    amounts[i] = i + 1;
  cr_assert_eq(ex_open(app, "a", 0), 0);
  cr_assert_eq(ledger_account_execute_split(app, "a", &c, NULL, &r), 0);
  cr_assert_eq(r.n_events, 64);
  cr_assert_eq(r.version, 65);
  cr_assert_eq(r.last_position - r.first_position, 63);
  cr_assert_eq(ex_read(app, "a").balance, 64 * 65 / 2);
  es_app *fresh = ex_app(store, NULL);
  cr_assert_eq(ex_read(fresh, "a").postings, 64);
  es_app_close(fresh);
}
