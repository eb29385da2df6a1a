/*
 * test_saga_run.c - the saga runner on the bank's MoneyTransfer saga
 * (schemas/bank.es, examples/bank/bank.stubs.c): the happy path,
 * compensations, durable timeouts across restarts, crashes injected at
 * every point of the outbox, retries and the dead-letter log.
 */
#include <time.h>
#include <unistd.h>

#include "saga_support.h"

static world w;

static void setup(void) { w_init(&w); }
static void teardown(void) { w_fini(&w); }

TestSuite(saga, .init = setup, .fini = teardown);

Test(saga, happy_path_withdraws_deposits_completes) {
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 30);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.events, 3);     /* Started, Withdrawn, Deposited */
  cr_assert_eq(w.rep.dispatched, 3); /* Withdraw, Deposit, Complete */
  cr_assert_eq(w.rep.steps, 3);
  cr_assert_eq(w.rep.completed, 1);
  cr_assert_eq(w.rep.dead_lettered, 0);
  cr_assert_eq(w.rep.duplicates, 0);
  cr_assert_eq(w_balance(&w, "a"), 70);
  cr_assert_eq(w_balance(&w, "b"), 30);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_DONE);
  cr_assert_eq(es_saga_pending_timeouts(w.r, NULL), 0);
  /* A second run finds nothing to do. */
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.events + w.rep.dispatched + w.rep.steps, 0);
  cr_assert_eq(w_max_events_per_command(&w), 1);
}

Test(saga, rejected_withdraw_fails_the_transfer) {
  w_open_account(&w, "a", 10);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 50);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.rejections, 1);
  cr_assert_eq(w.rep.completed, 1);
  cr_assert_eq(w.rep.dead_lettered, 0);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_FAILED);
  cr_assert_eq(w_balance(&w, "a"), 10);
  cr_assert_eq(w_balance(&w, "b"), 0);
  cr_assert_eq(es_saga_pending_timeouts(w.r, NULL), 0);
}

Test(saga, rejected_deposit_refunds_and_fails) {
  w_open_account(&w, "a", 100);
  w_start(&w, "t1", "a", "nobody", 40); /* "nobody" is not open */
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.rejections, 1);
  cr_assert_eq(w.rep.completed, 1);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_FAILED);
  cr_assert_eq(w_balance(&w, "a"), 100); /* withdrawn, then refunded */
  cr_assert_eq(w_max_events_per_command(&w), 1);
}

Test(saga, timeout_fires_after_restart_when_due) {
  int64_t earliest;
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  /* Amount 0: Withdraw is a fault (ES_EINVAL), not a rejection, so it is
   * dead-lettered and the transfer is stuck before the withdrawal. */
  w_start(&w, "t1", "a", "b", 0);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.dead_lettered, 1);
  cr_assert_eq(w.rep.completed, 0);
  cr_assert_eq(es_saga_pending_timeouts(w.r, &earliest), 1);
  cr_assert_eq(earliest, w.now + HOUR);

  /* Not due yet, across a restart: nothing fires. */
  w.now += HOUR / 2;
  w_restart(&w);
  cr_assert_eq(es_saga_pending_timeouts(w.r, &earliest), 1);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.timeouts_fired, 0);

  /* Due: fires once, the saga gives up: it fails the transfer, and stays
   * open so that a withdrawal still to come would be refunded. */
  w.now += HOUR;
  w_restart(&w);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.timeouts_fired, 1);
  cr_assert_eq(w.rep.completed, 0);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_FAILED);
  cr_assert_eq(es_saga_pending_timeouts(w.r, NULL), 0);
  w_restart(&w);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.timeouts_fired, 0);
  cr_assert_eq(w_balance(&w, "a"), 100);
}

Test(saga, timeout_cancelled_by_completion_never_fires) {
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 30);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.completed, 1);
  w.now += 10 * HOUR;
  w_restart(&w);
  cr_assert_eq(es_saga_pending_timeouts(w.r, NULL), 0);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.timeouts_fired, 0);
}

/* ---- crashes ------------------------------------------------------------ */

static int crash_at_first_handled(void *ctx, es_saga_point p) {
  int *seen = ctx;
  return p == ES_SAGA_AT_HANDLED && (*seen)++ == 0;
}

/* The runner stops after the withdrawal was sent, and is back only after
 * the give-up came due: the events already in the store (the withdrawal,
 * and the deposit it leads to) are handled before the timeout fires, so
 * the transfer completes and nothing is refunded twice over. */
