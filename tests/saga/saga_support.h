/*
 * saga_support.h - a bank world for the saga runner tests: a store (with
 * injectable append failures), the executor, the MoneyTransfer runner on
 * a settable clock, and readers of balances, transfer status and the
 * commands' events.
 */
#ifndef SAGA_SUPPORT_H
#define SAGA_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bank_app.h"
#include "es/es_saga_run.h"

/* A store that forwards to another and fails appends to streams of type
 * `fail_type` with `fail_rc` while `fail_left` > 0. */
typedef struct flaky_store {
  es_store base;
  es_store *inner;
  const char *fail_type;
  int fail_rc;
  int fail_left;
  int failed;
} flaky_store;

static flaky_store *flaky_of(es_store *s) { return (flaky_store *)s; }

static void fl_close(es_store *s) { (void)s; }
static int fl_append(es_store *s, es_append_stream *g, uint32_t n,
                     es_append_result *res) {
  flaky_store *f = flaky_of(s);
  for (uint32_t i = 0; i < n; i++)
    if (f->fail_left > 0 && f->fail_type && !strcmp(g[i].type, f->fail_type)) {
      f->fail_left--;
      f->failed++;
      return f->fail_rc;
    }
  return es_store_append(f->inner, g, n, res);
}
static int fl_read_stream(es_store *s, const char *t, const char *k,
                          uint64_t from, uint32_t max, es_event_fn fn,
                          void *ctx) {
  return es_store_read_stream(flaky_of(s)->inner, t, k, from, max, fn, ctx);
}
static int fl_read_all(es_store *s, uint64_t from, uint32_t max, es_event_fn fn,
                       void *ctx) {
  return es_store_read_all(flaky_of(s)->inner, from, max, fn, ctx);
}
static int fl_wait(es_store *s, uint64_t after, int64_t t, uint64_t *head) {
  return es_store_wait(flaky_of(s)->inner, after, t, head);
}
static void fl_interrupt(es_store *s) {
  es_store_interrupt(flaky_of(s)->inner);
}
static int fl_head(es_store *s, uint64_t *p) {
  return es_store_head(flaky_of(s)->inner, p);
}
static int fl_version(es_store *s, const char *t, const char *k, uint64_t *v) {
  return es_store_stream_version(flaky_of(s)->inner, t, k, v);
}
static int fl_snap_put(es_store *s, const char *t, const char *k,
                       const es_snapshot_info *i, const void *d, size_t n) {
  return es_store_snapshot_put(flaky_of(s)->inner, t, k, i, d, n);
}
static int fl_snap_get(es_store *s, const char *t, const char *k,
                       es_snapshot_info *i, es_buf *d) {
  return es_store_snapshot_get(flaky_of(s)->inner, t, k, i, d);
}
static int fl_cp_put(es_store *s, const char *n, uint64_t p, const void *d,
                     size_t len) {
  return es_store_checkpoint_put(flaky_of(s)->inner, n, p, d, len);
}
static int fl_cp_get(es_store *s, const char *n, uint64_t *p, es_buf *d) {
  return es_store_checkpoint_get(flaky_of(s)->inner, n, p, d);
}

static int fl_cmd_find(es_store *s, const es_uuid *id, es_command_record *out) {
  return es_store_command_find(flaky_of(s)->inner, id, out);
}

static const es_store_ops flaky_ops = {
    "flaky",     fl_close,     fl_append, fl_read_stream, fl_read_all,
    fl_wait,     fl_interrupt, fl_head,   fl_version,     fl_snap_put,
    fl_snap_get, fl_cp_put,    fl_cp_get, fl_cmd_find,    NULL};

typedef struct world {
  es_store *mem;
  flaky_store flaky;
  es_store *store; /* &flaky.base */
  es_app *app;
  es_saga_runner *r;
  int64_t now;
  char dl_path[64]; /* a dead-letter file of an earlier version */
  es_saga_options opt;
  es_saga_report rep;
} world;

static int64_t w_clock(void *ctx) { return ((world *)ctx)->now; }
static void w_nosleep(void *ctx, int64_t us) {
  (void)ctx;
  (void)us;
}

#define HOUR INT64_C(3600000000)

static void w_open_runner(world *w) {
  cr_assert_eq(es_saga_runner_open(&w->r, w->app, &bank_money_transfer_saga,
                                   w->store, &w->opt),
               0);
}

/* Closes the runner and the app without anything a clean shutdown would
 * do, as a crash would (the store survives: it is the "disk"). */
static void w_restart(world *w) {
  es_saga_runner_close(w->r);
  es_app_close(w->app);
  cr_assert_eq(es_app_open(&w->app, &bank_schema, w->store, NULL), 0);
  w_open_runner(w);
}

