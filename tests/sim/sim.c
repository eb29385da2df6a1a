/*
 * sim.c - the deterministic simulator: the bank application (schemas/
 * bank.es, examples/bank/bank.stubs.c) on the embedded log store over the
 * simulated file system (simfs.h), with I/O faults and power losses at
 * random points, and the store's guarantees checked after every recovery.
 *
 *   sim [--seed N] [--runs R] [--cycles C] [--seeds FILE] [--workload V] [-v]
 *
 * A run is one seed: a fresh file system, then C crash-recover cycles.
 * Each cycle powers the file system back on, opens the store, the app,
 * the MoneyTransfer saga and the Balances projection with faults off,
 * settles the sagas (running them and firing their timeouts on the
 * simulated clock), checks every invariant, then turns faults on, arms a
 * crash at a random call and runs a random workload (accounts opened and
 * closed, transfers started, commands retried with their ids, batches
 * of 2-5 events appended by a ledger client to one or two of its own
 * streams at once with expected versions, failed batches sent again,
 * saga and projection runs, the clock moved) until the crash or the end
 * of the cycle, when the power goes off anyway.
 *
 * Invariants (each violation is printed with the seed that replays it):
 *   - every acknowledged command's event is in the log, intact, where the
 *     acknowledgement said;
 *   - every batch the ledger client sent is in the log whole (its events
 *     intact, at consecutive positions, in their streams) or not at all,
 *     and at most once; every acknowledged batch whole where its
 *     acknowledgement said;
 *   - positions are 1..head with no gap, each stream's versions 1..n;
 *   - no command id appears in two appends (no retry and no saga effect
 *     executed twice), and no transfer is withdrawn, deposited or settled
 *     twice;
 *   - after a failed fsync of the log the store acknowledges no append
 *     until it is reopened;
 *   - once the sagas settle, money is conserved: every withdrawal is
 *     matched by a deposit (to the payee or back to the payer);
 *   - the Balances projection (its view and position kept atomically by
 *     the simulator, as a user's database would) equals a fold of the log,
 *     and so do the accounts the app loads;
 *   - the saga's checkpoint and the projection's position never point past
 *     the recovered head.
 *
 * Same seed, same run: every choice comes from the seed, the store's and
 * the saga's clocks are simulated, and the digest printed at the end
 * covers every outcome and the logical content of the log at each check.
 * Runs seeds 1..R (default 200 runs of 50 cycles) and the regression seeds
 * listed in FILE (one a line: `SEED [w=V] [digest=HEX]`, '#' comments; see
 * run_file()) under --workload V (default 2). Exits 1 on any
 * violation.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank.es.h"
#include "bank_app.h"
#include "es/es_projection.h"
#include "es/es_saga_run.h"
#include "simfs.h"

#define DIR "/sim/bank"
#define MAX_ACCOUNTS BANK_VIEW_MAX
#define MAX_ACKS 8192
#define MAX_PENDING 64
#define MAX_TRANSFERS 4096
#define SAGA_CHECKPOINT "saga:MoneyTransfer"
/* The ledger client's streams: raw events no handler reads. */
#define LEDGER "Ledger"
#define LEDGERS 6
#define LEDGER_EVENT_TYPE 0x1ed9e71edce0b47aull
#define MAX_BATCHES 4096
#define MAX_BATCH_EVENTS 5

/* Workload versions: a seed replays the same run only under the workload
 * it was found with. 1: the bank app alone (the simulator before the
 * ledger client; its runs are byte for byte those of that simulator).
 * 2: the bank app and the ledger client's batches (the default). */
#define WORKLOAD_BANK 1
#define WORKLOAD_LEDGER 2
#define WORKLOAD_DEFAULT WORKLOAD_LEDGER

/* ---- the run's random choices ----------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

/* ---- what the client knows, across crashes ------------------------------ */

typedef enum cmd_kind { C_OPEN, C_CLOSE, C_START } cmd_kind;

/* A command a client sent: retried with the same id until acknowledged. */
typedef struct command {
  cmd_kind kind;
  char key[24]; /* account or transfer */
  char from[24], to[24];
  int64_t amount; /* initial, or transfer amount */
  es_uuid id;
} command;

/* A batch of the ledger client: 2..MAX_BATCH_EVENTS events appended to
 * one or two ledger streams in one es_store_append(), each stream with
 * the version the client last saw as its expectation. Each event's
 * payload names its batch, its place in it and the batch's size, so a
 * pass over the log sees which batches are there and whether whole. */
typedef struct batch {
  uint32_t n_events;
  uint32_t n_groups;
  uint32_t ledger[2], count[2]; /* per group: stream, events */
  uint64_t expected[2];
  int acked;
  uint64_t first_position; /* acknowledged batches */
} batch;

/* An acknowledged command: its event must be in the log, as said. */
typedef struct ack {
  command c;
  uint64_t position, version;
} ack;

static struct {
  uint64_t seed;
  int verbose;
  int64_t now; /* the simulated clock, microseconds */
  ack acks[MAX_ACKS];
  uint32_t n_acks;
  command pending[MAX_PENDING];
  uint32_t n_pending;
  uint32_t next_transfer, next_id;
  batch batches[MAX_BATCHES];
  uint32_t n_batches;
  uint32_t batch_retry[MAX_PENDING]; /* failed batches, to send again */
  uint32_t n_batch_retry;
  uint64_t ledger_version[LEDGERS]; /* as the client last saw it */
  /* The projection's read model and position, committed together (kept
   * here, outside the simulated disk, like a user's own database). */
  bank_balances_view view, view_work;
  uint64_t view_pos;
  /* Figures. */
  uint64_t cycles, acked, duplicates, errors, violations, settled;
  uint64_t batches_acked, batch_events_acked, batch_errors, batch_conflicts;
  uint64_t digest;
  int poisoned; /* a failed fsync of the log hit the open store */
  int workload; /* the workload version this run replays (WORKLOAD_*) */
} w;

