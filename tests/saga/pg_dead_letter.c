/*
 * pg_dead_letter.c - a dead letter written by one process is seen, and
 * re-dispatched exactly once, by others, on PostgreSQL.
 *
 *   pg_dead_letter ESCTL BANK_CTL   (beside tests/support/with-postgres)
 *
 * Process A starts transfers t1 (100) and t2 (200) from k0 to k1 and runs
 * the MoneyTransfer saga once with an executor that fails every command
 * (the cause): both Withdraws are set aside as dead letters. A is killed
 * (SIGKILL). Then:
 *   - the parent finds the two letters in the events table by SQL, and
 *     `esctl --json dead-letters` lists them;
 *   - processes B1 and B2, released at once, each list the letters and
 *     re-dispatch t1's with the bank's own executor (the cause fixed),
 *     then resolve it: exactly one resolution is stored, the other finds
 *     no pending letter (or its re-dispatch lost the race and failed);
 *   - `bank-ctl redispatch` re-dispatches t2's letter and resolves it;
 *   - both lists are then empty, and a second `bank-ctl redispatch` finds
 *     no letter;
 *   - process D runs the saga: both transfers complete.
 * Checks: exactly one Withdrawn after the B processes and two after
 * bank-ctl (one per transfer), then two Deposited and two Completed; the
 * dead-letter stream holds four records (two letters, two resolutions).
 *
 * Every process is forked from the parent, which starts no thread; esctl
 * runs as a child program. No check depends on timing.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bank_app.h"
#include "es/es_saga_run.h"
#include "pg_bank.h"
#include "pg_query.h"

#define SCHEMA "deadl"
#define SAGA "MoneyTransfer"

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "pg_dead_letter:%d: check failed: %s\n", __LINE__, #c);  \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static const char *conninfo;

static void start_transfer(es_app *app, const char *id, int64_t amount) {
  bank_transfer_start cmd;
  bank_transfer_start_init(&cmd);
  cmd.from = "k0";
  cmd.to = "k1";
  cmd.amount = amount;
  if (bank_transfer_execute_start(app, id, &cmd, NULL, NULL) != 0)
    _exit(6);
}

/* Process A: sets both Withdraws aside, reports on `ready`, waits to die. */
static void proc_a(int ready) {
  es_store *s;
  es_app *app;
  es_saga_runner *r;
  es_saga_options so = ES_SAGA_OPTIONS_INIT;
  es_saga_report rep;

  pg_bank_open(conninfo, SCHEMA, &s, &app);
  pg_bank_open_account(app, "k0");
  pg_bank_open_account(app, "k1");
  start_transfer(app, "t1", 100);
  start_transfer(app, "t2", 200);
  so.retry.max_attempts = 2;
  so.sleep_us = pg_bank_no_sleep;
  so.execute = pg_bank_failing_execute;
  if (es_saga_runner_open(&r, app, &bank_money_transfer_saga, s, &so) != 0 ||
      es_saga_run_until_caught_up(r, &rep) != 0)
    _exit(7);
  if (rep.dead_lettered != 2)
    _exit(8);
  if (write(ready, "", 1) != 1)
    _exit(9);
  for (;;)
    pause(); /* killed here */
}

/* The letters a listing found: saga keys and ids. */
typedef struct found {
  int n;
  char key[4][16];
  char id[4][40];
} found;

static int keep(const es_dead_letter *dl, void *ctx) {
  found *f = ctx;
  if (f->n < 4) {
    snprintf(f->key[f->n], sizeof f->key[0], "%s", dl->key);
    snprintf(f->id[f->n], sizeof f->id[0], "%s", dl->id);
  }
  f->n++;
  return 0;
}

/* The id of transfer `key`'s letter in `f`, or NULL. */
static const char *letter_of(const found *f, const char *key) {
  for (int i = 0; i < f->n && i < 4; i++)
    if (strcmp(f->key[i], key) == 0)
      return f->id[i];
  return NULL;
}

