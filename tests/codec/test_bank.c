/*
 * test_bank.c - the generated code of schemas/bank.es (the meson rule
 * every user copies), linked with the bank example's implementation of
 * its functions (examples/bank/bank.stubs.c): accounts and transfers
 * decided and folded through the routing table, the Balances projection,
 * and the MoneyTransfer saga moving money with its commands encoded and
 * decoded on the way.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "bank.es.h"
#include "bank_app.h"

static es_arena arena;
static es_buf buf;
static es_decision d;

static void setup(void) {
  es_arena_init(&arena, 0);
  es_buf_init(&buf, 0);
  es_decision_init(&d, NULL, 0);
}

static void teardown(void) {
  es_decision_close(&d);
  es_buf_close(&buf);
  es_arena_close(&arena);
}

TestSuite(bank, .init = setup, .fini = teardown);

/* Decides command `name` of `agg` on `state` through the routing table,
 * then decodes each emitted event (as a store would) and applies it. */
static int run(const es_aggregate_desc *agg, const char *name, void *state,
               const void *command) {
  int c = es_aggregate_find_command(agg, name);
  int rc;
  cr_assert_geq(c, 0, "%s", name);
  es_decision_close(&d);
  es_decision_init(&d, agg, (uint32_t)c);
  if ((rc = agg->commands[c].decide(state, command, &d)) != 0)
    return rc;
  for (uint32_t i = 0; i < d.n_emitted; i++) {
    const es_emitted *e = &d.emitted[i];
    const es_event_route *r = NULL;
    for (uint32_t k = 0; k < agg->n_events; k++)
      if (agg->events[k].event == e->type)
        r = &agg->events[k];
    cr_assert_not_null(r);
    void *ev = es_arena_calloc(&arena, 1, e->type->size);
    cr_assert_eq(es_type_decode(e->type, ev, d.payloads.data + e->offset,
                                e->len, &arena),
                 0);
    r->apply(state, ev, &arena);
  }
  return 0;
}

Test(bank, schema_shape) {
  cr_assert_str_eq(bank_schema.name, "bank");
  cr_assert_eq(bank_schema.n_aggregates, 2);
  cr_assert_eq(bank_schema.n_types, 18);
  cr_assert_eq(bank_account_aggregate.snapshot_every, 500);
  cr_assert_eq(bank_account_aggregate.n_errors, 4);
  cr_assert_eq(
      es_schema_find_type(&bank_schema, BANK_ACCOUNT_DEPOSITED_TYPE_ID, 1),
      &bank_account_deposited_desc);
  cr_assert_eq(BANK_ACCOUNT_DEPOSITED_TYPE_ID,
               es_fnv1a64("bank.Account.Deposited"));
  cr_assert_eq(bank_money_transfer_saga.handlers[1].by,
               &bank_account_withdrawn_desc.fields[1]);
  cr_assert_str_eq(bank_money_transfer_saga.handlers[2].by->name, "transfer");
}

