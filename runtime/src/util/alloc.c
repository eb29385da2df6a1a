/*
 * alloc.c - the allocator seam: every allocation libes makes comes here,
 * and from here goes to the C library or to the functions the user gave
 * es_set_allocator() (the design of libuv's uv_replace_allocator).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_alloc.h"
#include "es/es_error.h"
#include "util/alloc.h"

typedef struct es__allocator {
  es_malloc_fn malloc_fn;
  es_calloc_fn calloc_fn;
  es_realloc_fn realloc_fn;
  es_free_fn free_fn;
} es__allocator;

static es__allocator es__alloc = {malloc, calloc, realloc, free};

int es_set_allocator(es_malloc_fn malloc_fn, es_calloc_fn calloc_fn,
                     es_realloc_fn realloc_fn, es_free_fn free_fn) {
  if (!malloc_fn && !calloc_fn && !realloc_fn && !free_fn) {
    es__alloc = (es__allocator){malloc, calloc, realloc, free};
    return ES_OK;
  }
  if (!malloc_fn || !calloc_fn || !realloc_fn || !free_fn)
    return ES_EINVAL;
  es__alloc = (es__allocator){malloc_fn, calloc_fn, realloc_fn, free_fn};
  return ES_OK;
}

void *es__malloc(size_t size) { return es__alloc.malloc_fn(size); }

void *es__calloc(size_t count, size_t size) {
  return es__alloc.calloc_fn(count, size);
}

void *es__realloc(void *ptr, size_t size) {
  if (size == 0) {
    es__free(ptr);
    return NULL;
  }
  return es__alloc.realloc_fn(ptr, size);
}

void es__free(void *ptr) {
  int saved = errno;
  if (ptr)
    es__alloc.free_fn(ptr);
  errno = saved;
}

char *es__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = es__malloc(n);
  if (copy)
    memcpy(copy, s, n);
  return copy;
}

int es__grow_array(void *array, uint64_t *cap, uint64_t need, size_t size) {
  uint64_t c = *cap ? *cap : 16;
  void *old, *p;

  if (need <= *cap)
    return 0;
  while (c < need)
    c *= 2;
  if (c > SIZE_MAX / size)
    return ES_ENOMEM;
  memcpy(&old, array, sizeof old); /* any object pointer, as void * */
  p = es__realloc(old, (size_t)c * size);
  if (!p)
    return ES_ENOMEM;
  memcpy(array, &p, sizeof p);
  *cap = c;
  return 0;
}
