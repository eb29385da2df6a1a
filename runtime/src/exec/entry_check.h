/*
 * entry_check.h - what every execute entry checks before decide runs, the
 * same for the typed, value and msgpack entries, and the words it uses
 * when something is wrong (they go into es_result.message).
 *
 * Internal to libes.
 */
#ifndef ES__ENTRY_CHECK_H
#define ES__ENTRY_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "es/es_desc.h"
#include "es/es_store.h"

/* Whether `key` may name an instance of `agg`: es_key_check(), and for an
 * aggregate keyed u64 or uuid, the canonical text of such a key (what
 * es_key_from_u64() / es_key_from_uuid() write: "42", never "042" or
 * "+42"; lowercase 8-4-4-4-12 hex). Returns 0 or ES_EINVAL with the
 * reason in `why`. */
int es__key_check_for(const es_aggregate_desc *agg, const char *key, char *why,
                      size_t cap);

/* Whether `agg` is one of `schema`'s aggregates (the descriptor itself,
 * not one of the same name from another schema). */
int es__in_schema(const es_schema_desc *schema, const es_aggregate_desc *agg);

/* Everything an entry checks before loading the instance: `agg` is one
 * of `schema`'s aggregates (ES_EUNKNOWN otherwise: a descriptor from
 * another schema), has state and a command number `command` (ES_EINVAL),
 * `key` passes es__key_check_for(), and the command `value` keeps the
 * schema's bounds and enums (es__value_check()). Returns 0 or the code,
 * with what was wrong in `why`. */
int es__entry_check(const es_schema_desc *schema, const es_aggregate_desc *agg,
                    uint32_t command, const char *key, const void *value,
                    char *why, size_t cap);

/* Why the event `ev` of instance (agg, key) did not load with `rc`: its
 * type, version and position, and the field to blame when its bytes do not
 * decode. */
void es__load_why(const es_schema_desc *schema, const es_aggregate_desc *agg,
                  const char *key, const es_stored_event *ev, int rc, char *why,
                  size_t cap);

#endif
