/*
 * test_obs.c - the logging hook, metrics and their Prometheus text, and
 * trace hooks.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "es/es.h"

/* ---- logging ------------------------------------------------------------- */

/* A hook that copies what it is given. */
typedef struct captured {
  int calls;
  int level;
  char msg[64];
  size_t n;
  char keys[ES_LOG_FIELDS_MAX + 1][32];
  char values[ES_LOG_FIELDS_MAX + 1][32];
} captured;

static void capture_hook(void *ctx, int level, const char *msg,
                         const es_log_field *fields, size_t n_fields) {
  captured *c = ctx;
  size_t i;
  c->calls++;
  c->level = level;
  snprintf(c->msg, sizeof c->msg, "%s", msg);
  c->n = n_fields;
  for (i = 0; i < n_fields && i <= ES_LOG_FIELDS_MAX; i++) {
    snprintf(c->keys[i], sizeof c->keys[i], "%s", fields[i].key);
    snprintf(c->values[i], sizeof c->values[i], "%s", fields[i].value);
  }
}

Test(log, hook_receives_message_and_fields) {
  captured c = {0};
  es_obs o = ES_OBS_INIT;
  o.log = capture_hook;
  o.log_ctx = &c;
  o.log_level = ES_LOG_INFO;

  es__log(&o, ES_LOG_WARN, "command retries exhausted", "aggregate", "Account",
          "key", "acc-1", "attempts", "3", NULL);
  cr_assert_eq(c.calls, 1);
  cr_assert_eq(c.level, ES_LOG_WARN);
  cr_assert_str_eq(c.msg, "command retries exhausted");
  cr_assert_eq(c.n, 3);
  cr_assert_str_eq(c.keys[0], "aggregate");
  cr_assert_str_eq(c.values[0], "Account");
  cr_assert_str_eq(c.keys[1], "key");
  cr_assert_str_eq(c.values[1], "acc-1");
  cr_assert_str_eq(c.keys[2], "attempts");
  cr_assert_str_eq(c.values[2], "3");

  es__log(&o, ES_LOG_ERROR, "store failed", NULL);
  cr_assert_eq(c.calls, 2);
  cr_assert_eq(c.n, 0);
  cr_assert_str_eq(c.msg, "store failed");
}

Test(log, null_value_is_passed_as_empty_text) {
  captured c = {0};
  es_obs o = ES_OBS_INIT;
  o.log = capture_hook;
  o.log_ctx = &c;
  es__log(&o, ES_LOG_INFO, "m", "k", (const char *)NULL, "k2", "v2", NULL);
  cr_assert_eq(c.n, 2);
  cr_assert_str_eq(c.keys[0], "k");
  cr_assert_str_eq(c.values[0], "");
  cr_assert_str_eq(c.values[1], "v2");
}

Test(log, pairs_past_the_cap_are_dropped) {
  captured c = {0};
  es_obs o = ES_OBS_INIT;
  o.log = capture_hook;
  o.log_ctx = &c;
  cr_assert_eq(ES_LOG_FIELDS_MAX, 16);
  es__log(&o, ES_LOG_INFO, "many", "k0", "0", "k1", "1", "k2", "2", "k3", "3",
          "k4", "4", "k5", "5", "k6", "6", "k7", "7", "k8", "8", "k9", "9",
          "k10", "10", "k11", "11", "k12", "12", "k13", "13", "k14", "14",
          "k15", "15", "k16", "16", NULL);
  cr_assert_eq(c.n, ES_LOG_FIELDS_MAX);
  cr_assert_str_eq(c.keys[15], "k15");
  cr_assert_str_eq(c.values[15], "15");
}

Test(log, levels_below_the_minimum_are_dropped) {
  captured c = {0};
  es_obs o = ES_OBS_INIT;
  o.log = capture_hook;
  o.log_ctx = &c;
  o.log_level = ES_LOG_WARN;

  cr_assert_not(es__log_enabled(&o, ES_LOG_DEBUG));
  cr_assert_not(es__log_enabled(&o, ES_LOG_INFO));
  cr_assert(es__log_enabled(&o, ES_LOG_WARN));
  cr_assert(es__log_enabled(&o, ES_LOG_ERROR));

  es__log(&o, ES_LOG_DEBUG, "debug", "k", "v", NULL);
  es__log(&o, ES_LOG_INFO, "info", "k", "v", NULL);
  cr_assert_eq(c.calls, 0);
  es__log(&o, ES_LOG_WARN, "warn", NULL);
  cr_assert_eq(c.calls, 1);
  cr_assert_eq(c.level, ES_LOG_WARN);
  es__log(&o, ES_LOG_ERROR, "error", NULL);
  cr_assert_eq(c.calls, 2);
  cr_assert_eq(c.level, ES_LOG_ERROR);

  /* The default minimum (ES_OBS_INIT) passes everything. */
  o.log_level = ((es_obs)ES_OBS_INIT).log_level;
  es__log(&o, ES_LOG_DEBUG, "debug", NULL);
  cr_assert_eq(c.calls, 3);
}

