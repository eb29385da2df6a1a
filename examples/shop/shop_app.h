/*
 * shop_app.h - what shop.stubs.c (the shop application's half of shop.es:
 * the stubs esgen wrote, filled in) shares with the code that uses it
 * (main.c, test_shop.c): the OrderHistory read model, kept in memory, and
 * the names and delays of the Checkout saga's timeouts.
 */
#ifndef SHOP_APP_H
#define SHOP_APP_H

#include <stdint.h>

#include "shop.es.h"

/* The timeout Checkout schedules when an order is placed: if the order is
 * neither shipped nor rejected by then, it undoes what was done and
 * cancels the order. */
#define SHOP_CHECKOUT_TIMEOUT "checkout"
#define SHOP_CHECKOUT_TIMEOUT_US (INT64_C(30) * 60 * 1000000) /* 30 min */

/* After giving up, Checkout still listens for a while, so that a step
 * that was stuck and completes late (a reservation, a charge) is undone
 * too; then it forgets the order (completes). */
#define SHOP_CHECKOUT_FORGET "forget"
#define SHOP_CHECKOUT_FORGET_US (INT64_C(7) * 24 * 3600 * 1000000) /* 7 d */

/* ---- the OrderHistory read model ----------------------------------------- */

#define SHOP_HISTORY_LINES 8

/* One order as OrderHistory sees it. */
typedef struct shop_order_row {
  char order[64];
  char customer[32];
  char sku[32];
  uint32_t qty;
  int64_t amount; /* cents */
  shop_order_status status;
  uint32_t reserved; /* units held for it now (reserved - released) */
  int64_t charged;   /* cents charged ... */
  int64_t refunded;  /* ... and refunded */
  char tracking[40]; /* "" until shipped */
  char reason[96];   /* why it was cancelled */
  uint32_t n_lines;  /* what happened, oldest first */
  char lines[SHOP_HISTORY_LINES][64];
} shop_order_row;

/* The projection's `ctx`. Start it zeroed; free it with
 * shop_history_free(). It lives in memory only, so it starts from
 * position 0 in every process (see shop_history_projection_options()). */
typedef struct shop_history {
  uint64_t position; /* the last position committed into it */
  uint32_t n, cap;
  shop_order_row *rows; /* in the order they were placed */
} shop_history;

void shop_history_free(shop_history *h);

/* The row of order `order`, or NULL. */
const shop_order_row *shop_history_find(const shop_history *h,
                                        const char *order);

/* Options for es_projection_open() that keep the position in `h` itself
 * (a user-kept checkpoint): the read model and the position it reached
 * live and die together, so every event is applied exactly once. */
es_projection_options shop_history_projection_options(shop_history *h);

/* "24.00": cents as text, into `buf` (at least 24 bytes). */
const char *shop_money(int64_t cents, char *buf, size_t size);

#endif