Test(bank, account_lifecycle) {
  const es_aggregate_desc *a = &bank_account_aggregate;
  bank_account_state st;
  bank_account_open open;
  bank_account_deposit dep;
  bank_account_withdraw wd;
  bank_account_close close;

  bank_account_state_init(&st);
  bank_account_deposit_init(&dep);
  dep.amount = 5;
  cr_assert_eq(run(a, "Deposit", &st, &dep), ES_EREJECTED);
  cr_assert_str_eq(es_decision_error_name(&d), "NotOpen");

  bank_account_open_init(&open);
  open.owner = "Ada";
  open.initial = 100;
  cr_assert_eq(run(a, "Open", &st, &open), 0);
  cr_assert(st.open);
  cr_assert_str_eq(st.owner, "Ada");
  cr_assert_eq(run(a, "Open", &st, &open), ES_EREJECTED);
  cr_assert_eq(d.error, BANK_ACCOUNT_ALREADY_OPEN);
  cr_assert_str_eq(d.message, "Ada");

  for (int i = 1; i <= 20; i++) {
    dep.amount = i;
    cr_assert_eq(run(a, "Deposit", &st, &dep), 0);
  }
  cr_assert_eq(st.balance, 100 + 210);
  cr_assert_eq(st.recent.count, 16, "the newest 16");
  cr_assert_eq(st.recent.items[15].amount, 20);
  cr_assert_eq(st.recent.items[0].amount, 5);

  bank_account_withdraw_init(&wd);
  wd.amount = 1000;
  cr_assert_eq(run(a, "Withdraw", &st, &wd), ES_EREJECTED);
  cr_assert_str_eq(es_decision_error_name(&d), "InsufficientFunds");
  cr_assert_eq(d.n_emitted, 0);
  wd.amount = 310;
  cr_assert_eq(run(a, "Withdraw", &st, &wd), 0);
  cr_assert_eq(st.balance, 0);
  cr_assert_eq(st.recent.items[15].amount, -310);
  wd.amount = -1;
  cr_assert_eq(run(a, "Withdraw", &st, &wd), ES_EINVAL);

  /* the state as a snapshot: through its codec and back */
  cr_assert_eq(bank_account_state_encode(&st, &buf), 0);
  bank_account_state snap;
  cr_assert_eq(bank_account_state_decode(&snap, buf.data, buf.len, &arena), 0);
  cr_assert_str_eq(snap.owner, "Ada");
  cr_assert_eq(snap.recent.count, 16);
  cr_assert_eq(snap.recent.items[15].amount, -310);
  cr_assert_not(snap.has_nickname);

  bank_account_close_init(&close);
  cr_assert_eq(run(a, "Close", &st, &close), 0);
  cr_assert_not(st.open);
  cr_assert_eq(run(a, "Close", &st, &close), ES_EREJECTED);
  cr_assert_str_eq(es_decision_error_name(&d), "AccountClosed");

  /* closed: a transfer's deposit is refused, a refund (untagged) lands */
  dep.amount = 7;
  dep.has_transfer = true;
  dep.transfer = "t-1";
  cr_assert_eq(run(a, "Deposit", &st, &dep), ES_EREJECTED);
  cr_assert_str_eq(es_decision_error_name(&d), "NotOpen");
  dep.has_transfer = false;
  cr_assert_eq(run(a, "Deposit", &st, &dep), 0);
  cr_assert_eq(st.balance, 7);
  cr_assert_not(st.open);
}

Test(bank, an_account_needs_an_owner) {
  bank_account_state st;
  bank_account_open open;
  bank_account_state_init(&st);
  bank_account_open_init(&open);
  open.initial = 1;
  cr_assert_eq(run(&bank_account_aggregate, "Open", &st, &open), ES_EINVAL);
  cr_assert_not(st.open);
}

Test(bank, deposited_from_an_older_writer) {
  /* [amount, transfer]: written before `memo` existed */
  static const uint8_t old[] = {0x92, 0x0a, 0xc0};
  bank_account_deposited ev;
  cr_assert_eq(bank_account_deposited_decode(&ev, old, sizeof old, &arena), 0);
  cr_assert_eq(ev.amount, 10);
  cr_assert_not(ev.has_transfer);
  cr_assert_str_eq(ev.memo, "");
  cr_assert_eq(es_json_write(&bank_account_deposited_desc, &ev, &buf), 0);
  es_buf_append(&buf, "", 1);
  cr_assert_str_eq((const char *)buf.data,
                   "{\"amount\":10,\"transfer\":null,\"memo\":\"\"}");
}

