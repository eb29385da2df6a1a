/*
 * es_saga.h - what saga handlers see and produce.
 *
 * A saga handler gets an es_saga_ctx that records its effects: commands to
 * send (through the generated, typed
 * <schema>_<saga>_send_<aggregate>_<command>() wrappers, limited to the
 * schema's `sends`), durable timeouts, and completion. The runtime stores the
 * recorded effects together with the saga's new state before it dispatches any
 * of them (the outbox).
 */
#ifndef ES_SAGA_H
#define ES_SAGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "es_buf.h"
#include "es_decision.h"
#include "es_desc.h"
#include "es_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest timeout name accepted (ES_KEY_MAX, the longest key, is in
 * es_meta.h: stores share it). */
#define ES_TIMEOUT_NAME_MAX 63

/* Why a command a saga sent was rejected. */
struct es_rejection {
  const char *error;   /* the aggregate's error name ("InsufficientFunds") */
  uint32_t code;       /* its 1-based code */
  const char *message; /* the decide function's message; may be "" */
};

/* A timeout that came due. */
struct es_timeout {
  const char *name; /* what es_saga_schedule() was given */
  es_timestamp due;
};

typedef enum es_effect_kind {
  ES_EFFECT_SEND,
  ES_EFFECT_SCHEDULE,
  ES_EFFECT_CANCEL
} es_effect_kind;

typedef struct es_effect {
  uint32_t kind;                      /* es_effect_kind */
  uint32_t target;                    /* SEND: index into saga->sends */
  char key[ES_KEY_MAX + 1];           /* SEND: the target instance */
  char name[ES_TIMEOUT_NAME_MAX + 1]; /* SCHEDULE, CANCEL */
  int64_t delay_us;                   /* SCHEDULE */
  size_t offset, len; /* SEND: the command's msgpack in payloads */
} es_effect;

/* Caller-owned; read the fields, change them through the functions. */
struct es_saga_ctx {
  const es_saga_desc *saga;
  /* The arena the instance's state lives in (the runtime sets it; NULL in
   * a bare context). The event a handler receives was decoded into it, so
   * its strings and lists may be kept in the state as they are; allocate
   * anything new the state keeps from here too. */
  es_arena *arena;
  es_buf payloads;
  es_effect *effects;
  uint32_t n_effects;
  uint32_t cap_effects;
  bool completed;
  int fault; /* first ES_E* met while recording */
  /* The instance's key (the runner sets it before calling a handler; NULL
   * in a bare context). An `on timeout` or `on rejected` handler has no
   * event metadata: this is how it knows which instance it serves. */
  const char *key;
};

void es_saga_ctx_init(es_saga_ctx *c, const es_saga_desc *saga);
void es_saga_ctx_close(es_saga_ctx *c); /* accepts NULL */
void es_saga_ctx_reset(es_saga_ctx *c);

/* Records a command for instance `key` of `agg`. ES_ENOTSENT unless
 * (agg, command) is in the saga's `sends`; ES_EINVAL for an empty or
 * over-long key. */
int es_saga_send(es_saga_ctx *c, const es_aggregate_desc *agg, uint32_t command,
                 const char *key, const void *value);

/* Schedules a durable timeout `delay_us` from now, named `name` (a later
 * schedule with the same name replaces it). */
int es_saga_schedule(es_saga_ctx *c, const char *name, int64_t delay_us);

/* Cancels the pending timeout named `name`, if any. */
int es_saga_cancel(es_saga_ctx *c, const char *name);

/* Marks the instance complete: its pending timeouts are dropped and no
 * later event reaches it. */
void es_saga_complete(es_saga_ctx *c);

/* Formats a u64 or uuid key the way the runtime names instances. */
void es_key_from_u64(uint64_t k, char out[21]);
void es_key_from_uuid(const es_uuid *k, char out[37]);

#ifdef __cplusplus
}
#endif
#endif
