/*
 * shop.stubs.c - the shop application's half of shop.es: the file
 * `esgen --stubs shop.stubs.c shop.es` wrote, filled in. The decide and
 * apply functions of Order, Inventory, Payment and Shipping, the
 * OrderHistory projection (an in-memory read model, shop_app.h) and the
 * Checkout saga.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop_app.h"

const char *shop_money(int64_t cents, char *buf, size_t size) {
  uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
  snprintf(buf, size, "%s%" PRIu64 ".%02" PRIu64, cents < 0 ? "-" : "", a / 100,
           a % 100);
  return buf;
}

/* ---- Order ----------------------------------------------------------------
 */

int shop_order_decide_place(const shop_order_state *state,
                            const shop_order_place *command, es_decision *d) {
  shop_order_placed ev;
  if (state->status != SHOP_ORDER_STATUS_NEW)
    return shop_order_reject(d, SHOP_ORDER_ALREADY_PLACED, NULL);
  if (!command->sku[0] || command->qty == 0 || command->amount <= 0 ||
      !command->address.country[0])
    return shop_order_reject(d, SHOP_ORDER_INVALID_ORDER,
                             "an order needs a sku, a quantity, an amount "
                             "and an address");
  shop_order_placed_init(&ev);
  ev.customer = command->customer;
  ev.sku = command->sku;
  ev.qty = command->qty;
  ev.amount = command->amount;
  ev.payment = command->payment;
  ev.address = command->address;
  return shop_order_emit_placed(d, &ev);
}

int shop_order_decide_confirm(const shop_order_state *state,
                              const shop_order_confirm *command,
                              es_decision *d) {
  shop_order_confirmed ev;
  if (state->status != SHOP_ORDER_STATUS_PLACED)
    return shop_order_reject(d, SHOP_ORDER_NOT_PENDING, NULL);
  shop_order_confirmed_init(&ev);
  ev.tracking = command->tracking;
  return shop_order_emit_confirmed(d, &ev);
}

int shop_order_decide_cancel(const shop_order_state *state,
                             const shop_order_cancel *command, es_decision *d) {
  shop_order_cancelled ev;
  if (state->status != SHOP_ORDER_STATUS_PLACED)
    return shop_order_reject(d, SHOP_ORDER_NOT_PENDING, NULL);
  shop_order_cancelled_init(&ev);
  ev.reason = command->reason;
  return shop_order_emit_cancelled(d, &ev);
}

void shop_order_apply_placed(shop_order_state *state,
                             const shop_order_placed *event, es_arena *arena) {
  (void)arena;
  state->status = SHOP_ORDER_STATUS_PLACED;
  state->customer = event->customer;
  state->sku = event->sku;
  state->qty = event->qty;
  state->amount = event->amount;
}

void shop_order_apply_confirmed(shop_order_state *state,
                                const shop_order_confirmed *event,
                                es_arena *arena) {
  (void)arena;
  state->status = SHOP_ORDER_STATUS_CONFIRMED;
  state->tracking = event->tracking;
}

void shop_order_apply_cancelled(shop_order_state *state,
                                const shop_order_cancelled *event,
                                es_arena *arena) {
  (void)arena;
  state->status = SHOP_ORDER_STATUS_CANCELLED;
  state->reason = event->reason;
}

/* ---- Inventory (keyed by sku) ----------------------------------------------
 */

int shop_inventory_decide_stock(const shop_inventory_state *state,
                                const shop_inventory_stock *command,
                                es_decision *d) {
  shop_inventory_stocked ev;
  (void)state;
  if (command->qty == 0)
    return shop_inventory_reject(d, SHOP_INVENTORY_INVALID_QUANTITY, NULL);
  shop_inventory_stocked_init(&ev);
  ev.qty = command->qty;
  return shop_inventory_emit_stocked(d, &ev);
}

