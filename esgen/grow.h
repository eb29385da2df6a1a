/*
 * grow.h - growing an array with realloc: the one way esgen's lists,
 * pools and texts make room.
 */
#ifndef ESC_GROW_H
#define ESC_GROW_H

#include <stddef.h>

/* Makes the array whose address is at `array` (a `T **` holding `*cap`
 * elements of `size` bytes) hold at least `need`: its capacity doubles,
 * from `first` when it is 0, until `need` fits. On failure (no memory, or
 * a size past SIZE_MAX) the array and `*cap` are as they were. Returns 0
 * or -1. */
int esc_grow(void *array, size_t *cap, size_t need, size_t size, size_t first);

#endif
