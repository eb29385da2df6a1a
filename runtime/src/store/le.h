/*
 * le.h - little-endian integers in the files of the embedded log (its
 * segments, indexes and command index images), whatever the host's order.
 *
 * Internal to libes.
 */
#ifndef ES__LE_H
#define ES__LE_H

#include <stdint.h>

static inline void es__put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static inline void es__put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static inline void es__put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t es__get16(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static inline uint32_t es__get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static inline uint64_t es__get64(const uint8_t *p) {
  return (uint64_t)es__get32(p) | (uint64_t)es__get32(p + 4) << 32;
}

#endif
