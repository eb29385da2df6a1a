/*
 * main.c - the shop example: examples/shop/shop.es on the embedded event
 * store, with the Checkout saga and the OrderHistory projection.
 *
 *   shop        runs the story twice on a fresh temporary store (closed
 *               and reopened in between), then deletes it (the test)
 *   shop DIR    runs it once on the store in DIR (created when missing);
 *               run it again to continue on the same store
 *
 * The story (run N uses order ids o-N01, o-N02, o-N03):
 *
 *   1. Stock the warehouse: 10 mugs, 3 lamps.
 *   2. Place three orders: 2 mugs to France (goes through), more lamps
 *      than there are (rejected for stock: nothing is charged), 1 mug to
 *      Antarctica (charged, then no carrier takes it: refunded, released).
 *   3. Run the Checkout saga until caught up: it reserves, charges, ships
 *      and confirms, or compensates, through the commands it sends.
 *   4. Run the OrderHistory projection until caught up and print it.
 *   5. Check the outcome against the aggregates' states: orders confirmed
 *      or cancelled with the right reason, stock levels, every failed
 *      order's payments balancing to zero, nothing dead-lettered, no
 *      timeout left pending; and a second saga run finds nothing to do.
 *
 * Exits 0 when everything happened as described, 1 otherwise.
 * Opening the store and the throwaway run are common/example_store.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_store.h"
#include "shop.es.h"
#include "shop_app.h"

#define MUG_PRICE 1200 /* cents */
#define LAMP_PRICE 5000

static int failures;

static void check(int ok, const char *what) {
  if (!ok) {
    printf("  ^ unexpected: %s\n", what);
    failures++;
  }
}

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

/* Prints what one command did; it must have succeeded. */
static void show(const char *what, int rc, const es_result *r) {
  printf("  %-52s -> %s", what, outcome_name(r->outcome));
  if (r->outcome == ES_OUTCOME_REJECTED)
    printf(" %s %s", r->error_name ? r->error_name : "?", r->message);
  else if (r->outcome != ES_OUTCOME_OK)
    printf(" (%s)", es_strerror(rc));
  else
    printf(", version %" PRIu64 ", position %" PRIu64, r->version,
           r->first_position);
  printf("\n");
  check(rc == 0 && r->outcome == ES_OUTCOME_OK, "the command should succeed");
}

/* ---- reading states ---------------------------------------------------------
 * es_app_read_state() hands the state to a callback; its strings are only
 * valid there, so what we keep is copied. */

typedef struct order_view {
  uint64_t version;
  shop_order_status status;
  char tracking[40], reason[96];
} order_view;

static int copy_order(const void *state, uint64_t version, void *ctx) {
  const shop_order_state *s = state;
  order_view *v = ctx;
  v->version = version;
  v->status = s->status;
  snprintf(v->tracking, sizeof v->tracking, "%s", s->tracking);
  snprintf(v->reason, sizeof v->reason, "%s", s->reason);
  return 0;
}

typedef struct stock_view {
  int64_t available, reserved;
} stock_view;

static int copy_stock(const void *state, uint64_t version, void *ctx) {
  const shop_inventory_state *s = state;
  stock_view *v = ctx;
  (void)version;
  v->available = s->available;
  v->reserved = s->reserved;
  return 0;
}

typedef struct payment_view {
  uint64_t version;
  int64_t charged, refunded;
} payment_view;

static int copy_payment(const void *state, uint64_t version, void *ctx) {
  const shop_payment_state *s = state;
  payment_view *v = ctx;
  v->version = version;
  v->charged = s->charged;
  v->refunded = s->refunded;
  return 0;
}

typedef struct shipping_view {
  uint64_t version;
  bool shipped;
} shipping_view;

static int copy_shipping(const void *state, uint64_t version, void *ctx) {
  shipping_view *v = ctx;
  v->version = version;
  v->shipped = ((const shop_shipping_state *)state)->shipped;
  return 0;
}

static order_view read_order(es_app *app, const char *key) {
  order_view v;
  memset(&v, 0, sizeof v);
  check(es_app_read_state(app, &shop_order_aggregate, key, copy_order, &v) == 0,
        "reading an order");
  return v;
}

static stock_view read_stock(es_app *app, const char *sku) {
  stock_view v = {0, 0};
  check(es_app_read_state(app, &shop_inventory_aggregate, sku, copy_stock,
                          &v) == 0,
        "reading the stock");
  return v;
}

