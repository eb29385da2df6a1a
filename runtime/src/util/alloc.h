/*
 * alloc.h - libes's one allocator (es_alloc.h sets it). Every allocation
 * in libes goes through these; nothing in runtime/src calls malloc, calloc,
 * realloc or free directly.
 */
#ifndef ES__ALLOC_H
#define ES__ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* As malloc, calloc and realloc, through the allocator es_set_allocator()
 * chose. es__realloc(p, 0) frees p and returns NULL. */
void *es__malloc(size_t size);
void *es__calloc(size_t count, size_t size);
void *es__realloc(void *ptr, size_t size);

/* As free; accepts NULL and leaves errno as it was. */
void es__free(void *ptr);

/* A copy of the NUL-terminated `s`, or NULL when allocation fails. */
char *es__strdup(const char *s);

/* Grows the array whose address is at `array` (a `T **`, holding `*cap`
 * elements of `size` bytes) to hold at least `need`, doubling its
 * capacity from 16. On failure the array and `*cap` are as they were.
 * Returns 0 or ES_ENOMEM. */
int es__grow_array(void *array, uint64_t *cap, uint64_t need, size_t size);

#endif
