/*
 * value_check.h - checking a value against its type's descriptor, and
 * saying which field of a value (in memory or as msgpack) breaks a rule of
 * the schema: the same rules the generated codecs apply, with words.
 *
 * Internal to libes. Messages name the field by its path ("items[2].sku")
 * and the type by its schema name, for example
 *   field 'owner' of command 'Account.Open': 201 bytes, max 200
 * (lowercase, no final period), and are cut to fit `cap` bytes.
 */
#ifndef ES__VALUE_CHECK_H
#define ES__VALUE_CHECK_H

#include <stddef.h>

#include "es/es_desc.h"

/* Checks the value at `value` of type `t` as its encoder would: string
 * and byte lengths and list counts within their `max`, enums within their
 * values, no NULL array behind a nonzero count or length, records nested
 * at most ES_MP_MAX_DEPTH deep. `role` names what `t` is ("command").
 * Returns 0, or ES_EBOUND, ES_EENUM, ES_EINVAL, ES_EDEPTH with what was
 * wrong in `why` (when not NULL). */
int es__value_check(const es_type_desc *t, const char *role, const void *value,
                    char *why, size_t cap);

/* Explains why `t->decode` refused the msgpack `data[0 .. len)` with
 * `rc`: the first field whose bytes break a rule (wrong type, over its
 * bound, unknown enum value, missing), or the code's message when no
 * field is to blame. Writes the sentence into `why`. */
void es__decode_why(const es_type_desc *t, const char *role, const void *data,
                    size_t len, int rc, char *why, size_t cap);

#endif
