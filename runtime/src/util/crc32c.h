/*
 * crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of the embedded log's records and blob files.
 *
 * Internal to libes. crc32c("123456789") == 0xE3069283. On x86-64 CPUs with
 * SSE4.2 it uses the crc32 instruction (chosen at run time), elsewhere a
 * table (slicing-by-8); both give the same results.
 */
#ifndef ES__CRC32C_H
#define ES__CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues the CRC `crc` (0 to start) over `len` bytes at `p`. Thread-safe;
 * `p` may be NULL when `len` is 0. */
uint32_t es__crc32c(uint32_t crc, const void *p, size_t len);

/* The same, always with the table (for tests). */
uint32_t es__crc32c_sw(uint32_t crc, const void *p, size_t len);

/* 1 when es__crc32c() uses the crc32 instruction, else 0. */
int es__crc32c_hw(void);

#endif