Test(log, no_hook_means_no_call) {
  es_obs o = ES_OBS_INIT;
  cr_assert_not(es__log_enabled(&o, ES_LOG_ERROR));
  cr_assert_not(es__log_enabled(NULL, ES_LOG_ERROR));
  es__log(&o, ES_LOG_ERROR, "nobody listens", "k", "v", NULL);
  es__log(NULL, ES_LOG_ERROR, "nobody listens", NULL);
}

Test(log, level_names) {
  cr_assert_str_eq(es_log_level_name(ES_LOG_DEBUG), "debug");
  cr_assert_str_eq(es_log_level_name(ES_LOG_INFO), "info");
  cr_assert_str_eq(es_log_level_name(ES_LOG_WARN), "warn");
  cr_assert_str_eq(es_log_level_name(ES_LOG_ERROR), "error");
  cr_assert_str_eq(es_log_level_name(7), "unknown");
}

/* ---- metrics: counters and histograms ------------------------------------ */

static es_metrics metrics;

static void metrics_setup(void) { cr_assert_eq(es_metrics_init(&metrics), 0); }
static void metrics_teardown(void) { es_metrics_close(&metrics); }

TestSuite(metrics, .init = metrics_setup, .fini = metrics_teardown);
TestSuite(prometheus, .init = metrics_setup, .fini = metrics_teardown);

Test(metrics, starts_at_zero_and_counts) {
  int i;
  for (i = 0; i < ES_CTR__COUNT; i++)
    cr_assert_eq(es_metrics_counter(&metrics, (es_counter)i), 0);
  es_metrics_add(&metrics, ES_CTR_COMMANDS_OK, 1);
  es_metrics_add(&metrics, ES_CTR_COMMANDS_OK, 41);
  es_metrics_add(&metrics, ES_CTR_DEAD_LETTERS, 2);
  cr_assert_eq(es_metrics_counter(&metrics, ES_CTR_COMMANDS_OK), 42);
  cr_assert_eq(es_metrics_counter(&metrics, ES_CTR_DEAD_LETTERS), 2);
  cr_assert_eq(es_metrics_counter(&metrics, ES_CTR_COMMANDS_FAILED), 0);
}

Test(metrics, null_closed_and_unknown_are_harmless) {
  es_metrics zero = {0};
  es_hist_snapshot snap;
  es_buf b = ES_BUF_INIT;
  int id = -1;

  es_metrics_add(NULL, ES_CTR_COMMANDS_OK, 1);
  es_metrics_observe_us(NULL, ES_HIST_APPEND, 1);
  es_metrics_gauge_set(NULL, 0, 1);
  es_metrics_add(&zero, ES_CTR_COMMANDS_OK, 1);
  es_metrics_add(&metrics, (es_counter)ES_CTR__COUNT, 1);
  es_metrics_add(&metrics, (es_counter)-1, 1);
  es_metrics_observe_us(&metrics, (es_hist)ES_HIST__COUNT, 1);
  es_metrics_gauge_set(&metrics, 0, 5); /* nothing registered yet */
  es_metrics_gauge_set(&metrics, -1, 5);
  cr_assert_eq(es_metrics_gauge(&metrics, 0), 0);
  cr_assert_eq(es_metrics_counter(NULL, ES_CTR_COMMANDS_OK), 0);
  cr_assert_eq(es_metrics_hist(&metrics, (es_hist)ES_HIST__COUNT, &snap),
               ES_EINVAL);
  cr_assert_eq(es_metrics_hist(&zero, ES_HIST_APPEND, &snap), ES_EINVAL);
  cr_assert_eq(es_metrics_gauge_register(&zero, ES_GAUGE_SAGA_LAG, "x", &id),
               ES_EINVAL);
  cr_assert_eq(es_metrics_write_prometheus(&zero, &b), ES_EINVAL);
  cr_assert_eq(es_metrics_write_prometheus(&metrics, NULL), ES_EINVAL);
  cr_assert_eq(es_metrics_init(NULL), ES_EINVAL);
  es_metrics_close(NULL);
  es_metrics_close(&zero);
  es_buf_close(&b);
}

Test(metrics, close_twice_then_reinit) {
  es_metrics m;
  cr_assert_eq(es_metrics_init(&m), 0);
  es_metrics_add(&m, ES_CTR_CACHE_HITS, 3);
  es_metrics_close(&m);
  cr_assert_null(m.impl);
  es_metrics_close(&m);
  cr_assert_eq(es_metrics_init(&m), 0);
  cr_assert_eq(es_metrics_counter(&m, ES_CTR_CACHE_HITS), 0);
  es_metrics_close(&m);
}

