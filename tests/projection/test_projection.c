/*
 * test_projection.c - the projection runner (es_projection.h) on
 * tally.es: global order, filtering, upcasting, checkpoints and resume,
 * retries after a failing handler, stalling, rebuild, live mode (woken by
 * appends, idle without CPU), lag, and the exactly-once commit hook.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "es/es.h"
#include "tally_gen.h"
#include "tally_view.h"

#include "dir.h"

/* ---- helpers ------------------------------------------------------------ */

static es_store *mem_store(void) {
  es_store *s = NULL;
  cr_assert_eq(es_store_open_memory(&s, NULL), 0);
  return s;
}

static void add(es_store *s, const char *key, int64_t amount) {
  tally_counter_added a;
  tally_counter_added_init(&a);
  a.amount = amount;
  cr_assert_eq(tally_append(s, "Counter", key, &tally_counter_added_desc, &a),
               0);
}

static void note(es_store *s, const char *key) {
  tally_counter_noted n;
  tally_counter_noted_init(&n);
  n.text = "skip me";
  cr_assert_eq(tally_append(s, "Counter", key, &tally_counter_noted_desc, &n),
               0);
}

static void reading(es_store *s, const char *key, int64_t value) {
  tally_meter_reading r;
  tally_meter_reading_init(&r);
  r.value = value;
  cr_assert_eq(tally_append(s, "Meter", key, &tally_meter_reading_desc, &r), 0);
}

static es_projection *open_proj(es_store *s, tally_view *v,
                                es_projection_options *opt) {
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection *p = NULL;
  if (!opt)
    opt = &o;
  opt->ctx = v;
  if (!opt->retry_base_us)
    opt->retry_base_us = 1000;
  cr_assert_eq(
      es_projection_open(&p, &tally_schema, &tally_tally_projection, s, opt),
      0);
  return p;
}

static uint64_t head(es_store *s) {
  uint64_t h = 0;
  cr_assert_eq(es_store_head(s, &h), 0);
  return h;
}

static uint64_t checkpoint(es_store *s) {
  uint64_t pos = 0;
  cr_assert_eq(es_store_checkpoint_get(s, "projection:Tally", &pos, NULL), 0);
  return pos;
}

/* Positions of the events the projection lists, in store order. */
typedef struct wanted {
  uint64_t pos[4096];
  size_t n;
} wanted;

static int collect(const es_stored_event *ev, void *arg) {
  wanted *w = arg;
  if (ev->meta.type_id == tally_counter_added_desc.type_id ||
      ev->meta.type_id == tally_meter_reading_desc.type_id) {
    cr_assert_lt(w->n, 4096);
    w->pos[w->n++] = ev->meta.position;
  }
  return 0;
}

static int zero_position(void *ctx, uint64_t *pos) {
  (void)ctx;
  *pos = 0;
  return 0;
}

static int commit_nothing(void *ctx, uint64_t pos) {
  (void)ctx;
  (void)pos;
  return 0;
}

/* The model a straight run over `s` from 0 gives (leaving the store's
 * checkpoints alone). */
static tally_model straight(es_store *s) {
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  tally_view v;
  tally_model m;
  tally_view_init(&v, 0);
  o.in_memory = true;
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_run_until_caught_up(p, NULL), 0);
  es_projection_close(p);
  m = v.m;
  m.position = 0;
  tally_view_free(&v);
  return m;
}

