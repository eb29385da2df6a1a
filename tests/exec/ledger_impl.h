/*
 * ledger_impl.h - the user's half of ledger.es for the executor tests,
 * plus hooks a test can set to run code inside a decide function.
 */
#ifndef LEDGER_IMPL_H
#define LEDGER_IMPL_H

#include "ledger.es.h"

/* When set, Account.Deposit's decide calls it first (with the ctx below)
 * and fails the command with its nonzero result. Tests use it to append
 * behind the executor's back, making its append conflict. Not thread-safe:
 * set it only in single-threaded tests. */
extern int (*ledger_deposit_hook)(void *ctx);
extern void *ledger_deposit_hook_ctx;

/* How many times any decide function ran (atomic). */
unsigned long ledger_decide_calls(void);

#endif
