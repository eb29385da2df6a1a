/*
 * crc32c.c - table-driven CRC-32C, eight bytes a step (slicing-by-8).
 *
 * The tables are built at first use, once (pthread_once), so any thread
 * may call first.
 */
#include <pthread.h>

#include "crc32c.h"

#define CRC32C_POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1u)));
    table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t es__crc32c(uint32_t crc, const void *p, size_t len) {
  const uint8_t *b = p;
  uint32_t c = ~crc;

  pthread_once(&table_once, table_init);
  while (len >= 8) {
    uint32_t lo = c ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 |
                       (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
        table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^ table[3][b[4]] ^
        table[2][b[5]] ^ table[1][b[6]] ^ table[0][b[7]];
    b += 8;
    len -= 8;
  }
  while (len--)
    c = (c >> 8) ^ table[0][(c ^ *b++) & 0xff];
  return ~c;
}
