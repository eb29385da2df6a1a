/*
 * pg_projection_lead.c - the Tally projection started in several
 * processes on one PostgreSQL store: one of them (the holder of the lease
 * "projection:Tally") runs it, and when it is killed (SIGKILL) another
 * takes over from the checkpoint. Beside a throwaway server
 * (tests/support/with-postgres sets ES_PG_CONNINFO).
 *
 *   pg_projection_lead once        es_projection_open_pg(): the read model
 *                                  is written in each batch's transaction
 *   pg_projection_lead checkpointed es_projection_open(): the store keeps
 *                                  the checkpoint (at-least-once)
 *   pg_projection_lead partition   exactly-once, with the holder cut off
 *                                  from its lease in the middle of a batch
 *
 * once / checkpointed: three worker processes start the projection while a
 * writer process appends events; five times the parent finds the worker
 * holding the lease (pg_locks: each worker names its sessions in
 * application_name), kills it at a random moment, forks a replacement and
 * waits until another worker holds the lease. Then the writer stops and
 * the parent waits until the checkpoint reaches the last event.
 *
 * partition: worker A takes the lease and stops in the middle of its
 * first batch; the parent ends A's lease session (what a lost connection
 * does); worker B takes the lease over and runs into A's uncommitted
 * rows; then A finishes the batch it had in hand.
 *
 * What is recorded, by the handlers and by the database itself, with the
 * sequence model.tick as the one order of moments every session shares (a
 * sequence is not transactional and takes no row lock):
 *  - model.applied: one row per handler call (position, stream, version,
 *    worker pid, tick, transaction id), written in the batch's
 *    transaction (once) or by the worker's own connection as the handler
 *    runs (checkpointed);
 *  - model.streams: per stream, events applied and versions out of order
 *    (once, partition);
 *  - model.moves: every write of the checkpoint row, by a trigger on the
 *    store's checkpoints table: old and new position, the writer's pid,
 *    tick and transaction, and whether the writer held the lease then.
 *
 * Checks (once, partition): every projected event applied exactly once
 * (one applied row per position, the set of positions is the store's,
 * per-stream counts equal the store's, position sums agree, no stream
 * went back); the committed batches, taken in position order, form a
 * chain (each starts at the position the previous one reached) and never
 * overlap in time: each batch's first handler tick comes after the
 * previous batch's checkpoint tick, whoever ran them. (checkpointed):
 * nothing skipped; the checkpoint never moves backwards; deliveries in
 * tick order are in position order within one process and each process
 * delivers in a single unbroken run (so no two delivered at once); each
 * process starts at the first event after the checkpoint written before
 * it began. Every checkpoint write came from the lease holder, but the
 * partitioned one and the last statement of a killed holder (its server
 * session may finish it after the lease session ended: recorded with the
 * tick taken just before the kill). No check depends on timing: the waits guard
 * against a hang. Prints "ok: ..." and exits 0, or says what failed and
 * exits 1.
 */
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <es/es_projection_pg.h>

#include "pg_query.h"
#include "tally_gen.h"
#include "tally_view.h"

#define WORKERS 3
#define ROUNDS 5
#define BATCH 7
#define GUARD_S 120 /* a wait longer than this is a hang */
#define SCHEMA "plead"
#define LEASE_KEY "esgen.lease." SCHEMA ".projection:Tally"
#define WORKER_BROKE 9 /* a worker's exit status: its own SQL failed */

#define CHECK(c, ...)                                                          \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "pg_projection_lead:%d: ", __LINE__);                    \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      fail();                                                                  \
    }                                                                          \
  } while (0)

/* The processes the parent forked, killed when a check fails in it. */
static pid_t parent, children[64];
static int n_children;

static void fail(void) {
  if (getpid() == parent)
    for (int i = 0; i < n_children; i++)
      if (children[i] > 0)
        kill(children[i], SIGKILL);
  _exit(1);
}

enum mode { ONCE, CHECKPOINTED, PARTITION };

