/*
 * store_cases.h - the behaviour every store shares: expected versions,
 * atomic multi-stream appends, reads, waits, bad input, blobs, and
 * concurrent appenders, written against the public interface only.
 *
 * Included by one test file per store, which first defines
 *   CASE_KIND                 the store's es_store_kind() name;
 *   int case_open(es_store **out, const es_store_options *opt)
 *                             opens a fresh, empty store (NULL out: the
 *                             store's ES_EINVAL);
 *   void case_close(es_store *s)  closes it and removes what it left.
 */
#ifndef STORE_CASES_H
#define STORE_CASES_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es/es_error.h"
#include "es/es_store.h"

static es_store *s;

/* For other threads: Criterion's asserts may only fail on the test's own
 * thread, so elsewhere a failure aborts the (forked) test process. */
#define T_CHECK(c)                                                             \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);    \
      abort();                                                                 \
    }                                                                          \
  } while (0)

static void setup(void) { cr_assert_eq(case_open(&s, NULL), 0); }
static void teardown(void) {
  case_close(s);
  s = NULL;
}

TestSuite(store, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ------------------------------------------------------------ */

/* An event whose payload is the text `text` (kept by the caller). */
static es_new_event ev(const char *text) {
  es_new_event e;
  memset(&e, 0, sizeof e);
  e.type_id = 77;
  e.type_version = 1;
  e.payload = text;
  e.len = strlen(text);
  return e;
}

static int append_n(const char *type, const char *key, es_expected x,
                    uint32_t n, uint64_t *version) {
  es_new_event e[16];
  cr_assert(n <= 16);
  for (uint32_t i = 0; i < n; i++)
    e[i] = ev("x");
  return es_store_append_one(s, type, key, x, e, n, version);
}

static uint64_t head(void) {
  uint64_t h = 999;
  cr_assert_eq(es_store_head(s, &h), 0);
  return h;
}

static uint64_t version_of(const char *type, const char *key) {
  uint64_t v = 999;
  cr_assert_eq(es_store_stream_version(s, type, key, &v), 0);
  return v;
}

/* Collects what reads deliver (copies, since records are only lent). */
typedef struct seen {
  uint32_t n;
  uint64_t position[256];
  uint64_t version[256];
  char key[256][16];
  char text[256][32];
  es_event_meta meta[256];
  uint32_t stop_after; /* 0: never stop */
} seen;

static int collect(const es_stored_event *e, void *ctx) {
  seen *w = ctx;
  cr_assert(w->n < 256);
  w->position[w->n] = e->meta.position;
  w->version[w->n] = e->meta.version;
  snprintf(w->key[w->n], sizeof w->key[0], "%s", e->meta.key);
  cr_assert(e->len < sizeof w->text[0]);
  memcpy(w->text[w->n], e->payload, e->len);
  w->text[w->n][e->len] = '\0';
  w->meta[w->n] = e->meta;
  w->meta[w->n].aggregate = NULL; /* lent pointers: do not keep */
  w->meta[w->n].key = NULL;
  w->n++;
  if (w->stop_after && w->n == w->stop_after)
    return 42;
  return 0;
}

/* ---- open and close ---------------------------------------------------- */

Test(store, open_and_close_basics) {
  es_store *t = NULL;
  cr_assert_eq(case_open(NULL, NULL), ES_EINVAL);
  cr_assert_str_eq(es_store_kind(s), CASE_KIND);
  cr_assert_str_eq(es_store_kind(NULL), "");
  es_store_close(NULL);
  es_store_interrupt(NULL);
  cr_assert_eq(head(), 0);
  cr_assert_eq(version_of("A", "k"), 0);
  cr_assert_eq(case_open(&t, NULL), 0);
  cr_assert_eq(t->opt.max_event_size, ES_STORE_DEFAULT_MAX_EVENT);
  cr_assert_eq(t->opt.max_blob_size, ES_STORE_DEFAULT_MAX_BLOB);
  cr_assert_eq(t->opt.max_append_events, ES_STORE_DEFAULT_MAX_APPEND_EVENTS);
  case_close(t);
}

/* ---- expected versions -------------------------------------------------- */

Test(store, expect_any_appends_to_new_and_existing) {
  uint64_t v = 0;
  cr_assert_eq(append_n("A", "k", es_expect_any(), 2, &v), 0);
  cr_assert_eq(v, 2);
  cr_assert_eq(append_n("A", "k", es_expect_any(), 3, &v), 0);
  cr_assert_eq(v, 5);
  cr_assert_eq(head(), 5);
}

Test(store, expect_no_stream) {
  uint64_t v = 0;
  es_append_result r;
  es_new_event e = ev("a");
  es_append_stream g = {"A", "k", {ES_EXPECT_NO_STREAM, 0}, &e, 1, 0};

  cr_assert_eq(append_n("A", "k", es_expect_no_stream(), 1, &v), 0);
  cr_assert_eq(v, 1);
  cr_assert_eq(es_store_append(s, &g, 1, &r), ES_ECONFLICT);
  cr_assert_eq(r.conflict, 0);
  cr_assert_eq(r.actual_version, 1);
  cr_assert_eq(head(), 1);
  cr_assert_eq(version_of("A", "k"), 1);
}

Test(store, expect_exists) {
  uint64_t v = 0;
  es_append_result r;
  es_new_event e = ev("a");
  es_append_stream g = {"A", "k", {ES_EXPECT_EXISTS, 0}, &e, 1, 0};

  cr_assert_eq(es_store_append(s, &g, 1, &r), ES_ECONFLICT);
  cr_assert_eq(r.conflict, 0);
  cr_assert_eq(r.actual_version, 0);
  cr_assert_eq(head(), 0);
  cr_assert_eq(append_n("A", "k", es_expect_any(), 1, NULL), 0);
  cr_assert_eq(append_n("A", "k", es_expect_exists(), 2, &v), 0);
  cr_assert_eq(v, 3);
}

Test(store, expect_exact) {
  uint64_t v = 0;
  es_append_result r;
  es_new_event e = ev("a");
  es_append_stream g = {"A", "k", {ES_EXPECT_EXACT, 1}, &e, 1, 0};

  /* exact 0 is "no stream" */
  cr_assert_eq(append_n("A", "k", es_expect_exact(0), 1, &v), 0);
  cr_assert_eq(v, 1);
  cr_assert_eq(append_n("A", "k", es_expect_exact(0), 1, NULL), ES_ECONFLICT);
  cr_assert_eq(append_n("A", "k", es_expect_exact(1), 2, &v), 0);
  cr_assert_eq(v, 3);
  cr_assert_eq(es_store_append(s, &g, 1, &r), ES_ECONFLICT, "stale version");
  cr_assert_eq(r.actual_version, 3);
  g.expected.version = 4;
  cr_assert_eq(es_store_append(s, &g, 1, &r), ES_ECONFLICT, "future version");
  cr_assert_eq(r.actual_version, 3);
  cr_assert_eq(version_of("A", "k"), 3);
  cr_assert_eq(head(), 3);
}

/* ---- multi-stream appends ------------------------------------------------ */

Test(store, multi_stream_conflict_aborts_every_group) {
  es_new_event a[2] = {ev("a1"), ev("a2")}, b = ev("b1"), c = ev("c1");
  es_append_stream g[3] = {
      {"A", "1", {ES_EXPECT_EXACT, 2}, a, 2, 0},
      {"B", "2", {ES_EXPECT_NO_STREAM, 0}, &b, 1, 0},
      {"C", "3", {ES_EXPECT_ANY, 0}, &c, 1, 0},
  };
  es_append_result r;
  seen w = {0};

  cr_assert_eq(append_n("A", "1", es_expect_any(), 2, NULL), 0);
  cr_assert_eq(append_n("B", "2", es_expect_any(), 1, NULL), 0);
  cr_assert_eq(es_store_append(s, g, 3, &r), ES_ECONFLICT);
  cr_assert_eq(r.conflict, 1);
  cr_assert_eq(r.actual_version, 1);
  cr_assert_eq(head(), 3);
  cr_assert_eq(version_of("A", "1"), 2);
  cr_assert_eq(version_of("B", "2"), 1);
  cr_assert_eq(version_of("C", "3"), 0);
  cr_assert_eq(es_store_read_all(s, 0, 0, collect, &w), 0);
  cr_assert_eq(w.n, 3);

  /* fixed expectation: all three land, in group order */
  g[1].expected = es_expect_exact(1);
  cr_assert_eq(es_store_append(s, g, 3, &r), 0);
  cr_assert_eq(r.first_position, 4);
  cr_assert_eq(r.last_position, 7);
  cr_assert_eq(g[0].version, 4);
  cr_assert_eq(g[1].version, 2);
  cr_assert_eq(g[2].version, 1);
  memset(&w, 0, sizeof w);
  cr_assert_eq(es_store_read_all(s, 4, 0, collect, &w), 0);
  cr_assert_eq(w.n, 4);
  cr_assert_str_eq(w.text[0], "a1");
  cr_assert_str_eq(w.text[1], "a2");
  cr_assert_str_eq(w.text[2], "b1");
  cr_assert_str_eq(w.text[3], "c1");
  cr_assert_eq(w.version[2], 2);
}

Test(store, check_only_group_guards_an_append) {
  es_new_event a = ev("a");
  es_append_stream g[2] = {
      {"A", "1", {ES_EXPECT_ANY, 0}, &a, 1, 0},
      {"Guard", "g", {ES_EXPECT_EXACT, 1}, NULL, 0, 0},
  };
  es_append_result r;

  cr_assert_eq(es_store_append(s, g, 2, &r), ES_ECONFLICT);
  cr_assert_eq(r.conflict, 1);
  cr_assert_eq(head(), 0);
  cr_assert_eq(append_n("Guard", "g", es_expect_any(), 1, NULL), 0);
  cr_assert_eq(es_store_append(s, g, 2, &r), 0);
  cr_assert_eq(g[1].version, 1);
  cr_assert_eq(version_of("Guard", "g"), 1);
  cr_assert_eq(head(), 2);
}

Test(store, one_stream_twice_in_a_batch_is_invalid) {
  es_new_event a = ev("a");
  es_append_stream g[2] = {
      {"A", "1", {ES_EXPECT_ANY, 0}, &a, 1, 0},
      {"A", "1", {ES_EXPECT_ANY, 0}, &a, 1, 0},
  };
  es_append_stream many[40];
  char keys[40][16];

  cr_assert_eq(es_store_append(s, g, 2, NULL), ES_EINVAL);
  g[1].key = "2"; /* same key, other type is also fine */
  cr_assert_eq(es_store_append(s, g, 2, NULL), 0);
  /* the sorted path (more than 16 groups) */
  for (int i = 0; i < 40; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    many[i] = g[0];
    many[i].type = "M";
    many[i].key = keys[i];
  }
  many[39].key = keys[7];
  cr_assert_eq(es_store_append(s, many, 40, NULL), ES_EINVAL);
  many[39].key = keys[39];
  cr_assert_eq(es_store_append(s, many, 40, NULL), 0);
  cr_assert_eq(head(), 42);
}

/* ---- metadata and reads ----------------------------------------------------
 */

Test(store, positions_are_contiguous_and_metadata_kept) {
  es_new_event e = ev("given");
  seen w = {0};
  char key[16];

  memset(e.event_id.bytes, 0xab, 16);
  memset(e.correlation_id.bytes, 0x11, 16);
  memset(e.causation_id.bytes, 0x22, 16);
  e.timestamp = 1234567;
  e.type_id = 0xfeedfacecafebeefull;
  e.type_version = 3;
  cr_assert_eq(es_store_append_one(s, "Acc", "x", es_expect_any(), &e, 1, NULL),
               0);
  for (int i = 0; i < 30; i++) {
    snprintf(key, sizeof key, "k%d", i % 3);
    cr_assert_eq(append_n("Acc", key, es_expect_any(), 1 + i % 4, NULL), 0);
  }
  cr_assert_eq(es_store_read_all(s, 0, 200, collect, &w), 0);
  cr_assert_eq(w.n, head());
  for (uint32_t i = 0; i < w.n; i++)
    cr_assert_eq(w.position[i], i + 1);
  cr_assert_eq(w.meta[0].timestamp, 1234567);
  cr_assert_eq(w.meta[0].type_id, 0xfeedfacecafebeefull);
  cr_assert_eq(w.meta[0].type_version, 3);
  cr_assert_eq(memcmp(&w.meta[0].event_id, &e.event_id, 16), 0);
  cr_assert_eq(memcmp(&w.meta[0].correlation_id, &e.correlation_id, 16), 0);
  cr_assert_eq(memcmp(&w.meta[0].causation_id, &e.causation_id, 16), 0);
  cr_assert_str_eq(w.text[0], "given");

  /* per-stream versions count up; generated ids are v7, distinct */
  uint64_t next[3] = {1, 1, 1};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  for (uint32_t i = 1; i < w.n; i++) {
    int k = w.key[i][1] - '0';
    cr_assert_eq(w.version[i], next[k]++);
    cr_assert_eq(w.meta[i].event_id.bytes[6] >> 4, 7);
    cr_assert_eq(w.meta[i].event_id.bytes[8] >> 6, 2);
    cr_assert(w.meta[i].timestamp > 0 &&
              w.meta[i].timestamp <= (int64_t)now.tv_sec * 1000000 + 1000000);
    for (uint32_t j = 1; j < i; j++)
      cr_assert_neq(memcmp(&w.meta[i].event_id, &w.meta[j].event_id, 16), 0);
  }
  cr_assert_eq(next[0] - 1 + next[1] - 1 + next[2] - 1, w.n - 1);
}

Test(store, read_stream_from_a_version) {
  es_new_event e[6] = {ev("1"), ev("2"), ev("3"), ev("4"), ev("5"), ev("6")};
  seen w = {0};

  cr_assert_eq(es_store_append_one(s, "A", "k", es_expect_any(), e, 6, NULL),
               0);
  cr_assert_eq(append_n("A", "other", es_expect_any(), 3, NULL), 0);
  cr_assert_eq(es_store_read_stream(s, "A", "k", 4, 0, collect, &w), 0);
  cr_assert_eq(w.n, 3);
  cr_assert_str_eq(w.text[0], "4");
  cr_assert_eq(w.version[0], 4);
  cr_assert_str_eq(w.text[2], "6");

  memset(&w, 0, sizeof w);
  cr_assert_eq(es_store_read_stream(s, "A", "k", 0, 2, collect, &w), 0);
  cr_assert_eq(w.n, 2);
  cr_assert_eq(w.version[0], 1);
  cr_assert_eq(w.version[1], 2);

  memset(&w, 0, sizeof w);
  cr_assert_eq(es_store_read_stream(s, "A", "k", 7, 0, collect, &w), 0);
  cr_assert_eq(es_store_read_stream(s, "A", "none", 1, 0, collect, &w), 0);
  cr_assert_eq(es_store_read_stream(s, "B", "k", 1, 0, collect, &w), 0);
  cr_assert_eq(w.n, 0);
}

Test(store, read_all_in_bounded_batches) {
  char key[16];
  uint64_t from = 1, expect = 1;
  int batches = 0;

  for (int i = 0; i < 50; i++) {
    snprintf(key, sizeof key, "s%d", i % 5);
    cr_assert_eq(append_n("T", key, es_expect_any(), 1, NULL), 0);
  }
  for (;;) {
    seen w = {0};
    cr_assert_eq(es_store_read_all(s, from, 7, collect, &w), 0);
    if (w.n == 0)
      break;
    cr_assert(w.n <= 7);
    for (uint32_t i = 0; i < w.n; i++)
      cr_assert_eq(w.position[i], expect++);
    from = w.position[w.n - 1] + 1;
    batches++;
  }
  cr_assert_eq(expect, 51);
  cr_assert_eq(batches, 8); /* 7 * 7 + 1 */
  {
    seen w = {0};
    cr_assert_eq(es_store_read_all(s, 50, 7, collect, &w), 0);
    cr_assert_eq(w.n, 1);
    cr_assert_eq(es_store_read_all(s, 51, 7, collect, &w), 0);
    cr_assert_eq(w.n, 1);
  }
}

Test(store, a_callback_stops_the_read) {
  seen w = {0};
  for (int i = 0; i < 150; i++) /* more than one internal chunk */
    cr_assert_eq(append_n("A", "k", es_expect_any(), 1, NULL), 0);
  w.stop_after = 100;
  cr_assert_eq(es_store_read_all(s, 1, 0, collect, &w), 42);
  cr_assert_eq(w.n, 100);
  memset(&w, 0, sizeof w);
  w.stop_after = 3;
  cr_assert_eq(es_store_read_stream(s, "A", "k", 1, 0, collect, &w), 42);
  cr_assert_eq(w.n, 3);
}

/* A callback may append: reads hold no lock while calling it, and see only
 * the events present when they began. */
static int append_from_callback(const es_stored_event *e, void *ctx) {
  uint32_t *n = ctx;
  es_new_event x = ev("more");
  (*n)++;
  cr_assert_eq(e->meta.position, *n);
  cr_assert_eq(es_store_append_one(s, "A", "k", es_expect_any(), &x, 1, NULL),
               0);
  return 0;
}

Test(store, callbacks_may_append) {
  uint32_t n = 0;
  cr_assert_eq(append_n("A", "k", es_expect_any(), 3, NULL), 0);
  cr_assert_eq(es_store_read_all(s, 1, 0, append_from_callback, &n), 0);
  cr_assert_eq(n, 3);
  cr_assert_eq(head(), 6);
  n = 0;
  cr_assert_eq(
      es_store_read_stream(s, "A", "k", 1, 0, append_from_callback, &n), 0);
  cr_assert_eq(n, 6);
  cr_assert_eq(head(), 12);
}

/* ---- waiting
 * ----------------------------------------------------------------- */

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

Test(store, wait_times_out_without_appends) {
  uint64_t h = 99;
  int64_t t0 = mono_us();
  cr_assert_eq(es_store_wait(s, 0, 50000, &h), ES_ETIMEDOUT);
  cr_assert(mono_us() - t0 >= 50000);
  cr_assert_eq(h, 0);
  cr_assert_eq(es_store_wait(s, 0, 0, &h), ES_ETIMEDOUT, "0: just checks");
  cr_assert_eq(append_n("A", "k", es_expect_any(), 2, NULL), 0);
  cr_assert_eq(es_store_wait(s, 0, 0, &h), 0);
  cr_assert_eq(h, 2);
  cr_assert_eq(es_store_wait(s, 1, -1, NULL), 0, "already past: no block");
  cr_assert_eq(es_store_wait(s, 2, 1000, &h), ES_ETIMEDOUT);
  cr_assert_eq(es_store_wait(NULL, 0, 0, &h), ES_EINVAL);
}

static void *append_later(void *arg) {
  (void)arg;
  struct timespec d = {0, 30 * 1000 * 1000};
  nanosleep(&d, NULL);
  T_CHECK((append_n("A", "k", es_expect_any(), 1, NULL)) == (0));
  return NULL;
}

Test(store, wait_wakes_on_append_from_another_thread) {
  pthread_t t;
  uint64_t h = 0;
  int64_t t0 = mono_us();
  cr_assert_eq(pthread_create(&t, NULL, append_later, NULL), 0);
  cr_assert_eq(es_store_wait(s, 0, 10 * 1000000, &h), 0);
  cr_assert_eq(h, 1);
  cr_assert(mono_us() - t0 < 5 * 1000000, "woken, not timed out");
  pthread_join(t, NULL);
  /* and with no time limit */
  cr_assert_eq(pthread_create(&t, NULL, append_later, NULL), 0);
  cr_assert_eq(es_store_wait(s, 1, -1, &h), 0);
  cr_assert_eq(h, 2);
  pthread_join(t, NULL);
}

static void *interrupt_later(void *arg) {
  (void)arg;
  struct timespec d = {0, 30 * 1000 * 1000};
  nanosleep(&d, NULL);
  es_store_interrupt(s);
  return NULL;
}

Test(store, interrupt_releases_waiters) {
  pthread_t t;
  uint64_t h = 99;
  cr_assert_eq(pthread_create(&t, NULL, interrupt_later, NULL), 0);
  cr_assert_eq(es_store_wait(s, 0, -1, &h), ES_EINTERRUPTED);
  cr_assert_eq(h, 0);
  pthread_join(t, NULL);
  /* a later wait is unaffected */
  cr_assert_eq(es_store_wait(s, 0, 1000, &h), ES_ETIMEDOUT);
}

/* ---- bad input -------------------------------------------------------------
 */

Test(store, bad_names_and_pointers) {
  char longkey[ES_KEY_MAX + 2], longtype[ES_STREAM_TYPE_MAX + 2];
  es_new_event e = ev("a");
  uint64_t v;

  memset(longkey, 'k', ES_KEY_MAX + 1);
  longkey[ES_KEY_MAX + 1] = '\0';
  memset(longtype, 't', ES_STREAM_TYPE_MAX + 1);
  longtype[ES_STREAM_TYPE_MAX + 1] = '\0';

  cr_assert_eq(
      es_store_append_one(NULL, "A", "k", es_expect_any(), &e, 1, NULL),
      ES_EINVAL);
  cr_assert_eq(append_n(NULL, "k", es_expect_any(), 1, NULL), ES_EINVAL);
  cr_assert_eq(append_n("A", NULL, es_expect_any(), 1, NULL), ES_EINVAL);
  cr_assert_eq(append_n("", "k", es_expect_any(), 1, NULL), ES_EINVAL);
  cr_assert_eq(append_n("A", "", es_expect_any(), 1, NULL), ES_EINVAL);
  cr_assert_eq(append_n("A", longkey, es_expect_any(), 1, NULL), ES_EINVAL);
  cr_assert_eq(append_n(longtype, "k", es_expect_any(), 1, NULL), ES_EINVAL);
  longkey[ES_KEY_MAX] = '\0';
  longtype[ES_STREAM_TYPE_MAX] = '\0';
  cr_assert_eq(append_n(longtype, longkey, es_expect_any(), 1, &v), 0,
               "exactly at the limits");
  cr_assert_eq(v, 1);
  cr_assert_eq(head(), 1);

  cr_assert_eq(es_store_read_stream(s, "A", "", 1, 0, collect, NULL),
               ES_EINVAL);
  cr_assert_eq(es_store_read_stream(s, "A", "k", 1, 0, NULL, NULL), ES_EINVAL);
  cr_assert_eq(es_store_read_all(s, 1, 0, NULL, NULL), ES_EINVAL);
  cr_assert_eq(es_store_read_all(NULL, 1, 0, collect, NULL), ES_EINVAL);
  cr_assert_eq(es_store_head(s, NULL), ES_EINVAL);
  cr_assert_eq(es_store_head(NULL, &v), ES_EINVAL);
  cr_assert_eq(es_store_stream_version(s, "A", NULL, &v), ES_EINVAL);
  cr_assert_eq(es_store_stream_version(s, "A", "k", NULL), ES_EINVAL);
  cr_assert_eq(head(), 1);
}

Test(store, bad_batches) {
  es_new_event e = ev("a");
  es_append_stream g = {"A", "k", {ES_EXPECT_ANY, 0}, &e, 1, 0};

  cr_assert_eq(append_n("A", "k", es_expect_any(), 0, NULL), ES_EINVAL,
               "zero events");
  cr_assert_eq(es_store_append(s, &g, 0, NULL), ES_EINVAL, "zero groups");
  cr_assert_eq(es_store_append(s, NULL, 1, NULL), ES_EINVAL);
  cr_assert_eq(es_store_append(s, &g, ES_STORE_MAX_APPEND_STREAMS + 1, NULL),
               ES_EINVAL);
  g.events = NULL;
  cr_assert_eq(es_store_append(s, &g, 1, NULL), ES_EINVAL, "NULL events");
  g.events = &e;
  g.expected.kind = 17;
  cr_assert_eq(es_store_append(s, &g, 1, NULL), ES_EINVAL, "unknown kind");
  g.expected.kind = ES_EXPECT_ANY;
  e.payload = NULL;
  cr_assert_eq(es_store_append(s, &g, 1, NULL), ES_EINVAL, "NULL payload");
  e.len = 0;
  cr_assert_eq(es_store_append(s, &g, 1, NULL), 0, "empty payload is fine");
  cr_assert_eq(head(), 1);
}

Test(store, oversized_payload_and_batch_leave_the_store_unchanged) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *t;
  uint8_t *big = calloc(1, 4097);
  es_new_event e[3];
  es_append_stream g[2];
  uint64_t h = 9;

  o.max_event_size = 4096;
  o.max_append_events = 2;
  cr_assert_eq(case_open(&t, &o), 0);
  e[0] = e[1] = e[2] = ev("ok");
  cr_assert_eq(es_store_append_one(t, "A", "k", es_expect_any(), e, 1, NULL),
               0);
  e[1].payload = big;
  e[1].len = 4097;
  g[0] = (es_append_stream){"A", "k", {ES_EXPECT_EXACT, 1}, &e[0], 1, 0};
  g[1] = (es_append_stream){"B", "k", {ES_EXPECT_ANY, 0}, &e[1], 1, 0};
  cr_assert_eq(es_store_append(t, g, 2, NULL), ES_ETOOBIG);
  e[1].len = 4096;
  cr_assert_eq(es_store_append(t, g, 2, NULL), 0, "exactly the maximum");
  g[0].expected = es_expect_any();
  g[1].n_events = 2; /* 3 events > max_append_events */
  cr_assert_eq(es_store_append(t, g, 2, NULL), ES_ETOOBIG);
  cr_assert_eq(es_store_head(t, &h), 0);
  cr_assert_eq(h, 3);
  cr_assert_eq(es_store_stream_version(t, "B", "k", &h), 0);
  cr_assert_eq(h, 1);
  case_close(t);
  free(big);
}

