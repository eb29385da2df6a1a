/*
 * wallet.c - the round trip's program, built from wallet_v1.es
 * (WALLET_V=1) and from wallet_v2.es (WALLET_V=2).
 *
 *   wallet-vN DIR KEY AMOUNT...
 *
 * opens (creating) the embedded log in DIR and deposits each AMOUNT into
 * Account KEY, then prints the state the last decide saw before its
 * deposit: "balance B deposits D". Exits 0, or 1 with the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if WALLET_V == 1
#include "wallet_v1.es.h"
#else
#include "wallet_v2.es.h"
#endif

static int64_t seen_balance;
static uint32_t seen_deposits;

int wallet_account_decide_deposit(const wallet_account_state *state,
                                  const wallet_account_deposit *command,
                                  es_decision *d) {
  wallet_account_deposited event;
  seen_balance = state->balance;
  seen_deposits = state->deposits;
  wallet_account_deposited_init(&event);
#if WALLET_V == 1
  event.cents = command->cents;
#else
  event.amount = command->amount;
#endif
  return wallet_account_emit_deposited(d, &event);
}

void wallet_account_apply_deposited(wallet_account_state *state,
                                    const wallet_account_deposited *event,
                                    es_arena *arena) {
  (void)arena;
#if WALLET_V == 1
  state->balance += event->cents;
#else
  state->balance += event->amount;
#endif
  state->deposits++;
}

#if WALLET_V == 2
/* v1 held cents in an i32; v2 holds an i64 amount and a memo. */
int wallet_account_upcast_deposited_v1(const wallet_account_deposited_v1 *from,
                                       wallet_account_deposited *to,
                                       es_arena *arena) {
  (void)arena;
  wallet_account_deposited_init(to);
  to->amount = from->cents;
  to->memo = "from v1";
  return 0;
}
#endif

int main(int argc, char **argv) {
  es_store *store = NULL;
  es_app *app = NULL;
  int rc;
  if (argc < 4) {
    fprintf(stderr, "usage: wallet DIR KEY AMOUNT...\n");
    return 1;
  }
  rc = es_store_open_log(&store, argv[1], NULL, 0);
  if (!rc)
    rc = es_app_open(&app, &wallet_schema, store, NULL);
  if (rc == ES_ESCHEMA) {
    char why[512];
    es_schema_check_store(&wallet_schema, store, why, sizeof why);
    fprintf(stderr, "wallet: %s\n", why);
  }
  for (int k = 3; !rc && k < argc; k++) {
    wallet_account_deposit cmd;
    es_result res;
    wallet_account_deposit_init(&cmd);
#if WALLET_V == 1
    cmd.cents = atoi(argv[k]);
#else
    cmd.amount = atoll(argv[k]);
#endif
    rc = wallet_account_execute_deposit(app, argv[2], &cmd, NULL, &res);
  }
  if (!rc)
    printf("balance %lld deposits %u\n", (long long)seen_balance,
           (unsigned)seen_deposits);
  else
    fprintf(stderr, "wallet: %s\n", es_strerror(rc));
  es_app_close(app);
  es_store_close(store);
  return rc ? 1 : 0;
}
