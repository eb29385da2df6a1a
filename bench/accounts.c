/*
 * accounts.c - the account workload: commands, then cold loads.
 *
 * 1,000 account streams acct-000000 .. acct-000999 get 100 commands each
 * (schemas/accounts.es; every event carries {accountId, amount, ts}).
 * Command 0 of a stream opens the account with 1,000,000; commands 1 .. 99
 * deposit or withdraw 1 + v % 1000, where v = x >> 33 of the 64-bit LCG
 * x = x * 6364136223846793005 + 1442695040888963407 seeded with 42 (x is
 * stepped before each use; a withdrawal when (v >> 12) & 1). The order is
 * round-robin: round r = 0 .. 99, account a = 0 .. 999, one draw a command
 * from round 1 on. Each command goes through the generated execute call:
 * read the state (cache), decide, append with the expected version.
 *
 * With 1 client, one command is in flight; with 64, client t owns the
 * accounts a with a % 64 == t and runs their commands in the same order.
 *
 * Then the cold path: a fresh es_app on the store (the embedded log is
 * closed and reopened first, its pages still in the page cache) loads every
 * account through es_app_read_state() and checks its balance: events
 * folded per second over the whole pass, and the time of each load (one
 * cold instance of 100 events). Best of three passes, each on a fresh app.
 *
 * Beside the 64-client durable run, the raw ceiling: write + fdatasync of
 * 100 events' bytes (as the log stores them) appended to one file, before
 * and after the run: one sync per 100 events, times 100.
 *
 *   accounts [-a ACCOUNTS] [-e EVENTS] [-p PASSES] [-s memory,log] [-c 1,64]
 *            [-d DIR]
 *     -a  accounts (default 1,000)
 *     -e  events (commands) per account (default 100)
 *     -p  cold-load passes, the best one counts (default 3)
 *     -s  the stores to run (default both)
 *     -c  the client counts to run (default 1,64; at most 64); the cold
 *         loads replay the store of the first
 *     -d  scratch directory under DIR (default $TMPDIR, else /var/tmp),
 *         removed afterwards
 */
#include <inttypes.h>
#include <pthread.h>

#include "accounts.es.h"
#include "bench_util.h"

#define MAX_CLIENTS 64
#define OPENING 1000000
#define TS0 INT64_C(1700000000000000)

/* Targets (issue: cold aggregate loads). */
#define TARGET_REPLAY_MEMORY 10e6 /* events/s */
#define TARGET_REPLAY_LOG 5e6     /* events/s, warm page cache */
#define TARGET_COLD_P50_US 15.0   /* one cold instance, embedded log */
#define TARGET_CEILING_SHARE 0.5  /* 64 durable clients / raw ceiling */

static uint32_t n_accounts = 1000, n_rounds = 100, n_passes = 3;
static char (*keys)[16];
static int32_t *amounts; /* [r * n_accounts + a]: > 0 deposit, < 0 withdraw */
static int64_t *expect;  /* each account's final balance */

/* ---- the workload ----------------------------------------------------- */

static void make_workload(void) {
  uint64_t x = 42;
  for (uint32_t a = 0; a < n_accounts; a++) {
    snprintf(keys[a], sizeof keys[a], "acct-%06" PRIu32, a);
    amounts[a] = OPENING;
    expect[a] = OPENING;
  }
  for (uint32_t r = 1; r < n_rounds; r++)
    for (uint32_t a = 0; a < n_accounts; a++) {
      uint64_t v;
      int32_t amount;
      x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
      v = x >> 33;
      amount = (int32_t)(1 + v % 1000);
      if ((v >> 12) & 1)
        amount = -amount;
      amounts[(size_t)r * n_accounts + a] = amount;
      expect[a] += amount;
    }
}

