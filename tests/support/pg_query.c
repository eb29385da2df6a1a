/*
 * pg_query.c - numbers read from a PostgreSQL store by SQL (pg_query.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "pg_query.h"

long long pg_query_num(PGconn *db, const char *q) {
  PGresult *r = PQexec(db, q);
  long long v = -1;
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "%s: %s", q, PQerrorMessage(db));
    exit(1);
  }
  if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
    v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

long long pg_query_count_type(PGconn *db, const char *schema,
                              uint64_t type_id) {
  char q[200];
  snprintf(q, sizeof q,
           "SELECT count(*) FROM %s.events WHERE type_id = %" PRId64, schema,
           (int64_t)type_id);
  return pg_query_num(db, q);
}

pid_t pg_query_lease_holder(PGconn *db, const char *lease_key) {
  char q[512];
  long long pid;
  snprintf(q, sizeof q,
           "SELECT substr(a.application_name, 2)::bigint FROM pg_locks l JOIN "
           "pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = "
           "'advisory' AND l.granted AND a.application_name LIKE 'w%%' AND "
           "((l.classid::bigint << 32) | l.objid::bigint) = "
           "hashtextextended('%s', 0)",
           lease_key);
  pid = pg_query_num(db, q);
  return pid > 0 ? (pid_t)pid : 0;
}
