/*
 * test_shop.c - the shop example's Checkout saga, through the real saga
 * runner on a memory store with a settable clock: the order that goes
 * through, each rejected step and its compensation, and a stuck step that
 * times out and then completes late (undone as it arrives). Plus the
 * OrderHistory projection, through es_testing_projection.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "es/es_testing_projection.h"
#include "shop_app.h"

/* ---- a store whose appends to one stream type can be made to fail -------- */

typedef struct flaky_store {
  es_store base;
  es_store *inner;
  const char *fail_type; /* appends touching this type fail ... */
  int fail_rc;           /* ... with this code ... */
  int fail_left;         /* ... this many more times */
} flaky_store;

#define INNER(s) (((flaky_store *)(s))->inner)

static void fl_close(es_store *s) { (void)s; }
static int fl_append(es_store *s, es_append_stream *g, uint32_t n,
                     es_append_result *res) {
  flaky_store *f = (flaky_store *)s;
  for (uint32_t i = 0; i < n; i++)
    if (f->fail_left > 0 && f->fail_type && !strcmp(g[i].type, f->fail_type)) {
      f->fail_left--;
      return f->fail_rc;
    }
  return es_store_append(f->inner, g, n, res);
}
static int fl_read_stream(es_store *s, const char *t, const char *k,
                          uint64_t from, uint32_t max, es_event_fn fn,
                          void *ctx) {
  return es_store_read_stream(INNER(s), t, k, from, max, fn, ctx);
}
static int fl_read_all(es_store *s, uint64_t from, uint32_t max, es_event_fn fn,
                       void *ctx) {
  return es_store_read_all(INNER(s), from, max, fn, ctx);
}
static int fl_wait(es_store *s, uint64_t after, int64_t t, uint64_t *head) {
  return es_store_wait(INNER(s), after, t, head);
}
static void fl_interrupt(es_store *s) { es_store_interrupt(INNER(s)); }
static int fl_head(es_store *s, uint64_t *p) {
  return es_store_head(INNER(s), p);
}
static int fl_version(es_store *s, const char *t, const char *k, uint64_t *v) {
  return es_store_stream_version(INNER(s), t, k, v);
}
static int fl_snap_put(es_store *s, const char *t, const char *k,
                       const es_snapshot_info *i, const void *d, size_t n) {
  return es_store_snapshot_put(INNER(s), t, k, i, d, n);
}
static int fl_snap_get(es_store *s, const char *t, const char *k,
                       es_snapshot_info *i, es_buf *d) {
  return es_store_snapshot_get(INNER(s), t, k, i, d);
}
static int fl_cp_put(es_store *s, const char *n, uint64_t p, const void *d,
                     size_t len) {
  return es_store_checkpoint_put(INNER(s), n, p, d, len);
}
static int fl_cp_get(es_store *s, const char *n, uint64_t *p, es_buf *d) {
  return es_store_checkpoint_get(INNER(s), n, p, d);
}

static int fl_cmd_find(es_store *s, const es_uuid *id, es_command_record *out) {
  return es_store_command_find(INNER(s), id, out);
}

static const es_store_ops flaky_ops = {
    "flaky",     fl_close,     fl_append, fl_read_stream, fl_read_all,
    fl_wait,     fl_interrupt, fl_head,   fl_version,     fl_snap_put,
    fl_snap_get, fl_cp_put,    fl_cp_get, fl_cmd_find,    NULL};

/* ---- the shop ------------------------------------------------------------ */

typedef struct shop {
  es_store *mem;
  flaky_store flaky;
  es_app *app;
  es_saga_runner *r;
  int64_t now;
  es_saga_options opt;
  es_saga_report rep;
} shop;

#define MINUTE INT64_C(60000000)

static int64_t clock_of(void *ctx) { return ((shop *)ctx)->now; }
static void no_sleep(void *ctx, int64_t us) {
  (void)ctx;
  (void)us;
}

static void shop_open(shop *s) {
  memset(s, 0, sizeof *s);
  cr_assert_eq(es_store_open_memory(&s->mem, NULL), 0);
  s->flaky.base.ops = &flaky_ops;
  s->flaky.base.opt = s->mem->opt;
  s->flaky.inner = s->mem;
  s->now = INT64_C(1700000000000000);
  s->opt = (es_saga_options)ES_SAGA_OPTIONS_INIT;
  s->opt.now_us = clock_of;
  s->opt.clock_ctx = s;
  s->opt.sleep_us = no_sleep;
  cr_assert_eq(es_app_open(&s->app, &shop_schema, &s->flaky.base, NULL), 0);
  cr_assert_eq(es_saga_runner_open(&s->r, s->app, &shop_checkout_saga,
                                   &s->flaky.base, &s->opt),
               0);
}

