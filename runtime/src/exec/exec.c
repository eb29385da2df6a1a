/*
 * exec.c - command execution: the instance cache, loading (snapshot +
 * events, upcasting older event versions), decide, append with optimistic
 * concurrency and bounded retry, apply, idempotent command ids, snapshots
 * and cache eviction.
 *
 * Locking: app->mu guards the instance table and is never held while an
 * instance is locked by the same thread, except by the evictor, which only
 * try-locks instances. Each instance's mutex serializes its commands.
 * Instances are never freed before es_app_close(), so a pointer taken
 * under app->mu stays valid; eviction only unloads their state.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_app.h"
#include "es/es_error.h"
#include "es/es_obs.h"
#include "es/es_version.h"
#include "exec/entry_check.h"
#include "exec/store_schemas.h"
#include "schema/event_decode.h"
#include "schema/value_check.h"
#include "store/store_util.h"
#include "util/alloc.h"
#include "util/hashmap.h"

#define DEFAULT_MAX_RETRIES 5u
#define DEFAULT_IDLE_US ((int64_t)600 * 1000000)
#define DEFAULT_MAX_BYTES ((size_t)256 << 20)
#define DEFAULT_DEDUP 256u
/* A state arena is compacted (re-encoded) when it grows past this many
 * times what it held after the last compaction. */
#define COMPACT_FACTOR 4
#define COMPACT_MIN ((size_t)64 << 10)

/* One command id remembered with what it produced. */
typedef struct dedup_entry {
  es_uuid id;
  uint64_t version;
  uint64_t first, last;
  uint32_t n;
} dedup_entry;

typedef struct instance {
  pthread_mutex_t mu;
  const es_aggregate_desc *agg;
  char *id; /* "Aggregate\0key": the table key */
  size_t id_len;
  const char *key; /* points into id */
  bool loaded;
  void *state; /* agg->state->size bytes; pointers into `arena` */
  es_arena arena;
  uint64_t version;
  uint64_t snapshot_version;
  size_t bytes;      /* what this instance adds to app->bytes */
  size_t compact_at; /* arena use that triggers a compaction */
  _Atomic int64_t last_used;
  /* Command ids: a ring of up to app->opt.dedup_window entries, grown on
   * demand, holding the commands of versions after `dedup_floor` (and
   * commands that emitted nothing). A load does not fill it: it sets the
   * floor, and the first lookup that misses reads the ids of the last
   * window of events up to the floor back from the store. */
  dedup_entry *dedup;
  uint32_t dedup_n, dedup_next, dedup_cap;
  uint64_t dedup_floor;
} instance;

/* The instance, its state and its id in one block: the state at
 * INSTANCE_HEAD bytes (maximally aligned), the id after the state. */