Test(saga, timeout_due_at_restart_waits_for_the_events_before_it) {
  int seen = 0;
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 30);
  w.opt.crash_hook = crash_at_first_handled;
  w.opt.hook_ctx = &seen;
  w_restart(&w);
  cr_assert_eq(w_run(&w), ES_EINTERRUPTED);
  w.opt.crash_hook = NULL;
  w.now += 2 * HOUR;
  w_restart(&w);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_DONE);
  cr_assert_eq(w_balance(&w, "a"), 70);
  cr_assert_eq(w_balance(&w, "b"), 30);
  cr_assert_eq(w.rep.timeouts_fired, 0);
  cr_assert_eq(es_saga_pending_timeouts(w.r, NULL), 0);
}

/* Crashes the runner the `at`-th time it reaches any es_saga_point. */
typedef struct crash_plan {
  int calls, at;
  int crashed;
} crash_plan;

static int crash_hook(void *ctx, es_saga_point p) {
  crash_plan *c = ctx;
  (void)p;
  if (++c->calls == c->at) {
    c->crashed = 1;
    return 1;
  }
  return 0;
}

/* Three transfers (one completes, one is rejected at the withdrawal, one
 * at the deposit and refunded) and one stuck transfer whose timeout comes
 * due; the runner crashes at its `at`-th point, restarts (with a fresh
 * executor: only the store survives) and runs to the end. Returns whether
 * the crash happened. */
static int crash_scenario(int at) {
  crash_plan plan = {0, at, 0};
  int rc;

  w_fini(&w);
  w_init(&w);
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 50);
  w_open_account(&w, "c", 5);
  w_start(&w, "t4", "a", "b", 0); /* stuck: gives up on its timeout */
  cr_assert_eq(w_run(&w), 0);
  w.now += 2 * HOUR;                    /* which is due in the next run */
  w_start(&w, "t1", "a", "b", 30);      /* completes */
  w_start(&w, "t2", "c", "a", 20);      /* withdraw rejected */
  w_start(&w, "t3", "b", "nobody", 10); /* deposit rejected: refund */
  w.opt.crash_hook = crash_hook;
  w.opt.hook_ctx = &plan;
  w_restart(&w);
  rc = w_run(&w);
  if (plan.crashed)
    cr_assert_eq(rc, ES_EINTERRUPTED, "crash %d: rc %d", at, rc);
  else
    cr_assert_eq(rc, 0, "no crash %d: rc %s", at, es_err_name(rc));
  w.opt.crash_hook = NULL;
  w_restart(&w);
  cr_assert_eq(w_run(&w), 0, "after crash %d", at);
  /* Everything ended, nothing was created or destroyed, nothing ran
   * twice. */
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_DONE, "crash %d", at);
  cr_assert_eq(w_status(&w, "t2"), BANK_TRANSFER_STATUS_FAILED, "crash %d", at);
  cr_assert_eq(w_status(&w, "t3"), BANK_TRANSFER_STATUS_FAILED, "crash %d", at);
  cr_assert_eq(w_status(&w, "t4"), BANK_TRANSFER_STATUS_FAILED, "crash %d", at);
  cr_assert_eq(w_balance(&w, "a"), 70, "crash %d", at);
  cr_assert_eq(w_balance(&w, "b"), 80, "crash %d", at);
  cr_assert_eq(w_balance(&w, "c"), 5, "crash %d", at);
  cr_assert_eq(w_max_events_per_command(&w), 1, "crash %d: a command ran twice",
               at);
  cr_assert_eq(es_saga_pending_timeouts(w.r, NULL), 0, "crash %d", at);
  return plan.crashed;
}

Test(saga, crash_at_every_point_of_the_outbox, .timeout = 120) {
  int at, crashes = 0;
  for (at = 1; at < 1000; at++) {
    if (!crash_scenario(at))
      break;
    crashes++;
  }
  cr_log_info("%d crash points covered", crashes);
  cr_assert_gt(crashes, 20, "only %d crash points", crashes);
  cr_assert_lt(at, 1000);
}

