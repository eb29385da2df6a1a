/*
 * store_util.h - helpers shared by the store implementations: randomness
 * for event ids, the clock, and the expectation check.
 *
 * Internal to libes.
 */
#ifndef ES__STORE_UTIL_H
#define ES__STORE_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "es/es_store.h"
#include "store/wait.h" /* the waiting helpers, once declared here */

/* xoshiro256** state; not thread-safe: the owner locks. */
uint64_t es__rng_next(uint64_t s[4]);

/* Seeds from /dev/urandom; without it, from the clock, pid and `salt`. */
void es__rng_seed(uint64_t s[4], const void *salt);

/* CLOCK_REALTIME in microseconds. */
es_timestamp es__now_us(void);

int es__uuid_is_zero(const es_uuid *u);

/* A version 7 uuid (RFC 9562) for time `ts`. */
void es__uuid_v7(es_uuid *u, uint64_t rng[4], es_timestamp ts);

/* True when a stream at version `cur` meets `e`. */
int es__expectation_holds(es_expected e, uint64_t cur);

/* An append's check of stream `i` of `g`, at version `cur`: 0 when its
 * expectation holds, else ES_ECONFLICT with `res->conflict` = `i` and
 * `res->actual_version` = `cur`. */
int es__append_expectation(const es_append_stream *g, uint32_t i, uint64_t cur,
                           es_append_result *res);

/* Writes "type\0key" into `out` and returns its length (excluding the
 * final NUL). Names are already checked, so it fits. */
size_t es__stream_id(char out[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2],
                     const char *type, const char *key);

/* The last index to read from [from, have] when at most `max` (0: all). */
uint64_t es__read_end(uint64_t from, uint64_t have, uint32_t max);

/* The store's clock: its options' now_us, else CLOCK_REALTIME. */
es_timestamp es__store_now(const es_store *s);

/* Fills the 0 limits of `o` with the defaults. */
void es__store_defaults(es_store_options *o);

/* A lease as stores hand it out; an implementation embeds it first. A
 * store without leases hands out one with NULL functions (always held). */
struct es_lease {
  int (*check)(es_lease *l);
  void (*release)(es_lease *l);
};

/* Logs at INFO that `s` is open: its kind, `path` (NULL: none), head
 * position and the microseconds the open took since `t0_us`
 * (es_obs_now_us()). */
void es__store_log_opened(es_store *s, const char *path, uint64_t t0_us);

#endif
