/*
 * bank.stubs.c - the bank application's half of schemas/bank.es: the file
 * `esgen --stubs bank.stubs.c bank.es` wrote, filled in. The decide and
 * apply functions of Account and Transfer, the Balances projection, and
 * the MoneyTransfer saga, written against the generated bank.es.h.
 */
#include <string.h>

#include "bank_app.h"

/* ---- Account ------------------------------------------------------------ */

/* Whether the account was ever opened: an opening needs an owner. */
static bool ever_opened(const bank_account_state *state) {
  return state->owner && state->owner[0];
}

int bank_account_decide_open(const bank_account_state *state,
                             const bank_account_open *command, es_decision *d) {
  bank_account_opened ev;
  if (state->open)
    return bank_account_reject(d, BANK_ACCOUNT_ALREADY_OPEN, state->owner);
  if (!command->owner || !command->owner[0])
    return ES_EINVAL;
  if (command->initial < 0)
    return bank_account_reject(d, BANK_ACCOUNT_INSUFFICIENT_FUNDS,
                               "negative opening balance");
  bank_account_opened_init(&ev);
  ev.owner = command->owner;
  ev.initial = command->initial;
  return bank_account_emit_opened(d, &ev);
}

/* A closed account still takes a deposit that carries no transfer: that
 * is how a transfer's money comes back (the saga's refund), and money owed
 * to an account must land even when it was closed meanwhile (its owner is
 * then paid out by hand), never vanish. A transfer's deposit to a closed
 * account is refused (the saga then refunds the payer), and an account
 * never opened takes nothing. */
int bank_account_decide_deposit(const bank_account_state *state,
                                const bank_account_deposit *command,
                                es_decision *d) {
  bank_account_deposited ev;
  if (!state->open && (command->has_transfer || !ever_opened(state)))
    return bank_account_reject(d, BANK_ACCOUNT_NOT_OPEN, NULL);
  if (command->amount <= 0)
    return ES_EINVAL;
  bank_account_deposited_init(&ev);
  ev.amount = command->amount;
  ev.has_transfer = command->has_transfer;
  ev.transfer = command->transfer;
  return bank_account_emit_deposited(d, &ev);
}

int bank_account_decide_withdraw(const bank_account_state *state,
                                 const bank_account_withdraw *command,
                                 es_decision *d) {
  bank_account_withdrawn ev;
  if (!state->open)
    return bank_account_reject(d, BANK_ACCOUNT_NOT_OPEN, NULL);
  if (command->amount <= 0)
    return ES_EINVAL;
  if (command->amount > state->balance)
    return bank_account_reject(d, BANK_ACCOUNT_INSUFFICIENT_FUNDS,
                               "balance too low");
  bank_account_withdrawn_init(&ev);
  ev.amount = command->amount;
  ev.has_transfer = command->has_transfer;
  ev.transfer = command->transfer;
  return bank_account_emit_withdrawn(d, &ev);
}

int bank_account_decide_close(const bank_account_state *state,
                              const bank_account_close *command,
                              es_decision *d) {
  bank_account_closed ev;
  (void)command;
  if (!state->open)
    return bank_account_reject(d, BANK_ACCOUNT_ACCOUNT_CLOSED, NULL);
  bank_account_closed_init(&ev);
  return bank_account_emit_closed(d, &ev);
}

void bank_account_apply_opened(bank_account_state *state,
                               const bank_account_opened *event,
                               es_arena *arena) {
  (void)arena;
  state->owner = event->owner;
  state->balance = event->initial;
  state->open = true;
}

/* Keeps the newest 16 movements. The list lives in the state's arena and
 * belongs to this state alone, so once it is full it is shifted in place:
 * a long history folds without allocating (an arena only grows, and an
 * allocation per event would make replaying 10,000 events cost 2.5 MB).
 * Until then each movement makes a new list, one longer. */
