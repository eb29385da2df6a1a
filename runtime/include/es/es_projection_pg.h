/*
 * es_projection_pg.h - exactly-once read models in PostgreSQL: a
 * projection on a PostgreSQL store (es_store_open_postgres()) whose
 * handlers write their read model, with SQL, in the same transaction as
 * the projection's checkpoint.
 *
 *   typedef struct balances { es_projection *runner; } balances;
 *
 *   int on_deposited(const bank_account_deposited *ev,
 *                    const es_event_meta *meta, void *ctx) {
 *     PGconn *c = es_projection_pg_conn(((balances *)ctx)->runner);
 *     ... PQexecParams(c, "UPDATE balances SET ...", ...) ...
 *     return ok ? 0 : ES_EIO;            // non-zero: the batch rolls back
 *   }
 *
 *   balances b = {0};
 *   es_projection_options opt = ES_PROJECTION_OPTIONS_INIT;
 *   opt.ctx = &b;
 *   es_projection_open_pg(&b.runner, &bank_schema, &bank_balances_projection,
 *                         store, &opt);
 *   es_projection_start(b.runner);      // or run_until_caught_up
 *
 * Each batch is one transaction. The runner begins it when a handler first
 * asks for the connection, hands every event of the batch to the handlers
 * (who run their SQL on that connection), then writes the store checkpoint
 * "projection:<Name>" on the same connection and commits. So the read
 * model and the checkpoint commit together or not at all:
 *  - a handler returning non-zero, a failed checkpoint write or a failed
 *    COMMIT rolls back the read model's changes and the checkpoint; the
 *    runner re-reads the checkpoint (which tells what committed) and
 *    retries from there after its backoff (es_projection_options); after
 *    max_attempts failures in a row es_projection_run_until_caught_up()
 *    returns the last error (a handler's own code, or the store's);
 *  - a crash anywhere (of the process, the machine or the connection)
 *    leaves the read model and the checkpoint consistent: the server rolls
 *    back the open transaction, and the next runner resumes from the
 *    checkpoint. Every event is applied to the read model exactly once.
 *  - the checkpoint moves by compare-and-set, from the position this
 *    runner last committed: when two runners began a batch from the same
 *    checkpoint (one lost its lease and does not know it yet), only the
 *    first to commit moves it; the other's batch rolls back (the failure
 *    ES_ECONFLICT) and it goes on from the checkpoint it finds.
 *
 * Only this header needs libpq (<libpq-fe.h>, Debian's libpq-dev); code
 * that does not use PostgreSQL includes es_projection.h alone.
 */
#ifndef ES_PROJECTION_PG_H
#define ES_PROJECTION_PG_H

#include <libpq-fe.h>

#include "es_projection.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens a runner of projection `proj` like es_projection_open(), with
 * the checkpoint written in each batch's transaction (see above). `store`
 * must be a PostgreSQL store open for writing; the read model's tables
 * are the user's, in the store's database (any schema). `opt` as for
 * es_projection_open(), except that `load_position`, `commit`, `rollback`
 * and `in_memory` must be unset (the store keeps the checkpoint).
 * Returns 0 with `*out` set, or the errors of es_projection_open(), and
 * ES_EINVAL    - `store` is not a PostgreSQL store (the memory store, the
 *                embedded log, or a libes built without libpq), or one of
 *                the options above is set;
 * ES_EREADONLY - the store was opened ES_STORE_READONLY. */
int es_projection_open_pg(es_projection **out, const es_schema_desc *schema,
                          const es_projection_desc *proj, es_store *store,
                          const es_projection_options *opt);

/* The connection of the transaction of the batch being handled, for the
 * handlers of runner `p` (opened by es_projection_open_pg()), on the
 * runner's thread, during a handler call. The first call of a batch takes
 * a connection from the store's pool and runs BEGIN. Run statements on
 * it; do not COMMIT, ROLLBACK, close it or keep it beyond the handler's
 * return. A statement that fails aborts the transaction: return non-zero
 * from the handler. Returns NULL (the handler should return ES_EIO) when
 * no connection can be had, or when `p` was not opened by
 * es_projection_open_pg() or is not in a handler call. */
PGconn *es_projection_pg_conn(es_projection *p);

#ifdef __cplusplus
}
#endif
#endif
