/*
 * pg_saga_lead.c - the MoneyTransfer saga across processes on PostgreSQL:
 * one process runs it, the others stand by, and when the one running it
 * is killed (SIGKILL) another takes over from the checkpoint.
 *
 * Three worker processes each open the store, the bank app and a live
 * saga runner (es_saga_start(): it works only while it holds the lease
 * "saga:MoneyTransfer") and start transfers between four accounts. Six
 * times, the parent finds the worker holding the lease (pg_locks: each
 * worker names its sessions in application_name), kills it at a random
 * moment, forks a replacement and waits until another worker holds the
 * lease. Then the workers stop starting transfers, and the parent waits
 * until every transfer started has settled (completed or failed), which
 * only a runner that took over can bring about. Checks, on the events:
 * no transfer is withdrawn, deposited or settled twice, money is
 * conserved, and the balances the app loads agree with the events.
 *
 * Runs beside a throwaway server (tests/support/with-postgres sets
 * ES_PG_CONNINFO). Exits 0 when every check holds. No check depends on
 * timing: the waits are guards against a hang.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
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
#include "pg_query.h"
#include "transfer_audit.h"

#define WORKERS 3
#define ROUNDS 6
#define ACCOUNTS 4
#define INITIAL 1000
#define MAX_EVENTS 200000
#define GUARD_S 240 /* a wait longer than this is a hang */
#define SCHEMA "lead"
#define LEASE "saga:MoneyTransfer"

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "pg_saga_lead:%d: check failed: %s\n", __LINE__, #c);    \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static const char *conninfo;

static void account_key(char out[16], int i) { snprintf(out, 16, "k%d", i); }

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int open_world(const char *ci, es_store **s, es_app **app) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  int rc;
  o.pg_schema = SCHEMA;
  rc = es_store_open_postgres(s, ci, &o, 0);
  if (rc == 0 && (rc = es_app_open(app, &bank_schema, *s, NULL)) != 0)
    es_store_close(*s);
  return rc;
}

/* ---- a worker ----------------------------------------------------------- */

/* Opens the accounts (fixed command ids: done once, whoever comes first),
 * runs the saga live and starts transfers until `stop_fd` reaches its
 * end; then says so on ack_fd and only runs the saga, until killed. */
static int ack_fd; /* a worker writes one byte here when it stops starting */

static void worker(int stop_fd) {
  char ci[1024];
  es_store *s;
  es_app *app;
  es_saga_runner *r;
  es_saga_options so = ES_SAGA_OPTIONS_INIT;
  unsigned seed = (unsigned)getpid();
  int starting = 1;

  snprintf(ci, sizeof ci, "%s application_name=w%ld", conninfo, (long)getpid());
  if (open_world(ci, &s, &app) != 0)
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
    if (bank_account_execute_open(app, key, &cmd, &o, NULL) != 0)
      _exit(4);
  }
  if (es_saga_runner_open(&r, app, &bank_money_transfer_saga, s, &so) != 0 ||
      es_saga_start(r) != 0)
    _exit(5);
  for (int n = 0;; n++) {
    struct pollfd pf = {stop_fd, POLLIN, 0};
    if (starting && poll(&pf, 1, 0) == 1) {
      starting = 0; /* the parent closed its end */
      if (write(ack_fd, "", 1) != 1)
        _exit(6);
    }
    if (!starting) {
      sleep_ms(100);
      continue;
    }
    bank_transfer_start cmd;
    char id[40], from[16], to[16];
    int a = rand_r(&seed) % ACCOUNTS, b = rand_r(&seed) % (ACCOUNTS - 1);
    snprintf(id, sizeof id, "t-%ld-%d", (long)getpid(), n);
    account_key(from, a);
    account_key(to, b >= a ? b + 1 : b);
    bank_transfer_start_init(&cmd);
    cmd.from = from;
    cmd.to = to;
    cmd.amount = 1 + rand_r(&seed) % 600;
    (void)bank_transfer_execute_start(app, id, &cmd, NULL, NULL);
    sleep_ms(5 + rand_r(&seed) % 20);
  }
}

static pid_t spawn(const int stop[2], const int ack[2]) {
  pid_t pid;
  fflush(NULL);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(stop[1]);
    close(ack[0]);
    ack_fd = ack[1];
    worker(stop[0]);
  }
  return pid;
}

/* ---- the parent's view, through SQL -------------------------------------- */

static PGconn *db;