/* Runs command `r` of account `a`; 0 when it was stored. */
static int command(es_app *app, uint32_t r, uint32_t a) {
  int32_t amount = amounts[(size_t)r * n_accounts + a];
  es_timestamp ts = TS0 + (int64_t)r * n_accounts + a;
  es_result res;
  int rc;
  if (r == 0) {
    accounts_account_open c;
    accounts_account_open_init(&c);
    c.accountId = keys[a];
    c.amount = amount;
    c.ts = ts;
    rc = accounts_account_execute_open(app, keys[a], &c, NULL, &res);
  } else if (amount > 0) {
    accounts_account_deposit c;
    accounts_account_deposit_init(&c);
    c.accountId = keys[a];
    c.amount = amount;
    c.ts = ts;
    rc = accounts_account_execute_deposit(app, keys[a], &c, NULL, &res);
  } else {
    accounts_account_withdraw c;
    accounts_account_withdraw_init(&c);
    c.accountId = keys[a];
    c.amount = -amount;
    c.ts = ts;
    rc = accounts_account_execute_withdraw(app, keys[a], &c, NULL, &res);
  }
  if (rc == 0 && (res.outcome != ES_OUTCOME_OK || res.version != r + 1))
    rc = -1;
  return rc;
}

typedef struct client {
  es_app *app;
  pthread_barrier_t *start;
  uint32_t t, n; /* client t of n */
  double *lat;   /* seconds, one a command */
  size_t done;
  int rc;
} client;

static void *client_main(void *arg) {
  client *c = arg;
  pthread_barrier_wait(c->start);
  for (uint32_t r = 0; r < n_rounds && !c->rc; r++)
    for (uint32_t a = c->t; a < n_accounts && !c->rc; a += c->n) {
      double t0 = bench_now();
      c->rc = command(c->app, r, a);
      c->lat[c->done++] = bench_now() - t0;
    }
  return NULL;
}

typedef struct run_figures {
  size_t commands;
  double per_s, p50_us, p99_us, seconds;
  double cpu_us; /* CPU time of the process a command */
} run_figures;

static int run_commands(es_app *app, uint32_t clients, run_figures *f) {
  size_t total = (size_t)n_accounts * n_rounds, per = total / clients + 1;
  pthread_t th[MAX_CLIENTS];
  client cl[MAX_CLIENTS];
  pthread_barrier_t start;
  double *lat, *all, t0, t1, c0, c1;
  int rc = 0;

  if (!(lat = malloc(per * clients * sizeof *lat)) ||
      !(all = malloc(total * sizeof *all))) {
    free(lat);
    return -1;
  }
  pthread_barrier_init(&start, NULL, clients + 1);
  for (uint32_t i = 0; i < clients; i++) {
    cl[i] = (client){app, &start, i, clients, lat + (size_t)i * per, 0, 0};
    if (pthread_create(&th[i], NULL, client_main, &cl[i]) != 0) {
      fprintf(stderr, "accounts: pthread_create failed\n");
      exit(1);
    }
  }
  pthread_barrier_wait(&start);
  c0 = bench_process_cpu();
  t0 = bench_now();
  for (uint32_t i = 0; i < clients; i++)
    pthread_join(th[i], NULL);
  t1 = bench_now();
  c1 = bench_process_cpu();
  pthread_barrier_destroy(&start);
  f->commands = 0;
  for (uint32_t i = 0; i < clients; i++) {
    memcpy(all + f->commands, cl[i].lat, cl[i].done * sizeof *all);
    f->commands += cl[i].done;
    if (cl[i].rc && !rc)
      rc = cl[i].rc;
  }
  f->seconds = t1 - t0;
  f->per_s = (double)f->commands / f->seconds;
  f->cpu_us = f->commands ? (c1 - c0) * 1e6 / (double)f->commands : 0;
  f->p50_us = bench_quantile(all, f->commands, 0.50) * 1e6;
  f->p99_us = bench_quantile(all, f->commands, 0.99) * 1e6;
  free(lat);
  free(all);
  if (rc)
    fprintf(stderr, "accounts: a command failed: %s\n", es_strerror(rc));
  return rc ? -1 : 0;
}

/* ---- cold loads ------------------------------------------------------- */

typedef struct seen {
  int64_t balance;
  uint64_t version;
  bool open;
} seen;

static int look(const void *state, uint64_t version, void *ctx) {
  const accounts_account_state *s = state;
  seen *out = ctx;
  out->balance = s->balance;
  out->version = version;
  out->open = s->open;
  return 0;
}

