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
