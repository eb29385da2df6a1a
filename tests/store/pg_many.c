/*
 * pg_many.c - many processes on one PostgreSQL store, with faults.
 *
 *   pg_many many     4 processes x 16 threads transfer between 100 shared
 *                    accounts (two-stream appends with exact expected
 *                    versions) while a subscriber follows the global order;
 *                    a trigger sleeps a random time inside every append
 *                    transaction, so commits interleave at random. Checks:
 *                    every account's balance and version equal what the
 *                    acknowledged transfers say, and the subscriber saw
 *                    every position exactly once, in order, with the
 *                    events a final read finds there.
 *   pg_many kill     50 rounds: a process appends with 16 threads and is
 *                    killed (SIGKILL) at a random moment. Checks: every
 *                    acknowledged transfer is stored, no transfer is half
 *                    stored, positions have no gap.
 *   pg_many restart  the server restarts while 2 processes append. Checks:
 *                    calls fail with an error or succeed; every
 *                    acknowledged transfer is stored, none half.
 *   pg_many terminate  the clients' server processes are terminated again
 *                    and again while 2 processes append (connections lost
 *                    before, during and after COMMIT). Same checks.
 *
 * Runs beside a throwaway server (tests/support/with-postgres sets
 * ES_PG_CONNINFO, ES_PG_CTL, ES_PG_DATADIR, ES_PG_OPTS, ES_PG_RUNAS).
 * Exits 0 when every check holds; prints the first failed check otherwise.
 * No check depends on timing: delays only shape the interleavings.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "es/es_error.h"
#include "es/es_store.h"

#define ACCOUNTS 100
#define THREADS 16
#define MAX_WORKERS 4
#define TRANSFERS 25 /* per thread, in the "many" test */

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "pg_many:%d: check failed: %s\n", __LINE__, #c);         \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static const char *conninfo;
static const char *schema;
static int tolerate_open; /* retry an open that fails with ES_EIO */

static es_store *open_store(void) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  es_store *s = NULL;
  int rc;

  memset(&rep, 0, sizeof rep);
  o.pg_schema = schema;
  o.report = &rep;
  rc = es_store_open_postgres(&s, conninfo, &o, 0);
  /* the terminate test may kill a connection as it opens */
  for (int i = 0; rc == ES_EIO && tolerate_open && i < 50; i++)
    rc = es_store_open_postgres(&s, conninfo, &o, 0);
  if (rc) {
    fprintf(stderr, "pg_many: open: %s: %s\n", es_strerror(rc), rep.message);
    exit(1);
  }
  return s;
}

static void sql(const char *text) {
  PGconn *c = PQconnectdb(conninfo);
  PGresult *r = PQexec(c, text);
  if (PQresultStatus(r) != PGRES_COMMAND_OK &&
      PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "pg_many: %s: %s", text, PQerrorMessage(c));
    exit(1);
  }
  PQclear(r);
  PQfinish(c);
}

/* ---- workers ------------------------------------------------------------ */

typedef struct worker {
  es_store *s;
  int proc, thread;
  int transfers; /* 0: until killed */
  int ack_fd;    /* -1: none; else one line per acknowledged transfer */
  int tolerate_errors;
  pthread_mutex_t *mu;
  int64_t *delta;  /* [ACCOUNTS]: acknowledged balance changes */
  uint64_t *count; /* [ACCOUNTS]: acknowledged events */
} worker;

static void key_of(char out[16], int account) {
  snprintf(out, 16, "a%03d", account);
}