typedef struct replay_figures {
  double per_s, seconds, p50_us, p99_us;
  double cpu_per_s; /* events a second of the thread's CPU time */
  uint64_t replayed;
} replay_figures;

/* Loads every account on a fresh app, timing each load; checks every
 * balance and version. */
static int replay_pass(es_store *s, replay_figures *f) {
  es_app_options opt = ES_APP_OPTIONS_INIT;
  es_app *app = NULL;
  es_app_stats st;
  double *lat = malloc(n_accounts * sizeof *lat), t0, t1, c0, c1;
  uint32_t wrong = 0;
  int rc;

  opt.cache_max_bytes = (size_t)64 << 30; /* keep them all: no eviction */
  opt.cache_idle_us = -1;
  if (!lat || (rc = es_app_open(&app, &accounts_schema, s, &opt)) != 0) {
    free(lat);
    return -1;
  }
  c0 = bench_thread_cpu();
  t0 = bench_now();
  for (uint32_t a = 0; a < n_accounts; a++) {
    seen v = {0, 0, false};
    double l0 = bench_now();
    rc = es_app_read_state(app, &accounts_account_aggregate, keys[a], look, &v);
    lat[a] = bench_now() - l0;
    if (rc != 0 || !v.open || v.balance != expect[a] || v.version != n_rounds)
      wrong++;
  }
  t1 = bench_now();
  c1 = bench_thread_cpu();
  es_app_stats_get(app, &st);
  es_app_close(app);
  f->replayed = st.replayed;
  f->seconds = t1 - t0;
  f->per_s = (double)st.replayed / f->seconds;
  f->cpu_per_s = (double)st.replayed / (c1 - c0);
  f->p50_us = bench_quantile(lat, n_accounts, 0.50) * 1e6;
  f->p99_us = bench_quantile(lat, n_accounts, 0.99) * 1e6;
  free(lat);
  if (wrong || st.replayed != (uint64_t)n_accounts * n_rounds) {
    fprintf(stderr,
            "accounts: %" PRIu32 " accounts came back wrong, %" PRIu64
            " events replayed\n",
            wrong, st.replayed);
    return -1;
  }
  return 0;
}

static int replay_best(es_store *s, replay_figures *best) {
  best->per_s = 0;
  for (uint32_t p = 0; p < n_passes; p++) {
    replay_figures f;
    if (replay_pass(s, &f) != 0)
      return -1;
    if (f.per_s > best->per_s)
      *best = f;
  }
  return 0;
}

static const char *met(int ok) { return ok ? "met" : "NOT met"; }

/* ---- one store -------------------------------------------------------- */

typedef struct options {
  bool memory, log;
  uint32_t clients[4];
  int n_clients;
  const char *parent;
} options;

/* Bytes the log holds per event: its segments' sizes over `events`. */
static double log_bytes_per_event(const char *dir, uint64_t events) {
  DIR *d = opendir(dir);
  struct dirent *e;
  uint64_t bytes = 0;
  if (!d)
    return 0;
  while ((e = readdir(d)) != NULL) {
    char path[4400];
    struct stat st;
    size_t n = strlen(e->d_name);
    if (n < 4 || strcmp(e->d_name + n - 4, ".seg") != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) == 0)
      bytes += (uint64_t)st.st_size;
  }
  closedir(d);
  return events ? (double)bytes / (double)events : 0;
}

static int open_store(bool log, const char *dir, es_store **s) {
  int rc =
      log ? es_store_open_log(s, dir, NULL, 0) : es_store_open_memory(s, NULL);
  if (rc != 0)
    fprintf(stderr, "accounts: open: %s\n", es_strerror(rc));
  return rc;
}

/* The cold loads on the store of the first run (`*s`; the log is reopened
 * first), their figures written into `out`. */