/* SIGTERM or SIGINT: stop after the run in progress and print the
 * figures of the runs done (a long run is ended this way). */
static volatile sig_atomic_t stop_asked;

static void ask_stop(int sig) {
  (void)sig;
  stop_asked = 1;
}

static uint64_t total_cycles, total_acked, total_duplicates, total_errors,
    total_violations, total_runs, total_batches, total_batch_events,
    total_batch_errors, total_batch_conflicts;

static void mix(const void *p, size_t n) { /* FNV-1a */
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    w.digest ^= b[i];
    w.digest *= 0x100000001b3u;
  }
}

static void mix_u64(uint64_t v) { mix(&v, sizeof v); }

static void violation(uint64_t cycle, const char *fmt, ...) {
  va_list ap;
  w.violations++;
  fprintf(stderr,
          "sim: seed %" PRIu64 " cycle %" PRIu64 ": violation: ", w.seed,
          cycle);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n  replay: tests/sim/sim --seed %" PRIu64 " -v\n", w.seed);
}

static int64_t clock_now(void *ctx) {
  (void)ctx;
  return w.now;
}

static void no_sleep(void *ctx, int64_t us) {
  (void)ctx;
  w.now += us; /* backoff passes on the simulated clock */
}

static es_uuid new_id(void) {
  es_uuid u;
  uint64_t a = w.seed, b = ++w.next_id;
  memcpy(u.bytes, &a, 8);
  memcpy(u.bytes + 8, &b, 8);
  u.bytes[0] ^= 0x5a; /* never zero */
  return u;
}

/* ---- the projection's read model ---------------------------------------- */

static int view_load(void *ctx, uint64_t *position) {
  (void)ctx;
  w.view_work = w.view;
  *position = w.view_pos;
  return 0;
}

static int view_commit(void *ctx, uint64_t position) {
  (void)ctx;
  w.view = w.view_work;
  w.view_pos = position;
  return 0;
}

static void view_rollback(void *ctx) {
  (void)ctx;
  w.view_work = w.view;
}

/* ---- one open application ------------------------------------------------ */

typedef struct app {
  es_store *store;
  es_app *app;
  es_saga_runner *saga;
  es_projection *proj;
} app;

static void app_close(app *a) {
  es_projection_close(a->proj);
  es_saga_runner_close(a->saga);
  es_app_close(a->app);
  es_store_close(a->store);
  memset(a, 0, sizeof *a);
}

static es_store_open_report open_report; /* the last open's */

/* With -v, the runtime's warnings and errors go into the trace. */
static void log_line(void *ctx, int level, const char *msg,
                     const es_log_field *fields, size_t n_fields) {
  (void)ctx;
  if (!w.verbose)
    return;
  printf("  %s: %s", es_log_level_name(level), msg);
  for (size_t i = 0; i < n_fields; i++)
    printf(" %s=%s", fields[i].key, fields[i].value);
  printf("\n");
}

static const es_obs sim_obs = {
    log_line, NULL, ES_LOG_WARN, NULL, {NULL, NULL, NULL}};

static int app_open(app *a) {
  es_store_options so = ES_STORE_OPTIONS_INIT;
  es_saga_options go = ES_SAGA_OPTIONS_INIT;
  es_projection_options po = ES_PROJECTION_OPTIONS_INIT;
  int rc;

  memset(a, 0, sizeof *a);
  so.segment_size = 4096 + below(4) * 4096; /* many segments and indexes */
  so.now_us = clock_now;
  so.report = &open_report;
  rc = es_store_open_log(&a->store, DIR, &so, 0);
  if (rc == 0)
    rc = es_app_open(&a->app, &bank_schema, a->store, NULL);
  go.now_us = clock_now;
  go.obs = &sim_obs;
  go.sleep_us = no_sleep;
  go.retry.max_attempts = 3;
  go.retry.jitter_pct = ES_SAGA_NO_JITTER;
  if (rc == 0)
    rc = es_saga_runner_open(&a->saga, a->app, &bank_money_transfer_saga,
                             a->store, &go);
  po.ctx = &w.view_work;
  po.load_position = view_load;
  po.commit = view_commit;
  po.rollback = view_rollback;
  po.max_attempts = 2;
  po.retry_base_us = 1;
  po.retry_max_us = 1;
  if (rc == 0)
    rc = es_projection_open(&a->proj, &bank_schema, &bank_balances_projection,
                            a->store, &po);
  if (rc)
    app_close(a);
  return rc;
}

/* ---- the workload ---------------------------------------------------------
 */

static void account_key(char out[24], uint64_t i) {
  snprintf(out, 24, "acct-%" PRIu64, i);
}

static int execute(app *a, const command *c, es_result *r) {
  es_exec_options o;
  memset(&o, 0, sizeof o);
  o.command_id = c->id;
  memset(r, 0, sizeof *r);
  switch (c->kind) {
  case C_OPEN: {
    bank_account_open cmd;
    bank_account_open_init(&cmd);
    cmd.owner = c->key;
    cmd.initial = c->amount;
    return bank_account_execute_open(a->app, c->key, &cmd, &o, r);
  }
  case C_CLOSE: {
    bank_account_close cmd;
    bank_account_close_init(&cmd);
    return bank_account_execute_close(a->app, c->key, &cmd, &o, r);
  }
  case C_START: {
    bank_transfer_start cmd;
    bank_transfer_start_init(&cmd);
    cmd.from = c->from;
    cmd.to = c->to;
    cmd.amount = c->amount;
    return bank_transfer_execute_start(a->app, c->key, &cmd, &o, r);
  }
  }
  return ES_EINVAL;
}

