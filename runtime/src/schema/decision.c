/*
 * decision.c - recording what a decide function emits or why it rejects.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_decision.h"
#include "es/es_error.h"
#include "util/alloc.h"

#define ES__EMITTED_FIRST 4u

/* Keeps the first fault (later ones are usually its consequences) and
 * returns `rc` so call sites can `return decision_fault(d, rc)`. */
static int decision_fault(es_decision *d, int rc) {
  if (!d->fault)
    d->fault = rc;
  return rc;
}

void es_decision_init(es_decision *d, const es_aggregate_desc *agg,
                      uint32_t command) {
  d->aggregate = agg;
  d->command = command;
  es_buf_init(&d->payloads, 0);
  d->emitted = NULL;
  d->n_emitted = 0;
  d->cap_emitted = 0;
  d->error = 0;
  d->message[0] = '\0';
  d->fault = 0;
}

void es_decision_close(es_decision *d) {
  if (!d)
    return;
  es_buf_close(&d->payloads);
  es__free(d->emitted);
  d->emitted = NULL;
  d->n_emitted = 0;
  d->cap_emitted = 0;
}

void es_decision_reset(es_decision *d, uint32_t command) {
  d->command = command;
  es_buf_clear(&d->payloads);
  d->n_emitted = 0;
  d->error = 0;
  d->message[0] = '\0';
  d->fault = 0;
}

/* Room for one more es_emitted. */
static int emitted_reserve(es_decision *d) {
  size_t cap; /* size_t: the byte-size check must not be a 32-bit one */
  es_emitted *p;

  if (d->n_emitted < d->cap_emitted)
    return 0;
  if (d->cap_emitted > UINT32_MAX / 2)
    return ES_ETOOBIG;
  cap = d->cap_emitted ? (size_t)d->cap_emitted * 2 : ES__EMITTED_FIRST;
  if (cap > SIZE_MAX / sizeof(*p))
    return ES_ETOOBIG;
  p = es__realloc(d->emitted, cap * sizeof(*p));
  if (!p)
    return ES_ENOMEM;
  d->emitted = p;
  d->cap_emitted = (uint32_t)cap;
  return 0;
}

/* Whether the command being decided may emit `t` (compared by address:
 * descriptors are unique per type and version). */
static int may_emit(const es_decision *d, const es_type_desc *t) {
  const es_aggregate_desc *agg = d->aggregate;
  const es_command_route *cmd;
  uint32_t i;

  if (!agg || d->command >= agg->n_commands)
    return 0;
  cmd = &agg->commands[d->command];
  for (i = 0; i < cmd->n_emits; i++)
    if (cmd->emits[i] < agg->n_events && agg->events[cmd->emits[i]].event == t)
      return 1;
  return 0;
}

/* On failure `payloads` is as it was (its sticky `err` included), so the
 * decide function may still reject; the error is kept in `fault`. */
int es_decision_emit(es_decision *d, const es_type_desc *t, const void *event) {
  size_t start = d->payloads.len;
  int err = d->payloads.err;
  es_emitted *e;
  int rc;

  if (!t || !t->enc || !event)
    return decision_fault(d, ES_EINVAL);
  if (!may_emit(d, t))
    return decision_fault(d, ES_ENOTEMITTED);
  rc = emitted_reserve(d);
  if (rc)
    return decision_fault(d, rc);

  rc = es_type_encode(t, event, &d->payloads);
  if (!rc)
    rc = d->payloads.err;
  if (rc) {
    if (d->payloads.len > start)
      d->payloads.len = start;
    d->payloads.err = err;
    return decision_fault(d, rc);
  }

  e = &d->emitted[d->n_emitted++];
  e->type = t;
  e->offset = start;
  e->len = d->payloads.len - start;
  return 0;
}

/* Length of the longest prefix of `s` (at most `max` bytes) that does not
 * end inside a UTF-8 sequence, so a cut message stays valid UTF-8. */
static size_t utf8_cut(const char *s, size_t max) {
  size_t n, i;

  for (n = 0; n <= max && s[n]; n++)
    ;
  if (n <= max)
    return n;
  i = max;
  /* back up over continuation bytes to the lead byte at or before the cut */
  while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80 && max - i < 3)
    i--;
  return ((unsigned char)s[i] & 0xc0) == 0x80 ? max : i;
}

/* The first rejection stands: a decide function that rejects twice most
 * likely meant the first reason. */
int es_decision_reject(es_decision *d, uint32_t error, const char *message) {
  size_t n;

  if (!d->aggregate || error == 0 || error > d->aggregate->n_errors)
    return decision_fault(d, ES_EINVAL);
  if (d->error)
    return ES_EREJECTED;
  d->error = error;
  n = message ? utf8_cut(message, ES_MESSAGE_MAX - 1) : 0;
  if (n)
    memcpy(d->message, message, n);
  d->message[n] = '\0';
  return ES_EREJECTED;
}

const char *es_decision_error_name(const es_decision *d) {
  if (!d->aggregate || !d->aggregate->errors || d->error == 0 ||
      d->error > d->aggregate->n_errors)
    return NULL;
  return d->aggregate->errors[d->error - 1];
}