Test(bank, balances_projection) {
  const es_projection_desc *p = &bank_balances_projection;
  bank_balances_view view = {0};
  es_event_meta meta = {0};
  bank_account_opened opened;
  bank_account_deposited dep;
  bank_account_withdrawn wd;
  bank_account_opened_init(&opened);
  bank_account_deposited_init(&dep);
  bank_account_withdrawn_init(&wd);

  cr_assert_eq(p->n_handlers, 3);
  meta.key = "acc-1";
  dep.amount = 5;
  cr_assert_eq(p->handlers[1].handler(&dep, &meta, &view), ES_EINVAL,
               "deposit before opening");
  opened.initial = 50;
  cr_assert_eq(p->handlers[0].handler(&opened, &meta, &view), 0);
  cr_assert_eq(p->handlers[1].handler(&dep, &meta, &view), 0);
  wd.amount = 20;
  cr_assert_eq(p->handlers[2].handler(&wd, &meta, &view), 0);
  meta.key = "acc-2";
  cr_assert_eq(p->handlers[0].handler(&opened, &meta, &view), 0);
  cr_assert_eq(bank_view_balance(&view, "acc-1"), 35);
  cr_assert_eq(bank_view_balance(&view, "acc-2"), 50);
  cr_assert_eq(bank_view_balance(&view, "acc-3"), INT64_MIN);
}

/* The command a SEND effect carries, decoded with its target's type. */
static const void *sent(const es_saga_ctx *c, uint32_t i,
                        const es_type_desc **type) {
  const es_effect *e = &c->effects[i];
  const es_saga_target *t;
  cr_assert_eq(e->kind, ES_EFFECT_SEND);
  t = &c->saga->sends[e->target];
  *type = t->aggregate->commands[t->command].command;
  void *v = es_arena_calloc(&arena, 1, (*type)->size);
  cr_assert_eq(
      es_type_decode(*type, v, c->payloads.data + e->offset, e->len, &arena),
      0);
  return v;
}

Test(bank, money_transfer_saga_moves_money) {
  const es_saga_desc *s = &bank_money_transfer_saga;
  bank_account_state from, to;
  bank_transfer_state tr;
  bank_money_transfer_state saga;
  es_saga_ctx ctx;
  es_event_meta meta = {0};
  const es_type_desc *type;
  bank_account_open open;
  bank_transfer_start start;

  /* two accounts and a transfer, through their aggregates */
  bank_account_state_init(&from);
  bank_account_state_init(&to);
  bank_account_open_init(&open);
  open.owner = "A";
  open.initial = 100;
  cr_assert_eq(run(&bank_account_aggregate, "Open", &from, &open), 0);
  open.owner = "B";
  open.initial = 0;
  cr_assert_eq(run(&bank_account_aggregate, "Open", &to, &open), 0);
  bank_transfer_state_init(&tr);
  bank_transfer_start_init(&start);
  start.from = "acc-A";
  start.to = "acc-B";
  start.amount = 30;
  cr_assert_eq(run(&bank_transfer_aggregate, "Start", &tr, &start), 0);
  cr_assert_eq(run(&bank_transfer_aggregate, "Start", &tr, &start),
               ES_EREJECTED);

  /* Started (the saga's start): withdraw from acc-A, for transfer t-1 */
  bank_money_transfer_state_init(&saga);
  es_saga_ctx_init(&ctx, s);
  bank_transfer_started started;
  bank_transfer_started_init(&started);
  started.from = "acc-A";
  started.to = "acc-B";
  started.amount = 30;
  meta.key = "t-1";
  cr_assert(s->handlers[0].starts);
  cr_assert_eq(s->handlers[0].handler(&saga, &started, &meta, &ctx), 0);
  cr_assert_eq(ctx.n_effects, 2);
  cr_assert_str_eq(ctx.effects[0].key, "acc-A");
  const bank_account_withdraw *w = sent(&ctx, 0, &type);
  cr_assert_eq(type, &bank_account_withdraw_desc);
  cr_assert_eq(w->amount, 30);
  cr_assert_str_eq(w->transfer, "t-1");
  cr_assert_eq(ctx.effects[1].kind, ES_EFFECT_SCHEDULE);

  /* the account decides the withdrawal; its event comes back by transfer */
  cr_assert_eq(run(&bank_account_aggregate, "Withdraw", &from, w), 0);
  cr_assert_eq(from.balance, 70);
  bank_account_withdrawn *wn = es_arena_calloc(&arena, 1, sizeof *wn);
  cr_assert_eq(
      bank_account_withdrawn_decode(wn, d.payloads.data + d.emitted[0].offset,
                                    d.emitted[0].len, &arena),
      0);
  const es_field_desc *by = s->handlers[1].by;
  cr_assert(*(const bool *)((const char *)wn + by->has_offset));
  cr_assert_str_eq(*(const char *const *)((const char *)wn + by->offset), "t-1",
                   "the `by` field finds the saga's key");
  es_saga_ctx_reset(&ctx);
  cr_assert_eq(s->handlers[1].handler(&saga, wn, &meta, &ctx), 0);
  cr_assert(saga.withdrawn);
  cr_assert_str_eq(ctx.effects[0].key, "acc-B");
  const bank_account_deposit *dp = sent(&ctx, 0, &type);
  cr_assert_eq(type, &bank_account_deposit_desc);

  cr_assert_eq(run(&bank_account_aggregate, "Deposit", &to, dp), 0);
  cr_assert_eq(to.balance, 30);
  bank_account_deposited *dn = es_arena_calloc(&arena, 1, sizeof *dn);
  cr_assert_eq(
      bank_account_deposited_decode(dn, d.payloads.data + d.emitted[0].offset,
                                    d.emitted[0].len, &arena),
      0);
  es_saga_ctx_reset(&ctx);
  cr_assert_eq(s->handlers[2].handler(&saga, dn, &meta, &ctx), 0);
  cr_assert(ctx.completed);
  cr_assert_str_eq(ctx.effects[0].key, "t-1");
  const bank_transfer_complete *cp = sent(&ctx, 0, &type);
  cr_assert_eq(type, &bank_transfer_complete_desc);
  cr_assert_eq(ctx.effects[1].kind, ES_EFFECT_CANCEL);

  cr_assert_eq(run(&bank_transfer_aggregate, "Complete", &tr, cp), 0);
  cr_assert_eq(tr.status, BANK_TRANSFER_STATUS_DONE);
  cr_assert_eq(run(&bank_transfer_aggregate, "Complete", &tr, cp),
               ES_EREJECTED);
  es_saga_ctx_close(&ctx);
}

