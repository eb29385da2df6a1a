/*
 * test_exec_concurrency.c - many threads executing commands at once: on
 * one instance, on many, on the memory and the log store, with the cache
 * evicting underneath, and two apps on one store (two writers, so the
 * conflict-and-retry path runs for real). After every run the state must
 * equal the serial result: no lost update, versions == commands.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "exec_support.h"

#define THREADS 8
#define MAX_KEYS 1000

typedef struct run {
  es_app *apps[2];
  uint32_t n_apps; /* thread i uses apps[i % n_apps] */
  uint32_t n_keys; /* instances "k0" .. */
  uint32_t per_thread;
  _Atomic int64_t sum[MAX_KEYS]; /* what was deposited, per instance */
  _Atomic uint64_t count[MAX_KEYS];
  _Atomic uint64_t retries;
  _Atomic uint64_t failures;
  _Atomic int first_error;
} run;

typedef struct worker {
  run *r;
  uint32_t index;
} worker;

static void key_of(uint32_t k, char out[16]) { snprintf(out, 16, "k%u", k); }

/* Makes the first app's cached "k0" stale on purpose before any thread
 * runs, so that the conflict-and-retry path runs whatever the scheduler
 * does: apps[1] deposits behind apps[0]'s back, then apps[0] deposits on
 * its stale copy and must retry. */
static void conflict_once(run *r) {
  es_result res;
  cr_assert_eq(ex_deposit(r->apps[1], "k0", 1, NULL, &res), 0);
  cr_assert_eq(ex_deposit(r->apps[0], "k0", 2, NULL, &res), 0);
  cr_assert_geq(res.retries, 1, "a deposit on a stale copy did not retry");
  atomic_fetch_add(&r->sum[0], 3);
  atomic_fetch_add(&r->count[0], 2);
  atomic_fetch_add(&r->retries, res.retries);
}

static void *work(void *arg) {
  worker *w = arg;
  run *r = w->r;
  es_app *app = r->apps[w->index % r->n_apps];
  unsigned seed = 12345u + w->index * 7919u;
  char key[16];
  for (uint32_t i = 0; i < r->per_thread; i++) {
    uint32_t k = r->n_keys == 1 ? 0 : (uint32_t)rand_r(&seed) % r->n_keys;
    int64_t amount = 1 + (int64_t)(rand_r(&seed) % 100);
    es_result res;
    key_of(k, key);
    int rc = ex_deposit(app, key, amount, NULL, &res);
    if (rc != 0) {
      int zero = 0;
      atomic_fetch_add(&r->failures, 1);
      atomic_compare_exchange_strong(&r->first_error, &zero, rc);
      continue;
    }
    atomic_fetch_add(&r->sum[k], amount);
    atomic_fetch_add(&r->count[k], 1);
    atomic_fetch_add(&r->retries, res.retries);
  }
  return NULL;
}

/* Opens every instance, runs THREADS workers, then checks each instance
 * through `check` (a fresh app on the same store) and the store. */
