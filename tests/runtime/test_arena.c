/*
 * test_arena.c - the bump allocator: alignment, limits, reset, copies.
 */
#include <criterion/criterion.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_arena.h"

#define ALIGN alignof(max_align_t)

static es_arena a;

static void setup(void) { es_arena_init(&a, 0); }
static void teardown(void) { es_arena_close(&a); }

TestSuite(arena, .init = setup, .fini = teardown, .timeout = 10);

Test(arena, init_sets_default_limit) {
  es_arena b;
  es_arena_init(&b, 0);
  cr_assert_eq(b.limit, ES_ARENA_DEFAULT_LIMIT);
  cr_assert_eq(b.reserved, 0);
  cr_assert_eq(es_arena_used(&b), 0);
  es_arena_init(&b, 1234);
  cr_assert_eq(b.limit, 1234);
}

Test(arena, static_initializer_is_usable) {
  es_arena s = ES_ARENA_INIT;
  char *p = es_arena_strdup(&s, "hello");
  cr_assert_str_eq(p, "hello");
  es_arena_close(&s);
  cr_assert_null(s.head);
  cr_assert_eq(s.reserved, 0);
}

Test(arena, results_are_max_aligned) {
  static const size_t sizes[] = {1,  2,  3,   7,    8,    9,    15,   16,
                                 17, 31, 100, 4095, 4096, 4097, 5000, 70000};
  for (int round = 0; round < 3; round++)
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      void *p = es_arena_alloc(&a, sizes[i]);
      cr_assert_not_null(p);
      cr_assert_eq((uintptr_t)p % ALIGN, 0, "size %zu: %p", sizes[i], p);
      memset(p, 0xee, sizes[i]);
    }
}

Test(arena, zero_size_gives_unique_valid_pointers) {
  void *p = es_arena_alloc(&a, 0);
  void *q = es_arena_alloc(&a, 0);
  cr_assert_not_null(p);
  cr_assert_not_null(q);
  cr_assert_neq(p, q);
  cr_assert_eq((uintptr_t)p % ALIGN, 0);
}

Test(arena, used_counts_rounded_sizes) {
  es_arena_alloc(&a, 1);
  cr_assert_eq(es_arena_used(&a), ALIGN);
  es_arena_alloc(&a, ALIGN);
  cr_assert_eq(es_arena_used(&a), 2 * ALIGN);
  es_arena_alloc(&a, ALIGN + 1);
  cr_assert_eq(es_arena_used(&a), 4 * ALIGN);
  cr_assert_geq(a.reserved, es_arena_used(&a));
}

/* Many allocations of varied sizes never overlap: each keeps its pattern. */
Test(arena, allocations_do_not_overlap) {
  enum { N = 2000 };
  static unsigned char *ptrs[N];
  static size_t lens[N];
  for (size_t i = 0; i < N; i++) {
    lens[i] = (i * 7919) % 3000 + 1;
    if (i % 97 == 0)
      lens[i] = 300000; /* some oversized ones */
    ptrs[i] = es_arena_alloc(&a, lens[i]);
    cr_assert_not_null(ptrs[i], "allocation %zu", i);
    memset(ptrs[i], (int)(i & 0xff), lens[i]);
  }
  for (size_t i = 0; i < N; i++)
    for (size_t k = 0; k < lens[i]; k++)
      cr_assert_eq(ptrs[i][k], (unsigned char)(i & 0xff), "alloc %zu byte %zu",
                   i, k);
}

Test(arena, first_chunk_is_small_and_growth_is_geometric) {
  es_arena_alloc(&a, 16);
  cr_assert_leq(a.reserved, 8192, "first chunk too big: %zu", a.reserved);
  size_t before = a.reserved;
  /* fill well past the first chunk: the number of chunks grows slowly */
  for (int i = 0; i < 1000; i++)
    cr_assert_not_null(es_arena_alloc(&a, 1000));
  cr_assert_gt(a.reserved, before);
  /* 1 MB of values: with doubling chunks, waste stays under 2x */
  cr_assert_lt(a.reserved, 2 * es_arena_used(&a) + 8192);
}

/* An oversized request gets its own chunk and leaves the current chunk in
 * use, so small allocations after it still come from the old chunk. */
Test(arena, oversized_request_keeps_current_chunk) {
  unsigned char *small1 = es_arena_alloc(&a, 64);
  size_t r1 = a.reserved;
  void *big = es_arena_alloc(&a, 3u << 20); /* bigger than any chunk */
  cr_assert_not_null(big);
  cr_assert_geq(a.reserved - r1, (size_t)3 << 20);
  cr_assert_lt(a.reserved - r1, ((size_t)3 << 20) + 4096);
  unsigned char *small2 = es_arena_alloc(&a, 64);
  cr_assert_eq(small2, small1 + 64, "small allocation moved to a new chunk");
}

Test(arena, limit_is_a_hard_cap_on_reserved) {
  es_arena b;
  es_arena_init(&b, 64 * 1024);
  size_t got = 0;
  for (;;) {
    void *p = es_arena_alloc(&b, 1000);
    if (!p)
      break;
    got += 1000;
    cr_assert_leq(b.reserved, (size_t)64 * 1024);
  }
  cr_assert_gt(got, 40 * 1000, "gave up too early: %zu bytes", got);
  cr_assert_leq(b.reserved, (size_t)64 * 1024);
  /* what is left may still serve a small request */
  cr_assert_null(es_arena_alloc(&b, 64 * 1024));
  es_arena_close(&b);
}

