/*
 * test_format.c - esgen's small vsnprintf() (esgen/format.c) gives what
 * the C library's gives, for every conversion it handles itself, for those
 * it hands on, and when the result does not fit.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

/* Formats with both into buffers of every size from 0 to past the
 * result, and compares the bytes written and the lengths returned. */
#define SAME(...)                                                              \
  do {                                                                         \
    char want[256], got[256];                                                  \
    int nw = snprintf(want, sizeof want, __VA_ARGS__);                         \
    cr_assert(gt(int, nw, -1));                                                \
    for (size_t room = 0; room <= (size_t)nw + 2; room++) {                    \
      memset(want, 'X', sizeof want);                                          \
      memset(got, 'X', sizeof got);                                            \
      int a = snprintf(want, room, __VA_ARGS__);                               \
      int b = esc_format(got, room, __VA_ARGS__);                              \
      cr_assert(eq(int, a, b), "length of %s", #__VA_ARGS__);                  \
      cr_assert(eq(int, memcmp(want, got, sizeof want), 0),                    \
                "bytes of %s in %zu bytes: '%.*s' != '%.*s'", #__VA_ARGS__,    \
                room, (int)room, want, (int)room, got);                        \
    }                                                                          \
  } while (0)

Test(format, plain_text_and_percent) {
  SAME("%s", "");
  SAME("no conversions at all");
  SAME("100%% of it");
  SAME("%%%%");
}

Test(format, strings) {
  SAME("%s and %s", "bank_account", "");
  SAME("[%.*s]", 3, "abcdef");
  SAME("[%.*s]", 10, "abc");
  SAME("[%.*s]", 0, "abc");
  SAME("[%.*s]", -1, "abc"); /* a negative precision is none */
  SAME("[%.2s]", "abc");
  SAME("[%8s]", "abc");
  SAME("[%2s]", "abcdef");
  SAME("%c%c%c", 'a', '\'', 'z');
  SAME("[%3c]", 'q');
}

Test(format, integers) {
  SAME("%d %d %d %d", 0, -1, INT32_MAX, INT32_MIN);
  SAME("%u %u", 0u, UINT32_MAX);
  SAME("%i", -42);
  SAME("%ld %lu", (long)INT64_MIN, (unsigned long)UINT64_MAX);
  SAME("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
  SAME("%" PRIu64 " %" PRId64 " %" PRIx64, UINT64_MAX, INT64_MIN,
       UINT64_C(0xdeadbeefcafe));
  SAME("%zu", (size_t)SIZE_MAX);
  SAME("%jd %ju", (intmax_t)-7, (uintmax_t)7);
  SAME("%hd %hu %hhd %hhu", -2, 65535, -3, 255);
  SAME("%hd %hhu", 70000, 300); /* converted to short and char first */
  SAME("%x %X %o", 0xabcdefu, 0xabcdefu, 8u);
  SAME("\\%03o\\%03o", 7u, 255u);
  SAME("%02x%02x", 0x5u, 0xabu);
  SAME("[%5d] [%05d] [%5d] [%05d]", 42, 42, -42, -42);
  SAME("[%1d] [%01u]", 12345, 0u);
}

/* What the file does not handle goes to the C library, arguments and all,
 * from the start: the text before it is not written twice. */
Test(format, handed_on) {
  SAME("%s %.17g %s", "before", 0.1, "after");
  SAME("%d %-5d|", 1, 2);
  SAME("%s %+d", "x", 3);
  SAME("%#x", 255u);
  SAME("%p", (void *)0);
  SAME("%.3d", 7);
  SAME("%e", 1e300);
}