static const char *conninfo;
static enum mode mode;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static es_store *open_store(const char *name) {
  char ci[1024];
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *s;
  int rc;

  snprintf(ci, sizeof ci, "%s application_name=%s", conninfo, name);
  o.pg_schema = SCHEMA;
  rc = es_store_open_postgres(&s, ci, &o, 0);
  CHECK(rc == 0, "open store: %s", es_strerror(rc));
  return s;
}

static int stop_w = -1; /* the parent's end of the writer's stop pipe */

static pid_t spawn(void (*fn)(void)) {
  pid_t pid;
  fflush(NULL);
  pid = fork();
  CHECK(pid >= 0 && n_children < 64, "fork");
  if (pid == 0) {
    if (stop_w >= 0)
      close(stop_w); /* the writer stops when the parent's end closes */
    fn();
    _exit(0);
  }
  children[n_children++] = pid;
  return pid;
}

/* ---- a worker ----------------------------------------------------------- */

typedef struct worker_ctx {
  es_projection *runner;
  PGconn *own;    /* checkpointed: the deliveries' autocommit connection */
  int hold_fd[2]; /* partition: says "held" on [1], waits on [0] once */
} worker_ctx;

static worker_ctx w = {NULL, NULL, {-1, -1}};

/* The Tally handlers' hook after each applied event: records it. In the
 * batch's transaction (once, partition), a failed statement aborts it and
 * the runner rolls the batch back; a worker that cannot record at all
 * exits (what a crash does). */
static void record(void *ctx, const es_event_meta *meta) {
  static const char once_sql[] =
      "WITH a AS (INSERT INTO model.applied VALUES ($1, $2, $3, $4, "
      "nextval('model.tick'), txid_current())) "
      "INSERT INTO model.streams VALUES ($2, 1, $3, 0) ON CONFLICT (stream) "
      "DO UPDATE SET n = streams.n + 1, disorder = streams.disorder + "
      "(EXCLUDED.last_version <= streams.last_version)::int, last_version = "
      "EXCLUDED.last_version";
  static const char delivered_sql[] =
      "INSERT INTO model.applied VALUES ($1, $2, $3, $4, "
      "nextval('model.tick'), txid_current())";
  char pos[24], stream[ES_KEY_MAX + 32], ver[24], pid[16];
  const char *vals[4] = {pos, stream, ver, pid};
  PGconn *c = mode == CHECKPOINTED ? w.own : es_projection_pg_conn(w.runner);
  PGresult *r;
  (void)ctx;

  if (!c)
    _exit(WORKER_BROKE);
  snprintf(pos, sizeof pos, "%" PRIu64, meta->position);
  snprintf(stream, sizeof stream, "%s/%s", meta->aggregate, meta->key);
  snprintf(ver, sizeof ver, "%" PRIu64, meta->version);
  snprintf(pid, sizeof pid, "%ld", (long)getpid());
  r = PQexecParams(c, mode == CHECKPOINTED ? delivered_sql : once_sql, 4, NULL,
                   vals, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && mode == CHECKPOINTED)
    _exit(WORKER_BROKE);
  PQclear(r);
  if (w.hold_fd[0] >= 0) { /* partition: stop here once, mid-batch */
    char byte;
    if (write(w.hold_fd[1], "h", 1) != 1 || read(w.hold_fd[0], &byte, 1) != 1)
      _exit(WORKER_BROKE);
    w.hold_fd[0] = -1;
  }
}

/* Starts the projection live and lets it run until killed. */
static void worker(void) {
  char name[32];
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  tally_view v;
  es_store *s;
  int rc;

  snprintf(name, sizeof name, "w%ld", (long)getpid());
  s = open_store(name);
  tally_view_init(&v, 0);
  v.after = record;
  o.ctx = &v;
  o.batch_size = BATCH;
  o.retry_max_us = 200000;
  if (mode == CHECKPOINTED) {
    char ci[1024];
    snprintf(ci, sizeof ci, "%s application_name=%s", conninfo, name);
    w.own = PQconnectdb(ci);
    if (PQstatus(w.own) != CONNECTION_OK)
      _exit(WORKER_BROKE);
    rc = es_projection_open(&w.runner, &tally_schema, &tally_tally_projection,
                            s, &o);
  } else {
    rc = es_projection_open_pg(&w.runner, &tally_schema,
                               &tally_tally_projection, s, &o);
  }
  if (rc != 0 || es_projection_start(w.runner) != 0)
    _exit(WORKER_BROKE);
  for (;;)
    pause();
}