#define HAMMER_THREADS 8
#define HAMMER_ROUNDS 100000

static void *hammer(void *arg) {
  es_metrics *m = arg;
  int i;
  for (i = 0; i < HAMMER_ROUNDS; i++) {
    es_metrics_add(m, ES_CTR_EVENTS_APPENDED, 1);
    es_metrics_add(m, ES_CTR_EVENTS_REPLAYED, 3);
    es_metrics_observe_us(m, ES_HIST_APPEND, (uint64_t)(i % 1000));
  }
  return NULL;
}

Test(metrics, counters_under_8_threads_sum_exactly, .timeout = 60) {
  pthread_t t[HAMMER_THREADS];
  es_hist_snapshot snap;
  uint64_t per_thread_sum = 0;
  int i;

  for (i = 0; i < HAMMER_THREADS; i++)
    cr_assert_eq(pthread_create(&t[i], NULL, hammer, &metrics), 0);
  for (i = 0; i < HAMMER_THREADS; i++)
    pthread_join(t[i], NULL);

  for (i = 0; i < HAMMER_ROUNDS; i++)
    per_thread_sum += (uint64_t)(i % 1000);
  cr_assert_eq(es_metrics_counter(&metrics, ES_CTR_EVENTS_APPENDED),
               (uint64_t)HAMMER_THREADS * HAMMER_ROUNDS);
  cr_assert_eq(es_metrics_counter(&metrics, ES_CTR_EVENTS_REPLAYED),
               (uint64_t)HAMMER_THREADS * HAMMER_ROUNDS * 3);
  cr_assert_eq(es_metrics_hist(&metrics, ES_HIST_APPEND, &snap), 0);
  cr_assert_eq(snap.count, (uint64_t)HAMMER_THREADS * HAMMER_ROUNDS);
  cr_assert_eq(snap.sum_us, HAMMER_THREADS * per_thread_sum);
}

Test(metrics, bucket_bounds_are_1_2_5_from_1us_to_10s) {
  static const uint64_t want[ES_HIST_BOUNDS] = {
      1,      2,      5,       10,      20,      50,      100,   200,
      500,    1000,   2000,    5000,    10000,   20000,   50000, 100000,
      200000, 500000, 1000000, 2000000, 5000000, 10000000};
  int i;
  for (i = 0; i < ES_HIST_BOUNDS; i++)
    cr_assert_eq(es_hist_bound_us(i), want[i], "bound %d", i);
  cr_assert_eq(es_hist_bound_us(ES_HIST_BOUNDS), UINT64_MAX);
  cr_assert_eq(es_hist_bound_us(-1), UINT64_MAX);
}

Test(metrics, histogram_bucket_placement_sum_and_count) {
  /* value -> bucket: a value equal to a bound belongs to that bound. */
  static const struct {
    uint64_t us;
    int bucket;
  } cases[] = {
      {0, 0},     {1, 0},         {2, 1},         {3, 2},
      {5, 2},     {6, 3},         {999, 9},       {1000, 9},
      {1001, 10}, {10000000, 21}, {10000001, 22}, {UINT64_MAX / 4, 22},
  };
  size_t i, n = sizeof cases / sizeof cases[0];
  uint64_t sum = 0;

  for (i = 0; i < n; i++) {
    es_hist_snapshot snap;
    int b;
    es_metrics_observe_us(&metrics, ES_HIST_SYNC, cases[i].us);
    sum += cases[i].us;
    cr_assert_eq(es_metrics_hist(&metrics, ES_HIST_SYNC, &snap), 0);
    cr_assert_eq(snap.count, i + 1, "case %zu", i);
    cr_assert_eq(snap.sum_us, sum, "case %zu", i);
    /* Only the expected bucket grew: compare against a fresh histogram. */
    {
      es_metrics one;
      es_hist_snapshot s1;
      cr_assert_eq(es_metrics_init(&one), 0);
      es_metrics_observe_us(&one, ES_HIST_COMMAND, cases[i].us);
      cr_assert_eq(es_metrics_hist(&one, ES_HIST_COMMAND, &s1), 0);
      for (b = 0; b < ES_HIST_BUCKETS; b++)
        cr_assert_eq(s1.buckets[b], b == cases[i].bucket ? 1u : 0u,
                     "value %llu: bucket %d", (unsigned long long)cases[i].us,
                     b);
      cr_assert_eq(s1.count, 1);
      cr_assert_eq(s1.sum_us, cases[i].us);
      es_metrics_close(&one);
    }
  }
  /* Other histograms are untouched. */
  {
    es_hist_snapshot snap;
    cr_assert_eq(es_metrics_hist(&metrics, ES_HIST_APPEND, &snap), 0);
    cr_assert_eq(snap.count, 0);
    cr_assert_eq(snap.sum_us, 0);
  }
}