/* One transfer attempt; 0 when acknowledged. */
static int transfer(worker *w, unsigned *seed, int seq) {
  int a = (int)(rand_r(seed) % ACCOUNTS), b = (int)(rand_r(seed) % ACCOUNTS);
  int amount = 1 + (int)(rand_r(seed) % 100);
  char ka[16], kb[16], pa[64], pb[64];
  es_new_event ea, eb;
  es_append_stream g[2];
  uint64_t va, vb;
  int rc;

  if (a == b)
    b = (a + 1) % ACCOUNTS;
  key_of(ka, a);
  key_of(kb, b);
  snprintf(pa, sizeof pa, "%d:%d:%d:d:%d", w->proc, w->thread, seq, amount);
  snprintf(pb, sizeof pb, "%d:%d:%d:c:%d", w->proc, w->thread, seq, amount);
  for (int attempt = 0; attempt < 1000; attempt++) {
    if ((rc = es_store_stream_version(w->s, "Account", ka, &va)) != 0 ||
        (rc = es_store_stream_version(w->s, "Account", kb, &vb)) != 0) {
      CHECK(w->tolerate_errors);
      return rc;
    }
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    ea.type_id = eb.type_id = 1;
    ea.payload = pa;
    ea.len = strlen(pa);
    eb.payload = pb;
    eb.len = strlen(pb);
    g[0] = (es_append_stream){"Account", ka, es_expect_exact(va), &ea, 1, 0};
    g[1] = (es_append_stream){"Account", kb, es_expect_exact(vb), &eb, 1, 0};
    rc = es_store_append(w->s, g, 2, NULL);
    if (rc == ES_ECONFLICT)
      continue;
    if (rc != 0) {
      CHECK(w->tolerate_errors);
      return rc;
    }
    CHECK(g[0].version == va + 1 && g[1].version == vb + 1);
    if (w->ack_fd >= 0) {
      char line[64];
      int n =
          snprintf(line, sizeof line, "%d:%d:%d\n", w->proc, w->thread, seq);
      CHECK(write(w->ack_fd, line, (size_t)n) == n);
    }
    if (w->delta) {
      pthread_mutex_lock(w->mu);
      w->delta[a] -= amount;
      w->delta[b] += amount;
      w->count[a]++;
      w->count[b]++;
      pthread_mutex_unlock(w->mu);
    }
    return 0;
  }
  return ES_ECONFLICT;
}

#define MAX_SEQ 4096

static void *work(void *arg) {
  worker *w = arg;
  unsigned seed =
      (unsigned)(w->proc * 7919 + w->thread * 104729) ^ (unsigned)getpid();
  int n = w->transfers ? w->transfers : MAX_SEQ;
  for (int i = 0; i < n; i++)
    transfer(w, &seed, i);
  return NULL;
}

/* One application process: `threads` threads on one store. Writes its
 * acknowledged deltas and counts to `result_fd` (when not -1) at the end. */
static void run_process(int proc, int transfers, int ack_fd, int result_fd,
                        int tolerate_errors) {
  pthread_t th[THREADS];
  worker w[THREADS];
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  int64_t delta[ACCOUNTS] = {0};
  uint64_t count[ACCOUNTS] = {0};
  es_store *s = open_store();

  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){s,   proc,  i,    transfers, ack_fd, tolerate_errors,
                    &mu, delta, count};
    CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  es_store_close(s);
  if (result_fd >= 0) {
    CHECK(write(result_fd, delta, sizeof delta) == (ssize_t)sizeof delta);
    CHECK(write(result_fd, count, sizeof count) == (ssize_t)sizeof count);
  }
}

/* ---- reading everything back -------------------------------------------- */

/* Transfers found: [proc][thread][seq] legs bitmask (1 debit, 2 credit). */
static uint8_t legs[MAX_WORKERS * 50][THREADS][MAX_SEQ];

typedef struct scan {
  uint64_t next_position;
  int64_t balance[ACCOUNTS];
  uint64_t version[ACCOUNTS];
} scan;

static int scan_event(const es_stored_event *e, void *ctx) {
  scan *sc = ctx;
  char text[64];
  int p, t, q, amount, acc;
  char leg;

  CHECK(e->meta.position == sc->next_position);
  sc->next_position++;
  CHECK(e->len < sizeof text);
  memcpy(text, e->payload, e->len);
  text[e->len] = '\0';
  CHECK(sscanf(text, "%d:%d:%d:%c:%d", &p, &t, &q, &leg, &amount) == 5);
  CHECK(p >= 0 && p < MAX_WORKERS * 50 && t >= 0 && t < THREADS && q >= 0 &&
        q < MAX_SEQ);
  CHECK(!(legs[p][t][q] & (leg == 'd' ? 1 : 2))); /* stored once */
  legs[p][t][q] |= leg == 'd' ? 1 : 2;
  CHECK(sscanf(e->meta.key, "a%d", &acc) == 1 && acc >= 0 && acc < ACCOUNTS);
  sc->balance[acc] += leg == 'd' ? -amount : amount;
  CHECK(e->meta.version == sc->version[acc] + 1); /* no gap in the stream */
  sc->version[acc]++;
  return 0;
}

