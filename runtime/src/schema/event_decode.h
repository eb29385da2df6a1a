/*
 * event_decode.h - decoding a stored event into the current shape of its
 * type, lifting older versions through the schema's upcasters. The one
 * copy of that logic: the executor (exec.c) and the projection runner
 * (projection.c) both call it.
 *
 * Internal to libes.
 */
#ifndef ES__EVENT_DECODE_H
#define ES__EVENT_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "es/es_arena.h"
#include "es/es_desc.h"

/* Room for the values of one event (the value and, when upcasting, each
 * older shape on the way), reused from event to event so that a replay
 * does not grow the state's arena by a value per event. What the values
 * point to (strings, bytes, lists) still goes to the arena given with
 * it. A value that does not fit goes to the arena too. */
#define ES__EVENT_SCRATCH 512u

typedef struct es__event_scratch {
  size_t used;
  max_align_t room[ES__EVENT_SCRATCH / sizeof(max_align_t)];
} es__event_scratch;

static inline void es__event_scratch_init(es__event_scratch *s) { s->used = 0; }

/* Forgets the values of the previous event. */
static inline void es__event_scratch_reset(es__event_scratch *s) {
  s->used = 0;
}

/* The route of `agg` whose event has id `type_id` (any version): its
 * index into agg->events in `*index` and 0, or ES_EUNKNOWN. */
int es__event_route_find(const es_aggregate_desc *agg, uint64_t type_id,
                         uint32_t *index);

/* Decodes `len` bytes of `payload`, written as version `type_version` of
 * the event of route `r`, into a value of the current version
 * (r->event), lifting older versions one step at a time through the
 * upcasters. The value lands in `scratch` (NULL: in `a`), everything it
 * points to in `a`; `*out` receives it. Returns 0, ES_EVERSION (a version the
 * route does not know), ES_ENOMEM (the arena refused), ES_EUPCAST (an upcaster
 * failed), or the decoder's error. */
int es__event_decode_route(const es_event_route *r, uint32_t type_version,
                           const void *payload, size_t len, es_arena *a,
                           es__event_scratch *scratch, void **out);

/* es__event_route_find() then es__event_decode_route(): `*index` is the
 * route's index into agg->events. ES_EUNKNOWN when `agg` has no event
 * with id `type_id`. */
int es__event_decode(const es_aggregate_desc *agg, uint64_t type_id,
                     uint32_t type_version, const void *payload, size_t len,
                     es_arena *a, es__event_scratch *scratch, uint32_t *index,
                     void **out);

#endif