Test(arena, request_larger_than_limit_fails_without_allocating) {
  es_arena b;
  es_arena_init(&b, 10000);
  cr_assert_null(es_arena_alloc(&b, 20000));
  cr_assert_eq(b.reserved, 0);
  cr_assert_not_null(es_arena_alloc(&b, 5000));
  cr_assert_leq(b.reserved, 10000);
  es_arena_close(&b);
}

Test(arena, overflowing_sizes_fail) {
  cr_assert_null(es_arena_alloc(&a, SIZE_MAX));
  cr_assert_null(es_arena_alloc(&a, SIZE_MAX - 1));
  cr_assert_null(es_arena_alloc(&a, SIZE_MAX - ALIGN + 2));
  cr_assert_null(es_arena_calloc(&a, SIZE_MAX / 2 + 1, 2));
  cr_assert_null(es_arena_calloc(&a, (SIZE_MAX >> 4) + 1, 16));
  cr_assert_null(es_arena_strndup(&a, "x", SIZE_MAX));
  cr_assert_eq(es_arena_used(&a), 0);
  cr_assert_not_null(es_arena_alloc(&a, 8)); /* still usable */
}

Test(arena, calloc_zeroes_even_after_reset) {
  unsigned char *p = es_arena_alloc(&a, 256);
  memset(p, 0xff, 256);
  es_arena_reset(&a);
  unsigned char *q = es_arena_calloc(&a, 16, 16);
  cr_assert_eq(q, p, "reset should reuse the chunk from the start");
  for (int i = 0; i < 256; i++)
    cr_assert_eq(q[i], 0, "byte %d", i);
  cr_assert_not_null(es_arena_calloc(&a, 0, 10));
  cr_assert_not_null(es_arena_calloc(&a, 10, 0));
}

Test(arena, alloc_array_checks_overflow) {
  uint32_t *items = es_arena_alloc_array(&a, 1000, sizeof(uint32_t));
  cr_assert_not_null(items);
  cr_assert_eq((uintptr_t)items % ALIGN, 0);
  for (uint32_t i = 0; i < 1000; i++)
    items[i] = i;
  cr_assert_geq(es_arena_used(&a), 4000);
  size_t used = es_arena_used(&a);
  cr_assert_null(es_arena_alloc_array(&a, SIZE_MAX / 4 + 1, 4));
  cr_assert_null(es_arena_alloc_array(&a, 2, SIZE_MAX / 2 + 1));
  cr_assert_eq(es_arena_used(&a), used);
  cr_assert_not_null(es_arena_alloc_array(&a, 0, 8), "empty list");
  cr_assert_not_null(es_arena_alloc_array(&a, 8, 0));
  for (uint32_t i = 0; i < 1000; i++)
    cr_assert_eq(items[i], i);
}

Test(arena, reset_keeps_only_the_largest_chunk) {
  for (int i = 0; i < 200; i++)
    es_arena_alloc(&a, 4000);
  void *big = es_arena_alloc(&a, 2u << 20);
  cr_assert_not_null(big);
  size_t before = a.reserved;
  es_arena_reset(&a);
  cr_assert_eq(es_arena_used(&a), 0);
  cr_assert_lt(a.reserved, before);
  cr_assert_geq(a.reserved, (size_t)2 << 20);
  cr_assert_lt(a.reserved, ((size_t)2 << 20) + 4096);
  /* the kept chunk serves a large request again without reserving more */
  size_t kept = a.reserved;
  cr_assert_not_null(es_arena_alloc(&a, 2u << 20));
  cr_assert_eq(a.reserved, kept);
  /* reset of an empty arena is harmless */
  es_arena e = ES_ARENA_INIT;
  es_arena_reset(&e);
  cr_assert_null(e.head);
  cr_assert_eq(e.reserved, 0);
}

Test(arena, close_accepts_null_and_allows_reuse) {
  es_arena_close(NULL);
  es_arena_alloc(&a, 100);
  es_arena_close(&a);
  cr_assert_null(a.head);
  cr_assert_eq(a.reserved, 0);
  cr_assert_eq(es_arena_used(&a), 0);
  es_arena_init(&a, 0);
  cr_assert_not_null(es_arena_alloc(&a, 100));
}

Test(arena, strndup_copies_and_terminates) {
  char *s = es_arena_strndup(&a, "hello world", 5);
  cr_assert_str_eq(s, "hello");
  s = es_arena_strndup(&a, "a\0b", 3); /* embedded NUL is kept */
  cr_assert_eq(memcmp(s, "a\0b", 4), 0);
  s = es_arena_strndup(&a, NULL, 0);
  cr_assert_str_eq(s, "");
  cr_assert_null(es_arena_strndup(&a, NULL, 3));
}

Test(arena, strdup_and_memdup) {
  char src[] = "copy me";
  char *s = es_arena_strdup(&a, src);
  cr_assert_str_eq(s, "copy me");
  cr_assert_neq(s, src);
  cr_assert_null(es_arena_strdup(&a, NULL));

  static const unsigned char bytes[] = {0, 1, 2, 0xff, 0};
  unsigned char *m = es_arena_memdup(&a, bytes, sizeof bytes);
  cr_assert_arr_eq(m, bytes, sizeof bytes);
  cr_assert_not_null(es_arena_memdup(&a, NULL, 0));
  cr_assert_null(es_arena_memdup(&a, NULL, 1));
}

Test(arena, failed_copy_does_not_touch_used) {
  es_arena b;
  es_arena_init(&b, 8192);
  char *big = malloc(20000);
  cr_assert_not_null(big);
  memset(big, 'x', 19999);
  big[19999] = '\0';
  cr_assert_null(es_arena_strdup(&b, big));
  cr_assert_null(es_arena_memdup(&b, big, 20000));
  cr_assert_eq(es_arena_used(&b), 0);
  free(big);
  es_arena_close(&b);
}
