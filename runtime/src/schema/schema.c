/*
 * schema.c - lookups in the routing tables of a generated schema.
 */
#include <string.h>

#include "es/es_desc.h"

#define ES__FNV_OFFSET 14695981039346656037u
#define ES__FNV_PRIME 1099511628211u

/* NULL hashes like "" so a missing name can't crash a lookup. */
uint64_t es_fnv1a64(const char *s) {
  uint64_t h = (uint64_t)ES__FNV_OFFSET;

  if (!s)
    return h;
  for (; *s; s++) {
    h ^= (uint8_t)*s;
    h *= (uint64_t)ES__FNV_PRIME;
  }
  return h;
}

/* Binary search for the first entry with `type_id`, then a scan over its
 * versions: the table is sorted by id, and an id has only a few versions. */
const es_type_desc *es_schema_find_type(const es_schema_desc *schema,
                                        uint64_t type_id, uint32_t version) {
  size_t lo = 0, hi;

  if (!schema || !schema->types)
    return NULL;
  hi = schema->n_types;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (schema->types[mid]->type_id < type_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < schema->n_types && schema->types[lo]->type_id == type_id; lo++)
    if (schema->types[lo]->version == version)
      return schema->types[lo];
  return NULL;
}

const es_aggregate_desc *es_schema_find_aggregate(const es_schema_desc *schema,
                                                  const char *name) {
  uint32_t i;

  if (!schema || !name)
    return NULL;
  for (i = 0; i < schema->n_aggregates; i++)
    if (strcmp(schema->aggregates[i]->name, name) == 0)
      return schema->aggregates[i];
  return NULL;
}

/* True when `name` is the qualified `qname` ("Account.Deposit") or the
 * part after its last dot ("Deposit"). */
static int name_matches(const char *qname, const char *name) {
  const char *dot;

  if (!qname)
    return 0;
  if (strcmp(qname, name) == 0)
    return 1;
  dot = strrchr(qname, '.');
  return dot && strcmp(dot + 1, name) == 0;
}

int es_aggregate_find_command(const es_aggregate_desc *agg, const char *name) {
  uint32_t i;

  if (!agg || !name)
    return -1;
  for (i = 0; i < agg->n_commands; i++)
    if (agg->commands[i].command &&
        name_matches(agg->commands[i].command->name, name))
      return (int)i;
  return -1;
}

int es_aggregate_find_event(const es_aggregate_desc *agg, const char *name) {
  uint32_t i;

  if (!agg || !name)
    return -1;
  for (i = 0; i < agg->n_events; i++)
    if (agg->events[i].event && name_matches(agg->events[i].event->name, name))
      return (int)i;
  return -1;
}
