/*
 * tally_impl.c - decide, apply and upcast functions of tally.es, and the
 * Tally projection's handlers writing into a tally_view.
 */
#include <stdlib.h>
#include <string.h>

#include "tally_view.h"

void tally_view_init(tally_view *v, int log) {
  memset(v, 0, sizeof *v);
  if (log) {
    v->cap_log = 1024;
    v->log = malloc(v->cap_log * sizeof *v->log);
  }
}

void tally_view_free(tally_view *v) {
  free(v->log);
  v->log = NULL;
}

/* "c-17" -> 17 when the prefix matches and the index is in range. */
static int stream_index(const char *key, char prefix) {
  char *end;
  unsigned long i;
  if (key[0] != prefix || key[1] != '-')
    return -1;
  i = strtoul(key + 2, &end, 10);
  if (*end || i >= TALLY_STREAMS)
    return -1;
  return (int)i;
}

/* Common bookkeeping; 1 when the event must be skipped (dedup mode),
 * a negative or TALLY_FAIL code to fail, 0 to apply. */
static int begin(tally_view *v, const es_event_meta *meta, uint64_t *version) {
  if (v->fail_times && meta->position == v->fail_at) {
    v->fail_times--;
    return TALLY_FAIL;
  }
  /* Versions only grow along a stream; they may jump over events of
   * types the projection does not list (Counter.Noted). */
  if (meta->version <= *version) {
    if (v->dedup)
      return 1;
    v->m.repeats++;
  }
  if (v->log) {
    if (v->n_log == v->cap_log) {
      uint64_t *p = realloc(v->log, 2 * v->cap_log * sizeof *p);
      if (!p)
        return ES_ENOMEM;
      v->log = p;
      v->cap_log *= 2;
    }
    v->log[v->n_log++] = meta->position;
  }
  return 0;
}

static void end(tally_view *v, const es_event_meta *meta, uint64_t *version) {
  *version = meta->version;
  v->m.handled++;
  if (v->after)
    v->after(v->after_ctx, meta);
}

int tally_tally_on_counter_added(const tally_counter_added *event,
                                 const es_event_meta *meta, void *ctx) {
  tally_view *v = ctx;
  int i = stream_index(meta->key, 'c'), rc;
  if (i < 0 || strcmp(meta->aggregate, "Counter") != 0)
    return ES_EINVAL;
  rc = begin(v, meta, &v->m.c_version[i]);
  if (rc)
    return rc == 1 ? 0 : rc;
  v->m.total[i] += event->amount;
  if (meta->type_version == 1)
    v->m.upcast++;
  end(v, meta, &v->m.c_version[i]);
  return 0;
}

int tally_tally_on_meter_reading(const tally_meter_reading *event,
                                 const es_event_meta *meta, void *ctx) {
  tally_view *v = ctx;
  int i = stream_index(meta->key, 'm'), rc;
  if (i < 0 || strcmp(meta->aggregate, "Meter") != 0)
    return ES_EINVAL;
  rc = begin(v, meta, &v->m.m_version[i]);
  if (rc)
    return rc == 1 ? 0 : rc;
  v->m.reading[i] = event->value;
  end(v, meta, &v->m.m_version[i]);
  return 0;
}

/* ---- the aggregates (the tests append events directly) ---- */

int tally_counter_decide_add(const tally_counter_state *state,
                             const tally_counter_add *command, es_decision *d) {
  tally_counter_added event;
  (void)state;
  tally_counter_added_init(&event);
  event.amount = command->amount;
  return tally_counter_emit_added(d, &event);
}

int tally_counter_decide_note(const tally_counter_state *state,
                              const tally_counter_note *command,
                              es_decision *d) {
  tally_counter_noted event;
  (void)state;
  tally_counter_noted_init(&event);
  event.text = command->text;
  return tally_counter_emit_noted(d, &event);
}

void tally_counter_apply_added(tally_counter_state *state,
                               const tally_counter_added *event,
                               es_arena *arena) {
  (void)arena;
  state->total += event->amount;
}

void tally_counter_apply_noted(tally_counter_state *state,
                               const tally_counter_noted *event,
                               es_arena *arena) {
  (void)state;
  (void)event;
  (void)arena;
}

/* v1 counted in whole units `n`; v2 has `amount`. */
int tally_counter_upcast_added_v1(const tally_counter_added_v1 *from,
                                  tally_counter_added *to, es_arena *arena) {
  (void)arena;
  tally_counter_added_init(to);
  to->amount = from->n;
  return 0;
}

int tally_meter_decide_read(const tally_meter_state *state,
                            const tally_meter_read *command, es_decision *d) {
  tally_meter_reading event;
  (void)state;
  tally_meter_reading_init(&event);
  event.value = command->value;
  return tally_meter_emit_reading(d, &event);
}

void tally_meter_apply_reading(tally_meter_state *state,
                               const tally_meter_reading *event,
                               es_arena *arena) {
  (void)arena;
  state->last = event->value;
}
