/*
 * wait.c - waiting for the head of a store to pass a position.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "es/es_error.h"
#include "store/wait.h"

int es__cond_init_monotonic(pthread_cond_t *c) {
  pthread_condattr_t ca;
  int rc = ES_ENOMEM;

  if (pthread_condattr_init(&ca) != 0)
    return rc;
  if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
      pthread_cond_init(c, &ca) == 0)
    rc = 0;
  pthread_condattr_destroy(&ca);
  return rc;
}

void es__deadline_after(struct timespec *ts, int64_t us) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += (time_t)(us / 1000000);
  ts->tv_nsec += (long)(us % 1000000) * 1000;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

int es__wait_head(pthread_mutex_t *mu, pthread_cond_t *grew, const uint64_t *n,
                  const uint64_t *interrupts, uint64_t after,
                  int64_t timeout_us) {
  struct timespec deadline;
  uint64_t gen = *interrupts;

  if (timeout_us > 0)
    es__deadline_after(&deadline, timeout_us);
  while (*n <= after) {
    if (*interrupts != gen)
      return ES_EINTERRUPTED;
    if (timeout_us == 0)
      return ES_ETIMEDOUT;
    if (timeout_us < 0) {
      pthread_cond_wait(grew, mu);
    } else if (pthread_cond_timedwait(grew, mu, &deadline) == ETIMEDOUT &&
               *n <= after) {
      return *interrupts != gen ? ES_EINTERRUPTED : ES_ETIMEDOUT;
    }
  }
  return 0;
}

void es__interrupt_waiters(pthread_cond_t *grew, uint64_t *interrupts) {
  (*interrupts)++;
  pthread_cond_broadcast(grew);
}
