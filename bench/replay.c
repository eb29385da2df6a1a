/*
 * replay.c - events per second folded from the embedded log into state.
 *
 * Builds a store of EVENTS events on 1,000 bank accounts (an Opened each,
 * then deposits), appended straight through es_store_append() in large
 * batches, so building it is quick. Then, with the page cache warm, it
 * loads every account through es_app_read_state() on a fresh es_app: the
 * replay path a command takes on a cache miss (read the stream, decode
 * each event, call the user's apply). No snapshots exist (the store was
 * not written by the executor), so every event is folded. The figure is
 * events folded per second, one thread, best of two passes; a third pass
 * uses two threads (the machine's cores) on disjoint accounts.
 *
 * The layout of the log matters: RUN is how many consecutive events one
 * account gets in the log before the next account's. Live traffic
 * interleaves accounts (RUN 1: an account's next event is ~1,000 records
 * further on); a store written by one aggregate at a time, or a bulk
 * import, keeps them together (RUN = EVENTS / 1,000). Beside the per-
 * stream replay it times a sequential fold of the whole log
 * (es_store_read_all(), decode, apply into per-account states), which does
 * not depend on the layout.
 *
 * Each figure is given per second of wall time and per second of CPU time
 * (free of the time other processes held the CPU on a shared machine),
 * with the load average; the target is 15M events/s on one thread.
 *
 *   replay [-n EVENTS] [-r RUN] [-d DIR]
 *     -n  events in the store (default 10,000,000; about 130 bytes each
 *         on disk)
 *     -r  RUN (default: all of an account's events together)
 *     -d  scratch store under DIR (default $TMPDIR, else /var/tmp),
 *         removed afterwards
 */
#include <inttypes.h>
#include <pthread.h>

#include "bank.es.h"
#include "bench_util.h"

#define ACCOUNTS 1000
#define MAX_BATCH 65536
#define AMOUNTS 100
/* Events/s, one thread, es_app_read_state() (issue: cold aggregate loads). */
#define TARGET_REPLAY 15e6

static char keys[ACCOUNTS][16];

/* ---- building the store ---------------------------------------------------
 */

typedef struct payloads {
  es_buf opened;
  es_buf deposited[AMOUNTS]; /* amount i + 1 */
} payloads;

static int encode_payloads(payloads *p) {
  bank_account_opened o;
  bank_account_deposited d;
  bank_account_opened_init(&o);
  o.owner = "bench";
  o.initial = 0;
  es_buf_init(&p->opened, 0);
  if (bank_account_opened_encode(&o, &p->opened) != 0)
    return -1;
  bank_account_deposited_init(&d);
  for (int i = 0; i < AMOUNTS; i++) {
    d.amount = i + 1;
    es_buf_init(&p->deposited[i], 0);
    if (bank_account_deposited_encode(&d, &p->deposited[i]) != 0)
      return -1;
  }
  return 0;
}

static void free_payloads(payloads *p) {
  es_buf_close(&p->opened);
  for (int i = 0; i < AMOUNTS; i++)
    es_buf_close(&p->deposited[i]);
}

/* Appends `per` events to each account: rounds of `run` events per
 * account, as many accounts per es_store_append() as fit in MAX_BATCH.
 * `expect[i]` receives account i's balance. */
static int build(es_store *s, const payloads *p, uint64_t per, uint64_t run,
                 int64_t *expect) {
  static es_new_event ev[MAX_BATCH];
  static es_append_stream groups[ACCOUNTS];
  uint64_t done[ACCOUNTS] = {0};
  uint32_t per_append = (uint32_t)(MAX_BATCH / run);
  uint64_t next_amount = 0;
  int rc;

  if (per_append > ACCOUNTS)
    per_append = ACCOUNTS;
  if (per_append > ES_STORE_MAX_APPEND_STREAMS)
    per_append = ES_STORE_MAX_APPEND_STREAMS;
  memset(expect, 0, ACCOUNTS * sizeof *expect);
  for (uint64_t round = 0; round * run < per; round++) {
    for (uint32_t a0 = 0; a0 < ACCOUNTS; a0 += per_append) {
      uint32_t n_groups = 0, n_ev = 0;
      for (uint32_t a = a0; a < ACCOUNTS && a < a0 + per_append; a++) {
        es_append_stream *g = &groups[n_groups++];
        uint64_t k = per - done[a] < run ? per - done[a] : run;
        memset(g, 0, sizeof *g);
        g->type = bank_account_aggregate.name;
        g->key = keys[a];
        g->expected = es_expect_exact(done[a]);
        g->events = &ev[n_ev];
        g->n_events = (uint32_t)k;
        for (uint64_t i = 0; i < k; i++, n_ev++) {
          es_new_event *e = &ev[n_ev];
          memset(e, 0, sizeof *e);
          /* What a command stores: a causation (its command id). */
          e->causation_id.bytes[0] = 1;
          memcpy(e->causation_id.bytes + 8, &next_amount, 8);
          if (done[a] + i == 0) {
            e->type_id = bank_account_opened_desc.type_id;
            e->type_version = bank_account_opened_desc.version;
            e->payload = p->opened.data;
            e->len = p->opened.len;
          } else {
            const es_buf *b = &p->deposited[next_amount++ % AMOUNTS];
            e->type_id = bank_account_deposited_desc.type_id;
            e->type_version = bank_account_deposited_desc.version;
            e->payload = b->data;
            e->len = b->len;
            expect[a] += (int64_t)((next_amount - 1) % AMOUNTS) + 1;
          }
        }
        done[a] += k;
      }
      if ((rc = es_store_append(s, groups, n_groups, NULL)) != 0) {
        fprintf(stderr, "replay: append: %s\n", es_strerror(rc));
        return rc;
      }
    }
  }
  return 0;
}

