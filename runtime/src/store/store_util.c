/*
 * store_util.c - helpers shared by the store implementations.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "es/es_error.h"
#include "store/store_util.h"

/* ---- randomness and time ---------------------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t es__rng_next(uint64_t s[4]) {
  uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return r;
}

es_timestamp es__now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (es_timestamp)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Seeds from /dev/urandom; without it, from the clock, pid and an address
 * (ids then stay unique in practice but become guessable). */
void es__rng_seed(uint64_t s[4], const void *salt) {
  uint64_t seed = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t got = -1;

  if (fd >= 0) {
    do
      got = read(fd, &seed, sizeof seed);
    while (got < 0 && errno == EINTR);
    close(fd);
  }
  if (got != (ssize_t)sizeof seed) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed ^= (uint64_t)es__now_us() ^ (uint64_t)ts.tv_nsec << 20 ^
            (uint64_t)getpid() << 40 ^ (uint64_t)(uintptr_t)salt;
  }
  for (int i = 0; i < 4; i++)
    s[i] = splitmix64(&seed);
}

int es__uuid_is_zero(const es_uuid *u) {
  for (int i = 0; i < 16; i++)
    if (u->bytes[i])
      return 0;
  return 1;
}

/* A version 7 uuid (RFC 9562): 48 bits of Unix milliseconds, then random
 * bits, so ids sort roughly by creation time. */
void es__uuid_v7(es_uuid *u, uint64_t rng[4], es_timestamp ts) {
  uint64_t ms = (uint64_t)(ts / 1000), r1 = es__rng_next(rng),
           r2 = es__rng_next(rng);

  for (int i = 0; i < 6; i++)
    u->bytes[i] = (uint8_t)(ms >> (40 - 8 * i));
  for (int i = 6; i < 8; i++)
    u->bytes[i] = (uint8_t)(r1 >> (8 * i));
  for (int i = 8; i < 16; i++)
    u->bytes[i] = (uint8_t)(r2 >> (8 * (i - 8)));
  u->bytes[6] = (uint8_t)(0x70 | (u->bytes[6] & 0x0f));
  u->bytes[8] = (uint8_t)(0x80 | (u->bytes[8] & 0x3f));
}

int es__expectation_holds(es_expected e, uint64_t cur) {
  switch (e.kind) {
  case ES_EXPECT_ANY:
    return 1;
  case ES_EXPECT_NO_STREAM:
    return cur == 0;
  case ES_EXPECT_EXISTS:
    return cur > 0;
  default:
    return cur == e.version;
  }
}

int es__append_expectation(const es_append_stream *g, uint32_t i, uint64_t cur,
                           es_append_result *res) {
  if (es__expectation_holds(g[i].expected, cur))
    return 0;
  res->conflict = i;
  res->actual_version = cur;
  return ES_ECONFLICT;
}

size_t es__stream_id(char out[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2],
                     const char *type, const char *key) {
  size_t tl = strlen(type), kl = strlen(key);
  memcpy(out, type, tl + 1);
  memcpy(out + tl + 1, key, kl + 1);
  return tl + 1 + kl;
}

uint64_t es__read_end(uint64_t from, uint64_t have, uint32_t max) {
  if (max && have - from >= max)
    return from + max - 1;
  return have;
}

void es__store_defaults(es_store_options *o) {
  if (!o->max_event_size)
    o->max_event_size = ES_STORE_DEFAULT_MAX_EVENT;
  if (!o->max_blob_size)
    o->max_blob_size = ES_STORE_DEFAULT_MAX_BLOB;
  if (!o->max_append_events)
    o->max_append_events = ES_STORE_DEFAULT_MAX_APPEND_EVENTS;
  if (!o->command_retention_us)
    o->command_retention_us = ES_STORE_DEFAULT_COMMAND_RETENTION_US;
}

es_timestamp es__store_now(const es_store *s) {
  return s->opt.now_us ? s->opt.now_us(s->opt.clock_ctx) : es__now_us();
}