static void assert_same_model(const tally_model *a, const tally_model *b) {
  cr_assert_eq(a->handled, b->handled, "handled %llu vs %llu",
               (unsigned long long)a->handled, (unsigned long long)b->handled);
  cr_assert_eq(memcmp(a->total, b->total, sizeof a->total), 0);
  cr_assert_eq(memcmp(a->c_version, b->c_version, sizeof a->c_version), 0);
  cr_assert_eq(memcmp(a->reading, b->reading, sizeof a->reading), 0);
  cr_assert_eq(memcmp(a->m_version, b->m_version, sizeof a->m_version), 0);
  cr_assert_eq(a->upcast, b->upcast);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- opening --------------------------------------------------------------
 */

Test(projection, open_checks_arguments) {
  es_store *s = mem_store();
  es_projection *p = (es_projection *)1;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection_desc other = tally_tally_projection;

  cr_assert_eq(
      es_projection_open(NULL, &tally_schema, &tally_tally_projection, s, NULL),
      ES_EINVAL);
  cr_assert_eq(es_projection_open(&p, &tally_schema, &tally_tally_projection,
                                  NULL, NULL),
               ES_EINVAL);
  cr_assert_null(p);
  /* not one of the schema's projections */
  cr_assert_eq(es_projection_open(&p, &tally_schema, &other, s, NULL),
               ES_EINVAL);
  /* commit without load_position */
  o.commit = (int (*)(void *, uint64_t))1;
  cr_assert_eq(
      es_projection_open(&p, &tally_schema, &tally_tally_projection, s, &o),
      ES_EINVAL);
  cr_assert_eq(es_projection_run_until_caught_up(NULL, NULL), ES_EINVAL);
  cr_assert_eq(es_projection_start(NULL), ES_EINVAL);
  es_projection_stop(NULL);
  es_projection_close(NULL);
  cr_assert_eq(es_projection_lag(NULL), 0);
  es_store_close(s);
}

Test(projection, names) {
  es_store *s = mem_store();
  tally_view v;
  tally_view_init(&v, 0);
  es_projection *p = open_proj(s, &v, NULL);
  cr_assert_str_eq(es_projection_name(p), "Tally");
  cr_assert_str_eq(es_projection_checkpoint_name(p), "projection:Tally");
  es_projection_close(p);
  es_store_close(s);
}

/* ---- order and filtering ------------------------------------------------- */

Test(projection, delivers_in_global_order_only_listed_types) {
  es_store *s = mem_store();
  tally_view v;
  wanted w = {.n = 0};
  es_projection_report rep;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  char key[16];

  /* Interleaved streams, unlisted Noted events between them. */
  for (int r = 0; r < 30; r++)
    for (int i = 0; i < 7; i++) {
      snprintf(key, sizeof key, "c-%d", i);
      if ((r + i) % 3 == 0)
        note(s, key);
      else
        add(s, key, r * 10 + i);
      snprintf(key, sizeof key, "m-%d", i);
      if (r % 4 == i % 4)
        reading(s, key, r * 100 + i);
    }
  cr_assert_eq(es_store_read_all(s, 1, 0, collect, &w), 0);

  tally_view_init(&v, 1);
  o.batch_size = 16; /* many batches */
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.events, w.n);
  cr_assert_eq(v.n_log, w.n);
  for (size_t i = 0; i < w.n; i++)
    cr_assert_eq(v.log[i], w.pos[i], "delivery %zu: %llu, want %llu", i,
                 (unsigned long long)v.log[i], (unsigned long long)w.pos[i]);
  /* the position covers the skipped events too */
  cr_assert_eq(rep.position, head(s));
  cr_assert_eq(checkpoint(s), head(s));
  cr_assert_eq(v.m.repeats, 0);
  cr_assert_eq(rep.errors, 0);
  cr_assert_geq(rep.batches, head(s) / 16);
  es_projection_close(p);
  tally_view_free(&v);
  es_store_close(s);
}

Test(projection, upcasts_older_versions) {
  es_store *s = mem_store();
  tally_view v;
  tally_counter_added_v1 old;
  tally_counter_added_v1_init(&old);
  old.n = 7;
  cr_assert_eq(
      tally_append(s, "Counter", "c-1", &tally_counter_added_v1_desc, &old), 0);
  add(s, "c-1", 5);
  tally_view_init(&v, 0);
  es_projection *p = open_proj(s, &v, NULL);
  cr_assert_eq(es_projection_run_until_caught_up(p, NULL), 0);
  cr_assert_eq(v.m.total[1], 12);
  cr_assert_eq(v.m.upcast, 1);
  es_projection_close(p);
  es_store_close(s);
}

Test(projection, unknown_version_stalls_without_skipping) {
  es_store *s = mem_store();
  tally_view v;
  es_new_event ev;
  es_projection_report rep;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  uint8_t payload[] = {0x80}; /* an empty map */

  add(s, "c-1", 1);
  memset(&ev, 0, sizeof ev);
  ev.type_id = tally_counter_added_desc.type_id;
  ev.type_version = 9; /* from a newer program */
  ev.payload = payload;
  ev.len = sizeof payload;
  cr_assert_eq(
      es_store_append_one(s, "Counter", "c-1", es_expect_any(), &ev, 1, NULL),
      0);
  add(s, "c-1", 1);
  tally_view_init(&v, 0);
  o.max_attempts = 3;
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), ES_EVERSION);
  cr_assert(rep.stalled);
  cr_assert_eq(rep.failed_position, 2);
  cr_assert_eq(rep.errors, 3);
  cr_assert_eq(rep.retries, 2);
  cr_assert_eq(v.m.handled, 1);
  cr_assert_eq(checkpoint(s), 1); /* not past the undecodable event */
  cr_assert_eq(es_projection_lag(p), 2);
  es_projection_close(p);
  es_store_close(s);
}