/* ---- replay through es_app_read_state() --------------------------------- */

typedef struct reader {
  es_app *app;
  uint32_t from, step;
  const int64_t *expect;
  long wrong;
} reader;

static int check_state(const void *state, uint64_t version, void *ctx) {
  const bank_account_state *s = state;
  int64_t *balance = ctx;
  (void)version;
  *balance = s->open ? s->balance : INT64_MIN;
  return 0;
}

static void *read_accounts(void *arg) {
  reader *r = arg;
  for (uint32_t a = r->from; a < ACCOUNTS; a += r->step) {
    int64_t balance = 0;
    if (es_app_read_state(r->app, &bank_account_aggregate, keys[a], check_state,
                          &balance) != 0 ||
        balance != r->expect[a])
      r->wrong++;
  }
  return NULL;
}

/* Loads every account on a fresh app with `threads` threads; returns the
 * events folded per second, or a negative number on failure. */
static double replay_pass(es_store *s, const int64_t *expect, int threads,
                          uint64_t *replayed, double *seconds, double *cpu) {
  es_app_options opt = ES_APP_OPTIONS_INIT;
  es_app *app = NULL;
  es_app_stats st;
  pthread_t th[2];
  reader rd[2];
  double t0, t1, c0;
  long wrong = 0;

  opt.cache_max_bytes = (size_t)64 << 30; /* keep them all: no eviction */
  opt.cache_idle_us = -1;
  if (es_app_open(&app, &bank_schema, s, &opt) != 0)
    return -1;
  c0 = bench_process_cpu();
  t0 = bench_now();
  for (int i = 0; i < threads; i++) {
    rd[i].app = app;
    rd[i].from = (uint32_t)i;
    rd[i].step = (uint32_t)threads;
    rd[i].expect = expect;
    rd[i].wrong = 0;
    pthread_create(&th[i], NULL, read_accounts, &rd[i]);
  }
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    wrong += rd[i].wrong;
  }
  t1 = bench_now();
  *cpu = bench_process_cpu() - c0;
  es_app_stats_get(app, &st);
  es_app_close(app);
  if (wrong) {
    fprintf(stderr, "replay: %ld accounts came back wrong\n", wrong);
    return -1;
  }
  *replayed = st.replayed;
  *seconds = t1 - t0;
  return (double)st.replayed / (t1 - t0);
}

/* ---- a sequential fold of the whole log ------------------------------------
 */

typedef struct fold {
  bank_account_state state[ACCOUNTS];
  es_arena arena[ACCOUNTS];
  uint64_t n;
  int rc;
} fold;

static int fold_one(const es_stored_event *ev, void *arg) {
  fold *f = arg;
  const es_aggregate_desc *agg = &bank_account_aggregate;
  const char *k = ev->meta.key;
  uint32_t a, i;
  void *value;

  /* "acc-NNNN": the account's number is its index. */
  if (memcmp(k, "acc-", 4) != 0 || strlen(k) != 8)
    return f->rc = ES_EINVAL;
  a = (uint32_t)((k[4] - '0') * 1000 + (k[5] - '0') * 100 + (k[6] - '0') * 10 +
                 (k[7] - '0'));
  if (a >= ACCOUNTS)
    return f->rc = ES_EINVAL;
  for (i = 0; i < agg->n_events; i++)
    if (agg->events[i].event->type_id == ev->meta.type_id)
      break;
  if (i == agg->n_events)
    return f->rc = ES_EUNKNOWN;
  if (!(value = es_arena_alloc(&f->arena[a], agg->events[i].event->size)))
    return f->rc = ES_ENOMEM;
  if ((f->rc = es_type_decode(agg->events[i].event, value, ev->payload, ev->len,
                              &f->arena[a])) != 0)
    return f->rc;
  agg->events[i].apply(&f->state[a], value, &f->arena[a]);
  f->n++;
  return 0;
}