static int replay_store(bool log, const char *dir, es_store **s, double bpe,
                        char *out, size_t cap) {
  replay_figures rp = {0, 0, 0, 0, 0, 0};
  double target = log ? TARGET_REPLAY_LOG : TARGET_REPLAY_MEMORY;
  size_t n = 0;

  out[0] = '\0';
  if (log) { /* a fresh process would reopen it: so do we */
    double t0 = bench_now();
    es_store_close(*s);
    *s = NULL;
    if (open_store(true, dir, s) != 0)
      return -1;
    n += (size_t)snprintf(out + n, cap - n,
                          "    reopened in %.1f ms; %.0f bytes an event on "
                          "disk; page cache warm\n",
                          (bench_now() - t0) * 1e3, bpe);
  }
  if (replay_best(*s, &rp) != 0)
    return -1;
  n += (size_t)snprintf(
      out + n, cap - n,
      "    cold loads: es_app_read_state() of every account on a fresh app, "
      "best of %" PRIu32 "\n"
      "      replay %.0f events/s (%" PRIu64 " events in %.1f ms), target "
      ">= %.0f: %s; %.0f events/s of CPU time\n"
      "      one cold instance of %" PRIu32 " events: p50 %.1f us, p99 %.1f "
      "us",
      n_passes, rp.per_s, rp.replayed, rp.seconds * 1e3, target,
      met(rp.per_s >= target), rp.cpu_per_s, n_rounds, rp.p50_us, rp.p99_us);
  if (log && n < cap)
    n += (size_t)snprintf(out + n, cap - n, ", target p50 < %.0f us: %s",
                          TARGET_COLD_P50_US,
                          met(rp.p50_us < TARGET_COLD_P50_US));
  if (n < cap)
    snprintf(out + n, cap - n, "\n");
  return 0;
}

static int run_store(const options *o, bool log, const char *scratch) {
  uint64_t total = (uint64_t)n_accounts * n_rounds;
  double bpe = 0;
  char cold[1024] = "", ceiling_line[768] = "";
  int failed = 0;

  printf("\n  %s\n", log ? "embedded log (durable: every command "
                           "fdatasync'd, group commit)"
                         : "memory store");
  printf("    %7s %9s %12s %9s %9s %8s %10s\n", "clients", "commands",
         "commands/s", "p50 us", "p99 us", "seconds", "CPU us/cmd");
  for (int k = 0; k < o->n_clients && !failed; k++) {
    uint32_t clients = o->clients[k];
    char dir[4200];
    es_store *s = NULL;
    es_app *app = NULL;
    run_figures f;
    bench_sync_figures before = {0, 0, 0, 0, 0}, after;
    bool ceiling = log && clients > 1;

    snprintf(dir, sizeof dir, "%s/log-%" PRIu32, scratch, clients);
    if (open_store(log, dir, &s) != 0 ||
        es_app_open(&app, &accounts_schema, s, NULL) != 0) {
      es_store_close(s);
      return -1;
    }
    /* The raw loop runs before the run when an earlier run told the
     * bytes an event takes, and after it in any case. */
    if (ceiling && bpe > 0 &&
        bench_raw_sync(scratch, (size_t)(100 * bpe + 0.5), &before) != 0)
      failed = 1;
    if (!failed && run_commands(app, clients, &f) != 0)
      failed = 1;
    es_app_close(app);
    if (log && !failed && !bpe) {
      /* Closed first: an open log's newest segment also holds the zeros
       * it writes ahead of its records; a close cuts them. */
      es_store_close(s);
      s = NULL;
      bpe = log_bytes_per_event(dir, total);
      if (open_store(log, dir, &s) != 0)
        failed = 1;
    }
    if (!failed && ceiling &&
        bench_raw_sync(scratch, (size_t)(100 * bpe + 0.5), &after) != 0)
      failed = 1;
    if (failed) {
      es_store_close(s);
      return -1;
    }
    printf("    %7" PRIu32 " %9zu %12.0f %9.1f %9.1f %8.2f %10.1f\n", clients,
           f.commands, f.per_s, f.p50_us, f.p99_us, f.seconds, f.cpu_us);
    if (ceiling) {
      double syncs = before.n ? (before.per_s + after.per_s) / 2 : after.per_s;
      double raw = 100 * syncs;
      long cores = sysconf(_SC_NPROCESSORS_ONLN);
      double cpu_max =
          f.cpu_us > 0 ? (double)(cores > 0 ? cores : 1) * 1e6 / f.cpu_us : 0;
      size_t n;
      n = (size_t)snprintf(
          ceiling_line, sizeof ceiling_line,
          "    raw ceiling: write(%.0f bytes: 100 events) + fdatasync, "
          "%.0f syncs/s around the %" PRIu32 "-client run (p50 %.0f us): "
          "%.0f events/s\n"
          "    %" PRIu32 " clients: %.0f commands/s = %.2f of the ceiling "
          "(target >= %.2f): %s; %.1f commands per raw sync time\n",
          100 * bpe, syncs, clients,
          before.n ? (before.p50_us + after.p50_us) / 2 : after.p50_us, raw,
          clients, f.per_s, f.per_s / raw, TARGET_CEILING_SHARE,
          met(f.per_s >= TARGET_CEILING_SHARE * raw), f.per_s / syncs);
      /* What the CPU alone allows, should the clients have every core. */
      if (n < sizeof ceiling_line)
        snprintf(ceiling_line + n, sizeof ceiling_line - n,
                 "    %.1f us of CPU a command: %ld idle cores would run at "
                 "most %.0f commands/s = %.2f of the ceiling\n",
                 f.cpu_us, cores, cpu_max, cpu_max / raw);
    }
    if (k == 0 && replay_store(log, dir, &s, bpe, cold, sizeof cold) != 0) {
      es_store_close(s);
      return -1;
    }
    es_store_close(s);
  }
  fputs(ceiling_line, stdout);
  fputs(cold, stdout);
  return failed ? -1 : 0;
}

