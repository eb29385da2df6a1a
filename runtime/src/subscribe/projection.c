/*
 * projection.c - the projection runner: a subscription on the global
 * order filtered by the projection's event types, decoding (with
 * upcasting) into a per-batch arena, handlers, checkpoints kept by the
 * store or committed by the user, retries with capped exponential backoff
 * and jitter, a live thread woken by appends, and the lag gauge.
 *
 * Locking: p->mu guards the stats, the thread state and the backoff
 * condition; it is never held while a handler, a hook or the store runs.
 * The position is an atomic so that lag can be read from any thread.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es/es_error.h"
#include "es/es_projection.h"
#include "es/es_subscription.h"
#include "es/es_version.h"
#include "schema/event_decode.h"
#include "store/store_pg_tx.h"
#include "store/store_util.h"
#include "subscribe/leader.h"
#include "subscribe/projection_tx.h"
#include "util/alloc.h"

/* One event type the projection handles. */
typedef struct route {
  uint64_t type_id;
  const es_event_route *event; /* its route in the aggregate */
  es_projection_fn handler;
} route;

struct es_projection {
  const es_projection_desc *desc;
  es_store *store;
  es_projection_options opt; /* defaults filled in */
  char checkpoint[sizeof ES_PROJECTION_CHECKPOINT_PREFIX + ES_KEY_MAX];

  route *routes; /* sorted by type_id */
  size_t n_routes;
  es_subscription sub;       /* sub.position: runner thread only */
  _Atomic uint64_t position; /* mirror of sub.position for other threads */
  uint64_t committed;        /* last position made durable */
  es_arena arena;            /* reset after every batch */
  uint64_t rng[4];
  uint32_t attempts; /* failures in a row */
  int gauge;         /* lag gauge id, -1: none */

  /* The event being handled and the outcome of the last handler. */
  uint64_t failed_at;
  int fail_rc;
  bool stop_seen;

  pthread_mutex_t mu;
  pthread_cond_t cv; /* backoff waits; signalled by stop */
  es_projection_report total;
  es_projection_report *run; /* the current run's report, or NULL */
  pthread_t thread;
  bool started; /* a thread exists (joinable) */
  bool live;    /* it is running its loop */
  _Atomic bool stop;
  es__leader leader; /* the live thread's lease, named like the checkpoint */

  /* Opened by es_projection_open_pg(): each batch is a transaction on a
   * connection of the PostgreSQL store, which also writes the checkpoint.
   * Runner thread only. */
  bool pg;
  void *tx;        /* the batch's connection (PGconn *), NULL: none yet */
  bool in_handler; /* a handler is running: es_projection_pg_conn() works */
  bool reload;     /* the position must be re-read from the checkpoint */
  /* The store-kept checkpoint is moved by compare-and-set (PostgreSQL):
   * from `committed`, failing when another process moved it. */
  bool cas;
};

/* ---- helpers ------------------------------------------------------------ */

static es_metrics *metrics(const es_projection *p) {
  return p->opt.obs ? p->opt.obs->metrics : NULL;
}

static int cmp_route(const void *x, const void *y) {
  uint64_t a = ((const route *)x)->type_id, b = ((const route *)y)->type_id;
  return a < b ? -1 : a > b;
}

static const route *find_route(const es_projection *p, uint64_t type_id) {
  route key;
  key.type_id = type_id;
  return bsearch(&key, p->routes, p->n_routes, sizeof *p->routes, cmp_route);
}

static void set_position(es_projection *p, uint64_t pos) {
  p->sub.position = pos;
  atomic_store(&p->position, pos);
}

/* Adds `n` to a field of the run's report and of the totals. */
#define COUNT(p, field, n)                                                     \
  do {                                                                         \
    pthread_mutex_lock(&(p)->mu);                                              \
    (p)->total.field += (n);                                                   \
    if ((p)->run)                                                              \
      (p)->run->field += (n);                                                  \
    pthread_mutex_unlock(&(p)->mu);                                            \
  } while (0)

static void note_failure(es_projection *p, int rc, uint64_t at) {
  pthread_mutex_lock(&p->mu);
  p->total.errors++;
  p->total.last_error = rc;
  p->total.failed_position = at;
  if (p->run) {
    p->run->errors++;
    p->run->last_error = rc;
    p->run->failed_position = at;
  }
  pthread_mutex_unlock(&p->mu);
}

static void update_lag(es_projection *p) {
  if (p->gauge >= 0)
    es_metrics_gauge_set(metrics(p), p->gauge, (int64_t)es_projection_lag(p));
}

