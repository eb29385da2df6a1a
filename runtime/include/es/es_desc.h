/*
 * es_desc.h - const descriptors that generated code fills in.
 *
 * Every type in a schema gets an es_type_desc (name, stable id, version,
 * size, fields with offsets), enough for a generic tool to walk any value;
 * the codecs themselves are generated straight-line functions that the
 * descriptor points to. Aggregates, projections and sagas get descriptors
 * that together form the routing table of a schema (es_schema_desc).
 */
#ifndef ES_DESC_H
#define ES_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "es_arena.h"
#include "es_buf.h"
#include "es_mp.h"
#include "es_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The wire and memory kind of one field (or of a list's elements). */
typedef enum es_kind {
  ES_KIND_BOOL,
  ES_KIND_I8,
  ES_KIND_I16,
  ES_KIND_I32,
  ES_KIND_I64,
  ES_KIND_U8,
  ES_KIND_U16,
  ES_KIND_U32,
  ES_KIND_U64,
  ES_KIND_F32,
  ES_KIND_F64,
  ES_KIND_STRING,
  ES_KIND_BYTES,
  ES_KIND_TIMESTAMP,
  ES_KIND_UUID,
  ES_KIND_ENUM,  /* stored as a C enum (int), sent as an unsigned integer */
  ES_KIND_RECORD /* stored inline, or behind a pointer when optional */
} es_kind;

/* What a type is for. */
typedef enum es_role {
  ES_ROLE_RECORD,
  ES_ROLE_STATE,
  ES_ROLE_COMMAND,
  ES_ROLE_EVENT,
  ES_ROLE_SAGA_STATE
} es_role;

/* How instances of an aggregate or saga are keyed. */
typedef enum es_key_kind { ES_KEY_STRING, ES_KEY_U64, ES_KEY_UUID } es_key_kind;

typedef struct es_type_desc es_type_desc;

typedef struct es_enum_desc {
  const char *name;          /* "Currency" */
  uint32_t count;            /* values are 0 .. count-1 */
  const char *const *values; /* their names */
} es_enum_desc;

/* One field of a struct, or (through `elem`) the elements of a list. A
 * list of lists is a chain: the field describes the outer list, its
 * `elem` one inner list, whose `elem` describes that list's elements, and
 * so on; each level has its own `max`. `kind`, `record` and
 * `enumeration` are those of the innermost elements at every level. */
typedef struct es_field_desc {
  const char *name;
  uint8_t kind;     /* es_kind; of the innermost elements when is_list */
  uint8_t is_list;  /* an es_*_list or <schema>_<type>_list struct */
  uint8_t optional; /* presence in the bool at has_offset */
  uint8_t reserved;
  uint32_t max;      /* bytes (string, bytes) or items (list); 0: none */
  size_t offset;     /* offsetof the value in its struct; 0 for elements */
  size_t has_offset; /* offsetof has_<name>; meaningful when optional */
  size_t elem_size;  /* sizeof one list element; 0 unless is_list */
  const es_type_desc *record;      /* ES_KIND_RECORD */
  const es_enum_desc *enumeration; /* ES_KIND_ENUM */
  /* When is_list: one element (never optional), with the element's own
   * bound and, when the elements are lists, their elements. NULL in a
   * descriptor written by hand means an element of `kind` without a
   * bound. */
  const struct es_field_desc *elem;
} es_field_desc;

/* Straight-line functions generated per type. `init` sets a value's
 * defaults. A record's encoder writes the value's fields as one msgpack
 * array `depth` arrays deep, recording failures in the es_buf's sticky
 * `err`; its decoder reads one, putting every string, byte string and list
 * into `a`, and returns 0 or an ES_E* code. es_type_encode() and
 * es_type_decode() call them for a whole value. */
typedef void (*es_init_fn)(void *value);
typedef void (*es_enc_record_fn)(const void *value, es_buf *b, int depth);
typedef int (*es_dec_record_fn)(es_mp_reader *r, void *value, es_arena *a);

/* Rows of the field tables esgen writes, for a field that is not a list
 * (a list's row is written out in full): T is the struct, m the member,
 * which is also the field's name, K the es_kind without ES_KIND_, `max`
 * its bound (0: none), E an es_enum_desc and R an es_type_desc. */
