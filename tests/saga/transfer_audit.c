/*
 * transfer_audit.c - a bank log's transfers, counted (transfer_audit.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank.es.h"
#include "es/es_error.h"
#include "transfer_audit.h"

int transfer_audit_init(transfer_audit *t, int accounts, size_t max_effects) {
  memset(t, 0, sizeof *t);
  t->accounts = accounts;
  t->max_seen = max_effects;
  t->balance = calloc((size_t)accounts, sizeof *t->balance);
  t->seen = calloc(max_effects, sizeof *t->seen);
  if (!t->balance || !t->seen) {
    transfer_audit_close(t);
    return -1;
  }
  return 0;
}

void transfer_audit_close(transfer_audit *t) {
  if (!t)
    return;
  free(t->balance);
  free(t->seen);
  t->balance = NULL;
  t->seen = NULL;
}

/* Counts effect "<kind>:<transfer>", once; a second sighting is `twice`. */
static int once(transfer_audit *t, char kind, const char *transfer) {
  char k[48];
  snprintf(k, sizeof k, "%c:%s", kind, transfer);
  for (size_t i = 0; i < t->n_seen; i++)
    if (strcmp(t->seen[i], k) == 0) {
      fprintf(stderr, "transfer audit: twice: %s\n", k);
      t->twice++;
      return 0;
    }
  if (t->n_seen == t->max_seen)
    return ES_ERANGE;
  snprintf(t->seen[t->n_seen++], sizeof *t->seen, "%s", k);
  return 0;
}

static int account_of(const transfer_audit *t, const char *key) {
  int n = key[0] == 'k' ? atoi(key + 1) : -1;
  return n >= 0 && n < t->accounts ? n : -1;
}

int transfer_audit_event(const es_stored_event *e, void *ctx) {
  transfer_audit *t = ctx;
  uint64_t type = e->meta.type_id;
  es_arena a;
  int rc = 0, acct = -1;

  if (type == BANK_ACCOUNT_OPENED_TYPE_ID ||
      type == BANK_ACCOUNT_WITHDRAWN_TYPE_ID ||
      type == BANK_ACCOUNT_DEPOSITED_TYPE_ID) {
    if ((acct = account_of(t, e->meta.key)) < 0)
      return ES_ERANGE;
  }
  es_arena_init(&a, 0);
  if (type == BANK_ACCOUNT_OPENED_TYPE_ID) {
    bank_account_opened v;
    if ((rc = bank_account_opened_decode(&v, e->payload, e->len, &a)) == 0)
      t->balance[acct] = v.initial;
  } else if (type == BANK_ACCOUNT_WITHDRAWN_TYPE_ID) {
    bank_account_withdrawn v;
    if ((rc = bank_account_withdrawn_decode(&v, e->payload, e->len, &a)) == 0) {
      t->withdrawn += v.amount;
      t->balance[acct] -= v.amount;
      if (v.has_transfer)
        rc = once(t, 'w', v.transfer);
    }
  } else if (type == BANK_ACCOUNT_DEPOSITED_TYPE_ID) {
    bank_account_deposited v;
    if ((rc = bank_account_deposited_decode(&v, e->payload, e->len, &a)) == 0) {
      t->deposited += v.amount;
      t->balance[acct] += v.amount;
      if (v.has_transfer)
        rc = once(t, 'd', v.transfer);
    }
  } else if (type == BANK_TRANSFER_STARTED_TYPE_ID) {
    t->started++;
  } else if (type == BANK_TRANSFER_COMPLETED_TYPE_ID ||
             type == BANK_TRANSFER_FAILED_TYPE_ID) {
    t->settled++;
    rc = once(t, 's', e->meta.key);
  }
  es_arena_close(&a);
  return rc;
}
