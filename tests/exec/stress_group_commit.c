/*
 * stress_group_commit.c - durable commands from many threads through the
 * embedded log's group commit: two apps on one store, THREADS_SHARED
 * threads depositing into one account (the apps' caches go stale, so the
 * conflict-and-retry path runs) and THREADS_OWN threads each on an account
 * of its own. Every acknowledged deposit must be in the store: each
 * account's balance and postings equal what its depositors were told
 * succeeded, its version is one per command, and the same holds after a
 * reopen.
 *
 * A plain program (exit status 0 or 1), not a Criterion test: it runs in
 * the suite (and so under ASan) and, built with -fsanitize=thread, under
 * ThreadSanitizer, which Criterion's runner does not start under.
 *
 * Usage: stress_group_commit [DEPOSITS_PER_THREAD]  (default 300); the
 * store goes into a fresh directory under $TMPDIR (default /tmp).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../runtime/src/store/store_log.h"
#include "ledger_impl.h"

#include "dir.h"

#define THREADS_SHARED 8
#define THREADS_OWN 8
#define THREADS (THREADS_SHARED + THREADS_OWN)
#define KEYS (1 + THREADS_OWN) /* "shared", then "own0" .. */

typedef struct run {
  es_app *apps[2];
  uint32_t per_thread;
  _Atomic int64_t sum[KEYS]; /* acknowledged deposits, per account */
  _Atomic uint64_t count[KEYS];
  _Atomic uint64_t retries;
  _Atomic uint64_t failures;
  _Atomic int first_error;
} run;

/* Stalls one call in PAUSE_ONE_IN at the group commit's hand-off points
 * for up to PAUSE_MAX_US, as a preempted thread on a busy machine would:
 * the other threads run ahead meanwhile (lead a whole group, return, free
 * their batch), which exposes an ordering mistake on any machine. */
#define PAUSE_ONE_IN 4
#define PAUSE_MAX_US 2000

static _Atomic uint64_t pause_seed = 0x9e3779b97f4a7c15ull;

static void pause_sometimes(int point) {
  uint64_t x = atomic_fetch_add(&pause_seed, 0x9e3779b97f4a7c15ull);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  (void)point;
  if (x % PAUSE_ONE_IN == 0) {
    struct timespec d = {0, (long)((x >> 8) % PAUSE_MAX_US) * 1000};
    nanosleep(&d, NULL);
  }
}

typedef struct worker {
  run *r;
  uint32_t index;
} worker;

static int failed;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "stress_group_commit: ");                                \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      failed = 1;                                                              \
    }                                                                          \
  } while (0)

static void key_of(uint32_t k, char out[16]) {
  if (k == 0)
    snprintf(out, 16, "shared");
  else
    snprintf(out, 16, "own%u", k - 1);
}

/* Thread i deposits into account 0 (shared) or its own, through app i % 2. */
static void *work(void *arg) {
  worker *w = arg;
  run *r = w->r;
  es_app *app = r->apps[w->index % 2];
  uint32_t k = w->index < THREADS_SHARED ? 0 : w->index - THREADS_SHARED + 1;
  char key[16];

  key_of(k, key);
  for (uint32_t i = 0; i < r->per_thread; i++) {
    ledger_account_deposit c = {.amount = 1 + (int64_t)((w->index + i) % 97)};
    es_result res;
    int rc = ledger_account_execute_deposit(app, key, &c, NULL, &res);
    if (rc != 0) {
      int zero = 0;
      atomic_fetch_add(&r->failures, 1);
      atomic_compare_exchange_strong(&r->first_error, &zero, rc);
      continue;
    }
    atomic_fetch_add(&r->sum[k], c.amount);
    atomic_fetch_add(&r->count[k], 1);
    atomic_fetch_add(&r->retries, res.retries);
  }
  return NULL;
}

typedef struct account {
  int64_t balance;
  uint64_t postings, version;
} account;

static int account_fn(const void *state, uint64_t version, void *ctx) {
  const ledger_account_state *s = state;
  account *a = ctx;
  a->balance = s->balance;
  a->postings = s->postings;
  a->version = version;
  return 0;
}