/* ---- the command index ----------------------------------------------------
 */

/* A clock the test moves by hand. */
static int64_t fake_now = 1700000000000000;
static int64_t fake_clock(void *ctx) {
  (void)ctx;
  return fake_now;
}

static es_uuid cmd_id(uint8_t n) {
  es_uuid u;
  memset(&u, 0, sizeof u);
  u.bytes[0] = 0xc0;
  u.bytes[15] = n;
  return u;
}

/* Appends `n` events to ("A", key) carrying causation id `id`. */
static int append_cmd(es_store *t, const char *key, es_uuid id, uint32_t n) {
  es_new_event e[4];
  cr_assert(n <= 4);
  for (uint32_t i = 0; i < n; i++) {
    e[i] = ev("c");
    e[i].causation_id = id;
  }
  return es_store_append_one(t, "A", key, es_expect_any(), e, n, NULL);
}

Test(store, command_find_names_the_first_append_of_a_command_id) {
  es_command_record r;
  es_uuid a = cmd_id(1), b = cmd_id(2), zero;

  memset(&zero, 0, sizeof zero);
  cr_assert_eq(es_store_command_find(s, &a, &r), ES_ENOTFOUND);
  cr_assert_eq(append_n("A", "x", es_expect_any(), 2, NULL), 0); /* 1-2 */
  cr_assert_eq(append_cmd(s, "k", a, 3), 0);                     /* 3-5 */
  cr_assert_eq(append_cmd(s, "j", b, 1), 0);                     /* 6 */
  cr_assert_eq(append_cmd(s, "k", a, 2), 0, "the store does not refuse it");
  cr_assert_eq(es_store_command_find(s, &a, &r), 0);
  cr_assert_eq(r.first_position, 3);
  cr_assert_eq(r.last_position, 5, "the first append stands, all of it");
  cr_assert_gt(r.timestamp, 0);
  cr_assert_eq(es_store_command_find(s, &b, &r), 0);
  cr_assert_eq(r.first_position, 6);
  cr_assert_eq(r.last_position, 6);
  cr_assert_eq(es_store_command_find(s, &zero, &r), ES_EINVAL);
  cr_assert_eq(es_store_command_find(s, NULL, &r), ES_EINVAL);
  cr_assert_eq(es_store_command_find(s, &a, NULL), ES_EINVAL);
  cr_assert_eq(es_store_command_find(NULL, &a, &r), ES_EINVAL);
}

