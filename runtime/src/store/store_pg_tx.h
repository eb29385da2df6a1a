/*
 * store_pg_tx.h - a transaction on a PostgreSQL store's connection that
 * also writes a checkpoint: what a projection whose read model lives in the
 * same database (es_pg.h) runs each batch in. The connection is a libpq
 * PGconn, passed as void * so that this header needs no libpq.
 */
#ifndef ES_STORE_PG_TX_H
#define ES_STORE_PG_TX_H

#include <stdbool.h>
#include <stdint.h>

#include "es/es_store.h"

/* Takes a connection of `store`'s pool and runs BEGIN on it.
 * Returns 0 with `*conn` set, ES_EINVAL (not a PostgreSQL store),
 * ES_EREADONLY, or ES_EIO (no connection, BEGIN failed). */
int es__pg_tx_begin(es_store *store, void **conn);

/* Whether `store` is a PostgreSQL store. */
bool es__pg_store_is(es_store *store);

/* Moves checkpoint `name` from position `from` to `to` (no data) in the
 * transaction of `conn` and commits it, then gives the connection back.
 * With `conn` NULL, moves the checkpoint alone. The move is a
 * compare-and-set: it happens only while the checkpoint is at `from` (or
 * absent), so a runner that lost its lease without knowing it
 * yet cannot commit over the work of the one that took it over.
 * Returns 0 when both committed, ES_ECONFLICT (the checkpoint was not at
 * `from`: another process moved it; nothing committed), or the store's
 * error (ES_EIO when the transaction had failed before, or the commit's
 * outcome is unknown). After an error the caller re-reads the checkpoint,
 * which tells what committed. `conn` is released either way. */
int es__pg_tx_commit(es_store *store, void *conn, const char *name,
                     uint64_t from, uint64_t to);

/* Rolls the transaction of `conn` back and releases the connection.
 * Accepts NULL. */
void es__pg_tx_rollback(es_store *store, void *conn);

#endif
