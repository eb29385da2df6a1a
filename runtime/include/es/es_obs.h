/*
 * es_obs.h - observability: a logging hook, metrics with a Prometheus text
 * dump, and trace hooks around the runtime's units of work.
 *
 * libes never prints anything itself. An application that wants logs,
 * metrics or traces fills an es_obs and hands it to the runtime (the
 * command executor keeps one); every part is optional and a zeroed es_obs
 * (ES_OBS_INIT) turns all of it off at the cost of one NULL check per
 * call site.
 *
 * Logging. The hook gets a level, a constant message and key=value fields
 * whose values are already text. Event and command payloads are never
 * logged at ES_LOG_INFO or above; at ES_LOG_DEBUG only their type names,
 * sizes and ids are, never their bytes. docs/runtime.md lists what is
 * logged at which level.
 *
 * Metrics. An es_metrics holds relaxed atomic counters, fixed log-scale
 * latency histograms and up to ES_METRICS_GAUGES_MAX named lag gauges;
 * recording never locks or allocates. es_metrics_write_prometheus() dumps
 * everything in the Prometheus text exposition format (version 0.0.4).
 *
 * Tracing. begin/end hooks bracket four kinds of span (execute, append,
 * apply, dispatch) and see the correlation and causation ids, so an
 * adapter can map them onto OpenTelemetry or any tracer.
 *
 * Threads. Hooks are called from whichever thread does the work, possibly
 * from several threads at once: they must be thread-safe and must not
 * call back into the runtime object that called them. Recording metrics is
 * safe from any number of threads; es_metrics_close() must be the last
 * call on an es_metrics.
 */
#ifndef ES_OBS_H
#define ES_OBS_H

#include <stddef.h>
#include <stdint.h>

#include "es_buf.h"
#include "es_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- logging ------------------------------------------------------------ */

enum {
  ES_LOG_DEBUG = 0, /* per command / per event detail; ids, names, sizes */
  ES_LOG_INFO = 1,  /* lifecycle: open, close, recovery summary */
  ES_LOG_WARN = 2,  /* handled trouble: retries exhausted, dead letters */
  ES_LOG_ERROR = 3  /* failures returned to a caller or a worker stopping */
};

/* One key=value pair. Both strings are valid only during the hook call. */
typedef struct es_log_field {
  const char *key;
  const char *value;
} es_log_field;

/* The logging hook. `msg` is a short constant phrase ("command rejected");
 * the details are in `fields[0 .. n_fields)`. Nothing passed in outlives
 * the call: copy what you keep. */
typedef void (*es_log_fn)(void *ctx, int level, const char *msg,
                          const es_log_field *fields, size_t n_fields);

/* "debug", "info", "warn", "error", or "unknown". */
const char *es_log_level_name(int level);

/* The most fields one log call passes; es__log() drops pairs past this. */
#define ES_LOG_FIELDS_MAX 16

/* ---- metrics ------------------------------------------------------------ */

/* XX(id, family, label, help): every counter. Counters of one family are
 * adjacent and differ by their label (`name="value"`, or NULL for none);
 * the help text is the family's and is taken from its first entry. */
#define ES_COUNTER_MAP(XX)                                                     \
  XX(COMMANDS_OK, "es_commands_total", "outcome=\"ok\"",                       \
     "Commands executed, by outcome.")                                         \
  XX(COMMANDS_REJECTED, "es_commands_total", "outcome=\"rejected\"", "")       \
  XX(COMMANDS_CONFLICT, "es_commands_total", "outcome=\"conflict\"", "")       \
  XX(COMMANDS_FAILED, "es_commands_total", "outcome=\"failed\"", "")           \
  XX(COMMAND_RETRIES, "es_command_retries_total", NULL,                        \
     "Command attempts repeated after a version conflict.")                    \
  XX(EVENTS_APPENDED, "es_events_appended_total", NULL,                        \
     "Events appended to the store.")                                          \
  XX(EVENTS_REPLAYED, "es_events_replayed_total", NULL,                        \
     "Events read back and folded into aggregate state.")                      \
  XX(CACHE_HITS, "es_cache_hits_total", NULL,                                  \
     "Aggregate cache lookups that found the state.")                          \
  XX(CACHE_MISSES, "es_cache_misses_total", NULL,                              \
     "Aggregate cache lookups that had to load the state.")                    \
  XX(CACHE_EVICTIONS, "es_cache_evictions_total", NULL,                        \
     "Aggregate states evicted from the cache.")                               \
  XX(SNAPSHOTS_WRITTEN, "es_snapshots_written_total", NULL,                    \
     "Aggregate snapshots written.")                                           \
  XX(DEAD_LETTERS, "es_dead_letters_total", NULL,                              \
     "Events or commands given up on and set aside as dead letters.")

