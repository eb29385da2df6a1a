/*
 * store_pg.c - the PostgreSQL store: the store interface over libpq, for
 * many processes on many machines sharing one database.
 *
 * Tables live in one schema the user names (es_store_options.pg_schema,
 * default "esgen"); the first open creates them and later versions migrate
 * them, under a session advisory lock so two processes never migrate at
 * once (docs/postgres.md lists the tables).
 *
 * Global order (design A of docs/postgres.md): one counter row, updated as
 * the last statement before COMMIT and so held until the commit ends.
 * Transactions take positions and commit strictly one after another: every
 * snapshot sees a gapless prefix of the positions, so a reader never skips
 * an event that commits later, and rolled-back appends leave no gap.
 *
 * Appends (group commit): an appender queues its request; the first to
 * find no leader becomes it, takes the whole queue and runs it as one
 * transaction on the store's writer connection, in one round trip when
 * the versions can be guessed (they nearly always can):
 *   - the expectations are checked here, request by request in queue
 *     order, each against the versions left by the requests accepted
 *     before it, starting from each stream's guessed version (the exact
 *     version its first request expects, as the executor always does);
 *     a request whose expectation fails is answered ES_ECONFLICT and takes
 *     no part;
 *   - then, pipelined: BEGIN; lock every stream the batch names (one
 *     upsert, rows in one fixed order so concurrent batches cannot
 *     deadlock); call the schema's move_streams(), which moves each
 *     stream from its guessed version to its new one in one UPDATE of the
 *     rows just locked and raises SQLSTATE PG_STREAM_MOVED, naming the
 *     stream and both versions, if a stream is elsewhere; move the counter
 *     (and notify); insert every event with multi-row array inserts;
 *     COMMIT.
 * A stream found elsewhere (another process appended) aborts the
 * transaction, recognised by that SQLSTATE at the call's place in the
 * pipeline; the lock statement's rows give the actual versions, and the
 * batch is decided again on them and re-sent, once in one round trip, then
 * in two: BEGIN and the locks first, the rest once decided under them.
 * Either way a batch commits only if the versions it was decided on are
 * the ones under its locks.
 * A new leader first waits, for at most half the last batch's time (and
 * 2 ms), for the appenders the last batch answered to queue again, so
 * that one batch carries all of them (gather()).
 * Nothing is acknowledged before COMMIT returns. A server error that no
 * pre-check can foresee (a reused event id, a type name PostgreSQL
 * rejects) fails the batch, which is then re-run one request per
 * transaction, so only the guilty request fails. A deadlock or
 * serialization failure re-runs the batch. A connection lost before COMMIT
 * was sent reconnects and re-runs; one lost while COMMIT was in flight has
 * an unknown outcome, resolved by looking the batch's event ids up.
 * Reconnecting is bounded (PG_RECONNECT_BUDGET_US); past it the request
 * fails with ES_EIO.
 *
 * Waits: a listener thread, started by the first wait, holds a dedicated
 * connection that LISTENs on the schema's channel; every commit notifies
 * it. Notifications only wake waiters, who then read the head again, so a
 * lost or coalesced notification costs nothing (the listener also wakes
 * everyone after reconnecting).
 *
 * Reads take a connection from a small pool, fetch a page, give it back
 * and only then call the callback, so callbacks may use the store freely.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "es/es_error.h"
#include "es/es_obs.h"
#include "es/es_store.h"
#include "store/store_pg_tx.h"
#include "store/store_util.h"
#include "util/alloc.h"

/* Type oids of the binary parameters and results. */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT4 23
#define OID_TEXT 25
#define OID_TIMESTAMPTZ 1184
#define OID_UUID 2950
#define OID_TEXT_ARRAY 1009
#define OID_BYTEA_ARRAY 1001
#define OID_INT8_ARRAY 1016
#define OID_INT4_ARRAY 1007
#define OID_TS_ARRAY 1185
#define OID_UUID_ARRAY 2951

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define PG_EPOCH_US ((int64_t)946684800 * 1000000)

/* The DDL version this code writes; older schemas are migrated up. */
#define PG_DDL_VERSION 2

/* The SQLSTATE move_streams() raises when a stream is not at the version
 * a batch was decided on: class VC is in the range the SQL standard
 * leaves to implementations and PostgreSQL does not use. */
#define PG_STREAM_MOVED "VC001"

/* Rows fetched per read round trip. */
#define PG_READ_PAGE 512

/* Requests, and events, one batch takes at most. */
#define PG_BATCH_MAX_REQS 1024
#define PG_BATCH_MAX_EVENTS 65536

/* Events, and payload bytes, in one insert statement at most. */
#define PG_CHUNK_EVENTS 4096
#define PG_CHUNK_BYTES ((size_t)32 << 20)

/* How long an operation keeps reconnecting before it gives up. */
#define PG_RECONNECT_BUDGET_US ((int64_t)15 * 1000000)

/* Re-runs of a batch after a deadlock, serialization failure or lost
 * connection. */
#define PG_BATCH_ATTEMPTS 8

/* How long the next batch waits at most for the appenders the last one
 * answered: half the last batch's time, and never more than this. */
#define PG_GATHER_MAX_US 2000

/* Idle pooled connections kept. */
#define PG_POOL_KEEP 16

/* ---- prepared statements ----------------------------------------------- */

enum {
  ST_LOCK,
  ST_SETVER,
  ST_HEAD_MOVE,
  ST_INSERT,
  ST_READ_ALL,
  ST_READ_STREAM,
  ST_HEAD,
  ST_VERSION,
  ST_SNAP_PUT,
  ST_SNAP_GET,
  ST_CP_PUT,
  ST_CP_GET,
  ST_CP_MOVE,
  ST_LOOKUP,
  ST_CMD_NOTE,
  ST_CMD_FIND,
  ST_CMD_PRUNE,
  ST_COUNT
};

typedef struct stmt_def {
  const char *sql; /* "@S" stands for the quoted schema */
  int n_params;
  Oid types[11];
} stmt_def;

#define EVENT_COLS                                                             \
  "position, stream_type, stream_key, version, event_id, type_id, "            \
  "type_version, ts, correlation, causation, payload"

static const stmt_def stmt_defs[ST_COUNT] = {
    [ST_LOCK] = {"INSERT INTO @S.streams AS s (stream_type, stream_key, "
                 "version) SELECT t, k, 0 FROM unnest($1::text[], "
                 "$2::bytea[]) AS u(t, k) ON CONFLICT (stream_type, "
                 "stream_key) DO UPDATE SET version = s.version RETURNING "
                 "stream_type, stream_key, version",
                 2,
                 {OID_TEXT_ARRAY, OID_BYTEA_ARRAY}},
    /* Moves each stream from the version the batch was decided on ($3)
     * to its new one ($4); a stream at another version fails the
     * statement (and so the transaction) with SQLSTATE PG_STREAM_MOVED
     * (the function is DDL step 2). */
    [ST_SETVER] = {"SELECT @S.move_streams($1::text[], $2::bytea[], "
                   "$3::int8[], $4::int8[])",
                   4,
                   {OID_TEXT_ARRAY, OID_BYTEA_ARRAY, OID_INT8_ARRAY,
                    OID_INT8_ARRAY}},
    [ST_HEAD_MOVE] = {"UPDATE @S.head SET position = position + $1 "
                      "RETURNING position, pg_notify($2, position::text)",
                      2,
                      {OID_INT8, OID_TEXT}},
    [ST_INSERT] = {"INSERT INTO @S.events (" EVENT_COLS ") SELECT "
                   "h.position - $1 + e.o, e.t, e.k, e.v, e.id, e.ty, e.tv, "
                   "e.ts, e.c, e.ca, e.p FROM @S.head AS h, "
                   "unnest($2::text[], $3::bytea[], $4::int8[], "
                   "$5::uuid[], $6::int8[], $7::int4[], $8::timestamptz[], "
                   "$9::uuid[], $10::uuid[], $11::bytea[]) WITH ORDINALITY "
                   "AS e(t, k, v, id, ty, tv, ts, c, ca, p, o)",
                   11,
                   {OID_INT8, OID_TEXT_ARRAY, OID_BYTEA_ARRAY, OID_INT8_ARRAY,
                    OID_UUID_ARRAY, OID_INT8_ARRAY, OID_INT4_ARRAY,
                    OID_TS_ARRAY, OID_UUID_ARRAY, OID_UUID_ARRAY,
                    OID_BYTEA_ARRAY}},
    [ST_READ_ALL] = {"SELECT " EVENT_COLS
                     ", (SELECT position FROM @S.head) AS bound "
                     "FROM @S.events WHERE position >= $1 AND position <= $2 "
                     "ORDER BY position LIMIT $3",
                     3,
                     {OID_INT8, OID_INT8, OID_INT8}},
    [ST_READ_STREAM] =
        {"SELECT " EVENT_COLS ", (SELECT version FROM "
         "@S.streams WHERE stream_type = $1 AND stream_key = "
         "$2) AS bound FROM @S.events WHERE stream_type = $1 AND "
         "stream_key = $2 AND version >= $3 AND version <= $4 "
         "ORDER BY version LIMIT $5",
         5,
         {OID_TEXT, OID_BYTEA, OID_INT8, OID_INT8, OID_INT8}},
    [ST_HEAD] = {"SELECT position FROM @S.head", 0, {0}},
    [ST_VERSION] = {"SELECT version FROM @S.streams WHERE stream_type = $1 "
                    "AND stream_key = $2",
                    2,
                    {OID_TEXT, OID_BYTEA}},
    [ST_SNAP_PUT] = {"INSERT INTO @S.snapshots VALUES ($1, $2, $3, $4, $5) "
                     "ON CONFLICT (stream_type, stream_key) DO UPDATE SET "
                     "version = EXCLUDED.version, layout = EXCLUDED.layout, "
                     "data = EXCLUDED.data",
                     5,
                     {OID_TEXT, OID_BYTEA, OID_INT8, OID_INT8, OID_BYTEA}},
    [ST_SNAP_GET] = {"SELECT version, layout, data FROM @S.snapshots WHERE "
                     "stream_type = $1 AND stream_key = $2",
                     2,
                     {OID_TEXT, OID_BYTEA}},
    [ST_CP_PUT] = {"INSERT INTO @S.checkpoints VALUES ($1, $2, $3) ON "
                   "CONFLICT (name) DO UPDATE SET position = "
                   "EXCLUDED.position, data = EXCLUDED.data",
                   3,
                   {OID_BYTEA, OID_INT8, OID_BYTEA}},
    [ST_CP_GET] = {"SELECT position, data FROM @S.checkpoints WHERE name = $1",
                   1,
                   {OID_BYTEA}},
    /* a compare-and-set (an absent checkpoint is created) */
    [ST_CP_MOVE] = {"INSERT INTO @S.checkpoints VALUES ($1, $3, '') ON "
                    "CONFLICT (name) DO UPDATE SET position = "
                    "EXCLUDED.position, data = EXCLUDED.data WHERE "
                    "checkpoints.position = $2",
                    3,
                    {OID_BYTEA, OID_INT8, OID_INT8}},
    [ST_LOOKUP] = {"SELECT event_id, position, stream_type, stream_key, "
                   "version FROM @S.events WHERE event_id = ANY($1::uuid[])",
                   1,
                   {OID_UUID_ARRAY}},
    /* $1: the batch's events; $2..$5: per command id, the 1-based batch
     * index of its first and last event and the first one's time; $6:
     * records older than this may be replaced (expired). */
    [ST_CMD_NOTE] = {"INSERT INTO @S.commands AS c SELECT u.id, h.position - "
                     "$1 + u.f, h.position - $1 + u.l, u.ts FROM @S.head AS "
                     "h, unnest($2::uuid[], $3::int8[], $4::int8[], "
                     "$5::timestamptz[]) AS u(id, f, l, ts) ON CONFLICT "
                     "(command_id) DO UPDATE SET first_position = "
                     "EXCLUDED.first_position, last_position = "
                     "EXCLUDED.last_position, ts = EXCLUDED.ts WHERE c.ts < "
                     "$6",
                     6,
                     {OID_INT8, OID_UUID_ARRAY, OID_INT8_ARRAY, OID_INT8_ARRAY,
                      OID_TS_ARRAY, OID_TIMESTAMPTZ}},
    [ST_CMD_FIND] = {"SELECT first_position, last_position, ts FROM "
                     "@S.commands WHERE command_id = $1",
                     1,
                     {OID_UUID}},
    [ST_CMD_PRUNE] = {"DELETE FROM @S.commands WHERE ts < $1",
                      1,
                      {OID_TIMESTAMPTZ}},
};