/* Two crashes in a row, the second during the recovery of the first. */
Test(saga, crash_during_recovery, .timeout = 120) {
  for (int first = 1; first < 40; first += 3) {
    crash_plan p1 = {0, first, 0}, p2 = {0, 2, 0};
    w_fini(&w);
    w_init(&w);
    w_open_account(&w, "a", 100);
    w_open_account(&w, "b", 0);
    w_start(&w, "t1", "a", "nobody", 30);
    w_start(&w, "t2", "a", "b", 30);
    w.opt.crash_hook = crash_hook;
    w.opt.hook_ctx = &p1;
    w_restart(&w);
    w_run(&w);
    w.opt.hook_ctx = &p2;
    w_restart(&w);
    w_run(&w);
    w.opt.crash_hook = NULL;
    w_restart(&w);
    cr_assert_eq(w_run(&w), 0);
    cr_assert_eq(w_balance(&w, "a"), 70, "crash %d", first);
    cr_assert_eq(w_balance(&w, "b"), 30, "crash %d", first);
    cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_FAILED);
    cr_assert_eq(w_status(&w, "t2"), BANK_TRANSFER_STATUS_DONE);
    cr_assert_eq(w_max_events_per_command(&w), 1);
  }
}

/* Crashes the runner at its `at`-th ES_SAGA_AT_DISPATCHED. */
static int crash_at_dispatch(void *ctx, es_saga_point p) {
  crash_plan *c = ctx;
  if (p == ES_SAGA_AT_DISPATCHED && ++c->calls == c->at) {
    c->crashed = 1;
    return 1;
  }
  return 0;
}

/* The case: a transfer's deposit step executes at the merchant,
 * the runner dies before its checkpoint, the merchant takes 10,000 other
 * commands (far more than any per-instance window), then the runner
 * restarts and re-sends the step. The deposit must land once. */
Test(saga, a_step_resent_after_its_target_took_10000_commands_lands_once,
     .timeout = 120) {
  crash_plan plan = {0, 2, 0}; /* 1: the withdrawal, 2: the deposit */
  w_open_account(&w, "a", 100);
  w_open_account(&w, "merchant", 0);
  w_start(&w, "t1", "a", "merchant", 30);
  w.opt.crash_hook = crash_at_dispatch;
  w.opt.hook_ctx = &plan;
  w_restart(&w);
  cr_assert_eq(w_run(&w), ES_EINTERRUPTED);
  cr_assert(plan.crashed);
  cr_assert_eq(w_balance(&w, "merchant"), 30, "the deposit ran before");
  for (int i = 0; i < 10000; i++) {
    bank_account_deposit c;
    bank_account_deposit_init(&c);
    c.amount = 1;
    cr_assert_eq(
        bank_account_execute_deposit(w.app, "merchant", &c, NULL, NULL), 0);
  }
  w.opt.crash_hook = NULL;
  w_restart(&w);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_geq(w.rep.duplicates, 1, "the step was re-sent");
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_DONE);
  cr_assert_eq(w_balance(&w, "merchant"), 10030, "deposited twice");
  cr_assert_eq(w_balance(&w, "a"), 70);
}

typedef struct redo_ctx {
  es_saga_runner *r;
  es_result *res;
  int rc;
} redo_ctx;

static int redo(const es_dead_letter *dl, void *ctx) {
  redo_ctx *x = ctx;
  x->rc = es_saga_redispatch(x->r, dl, x->res);
  return 0;
}

/* ---- retries and dead letters ------------------------------------------ */

Test(saga, transient_failure_succeeds_after_retries) {
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 30);
  w.flaky.fail_type = "Account";
  w.flaky.fail_rc = ES_EIO;
  w.flaky.fail_left = 3; /* the Withdraw fails 3 times, then works */
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.flaky.failed, 3);
  cr_assert_eq(w.rep.retries, 3);
  cr_assert_eq(w.rep.dead_lettered, 0);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_DONE);
  cr_assert_eq(w_balance(&w, "b"), 30);
}

Test(saga, a_read_that_fails_its_crc_is_retried) {
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 30);
  w.flaky.fail_type = "Account";
  w.flaky.fail_rc = ES_ECORRUPT; /* a flipped bit in one read */
  w.flaky.fail_left = 1;
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.retries, 1);
  cr_assert_eq(w.rep.dead_lettered, 0);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_DONE);
  cr_assert_eq(w_balance(&w, "b"), 30);
}