static void shop_close(shop *s) {
  es_saga_runner_close(s->r);
  es_app_close(s->app);
  es_store_close(s->mem);
}

static void run(shop *s) {
  memset(&s->rep, 0, sizeof s->rep);
  cr_assert_eq(es_saga_run_until_caught_up(s->r, &s->rep), 0);
}

static void stock(shop *s, const char *sku, uint32_t qty) {
  shop_inventory_stock c;
  shop_inventory_stock_init(&c);
  c.qty = qty;
  cr_assert_eq(shop_inventory_execute_stock(s->app, sku, &c, NULL, NULL), 0);
}

static void place(shop *s, const char *order, uint32_t qty, int64_t amount,
                  const char *payment, const char *country) {
  shop_order_place c;
  shop_order_place_init(&c);
  c.customer = "ann";
  c.sku = "mug";
  c.qty = qty;
  c.amount = amount;
  c.payment = payment;
  c.address.name = "Ann";
  c.address.street = "1 Example Street";
  c.address.city = "Somewhere";
  c.address.country = country;
  cr_assert_eq(shop_order_execute_place(s->app, order, &c, NULL, NULL), 0);
}

typedef struct seen {
  uint64_t version;
  int status;
  char reason[96];
  int64_t a, b; /* available/reserved, charged/refunded */
  bool shipped;
} seen;

static int see_order(const void *st, uint64_t v, void *ctx) {
  const shop_order_state *o = st;
  seen *x = ctx;
  x->version = v;
  x->status = (int)o->status;
  snprintf(x->reason, sizeof x->reason, "%s", o->reason);
  return 0;
}
static int see_stock(const void *st, uint64_t v, void *ctx) {
  seen *x = ctx;
  x->version = v;
  x->a = ((const shop_inventory_state *)st)->available;
  x->b = ((const shop_inventory_state *)st)->reserved;
  return 0;
}
static int see_payment(const void *st, uint64_t v, void *ctx) {
  seen *x = ctx;
  x->version = v;
  x->a = ((const shop_payment_state *)st)->charged;
  x->b = ((const shop_payment_state *)st)->refunded;
  return 0;
}
static int see_shipping(const void *st, uint64_t v, void *ctx) {
  seen *x = ctx;
  x->version = v;
  x->shipped = ((const shop_shipping_state *)st)->shipped;
  return 0;
}

static seen look(shop *s, const es_aggregate_desc *agg, const char *key) {
  seen x;
  int (*fn)(const void *, uint64_t, void *) =
      agg == &shop_order_aggregate       ? see_order
      : agg == &shop_inventory_aggregate ? see_stock
      : agg == &shop_payment_aggregate   ? see_payment
                                         : see_shipping;
  memset(&x, 0, sizeof x);
  cr_assert_eq(es_app_read_state(s->app, agg, key, fn, &x), 0);
  return x;
}

#define ORDER(s, k) look(s, &shop_order_aggregate, k)
#define STOCK(s, k) look(s, &shop_inventory_aggregate, k)
#define PAYMENT(s, k) look(s, &shop_payment_aggregate, k)
#define SHIPPING(s, k) look(s, &shop_shipping_aggregate, k)

/* ---- the saga ------------------------------------------------------------ */

Test(checkout, goes_through_and_leaves_no_timeout) {
  shop s;
  seen x;
  shop_open(&s);
  stock(&s, "mug", 5);
  place(&s, "o-1", 2, 2400, "tok_visa", "FR");
  run(&s);
  cr_expect_eq(s.rep.dispatched, 4); /* reserve, charge, ship, confirm */
  cr_expect_eq(s.rep.rejections, 0);
  cr_expect_eq(s.rep.completed, 1);
  x = ORDER(&s, "o-1");
  cr_expect_eq(x.status, SHOP_ORDER_STATUS_CONFIRMED);
  x = STOCK(&s, "mug");
  cr_expect(x.a == 3 && x.b == 2, "stock %lld/%lld", (long long)x.a,
            (long long)x.b);
  x = PAYMENT(&s, "o-1");
  cr_expect(x.a == 2400 && x.b == 0);
  cr_expect(SHIPPING(&s, "o-1").shipped);
  cr_expect_eq(es_saga_pending_timeouts(s.r, NULL), 0);

  /* Long after: nothing fires, nothing is left to do. */
  s.now += 24 * 60 * MINUTE;
  run(&s);
  cr_expect_eq(s.rep.timeouts_fired, 0);
  cr_expect_eq(s.rep.events, 0);
  cr_expect_eq(s.rep.dispatched, 0);
  shop_close(&s);
}

