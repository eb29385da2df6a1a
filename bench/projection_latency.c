/*
 * projection_latency.c - live subscription latency: from an append to the
 * projection handler that receives the event, on a runner thread started
 * with es_projection_start() (catch up, then es_store_wait: no polling).
 *
 * One event at a time: the writer appends Account.Deposited, the handler
 * notes the time and signals, the writer waits for it, and so on. Prints
 * the median and p99 of two spans, for the memory store and the embedded
 * log (fdatasync per append):
 *   append->handler  from just before es_store_append_one() is called
 *                    (includes the append itself, and its sync);
 *   ack->handler     from when the append returned (the wake-up and
 *                    dispatch alone).
 * "store" rows keep the checkpoint in the store (the default: on the log,
 * one fdatasync per batch; one event at a time makes every event a batch,
 * so the next event waits behind the previous checkpoint's sync); "hook"
 * rows use a user-kept checkpoint that costs nothing, which isolates the
 * wake-up path.
 *
 *   projection_latency [-n EVENTS] [-d DIR]
 *
 * The handler is the benchmark's own: a one-handler projection over the
 * bank schema's Account.Deposited, in a copy of bank_schema that lists it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank.es.h"
#include "bench_util.h"
#include "es/es.h"

typedef struct shared {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t handled;
  double at; /* when the last one was handled */
} shared;

static int on_deposited(const void *event, const es_event_meta *meta,
                        void *ctx) {
  shared *s = ctx;
  double now = bench_now();
  (void)event;
  (void)meta;
  pthread_mutex_lock(&s->mu);
  s->handled++;
  s->at = now;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  return 0;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* A user-kept checkpoint that costs nothing: isolates the wake-up. */
static int load_zero(void *ctx, uint64_t *pos) {
  (void)ctx;
  *pos = 0;
  return 0;
}

static int commit_nothing(void *ctx, uint64_t pos) {
  (void)ctx;
  (void)pos;
  return 0;
}

static int run(const char *label, es_store *store, uint32_t n,
               bool user_checkpoint) {
  es_projection_handler h = {&bank_account_aggregate, 0, on_deposited};
  es_projection_desc desc = {"Latency", 1, &h};
  const es_projection_desc *projs[1] = {&desc};
  es_schema_desc schema = bank_schema;
  es_projection_options opt = ES_PROJECTION_OPTIONS_INIT;
  shared sh = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  double *full = calloc(n, sizeof *full), *wake = calloc(n, sizeof *wake);
  es_projection *p = NULL;
  bank_account_deposited dep;
  es_new_event ev;
  es_buf b;
  int rc;

  if (!full || !wake)
    return 1;
  h.event =
      (uint32_t)es_aggregate_find_event(&bank_account_aggregate, "Deposited");
  schema.n_projections = 1;
  schema.projections = projs;
  opt.ctx = &sh;
  if (user_checkpoint) {
    opt.load_position = load_zero;
    opt.commit = commit_nothing;
  }
  if ((rc = es_projection_open(&p, &schema, &desc, store, &opt)) != 0 ||
      (rc = es_projection_start(p)) != 0) {
    fprintf(stderr, "projection: %s\n", es_strerror(rc));
    return 1;
  }
  bank_account_deposited_init(&dep);
  dep.amount = 1;
  es_buf_init(&b, 0);
  if ((rc = bank_account_deposited_encode(&dep, &b)) != 0)
    return 1;
  memset(&ev, 0, sizeof ev);
  ev.type_id = bank_account_deposited_desc.type_id;
  ev.type_version = bank_account_deposited_desc.version;
  ev.payload = b.data;
  ev.len = b.len;

  for (uint32_t i = 0; i < n; i++) {
    double t0 = bench_now(), t1;
    if ((rc = es_store_append_one(store, "Account", "acc-1", es_expect_any(),
                                  &ev, 1, NULL)) != 0) {
      fprintf(stderr, "append: %s\n", es_strerror(rc));
      return 1;
    }
    t1 = bench_now();
    pthread_mutex_lock(&sh.mu);
    while (sh.handled < (uint64_t)i + 1)
      pthread_cond_wait(&sh.cv, &sh.mu);
    full[i] = sh.at - t0;
    wake[i] = sh.at - t1;
    pthread_mutex_unlock(&sh.mu);
  }
  es_projection_close(p);
  es_buf_close(&b);
  qsort(full, n, sizeof *full, cmp_double);
  qsort(wake, n, sizeof *wake, cmp_double);
  printf("%-6s %-5s append->handler median %7.1f us  p99 %7.1f us | "
         "ack->handler median %6.1f us  p99 %6.1f us  (%u events)\n",
         label, user_checkpoint ? "hook" : "store", full[n / 2] * 1e6,
         full[(size_t)n * 99 / 100] * 1e6, wake[n / 2] * 1e6,
         wake[(size_t)n * 99 / 100] * 1e6, n);
  free(full);
  free(wake);
  return 0;
}

int main(int argc, char **argv) {
  uint32_t n = 5000;
  const char *parent = NULL;
  char dir[4096];
  es_store *s = NULL;
  int opt, failed = 0;

  while ((opt = getopt(argc, argv, "n:d:")) != -1) {
    if (opt == 'n')
      n = (uint32_t)strtoul(optarg, NULL, 10);
    else if (opt == 'd')
      parent = optarg;
    else
      break;
  }
  if (opt != -1 || optind != argc || n == 0) {
    fprintf(stderr, "usage: projection_latency [-n EVENTS] [-d DIR]\n");
    return 2;
  }
  printf("projection live latency (one event at a time, runner thread "
         "woken by the append)\n");
  if (es_store_open_memory(&s, NULL) != 0)
    return 1;
  failed |= run("memory", s, n, false);
  es_store_close(s);

  if (bench_mkdtemp(parent, "es-proj-latency", dir, sizeof dir) != 0)
    return 1;
  if (es_store_open_log(&s, dir, NULL, 0) != 0) {
    bench_rmtree(dir);
    return 1;
  }
  failed |= run("log", s, n < 1000 ? n : 1000, false);
  failed |= run("log", s, n < 1000 ? n : 1000, true);
  es_store_close(s);
  bench_rmtree(dir);
  return failed;
}
