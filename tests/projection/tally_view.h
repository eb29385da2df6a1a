/*
 * tally_view.h - the Tally projection's read model in the projection
 * tests: per stream totals and the version last applied, a log of the
 * positions delivered, and a way to make a handler fail on purpose.
 */
#ifndef TALLY_VIEW_H
#define TALLY_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "tally.es.h"

/* Streams are "c-<i>" (Counter) and "m-<i>" (Meter), i < TALLY_STREAMS. */
#define TALLY_STREAMS 1024

/* The part of the view that is the read model proper: what the crash
 * test writes to its file, position included, in one piece. */
typedef struct tally_model {
  uint64_t position; /* committed with the model (exactly-once mode) */
  uint64_t handled;  /* events applied */
  uint64_t repeats;  /* events at or below their stream's last version */
  uint64_t upcast;   /* Added events stored as v1 */
  int64_t total[TALLY_STREAMS];      /* Counter: sum of Added.amount */
  uint64_t c_version[TALLY_STREAMS]; /* Counter: last version applied */
  int64_t reading[TALLY_STREAMS];    /* Meter: last Reading.value */
  uint64_t m_version[TALLY_STREAMS];
} tally_model;

typedef struct tally_view {
  tally_model m;
  /* Positions delivered, in order (when `log` is not NULL). */
  uint64_t *log;
  size_t n_log, cap_log;
  /* Fail the handler (returning TALLY_FAIL) `fail_times` times at
   * position `fail_at`. */
  uint64_t fail_at;
  uint32_t fail_times;
  /* Idempotent mode: skip events at or below their stream's last version
   * (at-least-once delivery made effectively-once by the handler). */
  int dedup;
  /* Called after each applied event, when set. */
  void (*after)(void *ctx, const es_event_meta *meta);
  void *after_ctx;
} tally_view;

#define TALLY_FAIL 42

/* Creates `v` zeroed, with a position log when `log` is non-zero. */
void tally_view_init(tally_view *v, int log);
void tally_view_free(tally_view *v);

#endif
