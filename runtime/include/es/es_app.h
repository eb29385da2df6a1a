/*
 * es_app.h - executing commands against aggregates.
 *
 * An es_app ties a schema's routing table to a store. Executing a command
 * loads the instance's state (cache, or snapshot + later events), calls
 * the user's decide function, appends the events it emitted with the
 * version decide saw as the expected version, applies them, and answers
 * with an es_result. A version conflict (another writer got there first)
 * reloads and decides again, a bounded number of times.
 *
 * Threads: any number may execute at once. Commands to one instance are
 * serialized; different instances run in parallel, and their appends share
 * the store's syncs (group commit).
 */
#ifndef ES_APP_H
#define ES_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "es_decision.h"
#include "es_desc.h"
#include "es_store.h"
#include "es_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct es_app es_app;
typedef struct es_obs es_obs;

typedef struct es_app_options {
  uint32_t max_retries;   /* decide again after a conflict; default 5 */
  int64_t cache_idle_us;  /* unload instances idle this long; default
                             10 minutes; negative: never */
  size_t cache_max_bytes; /* bound on the state all cached instances hold;
                             default 256 MiB */
  uint32_t dedup_window;  /* command ids cached per loaded instance;
                             default 256. The guarantee does not depend
                             on it: see es_exec_options.command_id */
  const es_obs *obs;      /* logging, metrics and trace hooks; NULL: none */
} es_app_options;

#define ES_APP_OPTIONS_INIT                                                    \
  { 0, 0, 0, 0, NULL }

/* Opens an app for `schema` on `store` (both must outlive it). The schema
 * must have been generated for this libes (ES_EVERSION otherwise). It
 * must read every event type and version the store may hold: when an
 * earlier schema of the same name declared one this schema cannot decode
 * (a version it dropped, or a newer one), the open fails with ES_ESCHEMA
 * (es_schema_check_store() says which; the reason is also logged).
 * Unless the store has it already, the schema's JSON description is then
 * recorded in the store (docs/schema-json.md), so tools such as esctl can
 * decode its events without the application; a store error doing so
 * fails the open with that error (a read-only store records nothing). */
int es_app_open(es_app **out, const es_schema_desc *schema, es_store *store,
                const es_app_options *opt);

/* Whether `schema` reads every event type and version that the schema
 * descriptions recorded in `store` declare (docs/evolution.md, "At run
 * time"). Only descriptions of a schema with the same name count, and
 * only for aggregates `schema` declares. Returns 0; ES_ESCHEMA with the
 * first type and version it cannot read named in `why` (`cap` bytes,
 * may be NULL); or the store's error reading the descriptions. */
int es_schema_check_store(const es_schema_desc *schema, es_store *store,
                          char *why, size_t cap);

/* Closes the app; commands still running must have returned. Accepts
 * NULL. The store is not closed. */
void es_app_close(es_app *app);

/* How one command is to be executed. Zero-initialized means: no
 * expectation beyond optimistic concurrency, no command id, fresh ids. */
typedef struct es_exec_options {
  /* What the stream's version must be before the command (ANY: whatever
   * decide saw). A failed expectation is a conflict, never retried. */
  es_expected expected;
  /* Makes the command idempotent: executing the same id again returns
   * the first result (duplicate set) and appends nothing. Durable: it is
   * stored as the causation id of the events the command emitted, and
   * the store's command index finds it for the store's command retention
   * (es_store_options.command_retention_us, a day by default) however
   * many commands came after. A command that emitted no event is
   * remembered only in memory. */
  es_uuid command_id;
  /* Propagated to the emitted events; zero: the command id, else new. */
  es_uuid correlation_id;
} es_exec_options;

typedef enum es_outcome {
  ES_OUTCOME_OK,       /* decided and stored (maybe no events) */
  ES_OUTCOME_REJECTED, /* a domain error: see error_name and message */
  ES_OUTCOME_CONFLICT, /* expected version not met, or retries used up */
  ES_OUTCOME_FAILED    /* anything else: see rc */
} es_outcome;

typedef struct es_result {
  uint32_t outcome;             /* es_outcome */
  int rc;                       /* what the execute call returned */
  uint64_t version;             /* the stream's version afterwards */
  uint64_t first_position;      /* global positions of the appended events; */
  uint64_t last_position;       /* 0 when nothing was appended */
  uint32_t n_events;            /* events appended */
  uint32_t retries;             /* conflicts met and decided again */
  bool duplicate;               /* command id seen before: nothing appended */
  uint32_t error;               /* REJECTED: the error's 1-based code */
  const char *error_name;       /* REJECTED: its name ("InsufficientFunds") */
  char message[ES_MESSAGE_MAX]; /* REJECTED: decide's message; FAILED:
                                   what was wrong when the runtime knows
                                   more than rc ("field 'owner' of command
                                   'Account.Open': 201 bytes, max 200"),
                                   else "" */
} es_result;

/* Executes command number `command` of `agg` with its decoded `value` on
 * instance `key`. Before anything is loaded, checks that `agg` is one of
 * the app's schema (ES_EUNKNOWN: a descriptor from another schema), that
 * `key` is legal for it (ES_EINVAL: es_key_check(), and the canonical
 * text of a u64 or uuid key), and that `value` keeps the schema's bounds
 * and enums (ES_EBOUND, ES_EENUM, ES_EINVAL), saying what was wrong in
 * res->message. Returns 0 (OK), ES_EREJECTED, ES_ECONFLICT, or another
 * ES_E* code; `res` (may be NULL) says more. Nothing is stored unless the
 * result is OK. The generated <schema>_<aggregate>_execute_<command>()
 * wrappers call this. */
int es_app_execute_value(es_app *app, const es_aggregate_desc *agg,
                         uint32_t command, const char *key, const void *value,
                         const es_exec_options *opt, es_result *res);

/* The type-erased entry, for tools, sagas and network frontends: names
 * instead of descriptors and the command as msgpack. Unknown names are
 * ES_EUNKNOWN; bytes that do not decode as that command are the decoder's
 * ES_E* code, with the field to blame in res->message; then the checks of
 * es_app_execute_value(). Nothing is stored in any of these cases. */
int es_app_execute(es_app *app, const char *aggregate, const char *key,
                   const char *command, const void *msgpack, size_t len,
                   const es_exec_options *opt, es_result *res);

/* Calls `fn` with the current state and version of instance `key` (loading
 * it if needed) while no command can change it. Returns what `fn` returns,
 * or an ES_E* code when the state cannot be loaded. */
int es_app_read_state(es_app *app, const es_aggregate_desc *agg,
                      const char *key,
                      int (*fn)(const void *state, uint64_t version, void *ctx),
                      void *ctx);

/* Unloads every cached instance idle longer than the configured time (and
 * more, least recently used first, while over the memory bound). The app
 * also does this now and then by itself. Returns how many it unloaded. */
size_t es_app_evict(es_app *app);

/* Cache figures, for tests and metrics. */
typedef struct es_app_stats {
  size_t instances;      /* known instances (loaded or not) */
  size_t loaded;         /* with their state in memory */
  size_t bytes;          /* memory their states hold */
  uint64_t hits, misses; /* state found loaded / had to be loaded */
  uint64_t evictions;
  uint64_t snapshots; /* snapshots written */
  uint64_t replayed;  /* events applied while loading */
} es_app_stats;

void es_app_stats_get(es_app *app, es_app_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