static double fold_all(es_store *s, const int64_t *expect, uint64_t *n,
                       double *seconds, double *cpu) {
  fold *f = calloc(1, sizeof *f);
  double t0, t1, c0, rate = -1;
  int rc;
  if (!f)
    return -1;
  for (int a = 0; a < ACCOUNTS; a++) {
    bank_account_state_init(&f->state[a]);
    es_arena_init(&f->arena[a], 0);
  }
  c0 = bench_thread_cpu();
  t0 = bench_now();
  rc = es_store_read_all(s, 1, 0, fold_one, f);
  t1 = bench_now();
  *cpu = bench_thread_cpu() - c0;
  if (rc == 0) {
    int a;
    for (a = 0; a < ACCOUNTS; a++)
      if (f->state[a].balance != expect[a])
        break;
    if (a == ACCOUNTS) {
      *n = f->n;
      *seconds = t1 - t0;
      rate = (double)f->n / (t1 - t0);
    } else {
      fprintf(stderr, "replay: the fold got account %d wrong\n", a);
    }
  } else {
    fprintf(stderr, "replay: read_all: %s\n", es_strerror(rc));
  }
  for (int a = 0; a < ACCOUNTS; a++)
    es_arena_close(&f->arena[a]);
  free(f);
  return rate;
}

int main(int argc, char **argv) {
  uint64_t events = 10000000, per, run = 0;
  const char *parent = NULL;
  char dir[4096];
  static int64_t expect[ACCOUNTS];
  payloads p;
  es_store *s = NULL;
  uint64_t head = 0, replayed = 0, n = 0;
  double t0, rate, best = 0, secs = 0, best_secs = 0, r2, s2 = 0, rf, sf = 0;
  double cpu = 0, best_cpu = 0, c2;
  int rc, failed = 0, opt;

  while ((opt = getopt(argc, argv, "n:r:d:")) != -1) {
    if (opt == 'n')
      events = strtoull(optarg, NULL, 10);
    else if (opt == 'r')
      run = strtoull(optarg, NULL, 10);
    else if (opt == 'd')
      parent = optarg;
    else
      break;
  }
  if (opt != -1 || optind != argc) {
    fprintf(stderr, "usage: replay [-n EVENTS] [-r RUN] [-d DIR]\n");
    return 2;
  }
  if (events < ACCOUNTS)
    events = ACCOUNTS;
  per = events / ACCOUNTS;
  if (run == 0 || run > per)
    run = per;
  if (run > MAX_BATCH)
    run = MAX_BATCH;
  for (int i = 0; i < ACCOUNTS; i++)
    snprintf(keys[i], sizeof keys[i], "acc-%04d", i);
  if (encode_payloads(&p) != 0 ||
      bench_mkdtemp(parent, "es-bench-replay", dir, sizeof dir) != 0)
    return 1;
  if ((rc = es_store_open_log(&s, dir, NULL, 0)) != 0) {
    fprintf(stderr, "replay: open: %s\n", es_strerror(rc));
    bench_rmtree(dir);
    return 1;
  }

  printf("replay: %" PRIu64 " events on %d accounts (%" PRIu64
         " each, in runs of %" PRIu64 " per account%s), embedded log in %s\n",
         per * ACCOUNTS, ACCOUNTS, per, run,
         run == per ? ": each account's events together"
         : run == 1 ? ": accounts interleaved, as live traffic writes them"
                    : "",
         dir);
  t0 = bench_now();
  if (build(s, &p, per, run, expect) != 0) {
    failed = 1;
    goto out;
  }
  es_store_head(s, &head);
  printf("  built in %.1f s (%.0f events/s appended in batches)\n",
         bench_now() - t0, (double)head / (bench_now() - t0));

  /* Replay: two passes on one thread, then one on two. */
  for (int pass = 0; pass < 2; pass++) {
    rate = replay_pass(s, expect, 1, &replayed, &secs, &cpu);
    if (rate < 0) {
      failed = 1;
      goto out;
    }
    if (rate > best) {
      best = rate;
      best_secs = secs;
    }
    if (cpu > 0 && (double)replayed / cpu > best_cpu)
      best_cpu = (double)replayed / cpu;
  }
  r2 = replay_pass(s, expect, 2, &replayed, &s2, &cpu);
  c2 = cpu;
  rf = fold_all(s, expect, &n, &sf, &cpu);
  if (r2 < 0 || rf < 0) {
    failed = 1;
    goto out;
  }
  printf("  load average %.1f; events/s of wall time, then of CPU time\n",
         bench_loadavg());
  printf("  es_app_read_state() of every account, 1 thread:  %10.0f events/s"
         " (%" PRIu64 " events in %.2f s, best of 2); %10.0f of CPU time\n",
         best, replayed, best_secs, best_cpu);
  printf("  es_app_read_state() of every account, 2 threads: %10.0f events/s"
         " (%.2f s); %10.0f a second of CPU time of both\n",
         r2, s2, (double)replayed / c2);
  printf("  es_store_read_all() fold of the whole log:        %10.0f events/s"
         " (%" PRIu64 " events in %.2f s); %10.0f of CPU time\n",
         rf, n, sf, (double)n / cpu);
  printf("  target >= %.0f events/s (1 thread, es_app_read_state): "
         "%s in wall time, %s in CPU time\n",
         TARGET_REPLAY, best >= TARGET_REPLAY ? "met" : "NOT met",
         best_cpu >= TARGET_REPLAY ? "met" : "NOT met");

out:
  es_store_close(s);
  bench_rmtree(dir);
  free_payloads(&p);
  return failed ? 1 : 0;
}