/* The schema's DDL, one step per version: step i takes version i to i + 1.
 * A step runs in one transaction with the version bump. */
static const char *const ddl_steps[PG_DDL_VERSION] = {
    "CREATE TABLE @S.events ("
    " position bigint PRIMARY KEY,"
    " stream_type text NOT NULL,"
    " stream_key bytea NOT NULL,"
    " version bigint NOT NULL,"
    " event_id uuid NOT NULL UNIQUE,"
    " type_id bigint NOT NULL,"
    " type_version integer NOT NULL,"
    " ts timestamptz NOT NULL,"
    " correlation uuid NOT NULL,"
    " causation uuid NOT NULL,"
    " payload bytea NOT NULL,"
    " UNIQUE (stream_type, stream_key, version));"
    "CREATE TABLE @S.streams ("
    " stream_type text NOT NULL,"
    " stream_key bytea NOT NULL,"
    " version bigint NOT NULL,"
    " PRIMARY KEY (stream_type, stream_key));"
    "CREATE TABLE @S.head ("
    " id integer PRIMARY KEY CHECK (id = 1),"
    " position bigint NOT NULL);"
    "INSERT INTO @S.head VALUES (1, 0);"
    "CREATE TABLE @S.snapshots ("
    " stream_type text NOT NULL,"
    " stream_key bytea NOT NULL,"
    " version bigint NOT NULL,"
    " layout bigint NOT NULL,"
    " data bytea NOT NULL,"
    " PRIMARY KEY (stream_type, stream_key));"
    "CREATE TABLE @S.checkpoints ("
    " name bytea PRIMARY KEY,"
    " position bigint NOT NULL,"
    " data bytea NOT NULL);"
    "CREATE TABLE @S.commands ("
    " command_id uuid PRIMARY KEY,"
    " first_position bigint NOT NULL,"
    " last_position bigint NOT NULL,"
    " ts timestamptz NOT NULL);"
    "CREATE INDEX ON @S.commands (ts);",

    /* move_streams() moves every named stream from its guessed version to
     * its new one in one UPDATE; stream_moved(), reached only for a
     * stream elsewhere, raises PG_STREAM_MOVED naming it and both
     * versions, so the common path costs the UPDATE and one call. */
    "CREATE OR REPLACE FUNCTION @S.stream_moved("
    " stream_type text, stream_key bytea, guessed bigint, actual bigint)"
    " RETURNS bigint LANGUAGE plpgsql AS $fn$"
    " BEGIN"
    "  RAISE EXCEPTION 'stream % key % is at version %, not %',"
    "   quote_literal(stream_type),"
    "   quote_literal(encode(stream_key, 'escape')), actual, guessed"
    "   USING ERRCODE = '" PG_STREAM_MOVED "';"
    " END $fn$;"
    "CREATE OR REPLACE FUNCTION @S.move_streams("
    " types text[], keys bytea[], guessed bigint[], next bigint[])"
    " RETURNS void LANGUAGE plpgsql AS $fn$"
    " BEGIN"
    "  UPDATE @S.streams AS s SET version = CASE WHEN s.version = u.g"
    "   THEN u.v ELSE @S.stream_moved(u.t, u.k, u.g, s.version) END"
    "  FROM unnest(types, keys, guessed, next) AS u(t, k, g, v)"
    "  WHERE s.stream_type = u.t AND s.stream_key = u.k;"
    " END $fn$;",
};

/* ---- the store ----------------------------------------------------------- */

typedef struct pg_req pg_req;

typedef struct pg_store {
  es_store base;
  char *conninfo;
  char *schema;  /* as given */
  char *channel; /* the NOTIFY channel: "<schema>_events" */
  char *sql[ST_COUNT];
  unsigned flags;

  pthread_mutex_t mu;  /* everything below */
  pthread_cond_t turn; /* a batch finished: results out, leader free */
  pthread_cond_t grew; /* monotonic: a notification or an interrupt */
  pthread_cond_t fill; /* monotonic: the appenders a leader waits for came */
  pg_req *queue, **queue_tail;
  int leading;
  size_t released;  /* appenders the last batch answered, not back yet */
  int gathering;    /* a leader waits on `fill` for them */
  int64_t last_end; /* when the last batch ended */
  int64_t last_us;  /* how long it took */
  PGconn *writer;   /* the leader's; only the leader touches it */
  int writer_pid;   /* its server process, for an unknown commit outcome */
  pg_req *batch_reqs[PG_BATCH_MAX_REQS]; /* the leader's */
  int64_t last_prune; /* the leader's: when it last pruned commands */
  PGconn *idle[PG_POOL_KEEP];
  int n_idle;
  uint64_t rng[4];
  uint64_t wakes;      /* notifications (and reconnects) seen so far */
  uint64_t interrupts; /* es_store_interrupt() calls so far */

  int listener; /* 0 none, 1 running */
  pthread_t listener_thread;
  int stop_pipe[2];
  int listening; /* the listener has LISTENed at least once */
  int listen_err;
} pg_store;

/* One es_store_append() call waiting in the queue. */
struct pg_req {
  es_append_stream *g;
  uint32_t n;
  es_append_result *res;
  uint64_t total;    /* events */
  size_t bytes;      /* payload bytes */
  es_uuid *ids;      /* per event, zero ids replaced */
  es_timestamp *ts;  /* per event, zero timestamps replaced */
  uint32_t *sidx;    /* per group: its row in the batch's stream table */
  uint64_t *version; /* per group: the version after this request */
  int accepted;      /* passed its expectations in the current attempt */
  uint64_t offset;   /* events of accepted requests before it */
  int rc;
  int done;
  pg_req *next;
};

