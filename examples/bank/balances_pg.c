/*
 * balances_pg.c - the Balances read model as a PostgreSQL table, written
 * by the projection's handlers on the connection of the batch's
 * transaction, which also carries the checkpoint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <es/es_error.h>

#include "balances_pg.h"

int bank_balances_pg_create(PGconn *c) {
  PGresult *r = PQexec(c, "CREATE TABLE IF NOT EXISTS balances ("
                          " account text PRIMARY KEY,"
                          " balance bigint NOT NULL,"
                          " events bigint NOT NULL)");
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : ES_EIO;

  if (rc)
    fprintf(stderr, "balances: %s", PQerrorMessage(c));
  PQclear(r);
  return rc;
}

/* The view's `write`: one statement in the batch's transaction. An
 * opening inserts the row (a second one would violate the key); a
 * deposit or withdrawal updates it, and fails while the account has no
 * row (the runner retries: the opening may be in a later batch of a
 * projection filtered differently, never here, where it comes first). */
static int write_balance(void *target, const char *key, int64_t amount,
                         bool opened) {
  bank_balances_pg *b = target;
  PGconn *c = es_projection_pg_conn(b->runner);
  char amt[24];
  const char *values[2] = {key, amt};
  PGresult *r;
  int rc;

  if (!c)
    return ES_EIO;
  snprintf(amt, sizeof amt, "%" PRId64, amount);
  r = PQexecParams(c,
                   opened ? "INSERT INTO balances (account, balance, events) "
                            "VALUES ($1, $2, 1)"
                          : "UPDATE balances SET balance = balance + $2, "
                            "events = events + 1 WHERE account = $1",
                   2, NULL, values, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    rc = ES_EIO;
  else
    rc = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : ES_ENOTFOUND;
  PQclear(r);
  return rc;
}

int bank_balances_pg_open(bank_balances_pg *b, es_store *store,
                          const es_projection_options *opt) {
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;

  if (opt)
    o = *opt;
  memset(&b->view, 0, sizeof b->view);
  b->view.write = write_balance;
  b->view.target = b;
  o.ctx = &b->view;
  return es_projection_open_pg(&b->runner, &bank_schema,
                               &bank_balances_projection, store, &o);
}
