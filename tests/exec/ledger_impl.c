/*
 * ledger_impl.c - decide, apply and upcast functions of ledger.es.
 */
#include <stdatomic.h>
#include <string.h>

#include "ledger_impl.h"

int (*ledger_deposit_hook)(void *ctx);
void *ledger_deposit_hook_ctx;

static atomic_ulong decide_calls;

unsigned long ledger_decide_calls(void) { return atomic_load(&decide_calls); }

/* ---- Account ------------------------------------------------------------ */

int ledger_account_decide_open(const ledger_account_state *state,
                               const ledger_account_open *command,
                               es_decision *d) {
  ledger_account_opened ev;
  atomic_fetch_add(&decide_calls, 1);
  if (state->open)
    return ledger_account_reject(d, LEDGER_ACCOUNT_ALREADY_OPEN, state->owner);
  ledger_account_opened_init(&ev);
  ev.owner = command->owner;
  ev.initial = command->initial;
  return ledger_account_emit_opened(d, &ev);
}

int ledger_account_decide_deposit(const ledger_account_state *state,
                                  const ledger_account_deposit *command,
                                  es_decision *d) {
  ledger_account_deposited ev;
  atomic_fetch_add(&decide_calls, 1);
  if (ledger_deposit_hook) {
    int rc = ledger_deposit_hook(ledger_deposit_hook_ctx);
    if (rc != 0)
      return rc;
  }
  if (!state->open)
    return ledger_account_reject(d, LEDGER_ACCOUNT_NOT_OPEN, "deposit");
  ledger_account_deposited_init(&ev);
  ev.amount = command->amount;
  return ledger_account_emit_deposited(d, &ev);
}

int ledger_account_decide_withdraw(const ledger_account_state *state,
                                   const ledger_account_withdraw *command,
                                   es_decision *d) {
  ledger_account_withdrawn ev;
  atomic_fetch_add(&decide_calls, 1);
  if (!state->open)
    return ledger_account_reject(d, LEDGER_ACCOUNT_NOT_OPEN, "withdraw");
  if (command->amount > state->balance)
    return ledger_account_reject(d, LEDGER_ACCOUNT_INSUFFICIENT_FUNDS,
                                 "balance too low");
  ledger_account_withdrawn_init(&ev);
  ev.amount = command->amount;
  return ledger_account_emit_withdrawn(d, &ev);
}

/* One Deposited per amount, in order: a multi-event command. */
int ledger_account_decide_split(const ledger_account_state *state,
                                const ledger_account_split *command,
                                es_decision *d) {
  atomic_fetch_add(&decide_calls, 1);
  if (!state->open)
    return ledger_account_reject(d, LEDGER_ACCOUNT_NOT_OPEN, "split");
  for (uint32_t i = 0; i < command->amounts.count; i++) {
    ledger_account_deposited ev;
    int rc;
    ledger_account_deposited_init(&ev);
    ev.amount = command->amounts.items[i];
    ev.note = "split";
    if ((rc = ledger_account_emit_deposited(d, &ev)) != 0)
      return rc;
  }
  return 0;
}

/* Decides that nothing happens. */
int ledger_account_decide_nothing(const ledger_account_state *state,
                                  const ledger_account_nothing *command,
                                  es_decision *d) {
  (void)state;
  (void)command;
  (void)d;
  atomic_fetch_add(&decide_calls, 1);
  return 0;
}

/* Emits an event its command does not declare, ignoring the error the
 * emit returns: the executor must still refuse to store anything. */
int ledger_account_decide_stray(const ledger_account_state *state,
                                const ledger_account_stray *command,
                                es_decision *d) {
  ledger_account_deposited ok;
  ledger_account_withdrawn ev;
  (void)state;
  (void)command;
  atomic_fetch_add(&decide_calls, 1);
  ledger_account_deposited_init(&ok);
  ok.amount = 1;
  (void)ledger_account_emit_deposited(d, &ok);
  ledger_account_withdrawn_init(&ev);
  ev.amount = 1;
  (void)es_decision_emit(d, &ledger_account_withdrawn_desc, &ev);
  return 0;
}

