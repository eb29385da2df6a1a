/*
 * commands.c - durable commands per second on the bank schema.
 *
 * 1,000 accounts on the embedded log (every acknowledged command is
 * fdatasync'd, concurrent ones sharing a sync: group commit), driven by 1,
 * 8 and 64 client threads through the generated typed entry points
 * (bank_account_execute_deposit/withdraw). Each client picks accounts at
 * random; every 20th command is a withdrawal, the rest deposits. Prints
 * commands/s and the p50/p99 latency of one command as its client saw it.
 *
 * Beside them, the same run measures what the disk gives without any of
 * it: a loop of write(4 KiB) + fdatasync appending to a file in the same
 * directory. One client cannot beat that rate; the target is to stay
 * within 1.3x of it, and 64 clients sharing syncs should pass 100,000
 * commands/s.
 *
 *   commands [-n COMMANDS] [-c CLIENTS,...] [-d DIR]
 *     -n  commands a run (default 100,000; the 1-client run does 5,000 at
 *         most: at one sync a command, 100,000 would take a minute)
 *     -c  the runs, as client counts (default 1,8,64; at most 64)
 *     -d  scratch files under DIR (default $TMPDIR, else /var/tmp),
 *         removed afterwards
 */
#include <inttypes.h>
#include <pthread.h>

#include "bank.es.h"
#include "bench_util.h"

#define ACCOUNTS 1000
#define INITIAL 1000000000
#define ONE_CLIENT_COMMANDS 5000

static char keys[ACCOUNTS][16];

/* ---- clients ------------------------------------------------------------ */

typedef struct client {
  es_app *app;
  pthread_barrier_t *start;
  long n;      /* commands to run */
  double *lat; /* seconds each */
  uint64_t seed;
  long unexpected;
  int first_rc;
} client;

static void *client_main(void *arg) {
  client *c = arg;
  bank_account_deposit dep;
  bank_account_withdraw wd;
  es_result r;

  bank_account_deposit_init(&dep);
  bank_account_withdraw_init(&wd);
  pthread_barrier_wait(c->start);
  for (long i = 0; i < c->n; i++) {
    uint64_t x = bench_rand(&c->seed);
    const char *key = keys[x % ACCOUNTS];
    double t0 = bench_now();
    int rc;
    if (i % 20 == 19) {
      wd.amount = (int64_t)(x >> 32) % 50 + 1;
      rc = bank_account_execute_withdraw(c->app, key, &wd, NULL, &r);
    } else {
      dep.amount = (int64_t)(x >> 32) % 100 + 1;
      rc = bank_account_execute_deposit(c->app, key, &dep, NULL, &r);
    }
    c->lat[i] = bench_now() - t0;
    if (rc != 0 || r.outcome != ES_OUTCOME_OK) {
      if (!c->unexpected++)
        c->first_rc = rc;
    }
  }
  return NULL;
}

typedef struct run_figures {
  long commands;
  double per_s, p50_us, p99_us, seconds;
  long unexpected;
} run_figures;

static int run(es_app *app, int clients, long total, run_figures *f) {
  pthread_t th[64];
  client cl[64];
  pthread_barrier_t start;
  double *lat, t0, t1;
  long per = total / clients, done = 0;
  int rc = 0;

  if (clients > 64 || per <= 0)
    return -1;
  if (!(lat = malloc((size_t)(per * clients) * sizeof *lat)))
    return -1;
  pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
  for (int i = 0; i < clients; i++) {
    cl[i].app = app;
    cl[i].start = &start;
    cl[i].n = per;
    cl[i].lat = lat + (size_t)i * (size_t)per;
    cl[i].seed = UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(i + 1 + clients);
    cl[i].unexpected = 0;
    cl[i].first_rc = 0;
    if (pthread_create(&th[i], NULL, client_main, &cl[i]) != 0) {
      fprintf(stderr, "commands: pthread_create failed\n");
      exit(1);
    }
  }
  pthread_barrier_wait(&start);
  t0 = bench_now();
  for (int i = 0; i < clients; i++)
    pthread_join(th[i], NULL);
  t1 = bench_now();
  pthread_barrier_destroy(&start);

  f->unexpected = 0;
  for (int i = 0; i < clients; i++) {
    f->unexpected += cl[i].unexpected;
    if (cl[i].unexpected && !rc)
      rc = cl[i].first_rc ? cl[i].first_rc : -1;
    done += cl[i].n;
  }
  f->commands = done;
  f->seconds = t1 - t0;
  f->per_s = (double)done / f->seconds;
  f->p50_us = bench_quantile(lat, (size_t)done, 0.50) * 1e6;
  f->p99_us = bench_quantile(lat, (size_t)done, 0.99) * 1e6;
  free(lat);
  if (f->unexpected)
    fprintf(stderr, "commands: %ld commands did not succeed (first: %s)\n",
            f->unexpected, es_strerror(rc));
  return f->unexpected ? -1 : 0;
}

/* Opens every account, 64 at a time (not timed). */
typedef struct opener {
  es_app *app;
  int from, to;
  int bad;
} opener;

static void *open_accounts(void *arg) {
  opener *o = arg;
  bank_account_open cmd;
  bank_account_open_init(&cmd);
  cmd.owner = "bench";
  cmd.initial = INITIAL;
  for (int i = o->from; i < o->to; i++)
    if (bank_account_execute_open(o->app, keys[i], &cmd, NULL, NULL) != 0)
      o->bad++;
  return NULL;
}