/* ---- small helpers ------------------------------------------------------- */

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(int64_t us) {
  struct timespec d;
  d.tv_sec = (time_t)(us / 1000000);
  d.tv_nsec = (long)(us % 1000000) * 1000;
  nanosleep(&d, NULL);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Column `c` of row `r` as an int8 (binary result). */
static uint64_t col64(const PGresult *res, int r, int c) {
  if (PQgetisnull(res, r, c) || PQgetlength(res, r, c) != 8)
    return 0;
  return get64((const uint8_t *)PQgetvalue(res, r, c));
}

/* A growable byte buffer for binary parameters; errors are sticky. */
typedef struct pgb {
  uint8_t *p;
  size_t len, cap;
  int err;
} pgb;

static void pgb_need(pgb *b, size_t n) {
  size_t c;
  uint8_t *p;

  if (b->err || b->cap - b->len >= n)
    return;
  if (n > ((size_t)1 << 30) - b->len) { /* a libpq parameter's limit */
    b->err = ES_ETOOBIG;
    return;
  }
  c = b->cap ? b->cap : 256;
  while (c - b->len < n)
    c *= 2;
  p = es__realloc(b->p, c);
  if (!p) {
    b->err = ES_ENOMEM;
    return;
  }
  b->p = p;
  b->cap = c;
}

static void pgb_put(pgb *b, const void *d, size_t n) {
  pgb_need(b, n);
  if (b->err)
    return;
  if (n)
    memcpy(b->p + b->len, d, n);
  b->len += n;
}

static void pgb_u32(pgb *b, uint32_t v) {
  uint8_t x[4];
  put32(x, v);
  pgb_put(b, x, 4);
}

static void pgb_u64(pgb *b, uint64_t v) {
  uint8_t x[8];
  put64(x, v);
  pgb_put(b, x, 8);
}

static void pgb_free(pgb *b) {
  es__free(b->p);
  memset(b, 0, sizeof *b);
}

/* Starts a one-dimensional binary array of `n` elements of type `oid`. */
static void arr_begin(pgb *b, Oid oid, uint32_t n) {
  b->len = 0;
  pgb_u32(b, 1); /* dimensions */
  pgb_u32(b, 0); /* no NULLs */
  pgb_u32(b, oid);
  pgb_u32(b, n);
  pgb_u32(b, 1); /* lower bound */
}

static void arr_elem(pgb *b, const void *d, size_t len) {
  pgb_u32(b, (uint32_t)len);
  pgb_put(b, d, len);
}

static void arr_u64(pgb *b, uint64_t v) {
  pgb_u32(b, 8);
  pgb_u64(b, v);
}

/* `in` with every "@S" replaced by the quoted schema `q`; NULL on ENOMEM. */
static char *with_schema(const char *in, const char *q) {
  size_t n = 0, ql = strlen(q);
  char *out, *o;

  for (const char *p = in; *p; p++, n++)
    if (p[0] == '@' && p[1] == 'S')
      n += ql, p++;
  out = o = es__malloc(n + 1);
  if (!out)
    return NULL;
  for (const char *p = in; *p; p++) {
    if (p[0] == '@' && p[1] == 'S') {
      memcpy(o, q, ql);
      o += ql;
      p++;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}

/* True for a schema name we accept: 1..48 of [A-Za-z0-9_], not starting
 * with a digit (so the channel name stays within PostgreSQL's 63 bytes and
 * the name needs no escaping anywhere). */
static int schema_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;

  if (n < 1 || n > 48 || (s[0] >= '0' && s[0] <= '9'))
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

/* ---- errors ------------------------------------------------------------- */

static const char *sqlstate(const PGresult *r) {
  const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  return st ? st : "";
}

/* The connection is gone (or going): reconnecting may help. */
static int conn_lost(PGconn *c, const PGresult *r) {
  const char *st = sqlstate(r);
  return !c || PQstatus(c) == CONNECTION_BAD || strncmp(st, "08", 2) == 0 ||
         strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 ||
         strcmp(st, "57P03") == 0;
}

/* A deadlock or serialization failure: running again may succeed. */
static int transient(const PGresult *r) {
  const char *st = sqlstate(r);
  return strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0;
}

/* The ES_E* code for a failed statement. */
static int map_error(PGconn *c, const PGresult *r) {
  const char *st = sqlstate(r);

  if (conn_lost(c, r))
    return ES_EIO;
  if (strcmp(st, "57014") == 0) /* statement timeout, cancel */
    return ES_ETIMEDOUT;
  if (strcmp(st, "23505") == 0) /* a reused event id */
    return ES_EINVAL;
  if (strncmp(st, "22", 2) == 0) /* a name PostgreSQL rejects */
    return ES_EINVAL;
  if (strcmp(st, "53200") == 0)
    return ES_ENOMEM;
  if (strcmp(st, PG_STREAM_MOVED) == 0)
    return ES_ECONFLICT;
  return ES_EIO;
}

/* ---- connections -------------------------------------------------------- */

/* libpq prints server notices (and "terminating connection" messages)
 * to stderr by default; a library keeps quiet, its callers see errors. */
static void quiet_notice(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

/* Whether `r` (consumed) reports a command that succeeded. */
static bool command_ok(PGresult *r) {
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

/* A new connection whose notices are dropped, or NULL. */
static PGconn *conn_connect(const pg_store *s) {
  PGconn *c = PQconnectdb(s->conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    PQfinish(c);
    return NULL;
  }
  PQsetNoticeProcessor(c, quiet_notice, NULL);
  return c;
}

/* A new connection with every statement prepared, or NULL. */
static PGconn *conn_open(pg_store *s) {
  PGconn *c = conn_connect(s);

  if (!c)
    return NULL;
  for (int i = 0; i < ST_COUNT; i++) {
    char name[8];
    snprintf(name, sizeof name, "s%d", i);
    if (!command_ok(PQprepare(c, name, s->sql[i], stmt_defs[i].n_params,
                              stmt_defs[i].types)))
      goto fail;
  }
  return c;

fail:
  PQfinish(c);
  return NULL;
}

/* A connection, retried until the reconnect budget from `start` is spent;
 * NULL then. */
static PGconn *conn_open_retry(pg_store *s, int64_t start) {
  int64_t backoff = 20000;

  for (;;) {
    PGconn *c = conn_open(s);
    if (c)
      return c;
    if (mono_us() - start > PG_RECONNECT_BUDGET_US)
      return NULL;
    sleep_us(backoff);
    if (backoff < 500000)
      backoff *= 2;
  }
}

/* A pooled connection (or a new one), or NULL when none can be made. */
static PGconn *pool_take(pg_store *s, int64_t start) {
  PGconn *c = NULL;

  pthread_mutex_lock(&s->mu);
  if (s->n_idle)
    c = s->idle[--s->n_idle];
  pthread_mutex_unlock(&s->mu);
  return c ? c : conn_open_retry(s, start);
}

/* Returns `c` to the pool, or closes it when it is broken or in a
 * transaction, or when the pool is full. */
static void pool_give(pg_store *s, PGconn *c) {
  if (!c)
    return;
  if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE) {
    pthread_mutex_lock(&s->mu);
    if (s->n_idle < PG_POOL_KEEP) {
      s->idle[s->n_idle++] = c;
      c = NULL;
    }
    pthread_mutex_unlock(&s->mu);
  }
  PQfinish(c);
}

/* Runs prepared statement `st` on a pooled connection, reconnecting while
 * the budget lasts when the connection is lost (every statement run this
 * way is safe to repeat). `*out` is the result on 0; the caller clears it. */
static int run_stmt(pg_store *s, int st, const char *const *values,
                    const int *lengths, PGresult **out) {
  int64_t start = mono_us();
  int formats[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  char name[8];

  snprintf(name, sizeof name, "s%d", st);
  for (;;) {
    PGconn *c = pool_take(s, start);
    PGresult *r;
    ExecStatusType t;
    int rc;

    if (!c)
      return ES_EIO;
    r = PQexecPrepared(c, name, stmt_defs[st].n_params, values, lengths,
                       formats, 1);
    t = PQresultStatus(r);
    if (t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK) {
      pool_give(s, c);
      *out = r;
      return 0;
    }
    rc = map_error(c, r);
    if (conn_lost(c, r) && mono_us() - start <= PG_RECONNECT_BUDGET_US) {
      PQclear(r);
      PQfinish(c);
      continue;
    }
    PQclear(r);
    pool_give(s, c);
    return rc;
  }
}

/* ---- append: requests --------------------------------------------------- */

static void req_free(pg_req *q) {
  if (!q)
    return;
  es__free(q->ids);
  es__free(q->ts);
  es__free(q->sidx);
  es__free(q->version);
  es__free(q);
}

static pg_req *req_new(pg_store *s, es_append_stream *g, uint32_t n,
                       es_append_result *res) {
  pg_req *q = es__calloc(1, sizeof *q);
  es_timestamp now = es__store_now(&s->base);
  uint64_t k = 0;

  if (!q)
    return NULL;
  q->g = g;
  q->n = n;
  q->res = res;
  for (uint32_t i = 0; i < n; i++) {
    q->total += g[i].n_events;
    for (uint32_t j = 0; j < g[i].n_events; j++)
      q->bytes += g[i].events[j].len;
  }
  q->ids = es__calloc((size_t)q->total, sizeof *q->ids);
  q->ts = es__calloc((size_t)q->total, sizeof *q->ts);
  q->sidx = es__calloc(n, sizeof *q->sidx);
  q->version = es__calloc(n, sizeof *q->version);
  if (!q->ids || !q->ts || !q->sidx || !q->version) {
    req_free(q);
    return NULL;
  }
  pthread_mutex_lock(&s->mu);
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < g[i].n_events; j++, k++) {
      const es_new_event *e = &g[i].events[j];
      q->ids[k] = e->event_id;
      if (es__uuid_is_zero(&q->ids[k]))
        es__uuid_v7(&q->ids[k], s->rng, now);
      q->ts[k] = e->timestamp ? e->timestamp : now;
    }
  pthread_mutex_unlock(&s->mu);
  return q;
}

/* ---- append: the batch's stream table ----------------------------------- */

typedef struct bstream {
  const char *type, *key;
  uint64_t version; /* guessed, or read under the row lock */
  uint64_t next;    /* after the accepted requests so far */
  int guessed;      /* batch_guess() found a version */
} bstream;

static int bstream_cmp(const void *pa, const void *pb) {
  const bstream *a = pa, *b = pb;
  int c = strcmp(a->type, b->type);
  return c ? c : strcmp(a->key, b->key);
}

static long bstream_find(const bstream *v, size_t n, const char *type,
                         const char *key) {
  size_t lo = 0, hi = n;
  bstream k;

  k.type = type;
  k.key = key;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = bstream_cmp(&k, &v[mid]);
    if (c == 0)
      return (long)mid;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -1;
}

/* A batch: its requests and the distinct streams they name, sorted (the
 * order every batch locks rows in). */
typedef struct batch {
  pg_req **reqs;
  size_t n_reqs;
  bstream *st;
  size_t n_st;
  uint64_t accepted_events;
  uint64_t head;    /* the counter after COMMIT */
  es_timestamp now; /* the store's clock when the batch began */
} batch;

static int batch_streams(batch *b) {
  size_t n = 0, k = 0;

  for (size_t i = 0; i < b->n_reqs; i++)
    n += b->reqs[i]->n;
  b->st = es__malloc((n ? n : 1) * sizeof *b->st);
  if (!b->st)
    return ES_ENOMEM;
  for (size_t i = 0; i < b->n_reqs; i++)
    for (uint32_t j = 0; j < b->reqs[i]->n; j++) {
      b->st[k].type = b->reqs[i]->g[j].type;
      b->st[k].key = b->reqs[i]->g[j].key;
      b->st[k].version = b->st[k].next = 0;
      b->st[k].guessed = 0;
      k++;
    }
  qsort(b->st, n, sizeof *b->st, bstream_cmp);
  k = 0;
  for (size_t i = 0; i < n; i++)
    if (k == 0 || bstream_cmp(&b->st[k - 1], &b->st[i]) != 0)
      b->st[k++] = b->st[i];
  b->n_st = k;
  for (size_t i = 0; i < b->n_reqs; i++)
    for (uint32_t j = 0; j < b->reqs[i]->n; j++)
      b->reqs[i]->sidx[j] = (uint32_t)bstream_find(
          b->st, b->n_st, b->reqs[i]->g[j].type, b->reqs[i]->g[j].key);
  return 0;
}

/* Guesses the version of every stream of the batch from the expectation
 * of the first request naming it: the executor expects the exact version
 * its state is at, which is the stream's version unless another process
 * appended meanwhile. Returns 1 when every stream has a guess, 0 when one
 * has none (its first request expects any version, or an existing
 * stream). */
static int batch_guess(batch *b) {
  for (size_t i = 0; i < b->n_st; i++)
    b->st[i].guessed = 0;
  for (size_t i = 0; i < b->n_reqs; i++)
    for (uint32_t j = 0; j < b->reqs[i]->n; j++) {
      bstream *t = &b->st[b->reqs[i]->sidx[j]];
      es_expected e = b->reqs[i]->g[j].expected;
      if (t->guessed)
        continue;
      if (e.kind == ES_EXPECT_EXACT)
        t->version = e.version;
      else if (e.kind == ES_EXPECT_NO_STREAM)
        t->version = 0;
      else
        return 0;
      t->guessed = 1;
    }
  return 1;
}

/* Checks every request's expectations in queue order against the versions
 * left by those accepted before it; marks each accepted or conflicting. */
static void batch_decide(batch *b) {
  b->accepted_events = 0;
  for (size_t i = 0; i < b->n_st; i++)
    b->st[i].next = b->st[i].version;
  for (size_t i = 0; i < b->n_reqs; i++) {
    pg_req *q = b->reqs[i];
    q->accepted = 1;
    for (uint32_t j = 0; j < q->n; j++) {
      uint64_t cur = b->st[q->sidx[j]].next;
      if (!es__expectation_holds(q->g[j].expected, cur)) {
        q->accepted = 0;
        q->rc = ES_ECONFLICT;
        q->res->conflict = j;
        q->res->actual_version = cur;
        break;
      }
    }
    if (!q->accepted)
      continue;
    q->rc = 0;
    for (uint32_t j = 0; j < q->n; j++) {
      bstream *t = &b->st[q->sidx[j]];
      t->next += q->g[j].n_events;
      q->version[j] = t->next;
    }
    q->offset = b->accepted_events;
    b->accepted_events += q->total;
  }
}

/* ---- append: the two round trips ----------------------------------------- */

/* Collects every result up to the pipeline's sync point. `*first_err` gets
 * the first failed result (else NULL; the caller clears it) and
 * `*err_idx` (when not NULL) the place of its statement in the pipeline;
 * the rows of statements `keep[0]` and `keep[1]` (-1: none) go to
 * `kept[0]` and `kept[1]`. Returns 0, or -1 when the connection broke
 * before the sync point arrived. */
static int pipe_collect_at(PGconn *c, const int keep[2], PGresult *kept[2],
                           PGresult **first_err, int *err_idx) {
  int idx = 0;

  *first_err = NULL;
  kept[0] = kept[1] = NULL;
  for (;;) {
    PGresult *r = PQgetResult(c);
    ExecStatusType t;
    if (!r) {
      if (PQstatus(c) == CONNECTION_BAD)
        return -1;
      idx++; /* the end of one statement's results */
      continue;
    }
    t = PQresultStatus(r);
    if (t == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      return 0;
    }
    if (t == PGRES_FATAL_ERROR && !*first_err) {
      *first_err = r;
      if (err_idx)
        *err_idx = idx;
      if (PQstatus(c) == CONNECTION_BAD)
        return -1;
      continue;
    }
    if (t == PGRES_TUPLES_OK && idx == keep[0] && !kept[0])
      kept[0] = r;
    else if (t == PGRES_TUPLES_OK && idx == keep[1] && !kept[1])
      kept[1] = r;
    else
      PQclear(r);
    if (PQstatus(c) == CONNECTION_BAD)
      return -1;
  }
}

/* pipe_collect_at() keeping the rows of statement `keep` (-1: none) in
 * `*kept` (when not NULL). */
static int pipe_collect(PGconn *c, int keep, PGresult **kept,
                        PGresult **first_err) {
  const int k[2] = {keep, -1};
  PGresult *r[2];
  int rc = pipe_collect_at(c, k, r, first_err, NULL);

  if (kept)
    *kept = r[0];
  else
    PQclear(r[0]);
  return rc;
}

static int send_prepared(PGconn *c, int st, const char *const *values,
                         const int *lengths, int result_format) {
  static const int formats[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  char name[8];

  snprintf(name, sizeof name, "s%d", st);
  return PQsendQueryPrepared(c, name, stmt_defs[st].n_params, values, lengths,
                             formats, result_format)
             ? 0
             : -1;
}

/* What one attempt at a batch ended with. */
enum {
  TRY_DONE,    /* committed, or nothing to commit: results are final */
  TRY_RETRY,   /* not committed; running it again may succeed */
  TRY_ISOLATE, /* not committed, a request is at fault: run them singly */
  TRY_FAIL,    /* not committed; `err` for every request */
  TRY_UNKNOWN, /* COMMIT was in flight when the connection broke */
  TRY_MOVED    /* not committed: a stream was not at the version guessed
                  (the batch's stream table now has the actual ones) */
};

/* Sends the statement that locks every stream of the batch (creating the
 * missing ones at version 0) and returns their versions. `types` and
 * `keys` hold its parameters until the results are read. Returns 0, or
 * the ES_E* code of a parameter that could not be built (nothing sent),
 * or -1 when sending failed. */
static int send_lock(PGconn *c, const batch *b, pgb *types, pgb *keys) {
  const char *vals[2];
  int lens[2];

  arr_begin(types, OID_TEXT, (uint32_t)b->n_st);
  arr_begin(keys, OID_BYTEA, (uint32_t)b->n_st);
  for (size_t i = 0; i < b->n_st; i++) {
    arr_elem(types, b->st[i].type, strlen(b->st[i].type));
    arr_elem(keys, b->st[i].key, strlen(b->st[i].key));
  }
  if (types->err || keys->err)
    return types->err ? types->err : keys->err;
  vals[0] = (const char *)types->p;
  lens[0] = (int)types->len;
  vals[1] = (const char *)keys->p;
  lens[1] = (int)keys->len;
  return send_prepared(c, ST_LOCK, vals, lens, 1);
}

/* Stores the versions the lock statement returned in the batch's stream
 * table. Returns 0 or ES_EIO (rows that do not match the table). */
static int lock_rows(batch *b, const PGresult *rows) {
  if (!rows || (size_t)PQntuples(rows) != b->n_st)
    return ES_EIO;
  for (int r = 0; r < PQntuples(rows); r++) {
    long i = bstream_find(b->st, b->n_st, PQgetvalue(rows, r, 0),
                          PQgetvalue(rows, r, 1));
    if (i < 0)
      return ES_EIO;
    b->st[i].version = col64(rows, r, 2);
  }
  return 0;
}

/* The locked path, round trip 1: BEGIN and lock + read every stream of
 * the batch. */
static int try_lock(pg_store *s, batch *b, int *err) {
  PGconn *c = s->writer;
  pgb types = {0}, keys = {0};
  PGresult *rows = NULL, *bad = NULL;
  int out = TRY_RETRY, rc;

  if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
    goto done; /* nothing reached the server that could commit */
  rc = send_lock(c, b, &types, &keys);
  if (rc > 0) {
    *err = rc;
    PQpipelineSync(c);
    pipe_collect(c, -1, NULL, &bad);
    out = TRY_FAIL;
    goto done;
  }
  if (rc != 0 || !PQpipelineSync(c))
    goto done;
  if (pipe_collect(c, 1, &rows, &bad) != 0)
    goto done;
  if (bad) {
    out = transient(bad)                         ? TRY_RETRY
          : strncmp(sqlstate(bad), "22", 2) == 0 ? TRY_ISOLATE
                                                 : TRY_FAIL;
    *err = map_error(c, bad);
    goto done;
  }
  if ((rc = lock_rows(b, rows)) != 0) {
    *err = rc;
    out = TRY_FAIL;
    goto done;
  }
  out = TRY_DONE;

done:
  PQclear(rows);
  PQclear(bad);
  pgb_free(&types);
  pgb_free(&keys);
  return out;
}

/* Ends the open transaction (if any) of the writer. */
static void writer_rollback(pg_store *s) {
  PGconn *c = s->writer;
  PGresult *r;

  if (!c || PQstatus(c) != CONNECTION_OK ||
      PQtransactionStatus(c) == PQTRANS_IDLE)
    return;
  if (!PQsendQueryParams(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0) ||
      !PQpipelineSync(c))
    return;
  if (pipe_collect(c, -1, NULL, &r) == 0)
    PQclear(r);
}

/* A place among a batch's accepted events: request, group, event. */
typedef struct ev_cursor {
  size_t r;
  uint32_t g, e;
} ev_cursor;

/* Moves `cur` onto the first accepted event at or after it (one must be
 * left) and returns that event's request. */
static pg_req *cursor_settle(const batch *b, ev_cursor *cur) {
  for (;;) {
    pg_req *q;
    while (cur->r < b->n_reqs && !b->reqs[cur->r]->accepted)
      cur->r++;
    q = b->reqs[cur->r];
    if (cur->g >= q->n)
      cur->r++, cur->g = 0, cur->e = 0;
    else if (cur->e >= q->g[cur->g].n_events)
      cur->g++, cur->e = 0;
    else
      return q;
  }
}

/* How many accepted events from `from` on (at most `left`) make the next
 * chunk: up to PG_CHUNK_EVENTS and PG_CHUNK_BYTES, at least one. */
static uint32_t chunk_size(const batch *b, ev_cursor from, uint64_t left) {
  uint32_t n = 0;
  size_t bytes = 0;
  while (n < PG_CHUNK_EVENTS && n < left) {
    pg_req *q = cursor_settle(b, &from);
    size_t len = q->g[from.g].events[from.e].len;
    if (n && bytes + len > PG_CHUNK_BYTES)
      break;
    bytes += len;
    n++;
    from.e++;
  }
  return n;
}

/* Sends the inserts of every accepted event, in chunks. */
static int send_inserts(PGconn *c, batch *b, int *err) {
  pgb a[10] = {{0}};
  ev_cursor cur = {0, 0, 0};
  uint64_t sent = 0;
  int rc = 0;

  while (sent < b->accepted_events) {
    uint64_t chunk_first = sent;
    uint32_t n = chunk_size(b, cur, b->accepted_events - sent);
    const char *vals[11];
    int lens[11];
    uint8_t remain[8];
    arr_begin(&a[0], OID_TEXT, n);
    arr_begin(&a[1], OID_BYTEA, n);
    arr_begin(&a[2], OID_INT8, n);
    arr_begin(&a[3], OID_UUID, n);
    arr_begin(&a[4], OID_INT8, n);
    arr_begin(&a[5], OID_INT4, n);
    arr_begin(&a[6], OID_TIMESTAMPTZ, n);
    arr_begin(&a[7], OID_UUID, n);
    arr_begin(&a[8], OID_UUID, n);
    arr_begin(&a[9], OID_BYTEA, n);
    for (uint32_t k = 0; k < n; k++, cur.e++) {
      pg_req *q = cursor_settle(b, &cur);
      uint32_t gi = cur.g, ei = cur.e;
      const es_new_event *e = &q->g[gi].events[ei];
      uint64_t flat = ei;
      uint8_t x[4];
      for (uint32_t j = 0; j < gi; j++)
        flat += q->g[j].n_events;
      arr_elem(&a[0], q->g[gi].type, strlen(q->g[gi].type));
      arr_elem(&a[1], q->g[gi].key, strlen(q->g[gi].key));
      arr_u64(&a[2], q->version[gi] - q->g[gi].n_events + ei + 1);
      arr_elem(&a[3], q->ids[flat].bytes, 16);
      arr_u64(&a[4], e->type_id);
      put32(x, e->type_version);
      arr_elem(&a[5], x, 4);
      arr_u64(&a[6], (uint64_t)(q->ts[flat] - PG_EPOCH_US));
      arr_elem(&a[7], e->correlation_id.bytes, 16);
      arr_elem(&a[8], e->causation_id.bytes, 16);
      arr_elem(&a[9], e->payload, e->len);
    }
    for (int i = 0; i < 10; i++)
      if (a[i].err) {
        *err = a[i].err;
        rc = -1;
        goto done;
      }
    /* position = head - (total - chunk_first) + ordinality */
    put64(remain, b->accepted_events - chunk_first);
    vals[0] = (const char *)remain;
    lens[0] = 8;
    for (int i = 0; i < 10; i++) {
      vals[i + 1] = (const char *)a[i].p;
      lens[i + 1] = (int)a[i].len;
    }
    if (send_prepared(c, ST_INSERT, vals, lens, 1) != 0) {
      *err = ES_EIO;
      rc = -2;
      goto done;
    }
    sent += n;
  }

done:
  for (int i = 0; i < 10; i++)
    pgb_free(&a[i]);
  return rc;
}

/* One accepted event carrying a command id (its causation id). */
typedef struct cmdrec {
  es_uuid id;
  size_t req;   /* its request's place in the batch */
  uint64_t idx; /* 1-based index among the batch's accepted events */
  es_timestamp ts;
} cmdrec;

static int cmdrec_cmp(const void *pa, const void *pb) {
  const cmdrec *a = pa, *b = pb;
  int c = memcmp(a->id.bytes, b->id.bytes, 16);
  if (c)
    return c;
  if (a->req != b->req)
    return a->req < b->req ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sends the command index rows of the batch: per command id, the events
 * carrying it in the first request of the batch that has it (a later
 * request with the same id is stored but not recorded: the first append
 * stands, as in every store). Returns 0, -1 (`err` set) before anything
 * was sent, or -2 when sending failed. */
static int send_commands(pg_store *s, PGconn *c, batch *b, int *err) {
  cmdrec *v = NULL;
  size_t n = 0, cap = 0;
  uint64_t idx = 0;
  pgb a[4] = {{0}};
  uint32_t rows = 0;
  int rc = 0;

  for (size_t i = 0; i < b->n_reqs; i++) {
    pg_req *q = b->reqs[i];
    uint64_t flat = 0;
    if (!q->accepted)
      continue;
    for (uint32_t j = 0; j < q->n; j++)
      for (uint32_t k = 0; k < q->g[j].n_events; k++, flat++) {
        const es_uuid *id = &q->g[j].events[k].causation_id;
        idx++;
        if (es__uuid_is_zero(id))
          continue;
        if (n == cap) {
          size_t nc = cap ? cap * 2 : 64;
          cmdrec *nv = es__realloc(v, nc * sizeof *v);
          if (!nv) {
            *err = ES_ENOMEM;
            rc = -1;
            goto done;
          }
          v = nv;
          cap = nc;
        }
        v[n].id = *id;
        v[n].req = i;
        v[n].idx = idx;
        v[n].ts = q->ts[flat];
        n++;
      }
  }
  if (n == 0)
    goto done;
  qsort(v, n, sizeof *v, cmdrec_cmp);
  for (size_t i = 0; i < n; i++)
    rows += i == 0 || memcmp(v[i - 1].id.bytes, v[i].id.bytes, 16) != 0;
  arr_begin(&a[0], OID_UUID, rows);
  arr_begin(&a[1], OID_INT8, rows);
  arr_begin(&a[2], OID_INT8, rows);
  arr_begin(&a[3], OID_TIMESTAMPTZ, rows);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    uint64_t last = v[i].idx;
    /* the rest of this id's events in the same request */
    while (j < n && memcmp(v[j].id.bytes, v[i].id.bytes, 16) == 0) {
      if (v[j].req == v[i].req)
        last = v[j].idx;
      j++;
    }
    arr_elem(&a[0], v[i].id.bytes, 16);
    arr_u64(&a[1], v[i].idx);
    arr_u64(&a[2], last);
    arr_u64(&a[3], (uint64_t)(v[i].ts - PG_EPOCH_US));
    i = j;
  }
  for (int i = 0; i < 4; i++)
    if (a[i].err) {
      *err = a[i].err;
      rc = -1;
      goto done;
    }
  {
    uint8_t total[8], expired[8];
    const char *vals[6];
    int lens[6];
    int64_t ret = s->base.opt.command_retention_us;
    /* a record older than now - retention has expired; none when the
     * retention is negative (forever) */
    int64_t cut = ret < 0 ? INT64_MIN : b->now - ret - PG_EPOCH_US;
    put64(total, b->accepted_events);
    put64(expired, (uint64_t)cut);
    vals[0] = (const char *)total;
    lens[0] = 8;
    for (int i = 0; i < 4; i++) {
      vals[i + 1] = (const char *)a[i].p;
      lens[i + 1] = (int)a[i].len;
    }
    vals[5] = (const char *)expired;
    lens[5] = 8;
    if (send_prepared(c, ST_CMD_NOTE, vals, lens, 1) != 0) {
      *err = ES_EIO;
      rc = -2;
    }
  }

done:
  for (int i = 0; i < 4; i++)
    pgb_free(&a[i]);
  es__free(v);
  return rc;
}

/* Tests only (tests/store/test_store_pg.c declares it): called with the
 * writer connection once COMMIT has been sent, before its result is read,
 * so that a test can break the connection at the moment its outcome is
 * unknown. NULL in every program but that test. */
void (*es__pg_commit_sent)(PGconn *c);

/* Sends the statement that moves every stream of the batch from the
 * version it was decided on to its new one (failing if one is elsewhere).
 * `a` holds its parameters until the results are read. Returns 0, the
 * ES_E* code of a parameter that could not be built, or -1 when sending
 * failed. */
static int send_setver(PGconn *c, const batch *b, pgb a[4]) {
  const char *vals[4];
  int lens[4];

  arr_begin(&a[0], OID_TEXT, (uint32_t)b->n_st);
  arr_begin(&a[1], OID_BYTEA, (uint32_t)b->n_st);
  arr_begin(&a[2], OID_INT8, (uint32_t)b->n_st);
  arr_begin(&a[3], OID_INT8, (uint32_t)b->n_st);
  for (size_t i = 0; i < b->n_st; i++) {
    arr_elem(&a[0], b->st[i].type, strlen(b->st[i].type));
    arr_elem(&a[1], b->st[i].key, strlen(b->st[i].key));
    arr_u64(&a[2], b->st[i].version);
    arr_u64(&a[3], b->st[i].next);
  }
  for (int i = 0; i < 4; i++) {
    if (a[i].err)
      return a[i].err;
    vals[i] = (const char *)a[i].p;
    lens[i] = (int)a[i].len;
  }
  return send_prepared(c, ST_SETVER, vals, lens, 1);
}

/* Sends the writes of the decided batch and COMMIT: the stream versions,
 * the counter (with the notification), the events, the command index.
 * With `guessed`, BEGIN and the stream locks go first in the same round
 * trip, the versions the batch was decided on being guesses that the
 * stream version statement checks under the locks: a stream found
 * elsewhere aborts the transaction (TRY_MOVED, the actual versions in
 * the batch's table). Without, the locked path's round trip 2. */
static int try_commit(pg_store *s, batch *b, int guessed, int *err) {
  PGconn *c = s->writer;
  pgb lock[2] = {{0}}, setver[4] = {{0}};
  PGresult *kept[2] = {NULL, NULL}, *bad = NULL;
  /* places in the pipeline: [BEGIN, lock,] stream versions, counter */
  const int keep[2] = {guessed ? 1 : -1, guessed ? 3 : 1};
  const int setver_at = guessed ? 2 : 0;
  int out = TRY_RETRY, rc, bad_at = -1;
  uint8_t total[8];
  const char *vals[2];
  int lens[2];
  int64_t t0 = es_obs_now_us();

  if (guessed) {
    if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
      goto done; /* TRY_RETRY: not committed */
    if ((rc = send_lock(c, b, &lock[0], &lock[1])) != 0)
      goto not_sent;
  }
  if ((rc = send_setver(c, b, setver)) != 0)
    goto not_sent;
  put64(total, b->accepted_events);
  vals[0] = (const char *)total;
  lens[0] = 8;
  vals[1] = s->channel;
  lens[1] = (int)strlen(s->channel);
  if (send_prepared(c, ST_HEAD_MOVE, vals, lens, 0) != 0)
    goto done;
  rc = send_inserts(c, b, err);
  if (rc == 0)
    rc = send_commands(s, c, b, err);
  if (rc == -1) { /* could not build the parameters */
    rc = *err;
    goto not_sent;
  }
  if (rc != 0)
    goto done;
  if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
      !PQpipelineSync(c)) {
    out = TRY_UNKNOWN; /* COMMIT may have left */
    goto done;
  }
  if (es__pg_commit_sent)
    es__pg_commit_sent(c);
  if (pipe_collect_at(c, keep, kept, &bad, &bad_at) != 0) {
    out = TRY_UNKNOWN;
    goto done;
  }
  if (bad) {
    /* A statement before COMMIT failed: the transaction is aborted and
     * COMMIT (skipped with it) committed nothing. */
    writer_rollback(s);
    int moved =
        bad_at == setver_at && strcmp(sqlstate(bad), PG_STREAM_MOVED) == 0;
    if (moved && guessed && lock_rows(b, kept[0]) == 0)
      out = TRY_MOVED;
    else if (transient(bad))
      out = TRY_RETRY;
    else if (moved || strcmp(sqlstate(bad), "23505") == 0 ||
             strncmp(sqlstate(bad), "22", 2) == 0)
      out = TRY_ISOLATE;
    else
      out = TRY_FAIL;
    *err = map_error(c, bad);
    goto done;
  }
  if (!kept[1] || PQntuples(kept[1]) != 1) {
    *err = ES_EIO;
    out = TRY_FAIL;
    goto done;
  }
  b->head = strtoull(PQgetvalue(kept[1], 0, 0), NULL, 10);
  if (s->base.opt.obs)
    es_metrics_observe_us(s->base.opt.obs->metrics, ES_HIST_SYNC,
                          (uint64_t)(es_obs_now_us() - t0));
  out = TRY_DONE;
  goto done;

not_sent:
  /* A parameter could not be built (rc > 0) or sending failed (rc < 0):
   * end what was sent and roll it back. */
  if (rc > 0) {
    *err = rc;
    out = TRY_FAIL;
    PQpipelineSync(c);
    pipe_collect(c, -1, NULL, &bad);
    writer_rollback(s);
  }

done:
  PQclear(kept[0]);
  PQclear(kept[1]);
  PQclear(bad);
  for (int i = 0; i < 2; i++)
    pgb_free(&lock[i]);
  for (int i = 0; i < 4; i++)
    pgb_free(&setver[i]);
  return out;
}

/* Fills the results of a committed batch from its counter value. */
static void batch_ack(batch *b) {
  uint64_t first = b->head - b->accepted_events + 1;

  for (size_t i = 0; i < b->n_reqs; i++) {
    pg_req *q = b->reqs[i];
    if (!q->accepted)
      continue;
    q->res->first_position = first + q->offset;
    q->res->last_position = first + q->offset + q->total - 1;
    for (uint32_t j = 0; j < q->n; j++)
      q->g[j].version = q->version[j];
    q->rc = 0;
  }
}

/* Waits (within the reconnect budget from `start`) until server process
 * `pid` has ended, so that a commit it was running has finished one way or
 * the other. Returns 0 or ES_EIO. */
static int backend_gone(pg_store *s, int pid, int64_t start) {
  char arg[16];
  const char *vals[1] = {arg};

  snprintf(arg, sizeof arg, "%d", pid);
  for (;;) {
    PGconn *c = pool_take(s, start);
    PGresult *r;
    int alive;
    if (!c)
      return ES_EIO;
    r = PQexecParams(c, "SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", 1,
                     NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      PQfinish(c);
      if (mono_us() - start > PG_RECONNECT_BUDGET_US)
        return ES_EIO;
      continue;
    }
    alive = PQntuples(r) > 0;
    PQclear(r);
    pool_give(s, c);
    if (!alive)
      return 0;
    if (mono_us() - start > PG_RECONNECT_BUDGET_US)
      return ES_EIO;
    sleep_us(10000);
  }
}

/* After a connection broke while COMMIT was in flight: looks the batch's
 * first event up on a new connection. Returns TRY_DONE (committed: `head`
 * set), TRY_RETRY (not committed) or TRY_FAIL (could not tell: `err`). */
static int resolve_unknown(pg_store *s, batch *b, int64_t start, int *err) {
  pg_req *q = NULL;
  uint32_t gi = 0;
  pgb ids = {0};
  PGresult *r = NULL;
  const char *vals[1];
  int lens[1], out = TRY_FAIL;

  for (size_t i = 0; i < b->n_reqs && !q; i++)
    if (b->reqs[i]->accepted)
      q = b->reqs[i];
  while (q->g[gi].n_events == 0)
    gi++;
  {
    uint64_t flat = 0;
    for (uint32_t j = 0; j < gi; j++)
      flat += q->g[j].n_events;
    arr_begin(&ids, OID_UUID, 1);
    arr_elem(&ids, q->ids[flat].bytes, 16);
  }
  if (ids.err) {
    *err = ids.err;
    goto done;
  }
  vals[0] = (const char *)ids.p;
  lens[0] = (int)ids.len;
  if (backend_gone(s, s->writer_pid, start) != 0 ||
      run_stmt(s, ST_LOOKUP, vals, lens, &r) != 0) {
    *err = ES_EIO;
    goto done;
  }
  out = TRY_RETRY;
  if (PQntuples(r) == 1) {
    uint64_t pos = col64(r, 0, 1), ver = col64(r, 0, 4);
    /* the same id at the same stream and version: this batch's event */
    if (strcmp(PQgetvalue(r, 0, 2), q->g[gi].type) == 0 &&
        strcmp(PQgetvalue(r, 0, 3), q->g[gi].key) == 0 &&
        ver == q->version[gi] - q->g[gi].n_events + 1) {
      uint64_t before = 0;
      for (uint32_t j = 0; j < gi; j++)
        before += q->g[j].n_events;
      b->head = pos - before - q->offset - 1 + b->accepted_events;
      out = TRY_DONE;
    }
  }

done:
  PQclear(r);
  pgb_free(&ids);
  return out;
}

/* Runs `b` as one transaction, re-running it as the errors allow; every
 * request ends with its rc (and results) set. `alone`: already a single
 * request, never isolated again. */
static void run_batch(pg_store *s, batch *b, int alone) {
  int64_t start = mono_us();
  int err = ES_EIO, out = TRY_FAIL, guessed, moved = 0;

  if (batch_streams(b) != 0) {
    err = ES_ENOMEM;
    goto fail;
  }
  guessed = batch_guess(b);
  for (int attempt = 0; attempt < PG_BATCH_ATTEMPTS; attempt++) {
    if (!s->writer || PQstatus(s->writer) != CONNECTION_OK) {
      PQfinish(s->writer);
      s->writer = conn_open_retry(s, start);
      if (!s->writer || !PQenterPipelineMode(s->writer)) {
        err = ES_EIO;
        goto fail;
      }
      s->writer_pid = PQbackendPID(s->writer);
    }
    if (guessed) {
      batch_decide(b);
      /* nothing to write: confirm the conflicts under the locks */
      guessed = b->accepted_events > 0;
    }
    if (guessed) {
      out = try_commit(s, b, 1, &err);
    } else {
      out = try_lock(s, b, &err);
      if (out != TRY_DONE) {
        writer_rollback(s);
      } else {
        batch_decide(b);
        if (b->accepted_events == 0) {
          writer_rollback(s);
          return; /* every request conflicted */
        }
        out = try_commit(s, b, 0, &err);
      }
    }
    if (out == TRY_UNKNOWN) {
      PQfinish(s->writer);
      s->writer = NULL;
      out = resolve_unknown(s, b, start, &err);
      es__log(s->base.opt.obs, ES_LOG_WARN,
              "commit outcome unknown; looked the events up", "outcome",
              out == TRY_DONE    ? "committed"
              : out == TRY_RETRY ? "not committed"
                                 : "still unknown",
              NULL);
    }
    if (out == TRY_MOVED) {
      /* Decided on stale versions: decide again on the actual ones, in
       * one round trip once more, then under the locks (two). */
      guessed = ++moved < 2;
      continue;
    }
    if (out == TRY_DONE) {
      batch_ack(b);
      return;
    }
    if (out == TRY_FAIL)
      goto fail;
    if (out == TRY_ISOLATE) {
      if (alone || b->n_reqs == 1)
        goto fail;
      for (size_t i = 0; i < b->n_reqs; i++) {
        batch one = {&b->reqs[i], 1, NULL, 0, 0, 0, b->now};
        run_batch(s, &one, 1);
        es__free(one.st);
      }
      return;
    }
    /* TRY_RETRY: nothing committed */
    if (s->writer && PQstatus(s->writer) != CONNECTION_OK) {
      PQfinish(s->writer);
      s->writer = NULL;
    }
    if (mono_us() - start > PG_RECONNECT_BUDGET_US)
      break;
    sleep_us(1000 << attempt);
  }

fail:
  for (size_t i = 0; i < b->n_reqs; i++)
    b->reqs[i]->rc = err;
}

/* Deletes expired command index rows, at most once a minute (a lookup
 * checks the age itself, so this only bounds the table). Best effort. */
static void prune_commands(pg_store *s, es_timestamp now) {
  int64_t ret = s->base.opt.command_retention_us, t = mono_us();
  uint8_t cut[8];
  const char *vals[1] = {(const char *)cut};
  int lens[1] = {8};
  PGresult *r;

  if (ret < 0 || (s->last_prune && t - s->last_prune < 60 * 1000000))
    return;
  s->last_prune = t;
  put64(cut, (uint64_t)(now - ret - PG_EPOCH_US));
  if (run_stmt(s, ST_CMD_PRUNE, vals, lens, &r) == 0)
    PQclear(r);
}

/* Before taking the queue, waits (with `mu` held) for the appenders the
 * last batch answered to queue their next appends, for at most half the
 * last batch's time after it ended. Commits of a process are serial, so
 * without this wait the appenders split into two halves that alternate,
 * each batch carrying half of them: the half queued during a batch forms
 * the next one while the half it answered is still on its way back. */
static void gather(pg_store *s) {
  int64_t wait = s->last_us / 2, until;
  struct timespec ts;

  if (wait > PG_GATHER_MAX_US)
    wait = PG_GATHER_MAX_US;
  until = s->last_end + wait;
  s->gathering = 1;
  while (s->released > 0) {
    int64_t left = until - mono_us();
    if (left <= 0)
      break;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += left / 1000000;
    ts.tv_nsec += (long)(left % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&s->fill, &s->mu, &ts);
  }
  s->gathering = 0;
}

/* The leader's turn: gathers, takes up to a batch's worth of the queue,
 * runs it, and hands the results out. Called and returns with `mu`
 * held. */
static void lead(pg_store *s) {
  pg_req **reqs = s->batch_reqs;
  size_t n = 0;
  uint64_t events = 0;
  int64_t t0;
  batch b;

  s->leading = 1;
  gather(s);
  t0 = mono_us();
  while (s->queue && n < PG_BATCH_MAX_REQS &&
         (n == 0 || events + s->queue->total <= PG_BATCH_MAX_EVENTS)) {
    events += s->queue->total;
    reqs[n++] = s->queue;
    s->queue = s->queue->next;
  }
  if (!s->queue)
    s->queue_tail = &s->queue;
  pthread_mutex_unlock(&s->mu);

  memset(&b, 0, sizeof b);
  b.reqs = reqs;
  b.n_reqs = n;
  b.now = es__store_now(&s->base);
  run_batch(s, &b, 0);
  es__free(b.st);
  prune_commands(s, b.now);

  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < n; i++)
    reqs[i]->done = 1;
  s->leading = 0;
  s->released = n;
  s->last_end = mono_us();
  s->last_us = s->last_end - t0;
  s->wakes++; /* local waiters need not wait for the notification */
  pthread_cond_broadcast(&s->turn);
  pthread_cond_broadcast(&s->grew);
}

static int pg_append(es_store *bs, es_append_stream *g, uint32_t n,
                     es_append_result *res) {
  pg_store *s = (pg_store *)bs;
  pg_req *q;
  int rc;

  if (s->flags & ES_STORE_READONLY)
    return ES_EREADONLY;
  q = req_new(s, g, n, res);
  if (!q)
    return ES_ENOMEM;
  pthread_mutex_lock(&s->mu);
  *s->queue_tail = q;
  s->queue_tail = &q->next;
  if (s->released > 0 && --s->released == 0 && s->gathering)
    pthread_cond_signal(&s->fill);
  while (!q->done) {
    if (!s->leading)
      lead(s);
    else
      pthread_cond_wait(&s->turn, &s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  rc = q->rc;
  req_free(q);
  return rc;
}

/* ---- reads ----------------------------------------------------------------
 */

/* Delivers the rows of one page; `*last` gets the last row's column `col`
 * (position or version). */
static int deliver_rows(PGresult *r, es_event_fn fn, void *ctx, int col,
                        uint64_t *last) {
  for (int i = 0; i < PQntuples(r); i++) {
    es_stored_event e;
    int rc;
    memset(&e, 0, sizeof e);
    e.meta.position = col64(r, i, 0);
    e.meta.aggregate = PQgetvalue(r, i, 1);
    e.meta.key = PQgetvalue(r, i, 2);
    e.meta.version = col64(r, i, 3);
    if (PQgetlength(r, i, 4) == 16)
      memcpy(e.meta.event_id.bytes, PQgetvalue(r, i, 4), 16);
    e.meta.type_id = col64(r, i, 5);
    e.meta.type_version = get32((const uint8_t *)PQgetvalue(r, i, 6));
    e.meta.timestamp = (es_timestamp)col64(r, i, 7) + PG_EPOCH_US;
    if (PQgetlength(r, i, 8) == 16)
      memcpy(e.meta.correlation_id.bytes, PQgetvalue(r, i, 8), 16);
    if (PQgetlength(r, i, 9) == 16)
      memcpy(e.meta.causation_id.bytes, PQgetvalue(r, i, 9), 16);
    e.payload = (const uint8_t *)PQgetvalue(r, i, 10);
    e.len = (size_t)PQgetlength(r, i, 10);
    *last = col64(r, i, col);
    rc = fn(&e, ctx);
    if (rc)
      return rc;
  }
  return 0;
}

/* The page size for `max` (0: no limit) with `done` delivered. */
static uint64_t page_limit(uint32_t max, uint64_t done) {
  if (max == 0 || max - done > PG_READ_PAGE)
    return PG_READ_PAGE;
  return max - done;
}

/* Reads pages of statement `st` from `from` on, through `max` rows (0: no
 * limit), delivering each row to `fn`; `vals`/`lens` hold `nkey` leading
 * parameters (the stream), and the page's key column is `col` (position or
 * version). Every page is bounded by the head seen in the first page's
 * snapshot, so a read ends even while others append. */
static int read_pages(pg_store *s, int st, const char **vals, int *lens,
                      int nkey, int col, uint64_t from, uint32_t max,
                      es_event_fn fn, void *ctx) {
  uint64_t bound = INT64_MAX, done = 0;
  uint8_t p[3][8];

  for (int i = 0; i < 3; i++) {
    vals[nkey + i] = (const char *)p[i];
    lens[nkey + i] = 8;
  }
  for (;;) {
    uint64_t last = 0;
    PGresult *r;
    int rc, n;

    put64(p[0], from);
    put64(p[1], bound);
    put64(p[2], page_limit(max, done));
    rc = run_stmt(s, st, vals, lens, &r);
    if (rc)
      return rc;
    n = PQntuples(r);
    if (n == 0) {
      PQclear(r);
      return 0;
    }
    if (bound == INT64_MAX)
      bound = col64(r, 0, 11);
    rc = deliver_rows(r, fn, ctx, col, &last);
    PQclear(r);
    if (rc)
      return rc;
    done += (uint64_t)n;
    if ((max && done >= max) || last >= bound ||
        (uint64_t)n < page_limit(max, done - (uint64_t)n))
      return 0;
    from = last + 1;
  }
}

static int pg_read_all(es_store *bs, uint64_t from, uint32_t max,
                       es_event_fn fn, void *ctx) {
  const char *vals[3];
  int lens[3];

  return read_pages((pg_store *)bs, ST_READ_ALL, vals, lens, 0, 0, from, max,
                    fn, ctx);
}

static int pg_read_stream(es_store *bs, const char *type, const char *key,
                          uint64_t from, uint32_t max, es_event_fn fn,
                          void *ctx) {
  const char *vals[5] = {type, key};
  int lens[5] = {(int)strlen(type), (int)strlen(key)};

  return read_pages((pg_store *)bs, ST_READ_STREAM, vals, lens, 2, 3, from, max,
                    fn, ctx);
}

/* Runs statement `st`, whose result is a row of one number or no row:
 * `*out` is the number, 0 for no row. Returns 0 or run_stmt()'s error. */
static int stmt_u64(pg_store *s, int st, const char *const *values,
                    const int *lengths, uint64_t *out) {
  PGresult *r;
  int rc = run_stmt(s, st, values, lengths, &r);

  if (rc)
    return rc;
  *out = PQntuples(r) == 1 ? col64(r, 0, 0) : 0;
  PQclear(r);
  return 0;
}

/* Runs statement `st`, whose result is one row or none: `*out` is the
 * row's result (the caller clears it). Returns 0, ES_ENOTFOUND for no
 * row, or run_stmt()'s error. */
static int stmt_row(pg_store *s, int st, const char *const *values,
                    const int *lengths, PGresult **out) {
  int rc = run_stmt(s, st, values, lengths, out);

  if (rc)
    return rc;
  if (PQntuples(*out) != 1) {
    PQclear(*out);
    *out = NULL;
    return ES_ENOTFOUND;
  }
  return 0;
}

static int pg_head(es_store *bs, uint64_t *position) {
  return stmt_u64((pg_store *)bs, ST_HEAD, NULL, NULL, position);
}

static int pg_stream_version(es_store *bs, const char *type, const char *key,
                             uint64_t *version) {
  const char *vals[2] = {type, key};
  int lens[2] = {(int)strlen(type), (int)strlen(key)};

  return stmt_u64((pg_store *)bs, ST_VERSION, vals, lens, version);
}

/* ---- waiting ------------------------------------------------------------- */

/* A connection that LISTENs on the store's channel, or NULL. */
static PGconn *listen_open(pg_store *s) {
  PGconn *c = conn_connect(s);
  char *q, sql[128];

  if (!c)
    return NULL;
  q = PQescapeIdentifier(c, s->channel, strlen(s->channel));
  if (!q)
    goto fail;
  snprintf(sql, sizeof sql, "LISTEN %s", q);
  PQfreemem(q);
  if (!command_ok(PQexec(c, sql)))
    goto fail;
  return c;

fail:
  PQfinish(c);
  return NULL;
}

static void wake_all(pg_store *s, int listening) {
  pthread_mutex_lock(&s->mu);
  s->wakes++;
  if (listening)
    s->listening = 1;
  pthread_cond_broadcast(&s->grew);
  pthread_mutex_unlock(&s->mu);
}

/* The listener thread: keeps a LISTEN connection (reconnecting with a
 * backoff when it breaks) and wakes waiters on every notification, and
 * after every reconnect, since notifications sent meanwhile are lost. */
static void *listener_main(void *arg) {
  pg_store *s = arg;
  PGconn *c = NULL;
  int backoff_ms = 20;

  for (;;) {
    struct pollfd pf[2];
    int got = 0;

    if (!c) {
      c = listen_open(s);
      if (c) {
        backoff_ms = 20;
        wake_all(s, 1);
      }
    }
    pf[0].fd = s->stop_pipe[0];
    pf[0].events = POLLIN;
    pf[1].fd = c ? PQsocket(c) : -1;
    pf[1].events = POLLIN;
    if (poll(pf, 2, c ? -1 : backoff_ms) < 0 && errno != EINTR)
      break;
    if (pf[0].revents)
      break;
    if (!c) {
      if (backoff_ms < 1000)
        backoff_ms *= 2;
      continue;
    }
    if (!pf[1].revents)
      continue;
    if (!PQconsumeInput(c)) {
      PQfinish(c);
      c = NULL;
      continue;
    }
    for (PGnotify *n; (n = PQnotifies(c)) != NULL; got = 1)
      PQfreemem(n);
    if (got)
      wake_all(s, 0);
  }
  PQfinish(c);
  return NULL;
}

/* Starts the listener once and waits until it listens (or ES_EIO when the
 * server cannot be reached within the reconnect budget). */
static int listener_start(pg_store *s) {
  int64_t start = mono_us();
  int rc = 0;

  pthread_mutex_lock(&s->mu);
  if (!s->listener) {
    if (pipe(s->stop_pipe) != 0) {
      pthread_mutex_unlock(&s->mu);
      return ES_EIO;
    }
    if (pthread_create(&s->listener_thread, NULL, listener_main, s) != 0) {
      close(s->stop_pipe[0]);
      close(s->stop_pipe[1]);
      pthread_mutex_unlock(&s->mu);
      return ES_ENOMEM;
    }
    s->listener = 1;
  }
  while (!s->listening && rc == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 50 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&s->grew, &s->mu, &ts);
    if (!s->listening && mono_us() - start > PG_RECONNECT_BUDGET_US)
      rc = ES_EIO;
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static int pg_wait(es_store *bs, uint64_t after, int64_t timeout_us,
                   uint64_t *head) {
  pg_store *s = (pg_store *)bs;
  int64_t deadline = timeout_us < 0 ? INT64_MAX : mono_us() + timeout_us;
  uint64_t intr, seen;
  int rc;

  pthread_mutex_lock(&s->mu);
  intr = s->interrupts;
  pthread_mutex_unlock(&s->mu);
  *head = 0;
  if (timeout_us != 0 && (rc = listener_start(s)) != 0)
    return rc;
  for (;;) {
    uint64_t h;
    pthread_mutex_lock(&s->mu);
    seen = s->wakes;
    pthread_mutex_unlock(&s->mu);
    rc = pg_head(bs, &h);
    if (rc)
      return rc;
    *head = h;
    if (h > after)
      return 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
      int64_t now = mono_us();
      struct timespec ts;
      if (s->interrupts != intr) {
        pthread_mutex_unlock(&s->mu);
        return ES_EINTERRUPTED;
      }
      if (s->wakes != seen)
        break;
      if (now >= deadline) {
        pthread_mutex_unlock(&s->mu);
        return ES_ETIMEDOUT;
      }
      clock_gettime(CLOCK_MONOTONIC, &ts);
      {
        int64_t left = deadline - now;
        if (left > 3600ll * 1000000)
          left = 3600ll * 1000000;
        ts.tv_sec += (time_t)(left / 1000000);
        ts.tv_nsec += (long)(left % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000) {
          ts.tv_sec++;
          ts.tv_nsec -= 1000000000;
        }
      }
      pthread_cond_timedwait(&s->grew, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
  }
}

static void pg_interrupt(es_store *bs) {
  pg_store *s = (pg_store *)bs;

  pthread_mutex_lock(&s->mu);
  s->interrupts++;
  pthread_cond_broadcast(&s->grew);
  pthread_mutex_unlock(&s->mu);
}

/* ---- snapshots and checkpoints ------------------------------------------- */

static int pg_snapshot_put(es_store *bs, const char *type, const char *key,
                           const es_snapshot_info *info, const void *data,
                           size_t len) {
  pg_store *s = (pg_store *)bs;
  uint8_t v[8], l[8];
  const char *vals[5] = {type, key, (char *)v, (char *)l,
                         data ? (const char *)data : ""};
  int lens[5] = {(int)strlen(type), (int)strlen(key), 8, 8, (int)len};
  PGresult *r;
  int rc;

  if (s->flags & ES_STORE_READONLY)
    return ES_EREADONLY;
  put64(v, info->version);
  put64(l, info->layout);
  rc = run_stmt(s, ST_SNAP_PUT, vals, lens, &r);
  if (rc == 0)
    PQclear(r);
  return rc;
}

static int pg_snapshot_get(es_store *bs, const char *type, const char *key,
                           es_snapshot_info *info, es_buf *data) {
  const char *vals[2] = {type, key};
  int lens[2] = {(int)strlen(type), (int)strlen(key)};
  PGresult *r;
  int rc = stmt_row((pg_store *)bs, ST_SNAP_GET, vals, lens, &r);

  if (rc)
    return rc;
  es_buf_append(data, PQgetvalue(r, 0, 2), (size_t)PQgetlength(r, 0, 2));
  rc = data->err;
  if (rc == 0) {
    info->version = col64(r, 0, 0);
    info->layout = col64(r, 0, 1);
  }
  PQclear(r);
  return rc;
}

static int pg_checkpoint_put(es_store *bs, const char *name, uint64_t position,
                             const void *data, size_t len) {
  pg_store *s = (pg_store *)bs;
  uint8_t p[8];
  const char *vals[3] = {name, (char *)p, data ? (const char *)data : ""};
  int lens[3] = {(int)strlen(name), 8, (int)len};
  PGresult *r;
  int rc;

  if (s->flags & ES_STORE_READONLY)
    return ES_EREADONLY;
  put64(p, position);
  rc = run_stmt(s, ST_CP_PUT, vals, lens, &r);
  if (rc == 0)
    PQclear(r);
  return rc;
}

static int pg_checkpoint_get(es_store *bs, const char *name, uint64_t *position,
                             es_buf *data) {
  const char *vals[1] = {name};
  int lens[1] = {(int)strlen(name)};
  PGresult *r;
  int rc = stmt_row((pg_store *)bs, ST_CP_GET, vals, lens, &r);

  if (rc)
    return rc;
  if (data) {
    es_buf_append(data, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
    rc = data->err;
  }
  if (rc == 0)
    *position = col64(r, 0, 0);
  PQclear(r);
  return rc;
}

/* ---- a projection's transaction (store_pg_tx.h) -------------------------
 */

static pg_store *as_pg(es_store *bs) {
  return bs && bs->ops && bs->ops->checkpoint_put == pg_checkpoint_put
             ? (pg_store *)bs
             : NULL;
}

int es__pg_tx_begin(es_store *bs, void **conn) {
  pg_store *s = as_pg(bs);
  PGconn *c;
  PGresult *r;
  int rc = 0;

  *conn = NULL;
  if (!s)
    return ES_EINVAL;
  if (s->flags & ES_STORE_READONLY)
    return ES_EREADONLY;
  if (!(c = pool_take(s, mono_us())))
    return ES_EIO;
  r = PQexec(c, "BEGIN");
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    rc = map_error(c, r);
  PQclear(r);
  if (rc) {
    PQfinish(c);
    return rc;
  }
  *conn = c;
  return 0;
}

bool es__pg_store_is(es_store *bs) { return as_pg(bs) != NULL; }

/* The outcome of a checkpoint move: one row, or none when the checkpoint
 * was not at the position the move starts from. */
static int moved(PGresult *r) {
  return strcmp(PQcmdTuples(r), "1") == 0 ? 0 : ES_ECONFLICT;
}

int es__pg_tx_commit(es_store *bs, void *conn, const char *name, uint64_t from,
                     uint64_t to) {
  pg_store *s = as_pg(bs);
  PGconn *c = conn;
  uint8_t f[8], t[8];
  const char *vals[3] = {name, (char *)f, (char *)t};
  int lens[3] = {(int)strlen(name), 8, 8};
  int formats[3] = {1, 1, 1};
  char st[8];
  PGresult *r;
  int rc = 0;

  if (!s) {
    PQfinish(c);
    return ES_EINVAL;
  }
  if (s->flags & ES_STORE_READONLY) {
    es__pg_tx_rollback(bs, c);
    return ES_EREADONLY;
  }
  put64(f, from);
  put64(t, to);
  if (!c) {
    if ((rc = run_stmt(s, ST_CP_MOVE, vals, lens, &r)) == 0) {
      rc = moved(r);
      PQclear(r);
    }
    return rc;
  }
  snprintf(st, sizeof st, "s%d", ST_CP_MOVE);
  r = PQexecPrepared(c, st, 3, vals, lens, formats, 1);
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    rc = map_error(c, r);
  else
    rc = moved(r);
  PQclear(r);
  if (rc == 0) {
    int pid = PQbackendPID(c);
    r = PQexec(c, "COMMIT");
    /* COMMIT of a transaction that failed earlier reports ROLLBACK */
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      rc = map_error(c, r);
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
      rc = ES_EIO;
    PQclear(r);
    /* The connection broke with COMMIT in flight: the server may still
     * finish it. The caller re-reads the checkpoint to learn what
     * committed, so wait for the server process to end first. */
    if (rc && PQstatus(c) != CONNECTION_OK && pid != 0)
      (void)backend_gone(s, pid, mono_us());
  }
  if (rc) {
    es__pg_tx_rollback(bs, c);
    return rc;
  }
  pool_give(s, c);
  return 0;
}

void es__pg_tx_rollback(es_store *bs, void *conn) {
  pg_store *s = as_pg(bs);
  PGconn *c = conn;

  if (!c)
    return;
  if (s && PQstatus(c) == CONNECTION_OK &&
      PQtransactionStatus(c) != PQTRANS_IDLE)
    PQclear(PQexec(c, "ROLLBACK"));
  if (s)
    pool_give(s, c); /* closes it unless it is idle and healthy */
  else
    PQfinish(c);
}

/* ---- the command index ----------------------------------------------------
 */

static int pg_command_find(es_store *bs, const es_uuid *id,
                           es_command_record *out) {
  pg_store *s = (pg_store *)bs;
  const char *vals[1] = {(const char *)id->bytes};
  int lens[1] = {16};
  int64_t ret = s->base.opt.command_retention_us;
  PGresult *r;
  int rc = run_stmt(s, ST_CMD_FIND, vals, lens, &r);

  if (rc)
    return rc;
  rc = ES_ENOTFOUND;
  if (PQntuples(r) == 1) {
    es_timestamp at = (es_timestamp)col64(r, 0, 2) + PG_EPOCH_US;
    if (ret < 0 || es__store_now(bs) - at <= ret) {
      out->first_position = col64(r, 0, 0);
      out->last_position = col64(r, 0, 1);
      out->timestamp = at;
      rc = 0;
    }
  }
  PQclear(r);
  return rc;
}

/* ---- leases -------------------------------------------------------------- */

/* A lease: a session advisory lock on a connection of its own, so that it
 * lives exactly as long as that session (the server releases it when the
 * holder's process or connection dies). */
typedef struct pg_lease {
  es_lease base;
  PGconn *c;
} pg_lease;

/* Unlocks before closing: the server ends a closed session's backend (and
 * so frees its locks) some time after the socket closes, and a lease taken
 * again right after release must not find it still held. If the unlock
 * fails the session's end still frees the lock. */
static void pg_lease_release(es_lease *bl) {
  pg_lease *l = (pg_lease *)bl;
  PQclear(PQexec(l->c, "SELECT pg_advisory_unlock_all()"));
  PQfinish(l->c);
  es__free(l);
}

static int pg_lease_check(es_lease *bl) {
  pg_lease *l = (pg_lease *)bl;
  PGresult *r = PQexec(l->c, "SELECT 1");
  int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : ES_EIO;
  PQclear(r);
  return rc;
}

static int pg_lease_try(es_store *bs, const char *name, es_lease **out) {
  pg_store *s = (pg_store *)bs;
  pg_lease *l = es__calloc(1, sizeof *l);
  size_t n = strlen(s->schema) + strlen(name) + 16;
  char *key = es__malloc(n);
  const char *vals[1] = {key};
  PGresult *r = NULL;
  int rc = ES_ENOMEM;

  if (!l || !key)
    goto fail;
  snprintf(key, n, "esgen.lease.%s.%s", s->schema, name);
  l->base.check = pg_lease_check;
  l->base.release = pg_lease_release;
  l->c = PQconnectdb(s->conninfo);
  rc = ES_EIO;
  if (PQstatus(l->c) != CONNECTION_OK)
    goto fail;
  PQsetNoticeProcessor(l->c, quiet_notice, NULL);
  r = PQexecParams(l->c, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                   1, NULL, vals, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    rc = map_error(l->c, r);
    goto fail;
  }
  if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
    rc = ES_ELOCKED;
    goto fail;
  }
  PQclear(r);
  es__free(key);
  *out = &l->base;
  return 0;

fail:
  PQclear(r);
  es__free(key);
  if (l)
    PQfinish(l->c);
  es__free(l);
  return rc;
}

/* ---- open and close ------------------------------------------------------ */

static void pg_close(es_store *bs) {
  pg_store *s = (pg_store *)bs;

  if (s->listener) {
    ssize_t w = write(s->stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(s->listener_thread, NULL);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
  }
  PQfinish(s->writer);
  for (int i = 0; i < s->n_idle; i++)
    PQfinish(s->idle[i]);
  for (int i = 0; i < ST_COUNT; i++)
    es__free(s->sql[i]);
  es__free(s->conninfo);
  es__free(s->schema);
  es__free(s->channel);
  pthread_cond_destroy(&s->fill);
  pthread_cond_destroy(&s->grew);
  pthread_cond_destroy(&s->turn);
  pthread_mutex_destroy(&s->mu);
  es__free(s);
}

static const es_store_ops pg_ops = {
    "postgres",        pg_close,        pg_append,       pg_read_stream,
    pg_read_all,       pg_wait,         pg_interrupt,    pg_head,
    pg_stream_version, pg_snapshot_put, pg_snapshot_get, pg_checkpoint_put,
    pg_checkpoint_get, pg_command_find, pg_lease_try,
};

/* Fills the open report's message (when there is a report). */
static int open_report(const es_store_options *opt, int rc, const char *what,
                       const char *detail) {
  if (opt && opt->report) {
    size_t n;
    snprintf(opt->report->message, sizeof opt->report->message, "%s%s%s", what,
             detail && *detail ? ": " : "", detail ? detail : "");
    n = strlen(opt->report->message);
    while (n && opt->report->message[n - 1] == '\n')
      opt->report->message[--n] = '\0';
  }
  return rc;
}

/* Runs `sql` (with "@S" replaced); 0 or the failed result's code with the
 * server's message in the report. */
static int exec_ddl(PGconn *c, const char *sql, const char *schema_q,
                    const es_store_options *opt) {
  char *text = with_schema(sql, schema_q);
  PGresult *r;
  int rc = 0;

  if (!text)
    return ES_ENOMEM;
  r = PQexec(c, text);
  es__free(text);
  if (PQresultStatus(r) != PGRES_COMMAND_OK &&
      PQresultStatus(r) != PGRES_TUPLES_OK)
    rc = open_report(opt, map_error(c, r), "schema setup failed",
                     PQresultErrorMessage(r));
  PQclear(r);
  return rc;
}

/* Creates or migrates the schema's tables under an advisory lock; a
 * read-only open only checks their version. */
static int migrate(pg_store *s, PGconn *c, const char *q,
                   const es_store_options *opt) {
  char key[96];
  const char *vals[1] = {key};
  PGresult *r;
  int rc, version = 0;

  snprintf(key, sizeof key, "esgen.migrate.%s", s->schema);
  if (!(s->flags & ES_STORE_READONLY)) {
    r = PQexecParams(c, "SELECT pg_advisory_lock(hashtextextended($1, 0))", 1,
                     NULL, vals, NULL, NULL, 0);
    rc = PQresultStatus(r) == PGRES_TUPLES_OK
             ? 0
             : open_report(opt, map_error(c, r), "migration lock failed",
                           PQresultErrorMessage(r));
    PQclear(r);
    if (rc)
      return rc;
    rc = exec_ddl(c,
                  "SET client_min_messages = warning;"
                  "CREATE SCHEMA IF NOT EXISTS @S;"
                  "CREATE TABLE IF NOT EXISTS @S.ddl_version ("
                  " id integer PRIMARY KEY CHECK (id = 1),"
                  " version integer NOT NULL);"
                  "INSERT INTO @S.ddl_version VALUES (1, 0)"
                  " ON CONFLICT (id) DO NOTHING;",
                  q, opt);
    if (rc)
      goto unlock;
  }
  {
    char *sql = with_schema("SELECT version FROM @S.ddl_version", q);
    if (!sql) {
      rc = ES_ENOMEM;
      goto unlock;
    }
    r = PQexec(c, sql);
    es__free(sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
      rc = open_report(opt, map_error(c, r), "no esgen tables in the schema",
                       PQresultErrorMessage(r));
      PQclear(r);
      goto unlock;
    }
    version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  if (version > PG_DDL_VERSION) {
    char msg[96];
    snprintf(msg, sizeof msg,
             "the tables are at version %d, this libes "
             "knows up to %d",
             version, PG_DDL_VERSION);
    rc = open_report(opt, ES_EVERSION, "newer schema", msg);
    goto unlock;
  }
  if (version < PG_DDL_VERSION && (s->flags & ES_STORE_READONLY)) {
    rc = open_report(opt, ES_EVERSION, "old schema",
                     "a read-only open cannot migrate the tables");
    goto unlock;
  }
  for (; version < PG_DDL_VERSION; version++) {
    char bump[96];
    snprintf(bump, sizeof bump, "UPDATE @S.ddl_version SET version = %d;",
             version + 1);
    if ((rc = exec_ddl(c, "BEGIN", q, opt)) != 0 ||
        (rc = exec_ddl(c, ddl_steps[version], q, opt)) != 0 ||
        (rc = exec_ddl(c, bump, q, opt)) != 0 ||
        (rc = exec_ddl(c, "COMMIT", q, opt)) != 0) {
      PGresult *rb = PQexec(c, "ROLLBACK");
      PQclear(rb);
      goto unlock;
    }
  }
  rc = 0;

unlock:
  if (!(s->flags & ES_STORE_READONLY)) {
    r = PQexecParams(c, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", 1,
                     NULL, vals, NULL, NULL, 0);
    PQclear(r);
  }
  return rc;
}

int es_store_open_postgres(es_store **out, const char *conninfo,
                           const es_store_options *opt, unsigned flags) {
  pg_store *s;
  PGconn *c = NULL;
  char *q = NULL;
  int rc = ES_ENOMEM, n_sync = 0;
  const char *schema = opt && opt->pg_schema ? opt->pg_schema : "esgen";

  if (!out)
    return ES_EINVAL;
  *out = NULL;
  if (!conninfo || (flags & ~ES_STORE_READONLY))
    return ES_EINVAL;
  if (!schema_ok(schema))
    return open_report(opt, ES_EINVAL, "bad schema name",
                       "1 to 48 letters, digits or '_', not starting with a "
                       "digit");
  s = es__calloc(1, sizeof *s);
  if (!s)
    return ES_ENOMEM;
  s->base.ops = &pg_ops;
  if (opt)
    s->base.opt = *opt;
  es__store_defaults(&s->base.opt);
  s->base.opt.pg_schema = NULL; /* the caller's string need not outlive us */
  s->flags = flags;
  s->queue_tail = &s->queue;
  es__rng_seed(s->rng, s);
  if (pthread_mutex_init(&s->mu, NULL) != 0)
    goto fail_free;
  n_sync++;
  if (pthread_cond_init(&s->turn, NULL) != 0)
    goto fail_free;
  n_sync++;
  if (es__cond_init_monotonic(&s->grew) != 0)
    goto fail_free;
  n_sync++;
  if (es__cond_init_monotonic(&s->fill) != 0)
    goto fail_free;
  n_sync++;
  s->conninfo = es__strdup(conninfo);
  s->schema = es__strdup(schema);
  s->channel = es__malloc(strlen(schema) + 8);
  if (!s->conninfo || !s->schema || !s->channel)
    goto fail;
  sprintf(s->channel, "%s_events", schema);

  c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    rc = open_report(opt, ES_EIO, "cannot connect", PQerrorMessage(c));
    goto fail;
  }
  PQsetNoticeProcessor(c, quiet_notice, NULL);
  q = PQescapeIdentifier(c, schema, strlen(schema));
  if (!q)
    goto fail;
  for (int i = 0; i < ST_COUNT; i++)
    if (!(s->sql[i] = with_schema(stmt_defs[i].sql, q)))
      goto fail;
  rc = migrate(s, c, q, opt);
  /* A connection lost during the migration (a server restart): connect
   * again and repeat it, within the reconnect budget; every step is
   * idempotent and its own transaction. */
  for (int64_t start = mono_us(); rc && PQstatus(c) == CONNECTION_BAD &&
                                  mono_us() - start < PG_RECONNECT_BUDGET_US;) {
    sleep_us(50000);
    PQfinish(c);
    c = PQconnectdb(conninfo);
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    if (PQstatus(c) == CONNECTION_OK)
      rc = migrate(s, c, q, opt);
  }
  if (rc)
    goto fail;
  if (opt && opt->report)
    opt->report->message[0] = '\0';
  PQfreemem(q);
  PQfinish(c);
  *out = &s->base;
  return 0;

fail:
  if (q)
    PQfreemem(q);
  PQfinish(c);
  for (int i = 0; i < ST_COUNT; i++)
    es__free(s->sql[i]);
  es__free(s->conninfo);
  es__free(s->schema);
  es__free(s->channel);
fail_free:
  if (n_sync > 3)
    pthread_cond_destroy(&s->fill);
  if (n_sync > 2)
    pthread_cond_destroy(&s->grew);
  if (n_sync > 1)
    pthread_cond_destroy(&s->turn);
  if (n_sync > 0)
    pthread_mutex_destroy(&s->mu);
  es__free(s);
  return rc;
}
