/*
 * pg_order.c - the two designs of a PostgreSQL global order that never
 * skips, measured side by side (docs/postgres.md, "Global order").
 *
 *   A  one counter row, updated in the append transaction and so held
 *      until its commit (gapless positions; appends serialize on the row
 *      for the length of a commit);
 *   B  each row stores pg_current_xact_id() (xid8); readers stop below
 *      the oldest running transaction (no shared row; positions have gaps,
 *      the checkpoint is an (xid, seq) pair).
 *
 * For each design, several processes (one connection each) append
 * transactions of k events for a fixed time, each transaction one round
 * trip (BEGIN; ...; COMMIT in one simple-protocol message), on the server
 * named by ES_PG_CONNINFO (run through tests/support/with-postgres). Prints
 * commits/s and events/s per design, process count and k.
 *
 *   pg_order [seconds per run]      (default 3)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK &&
      PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "pg_order: %s: %s", sql, PQerrorMessage(c));
    exit(1);
  }
  PQclear(r);
}

/* One process: commits transactions of `k` events for `secs` seconds;
 * writes its commit count to `fd`. */
static void appender(const char *conninfo, char design, int k, double secs,
                     int fd) {
  PGconn *c = PQconnectdb(conninfo);
  char sql[512];
  long n = 0;
  double end;

  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "pg_order: %s", PQerrorMessage(c));
    exit(1);
  }
  if (design == 'A')
    snprintf(sql, sizeof sql,
             "BEGIN;"
             "WITH h AS (UPDATE bench_a_head SET position = position + %d "
             "RETURNING position) "
             "INSERT INTO bench_a_events SELECT h.position - %d + g, "
             "'\\x0102030405060708090a0b0c0d0e0f10'::bytea "
             "FROM h, generate_series(1, %d) AS g;"
             "COMMIT",
             k, k, k);
  else
    snprintf(sql, sizeof sql,
             "BEGIN;"
             "INSERT INTO bench_b_events (xid, payload) SELECT "
             "pg_current_xact_id(), "
             "'\\x0102030405060708090a0b0c0d0e0f10'::bytea "
             "FROM generate_series(1, %d);"
             "COMMIT",
             k);
  end = now_s() + secs;
  while (now_s() < end) {
    must(c, sql);
    n++;
  }
  PQfinish(c);
  if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
    exit(1);
}

static double run(const char *conninfo, char design, int procs, int k,
                  double secs) {
  int fds[2];
  long total = 0;
  double t0;

  if (pipe(fds) != 0)
    exit(1);
  fflush(stdout);
  t0 = now_s();
  for (int i = 0; i < procs; i++) {
    pid_t p = fork();
    if (p == 0) {
      close(fds[0]);
      appender(conninfo, design, k, secs, fds[1]);
      _exit(0);
    }
  }
  close(fds[1]);
  for (int i = 0; i < procs; i++) {
    long n;
    if (read(fds[0], &n, sizeof n) != (ssize_t)sizeof n)
      exit(1);
    total += n;
  }
  close(fds[0]);
  while (wait(NULL) > 0)
    ;
  return (double)total / (now_s() - t0);
}

int main(int argc, char **argv) {
  const char *conninfo = getenv("ES_PG_CONNINFO");
  double secs = argc > 1 ? atof(argv[1]) : 3;
  static const int procs[] = {1, 4, 16, 64};
  static const int ks[] = {1, 16};
  PGconn *c;

  if (!conninfo) {
    fprintf(stderr, "pg_order: set ES_PG_CONNINFO (run it through "
                    "tests/support/with-postgres)\n");
    return 2;
  }
  c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "pg_order: %s", PQerrorMessage(c));
    return 1;
  }
  must(c, "SET client_min_messages = warning;"
          "DROP TABLE IF EXISTS bench_a_head, bench_a_events, bench_b_events;"
          "CREATE TABLE bench_a_head (id int PRIMARY KEY, position bigint);"
          "INSERT INTO bench_a_head VALUES (1, 0);"
          "CREATE TABLE bench_a_events (position bigint PRIMARY KEY, "
          "payload bytea);"
          "CREATE TABLE bench_b_events (seq bigserial PRIMARY KEY, "
          "xid xid8 NOT NULL, payload bytea);"
          "CREATE INDEX ON bench_b_events (xid, seq)");
  printf("global order designs, %.0f s per run, fsync on, "
         "synchronous_commit on\n",
         secs);
  printf("%-8s %6s %4s %12s %12s\n", "design", "procs", "k", "commits/s",
         "events/s");
  for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
    for (size_t pi = 0; pi < sizeof procs / sizeof procs[0]; pi++)
      for (char d = 'A'; d <= 'B'; d++) {
        double r = run(conninfo, d, procs[pi], ks[ki], secs);
        printf("%-8c %6d %4d %12.0f %12.0f\n", d, procs[pi], ks[ki], r,
               r * ks[ki]);
      }
  must(c, "DROP TABLE bench_a_head, bench_a_events, bench_b_events");
  PQfinish(c);
  return 0;
}
