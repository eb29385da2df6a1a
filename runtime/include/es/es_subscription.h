/*
 * es_subscription.h - following the global order of a store.
 *
 * A subscription reads events after a position, in order, keeping only
 * the event types it was given, and can wait (without polling) for more.
 * Projections and sagas are built on it. It remembers the position of
 * the last event it read, whether kept or not, so a reader that stores
 * that position resumes exactly after it.
 */
#ifndef ES_SUBSCRIPTION_H
#define ES_SUBSCRIPTION_H

#include <stddef.h>
#include <stdint.h>

#include "es_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caller-owned; read `position`, change it only through the functions. */
typedef struct es_subscription {
  es_store *store;
  uint64_t position; /* the last event read (0: none yet) */
  uint64_t *types;   /* sorted type ids kept; NULL: every type */
  size_t n_types;
} es_subscription;

/* Prepares `sub` to read the events of `types` (n of them; NULL, 0: all)
 * after `position`. The list is copied. Returns 0 or ES_ENOMEM. */
int es_subscription_init(es_subscription *sub, es_store *store,
                         uint64_t position, const uint64_t *types, size_t n);

/* Frees what `sub` holds. Accepts NULL. */
void es_subscription_close(es_subscription *sub);

/* Reads up to `max` events (0: a default batch) after `position` and
 * passes those of the kept types to `fn`. `position` advances past every
 * event read; when `fn` returns non-zero, reading stops and `position`
 * stays before that event, so it is delivered again next time. Returns
 * 0 or the first non-zero from `fn` or the store; `*delivered` (may be
 * NULL) counts the events `fn` accepted. Returns with nothing read when
 * the subscription is caught up. */
int es_subscription_poll(es_subscription *sub, uint32_t max, es_event_fn fn,
                         void *ctx, uint32_t *delivered);

/* Waits up to `timeout_us` (negative: no limit) for events after
 * `position`. 0 when there are some, ES_ETIMEDOUT, or ES_EINTERRUPTED
 * after es_store_interrupt(). */
int es_subscription_wait(es_subscription *sub, int64_t timeout_us);

/* Whether events after `position` exist now; `*lag` (may be NULL) is how
 * many positions the subscription is behind the store's head. */
int es_subscription_behind(es_subscription *sub, uint64_t *lag);

#ifdef __cplusplus
}
#endif
#endif