/* The letter `id` as the store lists it, copied into `out`'s arena. */
typedef struct take {
  const char *id;
  es_dead_letter dl;
  es_arena *a;
  int found;
} take;

static char *dup_str(es_arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = es_arena_alloc(a, n);
  if (p)
    memcpy(p, s, n);
  return p;
}

static int take_letter(const es_dead_letter *dl, void *ctx) {
  take *t = ctx;
  uint8_t *cmd;
  if (strcmp(dl->id, t->id) != 0)
    return 0;
  t->dl = *dl;
  t->dl.id = dup_str(t->a, dl->id);
  t->dl.saga = dup_str(t->a, dl->saga);
  t->dl.key = dup_str(t->a, dl->key);
  t->dl.target = dup_str(t->a, dl->target);
  t->dl.instance = dup_str(t->a, dl->instance);
  t->dl.correlation = dup_str(t->a, dl->correlation);
  t->dl.line = NULL;
  cmd = es_arena_alloc(t->a, dl->command_len + 1);
  if (!cmd)
    return ES_ENOMEM;
  memcpy(cmd, dl->command, dl->command_len);
  t->dl.command = cmd;
  t->found = 1;
  return 1;
}

/* Process B: lists both letters, says so on `ready`, waits for the
 * parent's byte on `go`, re-dispatches the letter of t1 with the bank's
 * executor, and resolves it. Exits 0 when its
 * resolution was stored, 20 when the letter was resolved already, 21 when
 * its re-dispatch failed (the other process's won the race). */
static void proc_b(int ready, int go) {
  es_store *s;
  es_app *app;
  es_saga_runner *r;
  es_saga_options so = ES_SAGA_OPTIONS_INIT;
  es_result res;
  es_arena a;
  found f;
  take t;
  char byte;
  int rc;

  pg_bank_open(conninfo, SCHEMA, &s, &app);
  memset(&f, 0, sizeof f);
  if (es_saga_dead_letters(s, SAGA, keep, &f, NULL) != 0 || f.n != 2 ||
      !letter_of(&f, "t1") || !letter_of(&f, "t2"))
    _exit(10);
  if (es_saga_runner_open(&r, app, &bank_money_transfer_saga, s, &so) != 0)
    _exit(11);
  if (write(ready, "", 1) != 1 || read(go, &byte, 1) != 1)
    _exit(12);
  es_arena_init(&a, 0);
  memset(&t, 0, sizeof t);
  t.id = letter_of(&f, "t1");
  t.a = &a;
  rc = es_saga_dead_letters(s, SAGA, take_letter, &t, NULL);
  if (rc == 0 && !t.found)
    _exit(20); /* resolved by the other one already */
  if (rc != 1)
    _exit(13);
  memset(&res, 0, sizeof res);
  if (es_saga_redispatch(r, &t.dl, &res) != 0)
    _exit(21);
  if (res.outcome != ES_OUTCOME_OK)
    _exit(14);
  rc = es_saga_dead_letter_resolve(s, SAGA, t.dl.id);
  if (rc == ES_ENOTFOUND)
    _exit(20);
  if (rc != 0)
    _exit(15);
  /* Its letter is gone; t2's is still there. */
  memset(&f, 0, sizeof f);
  if (es_saga_dead_letters(s, SAGA, keep, &f, NULL) != 0 || f.n != 1 ||
      !letter_of(&f, "t2"))
    _exit(16);
  es_arena_close(&a);
  es_saga_runner_close(r);
  es_app_close(app);
  es_store_close(s);
  _exit(0);
}

