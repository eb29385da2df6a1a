/*
 * es_saga_run.h - running a saga: events in, commands out, nothing lost,
 * nothing repeated.
 *
 *   es_saga_runner *r;
 *   es_saga_options o = ES_SAGA_OPTIONS_INIT;
 *   es_saga_runner_open(&r, app, &bank_money_transfer_saga, store, &o);
 *   es_saga_start(r);            // its own thread, live
 *   ...
 *   es_saga_stop(r);
 *   es_saga_runner_close(r);
 *
 * or, for tests and batch jobs, es_saga_run_until_caught_up(r, &report).
 *
 * Persistence (docs/sagas.md has the whole story). Instance `key` of saga
 * `S` is the stream ("saga:S", key) of the store the events come from:
 * every handled event, rejection or timeout appends one step record
 * holding the new state, the completion flag and every effect the handler
 * recorded (commands, timeouts), with the instance's version as the
 * expected version. The step is stored BEFORE any of its commands is
 * dispatched (the outbox rule); each command is then executed with a
 * deterministic command id derived from (saga, key, step, effect index),
 * so re-dispatching a step after a crash is recognized by the executor as
 * a duplicate. Durable timeouts are indexed by the stream
 * ("saga:S#timers", "timers"), appended in the same atomic append as the
 * step that schedules or cancels them. Dead letters are the stream
 * ("saga:S#dead", "dead"), each appended with the step that sets its
 * command aside. The saga's position in the global order is the
 * checkpoint "saga:S".
 *
 * Threads: a runner's functions are called from one thread at a time;
 * es_saga_start() hands it to its own thread until es_saga_stop().
 *
 * Many processes. A started runner works only while it holds the store
 * lease "saga:<Name>" (es_store_lease_try()): start the saga in every
 * process and one runs it while the others stand by, trying the lease
 * every second; when the one running it dies, another takes over and
 * resumes from the checkpoint, the timer index and the instances as
 * stored (docs/postgres.md). es_saga_run_until_caught_up() takes no
 * lease: two runners of one saga at once are safe (optimistic
 * concurrency on each instance) but do each other's work twice.
 */
#ifndef ES_SAGA_RUN_H
#define ES_SAGA_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "es_app.h"
#include "es_desc.h"
#include "es_obs.h"
#include "es_saga.h"
#include "es_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct es_saga_runner es_saga_runner;

/* How a command that failed transiently (a conflict the executor gave up
 * on, or a store error: ES_EIO, ES_ENOMEM, ES_ETIMEDOUT, ES_ELOCKED,
 * ES_EINTERRUPTED) is retried. Attempt n (1-based) waits
 * min(max_delay_us, base_delay_us * 2^(n-1)) scaled down by a random
 * fraction of up to `jitter_pct` percent before the next one. */
typedef struct es_retry_policy {
  uint32_t max_attempts; /* in all, the first included; default 5 */
  int64_t base_delay_us; /* default 10 ms */
  int64_t max_delay_us;  /* default 1 s */
  uint32_t jitter_pct;   /* 0 .. 100; default 50 (ES_SAGA_NO_JITTER: 0) */
} es_retry_policy;

#define ES_SAGA_NO_JITTER 101u /* jitter_pct value meaning "none" */

/* Where a test may stop a runner as if the process died (see
 * es_saga_options.crash_hook). */
typedef enum es_saga_point {
  ES_SAGA_AT_RECORDED,   /* a step is stored, none of its commands sent */
  ES_SAGA_AT_DISPATCHED, /* one command of a step executed */
  ES_SAGA_AT_HANDLED,    /* an event fully handled, checkpoint not stored */
  ES_SAGA_AT_TIMER       /* a timeout's step dispatched, not marked fired */
} es_saga_point;

typedef struct es_saga_options {
  es_retry_policy retry;
  /* Dead letters are kept by the store (es_saga_dead_letters()). This
   * names a dead-letter file an earlier version of libes wrote (JSON
   * lines), if any: es_saga_runner_open() imports it into the store
   * (es_saga_dead_letters_import()) and renames it "<path>.migrated".
   * NULL: none. */
  const char *dead_letter_path;
  /* The clock timeouts run on, microseconds since the epoch; NULL:
   * CLOCK_REALTIME. */
  int64_t (*now_us)(void *ctx);
  void *clock_ctx;
  /* How backoff waits; NULL: nanosleep. Tests pass a no-op. */
  void (*sleep_us)(void *ctx, int64_t us);
  void *sleep_ctx;
  uint32_t batch;     /* events read per poll; 0: 256 */
  uint32_t cache_max; /* instances kept in memory; 0: 64 */
  const es_obs *obs;  /* logging, metrics (dead letters, lag); may be NULL */
  /* Tests only: called at each es_saga_point; a nonzero return stops the
   * runner right there, as a crash would (the call in progress returns
   * ES_EINTERRUPTED; the runner is then only fit for
   * es_saga_runner_close(), which writes nothing). */
  int (*crash_hook)(void *ctx, es_saga_point point);
  void *hook_ctx;
  /* Tests only: executes the saga's commands instead of
   * es_app_execute_value() (same arguments after `ctx`, same contract:
   * fill `res`, return 0 / ES_EREJECTED / an ES_E* code). The saga test
   * helper (es_testing_saga.h) records and answers them here. NULL: the
   * app. */
  int (*execute)(void *ctx, const es_aggregate_desc *agg, uint32_t command,
                 const char *key, const void *value, const es_exec_options *opt,
                 es_result *res);
  void *execute_ctx;
} es_saga_options;