/* ---- metrics: gauges ------------------------------------------------------
 */

Test(metrics, gauge_register_set_and_reregister) {
  int a = -1, b = -1, again = -1, s = -1;
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG, "A", &a), 0);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG, "B", &b), 0);
  cr_assert_neq(a, b);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG, "A", &again),
      0);
  cr_assert_eq(again, a);
  /* The same name under another kind is another gauge. */
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "A", &s),
               0);
  cr_assert_neq(s, a);
  es_metrics_gauge_set(&metrics, a, 7);
  es_metrics_gauge_set(&metrics, s, -3);
  cr_assert_eq(es_metrics_gauge(&metrics, a), 7);
  cr_assert_eq(es_metrics_gauge(&metrics, b), 0);
  cr_assert_eq(es_metrics_gauge(&metrics, s), -3);
}

Test(metrics, gauge_names_are_checked) {
  char longname[ES_METRICS_NAME_MAX + 2];
  int id = -1;
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, longname, &id),
      ES_ETOOBIG);
  longname[ES_METRICS_NAME_MAX] = '\0'; /* exactly the maximum */
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, longname, &id), 0);
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "", &id),
               ES_EINVAL);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, NULL, &id),
      ES_EINVAL);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "x", NULL),
      ES_EINVAL);
  cr_assert_eq(es_metrics_gauge_register(&metrics, (es_gauge_kind)2, "x", &id),
               ES_EINVAL);
  /* Not UTF-8: a lone continuation byte, an overlong '/', a surrogate, a
   * truncated sequence, and a code point past U+10FFFF. */
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "a\x80", &id),
      ES_EINVAL);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "\xc0\xaf", &id),
      ES_EINVAL);
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG,
                                         "\xed\xa0\x80", &id),
               ES_EINVAL);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "\xe2\x82", &id),
      ES_EINVAL);
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG,
                                         "\xf4\x90\x80\x80", &id),
               ES_EINVAL);
  /* Well-formed multibyte names are fine. */
  cr_assert_eq(es_metrics_gauge_register(
                   &metrics, ES_GAUGE_SAGA_LAG,
                   "Caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x93\x88", &id),
               0);
}

Test(metrics, gauge_registration_limit) {
  char name[16];
  int i, id = -1, first = -1;
  for (i = 0; i < ES_METRICS_GAUGES_MAX; i++) {
    snprintf(name, sizeof name, "p%d", i);
    cr_assert_eq(
        es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG, name, &id),
        0, "gauge %d", i);
    cr_assert_eq(id, i);
    if (i == 0)
      first = id;
  }
  cr_assert_eq(ES_METRICS_GAUGES_MAX, 64);
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG,
                                         "one-too-many", &id),
               ES_ETOOBIG);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "p0", &id),
      ES_ETOOBIG);
  /* A full table still finds what it holds. */
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG, "p0", &id),
      0);
  cr_assert_eq(id, first);
  es_metrics_gauge_set(&metrics, ES_METRICS_GAUGES_MAX, 1); /* ignored */
  cr_assert_eq(es_metrics_gauge(&metrics, ES_METRICS_GAUGES_MAX), 0);
}

/* 8 threads register 8 names each, twice over, while another dumps. */
static void *register_many(void *arg) {
  int t = (int)(intptr_t)arg, i, round, id;
  char name[16];
  for (round = 0; round < 2; round++)
    for (i = 0; i < 8; i++) {
      snprintf(name, sizeof name, "t%d-%d", t, i);
      if (es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, name, &id))
        return (void *)1;
      es_metrics_gauge_set(&metrics, id, t * 8 + i);
    }
  return NULL;
}

Test(metrics, concurrent_registration_and_dump, .timeout = 60) {
  pthread_t t[8];
  es_buf b = ES_BUF_INIT;
  void *ret;
  int i, j, id;
  char name[16];

  for (i = 0; i < 8; i++)
    cr_assert_eq(
        pthread_create(&t[i], NULL, register_many, (void *)(intptr_t)i), 0);
  for (i = 0; i < 50; i++) {
    es_buf_clear(&b);
    cr_assert_eq(es_metrics_write_prometheus(&metrics, &b), 0);
  }
  for (i = 0; i < 8; i++) {
    pthread_join(t[i], &ret);
    cr_assert_null(ret);
  }
  for (i = 0; i < 8; i++)
    for (j = 0; j < 8; j++) {
      snprintf(name, sizeof name, "t%d-%d", i, j);
      cr_assert_eq(
          es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, name, &id), 0);
      cr_assert_eq(es_metrics_gauge(&metrics, id), i * 8 + j);
    }
  es_buf_close(&b);
}