static void remember(bank_account_state *state, int64_t amount,
                     es_arena *arena) {
  uint32_t keep = state->recent.count;
  bank_money *items;
  if (keep == 16) {
    items = state->recent.items;
    memmove(items, items + 1, 15 * sizeof *items);
    items[15].amount = amount;
    items[15].currency = BANK_CURRENCY_EUR;
    return;
  }
  if (keep > 16) /* cannot happen: the schema bounds the list at 16 */
    keep = 15;
  items = es_arena_alloc_array(arena, keep + 1, sizeof *items);
  if (!items)
    return;
  if (keep)
    memcpy(items, state->recent.items + (state->recent.count - keep),
           keep * sizeof *items);
  items[keep].amount = amount;
  items[keep].currency = BANK_CURRENCY_EUR;
  state->recent.items = items;
  state->recent.count = keep + 1;
}

void bank_account_apply_deposited(bank_account_state *state,
                                  const bank_account_deposited *event,
                                  es_arena *arena) {
  state->balance += event->amount;
  remember(state, event->amount, arena);
}

void bank_account_apply_withdrawn(bank_account_state *state,
                                  const bank_account_withdrawn *event,
                                  es_arena *arena) {
  state->balance -= event->amount;
  remember(state, -event->amount, arena);
}

void bank_account_apply_closed(bank_account_state *state,
                               const bank_account_closed *event,
                               es_arena *arena) {
  (void)event;
  (void)arena;
  state->open = false;
}

/* ---- Transfer ------------------------------------------------------------ */

static bool started(const bank_transfer_state *s) {
  return s->from && s->from[0];
}

int bank_transfer_decide_start(const bank_transfer_state *state,
                               const bank_transfer_start *command,
                               es_decision *d) {
  bank_transfer_started ev;
  if (started(state))
    return bank_transfer_reject(d, BANK_TRANSFER_ALREADY_STARTED, NULL);
  bank_transfer_started_init(&ev);
  ev.from = command->from;
  ev.to = command->to;
  ev.amount = command->amount;
  return bank_transfer_emit_started(d, &ev);
}

int bank_transfer_decide_complete(const bank_transfer_state *state,
                                  const bank_transfer_complete *command,
                                  es_decision *d) {
  bank_transfer_completed ev;
  (void)command;
  if (!started(state) || state->status != BANK_TRANSFER_STATUS_PENDING)
    return bank_transfer_reject(d, BANK_TRANSFER_NOT_PENDING, NULL);
  bank_transfer_completed_init(&ev);
  return bank_transfer_emit_completed(d, &ev);
}

int bank_transfer_decide_fail(const bank_transfer_state *state,
                              const bank_transfer_fail *command,
                              es_decision *d) {
  bank_transfer_failed ev;
  if (!started(state) || state->status != BANK_TRANSFER_STATUS_PENDING)
    return bank_transfer_reject(d, BANK_TRANSFER_NOT_PENDING, NULL);
  bank_transfer_failed_init(&ev);
  ev.reason = command->reason;
  return bank_transfer_emit_failed(d, &ev);
}

void bank_transfer_apply_started(bank_transfer_state *state,
                                 const bank_transfer_started *event,
                                 es_arena *arena) {
  (void)arena;
  state->from = event->from;
  state->to = event->to;
  state->amount = event->amount;
  state->status = BANK_TRANSFER_STATUS_PENDING;
}

void bank_transfer_apply_completed(bank_transfer_state *state,
                                   const bank_transfer_completed *event,
                                   es_arena *arena) {
  (void)event;
  (void)arena;
  state->status = BANK_TRANSFER_STATUS_DONE;
}

void bank_transfer_apply_failed(bank_transfer_state *state,
                                const bank_transfer_failed *event,
                                es_arena *arena) {
  (void)event;
  (void)arena;
  state->status = BANK_TRANSFER_STATUS_FAILED;
}

/* ---- projection Balances --------------------------------------------------
 */

