/*
 * hashmap.h - an open-addressing hash table from byte strings to pointers.
 *
 * Internal to libes. Linear probing over a power-of-two table kept at most
 * half full; keys are hashed with SipHash-1-3 under a per-map random key,
 * so keys chosen by an attacker cannot force long probe chains. The map
 * stores key pointers, never copies: a key must stay valid and unchanged
 * for as long as its entry exists (in practice it lives in the value).
 * Entries are never removed. Not thread-safe: the owner locks.
 */
#ifndef ES__HASHMAP_H
#define ES__HASHMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct es__hm_slot {
  uint64_t hash;
  const void *key; /* NULL: empty slot */
  size_t len;
  void *value;
} es__hm_slot;

typedef struct es__hashmap {
  es__hm_slot *slots;
  size_t cap;      /* 0, or a power of two */
  size_t n;        /* entries */
  uint64_t k0, k1; /* the SipHash key */
} es__hashmap;

/* SipHash-1-3 of `len` bytes at `p` under the key (k0, k1). */
uint64_t es__siphash13(uint64_t k0, uint64_t k1, const void *p, size_t len);

/* Prepares an empty map hashing with the key (k0, k1). */
void es__hashmap_init(es__hashmap *m, uint64_t k0, uint64_t k1);

/* Frees the table (not the keys or values). Accepts NULL. */
void es__hashmap_close(es__hashmap *m);

/* The value stored under the `len` bytes at `key`, or NULL. */
void *es__hashmap_get(const es__hashmap *m, const void *key, size_t len);

/* Grows the table so that `extra` more inserts cannot fail. Returns 0 or
 * ES_ENOMEM (the map is unchanged then). */
int es__hashmap_reserve(es__hashmap *m, size_t extra);

/* Stores `value` under `key` (not copied), replacing an existing value.
 * `value` must not be NULL. Returns 0 or ES_ENOMEM (map unchanged); never
 * fails after a successful es__hashmap_reserve() covering it. */
int es__hashmap_put(es__hashmap *m, const void *key, size_t len, void *value);

/* Iteration: start with `*i = 0`; each call returns the next value and
 * advances `*i`, or NULL at the end. */
void *es__hashmap_next(const es__hashmap *m, size_t *i);

#endif