static payment_view read_payment(es_app *app, const char *key) {
  payment_view v;
  memset(&v, 0, sizeof v);
  check(es_app_read_state(app, &shop_payment_aggregate, key, copy_payment,
                          &v) == 0,
        "reading a payment");
  return v;
}

static shipping_view read_shipping(es_app *app, const char *key) {
  shipping_view v;
  memset(&v, 0, sizeof v);
  check(es_app_read_state(app, &shop_shipping_aggregate, key, copy_shipping,
                          &v) == 0,
        "reading a shipment");
  return v;
}

/* ---- the story --------------------------------------------------------------
 */

static void stock(es_app *app, const char *sku, uint32_t qty) {
  shop_inventory_stock cmd;
  es_result r;
  char what[96];
  int rc;
  shop_inventory_stock_init(&cmd);
  cmd.qty = qty;
  rc = shop_inventory_execute_stock(app, sku, &cmd, NULL, &r);
  snprintf(what, sizeof what, "Inventory %s: Stock{qty: %" PRIu32 "}", sku,
           qty);
  show(what, rc, &r);
}

static void place(es_app *app, const char *order, const char *customer,
                  const char *sku, uint32_t qty, int64_t amount,
                  const char *city, const char *country, const char *note) {
  shop_order_place cmd;
  es_result r;
  char what[128], money[24];
  int rc;
  shop_order_place_init(&cmd);
  cmd.customer = customer;
  cmd.sku = sku;
  cmd.qty = qty;
  cmd.amount = amount;
  cmd.payment = "tok_visa";
  cmd.address.name = customer;
  cmd.address.street = "1 Example Street";
  cmd.address.city = city;
  cmd.address.country = country;
  rc = shop_order_execute_place(app, order, &cmd, NULL, &r);
  snprintf(what, sizeof what, "Order %s: Place{%s, %" PRIu32 " x %s, %s, %s}",
           order, customer, qty, sku, shop_money(amount, money, sizeof money),
           country);
  show(what, rc, &r);
  printf("  %52s    (%s)\n", "", note);
}

static void print_report(const es_saga_report *r) {
  printf("  events handled %" PRIu64 ", steps stored %" PRIu64
         ", commands sent %" PRIu64 " (rejected %" PRIu64 ")\n"
         "  dead-lettered %" PRIu64 ", timeouts fired %" PRIu64
         ", checkouts completed %" PRIu64 ", position %" PRIu64 "\n",
         r->events, r->steps, r->dispatched + r->rejections, r->rejections,
         r->dead_lettered, r->timeouts_fired, r->completed, r->position);
}

/* Prints this run's orders: "o-N" (`prefix`) and two digits. */
static void print_history(const shop_history *h, const char *prefix) {
  char money[24], charged[24], refunded[24];
  uint32_t other = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    const shop_order_row *r = &h->rows[i];
    if (strncmp(r->order, prefix, strlen(prefix)) != 0 ||
        strlen(r->order) != strlen(prefix) + 2) {
      other++;
      continue;
    }
    const char *status = shop_order_status_name(r->status);
    printf("  %-6s %-4s %-9s %" PRIu32 " x %-4s %7s  charged %s, refunded "
           "%s\n",
           r->order, r->customer, status ? status : "?", r->qty, r->sku,
           shop_money(r->amount, money, sizeof money),
           shop_money(r->charged, charged, sizeof charged),
           shop_money(r->refunded, refunded, sizeof refunded));
    for (uint32_t l = 0; l < r->n_lines; l++)
      printf("           %s\n", r->lines[l]);
  }
  if (other)
    printf("  (and %" PRIu32 " order(s) of earlier runs)\n", other);
}

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Checks what one order ended as, from the aggregates themselves. */
static void check_order(es_app *app, const char *key, bool confirmed,
                        const char *reason, int64_t charged) {
  order_view o = read_order(app, key);
  payment_view p = read_payment(app, key);
  shipping_view s = read_shipping(app, key);
  char m1[24], m2[24];
  const char *status = shop_order_status_name(o.status);
  printf("  %-6s %-9s charged %5s, refunded %5s, %s: %s\n", key,
         status ? status : "?", shop_money(p.charged, m1, sizeof m1),
         shop_money(p.refunded, m2, sizeof m2),
         s.shipped ? "shipped" : "not shipped",
         confirmed ? o.tracking : o.reason);
  if (confirmed) {
    check(o.status == SHOP_ORDER_STATUS_CONFIRMED && o.tracking[0],
          "the order should be confirmed with a tracking number");
    check(p.charged == charged && p.refunded == 0, "the order should be paid");
    check(s.shipped, "the order should be shipped");
  } else {
    check(o.status == SHOP_ORDER_STATUS_CANCELLED &&
              starts_with(o.reason, reason),
          "the order should be cancelled for the expected reason");
    check(p.charged == charged && p.refunded == charged,
          "a cancelled order's payments should balance to zero");
    check(charged != 0 || p.version == 0,
          "an order that never reached payment should have no payment");
    check(!s.shipped && s.version == 0, "a cancelled order is not shipped");
  }
}