static void log_failure(es_projection *p, int level, const char *msg, int rc,
                        uint64_t at) {
  char pos[24], attempt[16], code[16];
  if (!es__log_enabled(p->opt.obs, level))
    return;
  snprintf(pos, sizeof pos, "%llu", (unsigned long long)at);
  snprintf(attempt, sizeof attempt, "%u", p->attempts);
  snprintf(code, sizeof code, "%d", rc);
  es__log(p->opt.obs, level, msg, "projection", p->desc->name, "position", pos,
          "attempt", attempt, "rc", code, "error",
          rc < 0 ? es_err_name(rc) : "handler", NULL);
}

/* ---- one batch ---------------------------------------------------------- */

static int on_event(const es_stored_event *ev, void *arg) {
  es_projection *p = arg;
  const route *r;
  es_trace_info ti;
  void *value, *span = NULL;
  int rc;

  if (atomic_load_explicit(&p->stop, memory_order_relaxed)) {
    p->stop_seen = true;
    return 1; /* ends the batch before this event */
  }
  r = find_route(p, ev->meta.type_id);
  if (!r) /* the subscription filters; cannot happen */
    return 0;
  p->failed_at = ev->meta.position;
  rc = es__event_decode_route(r->event, ev->meta.type_version, ev->payload,
                              ev->len, &p->arena, NULL, &value);
  if (rc == 0) {
    bool traced = es__trace_enabled(p->opt.obs);
    if (traced) {
      ti.aggregate = ev->meta.aggregate;
      ti.key = ev->meta.key;
      ti.type_name = r->event->event->name;
      ti.correlation_id = ev->meta.correlation_id;
      ti.causation_id = ev->meta.causation_id;
      span = es__trace_begin(p->opt.obs, ES_SPAN_DISPATCH, &ti);
    }
    p->in_handler = true;
    rc = r->handler(value, &ev->meta, p->opt.ctx);
    p->in_handler = false;
    if (traced)
      es__trace_end(p->opt.obs, ES_SPAN_DISPATCH, &ti, span, rc);
  }
  if (rc != 0) {
    p->fail_rc = rc;
    return rc;
  }
  p->failed_at = 0;
  return 0;
}

/* Makes position `pos` durable (in-memory: as durable as the model).
 * On PostgreSQL the checkpoint moves only from the position this runner
 * last committed: ES_ECONFLICT when another process moved it. */
static int persist(es_projection *p, uint64_t pos) {
  int rc = 0;
  if (p->opt.commit)
    rc = p->opt.commit(p->opt.ctx, pos);
  else if (p->pg || p->cas) { /* the batch's transaction, or alone */
    rc = es__pg_tx_commit(p->store, p->tx, p->checkpoint, p->committed, pos);
    p->tx = NULL;
  } else if (!p->opt
                  .in_memory) /* in memory, the position goes with the model */
    rc = es_store_checkpoint_put(p->store, p->checkpoint, pos, NULL, 0);
  if (rc == 0)
    p->committed = pos;
  else if (rc == ES_ECONFLICT) /* another process ran it: do we still lead? */
    es__leader_doubt(&p->leader);
  return rc;
}

/* After a failure in user-kept mode: undo and go back to what is
 * committed. */
static void rewind_to_committed(es_projection *p) {
  if (p->opt.rollback)
    p->opt.rollback(p->opt.ctx);
  set_position(p, p->committed);
}

static int load_position(es_projection *p, uint64_t *pos);

/* After a failure with a transaction per batch, or a checkpoint another
 * process moved: roll the batch back and go back to the checkpoint, which
 * says what committed (a failed COMMIT may have committed). When it
 * cannot be read now, the next batch reads it. */
static void pg_rewind(es_projection *p) {
  uint64_t pos;

  es__pg_tx_rollback(p->store, p->tx);
  p->tx = NULL;
  if (load_position(p, &pos) != 0) {
    p->reload = true;
    return;
  }
  p->reload = false;
  set_position(p, pos);
  p->committed = pos;
}

/* Catching up, one DEBUG line per batch: events handled, position
 * reached. */
static void log_batch(es_projection *p, uint32_t handled) {
  char n[16], pos[24];
  if (!es__log_enabled(p->opt.obs, ES_LOG_DEBUG))
    return;
  snprintf(n, sizeof n, "%u", handled);
  snprintf(pos, sizeof pos, "%llu", (unsigned long long)p->sub.position);
  es__log(p->opt.obs, ES_LOG_DEBUG, "projection batch", "projection",
          p->desc->name, "count", n, "position", pos, NULL);
}