Test(store, command_ids_expire_after_the_retention_not_a_count,
     .timeout = 300) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_command_record r;
  es_store *t;
  es_uuid a = cmd_id(1), b = cmd_id(2);

  fake_now = 1700000000000000;
  o.now_us = fake_clock;
  o.command_retention_us = 3600 * (int64_t)1000000; /* an hour */
  cr_assert_eq(case_open(&t, &o), 0);
  cr_assert_eq(append_cmd(t, "k", a, 1), 0);
  /* more other commands than the executor's window, within the hour:
   * still found */
  for (int i = 0; i < 300; i++) {
    es_uuid other = cmd_id(3);
    memcpy(other.bytes + 4, &i, sizeof i);
    cr_assert_eq(append_cmd(t, "k", other, 1), 0);
  }
  fake_now += o.command_retention_us;
  cr_assert_eq(es_store_command_find(t, &a, &r), 0, "exactly the retention");
  cr_assert_eq(r.first_position, 1);
  cr_assert_eq(r.timestamp, 1700000000000000, "the store's clock");
  fake_now += 1;
  cr_assert_eq(es_store_command_find(t, &a, &r), ES_ENOTFOUND, "expired");
  /* a later append prunes the expired ones and is found itself */
  cr_assert_eq(append_cmd(t, "k", b, 1), 0);
  cr_assert_eq(es_store_command_find(t, &b, &r), 0);
  cr_assert_eq(r.first_position, 302);
  cr_assert_eq(es_store_command_find(t, &a, &r), ES_ENOTFOUND);
  /* an expired id used again is a new command */
  cr_assert_eq(append_cmd(t, "k", a, 1), 0);
  cr_assert_eq(es_store_command_find(t, &a, &r), 0);
  cr_assert_eq(r.first_position, 303);
  case_close(t);
}

