/*
 * pg_query.h - the parent's view of a PostgreSQL store, through SQL, for
 * the tests that kill the processes running a saga.
 */
#ifndef PG_QUERY_H
#define PG_QUERY_H

#include <stdint.h>

#include <libpq-fe.h>

/* The first column of the first row of `q` on `db` as a number; -1 when
 * there is none. A failed query ends the test (exit 1) with its error. */
long long pg_query_num(PGconn *db, const char *q);

/* How many events of type `type_id` the store in schema `schema` holds. */
long long pg_query_count_type(PGconn *db, const char *schema, uint64_t type_id);

#endif