/* ---- checkpoints ------------------------------------------------------------
 */

static char *temp_dir(void) {
  char tmpl[] = "/tmp/es-proj-XXXXXX";
  char *d = mkdtemp(tmpl);
  cr_assert_not_null(d);
  return strdup(d);
}

Test(projection, checkpoint_persists_and_resumes) {
  char *dir = temp_dir();
  es_store *s = NULL;
  tally_view v;
  es_projection_report rep;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  uint64_t first_head;

  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  cr_assert_eq(tally_generate(s, 10, 20, 15), 0); /* 200 events */
  first_head = head(s);
  tally_view_init(&v, 1);
  o.batch_size = 32;
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.position, first_head);
  es_projection_close(p);
  es_store_close(s);

  /* Reopen everything: the checkpoint is on disk. New events only. */
  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  cr_assert_eq(checkpoint(s), first_head);
  add(s, "c-3", 1000);
  note(s, "c-3");
  reading(s, "m-2", 77);
  tally_view v2;
  tally_view_init(&v2, 1);
  p = open_proj(s, &v2, &o);
  cr_assert_eq(es_projection_position(p), first_head);
  cr_assert_eq(es_projection_lag(p), 3);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.events, 2);
  cr_assert_eq(v2.n_log, 2);
  cr_assert_eq(v2.log[0], first_head + 1);
  cr_assert_eq(v2.log[1], first_head + 3);
  cr_assert_eq(v2.m.total[3], 1000);
  cr_assert_eq(v2.m.reading[2], 77);
  cr_assert_eq(checkpoint(s), first_head + 3);
  cr_assert_eq(es_projection_lag(p), 0);
  /* caught up: a further run reads nothing */
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.events, 0);
  cr_assert_eq(rep.batches, 0);
  es_projection_close(p);
  es_store_close(s);
  tally_view_free(&v);
  tally_view_free(&v2);
  cr_assert_eq(remove_dir(dir), 0);
  free(dir);
}

/* A read model kept in memory dies with the process. With the default
 * store-kept checkpoint its second start resumes at the checkpoint and the
 * new, empty model sees nothing; in_memory mode rebuilds the whole model
 * at every start and leaves the store's checkpoint alone. */
Test(projection, in_memory_rebuilds_at_every_start) {
  char *dir = temp_dir();
  es_store *s = NULL;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection_report rep;
  tally_view v;
  es_projection *p;
  uint64_t first_head;

  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  add(s, "c-1", 5);
  note(s, "c-1");
  add(s, "c-2", 7);
  reading(s, "m-1", 3);
  first_head = head(s);

  /* The trap: the default mode, started twice with a fresh model. */
  tally_view_init(&v, 0);
  p = open_proj(s, &v, NULL);
  cr_assert_eq(es_projection_run_until_caught_up(p, NULL), 0);
  es_projection_close(p);
  cr_assert_eq(v.m.handled, 3);
  tally_view_free(&v);
  tally_view_init(&v, 0);
  p = open_proj(s, &v, NULL);
  cr_assert_eq(es_projection_run_until_caught_up(p, NULL), 0);
  es_projection_close(p);
  cr_assert_eq(v.m.handled, 0, "the default mode resumed at its checkpoint");
  tally_view_free(&v);
  es_store_close(s);

  /* in_memory, over two starts of the process (the store reopened), with
   * events appended in between: each start builds the full model. */
  for (int start = 0; start < 2; start++) {
    cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
    if (start == 1)
      add(s, "c-2", 100);
    tally_view_init(&v, 1);
    o.in_memory = true;
    p = open_proj(s, &v, &o);
    cr_assert_eq(es_projection_position(p), 0);
    cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
    cr_assert_eq(rep.position, head(s));
    cr_assert_eq(v.m.handled, start == 0 ? 3 : 4);
    cr_assert_eq(v.log[0], 1, "rebuilt from the first event");
    cr_assert_eq(v.m.total[1], 5);
    cr_assert_eq(v.m.total[2], start == 0 ? 7 : 107);
    cr_assert_eq(v.m.reading[1], 3);
    /* The store's checkpoint is the default run's, untouched. */
    cr_assert_eq(checkpoint(s), first_head);
    /* A rebuild within the process rewinds the runner only. */
    cr_assert_eq(es_projection_rebuild(p), 0);
    cr_assert_eq(es_projection_position(p), 0);
    cr_assert_eq(checkpoint(s), first_head);
    es_projection_close(p);
    tally_view_free(&v);
    es_store_close(s);
  }
  cr_assert_eq(remove_dir(dir), 0);
  free(dir);
}