/* Sends `c` (new or a retry): acknowledged, rejected (done), or kept to
 * be retried with the same id. */
static void send(app *a, const command *c, uint64_t cycle) {
  es_result r;
  int rc = execute(a, c, &r);
  mix_u64((uint64_t)rc);
  mix_u64(r.outcome);
  if (w.verbose)
    printf("  cycle %" PRIu64 ": %s %s -> %s%s pos %" PRIu64 "\n", cycle,
           c->kind == C_OPEN    ? "open"
           : c->kind == C_CLOSE ? "close"
                                : "start",
           c->key, es_strerror(rc), r.duplicate ? " (duplicate)" : "",
           r.first_position);
  if (rc == 0 && r.n_events == 1) {
    if (w.poisoned && !r.duplicate)
      violation(cycle,
                "%s acknowledged at position %" PRIu64
                " after a failed fsync of the log",
                c->key, r.first_position);
    if (w.n_acks < MAX_ACKS) {
      ack *k = &w.acks[w.n_acks++];
      k->c = *c;
      k->position = r.first_position;
      k->version = r.version;
    }
    w.acked++;
    w.duplicates += r.duplicate;
    return;
  }
  if (rc == 0 || rc == ES_EREJECTED || rc == ES_ECONFLICT)
    return; /* settled: nothing stored, nothing to retry */
  w.errors++;
  if (w.n_pending < MAX_PENDING && c != &w.pending[0])
    w.pending[w.n_pending++] = *c;
  else if (c == &w.pending[0])
    w.pending[w.n_pending++] = *c; /* back of the queue */
}

static void retry_one(app *a, uint64_t cycle) {
  command c;
  if (!w.n_pending)
    return;
  c = w.pending[0];
  memmove(w.pending, w.pending + 1, (w.n_pending - 1) * sizeof *w.pending);
  w.n_pending--;
  if (w.verbose)
    printf("  cycle %" PRIu64 ": retry\n", cycle);
  send(a, &c, cycle);
}

/* ---- the ledger client ---------------------------------------------------
 */

static void ledger_key(char out[24], uint32_t i) {
  snprintf(out, 24, "ledger-%" PRIu32, i);
}

/* Event `i` of batch `b` (of `n` events): the batch's number, the event's
 * place and the batch's size, then bytes that follow from them. */
static void batch_payload(uint8_t out[16], uint32_t b, uint32_t i, uint32_t n) {
  for (int k = 0; k < 4; k++)
    out[k] = (uint8_t)(b >> (8 * k));
  out[4] = (uint8_t)i;
  out[5] = (uint8_t)n;
  for (int k = 6; k < 16; k++)
    out[k] = (uint8_t)(b * 31u + i * 7u + (uint32_t)k);
}

/* The group (0 or 1) that holds event `i` of batch `b`. */
static uint32_t batch_group(const batch *b, uint32_t i) {
  return i < b->count[0] ? 0 : 1;
}

/* Sends batch `bi` (new or again, with the expectations it was made
 * with): acknowledged, refused by its expectation (done: it or another
 * batch is there), or kept to be sent again. */
static void send_batch(app *a, uint32_t bi, uint64_t cycle) {
  batch *b = &w.batches[bi];
  es_new_event ev[MAX_BATCH_EVENTS];
  uint8_t payload[MAX_BATCH_EVENTS][16];
  es_append_stream g[2];
  char keys[2][24];
  es_append_result res;
  uint32_t first = 0;
  int rc;

  memset(ev, 0, sizeof ev);
  memset(g, 0, sizeof g);
  memset(&res, 0, sizeof res);
  for (uint32_t i = 0; i < b->n_events; i++) {
    batch_payload(payload[i], bi, i, b->n_events);
    ev[i].type_id = LEDGER_EVENT_TYPE;
    ev[i].type_version = 1;
    ev[i].payload = payload[i];
    ev[i].len = sizeof payload[i];
  }
  for (uint32_t j = 0; j < b->n_groups; j++) {
    ledger_key(keys[j], b->ledger[j]);
    g[j].type = LEDGER;
    g[j].key = keys[j];
    g[j].expected = es_expect_exact(b->expected[j]);
    g[j].events = ev + first;
    g[j].n_events = b->count[j];
    first += b->count[j];
  }
  rc = es_store_append(a->store, g, b->n_groups, &res);
  mix_u64((uint64_t)rc);
  if (w.verbose)
    printf("  cycle %" PRIu64 ": batch %" PRIu32 " of %" PRIu32
           " events to %s%s%s -> %s pos %" PRIu64 "\n",
           cycle, bi, b->n_events, keys[0], b->n_groups > 1 ? " and " : "",
           b->n_groups > 1 ? keys[1] : "", es_strerror(rc), res.first_position);
  if (rc == 0) {
    if (w.poisoned)
      violation(cycle,
                "batch %" PRIu32 " acknowledged at position %" PRIu64
                " after a failed fsync of the log",
                bi, res.first_position);
    if (res.last_position != res.first_position + b->n_events - 1)
      violation(cycle,
                "batch %" PRIu32 " of %" PRIu32 " events acknowledged at "
                "positions %" PRIu64 "..%" PRIu64,
                bi, b->n_events, res.first_position, res.last_position);
    b->acked = 1;
    b->first_position = res.first_position;
    for (uint32_t j = 0; j < b->n_groups; j++)
      w.ledger_version[b->ledger[j]] = g[j].version;
    w.batches_acked++;
    w.batch_events_acked += b->n_events;
    return;
  }
  if (rc == ES_ECONFLICT) {
    w.batch_conflicts++;
    return;
  }
  w.batch_errors++;
  if (w.n_batch_retry < MAX_PENDING)
    w.batch_retry[w.n_batch_retry++] = bi;
}

