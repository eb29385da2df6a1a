/*
 * pg_commands.c - durable bank commands per second on PostgreSQL, beside
 * the raw ceiling measured by the same program.
 *
 * The bank workload of bench/commands (1,000 accounts; deposits, every
 * 20th command a withdrawal; generated typed entry points) on the
 * PostgreSQL store, with 1 client, 64 clients in one process, and 4
 * processes x 16 clients. The raw ceiling is one client on one connection
 * doing BEGIN; SELECT (a stream's version); INSERT (one event row);
 * COMMIT, each its own round trip: what one command costs without any
 * batching. It runs before every run. Targets (docs/performance.md):
 * 1 client >= 0.8x raw; 64 clients >= 20x raw; 4 x 16 >= 1 x 64.
 *
 * Beside each rate it prints the server's WAL flushes (pg_stat_wal's
 * wal_sync) per second and the commands (or raw transactions) each flush
 * made durable: the disk's flush rate moves with the machine's load, the
 * commands a flush carries is what batching achieves; and the load
 * average when the run ended.
 *
 *   pg_commands [-t SECONDS]       (default 5 per run)
 * The server is ES_PG_CONNINFO (run through tests/support/with-postgres,
 * which starts a throwaway server with default durability).
 */
#include <inttypes.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include <libpq-fe.h>

#include "bank.es.h"
#include "bench_util.h"

#define ACCOUNTS 1000
#define INITIAL 1000000000

static char keys[ACCOUNTS][16];
static const char *conninfo;

static es_store *open_store(void) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  es_store *s = NULL;
  int rc;

  memset(&rep, 0, sizeof rep);
  o.pg_schema = "bench_commands";
  o.report = &rep;
  if ((rc = es_store_open_postgres(&s, conninfo, &o, 0)) != 0) {
    fprintf(stderr, "pg_commands: open: %s: %s\n", es_strerror(rc),
            rep.message);
    exit(1);
  }
  return s;
}

/* ---- clients ------------------------------------------------------------ */

typedef struct client {
  es_app *app;
  double end;
  uint64_t seed;
  long done, unexpected;
  int first_rc;
} client;

static void *client_main(void *arg) {
  client *c = arg;
  bank_account_deposit dep;
  bank_account_withdraw wd;
  es_result r;

  bank_account_deposit_init(&dep);
  bank_account_withdraw_init(&wd);
  while (bench_now() < c->end) {
    uint64_t x = bench_rand(&c->seed);
    const char *key = keys[x % ACCOUNTS];
    int rc;
    if (c->done % 20 == 19) {
      wd.amount = (int64_t)(x >> 32) % 50 + 1;
      rc = bank_account_execute_withdraw(c->app, key, &wd, NULL, &r);
    } else {
      dep.amount = (int64_t)(x >> 32) % 100 + 1;
      rc = bank_account_execute_deposit(c->app, key, &dep, NULL, &r);
    }
    if (rc != 0 || r.outcome != ES_OUTCOME_OK) {
      if (!c->unexpected++)
        c->first_rc = rc;
    }
    c->done++;
  }
  return NULL;
}

/* One process: opens the store, waits for the go byte on `go`, runs
 * `clients` clients for `secs`, writes its command count to `out`. */
static void process_main(int clients, double secs, int go, int out, int id) {
  es_store *s = open_store();
  es_app *app = NULL;
  pthread_t th[64];
  client cl[64];
  long total = 0, bad = 0;
  char b;
  int rc;

  if ((rc = es_app_open(&app, &bank_schema, s, NULL)) != 0) {
    fprintf(stderr, "pg_commands: app: %s\n", es_strerror(rc));
    exit(1);
  }
  if (read(go, &b, 1) != 1)
    exit(1);
  for (int i = 0; i < clients; i++) {
    cl[i] = (client){app,
                     bench_now() + secs,
                     UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(id * 64 + i + 1),
                     0,
                     0,
                     0};
    pthread_create(&th[i], NULL, client_main, &cl[i]);
  }
  for (int i = 0; i < clients; i++) {
    pthread_join(th[i], NULL);
    total += cl[i].done;
    bad += cl[i].unexpected;
    if (cl[i].unexpected)
      fprintf(stderr, "pg_commands: %ld commands failed (first: %s)\n",
              cl[i].unexpected, es_strerror(cl[i].first_rc));
  }
  es_app_close(app);
  es_store_close(s);
  if (write(out, &total, sizeof total) != (ssize_t)sizeof total)
    exit(1);
  exit(bad ? 1 : 0);
}