#define ES_FIELD_ROW_(m, K, opt, max, off, has, rec, enu)                      \
  { #m, K, 0, opt, 0, max, off, has, 0, rec, enu, NULL }
#define ES_FIELD(T, m, K, max)                                                 \
  ES_FIELD_ROW_(m, ES_KIND_##K, 0, max, offsetof(T, m), 0, NULL, NULL)
/* An optional value: present when the struct's `has_m` is true. */
#define ES_FIELD_HAS(T, m, K, max)                                             \
  ES_FIELD_ROW_(m, ES_KIND_##K, 1, max, offsetof(T, m), offsetof(T, has_##m),  \
                NULL, NULL)
#define ES_FIELD_ENUM(T, m, E)                                                 \
  ES_FIELD_ROW_(m, ES_KIND_ENUM, 0, 0, offsetof(T, m), 0, NULL, &(E))
#define ES_FIELD_ENUM_HAS(T, m, E)                                             \
  ES_FIELD_ROW_(m, ES_KIND_ENUM, 1, 0, offsetof(T, m), offsetof(T, has_##m),   \
                NULL, &(E))
/* A record held by value. */
#define ES_FIELD_RECORD(T, m, R)                                               \
  ES_FIELD_ROW_(m, ES_KIND_RECORD, 0, 0, offsetof(T, m), 0, &(R), NULL)
/* An optional record: a pointer, NULL when absent. */
#define ES_FIELD_RECORD_PTR(T, m, R)                                           \
  ES_FIELD_ROW_(m, ES_KIND_RECORD, 1, 0, offsetof(T, m), 0, &(R), NULL)

#define ES_TYPE_DESC_MAGIC 0x45534431u /* "ESD1" */

struct es_type_desc {
  uint32_t magic;       /* ES_TYPE_DESC_MAGIC */
  uint32_t role;        /* es_role */
  const char *name;     /* schema name, qualified: "Account.Deposited" */
  const char *c_name;   /* "bank_account_deposited" */
  uint64_t type_id;     /* FNV-1a 64 of "bank.Account.Deposited": stable */
  uint64_t layout_hash; /* changes whenever a field's name or type does */
  uint32_t version;     /* the N of `vN`; 1 when not given */
  uint32_t n_fields;
  const es_field_desc *fields;
  size_t size;     /* sizeof the C struct */
  es_init_fn init; /* NULL: the defaults are all zero */
  es_enc_record_fn enc;
  es_dec_record_fn dec;
};

/* Sets `value` (t->size bytes) to the type's defaults. */
void es_type_init(const es_type_desc *t, void *value);

/* Encodes `value` of type `t` at the end of `b`; on failure `b` is left as
 * it was. Returns 0 or the ES_E* code. */
int es_type_encode(const es_type_desc *t, const void *value, es_buf *b);

/* Decodes the `len` bytes at `data` into `value` of type `t` (strings,
 * bytes and lists into `a`); every byte must belong to the value. Returns
 * 0 or the ES_E* code. */
int es_type_decode(const es_type_desc *t, void *value, const void *data,
                   size_t len, es_arena *a);

/* ---- routing ---------------------------------------------------------- */

typedef struct es_decision es_decision;
typedef struct es_saga_ctx es_saga_ctx;
typedef struct es_event_meta es_event_meta;
typedef struct es_rejection es_rejection;
typedef struct es_timeout es_timeout;
typedef struct es_aggregate_desc es_aggregate_desc;

typedef int (*es_decide_fn)(const void *state, const void *command,
                            es_decision *d);
typedef void (*es_apply_fn)(void *state, const void *event, es_arena *arena);
typedef int (*es_upcast_fn)(const void *from, void *to, es_arena *arena);
typedef int (*es_projection_fn)(const void *event, const es_event_meta *meta,
                                void *ctx);
typedef int (*es_saga_event_fn)(void *state, const void *event,
                                const es_event_meta *meta, es_saga_ctx *ctx);
typedef int (*es_saga_rejected_fn)(void *state, const void *command,
                                   const es_rejection *why, es_saga_ctx *ctx);
typedef int (*es_saga_timeout_fn)(void *state, const es_timeout *t,
                                  es_saga_ctx *ctx);

typedef struct es_command_route {
  const es_type_desc *command;
  es_decide_fn decide;
  uint32_t n_emits;
  const uint32_t *emits; /* indexes into the aggregate's events */
} es_command_route;

/* An older shape of an event and the upcaster lifting it one version. */
typedef struct es_event_version {
  const es_type_desc *type;
  es_upcast_fn upcast; /* from `type` to the next version */
} es_event_version;

/* Who else reads an event: projection or saga handlers. */
typedef struct es_subscriber {
  uint8_t is_saga;
  uint32_t index;   /* into es_schema_desc.projections or .sagas */
  uint32_t handler; /* into that projection's or saga's handlers */
} es_subscriber;

typedef struct es_event_route {
  const es_type_desc *event; /* the current version */
  es_apply_fn apply;
  uint32_t n_old;
  const es_event_version *old; /* oldest first; old[i] lifts to i+1 */
  uint32_t n_subscribers;
  const es_subscriber *subscribers;
} es_event_route;

struct es_aggregate_desc {
  const char *name;          /* "Account" */
  uint32_t key_kind;         /* es_key_kind */
  const es_type_desc *state; /* NULL for an aggregate without state */
  uint32_t n_commands;
  const es_command_route *commands;
  uint32_t n_events;
  const es_event_route *events;
  uint32_t n_errors;
  const char *const *errors; /* error codes are 1 .. n_errors */
  uint32_t snapshot_every;   /* 0: no snapshots */
};

typedef struct es_projection_handler {
  const es_aggregate_desc *aggregate;
  uint32_t event; /* index into aggregate->events */
  es_projection_fn handler;
} es_projection_handler;

typedef struct es_projection_desc {
  const char *name;
  uint32_t n_handlers;
  const es_projection_handler *handlers;
} es_projection_desc;

typedef struct es_saga_handler {
  const es_aggregate_desc *aggregate;
  uint32_t event;          /* index into aggregate->events */
  uint8_t starts;          /* `start on`: may create the instance */
  const es_field_desc *by; /* correlation field; NULL: the stream key */
  es_saga_event_fn handler;
} es_saga_handler;

typedef struct es_saga_target {
  const es_aggregate_desc *aggregate;
  uint32_t command;                /* index into aggregate->commands */
  es_saga_rejected_fn on_rejected; /* NULL without `on rejected` */
} es_saga_target;

typedef struct es_saga_desc {
  const char *name;
  uint32_t key_kind; /* es_key_kind */
  const es_type_desc *state;
  uint32_t n_handlers;
  const es_saga_handler *handlers;
  uint32_t n_sends;
  const es_saga_target *sends;
  es_saga_timeout_fn on_timeout; /* NULL without `on timeout` */
} es_saga_desc;

typedef struct es_schema_desc {
  uint32_t abi; /* ES_ABI_VERSION the code was generated for */
  const char *name;
  uint32_t n_aggregates;
  const es_aggregate_desc *const *aggregates;
  uint32_t n_projections;
  const es_projection_desc *const *projections;
  uint32_t n_sagas;
  const es_saga_desc *const *sagas;
  uint32_t n_types;
  const es_type_desc *const *types; /* every type, sorted by type_id */
  /* The schema's JSON description (docs/schema-json.md, `esgen --json`),
   * NUL-terminated; es_app_open() records it in the store so tools can
   * decode its events without the application. NULL: none. */
  const char *description;
  size_t description_len;
} es_schema_desc;

/* The type with this id and version in `schema`, or NULL. */
const es_type_desc *es_schema_find_type(const es_schema_desc *schema,
                                        uint64_t type_id, uint32_t version);

/* The aggregate named `name`, or NULL. */
const es_aggregate_desc *es_schema_find_aggregate(const es_schema_desc *schema,
                                                  const char *name);

/* Index of the command or event named `name` in `agg`, or -1. */
int es_aggregate_find_command(const es_aggregate_desc *agg, const char *name);
int es_aggregate_find_event(const es_aggregate_desc *agg, const char *name);

/* FNV-1a 64 of a string: how type ids are made. */
uint64_t es_fnv1a64(const char *s);

/* Appends `value` of type `t` to `out` as one line of JSON, walking the
 * descriptor (bytes and uuids as strings, enums by name). */
int es_json_write(const es_type_desc *t, const void *value, es_buf *out);

#ifdef __cplusplus
}
#endif
#endif