/* Reads and handles one batch. Returns 0 with `*idle` telling whether
 * there was nothing to read, or the failure (already accounted for). */
static int batch(es_projection *p, bool *idle) {
  uint64_t start = p->sub.position;
  uint32_t delivered = 0;
  int rc, prc;

  *idle = false;
  p->failed_at = 0;
  p->fail_rc = 0;
  p->stop_seen = false;
  if (p->reload) {
    pg_rewind(p);
    if (p->reload) {
      rc = load_position(p, &start); /* the error, to retry after backoff */
      note_failure(p, rc ? rc : ES_EIO, 0);
      return rc ? rc : ES_EIO;
    }
    start = p->sub.position;
  }
  rc =
      es_subscription_poll(&p->sub, p->opt.batch_size, on_event, p, &delivered);
  atomic_store(&p->position, p->sub.position);
  if (delivered)
    COUNT(p, events, delivered);
  if (p->stop_seen && rc == 1 && p->fail_rc == 0)
    rc = 0;

  if (rc == 0) {
    if (p->sub.position == start) {
      if (p->tx) { /* nothing read: nothing to commit */
        es__pg_tx_rollback(p->store, p->tx);
        p->tx = NULL;
      }
      es_arena_reset(&p->arena);
      *idle = true;
      return 0;
    }
    prc = persist(p, p->sub.position);
    es_arena_reset(&p->arena);
    if (prc != 0) {
      note_failure(p, prc, 0);
      log_failure(p, ES_LOG_WARN, "projection checkpoint failed", prc,
                  p->sub.position);
      if (p->opt.commit)
        rewind_to_committed(p);
      else if (p->pg || prc == ES_ECONFLICT)
        pg_rewind(p);
      /* store-kept: the read model has the events; the checkpoint lags
       * and is written again by the next batch */
      return prc;
    }
    COUNT(p, batches, 1);
    log_batch(p, delivered);
    return 0;
  }

  /* A failure: at an event (handler or decode), or in the store. */
  note_failure(p, rc, p->failed_at);
  log_failure(p, ES_LOG_WARN, "projection event failed", rc, p->failed_at);
  if (p->pg) {
    pg_rewind(p);
  } else if (p->opt.commit && p->opt.rollback) {
    rewind_to_committed(p);
  } else if (p->sub.position > start) {
    /* keep the events handled before the failure */
    prc = persist(p, p->sub.position);
    if (prc != 0) {
      note_failure(p, prc, 0);
      if (p->opt.commit)
        rewind_to_committed(p);
      else if (prc == ES_ECONFLICT)
        pg_rewind(p);
    } else {
      COUNT(p, batches, 1);
    }
  }
  es_arena_reset(&p->arena);
  return rc;
}

/* ---- the loop ----------------------------------------------------------- */

/* Waits `us` (or until asked to stop); false when asked to stop. */
static bool pause_us(es_projection *p, int64_t us) {
  struct timespec ts;
  bool stopped;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += (time_t)(us / 1000000);
  ts.tv_nsec += (long)(us % 1000000) * 1000;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&p->mu);
  while (!(stopped = atomic_load(&p->stop)))
    if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0)
      break;
  pthread_mutex_unlock(&p->mu);
  return !stopped;
}

/* Waits the backoff for the current attempt; false when asked to stop. */
static bool backoff(es_projection *p) {
  int64_t wait = p->opt.retry_base_us;
  uint64_t jitter;

  for (uint32_t i = 1; i < p->attempts && wait < p->opt.retry_max_us; i++)
    wait *= 2;
  if (wait > p->opt.retry_max_us)
    wait = p->opt.retry_max_us;
  pthread_mutex_lock(&p->mu);
  jitter = es__rng_next(p->rng);
  pthread_mutex_unlock(&p->mu);
  return pause_us(p, wait / 2 + (int64_t)(jitter % (uint64_t)(wait / 2 + 1)));
}

/* Whether this process runs the projection now (its lease). Having just
 * become the one, it resumes from the checkpoint another process may
 * have moved meanwhile. */
