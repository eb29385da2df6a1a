/*
 * projection_tx.h - the runner's side of es_projection_pg.h, free of
 * libpq types (projection_pg.c, built with libpq, wraps it).
 */
#ifndef ES_PROJECTION_TX_H
#define ES_PROJECTION_TX_H

#include "es/es_projection.h"

/* es_projection_open_pg(): es_projection_open() with a transaction per
 * batch on `store`'s PostgreSQL connection, the checkpoint written in it. */
int es__projection_open_tx(es_projection **out, const es_schema_desc *schema,
                           const es_projection_desc *proj, es_store *store,
                           const es_projection_options *opt);

/* es_projection_pg_conn(): the batch's PGconn *, begun on first use. */
void *es__projection_tx_conn(es_projection *p);

#endif
