/*
 * tally_gen.c - see tally_gen.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally_gen.h"

int tally_append(es_store *s, const char *agg, const char *key,
                 const es_type_desc *type, const void *value) {
  es_new_event ev;
  es_buf b;
  int rc;
  es_buf_init(&b, 0);
  rc = es_type_encode(type, value, &b);
  if (rc == 0) {
    memset(&ev, 0, sizeof ev);
    ev.type_id = type->type_id;
    ev.type_version = type->version;
    ev.payload = b.data;
    ev.len = b.len;
    rc = es_store_append_one(s, agg, key, es_expect_any(), &ev, 1, NULL);
  }
  es_buf_close(&b);
  return rc;
}

/* Encodes the event `round` of stream `i` into `b` and describes it. */
static int one(uint32_t round, uint32_t i, uint32_t n_counters, es_buf *b,
               es_new_event *ev) {
  const es_type_desc *t;
  int rc;
  memset(ev, 0, sizeof *ev);
  if (i >= n_counters) {
    tally_meter_reading r;
    tally_meter_reading_init(&r);
    r.value = (int64_t)round * 1000 + i;
    t = &tally_meter_reading_desc;
    rc = es_type_encode(t, &r, b);
  } else if ((round + i) % 10 == 0) {
    tally_counter_noted n;
    tally_counter_noted_init(&n);
    n.text = "not projected";
    t = &tally_counter_noted_desc;
    rc = es_type_encode(t, &n, b);
  } else if ((round + i) % 7 == 0) {
    tally_counter_added_v1 a;
    tally_counter_added_v1_init(&a);
    a.n = (int32_t)(round % 13) + 1;
    t = &tally_counter_added_v1_desc;
    rc = es_type_encode(t, &a, b);
  } else {
    tally_counter_added a;
    tally_counter_added_init(&a);
    a.amount = (int64_t)((round * 31u + i) % 97u) + 1;
    t = &tally_counter_added_desc;
    rc = es_type_encode(t, &a, b);
  }
  ev->type_id = t->type_id;
  ev->type_version = t->version;
  return rc;
}

int tally_generate(es_store *s, uint32_t rounds, uint32_t n_streams,
                   uint32_t n_counters) {
  es_buf *bufs = calloc(n_streams, sizeof *bufs);
  es_new_event *evs = calloc(n_streams, sizeof *evs);
  es_append_stream *groups = calloc(n_streams, sizeof *groups);
  char(*keys)[16] = calloc(n_streams, sizeof *keys);
  int rc = ES_ENOMEM;
  if (!bufs || !evs || !groups || !keys ||
      n_streams > ES_STORE_MAX_APPEND_STREAMS)
    goto out;
  for (uint32_t i = 0; i < n_streams; i++) {
    es_buf_init(&bufs[i], 0);
    if (i < n_counters)
      snprintf(keys[i], sizeof keys[i], "c-%u", i);
    else
      snprintf(keys[i], sizeof keys[i], "m-%u", i - n_counters);
  }
  rc = 0;
  for (uint32_t r = 0; r < rounds && rc == 0; r++) {
    for (uint32_t i = 0; i < n_streams && rc == 0; i++) {
      es_buf_clear(&bufs[i]);
      rc = one(r, i, n_counters, &bufs[i], &evs[i]);
      evs[i].payload = bufs[i].data;
      evs[i].len = bufs[i].len;
      groups[i].type = i < n_counters ? "Counter" : "Meter";
      groups[i].key = keys[i];
      groups[i].expected = es_expect_any();
      groups[i].events = &evs[i];
      groups[i].n_events = 1;
    }
    if (rc == 0)
      rc = es_store_append(s, groups, n_streams, NULL);
  }
out:
  if (bufs)
    for (uint32_t i = 0; i < n_streams; i++)
      es_buf_close(&bufs[i]);
  free(bufs);
  free(evs);
  free(groups);
  free(keys);
  return rc;
}
