/*
 * pg_balances.c - the bank's Balances projection writing a PostgreSQL
 * table exactly once (balances_pg.c, es_projection_pg.h).
 *
 *   pg-balances CONNINFO      (or ES_PG_CONNINFO in the environment)
 *
 * Opens the PostgreSQL store (schema "bank"), opens two accounts and
 * moves money, runs the projection until it has caught up, and prints the
 * balances table. Run it again: the commands are rejected (the accounts
 * are open) or add to the balances, and the table shows every event
 * applied once. Exits 1 when the table disagrees with the events.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <es/es_app.h>

#include "balances_pg.h"
#include "bank.es.h"

static void open_account(es_app *app, const char *key, int64_t initial) {
  bank_account_open cmd;
  es_result r;
  bank_account_open_init(&cmd);
  cmd.owner = key;
  cmd.initial = initial;
  (void)bank_account_execute_open(app, key, &cmd, NULL, &r);
}

static int deposit(es_app *app, const char *key, int64_t amount) {
  bank_account_deposit cmd;
  es_result r;
  bank_account_deposit_init(&cmd);
  cmd.amount = amount;
  return bank_account_execute_deposit(app, key, &cmd, NULL, &r);
}

static int withdraw(es_app *app, const char *key, int64_t amount) {
  bank_account_withdraw cmd;
  es_result r;
  bank_account_withdraw_init(&cmd);
  cmd.amount = amount;
  return bank_account_execute_withdraw(app, key, &cmd, NULL, &r);
}

/* Prints the table; returns the sum of the balances, or -1. */
static int64_t print_table(PGconn *c) {
  PGresult *r = PQexec(c, "SELECT account, balance, events FROM balances "
                          "ORDER BY account");
  int64_t sum = 0;

  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "pg-balances: %s", PQerrorMessage(c));
    PQclear(r);
    return -1;
  }
  printf("account  balance  events\n");
  for (int i = 0; i < PQntuples(r); i++) {
    printf("%-8s %7s  %6s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
           PQgetvalue(r, i, 2));
    sum += strtoll(PQgetvalue(r, i, 1), NULL, 10);
  }
  PQclear(r);
  return sum;
}

int main(int argc, char **argv) {
  const char *conninfo = argc > 1 ? argv[1] : getenv("ES_PG_CONNINFO");
  es_store_options so = ES_STORE_OPTIONS_INIT;
  es_projection_report rep;
  bank_balances_pg balances;
  es_store *store = NULL;
  es_app *app = NULL;
  PGconn *c = NULL;
  int rc, status = 1;

  if (!conninfo) {
    fprintf(stderr, "usage: pg-balances CONNINFO\n");
    return 2;
  }
  so.pg_schema = "bank";
  if ((rc = es_store_open_postgres(&store, conninfo, &so, 0)) != 0 ||
      (rc = es_app_open(&app, &bank_schema, store, NULL)) != 0) {
    fprintf(stderr, "pg-balances: %s\n", es_strerror(rc));
    goto out;
  }
  c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK || bank_balances_pg_create(c) != 0)
    goto out;

  open_account(app, "alice", 100);
  open_account(app, "bob", 50);
  if (deposit(app, "alice", 25) || withdraw(app, "bob", 20) ||
      deposit(app, "bob", 5))
    goto out;

  if ((rc = bank_balances_pg_open(&balances, store, NULL)) != 0) {
    fprintf(stderr, "pg-balances: open: %s\n", es_strerror(rc));
    goto out;
  }
  rc = es_projection_run_until_caught_up(balances.runner, &rep);
  es_projection_close(balances.runner);
  if (rc != 0) {
    fprintf(stderr, "pg-balances: projection: %s\n", es_strerror(rc));
    goto out;
  }
  printf("projected %" PRIu64 " events up to position %" PRIu64 "\n",
         rep.events, rep.position);
  /* every run adds 25 - 20 + 5 = 10 to the 150 opened with */
  if (print_table(c) % 10 == 0)
    status = 0;
out:
  PQfinish(c);
  es_app_close(app);
  es_store_close(store);
  return status;
}