/* The pid of the worker holding the saga's lease, or 0 when none does. */
static pid_t leader(void) {
  return pg_query_lease_holder(db, "esgen.lease." SCHEMA "." LEASE);
}

/* Waits until a worker other than `old` holds the lease; returns it. */
static pid_t await_leader(pid_t old) {
  for (int i = 0; i < GUARD_S * 10; i++) {
    pid_t p = leader();
    if (p && p != old)
      return p;
    sleep_ms(100);
  }
  fprintf(stderr, "pg_saga_lead: no worker took the lease over\n");
  exit(1);
}

static long long count_type(uint64_t type_id) {
  return pg_query_count_type(db, SCHEMA, type_id);
}

/* ---- the checks on the events -------------------------------------------- */

static int copy_balance(const void *state, uint64_t version, void *ctx) {
  (void)version;
  *(int64_t *)ctx = ((const bank_account_state *)state)->balance;
  return 0;
}

static void check_events(void) {
  es_store *s;
  es_app *app;
  transfer_audit t;
  int64_t total = 0;

  CHECK(open_world(conninfo, &s, &app) == 0);
  CHECK(transfer_audit_init(&t, ACCOUNTS, MAX_EVENTS) == 0);
  CHECK(es_store_read_all(s, 1, 0, transfer_audit_event, &t) == 0);
  CHECK(t.twice == 0);
  CHECK(t.started > 0);
  CHECK(t.settled == t.started);
  CHECK(t.withdrawn == t.deposited);
  for (int i = 0; i < ACCOUNTS; i++) {
    char key[16];
    int64_t state = INT64_MIN;
    account_key(key, i);
    CHECK(es_app_read_state(app, &bank_account_aggregate, key, copy_balance,
                            &state) == 0);
    CHECK(state == t.balance[i]);
    total += t.balance[i];
  }
  CHECK(total == (int64_t)ACCOUNTS * INITIAL);
  printf("pg_saga_lead: %d takeovers, %" PRIu64 " transfers settled, %" PRId64
         " moved\n",
         ROUNDS, t.started, t.deposited);
  transfer_audit_close(&t);
  es_app_close(app);
  es_store_close(s);
}

int main(void) {
  pid_t pids[WORKERS + ROUNDS];
  int n = 0, stop[2], ack[2];
  unsigned seed = 20261204;
  pid_t lead = 0;

  conninfo = getenv("ES_PG_CONNINFO");
  if (!conninfo) {
    fprintf(stderr, "pg_saga_lead: ES_PG_CONNINFO not set (run it through "
                    "tests/support/with-postgres)\n");
    return 77;
  }
  /* Every worker is forked from this process, which starts no thread. */
  CHECK(pipe(stop) == 0 && pipe(ack) == 0);
  for (int i = 0; i < WORKERS; i++)
    pids[n++] = spawn(stop, ack);
  db = PQconnectdb(conninfo);
  CHECK(PQstatus(db) == CONNECTION_OK);

  lead = await_leader(0);
  for (int round = 0; round < ROUNDS; round++) {
    int status;
    sleep_ms(200 + rand_r(&seed) % 1500); /* mid-run, at a random moment */
    CHECK(kill(lead, SIGKILL) == 0);
    CHECK(waitpid(lead, &status, 0) == lead);
    CHECK(WIFSIGNALED(status));
    pids[n++] = spawn(stop, ack);
    lead = await_leader(lead);
  }

  /* No more transfers; the last leader settles every one started. */
  close(stop[1]);
  close(ack[1]);
  for (int i = 0; i < WORKERS; i++) { /* the living ones have stopped */
    char byte;
    CHECK(read(ack[0], &byte, 1) == 1);
  }
  for (int i = 0;; i++) {
    long long started = count_type(BANK_TRANSFER_STARTED_TYPE_ID);
    long long settled = count_type(BANK_TRANSFER_COMPLETED_TYPE_ID) +
                        count_type(BANK_TRANSFER_FAILED_TYPE_ID);
    if (started == settled)
      break;
    if (i > GUARD_S * 10) {
      fprintf(stderr, "pg_saga_lead: %lld transfers started, %lld settled\n",
              started, settled);
      exit(1);
    }
    sleep_ms(100);
  }
  for (int i = 0; i < n; i++)
    if (kill(pids[i], SIGKILL) == 0)
      waitpid(pids[i], NULL, 0);
  PQfinish(db);
  check_events();
  return 0;
}