Test(bank, money_transfer_saga_compensates) {
  const es_saga_desc *s = &bank_money_transfer_saga;
  bank_money_transfer_state saga;
  es_saga_ctx ctx;
  const es_type_desc *type;
  bank_account_deposit dep;
  es_rejection why = {"AccountClosed", BANK_ACCOUNT_ACCOUNT_CLOSED, ""};

  bank_money_transfer_state_init(&saga);
  saga.from = "acc-A";
  saga.to = "acc-B";
  saga.amount = 30;
  saga.withdrawn = true;
  es_saga_ctx_init(&ctx, s);
  bank_account_deposit_init(&dep);
  dep.amount = 30;
  dep.has_transfer = true;
  dep.transfer = "t-9";
  /* sends[1] is Account.Deposit, with its rejection handler */
  cr_assert_eq(s->sends[1].command, (uint32_t)es_aggregate_find_command(
                                        &bank_account_aggregate, "Deposit"));
  cr_assert_eq(s->sends[1].on_rejected(&saga, &dep, &why, &ctx), 0);
  cr_assert_eq(ctx.n_effects, 2);
  cr_assert_str_eq(ctx.effects[0].key, "acc-A", "refund");
  const bank_account_deposit *refund = sent(&ctx, 0, &type);
  cr_assert_eq(refund->amount, 30);
  cr_assert_not(refund->has_transfer);
  cr_assert_str_eq(ctx.effects[1].key, "t-9");
  const bank_transfer_fail *f = sent(&ctx, 1, &type);
  cr_assert_eq(type, &bank_transfer_fail_desc);
  cr_assert_str_eq(f->reason, "AccountClosed");
  cr_assert(ctx.completed);
  es_saga_ctx_close(&ctx);
}