typedef enum es_counter {
#define ES__CTR_ENUM(id, family, label, help) ES_CTR_##id,
  ES_COUNTER_MAP(ES__CTR_ENUM)
#undef ES__CTR_ENUM
      ES_CTR__COUNT
} es_counter;

/* XX(id, name, help): every latency histogram. Values are recorded in
 * microseconds and exposed in seconds. */
#define ES_HIST_MAP(XX)                                                        \
  XX(COMMAND, "es_command_latency_seconds",                                    \
     "Time to execute one command, retries included.")                         \
  XX(APPEND, "es_append_latency_seconds",                                      \
     "Time of one store append, sync included.")                               \
  XX(SYNC, "es_sync_latency_seconds",                                          \
     "Time of one fdatasync of the embedded log (shared by a commit group).")

typedef enum es_hist {
#define ES__HIST_ENUM(id, name, help) ES_HIST_##id,
  ES_HIST_MAP(ES__HIST_ENUM)
#undef ES__HIST_ENUM
      ES_HIST__COUNT
} es_hist;

/* Buckets: upper bounds 1, 2, 5, 10, 20, 50, ... us up to 10 s, then
 * +Inf. A value v lands in the first bucket whose bound is >= v. */
#define ES_HIST_BOUNDS 22                    /* finite bounds */
#define ES_HIST_BUCKETS (ES_HIST_BOUNDS + 1) /* plus +Inf */

/* Bucket `i`'s upper bound in microseconds; UINT64_MAX for +Inf (i ==
 * ES_HIST_BOUNDS) and for any `i` out of range. */
uint64_t es_hist_bound_us(int i);

/* A consistent-enough copy of one histogram. `buckets` are per bucket (not
 * cumulative); `count` is their sum, so it always equals the +Inf bucket of
 * the cumulative form even while other threads record. */
typedef struct es_hist_snapshot {
  uint64_t buckets[ES_HIST_BUCKETS];
  uint64_t count;
  uint64_t sum_us;
} es_hist_snapshot;

/* The kinds of lag gauge, each keyed by the projection's or saga's name. */
typedef enum es_gauge_kind {
  ES_GAUGE_PROJECTION_LAG = 0, /* es_projection_lag_events{projection=} */
  ES_GAUGE_SAGA_LAG = 1        /* es_saga_lag_events{saga=} */
} es_gauge_kind;

/* The most gauges one es_metrics holds (all kinds together), and the
 * longest gauge name in bytes. */
#define ES_METRICS_GAUGES_MAX 64
#define ES_METRICS_NAME_MAX 255

struct es__metrics;

/* Caller-owned; the state lives behind `impl` so the layout of this struct
 * never changes when metrics are added. */
typedef struct es_metrics {
  struct es__metrics *impl;
} es_metrics;

/* Prepares `m` with every counter, histogram and gauge at zero and no
 * gauge registered. Returns 0, ES_EINVAL (NULL `m`) or ES_ENOMEM. */
int es_metrics_init(es_metrics *m);

/* Frees what es_metrics_init() allocated. Accepts NULL and a closed or
 * zeroed `m`. No other call on `m` may be running or follow, except
 * es_metrics_init(). */
void es_metrics_close(es_metrics *m);

/* Adds `n` to counter `c`. A NULL or closed `m` or an unknown `c` does
 * nothing. Lock-free; relaxed ordering. */
void es_metrics_add(es_metrics *m, es_counter c, uint64_t n);

/* Records one latency of `us` microseconds in histogram `h`. A NULL or
 * closed `m` or an unknown `h` does nothing. Lock-free. */
void es_metrics_observe_us(es_metrics *m, es_hist h, uint64_t us);

/* Registers a gauge of `kind` named `name` (1 .. ES_METRICS_NAME_MAX bytes
 * of UTF-8, copied) and stores its id in `*id`; its value starts at 0.
 * Registering a (kind, name) pair again returns the existing id. Returns
 * 0, ES_EINVAL (NULL or closed `m`, NULL `id`, unknown kind, empty name or
 * invalid UTF-8), or ES_ETOOBIG (name too long, or ES_METRICS_GAUGES_MAX
 * gauges already registered). Takes a mutex; safe beside every other
 * call, including concurrent es_metrics_write_prometheus(). */
int es_metrics_gauge_register(es_metrics *m, es_gauge_kind kind,
                              const char *name, int *id);

/* Sets gauge `id` to `value`. An id that was not returned by
 * es_metrics_gauge_register() on this `m` does nothing. Lock-free. */
void es_metrics_gauge_set(es_metrics *m, int id, int64_t value);

/* Reads counter `c` (0 for a NULL or closed `m` or an unknown `c`). */
uint64_t es_metrics_counter(const es_metrics *m, es_counter c);

/* Reads gauge `id` (0 for an unknown id). */
int64_t es_metrics_gauge(const es_metrics *m, int id);

