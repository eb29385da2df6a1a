/*
 * subscription.c - reading the global order after a position, filtered by
 * event type, with waiting instead of polling.
 */
#include <stdlib.h>
#include <string.h>

#include "es/es_error.h"
#include "es/es_subscription.h"
#include "util/alloc.h"

#define DEFAULT_BATCH 512

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

int es_subscription_init(es_subscription *sub, es_store *store,
                         uint64_t position, const uint64_t *types, size_t n) {
  memset(sub, 0, sizeof *sub);
  if (!store || (n && !types))
    return ES_EINVAL;
  sub->store = store;
  sub->position = position;
  if (n) {
    sub->types = es__malloc(n * sizeof *sub->types);
    if (!sub->types)
      return ES_ENOMEM;
    memcpy(sub->types, types, n * sizeof *sub->types);
    qsort(sub->types, n, sizeof *sub->types, cmp_u64);
    sub->n_types = n;
  }
  return 0;
}

void es_subscription_close(es_subscription *sub) {
  if (!sub)
    return;
  es__free(sub->types);
  sub->types = NULL;
  sub->n_types = 0;
}

typedef struct poll_ctx {
  es_subscription *sub;
  es_event_fn fn;
  void *ctx;
  uint32_t delivered;
} poll_ctx;

static int one(const es_stored_event *ev, void *arg) {
  poll_ctx *p = arg;
  es_subscription *sub = p->sub;
  if (!sub->types || bsearch(&ev->meta.type_id, sub->types, sub->n_types,
                             sizeof *sub->types, cmp_u64)) {
    int rc = p->fn(ev, p->ctx);
    if (rc != 0)
      return rc;
    p->delivered++;
  }
  sub->position = ev->meta.position;
  return 0;
}

int es_subscription_poll(es_subscription *sub, uint32_t max, es_event_fn fn,
                         void *ctx, uint32_t *delivered) {
  poll_ctx p = {sub, fn, ctx, 0};
  int rc;
  if (delivered)
    *delivered = 0;
  if (!sub || !sub->store || !fn)
    return ES_EINVAL;
  rc = es_store_read_all(sub->store, sub->position + 1,
                         max ? max : DEFAULT_BATCH, one, &p);
  if (delivered)
    *delivered = p.delivered;
  return rc;
}

int es_subscription_wait(es_subscription *sub, int64_t timeout_us) {
  uint64_t head;
  if (!sub || !sub->store)
    return ES_EINVAL;
  return es_store_wait(sub->store, sub->position, timeout_us, &head);
}

int es_subscription_behind(es_subscription *sub, uint64_t *lag) {
  uint64_t head;
  int rc;
  if (!sub || !sub->store)
    return ES_EINVAL;
  rc = es_store_head(sub->store, &head);
  if (rc != 0)
    return rc;
  if (lag)
    *lag = head > sub->position ? head - sub->position : 0;
  return head > sub->position;
}
