/*
 * test_given.h - what the given/when/then helpers (testing.c,
 * testing_projection.c, testing_saga.c) share about the events they are
 * given. Internal to libes-testing.
 */
#ifndef ES__TEST_GIVEN_H
#define ES__TEST_GIVEN_H

#include <stdbool.h>

#include "es/es_buf.h"
#include "es/es_desc.h"
#include "es/es_store.h"

/* Whether `type` is an event (current or an older version) of `agg`. */
bool es__test_is_event_of(const es_aggregate_desc *agg,
                          const es_type_desc *type);

/* The aggregate of `schema` that has event `type`, or NULL. */
const es_aggregate_desc *es__test_owner_of(const es_schema_desc *schema,
                                           const es_type_desc *type);

/* Encodes `value` of `event` into `b` and describes it in `*ev` (type,
 * version, payload in `b`; no ids, no timestamp) for appending. Returns 0
 * or the encoder's error (ES_EBOUND past `b`'s cap, ES_ENOMEM, ...). */
int es__test_encode(const es_type_desc *event, const void *value, es_buf *b,
                    es_new_event *ev);

#endif
