/*
 * pg_query.h - the parent's view of a PostgreSQL store, through SQL, for
 * the tests that kill the processes running a saga or a projection.
 */
#ifndef PG_QUERY_H
#define PG_QUERY_H

#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

/* The first column of the first row of `q` on `db` as a number; -1 when
 * there is none. A failed query ends the test (exit 1) with its error. */
long long pg_query_num(PGconn *db, const char *q);

/* How many events of type `type_id` the store in schema `schema` holds. */
long long pg_query_count_type(PGconn *db, const char *schema, uint64_t type_id);

/* The pid a worker holding the advisory lease `lease_key` gave as its
 * application_name ("w<pid>"), or 0 when no such worker holds it. */
pid_t pg_query_lease_holder(PGconn *db, const char *lease_key);

#endif