/* Copies histogram `h` into `*out`. Returns 0 or ES_EINVAL. */
int es_metrics_hist(const es_metrics *m, es_hist h, es_hist_snapshot *out);

/* Appends every metric to `out` in the Prometheus text exposition format
 * (serve it with "Content-Type: text/plain; version=0.0.4"): counters,
 * then histograms, then the registered gauges in registration order. Label
 * values are escaped (\\, \", \n). Values are read one by one with relaxed
 * loads while other threads may keep recording; within a histogram the
 * buckets, +Inf and _count always agree. Returns 0, ES_EINVAL, or the
 * error `out` holds (ES_ENOMEM, ES_ETOOBIG; then `out` has a partial dump
 * which the caller should discard). Existing content of `out` is kept. */
int es_metrics_write_prometheus(const es_metrics *m, es_buf *out);

/* A monotonic clock in microseconds, for measuring latencies to record. */
uint64_t es_obs_now_us(void);

/* ---- tracing ------------------------------------------------------------ */

enum {
  ES_SPAN_EXECUTE = 0, /* one command, from entry to result (retries in) */
  ES_SPAN_APPEND = 1,  /* one store append (may cover several streams) */
  ES_SPAN_APPLY = 2,   /* one event folded into aggregate/saga state */
  ES_SPAN_DISPATCH = 3 /* one event handed to a projection or saga */
};

/* "execute", "append", "apply", "dispatch", or "unknown". */
const char *es_span_name(int span);

/* What a span is about. Strings are valid only during the hook call; a
 * NULL string is unknown or not applicable (an append touching several
 * streams has a NULL aggregate and key). A zero uuid is unknown. */
typedef struct es_trace_info {
  const char *aggregate; /* aggregate (or saga) type name */
  const char *key;       /* instance key */
  const char *type_name; /* command type (execute) or event type */
  es_uuid correlation_id;
  es_uuid causation_id;
} es_trace_info;

/* Trace hooks. begin() may store anything in `*span_data` (it starts as
 * NULL); the matching end() gets it back with the same `span` and an
 * `info` with the same content, and `rc` = 0 or the ES_E* code the span
 * ended with. Every begin() is followed by exactly one end() on the same
 * thread; spans nest (an execute span contains its append span). Either
 * hook may be NULL. */
typedef struct es_trace_hooks {
  void *ctx;
  void (*begin)(void *ctx, int span, const es_trace_info *info,
                void **span_data);
  void (*end)(void *ctx, int span, const es_trace_info *info, void *span_data,
              int rc);
} es_trace_hooks;

/* ---- the bundle ---------------------------------------------------------- */

/* Everything the runtime reports through; caller-owned and read-only once
 * handed over. `log_level` is the least level passed to `log` (messages
 * below it are dropped before any formatting). `metrics` may be NULL; it
 * must outlive every object the bundle was given to. */
typedef struct es_obs {
  es_log_fn log;
  void *log_ctx;
  int log_level;
  es_metrics *metrics;
  es_trace_hooks trace;
} es_obs;

#define ES_OBS_INIT                                                            \
  {                                                                            \
    NULL, NULL, ES_LOG_DEBUG, NULL, { NULL, NULL, NULL }                       \
  }

/* ---- internal: called by the runtime ------------------------------------ */

/* Whether a message at `level` would reach a hook: callers test this
 * before formatting field values that cost something. */
static inline int es__log_enabled(const es_obs *o, int level) {
  return o && o->log && level >= o->log_level;
}

/* Logs `msg` with key/value string pairs ended by a NULL key:
 *   es__log(o, ES_LOG_WARN, "command retries exhausted",
 *           "aggregate", "Account", "key", key, "attempts", nbuf, NULL);
 * Does nothing (and reads no pair) when no hook is set or `level` is below
 * `o->log_level`. A NULL value is passed as "". At most ES_LOG_FIELDS_MAX
 * pairs are passed; later ones are dropped. */
#if defined(__GNUC__)
__attribute__((sentinel))
#endif
void es__log(const es_obs *o, int level, const char *msg, ...);

/* Whether trace hooks are set: callers test this before building an
 * es_trace_info that costs something. */
static inline int es__trace_enabled(const es_obs *o) {
  return o && (o->trace.begin || o->trace.end);
}

/* Opens a span; returns the span data to give es__trace_end(). */
static inline void *es__trace_begin(const es_obs *o, int span,
                                    const es_trace_info *info) {
  void *data = NULL;
  if (o && o->trace.begin)
    o->trace.begin(o->trace.ctx, span, info, &data);
  return data;
}

/* Closes the span es__trace_begin() opened, with its result `rc`. */
static inline void es__trace_end(const es_obs *o, int span,
                                 const es_trace_info *info, void *data,
                                 int rc) {
  if (o && o->trace.end)
    o->trace.end(o->trace.ctx, span, info, data, rc);
}

#ifdef __cplusplus
}
#endif
#endif