#define INSTANCE_HEAD                                                          \
  ((sizeof(instance) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

struct es_app {
  const es_schema_desc *schema;
  es_store *store;
  es_app_options opt;
  pthread_mutex_t mu; /* the table */
  es__hashmap table;
  pthread_mutex_t sweep_mu; /* one evictor at a time */
  _Atomic int64_t last_sweep;
  _Atomic size_t bytes;
  _Atomic size_t loaded;
  _Atomic uint64_t hits, misses, evictions, snapshots, replayed;
};

/* ---- observability ------------------------------------------------------ */

static es_metrics *metrics(const es_app *app) {
  return app->opt.obs ? app->opt.obs->metrics : NULL;
}

static const char *outcome_name(uint32_t outcome) {
  static const char *const names[] = {"ok", "rejected", "conflict", "failed"};
  return outcome < sizeof names / sizeof names[0] ? names[outcome] : "unknown";
}

/* Decimal text of `v` in `buf` (24 bytes). */
static const char *num(char *buf, uint64_t v) {
  snprintf(buf, 24, "%llu", (unsigned long long)v);
  return buf;
}

/* ---- ids ---------------------------------------------------------------- */

static _Thread_local uint64_t tl_rng[4];
static _Thread_local bool tl_seeded;

static void new_uuid(es_uuid *u) {
  if (!tl_seeded) {
    es__rng_seed(tl_rng, &tl_seeded);
    tl_seeded = true;
  }
  es__uuid_v7(u, tl_rng, es__now_us());
}

static bool uuid_eq(const es_uuid *a, const es_uuid *b) {
  return memcmp(a->bytes, b->bytes, 16) == 0;
}

/* ---- app ---------------------------------------------------------------- */

int es_app_open(es_app **out, const es_schema_desc *schema, es_store *store,
                const es_app_options *opt) {
  es_app *app;
  uint64_t k[4];
  if (!out)
    return ES_EINVAL;
  *out = NULL;
  if (!schema || !store)
    return ES_EINVAL;
  if (schema->abi != ES_ABI_VERSION)
    return ES_EVERSION;
  {
    /* So tools can decode this schema's events from the store alone, once
     * it is known to read every event the store may hold. */
    char why[512];
    int rc = es__schema_check_and_record(schema, store, why, sizeof why);
    if (rc == ES_ESCHEMA && opt)
      es__log(opt->obs, ES_LOG_ERROR, "schema cannot read the store", "schema",
              schema->name, "why", why, NULL);
    if (rc)
      return rc;
  }
  app = es__calloc(1, sizeof *app);
  if (!app)
    return ES_ENOMEM;
  app->schema = schema;
  app->store = store;
  if (opt)
    app->opt = *opt;
  if (!app->opt.max_retries)
    app->opt.max_retries = DEFAULT_MAX_RETRIES;
  if (app->opt.cache_idle_us == 0)
    app->opt.cache_idle_us = DEFAULT_IDLE_US;
  if (!app->opt.cache_max_bytes)
    app->opt.cache_max_bytes = DEFAULT_MAX_BYTES;
  if (!app->opt.dedup_window)
    app->opt.dedup_window = DEFAULT_DEDUP;
  es__rng_seed(k, app);
  es__hashmap_init(&app->table, k[0], k[1]);
  if (pthread_mutex_init(&app->mu, NULL) != 0)
    goto fail_mu;
  if (pthread_mutex_init(&app->sweep_mu, NULL) != 0)
    goto fail_sweep;
  atomic_store(&app->last_sweep, es__now_us());
  *out = app;
  return 0;
fail_sweep:
  pthread_mutex_destroy(&app->mu);
fail_mu:
  es__hashmap_close(&app->table);
  es__free(app);
  return ES_ENOMEM;
}

static void unload(es_app *app, instance *in) {
  if (!in->loaded)
    return;
  es_arena_close(&in->arena);
  es__free(in->dedup);
  in->dedup = NULL;
  in->dedup_n = in->dedup_next = in->dedup_cap = 0;
  in->loaded = false;
  atomic_fetch_sub(&app->bytes, in->bytes);
  atomic_fetch_sub(&app->loaded, 1);
  in->bytes = 0;
}

void es_app_close(es_app *app) {
  size_t i = 0;
  instance *in;
  if (!app)
    return;
  while ((in = es__hashmap_next(&app->table, &i)) != NULL) {
    unload(app, in);
    pthread_mutex_destroy(&in->mu);
    es__free(in);
  }
  es__hashmap_close(&app->table);
  pthread_mutex_destroy(&app->sweep_mu);
  pthread_mutex_destroy(&app->mu);
  es__free(app);
}

/* The instance for (agg, key), created on first use. */
static int get_instance(es_app *app, const es_aggregate_desc *agg,
                        const char *key, instance **out) {
  size_t tlen = strlen(agg->name), klen = strlen(key);
  size_t len = tlen + 1 + klen;
  char stack[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  instance *in;
  int rc = 0;

  memcpy(stack, agg->name, tlen);
  stack[tlen] = '\0';
  memcpy(stack + tlen + 1, key, klen);
  pthread_mutex_lock(&app->mu);
  in = es__hashmap_get(&app->table, stack, len);
  if (in)
    goto done;
  rc = ES_ENOMEM;
  in = es__malloc(INSTANCE_HEAD + agg->state->size + len + 1);
  if (!in)
    goto done;
  memset(in, 0, sizeof *in);
  in->state = (char *)in + INSTANCE_HEAD;
  in->id = (char *)in->state + agg->state->size;
  if (pthread_mutex_init(&in->mu, NULL) != 0)
    goto fail;
  memcpy(in->id, stack, len);
  in->id[len] = '\0';
  in->id_len = len;
  in->key = in->id + tlen + 1;
  in->agg = agg;
  if (es__hashmap_put(&app->table, in->id, len, in) != 0) {
    pthread_mutex_destroy(&in->mu);
    goto fail;
  }
  rc = 0;
  goto done;
fail:
  es__free(in);
  in = NULL;
done:
  pthread_mutex_unlock(&app->mu);
  *out = in;
  return rc;
}

/* ---- events ------------------------------------------------------------- */

/* Remembers that command `id` produced `n` events ending at `version`.
 * 0, or ES_ENOMEM when the ring cannot grow (nothing changed). */
static int remember(es_app *app, instance *in, const es_uuid *id,
                    uint64_t version, uint64_t first, uint64_t last,
                    uint32_t n) {
  uint32_t w = app->opt.dedup_window, cap = in->dedup_cap;
  if (in->dedup_n) {
    dedup_entry *prev = &in->dedup[(in->dedup_next + cap - 1) % cap];
    if (uuid_eq(&prev->id, id)) { /* more events of the same command */
      prev->version = version;
      prev->last = last;
      prev->n += n;
      return 0;
    }
  }
  if (in->dedup_n == cap && cap < w) {
    /* Not wrapped yet (a ring wraps only at full size): entries stay in
     * place as it grows. */
    uint32_t grown = cap ? (cap <= w / 2 ? cap * 2 : w) : (w < 8 ? w : 8);
    dedup_entry *p = es__realloc(in->dedup, grown * sizeof *p);
    if (!p)
      return ES_ENOMEM;
    in->dedup = p;
    in->dedup_cap = cap = grown;
    in->dedup_next = in->dedup_n;
  }
  dedup_entry *e = &in->dedup[in->dedup_next];
  e->id = *id;
  e->version = version;
  e->first = first;
  e->last = last;
  e->n = n;
  in->dedup_next = (in->dedup_next + 1) % cap;
  if (in->dedup_n < cap)
    in->dedup_n++;
  return 0;
}

/* remember() for a command just carried out: if the ring cannot grow,
 * it is emptied and the floor raised to the current version, so the ids
 * of stored events are read back from the store when needed (only the
 * memory of commands that emitted nothing is lost). */
static void note(es_app *app, instance *in, const es_uuid *id, uint64_t version,
                 uint64_t first, uint64_t last, uint32_t n) {
  if (remember(app, in, id, version, first, last, n) != 0) {
    in->dedup_n = in->dedup_next = 0;
    in->dedup_floor = in->version;
  }
}

typedef struct prime_ctx {
  es_app *app;
  instance *in;
  int rc;
} prime_ctx;

static int prime_one(const es_stored_event *ev, void *arg) {
  prime_ctx *c = arg;
  if (es__uuid_is_zero(&ev->meta.causation_id))
    return 0;
  c->rc = remember(c->app, c->in, &ev->meta.causation_id, ev->meta.version,
                   ev->meta.position, ev->meta.position, 1);
  return c->rc;
}

/* Fills the ring with the ids of the last dedup_window events up to the
 * floor, read from the store, ahead of what it already holds. On failure
 * the ring is as it was. */
static int prime(es_app *app, instance *in) {
  uint64_t to = in->dedup_floor, w = app->opt.dedup_window;
  uint64_t from = to > w ? to - w + 1 : 1;
  dedup_entry *old = in->dedup;
  uint32_t old_n = in->dedup_n, old_cap = in->dedup_cap;
  uint32_t oldest = old_cap ? (in->dedup_next + old_cap - old_n) % old_cap : 0;
  prime_ctx c = {app, in, 0};
  int rc;

  in->dedup = NULL;
  in->dedup_n = in->dedup_next = in->dedup_cap = 0;
  rc = es_store_read_stream(app->store, in->agg->name, in->key, from,
                            (uint32_t)(to - from + 1), prime_one, &c);
  if (c.rc)
    rc = c.rc;
  for (uint32_t i = 0; i < old_n && !rc; i++) {
    const dedup_entry *e = &old[(oldest + i) % old_cap];
    rc = remember(app, in, &e->id, e->version, e->first, e->last, e->n);
  }
  if (rc) {
    es__free(in->dedup);
    in->dedup = old;
    in->dedup_n = old_n;
    in->dedup_cap = old_cap;
    in->dedup_next = old_cap ? (oldest + old_n) % old_cap : 0;
    return rc;
  }
  es__free(old);
  in->dedup_floor = 0;
  return 0;
}

/* Looks command `id` up in the ring (reading the ids below the floor back
 * from the store first if it is not there): `*out` is its entry or NULL.
 * 0 or an ES_E* code from the store. */
static int recall(es_app *app, instance *in, const es_uuid *id,
                  const dedup_entry **out) {
  int rc;
  *out = NULL;
  for (int primed = 0;; primed = 1) {
    for (uint32_t i = 0; i < in->dedup_n; i++)
      if (uuid_eq(&in->dedup[i].id, id)) {
        *out = &in->dedup[i];
        return 0;
      }
    if (primed || !in->dedup_floor)
      return 0;
    if ((rc = prime(app, in)) != 0)
      return rc;
  }
}

typedef struct stored_ctx {
  const es_uuid *id;
  dedup_entry *out;
} stored_ctx;

static int stored_one(const es_stored_event *ev, void *arg) {
  stored_ctx *c = arg;
  if (!uuid_eq(&ev->meta.causation_id, c->id))
    return 1; /* not what the index said: execute rather than guess */
  c->out->version = ev->meta.version;
  c->out->n++;
  return 0;
}

/* Looks command `id` up in the store's command index, which remembers
 * every command for the store's retention time however many commands
 * came after it (the per-instance window only holds the last few).
 * Returns 1 with the first result in `*out`, 0 when the store does not
 * know the id, or an ES_E* code. */
static int recall_stored(es_app *app, const es_uuid *id, dedup_entry *out) {
  es_command_record rec;
  stored_ctx c = {id, out};
  int rc = es_store_command_find(app->store, id, &rec);
  if (rc == ES_ENOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  memset(out, 0, sizeof *out);
  out->id = *id;
  out->first = rec.first_position;
  out->last = rec.last_position;
  rc = es_store_read_all(app->store, rec.first_position,
                         (uint32_t)(rec.last_position - rec.first_position + 1),
                         stored_one, &c);
  if (rc == 1 || (rc == 0 && out->first + out->n != out->last + 1))
    return 0;
  return rc == 0 ? 1 : rc;
}

/* The answer to a command id executed before: its first result. */
static void answer_duplicate(es_result *r, const dedup_entry *seen) {
  r->outcome = ES_OUTCOME_OK;
  r->duplicate = true;
  r->version = seen->version;
  r->first_position = seen->first;
  r->last_position = seen->last;
  r->n_events = seen->n;
}

typedef struct replay_ctx {
  es_app *app;
  instance *in;
  bool live;  /* events just appended, not replayed from the store */
  bool quiet; /* a load: the ring is left to prime() (below the floor) */
  int rc;
  char *why; /* NULL, or ES_MESSAGE_MAX bytes: what did not load */
  uint64_t replayed;
  es__event_scratch scratch; /* the event values, one event at a time */
} replay_ctx;

static void replay_init(replay_ctx *c, es_app *app, instance *in, bool live) {
  c->app = app;
  c->in = in;
  c->live = live;
  c->quiet = false;
  c->rc = 0;
  c->why = NULL;
  c->replayed = 0;
  es__event_scratch_init(&c->scratch);
}

/* Decodes the event (its value into the scratch space, what it points to
 * into the state's arena, where apply may keep it) and applies it. */
static int replay_one(const es_stored_event *ev, void *arg) {
  replay_ctx *c = arg;
  instance *in = c->in;
  const es_event_route *r;
  uint32_t index;
  void *value;
  int rc;

  es__event_scratch_reset(&c->scratch);
  rc = es__event_decode(in->agg, ev->meta.type_id, ev->meta.type_version,
                        ev->payload, ev->len, &in->arena, &c->scratch, &index,
                        &value);
  if (rc != 0) {
    es__load_why(c->app->schema, in->agg, in->key, ev, rc, c->why,
                 c->why ? ES_MESSAGE_MAX : 0);
    return c->rc = rc;
  }
  r = &in->agg->events[index];
  if (r->apply)
    r->apply(in->state, value, &in->arena);
  in->version = ev->meta.version;
  if (!c->quiet && !es__uuid_is_zero(&ev->meta.causation_id))
    note(c->app, in, &ev->meta.causation_id, ev->meta.version,
         ev->meta.position, ev->meta.position, 1);
  if (!c->live)
    c->replayed++;
  return 0;
}

static void replay_done(replay_ctx *c) {
  if (c->replayed) {
    atomic_fetch_add_explicit(&c->app->replayed, c->replayed,
                              memory_order_relaxed);
    es_metrics_add(metrics(c->app), ES_CTR_EVENTS_REPLAYED, c->replayed);
  }
}

/* Applies events stored after in->version; says in `why` (NULL, or
 * ES_MESSAGE_MAX bytes) which event did not load. `quiet` (a load) leaves
 * their command ids below the floor. */
static int catch_up_from(es_app *app, instance *in, bool quiet, char *why) {
  replay_ctx c;
  int rc;
  replay_init(&c, app, in, false);
  c.quiet = quiet;
  c.why = why;
  rc = es_store_read_stream(app->store, in->agg->name, in->key, in->version + 1,
                            0, replay_one, &c);
  replay_done(&c);
  return c.rc ? c.rc : rc;
}

static int catch_up(es_app *app, instance *in, char *why) {
  return catch_up_from(app, in, false, why);
}

static void account(es_app *app, instance *in) {
  size_t now = in->arena.reserved + in->agg->state->size +
               in->dedup_cap * sizeof(dedup_entry);
  if (now > in->bytes)
    atomic_fetch_add(&app->bytes, now - in->bytes);
  else
    atomic_fetch_sub(&app->bytes, in->bytes - now);
  in->bytes = now;
}

/* Loads the state: the snapshot if its layout still matches, then every
 * later event. On failure the instance stays unloaded and `why` (NULL, or
 * ES_MESSAGE_MAX bytes) may say which event did not load. */
static int load(es_app *app, instance *in, char *why) {
  const es_aggregate_desc *agg = in->agg;
  const es_type_desc *st = agg->state;
  int rc;

  es_arena_init(&in->arena, 0);
  es_type_init(st, in->state);
  in->version = 0;
  in->snapshot_version = 0;
  in->dedup_n = in->dedup_next = 0;
  in->dedup_floor = 0;
  if (agg->snapshot_every) {
    es_buf b = ES_BUF_INIT;
    es_snapshot_info info;
    es_buf_init(&b, app->store->opt.max_blob_size);
    rc = es_store_snapshot_get(app->store, agg->name, in->key, &info, &b);
    if (rc == 0 && info.layout == st->layout_hash &&
        es_type_decode(st, in->state, b.data, b.len, &in->arena) == 0) {
      in->version = info.version;
      in->snapshot_version = info.version;
    } else if (rc == 0 || rc == ES_ENOTFOUND) {
      /* Stale layout or unreadable: rebuild from the events. */
      es_arena_reset(&in->arena);
      es_type_init(st, in->state);
    } else {
      es_buf_close(&b);
      es_arena_close(&in->arena);
      return rc;
    }
    es_buf_close(&b);
  }
  rc = catch_up_from(app, in, true, why);
  if (rc != 0) {
    es_arena_close(&in->arena);
    return rc;
  }
  in->dedup_floor = in->version;
  in->loaded = true;
  in->bytes = 0;
  in->compact_at = COMPACT_MIN;
  atomic_fetch_add(&app->loaded, 1);
  account(app, in);
  return 0;
}

/* Re-encodes the state into a fresh arena, dropping what earlier events
 * left behind. Skipped (and retried later) if the state does not encode. */
static void compact(es_app *app, instance *in) {
  const es_type_desc *st = in->agg->state;
  es_buf b = ES_BUF_INIT;
  es_buf_init(&b, (size_t)1 << 30);
  if (es_type_encode(st, in->state, &b) == 0) {
    es_arena_reset(&in->arena);
    if (es_type_decode(st, in->state, b.data, b.len, &in->arena) == 0) {
      size_t used = es_arena_used(&in->arena);
      in->compact_at = used * COMPACT_FACTOR > COMPACT_MIN
                           ? used * COMPACT_FACTOR
                           : COMPACT_MIN;
      es_buf_close(&b);
      return;
    }
    /* Cannot happen for bytes we just encoded; reload to be safe
     * (unload() frees the arena and the accounting; a bare loaded = false
     * would leak both). */
    unload(app, in);
  }
  in->compact_at *= 2;
  es_buf_close(&b);
}

static void maybe_snapshot(es_app *app, instance *in) {
  const es_aggregate_desc *agg = in->agg;
  es_buf b = ES_BUF_INIT;
  es_snapshot_info info;
  if (!agg->snapshot_every ||
      in->version - in->snapshot_version < agg->snapshot_every)
    return;
  es_buf_init(&b, app->store->opt.max_blob_size);
  if (es_type_encode(agg->state, in->state, &b) == 0) {
    info.version = in->version;
    info.layout = agg->state->layout_hash;
    if (es_store_snapshot_put(app->store, agg->name, in->key, &info, b.data,
                              b.len) == 0) {
      in->snapshot_version = in->version;
      atomic_fetch_add_explicit(&app->snapshots, 1, memory_order_relaxed);
      es_metrics_add(metrics(app), ES_CTR_SNAPSHOTS_WRITTEN, 1);
      if (es__log_enabled(app->opt.obs, ES_LOG_DEBUG)) {
        char v[24], n[24];
        es__log(app->opt.obs, ES_LOG_DEBUG, "snapshot written", "aggregate",
                agg->name, "key", in->key, "version", num(v, in->version),
                "bytes", num(n, b.len), NULL);
      }
    }
  }
  es_buf_close(&b);
}

/* ---- execute ------------------------------------------------------------ */

/* One command on its way through execute: what the caller asked, the
 * instance it runs on (locked from load_instance() to release()) and what
 * it has produced so far. */
typedef struct execution {
  es_app *app;
  const es_aggregate_desc *agg;
  uint32_t command;
  const void *value;
  const es_exec_options *opt;
  instance *in;
  es_uuid command_id;
  es_trace_info trace; /* aggregate, key, command name and the two ids */
  es_decision d;
  es_new_event small[8], *events; /* what decide emitted, to append */
  uint32_t cap_events;
  es_append_stream group;
  es_append_result ar;
  es_result r;
} execution;

static int finish(es_result *res, es_result *r, int rc) {
  r->rc = rc;
  if (res)
    *res = *r;
  return rc;
}

static void begin_execution(execution *x, es_app *app,
                            const es_aggregate_desc *agg, uint32_t command,
                            const void *value, const es_exec_options *opt) {
  static const es_exec_options none;
  memset(x, 0, sizeof *x);
  x->app = app;
  x->agg = agg;
  x->command = command;
  x->value = value;
  x->opt = opt ? opt : &none;
  x->events = x->small;
  x->cap_events = sizeof x->small / sizeof x->small[0];
  x->r.outcome = ES_OUTCOME_FAILED;
}

/* Checks the arguments before anything is touched; says what is wrong in
 * x->r.message. */
static int check_call(execution *x, const char *key) {
  int rc;
  if (!x->app || !x->agg || !x->value)
    return ES_EINVAL;
  rc = es__entry_check(x->app->schema, x->agg, x->command, key, x->value,
                       x->r.message, sizeof x->r.message);
  if (rc != 0)
    return rc;
  return x->opt->expected.kind > ES_EXPECT_EXACT ? ES_EINVAL : 0;
}

static void count_cache_lookup(es_app *app, bool hit) {
  atomic_fetch_add_explicit(hit ? &app->hits : &app->misses, 1,
                            memory_order_relaxed);
  es_metrics_add(metrics(app), hit ? ES_CTR_CACHE_HITS : ES_CTR_CACHE_MISSES,
                 1);
}

static void log_cache_miss(const es_app *app, const instance *in) {
  char v[24];
  if (es__log_enabled(app->opt.obs, ES_LOG_DEBUG))
    es__log(app->opt.obs, ES_LOG_DEBUG, "cache miss", "aggregate",
            in->agg->name, "key", in->key, "version", num(v, in->version),
            NULL);
}

/* Load: finds the instance of `key`, locks it and makes sure its state is
 * in memory. On failure the instance is left unlocked and x->r.message
 * may say which event did not load. */
static int load_instance(execution *x, const char *key) {
  es_app *app = x->app;
  instance *in;
  int rc;
  if ((rc = get_instance(app, x->agg, key, &in)) != 0)
    return rc;
  pthread_mutex_lock(&in->mu);
  atomic_store_explicit(&in->last_used, es__now_us(), memory_order_relaxed);
  count_cache_lookup(app, in->loaded);
  if (!in->loaded && (rc = load(app, in, x->r.message)) == 0)
    log_cache_miss(app, in);
  if (rc != 0) {
    pthread_mutex_unlock(&in->mu);
    es__log(app->opt.obs, ES_LOG_ERROR, "cannot load instance", "aggregate",
            x->agg->name, "key", key, "error", es_err_name(rc), "why",
            x->r.message, NULL);
    return rc;
  }
  x->in = in;
  return 0;
}

/* Gives the command its id (the caller's, or a new one) and fills in what
 * its spans and events carry. */
static void name_command(execution *x) {
  const es_exec_options *opt = x->opt;
  x->command_id = opt->command_id;
  if (es__uuid_is_zero(&x->command_id))
    new_uuid(&x->command_id);
  x->trace.aggregate = x->agg->name;
  x->trace.key = x->in->key;
  x->trace.type_name = x->agg->commands[x->command].command->name;
  x->trace.correlation_id = es__uuid_is_zero(&opt->correlation_id)
                                ? x->command_id
                                : opt->correlation_id;
  x->trace.causation_id = x->command_id;
}

/* Answers a command id executed before with its first result: looks in
 * the instance's window and, when `ask_store`, in the store's command
 * index. `*answered` says whether x->r now holds that result. Returns 0
 * or an ES_E* code from the store. */
static int answer_if_seen(execution *x, bool ask_store, bool *answered) {
  dedup_entry stored;
  const dedup_entry *seen;
  int rc;
  *answered = false;
  if (es__uuid_is_zero(&x->opt->command_id))
    return 0; /* a new id: nobody can have run it */
  rc = recall(x->app, x->in, &x->command_id, &seen);
  if (rc == 0 && !seen && ask_store) {
    rc = recall_stored(x->app, &x->command_id, &stored);
    if (rc == 1) {
      seen = &stored;
      rc = 0;
    }
  }
  if (rc != 0 || !seen)
    return rc;
  answer_duplicate(&x->r, seen);
  *answered = true;
  return 0;
}

/* Decide: checks the caller's expected version (catching up once when
 * our copy may be behind), then runs the decider on the state. Returns 0
 * with the events to append in x->d, or ends the command: `*done` with
 * x->r answered (a duplicate, or nothing to emit), ES_EREJECTED,
 * ES_ECONFLICT or a failure. */
static int decide(execution *x, bool caught_up, bool *done) {
  es_app *app = x->app;
  instance *in = x->in;
  es_decision *d = &x->d;
  int rc;
  *done = false;
  if (x->opt->expected.kind != ES_EXPECT_ANY &&
      !es__expectation_holds(x->opt->expected, in->version)) {
    if ((rc = catch_up(app, in, x->r.message)) != 0)
      return rc;
    caught_up = true;
  }
  /* A catch-up (above, or after a conflict) may have brought in the
   * events of this very command id, executed by another writer. */
  if (caught_up && ((rc = answer_if_seen(x, false, done)) != 0 || *done))
    return rc;
  if (x->opt->expected.kind != ES_EXPECT_ANY &&
      !es__expectation_holds(x->opt->expected, in->version)) {
    x->r.outcome = ES_OUTCOME_CONFLICT;
    return ES_ECONFLICT;
  }
  es_decision_reset(d, x->command);
  rc = x->agg->commands[x->command].decide(in->state, x->value, d);
  if (d->error) {
    x->r.outcome = ES_OUTCOME_REJECTED;
    x->r.error = d->error;
    x->r.error_name = es_decision_error_name(d);
    memcpy(x->r.message, d->message, sizeof x->r.message);
    return ES_EREJECTED;
  }
  if (rc == 0 && d->fault)
    rc = d->fault;
  if (rc == 0 && d->n_emitted == 0) {
    x->r.outcome = ES_OUTCOME_OK;
    note(app, in, &x->command_id, in->version, 0, 0, 0);
    *done = true;
  }
  return rc;
}

/* Turns what decide emitted into events to append, stamped with the
 * command's ids, expecting the version our state is at. */
static int stage_events(execution *x) {
  const es_decision *d = &x->d;
  if (d->n_emitted > x->cap_events) {
    es_new_event *p = es__realloc(x->events == x->small ? NULL : x->events,
                                  d->n_emitted * sizeof *p);
    if (!p)
      return ES_ENOMEM;
    x->events = p;
    x->cap_events = d->n_emitted;
  }
  for (uint32_t i = 0; i < d->n_emitted; i++) {
    es_new_event *e = &x->events[i];
    memset(e, 0, sizeof *e);
    e->type_id = d->emitted[i].type->type_id;
    e->type_version = d->emitted[i].type->version;
    e->correlation_id = x->trace.correlation_id;
    e->causation_id = x->command_id;
    e->payload = d->payloads.data + d->emitted[i].offset;
    e->len = d->emitted[i].len;
  }
  memset(&x->group, 0, sizeof x->group);
  x->group.type = x->agg->name;
  x->group.key = x->in->key;
  x->group.expected = es_expect_exact(x->in->version);
  x->group.events = x->events;
  x->group.n_events = d->n_emitted;
  return 0;
}

/* Append: stores the staged events if the stream is still at the version
 * they were decided on (ES_ECONFLICT otherwise). */
static int append(execution *x) {
  const es_obs *obs = x->app->opt.obs;
  void *span = es__trace_begin(obs, ES_SPAN_APPEND, &x->trace);
  int64_t t0 = es_obs_now_us();
  int rc = es_store_append(x->app->store, &x->group, 1, &x->ar);
  es_metrics_observe_us(metrics(x->app), ES_HIST_APPEND,
                        (uint64_t)(es_obs_now_us() - t0));
  es__trace_end(obs, ES_SPAN_APPEND, &x->trace, span, rc);
  return rc;
}

/* After a version conflict: gives up once max_retries attempts were
 * repeated (ES_ECONFLICT), else brings the state up to the winner's
 * events so that the next decide sees them. */
static int prepare_retry(execution *x) {
  es_app *app = x->app;
  instance *in = x->in;
  int rc;
  if (x->r.retries >= app->opt.max_retries) {
    x->r.outcome = ES_OUTCOME_CONFLICT;
    char a[24];
    es__log(app->opt.obs, ES_LOG_WARN, "command conflicts after retries",
            "aggregate", x->agg->name, "key", in->key, "command",
            x->trace.type_name, "attempts", num(a, x->r.retries + 1), NULL);
    return ES_ECONFLICT;
  }
  x->r.retries++;
  es_metrics_add(metrics(app), ES_CTR_COMMAND_RETRIES, 1);
  if (es__log_enabled(app->opt.obs, ES_LOG_DEBUG)) {
    char a[24], m[24];
    es__log(app->opt.obs, ES_LOG_DEBUG, "conflict; retrying", "aggregate",
            x->agg->name, "key", in->key, "command", x->trace.type_name,
            "attempt", num(a, x->r.retries + 1), "max",
            num(m, (uint64_t)app->opt.max_retries + 1), NULL);
  }
  if ((rc = catch_up(app, in, x->r.message)) != 0)
    return rc;
  /* The winner's events may not be readable yet (a durable store
   * publishes them after their sync): wait for them rather than spin
   * through the retries deciding on the same old state. */
  for (int w = 0; in->version < x->ar.actual_version && w < 100; w++) {
    uint64_t head;
    if (es_store_head(app->store, &head) != 0)
      break;
    es_store_wait(app->store, head, 10000, &head);
    if ((rc = catch_up(app, in, x->r.message)) != 0)
      return rc;
  }
  return 0;
}

/* Apply: folds the stored events into the state exactly as a reload
 * would. An event that does not fold here (it is stored all the same)
 * unloads the state, to be reloaded on next use. */
static void apply(execution *x) {
  const es_obs *obs = x->app->opt.obs;
  instance *in = x->in;
  for (uint32_t i = 0; i < x->d.n_emitted; i++) {
    const es_new_event *e = &x->events[i];
    es_stored_event ev;
    es_trace_info trace = x->trace;
    replay_ctx c;
    void *span = NULL;
    int rc;
    memset(&ev, 0, sizeof ev);
    ev.meta.type_id = e->type_id;
    ev.meta.type_version = e->type_version;
    ev.meta.version = in->version + 1;
    ev.meta.position = x->ar.first_position + i;
    ev.meta.causation_id = e->causation_id;
    ev.payload = e->payload;
    ev.len = e->len;
    if (es__trace_enabled(obs)) {
      trace.type_name = x->d.emitted[i].type->name;
      span = es__trace_begin(obs, ES_SPAN_APPLY, &trace);
    }
    replay_init(&c, x->app, in, true);
    rc = replay_one(&ev, &c);
    if (es__trace_enabled(obs))
      es__trace_end(obs, ES_SPAN_APPLY, &trace, span, rc);
    if (rc != 0) {
      unload(x->app, in);
      return;
    }
  }
}

/* Answer: the result of stored events, then the upkeep they may call for
 * (a snapshot, a compaction, the cache's accounting). */
static void answer(execution *x) {
  es_app *app = x->app;
  instance *in = x->in;
  es_metrics_add(metrics(app), ES_CTR_EVENTS_APPENDED, x->d.n_emitted);
  x->r.outcome = ES_OUTCOME_OK;
  x->r.version = x->group.version;
  x->r.first_position = x->ar.first_position;
  x->r.last_position = x->ar.last_position;
  x->r.n_events = x->d.n_emitted;
  if (es__log_enabled(app->opt.obs, ES_LOG_DEBUG)) {
    char n[24], v[24], p[24], b[24];
    es__log(app->opt.obs, ES_LOG_DEBUG, "events appended", "aggregate",
            x->agg->name, "key", in->key, "count", num(n, x->d.n_emitted),
            "version", num(v, x->r.version), "position",
            num(p, x->ar.last_position), "bytes", num(b, x->d.payloads.len),
            NULL);
  }
  if (!in->loaded)
    return;
  maybe_snapshot(app, in);
  if (es_arena_used(&in->arena) > in->compact_at)
    compact(app, in);
  if (in->loaded)
    account(app, in);
  else
    unload(app, in);
}

/* decide -> append -> apply -> answer, deciding again (up to max_retries
 * times) when another writer appended to the stream first. */
static int decide_append_apply(execution *x) {
  int rc;
  es_decision_init(&x->d, x->agg, x->command);
  for (bool caught_up = false;; caught_up = true) {
    bool done;
    if ((rc = decide(x, caught_up, &done)) != 0 || done)
      break;
    if ((rc = stage_events(x)) != 0)
      break;
    rc = append(x);
    if (rc == ES_ECONFLICT && (rc = prepare_retry(x)) == 0)
      continue;
    if (rc != 0)
      break;
    apply(x);
    answer(x);
    break;
  }
  es_decision_close(&x->d);
  if (rc != 0 && x->r.outcome == ES_OUTCOME_FAILED)
    es__log(x->app->opt.obs, ES_LOG_ERROR, "command failed", "aggregate",
            x->agg->name, "key", x->in->key, "command", x->trace.type_name,
            "error", es_err_name(rc), NULL);
  if (x->r.outcome != ES_OUTCOME_OK || x->r.version == 0)
    x->r.version = x->in->version;
  return rc;
}

/* Counts the command by outcome and records its latency. */
static void count_command(const execution *x, int64_t t0) {
  static const es_counter by_outcome[] = {
      ES_CTR_COMMANDS_OK, ES_CTR_COMMANDS_REJECTED, ES_CTR_COMMANDS_CONFLICT,
      ES_CTR_COMMANDS_FAILED};
  es_metrics *m = metrics(x->app);
  es_metrics_add(m, by_outcome[x->r.outcome], 1);
  es_metrics_observe_us(m, ES_HIST_COMMAND, (uint64_t)(es_obs_now_us() - t0));
}

/* One DEBUG line per command: what it was and how it ended. */
static void log_command(const execution *x, const char *key, int rc) {
  const es_obs *obs = x->app->opt.obs;
  char attempts[24], id[37] = "";
  if (!es__log_enabled(obs, ES_LOG_DEBUG))
    return;
  if (!es__uuid_is_zero(&x->command_id))
    es_uuid_format(&x->command_id, id);
  num(attempts, x->r.retries + 1u);
  if (rc == 0)
    es__log(obs, ES_LOG_DEBUG, "command", "aggregate", x->agg->name, "key", key,
            "command", x->agg->commands[x->command].command->name, "outcome",
            outcome_name(x->r.outcome), "attempts", attempts, "command_id", id,
            "duplicate", x->r.duplicate ? "true" : "false", NULL);
  else
    es__log(obs, ES_LOG_DEBUG, "command", "aggregate", x->agg->name, "key", key,
            "command", x->agg->commands[x->command].command->name, "outcome",
            outcome_name(x->r.outcome), "attempts", attempts, "command_id", id,
            "error",
            rc == ES_EREJECTED && x->r.error_name ? x->r.error_name
                                                  : es_err_name(rc),
            NULL);
}

/* Unlocks the instance and frees what the command held; sweeps the cache
 * when it is over its bounds. */
static void release(execution *x) {
  es_app *app = x->app;
  if (x->events != x->small)
    es__free(x->events);
  pthread_mutex_unlock(&x->in->mu);
  if (atomic_load(&app->bytes) > app->opt.cache_max_bytes ||
      (app->opt.cache_idle_us > 0 &&
       es__now_us() - atomic_load(&app->last_sweep) >
           app->opt.cache_idle_us / 2))
    es_app_evict(app);
}

int es_app_execute_value(es_app *app, const es_aggregate_desc *agg,
                         uint32_t command, const char *key, const void *value,
                         const es_exec_options *opt, es_result *res) {
  execution x;
  bool answered;
  int64_t t0;
  int rc;

  begin_execution(&x, app, agg, command, value, opt);
  if ((rc = check_call(&x, key)) != 0)
    return finish(res, &x.r, rc);
  t0 = es_obs_now_us();
  if ((rc = load_instance(&x, key)) != 0) {
    count_command(&x, t0);
    log_command(&x, key, rc);
    return finish(res, &x.r, rc);
  }
  name_command(&x);
  rc = answer_if_seen(&x, true, &answered);
  if (rc == 0 && !answered) {
    void *span = es__trace_begin(app->opt.obs, ES_SPAN_EXECUTE, &x.trace);
    rc = decide_append_apply(&x);
    es__trace_end(app->opt.obs, ES_SPAN_EXECUTE, &x.trace, span, rc);
  }
  count_command(&x, t0);
  log_command(&x, key, rc);
  release(&x);
  return finish(res, &x.r, rc);
}

int es_app_execute(es_app *app, const char *aggregate, const char *key,
                   const char *command, const void *msgpack, size_t len,
                   const es_exec_options *opt, es_result *res) {
  const es_aggregate_desc *agg;
  const es_type_desc *t;
  es_arena a;
  es_result r;
  void *value;
  int index, rc;

  memset(&r, 0, sizeof r);
  r.outcome = ES_OUTCOME_FAILED;
  if (!app || !aggregate || !command || (!msgpack && len))
    return finish(res, &r, ES_EINVAL);
  agg = es_schema_find_aggregate(app->schema, aggregate);
  if (!agg) {
    snprintf(r.message, sizeof r.message, "schema '%s' has no aggregate '%s'",
             app->schema->name, aggregate);
    return finish(res, &r, ES_EUNKNOWN);
  }
  index = es_aggregate_find_command(agg, command);
  if (index < 0) {
    snprintf(r.message, sizeof r.message, "aggregate '%s' has no command '%s'",
             agg->name, command);
    return finish(res, &r, ES_EUNKNOWN);
  }
  if ((rc = es__key_check_for(agg, key, r.message, sizeof r.message)) != 0)
    return finish(res, &r, rc);
  if (len > app->store->opt.max_event_size) {
    snprintf(r.message, sizeof r.message,
             "command '%s' of %zu bytes, over the store's max_event_size %zu",
             command, len, app->store->opt.max_event_size);
    return finish(res, &r, ES_ETOOBIG);
  }
  t = agg->commands[index].command;
  /* The decoded form can be many times the input (a one-byte empty string
   * becomes a pointer and an aligned allocation): the default limit bounds
   * it, as `len` is already bounded by max_event_size. */
  es_arena_init(&a, 0);
  value = es_arena_alloc(&a, t->size);
  if (!value) {
    es_arena_close(&a);
    return finish(res, &r, ES_ENOMEM);
  }
  rc = es_type_decode(t, value, msgpack ? msgpack : "", len, &a);
  if (rc != 0) {
    es_arena_close(&a);
    es__decode_why(t, "command", msgpack ? msgpack : "", len, rc, r.message,
                   sizeof r.message);
    return finish(res, &r, rc);
  }
  rc = es_app_execute_value(app, agg, (uint32_t)index, key, value, opt, res);
  es_arena_close(&a);
  return rc;
}

int es_app_read_state(es_app *app, const es_aggregate_desc *agg,
                      const char *key,
                      int (*fn)(const void *state, uint64_t version, void *ctx),
                      void *ctx) {
  instance *in;
  char why[ES_MESSAGE_MAX];
  int rc;
  if (!app || !agg || !agg->state || !fn)
    return ES_EINVAL;
  if (!es__in_schema(app->schema, agg))
    return ES_EUNKNOWN;
  if ((rc = es__key_check_for(agg, key, why, sizeof why)) != 0)
    return rc;
  if ((rc = get_instance(app, agg, key, &in)) != 0)
    return rc;
  pthread_mutex_lock(&in->mu);
  atomic_store_explicit(&in->last_used, es__now_us(), memory_order_relaxed);
  if (!in->loaded) {
    atomic_fetch_add_explicit(&app->misses, 1, memory_order_relaxed);
    rc = load(app, in, NULL);
  } else {
    atomic_fetch_add_explicit(&app->hits, 1, memory_order_relaxed);
    /* Another process may have appended: a reader wants the latest. */
    rc = catch_up(app, in, NULL);
    if (rc == 0)
      account(app, in);
  }
  if (rc == 0)
    rc = fn(in->state, in->version, ctx);
  pthread_mutex_unlock(&in->mu);
  return rc;
}

/* ---- eviction ------------------------------------------------------------ */

static int by_last_used(const void *x, const void *y) {
  const instance *a = *(instance *const *)x, *b = *(instance *const *)y;
  int64_t ta = atomic_load_explicit(&a->last_used, memory_order_relaxed);
  int64_t tb = atomic_load_explicit(&b->last_used, memory_order_relaxed);
  return ta < tb ? -1 : ta > tb;
}

size_t es_app_evict(es_app *app) {
  instance **loaded = NULL, *in;
  size_t n = 0, i = 0, evicted = 0;
  int64_t now = es__now_us();

  if (!app || pthread_mutex_trylock(&app->sweep_mu) != 0)
    return 0;
  atomic_store(&app->last_sweep, now);
  pthread_mutex_lock(&app->mu);
  loaded = es__malloc((app->table.n ? app->table.n : 1) * sizeof *loaded);
  if (loaded)
    while ((in = es__hashmap_next(&app->table, &i)) != NULL)
      loaded[n++] = in;
  pthread_mutex_unlock(&app->mu);
  if (!loaded)
    goto done;
  qsort(loaded, n, sizeof *loaded, by_last_used);
  /* Least recently used first: idle ones, then while over the bound (down
   * to 90% of it, so a busy cache does not sweep on every command). */
  for (i = 0; i < n; i++) {
    in = loaded[i];
    int64_t idle =
        now - atomic_load_explicit(&in->last_used, memory_order_relaxed);
    bool over = atomic_load(&app->bytes) > app->opt.cache_max_bytes / 10 * 9;
    bool stale = app->opt.cache_idle_us > 0 && idle >= app->opt.cache_idle_us;
    if (!stale && !over)
      break;
    if (pthread_mutex_trylock(&in->mu) != 0)
      continue;
    if (in->loaded) {
      unload(app, in);
      evicted++;
      es__log(app->opt.obs, ES_LOG_DEBUG, "instance evicted", "aggregate",
              in->agg->name, "key", in->key, NULL);
    }
    pthread_mutex_unlock(&in->mu);
  }
  atomic_fetch_add(&app->evictions, evicted);
  es_metrics_add(metrics(app), ES_CTR_CACHE_EVICTIONS, evicted);
done:
  es__free(loaded);
  pthread_mutex_unlock(&app->sweep_mu);
  return evicted;
}

void es_app_stats_get(es_app *app, es_app_stats *s) {
  if (!s)
    return;
  memset(s, 0, sizeof *s);
  if (!app)
    return;
  pthread_mutex_lock(&app->mu);
  s->instances = app->table.n;
  pthread_mutex_unlock(&app->mu);
  s->loaded = atomic_load(&app->loaded);
  s->bytes = atomic_load(&app->bytes);
  s->hits = atomic_load(&app->hits);
  s->misses = atomic_load(&app->misses);
  s->evictions = atomic_load(&app->evictions);
  s->snapshots = atomic_load(&app->snapshots);
  s->replayed = atomic_load(&app->replayed);
}