static bool leading(es_projection *p) {
  int lead = es__leader_poll(&p->leader), rc;
  uint64_t pos;

  if (lead == ES__LEADING)
    return true;
  if (lead == ES__NEW_LEADER) {
    if ((rc = load_position(p, &pos)) == 0) {
      set_position(p, pos);
      p->committed = pos;
      es__log(p->opt.obs, ES_LOG_INFO, "projection leading", "projection",
              p->desc->name, NULL);
      return true;
    }
    log_failure(p, ES_LOG_WARN, "projection reload failed", rc, 0);
    es__leader_release(&p->leader);
  }
  (void)pause_us(p, ES__LEADER_RETRY_US);
  return false;
}

/* Runs batches until caught up (`live` false), or until stopped. */
static int loop(es_projection *p, bool live) {
  bool idle;
  int rc;

  p->attempts = 0;
  pthread_mutex_lock(&p->mu);
  p->total.stalled = false;
  pthread_mutex_unlock(&p->mu);
  while (!atomic_load(&p->stop)) {
    if (live && !leading(p))
      continue;
    rc = batch(p, &idle);
    update_lag(p);
    if (rc != 0) {
      if (++p->attempts >= p->opt.max_attempts) {
        log_failure(p, ES_LOG_ERROR, "projection stalled", rc, p->failed_at);
        pthread_mutex_lock(&p->mu);
        p->total.stalled = true;
        if (p->run)
          p->run->stalled = true;
        pthread_mutex_unlock(&p->mu);
        return rc;
      }
      if (!backoff(p))
        break;
      COUNT(p, retries, 1);
      continue;
    }
    p->attempts = 0;
    if (!idle)
      continue;
    if (!live)
      return 0;
    if (atomic_load(&p->stop))
      break;
    /* ES_ETIMEDOUT: look at the stop flag; ES_EINTERRUPTED: someone
     * interrupted the store's waiters; either way, go round again. */
    (void)es_subscription_wait(&p->sub, p->opt.idle_wait_us);
  }
  return 0;
}

static void *thread_main(void *arg) {
  es_projection *p = arg;
  es__log(p->opt.obs, ES_LOG_INFO, "projection started", "projection",
          p->desc->name, NULL);
  (void)loop(p, true);
  es__leader_release(&p->leader);
  pthread_mutex_lock(&p->mu);
  p->live = false;
  pthread_mutex_unlock(&p->mu);
  es__log(p->opt.obs, ES_LOG_INFO, "projection stopped", "projection",
          p->desc->name, NULL);
  return NULL;
}

/* ---- the API ------------------------------------------------------------ */

static bool in_schema(const es_schema_desc *schema,
                      const es_projection_desc *proj) {
  for (uint32_t i = 0; i < schema->n_projections; i++)
    if (schema->projections[i] == proj)
      return true;
  return false;
}

static int load_position(es_projection *p, uint64_t *pos) {
  int rc;
  *pos = 0;
  if (p->opt.in_memory)
    return 0; /* the model starts empty: rebuild it all */
  if (p->opt.load_position)
    return p->opt.load_position(p->opt.ctx, pos);
  rc = es_store_checkpoint_get(p->store, p->checkpoint, pos, NULL);
  if (rc == ES_ENOTFOUND) {
    *pos = 0;
    rc = 0;
  }
  return rc;
}