Test(saga, persistent_failure_is_dead_lettered_and_redispatched) {
  dl_collect c;
  es_result res;
  uint64_t bad;

  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 30);
  w.flaky.fail_type = "Account";
  w.flaky.fail_rc = ES_EIO;
  w.flaky.fail_left = 1000;
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.flaky.failed, 5); /* the default max_attempts */
  cr_assert_eq(w.rep.retries, 4);
  cr_assert_eq(w.rep.dead_lettered, 1);
  w.flaky.fail_left = 0;

  memset(&c, 0, sizeof c);
  cr_assert_eq(
      es_saga_dead_letters(w.store, "MoneyTransfer", collect_dl, &c, &bad), 0);
  cr_assert_eq(c.n, 1);
  cr_assert_str_eq(c.error, "ES_EIO");
  cr_assert_str_eq(c.target, "Account.Withdraw");
  cr_assert_str_eq(c.instance, "a");
  cr_assert_eq(c.attempts, 5);
  {
    es_uuid want;
    char s[37];
    es_saga_command_id("MoneyTransfer", "t1", 1, 0, &want);
    es_uuid_format(&want, s);
    cr_assert_str_eq(c.id, s);
  }
  /* A restart does not send it again: it is set aside for good. */
  w_restart(&w);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.dispatched, 0);
  cr_assert_eq(w_balance(&w, "a"), 100);

  /* Re-dispatch from the store: executed once... */
  {
    redo_ctx x = {w.r, &res, -1};
    cr_assert_eq(es_saga_dead_letters(w.store, "MoneyTransfer", redo, &x, NULL),
                 0);
    cr_assert_eq(x.rc, 0);
    cr_assert_eq(res.outcome, ES_OUTCOME_OK);
    cr_assert(!res.duplicate);
    cr_assert_eq(w_balance(&w, "a"), 70);
    /* ... and again: a duplicate, nothing changes. */
    x.rc = -1;
    cr_assert_eq(es_saga_dead_letters(w.store, "MoneyTransfer", redo, &x, NULL),
                 0);
    cr_assert_eq(x.rc, 0);
    cr_assert(res.duplicate);
    cr_assert_eq(w_balance(&w, "a"), 70);
  }
  /* Marked resolved, it leaves the list; its record stays. */
  cr_assert_eq(es_saga_dead_letter_resolve(w.store, "MoneyTransfer", c.id), 0);
  cr_assert_eq(es_saga_dead_letter_resolve(w.store, "MoneyTransfer", c.id),
               ES_ENOTFOUND);
  memset(&c, 0, sizeof c);
  cr_assert_eq(
      es_saga_dead_letters(w.store, "MoneyTransfer", collect_dl, &c, &bad), 0);
  cr_assert_eq(c.n, 0);
  {
    uint64_t v = 0;
    es_new_event ev;
    cr_assert_eq(
        es_saga_dead_letter_resolve(w.store, "MoneyTransfer", "no-such"),
        ES_ENOTFOUND);
    cr_assert_eq(es_saga_dead_letter_resolve(NULL, "MoneyTransfer", "x"),
                 ES_EINVAL);
    cr_assert_eq(es_saga_dead_letter_resolve(w.store, "MoneyTransfer", ""),
                 ES_EINVAL);
    cr_assert_eq(es_saga_dead_letter_resolve(w.store, "", "x"), ES_EINVAL);
    cr_assert_eq(es_saga_dead_letters(w.store, NULL, collect_dl, &c, NULL),
                 ES_EINVAL);
    cr_assert_eq(
        es_store_stream_version(w.store, "saga:MoneyTransfer#dead", "dead", &v),
        0);
    cr_assert_eq(v, 2, "the letter, then the record resolving it");
    /* A resolving record that is not whole is not ours. */
    memset(&ev, 0, sizeof ev);
    ev.type_id = es_fnv1a64("es.saga.dead_letter");
    ev.type_version = 1;
    ev.payload = "{\"resolved\":42}";
    ev.len = strlen(ev.payload);
    cr_assert_eq(es_store_append_one(w.store, "saga:MoneyTransfer#dead", "dead",
                                     es_expect_any(), &ev, 1, NULL),
                 0);
    cr_assert_eq(
        es_saga_dead_letters(w.store, "MoneyTransfer", collect_dl, &c, &bad),
        ES_ECORRUPT);
    cr_assert_eq(bad, 3);
  }
  /* The Withdrawn event it caused moves the saga on. */
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_DONE);
  cr_assert_eq(w_balance(&w, "b"), 30);
  cr_assert_eq(w_max_events_per_command(&w), 1);
}

/* The letter and the step that sets its command aside are one append: when
 * it fails, neither is stored and the next run sets the command aside
 * once. */