Test(store, command_ids_are_kept_forever_with_a_negative_retention) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_command_record r;
  es_store *t;
  es_uuid a = cmd_id(1);

  fake_now = 1700000000000000;
  o.now_us = fake_clock;
  o.command_retention_us = -1;
  cr_assert_eq(case_open(&t, &o), 0);
  cr_assert_eq(append_cmd(t, "k", a, 1), 0);
  fake_now += (int64_t)3650 * 24 * 3600 * 1000000;
  cr_assert_eq(append_cmd(t, "k", cmd_id(2), 1), 0);
  cr_assert_eq(es_store_command_find(t, &a, &r), 0);
  cr_assert_eq(r.first_position, 1);
  case_close(t);
}

Test(store, the_default_command_retention_is_a_day) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_command_record r;
  es_store *t;
  es_uuid a = cmd_id(1);

  fake_now = 1700000000000000;
  o.now_us = fake_clock;
  cr_assert_eq(case_open(&t, &o), 0);
  cr_assert_eq(append_cmd(t, "k", a, 1), 0);
  fake_now += ES_STORE_DEFAULT_COMMAND_RETENTION_US;
  cr_assert_eq(ES_STORE_DEFAULT_COMMAND_RETENTION_US,
               (int64_t)24 * 3600 * 1000000);
  cr_assert_eq(es_store_command_find(t, &a, &r), 0);
  fake_now += 1;
  cr_assert_eq(es_store_command_find(t, &a, &r), ES_ENOTFOUND);
  case_close(t);
}

