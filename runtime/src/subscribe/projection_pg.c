/*
 * projection_pg.c - es_projection_pg.h: the libpq-typed face of the
 * runner's transaction per batch (subscribe/projection.c does the work).
 */
#include "es/es_projection_pg.h"
#include "subscribe/projection_tx.h"

int es_projection_open_pg(es_projection **out, const es_schema_desc *schema,
                          const es_projection_desc *proj, es_store *store,
                          const es_projection_options *opt) {
  return es__projection_open_tx(out, schema, proj, store, opt);
}

PGconn *es_projection_pg_conn(es_projection *p) {
  return es__projection_tx_conn(p);
}