static void story(es_app *app, es_store *store, const char *dir, uint64_t run) {
  char o1[32], o2[32], o3[32], dl_path[4096];
  stock_view mug0, lamp0, mug1, lamp1;
  es_saga_options sopt = ES_SAGA_OPTIONS_INIT;
  es_saga_runner *saga = NULL;
  es_saga_report rep, again;
  shop_history history;
  es_projection_options popt;
  es_projection *proj = NULL;
  es_projection_report prep;
  uint32_t lamps;
  int rc;

  snprintf(o1, sizeof o1, "o-%" PRIu64 "01", run);
  snprintf(o2, sizeof o2, "o-%" PRIu64 "02", run);
  snprintf(o3, sizeof o3, "o-%" PRIu64 "03", run);

  printf("\n1. Stock the warehouse\n");
  stock(app, "mug", 10);
  stock(app, "lamp", 3);
  mug0 = read_stock(app, "mug");
  lamp0 = read_stock(app, "lamp");
  printf("  (mug: %" PRId64 " available, lamp: %" PRId64 " available)\n",
         mug0.available, lamp0.available);

  printf("\n2. Three orders\n");
  lamps = (uint32_t)lamp0.available + 2;
  place(app, o1, "ann", "mug", 2, 2 * MUG_PRICE, "Lyon", "FR",
        "should go through");
  place(app, o2, "bob", "lamp", lamps, lamps * LAMP_PRICE, "Bonn", "DE",
        "more lamps than in stock");
  place(app, o3, "cat", "mug", 1, MUG_PRICE, "McMurdo", "AQ",
        "no carrier delivers there");

  printf("\n3. The Checkout saga, run until caught up\n");
  /* Dead letters live in the store; a store an earlier version wrote has
   * them in DIR/dead-letters.jsonl, which the runner imports. */
  snprintf(dl_path, sizeof dl_path, "%s/dead-letters.jsonl", dir);
  sopt.dead_letter_path = example_is_database(dir) ? NULL : dl_path;
  rc = es_saga_runner_open(&saga, app, &shop_checkout_saga, store, &sopt);
  check(rc == 0, "opening the saga runner");
  if (rc != 0)
    return;
  memset(&rep, 0, sizeof rep);
  rc = es_saga_run_until_caught_up(saga, &rep);
  check(rc == 0, "running the saga");
  print_report(&rep);
  check(rep.dead_lettered == 0, "nothing should be dead-lettered");
  check(rep.completed == 3, "three checkouts should complete");
  check(rep.rejections == 2, "two steps should be rejected");
  check(es_saga_pending_timeouts(saga, NULL) == 0,
        "completed checkouts leave no timeout");

  printf("\n4. OrderHistory, run until caught up (rebuilt from the log: "
         "it lives in memory)\n");
  memset(&history, 0, sizeof history);
  popt = shop_history_projection_options(&history);
  rc = es_projection_open(&proj, &shop_schema, &shop_order_history_projection,
                          store, &popt);
  check(rc == 0, "opening the projection");
  if (rc == 0) {
    rc = es_projection_run_until_caught_up(proj, &prep);
    check(rc == 0, "running the projection");
    printf("  %" PRIu64 " events handled, up to position %" PRIu64 "\n",
           prep.events, prep.position);
    {
      char prefix[24];
      snprintf(prefix, sizeof prefix, "o-%" PRIu64, run);
      print_history(&history, prefix);
    }
  }

  printf("\n5. What the aggregates say\n");
  check_order(app, o1, true, NULL, 2 * MUG_PRICE);
  check_order(app, o2, false, "OutOfStock", 0);
  check_order(app, o3, false, "Undeliverable", MUG_PRICE);
  mug1 = read_stock(app, "mug");
  lamp1 = read_stock(app, "lamp");
  printf("  stock  mug: %" PRId64 " available, %" PRId64
         " reserved; lamp: %" PRId64 " available, %" PRId64 " reserved\n",
         mug1.available, mug1.reserved, lamp1.available, lamp1.reserved);
  check(mug1.available == mug0.available - 2 &&
            mug1.reserved == mug0.reserved + 2,
        "only the confirmed order's 2 mugs should stay reserved");
  check(lamp1.available == lamp0.available && lamp1.reserved == lamp0.reserved,
        "no lamp should be reserved");
  {
    const shop_order_row *r1 = shop_history_find(&history, o1);
    const shop_order_row *r2 = shop_history_find(&history, o2);
    const shop_order_row *r3 = shop_history_find(&history, o3);
    check(r1 && r2 && r3, "OrderHistory should list the three orders");
    if (r1 && r2 && r3) {
      check(r1->status == SHOP_ORDER_STATUS_CONFIRMED && r1->reserved == 2 &&
                r1->charged == 2 * MUG_PRICE && r1->tracking[0],
            "OrderHistory: the first order");
      check(r2->status == SHOP_ORDER_STATUS_CANCELLED && r2->reserved == 0 &&
                r2->charged == 0,
            "OrderHistory: the second order");
      check(r3->status == SHOP_ORDER_STATUS_CANCELLED && r3->reserved == 0 &&
                r3->charged == MUG_PRICE && r3->refunded == MUG_PRICE,
            "OrderHistory: the third order");
    }
    for (uint32_t i = 0; i < history.n; i++)
      if (history.rows[i].status == SHOP_ORDER_STATUS_CANCELLED)
        check(history.rows[i].charged == history.rows[i].refunded &&
                  history.rows[i].reserved == 0,
              "OrderHistory: a cancelled order kept money or stock");
  }

  /* The saga's position and every instance are stored: nothing is left. */
  memset(&again, 0, sizeof again);
  rc = es_saga_run_until_caught_up(saga, &again);
  printf("  the saga run again: %" PRIu64 " events, %" PRIu64
         " commands (nothing left to do)\n",
         again.events, again.dispatched);
  check(rc == 0 && again.events == 0 && again.dispatched == 0,
        "a second saga run should do nothing");

  es_projection_close(proj);
  shop_history_free(&history);
  es_saga_runner_close(saga);
}

