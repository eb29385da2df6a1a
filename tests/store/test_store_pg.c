/*
 * test_store_pg.c - the store interface on PostgreSQL: the shared cases of
 * store_cases.h, each on a fresh schema of the throwaway server that
 * tests/support/with-postgres starts (ES_PG_CONNINFO).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "es/es_obs.h"
#include "es/es_store.h"

#define CASE_KIND "postgres"

#define MAX_OPEN 8

/* The schemas this test process made, dropped as their stores close. */
static struct {
  es_store *store;
  char schema[32];
} opened[MAX_OPEN];

static const char *conninfo(void) {
  const char *c = getenv("ES_PG_CONNINFO");
  if (!c) {
    fprintf(stderr, "ES_PG_CONNINFO is not set: run this test through "
                    "tests/support/with-postgres\n");
    abort();
  }
  return c;
}

static int case_open(es_store **out, const es_store_options *opt) {
  static int n;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char schema[32];
  int rc, slot = -1;

  if (opt)
    o = *opt;
  snprintf(schema, sizeof schema, "t%ld_%d", (long)getpid(), n++);
  o.pg_schema = schema;
  rc = es_store_open_postgres(out, conninfo(), &o, 0);
  if (rc == 0) {
    for (int i = 0; i < MAX_OPEN && slot < 0; i++)
      if (!opened[i].store)
        slot = i;
    if (slot < 0)
      abort();
    opened[slot].store = *out;
    snprintf(opened[slot].schema, sizeof opened[slot].schema, "%s", schema);
  }
  return rc;
}

static void case_close(es_store *s) {
  es_store_close(s);
  for (int i = 0; i < MAX_OPEN; i++)
    if (s && opened[i].store == s) {
      char sql[96];
      PGconn *c = PQconnectdb(conninfo());
      PGresult *r;
      snprintf(sql, sizeof sql,
               "SET client_min_messages = warning; DROP SCHEMA \"%s\" CASCADE",
               opened[i].schema);
      r = PQexec(c, sql);
      if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "drop schema: %s", PQerrorMessage(c));
        abort();
      }
      PQclear(r);
      PQfinish(c);
      opened[i].store = NULL;
    }
}

#include "store_cases.h"

/* The schema of `st`, a store case_open() made. */
static const char *schema_of(const es_store *st) {
  for (int i = 0; i < MAX_OPEN; i++)
    if (opened[i].store == st)
      return opened[i].schema;
  cr_assert_fail("the store was not made by case_open()");
  return NULL;
}

/* The case's store `s` opened a second time, standing for another process
 * sharing it (its own connection, the same schema). */
static es_store *open_other(void) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *other = NULL;
  o.pg_schema = schema_of(s);
  cr_assert_eq(es_store_open_postgres(&other, conninfo(), &o, 0), 0);
  return other;
}

/* ---- PostgreSQL only ------------------------------------------------------
 */

/* A reused event id is the appender's fault: that append fails with
 * ES_EINVAL and changes nothing; appends batched with it are not failed. */
typedef struct dup_worker {
  int id;
  int dups; /* appends reusing an id: each must fail */
  int ok;
} dup_worker;

static es_uuid fixed_id(void) {
  es_uuid u;
  memset(&u, 0x5a, sizeof u);
  return u;
}

static void *dup_work(void *arg) {
  dup_worker *w = arg;
  char key[16];
  snprintf(key, sizeof key, "k%d", w->id);
  for (int i = 0; i < 100; i++) {
    es_new_event e = ev("n");
    int rc;
    if (w->dups && i % 3 == 0)
      e.event_id = fixed_id(); /* already stored by the test */
    rc = es_store_append_one(s, "D", key, es_expect_any(), &e, 1, NULL);
    if (w->dups && i % 3 == 0) {
      T_CHECK(rc == ES_EINVAL);
    } else {
      T_CHECK(rc == 0);
      w->ok++;
    }
  }
  return NULL;
}