Test(saga, a_dead_letter_is_stored_with_its_step) {
  dl_collect c;
  uint64_t v = 0;
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 0); /* a withdrawal of 0 faults */
  w.flaky.fail_type = "saga:MoneyTransfer#dead";
  w.flaky.fail_rc = ES_EIO;
  w.flaky.fail_left = 1;
  cr_assert_eq(w_run(&w), ES_EIO);
  cr_assert_eq(w.flaky.failed, 1);
  memset(&c, 0, sizeof c);
  cr_assert_eq(
      es_saga_dead_letters(w.store, "MoneyTransfer", collect_dl, &c, NULL), 0);
  cr_assert_eq(c.n, 0);
  cr_assert_eq(es_store_stream_version(w.store, "saga:MoneyTransfer", "t1", &v),
               0);
  cr_assert_eq(v, 1, "only the Started step: no dead step without its letter");
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.dead_lettered, 1);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.dead_lettered, 0);
  cr_assert_eq(
      es_saga_dead_letters(w.store, "MoneyTransfer", collect_dl, &c, NULL), 0);
  cr_assert_eq(c.n, 1);
  cr_assert_eq(
      es_store_stream_version(w.store, "saga:MoneyTransfer#dead", "dead", &v),
      0);
  cr_assert_eq(v, 1);
}

Test(saga, rejection_without_handler_is_dead_lettered) {
  dl_collect c;
  bank_transfer_fail f;
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 30);
  /* Someone else fails the transfer first: the saga's Complete is
   * rejected (NotPending) and MoneyTransfer has no handler for that. */
  bank_transfer_fail_init(&f);
  f.reason = "manual";
  cr_assert_eq(bank_transfer_execute_fail(w.app, "t1", &f, NULL, NULL), 0);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.rejections, 1);
  cr_assert_eq(w.rep.dead_lettered, 1);
  memset(&c, 0, sizeof c);
  cr_assert_eq(
      es_saga_dead_letters(w.store, "MoneyTransfer", collect_dl, &c, NULL), 0);
  cr_assert_eq(c.n, 1);
  cr_assert_str_eq(c.error, "ES_EREJECTED");
  cr_assert_str_eq(c.target, "Transfer.Complete");
}

static int first_record(const es_stored_event *ev, void *ctx) {
  snprintf(ctx, 4096, "%.*s", (int)ev->len, (const char *)ev->payload);
  return 1;
}

Test(saga, a_dead_letter_is_a_json_line) {
  char line[4096] = "";
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t\"1\\", "a", "b", 0); /* a key that needs escaping */
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(w.rep.dead_lettered, 1);
  cr_assert_eq(es_store_read_stream(w.store, "saga:MoneyTransfer#dead", "dead",
                                    1, 1, first_record, line),
               1);
  cr_assert(strstr(line, "\"key\":\"t\\\"1\\\\\""), "%s", line);
  cr_assert(strstr(line, "\"command\":{\"amount\":0"), "%s", line);
  cr_assert(strstr(line, "\"error\":\"ES_EINVAL\""), "%s", line);
  cr_assert(!strchr(line, '\n'), "%s", line);
  {
    dl_collect c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(
        es_saga_dead_letters(w.store, "MoneyTransfer", collect_dl, &c, NULL),
        0);
    cr_assert_eq(c.n, 1);
  }
}

Test(saga, corrupt_dead_letter_line_is_reported) {
  FILE *f = fopen(w.dl_path, "w");
  uint64_t bad = 0;
  dl_collect c;
  cr_assert(f);
  fputs("{\"id\":\"x\"\n", f);
  fclose(f);
  memset(&c, 0, sizeof c);
  cr_assert_eq(es_dead_letters_list(w.dl_path, collect_dl, &c, &bad),
               ES_ECORRUPT);
  cr_assert_eq(bad, 1);
  cr_assert_eq(es_dead_letters_list("/nonexistent/dl", collect_dl, &c, &bad),
               0);
}

/* One line of a dead-letter log as another writer might have spelled it:
 * escapes, members in another order, one we do not know. */
typedef struct dl_seen {
  uint32_t n;
  char instance[32], message[32], rejection[8];
  uint64_t step;
  uint32_t effect, attempts;
  uint8_t command[4];
  size_t command_len;
} dl_seen;

static int see_dl(const es_dead_letter *dl, void *ctx) {
  dl_seen *s = ctx;
  s->n++;
  snprintf(s->instance, sizeof s->instance, "%s", dl->instance);
  snprintf(s->message, sizeof s->message, "%s", dl->message);
  snprintf(s->rejection, sizeof s->rejection, "%s", dl->rejection);
  s->step = dl->step;
  s->effect = dl->effect;
  s->attempts = dl->attempts;
  s->command_len = dl->command_len;
  memcpy(s->command, dl->command,
         dl->command_len < sizeof s->command ? dl->command_len
                                             : sizeof s->command);
  return 0;
}