/* Process D: runs the saga until caught up with the bank's executor. */
static void proc_d(void) {
  es_store *s;
  es_app *app;
  es_saga_runner *r;
  es_saga_options so = ES_SAGA_OPTIONS_INIT;
  es_saga_report rep;
  found f;

  pg_bank_open(conninfo, SCHEMA, &s, &app);
  so.sleep_us = pg_bank_no_sleep;
  if (es_saga_runner_open(&r, app, &bank_money_transfer_saga, s, &so) != 0 ||
      es_saga_run_until_caught_up(r, &rep) != 0)
    _exit(30);
  if (rep.dead_lettered != 0 || rep.completed != 2)
    _exit(31);
  memset(&f, 0, sizeof f);
  if (es_saga_dead_letters(s, SAGA, keep, &f, NULL) != 0 || f.n != 0)
    _exit(32);
  es_saga_runner_close(r);
  es_app_close(app);
  es_store_close(s);
  _exit(0);
}

/* Runs `prog` with `args` (NULL-terminated, after argv[0]); its stdout
 * into `out` (`cap` bytes, NUL-terminated). Returns its exit status. */
static int run_tool(const char *prog, const char *const *args, char *out,
                    size_t cap) {
  const char *argv[16];
  int fds[2], n = 0;
  size_t len = 0;
  pid_t pid;
  ssize_t got;

  argv[n++] = prog;
  while (*args && n < 15)
    argv[n++] = *args++;
  argv[n] = NULL;
  CHECK(pipe(fds) == 0);
  fflush(NULL);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    execv(prog, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  while (len + 1 < cap && (got = read(fds[0], out + len, cap - 1 - len)) > 0)
    len += (size_t)got;
  out[len] = '\0';
  close(fds[0]);
  return pg_bank_exit_code(pid);
}

/* How many times `needle` occurs in `hay`. */
static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

static pid_t spawn_b(int ready, int go) {
  pid_t pid;
  fflush(NULL);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0)
    proc_b(ready, go);
  return pid;
}