/* A new batch of 2..MAX_BATCH_EVENTS events, to one ledger stream or
 * (a third of those of more than two events) split over two. */
static void new_batch(app *a, uint64_t cycle) {
  batch *b;
  if (w.n_batches >= MAX_BATCHES)
    return;
  b = &w.batches[w.n_batches];
  memset(b, 0, sizeof *b);
  b->n_events = 2 + (uint32_t)below(MAX_BATCH_EVENTS - 1);
  b->n_groups = b->n_events > 2 && below(3) == 0 ? 2 : 1;
  b->ledger[0] = (uint32_t)below(LEDGERS);
  b->count[0] = b->n_events;
  if (b->n_groups == 2) {
    uint32_t o = (uint32_t)below(LEDGERS - 1);
    b->ledger[1] = o >= b->ledger[0] ? o + 1 : o;
    b->count[0] = 1 + (uint32_t)below(b->n_events - 1);
    b->count[1] = b->n_events - b->count[0];
  }
  for (uint32_t j = 0; j < b->n_groups; j++)
    b->expected[j] = w.ledger_version[b->ledger[j]];
  send_batch(a, w.n_batches++, cycle);
}

static void retry_batch(app *a, uint64_t cycle) {
  uint32_t bi = w.batch_retry[0];
  memmove(w.batch_retry, w.batch_retry + 1,
          (w.n_batch_retry - 1) * sizeof *w.batch_retry);
  w.n_batch_retry--;
  send_batch(a, bi, cycle);
}

static void step(app *a, uint64_t cycle) {
  command c;
  uint64_t r = below(100);
  memset(&c, 0, sizeof c);
  c.id = new_id();
  if (r < 12) {
    c.kind = C_OPEN;
    account_key(c.key, below(MAX_ACCOUNTS));
    c.amount = 100 + (int64_t)below(900);
    send(a, &c, cycle);
  } else if (r < 14) {
    c.kind = C_CLOSE;
    account_key(c.key, below(MAX_ACCOUNTS));
    send(a, &c, cycle);
  } else if (r < (w.workload == 1 ? 50 : 42)) {
    uint64_t from = below(MAX_ACCOUNTS), to = below(MAX_ACCOUNTS - 1);
    if (w.next_transfer >= MAX_TRANSFERS)
      return;
    c.kind = C_START;
    snprintf(c.key, sizeof c.key, "t-%" PRIu32, w.next_transfer++);
    account_key(c.from, from);
    account_key(c.to, to >= from ? to + 1 : to);
    c.amount = 1 + (int64_t)below(400);
    send(a, &c, cycle);
  } else if (r < 50) {
    new_batch(a, cycle);
  } else if (r < 65) {
    if (w.n_batch_retry && below(3) == 0)
      retry_batch(a, cycle);
    else
      retry_one(a, cycle);
  } else if (r < 85) {
    es_saga_report rep;
    int rc = es_saga_run_until_caught_up(a->saga, &rep);
    mix_u64((uint64_t)rc);
    if (w.verbose)
      printf("  cycle %" PRIu64 ": saga -> %s\n", cycle, es_strerror(rc));
  } else if (r < 95) {
    es_projection_report rep;
    int rc = es_projection_run_until_caught_up(a->proj, &rep);
    mix_u64((uint64_t)rc);
    if (w.verbose)
      printf("  cycle %" PRIu64 ": projection -> %s\n", cycle, es_strerror(rc));
  } else {
    w.now +=
        below(4) ? (int64_t)below(5000000) : BANK_TRANSFER_TIMEOUT_US + 1000000;
  }
}

/* ---- settling and checking ------------------------------------------------
 */

/* Runs the saga, then moves the clock past every pending timeout, until
 * nothing is pending and nothing new was stored. Faults are off. */
static int settle(app *a, uint64_t cycle) {
  for (int round = 0; round < 20; round++) {
    es_saga_report rep;
    int64_t due;
    uint64_t before = 0, after = 0;
    int rc;
    es_store_head(a->store, &before);
    rc = es_saga_run_until_caught_up(a->saga, &rep);
    if (rc) {
      violation(cycle, "the saga does not run without faults: %s",
                es_strerror(rc));
      return rc;
    }
    es_store_head(a->store, &after);
    if (es_saga_pending_timeouts(a->saga, &due) == 0 && after == before)
      return 0;
    if (due != INT64_MAX && due > w.now)
      w.now = due;
  }
  violation(cycle, "the sagas never settle");
  return ES_EINVAL;
}

typedef struct stream_seen {
  char id[64];
  uint64_t version;
} stream_seen;

typedef struct batch_seen {
  uint32_t n;     /* its events found, in order */
  uint64_t first; /* the position of its first */
} batch_seen;

typedef struct cause_seen {
  es_uuid id;
  uint64_t position;
} cause_seen;

/* What one pass over the log finds. */
typedef struct fold {
  uint64_t cycle, next, n;
  stream_seen *streams;
  size_t n_streams, cap_streams;
  cause_seen *causes;
  size_t n_causes, cap_causes;
  int64_t withdrawn, deposited;
  bank_balances_view balances;
  uint32_t *t_withdrawn, *t_deposited, *t_settled; /* per transfer */
  batch_seen *batches; /* per batch of the ledger client */
  es_arena arena;
} fold;