/* ---- snapshots and checkpoints ---------------------------------------------
 */

Test(store, snapshots_put_get_overwrite) {
  es_snapshot_info in = {5, 0x1234}, out = {0, 0};
  es_buf b;

  es_buf_init(&b, 0);
  cr_assert_eq(es_store_snapshot_get(s, "A", "k", &out, &b), ES_ENOTFOUND);
  cr_assert_eq(es_store_snapshot_put(s, "A", "k", &in, "state5", 6), 0);
  cr_assert_eq(es_store_snapshot_get(s, "A", "k", &out, &b), 0);
  cr_assert_eq(out.version, 5);
  cr_assert_eq(out.layout, 0x1234);
  cr_assert_eq(b.len, 6);
  cr_assert_eq(memcmp(b.data, "state5", 6), 0);
  in.version = 9;
  cr_assert_eq(es_store_snapshot_put(s, "A", "k", &in, "s9", 2), 0);
  cr_assert_eq(es_store_snapshot_get(s, "A", "k", &out, &b), 0);
  cr_assert_eq(out.version, 9);
  cr_assert_eq(b.len, 2, "the buffer is cleared first");
  cr_assert_eq(es_store_snapshot_get(s, "A", "other", &out, &b), ES_ENOTFOUND);
  /* a snapshot does not make a stream exist; appends still work */
  cr_assert_eq(version_of("A", "k"), 0);
  cr_assert_eq(append_n("A", "k", es_expect_no_stream(), 1, NULL), 0);
  /* limits */
  es_buf_close(&b);
  es_buf_init(&b, 1);
  cr_assert_eq(es_store_snapshot_get(s, "A", "k", &out, &b), ES_ETOOBIG);
  cr_assert_eq(es_store_snapshot_put(s, "A", "", &in, "x", 1), ES_EINVAL);
  cr_assert_eq(es_store_snapshot_put(s, "A", "k", NULL, "x", 1), ES_EINVAL);
  cr_assert_eq(es_store_snapshot_put(s, "A", "k", &in, NULL, 1), ES_EINVAL);
  cr_assert_eq(es_store_snapshot_get(s, "A", "k", &out, NULL), ES_EINVAL);
  es_buf_close(&b);
}

