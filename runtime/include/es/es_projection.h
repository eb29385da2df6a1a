/*
 * es_projection.h - running a projection: the schema's handlers fed, in
 * global order, with every event of the types the projection lists, from
 * its checkpoint onward.
 *
 *   my_view view = {0};
 *   es_projection_options opt = ES_PROJECTION_OPTIONS_INIT;
 *   opt.ctx = &view;                    // the handlers' `ctx`
 *   es_projection *p;
 *   es_projection_open(&p, &bank_schema, &bank_balances_projection, store,
 *                      &opt);
 *   es_projection_start(p);             // own thread: catch up, then live
 *   ...
 *   es_projection_stop(p);
 *   es_projection_close(p);
 *
 * Delivery. Events reach the handlers one at a time, in global position
 * order, decoded into the current shape of their type (older versions
 * lifted by the schema's upcasters), with their es_event_meta. A handler
 * returns 0 when it has applied the event; anything else stops the batch
 * before that event, and the runner retries from it after a backoff.
 *
 * Checkpoints, three modes:
 *  - store-kept (default; `commit` NULL): after every batch the runner
 *    stores the position it reached as the store checkpoint named
 *    "projection:<Name>". At-least-once: after a crash, the events after
 *    the last stored checkpoint (at most one batch) are delivered again,
 *    so handlers should be idempotent or tolerate repeats.
 *  - user-kept (`commit` set): exactly-once. The runner starts from
 *    `load_position`, and after every batch calls `commit` with the
 *    position reached; the user stores the read model's changes made
 *    since the previous commit and that position in ONE transaction. No
 *    event is then ever applied twice, nor skipped. See docs/projections.md.
 *  - in-memory (`in_memory` set): for a read model that lives in the
 *    process's memory and is lost with it. No checkpoint is read or
 *    written: every es_projection_open() starts at position 0 and the
 *    handlers rebuild the whole model; the position reached lives in the
 *    runner only. Using the store-kept default for such a model is a bug:
 *    the next process would resume at the checkpoint with an empty model.
 *
 * The position a batch reaches is that of the last event it read, whether
 * the projection subscribes to its type or not (others are skipped), so
 * resuming never rereads an event already behind the checkpoint.
 *
 * Threads. One runner is driven either by its own thread (start/stop) or
 * by es_projection_run_until_caught_up() on the caller's thread, not both
 * at once. es_projection_lag() and es_projection_stats() may be called
 * from any thread at any time before close. Handlers and hooks run on the
 * runner's thread, one call at a time.
 *
 * Many processes. The thread works only while it holds the store lease
 * named like the checkpoint ("projection:<Name>", es_store_lease_try()):
 * start the projection in every process and one runs it while the others
 * stand by, trying the lease every second; when the one running it dies,
 * another takes over from the checkpoint (or `load_position`). On the
 * memory store and the embedded log (one process) every lease is granted.
 * es_projection_run_until_caught_up() takes no lease. On PostgreSQL the
 * store-kept checkpoint moves by compare-and-set from the position the
 * runner last committed: a runner that finds it moved by another process
 * (one that took the lease over while this one had a batch in hand)
 * counts an ES_ECONFLICT failure, re-reads the checkpoint and goes on
 * from there.
 */
#ifndef ES_PROJECTION_H
#define ES_PROJECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "es_desc.h"
#include "es_meta.h"
#include "es_obs.h"
#include "es_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults used when an es_projection_options field is 0. */
#define ES_PROJECTION_DEFAULT_BATCH 256u
#define ES_PROJECTION_DEFAULT_MAX_ATTEMPTS 10u
#define ES_PROJECTION_DEFAULT_RETRY_BASE_US ((int64_t)10 * 1000)  /* 10 ms */
#define ES_PROJECTION_DEFAULT_RETRY_MAX_US ((int64_t)5 * 1000000) /* 5 s */
#define ES_PROJECTION_DEFAULT_IDLE_WAIT_US ((int64_t)100 * 1000)  /* 100 ms */

/* The prefix of the store checkpoint a store-kept projection uses; the
 * full name is this followed by the projection's name. */
#define ES_PROJECTION_CHECKPOINT_PREFIX "projection:"

typedef struct es_projection_options {
  void *ctx;           /* handed to every handler and hook */
  uint32_t batch_size; /* events read (not only handled) per batch */

  /* User-kept checkpoint (exactly-once). Set `load_position` and `commit`
   * together, or neither (the store keeps the checkpoint).
   * load_position: the position stored by the last successful commit (0
   *   when none); called by es_projection_open().
   * commit: makes durable, atomically, every read-model change the
   *   handlers made since the previous commit together with `position`.
   *   0 on success; non-zero means nothing of it was stored (the runner
   *   then calls `rollback` and redelivers from the last committed
   *   position).
   * rollback (optional): discards every uncommitted read-model change.
   *   Called after a failed handler or commit; the runner then redelivers
   *   from the last committed position. Without it, a failing handler
   *   must leave the read model as it found it: the runner commits the
   *   events before it and redelivers from the failed one. */
  int (*load_position)(void *ctx, uint64_t *position);
  int (*commit)(void *ctx, uint64_t position);
  void (*rollback)(void *ctx);

  /* In-memory read model: ignore the store checkpoint, never write it, and
   * start from position 0 at every open (see above). Not together with
   * `load_position`/`commit`. */
  bool in_memory;

  /* Failures (a handler, a decode, the store, a checkpoint or commit):
   * the runner waits retry_base_us, doubling up to retry_max_us, with
   * jitter (each wait is 50-100% of that), and tries again; after
   * max_attempts failures in a row it gives up ("stalled"): the
   * synchronous run returns the error, the live thread stops. */
  uint32_t max_attempts;
  int64_t retry_base_us;
  int64_t retry_max_us;

  /* Live mode: the longest single wait for appends, after which the
   * thread checks whether it was asked to stop. Appends wake it at once
   * whatever this is; it bounds how long es_projection_stop() takes. */
  int64_t idle_wait_us;

  /* Logging, tracing (a dispatch span per event) and the lag gauge
   * es_projection_lag_events{projection="<Name>"}. NULL: none. Must
   * outlive the runner. */
  const es_obs *obs;
} es_projection_options;