Test(projection, in_memory_refuses_a_user_checkpoint) {
  es_store *s = mem_store();
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection *p = NULL;
  o.in_memory = true;
  o.load_position = zero_position;
  o.commit = commit_nothing;
  cr_assert_eq(
      es_projection_open(&p, &tally_schema, &tally_tally_projection, s, &o),
      ES_EINVAL);
  cr_assert_null(p);
  es_store_close(s);
}

/* ---- failures -------------------------------------------------------------
 */

Test(projection, failed_handler_is_retried_and_redelivered) {
  es_store *s = mem_store();
  tally_view v;
  es_projection_report rep;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;

  for (int i = 0; i < 20; i++)
    add(s, "c-1", 1);
  tally_view_init(&v, 1);
  v.fail_at = 11;
  v.fail_times = 2;
  o.batch_size = 8;
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.errors, 2);
  cr_assert_eq(rep.retries, 2);
  cr_assert_eq(rep.last_error, TALLY_FAIL);
  cr_assert_eq(rep.failed_position, 11);
  cr_assert_not(rep.stalled);
  /* every event exactly once, in order: the failed one after its retry */
  cr_assert_eq(v.n_log, 20);
  for (size_t i = 0; i < 20; i++)
    cr_assert_eq(v.log[i], i + 1);
  cr_assert_eq(v.m.total[1], 20);
  cr_assert_eq(checkpoint(s), 20);
  es_projection_close(p);
  tally_view_free(&v);
  es_store_close(s);
}

Test(projection, stalls_after_max_attempts_then_resumes) {
  es_store *s = mem_store();
  tally_view v;
  es_projection_report rep, tot;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  double t0;

  for (int i = 0; i < 10; i++)
    add(s, "c-1", 1);
  tally_view_init(&v, 0);
  v.fail_at = 6;
  v.fail_times = 1000;
  o.max_attempts = 4;
  o.retry_base_us = 2000;
  o.retry_max_us = 5000;
  es_projection *p = open_proj(s, &v, &o);
  t0 = now_seconds();
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), TALLY_FAIL);
  /* backoff: 3 waits of 50-100% of 2, 4, 5 ms */
  cr_assert_geq(now_seconds() - t0, 0.0055);
  cr_assert(rep.stalled);
  cr_assert_eq(rep.errors, 4);
  cr_assert_eq(rep.retries, 3);
  cr_assert_eq(rep.failed_position, 6);
  cr_assert_eq(v.m.handled, 5);
  cr_assert_eq(checkpoint(s), 5); /* up to the event before */
  cr_assert_eq(es_projection_stats(p, &tot), 0);
  cr_assert(tot.stalled);
  /* fixed: a new run continues from the failed event */
  v.fail_times = 0;
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_not(rep.stalled);
  cr_assert_eq(v.m.handled, 10);
  cr_assert_eq(v.m.repeats, 0);
  cr_assert_eq(checkpoint(s), 10);
  es_projection_close(p);
  es_store_close(s);
}

/* ---- rebuild ----------------------------------------------------------------
 */

Test(projection, rebuild_from_zero) {
  es_store *s = mem_store();
  tally_view v;
  es_projection_report rep;
  tally_model first;

  cr_assert_eq(tally_generate(s, 5, 30, 20), 0);
  tally_view_init(&v, 0);
  es_projection *p = open_proj(s, &v, NULL);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  first = v.m;
  cr_assert_gt(first.handled, 0);

  memset(&v.m, 0, sizeof v.m); /* the user clears the read model first */
  cr_assert_eq(es_projection_rebuild(p), 0);
  cr_assert_eq(es_projection_position(p), 0);
  cr_assert_eq(checkpoint(s), 0);
  cr_assert_eq(es_projection_lag(p), head(s));
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.events, first.handled);
  assert_same_model(&v.m, &first);
  cr_assert_eq(v.m.repeats, 0);

  /* not while the thread runs */
  cr_assert_eq(es_projection_start(p), 0);
  cr_assert_eq(es_projection_rebuild(p), ES_EINVAL);
  cr_assert_eq(es_projection_run_until_caught_up(p, NULL), ES_EINVAL);
  cr_assert_eq(es_projection_start(p), ES_EINVAL);
  es_projection_stop(p);
  es_projection_close(p);
  es_store_close(s);
}