Test(store, checkpoints_put_get_overwrite) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *t;
  uint64_t pos = 99;
  es_buf b;
  char big[65];

  es_buf_init(&b, 0);
  cr_assert_eq(es_store_checkpoint_get(s, "proj", &pos, &b), ES_ENOTFOUND);
  cr_assert_eq(es_store_checkpoint_put(s, "proj", 17, NULL, 0), 0);
  cr_assert_eq(es_store_checkpoint_get(s, "proj", &pos, NULL), 0);
  cr_assert_eq(pos, 17);
  cr_assert_eq(es_store_checkpoint_put(s, "proj", 40, "blob", 4), 0);
  cr_assert_eq(es_store_checkpoint_get(s, "proj", &pos, &b), 0);
  cr_assert_eq(pos, 40);
  cr_assert_eq(b.len, 4);
  cr_assert_eq(memcmp(b.data, "blob", 4), 0);
  cr_assert_eq(es_store_checkpoint_get(s, "proj2", &pos, &b), ES_ENOTFOUND);
  cr_assert_eq(es_store_checkpoint_put(s, "", 1, NULL, 0), ES_EINVAL);
  cr_assert_eq(es_store_checkpoint_put(s, NULL, 1, NULL, 0), ES_EINVAL);
  cr_assert_eq(es_store_checkpoint_get(s, "proj", NULL, &b), ES_EINVAL);
  es_buf_close(&b);

  o.max_blob_size = 64;
  cr_assert_eq(case_open(&t, &o), 0);
  memset(big, 'b', sizeof big);
  cr_assert_eq(es_store_checkpoint_put(t, "c", 1, big, 65), ES_ETOOBIG);
  cr_assert_eq(es_store_checkpoint_get(t, "c", &pos, NULL), ES_ENOTFOUND);
  cr_assert_eq(es_store_checkpoint_put(t, "c", 1, big, 64), 0);
  case_close(t);
}