#define ES_SAGA_OPTIONS_INIT                                                   \
  {                                                                            \
    {0, 0, 0, 0}, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL,  \
        NULL                                                                   \
  }

/* What a run did. Counts, not a log. */
typedef struct es_saga_report {
  uint64_t events;        /* events that reached a handler */
  uint64_t skipped;       /* events of the saga's types for no instance */
  uint64_t redelivered;   /* events already handled (a crash came before
                             the checkpoint): effects sent again, handler
                             not called */
  uint64_t steps;         /* step records stored */
  uint64_t dispatched;    /* commands executed OK (duplicates included) */
  uint64_t duplicates;    /* ... of which the executor had already done */
  uint64_t rejections;    /* commands rejected by their aggregate */
  uint64_t retries;       /* attempts repeated after transient failures */
  uint64_t dead_lettered; /* commands set aside as dead letters */
  uint64_t timeouts_fired;
  uint64_t completed; /* instances completed */
  uint64_t position;  /* the checkpoint afterwards */
} es_saga_report;

/* Opens a runner for `saga` (one of the sagas of the schema `app` was
 * opened with) on `store` (the one `app` uses). Reads the checkpoint and
 * the timer index; imports the dead-letter file `opt->dead_letter_path`
 * when there is one. `app`, `saga`, `store` and what `opt` points to must
 * outlive the runner. Returns 0, ES_EINVAL (NULL arguments, a saga name
 * too long for a stream type, a bad jitter), ES_ENOMEM, a store error,
 * ES_ECORRUPT for a timer index that does not parse, or an error of the
 * import (the file is then left as it was). */
int es_saga_runner_open(es_saga_runner **out, es_app *app,
                        const es_saga_desc *saga, es_store *store,
                        const es_saga_options *opt);

/* Stops the thread if started and frees the runner. Writes nothing.
 * Accepts NULL. */
void es_saga_runner_close(es_saga_runner *r);

/* Handles every event after the checkpoint up to the store's head (and
 * the events its own commands cause), then, caught up, fires every
 * timeout due at the runner's clock (so a timeout's handler sees the state
 * every event stored before it left), then returns. `report` (may be NULL)
 * receives what this call did. Returns 0, ES_EINVAL while started,
 * ES_EINTERRUPTED when the crash hook fired, or the first error met: a
 * handler's nonzero return (or the fault its context recorded), a store error.
 * After an error the event that met it is delivered again by the next call. */
int es_saga_run_until_caught_up(es_saga_runner *r, es_saga_report *report);

/* Runs the saga live on its own thread: catches up, then waits for new
 * events (woken by appends) and fires timeouts when due. An error is
 * logged and retried after a pause. Returns 0, ES_EINVAL when already
 * started, or ES_ENOMEM. */
int es_saga_start(es_saga_runner *r);

/* Asks the thread to finish what it is doing and joins it (within about
 * 50 ms plus the work in progress). Accepts a runner never started. */
void es_saga_stop(es_saga_runner *r);

/* Everything the runner did since it was opened. Callable while started. */
void es_saga_totals(es_saga_runner *r, es_saga_report *out);

/* Pending timeouts: how many, and the earliest due time (INT64_MAX when
 * none). Not while started (the thread owns the table). */
size_t es_saga_pending_timeouts(es_saga_runner *r, int64_t *earliest);

/* What the runner knows of one instance (es_saga_instance_get()). */
typedef struct es_saga_instance {
  uint64_t steps;    /* step records stored; 0: no such instance (yet) */
  bool completed;    /* es_saga_complete() was called */
  const void *state; /* its state (a value of saga->state), owned by the
                        runner and valid until the next call on it */
} es_saga_instance;

/* Looks up instance `key` (from the runner's cache or the store).
 * Returns 0 (also for an instance that does not exist: steps 0, and
 * `state` a freshly initialised one), ES_EINVAL (NULL arguments, a key of
 * 0 or more than ES_KEY_MAX bytes, or while started), ES_ENOMEM, a store
 * error, ES_ECORRUPT. */
int es_saga_instance_get(es_saga_runner *r, const char *key,
                         es_saga_instance *out);

/* Calls `fn` for each pending timeout of instance `key` (of every instance
 * when `key` is NULL), in no particular order, and returns how many there
 * are. `fn` may be NULL; its strings live until it returns. Not while
 * started (returns 0). */
size_t es_saga_timeouts(es_saga_runner *r, const char *key,
                        void (*fn)(const char *key, const char *name,
                                   int64_t due, void *ctx),
                        void *ctx);

/* ---- dead letters ---------------------------------------------------------
 */