/* ---- metrics: Prometheus text ---------------------------------------------
 */

/* `b` as a NUL-terminated string (appends a NUL past `len`). */
static const char *buf_str(es_buf *b) {
  es_buf_append(b, "", 1);
  cr_assert_eq(b->err, 0);
  b->len--;
  return (const char *)b->data;
}

/* The whole dump for the state built below, one line per entry. */
static const char *const golden_lines[] = {
    "# HELP es_commands_total Commands executed, by outcome.",
    "# TYPE es_commands_total counter",
    "es_commands_total{outcome=\"ok\"} 3",
    "es_commands_total{outcome=\"rejected\"} 1",
    "es_commands_total{outcome=\"conflict\"} 0",
    "es_commands_total{outcome=\"failed\"} 2",
    "# HELP es_command_retries_total Command attempts repeated after a version "
    "conflict.",
    "# TYPE es_command_retries_total counter",
    "es_command_retries_total 1",
    "# HELP es_events_appended_total Events appended to the store.",
    "# TYPE es_events_appended_total counter",
    "es_events_appended_total 5",
    "# HELP es_events_replayed_total Events read back and folded into "
    "aggregate state.",
    "# TYPE es_events_replayed_total counter",
    "es_events_replayed_total 0",
    "# HELP es_cache_hits_total Aggregate cache lookups that found the state.",
    "# TYPE es_cache_hits_total counter",
    "es_cache_hits_total 0",
    "# HELP es_cache_misses_total Aggregate cache lookups that had to load the "
    "state.",
    "# TYPE es_cache_misses_total counter",
    "es_cache_misses_total 4",
    "# HELP es_cache_evictions_total Aggregate states evicted from the cache.",
    "# TYPE es_cache_evictions_total counter",
    "es_cache_evictions_total 0",
    "# HELP es_snapshots_written_total Aggregate snapshots written.",
    "# TYPE es_snapshots_written_total counter",
    "es_snapshots_written_total 0",
    "# HELP es_dead_letters_total Events or commands given up on and set aside "
    "as dead letters.",
    "# TYPE es_dead_letters_total counter",
    "es_dead_letters_total 1",
    "# HELP es_command_latency_seconds Time to execute one command, retries "
    "included.",
    "# TYPE es_command_latency_seconds histogram",
    "es_command_latency_seconds_bucket{le=\"0.000001\"} 0",
    "es_command_latency_seconds_bucket{le=\"0.000002\"} 0",
    "es_command_latency_seconds_bucket{le=\"0.000005\"} 0",
    "es_command_latency_seconds_bucket{le=\"0.00001\"} 0",
    "es_command_latency_seconds_bucket{le=\"0.00002\"} 0",
    "es_command_latency_seconds_bucket{le=\"0.00005\"} 0",
    "es_command_latency_seconds_bucket{le=\"0.0001\"} 0",
    "es_command_latency_seconds_bucket{le=\"0.0002\"} 0",
    "es_command_latency_seconds_bucket{le=\"0.0005\"} 1",
    "es_command_latency_seconds_bucket{le=\"0.001\"} 1",
    "es_command_latency_seconds_bucket{le=\"0.002\"} 2",
    "es_command_latency_seconds_bucket{le=\"0.005\"} 2",
    "es_command_latency_seconds_bucket{le=\"0.01\"} 2",
    "es_command_latency_seconds_bucket{le=\"0.02\"} 2",
    "es_command_latency_seconds_bucket{le=\"0.05\"} 2",
    "es_command_latency_seconds_bucket{le=\"0.1\"} 2",
    "es_command_latency_seconds_bucket{le=\"0.2\"} 2",
    "es_command_latency_seconds_bucket{le=\"0.5\"} 2",
    "es_command_latency_seconds_bucket{le=\"1\"} 2",
    "es_command_latency_seconds_bucket{le=\"2\"} 2",
    "es_command_latency_seconds_bucket{le=\"5\"} 2",
    "es_command_latency_seconds_bucket{le=\"10\"} 2",
    "es_command_latency_seconds_bucket{le=\"+Inf\"} 2",
    "es_command_latency_seconds_sum 0.00175",
    "es_command_latency_seconds_count 2",
    "# HELP es_append_latency_seconds Time of one store append, sync included.",
    "# TYPE es_append_latency_seconds histogram",
    "es_append_latency_seconds_bucket{le=\"0.000001\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.000002\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.000005\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.00001\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.00002\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.00005\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.0001\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.0002\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.0005\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.001\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.002\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.005\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.01\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.02\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.05\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.1\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.2\"} 0",
    "es_append_latency_seconds_bucket{le=\"0.5\"} 0",
    "es_append_latency_seconds_bucket{le=\"1\"} 0",
    "es_append_latency_seconds_bucket{le=\"2\"} 0",
    "es_append_latency_seconds_bucket{le=\"5\"} 0",
    "es_append_latency_seconds_bucket{le=\"10\"} 0",
    "es_append_latency_seconds_bucket{le=\"+Inf\"} 1",
    "es_append_latency_seconds_sum 20",
    "es_append_latency_seconds_count 1",
    "# HELP es_sync_latency_seconds Time of one fdatasync of the embedded log "
    "(shared by a commit group).",
    "# TYPE es_sync_latency_seconds histogram",
    "es_sync_latency_seconds_bucket{le=\"0.000001\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.000002\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.000005\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.00001\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.00002\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.00005\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.0001\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.0002\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.0005\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.001\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.002\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.005\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.01\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.02\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.05\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.1\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.2\"} 0",
    "es_sync_latency_seconds_bucket{le=\"0.5\"} 0",
    "es_sync_latency_seconds_bucket{le=\"1\"} 0",
    "es_sync_latency_seconds_bucket{le=\"2\"} 0",
    "es_sync_latency_seconds_bucket{le=\"5\"} 0",
    "es_sync_latency_seconds_bucket{le=\"10\"} 0",
    "es_sync_latency_seconds_bucket{le=\"+Inf\"} 0",
    "es_sync_latency_seconds_sum 0",
    "es_sync_latency_seconds_count 0",
    "# HELP es_projection_lag_events Events a projection is behind the store's "
    "last position.",
    "# TYPE es_projection_lag_events gauge",
    "es_projection_lag_events{projection=\"Balances\"} 12",
    "es_projection_lag_events{projection=\"Audit\"} 3",
    "# HELP es_saga_lag_events Events a saga is behind the store's last "
    "position.",
    "# TYPE es_saga_lag_events gauge",
    "es_saga_lag_events{saga=\"Transfer\"} 0",
};

