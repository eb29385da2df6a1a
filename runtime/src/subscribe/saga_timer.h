/*
 * saga_timer.h - the records of a saga's timer index, the stream
 * ("saga:<Name>#timers", "timers"), whose format saga_run.c describes:
 * read by the runner, which keeps the index, and by esctl, which lists
 * the pending timeouts. Internal to libes.
 */
#ifndef ES__SAGA_TIMER_H
#define ES__SAGA_TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "es/es_meta.h"
#include "es/es_saga.h"

/* A timeout of a saga instance: `name` of instance `key`, due at `due`
 * (microseconds since the epoch). */
typedef struct es__saga_timer {
  char key[ES_KEY_MAX + 1];
  char name[ES_TIMEOUT_NAME_MAX + 1];
  int64_t due;
} es__saga_timer;

/* One record of the index: `op` (1 schedule ... 6 dispatched, see
 * saga_run.c) done to `timer`, with the step it names (ops 5 and 6). */
typedef struct es__saga_timer_record {
  uint32_t op;
  es__saga_timer timer;
  uint64_t step;
} es__saga_timer_record;

/* Parses the record of `len` bytes at `p` into `out`. Returns 0, or
 * ES_ECORRUPT for bytes that are not a record (an empty key, a key or
 * name too long, an op past 16). */
int es__saga_timer_record_read(const uint8_t *p, size_t len,
                               es__saga_timer_record *out);

#endif