/* ---- live mode --------------------------------------------------------------
 */

typedef struct live_ctx {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t handled;
  double last_at;
} live_ctx;

static void after_event(void *arg, const es_event_meta *meta) {
  live_ctx *c = arg;
  (void)meta;
  pthread_mutex_lock(&c->mu);
  c->handled++;
  c->last_at = now_seconds();
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

/* Waits up to `secs` for `n` handled events; true when reached. */
static bool wait_handled(live_ctx *c, uint64_t n, double secs) {
  struct timespec ts;
  bool ok;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += (time_t)secs;
  ts.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&c->mu);
  while (c->handled < n)
    if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0)
      break;
  ok = c->handled >= n;
  pthread_mutex_unlock(&c->mu);
  return ok;
}

Test(projection, live_catches_up_then_is_woken_by_appends) {
  es_store *s = mem_store();
  tally_view v;
  live_ctx c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  double cpu0, cpu, t0, latency;

  for (int i = 0; i < 50; i++)
    add(s, "c-2", 1);
  tally_view_init(&v, 0);
  v.after = after_event;
  v.after_ctx = &c;
  /* Long idle waits: anything quicker than this is an append waking it. */
  o.idle_wait_us = 1000 * 1000;
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_start(p), 0);
  cr_assert(es_projection_running(p));
  cr_assert(wait_handled(&c, 50, 5.0), "catch-up did not finish");

  /* Idle: no busy loop. */
  sleep_ms(20);
  cpu0 = cpu_seconds();
  sleep_ms(200);
  cpu = cpu_seconds() - cpu0;
  cr_assert_lt(cpu, 0.02, "idle live projection used %.4f s CPU in 0.2 s", cpu);

  /* An append wakes it, well before its idle wait would end. */
  t0 = now_seconds();
  add(s, "c-2", 100);
  cr_assert(wait_handled(&c, 51, 5.0));
  pthread_mutex_lock(&c.mu);
  latency = c.last_at - t0;
  pthread_mutex_unlock(&c.mu);
  cr_assert_lt(latency, 0.25, "append to handler took %.3f s", latency);

  t0 = now_seconds();
  es_projection_stop(p);
  cr_assert_lt(now_seconds() - t0, 2.0);
  cr_assert_not(es_projection_running(p));
  cr_assert_eq(v.m.total[2], 150);
  cr_assert_eq(checkpoint(s), 51);
  /* restartable */
  cr_assert_eq(es_projection_start(p), 0);
  add(s, "c-2", 1);
  cr_assert(wait_handled(&c, 52, 5.0));
  es_projection_close(p); /* stops it */
  cr_assert_eq(checkpoint(s), 52);
  es_store_close(s);
}

Test(projection, live_thread_retries_a_failing_handler) {
  es_store *s = mem_store();
  tally_view v;
  live_ctx c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection_report tot;

  tally_view_init(&v, 0);
  v.after = after_event;
  v.after_ctx = &c;
  v.fail_at = 3;
  v.fail_times = 3;
  o.idle_wait_us = 20 * 1000;
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_start(p), 0);
  for (int i = 0; i < 5; i++)
    add(s, "c-4", 2);
  cr_assert(wait_handled(&c, 5, 5.0));
  es_projection_stop(p);
  cr_assert_eq(es_projection_stats(p, &tot), 0);
  cr_assert_eq(tot.errors, 3);
  cr_assert_eq(tot.failed_position, 3);
  cr_assert_eq(v.m.total[4], 10);
  cr_assert_eq(v.m.repeats, 0);
  es_projection_close(p);
  es_store_close(s);
}