int es_projection_open(es_projection **out, const es_schema_desc *schema,
                       const es_projection_desc *proj, es_store *store,
                       const es_projection_options *opt) {
  es_projection *p = NULL;
  uint64_t *types = NULL, pos;
  bool mu = false, cv = false, sub = false;
  size_t name_len;
  int rc = ES_EINVAL;

  if (!out)
    return ES_EINVAL;
  *out = NULL;
  if (!schema || !proj || !store || !proj->name)
    return ES_EINVAL;
  if (schema->abi != ES_ABI_VERSION)
    return ES_EVERSION;
  name_len = strlen(proj->name);
  if (!in_schema(schema, proj) || proj->n_handlers == 0 || name_len == 0 ||
      name_len + strlen(ES_PROJECTION_CHECKPOINT_PREFIX) > ES_KEY_MAX)
    return ES_EINVAL;
  if (opt &&
      (!opt->load_position != !opt->commit || (opt->rollback && !opt->commit) ||
       (opt->in_memory && opt->commit)))
    return ES_EINVAL;

  rc = ES_ENOMEM;
  if (!(p = es__calloc(1, sizeof *p)))
    goto fail;
  p->desc = proj;
  p->store = store;
  p->gauge = -1;
  p->leader.store = store;
  p->leader.name = p->checkpoint;
  if (opt)
    p->opt = *opt;
  if (!p->opt.batch_size)
    p->opt.batch_size = ES_PROJECTION_DEFAULT_BATCH;
  if (!p->opt.max_attempts)
    p->opt.max_attempts = ES_PROJECTION_DEFAULT_MAX_ATTEMPTS;
  if (p->opt.retry_base_us <= 0)
    p->opt.retry_base_us = ES_PROJECTION_DEFAULT_RETRY_BASE_US;
  if (p->opt.retry_max_us <= 0)
    p->opt.retry_max_us = ES_PROJECTION_DEFAULT_RETRY_MAX_US;
  if (p->opt.retry_max_us < p->opt.retry_base_us)
    p->opt.retry_max_us = p->opt.retry_base_us;
  if (p->opt.idle_wait_us <= 0)
    p->opt.idle_wait_us = ES_PROJECTION_DEFAULT_IDLE_WAIT_US;
  snprintf(p->checkpoint, sizeof p->checkpoint, "%s%s",
           ES_PROJECTION_CHECKPOINT_PREFIX, proj->name);

  p->routes = es__calloc(proj->n_handlers, sizeof *p->routes);
  types = es__calloc(proj->n_handlers, sizeof *types);
  if (!p->routes || !types)
    goto fail;
  rc = ES_EINVAL;
  for (uint32_t i = 0; i < proj->n_handlers; i++) {
    const es_projection_handler *h = &proj->handlers[i];
    if (!h->aggregate || !h->handler || h->event >= h->aggregate->n_events)
      goto fail;
    p->routes[i].event = &h->aggregate->events[h->event];
    p->routes[i].type_id = p->routes[i].event->event->type_id;
    p->routes[i].handler = h->handler;
  }
  p->n_routes = proj->n_handlers;
  qsort(p->routes, p->n_routes, sizeof *p->routes, cmp_route);
  for (size_t i = 0; i < p->n_routes; i++) {
    if (i && p->routes[i].type_id == p->routes[i - 1].type_id)
      goto fail; /* two handlers for one event */
    types[i] = p->routes[i].type_id;
  }

  rc = ES_ENOMEM;
  if (pthread_mutex_init(&p->mu, NULL) != 0)
    goto fail;
  mu = true;
  if (es__cond_init_monotonic(&p->cv) != 0)
    goto fail;
  cv = true;
  es_arena_init(&p->arena, 0);
  es__rng_seed(p->rng, p);

  if ((rc = load_position(p, &pos)) != 0)
    goto fail;
  if ((rc = es_subscription_init(&p->sub, store, pos, types, p->n_routes)) != 0)
    goto fail;
  sub = true;
  set_position(p, pos);
  p->committed = pos;
  p->total.position = pos;
  p->cas = !p->opt.commit && !p->opt.in_memory && es__pg_store_is(store);

  if (metrics(p) &&
      es_metrics_gauge_register(metrics(p), ES_GAUGE_PROJECTION_LAG, proj->name,
                                &p->gauge) != 0) {
    p->gauge = -1;
    es__log(p->opt.obs, ES_LOG_WARN, "projection lag gauge not registered",
            "projection", proj->name, NULL);
  }
  update_lag(p);
  es__free(types);
  *out = p;
  return 0;

fail:
  es__free(types);
  if (p) {
    if (sub)
      es_subscription_close(&p->sub);
    es_arena_close(&p->arena);
    if (cv)
      pthread_cond_destroy(&p->cv);
    if (mu)
      pthread_mutex_destroy(&p->mu);
    es__free(p->routes);
    es__free(p);
  }
  return rc;
}

void es_projection_close(es_projection *p) {
  if (!p)
    return;
  es_projection_stop(p);
  es__pg_tx_rollback(p->store, p->tx);
  es_subscription_close(&p->sub);
  es_arena_close(&p->arena);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  es__free(p->routes);
  es__free(p);
}

int es_projection_run_until_caught_up(es_projection *p,
                                      es_projection_report *report) {
  es_projection_report local;
  int rc;

  if (report)
    memset(report, 0, sizeof *report);
  if (!p)
    return ES_EINVAL;
  memset(&local, 0, sizeof local);
  pthread_mutex_lock(&p->mu);
  if (p->started || p->run) {
    pthread_mutex_unlock(&p->mu);
    return ES_EINVAL;
  }
  p->run = &local;
  pthread_mutex_unlock(&p->mu);

  rc = loop(p, false);

  pthread_mutex_lock(&p->mu);
  p->run = NULL;
  pthread_mutex_unlock(&p->mu);
  local.position = p->sub.position;
  if (report)
    *report = local;
  return rc;
}

