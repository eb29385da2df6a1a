/*
 * main.c - the bank example: schemas/bank.es on the embedded event store,
 * with the MoneyTransfer saga and the Balances projection.
 *
 *   bank [DIR]    runs the story below on the store in DIR (default
 *                 ./bank-data, created when missing)
 *   bank --temp   runs it twice on a fresh temporary store, closing and
 *                 reopening it in between, then deletes it (the test)
 *   bank --serve ADDR:PORT [DIR]
 *                 runs the story, then serves the ops endpoint
 *                 (es_http.h: /metrics, /health, /ready) on ADDR:PORT
 *                 until interrupted
 *
 * The story uses the typed entry points esgen generated
 * (bank_account_execute_deposit() and friends), the functions a user
 * writes (bank.stubs.c), the saga runner (es_saga_run.h) and the
 * projection runner (es_projection.h). Each command prints its outcome,
 * the stream's version afterwards and the global position of what it
 * stored; each saga run prints the events its commands caused:
 *
 *   1. Open accounts alice and bob (rejected as AlreadyOpen when an earlier
 *      run opened them: the store remembers); carol is opened and closed.
 *   2. Deposit to and withdraw from alice; a withdrawal beyond her balance
 *      is rejected with InsufficientFunds, and nothing is stored.
 *   3. A deposit to bob with a command id, then the same command again (a
 *      client retrying after a lost reply): the second is a duplicate that
 *      returns the first one's result and stores nothing.
 *   4. Transfer t-N-a, 30 from alice to bob: Transfer.Start, then the
 *      MoneyTransfer saga runs until caught up: it withdraws, deposits and
 *      completes the transfer.
 *   5. Transfer t-N-b, 20 from bob to carol, whose account is closed: the
 *      deposit is rejected, the saga refunds bob and fails the transfer.
 *   6. Transfer t-N-c of 0 (a client's bug): the withdrawal faults and
 *      is set aside as a dead letter, kept by the store (stream
 *      "saga:MoneyTransfer#dead"); the transfer is stuck. Two hours pass on the
 * saga's clock (simulated: the runner takes its clock as an option), its
 * "give-up" timeout fires and the saga fails the transfer (TimedOut).
 *   7. The accounts and transfers, as es_app_read_state() loads them, and
 *      the Balances projection, rebuilt in memory from the whole store,
 *      which must agree with them.
 *
 * Run N of the story on one store uses transfer ids t-N-*, N being the
 * first run whose t-N-a has no events, so every run continues where the
 * last one stopped; the balances and versions it ends with are checked
 * against N. Exits 0 when everything happened as described, 1 otherwise.
 * Opening the store and the throwaway run are common/example_store.c.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <es/es_http.h>

#include "bank.es.h"
#include "bank_app.h"
#include "example_store.h"

#define ALICE_INITIAL 100
#define BOB_INITIAL 25

static int failures;

/* ---- printing results ---------------------------------------------------- */

static const char *outcome_name(uint32_t outcome) {
  switch (outcome) {
  case ES_OUTCOME_OK:
    return "OK";
  case ES_OUTCOME_REJECTED:
    return "REJECTED";
  case ES_OUTCOME_CONFLICT:
    return "CONFLICT";
  default:
    return "FAILED";
  }
}

/* Prints what one command did and checks its outcome (and, when rejected,
 * the error's name) against what the story expects. */
static void show(const char *what, int rc, const es_result *r, uint32_t want,
                 const char *want_error) {
  printf("  %-44s -> %s", what, outcome_name(r->outcome));
  if (r->outcome == ES_OUTCOME_REJECTED)
    printf(" %s%s%s%s", r->error_name ? r->error_name : "?",
           r->message[0] ? ": \"" : "", r->message, r->message[0] ? "\"" : "");
  else if (r->outcome != ES_OUTCOME_OK)
    printf(" (%s)", es_strerror(rc));
  printf(", version %" PRIu64, r->version);
  if (r->n_events == 1)
    printf(", position %" PRIu64, r->first_position);
  else if (r->n_events > 1)
    printf(", positions %" PRIu64 "..%" PRIu64, r->first_position,
           r->last_position);
  if (r->duplicate)
    printf(", duplicate=1 (nothing stored)");
  printf("\n");
  if (r->outcome != want ||
      (want_error && (!r->error_name || strcmp(r->error_name, want_error)))) {
    printf("  ^ unexpected: wanted %s%s%s\n", outcome_name(want),
           want_error ? " " : "", want_error ? want_error : "");
    failures++;
  }
}