/* ---- the writer --------------------------------------------------------- */

static int stop_fd = -1, count_fd = -1;

/* Event n: Counter.Added on c-(n%5) six times in ten, Counter.Noted (not
 * projected) once, Meter.Reading on m-(n%3) three times. */
static int append_nth(es_store *s, uint64_t n) {
  char key[16];
  if (n % 10 < 6 || n % 10 == 6) {
    snprintf(key, sizeof key, "c-%d", (int)(n % 5));
    if (n % 10 == 6) {
      tally_counter_noted e;
      tally_counter_noted_init(&e);
      e.text = "not projected";
      return tally_append(s, "Counter", key, &tally_counter_noted_desc, &e);
    }
    tally_counter_added e;
    tally_counter_added_init(&e);
    e.amount = (int64_t)n + 1;
    return tally_append(s, "Counter", key, &tally_counter_added_desc, &e);
  }
  tally_meter_reading e;
  tally_meter_reading_init(&e);
  e.value = (int64_t)n;
  snprintf(key, sizeof key, "m-%d", (int)(n % 3));
  return tally_append(s, "Meter", key, &tally_meter_reading_desc, &e);
}

/* Appends until `stop_fd` reaches its end (or `limit` events when
 * stop_fd is -1), then writes how many it appended to `count_fd`. */
static uint64_t writer_limit;

static void writer(void) {
  es_store *s = open_store("writer");
  unsigned seed = (unsigned)getpid();
  uint64_t n = 0;

  for (;;) {
    struct pollfd pf = {stop_fd, POLLIN, 0};
    if (stop_fd < 0 ? n == writer_limit : poll(&pf, 1, 0) == 1)
      break;
    if (append_nth(s, n) != 0)
      _exit(WORKER_BROKE);
    n++;
    if (stop_fd >= 0)
      sleep_ms(1 + rand_r(&seed) % 6);
  }
  es_store_close(s);
  if (write(count_fd, &n, sizeof n) != (ssize_t)sizeof n)
    _exit(WORKER_BROKE);
}

/* ---- the parent's view, through SQL ------------------------------------- */

static PGconn *db;