/* Checks every account, through a fresh app, against what was acknowledged. */
static void check_store(es_store *s, run *r, const char *when) {
  es_app *app = NULL;
  uint64_t total = 0, head = 0;
  char key[16];
  int rc = es_app_open(&app, &ledger_schema, s, NULL);

  CHECK(rc == 0, "%s: es_app_open: %s", when, es_err_name(rc));
  if (rc)
    return;
  for (uint32_t k = 0; k < KEYS; k++) {
    account a = {0, 0, 0};
    uint64_t n = atomic_load(&r->count[k]), v = 0;
    key_of(k, key);
    rc = es_app_read_state(app, &ledger_account_aggregate, key, account_fn, &a);
    CHECK(rc == 0, "%s: read %s: %s", when, key, es_err_name(rc));
    CHECK(a.balance == atomic_load(&r->sum[k]),
          "%s: %s: balance %lld, acknowledged %lld", when, key,
          (long long)a.balance, (long long)atomic_load(&r->sum[k]));
    CHECK(a.postings == n, "%s: %s: %llu postings, acknowledged %llu", when,
          key, (unsigned long long)a.postings, (unsigned long long)n);
    CHECK(a.version == n + 1, "%s: %s: version %llu, want %llu", when, key,
          (unsigned long long)a.version, (unsigned long long)n + 1);
    CHECK(es_store_stream_version(s, "Account", key, &v) == 0 && v == n + 1,
          "%s: %s: stream version %llu, want %llu", when, key,
          (unsigned long long)v, (unsigned long long)n + 1);
    total += n;
  }
  CHECK(es_store_head(s, &head) == 0 && head == total + KEYS,
        "%s: head %llu, want %llu", when, (unsigned long long)head,
        (unsigned long long)(total + KEYS));
  es_app_close(app);
}

/* Opens the accounts, runs the threads, checks, reopens and checks again. */
static void stress(const char *dir, run *r) {
  es_app_options o = ES_APP_OPTIONS_INIT;
  pthread_t th[THREADS];
  worker w[THREADS];
  es_store *s = NULL;
  char key[16];
  uint32_t started;
  int rc = es_store_open_log(&s, dir, NULL, 0);

  CHECK(rc == 0, "open %s: %s", dir, es_err_name(rc));
  if (rc)
    return;
  o.max_retries = 1000000; /* contention is the point: never give up */
  for (int i = 0; i < 2; i++) {
    rc = es_app_open(&r->apps[i], &ledger_schema, s, &o);
    CHECK(rc == 0, "es_app_open: %s", es_err_name(rc));
  }
  for (uint32_t k = 0; k < KEYS && !failed; k++) {
    ledger_account_open c = {.owner = "ann", .initial = 0};
    key_of(k, key);
    rc = ledger_account_execute_open(r->apps[0], key, &c, NULL, NULL);
    CHECK(rc == 0, "open account %s: %s", key, es_err_name(rc));
  }
  for (started = 0; started < THREADS && !failed; started++) {
    w[started].r = r;
    w[started].index = started;
    if (pthread_create(&th[started], NULL, work, &w[started]) != 0) {
      CHECK(0, "pthread_create failed");
      break;
    }
  }
  for (uint32_t i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  CHECK(atomic_load(&r->failures) == 0, "%llu deposits failed, first: %s",
        (unsigned long long)atomic_load(&r->failures),
        es_err_name(atomic_load(&r->first_error)));
  if (!failed)
    check_store(s, r, "after the run");
  for (int i = 0; i < 2; i++)
    es_app_close(r->apps[i]);
  es_store_close(s);

  s = NULL;
  rc = es_store_open_log(&s, dir, NULL, 0);
  CHECK(rc == 0, "reopen %s: %s", dir, es_err_name(rc));
  if (rc == 0 && !failed)
    check_store(s, r, "after a reopen");
  es_store_close(s);
}

int main(int argc, char **argv) {
  const char *tmp = getenv("TMPDIR");
  char dir[512];
  run *r = calloc(1, sizeof *r);

  if (!r)
    return 1;
  snprintf(dir, sizeof dir, "%s/es_stress_gc.XXXXXX",
           tmp && *tmp && strlen(tmp) < 400 ? tmp : "/tmp");
  es__store_log_pause = pause_sometimes;
  r->per_thread = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 300;
  if (!mkdtemp(dir)) {
    perror("stress_group_commit: mkdtemp");
    free(r);
    return 1;
  }
  stress(dir, r);
  remove_dir(dir);
  printf("stress_group_commit: %u threads x %u deposits, 2 apps: "
         "%llu retries after conflicts, %s\n",
         THREADS, r->per_thread, (unsigned long long)atomic_load(&r->retries),
         failed ? "FAILED" : "every acknowledged deposit stored");
  free(r);
  return failed;
}