Test(saga, dead_letter_lines_are_read_as_json) {
  FILE *f = fopen(w.dl_path, "w");
  uint64_t bad = 0;
  dl_seen s;
  cr_assert(f);
  fputs("{ \"msgpack\" : \"93C0c3\", \"future\": {\"a\": [1, \"}\"]},"
        " \"id\":\"c-1\", \"saga\":\"MoneyTransfer\", \"key\":\"t1\","
        " \"step\": 7, \"effect\": 2, \"target\":\"Account.Deposit\","
        " \"instance\":\"caf\\u00e9 \\\"b\\\"\", \"error\":\"ES_EIO\","
        " \"attempts\": 5, \"message\": \"tab\\there\"}\r\n\n",
        f);
  fclose(f);
  memset(&s, 0, sizeof s);
  cr_assert_eq(es_dead_letters_list(w.dl_path, see_dl, &s, &bad), 0);
  cr_assert_eq(s.n, 1);
  cr_assert_str_eq(s.instance, "caf\xc3\xa9 \"b\"");
  cr_assert_str_eq(s.message, "tab\there");
  cr_assert_str_eq(s.rejection, "", "an absent member is empty");
  cr_assert_eq(s.step, 7);
  cr_assert_eq(s.effect, 2);
  cr_assert_eq(s.attempts, 5);
  cr_assert_eq(s.command_len, 3);
  cr_assert_eq(memcmp(s.command, "\x93\xc0\xc3", 3), 0);

  /* Not a dead letter: odd hex, a NUL in a string, no "msgpack". */
  static const char *const bad_lines[] = {
      "{\"id\":\"c\",\"saga\":\"S\",\"key\":\"k\",\"target\":\"A.B\","
      "\"instance\":\"i\",\"error\":\"ES_EIO\",\"msgpack\":\"933\"}",
      "{\"id\":\"c\\u0000\",\"saga\":\"S\",\"key\":\"k\",\"target\":"
      "\"A.B\",\"instance\":\"i\",\"error\":\"ES_EIO\",\"msgpack\":\"93\"}",
      "{\"id\":\"c\",\"saga\":\"S\",\"key\":\"k\",\"target\":\"A.B\","
      "\"instance\":\"i\",\"error\":\"ES_EIO\"}",
      "[1,2]",
  };
  for (size_t i = 0; i < sizeof bad_lines / sizeof *bad_lines; i++) {
    f = fopen(w.dl_path, "w");
    cr_assert(f);
    fprintf(f, "\n%s\n", bad_lines[i]);
    fclose(f);
    bad = 0;
    cr_assert_eq(es_dead_letters_list(w.dl_path, see_dl, &s, &bad), ES_ECORRUPT,
                 "line %zu", i);
    cr_assert_eq(bad, 2, "line %zu: the line's number", i);
  }
}

/* ---- dead-letter files of earlier versions --------------------------------
 */

#define DL_LINE(id, saga)                                                      \
  "{\"id\":\"" id "\",\"saga\":\"" saga "\",\"key\":\"t1\",\"step\":1,"        \
  "\"effect\":0,\"target\":\"Account.Withdraw\",\"instance\":\"a\","           \
  "\"correlation\":\"\",\"error\":\"ES_EIO\",\"rejection\":\"\","              \
  "\"message\":\"\",\"attempts\":5,\"time\":\"\",\"command\":null,"            \
  "\"msgpack\":\"921e\"}\n"
#define DL_RESOLVED(id)                                                        \
  "{\"resolved\":\"" id "\",\"time\":\"\",\"outcome\":\"ok\"}\n"

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert(f);
  fputs(text, f);
  fclose(f);
}

static uint64_t records(world *w, const char *saga) {
  char type[64];
  uint64_t v = 0;
  snprintf(type, sizeof type, "saga:%s#dead", saga);
  cr_assert_eq(es_store_stream_version(w->store, type, "dead", &v), 0);
  return v;
}