static void check(int ok, const char *what) {
  if (!ok) {
    printf("  ^ unexpected: %s\n", what);
    failures++;
  }
}

/* ---- reading states -------------------------------------------------------
 */

/* What we keep of an account's state: the callback's pointers are only
 * valid while it runs, so the owner's name is copied. */
typedef struct account_view {
  char owner[64];
  int64_t balance;
  bool open;
  uint64_t version;
  char recent[128];
} account_view;

static int copy_account(const void *state, uint64_t version, void *ctx) {
  const bank_account_state *s = state;
  account_view *v = ctx;
  size_t n = 0;
  snprintf(v->owner, sizeof v->owner, "%s", s->owner ? s->owner : "");
  v->balance = s->balance;
  v->open = s->open;
  v->version = version;
  v->recent[0] = '\0';
  /* The newest movements, oldest first. */
  for (uint32_t i = s->recent.count > 6 ? s->recent.count - 6 : 0;
       i < s->recent.count && n < sizeof v->recent; i++) {
    int w = snprintf(v->recent + n, sizeof v->recent - n, "%s%+" PRId64,
                     n ? " " : "", s->recent.items[i].amount);
    if (w < 0)
      break;
    n += (size_t)w;
  }
  return 0;
}

static int read_account(es_app *app, const char *key, account_view *v) {
  memset(v, 0, sizeof *v);
  return es_app_read_state(app, &bank_account_aggregate, key, copy_account, v);
}

static void print_account(const char *key, const account_view *v) {
  printf("  %-6s owner %-6s balance %5" PRId64 "  %s  version %3" PRIu64
         "  recent: %s\n",
         key, v->owner[0] ? v->owner : "-", v->balance,
         v->open ? "open  " : "closed", v->version,
         v->recent[0] ? v->recent : "-");
}

typedef struct transfer_view {
  char from[64], to[64];
  int64_t amount;
  bank_transfer_status status;
  uint64_t version;
} transfer_view;

static int copy_transfer(const void *state, uint64_t version, void *ctx) {
  const bank_transfer_state *s = state;
  transfer_view *v = ctx;
  snprintf(v->from, sizeof v->from, "%s", s->from ? s->from : "");
  snprintf(v->to, sizeof v->to, "%s", s->to ? s->to : "");
  v->amount = s->amount;
  v->status = s->status;
  v->version = version;
  return 0;
}

/* ---- the saga and the projection ------------------------------------------
 */

/* The saga runner's clock: the real one, plus however far the story has
 * moved it on (timeouts are an hour; nobody waits that long for a demo). */
static int64_t clock_offset;

static int64_t story_clock(void *ctx) {
  struct timespec ts;
  (void)ctx;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + clock_offset;
}

static void start_transfer(es_app *app, const char *id, const char *from,
                           const char *to, int64_t amount) {
  bank_transfer_start start;
  es_result r;
  char what[96];
  int rc;
  bank_transfer_start_init(&start);
  start.from = from;
  start.to = to;
  start.amount = amount;
  rc = bank_transfer_execute_start(app, id, &start, NULL, &r);
  snprintf(what, sizeof what, "%s: Transfer.Start{%s -> %s, %" PRId64 "}", id,
           from, to, amount);
  show(what, rc, &r, ES_OUTCOME_OK, NULL);
}

/* Prints one stored event of an aggregate: stream, version, type, JSON.
 * The saga's own records (streams "saga:...") are not shown. */
static int print_event(const es_stored_event *ev, void *ctx) {
  const es_type_desc *type;
  es_arena arena;
  es_buf json;
  void *value;
  (void)ctx;
  if (!strncmp(ev->meta.aggregate, "saga:", 5))
    return 0;
  type = es_schema_find_type(&bank_schema, ev->meta.type_id,
                             ev->meta.type_version);
  if (!type)
    return ES_EUNKNOWN;
  es_arena_init(&arena, 0);
  es_buf_init(&json, 0);
  value = es_arena_alloc(&arena, type->size);
  if (value && es_type_decode(type, value, ev->payload, ev->len, &arena) == 0 &&
      es_json_write(type, value, &json) == 0)
    printf("    %-9s %-7s v%-3" PRIu64 " %-20s %.*s\n", ev->meta.aggregate,
           ev->meta.key, ev->meta.version, type->name, (int)json.len,
           (const char *)json.data);
  es_buf_close(&json);
  es_arena_close(&arena);
  return 0;
}