int es_projection_start(es_projection *p) {
  int rc = 0;
  if (!p)
    return ES_EINVAL;
  pthread_mutex_lock(&p->mu);
  if (p->started || p->run) {
    rc = ES_EINVAL;
    goto out;
  }
  atomic_store(&p->stop, false);
  p->live = true;
  if (pthread_create(&p->thread, NULL, thread_main, p) != 0) {
    p->live = false;
    rc = ES_ENOMEM;
    goto out;
  }
  p->started = true;
out:
  pthread_mutex_unlock(&p->mu);
  return rc;
}

void es_projection_stop(es_projection *p) {
  pthread_t t;
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  if (!p->started) {
    pthread_mutex_unlock(&p->mu);
    return;
  }
  atomic_store(&p->stop, true);
  pthread_cond_broadcast(&p->cv);
  t = p->thread;
  pthread_mutex_unlock(&p->mu);
  pthread_join(t, NULL);
  pthread_mutex_lock(&p->mu);
  p->started = false;
  atomic_store(&p->stop, false);
  pthread_mutex_unlock(&p->mu);
}

bool es_projection_running(es_projection *p) {
  bool live;
  if (!p)
    return false;
  pthread_mutex_lock(&p->mu);
  live = p->started && p->live;
  pthread_mutex_unlock(&p->mu);
  return live;
}

/* Sets the checkpoint to 0 whoever moved it last. */
static int reset_checkpoint(es_projection *p) {
  int rc = 0;
  if (p->opt.commit)
    rc = p->opt.commit(p->opt.ctx, 0);
  else if (!p->opt.in_memory)
    rc = es_store_checkpoint_put(p->store, p->checkpoint, 0, NULL, 0);
  if (rc == 0)
    p->committed = 0;
  return rc;
}

int es_projection_rebuild(es_projection *p) {
  int rc;
  if (!p)
    return ES_EINVAL;
  pthread_mutex_lock(&p->mu);
  rc = p->started || p->run ? ES_EINVAL : 0;
  pthread_mutex_unlock(&p->mu);
  if (rc != 0)
    return rc;
  if ((rc = reset_checkpoint(p)) != 0)
    return rc;
  set_position(p, 0);
  p->attempts = 0;
  pthread_mutex_lock(&p->mu);
  p->total.stalled = false;
  pthread_mutex_unlock(&p->mu);
  es__log(p->opt.obs, ES_LOG_INFO, "projection rebuild", "projection",
          p->desc->name, NULL);
  update_lag(p);
  return 0;
}

uint64_t es_projection_lag(es_projection *p) {
  uint64_t head, pos;
  if (!p || es_store_head(p->store, &head) != 0)
    return 0;
  pos = atomic_load(&p->position);
  return head > pos ? head - pos : 0;
}

uint64_t es_projection_position(es_projection *p) {
  return p ? atomic_load(&p->position) : 0;
}

int es_projection_stats(es_projection *p, es_projection_report *out) {
  if (!p || !out)
    return ES_EINVAL;
  pthread_mutex_lock(&p->mu);
  *out = p->total;
  pthread_mutex_unlock(&p->mu);
  out->position = atomic_load(&p->position);
  return 0;
}

const char *es_projection_name(const es_projection *p) {
  return p ? p->desc->name : "";
}

const char *es_projection_checkpoint_name(const es_projection *p) {
  return p ? p->checkpoint : "";
}

/* ---- a transaction per batch (es_projection_pg.h) ----------------------- */

int es__projection_open_tx(es_projection **out, const es_schema_desc *schema,
                           const es_projection_desc *proj, es_store *store,
                           const es_projection_options *opt) {
  void *conn;
  int rc;

  if (!out)
    return ES_EINVAL;
  *out = NULL;
  if (opt &&
      (opt->load_position || opt->commit || opt->rollback || opt->in_memory))
    return ES_EINVAL;
  /* a PostgreSQL store open for writing: a transaction can begin */
  if ((rc = es__pg_tx_begin(store, &conn)) != 0)
    return rc;
  es__pg_tx_rollback(store, conn);
  if ((rc = es_projection_open(out, schema, proj, store, opt)) != 0)
    return rc;
  (*out)->pg = true;
  return 0;
}

void *es__projection_tx_conn(es_projection *p) {
  if (!p || !p->pg || !p->in_handler)
    return NULL;
  if (!p->tx && es__pg_tx_begin(p->store, &p->tx) != 0)
    p->tx = NULL;
  return p->tx;
}