/* Commands of `procs` processes x `clients` clients for `secs`; `*took`
 * gets the seconds they took. */
static long run(int procs, int clients, double secs, double *took) {
  int go[2], res[2], failed = 0;
  long total = 0;
  double t0;

  if (pipe(go) != 0 || pipe(res) != 0)
    exit(1);
  fflush(stdout); /* the children must not print our buffer again */
  for (int i = 0; i < procs; i++)
    if (fork() == 0) {
      close(go[1]);
      close(res[0]);
      process_main(clients, secs, go[0], res[1], i);
    }
  close(go[0]);
  close(res[1]);
  sleep(1); /* every process has opened its store */
  t0 = bench_now();
  for (int i = 0; i < procs; i++)
    if (write(go[1], "g", 1) != 1)
      exit(1);
  for (int i = 0; i < procs; i++) {
    long n = 0;
    if (read(res[0], &n, sizeof n) == (ssize_t)sizeof n)
      total += n;
  }
  for (int i = 0; i < procs; i++) {
    int st;
    wait(&st);
    failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
  }
  close(go[1]);
  close(res[0]);
  if (failed)
    exit(1);
  *took = bench_now() - t0;
  return total;
}

/* ---- the raw ceiling ---------------------------------------------------- */

static void must(PGconn *c, PGresult *r) {
  if (PQresultStatus(r) != PGRES_COMMAND_OK &&
      PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "pg_commands: raw: %s", PQerrorMessage(c));
    exit(1);
  }
  PQclear(r);
}

/* The WAL flushes the server has made so far (pg_stat_wal.wal_sync, as
 * counted when the last backend reported its statistics). */
static long wal_syncs(void) {
  PGconn *c = PQconnectdb(conninfo);
  PGresult *r = PQexec(c, "SELECT wal_sync FROM pg_stat_wal");
  long n = -1;

  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
    n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

/* The syncs counted by pg_stat_wal since `before`: backends report their
 * counts when they end (the runs' processes have closed their stores) or
 * within a second; waits for the count to settle. */
static long syncs_since(long before) {
  long n = wal_syncs(), m;

  for (int i = 0; i < 20; i++) {
    nanosleep(&(struct timespec){0, 100000000}, NULL);
    if ((m = wal_syncs()) == n)
      break;
    n = m;
  }
  return n - before;
}

/* BEGIN; SELECT; INSERT; COMMIT per transaction, one client: the
 * transactions done in `secs`; `*took` gets the seconds they took. */
static long raw(double secs, double *took) {
  PGconn *c = PQconnectdb(conninfo);
  uint64_t seed = 42;
  long n = 0;
  double t0, end;

  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "pg_commands: %s", PQerrorMessage(c));
    exit(1);
  }
  must(c, PQexec(c, "SET client_min_messages = warning;"
                    "CREATE TABLE IF NOT EXISTS raw_events (id bigserial "
                    "PRIMARY KEY, k text, v bigint, payload bytea);"
                    "CREATE INDEX IF NOT EXISTS raw_events_k ON raw_events "
                    "(k, v)"));
  t0 = bench_now();
  end = t0 + secs;
  while (bench_now() < end) {
    const char *p[1] = {keys[bench_rand(&seed) % ACCOUNTS]};
    must(c, PQexec(c, "BEGIN"));
    must(c, PQexecParams(c,
                         "SELECT coalesce(max(v), 0) FROM raw_events WHERE "
                         "k = $1",
                         1, NULL, p, NULL, NULL, 0));
    must(c, PQexecParams(c,
                         "INSERT INTO raw_events (k, v, payload) VALUES ($1, "
                         "1, '\\x81a6616d6f756e7401'::bytea)",
                         1, NULL, p, NULL, NULL, 0));
    must(c, PQexec(c, "COMMIT"));
    n++;
  }
  PQfinish(c);
  *took = bench_now() - t0;
  return n;
}

/* ---- main -----------------------------------------------------------------
 */

static void drop_schema(void) {
  PGconn *c = PQconnectdb(conninfo);
  must(c, PQexec(c, "SET client_min_messages = warning;"
                    "DROP SCHEMA IF EXISTS bench_commands CASCADE;"
                    "DROP TABLE IF EXISTS raw_events"));
  PQfinish(c);
}