/* Reads the whole store in pages; checks that no transfer is half stored. */
static void scan_all(es_store *s, scan *sc) {
  uint64_t head;

  memset(sc, 0, sizeof *sc);
  memset(legs, 0, sizeof legs);
  sc->next_position = 1;
  CHECK(es_store_head(s, &head) == 0);
  while (sc->next_position <= head)
    CHECK(es_store_read_all(s, sc->next_position, 1000, scan_event, sc) == 0);
  CHECK(sc->next_position == head + 1);
  for (size_t p = 0; p < MAX_WORKERS * 50; p++)
    for (int t = 0; t < THREADS; t++)
      for (int q = 0; q < MAX_SEQ; q++)
        CHECK(legs[p][t][q] == 0 || legs[p][t][q] == 3);
}

/* Every line of the ack file names a transfer found whole. */
static uint64_t check_acks(const char *path) {
  FILE *f = fopen(path, "r");
  int p, t, q;
  uint64_t n = 0;

  CHECK(f);
  while (fscanf(f, "%d:%d:%d\n", &p, &t, &q) == 3) {
    CHECK(legs[p][t][q] == 3); /* acknowledged, so stored */
    n++;
  }
  fclose(f);
  return n;
}

/* ---- the subscriber ------------------------------------------------------ */

typedef struct follower {
  es_store *s;
  uint64_t seen;    /* positions 1..seen delivered */
  uint64_t stop_at; /* set by the main thread when the appenders are done */
  es_uuid *ids;     /* [position - 1] */
  size_t cap;
  pthread_mutex_t mu;
} follower;

static int follow_event(const es_stored_event *e, void *ctx) {
  follower *f = ctx;
  CHECK(e->meta.position == f->seen + 1); /* in order, none skipped, no dup */
  if (f->seen == f->cap) {
    f->cap = f->cap ? f->cap * 2 : 4096;
    f->ids = realloc(f->ids, f->cap * sizeof *f->ids);
    CHECK(f->ids);
  }
  f->ids[f->seen++] = e->meta.event_id;
  return 0;
}

static void *follow(void *arg) {
  follower *f = arg;
  for (;;) {
    uint64_t h, stop;
    int rc = es_store_wait(f->s, f->seen, 200000, &h);
    CHECK(rc == 0 || rc == ES_ETIMEDOUT);
    CHECK(es_store_read_all(f->s, f->seen + 1, 97, follow_event, f) == 0);
    pthread_mutex_lock(&f->mu);
    stop = f->stop_at;
    pthread_mutex_unlock(&f->mu);
    if (stop && f->seen >= stop)
      return NULL;
  }
}

static int compare_ids(const es_stored_event *e, void *ctx) {
  follower *f = ctx;
  CHECK(e->meta.position <= f->seen);
  CHECK(memcmp(&f->ids[e->meta.position - 1], &e->meta.event_id, 16) == 0);
  return 0;
}

/* ---- the tests ---------------------------------------------------------- */

