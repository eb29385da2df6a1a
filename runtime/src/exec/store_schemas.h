/*
 * store_schemas.h - the schema check and record that es_app_open() makes
 * (store_schemas.c).
 */
#ifndef ES__STORE_SCHEMAS_H
#define ES__STORE_SCHEMAS_H

#include <stddef.h>

#include "es/es_desc.h"
#include "es/es_store.h"

/* Checks, as es_schema_check_store() does, that `schema` reads every
 * event version the store's other recorded descriptions declare, then
 * records the schema's own description unless it is there (nothing on a
 * read-only store). Returns 0; ES_ESCHEMA with the reason in `why` (`cap`
 * bytes, at least 1), nothing recorded; or the store's error. */
int es__schema_check_and_record(const es_schema_desc *schema, es_store *store,
                                char *why, size_t cap);

#endif