/* Runs the saga until it has caught up, printing the events its commands
 * caused and what the run did. */
static int saga_run(es_store *store, es_saga_runner *saga,
                    es_saga_report *rep) {
  uint64_t head = 0;
  int rc;
  es_store_head(store, &head);
  rc = es_saga_run_until_caught_up(saga, rep);
  printf("  MoneyTransfer ran until caught up: %s\n",
         rc ? es_strerror(rc) : "ok");
  if (es_store_read_all(store, head + 1, 0, print_event, NULL) != 0)
    check(0, "printing the events");
  printf("  (%" PRIu64 " event(s) handled, %" PRIu64
         " command(s) sent, %" PRIu64 " rejected, %" PRIu64
         " dead-lettered, %" PRIu64 " timeout(s) fired, %" PRIu64
         " completed)\n",
         rep->events, rep->dispatched, rep->rejections, rep->dead_lettered,
         rep->timeouts_fired, rep->completed);
  return rc;
}

typedef struct dl_show {
  const char *key;
  int n;
} dl_show;

static int print_dead_letter(const es_dead_letter *dl, void *ctx) {
  dl_show *s = ctx;
  if (strcmp(dl->key, s->key) != 0)
    return 0;
  s->n++;
  printf("  dead letter: %s to %s, %s (%s), %u attempt(s)\n", dl->target,
         dl->instance, dl->error, dl->message, (unsigned)dl->attempts);
  return 0;
}

/* Prints the dead letters of saga instance `key`, as the store keeps
 * them; checks there is one. */
static void show_dead_letters(es_store *store, const char *key) {
  dl_show s = {key, 0};
  uint64_t bad = 0;
  int rc = es_saga_dead_letters(store, bank_money_transfer_saga.name,
                                print_dead_letter, &s, &bad);
  check(rc == 0 && s.n == 1, "one dead letter for the stuck transfer");
}

/* Prints transfer `id` and returns its status (-1 if unreadable). */
static int print_transfer(es_app *app, const char *id) {
  transfer_view t;
  memset(&t, 0, sizeof t);
  if (es_app_read_state(app, &bank_transfer_aggregate, id, copy_transfer, &t) !=
      0)
    return -1;
  printf("  %-8s %s -> %s, %" PRId64 ", %s, version %" PRIu64 "\n", id, t.from,
         t.to, t.amount,
         bank_transfer_status_name(t.status)
             ? bank_transfer_status_name(t.status)
             : "?",
         t.version);
  return (int)t.status;
}

/* Builds the Balances view from every event in the store. */
static int balances(es_store *store, bank_balances_view *view) {
  es_projection_options opt = ES_PROJECTION_OPTIONS_INIT;
  es_projection_report rep;
  es_projection *p = NULL;
  int rc;
  memset(view, 0, sizeof *view);
  opt.ctx = view;
  /* The view lives in this process's memory: rebuild it from the first
   * event at every start, and keep no checkpoint in the store. */
  opt.in_memory = true;
  opt.max_attempts = 1;
  rc = es_projection_open(&p, &bank_schema, &bank_balances_projection, store,
                          &opt);
  if (rc == 0)
    rc = es_projection_run_until_caught_up(p, &rep);
  if (rc == 0)
    printf("  Balances: %" PRIu64 " event(s) handled, up to position %" PRIu64
           "\n",
           rep.events, rep.position);
  es_projection_close(p);
  return rc;
}

/* ---- the story -------------------------------------------------------------
 */

/* A command id the client would keep with its request: here one per run. */
static es_uuid command_id(uint64_t run) {
  static const char prefix[8] = {'b', 'a', 'n', 'k', 'd', 'e', 'm', 'o'};
  es_uuid u;
  memcpy(u.bytes, prefix, 8);
  for (int i = 0; i < 8; i++)
    u.bytes[15 - i] = (uint8_t)(run >> (8 * i));
  return u;
}

static void open_account(es_app *app, const char *key, const char *owner,
                         int64_t initial, bool first_run) {
  bank_account_open cmd;
  es_result r;
  char what[96];
  int rc;
  bank_account_open_init(&cmd);
  cmd.owner = owner;
  cmd.initial = initial;
  rc = bank_account_execute_open(app, key, &cmd, NULL, &r);
  snprintf(what, sizeof what, "%s: Open{owner: %s, initial: %" PRId64 "}", key,
           owner, initial);
  show(what, rc, &r, first_run ? ES_OUTCOME_OK : ES_OUTCOME_REJECTED,
       first_run ? NULL : "AlreadyOpen");
}

