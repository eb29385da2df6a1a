/*
 * crc32c.c - CRC-32C: the SSE4.2 crc32 instruction on x86-64 CPUs that
 * have it, else a table eight bytes a step (slicing-by-8).
 *
 * The choice and the tables are made at first use, once (pthread_once), so
 * any thread may call first. es__crc32c_sw() is always the table version
 * (the tests compare the two).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "util/crc32c.h"

#define CRC32C_POLY 0x82F63B78u

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRC32C_HW 1
#include <nmmintrin.h>
#endif

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int use_hw;

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
#ifdef CRC32C_HW
  __builtin_cpu_init();
  use_hw = __builtin_cpu_supports("sse4.2") != 0;
#endif
}

static uint32_t crc_sw(uint32_t crc, const uint8_t *b, size_t len) {
  uint32_t c = ~crc;
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

#ifdef CRC32C_HW
/* x86-64 is little-endian and loads unaligned words at full speed, so an
 * 8-byte load (memcpy) is the same eight bytes in the order the reflected
 * CRC takes them, wherever they start. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const uint8_t *b, size_t len) {
  uint64_t c = ~crc;
  while (len >= 32) {
    uint64_t w[4];
    memcpy(w, b, sizeof w);
    c = _mm_crc32_u64(c, w[0]);
    c = _mm_crc32_u64(c, w[1]);
    c = _mm_crc32_u64(c, w[2]);
    c = _mm_crc32_u64(c, w[3]);
    b += 32;
    len -= 32;
  }
  while (len >= 8) {
    uint64_t w;
    memcpy(&w, b, sizeof w);
    c = _mm_crc32_u64(c, w);
    b += 8;
    len -= 8;
  }
  if (len >= 4) {
    uint32_t w;
    memcpy(&w, b, sizeof w);
    c = _mm_crc32_u32((uint32_t)c, w);
    b += 4;
    len -= 4;
  }
  while (len--)
    c = _mm_crc32_u8((uint32_t)c, *b++);
  return ~(uint32_t)c;
}
#endif

/* Set (release) once table_init() has run: later calls skip pthread_once. */
static atomic_int ready;

static void table_init_once(void) {
  table_init();
  atomic_store_explicit(&ready, 1, memory_order_release);
}

uint32_t es__crc32c(uint32_t crc, const void *p, size_t len) {
  if (!atomic_load_explicit(&ready, memory_order_acquire))
    pthread_once(&table_once, table_init_once);
#ifdef CRC32C_HW
  if (use_hw)
    return crc_hw(crc, p, len);
#endif
  return crc_sw(crc, p, len);
}

uint32_t es__crc32c_sw(uint32_t crc, const void *p, size_t len) {
  pthread_once(&table_once, table_init_once);
  return crc_sw(crc, p, len);
}

int es__crc32c_hw(void) {
  pthread_once(&table_once, table_init_once);
  return use_hw;
}
