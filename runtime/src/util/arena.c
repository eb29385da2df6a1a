/*
 * arena.c - chunked bump allocator.
 *
 * Chunks start at ES__ARENA_FIRST bytes and double up to ES__ARENA_MAX so a
 * small value costs one small malloc and a large one O(log n) mallocs; a
 * request bigger than the next chunk gets a chunk of its own, linked behind
 * the head so the head's free space is not abandoned. `reserved` counts
 * every byte malloc'd (headers included), which is what `limit` caps.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_arena.h"
#include "util/alloc.h"

#define ES__ARENA_ALIGN alignof(max_align_t)
#define ES__ARENA_FIRST ((size_t)4096)
#define ES__ARENA_MAX ((size_t)1 << 20)

struct es__arena_chunk {
  es__arena_chunk *next;
  size_t size; /* usable bytes at `data` */
  size_t used;
  max_align_t data[]; /* the flexible member gives `data` max alignment */
};

void es_arena_init(es_arena *a, size_t limit) {
  a->head = NULL;
  a->used = 0;
  a->reserved = 0;
  a->limit = limit ? limit : ES_ARENA_DEFAULT_LIMIT;
}

void es_arena_close(es_arena *a) {
  es__arena_chunk *c, *next;

  if (!a)
    return;
  for (c = a->head; c; c = next) {
    next = c->next;
    es__free(c);
  }
  a->head = NULL;
  a->used = 0;
  a->reserved = 0;
}

void es_arena_reset(es_arena *a) {
  es__arena_chunk *c, *next, *keep = NULL;

  for (c = a->head; c; c = c->next)
    if (!keep || c->size > keep->size)
      keep = c;
  for (c = a->head; c; c = next) {
    next = c->next;
    if (c != keep)
      es__free(c);
  }
  a->head = keep;
  a->used = 0;
  a->reserved = 0;
  if (keep) {
    keep->next = NULL;
    keep->used = 0;
    a->reserved = sizeof(*keep) + keep->size;
  }
}

/* Adds a chunk able to hold `size` bytes; NULL when the limit or malloc
 * refuses. `size` is already rounded to ES__ARENA_ALIGN. */
static es__arena_chunk *arena_grow(es_arena *a, size_t size) {
  const size_t hdr = sizeof(es__arena_chunk);
  size_t limit = a->limit ? a->limit : ES_ARENA_DEFAULT_LIMIT;
  size_t want, room;
  es__arena_chunk *c;
  int oversized;

  if (a->reserved > limit)
    return NULL;
  room = limit - a->reserved;
  if (room < hdr || size > room - hdr)
    return NULL;
  room -= hdr;

  want = ES__ARENA_FIRST;
  if (a->head) {
    want =
        a->head->size <= ES__ARENA_MAX / 2 ? a->head->size * 2 : ES__ARENA_MAX;
    if (want < ES__ARENA_FIRST)
      want = ES__ARENA_FIRST;
  }
  oversized = size > want;
  if (oversized)
    want = size;
  if (want > room) /* near the limit, a smaller chunk still serves `size` */
    want = size;

  c = es__malloc(hdr + want);
  if (!c)
    return NULL;
  c->size = want;
  c->used = 0;
  a->reserved += hdr + want;
  if (oversized && a->head) {
    c->next = a->head->next;
    a->head->next = c;
  } else {
    c->next = a->head;
    a->head = c;
  }
  return c;
}

void *es_arena_alloc(es_arena *a, size_t size) {
  es__arena_chunk *c;
  void *p;

  /* A zero size still takes one aligned slot, so each result is unique. */
  if (size == 0)
    size = 1;
  if (size > SIZE_MAX - (ES__ARENA_ALIGN - 1))
    return NULL;
  size = (size + ES__ARENA_ALIGN - 1) & ~(ES__ARENA_ALIGN - 1);

  c = a->head;
  if (!c || c->size - c->used < size) {
    c = arena_grow(a, size);
    if (!c)
      return NULL;
  }
  p = (unsigned char *)c->data + c->used;
  c->used += size;
  a->used += size;
  return p;
}

void *es_arena_alloc_array(es_arena *a, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size)
    return NULL;
  return es_arena_alloc(a, n * size);
}

void *es_arena_calloc(es_arena *a, size_t n, size_t size) {
  void *p;

  if (size && n > SIZE_MAX / size)
    return NULL;
  p = es_arena_alloc(a, n * size);
  if (p)
    memset(p, 0, n * size);
  return p;
}

char *es_arena_strndup(es_arena *a, const char *s, size_t len) {
  char *p;

  if ((!s && len) || len == SIZE_MAX)
    return NULL;
  p = es_arena_alloc(a, len + 1);
  if (!p)
    return NULL;
  if (len)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *es_arena_strdup(es_arena *a, const char *s) {
  if (!s)
    return NULL;
  return es_arena_strndup(a, s, strlen(s));
}

void *es_arena_memdup(es_arena *a, const void *p, size_t len) {
  void *d;

  if (!p && len)
    return NULL;
  d = es_arena_alloc(a, len);
  if (d && len)
    memcpy(d, p, len);
  return d;
}

/* Includes the padding that rounds each allocation to max alignment. */
size_t es_arena_used(const es_arena *a) { return a->used; }