/* ---- concurrency
 * -------------------------------------------------------------- */

#define THREADS 8
#define PER_THREAD 300

typedef struct worker {
  int id;
  int n_streams;
  uint32_t ok[100]; /* successful appends per stream */
  uint32_t conflicts;
} worker;

/* Each append carries "thread:seq" so the reader can find duplicates. */
static void *hammer(void *arg) {
  worker *w = arg;
  unsigned seed = (unsigned)w->id * 2654435761u;
  char key[16], text[32];

  for (int i = 0; i < PER_THREAD; i++) {
    int k =
        w->n_streams > 1 ? (int)(rand_r(&seed) % (unsigned)w->n_streams) : 0;
    es_new_event e;
    snprintf(key, sizeof key, "s%d", k);
    snprintf(text, sizeof text, "%d:%d", w->id, i);
    e = ev(text);
    for (;;) {
      uint64_t v, nv = 0;
      int rc;
      T_CHECK((es_store_stream_version(s, "C", key, &v)) == (0));
      rc = es_store_append_one(s, "C", key, es_expect_exact(v), &e, 1, &nv);
      if (rc == 0) {
        T_CHECK((nv) == (v + 1));
        w->ok[k]++;
        break;
      }
      T_CHECK((rc) == (ES_ECONFLICT));
      w->conflicts++;
    }
  }
  return NULL;
}

