/*
 * bank_app.h - what bank.stubs.c (the bank application's half of
 * schemas/bank.es: the stubs esgen wrote, filled in) shares with the code
 * that uses it (main.c, the tests): the Balances read model and the
 * MoneyTransfer saga's timeout (its name, delay, and the reason it fails a
 * transfer with).
 */
#ifndef BANK_APP_H
#define BANK_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "bank.es.h"

#define BANK_VIEW_MAX 8

/* The Balances projection's `ctx`: balance per account key, in `rows`,
 * or, when `write` is set, wherever `write` puts it: the handlers then
 * call write(target, key, amount, opened) for each event (`opened`: the
 * account's opening with its initial balance; otherwise `amount` is added,
 * negative for a withdrawal) and return what it returns. balances_pg.c
 * writes a PostgreSQL table this way. */
typedef struct bank_balances_view {
  uint32_t n;
  struct {
    char key[64];
    int64_t balance;
  } rows[BANK_VIEW_MAX];
  int (*write)(void *target, const char *key, int64_t amount, bool opened);
  void *target;
} bank_balances_view;

/* The balance the view holds for `key`, or INT64_MIN if none. */
int64_t bank_view_balance(const bank_balances_view *v, const char *key);

/* Name of the timeout MoneyTransfer schedules when it starts, how long
 * after the start it fires, and the reason it fails the transfer with. */
#define BANK_TRANSFER_TIMEOUT "give-up"
#define BANK_TRANSFER_TIMEOUT_US (INT64_C(3600) * 1000000)
#define BANK_TRANSFER_TIMED_OUT "TimedOut"

#endif