static void deposit(es_app *app, const char *key, int64_t amount,
                    const char *transfer, const es_exec_options *opt,
                    es_result *r) {
  bank_account_deposit cmd;
  char what[96];
  int rc;
  bank_account_deposit_init(&cmd);
  cmd.amount = amount;
  cmd.has_transfer = transfer != NULL;
  cmd.transfer = transfer;
  rc = bank_account_execute_deposit(app, key, &cmd, opt, r);
  snprintf(what, sizeof what, "%s: Deposit{amount: %" PRId64 "%s%s}%s", key,
           amount, transfer ? ", transfer: " : "", transfer ? transfer : "",
           opt ? " with id C" : "");
  show(what, rc, r, ES_OUTCOME_OK, NULL);
}

static void withdraw(es_app *app, const char *key, int64_t amount,
                     const char *transfer, uint32_t want,
                     const char *want_error) {
  bank_account_withdraw cmd;
  es_result r;
  char what[96];
  int rc;
  bank_account_withdraw_init(&cmd);
  cmd.amount = amount;
  cmd.has_transfer = transfer != NULL;
  cmd.transfer = transfer;
  rc = bank_account_execute_withdraw(app, key, &cmd, NULL, &r);
  snprintf(what, sizeof what, "%s: Withdraw{amount: %" PRId64 "%s%s}", key,
           amount, transfer ? ", transfer: " : "", transfer ? transfer : "");
  show(what, rc, &r, want, want_error);
}

