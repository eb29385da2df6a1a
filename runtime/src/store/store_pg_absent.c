/*
 * store_pg_absent.c - es_store_open_postgres() in a libes built without
 * libpq (meson -Dpostgres=disabled, or libpq-dev missing).
 */
#include <stdio.h>

#include "es/es_error.h"
#include "es/es_store.h"
#include "store/store_pg_tx.h"

int es_store_open_postgres(es_store **out, const char *conninfo,
                           const es_store_options *opt, unsigned flags) {
  (void)conninfo;
  (void)flags;
  if (out)
    *out = NULL;
  if (opt && opt->report)
    snprintf(opt->report->message, sizeof opt->report->message,
             "this libes was built without PostgreSQL support "
             "(libpq-dev; meson -Dpostgres=enabled)");
  return ES_EINVAL;
}

/* Without libpq no store is a PostgreSQL store. */
int es__pg_tx_begin(es_store *store, void **conn) {
  (void)store;
  *conn = NULL;
  return ES_EINVAL;
}

bool es__pg_store_is(es_store *store) {
  (void)store;
  return false;
}

int es__pg_tx_commit(es_store *store, void *conn, const char *name,
                     uint64_t from, uint64_t to) {
  (void)store;
  (void)conn;
  (void)name;
  (void)from;
  (void)to;
  return ES_EINVAL;
}

void es__pg_tx_rollback(es_store *store, void *conn) {
  (void)store;
  (void)conn;
}
