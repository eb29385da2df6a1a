/*
 * kind.h - what the kinds of es_desc.h have in common on the wire.
 *
 * Internal to libes.
 */
#ifndef ES__KIND_H
#define ES__KIND_H

#include <stdbool.h>

#include "es/es_desc.h"

/* Whether a value of `kind` is a msgpack integer: the sized integer kinds
 * and timestamps (an i64). */
static inline bool es__kind_is_integer(int kind) {
  return (kind >= ES_KIND_I8 && kind <= ES_KIND_U64) ||
         kind == ES_KIND_TIMESTAMP;
}

#endif
