/*
 * pg_exactly_once.c - the bank's Balances projection writing a PostgreSQL
 * table in the same transaction as its checkpoint (es_projection_pg.h,
 * examples/bank/balances_pg.c), beside a throwaway server
 * (tests/support/with-postgres sets ES_PG_CONNINFO).
 *
 *   pg_exactly_once kill    rounds of appends, each followed by a
 *                           projection process killed (SIGKILL) at a
 *                           random moment; then a last run to the end:
 *                           the table equals the fold of the events, each
 *                           event applied once (count and sum per account)
 *   pg_exactly_once error   a handler failing mid-batch rolls back the
 *                           batch's rows and its checkpoint, and its code
 *                           reaches the caller; a store that is not
 *                           PostgreSQL is refused with ES_EINVAL
 *
 * Every store and projection runs in a child process forked by a parent
 * that starts no thread; the parent checks with libpq alone. Prints
 * "ok" and exits 0, or says what differs and exits 1.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <es/es_app.h>

#include "balances_pg.h"
#include "bank.es.h"

#define ACCOUNTS 6
#define ROUNDS 8
#define COMMANDS_PER_ROUND 120
#define POISON_EXIT 77

static const char *conninfo;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "pg_exactly_once: " __VA_ARGS__);                        \
      fprintf(stderr, "\n");                                                   \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static es_store *open_store(void) {
  es_store_options so = ES_STORE_OPTIONS_INIT;
  es_store *s;
  int rc;
  so.pg_schema = "bank";
  rc = es_store_open_postgres(&s, conninfo, &so, 0);
  CHECK(rc == 0, "open store: %s", es_strerror(rc));
  return s;
}

static void key_of(int i, char *key, size_t cap) {
  snprintf(key, cap, "acct%d", i);
}

/* ---- children ---------------------------------------------------------- */

/* Opens the accounts (rejected after the first time) and runs `n` random
 * deposits and withdrawals. */
static void child_append(unsigned seed, int n) {
  es_store *s = open_store();
  es_app *app;
  char key[16];
  int rc = es_app_open(&app, &bank_schema, s, NULL);

  CHECK(rc == 0, "app: %s", es_strerror(rc));
  srand(seed);
  for (int i = 0; i < ACCOUNTS; i++) {
    bank_account_open o;
    es_result r;
    key_of(i, key, sizeof key);
    bank_account_open_init(&o);
    o.owner = key;
    o.initial = 1000;
    rc = bank_account_execute_open(app, key, &o, NULL, &r);
    CHECK(rc == 0 || rc == ES_EREJECTED, "open: %s", es_strerror(rc));
  }
  for (int i = 0; i < n; i++) {
    es_result r;
    key_of(rand() % ACCOUNTS, key, sizeof key);
    if (rand() % 3) {
      bank_account_deposit d;
      bank_account_deposit_init(&d);
      d.amount = 1 + rand() % 50;
      rc = bank_account_execute_deposit(app, key, &d, NULL, &r);
    } else {
      bank_account_withdraw w;
      bank_account_withdraw_init(&w);
      w.amount = 1 + rand() % 80; /* rejected when the balance is lower */
      rc = bank_account_execute_withdraw(app, key, &w, NULL, &r);
    }
    CHECK(rc == 0 || rc == ES_EREJECTED, "command: %s", es_strerror(rc));
  }
  es_app_close(app);
  es_store_close(s);
  exit(0);
}

/* Runs the projection to the end in small batches (many commits). */
static void child_project(uint32_t batch) {
  es_store *s = open_store();
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  bank_balances_pg b;
  int rc;

  o.batch_size = batch;
  rc = bank_balances_pg_open(&b, s, &o);
  CHECK(rc == 0, "projection open: %s", es_strerror(rc));
  rc = es_projection_run_until_caught_up(b.runner, NULL);
  CHECK(rc == 0, "projection: %s", es_strerror(rc));
  es_projection_close(b.runner);
  es_store_close(s);
  exit(0);
}

static pid_t spawn(void (*fn)(unsigned, int), unsigned a, int b) {
  pid_t pid = fork();
  CHECK(pid >= 0, "fork");
  if (pid == 0)
    fn(a, b);
  return pid;
}

static void project_main(unsigned batch, int unused) {
  (void)unused;
  child_project(batch);
}

