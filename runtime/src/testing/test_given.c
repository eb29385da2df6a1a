/*
 * test_given.c - the events the test helpers are given.
 */
#include "testing/test_given.h"

#include <string.h>

bool es__test_is_event_of(const es_aggregate_desc *agg,
                          const es_type_desc *type) {
  for (uint32_t i = 0; i < agg->n_events; i++) {
    const es_event_route *r = &agg->events[i];
    if (r->event == type)
      return true;
    for (uint32_t j = 0; j < r->n_old; j++)
      if (r->old[j].type == type)
        return true;
  }
  return false;
}

const es_aggregate_desc *es__test_owner_of(const es_schema_desc *schema,
                                           const es_type_desc *type) {
  for (uint32_t a = 0; a < schema->n_aggregates; a++)
    if (es__test_is_event_of(schema->aggregates[a], type))
      return schema->aggregates[a];
  return NULL;
}

int es__test_encode(const es_type_desc *event, const void *value, es_buf *b,
                    es_new_event *ev) {
  int rc = es_type_encode(event, value, b);
  if (rc == 0)
    rc = b->err;
  if (rc != 0)
    return rc;
  memset(ev, 0, sizeof *ev);
  ev->type_id = event->type_id;
  ev->type_version = event->version;
  ev->payload = b->data;
  ev->len = b->len;
  return 0;
}
