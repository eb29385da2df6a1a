/*
 * test_saga_kill.c - the MoneyTransfer saga in a real process killed by
 * SIGKILL at random moments, on the embedded log store.
 *
 * Each round forks a child that opens the store, the bank app and the
 * saga runner and, until it is killed, starts transfers between four
 * accounts and runs the saga. The parent then reopens everything, settles
 * the sagas (running them with the clock moved past every timeout) and
 * checks: every transfer started is completed or failed exactly once, no
 * transfer is withdrawn or deposited twice, money is conserved (the
 * accounts hold what they were opened with), and the balances the app
 * loads agree with the log.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bank_app.h"
#include "es/es_saga_run.h"
#include "transfer_audit.h"

#define ACCOUNTS 4
#define INITIAL 1000
#define MAX_TRANSFERS 100000
#define HOUR INT64_C(3600000000)

static char dir[64];
static int64_t clock_offset;

static int64_t kill_clock(void *ctx) {
  struct timespec ts;
  (void)ctx;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + clock_offset;
}

static void no_sleep(void *ctx, int64_t us) {
  (void)ctx;
  (void)us;
}

typedef struct world {
  es_store *store;
  es_app *app;
  es_saga_runner *saga;
} world;

static int world_open(world *w) {
  es_saga_options o = ES_SAGA_OPTIONS_INIT;
  int rc;
  memset(w, 0, sizeof *w);
  o.now_us = kill_clock;
  o.sleep_us = no_sleep;
  o.retry.jitter_pct = ES_SAGA_NO_JITTER;
  rc = es_store_open_log(&w->store, dir, NULL, 0);
  if (rc == 0)
    rc = es_app_open(&w->app, &bank_schema, w->store, NULL);
  if (rc == 0)
    rc = es_saga_runner_open(&w->saga, w->app, &bank_money_transfer_saga,
                             w->store, &o);
  return rc;
}

static void world_close(world *w) {
  es_saga_runner_close(w->saga);
  es_app_close(w->app);
  es_store_close(w->store);
}

static void account_key(char out[16], int i) { snprintf(out, 16, "k%d", i); }

/* Opens the accounts (each under a fixed command id: done once, whatever
 * the rounds), then starts transfers and runs the saga until killed. */
static void child(int round, int ready) {
  world w;
  unsigned seed = (unsigned)round * 7919u + 1;
  if (world_open(&w) != 0)
    _exit(3);
  for (int i = 0; i < ACCOUNTS; i++) {
    bank_account_open cmd;
    es_exec_options o;
    char key[16];
    memset(&o, 0, sizeof o);
    o.command_id.bytes[0] = 0xac;
    o.command_id.bytes[15] = (uint8_t)(i + 1);
    account_key(key, i);
    bank_account_open_init(&cmd);
    cmd.owner = key;
    cmd.initial = INITIAL;
    (void)bank_account_execute_open(w.app, key, &cmd, &o, NULL);
  }
  for (int n = 0;; n++) {
    bank_transfer_start cmd;
    char id[32], from[16], to[16];
    int a = rand_r(&seed) % ACCOUNTS, b = rand_r(&seed) % (ACCOUNTS - 1);
    snprintf(id, sizeof id, "t-%d-%d", round, n);
    account_key(from, a);
    account_key(to, b >= a ? b + 1 : b);
    bank_transfer_start_init(&cmd);
    cmd.from = from;
    cmd.to = to;
    cmd.amount = 1 + rand_r(&seed) % 600;
    (void)bank_transfer_execute_start(w.app, id, &cmd, NULL, NULL);
    if (n == 0 && write(ready, "", 1) != 1) /* one transfer in: kill me */
      _exit(4);
    if (rand_r(&seed) % 3 == 0)
      (void)es_saga_run_until_caught_up(w.saga, NULL);
  }
}

static int copy_balance(const void *state, uint64_t version, void *ctx) {
  (void)version;
  *(int64_t *)ctx = ((const bank_account_state *)state)->balance;
  return 0;
}

/* Runs the saga, moving the clock past each pending timeout, until
 * nothing is pending. */
static void settle(world *w) {
  for (int i = 0; i < 50; i++) {
    int64_t due;
    cr_assert_eq(es_saga_run_until_caught_up(w->saga, NULL), 0);
    if (es_saga_pending_timeouts(w->saga, &due) == 0)
      return;
    clock_offset += 2 * HOUR;
  }
  cr_assert_fail("the sagas never settle");
}

Test(saga_kill, sigkill_at_random_moments_loses_and_repeats_nothing,
     .timeout = 300) {
  unsigned seed = 4242;
  uint64_t transfers = 0;
  snprintf(dir, sizeof dir, "/tmp/es-saga-kill-XXXXXX");
  cr_assert(mkdtemp(dir));

  for (int round = 0; round < 15; round++) {
    world w;
    transfer_audit t;
    pid_t pid;
    int status, ready[2];
    char byte;
    fflush(NULL);
    cr_assert_eq(pipe(ready), 0);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
      close(ready[0]);
      clock_offset = 0;
      child(round, ready[1]);
    }
    close(ready[1]);
    /* Killed after its first transfer: at a random moment after that. */
    cr_assert_eq(read(ready[0], &byte, 1), 1, "round %d: the child died",
                 round);
    close(ready[0]);
    {
      struct timespec d = {0, (long)(rand_r(&seed) % 200) * 1000000L};
      nanosleep(&d, NULL);
    }
    cr_assert_eq(kill(pid, SIGKILL), 0);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "round %d: child exited with %d", round,
              WEXITSTATUS(status));

    cr_assert_eq(world_open(&w), 0, "round %d: reopen", round);
    settle(&w);
    cr_assert_eq(transfer_audit_init(&t, ACCOUNTS, MAX_TRANSFERS * 3), 0);
    cr_assert_eq(es_store_read_all(w.store, 1, 0, transfer_audit_event, &t), 0);
    cr_assert_eq(t.twice, 0, "round %d: a saga effect executed twice", round);
    cr_assert_eq(t.settled, t.started,
                 "round %d: %" PRIu64 " transfers started, %" PRIu64 " settled",
                 round, t.started, t.settled);
    cr_assert_eq(t.withdrawn, t.deposited,
                 "round %d: %" PRId64 " withdrawn, %" PRId64 " deposited",
                 round, t.withdrawn, t.deposited);
    for (int i = 0; i < ACCOUNTS; i++) {
      char key[16];
      int64_t state = INT64_MIN;
      account_key(key, i);
      cr_assert_eq(es_app_read_state(w.app, &bank_account_aggregate, key,
                                     copy_balance, &state),
                   0);
      cr_assert_eq(state, t.balance[i], "round %d: %s", round, key);
    }
    {
      int64_t total = 0;
      for (int i = 0; i < ACCOUNTS; i++)
        total += t.balance[i];
      if (t.started) /* the accounts were opened: money is conserved */
        cr_assert_eq(total, (int64_t)ACCOUNTS * INITIAL, "round %d", round);
    }
    transfers = t.started;
    transfer_audit_close(&t);
    world_close(&w);
  }
  cr_assert_gt(transfers, 0, "the children started transfers");
  cr_log_info("saga kill: %" PRIu64 " transfers settled", transfers);
  {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
  }
}
