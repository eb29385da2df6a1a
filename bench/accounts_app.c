/*
 * accounts_app.c - decide and apply of schemas/accounts.es: an account is
 * opened once with a balance, then takes deposits and withdrawals that
 * never overdraw it.
 */
#include "accounts.es.h"

int accounts_account_decide_open(const accounts_account_state *state,
                                 const accounts_account_open *command,
                                 es_decision *d) {
  accounts_account_opened ev;
  if (state->open)
    return accounts_account_reject(d, ACCOUNTS_ACCOUNT_ALREADY_OPEN, NULL);
  accounts_account_opened_init(&ev);
  ev.accountId = command->accountId;
  ev.amount = command->amount;
  ev.ts = command->ts;
  return accounts_account_emit_opened(d, &ev);
}

int accounts_account_decide_deposit(const accounts_account_state *state,
                                    const accounts_account_deposit *command,
                                    es_decision *d) {
  accounts_account_deposited ev;
  if (!state->open)
    return accounts_account_reject(d, ACCOUNTS_ACCOUNT_NOT_OPEN, NULL);
  accounts_account_deposited_init(&ev);
  ev.accountId = command->accountId;
  ev.amount = command->amount;
  ev.ts = command->ts;
  return accounts_account_emit_deposited(d, &ev);
}

int accounts_account_decide_withdraw(const accounts_account_state *state,
                                     const accounts_account_withdraw *command,
                                     es_decision *d) {
  accounts_account_withdrawn ev;
  if (!state->open)
    return accounts_account_reject(d, ACCOUNTS_ACCOUNT_NOT_OPEN, NULL);
  if (command->amount > state->balance)
    return accounts_account_reject(d, ACCOUNTS_ACCOUNT_INSUFFICIENT_FUNDS,
                                   NULL);
  accounts_account_withdrawn_init(&ev);
  ev.accountId = command->accountId;
  ev.amount = command->amount;
  ev.ts = command->ts;
  return accounts_account_emit_withdrawn(d, &ev);
}

void accounts_account_apply_opened(accounts_account_state *state,
                                   const accounts_account_opened *event,
                                   es_arena *arena) {
  (void)arena;
  state->accountId = event->accountId; /* lives in `arena` */
  state->balance = event->amount;
  state->open = true;
}

void accounts_account_apply_deposited(accounts_account_state *state,
                                      const accounts_account_deposited *event,
                                      es_arena *arena) {
  (void)arena;
  state->balance += event->amount;
}

void accounts_account_apply_withdrawn(accounts_account_state *state,
                                      const accounts_account_withdrawn *event,
                                      es_arena *arena) {
  (void)arena;
  state->balance -= event->amount;
}