Test(prometheus, golden_text_for_a_small_known_state) {
  es_buf b = ES_BUF_INIT;
  int bal = -1, audit = -1, xfer = -1;
  size_t i, n_golden = sizeof golden_lines / sizeof golden_lines[0];
  const char *text, *line;

  es_metrics_add(&metrics, ES_CTR_COMMANDS_OK, 3);
  es_metrics_add(&metrics, ES_CTR_COMMANDS_REJECTED, 1);
  es_metrics_add(&metrics, ES_CTR_COMMANDS_FAILED, 2);
  es_metrics_add(&metrics, ES_CTR_COMMAND_RETRIES, 1);
  es_metrics_add(&metrics, ES_CTR_EVENTS_APPENDED, 5);
  es_metrics_add(&metrics, ES_CTR_CACHE_MISSES, 4);
  es_metrics_add(&metrics, ES_CTR_DEAD_LETTERS, 1);
  es_metrics_observe_us(&metrics, ES_HIST_COMMAND, 250);
  es_metrics_observe_us(&metrics, ES_HIST_COMMAND, 1500);
  es_metrics_observe_us(&metrics, ES_HIST_APPEND, 20000000);
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG,
                                         "Balances", &bal),
               0);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "Transfer", &xfer),
      0);
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG,
                                         "Audit", &audit),
               0);
  es_metrics_gauge_set(&metrics, bal, 12);
  es_metrics_gauge_set(&metrics, xfer, 0);
  es_metrics_gauge_set(&metrics, audit, 3);

  /* Existing content is kept. */
  es_buf_append(&b, "#\n", 2);
  cr_assert_eq(es_metrics_write_prometheus(&metrics, &b), 0);
  text = buf_str(&b);
  cr_assert_eq(strncmp(text, "#\n", 2), 0);
  line = text + 2;
  for (i = 0; i < n_golden; i++) {
    const char *nl = strchr(line, '\n');
    cr_assert_not_null(nl, "output ends before golden line %zu: %s", i,
                       golden_lines[i]);
    cr_assert(strlen(golden_lines[i]) == (size_t)(nl - line) &&
                  !strncmp(line, golden_lines[i], (size_t)(nl - line)),
              "line %zu: got\n%.*s\nwant\n%s", i, (int)(nl - line), line,
              golden_lines[i]);
    line = nl + 1;
  }
  cr_assert_str_eq(line, "", "output goes on past the golden text");
  es_buf_close(&b);
}

Test(prometheus, no_gauges_no_gauge_families) {
  es_buf b = ES_BUF_INIT;
  const char *s;
  cr_assert_eq(es_metrics_write_prometheus(&metrics, &b), 0);
  s = buf_str(&b);
  cr_assert_null(strstr(s, "lag_events"));
  cr_assert_not_null(strstr(s, "es_sync_latency_seconds_count 0\n"));
  es_buf_close(&b);
}