static long long num(const char *q) {
  PGresult *r = PQexec(db, q);
  long long v = -1;
  CHECK(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", q, PQerrorMessage(db));
  if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
    v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static void exec_ok(const char *q) {
  PGresult *r = PQexec(db, q);
  CHECK(PQresultStatus(r) == PGRES_COMMAND_OK ||
            PQresultStatus(r) == PGRES_TUPLES_OK,
        "%s: %s", q, PQerrorMessage(db));
  PQclear(r);
}

/* The model's tables, and the trigger that records every write of the
 * checkpoint row with whether its writer held the lease. */
static void create_model(void) {
  exec_ok("CREATE SCHEMA model;"
          "CREATE SEQUENCE model.tick;"
          "CREATE TABLE model.applied (position bigint NOT NULL, stream text "
          "NOT NULL, version bigint NOT NULL, pid int NOT NULL, tick bigint "
          "NOT NULL, txid bigint NOT NULL);"
          "CREATE TABLE model.streams (stream text PRIMARY KEY, n bigint NOT "
          "NULL, last_version bigint NOT NULL, disorder bigint NOT NULL);"
          "CREATE TABLE model.moves (old bigint, new bigint NOT NULL, pid int "
          "NOT NULL, tick bigint NOT NULL, txid bigint NOT NULL, leader_ok "
          "bool NOT NULL);"
          "CREATE TABLE model.killed (pid int NOT NULL, tick bigint NOT NULL);"
          "CREATE FUNCTION model.note_move() RETURNS trigger LANGUAGE plpgsql "
          "AS $$ BEGIN "
          "PERFORM pg_stat_clear_snapshot(); "
          "INSERT INTO model.moves VALUES (CASE WHEN TG_OP = 'UPDATE' THEN "
          "OLD.position END, NEW.position, "
          "substr(current_setting('application_name'), 2)::int, "
          "nextval('model.tick'), txid_current(), EXISTS (SELECT 1 FROM "
          "pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE "
          "l.locktype = 'advisory' AND l.granted AND a.application_name = "
          "current_setting('application_name') AND ((l.classid::bigint << 32) "
          "| l.objid::bigint) = hashtextextended('" LEASE_KEY "', 0))); "
          "RETURN NULL; END $$;"
          "CREATE TRIGGER note_move AFTER INSERT OR UPDATE ON " SCHEMA
          ".checkpoints FOR EACH ROW EXECUTE FUNCTION model.note_move()");
}

/* Records, just before the parent kills leader `pid`, the tick from
 * which its lease may be gone while a statement it sent still runs: the
 * server ends the idle lease session at once, but finishes a checkpoint
 * move in flight on another session, compare-and-set, so a later holder's
 * move from the same checkpoint fails and it re-reads. */
static void note_kill(pid_t pid) {
  char q[128];

  snprintf(q, sizeof q,
           "INSERT INTO model.killed VALUES (%ld, nextval('model.tick'))",
           (long)pid);
  exec_ok(q);
}

/* The pid of the worker holding the lease, or 0 when none does. */
static pid_t leader(void) { return pg_query_lease_holder(db, LEASE_KEY); }

/* Waits until a worker other than `old` holds the lease; returns it. */
static pid_t await_leader(pid_t old) {
  for (int i = 0; i < GUARD_S * 10; i++) {
    pid_t p = leader();
    if (p && p != old)
      return p;
    sleep_ms(100);
  }
  CHECK(0, "no worker took the lease over");
  return 0;
}

/* The projected events of the store, as the checks see them. */
static void create_projected_view(void) {
  char q[512];
  snprintf(
      q, sizeof q,
      "CREATE VIEW model.projected AS SELECT position, stream_type || "
      "'/' || convert_from(stream_key, 'UTF8') AS stream, version FROM " SCHEMA
      ".events WHERE type_id IN (%" PRId64 ", %" PRId64 ")",
      (int64_t)TALLY_COUNTER_ADDED_TYPE_ID,
      (int64_t)TALLY_METER_READING_TYPE_ID);
  exec_ok(q);
}

/* Waits until the checkpoint reaches the last event. */
static void await_caught_up(void) {
  for (int i = 0;; i++) {
    long long head = num("SELECT max(position) FROM " SCHEMA ".events");
    long long cp = num("SELECT position FROM " SCHEMA ".checkpoints WHERE "
                       "name = 'projection:Tally'::bytea");
    if (head > 0 && cp == head)
      return;
    CHECK(i < GUARD_S * 10, "checkpoint %lld, last event %lld", cp, head);
    sleep_ms(100);
  }
}

static void expect_zero(const char *what, const char *q) {
  long long n = num(q);
  CHECK(n == 0, "%s: %lld", what, n);
}

/* ---- the checks --------------------------------------------------------- */

/* What every mode promises: the store holds the `appended` events, every
 * projected one reached a handler, and nothing else did. */
static long long check_delivered(uint64_t appended) {
  long long events = num("SELECT count(*) FROM model.projected");

  CHECK(num("SELECT count(*) FROM " SCHEMA ".events") == (long long)appended,
        "the store does not hold the %" PRIu64 " events appended", appended);
  CHECK(events > 0, "no projected event");
  expect_zero("events never applied",
              "SELECT count(*) FROM model.projected p WHERE NOT EXISTS "
              "(SELECT 1 FROM model.applied a WHERE a.position = p.position)");
  expect_zero("applied rows that are no projected event",
              "SELECT count(*) FROM model.applied a WHERE NOT EXISTS (SELECT "
              "1 FROM model.projected p WHERE p.position = a.position AND "
              "p.stream = a.stream AND p.version = a.version)");
  return events;
}

/* Exactly once, and the committed batches one after the other. */
static void check_once(void) {
  expect_zero("events applied twice", "SELECT count(*) - count(DISTINCT "
                                      "position) FROM model.applied");
  expect_zero("streams whose count differs from the store's",
              "SELECT count(*) FROM (SELECT stream, count(*) AS n FROM "
              "model.projected GROUP BY stream) e FULL JOIN model.streams s "
              "USING (stream) WHERE e.n IS DISTINCT FROM s.n OR s.disorder "
              "<> 0");
  expect_zero("sum of positions applied minus the store's",
              "SELECT (SELECT sum(position) FROM model.applied) - (SELECT "
              "sum(position) FROM model.projected)");
  expect_zero("applied rows outside a batch that wrote the checkpoint",
              "SELECT count(*) FROM model.applied a WHERE NOT EXISTS (SELECT "
              "1 FROM model.moves m WHERE m.txid = a.txid AND m.pid = a.pid)");
  /* Batches in position order: each starts where the previous one ended,
   * covers only its own positions, and its first handler ran after the
   * previous batch wrote its checkpoint. */
  expect_zero("batches out of chain or overlapping in time",
              "WITH b AS (SELECT m.old, m.new, m.tick AS done, "
              "(SELECT min(a.tick) FROM model.applied a WHERE a.txid = "
              "m.txid) AS began, (SELECT min(a.position) FROM model.applied "
              "a WHERE a.txid = m.txid) AS lo, (SELECT max(a.position) FROM "
              "model.applied a WHERE a.txid = m.txid) AS hi FROM model.moves "
              "m), o AS (SELECT *, lag(new) OVER w AS prev_new, lag(done) "
              "OVER w AS prev_done FROM b WINDOW w AS (ORDER BY new, done)) "
              "SELECT count(*) FROM o WHERE coalesce(old, 0) <> "
              "coalesce(prev_new, 0) OR new <= coalesce(old, 0) OR "
              "coalesce(began, done) <= coalesce(prev_done, 0) OR lo <= "
              "coalesce(old, 0) OR hi > new");
}

/* At-least-once: the checkpoint never goes back, each process delivers
 * in one unbroken run, in order, from the checkpoint it found. */
static void check_checkpointed(void) {
  expect_zero("checkpoint writes that went backwards",
              "SELECT count(*) FROM (SELECT new, lag(new) OVER (ORDER BY "
              "tick) AS prev FROM model.moves) m WHERE new < coalesce(prev, "
              "0) OR new < 0");
  expect_zero("deliveries out of order within one process",
              "SELECT count(*) FROM (SELECT pid, position, lag(pid) OVER w AS "
              "ppid, lag(position) OVER w AS ppos FROM model.applied WINDOW w "
              "AS (ORDER BY tick)) d WHERE pid = ppid AND position <= ppos");
  expect_zero("processes delivering in more than one run (two at once)",
              "SELECT (SELECT count(*) FROM (SELECT pid, lag(pid) OVER (ORDER "
              "BY tick) AS ppid FROM model.applied) d WHERE ppid IS NULL OR "
              "pid <> ppid) - (SELECT count(DISTINCT pid) FROM "
              "model.applied)");
  expect_zero("runs not starting at the first event after the checkpoint",
              "SELECT count(*) FROM (SELECT pid, position, tick, lag(pid) "
              "OVER (ORDER BY tick) AS ppid FROM model.applied) d WHERE "
              "(ppid IS NULL OR pid <> ppid) AND position <> (SELECT "
              "min(p.position) FROM model.projected p WHERE p.position > "
              "coalesce((SELECT m.new FROM model.moves m WHERE m.tick < d.tick "
              "ORDER BY m.tick DESC LIMIT 1), 0))");
}

/* ---- the runs ----------------------------------------------------------- */

static pid_t spawn_worker(void) { return spawn(worker); }

static int wait_status(pid_t pid) {
  int st;
  CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Creates the store's tables (in a child: the store starts threads) and
 * the model's. */
static void setup(void) {
  CHECK(wait_status(spawn(writer)) == 0, "the store did not open");
  db = PQconnectdb(conninfo);
  CHECK(PQstatus(db) == CONNECTION_OK, "connect: %s", PQerrorMessage(db));
  create_model();
  create_projected_view();
}

static uint64_t read_count(int fd) {
  struct pollfd pf = {fd, POLLIN, 0};
  uint64_t n = 0;
  CHECK(poll(&pf, 1, GUARD_S * 1000) == 1 &&
            read(fd, &n, sizeof n) == (ssize_t)sizeof n,
        "the writer failed");
  return n;
}

/* Kills each worker that is still alive (all must be), and reaps it. */
static void end_workers(pid_t *pids, int n) {
  for (int i = 0; i < n; i++) {
    if (!pids[i])
      continue;
    CHECK(waitpid(pids[i], NULL, WNOHANG) == 0, "worker %ld died on its own",
          (long)pids[i]);
    kill(pids[i], SIGKILL);
    waitpid(pids[i], NULL, 0);
  }
}

static int run_kills(void) {
  pid_t pids[WORKERS + ROUNDS], lead, wr;
  int n = 0, stop[2], cnt[2];
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  uint64_t appended;
  long long events;

  writer_limit = 0; /* the setup child only opens the store */
  CHECK(pipe(cnt) == 0, "pipe");
  count_fd = cnt[1];
  setup();
  (void)read_count(cnt[0]);
  CHECK(pipe(stop) == 0, "pipe");
  stop_fd = stop[0];
  stop_w = stop[1];
  wr = spawn(writer);
  for (int i = 0; i < WORKERS; i++)
    pids[n++] = spawn_worker();

  lead = await_leader(0);
  for (int round = 0; round < ROUNDS; round++) {
    sleep_ms(300 + rand_r(&seed) % 1200); /* mid-run, at a random moment */
    note_kill(lead);
    CHECK(kill(lead, SIGKILL) == 0, "kill");
    CHECK(wait_status(lead) == 128 + SIGKILL, "the leader was not killed");
    for (int i = 0; i < n; i++)
      if (pids[i] == lead)
        pids[i] = 0;
    pids[n++] = spawn_worker();
    lead = await_leader(lead);
  }
  close(stop_w);
  stop_w = -1;
  appended = read_count(cnt[0]);
  CHECK(wait_status(wr) == 0, "the writer failed");
  await_caught_up();
  end_workers(pids, n);

  events = check_delivered(appended);
  if (mode == ONCE)
    check_once();
  else
    check_checkpointed();
  expect_zero("checkpoint writes by a process not holding the lease, other "
              "than a killed leader's last statement",
              "SELECT count(*) FROM model.moves m WHERE NOT leader_ok AND NOT "
              "EXISTS (SELECT 1 FROM model.killed k WHERE k.pid = m.pid AND "
              "k.tick < m.tick)");
  CHECK(num("SELECT count(DISTINCT pid) FROM model.moves") >= 2,
        "no takeover wrote a checkpoint");
  printf("ok: %s, %d takeovers, %" PRIu64 " events (%lld projected), "
         "checkpoint written by %lld processes (%lld times by a killed "
         "holder after its lease ended), %lld deliveries\n",
         mode == ONCE ? "exactly-once" : "checkpointed", ROUNDS, appended,
         events, num("SELECT count(DISTINCT pid) FROM model.moves"),
         num("SELECT count(*) FROM model.moves WHERE NOT leader_ok"),
         num("SELECT count(*) FROM model.applied"));
  return 0;
}

/* Waits for a byte on `fd`, at most GUARD_S. */
static void await_byte(int fd, const char *what) {
  struct pollfd pf = {fd, POLLIN, 0};
  char byte;
  CHECK(poll(&pf, 1, GUARD_S * 1000) == 1 && read(fd, &byte, 1) == 1,
        "%s never came", what);
}

static int run_partition(void) {
  pid_t pids[2], a, b;
  int cnt[2], held[2], go[2];
  char q[256];
  uint64_t appended;
  long long lease_pid;

  writer_limit = 40;
  CHECK(pipe(cnt) == 0 && pipe(held) == 0 && pipe(go) == 0, "pipe");
  count_fd = cnt[1];
  setup();
  appended = read_count(cnt[0]);

  /* A takes the lease and stops after the first event of its batch,
   * holding that event's rows uncommitted. */
  w.hold_fd[0] = go[0];
  w.hold_fd[1] = held[1];
  a = pids[0] = spawn_worker();
  w.hold_fd[0] = w.hold_fd[1] = -1;
  await_byte(held[0], "worker A's first event");
  CHECK(leader() == pids[0], "worker A does not hold the lease");
  /* A's lease session ends (a lost connection); B takes the lease over
   * and runs into A's rows. */
  lease_pid = num("SELECT l.pid FROM pg_locks l WHERE l.locktype = "
                  "'advisory' AND l.granted AND ((l.classid::bigint << 32) | "
                  "l.objid::bigint) = hashtextextended('" LEASE_KEY "', 0)");
  CHECK(lease_pid > 0, "no lease session");
  snprintf(q, sizeof q, "SELECT pg_terminate_backend(%lld)::int", lease_pid);
  CHECK(num(q) == 1, "A's lease session was not ended");
  b = pids[1] = spawn_worker();
  CHECK(await_leader(a) == b, "B did not take the lease");
  snprintf(q, sizeof q,
           "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
           "'w%ld' AND wait_event_type = 'Lock'",
           (long)pids[1]);
  for (int i = 0; num(q) == 0; i++) {
    CHECK(i < GUARD_S * 10, "B never waited for A's rows");
    sleep_ms(100);
  }
  /* A finishes the batch it had in hand (and, until it checks its lease,
   * maybe more); B's batch, begun from the same checkpoint, must not
   * commit over it. */
  CHECK(write(go[1], "g", 1) == 1, "write");
  await_caught_up();
  /* Then A dies, and B, the lease holder, runs what comes next. */
  CHECK(kill(pids[0], SIGKILL) == 0 && wait_status(pids[0]) == 128 + SIGKILL,
        "kill A");
  pids[0] = 0;
  CHECK(wait_status(spawn(writer)) == 0, "the writer failed");
  appended += read_count(cnt[0]);
  await_caught_up();
  end_workers(pids, 2);

  (void)check_delivered(appended);
  check_once();
  snprintf(q, sizeof q,
           "SELECT count(*) FROM model.moves WHERE NOT leader_ok AND pid <> "
           "%ld",
           (long)a);
  expect_zero("checkpoint writes by a process not holding the lease", q);
  snprintf(q, sizeof q, "SELECT count(*) FROM model.moves WHERE pid = %ld",
           (long)b);
  CHECK(num(q) > 0, "B wrote no checkpoint");
  printf("ok: partition, %" PRIu64 " events, each applied once\n", appended);
  return 0;
}

int main(int argc, char **argv) {
  conninfo = getenv("ES_PG_CONNINFO");
  if (!conninfo || argc != 2) {
    fprintf(stderr, "usage: ES_PG_CONNINFO=... pg_projection_lead "
                    "once|checkpointed|partition\n");
    return 2;
  }
  /* Every process is forked from this one, which starts no thread. */
  parent = getpid();
  if (strcmp(argv[1], "once") == 0)
    mode = ONCE;
  else if (strcmp(argv[1], "checkpointed") == 0)
    mode = CHECKPOINTED;
  else if (strcmp(argv[1], "partition") == 0)
    mode = PARTITION;
  else
    return 2;
  return mode == PARTITION ? run_partition() : run_kills();
}
