/*
 * schema_record.h - schema descriptions kept in a store
 * (docs/schema-json.md, "In the store"): checkpoints every store supports,
 * so recording one moves no position and no stream.
 */
#ifndef ES__SCHEMA_RECORD_H
#define ES__SCHEMA_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "es/es_store.h"

/* The checkpoint listing every recorded description. */
#define ES__SCHEMAS_CHECKPOINT "$schemas"
/* Followed by the description's hash: its own checkpoint. */
#define ES__SCHEMA_CHECKPOINT_PREFIX "$schema:"

/* FNV-1a 64 of the description, as 16 lowercase hex digits. */
void es__schema_hash(const char *json, size_t len, char out[17]);

/* One recorded description, as es__schema_each() hands it over: valid
 * only during the callback. */
typedef struct es__schema_entry {
  const char *hash;  /* 16 hex digits */
  uint64_t position; /* the head when it was recorded */
  const char *json;  /* NULL when its checkpoint is missing */
  size_t len;
  int error; /* the store's error reading it (json is NULL then) */
} es__schema_entry;

/* Records description `json` (len bytes) in `s` unless that exact
 * description is there (and listed) already. Before that, when
 * `check_other` is not NULL, calls it for every other recorded
 * description (none are read when there are none); its nonzero value
 * stops and is returned, and nothing is recorded. Returns 0, or the
 * store's error (ES_EREADONLY on a read-only store, ES_ETOOBIG, ES_EIO,
 * ...). */
int es__schema_record(es_store *s, const char *json, size_t len,
                      int (*check_other)(const es__schema_entry *e, void *ctx),
                      void *ctx);

/* Calls `fn` for every listed description, oldest first. Returns 0 (also
 * for a store without any), `fn`'s nonzero value, ES_ECORRUPT for a list
 * that does not parse, or the store's error reading the list. */
int es__schema_each(es_store *s,
                    int (*fn)(const es__schema_entry *e, void *ctx), void *ctx);

#endif