Test(store, a_reused_event_id_fails_only_its_own_append) {
  es_new_event e = ev("first");
  pthread_t th[8];
  dup_worker w[8];
  uint64_t total = 1;

  e.event_id = fixed_id();
  cr_assert_eq(
      es_store_append_one(s, "D", "orig", es_expect_any(), &e, 1, NULL), 0);
  cr_assert_eq(
      es_store_append_one(s, "D", "again", es_expect_any(), &e, 1, NULL),
      ES_EINVAL);
  cr_assert_eq(version_of("D", "again"), 0);
  for (int i = 0; i < 8; i++) {
    w[i] = (dup_worker){i, i == 0, 0};
    cr_assert_eq(pthread_create(&th[i], NULL, dup_work, &w[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    char key[16];
    pthread_join(th[i], NULL);
    snprintf(key, sizeof key, "k%d", i);
    cr_assert_eq(version_of("D", key), (uint64_t)w[i].ok);
    total += (uint64_t)w[i].ok;
  }
  cr_assert_eq(head(), total);
}

/* Opens racing on a fresh schema: exactly one creates the tables, every
 * one succeeds (the advisory lock orders the migrations). */
static void *open_racer(void *arg) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *t = NULL;
  int *rc = arg;
  char name[32];
  snprintf(name, sizeof name, "race%ld", (long)getpid());
  o.pg_schema = name;
  *rc = es_store_open_postgres(&t, conninfo(), &o, 0);
  es_store_close(t);
  return NULL;
}

Test(store, concurrent_first_opens_migrate_once) {
  pthread_t th[6];
  int rc[6];
  char sql[128];
  PGconn *c;
  PGresult *r;

  for (int i = 0; i < 6; i++)
    cr_assert_eq(pthread_create(&th[i], NULL, open_racer, &rc[i]), 0);
  for (int i = 0; i < 6; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(rc[i], 0, "open %d: %s", i, es_strerror(rc[i]));
  }
  c = PQconnectdb(conninfo());
  snprintf(sql, sizeof sql,
           "SET client_min_messages = warning; DROP SCHEMA race%ld CASCADE",
           (long)getpid());
  r = PQexec(c, sql);
  cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  PQfinish(c);
}

Test(store, bad_schema_names_and_an_unreachable_server) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  es_store *t = (es_store *)1;

  memset(&rep, 0, sizeof rep);
  o.report = &rep;
  o.pg_schema = "bad-name";
  cr_assert_eq(es_store_open_postgres(&t, conninfo(), &o, 0), ES_EINVAL);
  cr_assert_null(t);
  cr_assert(strstr(rep.message, "schema") != NULL);
  o.pg_schema = "9lives";
  cr_assert_eq(es_store_open_postgres(&t, conninfo(), &o, 0), ES_EINVAL);
  o.pg_schema = NULL;
  cr_assert_eq(es_store_open_postgres(&t, NULL, &o, 0), ES_EINVAL);
  cr_assert_eq(es_store_open_postgres(&t, conninfo(), &o, 0x80), ES_EINVAL);
  cr_assert_eq(es_store_open_postgres(&t,
                                      "host=/nonexistent-dir port=1 "
                                      "connect_timeout=2",
                                      &o, 0),
               ES_EIO);
  cr_assert(strstr(rep.message, "cannot connect") != NULL, "%s", rep.message);
}

/* A read-only open of the same schema sees the store and writes nothing. */
Test(store, a_read_only_open_reads_and_refuses_writes) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *ro = NULL;
  es_snapshot_info info = {1, 2};
  uint64_t h = 0;

  cr_assert_eq(append_n("A", "k", es_expect_any(), 3, NULL), 0);
  o.pg_schema = schema_of(s);
  cr_assert_eq(es_store_open_postgres(&ro, conninfo(), &o, ES_STORE_READONLY),
               0);
  cr_assert_eq(es_store_head(ro, &h), 0);
  cr_assert_eq(h, 3);
  cr_assert_eq(es_store_append_one(ro, "A", "k", es_expect_any(),
                                   &(es_new_event){0}, 1, NULL),
               ES_EREADONLY);
  cr_assert_eq(es_store_snapshot_put(ro, "A", "k", &info, "x", 1),
               ES_EREADONLY);
  cr_assert_eq(es_store_checkpoint_put(ro, "c", 1, NULL, 0), ES_EREADONLY);
  es_store_close(ro);
  o.pg_schema = "never_created";
  cr_assert_eq(es_store_open_postgres(&ro, conninfo(), &o, ES_STORE_READONLY),
               ES_EIO, "no tables to read");
  cr_assert_eq(head(), 3);
}

/* A batch is decided on the versions its appenders expect and written in
 * one round trip, the versions checked under the stream locks; a stream
 * another process moved meanwhile makes the store decide again on the
 * actual versions. Two opens of one schema stand for two processes. */
typedef struct stale_worker {
  es_store *store;
  int id;
  int stale; /* every third append expects an old version: must conflict */
  uint64_t version;
  int conflicts;
} stale_worker;