static int64_t *row(bank_balances_view *v, const char *key, bool create) {
  for (uint32_t i = 0; i < v->n; i++)
    if (strcmp(v->rows[i].key, key) == 0)
      return &v->rows[i].balance;
  if (!create || v->n == BANK_VIEW_MAX || strlen(key) >= sizeof v->rows[0].key)
    return NULL;
  strcpy(v->rows[v->n].key, key);
  v->rows[v->n].balance = 0;
  return &v->rows[v->n++].balance;
}

int64_t bank_view_balance(const bank_balances_view *v, const char *key) {
  int64_t *b = row((bank_balances_view *)v, key, false);
  return b ? *b : INT64_MIN;
}

int bank_balances_on_account_opened(const bank_account_opened *event,
                                    const es_event_meta *meta, void *ctx) {
  bank_balances_view *v = ctx;
  if (v->write)
    return v->write(v->target, meta->key, event->initial, true);
  int64_t *b = row(ctx, meta->key, true);
  if (!b)
    return ES_ENOMEM;
  *b = event->initial;
  return 0;
}

int bank_balances_on_account_deposited(const bank_account_deposited *event,
                                       const es_event_meta *meta, void *ctx) {
  bank_balances_view *v = ctx;
  if (v->write)
    return v->write(v->target, meta->key, event->amount, false);
  int64_t *b = row(ctx, meta->key, false);
  if (!b)
    return ES_EINVAL; /* a deposit before the opening: retry later */
  *b += event->amount;
  return 0;
}

int bank_balances_on_account_withdrawn(const bank_account_withdrawn *event,
                                       const es_event_meta *meta, void *ctx) {
  bank_balances_view *v = ctx;
  if (v->write)
    return v->write(v->target, meta->key, -event->amount, false);
  int64_t *b = row(ctx, meta->key, false);
  if (!b)
    return ES_EINVAL;
  *b -= event->amount;
  return 0;
}

/* ---- saga MoneyTransfer ---------------------------------------------------
 *
 * Started: withdraw from `from` (and give up in an hour). Withdrawn:
 * deposit to `to`. Deposited: complete the transfer. A rejected withdrawal
 * fails the transfer; a rejected deposit refunds `from`, then fails it.
 * The saga's key is the transfer's id, which the commands carry in their
 * `transfer` field (a refund carries none: the saga must not hear it).
 *
 * Giving up (the "give-up" timeout) fails the transfer. If the withdrawal
 * was seen, its money is refunded at once and the saga completes. If not,
 * the withdrawal may still come (a Withdraw that was dead-lettered and is
 * re-dispatched by hand): the saga stays open, and a withdrawal that
 * arrives after it gave up is refunded, a Withdraw rejected after it is
 * simply the end. The spec's saga state has no status field, so giving up
 * is recorded by clearing `to`: there is nowhere to deposit any more. */

/* Whether the saga gave up on the transfer (see above). */
static bool gave_up(const bank_money_transfer_state *state) {
  return !state->to || !state->to[0];
}

/* Sends `amount` back to `from`, untagged (not part of the transfer). */
static int refund(const bank_money_transfer_state *state, es_saga_ctx *ctx) {
  bank_account_deposit cmd;
  bank_account_deposit_init(&cmd);
  cmd.amount = state->amount;
  cmd.has_transfer = false; /* not ours: the saga ignores its Deposited */
  return bank_money_transfer_send_account_deposit(ctx, state->from, &cmd);
}

/* Fails transfer `transfer` with `reason`. */
static int fail_transfer(const char *transfer, const char *reason,
                         es_saga_ctx *ctx) {
  bank_transfer_fail cmd;
  bank_transfer_fail_init(&cmd);
  cmd.reason = reason;
  return bank_money_transfer_send_transfer_fail(ctx, transfer, &cmd);
}

