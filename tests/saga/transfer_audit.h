/*
 * transfer_audit.h - what a bank log says about its transfers, for the
 * tests that kill the process running the MoneyTransfer saga: money
 * withdrawn and deposited, each account's balance folded from its events,
 * transfers started and settled, and every saga effect seen at most once.
 * Accounts are keyed "k<N>", N below `accounts`.
 */
#ifndef TRANSFER_AUDIT_H
#define TRANSFER_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "es/es_store.h"

typedef struct transfer_audit {
  int64_t withdrawn, deposited;
  int64_t *balance; /* [accounts] */
  int accounts;
  uint64_t started, settled;
  uint64_t twice;   /* saga effects (withdraw, deposit, settle) seen again */
  char (*seen)[48]; /* "<kind>:<transfer>", each once */
  size_t n_seen, max_seen;
} transfer_audit;

/* Prepares `t` for a log of `accounts` accounts and at most `max_effects`
 * saga effects. Returns 0 or -1 (out of memory). */
int transfer_audit_init(transfer_audit *t, int accounts, size_t max_effects);

/* An es_event_fn for es_store_read_all() with `ctx` a transfer_audit:
 * counts one event. Returns 0, an es_error of its decoder, or ES_ERANGE
 * (an account key out of range, or more effects than `max_effects`). */
int transfer_audit_event(const es_stored_event *e, void *ctx);

/* Frees what init took; `t` may be NULL. */
void transfer_audit_close(transfer_audit *t);

#endif