int shop_inventory_decide_reserve(const shop_inventory_state *state,
                                  const shop_inventory_reserve *command,
                                  es_decision *d) {
  shop_inventory_reserved ev;
  if (command->qty == 0)
    return shop_inventory_reject(d, SHOP_INVENTORY_INVALID_QUANTITY, NULL);
  if ((int64_t)command->qty > state->available) {
    char why[64];
    snprintf(why, sizeof why, "%" PRId64 " available, %" PRIu32 " wanted",
             state->available, command->qty);
    return shop_inventory_reject(d, SHOP_INVENTORY_OUT_OF_STOCK, why);
  }
  shop_inventory_reserved_init(&ev);
  ev.order = command->order;
  ev.qty = command->qty;
  return shop_inventory_emit_reserved(d, &ev);
}

int shop_inventory_decide_release(const shop_inventory_state *state,
                                  const shop_inventory_release *command,
                                  es_decision *d) {
  shop_inventory_released ev;
  if (command->qty == 0)
    return shop_inventory_reject(d, SHOP_INVENTORY_INVALID_QUANTITY, NULL);
  if ((int64_t)command->qty > state->reserved)
    return shop_inventory_reject(d, SHOP_INVENTORY_NOT_RESERVED, NULL);
  shop_inventory_released_init(&ev);
  ev.order = command->order;
  ev.qty = command->qty;
  return shop_inventory_emit_released(d, &ev);
}

void shop_inventory_apply_stocked(shop_inventory_state *state,
                                  const shop_inventory_stocked *event,
                                  es_arena *arena) {
  (void)arena;
  state->available += event->qty;
}

void shop_inventory_apply_reserved(shop_inventory_state *state,
                                   const shop_inventory_reserved *event,
                                   es_arena *arena) {
  (void)arena;
  state->available -= event->qty;
  state->reserved += event->qty;
}

void shop_inventory_apply_released(shop_inventory_state *state,
                                   const shop_inventory_released *event,
                                   es_arena *arena) {
  (void)arena;
  state->available += event->qty;
  state->reserved -= event->qty;
}

/* ---- Payment (keyed by order id) -------------------------------------------
 */

/* The payment provider's rules, as a test double would have them: the
 * token "tok_declined" and anything over the limit are declined. */
#define SHOP_CHARGE_LIMIT INT64_C(100000) /* 1000.00 */

int shop_payment_decide_charge(const shop_payment_state *state,
                               const shop_payment_charge *command,
                               es_decision *d) {
  shop_payment_charged ev;
  if (command->amount <= 0)
    return shop_payment_reject(d, SHOP_PAYMENT_INVALID_AMOUNT, NULL);
  if (state->charged > 0)
    return shop_payment_reject(d, SHOP_PAYMENT_ALREADY_CHARGED, NULL);
  if (strcmp(command->payment, "tok_declined") == 0)
    return shop_payment_reject(d, SHOP_PAYMENT_DECLINED, "card declined");
  if (command->amount > SHOP_CHARGE_LIMIT)
    return shop_payment_reject(d, SHOP_PAYMENT_DECLINED, "over the limit");
  shop_payment_charged_init(&ev);
  ev.customer = command->customer;
  ev.amount = command->amount;
  return shop_payment_emit_charged(d, &ev);
}

int shop_payment_decide_refund(const shop_payment_state *state,
                               const shop_payment_refund *command,
                               es_decision *d) {
  shop_payment_refunded ev;
  if (command->amount <= 0)
    return shop_payment_reject(d, SHOP_PAYMENT_INVALID_AMOUNT, NULL);
  if (command->amount > state->charged - state->refunded)
    return shop_payment_reject(d, SHOP_PAYMENT_NOT_CHARGED,
                               "more than what is left of the charge");
  shop_payment_refunded_init(&ev);
  ev.amount = command->amount;
  ev.reason = command->reason;
  return shop_payment_emit_refunded(d, &ev);
}

void shop_payment_apply_charged(shop_payment_state *state,
                                const shop_payment_charged *event,
                                es_arena *arena) {
  (void)arena;
  state->charged += event->amount;
}

