/*
 * es_meta.h - the metadata stored with every event.
 */
#ifndef ES_META_H
#define ES_META_H

#include <stddef.h>
#include <stdint.h>

#include "es_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest stream key (an aggregate or saga instance key) and the
 * longest aggregate type name, in bytes; keys are 1 .. ES_KEY_MAX bytes
 * and never contain a NUL. */
#define ES_KEY_MAX 255
#define ES_STREAM_TYPE_MAX 255

/* What an instance key may be, at every entry (the store's appends and
 * snapshot puts, and every es_app execute entry): 1 .. ES_KEY_MAX bytes of
 * well-formed UTF-8 with no control character (U+0000-U+001F, U+007F-
 * U+009F). Anything else printable is allowed, '/' and ".." included:
 * keys never become file names, and a tool that names a stream as
 * "TYPE/KEY" splits at the first '/' (type names never hold one).
 * Aggregates keyed `u64` or `uuid` ask more of their keys (docs/runtime.md).
 * Returns 0, or ES_EINVAL with the reason ("empty key", "invalid UTF-8 at
 * byte 3 (0xff)", ...) in `why` (`cap` bytes; may be NULL). */
int es_key_check(const char *key, char *why, size_t cap);

typedef struct es_event_meta es_event_meta;
struct es_event_meta {
  es_uuid event_id;
  const char *aggregate; /* the stream: aggregate type name ... */
  const char *key;       /* ... and instance key */
  uint64_t version;      /* 1-based, within the stream */
  uint64_t position;     /* 1-based, in the store's global order */
  uint64_t type_id;
  uint32_t type_version; /* the version the event was written with */
  es_timestamp timestamp;
  es_uuid correlation_id;
  es_uuid causation_id;
};

#ifdef __cplusplus
}
#endif
#endif