/* One dead letter, parsed. Strings live until the callback returns. */
typedef struct es_dead_letter {
  uint64_t line_no;        /* its record's version in the saga's dead-letter
                              stream (1-based); in a file: its line */
  const char *line;        /* the letter as one JSON object (no newline) */
  const char *id;          /* the command id (uuid text): the idempotency key */
  const char *saga;        /* "MoneyTransfer" */
  const char *key;         /* the saga instance */
  uint64_t step;           /* the step that recorded the command */
  uint32_t effect;         /* its index among the step's effects */
  const char *target;      /* "Account.Deposit" */
  const char *instance;    /* the target aggregate's key */
  const char *correlation; /* uuid text */
  const char *error;       /* "ES_EIO", or "ES_EREJECTED" */
  const char *rejection;   /* the domain error's name, or "" */
  const char *message;
  uint32_t attempts;
  const char *time;       /* ISO-8601, UTC */
  const uint8_t *command; /* the command as msgpack ... */
  size_t command_len;     /* ... and its length */
} es_dead_letter;

/* Calls `fn` for each pending dead letter of saga `saga` kept in `store`
 * (the stream ("saga:<saga>#dead", "dead")), oldest first; letters marked
 * resolved are skipped. Works on every store, from any process sharing
 * it. Returns 0 (also when the saga has no letters), the first nonzero
 * value `fn` returns, ES_EINVAL (NULL store or callback, a saga name empty
 * or too long), ES_ECORRUPT for a record that is not a dead letter (its
 * version in `*bad_record`, may be NULL), or the store's error. */
int es_saga_dead_letters(es_store *store, const char *saga,
                         int (*fn)(const es_dead_letter *dl, void *ctx),
                         void *ctx, uint64_t *bad_record);

/* Marks the pending letter `id` of saga `saga` resolved (after a
 * successful re-dispatch): appends a record saying so to the saga's
 * dead-letter stream, expecting the version it read, so that of two
 * concurrent resolutions of one letter one is stored and the other finds
 * no pending letter. The letter's own record stays. Returns 0,
 * ES_ENOTFOUND (no pending letter `id`), ES_EINVAL (NULL or empty
 * argument), ES_ECORRUPT, ES_ECONFLICT (the stream kept moving under
 * 16 attempts), or the store's error. */
int es_saga_dead_letter_resolve(es_store *store, const char *saga,
                                const char *id);

/* Imports the dead-letter file at `path` that an earlier version of libes
 * wrote (JSON lines) into `store`: each letter and each resolution goes to
 * the dead-letter stream of its saga unless that stream already holds it
 * (by id), in the file's order; then the file is renamed "<path>.migrated"
 * (".migrated.2", ... when taken) and its directory synced. Running it
 * again, after a crash at any point or on the same file, appends nothing
 * twice. `*imported` (may be NULL) receives how many records were
 * appended. Returns 0 (also for a missing file), ES_ECORRUPT for a line
 * that is not a dead letter (its number in `*bad_line`, may be NULL; the
 * file is left as it was), ES_ETOOBIG for a line over the store's
 * max_event_size, ES_EINVAL, ES_EIO, ES_ENOMEM, or the store's error. */
int es_saga_dead_letters_import(es_store *store, const char *path,
                                uint64_t *imported, uint64_t *bad_line);

/* Deprecated: reads a dead-letter file of an earlier version; letters now
 * live in the store (es_saga_dead_letters()). Calls `fn` for each pending
 * letter of the file at `path`, in order. Returns 0 (also for a missing
 * file), the first nonzero value `fn` returns, ES_ECORRUPT for a line that
 * is not one of ours (its number in `*bad_line`, may be NULL), ES_EIO,
 * ES_ENOMEM. */
int es_dead_letters_list(const char *path,
                         int (*fn)(const es_dead_letter *dl, void *ctx),
                         void *ctx, uint64_t *bad_line);

/* Deprecated: marks letter `id` of the dead-letter file at `path`
 * resolved by appending a line (use es_saga_dead_letter_resolve()).
 * Returns 0, ES_ENOTFOUND, ES_EINVAL, ES_ECORRUPT, ES_EIO, ES_ENOMEM. */
int es_dead_letter_resolve(const char *path, const char *id);

/* Executes the command of dead letter `dl` again with its original command
 * id and correlation id, so it is idempotent: once it has succeeded, later
 * re-dispatches are duplicates that change nothing. The result does not
 * reach the saga (its `on rejected` handler is not called); the caller
 * sees it in `res`. Returns what es_app_execute_value() returns, or
 * ES_EINVAL for a letter of another saga or a target the saga does not
 * send, or the decoder's error for a command that does not decode. */
int es_saga_redispatch(es_saga_runner *r, const es_dead_letter *dl,
                       es_result *res);

/* ---- for tools and tests ----------------------------------------------------
 */

/* The command id the runner uses for effect `effect` of step `step` of
 * instance `key` of saga `saga`. */
void es_saga_command_id(const char *saga, const char *key, uint64_t step,
                        uint32_t effect, es_uuid *out);

#ifdef __cplusplus
}
#endif
#endif