static void story(es_app *app, es_store *store, es_saga_runner *saga,
                  uint64_t run) {
  char transfer[32], ta[40], tb[40], tc[40], id[37];
  es_exec_options opt;
  es_result first, again, r;
  es_saga_report rep;
  account_view alice, bob, carol;
  bank_balances_view view;
  bool first_run = run == 1;
  int rc;

  snprintf(transfer, sizeof transfer, "t-%" PRIu64, run);

  printf("\n1. Open the accounts\n");
  check(read_account(app, "alice", &alice) == 0, "reading alice");
  printf("  (alice is at version %" PRIu64 " before this run)\n",
         alice.version);
  open_account(app, "alice", "Alice", ALICE_INITIAL, first_run);
  open_account(app, "bob", "Bob", BOB_INITIAL, first_run);
  if (first_run) {
    bank_account_close close;
    open_account(app, "carol", "Carol", 0, true);
    bank_account_close_init(&close);
    rc = bank_account_execute_close(app, "carol", &close, NULL, &r);
    show("carol: Close{}", rc, &r, ES_OUTCOME_OK, NULL);
  }

  printf("\n2. Deposit, withdraw, and a withdrawal that is refused\n");
  deposit(app, "alice", 60, NULL, NULL, &r);
  withdraw(app, "alice", 20, NULL, ES_OUTCOME_OK, NULL);
  withdraw(app, "alice", 1000000, NULL, ES_OUTCOME_REJECTED,
           "InsufficientFunds");

  printf("\n3. The same command twice, with one command id\n");
  memset(&opt, 0, sizeof opt);
  opt.command_id = command_id(run);
  es_uuid_format(&opt.command_id, id);
  printf("  (C = %s)\n", id);
  deposit(app, "bob", 10, NULL, &opt, &first);
  deposit(app, "bob", 10, NULL, &opt, &again);
  check(!first.duplicate && again.duplicate && again.version == first.version &&
            again.first_position == first.first_position,
        "the retry should return the first result, marked duplicate");

  printf("\n4. Transfer %s-a: 30 from alice to bob, by the MoneyTransfer "
         "saga\n",
         transfer);
  snprintf(ta, sizeof ta, "%s-a", transfer);
  start_transfer(app, ta, "alice", "bob", 30);
  rc = saga_run(store, saga, &rep);
  check(rc == 0 && rep.events == 3 && rep.dispatched == 3 &&
            rep.completed == 1 && rep.rejections == 0 && rep.dead_lettered == 0,
        "the saga should withdraw, deposit and complete");

  printf("\n5. Transfer %s-b: 20 from bob to carol, whose account is closed\n",
         transfer);
  snprintf(tb, sizeof tb, "%s-b", transfer);
  start_transfer(app, tb, "bob", "carol", 20);
  rc = saga_run(store, saga, &rep);
  check(rc == 0 && rep.rejections == 1 && rep.completed == 1 &&
            rep.dead_lettered == 0,
        "the deposit should be rejected, bob refunded, the transfer failed");

  printf("\n6. Transfer %s-c: 0 from alice to bob, a client's bug\n", transfer);
  snprintf(tc, sizeof tc, "%s-c", transfer);
  start_transfer(app, tc, "alice", "bob", 0);
  rc = saga_run(store, saga, &rep);
  check(rc == 0 && rep.dead_lettered == 1 && rep.completed == 0,
        "the withdrawal should be dead-lettered");
  show_dead_letters(store, tc);
  check(es_saga_pending_timeouts(saga, NULL) == 1,
        "the give-up timeout should be pending");
  clock_offset += 2 * BANK_TRANSFER_TIMEOUT_US;
  printf("  ... two hours pass on the saga's clock ...\n");
  rc = saga_run(store, saga, &rep);
  check(rc == 0 && rep.timeouts_fired == 1 && rep.dispatched == 1,
        "the timeout should fire and fail the transfer");
  check(es_saga_pending_timeouts(saga, NULL) == 0, "no timeout left");
  printf("  (the saga stays open: a withdrawal that still came - the dead "
         "letter re-dispatched - would be refunded)\n");

  printf("\n7. The states, as es_app_read_state() loads them, and the "
         "Balances projection\n");
  check(read_account(app, "alice", &alice) == 0, "reading alice");
  check(read_account(app, "bob", &bob) == 0, "reading bob");
  check(read_account(app, "carol", &carol) == 0, "reading carol");
  print_account("alice", &alice);
  print_account("bob", &bob);
  print_account("carol", &carol);
  check(print_transfer(app, ta) == BANK_TRANSFER_STATUS_DONE, "t-a done");
  check(print_transfer(app, tb) == BANK_TRANSFER_STATUS_FAILED, "t-b failed");
  check(print_transfer(app, tc) == BANK_TRANSFER_STATUS_FAILED, "t-c failed");
  {
    uint64_t head = 0;
    es_store_head(store, &head);
    printf("  the store holds %" PRIu64 " events\n", head);
  }
  check(balances(store, &view) == 0, "running the Balances projection");
  for (uint32_t i = 0; i < view.n; i++)
    printf("  Balances[%s] = %" PRId64 "\n", view.rows[i].key,
           view.rows[i].balance);
  check(bank_view_balance(&view, "alice") == alice.balance &&
            bank_view_balance(&view, "bob") == bob.balance &&
            bank_view_balance(&view, "carol") == carol.balance,
        "the projection should agree with the accounts");

  /* Every run adds 60 - 20 - 30 to alice and 10 + 30 to bob (t-b's 20
   * goes out and comes back); alice gets 3 events a run (plus Opened),
   * bob 4 (plus Opened), carol none after her first 2. */
  check(alice.balance == ALICE_INITIAL + 10 * (int64_t)run &&
            bob.balance == BOB_INITIAL + 40 * (int64_t)run &&
            carol.balance == 0,
        "balances");
  check(alice.version == 3 * run + 1 && bob.version == 4 * run + 1 &&
            carol.version == 2,
        "versions");
}

/* ---- the store ------------------------------------------------------------
 */

/* The first run whose first transfer has no events yet. */
static uint64_t next_run(es_store *store) {
  char key[32];
  for (uint64_t run = 1;; run++) {
    uint64_t version = 0;
    snprintf(key, sizeof key, "t-%" PRIu64 "-a", run);
    if (es_store_stream_version(store, bank_transfer_aggregate.name, key,
                                &version) != 0 ||
        version == 0)
      return run;
  }
}

/* Where --serve asks the ops endpoint to listen; NULL: not asked. */
static const char *serve_at;

/* Serves /metrics, /health and /ready on `serve_at` ("ADDR:PORT") until
 * SIGINT or SIGTERM. */
static int serve(es_store *store, const es_metrics *metrics) {
  es_http_options ho = ES_HTTP_OPTIONS_INIT;
  es_http *http = NULL;
  char addr[64];
  const char *colon = strrchr(serve_at, ':');
  sigset_t set;
  int sig, rc;

  if (!colon || (size_t)(colon - serve_at) >= sizeof addr) {
    fprintf(stderr, "bank: --serve wants ADDR:PORT, not '%s'\n", serve_at);
    return 1;
  }
  memcpy(addr, serve_at, (size_t)(colon - serve_at));
  addr[colon - serve_at] = '\0';
  ho.address = addr;
  ho.port = (uint16_t)strtoul(colon + 1, NULL, 10);
  ho.store = store;
  ho.metrics = metrics;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the server's thread */
  rc = es_http_serve(&http, &ho);
  if (rc) {
    fprintf(stderr, "bank: cannot serve on %s: %s\n", serve_at,
            es_strerror(rc));
    return 1;
  }
  printf("bank: serving http://%s:%u/metrics, /health and /ready; "
         "Ctrl-C stops\n",
         addr, (unsigned)es_http_port(http));
  fflush(stdout);
  sigwait(&set, &sig);
  es_http_stop(http);
  printf("bank: stopped serving\n");
  return 0;
}

