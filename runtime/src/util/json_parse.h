/*
 * json_parse.h - a small, bounded JSON reader: text into a tree of values
 * in an arena, for schema descriptions and JSON lines that tools import.
 */
#ifndef ES__JSON_PARSE_H
#define ES__JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "es/es_arena.h"

typedef enum es__jv_kind {
  ES__JV_NULL,
  ES__JV_BOOL,
  ES__JV_NUM,
  ES__JV_STR,
  ES__JV_ARR,
  ES__JV_OBJ
} es__jv_kind;

typedef struct es__jv es__jv;

/* One value. Strings are unescaped and NUL-terminated (`n` bytes, which
 * may include a NUL from "\u0000"); numbers keep their text in `s`. Arrays
 * and objects hold `count` values in `items`; objects also their names in
 * `keys`, in document order. */
struct es__jv {
  es__jv_kind kind;
  bool b;
  const char *s;
  size_t n;
  size_t count;
  es__jv *items;
  const char **keys;
};

/* Parses exactly one JSON value from text[0 .. len) (surrounding white
 * space allowed) into `*out`, allocating from `arena`. Arrays and objects
 * nest at most 64 deep. Returns 0, ES_EDECODE for text that is not JSON
 * (`*err_at`, may be NULL, gets the byte offset of the problem), ES_EDEPTH
 * or ES_ENOMEM. */
int es__json_parse(const char *text, size_t len, es_arena *arena, es__jv **out,
                   size_t *err_at);

/* Member `name` of object `v`, or NULL (also when `v` is not an object). */
const es__jv *es__jv_get(const es__jv *v, const char *name);

/* The string of member `name`, or NULL when absent or not a string. */
const char *es__jv_str(const es__jv *v, const char *name);

/* Member `name` as an unsigned integer: 0 when it is one (`*out` set),
 * else ES_EINVAL (absent, not a number, negative, fraction, too large). */
int es__jv_u64(const es__jv *v, const char *name, uint64_t *out);

/* A number value as integers; 0 or ES_EINVAL / ES_ERANGE. */
int es__jv_to_u64(const es__jv *v, uint64_t *out);
int es__jv_to_i64(const es__jv *v, int64_t *out);

#endif