Test(prometheus, label_values_are_escaped) {
  es_buf b = ES_BUF_INIT;
  const char *s;
  int id = -1;
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_PROJECTION_LAG,
                                         "a\"b\\c\nd", &id),
               0);
  es_metrics_gauge_set(&metrics, id, -5);
  cr_assert_eq(
      es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG, "\\\\\"\n\n", &id),
      0);
  cr_assert_eq(es_metrics_gauge_register(&metrics, ES_GAUGE_SAGA_LAG,
                                         "Caf\xc3\xa9 {x=1}", &id),
               0);
  cr_assert_eq(es_metrics_write_prometheus(&metrics, &b), 0);
  s = buf_str(&b);
  cr_assert_not_null(
      strstr(s,
             "\nes_projection_lag_events{projection=\"a\\\"b\\\\c\\nd\"} -5\n"),
      "%s", s);
  cr_assert_not_null(
      strstr(s, "\nes_saga_lag_events{saga=\"\\\\\\\\\\\"\\n\\n\"} 0\n"), "%s",
      s);
  /* Other bytes pass through as they are. */
  cr_assert_not_null(
      strstr(s, "\nes_saga_lag_events{saga=\"Caf\xc3\xa9 {x=1}\"} 0\n"), "%s",
      s);
  es_buf_close(&b);
}

Test(prometheus, sums_are_exact_decimal_seconds) {
  es_buf b = ES_BUF_INIT;
  const char *s;
  es_metrics_observe_us(&metrics, ES_HIST_COMMAND, 1);
  es_metrics_observe_us(&metrics, ES_HIST_APPEND, 3000000);
  es_metrics_observe_us(&metrics, ES_HIST_APPEND, 120);
  es_metrics_observe_us(&metrics, ES_HIST_SYNC, 999999);
  cr_assert_eq(es_metrics_write_prometheus(&metrics, &b), 0);
  s = buf_str(&b);
  cr_assert_not_null(strstr(s, "\nes_command_latency_seconds_sum 0.000001\n"));
  cr_assert_not_null(strstr(s, "\nes_append_latency_seconds_sum 3.00012\n"));
  cr_assert_not_null(strstr(s, "\nes_sync_latency_seconds_sum 0.999999\n"));
  es_buf_close(&b);
}

Test(prometheus, a_full_buffer_reports_its_error) {
  es_buf b;
  es_buf_init(&b, 100);
  cr_assert_eq(es_metrics_write_prometheus(&metrics, &b), ES_ETOOBIG);
  cr_assert_leq(b.len, 100);
  es_buf_close(&b);
}

/* ---- tracing ---------------------------------------------------------------
 */

#define TRACE_MAX 16

typedef struct trace_log {
  int n_begin, n_end;
  int depth;
  int spans[TRACE_MAX];    /* open spans, innermost last */
  int tokens[TRACE_MAX];   /* what begin() stored, by position */
  int ended_rc[TRACE_MAX]; /* rc of the i-th end() */
  int ended_span[TRACE_MAX];
  char type_name[TRACE_MAX][32];
  es_uuid correlation;
  int mismatch;
} trace_log;

static void t_begin(void *ctx, int span, const es_trace_info *info,
                    void **span_data) {
  trace_log *t = ctx;
  cr_assert_null(*span_data, "span_data starts as NULL");
  t->spans[t->depth] = span;
  t->tokens[t->n_begin] = 100 + t->n_begin;
  snprintf(t->type_name[t->n_begin], sizeof t->type_name[0], "%s",
           info->type_name ? info->type_name : "-");
  t->correlation = info->correlation_id;
  *span_data = &t->tokens[t->n_begin];
  t->depth++;
  t->n_begin++;
}

static void t_end(void *ctx, int span, const es_trace_info *info,
                  void *span_data, int rc) {
  trace_log *t = ctx;
  int *token = span_data;
  (void)info;
  cr_assert_gt(t->depth, 0, "end without begin");
  t->depth--;
  if (t->spans[t->depth] != span)
    t->mismatch++;
  t->ended_span[t->n_end] = span;
  t->ended_rc[t->n_end] = token ? *token * 1000 + (rc < 0 ? -rc : rc) : -1;
  t->n_end++;
}

