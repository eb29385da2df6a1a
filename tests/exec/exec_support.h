/*
 * exec_support.h - helpers shared by the executor tests: temporary store
 * directories and short ways to run the ledger's commands.
 */
#ifndef EXEC_SUPPORT_H
#define EXEC_SUPPORT_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ledger_impl.h"

#include "dir.h"

/* A fresh directory under /tmp; `out` must hold 64 bytes. */
static inline int ex_fresh_dir(char *out) {
  snprintf(out, 64, "/tmp/es_exec_test.XXXXXX");
  return mkdtemp(out) ? 0 : -1;
}

static inline es_app *ex_app(es_store *s, const es_app_options *o) {
  es_app *app = NULL;
  cr_assert_eq(es_app_open(&app, &ledger_schema, s, o), 0);
  return app;
}

static inline uint64_t ex_head(es_store *s) {
  uint64_t h = 0;
  cr_assert_eq(es_store_head(s, &h), 0);
  return h;
}

static inline uint64_t ex_version(es_store *s, const char *agg,
                                  const char *key) {
  uint64_t v = 0;
  cr_assert_eq(es_store_stream_version(s, agg, key, &v), 0);
  return v;
}

static inline int ex_open(es_app *app, const char *key, int64_t initial) {
  ledger_account_open c = {.owner = "ann", .initial = initial};
  return ledger_account_execute_open(app, key, &c, NULL, NULL);
}

static inline int ex_deposit(es_app *app, const char *key, int64_t amount,
                             const es_exec_options *o, es_result *r) {
  ledger_account_deposit c = {.amount = amount};
  return ledger_account_execute_deposit(app, key, &c, o, r);
}

/* What es_app_read_state() shows of an Account. */
typedef struct ex_account {
  int64_t balance;
  uint64_t postings;
  uint64_t version;
  bool open;
} ex_account;

static inline int ex_account_fn(const void *state, uint64_t version,
                                void *ctx) {
  const ledger_account_state *s = state;
  ex_account *a = ctx;
  a->balance = s->balance;
  a->postings = s->postings;
  a->open = s->open;
  a->version = version;
  return 0;
}

static inline ex_account ex_read(es_app *app, const char *key) {
  ex_account a;
  memset(&a, 0, sizeof a);
  cr_assert_eq(
      es_app_read_state(app, &ledger_account_aggregate, key, ex_account_fn, &a),
      0);
  return a;
}

#endif
