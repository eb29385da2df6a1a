/*
 * described.h - a schema known only from its JSON description
 * (docs/schema-json.md), and values decoded by it: what tools use to read
 * a store without the application that wrote it.
 */
#ifndef ES__DESCRIBED_H
#define ES__DESCRIBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "es/es_arena.h"
#include "es/es_buf.h"
#include "util/json_parse.h"

typedef struct es__dtype es__dtype;

typedef struct es__denum {
  const char *name;
  uint32_t count;
  const char **values;
} es__denum;

typedef struct es__dfield {
  const char *name;
  int kind; /* es_kind; of the innermost elements of a list */
  bool list, optional;
  uint32_t lists; /* levels of list: 1 list<T>, 2 list<list<T>>; 0 none */
  uint64_t max;   /* 0: none */
  const es__dtype *record;
  const es__denum *enumeration;
  const es__jv *def; /* the default, or NULL */
} es__dfield;

struct es__dtype {
  const char *name; /* "Account.Deposited" */
  const char *role; /* "event" */
  uint64_t id;
  uint32_t version;
  uint64_t layout;
  uint32_t n_fields;
  es__dfield *fields;
};

typedef struct es__dnamed {
  const char *name;
  const es__jv *json; /* its object in the description */
} es__dnamed;

typedef struct es__dschema {
  const char *name;
  uint32_t format_version;
  uint32_t n_enums, n_types, n_aggregates, n_projections, n_sagas;
  es__denum *enums;
  es__dtype *types;
  es__dnamed *aggregates, *projections, *sagas;
  const es__jv *root;
} es__dschema;

/* Parses description `json` (len bytes) into `*out`, everything allocated
 * from `arena`. Returns 0, or ES_EDECODE with a one-line reason in
 * `why` (may be NULL) for text that is not JSON or not a description of a
 * known format version, ES_EDEPTH, ES_ENOMEM. */
int es__dschema_parse(const char *json, size_t len, es_arena *arena,
                      es__dschema *out, char *why, size_t why_cap);

/* The type with this id and version, or NULL. */
const es__dtype *es__dschema_find(const es__dschema *s, uint64_t id,
                                  uint32_t version);

/* Appends msgpack value `data[0 .. len)` of type `t` to `out` as one line
 * of JSON (the form es_json_write() writes: fields by name, enums by name,
 * uuids as text, bytes as base64). Fields missing at the end (written by
 * an older schema) take their defaults, or null. Returns 0, the msgpack
 * reader's error (ES_ETRUNC, ES_ETYPE, ES_EDEPTH, ...) for bytes that are
 * not such a value (`out` then holds what it held before), or the
 * buffer's error. */
int es__dvalue_json(const es__dtype *t, const uint8_t *data, size_t len,
                    es_buf *out);

#endif