Test(trace, begin_end_pair_and_span_data_passes_through) {
  trace_log t = {0};
  es_obs o = ES_OBS_INIT;
  es_trace_info exec = {"Account", "acc-1", "Deposit", {{1, 2, 3}}, {{0}}};
  es_trace_info app = {"Account", "acc-1", NULL, {{1, 2, 3}}, {{9}}};
  es_trace_info apply = {"Account", "acc-1", "Deposited", {{1, 2, 3}}, {{9}}};
  void *d_exec, *d_app, *d_apply;

  o.trace.ctx = &t;
  o.trace.begin = t_begin;
  o.trace.end = t_end;
  cr_assert(es__trace_enabled(&o));

  d_exec = es__trace_begin(&o, ES_SPAN_EXECUTE, &exec);
  d_apply = es__trace_begin(&o, ES_SPAN_APPLY, &apply);
  es__trace_end(&o, ES_SPAN_APPLY, &apply, d_apply, 0);
  d_app = es__trace_begin(&o, ES_SPAN_APPEND, &app);
  es__trace_end(&o, ES_SPAN_APPEND, &app, d_app, ES_ECONFLICT);
  es__trace_end(&o, ES_SPAN_EXECUTE, &exec, d_exec, 0);

  cr_assert_eq(t.n_begin, 3);
  cr_assert_eq(t.n_end, 3);
  cr_assert_eq(t.depth, 0);
  cr_assert_eq(t.mismatch, 0);
  cr_assert_eq(d_exec, &t.tokens[0]);
  cr_assert_eq(d_apply, &t.tokens[1]);
  cr_assert_eq(d_app, &t.tokens[2]);
  cr_assert_str_eq(t.type_name[0], "Deposit");
  cr_assert_str_eq(t.type_name[1], "Deposited");
  cr_assert_str_eq(t.type_name[2], "-");
  cr_assert_eq(t.correlation.bytes[2], 3);
  /* Each end() got its own begin()'s data and its own rc. */
  cr_assert_eq(t.ended_span[0], ES_SPAN_APPLY);
  cr_assert_eq(t.ended_rc[0], 101 * 1000);
  cr_assert_eq(t.ended_span[1], ES_SPAN_APPEND);
  cr_assert_eq(t.ended_rc[1], 102 * 1000 - ES_ECONFLICT);
  cr_assert_eq(t.ended_span[2], ES_SPAN_EXECUTE);
  cr_assert_eq(t.ended_rc[2], 100 * 1000);
}

static int end_only_calls;
static void *end_only_data = (void *)1;

static void end_only(void *ctx, int span, const es_trace_info *info,
                     void *span_data, int rc) {
  (void)ctx;
  (void)span;
  (void)info;
  (void)rc;
  end_only_calls++;
  end_only_data = span_data;
}

Test(trace, no_hooks_cost_nothing_and_one_hook_alone_works) {
  es_obs o = ES_OBS_INIT;
  es_trace_info info = {0};
  void *d;

  cr_assert_not(es__trace_enabled(&o));
  cr_assert_not(es__trace_enabled(NULL));
  d = es__trace_begin(&o, ES_SPAN_DISPATCH, &info);
  cr_assert_null(d);
  es__trace_end(&o, ES_SPAN_DISPATCH, &info, d, 0);
  cr_assert_null(es__trace_begin(NULL, ES_SPAN_DISPATCH, &info));
  es__trace_end(NULL, ES_SPAN_DISPATCH, &info, NULL, 0);

  o.trace.end = end_only;
  cr_assert(es__trace_enabled(&o));
  d = es__trace_begin(&o, ES_SPAN_DISPATCH, &info);
  es__trace_end(&o, ES_SPAN_DISPATCH, &info, d, 0);
  cr_assert_eq(end_only_calls, 1);
  cr_assert_null(end_only_data);
}

Test(trace, span_names) {
  cr_assert_str_eq(es_span_name(ES_SPAN_EXECUTE), "execute");
  cr_assert_str_eq(es_span_name(ES_SPAN_APPEND), "append");
  cr_assert_str_eq(es_span_name(ES_SPAN_APPLY), "apply");
  cr_assert_str_eq(es_span_name(ES_SPAN_DISPATCH), "dispatch");
  cr_assert_str_eq(es_span_name(-1), "unknown");
}

/* ---- the bundle ------------------------------------------------------------
 */

Test(obs, init_turns_everything_off) {
  es_obs o = ES_OBS_INIT;
  cr_assert_null(o.log);
  cr_assert_null(o.log_ctx);
  cr_assert_eq(o.log_level, ES_LOG_DEBUG);
  cr_assert_null(o.metrics);
  cr_assert_null(o.trace.ctx);
  cr_assert_null(o.trace.begin);
  cr_assert_null(o.trace.end);
  /* A NULL metrics pointer is a valid recording target. */
  es_metrics_add(o.metrics, ES_CTR_COMMANDS_OK, 1);
  es_metrics_observe_us(o.metrics, ES_HIST_COMMAND, 5);
}

Test(obs, monotonic_clock_moves_forward) {
  uint64_t a = es_obs_now_us(), b = es_obs_now_us();
  cr_assert_gt(a, 0);
  cr_assert_geq(b, a);
}
