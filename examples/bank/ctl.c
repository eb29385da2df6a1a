/*
 * ctl.c - bank-ctl: esctl for the bank, built with its schema, so it also
 * folds states (`state Account/alice --at 3`), re-dispatches dead letters
 * and rebuilds the Balances projection with the bank's own functions.
 *
 * The three lines of es_ctl_main() give every command but `rebuild`; the
 * rest of this file is what `rebuild Balances` needs: how to empty the
 * read model, and how to show it. The bank keeps its Balances view in
 * memory with its own checkpoint (see main.c), so a rebuild here builds
 * the view from the whole store and prints it.
 */
#include <es/es_ctl.h>
#include <stdio.h>
#include <string.h>

#include "bank.es.h"
#include "bank_app.h"

static bank_balances_view view;

/* The view's checkpoint lives with it, in memory: 0 in every process. */
static int view_load(void *ctx, uint64_t *position) {
  (void)ctx;
  *position = 0;
  return 0;
}

static int view_commit(void *ctx, uint64_t position) {
  (void)ctx;
  (void)position;
  return 0;
}

static int view_reset(void *ctx) {
  memset(ctx, 0, sizeof view);
  return 0;
}

/* The view as {"alice":130,...}. */
static int view_show(void *ctx, es_buf *out) {
  const bank_balances_view *v = ctx;
  char num[32];
  es_buf_append(out, "{", 1);
  for (uint32_t i = 0; i < v->n; i++) {
    int n = snprintf(num, sizeof num, "%s\"", i ? "," : "");
    es_buf_append(out, num, (size_t)n);
    es_buf_append(out, v->rows[i].key, strlen(v->rows[i].key));
    n = snprintf(num, sizeof num, "\":%lld", (long long)v->rows[i].balance);
    es_buf_append(out, num, (size_t)n);
  }
  es_buf_append(out, "}", 1);
  return out->err;
}

int main(int argc, char **argv) {
  es_ctl_projection balances = {&bank_balances_projection,
                                ES_PROJECTION_OPTIONS_INIT, view_reset,
                                view_show};
  es_ctl_options opt = {&balances, 1};
  balances.options.ctx = &view;
  balances.options.load_position = view_load;
  balances.options.commit = view_commit;
  balances.options.max_attempts = 1;
  return es_ctl_main_with(argc, argv, &bank_schema, &opt);
}
