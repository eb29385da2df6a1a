/*
 * balances_pg.h - the Balances projection writing a PostgreSQL table,
 * exactly once: each batch of events and the projection's checkpoint
 * commit in one transaction (es_projection_pg.h).
 *
 *   balances (account text PRIMARY KEY, balance bigint, events bigint)
 *
 * `events` counts the events applied to the row: it equals the number of
 * the account's Opened, Deposited and Withdrawn events exactly when each
 * was applied once.
 */
#ifndef BANK_BALANCES_PG_H
#define BANK_BALANCES_PG_H

#include <es/es_projection_pg.h>

#include "bank_app.h"

typedef struct bank_balances_pg {
  bank_balances_view view; /* the projection's ctx; writes through below */
  es_projection *runner;
} bank_balances_pg;

/* Creates the balances table in `c`'s database if it is missing.
 * Returns 0 or ES_EIO (the server's words on stderr). */
int bank_balances_pg_create(PGconn *c);

/* Opens the Balances projection on PostgreSQL store `store` writing the
 * table (`opt`: es_projection_open_pg()'s; its ctx is set here). Run it
 * with es_projection_run_until_caught_up(b->runner, ...) or
 * es_projection_start(b->runner); close it with
 * es_projection_close(b->runner). Returns es_projection_open_pg()'s. */
int bank_balances_pg_open(bank_balances_pg *b, es_store *store,
                          const es_projection_options *opt);

#endif