static void usage(void) {
  fprintf(stderr, "usage: accounts [-a ACCOUNTS] [-e EVENTS] [-p PASSES] "
                  "[-s memory,log] [-c 1,64] [-d DIR]\n");
  exit(2);
}

int main(int argc, char **argv) {
  options o = {true, true, {1, 64}, 2, NULL};
  char scratch[4096];
  int opt, failed = 0;

  while ((opt = getopt(argc, argv, "a:e:p:s:c:d:")) != -1) {
    char *p, *end;
    switch (opt) {
    case 'a':
      n_accounts = (uint32_t)strtoul(optarg, NULL, 10);
      break;
    case 'e':
      n_rounds = (uint32_t)strtoul(optarg, NULL, 10);
      break;
    case 'p':
      n_passes = (uint32_t)strtoul(optarg, NULL, 10);
      break;
    case 's':
      o.memory = strstr(optarg, "memory") != NULL;
      o.log = strstr(optarg, "log") != NULL;
      break;
    case 'c':
      o.n_clients = 0;
      for (p = optarg; *p && o.n_clients < 4; p = *end ? end + 1 : end) {
        long c = strtol(p, &end, 10);
        if (end == p || c < 1 || c > MAX_CLIENTS || (*end && *end != ','))
          usage();
        o.clients[o.n_clients++] = (uint32_t)c;
      }
      break;
    case 'd':
      o.parent = optarg;
      break;
    default:
      usage();
    }
  }
  if (optind != argc || o.n_clients == 0 || n_accounts < 1 || n_rounds < 1 ||
      n_passes < 1 || n_accounts > 1000000 || n_rounds > 100000)
    usage();
  keys = malloc(n_accounts * sizeof *keys);
  amounts = malloc((size_t)n_accounts * n_rounds * sizeof *amounts);
  expect = malloc(n_accounts * sizeof *expect);
  if (!keys || !amounts || !expect)
    return 1;
  make_workload();
  if (bench_mkdtemp(o.parent, "es-bench-accounts", scratch, sizeof scratch))
    return 1;

  printf("accounts: %" PRIu32 " account streams x %" PRIu32
         " commands (%" PRIu64 "), round-robin, LCG seeded 42; "
         "scratch in %s; load average %.1f\n",
         n_accounts, n_rounds, (uint64_t)n_accounts * n_rounds, scratch,
         bench_loadavg());
  if (o.memory && run_store(&o, false, scratch) != 0)
    failed = 1;
  if (!failed && o.log && run_store(&o, true, scratch) != 0)
    failed = 1;
  bench_rmtree(scratch);
  free(keys);
  free(amounts);
  free(expect);
  return failed;
}
