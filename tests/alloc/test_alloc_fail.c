/*
 * test_alloc_fail.c - allocation-failure torture, in the style of curl's:
 * a scenario that uses every part of libes (the embedded log store, the
 * executor, the Balances projection and the MoneyTransfer saga of the bank
 * example) is run again and again with an allocator (es_set_allocator)
 * that fails exactly one allocation: the 1st, then the 2nd, and so on,
 * until a run makes fewer allocations than the one to fail, i.e. completes
 * untouched. After every run:
 *
 *  - the first step that failed, failed with ES_ENOMEM (a failure that
 *    libes absorbed by itself, a retry or a skipped cache, is fine: the
 *    run then goes on and must complete);
 *  - once everything is closed, libes holds no memory (the allocator
 *    counts live blocks; under ASan, LeakSanitizer checks the rest);
 *  - the store reopens and holds every event whose append was
 *    acknowledged.
 *
 * The same scenario runs on a memory store (without the reopening).
 *
 * Logging (at DEBUG) and metrics are on, so their allocations are failed
 * too. The scenario makes a few hundred allocations and every one of them
 * is failed in turn: keep it of that size, as each allocation costs one
 * run (docs/testing-the-runtime.md). ES_ALLOC_FAIL_TRACE=1 prints where
 * each failed allocation was made.
 */
#include <execinfo.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bank_app.h"
#include "dir.h"
#include "es/es_alloc.h"
#include "es/es_saga_run.h"

/* ---- the failing allocator ----------------------------------------------- */

/* A header before every block keeps its size, so realloc and free can
 * account for it; its alignment keeps the block's. */
typedef union hdr {
  size_t size;
  max_align_t align;
} hdr;

static atomic_long calls; /* allocations asked for this run */
static atomic_long live;  /* blocks allocated and not yet freed */
static long fail_at;      /* the call to fail (1-based); 0: none */
static atomic_int failed; /* the failure was injected */

/* Set ES_ALLOC_FAIL_TRACE=1 to see where each failed allocation was
 * asked for (a stack trace on stderr). */
static int trace_failures;

static int should_fail(void) {
  long n = atomic_fetch_add(&calls, 1) + 1;
  if (fail_at && n == fail_at) {
    atomic_store(&failed, 1);
    if (trace_failures) {
      void *frames[32];
      fprintf(stderr, "allocation %ld fails here:\n", n);
      backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    }
    return 1;
  }
  return 0;
}

static void *t_malloc(size_t size) {
  hdr *h;
  if (should_fail() || size > SIZE_MAX - sizeof *h)
    return NULL;
  h = malloc(sizeof *h + size);
  if (!h)
    return NULL;
  h->size = size;
  atomic_fetch_add(&live, 1);
  return h + 1;
}

static void *t_calloc(size_t count, size_t size) {
  void *p;
  if (size && count > (SIZE_MAX - sizeof(hdr)) / size) {
    should_fail();
    return NULL;
  }
  p = t_malloc(count * size);
  if (p)
    memset(p, 0, count * size);
  return p;
}

static void *t_realloc(void *ptr, size_t size) {
  hdr *h, *moved;
  if (!ptr)
    return t_malloc(size);
  if (should_fail() || size > SIZE_MAX - sizeof *h)
    return NULL;
  h = (hdr *)ptr - 1;
  moved = realloc(h, sizeof *h + size);
  if (!moved)
    return NULL;
  moved->size = size;
  return moved + 1;
}

static void t_free(void *ptr) {
  if (!ptr)
    return;
  atomic_fetch_sub(&live, 1);
  free((hdr *)ptr - 1);
}

/* ---- the scenario ---------------------------------------------------------
 */

/* What the store must hold after a run: the stream versions acknowledged
 * by the executor, and the head the saga acknowledged. */
typedef struct acked {
  uint64_t alice, bob, transfer, head;
} acked;

typedef struct run_result {
  int rc;           /* the first failure (0: none) */
  const char *step; /* where it happened */
  acked ack;
} run_result;

static int64_t fixed_clock(void *ctx) {
  (void)ctx;
  return INT64_C(1700000000) * 1000000;
}

static void no_sleep(void *ctx, int64_t us) {
  (void)ctx;
  (void)us;
}

/* A log hook that reads what it is given (so a field libes failed to fill
 * would show under ASan) and keeps nothing. */
static void read_log(void *ctx, int level, const char *msg,
                     const es_log_field *fields, size_t n_fields) {
  size_t *bytes = ctx;
  (void)level;
  *bytes += strlen(msg);
  for (size_t i = 0; i < n_fields; i++)
    *bytes += strlen(fields[i].key) + strlen(fields[i].value);
}

#define STEP(name, call)                                                       \
  do {                                                                         \
    int step_rc_ = (call);                                                     \
    if (step_rc_ != 0) {                                                       \
      res->rc = step_rc_;                                                      \
      res->step = name;                                                        \
      goto done;                                                               \
    }                                                                          \
  } while (0)