int main(int argc, char **argv) {
  static char out[65536];
  char q[256], id_t2[40];
  int ready[2], go[2], b_codes[2], resolved;
  const char *esctl, *bank_ctl;
  PGconn *db;
  pid_t b[2], d;
  char byte;

  conninfo = getenv("ES_PG_CONNINFO");
  if (!conninfo) {
    fprintf(stderr, "pg_dead_letter: ES_PG_CONNINFO not set (run it through "
                    "tests/support/with-postgres)\n");
    return 77;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: pg_dead_letter ESCTL BANK_CTL\n");
    return 2;
  }
  esctl = argv[1];
  bank_ctl = argv[2];

  /* A writes the letters and dies. */
  if (pg_bank_run_then_kill(proc_a, "pg_dead_letter") != 0)
    return 1;

  /* An operator sees them: by SQL, and with esctl. */
  db = PQconnectdb(conninfo);
  CHECK(PQstatus(db) == CONNECTION_OK);
  snprintf(q, sizeof q,
           "SELECT count(*) FROM %s.events WHERE stream_type = "
           "'saga:" SAGA "#dead' AND convert_from(payload, 'UTF8')::jsonb ->> "
           "'target' = 'Account.Withdraw'",
           SCHEMA);
  CHECK(pg_query_num(db, q) == 2);
  {
    const char *args[] = {"--json",       "--pg-schema", SCHEMA,
                          "dead-letters", conninfo,      NULL};
    CHECK(run_tool(esctl, args, out, sizeof out) == 0);
    CHECK(count_of(out, "\"saga\":\"" SAGA "\"") == 2);
    CHECK(count_of(out, "\"key\":\"t1\"") == 1);
    CHECK(count_of(out, "\"key\":\"t2\"") == 1);
    CHECK(count_of(out, "\"error\":\"ES_EIO\"") == 2);
  }
  CHECK(pg_query_count_type(db, SCHEMA, BANK_ACCOUNT_WITHDRAWN_TYPE_ID) == 0);

  /* B1 and B2, both having listed the letters, re-dispatch t1's at once:
   * one resolution. */
  CHECK(pipe(go) == 0 && pipe(ready) == 0);
  b[0] = spawn_b(ready[1], go[0]);
  b[1] = spawn_b(ready[1], go[0]);
  close(go[0]);
  close(ready[1]);
  for (int i = 0; i < 2; i++)
    if (read(ready[0], &byte, 1) != 1) {
      fprintf(stderr, "pg_dead_letter: B exited %d before listing\n",
              pg_bank_exit_code(b[i]));
      return 1;
    }
  close(ready[0]);
  CHECK(write(go[1], "xx", 2) == 2);
  close(go[1]);
  b_codes[0] = pg_bank_exit_code(b[0]);
  b_codes[1] = pg_bank_exit_code(b[1]);
  resolved = (b_codes[0] == 0) + (b_codes[1] == 0);
  if (resolved != 1 ||
      (b_codes[0] != 0 && b_codes[0] != 20 && b_codes[0] != 21) ||
      (b_codes[1] != 0 && b_codes[1] != 20 && b_codes[1] != 21)) {
    fprintf(stderr, "pg_dead_letter: B exited %d and %d\n", b_codes[0],
            b_codes[1]);
    return 1;
  }
  CHECK(pg_query_count_type(db, SCHEMA, BANK_ACCOUNT_WITHDRAWN_TYPE_ID) == 1);

  /* The application's esctl re-dispatches t2's letter. */
  {
    const char *args[] = {"--json",       "--pg-schema", SCHEMA,
                          "dead-letters", conninfo,      NULL};
    const char *p;
    CHECK(run_tool(esctl, args, out, sizeof out) == 0);
    CHECK(count_of(out, "\"saga\":\"" SAGA "\"") == 1);
    CHECK(count_of(out, "\"key\":\"t2\"") == 1);
    p = strstr(out, "{\"id\":\"");
    CHECK(p && strlen(p + 7) > 36 && p[7 + 36] == '"');
    memcpy(id_t2, p + 7, 36);
    id_t2[36] = '\0';
  }
  {
    const char *args[] = {"--json", "--pg-schema", SCHEMA, "redispatch",
                          conninfo, id_t2,         NULL};
    CHECK(run_tool(bank_ctl, args, out, sizeof out) == 0);
    CHECK(strstr(out, "\"outcome\":\"ok\"") &&
          strstr(out, "\"resolved\":true"));
    CHECK(run_tool(bank_ctl, args, out, sizeof out) == 1); /* no letter */
  }
  {
    const char *args[] = {"--json",       "--pg-schema", SCHEMA,
                          "dead-letters", conninfo,      NULL};
    CHECK(run_tool(esctl, args, out, sizeof out) == 0);
    CHECK(out[0] == '\0');
  }
  CHECK(pg_query_count_type(db, SCHEMA, BANK_ACCOUNT_WITHDRAWN_TYPE_ID) == 2);
  /* Two letters, two resolutions. */
  snprintf(q, sizeof q,
           "SELECT count(*) FROM %s.events WHERE stream_type = "
           "'saga:" SAGA "#dead'",
           SCHEMA);
  CHECK(pg_query_num(db, q) == 4);

  /* The Withdrawn events move the transfers on, in another process. */
  fflush(NULL);
  d = fork();
  CHECK(d >= 0);
  if (d == 0)
    proc_d();
  CHECK(pg_bank_exit_code(d) == 0);
  CHECK(pg_query_count_type(db, SCHEMA, BANK_ACCOUNT_WITHDRAWN_TYPE_ID) == 2);
  CHECK(pg_query_count_type(db, SCHEMA, BANK_ACCOUNT_DEPOSITED_TYPE_ID) == 2);
  CHECK(pg_query_count_type(db, SCHEMA, BANK_TRANSFER_COMPLETED_TYPE_ID) == 2);
  PQfinish(db);
  printf("pg_dead_letter: letters written by A were listed and re-dispatched "
         "once by B, by esctl\n");
  return 0;
}