static int is_zero(const es_uuid *u) {
  for (int i = 0; i < 16; i++)
    if (u->bytes[i])
      return 0;
  return 1;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size) {
  if (need > *cap) {
    size_t c = *cap ? *cap * 2 : 256;
    while (c < need)
      c *= 2;
    p = realloc(p, c * size);
    if (!p)
      abort();
    *cap = c;
  }
  return p;
}

static int64_t *balance_row(bank_balances_view *v, const char *key) {
  for (uint32_t i = 0; i < v->n; i++)
    if (strcmp(v->rows[i].key, key) == 0)
      return &v->rows[i].balance;
  if (v->n == BANK_VIEW_MAX)
    return NULL;
  snprintf(v->rows[v->n].key, sizeof v->rows[v->n].key, "%s", key);
  v->rows[v->n].balance = 0;
  return &v->rows[v->n++].balance;
}

static int transfer_number(const char *t) {
  long n;
  if (!t || strncmp(t, "t-", 2) != 0)
    return -1;
  n = strtol(t + 2, NULL, 10);
  return n >= 0 && n < MAX_TRANSFERS ? (int)n : -1;
}

static void count_transfer(fold *f, uint32_t *per, const char *t,
                           const char *what) {
  int n = transfer_number(t);
  if (n >= 0 && ++per[n] > 1)
    violation(f->cycle, "transfer %s %s twice", t, what);
}

/* An event of a ledger stream: an event of a batch the client sent,
 * intact, in its stream, directly after the batch's previous one. */
static void ledger_event(fold *f, const es_stored_event *e) {
  uint64_t p = e->meta.position;
  uint8_t want[16];
  uint32_t bi, i, n;
  char key[24];
  const batch *b;
  batch_seen *bs;

  if (e->meta.type_id != LEDGER_EVENT_TYPE || e->len != sizeof want) {
    violation(f->cycle, "position %" PRIu64 ": not a ledger event", p);
    return;
  }
  bi = (uint32_t)e->payload[0] | (uint32_t)e->payload[1] << 8 |
       (uint32_t)e->payload[2] << 16 | (uint32_t)e->payload[3] << 24;
  i = e->payload[4];
  n = e->payload[5];
  b = bi < w.n_batches ? &w.batches[bi] : NULL;
  if (b && i < n)
    batch_payload(want, bi, i, n);
  if (!b || n != b->n_events || i >= n || memcmp(want, e->payload, 16) != 0) {
    violation(f->cycle, "position %" PRIu64 ": a ledger event no batch sent",
              p);
    return;
  }
  ledger_key(key, b->ledger[batch_group(b, i)]);
  if (strcmp(e->meta.key, key) != 0)
    violation(f->cycle,
              "position %" PRIu64 ": event %" PRIu32 " of batch %" PRIu32
              " is in stream %s, not %s",
              p, i, bi, e->meta.key, key);
  bs = &f->batches[bi];
  if (i == 0 && bs->n)
    violation(f->cycle,
              "batch %" PRIu32 " appended twice: at positions %" PRIu64
              " and %" PRIu64,
              bi, bs->first, p);
  if (i == 0)
    bs->first = p;
  else if (bs->n != i || bs->first + i != p)
    violation(f->cycle,
              "position %" PRIu64 ": event %" PRIu32 " of batch %" PRIu32
              " without the %" PRIu32 " before it",
              p, i, bi, i);
  bs->n = i + 1;
}

/* Every batch the client sent is in the log whole or not at all, the
 * acknowledged ones whole where the acknowledgement said. Then the client
 * reads its streams' versions, as recovered. */
static void check_batches(const fold *f, uint64_t cycle) {
  for (uint32_t bi = 0; bi < w.n_batches; bi++) {
    const batch *b = &w.batches[bi];
    const batch_seen *bs = &f->batches[bi];
    if (bs->n && bs->n != b->n_events)
      violation(cycle,
                "batch %" PRIu32 " is half-present: %" PRIu32 " of its %" PRIu32
                " events from position %" PRIu64,
                bi, bs->n, b->n_events, bs->first);
    if (b->acked && (bs->n != b->n_events || bs->first != b->first_position))
      violation(cycle,
                "acknowledged batch %" PRIu32 " at position %" PRIu64
                " is lost or moved: %" PRIu32 " of its %" PRIu32
                " events found at %" PRIu64,
                bi, b->first_position, bs->n, b->n_events, bs->first);
  }
  memset(w.ledger_version, 0, sizeof w.ledger_version);
  for (size_t i = 0; i < f->n_streams; i++) {
    const char *id = f->streams[i].id;
    if (strncmp(id, LEDGER "/ledger-", sizeof LEDGER + 7) == 0) {
      long n = strtol(id + sizeof LEDGER + 7, NULL, 10);
      if (n >= 0 && n < LEDGERS)
        w.ledger_version[n] = f->streams[i].version;
    }
  }
}