typedef struct tally {
  uint8_t got[THREADS][PER_THREAD];
  uint64_t next_version;
  uint64_t next_position;
} tally;

static int check_unique(const es_stored_event *e, void *ctx) {
  tally *t = ctx;
  char text[32];
  int th, seq;
  T_CHECK(e->len < sizeof text);
  memcpy(text, e->payload, e->len);
  text[e->len] = '\0';
  T_CHECK((sscanf(text, "%d:%d", &th, &seq)) == (2));
  T_CHECK(th >= 0 && th < THREADS && seq >= 0 && seq < PER_THREAD);
  T_CHECK(t->got[th][seq] == 0); /* a duplicate */
  t->got[th][seq] = 1;
  if (t->next_version)
    T_CHECK((e->meta.version) == (t->next_version++));
  if (t->next_position)
    T_CHECK((e->meta.position) == (t->next_position++));
  return 0;
}

static void run_hammer(int n_streams) {
  pthread_t th[THREADS];
  static worker w[THREADS];
  static tally t;
  uint32_t total_ok = 0;
  char key[16];

  memset(w, 0, sizeof w);
  for (int i = 0; i < THREADS; i++) {
    w[i].id = i;
    w[i].n_streams = n_streams;
    cr_assert_eq(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);

  for (int k = 0; k < n_streams; k++) {
    uint32_t ok = 0;
    for (int i = 0; i < THREADS; i++)
      ok += w[i].ok[k];
    total_ok += ok;
    snprintf(key, sizeof key, "s%d", k);
    cr_assert_eq(version_of("C", key), ok, "stream %d", k);
    memset(&t, 0, sizeof t);
    t.next_version = 1;
    cr_assert_eq(es_store_read_stream(s, "C", key, 1, 0, check_unique, &t), 0);
    cr_assert_eq(t.next_version, (uint64_t)ok + 1, "no gap in %s", key);
  }
  cr_assert_eq(total_ok, THREADS * PER_THREAD);
  cr_assert_eq(head(), total_ok);
  memset(&t, 0, sizeof t);
  t.next_position = 1;
  cr_assert_eq(es_store_read_all(s, 1, 0, check_unique, &t), 0);
  cr_assert_eq(t.next_position, (uint64_t)total_ok + 1);
  for (int i = 0; i < THREADS; i++)
    for (int j = 0; j < PER_THREAD; j++)
      cr_assert_eq(t.got[i][j], 1, "lost %d:%d", i, j);
}

Test(store, eight_threads_one_stream) { run_hammer(1); }

Test(store, eight_threads_hundred_streams) { run_hammer(100); }

/* Readers and waiters run against live appenders. */
static void *follow(void *arg) {
  uint64_t *seen_to = arg, h = 0;
  while (*seen_to < THREADS * PER_THREAD) {
    int rc = es_store_wait(s, *seen_to, 2 * 1000000, &h);
    T_CHECK(rc == 0 || rc == ES_ETIMEDOUT);
    tally *t = calloc(1, sizeof *t);
    t->next_position = *seen_to + 1;
    T_CHECK((es_store_read_all(s, *seen_to + 1, 50, check_unique, t)) == (0));
    *seen_to = t->next_position - 1;
    free(t);
  }
  return NULL;
}

Test(store, a_follower_sees_every_position_while_appends_run) {
  pthread_t f;
  uint64_t seen_to = 0;
  cr_assert_eq(pthread_create(&f, NULL, follow, &seen_to), 0);
  run_hammer(100);
  pthread_join(f, NULL);
  cr_assert_eq(seen_to, THREADS * PER_THREAD);
}

/* A lease is taken, checked, released and taken again; bad names are
 * refused. (Whether a second holder is refused depends on the store:
 * one-process stores grant every lease.) */
Test(store, a_lease_is_taken_checked_and_released) {
  es_lease *l = NULL;
  char long_name[ES_KEY_MAX + 2];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  cr_assert_eq(es_store_lease_try(s, "", &l), ES_EINVAL);
  cr_assert_eq(es_store_lease_try(s, long_name, &l), ES_EINVAL);
  cr_assert_eq(es_store_lease_try(s, "saga:X", NULL), ES_EINVAL);
  cr_assert_eq(es_store_lease_try(s, "saga:X", &l), 0);
  cr_assert_eq(es_store_lease_check(l), 0);
  es_store_lease_release(l);
  cr_assert_eq(es_store_lease_try(s, "saga:X", &l), 0);
  es_store_lease_release(l);
  es_store_lease_release(NULL);
}

#endif
