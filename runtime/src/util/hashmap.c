/*
 * hashmap.c - open addressing with linear probing, SipHash-1-3 keyed.
 */
#include <stdlib.h>
#include <string.h>

#include "es/es_error.h"
#include "util/alloc.h"
#include "util/hashmap.h"

#define HM_FIRST ((size_t)16)

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
  do {                                                                         \
    v0 += v1;                                                                  \
    v1 = ROTL(v1, 13);                                                         \
    v1 ^= v0;                                                                  \
    v0 = ROTL(v0, 32);                                                         \
    v2 += v3;                                                                  \
    v3 = ROTL(v3, 16);                                                         \
    v3 ^= v2;                                                                  \
    v0 += v3;                                                                  \
    v3 = ROTL(v3, 21);                                                         \
    v3 ^= v0;                                                                  \
    v2 += v1;                                                                  \
    v1 = ROTL(v1, 17);                                                         \
    v1 ^= v2;                                                                  \
    v2 = ROTL(v2, 32);                                                         \
  } while (0)

static uint64_t load_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

uint64_t es__siphash13(uint64_t k0, uint64_t k1, const void *data, size_t len) {
  const uint8_t *p = data;
  uint64_t v0 = 0x736f6d6570736575ull ^ k0;
  uint64_t v1 = 0x646f72616e646f6dull ^ k1;
  uint64_t v2 = 0x6c7967656e657261ull ^ k0;
  uint64_t v3 = 0x7465646279746573ull ^ k1;
  uint64_t m, b = (uint64_t)len << 56;
  size_t i, whole = len & ~(size_t)7;

  for (i = 0; i < whole; i += 8) {
    m = load_le64(p + i);
    v3 ^= m;
    SIPROUND;
    v0 ^= m;
  }
  for (size_t j = 0; i + j < len; j++)
    b |= (uint64_t)p[i + j] << (8 * j);
  v3 ^= b;
  SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

void es__hashmap_init(es__hashmap *m, uint64_t k0, uint64_t k1) {
  m->slots = NULL;
  m->cap = 0;
  m->n = 0;
  m->k0 = k0;
  m->k1 = k1;
}

void es__hashmap_close(es__hashmap *m) {
  if (!m)
    return;
  es__free(m->slots);
  m->slots = NULL;
  m->cap = 0;
  m->n = 0;
}

/* The slot holding `key`, or the empty slot where it would go. */
static es__hm_slot *find_slot(es__hm_slot *slots, size_t cap, uint64_t h,
                              const void *key, size_t len) {
  size_t mask = cap - 1, i = (size_t)h & mask;

  for (;;) {
    es__hm_slot *s = &slots[i];
    if (!s->key)
      return s;
    if (s->hash == h && s->len == len &&
        (len == 0 || memcmp(s->key, key, len) == 0))
      return s;
    i = (i + 1) & mask;
  }
}

void *es__hashmap_get(const es__hashmap *m, const void *key, size_t len) {
  uint64_t h;

  if (!m->n)
    return NULL;
  h = es__siphash13(m->k0, m->k1, key, len);
  return find_slot(m->slots, m->cap, h, key, len)->value;
}

static int rehash(es__hashmap *m, size_t cap) {
  es__hm_slot *slots = es__calloc(cap, sizeof *slots);

  if (!slots)
    return ES_ENOMEM;
  for (size_t i = 0; i < m->cap; i++) {
    es__hm_slot *s = &m->slots[i];
    if (s->key)
      *find_slot(slots, cap, s->hash, s->key, s->len) = *s;
  }
  es__free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return 0;
}

int es__hashmap_reserve(es__hashmap *m, size_t extra) {
  size_t need, cap;

  if (extra > SIZE_MAX / 2 - m->n)
    return ES_ENOMEM;
  need = (m->n + extra) * 2; /* at most half full */
  if (need <= m->cap)
    return 0;
  cap = m->cap ? m->cap : HM_FIRST;
  while (cap < need) {
    if (cap > SIZE_MAX / 2 / sizeof(es__hm_slot))
      return ES_ENOMEM;
    cap *= 2;
  }
  return rehash(m, cap);
}

int es__hashmap_put(es__hashmap *m, const void *key, size_t len, void *value) {
  uint64_t h = es__siphash13(m->k0, m->k1, key, len);
  es__hm_slot *s;
  int rc;

  if (m->cap) {
    s = find_slot(m->slots, m->cap, h, key, len);
    if (s->key) {
      s->value = value;
      return 0;
    }
  }
  rc = es__hashmap_reserve(m, 1);
  if (rc)
    return rc;
  s = find_slot(m->slots, m->cap, h, key, len);
  s->hash = h;
  s->key = key;
  s->len = len;
  s->value = value;
  m->n++;
  return 0;
}

void *es__hashmap_next(const es__hashmap *m, size_t *i) {
  while (*i < m->cap) {
    es__hm_slot *s = &m->slots[(*i)++];
    if (s->key)
      return s->value;
  }
  return NULL;
}