static int visit(const es_stored_event *e, void *ctx) {
  fold *f = ctx;
  char id[64];
  stream_seen *s = NULL;
  uint64_t p = e->meta.position;

  if (p != f->next)
    violation(f->cycle, "position %" PRIu64 " follows %" PRIu64, p,
              f->next - 1);
  f->next = p + 1;
  f->n++;
  snprintf(id, sizeof id, "%s/%s", e->meta.aggregate, e->meta.key);
  for (size_t i = 0; i < f->n_streams; i++)
    if (strcmp(f->streams[i].id, id) == 0)
      s = &f->streams[i];
  if (!s) {
    f->streams =
        grow(f->streams, &f->cap_streams, f->n_streams + 1, sizeof *f->streams);
    s = &f->streams[f->n_streams++];
    snprintf(s->id, sizeof s->id, "%s", id);
    s->version = 0;
  }
  if (e->meta.version != s->version + 1)
    violation(f->cycle, "stream %s: version %" PRIu64 " follows %" PRIu64, id,
              e->meta.version, s->version);
  s->version = e->meta.version;
  mix(id, strlen(id));
  mix_u64(p);
  mix_u64(e->meta.version);
  mix_u64(e->meta.type_id);
  mix(e->payload, e->len);
  if (strcmp(e->meta.aggregate, LEDGER) == 0) {
    ledger_event(f, e);
    return 0;
  }

  /* Aggregate events: one command, one append, whatever the retries. */
  if (strncmp(id, "saga", 4) != 0 && !is_zero(&e->meta.causation_id)) {
    for (size_t i = 0; i < f->n_causes; i++)
      if (memcmp(f->causes[i].id.bytes, e->meta.causation_id.bytes, 16) == 0) {
        violation(f->cycle,
                  "command executed twice: positions %" PRIu64 " and %" PRIu64,
                  f->causes[i].position, p);
        break;
      }
    f->causes =
        grow(f->causes, &f->cap_causes, f->n_causes + 1, sizeof *f->causes);
    f->causes[f->n_causes].id = e->meta.causation_id;
    f->causes[f->n_causes++].position = p;
  }

  es_arena_reset(&f->arena);
  if (e->meta.type_id == BANK_ACCOUNT_OPENED_TYPE_ID) {
    bank_account_opened v;
    int64_t *b = balance_row(&f->balances, e->meta.key);
    if (bank_account_opened_decode(&v, e->payload, e->len, &f->arena) != 0 ||
        !b)
      violation(f->cycle, "position %" PRIu64 ": Opened does not decode", p);
    else
      *b = v.initial; /* a reopened account starts again */
  } else if (e->meta.type_id == BANK_ACCOUNT_DEPOSITED_TYPE_ID) {
    bank_account_deposited v;
    int64_t *b = balance_row(&f->balances, e->meta.key);
    if (bank_account_deposited_decode(&v, e->payload, e->len, &f->arena) != 0 ||
        !b) {
      violation(f->cycle, "position %" PRIu64 ": Deposited does not decode", p);
    } else {
      *b += v.amount;
      f->deposited += v.amount;
      if (v.has_transfer)
        count_transfer(f, f->t_deposited, v.transfer, "deposited");
    }
  } else if (e->meta.type_id == BANK_ACCOUNT_WITHDRAWN_TYPE_ID) {
    bank_account_withdrawn v;
    int64_t *b = balance_row(&f->balances, e->meta.key);
    if (bank_account_withdrawn_decode(&v, e->payload, e->len, &f->arena) != 0 ||
        !b) {
      violation(f->cycle, "position %" PRIu64 ": Withdrawn does not decode", p);
    } else {
      *b -= v.amount;
      f->withdrawn += v.amount;
      if (v.has_transfer)
        count_transfer(f, f->t_withdrawn, v.transfer, "withdrawn");
    }
  } else if (e->meta.type_id == BANK_TRANSFER_COMPLETED_TYPE_ID ||
             e->meta.type_id == BANK_TRANSFER_FAILED_TYPE_ID) {
    count_transfer(f, f->t_settled, e->meta.key, "settled");
  }
  return 0;
}

static int copy_balance(const void *state, uint64_t version, void *ctx) {
  (void)version;
  *(int64_t *)ctx = ((const bank_account_state *)state)->balance;
  return 0;
}

static void fold_free(fold *f) {
  free(f->streams);
  free(f->causes);
  free(f->t_withdrawn);
  free(f->t_deposited);
  free(f->t_settled);
  free(f->batches);
  es_arena_close(&f->arena);
}

/* Checks the acknowledged commands against the log: each one's event at
 * its position, in its stream, at its version. */
static int find_ack(const es_stored_event *e, void *ctx) {
  const ack *k = ctx;
  const char *agg = k->c.kind == C_START ? "Transfer" : "Account";
  uint64_t type = k->c.kind == C_OPEN    ? BANK_ACCOUNT_OPENED_TYPE_ID
                  : k->c.kind == C_CLOSE ? BANK_ACCOUNT_CLOSED_TYPE_ID
                                         : BANK_TRANSFER_STARTED_TYPE_ID;
  if (strcmp(e->meta.aggregate, agg) != 0 ||
      strcmp(e->meta.key, k->c.key) != 0 || e->meta.version != k->version ||
      e->meta.type_id != type ||
      memcmp(e->meta.causation_id.bytes, k->c.id.bytes, 16) != 0)
    return 1;
  return 0;
}

