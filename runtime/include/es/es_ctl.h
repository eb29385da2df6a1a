/*
 * es_ctl.h - esctl, the store's command line, as a library entry: an
 * application builds its own tool (with the commands that need its own
 * functions) in three lines:
 *
 *   #include <es/es_ctl.h>
 *   #include "bank.es.h"
 *   int main(int argc, char **argv) { return es_ctl_main(argc, argv,
 * &bank_schema); }
 *
 * docs/esctl.md describes every command.
 */
#ifndef ES_CTL_H
#define ES_CTL_H

#include <stdint.h>

#include "es_buf.h"
#include "es_desc.h"
#include "es_projection.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs one esctl command: `argv` is `PROG COMMAND STORE [ARGS]` (see
 * `PROG --help`). Every command decodes events with the schema
 * descriptions recorded in the store; with `schema` (NULL for the plain
 * esctl) the commands that run the application's own functions are
 * there too: `state AGG/KEY [--at V]`, `redispatch ID` (and `rebuild
 * PROJECTION`, given es_ctl_main_with()'s hooks). Writes to stdout and stderr.
 * Returns the exit status: 0, 1 when a problem was found (damage, a missing
 * stream, a failed command), 2 for a usage error or a store that cannot be
 * opened. */
int es_ctl_main(int argc, char **argv, const es_schema_desc *schema);

/* What `rebuild PROJECTION` needs to rebuild one projection's read model
 * with the application's own handlers. The rebuild opens the store for
 * writing (stop the application first), opens the projection's runner
 * with `options`, then, in this order:
 *  1. reset(options.ctx): empties the read model. It must leave nothing
 *     of any event in it, durably, before it returns 0 (a nonzero return
 *     stops the rebuild with nothing else changed);
 *  2. es_projection_rebuild(): the store checkpoint goes to 0, or, with a
 *     user-kept checkpoint, options.commit(ctx, 0) is called;
 *  3. es_projection_run_until_caught_up(): every event, from position 1,
 *     through the projection's handlers, checkpointed (or committed) as
 *     the application's runner does;
 *  4. show(options.ctx, out), when set: appends the rebuilt read model as
 *     one JSON value, which the command prints.
 * Interrupted between 1 and 3, the read model is behind its checkpoint:
 * run the rebuild again (it starts with step 1). */
typedef struct es_ctl_projection {
  const es_projection_desc *projection;
  es_projection_options options;
  int (*reset)(void *ctx);
  int (*show)(void *ctx, es_buf *out); /* optional */
} es_ctl_projection;

/* The application's hooks for es_ctl_main_with(). */
typedef struct es_ctl_options {
  const es_ctl_projection *projections; /* the ones `rebuild` can rebuild */
  uint32_t n_projections;
} es_ctl_options;

/* es_ctl_main() with the application's hooks (`opt` may be NULL: none).
 * `rebuild PROJECTION` works on the projections `opt` lists and refuses
 * the others (exit 2): without a reset hook it cannot empty the read
 * model. */
int es_ctl_main_with(int argc, char **argv, const es_schema_desc *schema,
                     const es_ctl_options *opt);

#ifdef __cplusplus
}
#endif
#endif
