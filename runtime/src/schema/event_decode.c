/*
 * event_decode.c - stored event bytes to the current shape of the event,
 * upcasting older versions. See event_decode.h.
 */
#include "schema/event_decode.h"

#include "es/es_error.h"

int es__event_route_find(const es_aggregate_desc *agg, uint64_t type_id,
                         uint32_t *index) {
  for (uint32_t i = 0; i < agg->n_events; i++)
    if (agg->events[i].event->type_id == type_id) {
      *index = i;
      return 0;
    }
  return ES_EUNKNOWN;
}

/* `size` bytes for a value: from the scratch space while it has room,
 * else from the arena. */
static void *value_alloc(es_arena *a, es__event_scratch *s, size_t size) {
  const size_t align = sizeof(max_align_t);
  if (s && size <= sizeof s->room) {
    size_t rounded = (size + align - 1) / align * align;
    if (rounded <= sizeof s->room - s->used) {
      void *p = (unsigned char *)s->room + s->used;
      s->used += rounded;
      return p;
    }
  }
  return es_arena_alloc(a, size);
}

int es__event_decode_route(const es_event_route *r, uint32_t type_version,
                           const void *payload, size_t len, es_arena *a,
                           es__event_scratch *scratch, void **out) {
  const es_type_desc *cur = r->event;
  void *value;
  uint32_t j;
  int rc;

  if (type_version == cur->version) {
    if (!(value = value_alloc(a, scratch, cur->size)))
      return ES_ENOMEM;
    if ((rc = es_type_decode(cur, value, payload, len, a)) != 0)
      return rc;
    *out = value;
    return 0;
  }
  for (j = 0; j < r->n_old; j++)
    if (r->old[j].type->version == type_version)
      break;
  if (j == r->n_old)
    return ES_EVERSION;
  if (!(value = value_alloc(a, scratch, r->old[j].type->size)))
    return ES_ENOMEM;
  if ((rc = es_type_decode(r->old[j].type, value, payload, len, a)) != 0)
    return rc;
  for (; j < r->n_old; j++) {
    const es_type_desc *next = j + 1 < r->n_old ? r->old[j + 1].type : cur;
    void *lifted = value_alloc(a, scratch, next->size);
    if (!lifted)
      return ES_ENOMEM;
    es_type_init(next, lifted);
    if (r->old[j].upcast(value, lifted, a) != 0)
      return ES_EUPCAST;
    value = lifted;
  }
  *out = value;
  return 0;
}

int es__event_decode(const es_aggregate_desc *agg, uint64_t type_id,
                     uint32_t type_version, const void *payload, size_t len,
                     es_arena *a, es__event_scratch *scratch, uint32_t *index,
                     void **out) {
  int rc = es__event_route_find(agg, type_id, index);
  if (rc != 0)
    return rc;
  return es__event_decode_route(&agg->events[*index], type_version, payload,
                                len, a, scratch, out);
}
