/*
 * grow.c - growing an array with realloc: see grow.h.
 */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int esc_grow(void *array, size_t *cap, size_t need, size_t size, size_t first) {
  size_t n = *cap ? *cap : first;
  void *old, *p;

  if (need <= *cap)
    return 0;
  while (n < need) {
    if (n > SIZE_MAX / 2)
      return -1;
    n *= 2;
  }
  if (n > SIZE_MAX / size)
    return -1;
  memcpy(&old, array, sizeof old);
  if (!(p = realloc(old, n * size)))
    return -1;
  memcpy(array, &p, sizeof p);
  *cap = n;
  return 0;
}
