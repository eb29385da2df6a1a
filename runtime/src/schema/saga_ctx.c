/*
 * saga_ctx.c - recording the effects of a saga handler.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_error.h"
#include "es/es_saga.h"
#include "util/alloc.h"

#define ES__EFFECTS_FIRST 4u

static int saga_fault(es_saga_ctx *c, int rc) {
  if (!c->fault)
    c->fault = rc;
  return rc;
}

void es_saga_ctx_init(es_saga_ctx *c, const es_saga_desc *saga) {
  c->saga = saga;
  c->arena = NULL;
  es_buf_init(&c->payloads, 0);
  c->effects = NULL;
  c->n_effects = 0;
  c->cap_effects = 0;
  c->completed = false;
  c->fault = 0;
  c->key = NULL;
}

void es_saga_ctx_close(es_saga_ctx *c) {
  if (!c)
    return;
  es_buf_close(&c->payloads);
  es__free(c->effects);
  c->effects = NULL;
  c->n_effects = 0;
  c->cap_effects = 0;
}

void es_saga_ctx_reset(es_saga_ctx *c) {
  es_buf_clear(&c->payloads);
  c->n_effects = 0;
  c->completed = false;
  c->fault = 0;
}

/* Length of `s` if it is 1 .. max bytes long, else 0; never reads past
 * max + 1 bytes, so an unterminated buffer can't run away. */
static size_t bounded_len(const char *s, size_t max) {
  size_t n;

  if (!s)
    return 0;
  for (n = 0; n <= max && s[n]; n++)
    ;
  return n <= max ? n : 0;
}

/* A zeroed effect appended to `c`, or NULL with the error in `*rc`. */
static es_effect *effect_add(es_saga_ctx *c, uint32_t kind, int *rc) {
  es_effect *e;

  if (c->n_effects == c->cap_effects) {
    size_t cap; /* size_t: the byte-size check must not be a 32-bit one */
    es_effect *p;

    if (c->cap_effects > UINT32_MAX / 2) {
      *rc = ES_ETOOBIG;
      return NULL;
    }
    cap = c->cap_effects ? (size_t)c->cap_effects * 2 : ES__EFFECTS_FIRST;
    if (cap > SIZE_MAX / sizeof(*p)) {
      *rc = ES_ETOOBIG;
      return NULL;
    }
    p = es__realloc(c->effects, cap * sizeof(*p));
    if (!p) {
      *rc = ES_ENOMEM;
      return NULL;
    }
    c->effects = p;
    c->cap_effects = (uint32_t)cap;
  }
  e = &c->effects[c->n_effects++];
  memset(e, 0, sizeof(*e));
  e->kind = kind;
  return e;
}

/* On failure `payloads` is as it was (its sticky `err` included); the
 * error is kept in `fault`. */
int es_saga_send(es_saga_ctx *c, const es_aggregate_desc *agg, uint32_t command,
                 const char *key, const void *value) {
  const es_saga_desc *saga = c->saga;
  const es_type_desc *t;
  size_t start = c->payloads.len, klen;
  int err = c->payloads.err;
  uint32_t target;
  es_effect *e;
  int rc;

  if (!saga || !agg)
    return saga_fault(c, ES_EINVAL);
  for (target = 0; target < saga->n_sends; target++)
    if (saga->sends[target].aggregate == agg &&
        saga->sends[target].command == command)
      break;
  if (target == saga->n_sends || command >= agg->n_commands)
    return saga_fault(c, ES_ENOTSENT);
  t = agg->commands[command].command;
  klen = bounded_len(key, ES_KEY_MAX);
  if (es_key_check(key, NULL, 0) != 0 || !t || !t->enc || !value)
    return saga_fault(c, ES_EINVAL);

  rc = es_type_encode(t, value, &c->payloads);
  if (!rc)
    rc = c->payloads.err;
  if (rc)
    goto fail;
  e = effect_add(c, ES_EFFECT_SEND, &rc);
  if (!e)
    goto fail;
  e->target = target;
  memcpy(e->key, key, klen);
  e->offset = start;
  e->len = c->payloads.len - start;
  return 0;

fail:
  if (c->payloads.len > start)
    c->payloads.len = start;
  c->payloads.err = err;
  return saga_fault(c, rc);
}

static int saga_timer(es_saga_ctx *c, uint32_t kind, const char *name,
                      int64_t delay_us) {
  size_t n = bounded_len(name, ES_TIMEOUT_NAME_MAX);
  es_effect *e;
  int rc = 0;

  if (!n || delay_us < 0)
    return saga_fault(c, ES_EINVAL);
  e = effect_add(c, kind, &rc);
  if (!e)
    return saga_fault(c, rc);
  memcpy(e->name, name, n);
  e->delay_us = delay_us;
  return 0;
}

int es_saga_schedule(es_saga_ctx *c, const char *name, int64_t delay_us) {
  return saga_timer(c, ES_EFFECT_SCHEDULE, name, delay_us);
}

int es_saga_cancel(es_saga_ctx *c, const char *name) {
  return saga_timer(c, ES_EFFECT_CANCEL, name, 0);
}

void es_saga_complete(es_saga_ctx *c) { c->completed = true; }

void es_key_from_u64(uint64_t k, char out[21]) {
  snprintf(out, 21, "%" PRIu64, k);
}

void es_key_from_uuid(const es_uuid *k, char out[37]) {
  es_uuid_format(k, out);
}