static void check(app *a, uint64_t cycle) {
  fold f;
  uint64_t head = 0, ckpt = 0;
  int rc;

  memset(&f, 0, sizeof f);
  f.cycle = cycle;
  f.next = 1;
  es_arena_init(&f.arena, 0);
  f.t_withdrawn = calloc(MAX_TRANSFERS, sizeof *f.t_withdrawn);
  f.t_deposited = calloc(MAX_TRANSFERS, sizeof *f.t_deposited);
  f.t_settled = calloc(MAX_TRANSFERS, sizeof *f.t_settled);
  f.batches = calloc(MAX_BATCHES, sizeof *f.batches);
  if (!f.t_withdrawn || !f.t_deposited || !f.t_settled || !f.batches)
    abort();

  es_store_head(a->store, &head);
  mix_u64(head);
  if (w.view_pos > head)
    violation(cycle,
              "the projection committed position %" PRIu64
              " past the recovered head %" PRIu64,
              w.view_pos, head);
  rc = es_store_checkpoint_get(a->store, SAGA_CHECKPOINT, &ckpt, NULL);
  if (rc == 0 && ckpt > head)
    violation(cycle,
              "the saga checkpoint %" PRIu64 " is past the head %" PRIu64, ckpt,
              head);
  else if (rc != 0 && rc != ES_ENOTFOUND)
    violation(cycle, "the saga checkpoint does not read: %s", es_strerror(rc));

  rc = es_store_read_all(a->store, 1, 0, visit, &f);
  if (rc)
    violation(cycle, "the log does not read back: %s", es_strerror(rc));
  if (f.next != head + 1)
    violation(cycle, "read %" PRIu64 " events, head %" PRIu64, f.n, head);

  for (uint32_t i = 0; i < w.n_acks; i++) {
    ack *k = &w.acks[i];
    if (k->position > head ||
        es_store_read_all(a->store, k->position, 1, find_ack, k) != 0)
      violation(cycle,
                "acknowledged %s of %s at position %" PRIu64 " version %" PRIu64
                " is lost or changed",
                k->c.kind == C_START ? "transfer" : "command", k->c.key,
                k->position, k->version);
  }

  check_batches(&f, cycle);

  if (f.withdrawn != f.deposited) {
    violation(cycle,
              "money not conserved once the sagas settled: %" PRId64
              " withdrawn, %" PRId64 " deposited",
              f.withdrawn, f.deposited);
  }

  rc = es_projection_run_until_caught_up(a->proj, NULL);
  if (rc)
    violation(cycle, "the projection does not run without faults: %s",
              es_strerror(rc));
  if (w.view_pos != head)
    violation(cycle, "the projection stopped at %" PRIu64 ", head %" PRIu64,
              w.view_pos, head);
  for (uint32_t i = 0; i < f.balances.n; i++) {
    int64_t got = bank_view_balance(&w.view, f.balances.rows[i].key),
            state = INT64_MIN;
    if (got != f.balances.rows[i].balance)
      violation(cycle, "Balances says %s has %" PRId64 ", the log %" PRId64,
                f.balances.rows[i].key, got, f.balances.rows[i].balance);
    rc = es_app_read_state(a->app, &bank_account_aggregate,
                           f.balances.rows[i].key, copy_balance, &state);
    if (rc || state != f.balances.rows[i].balance)
      violation(cycle, "account %s loads %" PRId64 " (%s), the log %" PRId64,
                f.balances.rows[i].key, state, es_strerror(rc),
                f.balances.rows[i].balance);
  }
  if (w.view.n != f.balances.n)
    violation(cycle, "Balances has %" PRIu32 " accounts, the log %" PRIu32,
              w.view.n, f.balances.n);
  fold_free(&f);
}

/* ---- a run ------------------------------------------------------------- */

static const unsigned all_faults = (1u << SIMFS_FAULT_KINDS) - 1;

static void cycle_once(uint64_t cycle) {
  app a;
  int rc;
  uint32_t steps;

  simfs_restart();
  /* Reads during recovery may return flipped bits: the open may fail,
   * but must not act on what it misread. */
  simfs_set_faults(below(3) ? 0 : (uint32_t)below(200000),
                   1u << SIMFS_READ_FLIP);
  rc = app_open(&a);
  mix_u64((uint64_t)rc);
  simfs_set_faults(0, 0);
  if (rc)
    rc = app_open(&a);
  if (rc) {
    violation(cycle, "the store does not open after recovery: %s (%s)",
              es_strerror(rc), open_report.message);
    return;
  }
  w.poisoned = 0;
  if (settle(&a, cycle) == 0)
    check(&a, cycle);
  (void)simfs_sync_failed_on(".seg");

  /* Faults on: a rate and a set of kinds per cycle, a crash somewhere. */
  simfs_set_faults(below(3) ? (uint32_t)below(40000) : 0,
                   (unsigned)below(all_faults + 1));
  simfs_crash_after(below(4) ? 1 + below(400) : 0);
  steps = 4 + (uint32_t)below(24);
  for (uint32_t i = 0; i < steps && !simfs_crashed(); i++) {
    step(&a, cycle);
    if (simfs_sync_failed_on(".seg"))
      w.poisoned = 1;
    w.now += (int64_t)below(200000);
  }
  simfs_set_faults(0, 0);
  simfs_crash_after(0);
  app_close(&a);
  simfs_power_loss();
  w.cycles++;
}

static int run(uint64_t seed, uint64_t cycles) {
  memset(&w.acks, 0, sizeof w.acks);
  w.seed = seed;
  w.now = (int64_t)1700000000 * 1000000;
  w.n_acks = w.n_pending = w.next_transfer = w.next_id = 0;
  w.n_batches = w.n_batch_retry = 0;
  memset(w.ledger_version, 0, sizeof w.ledger_version);
  memset(&w.view, 0, sizeof w.view);
  w.view_pos = 0;
  w.cycles = w.acked = w.duplicates = w.errors = w.violations = 0;
  w.batches_acked = w.batch_events_acked = w.batch_errors = 0;
  w.batch_conflicts = 0;
  w.digest = 0xcbf29ce484222325u;
  rng_state = seed * 0x2545f4914f6cdd1du + 1;
  simfs_init(seed);
  for (uint64_t c = 0; c < cycles && w.violations == 0; c++)
    cycle_once(c);
  if (w.violations == 0) { /* a last recovery and check */
    app a;
    simfs_restart();
    if (app_open(&a) != 0) {
      violation(cycles, "the store does not open after recovery");
    } else {
      if (settle(&a, cycles) == 0)
        check(&a, cycles);
      app_close(&a);
    }
  }
  simfs_free();
  total_runs++;
  total_cycles += w.cycles;
  total_acked += w.acked;
  total_duplicates += w.duplicates;
  total_errors += w.errors;
  total_violations += w.violations;
  total_batches += w.batches_acked;
  total_batch_events += w.batch_events_acked;
  total_batch_errors += w.batch_errors;
  total_batch_conflicts += w.batch_conflicts;
  if (w.verbose || w.violations)
    printf("sim: seed %" PRIu64 ": %" PRIu64 " cycles, %" PRIu64
           " acknowledged, digest %016" PRIx64 "%s\n",
           seed, w.cycles, w.acked, w.digest, w.violations ? ", FAILED" : "");
  return w.violations ? 1 : 0;
}