void shop_payment_apply_refunded(shop_payment_state *state,
                                 const shop_payment_refunded *event,
                                 es_arena *arena) {
  (void)arena;
  state->refunded += event->amount;
}

/* ---- Shipping (keyed by order id) ------------------------------------------
 */

/* The countries the carrier serves. */
static bool served(const char *country) {
  static const char *const list[] = {"BE", "DE", "ES", "FR", "GB",
                                     "IE", "IT", "NL", "PT"};
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
    if (strcmp(country, list[i]) == 0)
      return true;
  return false;
}

int shop_shipping_decide_ship(const shop_shipping_state *state,
                              const shop_shipping_ship *command,
                              es_decision *d) {
  shop_shipping_shipped ev;
  char tracking[40];
  if (state->shipped)
    return shop_shipping_reject(d, SHOP_SHIPPING_ALREADY_SHIPPED,
                                state->tracking);
  if (!served(command->address.country)) {
    char why[64];
    snprintf(why, sizeof why, "no carrier delivers to '%.2s'",
             command->address.country);
    return shop_shipping_reject(d, SHOP_SHIPPING_UNDELIVERABLE, why);
  }
  /* decide must be a pure function of state and command (it may run again
   * after a conflict), so the tracking number derives from the order. */
  snprintf(tracking, sizeof tracking, "TRK-%s-%08" PRIX32,
           command->address.country,
           (uint32_t)(es_fnv1a64(command->order) >> 32));
  shop_shipping_shipped_init(&ev);
  ev.tracking = tracking; /* emit encodes at once: the stack is fine */
  ev.country = command->address.country;
  return shop_shipping_emit_shipped(d, &ev);
}

void shop_shipping_apply_shipped(shop_shipping_state *state,
                                 const shop_shipping_shipped *event,
                                 es_arena *arena) {
  (void)arena;
  state->shipped = true;
  state->tracking = event->tracking;
}

/* ---- projection OrderHistory -----------------------------------------------
 * An in-memory list of orders with what happened to each. The position is
 * kept beside it (a user-kept checkpoint), so it starts from 0 in every
 * process and every event is applied exactly once. A handler that fails
 * (ES_ENOMEM) changes nothing, so the runner can redeliver the event. */

void shop_history_free(shop_history *h) {
  free(h->rows);
  memset(h, 0, sizeof *h);
}

const shop_order_row *shop_history_find(const shop_history *h,
                                        const char *order) {
  for (uint32_t i = 0; i < h->n; i++)
    if (strcmp(h->rows[i].order, order) == 0)
      return &h->rows[i];
  return NULL;
}