static void hammer(es_store *s, run *r, const es_app_options *o) {
  pthread_t th[THREADS];
  worker w[THREADS];
  char key[16];
  es_app *check;

  for (uint32_t i = 0; i < r->n_apps; i++)
    r->apps[i] = ex_app(s, o);
  for (uint32_t k = 0; k < r->n_keys; k++) {
    key_of(k, key);
    cr_assert_eq(ex_open(r->apps[0], key, 0), 0);
  }
  if (r->n_apps == 2)
    conflict_once(r);
  for (uint32_t i = 0; i < THREADS; i++) {
    w[i].r = r;
    w[i].index = i;
    cr_assert_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
  }
  for (uint32_t i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  cr_assert_eq(atomic_load(&r->failures), 0, "%lu failed, first: %s",
               (unsigned long)atomic_load(&r->failures),
               es_err_name(atomic_load(&r->first_error)));

  check = ex_app(s, NULL);
  uint64_t total = 0;
  for (uint32_t k = 0; k < r->n_keys; k++) {
    key_of(k, key);
    uint64_t n = atomic_load(&r->count[k]);
    total += n;
    ex_account a = ex_read(check, key);
    cr_assert_eq(a.balance, atomic_load(&r->sum[k]), "%s", key);
    cr_assert_eq(a.postings, n, "%s", key);
    cr_assert_eq(a.version, n + 1, "%s", key);
    cr_assert_eq(ex_version(s, "Account", key), n + 1, "%s", key);
    /* The apps that did the work agree. */
    for (uint32_t i = 0; i < r->n_apps; i++)
      cr_assert_eq(ex_read(r->apps[i], key).balance, a.balance, "%s", key);
  }
  cr_assert_eq(total,
               (uint64_t)THREADS * r->per_thread + (r->n_apps == 2 ? 2 : 0));
  cr_assert_eq(ex_head(s), total + r->n_keys);
  es_app_close(check);
  for (uint32_t i = 0; i < r->n_apps; i++)
    es_app_close(r->apps[i]);
}

static run *new_run(uint32_t n_apps, uint32_t n_keys, uint32_t per_thread) {
  run *r = calloc(1, sizeof *r);
  cr_assert_not_null(r);
  r->n_apps = n_apps;
  r->n_keys = n_keys;
  r->per_thread = per_thread;
  return r;
}

static es_store *memory(void) {
  es_store *s;
  cr_assert_eq(es_store_open_memory(&s, NULL), 0);
  return s;
}

Test(concurrency, one_instance_memory) {
  es_store *s = memory();
  run *r = new_run(1, 1, 500);
  hammer(s, r, NULL);
  cr_assert_eq(atomic_load(&r->retries), 0); /* one app: never a conflict */
  free(r);
  es_store_close(s);
}

Test(concurrency, thousand_instances_memory) {
  es_store *s = memory();
  run *r = new_run(1, 1000, 2000);
  hammer(s, r, NULL);
  free(r);
  es_store_close(s);
}

/* The cache unloads instances while commands run: a tiny memory bound and
 * a 1 ms idle time make nearly every command reload. */
Test(concurrency, thousand_instances_evicting) {
  es_store *s = memory();
  es_app_options o = ES_APP_OPTIONS_INIT;
  run *r = new_run(1, 1000, 1000);
  o.cache_idle_us = 1000;
  o.cache_max_bytes = 64 << 10;
  hammer(s, r, &o);
  free(r);
  es_store_close(s);
}

/* Two apps on one store: two writers whose caches go stale. */
Test(concurrency, two_apps_one_instance) {
  es_store *s = memory();
  es_app_options o = ES_APP_OPTIONS_INIT;
  run *r = new_run(2, 1, 300);
  o.max_retries = 100000; /* contention is the point: never give up */
  hammer(s, r, &o);
  cr_assert_gt(atomic_load(&r->retries), 0, "the conflict path never ran");
  free(r);
  es_store_close(s);
}

Test(concurrency, two_apps_ten_instances) {
  es_store *s = memory();
  es_app_options o = ES_APP_OPTIONS_INIT;
  run *r = new_run(2, 10, 500);
  o.max_retries = 100000;
  hammer(s, r, &o);
  cr_assert_gt(atomic_load(&r->retries), 0, "the conflict path never ran");
  free(r);
  es_store_close(s);
}

/* The embedded log, durable (fdatasync, group commit): fewer commands. */
static void on_log(uint32_t n_apps, uint32_t n_keys, uint32_t per_thread) {
  char dir[64];
  es_store *s;
  es_app_options o = ES_APP_OPTIONS_INIT;
  run *r = new_run(n_apps, n_keys, per_thread);
  o.max_retries = 100000;
  cr_assert_eq(ex_fresh_dir(dir), 0);
  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  hammer(s, r, &o);
  es_store_close(s);
  /* Reopened, the log holds the same. */
  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  es_app *app = ex_app(s, NULL);
  char key[16];
  for (uint32_t k = 0; k < n_keys; k++) {
    key_of(k, key);
    ex_account a = ex_read(app, key);
    cr_assert_eq(a.balance, atomic_load(&r->sum[k]));
    cr_assert_eq(a.version, atomic_load(&r->count[k]) + 1);
  }
  es_app_close(app);
  es_store_close(s);
  remove_dir(dir);
  free(r);
}

Test(concurrency, one_instance_log, .timeout = 120) { on_log(1, 1, 100); }

Test(concurrency, hundred_instances_log, .timeout = 120) {
  on_log(1, 100, 100);
}

Test(concurrency, two_apps_log, .timeout = 120) { on_log(2, 4, 100); }