/* A line of a seeds file: `SEED [w=VERSION] [digest=HEX] [# comment]`.
 * The seed runs under its workload version (default WORKLOAD_DEFAULT);
 * a run of DIGEST_CYCLES cycles must end with the digest given, so a
 * change that makes a regression seed replay another run fails. */
#define DIGEST_CYCLES 50
static int run_file(const char *path, uint64_t cycles, uint64_t *failed) {
  FILE *fp = fopen(path, "r");
  char line[256];
  if (!fp) {
    fprintf(stderr, "sim: %s: cannot open\n", path);
    return 1;
  }
  while (fgets(line, sizeof line, fp)) {
    char *end, *p;
    uint64_t s = strtoull(line, &end, 10), want = 0;
    int has_digest = 0, saved = w.workload;
    if (end == line)
      continue; /* a comment or a blank line */
    for (p = end; *p && *p != '#' && *p != '\n';) {
      if (*p == ' ' || *p == '\t') {
        p++;
      } else if (strncmp(p, "w=", 2) == 0) {
        w.workload = (int)strtol(p + 2, &p, 10);
      } else if (strncmp(p, "digest=", 7) == 0) {
        want = strtoull(p + 7, &p, 16);
        has_digest = 1;
      } else {
        fprintf(stderr, "sim: %s: seed %" PRIu64 ": cannot read '%s'\n", path,
                s, p);
        fclose(fp);
        return 1;
      }
    }
    if (w.workload != WORKLOAD_BANK && w.workload != WORKLOAD_LEDGER) {
      fprintf(stderr, "sim: %s: seed %" PRIu64 ": no workload %d\n", path, s,
              w.workload);
      fclose(fp);
      return 1;
    }
    *failed += (uint64_t)run(s, cycles);
    if (has_digest && cycles == DIGEST_CYCLES && w.digest != want) {
      printf("sim: seed %" PRIu64 " (workload %d): digest %016" PRIx64
             ", not %016" PRIx64 " as when it was found: it no longer "
             "replays that run\n",
             s, w.workload, w.digest, want);
      (*failed)++;
    }
    w.workload = saved;
  }
  fclose(fp);
  return 0;
}

int main(int argc, char **argv) {
  uint64_t runs = 200, cycles = 50, seed = 0, failed = 0, first = 1;
  const char *seeds = NULL;
  const es__io *old;

  w.workload = WORKLOAD_DEFAULT;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
      seed = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
      first = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc)
      cycles = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
      seeds = argv[++i];
    else if (strcmp(argv[i], "--workload") == 0 && i + 1 < argc)
      w.workload = atoi(argv[++i]);
    else if (strcmp(argv[i], "-v") == 0)
      w.verbose = 1;
    else {
      fprintf(stderr, "usage: sim [--seed N | --first N --runs R] "
                      "[--cycles C] [--seeds FILE] [--workload 1|2] [-v]\n");
      return 2;
    }
  }
  if (w.workload != WORKLOAD_BANK && w.workload != WORKLOAD_LEDGER) {
    fprintf(stderr, "sim: no workload %d (1: bank, 2: bank and ledger)\n",
            w.workload);
    return 2;
  }
  signal(SIGTERM, ask_stop);
  signal(SIGINT, ask_stop);
  old = es__io_set(simfs_io());
  if (seed) {
    failed += (uint64_t)run(seed, cycles);
  } else {
    if (seeds && run_file(seeds, cycles, &failed) != 0)
      failed++;
    for (uint64_t s = first; s < first + runs && !stop_asked; s++)
      failed += (uint64_t)run(s, cycles);
  }
  es__io_set(old);
  printf("sim: %" PRIu64 " runs, %" PRIu64 " crash-recover cycles, %" PRIu64
         " acknowledged commands (%" PRIu64 " duplicates of retries), %" PRIu64
         " command errors\n",
         total_runs, total_cycles, total_acked, total_duplicates, total_errors);
  printf("sim: %" PRIu64 " acknowledged batches of 2-%d events (%" PRIu64
         " events), %" PRIu64 " batch errors, %" PRIu64
         " batches refused by their expected version\n",
         total_batches, MAX_BATCH_EVENTS, total_batch_events,
         total_batch_errors, total_batch_conflicts);
  printf("sim: faults injected:");
  for (int k = 0; k < SIMFS_FAULT_KINDS; k++)
    printf(" %s %" PRIu64, simfs_fault_name((simfs_fault)k),
           simfs_injected((simfs_fault)k));
  printf(", power losses %" PRIu64 "\n", simfs_power_losses());
  printf("sim: invariant violations: %" PRIu64 "\n", total_violations);
  return failed || total_violations ? 1 : 0;
}