static int wait_exit(pid_t pid) {
  int st;
  CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the fold of the events, and the table ----------------------------- */

typedef struct account {
  int64_t balance, events;
} account;

typedef struct fold {
  account a[ACCOUNTS];
  uint64_t last;
} fold;

static int index_of(const char *key) {
  int i;
  if (sscanf(key, "acct%d", &i) != 1 || i < 0 || i >= ACCOUNTS)
    return -1;
  return i;
}

static int fold_event(const es_stored_event *ev, void *ctx) {
  fold *f = ctx;
  es_arena arena;
  int i = index_of(ev->meta.key), rc = 0;

  f->last = ev->meta.position;
  if (strcmp(ev->meta.aggregate, "Account") != 0 || i < 0)
    return 0;
  es_arena_init(&arena, 0);
  if (ev->meta.type_id == BANK_ACCOUNT_OPENED_TYPE_ID) {
    bank_account_opened e;
    if ((rc = bank_account_opened_decode(&e, ev->payload, ev->len, &arena)) ==
        0) {
      f->a[i].balance = e.initial;
      f->a[i].events++;
    }
  } else if (ev->meta.type_id == BANK_ACCOUNT_DEPOSITED_TYPE_ID) {
    bank_account_deposited e;
    if ((rc = bank_account_deposited_decode(&e, ev->payload, ev->len,
                                            &arena)) == 0) {
      f->a[i].balance += e.amount;
      f->a[i].events++;
    }
  } else if (ev->meta.type_id == BANK_ACCOUNT_WITHDRAWN_TYPE_ID) {
    bank_account_withdrawn e;
    if ((rc = bank_account_withdrawn_decode(&e, ev->payload, ev->len,
                                            &arena)) == 0) {
      f->a[i].balance -= e.amount;
      f->a[i].events++;
    }
  }
  es_arena_close(&arena);
  return rc;
}

#define ALL UINT64_MAX

/* The fold of the events up to `upto` (ALL: all), in a child (the store
 * may start threads), sent back through a pipe. */
static fold fold_events(uint64_t upto) {
  fold f;
  int fd[2];
  pid_t pid;

  memset(&f, 0, sizeof f);
  CHECK(pipe(fd) == 0, "pipe");
  pid = fork();
  CHECK(pid >= 0, "fork");
  if (pid == 0) {
    es_store *s = open_store();
    uint64_t head;
    int rc;
    close(fd[0]);
    CHECK(es_store_head(s, &head) == 0, "head");
    if (upto > head)
      upto = head;
    rc = upto ? es_store_read_all(s, 1, (uint32_t)upto, fold_event, &f) : 0;
    CHECK(rc == 0, "read_all: %s", es_strerror(rc));
    CHECK(write(fd[1], &f, sizeof f) == (ssize_t)sizeof f, "write");
    es_store_close(s);
    exit(0);
  }
  close(fd[1]);
  CHECK(read(fd[0], &f, sizeof f) == (ssize_t)sizeof f, "fold child failed");
  close(fd[0]);
  CHECK(wait_exit(pid) == 0, "fold child");
  return f;
}

static PGconn *connect_db(void) {
  PGconn *c = PQconnectdb(conninfo);
  CHECK(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
  return c;
}

static int64_t query_int(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  int64_t v;
  CHECK(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
  v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
  PQclear(r);
  return v;
}

static uint64_t checkpoint(PGconn *c) {
  return (uint64_t)query_int(c, "SELECT position FROM bank.checkpoints "
                                "WHERE name = 'projection:Balances'");
}

/* The table equals the fold: every account's balance and event count. */
static void expect_table(PGconn *c, const fold *f) {
  PGresult *r = PQexec(c, "SELECT account, balance, events FROM balances");
  int seen = 0;

  CHECK(PQresultStatus(r) == PGRES_TUPLES_OK, "select: %s", PQerrorMessage(c));
  for (int i = 0; i < PQntuples(r); i++) {
    int k = index_of(PQgetvalue(r, i, 0));
    int64_t bal = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    int64_t n = strtoll(PQgetvalue(r, i, 2), NULL, 10);
    CHECK(k >= 0, "unknown row %s", PQgetvalue(r, i, 0));
    CHECK(n == f->a[k].events && bal == f->a[k].balance,
          "%s: table has balance %" PRId64 " from %" PRId64
          " events, the events fold to %" PRId64 " from %" PRId64,
          PQgetvalue(r, i, 0), bal, n, f->a[k].balance, f->a[k].events);
    seen++;
  }
  for (int k = 0; k < ACCOUNTS; k++)
    if (f->a[k].events)
      seen--;
  CHECK(seen == 0, "the table's rows are not the accounts of the events");
  PQclear(r);
}

static void exec_ok(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql,
        PQerrorMessage(c));
  PQclear(r);
}

/* The table is the fold of the events up to the checkpoint. */
static void expect_consistent(PGconn *c) {
  uint64_t cp;
  fold f;

  exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
  cp = checkpoint(c);
  f = fold_events(cp == (uint64_t)-1 ? 0 : cp);
  expect_table(c, &f);
  exec_ok(c, "COMMIT");
}

/* ---- kill ------------------------------------------------------------- */

static int run_kill(void) {
  PGconn *c = connect_db();
  int killed = 0;
  fold f;

  CHECK(bank_balances_pg_create(c) == 0, "create table");
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  for (int round = 0; round < ROUNDS; round++) {
    pid_t pid;
    CHECK(wait_exit(
              spawn(child_append, (unsigned)rand(), COMMANDS_PER_ROUND)) == 0,
          "append child failed");
    pid = spawn(project_main, 1 + (unsigned)(rand() % 7), 0);
    {
      struct timespec ts = {0, (long)(rand() % 400) * 1000000L};
      nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    if (wait_exit(pid) == 128 + SIGKILL)
      killed++;
    /* consistent at every point: the table is the fold up to the
     * checkpoint, both read in one snapshot (the server may still be
     * committing what the killed process sent) */
    expect_consistent(c);
  }
  CHECK(wait_exit(spawn(project_main, 5, 0)) == 0, "last projection failed");
  f = fold_events(ALL);
  CHECK(checkpoint(c) == f.last, "checkpoint %" PRIu64 ", head %" PRIu64,
        checkpoint(c), f.last);
  expect_table(c, &f);
  printf("ok: %d rounds, %d killed mid-run, %" PRIu64
         " events, each applied once\n",
         ROUNDS, killed, f.last);
  PQfinish(c);
  return 0;
}

/* ---- error ------------------------------------------------------------ */

static int (*real_write)(void *, const char *, int64_t, bool);
static const char *poison; /* the account whose deposits fail, or NULL */

/* Writes the row, then fails for the poisoned account: the handler's
 * SQL ran and must be rolled back with the rest of the batch. */
static int poisoned_write(void *target, const char *key, int64_t amount,
                          bool opened) {
  int rc = real_write(target, key, amount, opened);
  if (rc == 0 && poison && !opened && strcmp(key, poison) == 0)
    return POISON_EXIT;
  return rc;
}

/* Runs the projection once with `bad` poisoned; exits with its result. */
static void child_poisoned(unsigned bad, int unused) {
  es_store *s = open_store();
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection_report rep;
  bank_balances_pg b;
  char key[16];
  int rc;
  (void)unused;

  key_of((int)bad, key, sizeof key);
  poison = bad < ACCOUNTS ? key : NULL;
  o.max_attempts = 2;
  o.retry_base_us = 1000;
  CHECK(bank_balances_pg_open(&b, s, &o) == 0, "open");
  real_write = b.view.write;
  b.view.write = poisoned_write;
  rc = es_projection_run_until_caught_up(b.runner, &rep);
  CHECK(rc == 0 || (rep.stalled && rep.last_error == rc),
        "the report does not say the error");
  es_projection_close(b.runner);
  es_store_close(s);
  exit(rc == 0 ? 0 : rc == POISON_EXIT ? POISON_EXIT : 1);
}

static void child_not_pg(unsigned a, int b) {
  es_store *s;
  es_projection *p = (es_projection *)&s;
  int rc;
  (void)a;
  (void)b;
  CHECK(es_store_open_memory(&s, NULL) == 0, "memory store");
  rc = es_projection_open_pg(&p, &bank_schema, &bank_balances_projection, s,
                             NULL);
  CHECK(rc == ES_EINVAL && p == NULL,
        "es_projection_open_pg on the memory store: %s", es_strerror(rc));
  es_store_close(s);
  exit(0);
}

static int run_error(void) {
  PGconn *c = connect_db();
  uint64_t before;
  fold f;

  CHECK(wait_exit(spawn(child_not_pg, 0, 0)) == 0, "not-pg child failed");
  CHECK(bank_balances_pg_create(c) == 0, "create table");
  CHECK(wait_exit(spawn(child_append, 1, 30)) == 0, "append");
  CHECK(wait_exit(spawn(child_poisoned, ACCOUNTS, 0)) == 0, "first run");
  before = checkpoint(c);
  f = fold_events(ALL);
  CHECK(before == f.last, "first run did not catch up");
  expect_table(c, &f);

  /* more events, in one batch, every account's deposits among them */
  CHECK(wait_exit(spawn(child_append, 2, 60)) == 0, "append");
  CHECK(wait_exit(spawn(child_poisoned, 0, 0)) == POISON_EXIT,
        "the handler's error did not reach the caller");
  CHECK(checkpoint(c) == before,
        "checkpoint moved from %" PRIu64 " to %" PRIu64, before, checkpoint(c));
  f = fold_events(before);
  expect_table(c, &f); /* nothing of the failed batch */

  CHECK(wait_exit(spawn(child_poisoned, ACCOUNTS, 0)) == 0, "healed run");
  f = fold_events(ALL);
  CHECK(checkpoint(c) == f.last, "healed run did not catch up");
  expect_table(c, &f);
  printf("ok: a failed handler rolled back its batch and the checkpoint\n");
  PQfinish(c);
  return 0;
}

int main(int argc, char **argv) {
  conninfo = getenv("ES_PG_CONNINFO");
  if (!conninfo || argc != 2) {
    fprintf(stderr, "usage: ES_PG_CONNINFO=... pg_exactly_once kill|error\n");
    return 2;
  }
  if (strcmp(argv[1], "kill") == 0)
    return run_kill();
  if (strcmp(argv[1], "error") == 0)
    return run_error();
  return 2;
}
