/*
 * tally_gen.h - writing tally.es events straight into a store, for the
 * projection tests and the latency benchmark.
 */
#ifndef TALLY_GEN_H
#define TALLY_GEN_H

#include <stdint.h>

#include "tally.es.h"

/* Appends one event of `type` (value `value`) to stream (agg, key).
 * Returns what es_store_append_one() returns. */
int tally_append(es_store *s, const char *agg, const char *key,
                 const es_type_desc *type, const void *value);

/* The event `round` of stream `i` in the generated workload: streams
 * 0 .. n_counters-1 are Counter "c-<i>", the rest Meter "m-<i - n_counters>".
 * A counter stream gets Noted when (round + i) % 10 == 0 (not projected),
 * Added v1 when (round + i) % 7 == 0, else Added v2. */
int tally_generate(es_store *s, uint32_t rounds, uint32_t n_streams,
                   uint32_t n_counters);

#endif