/* ---- the store --------------------------------------------------------------
 */

/* The first run whose first order has no events yet. */
static uint64_t next_run(es_store *store) {
  char key[32];
  for (uint64_t run = 1;; run++) {
    uint64_t version = 0;
    snprintf(key, sizeof key, "o-%" PRIu64 "01", run);
    if (es_store_stream_version(store, shop_order_aggregate.name, key,
                                &version) != 0 ||
        version == 0)
      return run;
  }
}

static int run_on(const char *dir) {
  es_store_open_report report;
  es_store_options sopt = ES_STORE_OPTIONS_INIT;
  es_store *store = NULL;
  es_app *app = NULL;
  uint64_t run, head = 0;
  int rc;

  memset(&report, 0, sizeof report);
  sopt.report = &report;
  rc = example_open_store(&store, dir, "shop", &sopt);
  if (report.message[0])
    printf("store: %s\n", report.message);
  if (rc != 0) {
    fprintf(stderr, "shop: cannot open the store in %s: %s\n", dir,
            es_strerror(rc));
    if (rc == ES_ELOCKED)
      fprintf(stderr, "shop: process %ld is using it\n", report.locked_pid);
    return 1;
  }
  rc = es_app_open(&app, &shop_schema, store, NULL);
  if (rc != 0) {
    fprintf(stderr, "shop: es_app_open: %s\n", es_strerror(rc));
    es_store_close(store);
    return 1;
  }

  run = next_run(store);
  es_store_head(store, &head);
  printf("== shop: run %" PRIu64 " on the %s store in %s (%" PRIu64
         " events stored before)\n",
         run, example_is_database(dir) ? "PostgreSQL" : "embedded",
         example_is_database(dir) ? "the database" : dir, head);
  failures = 0;
  story(app, store, dir, run);

  es_app_close(app);
  es_store_close(store);
  if (failures) {
    printf("shop: %d unexpected result(s)\n", failures);
    return 1;
  }
  printf("\nshop: all as expected\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    fprintf(stderr, "usage: shop        (twice on a fresh temporary store, "
                    "then delete it)\n"
                    "       shop DIR    (on the store in DIR; run again to "
                    "continue)\n"
                    "       shop postgresql://...  (on a PostgreSQL "
                    "database)\n");
    return 2;
  }
  if (argc == 2)
    return run_on(argv[1]);
  return example_run_twice_on_temp("shop", run_on);
}
