/*
 * es_types.h - the C types behind the schema language's built-in types.
 *
 *   bool -> bool        i8..i64 -> int8_t..int64_t   u8..u64 -> uint8_t..
 *   f32 -> float        f64 -> double                string -> const char *
 *   bytes -> es_bytes   timestamp -> es_timestamp    uuid -> es_uuid
 *   list<T> -> a struct { T *items; uint32_t count; }
 *
 * Pointers inside these values are never owned by the value: a decoded
 * value points into the arena it was decoded with; a value you build
 * points wherever you like for as long as you use it.
 */
#ifndef ES_TYPES_H
#define ES_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Microseconds since 1970-01-01T00:00:00Z. */
typedef int64_t es_timestamp;

typedef struct es_uuid {
  uint8_t bytes[16];
} es_uuid;

typedef struct es_bytes {
  const uint8_t *data;
  size_t len;
} es_bytes;

#define ES__LIST(name, T)                                                      \
  typedef struct name {                                                        \
    T *items;                                                                  \
    uint32_t count;                                                            \
  } name

ES__LIST(es_bool_list, bool);
ES__LIST(es_i8_list, int8_t);
ES__LIST(es_i16_list, int16_t);
ES__LIST(es_i32_list, int32_t);
ES__LIST(es_i64_list, int64_t);
ES__LIST(es_u8_list, uint8_t);
ES__LIST(es_u16_list, uint16_t);
ES__LIST(es_u32_list, uint32_t);
ES__LIST(es_u64_list, uint64_t);
ES__LIST(es_f32_list, float);
ES__LIST(es_f64_list, double);
ES__LIST(es_string_list, const char *);
ES__LIST(es_bytes_list, es_bytes);
ES__LIST(es_timestamp_list, es_timestamp);
ES__LIST(es_uuid_list, es_uuid);

/* Formats `u` as 36 characters of lowercase 8-4-4-4-12 hex plus a NUL. */
void es_uuid_format(const es_uuid *u, char out[37]);

/* Parses the 8-4-4-4-12 hex form (either case); 0 or ES_EINVAL. */
int es_uuid_parse(es_uuid *u, const char *s);

#ifdef __cplusplus
}
#endif
#endif
