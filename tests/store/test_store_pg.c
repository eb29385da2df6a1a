/*
 * test_store_pg.c - the store interface on PostgreSQL: the shared cases of
 * store_cases.h, each on a fresh schema of the throwaway server that
 * tests/support/with-postgres starts (ES_PG_CONNINFO).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libpq-fe.h>

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