Test(checkout, out_of_stock_charges_nothing) {
  shop s;
  seen x;
  shop_open(&s);
  stock(&s, "mug", 1);
  place(&s, "o-1", 2, 2400, "tok_visa", "FR");
  run(&s);
  cr_expect_eq(s.rep.rejections, 1);
  cr_expect_eq(s.rep.completed, 1);
  cr_expect_eq(s.rep.dead_lettered, 0);
  x = ORDER(&s, "o-1");
  cr_expect_eq(x.status, SHOP_ORDER_STATUS_CANCELLED);
  cr_expect_str_eq(x.reason, "OutOfStock: 1 available, 2 wanted");
  x = STOCK(&s, "mug");
  cr_expect(x.a == 1 && x.b == 0);
  cr_expect_eq(PAYMENT(&s, "o-1").version, 0, "nothing may be charged");
  cr_expect_eq(SHIPPING(&s, "o-1").version, 0);
  shop_close(&s);
}

Test(checkout, declined_payment_releases_the_stock) {
  shop s;
  seen x;
  shop_open(&s);
  stock(&s, "mug", 5);
  place(&s, "o-1", 2, 2400, "tok_declined", "FR");
  run(&s);
  cr_expect_eq(s.rep.rejections, 1);
  cr_expect_eq(s.rep.completed, 1);
  x = ORDER(&s, "o-1");
  cr_expect_eq(x.status, SHOP_ORDER_STATUS_CANCELLED);
  cr_expect_str_eq(x.reason, "Declined: card declined");
  x = STOCK(&s, "mug");
  cr_expect(x.a == 5 && x.b == 0, "stock %lld/%lld", (long long)x.a,
            (long long)x.b);
  cr_expect_eq(PAYMENT(&s, "o-1").version, 0);
  cr_expect_eq(SHIPPING(&s, "o-1").version, 0);
  shop_close(&s);
}

Test(checkout, undeliverable_refunds_and_releases) {
  shop s;
  seen x;
  shop_open(&s);
  stock(&s, "mug", 5);
  place(&s, "o-1", 1, 1200, "tok_visa", "AQ");
  run(&s);
  cr_expect_eq(s.rep.rejections, 1);
  cr_expect_eq(s.rep.completed, 1);
  cr_expect_eq(s.rep.dead_lettered, 0);
  x = ORDER(&s, "o-1");
  cr_expect_eq(x.status, SHOP_ORDER_STATUS_CANCELLED);
  cr_expect_str_eq(x.reason, "Undeliverable: no carrier delivers to 'AQ'");
  x = STOCK(&s, "mug");
  cr_expect(x.a == 5 && x.b == 0);
  x = PAYMENT(&s, "o-1");
  cr_expect(x.a == 1200 && x.b == 1200, "charged %lld, refunded %lld",
            (long long)x.a, (long long)x.b);
  cr_expect_eq(SHIPPING(&s, "o-1").version, 0);
  cr_expect_eq(es_saga_pending_timeouts(s.r, NULL), 0);
  shop_close(&s);
}

static int redispatch(const es_dead_letter *dl, void *ctx) {
  shop *s = ctx;
  es_result res;
  cr_expect_str_eq(dl->target, "Payment.Charge");
  cr_expect_eq(es_saga_redispatch(s->r, dl, &res), 0);
  cr_expect_eq(res.outcome, ES_OUTCOME_OK);
  return 0;
}

/* The payment provider is down: Charge fails and is dead-lettered. After
 * 30 minutes the checkout gives up (releases the stock, cancels the
 * order); the charge, re-dispatched by hand later, goes through and is
 * refunded at once; a week later the checkout forgets the order. */