/* Emits, then fails with `code` (an ES_E* code): a fault, not a
 * rejection. */
int ledger_account_decide_fault(const ledger_account_state *state,
                                const ledger_account_fault *command,
                                es_decision *d) {
  ledger_account_deposited ev;
  (void)state;
  atomic_fetch_add(&decide_calls, 1);
  ledger_account_deposited_init(&ev);
  ev.amount = 1;
  (void)ledger_account_emit_deposited(d, &ev);
  return command->code;
}

int ledger_account_decide_tag(const ledger_account_state *state,
                              const ledger_account_tag *command,
                              es_decision *d) {
  ledger_account_tagged ev;
  (void)state;
  atomic_fetch_add(&decide_calls, 1);
  ledger_account_tagged_init(&ev);
  ev.tags = command->tags;
  return ledger_account_emit_tagged(d, &ev);
}

void ledger_account_apply_opened(ledger_account_state *state,
                                 const ledger_account_opened *event,
                                 es_arena *arena) {
  (void)arena;
  state->owner = event->owner;
  state->balance = event->initial;
  state->open = true;
}

void ledger_account_apply_deposited(ledger_account_state *state,
                                    const ledger_account_deposited *event,
                                    es_arena *arena) {
  (void)arena;
  state->balance += event->amount;
  state->postings++;
}

void ledger_account_apply_withdrawn(ledger_account_state *state,
                                    const ledger_account_withdrawn *event,
                                    es_arena *arena) {
  (void)arena;
  state->balance -= event->amount;
  state->postings++;
}

void ledger_account_apply_tagged(ledger_account_state *state,
                                 const ledger_account_tagged *event,
                                 es_arena *arena) {
  (void)arena;
  state->tags = event->tags;
}

/* v1 counted cents in an i32; v2 counts whole units in an i64. */
int ledger_account_upcast_deposited_v1(const ledger_account_deposited_v1 *from,
                                       ledger_account_deposited *to,
                                       es_arena *arena) {
  (void)arena;
  if (from->cents < 0)
    return ES_EUPCAST;
  ledger_account_deposited_init(to);
  to->amount = from->cents / 100;
  to->note = "upcast";
  return 0;
}

/* ---- Counter ------------------------------------------------------------ */

int ledger_counter_decide_add(const ledger_counter_state *state,
                              const ledger_counter_add *command,
                              es_decision *d) {
  ledger_counter_added ev;
  (void)state;
  atomic_fetch_add(&decide_calls, 1);
  ledger_counter_added_init(&ev);
  ev.amount = command->amount;
  return ledger_counter_emit_added(d, &ev);
}

void ledger_counter_apply_added(ledger_counter_state *state,
                                const ledger_counter_added *event,
                                es_arena *arena) {
  (void)arena;
  state->total += event->amount;
  state->adds++;
}

/* ---- Slot and Badge ------------------------------------------------------ */

int ledger_slot_decide_fill(const ledger_slot_state *state,
                            const ledger_slot_fill *command, es_decision *d) {
  ledger_slot_filled ev;
  (void)state;
  ledger_slot_filled_init(&ev);
  ev.note = command->note;
  return ledger_slot_emit_filled(d, &ev);
}

void ledger_slot_apply_filled(ledger_slot_state *state,
                              const ledger_slot_filled *event,
                              es_arena *arena) {
  (void)event;
  (void)arena;
  state->fills++;
}

int ledger_badge_decide_grant(const ledger_badge_state *state,
                              const ledger_badge_grant *command,
                              es_decision *d) {
  ledger_badge_granted ev;
  (void)state;
  ledger_badge_granted_init(&ev);
  ev.level = command->level;
  return ledger_badge_emit_granted(d, &ev);
}

void ledger_badge_apply_granted(ledger_badge_state *state,
                                const ledger_badge_granted *event,
                                es_arena *arena) {
  (void)event;
  (void)arena;
  state->grants++;
}