static void w_init(world *w) {
  memset(w, 0, sizeof *w);
  cr_assert_eq(es_store_open_memory(&w->mem, NULL), 0);
  w->flaky.base.ops = &flaky_ops;
  w->flaky.base.opt = w->mem->opt;
  w->flaky.inner = w->mem;
  w->store = &w->flaky.base;
  w->now = INT64_C(1700000000000000);
  snprintf(w->dl_path, sizeof w->dl_path, "/tmp/es-saga-dl-%ld-XXXXXX",
           (long)getpid());
  {
    int fd = mkstemp(w->dl_path);
    cr_assert(fd >= 0);
    close(fd);
  }
  w->opt = (es_saga_options)ES_SAGA_OPTIONS_INIT;
  w->opt.now_us = w_clock;
  w->opt.clock_ctx = w;
  w->opt.sleep_us = w_nosleep;
  cr_assert_eq(es_app_open(&w->app, &bank_schema, w->store, NULL), 0);
  w_open_runner(w);
}

static void w_fini(world *w) {
  es_saga_runner_close(w->r);
  es_app_close(w->app);
  es_store_close(w->mem);
  unlink(w->dl_path);
  {
    char moved[80];
    snprintf(moved, sizeof moved, "%s.migrated", w->dl_path);
    unlink(moved);
  }
}

static int w_run(world *w) {
  return es_saga_run_until_caught_up(w->r, &w->rep);
}

static void w_open_account(world *w, const char *key, int64_t initial) {
  bank_account_open c;
  bank_account_open_init(&c);
  c.owner = key;
  c.initial = initial;
  cr_assert_eq(bank_account_execute_open(w->app, key, &c, NULL, NULL), 0);
}

static void w_start(world *w, const char *id, const char *from, const char *to,
                    int64_t amount) {
  bank_transfer_start c;
  bank_transfer_start_init(&c);
  c.from = from;
  c.to = to;
  c.amount = amount;
  cr_assert_eq(bank_transfer_execute_start(w->app, id, &c, NULL, NULL), 0);
}

static int read_balance(const void *state, uint64_t v, void *ctx) {
  (void)v;
  *(int64_t *)ctx = ((const bank_account_state *)state)->balance;
  return 0;
}

static int64_t w_balance(world *w, const char *key) {
  int64_t b = INT64_MIN;
  cr_assert_eq(
      es_app_read_state(w->app, &bank_account_aggregate, key, read_balance, &b),
      0);
  return b;
}

static int read_status(const void *state, uint64_t v, void *ctx) {
  (void)v;
  *(int *)ctx = (int)((const bank_transfer_state *)state)->status;
  return 0;
}

static int w_status(world *w, const char *id) {
  int s = -1;
  cr_assert_eq(
      es_app_read_state(w->app, &bank_transfer_aggregate, id, read_status, &s),
      0);
  return s;
}

/* Every event of Account and Transfer streams caused by a command id:
 * the most events one command id caused (1 when nothing ran twice). */
typedef struct cause_count {
  es_uuid ids[512];
  uint32_t counts[512];
  uint32_t n;
} cause_count;

static int count_cause(const es_stored_event *ev, void *arg) {
  cause_count *c = arg;
  if (strncmp(ev->meta.aggregate, "saga:", 5) == 0)
    return 0;
  for (uint32_t i = 0; i < c->n; i++)
    if (!memcmp(&c->ids[i], &ev->meta.causation_id, sizeof(es_uuid))) {
      c->counts[i]++;
      return 0;
    }
  if (c->n < 512) {
    c->ids[c->n] = ev->meta.causation_id;
    c->counts[c->n++] = 1;
  }
  return 0;
}

static uint32_t w_max_events_per_command(world *w) {
  static cause_count c;
  uint32_t max = 0;
  memset(&c, 0, sizeof c);
  cr_assert_eq(es_store_read_all(w->store, 1, 0, count_cause, &c), 0);
  for (uint32_t i = 0; i < c.n; i++)
    if (c.counts[i] > max)
      max = c.counts[i];
  return max;
}

typedef struct dl_collect {
  uint32_t n;
  es_dead_letter last;
  char error[64], target[64], instance[64], id[40];
  uint32_t attempts;
} dl_collect;

static int collect_dl(const es_dead_letter *dl, void *ctx) {
  dl_collect *c = ctx;
  c->n++;
  snprintf(c->error, sizeof c->error, "%s", dl->error);
  snprintf(c->target, sizeof c->target, "%s", dl->target);
  snprintf(c->instance, sizeof c->instance, "%s", dl->instance);
  snprintf(c->id, sizeof c->id, "%s", dl->id);
  c->attempts = dl->attempts;
  return 0;
}

#endif