static uint32_t pending(world *w, const char *saga) {
  dl_collect c;
  memset(&c, 0, sizeof c);
  cr_assert_eq(es_saga_dead_letters(w->store, saga, collect_dl, &c, NULL), 0);
  return c.n;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* A file with a letter written twice (a crash between line and step did
 * that), a resolved letter, and another saga's letter: each record lands
 * once, the file is renamed, and importing again appends nothing. */
Test(saga, a_dead_letter_file_is_imported_once) {
  char moved[96], moved2[96];
  uint64_t n = 99, bad = 99;
  snprintf(moved, sizeof moved, "%s.migrated", w.dl_path);
  snprintf(moved2, sizeof moved2, "%s.migrated.2", w.dl_path);
  write_file(w.dl_path,
             DL_LINE("c-1", "MoneyTransfer") "\n" DL_LINE(
                 "c-2", "MoneyTransfer") DL_RESOLVED("c-1")
                 DL_LINE("c-2", "MoneyTransfer") DL_LINE("c-3", "Other"));
  cr_assert_eq(es_saga_dead_letters_import(w.store, w.dl_path, &n, &bad), 0);
  cr_assert_eq(n, 4);
  cr_assert_eq(bad, 0);
  cr_assert(!exists(w.dl_path) && exists(moved));
  cr_assert_eq(records(&w, "MoneyTransfer"), 3);
  cr_assert_eq(records(&w, "Other"), 1);
  cr_assert_eq(pending(&w, "MoneyTransfer"), 1);
  cr_assert_eq(pending(&w, "Other"), 1);

  /* As if the process died after the appends, before the rename. */
  cr_assert_eq(rename(moved, w.dl_path), 0);
  cr_assert_eq(es_saga_dead_letters_import(w.store, w.dl_path, &n, NULL), 0);
  cr_assert_eq(n, 0);
  cr_assert_eq(records(&w, "MoneyTransfer"), 3);
  cr_assert(!exists(w.dl_path) && exists(moved));

  /* Another file at the same path later: the first renamed one stays. */
  write_file(w.dl_path, DL_LINE("c-4", "MoneyTransfer"));
  cr_assert_eq(es_saga_dead_letters_import(w.store, w.dl_path, &n, NULL), 0);
  cr_assert_eq(n, 1);
  cr_assert(exists(moved) && exists(moved2));
  cr_assert_eq(pending(&w, "MoneyTransfer"), 2);
  unlink(moved2);
  /* No file: nothing to do. */
  cr_assert_eq(es_saga_dead_letters_import(w.store, w.dl_path, &n, NULL), 0);
  cr_assert_eq(n, 0);
}

/* The import fails half-way (one saga's letters stored, the other's
 * append fails): the file stays, and the next import appends only what is
 * missing. */
Test(saga, an_interrupted_import_is_finished_by_the_next) {
  uint64_t n = 0;
  write_file(w.dl_path, DL_LINE("c-1", "MoneyTransfer") DL_LINE("c-2", "Other")
                            DL_RESOLVED("c-1"));
  w.flaky.fail_type = "saga:Other#dead";
  w.flaky.fail_rc = ES_EIO;
  w.flaky.fail_left = 1;
  cr_assert_eq(es_saga_dead_letters_import(w.store, w.dl_path, &n, NULL),
               ES_EIO);
  cr_assert_eq(n, 2);
  cr_assert(exists(w.dl_path));
  cr_assert_eq(records(&w, "MoneyTransfer"), 2);
  cr_assert_eq(records(&w, "Other"), 0);
  cr_assert_eq(es_saga_dead_letters_import(w.store, w.dl_path, &n, NULL), 0);
  cr_assert_eq(n, 1);
  cr_assert_eq(records(&w, "MoneyTransfer"), 2);
  cr_assert_eq(records(&w, "Other"), 1);
  cr_assert_eq(pending(&w, "MoneyTransfer"), 0);
  cr_assert_eq(pending(&w, "Other"), 1);
}

/* A file with a line that is not a letter, or a letter that parses but
 * names no saga a stream could hold, is not imported at all; the line
 * reported counts blank lines. */
Test(saga, a_damaged_dead_letter_file_is_not_imported) {
  static const struct {
    const char *text;
    uint64_t bad_line;
  } files[] = {
      {DL_LINE("c-1", "MoneyTransfer") "{\"id\":\"x\"\n", 2},
      {DL_LINE("c-1", "MoneyTransfer") "\n" DL_LINE("c-2", ""), 3},
  };
  uint64_t n = 0, bad = 0;
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    write_file(w.dl_path, files[i].text);
    cr_assert_eq(es_saga_dead_letters_import(w.store, w.dl_path, &n, &bad),
                 ES_ECORRUPT);
    cr_assert_eq(bad, files[i].bad_line);
    cr_assert_eq(n, 0);
    cr_assert(exists(w.dl_path));
    cr_assert_eq(records(&w, "MoneyTransfer"), 0);
  }
  cr_assert_eq(es_saga_dead_letters_import(NULL, w.dl_path, &n, &bad),
               ES_EINVAL);
}

