/*
 * es_decision.h - what a decide function produces.
 *
 * A decide stub receives an es_decision and either emits events into it
 * (through the generated <schema>_<aggregate>_emit_<event>() wrappers,
 * which encode at once, so the event may live on the stack) or rejects the
 * command with one of the aggregate's errors. Nothing is stored until the
 * decide function has returned 0.
 */
#ifndef ES_DECISION_H
#define ES_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include "es_buf.h"
#include "es_desc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest rejection message kept; longer ones are cut. */
#define ES_MESSAGE_MAX 256

typedef struct es_emitted {
  const es_type_desc *type;
  size_t offset; /* where the payload starts in es_decision.payloads */
  size_t len;
} es_emitted;

/* Caller-owned; read the fields, change them only through the functions. */
struct es_decision {
  const es_aggregate_desc *aggregate;
  uint32_t command; /* index into aggregate->commands */
  es_buf payloads;  /* msgpack of every emitted event, back to back */
  es_emitted *emitted;
  uint32_t n_emitted;
  uint32_t cap_emitted;
  uint32_t error; /* 0, or the rejecting error's code (1-based) */
  char message[ES_MESSAGE_MAX];
  int fault; /* first ES_E* met while emitting, 0 if none */
};

/* Prepares `d` for one decision on command number `command` of `agg`. */
void es_decision_init(es_decision *d, const es_aggregate_desc *agg,
                      uint32_t command);

/* Frees what `d` holds. Accepts NULL. */
void es_decision_close(es_decision *d);

/* Forgets emitted events and any rejection, keeping allocations. */
void es_decision_reset(es_decision *d, uint32_t command);

/* Encodes `event` (of type `t`) and records it. Returns 0, or
 * ES_ENOTEMITTED when `t` is not in the command's `emits` list, or the
 * encoder's error. Errors are also kept in `fault`. */
int es_decision_emit(es_decision *d, const es_type_desc *t, const void *event);

/* Rejects the command with `error` (1 .. aggregate->n_errors) and an
 * optional message (copied). Returns ES_EREJECTED, which decide may
 * return as is. */
int es_decision_reject(es_decision *d, uint32_t error, const char *message);

/* The rejecting error's name ("InsufficientFunds"), or NULL. */
const char *es_decision_error_name(const es_decision *d);

#ifdef __cplusplus
}
#endif
#endif