#define ES_PROJECTION_OPTIONS_INIT                                             \
  { NULL, 0, NULL, NULL, NULL, false, 0, 0, 0, 0, NULL }

/* What a run did; es_projection_stats() gives the totals since open. */
typedef struct es_projection_report {
  uint64_t events;   /* handler calls that returned 0 (redeliveries too) */
  uint64_t batches;  /* batches whose position was checkpointed/committed */
  uint64_t errors;   /* failures: handler, decode, store, checkpoint */
  uint64_t retries;  /* attempts made again after a failure */
  uint64_t position; /* last position processed */
  int last_error;    /* the code of the last failure (0: none) */
  uint64_t failed_position; /* the event it was at (0: not at an event) */
  bool stalled;             /* gave up after max_attempts failures in a row */
} es_projection_report;

typedef struct es_projection es_projection;

/* Opens a runner of projection `proj` (one of `schema`'s projections) on
 * `store`, with `opt` (NULL: defaults, store-kept checkpoint), positioned
 * at its checkpoint: the store checkpoint "projection:<Name>" (absent: 0),
 * with `commit` set what `load_position` says, with `in_memory` set 0.
 * Nothing runs yet.
 * Returns 0 with `*out` set, or
 * ES_EINVAL    - NULL argument, a projection not in `schema`, one with no
 *                handler or two for one event, `commit` without
 *                `load_position` or the reverse, `in_memory` with either,
 *                a name too long for a checkpoint;
 * ES_EVERSION  - `schema` was generated for another libes;
 * ES_ENOMEM, the store's error reading the checkpoint, or the non-zero
 * `load_position` returned. `*out` is NULL on failure. */
int es_projection_open(es_projection **out, const es_schema_desc *schema,
                       const es_projection_desc *proj, es_store *store,
                       const es_projection_options *opt);

/* Stops the runner's thread if it runs, then frees the runner. The
 * checkpoint and the read model stay. Accepts NULL. */
void es_projection_close(es_projection *p);

/* Handles batches on the calling thread until a batch finds nothing
 * more to read (events appended meanwhile are handled too). Failures are
 * retried after a backoff as described at es_projection_options. Fills
 * `*report` (may be NULL) with what this call did. Returns 0 when caught
 * up, ES_EINVAL (NULL `p`, or its thread is running), or the last failure
 * after max_attempts in a row (report->stalled): a handler's own code, a
 * decode error (ES_EVERSION, ES_EUPCAST, ...), or the store's. Calling
 * again starts a fresh count of attempts. */
int es_projection_run_until_caught_up(es_projection *p,
                                      es_projection_report *report);

/* Starts the runner's thread: it catches up, then waits for appends (no
 * polling: an append wakes it) and handles them as they come. Returns 0,
 * ES_EINVAL (NULL, already running) or ES_ENOMEM (no thread). A thread
 * that stalled (see es_projection_stats()) has ended; stop, then start,
 * to try again. */
int es_projection_start(es_projection *p);

/* Asks the thread to stop after the event it is handling, and joins it:
 * returns within about idle_wait_us (plus the handler's own time). The
 * position reached is checkpointed. Does nothing when not running.
 * Accepts NULL. */
void es_projection_stop(es_projection *p);

/* Whether the thread runs (started, not stopped, not stalled). */
bool es_projection_running(es_projection *p);

/* Sets the projection back to position 0, so the next run delivers every
 * event again: the store checkpoint is set to 0, or, with a user-kept
 * checkpoint, `commit(ctx, 0)` is called (in-memory: only the runner's
 * position). Clear the read model FIRST (in
 * user-kept mode, the same transaction as that commit may do it).
 * Returns 0, ES_EINVAL (NULL, or the thread is running: stop it first),
 * or the store's or commit's error (the position is then unchanged). */
int es_projection_rebuild(es_projection *p);

/* How many positions the projection is behind the store's head (0 when
 * caught up, or when the head cannot be read). Also kept in the gauge. */
uint64_t es_projection_lag(es_projection *p);

/* The last position processed (handled or skipped). */
uint64_t es_projection_position(es_projection *p);

/* Totals since open into `*out` (position and stall state current).
 * Returns 0 or ES_EINVAL. */
int es_projection_stats(es_projection *p, es_projection_report *out);

/* The projection's name and its store checkpoint's name (which an
 * in-memory projection never reads nor writes). */
const char *es_projection_name(const es_projection *p);
const char *es_projection_checkpoint_name(const es_projection *p);

#ifdef __cplusplus
}
#endif
#endif