static int test_many(void) {
  int procs = MAX_WORKERS, fds[MAX_WORKERS][2];
  pid_t pid[MAX_WORKERS];
  int64_t delta[ACCOUNTS] = {0};
  uint64_t count[ACCOUNTS] = {0}, head, acked_events = 0;
  es_store *s = open_store();
  int go[2];
  follower f;
  pthread_t ft;
  scan sc;
  char buf[256];

  /* Random commit interleavings: every append transaction sleeps 0-3 ms
   * after it took its positions and before it commits. */
  snprintf(buf, sizeof buf,
           "CREATE FUNCTION %s.jitter() RETURNS trigger LANGUAGE plpgsql AS "
           "$$BEGIN PERFORM pg_sleep(random() * 0.003); RETURN NULL; END$$; "
           "CREATE TRIGGER jitter AFTER INSERT ON %s.events FOR EACH "
           "STATEMENT EXECUTE FUNCTION %s.jitter()",
           schema, schema, schema);
  sql(buf);

  /* Fork the workers while this process has no other thread: a child
   * forked beside running threads can inherit a lock one of them held
   * (the sanitizers' allocator lock did, and the child hung). The
   * workers wait for the follower to be running before they start. */
  es_store_close(s);
  CHECK(pipe(go) == 0);
  for (int i = 0; i < procs; i++) {
    CHECK(pipe(fds[i]) == 0);
    pid[i] = fork();
    CHECK(pid[i] >= 0);
    if (pid[i] == 0) {
      char b;
      close(go[1]);
      CHECK(read(go[0], &b, 1) == 1);
      run_process(i, TRANSFERS, -1, fds[i][1], 0);
      _exit(0);
    }
    close(fds[i][1]);
  }
  close(go[0]);
  s = open_store();
  memset(&f, 0, sizeof f);
  f.s = s;
  pthread_mutex_init(&f.mu, NULL);
  CHECK(pthread_create(&ft, NULL, follow, &f) == 0);
  for (int i = 0; i < procs; i++)
    CHECK(write(go[1], "g", 1) == 1);
  close(go[1]);
  for (int i = 0; i < procs; i++) {
    int64_t d[ACCOUNTS];
    uint64_t c[ACCOUNTS];
    int st;
    CHECK(read(fds[i][0], d, sizeof d) == (ssize_t)sizeof d);
    CHECK(read(fds[i][0], c, sizeof c) == (ssize_t)sizeof c);
    close(fds[i][0]);
    CHECK(waitpid(pid[i], &st, 0) == pid[i]);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int a = 0; a < ACCOUNTS; a++) {
      delta[a] += d[a];
      count[a] += c[a];
      acked_events += c[a];
    }
  }
  CHECK(es_store_head(s, &head) == 0);
  CHECK(head == acked_events); /* nothing stored that was not acknowledged */
  pthread_mutex_lock(&f.mu);
  f.stop_at = head;
  pthread_mutex_unlock(&f.mu);
  pthread_join(ft, NULL);

  scan_all(s, &sc);
  for (int a = 0; a < ACCOUNTS; a++) {
    char k[16];
    uint64_t v;
    key_of(k, a);
    CHECK(sc.balance[a] == delta[a]);
    CHECK(sc.version[a] == count[a]);
    CHECK(es_store_stream_version(s, "Account", k, &v) == 0 && v == count[a]);
  }
  CHECK(f.seen == head);
  CHECK(es_store_read_all(s, 1, 0, compare_ids, &f) == 0);
  printf("many: %d processes x %d threads, %" PRIu64
         " events, every balance and version as acknowledged; the "
         "subscriber saw each position once, in order\n",
         procs, THREADS, head);
  free(f.ids);
  es_store_close(s);
  return 0;
}

static int test_kill(void) {
  char path[64];
  uint64_t total_acks = 0, head = 0;
  int rounds = 50;
  unsigned seed = (unsigned)getpid();
  es_store *s = open_store();
  scan sc;

  es_store_close(s);
  snprintf(path, sizeof path, "/tmp/pg_many_acks.%ld", (long)getpid());
  unlink(path);
  for (int r = 0; r < rounds; r++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    pid_t p;
    struct timespec d;
    int st;
    CHECK(fd >= 0);
    p = fork();
    CHECK(p >= 0);
    if (p == 0) {
      run_process(r, 0, fd, -1, 0);
      _exit(0);
    }
    close(fd);
    d.tv_sec = 0;
    d.tv_nsec = (long)(50 + rand_r(&seed) % 250) * 1000 * 1000;
    nanosleep(&d, NULL);
    kill(p, SIGKILL);
    CHECK(waitpid(p, &st, 0) == p);
    CHECK(WIFSIGNALED(st));
  }
  s = open_store();
  scan_all(s, &sc);
  total_acks = check_acks(path);
  CHECK(es_store_head(s, &head) == 0);
  es_store_close(s);
  unlink(path);
  printf("kill: %d rounds killed mid-append; %" PRIu64
         " acknowledged transfers all stored, none half stored (%" PRIu64
         " events)\n",
         rounds, total_acks, head);
  return 0;
}