/* Executes one command expected to succeed; records the version. */
static int acked_command(int rc, const es_result *r, uint64_t *version) {
  if (rc == 0)
    *version = r->version;
  return rc;
}

/* Opens the store of the scenario: the embedded log in `dir`, or (`dir`
 * NULL) a memory store. */
static int open_store(es_store **store, const char *dir, const es_obs *obs) {
  es_store_options sopt = ES_STORE_OPTIONS_INIT;
  sopt.obs = obs;
  if (!dir)
    return es_store_open_memory(store, &sopt);
  return es_store_open_log(store, dir, &sopt, 0);
}

/* The scenario, on the log store in `dir` (or, `dir` NULL, on a memory
 * store, which the second half keeps instead of reopening). */
static void scenario(const char *dir, run_result *res) {
  es_projection_options popt = ES_PROJECTION_OPTIONS_INIT;
  es_saga_options gopt = ES_SAGA_OPTIONS_INIT;
  es_app_options aopt = ES_APP_OPTIONS_INIT;
  es_obs obs = ES_OBS_INIT;
  es_metrics metrics = {0};
  es_buf exposition;
  size_t logged = 0;
  es_store *store = NULL;
  es_app *app = NULL;
  es_projection *proj = NULL;
  es_saga_runner *saga = NULL;
  es_projection_report prep;
  es_saga_report grep;
  bank_balances_view view;
  char dead_letters[128];
  es_exec_options once;
  es_result r;

  memset(res, 0, sizeof *res);
  memset(&view, 0, sizeof view);
  es_buf_init(&exposition, 0);
  obs.log = read_log;
  obs.log_ctx = &logged;
  obs.log_level = ES_LOG_DEBUG;
  obs.metrics = &metrics;
  aopt.obs = &obs;
  popt.obs = &obs;
  gopt.obs = &obs;
  snprintf(dead_letters, sizeof dead_letters, "%s/dead-letters.jsonl",
           dir ? dir : "/tmp");
  popt.ctx = &view;
  popt.max_attempts = 1;
  gopt.dead_letter_path = dir ? dead_letters : NULL;
  gopt.now_us = fixed_clock;
  gopt.sleep_us = no_sleep;

  STEP("metrics init", es_metrics_init(&metrics));
  STEP("store open", open_store(&store, dir, &obs));
  STEP("app open", es_app_open(&app, &bank_schema, store, &aopt));
  STEP("projection open",
       es_projection_open(&proj, &bank_schema, &bank_balances_projection, store,
                          &popt));
  STEP("saga open", es_saga_runner_open(&saga, app, &bank_money_transfer_saga,
                                        store, &gopt));
  {
    bank_account_open open;
    bank_account_open_init(&open);
    open.owner = "Alice";
    open.initial = 100;
    STEP("open alice",
         acked_command(bank_account_execute_open(app, "alice", &open, NULL, &r),
                       &r, &res->ack.alice));
    open.owner = "Bob";
    open.initial = 5;
    STEP("open bob",
         acked_command(bank_account_execute_open(app, "bob", &open, NULL, &r),
                       &r, &res->ack.bob));
  }
  {
    bank_account_deposit dep;
    bank_account_deposit_init(&dep);
    dep.amount = 10;
    memset(&once, 0, sizeof once);
    memcpy(once.command_id.bytes, "alloc-fail-test!", 16);
    STEP("deposit", acked_command(bank_account_execute_deposit(app, "alice",
                                                               &dep, &once, &r),
                                  &r, &res->ack.alice));
    STEP("deposit again",
         bank_account_execute_deposit(app, "alice", &dep, &once, &r));
    cr_assert(r.duplicate, "the retried deposit is a duplicate");
  }
  {
    bank_transfer_start start;
    bank_transfer_start_init(&start);
    start.from = "alice";
    start.to = "bob";
    start.amount = 30;
    STEP("transfer",
         acked_command(bank_transfer_execute_start(app, "t1", &start, NULL, &r),
                       &r, &res->ack.transfer));
  }
  STEP("saga run", es_saga_run_until_caught_up(saga, &grep));
  STEP("saga head", es_store_head(store, &res->ack.head));
  STEP("projection run", es_projection_run_until_caught_up(proj, &prep));
  cr_assert_eq(bank_view_balance(&view, "alice"), 80);
  cr_assert_eq(bank_view_balance(&view, "bob"), 35);

  /* Closed and opened again: recovery, a state loaded from the log, a
   * projection resumed from its checkpoint. */
  es_saga_runner_close(saga);
  es_projection_close(proj);
  es_app_close(app);
  saga = NULL, proj = NULL, app = NULL;
  if (dir) {
    es_store_close(store);
    store = NULL;
    STEP("store reopen", open_store(&store, dir, &obs));
  }
  STEP("app reopen", es_app_open(&app, &bank_schema, store, &aopt));
  {
    bank_account_withdraw w;
    bank_account_withdraw_init(&w);
    w.amount = 1;
    STEP("withdraw after reopen", acked_command(bank_account_execute_withdraw(
                                                    app, "alice", &w, NULL, &r),
                                                &r, &res->ack.alice));
  }
  STEP("projection reopen",
       es_projection_open(&proj, &bank_schema, &bank_balances_projection, store,
                          &popt));
  STEP("projection resume", es_projection_run_until_caught_up(proj, &prep));
  cr_assert_eq(bank_view_balance(&view, "alice"), 79);
  STEP("metrics exposition",
       es_metrics_write_prometheus(&metrics, &exposition));
done:
  es_saga_runner_close(saga);
  es_projection_close(proj);
  es_app_close(app);
  es_store_close(store);
  es_metrics_close(&metrics);
  es_buf_close(&exposition);
}