Test(projection, live_thread_stalls_and_can_be_restarted) {
  es_store *s = mem_store();
  tally_view v;
  live_ctx c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection_report tot;
  double t0;

  add(s, "c-1", 1);
  tally_view_init(&v, 0);
  v.after = after_event;
  v.after_ctx = &c;
  v.fail_at = 1;
  v.fail_times = 1000;
  o.max_attempts = 2;
  o.idle_wait_us = 20 * 1000;
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_start(p), 0);
  t0 = now_seconds();
  while (es_projection_running(p) && now_seconds() - t0 < 5)
    sleep_ms(1);
  cr_assert_not(es_projection_running(p));
  cr_assert_eq(es_projection_stats(p, &tot), 0);
  cr_assert(tot.stalled);
  cr_assert_eq(tot.last_error, TALLY_FAIL);
  v.fail_times = 0;
  es_projection_stop(p);
  cr_assert_eq(es_projection_start(p), 0);
  cr_assert(wait_handled(&c, 1, 5.0));
  es_projection_stop(p);
  cr_assert_eq(v.m.handled, 1);
  es_projection_close(p);
  es_store_close(s);
}

/* ---- lag ----------------------------------------------------------------- */

Test(projection, lag_is_a_gauge) {
  es_store *s = mem_store();
  es_metrics m;
  es_obs obs = ES_OBS_INIT;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  tally_view v;
  es_buf text;
  int id = -1;

  cr_assert_eq(es_metrics_init(&m), 0);
  obs.metrics = &m;
  for (int i = 0; i < 10; i++)
    add(s, "c-1", 1);
  tally_view_init(&v, 0);
  o.obs = &obs;
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(
      es_metrics_gauge_register(&m, ES_GAUGE_PROJECTION_LAG, "Tally", &id), 0);
  cr_assert_eq(es_metrics_gauge(&m, id), 10);
  cr_assert_eq(es_projection_lag(p), 10);
  cr_assert_eq(es_projection_run_until_caught_up(p, NULL), 0);
  cr_assert_eq(es_metrics_gauge(&m, id), 0);
  cr_assert_eq(es_projection_lag(p), 0);
  add(s, "c-1", 1);
  cr_assert_eq(es_projection_lag(p), 1);
  es_buf_init(&text, 0);
  cr_assert_eq(es_metrics_write_prometheus(&m, &text), 0);
  es_buf_append(&text, "", 1);
  cr_assert_not_null(strstr((const char *)text.data,
                            "es_projection_lag_events{projection=\"Tally\"}"));
  es_buf_close(&text);
  es_projection_close(p);
  es_metrics_close(&m);
  es_store_close(s);
}

/* ---- exactly-once: the commit hook -------------------------------------- */

/* The user's "database": the committed model, and the working copy the
 * handlers change (v.m). commit copies working -> durable with the
 * position; rollback copies back. */
typedef struct db {
  tally_view v;
  tally_model durable;
  uint32_t commits;
  uint32_t fail_commits; /* fail this many commits */
} db;

static int db_load(void *ctx, uint64_t *pos) {
  db *d = ctx;
  *pos = d->durable.position;
  return 0;
}

static int db_commit(void *ctx, uint64_t pos) {
  db *d = ctx;
  if (d->fail_commits) {
    d->fail_commits--;
    return ES_EIO;
  }
  d->v.m.position = pos;
  d->durable = d->v.m;
  d->commits++;
  return 0;
}

static void db_rollback(void *ctx) {
  db *d = ctx;
  d->v.m = d->durable;
}

/* Handlers see the view: ctx must be it, so the hooks get the db through
 * the view's address (first member). */
static es_projection *open_db(es_store *s, db *d, bool rollback,
                              uint32_t batch) {
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection *p = NULL;
  o.ctx = d; /* &d->v == d */
  o.batch_size = batch;
  o.load_position = db_load;
  o.commit = db_commit;
  o.rollback = rollback ? db_rollback : NULL;
  o.retry_base_us = 500;
  cr_assert_eq(
      es_projection_open(&p, &tally_schema, &tally_tally_projection, s, &o), 0);
  return p;
}

