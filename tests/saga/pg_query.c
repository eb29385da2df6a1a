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