/* Reopens the store of a run (no failure injected) and checks that it
 * holds what the run acknowledged. */
static void check_reopen(const char *dir, const acked *ack, long at) {
  es_store_options sopt = ES_STORE_OPTIONS_INIT;
  es_store *store = NULL;
  uint64_t v, head;
  int rc = es_store_open_log(&store, dir, &sopt, 0);
  cr_assert_eq(rc, 0, "failing allocation %ld: reopen: %s", at,
               es_strerror(rc));
  cr_assert_eq(es_store_stream_version(store, "Account", "alice", &v), 0);
  cr_assert_geq(v, ack->alice, "failing allocation %ld: alice", at);
  cr_assert_eq(es_store_stream_version(store, "Account", "bob", &v), 0);
  cr_assert_geq(v, ack->bob, "failing allocation %ld: bob", at);
  cr_assert_eq(es_store_stream_version(store, "Transfer", "t1", &v), 0);
  cr_assert_geq(v, ack->transfer, "failing allocation %ld: t1", at);
  cr_assert_eq(es_store_head(store, &head), 0);
  cr_assert_geq(head, ack->head, "failing allocation %ld: head", at);
  es_store_close(store);
}

/* One run failing allocation `at` (0: none). Returns whether the failure
 * was injected (the scenario made at least `at` allocations). */
static int torture_run(long at, long *allocations, int on_log) {
  char dir[64];
  run_result res;
  int injected;

  snprintf(dir, sizeof dir, "/tmp/es_alloc_fail.XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  if (!on_log) {
    rmdir(dir);
    *dir = '\0';
  }
  atomic_store(&calls, 0);
  atomic_store(&failed, 0);
  fail_at = at;
  scenario(on_log ? dir : NULL, &res);
  fail_at = 0;
  injected = atomic_load(&failed);
  *allocations = atomic_load(&calls);

  if (res.rc != 0)
    cr_log_info("failing allocation %ld: %s: %s", at, res.step,
                es_err_name(res.rc));
  else if (injected)
    cr_log_info("failing allocation %ld: absorbed", at);
  if (res.rc != 0) {
    cr_assert(injected,
              "failing allocation %ld: %s failed with %s, but no "
              "allocation had failed",
              at, res.step, es_err_name(res.rc));
    cr_assert_eq(res.rc, ES_ENOMEM,
                 "failing allocation %ld: %s failed with %s, not ES_ENOMEM", at,
                 res.step, es_err_name(res.rc));
  }
  cr_assert_eq(atomic_load(&live), 0,
               "failing allocation %ld (%s): %ld block(s) leaked", at,
               res.rc ? res.step : "absorbed", atomic_load(&live));
  if (on_log) {
    check_reopen(dir, &res.ack, at);
    cr_assert_eq(atomic_load(&live), 0, "after reopening: %ld block(s) leaked",
                 atomic_load(&live));
    remove_dir(dir);
  }
  return injected;
}

/* Fails allocation 1, 2, ... of the scenario in turn until one run
 * completes without reaching the failure. */
static void torture(int on_log) {
  long allocations = 0, at, runs = 0;

  trace_failures = getenv("ES_ALLOC_FAIL_TRACE") != NULL;
  cr_assert_eq(es_set_allocator(t_malloc, NULL, t_realloc, t_free), ES_EINVAL);
  cr_assert_eq(es_set_allocator(t_malloc, t_calloc, t_realloc, t_free), 0);

  /* Without a failure, the scenario completes: the baseline. */
  cr_assert_not(torture_run(0, &allocations, on_log));
  cr_log_info("the scenario makes %ld allocations", allocations);
  cr_assert_gt(allocations, 50);

  for (at = 1;; at++) {
    long n = 0;
    if (!torture_run(at, &n, on_log))
      break;
    runs++;
  }
  cr_log_info("%ld runs, each failing one allocation, up to %ld", runs, at);
  cr_assert_geq(at, allocations, "the runs stopped before the scenario's end");
  cr_assert_eq(es_set_allocator(NULL, NULL, NULL, NULL), 0);
}

/* Timeouts sized for ASan on a loaded machine (a run takes seconds). */
Test(alloc, log_store_every_failing_allocation_is_enomem_and_loses_nothing,
     .timeout = 600) {
  torture(1);
}

Test(alloc, memory_store_every_failing_allocation_is_enomem, .timeout = 600) {
  torture(0);
}