/* A runner given the file (es_saga_options.dead_letter_path) imports it
 * at open; its letters can be re-dispatched. */
Test(saga, the_runner_imports_the_file_at_open) {
  dl_collect c;
  write_file(w.dl_path, DL_LINE("c-1", "MoneyTransfer"));
  w.opt.dead_letter_path = w.dl_path;
  w_restart(&w);
  cr_assert(!exists(w.dl_path));
  memset(&c, 0, sizeof c);
  cr_assert_eq(
      es_saga_dead_letters(w.store, "MoneyTransfer", collect_dl, &c, NULL), 0);
  cr_assert_eq(c.n, 1);
  cr_assert_str_eq(c.id, "c-1");
  cr_assert_str_eq(c.target, "Account.Withdraw");
  w_restart(&w); /* the file is gone: nothing more */
  cr_assert_eq(records(&w, "MoneyTransfer"), 1);
}

/* ---- live ------------------------------------------------------------------
 */

Test(saga, live_thread_follows_appends) {
  es_saga_report tot;
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  cr_assert_eq(es_saga_start(w.r), 0);
  cr_assert_eq(es_saga_run_until_caught_up(w.r, NULL), ES_EINVAL);
  w_start(&w, "t1", "a", "b", 30);
  for (int i = 0; i < 400 && w_status(&w, "t1") != BANK_TRANSFER_STATUS_DONE;
       i++)
    nanosleep(&(struct timespec){0, 5000000}, NULL);
  es_saga_stop(w.r);
  cr_assert_eq(w_status(&w, "t1"), BANK_TRANSFER_STATUS_DONE);
  es_saga_totals(w.r, &tot);
  cr_assert_eq(tot.completed, 1);
  cr_assert_eq(w_balance(&w, "b"), 30);
}

Test(saga, command_ids_are_deterministic) {
  es_uuid a, b, c;
  es_saga_command_id("S", "k", 1, 0, &a);
  es_saga_command_id("S", "k", 1, 0, &b);
  es_saga_command_id("S", "k", 1, 1, &c);
  cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
  cr_assert_neq(memcmp(&a, &c, sizeof a), 0);
  cr_assert_eq(a.bytes[6] >> 4, 8);
}

typedef struct dispatch_lines {
  char line[16][256];
  size_t n;
} dispatch_lines;

static void capture_dispatch(void *ctx, int level, const char *msg,
                             const es_log_field *f, size_t n) {
  dispatch_lines *l = ctx;
  size_t len;
  if (strcmp(msg, "saga dispatch") != 0)
    return;
  cr_assert_lt(l->n, 16);
  len = (size_t)snprintf(l->line[l->n], 256, "%s %s", es_log_level_name(level),
                         msg);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(l->line[l->n] + len, 256 - len, " %s=%s", f[i].key,
                            f[i].value);
  l->n++;
}

/* Every command the saga sends is logged once at DEBUG when answered. */
Test(saga, logs_each_dispatch) {
  es_obs obs = ES_OBS_INIT;
  dispatch_lines l = {.n = 0};
  obs.log = capture_dispatch;
  obs.log_ctx = &l;
  w.opt.obs = &obs;
  w_restart(&w);
  w_open_account(&w, "a", 100);
  w_open_account(&w, "b", 0);
  w_start(&w, "t1", "a", "b", 30);
  cr_assert_eq(w_run(&w), 0);
  cr_assert_eq(l.n, 3);
  cr_expect_str_eq(l.line[0], "debug saga dispatch saga=MoneyTransfer key=t1 "
                              "target=Account.Withdraw instance=a outcome=ok "
                              "attempts=1");
  cr_expect_str_eq(l.line[1], "debug saga dispatch saga=MoneyTransfer key=t1 "
                              "target=Account.Deposit instance=b outcome=ok "
                              "attempts=1");
  cr_expect_str_eq(l.line[2], "debug saga dispatch saga=MoneyTransfer key=t1 "
                              "target=Transfer.Complete instance=t1 "
                              "outcome=ok attempts=1");
  es_saga_runner_close(w.r);
  w.opt.obs = NULL;
  w_open_runner(&w);
}
