/*
 * wait.h - what the stores share for es_store_wait() and
 * es_store_interrupt(): waiters block on a condition variable timed
 * against CLOCK_MONOTONIC until the head passes a position, a timeout
 * ends or an interrupt comes.
 *
 * Internal to libes.
 */
#ifndef ES__STORE_WAIT_H
#define ES__STORE_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Initialises `c` to time its waits against CLOCK_MONOTONIC (a wall-clock
 * jump must not stretch or cut a timeout). Returns 0 or ES_ENOMEM. */
int es__cond_init_monotonic(pthread_cond_t *c);

/* `*ts` = CLOCK_MONOTONIC's now plus `us` (>= 0): a deadline for
 * pthread_cond_timedwait() on a condition from es__cond_init_monotonic(). */
void es__deadline_after(struct timespec *ts, int64_t us);

/* es_store_wait()'s loop, for a store whose head is `*n` and whose
 * interrupt count is `*interrupts`, both guarded by `mu`, which the caller
 * holds; `grew` is broadcast on every append and interrupt. Returns 0,
 * ES_ETIMEDOUT or ES_EINTERRUPTED; `mu` is held again on return. */
int es__wait_head(pthread_mutex_t *mu, pthread_cond_t *grew, const uint64_t *n,
                  const uint64_t *interrupts, uint64_t after,
                  int64_t timeout_us);

/* es_store_interrupt(): counts one more interrupt in `*interrupts` and
 * wakes every waiter on `grew`. The caller holds the mutex guarding both. */
void es__interrupt_waiters(pthread_cond_t *grew, uint64_t *interrupts);

#endif