/* Opens every account, 16 at a time (not timed). */
static void *open_accounts(void *arg) {
  es_app *app = ((void **)arg)[0];
  int part = *(int *)((void **)arg)[1];
  bank_account_open cmd;

  bank_account_open_init(&cmd);
  cmd.owner = "bench";
  cmd.initial = INITIAL;
  for (int i = part * ACCOUNTS / 16; i < (part + 1) * ACCOUNTS / 16; i++)
    if (bank_account_execute_open(app, keys[i], &cmd, NULL, NULL) != 0) {
      fprintf(stderr, "pg_commands: opening the accounts failed\n");
      exit(1);
    }
  return NULL;
}

int main(int argc, char **argv) {
  double secs = 5, r[3], raws[3], took;
  static const int procs[3] = {1, 1, 4}, clients[3] = {1, 64, 16};
  es_store *s;
  es_app *app = NULL;
  pthread_t th[16];
  int parts[16];
  void *args[16][2];
  int rc;

  if (argc == 3 && strcmp(argv[1], "-t") == 0)
    secs = atof(argv[2]);
  else if (argc != 1) {
    fprintf(stderr, "usage: pg_commands [-t SECONDS]\n");
    return 2;
  }
  conninfo = getenv("ES_PG_CONNINFO");
  if (!conninfo) {
    fprintf(stderr, "pg_commands: set ES_PG_CONNINFO (run it through "
                    "tests/support/with-postgres)\n");
    return 2;
  }
  for (int i = 0; i < ACCOUNTS; i++)
    snprintf(keys[i], sizeof keys[i], "acc-%04d", i);
  drop_schema(); /* every run starts from an empty store */
  s = open_store();
  if ((rc = es_app_open(&app, &bank_schema, s, NULL)) != 0) {
    fprintf(stderr, "pg_commands: app: %s\n", es_strerror(rc));
    return 1;
  }
  for (int i = 0; i < 16; i++) {
    parts[i] = i;
    args[i][0] = app;
    args[i][1] = &parts[i];
    pthread_create(&th[i], NULL, open_accounts, args[i]);
  }
  for (int i = 0; i < 16; i++)
    pthread_join(th[i], NULL);
  es_app_close(app);
  es_store_close(s);

  printf("pg_commands: bank schema, %d accounts, PostgreSQL store, %.0f s a "
         "run\n",
         ACCOUNTS, secs);
  printf("  raw = one client: BEGIN; SELECT; INSERT; COMMIT (4 round "
         "trips), right before each run\n");
  printf("  flushes/s, per flush: the server's WAL flushes a second and the "
         "commands\n  (raw: transactions) each made durable, in the same "
         "run\n");
  printf("  %-17s %10s %9s %6s %9s %9s %6s %9s %5s\n", "run", "commands/s",
         "flushes/s", "per", "raw txn/s", "flushes/s", "per", "ratio", "load");
  for (int k = 0; k < 3; k++) {
    char name[32];
    long n, f, rn, rf;
    double rt;
    rf = wal_syncs();
    rn = raw(secs < 3 ? secs : 3, &rt);
    rf = syncs_since(rf);
    raws[k] = (double)rn / rt;
    f = wal_syncs();
    n = run(procs[k], clients[k], secs, &took);
    f = syncs_since(f);
    r[k] = (double)n / took;
    snprintf(name, sizeof name, "%d process%s x %d", procs[k],
             procs[k] > 1 ? "es" : "", clients[k]);
    printf("  %-17s %10.0f %9.0f %6.1f %9.0f %9.0f %6.1f %9.2f %5.1f\n", name,
           r[k], (double)f / took, f > 0 ? (double)n / (double)f : 0, raws[k],
           (double)rf / rt, rf > 0 ? (double)rn / (double)rf : 0,
           r[k] / raws[k], bench_loadavg());
  }
  printf("  1 client: %.2fx raw (target >= 0.8): %s\n", r[0] / raws[0],
         r[0] >= 0.8 * raws[0] ? "met" : "NOT met");
  printf("  64 clients: %.1fx raw (target >= 20): %s\n", r[1] / raws[1],
         r[1] >= 20 * raws[1] ? "met" : "NOT met");
  printf("  4 x 16 vs 1 x 64: %.2fx (target >= 1): %s\n", r[2] / r[1],
         r[2] >= r[1] ? "met" : "NOT met");
  drop_schema();
  return 0;
}
