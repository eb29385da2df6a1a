/*
 * es_alloc.h - where libes gets its memory.
 *
 * Every allocation libes makes goes through one allocator: the C library's
 * malloc, calloc, realloc and free unless es_set_allocator() replaces
 * them. An embedded program uses this to bound libes's memory or to take it
 * from its own pool; a test uses it to make the Nth allocation fail and
 * check that libes answers ES_ENOMEM and leaks nothing.
 *
 * Memory that libes hands out is always released through libes (es_buf_close,
 * es_arena_close, es_store_close, ...), so the allocator never sees a
 * pointer that another allocator produced, as long as it is set before
 * the first libes call and not changed while libes holds memory.
 *
 * Allocations made inside the C library or another library on libes's
 * behalf (fopen, opendir, pthread_create, libpq, libmicrohttpd) do not go
 * through it. docs/runtime.md ("Memory") has the whole contract.
 */
#ifndef ES_ALLOC_H
#define ES_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The four functions have the C library's contracts: a block is aligned
 * for any object (alignof(max_align_t)); malloc(0) and calloc(n, 0) may
 * return NULL or a unique pointer; calloc zeroes and checks n * size for
 * overflow; realloc(NULL, n) allocates. libes resizes a block only with
 * the realloc and frees it only with the free of the set that made it,
 * never calls realloc(p, 0) (it frees instead) and never free(NULL).
 * Each must be safe to call from several threads at once: libes's
 * runners and the log store's writer allocate on their own threads. */
typedef void *(*es_malloc_fn)(size_t size);
typedef void *(*es_calloc_fn)(size_t count, size_t size);
typedef void *(*es_realloc_fn)(void *ptr, size_t size);
typedef void (*es_free_fn)(void *ptr);

/* Makes libes allocate through the four functions given, or through the C
 * library again when all four are NULL. Call it before any other libes
 * function, or at a moment when libes holds no memory (every store, app,
 * runner, buffer and arena closed): memory from one allocator must not
 * be freed by another. Not thread-safe against concurrent libes calls.
 * Returns ES_OK, or ES_EINVAL (and changes nothing) when some but not all
 * of the functions are NULL. */
int es_set_allocator(es_malloc_fn malloc_fn, es_calloc_fn calloc_fn,
                     es_realloc_fn realloc_fn, es_free_fn free_fn);

#ifdef __cplusplus
}
#endif

#endif