static void usage(void) {
  fprintf(stderr, "usage: commands [-n COMMANDS] [-c CLIENTS,...] [-d DIR]\n");
  exit(2);
}

int main(int argc, char **argv) {
  long total = 100000;
  const char *parent = NULL;
  int clients[8] = {1, 8, 64}, n_runs = 3, r1 = -1, r64 = -1, opt_c;
  char dir[4096], store_dir[4200];
  bench_sync_figures raws[9];
  run_figures runs[8];
  es_store *store = NULL;
  es_app *app = NULL;
  pthread_t th[64];
  opener op[64];
  double t0;
  int rc, failed = 0;

  while ((opt_c = getopt(argc, argv, "n:c:d:")) != -1) {
    char *p, *end;
    switch (opt_c) {
    case 'n':
      total = atol(optarg);
      break;
    case 'c':
      n_runs = 0;
      for (p = optarg; *p && n_runs < 8; p = *end ? end + 1 : end) {
        long c = strtol(p, &end, 10);
        if (end == p || c < 1 || c > 64 || (*end && *end != ','))
          usage();
        clients[n_runs++] = (int)c;
      }
      break;
    case 'd':
      parent = optarg;
      break;
    default:
      usage();
    }
  }
  if (optind != argc || n_runs == 0)
    usage();
  if (total < 64)
    total = 64;
  for (int i = 0; i < ACCOUNTS; i++)
    snprintf(keys[i], sizeof keys[i], "acc-%04d", i);
  if (bench_mkdtemp(parent, "es-bench-commands", dir, sizeof dir) != 0)
    return 1;
  snprintf(store_dir, sizeof store_dir, "%s/store", dir);

  printf("commands: bank schema, %d accounts, durable embedded log (group "
         "commit) in %s\n",
         ACCOUNTS, dir);

  if ((rc = es_store_open_log(&store, store_dir, NULL, 0)) != 0 ||
      (rc = es_app_open(&app, &bank_schema, store, NULL)) != 0) {
    fprintf(stderr, "commands: open: %s\n", es_strerror(rc));
    es_store_close(store);
    bench_rmtree(dir);
    return 1;
  }
  t0 = bench_now();
  for (int i = 0; i < 64; i++) {
    op[i].app = app;
    op[i].from = i * ACCOUNTS / 64;
    op[i].to = (i + 1) * ACCOUNTS / 64;
    op[i].bad = 0;
    pthread_create(&th[i], NULL, open_accounts, &op[i]);
  }
  for (int i = 0; i < 64; i++) {
    pthread_join(th[i], NULL);
    failed |= op[i].bad;
  }
  if (failed) {
    fprintf(stderr, "commands: opening the accounts failed\n");
    goto out;
  }
  printf("  opened %d accounts in %.2f s (64 clients)\n", ACCOUNTS,
         bench_now() - t0);

  /* The disk's sync time drifts (a shared virtual disk): the raw loop runs
   * right before every run and once after the last, and each run is
   * compared with the mean of the loops on either side of it. */
  printf("  raw = write(4 KiB) + fdatasync appending to one file, 1 s "
         "before and after each run\n");
  printf("  %8s %9s %12s %9s %9s %8s %10s %8s\n", "clients", "commands",
         "commands/s", "p50 us", "p99 us", "seconds", "raw syncs/s", "raw p50");
  for (int k = 0; k <= n_runs; k++) {
    long n = k < n_runs && clients[k] == 1 && total > ONE_CLIENT_COMMANDS
                 ? ONE_CLIENT_COMMANDS
                 : total;
    if (bench_raw_sync(dir, 4096, &raws[k]) != 0) {
      fprintf(stderr, "commands: raw sync loop failed: %s\n", strerror(errno));
      failed = 1;
      goto out;
    }
    printf("  %8s %9s %12s %9s %9s %8s %10.0f %6.0f us\n", "raw", "", "", "",
           "", "", raws[k].per_s, raws[k].p50_us);
    if (k == n_runs)
      break;
    if (run(app, clients[k], n, &runs[k]) != 0) {
      failed = 1;
      goto out;
    }
    printf("  %8d %9ld %12.0f %9.0f %9.0f %8.2f%s\n", clients[k],
           runs[k].commands, runs[k].per_s, runs[k].p50_us, runs[k].p99_us,
           runs[k].seconds,
           n < total ? "  (fewer commands: one sync each)" : "");
    if (clients[k] == 1)
      r1 = k;
    if (clients[k] == 64)
      r64 = k;
  }
  if (r1 >= 0) {
    double raw = (raws[r1].per_s + raws[r1 + 1].per_s) / 2;
    printf("  1 client: %.0f commands/s, raw sync rate around it %.0f/s: "
           "ratio %.2f (target >= %.2f, i.e. within 1.3x): %s\n",
           runs[r1].per_s, raw, runs[r1].per_s / raw, 1 / 1.3,
           runs[r1].per_s * 1.3 >= raw ? "met" : "NOT met");
  }
  if (r64 >= 0) {
    double raw = (raws[r64].per_s + raws[r64 + 1].per_s) / 2;
    printf("  64 clients: %.0f commands/s (target >= 100000): %s; %.1f "
           "commands per raw sync time\n",
           runs[r64].per_s, runs[r64].per_s >= 100000 ? "met" : "NOT met",
           runs[r64].per_s / raw);
  }

out:
  es_app_close(app);
  es_store_close(store);
  bench_rmtree(dir);
  return failed ? 1 : 0;
}
