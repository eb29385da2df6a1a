/*
 * pg_saga_timer.c - a saga timeout scheduled by one process fires in
 * another, once, on PostgreSQL.
 *
 * Process A starts a transfer and runs the MoneyTransfer saga once: the
 * Started step schedules the "give-up" timeout (an hour ahead) and sends
 * Withdraw, which A's executor fails until it is set aside as a dead
 * letter, so nothing settles the transfer and the timeout stays pending.
 * The parent kills A (SIGKILL) long before the timeout is due. Process B
 * then runs the saga live (es_saga_start(): it takes the lease) on a
 * clock two hours ahead: the timeout is due, B fires it, and its step
 * fails the transfer. The parent waits for the Transfer.Failed event,
 * kills B, and process C runs the saga once more on the late clock: it
 * finds no timeout left to fire. Checks: exactly one Transfer.Failed,
 * no Completed, no Withdrawn; C fired nothing and has none pending.
 *
 * Runs beside a throwaway server (tests/support/with-postgres sets
 * ES_PG_CONNINFO). Every process is forked from the parent, which starts
 * no thread. No check depends on timing: the waits guard against a hang.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bank_app.h"
#include "es/es_saga_run.h"
#include "pg_bank.h"
#include "pg_query.h"

#define GUARD_S 240 /* a wait longer than this is a hang */
#define SCHEMA "timer"
#define LATE_US (INT64_C(2) * 3600 * 1000000) /* B's and C's clock ahead */

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "pg_saga_timer:%d: check failed: %s\n", __LINE__, #c);   \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static const char *conninfo;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int64_t late_clock(void *ctx) {
  struct timespec ts;
  (void)ctx;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + LATE_US;
}

/* Process A: schedules the timeout, reports on `ready`, waits to die. */
static void proc_a(int ready) {
  es_store *s;
  es_app *app;
  es_saga_runner *r;
  es_saga_options so = ES_SAGA_OPTIONS_INIT;
  es_saga_report rep;
  bank_transfer_start cmd;
  int64_t earliest;

  pg_bank_open(conninfo, SCHEMA, &s, &app);
  pg_bank_open_account(app, "k0");
  pg_bank_open_account(app, "k1");
  bank_transfer_start_init(&cmd);
  cmd.from = "k0";
  cmd.to = "k1";
  cmd.amount = 300;
  if (bank_transfer_execute_start(app, "t1", &cmd, NULL, NULL) != 0)
    _exit(6);
  so.retry.max_attempts = 2;
  so.sleep_us = pg_bank_no_sleep;
  so.execute = pg_bank_failing_execute;
  if (es_saga_runner_open(&r, app, &bank_money_transfer_saga, s, &so) != 0 ||
      es_saga_run_until_caught_up(r, &rep) != 0)
    _exit(7);
  if (rep.dead_lettered != 1 || rep.timeouts_fired != 0 ||
      es_saga_pending_timeouts(r, &earliest) != 1)
    _exit(8);
  if (write(ready, "", 1) != 1)
    _exit(9);
  for (;;)
    pause(); /* killed here, the timeout still an hour away */
}

/* Process B: runs the saga live on the late clock until killed. */
static void proc_b(void) {
  es_store *s;
  es_app *app;
  es_saga_runner *r;
  es_saga_options so = ES_SAGA_OPTIONS_INIT;

  pg_bank_open(conninfo, SCHEMA, &s, &app);
  so.now_us = late_clock;
  so.sleep_us = pg_bank_no_sleep;
  if (es_saga_runner_open(&r, app, &bank_money_transfer_saga, s, &so) != 0 ||
      es_saga_start(r) != 0)
    _exit(10);
  for (;;)
    pause();
}

/* Process C: one more run on the late clock; exits 0 when it fired
 * nothing and no timeout is left. */
static void proc_c(void) {
  es_store *s;
  es_app *app;
  es_saga_runner *r;
  es_saga_options so = ES_SAGA_OPTIONS_INIT;
  es_saga_report rep;
  int64_t earliest;

  pg_bank_open(conninfo, SCHEMA, &s, &app);
  so.now_us = late_clock;
  so.sleep_us = pg_bank_no_sleep;
  if (es_saga_runner_open(&r, app, &bank_money_transfer_saga, s, &so) != 0 ||
      es_saga_run_until_caught_up(r, &rep) != 0)
    _exit(11);
  if (rep.timeouts_fired != 0 || rep.dispatched != 0 ||
      es_saga_pending_timeouts(r, &earliest) != 0)
    _exit(12);
  es_saga_runner_close(r);
  es_app_close(app);
  es_store_close(s);
  _exit(0);
}

static PGconn *db;

static long long count_type(uint64_t type_id) {
  return pg_query_count_type(db, SCHEMA, type_id);
}

static pid_t spawn(void (*fn)(void)) {
  pid_t pid;
  fflush(NULL);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0)
    fn();
  return pid;
}

int main(void) {
  int status, i;
  pid_t b;

  conninfo = getenv("ES_PG_CONNINFO");
  if (!conninfo) {
    fprintf(stderr, "pg_saga_timer: ES_PG_CONNINFO not set (run it through "
                    "tests/support/with-postgres)\n");
    return 77;
  }
  if (pg_bank_run_then_kill(proc_a, "pg_saga_timer") != 0)
    return 1;

  db = PQconnectdb(conninfo);
  CHECK(PQstatus(db) == CONNECTION_OK);
  CHECK(count_type(BANK_TRANSFER_FAILED_TYPE_ID) == 0);

  b = spawn(proc_b);
  for (i = 0; count_type(BANK_TRANSFER_FAILED_TYPE_ID) == 0; i++) {
    CHECK(i < GUARD_S * 10);                  /* B never fired the timeout */
    CHECK(waitpid(b, &status, WNOHANG) == 0); /* B is alive */
    sleep_ms(100);
  }
  CHECK(kill(b, SIGKILL) == 0);
  CHECK(waitpid(b, &status, 0) == b);

  CHECK(pg_bank_exit_code(spawn(proc_c)) == 0);
  CHECK(count_type(BANK_TRANSFER_FAILED_TYPE_ID) == 1);
  CHECK(count_type(BANK_TRANSFER_COMPLETED_TYPE_ID) == 0);
  CHECK(count_type(BANK_ACCOUNT_WITHDRAWN_TYPE_ID) == 0);
  PQfinish(db);
  printf("pg_saga_timer: the timeout A scheduled fired once, in B\n");
  return 0;
}