Test(checkout, stuck_step_times_out_and_a_late_charge_is_refunded) {
  shop s;
  seen x;
  int64_t due;
  shop_open(&s);
  stock(&s, "mug", 5);
  s.flaky.fail_type = shop_payment_aggregate.name;
  s.flaky.fail_rc = ES_EIO;
  s.flaky.fail_left = 1000;
  place(&s, "o-1", 2, 2400, "tok_visa", "FR");
  run(&s);
  cr_expect_eq(s.rep.dead_lettered, 1);
  cr_expect_eq(ORDER(&s, "o-1").status, SHOP_ORDER_STATUS_PLACED);
  x = STOCK(&s, "mug");
  cr_expect(x.a == 3 && x.b == 2);
  cr_expect_eq(es_saga_pending_timeouts(s.r, &due), 1);
  cr_expect_eq(due, s.now + SHOP_CHECKOUT_TIMEOUT_US);

  s.now += 29 * MINUTE; /* not yet */
  run(&s);
  cr_expect_eq(s.rep.timeouts_fired, 0);
  cr_expect_eq(ORDER(&s, "o-1").status, SHOP_ORDER_STATUS_PLACED);

  s.now += 2 * MINUTE;
  run(&s);
  cr_expect_eq(s.rep.timeouts_fired, 1);
  x = ORDER(&s, "o-1");
  cr_expect_eq(x.status, SHOP_ORDER_STATUS_CANCELLED);
  cr_expect_str_eq(x.reason, "TimedOut");
  x = STOCK(&s, "mug");
  cr_expect(x.a == 5 && x.b == 0, "released: %lld/%lld", (long long)x.a,
            (long long)x.b);
  cr_expect_eq(PAYMENT(&s, "o-1").version, 0);
  cr_expect_eq(es_saga_pending_timeouts(s.r, NULL), 1, "the 'forget' timer");

  /* The provider is back; someone re-dispatches the dead letter. */
  s.flaky.fail_left = 0;
  cr_assert_eq(es_saga_dead_letters(&s.flaky.base, shop_checkout_saga.name,
                                    redispatch, &s, NULL),
               0);
  x = PAYMENT(&s, "o-1");
  cr_expect(x.a == 2400 && x.b == 0);
  run(&s); /* the saga hears Charged after giving up: refund */
  cr_expect_eq(s.rep.dispatched, 1);
  x = PAYMENT(&s, "o-1");
  cr_expect(x.a == 2400 && x.b == 2400, "charged %lld, refunded %lld",
            (long long)x.a, (long long)x.b);
  cr_expect_eq(SHIPPING(&s, "o-1").version, 0, "never shipped");

  s.now += SHOP_CHECKOUT_FORGET_US;
  run(&s);
  cr_expect_eq(s.rep.timeouts_fired, 1);
  cr_expect_eq(s.rep.completed, 1);
  cr_expect_eq(es_saga_pending_timeouts(s.r, NULL), 0);
  shop_close(&s);
}

/* ---- the projection ------------------------------------------------------ */

Test(order_history, follows_an_order_through_its_compensation) {
  shop_history h;
  es_projection_test *t;
  const shop_order_row *r;
  shop_address to = {"Cat", "1 Ice Road", "McMurdo", "AQ"};
  memset(&h, 0, sizeof h);
  t = es_projection_test_new(&shop_schema, &shop_order_history_projection, &h);
  cr_assert(t);
  es_projection_test_given(t, "mug", &shop_inventory_stocked_desc,
                           &(shop_inventory_stocked){.qty = 5});
  es_projection_test_given(t, "o-3", &shop_order_placed_desc,
                           &(shop_order_placed){.customer = "cat",
                                                .sku = "mug",
                                                .qty = 1,
                                                .amount = 1200,
                                                .payment = "tok_visa",
                                                .address = to});
  es_projection_test_given(
      t, "mug", &shop_inventory_reserved_desc,
      &(shop_inventory_reserved){.order = "o-3", .qty = 1});
  es_projection_test_given(
      t, "o-3", &shop_payment_charged_desc,
      &(shop_payment_charged){.customer = "cat", .amount = 1200});
  es_projection_test_given(
      t, "o-3", &shop_payment_refunded_desc,
      &(shop_payment_refunded){.amount = 1200, .reason = "Undeliverable"});
  es_projection_test_given(
      t, "mug", &shop_inventory_released_desc,
      &(shop_inventory_released){.order = "o-3", .qty = 1});
  es_projection_test_given(t, "o-3", &shop_order_cancelled_desc,
                           &(shop_order_cancelled){.reason = "Undeliverable"});
  /* A reservation for an order it never saw placed is not its business. */
  es_projection_test_given(t, "mug", &shop_inventory_reserved_desc,
                           &(shop_inventory_reserved){.order = "x", .qty = 1});
  ES_PROJECTION_TEST_CR_ASSERT(t, es_projection_test_run(t));

  cr_assert_eq(h.n, 1);
  r = shop_history_find(&h, "o-3");
  cr_assert(r);
  cr_expect_eq(r->status, SHOP_ORDER_STATUS_CANCELLED);
  cr_expect_str_eq(r->reason, "Undeliverable");
  cr_expect_eq(r->reserved, 0);
  cr_expect(r->charged == 1200 && r->refunded == 1200);
  cr_expect_eq(r->n_lines, 6);
  cr_expect_str_eq(r->lines[0], "placed: 1 x mug, 12.00, to AQ");
  es_projection_test_free(t);
  shop_history_free(&h);
}
