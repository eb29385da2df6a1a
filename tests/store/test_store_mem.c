/*
 * test_store_mem.c - the store interface on the memory store: the shared
 * cases of store_cases.h.
 */
#include "es/es_store.h"

#define CASE_KIND "memory"

static int case_open(es_store **out, const es_store_options *opt) {
  return es_store_open_memory(out, opt);
}

static void case_close(es_store *s) { es_store_close(s); }

#include "store_cases.h"

/* ---- the command index's own table -------------------------------------- */

#include "../../runtime/src/store/command_index.h"

/* Entry numbers grow for the life of an index and are kept modulo 2^40
 * in the table: a long-lived index must find, expire and re-find entries
 * across that wrap, and many of them (the table grows and moves). */
Test(command_index, numbers_wrap_and_expiry_keeps_every_entry_reachable) {
  es__cmd_index x;
  const int n = 5000;
  es__cmd_index_init(&x, 100, 1, 2);
  x.base = ((uint64_t)1 << 40) - 1000; /* as after 2^40 - 1000 entries */
  for (int i = 0; i < n; i++) {
    es_uuid id = cmd_id(0);
    memcpy(id.bytes + 4, &i, sizeof i);
    cr_assert_eq(es__cmd_index_note(&x, &id, (uint64_t)i + 1, i, i), 0);
  }
  /* times 0 .. 4999, now 4999, retention 100: 4899 .. 4999 remain */
  cr_assert_eq(x.n, 101, "entries past the retention left as others came");
  for (int i = 0; i < n; i++) {
    es_uuid id = cmd_id(0);
    const es__cmd_entry *e;
    memcpy(id.bytes + 4, &i, sizeof i);
    e = es__cmd_index_find(&x, &id, n - 1);
    if (i < n - 1 - 100) {
      cr_assert_null(e, "%d expired", i);
      continue;
    }
    cr_assert_not_null(e, "%d", i);
    cr_assert_eq(e->first, (uint64_t)i + 1);
  }
  es__cmd_index_close(&x);
}
