/*
 * store_schemas.c - whether a schema can read every event a store may
 * hold (es_schema_check_store() in es_app.h).
 *
 * The store keeps the description of every schema that opened it
 * (docs/schema-json.md, "In the store"). An event type and version that
 * one of them declares may have been written; a schema that opens the
 * store must be able to decode it, or the first load of an instance
 * holding one would fail. Checking at open names the type and version
 * at once instead.
 */
#include <stdio.h>
#include <string.h>

#include "es/es_app.h"
#include "es/es_error.h"
#include "exec/store_schemas.h"
#include "schema/described.h"
#include "store/schema_record.h"

typedef struct check {
  const es_schema_desc *schema;
  char *why;
  size_t cap;
} check;

/* The aggregate part of "Account.Deposited" as an aggregate of `schema`,
 * or NULL. */
static const es_aggregate_desc *aggregate_of(const es_schema_desc *schema,
                                             const char *type_name) {
  char agg[256];
  const char *dot = strchr(type_name, '.');
  size_t n = dot ? (size_t)(dot - type_name) : 0;
  if (!n || n >= sizeof agg)
    return NULL;
  memcpy(agg, type_name, n);
  agg[n] = '\0';
  return es_schema_find_aggregate(schema, agg);
}

/* The newest version of event type `id` that `schema` reads, 0: none. */
static uint32_t newest_version(const es_schema_desc *schema, uint64_t id) {
  uint32_t v = 0;
  for (uint32_t i = 0; i < schema->n_types; i++)
    if (schema->types[i]->type_id == id && schema->types[i]->version > v)
      v = schema->types[i]->version;
  return v;
}

/* One recorded description: every event version it declares must be one
 * this schema reads, for the aggregates this schema still has (streams of
 * an aggregate it no longer declares are never loaded by it). */
static int check_description(const es__schema_entry *e, void *ctx) {
  check *c = ctx;
  es_arena arena;
  es__dschema d;
  int rc = 0;
  if (!e->json)
    return 0; /* a description that cannot be read decides nothing */
  es_arena_init(&arena, 0);
  if (es__dschema_parse(e->json, e->len, &arena, &d, NULL, 0) != 0 || !d.name ||
      strcmp(d.name, c->schema->name) != 0)
    goto done; /* another schema's (or a newer format's) description */
  for (uint32_t i = 0; i < d.n_types && !rc; i++) {
    const es__dtype *t = &d.types[i];
    if (strcmp(t->role, "event") != 0 ||
        es_schema_find_type(c->schema, t->id, t->version) ||
        !aggregate_of(c->schema, t->name))
      continue;
    uint32_t newest = newest_version(c->schema, t->id);
    if (newest)
      snprintf(c->why, c->cap,
               "the store may hold events of '%s' v%u (recorded by schema "
               "description %s), but this schema reads '%s' only up to v%u",
               t->name, t->version, e->hash, t->name, newest);
    else
      snprintf(c->why, c->cap,
               "the store may hold events of '%s' v%u (recorded by schema "
               "description %s), but this schema does not declare '%s'",
               t->name, t->version, e->hash, t->name);
    rc = ES_ESCHEMA;
  }
done:
  es_arena_close(&arena);
  return rc;
}

int es_schema_check_store(const es_schema_desc *schema, es_store *store,
                          char *why, size_t cap) {
  char none[1];
  check c = {schema, why && cap ? why : none, why && cap ? cap : sizeof none};
  if (!schema || !store)
    return ES_EINVAL;
  c.why[0] = '\0';
  return es__schema_each(store, check_description, &c);
}

int es__schema_check_and_record(const es_schema_desc *schema, es_store *store,
                                char *why, size_t cap) {
  check c = {schema, why, cap};
  why[0] = '\0';
  if (!schema->description)
    return es__schema_each(store, check_description, &c);
  /* One pass over the list: a store only this schema opened costs no read
   * beyond what recording costs anyway. */
  int rc = es__schema_record(store, schema->description,
                             schema->description_len, check_description, &c);
  return rc == ES_EREADONLY ? 0 : rc;
}