Test(projection, commit_hook_runs_after_each_batch_and_owns_the_position) {
  es_store *s = mem_store();
  db d;
  es_projection_report rep;
  uint64_t pos;

  memset(&d, 0, sizeof d);
  tally_view_init(&d.v, 0);
  cr_assert_eq(tally_generate(s, 10, 10, 8), 0); /* 100 events */
  tally_model want = straight(s);
  es_projection *p = open_db(s, &d, true, 16);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(d.commits, 7); /* ceil(100 / 16) */
  cr_assert_eq(rep.batches, 7);
  cr_assert_eq(d.durable.position, 100);
  assert_same_model(&d.durable, &want);
  cr_assert_eq(d.durable.repeats, 0);
  /* no store checkpoint in this mode */
  cr_assert_eq(es_store_checkpoint_get(s, "projection:Tally", &pos, NULL),
               ES_ENOTFOUND);
  es_projection_close(p);

  /* a new runner starts where load_position says */
  add(s, "c-1", 5);
  p = open_db(s, &d, true, 16);
  cr_assert_eq(es_projection_position(p), 100);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.events, 1);
  cr_assert_eq(d.durable.position, 101);
  /* rebuild commits position 0 */
  memset(&d.v.m, 0, sizeof d.v.m);
  cr_assert_eq(es_projection_rebuild(p), 0);
  cr_assert_eq(d.durable.position, 0);
  es_projection_close(p);
  es_store_close(s);
}

Test(projection, commit_hook_with_rollback_never_applies_twice) {
  es_store *s = mem_store();
  db d;
  es_projection_report rep;

  memset(&d, 0, sizeof d);
  tally_view_init(&d.v, 0);
  cr_assert_eq(tally_generate(s, 10, 10, 8), 0);
  tally_model want = straight(s);
  d.v.fail_at = 37; /* mid-batch: 33..48 */
  d.v.fail_times = 2;
  d.fail_commits = 1; /* and the first commit fails */
  es_projection *p = open_db(s, &d, true, 16);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.errors, 3);
  cr_assert_eq(d.durable.repeats, 0);
  assert_same_model(&d.durable, &want);
  cr_assert_eq(d.durable.position, 100);
  es_projection_close(p);
  es_store_close(s);
}

Test(projection, commit_hook_without_rollback_commits_the_prefix) {
  es_store *s = mem_store();
  db d;
  es_projection_report rep;

  memset(&d, 0, sizeof d);
  tally_view_init(&d.v, 0);
  cr_assert_eq(tally_generate(s, 10, 10, 8), 0);
  tally_model want = straight(s);
  d.v.fail_at = 37; /* the handler changes nothing when it fails */
  d.v.fail_times = 1;
  es_projection *p = open_db(s, &d, false, 16);
  cr_assert_eq(es_projection_run_until_caught_up(p, &rep), 0);
  cr_assert_eq(rep.errors, 1);
  cr_assert_eq(d.durable.repeats, 0);
  assert_same_model(&d.durable, &want);
  /* 1..16, 17..32, the prefix 33..36 committed at the failure, then
   * 37..52, 53..68, 69..84, 85..100 */
  cr_assert_eq(d.commits, 7);
  es_projection_close(p);
  es_store_close(s);
}

/* ---- logging ------------------------------------------------------------ */

typedef struct log_lines {
  char line[16][160];
  size_t n;
} log_lines;

static void capture_log(void *ctx, int level, const char *msg,
                        const es_log_field *f, size_t n) {
  log_lines *l = ctx;
  size_t len;
  cr_assert_lt(l->n, 16);
  len = (size_t)snprintf(l->line[l->n], 160, "%s %s", es_log_level_name(level),
                         msg);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(l->line[l->n] + len, 160 - len, " %s=%s", f[i].key,
                            f[i].value);
  l->n++;
}

/* Catching up logs one DEBUG line per batch: events handled, position. */
Test(projection, logs_each_batch) {
  es_store *s = mem_store();
  es_obs obs = ES_OBS_INIT;
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  log_lines l = {.n = 0};
  tally_view v;
  add(s, "c-1", 1);
  note(s, "c-1");
  add(s, "c-1", 2);
  reading(s, "m-1", 3);
  note(s, "c-1");
  obs.log = capture_log;
  obs.log_ctx = &l;
  o.obs = &obs;
  o.batch_size = 2;
  tally_view_init(&v, 0);
  es_projection *p = open_proj(s, &v, &o);
  cr_assert_eq(es_projection_run_until_caught_up(p, NULL), 0);
  es_projection_close(p);
  cr_assert_eq(l.n, 3);
  cr_expect_str_eq(
      l.line[0], "debug projection batch projection=Tally count=1 position=2");
  cr_expect_str_eq(
      l.line[1], "debug projection batch projection=Tally count=2 position=4");
  cr_expect_str_eq(
      l.line[2], "debug projection batch projection=Tally count=0 position=5");
  tally_view_free(&v);
  es_store_close(s);
}
