/*
 * leader.c - a runner's lease: take it, keep checking it, give it up.
 */
#include <time.h>

#include "subscribe/leader.h"

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int es__leader_poll(es__leader *l) {
  int64_t now = mono_us();

  if (l->lease) {
    if (now - l->checked < ES__LEADER_RETRY_US)
      return ES__LEADING;
    if (es_store_lease_check(l->lease) == 0) {
      l->checked = now;
      return ES__LEADING;
    }
    es__leader_release(l); /* lost: another process may lead now */
  }
  if (es_store_lease_try(l->store, l->name, &l->lease) != 0)
    return ES__STANDBY;
  l->checked = now;
  return ES__NEW_LEADER;
}

void es__leader_release(es__leader *l) {
  es_store_lease_release(l->lease);
  l->lease = NULL;
}

void es__leader_doubt(es__leader *l) {
  l->checked = INT64_MIN / 2; /* long enough ago: check at the next poll */
}