static shop_order_row *find_row(shop_history *h, const char *order) {
  return (shop_order_row *)shop_history_find(h, order);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
add_line(shop_order_row *r, const char *fmt, ...) {
  va_list ap;
  if (r->n_lines == SHOP_HISTORY_LINES)
    return;
  va_start(ap, fmt);
  vsnprintf(r->lines[r->n_lines++], sizeof r->lines[0], fmt, ap);
  va_end(ap);
}

static int load_position(void *ctx, uint64_t *position) {
  *position = ((shop_history *)ctx)->position;
  return 0;
}

static int commit(void *ctx, uint64_t position) {
  ((shop_history *)ctx)->position = position;
  return 0;
}

es_projection_options shop_history_projection_options(shop_history *h) {
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  o.ctx = h;
  o.load_position = load_position;
  o.commit = commit;
  return o;
}

int shop_order_history_on_order_placed(const shop_order_placed *event,
                                       const es_event_meta *meta, void *ctx) {
  shop_history *h = ctx;
  shop_order_row *r;
  char money[24];
  if (find_row(h, meta->key))
    return 0; /* placed once: the Order rejects a second Place */
  if (h->n == h->cap) {
    uint32_t cap = h->cap ? 2 * h->cap : 8;
    shop_order_row *rows = realloc(h->rows, cap * sizeof *rows);
    if (!rows)
      return ES_ENOMEM;
    h->rows = rows;
    h->cap = cap;
  }
  r = &h->rows[h->n++];
  memset(r, 0, sizeof *r);
  snprintf(r->order, sizeof r->order, "%s", meta->key);
  snprintf(r->customer, sizeof r->customer, "%s", event->customer);
  snprintf(r->sku, sizeof r->sku, "%s", event->sku);
  r->qty = event->qty;
  r->amount = event->amount;
  r->status = SHOP_ORDER_STATUS_PLACED;
  add_line(r, "placed: %" PRIu32 " x %s, %s, to %s", event->qty, event->sku,
           shop_money(event->amount, money, sizeof money),
           event->address.country);
  return 0;
}

int shop_order_history_on_order_confirmed(const shop_order_confirmed *event,
                                          const es_event_meta *meta,
                                          void *ctx) {
  shop_order_row *r = find_row(ctx, meta->key);
  if (!r)
    return 0;
  r->status = SHOP_ORDER_STATUS_CONFIRMED;
  add_line(r, "confirmed, tracking %s", event->tracking);
  return 0;
}

int shop_order_history_on_order_cancelled(const shop_order_cancelled *event,
                                          const es_event_meta *meta,
                                          void *ctx) {
  shop_order_row *r = find_row(ctx, meta->key);
  if (!r)
    return 0;
  r->status = SHOP_ORDER_STATUS_CANCELLED;
  snprintf(r->reason, sizeof r->reason, "%s", event->reason);
  add_line(r, "cancelled: %s", event->reason);
  return 0;
}

int shop_order_history_on_inventory_reserved(
    const shop_inventory_reserved *event, const es_event_meta *meta,
    void *ctx) {
  shop_order_row *r = find_row(ctx, event->order);
  if (!r)
    return 0;
  r->reserved += event->qty;
  add_line(r, "stock reserved: %" PRIu32 " x %s", event->qty, meta->key);
  return 0;
}

int shop_order_history_on_inventory_released(
    const shop_inventory_released *event, const es_event_meta *meta,
    void *ctx) {
  shop_order_row *r = find_row(ctx, event->order);
  if (!r)
    return 0;
  r->reserved -= event->qty < r->reserved ? event->qty : r->reserved;
  add_line(r, "stock released: %" PRIu32 " x %s", event->qty, meta->key);
  return 0;
}

int shop_order_history_on_payment_charged(const shop_payment_charged *event,
                                          const es_event_meta *meta,
                                          void *ctx) {
  shop_order_row *r = find_row(ctx, meta->key);
  char money[24];
  if (!r)
    return 0;
  r->charged += event->amount;
  add_line(r, "charged %s to %s",
           shop_money(event->amount, money, sizeof money), event->customer);
  return 0;
}

int shop_order_history_on_payment_refunded(const shop_payment_refunded *event,
                                           const es_event_meta *meta,
                                           void *ctx) {
  shop_order_row *r = find_row(ctx, meta->key);
  char money[24];
  if (!r)
    return 0;
  r->refunded += event->amount;
  add_line(r, "refunded %s (%s)",
           shop_money(event->amount, money, sizeof money), event->reason);
  return 0;
}

int shop_order_history_on_shipping_shipped(const shop_shipping_shipped *event,
                                           const es_event_meta *meta,
                                           void *ctx) {
  shop_order_row *r = find_row(ctx, meta->key);
  if (!r)
    return 0;
  snprintf(r->tracking, sizeof r->tracking, "%s", event->tracking);
  add_line(r, "shipped to %s: %s", event->country, event->tracking);
  return 0;
}

/* ---- saga Checkout ----------------------------------------------------------
 * Placed: reserve the stock. Reserved: charge the payment. Charged: ship.
 * Shipped: confirm the order, done. A rejected step undoes the steps
 * before it (release the stock, refund the payment) and cancels the order,
 * all recorded in one step, so they are sent together and exactly once.
 *
 * A timeout does the same for an order that is stuck (a command that kept
 * failing and became a dead letter). The saga then stays around
 * (stage Cancelled) until a second timeout, so a stuck step that completes
 * late - a dead letter re-dispatched by hand - is undone as it arrives.
 *
 * The saga only ever looks at its state and the events it hears: Placed
 * carries everything it needs. */

static int send_release(shop_checkout_state *s, uint32_t qty,
                        es_saga_ctx *ctx) {
  shop_inventory_release cmd;
  shop_inventory_release_init(&cmd);
  cmd.order = s->order;
  cmd.qty = qty;
  return shop_checkout_send_inventory_release(ctx, s->sku, &cmd);
}

static int send_refund(shop_checkout_state *s, int64_t amount,
                       const char *reason, es_saga_ctx *ctx) {
  shop_payment_refund cmd;
  shop_payment_refund_init(&cmd);
  cmd.amount = amount;
  cmd.reason = reason;
  return shop_checkout_send_payment_refund(ctx, s->order, &cmd);
}

/* Undoes what was done, in reverse, and cancels the order. */
static int give_up(shop_checkout_state *s, const char *reason,
                   es_saga_ctx *ctx) {
  shop_order_cancel cancel;
  int rc;
  if (s->charged) {
    if ((rc = send_refund(s, s->amount, reason, ctx)) != 0)
      return rc;
    s->charged = false;
  }
  if (s->reserved) {
    if ((rc = send_release(s, s->qty, ctx)) != 0)
      return rc;
    s->reserved = false;
  }
  shop_order_cancel_init(&cancel);
  cancel.reason = reason;
  if ((rc = shop_checkout_send_order_cancel(ctx, s->order, &cancel)) != 0)
    return rc;
  s->stage = SHOP_CHECKOUT_STAGE_CANCELLED;
  return 0;
}

/* "OutOfStock: 3 available, 5 wanted" */
static const char *reason_of(const es_rejection *why, char *buf, size_t size) {
  snprintf(buf, size, "%s%s%s", why->error,
           why->message && why->message[0] ? ": " : "",
           why->message ? why->message : "");
  return buf;
}

int shop_checkout_on_order_placed(shop_checkout_state *state,
                                  const shop_order_placed *event,
                                  const es_event_meta *meta, es_saga_ctx *ctx) {
  shop_inventory_reserve cmd;
  int rc;
  /* The event lives in the state's arena: its strings may be kept. */
  state->stage = SHOP_CHECKOUT_STAGE_RESERVING;
  state->order = meta->key;
  state->sku = event->sku;
  state->qty = event->qty;
  state->customer = event->customer;
  state->amount = event->amount;
  state->payment = event->payment;
  state->address = event->address;
  state->reserved = state->charged = false;
  shop_inventory_reserve_init(&cmd);
  cmd.order = state->order;
  cmd.qty = event->qty;
  if ((rc = shop_checkout_send_inventory_reserve(ctx, event->sku, &cmd)) != 0)
    return rc;
  return es_saga_schedule(ctx, SHOP_CHECKOUT_TIMEOUT, SHOP_CHECKOUT_TIMEOUT_US);
}

int shop_checkout_on_inventory_reserved(shop_checkout_state *state,
                                        const shop_inventory_reserved *event,
                                        const es_event_meta *meta,
                                        es_saga_ctx *ctx) {
  shop_payment_charge cmd;
  (void)meta;
  if (state->stage == SHOP_CHECKOUT_STAGE_CANCELLED)
    return send_release(state, event->qty, ctx); /* too late: undo it */
  if (state->stage != SHOP_CHECKOUT_STAGE_RESERVING)
    return 0;
  state->reserved = true;
  state->stage = SHOP_CHECKOUT_STAGE_CHARGING;
  shop_payment_charge_init(&cmd);
  cmd.customer = state->customer;
  cmd.amount = state->amount;
  cmd.payment = state->payment;
  return shop_checkout_send_payment_charge(ctx, state->order, &cmd);
}

int shop_checkout_on_payment_charged(shop_checkout_state *state,
                                     const shop_payment_charged *event,
                                     const es_event_meta *meta,
                                     es_saga_ctx *ctx) {
  shop_shipping_ship cmd;
  (void)meta;
  if (state->stage == SHOP_CHECKOUT_STAGE_CANCELLED)
    return send_refund(state, event->amount, "order cancelled", ctx);
  if (state->stage != SHOP_CHECKOUT_STAGE_CHARGING)
    return 0;
  state->charged = true;
  state->stage = SHOP_CHECKOUT_STAGE_SHIPPING;
  shop_shipping_ship_init(&cmd);
  cmd.order = state->order;
  cmd.sku = state->sku;
  cmd.qty = state->qty;
  cmd.address = state->address;
  return shop_checkout_send_shipping_ship(ctx, state->order, &cmd);
}

int shop_checkout_on_shipping_shipped(shop_checkout_state *state,
                                      const shop_shipping_shipped *event,
                                      const es_event_meta *meta,
                                      es_saga_ctx *ctx) {
  shop_order_confirm cmd;
  int rc;
  (void)meta;
  /* Shipped after the saga gave up: the parcel is gone and the order was
   * cancelled and refunded; nothing here can undo that (a person must). */
  if (state->stage != SHOP_CHECKOUT_STAGE_SHIPPING)
    return 0;
  state->stage = SHOP_CHECKOUT_STAGE_DONE;
  shop_order_confirm_init(&cmd);
  cmd.tracking = event->tracking;
  if ((rc = shop_checkout_send_order_confirm(ctx, state->order, &cmd)) != 0)
    return rc;
  es_saga_complete(ctx); /* drops the pending timeout */
  return 0;
}

/* A rejected step: undo the ones before it and cancel the order. After a
 * timeout the order is already cancelled; nothing is left to do. */
static int rejected(shop_checkout_state *state, const es_rejection *why,
                    es_saga_ctx *ctx) {
  char reason[128];
  int rc = 0;
  if (state->stage != SHOP_CHECKOUT_STAGE_CANCELLED)
    rc = give_up(state, reason_of(why, reason, sizeof reason), ctx);
  if (rc == 0)
    es_saga_complete(ctx);
  return rc;
}

int shop_checkout_on_rejected_inventory_reserve(
    shop_checkout_state *state, const shop_inventory_reserve *command,
    const es_rejection *why, es_saga_ctx *ctx) {
  (void)command;
  return rejected(state, why, ctx); /* nothing reserved, nothing charged */
}

int shop_checkout_on_rejected_payment_charge(shop_checkout_state *state,
                                             const shop_payment_charge *command,
                                             const es_rejection *why,
                                             es_saga_ctx *ctx) {
  (void)command;
  return rejected(state, why, ctx); /* releases the stock */
}

int shop_checkout_on_rejected_shipping_ship(shop_checkout_state *state,
                                            const shop_shipping_ship *command,
                                            const es_rejection *why,
                                            es_saga_ctx *ctx) {
  (void)command;
  return rejected(state, why, ctx); /* refunds, releases the stock */
}

int shop_checkout_on_timeout(shop_checkout_state *state,
                             const es_timeout *timeout, es_saga_ctx *ctx) {
  int rc;
  if (strcmp(timeout->name, SHOP_CHECKOUT_FORGET) == 0) {
    es_saga_complete(ctx);
    return 0;
  }
  if (strcmp(timeout->name, SHOP_CHECKOUT_TIMEOUT) != 0 ||
      state->stage == SHOP_CHECKOUT_STAGE_DONE ||
      state->stage == SHOP_CHECKOUT_STAGE_CANCELLED)
    return 0;
  if ((rc = give_up(state, "TimedOut", ctx)) != 0)
    return rc;
  return es_saga_schedule(ctx, SHOP_CHECKOUT_FORGET, SHOP_CHECKOUT_FORGET_US);
}
