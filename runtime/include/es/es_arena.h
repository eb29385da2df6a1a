/*
 * es_arena.h - bump allocation with one free.
 *
 * Decoders put every string, byte string and list they produce into an
 * arena the caller provides, so a decoded value needs no per-field free:
 * es_arena_reset() or es_arena_close() releases all of it at once.
 * An arena has a byte limit; an allocation past it fails with NULL.
 */
#ifndef ES_ARENA_H
#define ES_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Used when es_arena_init() is given a limit of 0. */
#define ES_ARENA_DEFAULT_LIMIT ((size_t)64 << 20)

typedef struct es__arena_chunk es__arena_chunk;

/* Caller-owned; fields are private. */
typedef struct es_arena {
  es__arena_chunk *head; /* newest chunk, the one being filled */
  size_t used;           /* bytes handed out since the last reset */
  size_t reserved;       /* bytes held in chunks */
  size_t limit;          /* maximum of `reserved` */
} es_arena;

#define ES_ARENA_INIT                                                          \
  { NULL, 0, 0, ES_ARENA_DEFAULT_LIMIT }

/* Prepares `a`; `limit` caps the memory it may hold (0: the default). */
void es_arena_init(es_arena *a, size_t limit);

/* Releases everything `a` holds; `a` may be reused after es_arena_init().
 * Accepts NULL. */
void es_arena_close(es_arena *a);

/* Forgets every allocation but keeps the largest chunk for reuse. */
void es_arena_reset(es_arena *a);

/* `size` bytes aligned for any type, or NULL when the limit or malloc
 * refuses. A zero size returns a valid unique pointer. */
void *es_arena_alloc(es_arena *a, size_t size);

/* `n * size` bytes (not zeroed), with overflow checked; NULL on failure.
 * Decoders use it for list items. */
void *es_arena_alloc_array(es_arena *a, size_t n, size_t size);

/* `n * size` bytes, zeroed, with overflow checked; NULL on failure. */
void *es_arena_calloc(es_arena *a, size_t n, size_t size);

/* A NUL-terminated copy of `len` bytes at `s`; NULL on failure. */
char *es_arena_strndup(es_arena *a, const char *s, size_t len);

/* A NUL-terminated copy of `s`; NULL on failure or when `s` is NULL. */
char *es_arena_strdup(es_arena *a, const char *s);

/* A copy of `len` bytes; NULL on failure. */
void *es_arena_memdup(es_arena *a, const void *p, size_t len);

/* Bytes handed out since the last reset (what the values occupy). */
size_t es_arena_used(const es_arena *a);

#ifdef __cplusplus
}
#endif
#endif