static int test_restart(void) {
  char path[64], cmd[1024];
  const char *ctl = getenv("ES_PG_CTL"), *data = getenv("ES_PG_DATADIR"),
             *opts = getenv("ES_PG_OPTS"), *runas = getenv("ES_PG_RUNAS");
  pid_t p[2];
  uint64_t acks;
  es_store *s = open_store();
  scan sc;

  es_store_close(s);
  CHECK(ctl && data && opts);
  snprintf(path, sizeof path, "/tmp/pg_many_acks.%ld", (long)getpid());
  unlink(path);
  for (int i = 0; i < 2; i++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    CHECK(fd >= 0);
    p[i] = fork();
    CHECK(p[i] >= 0);
    if (p[i] == 0) {
      run_process(i, 60, fd, -1, 1);
      _exit(0);
    }
    close(fd);
  }
  {
    struct timespec d = {0, 300 * 1000 * 1000};
    nanosleep(&d, NULL);
  }
  snprintf(cmd, sizeof cmd,
           "%s%s%s '%s' -D '%s' -m fast -w -t 120 -o '%s' restart >/dev/null",
           runas && *runas ? "runuser -u " : "", runas && *runas ? runas : "",
           runas && *runas ? " --" : "", ctl, data, opts);
  CHECK(system(cmd) == 0);
  for (int i = 0; i < 2; i++) {
    int st;
    CHECK(waitpid(p[i], &st, 0) == p[i]);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  s = open_store();
  scan_all(s, &sc);
  acks = check_acks(path);
  es_store_close(s);
  unlink(path);
  printf("restart: the server restarted under 2 x %d appending threads; "
         "%" PRIu64 " acknowledged transfers all stored, none half stored\n",
         THREADS, acks);
  return 0;
}

/* Server processes of the test's clients terminated again and again while
 * 2 processes append: connections die before, during and after COMMIT, so
 * the store reconnects, re-runs, and resolves unknown commit outcomes by
 * looking the events up. */
static int test_terminate(void) {
  char path[64];
  pid_t p[2];
  uint64_t acks;
  int kills = 0, running = 2;
  unsigned seed = (unsigned)getpid();
  es_store *s = open_store();
  PGconn *c;
  scan sc;

  es_store_close(s);
  tolerate_open = 1;
  snprintf(path, sizeof path, "/tmp/pg_many_acks.%ld", (long)getpid());
  unlink(path);
  for (int i = 0; i < 2; i++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    CHECK(fd >= 0);
    p[i] = fork();
    CHECK(p[i] >= 0);
    if (p[i] == 0) {
      run_process(i, 12, fd, -1, 1);
      _exit(0);
    }
    close(fd);
  }
  c = PQconnectdb(conninfo);
  CHECK(PQstatus(c) == CONNECTION_OK);
  while (running) {
    struct timespec d = {0, (long)(10 + rand_r(&seed) % 50) * 1000 * 1000};
    PGresult *r;
    int st;
    nanosleep(&d, NULL);
    r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM "
                  "pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                  "backend_type = 'client backend' AND datname = "
                  "current_database()");
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
    kills += atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    for (int i = 0; i < 2; i++)
      if (p[i] > 0 && waitpid(p[i], &st, WNOHANG) == p[i]) {
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        p[i] = 0;
        running--;
      }
  }
  PQfinish(c);
  s = open_store();
  scan_all(s, &sc);
  acks = check_acks(path);
  es_store_close(s);
  unlink(path);
  printf("terminate: %d client connections terminated under 2 x %d "
         "appending threads; %" PRIu64
         " acknowledged transfers all stored once, none half stored\n",
         kills, THREADS, acks);
  return 0;
}

int main(int argc, char **argv) {
  static char name[32];

  conninfo = getenv("ES_PG_CONNINFO");
  if (!conninfo || argc != 2) {
    fprintf(stderr,
            "usage: with-postgres pg_many many|kill|restart|terminate\n");
    return 2;
  }
  snprintf(name, sizeof name, "%s_%ld", argv[1], (long)getpid());
  schema = name;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(argv[1], "many") == 0)
    return test_many();
  if (strcmp(argv[1], "kill") == 0)
    return test_kill();
  if (strcmp(argv[1], "restart") == 0)
    return test_restart();
  if (strcmp(argv[1], "terminate") == 0)
    return test_terminate();
  fprintf(stderr, "pg_many: unknown test '%s'\n", argv[1]);
  return 2;
}