int bank_money_transfer_on_transfer_started(bank_money_transfer_state *state,
                                            const bank_transfer_started *event,
                                            const es_event_meta *meta,
                                            es_saga_ctx *ctx) {
  bank_account_withdraw cmd;
  int rc;
  state->from = event->from;
  state->to = event->to;
  state->amount = event->amount;
  state->withdrawn = false;
  bank_account_withdraw_init(&cmd);
  cmd.amount = event->amount;
  cmd.has_transfer = true;
  cmd.transfer = meta->key;
  if ((rc = bank_money_transfer_send_account_withdraw(ctx, event->from,
                                                      &cmd)) != 0)
    return rc;
  return es_saga_schedule(ctx, BANK_TRANSFER_TIMEOUT, BANK_TRANSFER_TIMEOUT_US);
}

int bank_money_transfer_on_account_withdrawn(
    bank_money_transfer_state *state, const bank_account_withdrawn *event,
    const es_event_meta *meta, es_saga_ctx *ctx) {
  bank_account_deposit cmd;
  int rc;
  (void)meta;
  state->withdrawn = true;
  if (gave_up(state)) {
    /* Too late: the transfer has failed. Give the money back; done. */
    if ((rc = refund(state, ctx)) != 0)
      return rc;
    es_saga_complete(ctx);
    return 0;
  }
  bank_account_deposit_init(&cmd);
  cmd.amount = event->amount;
  cmd.has_transfer = true;
  cmd.transfer = event->transfer;
  return bank_money_transfer_send_account_deposit(ctx, state->to, &cmd);
}

int bank_money_transfer_on_account_deposited(
    bank_money_transfer_state *state, const bank_account_deposited *event,
    const es_event_meta *meta, es_saga_ctx *ctx) {
  bank_transfer_complete cmd;
  int rc;
  (void)meta;
  /* Cannot happen: the deposit is sent only while the saga has not given
   * up, and giving up after the withdrawal completes the saga. */
  if (gave_up(state))
    return 0;
  bank_transfer_complete_init(&cmd);
  if ((rc = bank_money_transfer_send_transfer_complete(ctx, event->transfer,
                                                       &cmd)) != 0)
    return rc;
  if ((rc = es_saga_cancel(ctx, BANK_TRANSFER_TIMEOUT)) != 0)
    return rc;
  es_saga_complete(ctx);
  return 0;
}

int bank_money_transfer_on_rejected_account_withdraw(
    bank_money_transfer_state *state, const bank_account_withdraw *command,
    const es_rejection *why, es_saga_ctx *ctx) {
  int rc;
  /* After giving up the transfer has already failed: nothing to do. */
  if (!gave_up(state) &&
      (rc = fail_transfer(command->transfer, why->error, ctx)) != 0)
    return rc;
  es_saga_complete(ctx);
  return 0;
}

int bank_money_transfer_on_rejected_account_deposit(
    bank_money_transfer_state *state, const bank_account_deposit *command,
    const es_rejection *why, es_saga_ctx *ctx) {
  int rc;
  if ((rc = refund(state, ctx)) != 0)
    return rc;
  if ((rc = fail_transfer(command->transfer, why->error, ctx)) != 0)
    return rc;
  es_saga_complete(ctx);
  return 0;
}

/* Nothing settled the transfer in time: fail it. Money already withdrawn
 * goes back now; a withdrawal still to come is refunded when it comes. */
int bank_money_transfer_on_timeout(bank_money_transfer_state *state,
                                   const es_timeout *timeout,
                                   es_saga_ctx *ctx) {
  int rc;
  if (strcmp(timeout->name, BANK_TRANSFER_TIMEOUT) != 0 || gave_up(state))
    return 0;
  if (!ctx->key)
    return ES_EINVAL; /* a bare context: no transfer to fail */
  if (state->withdrawn && (rc = refund(state, ctx)) != 0)
    return rc;
  if ((rc = fail_transfer(ctx->key, BANK_TRANSFER_TIMED_OUT, ctx)) != 0)
    return rc;
  if (state->withdrawn)
    es_saga_complete(ctx);
  else
    state->to = ""; /* gave up: a late withdrawal is refunded */
  return 0;
}