static void *stale_work(void *arg) {
  stale_worker *w = arg;
  char key[16];
  snprintf(key, sizeof key, "w%d", w->id);
  for (int i = 0; i < 60; i++) {
    es_new_event e = ev("s");
    int bad = w->stale && i % 3 == 2;
    es_append_stream g = {0};
    es_append_result r = {0};
    int rc;
    g.type = "S";
    g.key = key;
    g.expected = es_expect_exact(bad ? w->version - 1 : w->version);
    g.events = &e;
    g.n_events = 1;
    rc = es_store_append(w->store, &g, 1, &r);
    if (bad) {
      T_CHECK(rc == ES_ECONFLICT);
      T_CHECK(r.conflict == 0 && r.actual_version == w->version);
      w->conflicts++;
    } else {
      T_CHECK(rc == 0);
      T_CHECK(g.version == w->version + 1);
      w->version++;
    }
  }
  return NULL;
}

Test(store, an_append_decided_on_a_version_another_process_moved_conflicts) {
  es_store *other = NULL;
  es_new_event e = ev("e");
  es_append_stream g[2];
  es_append_result r;
  pthread_t th[8];
  stale_worker w[8];
  uint64_t v = 0;

  other = open_other();

  cr_assert_eq(append_n("A", "x", es_expect_no_stream(), 2, &v), 0);
  cr_assert_eq(v, 2);
  /* the other process moves A/x from 2 to 3 */
  cr_assert_eq(
      es_store_append_one(other, "A", "x", es_expect_exact(2), &e, 1, &v), 0);
  cr_assert_eq(v, 3);
  /* this one still believes 2 */
  memset(g, 0, sizeof g);
  memset(&r, 0, sizeof r);
  g[0].type = "A";
  g[0].key = "x";
  g[0].expected = es_expect_exact(2);
  g[0].events = &e;
  g[0].n_events = 1;
  cr_assert_eq(es_store_append(s, g, 1, &r), ES_ECONFLICT);
  cr_assert_eq(r.conflict, 0);
  cr_assert_eq(r.actual_version, 3);
  /* a new stream beside a stale one: neither is written */
  g[0].type = "A";
  g[0].key = "y";
  g[0].expected = es_expect_no_stream();
  g[1] = g[0];
  g[1].key = "x";
  g[1].expected = es_expect_exact(2);
  memset(&r, 0, sizeof r);
  cr_assert_eq(es_store_append(s, g, 2, &r), ES_ECONFLICT);
  cr_assert_eq(r.conflict, 1);
  cr_assert_eq(r.actual_version, 3);
  cr_assert_eq(version_of("A", "y"), 0);
  /* the actual version is accepted */
  g[1].expected = es_expect_exact(3);
  memset(&r, 0, sizeof r);
  cr_assert_eq(es_store_append(s, g, 2, &r), 0);
  cr_assert_eq(g[0].version, 1);
  cr_assert_eq(g[1].version, 4);
  cr_assert_eq(head(), 5);
  /* the other process names the same stream with no version to guess */
  cr_assert_eq(
      es_store_append_one(other, "A", "x", es_expect_exists(), &e, 1, &v), 0);
  cr_assert_eq(v, 5);

  /* Stale appends batched with innocent ones, both stores at once: only
   * the stale ones fail, with the actual version. */
  for (int i = 0; i < 8; i++) {
    w[i] = (stale_worker){i % 2 ? other : s, i, i < 2, 0, 0};
    cr_assert_eq(pthread_create(&th[i], NULL, stale_work, &w[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    char key[16];
    pthread_join(th[i], NULL);
    snprintf(key, sizeof key, "w%d", i);
    cr_assert_eq(version_of("S", key), w[i].version);
    cr_assert_eq(w[i].conflicts, i < 2 ? 20 : 0);
  }
  cr_assert_eq(head(), 6 + 6 * 60 + 2 * 40);
  es_store_close(other);
}

/* A lease has one holder among every process sharing the store (two opens
 * of one schema stand for two processes); a holder whose session ends
 * (its process died) has lost it, and another takes it. */
Test(store, a_lease_has_one_holder_and_is_free_when_its_session_ends) {
  es_store *other = NULL;
  es_lease *a = NULL, *b = NULL, *c = NULL;
  PGconn *db;
  PGresult *r;

  other = open_other();
  cr_assert_eq(es_store_lease_try(s, "saga:X", &a), 0);
  cr_assert_eq(es_store_lease_try(other, "saga:X", &b), ES_ELOCKED);
  cr_assert_null(b);
  cr_assert_eq(es_store_lease_try(s, "saga:X", &b), ES_ELOCKED,
               "one holder, even within a process");
  cr_assert_eq(es_store_lease_try(other, "saga:Y", &b), 0, "other names");
  es_store_lease_release(a);
  cr_assert_eq(es_store_lease_try(other, "saga:X", &a), 0);
  cr_assert_eq(es_store_lease_check(a), 0);

  /* the server ends the holder's session, as when its process dies */
  db = PQconnectdb(conninfo());
  r = PQexec(db, "SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE "
                 "l.locktype = 'advisory' AND l.granted AND l.pid <> "
                 "pg_backend_pid()");
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(db));
  cr_assert_eq(PQntuples(r), 2);
  PQclear(r);
  PQfinish(db);
  for (int i = 0; i < 1000 && es_store_lease_try(s, "saga:X", &c) != 0; i++)
    nanosleep(&(struct timespec){0, 10000000L},
              NULL); /* until the server ended it */
  cr_assert_not_null(c);
  cr_assert_eq(es_store_lease_check(a), ES_EIO);
  es_store_lease_release(a);
  es_store_lease_release(b);
  es_store_lease_release(c);
  es_store_close(other);
}

/* ---- an unknown COMMIT outcome -------------------------------------------
 *
 * The store's test hook (store_pg.c) runs once COMMIT has been sent; these
 * hooks break the writer's connection there, so the store cannot read the
 * outcome and must look the batch's first event id up. */
extern void (*es__pg_commit_sent)(PGconn *c);

static struct {
  PGconn *db; /* the test's own connection */
  char schema[32];
  es_uuid id;       /* the first event's id */
  int calls;        /* hook calls: one per attempt to commit */
  char outcome[32]; /* what the store logged it found */
} uc;

static void log_outcome(void *ctx, int level, const char *msg,
                        const es_log_field *f, size_t n) {
  (void)ctx;
  (void)level;
  if (strstr(msg, "commit outcome unknown") && n >= 1)
    snprintf(uc.outcome, sizeof uc.outcome, "%s", f[0].value);
}

static PGconn *test_db(void) {
  PGconn *c = PQconnectdb(conninfo());
  cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
  return c;
}

static void test_sql(const char *q) {
  PGresult *r = PQexec(uc.db, q);
  cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK ||
                PQresultStatus(r) == PGRES_TUPLES_OK,
            "%s: %s", q, PQerrorMessage(uc.db));
  PQclear(r);
}

static long long id_count(void) {
  char q[160], hex[33];
  PGresult *r;
  long long n;
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", uc.id.bytes[i]);
  snprintf(q, sizeof q,
           "SELECT count(*) FROM \"%s\".events WHERE event_id = '%s'::uuid",
           uc.schema, hex);
  r = PQexec(uc.db, q);
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(uc.db));
  n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

/* Swaps the connection's socket for one whose peer is closed: libpq
 * reads an end of file (the connection is lost, the answer with it) and
 * the server sees its client go. */
static void break_connection(PGconn *c) {
  int sv[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  close(sv[1]);
  cr_assert(dup2(sv[0], PQsocket(c)) >= 0);
  close(sv[0]);
}

/* The commit happened; its answer is lost. */
static void lose_answer(PGconn *c) {
  if (uc.calls++)
    return;
  while (id_count() == 0) /* until the commit is visible */
    nanosleep(&(struct timespec){0, 1000000L}, NULL);
  break_connection(c);
}

/* The commit cannot finish (a deferred trigger waits for the lock this
 * test holds); the server process is terminated while it waits. */
static void kill_at_commit(PGconn *c) {
  char q[96];
  if (uc.calls++)
    return;
  snprintf(q, sizeof q, "SELECT pg_terminate_backend(%d, 60000)",
           PQbackendPID(c));
  test_sql(q);
  test_sql("SELECT pg_advisory_unlock(4242)");
}

static void setup_unknown(void) {
  memset(&uc, 0, sizeof uc);
  snprintf(uc.schema, sizeof uc.schema, "%s", schema_of(s));
  uc.db = test_db();
  uc.id.bytes[0] = 0x5e;
  uc.id.bytes[15] = 0x01;
}

/* Appends one event, then (with `hook` set, holding the advisory lock
 * 4242 when `lock`) two with the first one's id fixed; checks that append
 * was acknowledged and stored exactly once, at positions 2 and 3. */
static void append_and_check(void (*hook)(PGconn *), int lock) {
  es_new_event e[2] = {ev("a"), ev("b")};
  es_append_result res;
  uint64_t v = 0;
  es_append_stream g = {"A", "k", es_expect_exact(0), e, 2, 0};
  es_obs obs = ES_OBS_INIT;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *w; /* the store that appends, with a logging hook */
  obs.log = log_outcome;
  o.obs = &obs;
  o.pg_schema = uc.schema;
  cr_assert_eq(es_store_open_postgres(&w, conninfo(), &o, 0), 0);
  cr_assert_eq(append_n("B", "first", es_expect_any(), 1, NULL), 0);
  e[0].event_id = uc.id;
  if (lock)
    test_sql("SELECT pg_advisory_lock(4242)");
  es__pg_commit_sent = hook;
  cr_assert_eq(es_store_append(w, &g, 1, &res), 0);
  es__pg_commit_sent = NULL;
  es_store_close(w);
  cr_assert_eq(g.version, 2);
  cr_assert_eq(res.first_position, 2);
  cr_assert_eq(res.last_position, 3);
  cr_assert_eq(id_count(), 1, "stored exactly once");
  cr_assert_eq(head(), 3);
  cr_assert_eq(es_store_stream_version(s, "A", "k", &v), 0);
  cr_assert_eq(v, 2);
  cr_assert_eq(append_n("A", "k", es_expect_exact(2), 1, NULL), 0);
}

Test(store, a_commit_whose_answer_is_lost_is_found_committed) {
  setup_unknown();
  append_and_check(lose_answer, 0);
  cr_assert_str_eq(uc.outcome, "committed");
  cr_assert_eq(uc.calls, 1, "resolved by the lookup, not run again: %d",
               uc.calls);
  PQfinish(uc.db);
}

Test(store, a_commit_killed_before_it_finished_is_found_absent_and_rerun) {
  setup_unknown();
  {
    char q[512];
    snprintf(q, sizeof q,
             "CREATE FUNCTION \"%s\".wait_4242() RETURNS trigger LANGUAGE "
             "plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(4242); "
             "RETURN NULL; END $$; CREATE CONSTRAINT TRIGGER wait_4242 AFTER "
             "INSERT ON \"%s\".events DEFERRABLE INITIALLY DEFERRED FOR EACH "
             "ROW EXECUTE FUNCTION \"%s\".wait_4242()",
             uc.schema, uc.schema, uc.schema);
    test_sql(q);
  }
  append_and_check(kill_at_commit, 1);
  cr_assert_str_eq(uc.outcome, "not committed");
  cr_assert_eq(uc.calls, 2, "looked up, found absent, run again: %d", uc.calls);
  PQfinish(uc.db);
}

/* ---- the previous DDL version ---------------------------------------------
 *
 * Version 1 of the schema had the tables only; version 2 adds
 * move_streams(), which moves the streams of a batch, and stream_moved(),
 * which it calls to raise SQLSTATE VC001 when one is elsewhere. A version-1
 * schema is made by creating a store and taking step 2 back by hand, exactly
 * what a database written by the previous libes holds. */

static PGresult *old_sql(PGconn *c, const char *fmt, const char *schema) {
  char q[512];
  snprintf(q, sizeof q, fmt, schema, schema, schema);
  return PQexec(c, q);
}

static void old_sql_ok(PGconn *c, const char *fmt, const char *schema) {
  PGresult *r = old_sql(c, fmt, schema);
  cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK ||
                PQresultStatus(r) == PGRES_TUPLES_OK,
            "%s: %s", fmt, PQerrorMessage(c));
  PQclear(r);
}

/* The schema's DDL version and how many of its two functions exist, as
 * "v/n". */
static void ddl_state(PGconn *c, const char *schema, char out[16]) {
  PGresult *r = old_sql(
      c,
      "SELECT (SELECT version FROM \"%s\".ddl_version), (SELECT count(*) "
      "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE "
      "n.nspname = '%s' AND p.proname IN ('move_streams', 'stream_moved'))",
      schema);
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
  snprintf(out, 16, "%s/%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
  PQclear(r);
}

typedef struct upgrader {
  const char *schema;
  es_store *store;
  int rc;
} upgrader;

static void *upgrade_open(void *arg) {
  upgrader *u = arg;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  o.pg_schema = u->schema;
  u->rc = es_store_open_postgres(&u->store, conninfo(), &o, 0);
  return NULL;
}

Test(store, a_store_at_the_previous_ddl_version_is_upgraded_on_open) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *t = NULL;
  es_new_event e = ev("e");
  es_append_stream g;
  es_append_result r;
  upgrader u[4];
  pthread_t th[4];
  char schema[32], state[16];
  uint64_t v = 0;
  PGconn *c = PQconnectdb(conninfo());
  PGresult *res;

  cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
  snprintf(schema, sizeof schema, "old%ld", (long)getpid());
  o.pg_schema = schema;
  cr_assert_eq(es_store_open_postgres(&t, conninfo(), &o, 0), 0);
  cr_assert_eq(
      es_store_append_one(t, "A", "x", es_expect_no_stream(), &e, 1, &v), 0);
  es_store_close(t);
  ddl_state(c, schema, state);
  cr_assert_str_eq(state, "2/2");

  /* back to version 1 */
  old_sql_ok(c,
             "DROP FUNCTION \"%s\".move_streams(text[], bytea[], bigint[], "
             "bigint[]), \"%s\".stream_moved(text, bytea, bigint, bigint); "
             "UPDATE \"%s\".ddl_version SET version = 1",
             schema);
  ddl_state(c, schema, state);
  cr_assert_str_eq(state, "1/0");
  /* a read-only open does not migrate */
  cr_assert_eq(es_store_open_postgres(&t, conninfo(), &o, ES_STORE_READONLY),
               ES_EVERSION);
  ddl_state(c, schema, state);
  cr_assert_str_eq(state, "1/0");

  /* processes opening at once: every one succeeds, one migrates */
  for (int i = 0; i < 4; i++) {
    u[i] = (upgrader){schema, NULL, -1};
    cr_assert_eq(pthread_create(&th[i], NULL, upgrade_open, &u[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(u[i].rc, 0, "open %d: %s", i, es_strerror(u[i].rc));
  }
  ddl_state(c, schema, state);
  cr_assert_str_eq(state, "2/2");

  /* the event written before the upgrade is there; a stream moved by one
   * process makes another's append on the old version conflict */
  cr_assert_eq(
      es_store_append_one(u[0].store, "A", "x", es_expect_exact(1), &e, 1, &v),
      0);
  cr_assert_eq(v, 2);
  memset(&g, 0, sizeof g);
  memset(&r, 0, sizeof r);
  g.type = "A";
  g.key = "x";
  g.expected = es_expect_exact(1);
  g.events = &e;
  g.n_events = 1;
  cr_assert_eq(es_store_append(u[1].store, &g, 1, &r), ES_ECONFLICT);
  cr_assert_eq(r.conflict, 0);
  cr_assert_eq(r.actual_version, 2);
  g.expected = es_expect_exact(2);
  cr_assert_eq(es_store_append(u[1].store, &g, 1, &r), 0);
  cr_assert_eq(g.version, 3);
  cr_assert_eq(es_store_head(u[2].store, &v), 0);
  cr_assert_eq(v, 3);
  cr_assert_eq(es_store_stream_version(u[3].store, "A", "x", &v), 0);
  cr_assert_eq(v, 3);

  /* the function itself: a stream elsewhere raises VC001 naming the
   * stream and both versions; one in place is moved */
  res = old_sql(c,
                "SELECT \"%s\".move_streams(ARRAY['A'], ARRAY['x'::bytea], "
                "ARRAY[1::bigint], ARRAY[2::bigint])",
                schema);
  cr_assert_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
  cr_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "VC001");
  cr_assert_str_eq(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
                   "stream 'A' key 'x' is at version 3, not 1");
  PQclear(res);
  old_sql_ok(c,
             "BEGIN; SELECT \"%s\".move_streams(ARRAY['A'], "
             "ARRAY['x'::bytea], ARRAY[3::bigint], ARRAY[5::bigint])",
             schema);
  res = old_sql(c,
                "SELECT version FROM \"%s\".streams WHERE stream_type = 'A' "
                "AND stream_key = 'x'",
                schema);
  cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK);
  cr_assert_str_eq(PQgetvalue(res, 0, 0), "5");
  PQclear(res);
  old_sql_ok(c, "ROLLBACK", schema);

  for (int i = 0; i < 4; i++)
    es_store_close(u[i].store);
  old_sql_ok(c, "SET client_min_messages = warning; DROP SCHEMA \"%s\" CASCADE",
             schema);
  PQfinish(c);
}