static int run_on(const char *dir) {
  es_store_open_report report;
  es_metrics metrics;
  es_obs obs = ES_OBS_INIT;
  es_app_options aopt = ES_APP_OPTIONS_INIT;
  es_store_options sopt = ES_STORE_OPTIONS_INIT;
  es_store *store = NULL;
  es_app *app = NULL;
  es_saga_runner *saga = NULL;
  es_saga_options oopt = ES_SAGA_OPTIONS_INIT;
  char dead_letters[4096];
  uint64_t run, head = 0;
  int rc;

  memset(&report, 0, sizeof report);
  sopt.report = &report;
  /* Metrics for the ops endpoint (--serve); recording costs next to
   * nothing, so they are always on. */
  if (es_metrics_init(&metrics) != 0)
    return 1;
  obs.metrics = &metrics;
  sopt.obs = &obs;
  rc = example_open_store(&store, dir, "bank", &sopt);
  if (report.message[0])
    printf("store: %s\n", report.message);
  if (rc != 0) {
    fprintf(stderr, "bank: cannot open the store in %s: %s\n", dir,
            es_strerror(rc));
    if (rc == ES_ELOCKED)
      fprintf(stderr, "bank: process %ld is using it\n", report.locked_pid);
    es_metrics_close(&metrics);
    return 1;
  }
  aopt.obs = &obs;
  rc = es_app_open(&app, &bank_schema, store, &aopt);
  if (rc != 0) {
    fprintf(stderr, "bank: es_app_open: %s\n", es_strerror(rc));
    es_store_close(store);
    es_metrics_close(&metrics);
    return 1;
  }
  /* Dead letters live in the store; a store an earlier version wrote has
   * them in DIR/dead-letters.jsonl, which the runner imports. */
  snprintf(dead_letters, sizeof dead_letters, "%s/dead-letters.jsonl", dir);
  oopt.dead_letter_path = example_is_database(dir) ? NULL : dead_letters;
  oopt.now_us = story_clock;
  oopt.obs = &obs;
  clock_offset = 0;
  rc = es_saga_runner_open(&saga, app, &bank_money_transfer_saga, store, &oopt);
  if (rc != 0) {
    fprintf(stderr, "bank: es_saga_runner_open: %s\n", es_strerror(rc));
    es_app_close(app);
    es_store_close(store);
    es_metrics_close(&metrics);
    return 1;
  }

  run = next_run(store);
  es_store_head(store, &head);
  printf("== bank: run %" PRIu64 " on the %s store in %s (%" PRIu64
         " events stored before)\n",
         run, example_is_database(dir) ? "PostgreSQL" : "embedded",
         example_is_database(dir) ? "the database" : dir, head);
  failures = 0;
  story(app, store, saga, run);

  es_saga_runner_close(saga);
  es_app_close(app);
  if (serve_at && !failures && serve(store, &metrics) != 0)
    failures++;
  es_store_close(store);
  es_metrics_close(&metrics);
  if (failures) {
    printf("bank: %d unexpected result(s)\n", failures);
    return 1;
  }
  printf("\nbank: closed the store; run again to continue from here\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "--serve") == 0) {
    serve_at = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc > 2 ||
      (argc == 2 && argv[1][0] == '-' && strcmp(argv[1], "--temp") != 0)) {
    fprintf(stderr, "usage: bank [--serve ADDR:PORT] [DIR]   (default "
                    "./bank-data)\n"
                    "       bank [--serve ADDR:PORT] postgresql://...  (a "
                    "PostgreSQL database)\n"
                    "       bank --temp  (twice on a fresh store, then "
                    "delete it)\n");
    return 2;
  }
  if (argc == 2 && strcmp(argv[1], "--temp") == 0)
    return example_run_twice_on_temp("bank", run_on);
  return run_on(argc == 2 ? argv[1] : "bank-data");
}
