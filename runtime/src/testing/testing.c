/*
 * testing.c - given / when / then on a private memory store (es_testing.h).
 *
 * Given events go straight into the store; when() runs the command through
 * a real es_app, so loading, upcasting, decide, append and apply are the
 * application's own. Checks compare encoded bytes and describe mismatches
 * as JSON in a message the caller's framework prints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_app.h"
#include "es/es_error.h"
#include "es/es_testing.h"
#include "testing/test_given.h"
#include "testing/test_message.h"
#include "util/alloc.h"

struct es_test {
  const es_schema_desc *schema;
  const es_aggregate_desc *agg;
  char key[ES_KEY_MAX + 1];
  es_store *store;
  es_app *app;
  int setup_rc;    /* first failed setup step, 0 if none */
  bool ran;        /* a when() has run */
  es_result last;  /* its result */
  uint64_t before; /* stream version before it */
  uint64_t after;  /* and after it */
  es__message msg; /* "" when nothing failed */
  es_arena arena;  /* decoded values shown in messages, es_test_state() */
  void *state;     /* es_test_state()'s copy */
};

/* ---- the message ----------------------------------------------------------
 */

static void msg_clear(es_test *t) { es__message_clear(&t->msg); }

static void msg_add(es_test *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  es__message_vadd(&t->msg, fmt, ap);
  va_end(ap);
}

static void msg_json(es_test *t, const es_type_desc *type, const void *value) {
  es__message_json(&t->msg, type, value);
}

static void msg_decoded(es_test *t, const es_type_desc *type, const void *p,
                        size_t len) {
  es__message_decoded(&t->msg, &t->arena, type, p, len);
}

/* Appends an event's encoded bytes, with its type, as JSON. */
static void msg_payload(es_test *t, uint64_t type_id, uint32_t version,
                        const void *p, size_t len) {
  const es_type_desc *type = es_schema_find_type(t->schema, type_id, version);
  if (!type) {
    msg_add(t, "<unknown type %016llx v%u, %zu bytes>",
            (unsigned long long)type_id, (unsigned)version, len);
    return;
  }
  msg_add(t, "%s v%u ", type->name, (unsigned)type->version);
  msg_decoded(t, type, p, len);
}

/* ---- setup ----------------------------------------------------------------
 */

static int setup_failed(es_test *t, int rc, const char *what) {
  return es__message_setup_failed(&t->msg, &t->setup_rc, rc, what);
}

es_test *es_test_new(const es_schema_desc *schema, const es_aggregate_desc *agg,
                     const char *key) {
  es_test *t;
  size_t klen;
  uint32_t i;

  if (!schema || !agg || !agg->state || !key)
    return NULL;
  klen = strlen(key);
  if (klen < 1 || klen > ES_KEY_MAX)
    return NULL;
  for (i = 0; i < schema->n_aggregates; i++)
    if (schema->aggregates[i] == agg)
      break;
  if (i == schema->n_aggregates)
    return NULL;
  t = es__calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->schema = schema;
  t->agg = agg;
  memcpy(t->key, key, klen + 1);
  es_arena_init(&t->arena, 0);
  t->state = es__malloc(agg->state->size);
  if (!t->state || es__message_init(&t->msg) != 0 ||
      es_store_open_memory(&t->store, NULL) != 0 ||
      es_app_open(&t->app, schema, t->store, NULL) != 0) {
    es_test_free(t);
    return NULL;
  }
  return t;
}

void es_test_free(es_test *t) {
  if (!t)
    return;
  es_app_close(t->app);
  es_store_close(t->store);
  es_arena_close(&t->arena);
  es__free(t->state);
  es__message_free(&t->msg);
  es__free(t);
}

int es_test_given(es_test *t, const es_type_desc *event, const void *value) {
  es_buf b;
  es_new_event ev;
  int rc;

  if (!t)
    return ES_EINVAL;
  if (!event || !value)
    return setup_failed(t, ES_EINVAL, "given: NULL event type or value");
  if (!es__test_is_event_of(t->agg, event))
    return setup_failed(t, ES_EUNKNOWN, "given: not an event of the aggregate");
  es_buf_init(&b, t->store->opt.max_event_size);
  if ((rc = es__test_encode(event, value, &b, &ev)) != 0) {
    es_buf_close(&b);
    return setup_failed(t, rc, "given: the event does not encode");
  }
  rc = es_store_append_one(t->store, t->agg->name, t->key, es_expect_any(), &ev,
                           1, NULL);
  es_buf_close(&b);
  if (rc != 0)
    return setup_failed(t, rc, "given: append");
  return 0;
}

int es_test_when_opt(es_test *t, const es_type_desc *command, const void *value,
                     const es_exec_options *opt) {
  uint32_t i;
  int rc;

  if (!t)
    return ES_EINVAL;
  memset(&t->last, 0, sizeof t->last);
  t->ran = false;
  if (!command)
    return setup_failed(t, ES_EINVAL, "when: NULL command type");
  for (i = 0; i < t->agg->n_commands; i++)
    if (t->agg->commands[i].command == command)
      break;
  if (i == t->agg->n_commands)
    return setup_failed(t, ES_EUNKNOWN, "when: not a command of the aggregate");
  if ((rc = es_store_stream_version(t->store, t->agg->name, t->key,
                                    &t->before)) != 0)
    return setup_failed(t, rc, "when: stream version");
  rc = es_app_execute_value(t->app, t->agg, i, t->key, value, opt, &t->last);
  t->last.rc = rc;
  if (es_store_stream_version(t->store, t->agg->name, t->key, &t->after) != 0)
    t->after = t->before;
  t->ran = true;
  return rc;
}

int es_test_when(es_test *t, const es_type_desc *command, const void *value) {
  return es_test_when_opt(t, command, value, NULL);
}

/* ---- checks ---------------------------------------------------------------
 */

/* One appended event, copied out of the store. */
typedef struct stored {
  uint64_t type_id;
  uint32_t version;
  size_t offset, len; /* into the payload buffer */
} stored;

typedef struct collect {
  stored *items;
  uint32_t n;
  uint64_t cap;
  es_buf bytes;
} collect;

static int collect_one(const es_stored_event *ev, void *arg) {
  collect *c = arg;
  if (es__grow_array(&c->items, &c->cap, (uint64_t)c->n + 1, sizeof *c->items))
    return ES_ENOMEM;
  c->items[c->n].type_id = ev->meta.type_id;
  c->items[c->n].version = ev->meta.type_version;
  c->items[c->n].offset = c->bytes.len;
  c->items[c->n].len = ev->len;
  es_buf_append(&c->bytes, ev->payload, ev->len);
  if (c->bytes.err)
    return c->bytes.err;
  c->n++;
  return 0;
}

/* Reads the events the last when() appended into `c`. */
static int read_appended(es_test *t, collect *c) {
  memset(c, 0, sizeof *c);
  es_buf_init(&c->bytes, 0);
  if (t->after <= t->before)
    return 0;
  return es_store_read_stream(t->store, t->agg->name, t->key, t->before + 1,
                              (uint32_t)(t->after - t->before), collect_one, c);
}

static void collect_close(collect *c) {
  es__free(c->items);
  es_buf_close(&c->bytes);
}

/* Describes the appended events, one per line. */
static void msg_events(es_test *t, const collect *c) {
  for (uint32_t i = 0; i < c->n; i++) {
    msg_add(t, "\n    [%u] ", i);
    msg_payload(t, c->items[i].type_id, c->items[i].version,
                c->bytes.data + c->items[i].offset, c->items[i].len);
  }
}

/* Describes what the last when() did instead of what a check wanted. */
static void msg_outcome(es_test *t) {
  const es_result *r = &t->last;
  switch (r->outcome) {
  case ES_OUTCOME_REJECTED:
    msg_add(t, "the command was rejected with %s",
            r->error_name ? r->error_name : "?");
    if (r->message[0])
      msg_add(t, " (\"%s\")", r->message);
    break;
  case ES_OUTCOME_CONFLICT:
    msg_add(t, "the command met a version conflict (%s)", es_err_name(r->rc));
    break;
  case ES_OUTCOME_OK:
    msg_add(t, "the command succeeded");
    break;
  default:
    msg_add(t, "the command failed with %s (%s)", es_err_name(r->rc),
            es_strerror(r->rc));
    break;
  }
}

/* Common preconditions of the then checks. */
static bool can_check(es_test *t, const char *check) {
  return t && es__message_check_start(&t->msg, &t->arena, t->setup_rc, t->ran,
                                      check, "when()");
}

bool es_test_then_events(es_test *t, uint32_t n, ...) {
  collect c;
  va_list ap;
  bool same;
  int rc;

  if (!can_check(t, "then_events"))
    return false;
  if (t->last.rc != 0) {
    msg_add(t, "expected %u event(s), but ", (unsigned)n);
    msg_outcome(t);
    return false;
  }
  if ((rc = read_appended(t, &c)) != 0) {
    collect_close(&c);
    msg_add(t, "then_events: reading the stream: %s", es_err_name(rc));
    return false;
  }
  same = c.n == n;
  /* Encode every expected event, comparing as we go; keep the encodings
   * (back to back in `exp`) for the message. */
  es_buf exp;
  size_t *at = es__calloc(n + 1, sizeof *at);
  const es_type_desc **types = es__calloc(n + 1, sizeof *types);
  const void **values = es__calloc(n + 1, sizeof *values);
  es_buf_init(&exp, 0);
  if (!at || !types || !values) {
    msg_add(t, "then_events: out of memory");
    same = false;
    goto out;
  }
  va_start(ap, n);
  for (uint32_t i = 0; i < n; i++) {
    types[i] = va_arg(ap, const es_type_desc *);
    values[i] = va_arg(ap, const void *);
  }
  va_end(ap);
  for (uint32_t i = 0; i < n; i++) {
    at[i] = exp.len;
    if (!types[i] || !values[i] ||
        (rc = es_type_encode(types[i], values[i], &exp)) != 0) {
      msg_add(t, "then_events: expected event [%u] %s", i,
              types[i] ? "does not encode" : "is NULL");
      same = false;
      goto out;
    }
    if (i < c.n && (c.items[i].type_id != types[i]->type_id ||
                    c.items[i].version != types[i]->version ||
                    c.items[i].len != exp.len - at[i] ||
                    memcmp(c.bytes.data + c.items[i].offset, exp.data + at[i],
                           c.items[i].len) != 0))
      same = false;
  }
  if (!same) {
    msg_add(t, "expected %u event(s):", (unsigned)n);
    for (uint32_t i = 0; i < n; i++) {
      msg_add(t, "\n    [%u] %s v%u ", i, types[i]->name,
              (unsigned)types[i]->version);
      msg_json(t, types[i], values[i]);
    }
    msg_add(t, "\n  but the command appended %u:", c.n);
    msg_events(t, &c);
  }
out:
  es__free(at);
  es__free(types);
  es__free(values);
  es_buf_close(&exp);
  collect_close(&c);
  return same;
}

bool es_test_then_rejected(es_test *t, const char *error) {
  collect c;
  if (!can_check(t, "then_rejected"))
    return false;
  if (t->last.outcome == ES_OUTCOME_REJECTED &&
      (!error || (t->last.error_name && !strcmp(t->last.error_name, error))))
    return true;
  msg_add(t, "expected rejection %s, but ", error ? error : "(any)");
  msg_outcome(t);
  if (t->last.outcome == ES_OUTCOME_OK && read_appended(t, &c) == 0) {
    msg_add(t, ", appending %u event(s):", c.n);
    msg_events(t, &c);
    collect_close(&c);
  } else if (t->last.outcome == ES_OUTCOME_OK) {
    collect_close(&c);
  }
  return false;
}

bool es_test_then_rc(es_test *t, int rc) {
  if (!can_check(t, "then_rc"))
    return false;
  if (t->last.rc == rc)
    return true;
  msg_add(t, "expected %s, but ", es_err_name(rc));
  msg_outcome(t);
  return false;
}

/* What es_app_read_state() hands the state to. */
typedef struct state_ctx {
  const es_type_desc *type;
  es_buf *bytes;
} state_ctx;

static int encode_state(const void *state, uint64_t version, void *arg) {
  state_ctx *c = arg;
  (void)version;
  return es_type_encode(c->type, state, c->bytes);
}

/* Encodes the current state into `b`. */
static int current_state(es_test *t, es_buf *b) {
  state_ctx c = {t->agg->state, b};
  return es_app_read_state(t->app, t->agg, t->key, encode_state, &c);
}

const void *es_test_state(es_test *t) {
  const es_type_desc *st;
  es_buf b;
  int rc;
  if (!t || t->setup_rc)
    return NULL;
  st = t->agg->state;
  msg_clear(t);
  es_arena_reset(&t->arena);
  es_buf_init(&b, 0);
  rc = current_state(t, &b);
  if (rc == 0) {
    es_type_init(st, t->state);
    rc = es_type_decode(st, t->state, b.data, b.len, &t->arena);
  }
  es_buf_close(&b);
  if (rc != 0) {
    msg_add(t, "state: %s (%s)", es_err_name(rc), es_strerror(rc));
    return NULL;
  }
  return t->state;
}

bool es_test_then_state(es_test *t, const void *expected) {
  const es_type_desc *st;
  es_buf have, want;
  bool same = false;
  int rc;

  if (!t || t->setup_rc)
    return false;
  msg_clear(t);
  es_arena_reset(&t->arena);
  st = t->agg->state;
  es_buf_init(&have, 0);
  es_buf_init(&want, 0);
  if (!expected) {
    msg_add(t, "then_state: NULL expected state");
    goto out;
  }
  if ((rc = current_state(t, &have)) != 0) {
    msg_add(t, "then_state: loading the state: %s", es_err_name(rc));
    goto out;
  }
  if ((rc = es_type_encode(st, expected, &want)) != 0) {
    msg_add(t, "then_state: the expected state does not encode: %s",
            es_err_name(rc));
    goto out;
  }
  same = have.len == want.len && memcmp(have.data, want.data, have.len) == 0;
  if (!same) {
    msg_add(t, "expected state ");
    msg_json(t, st, expected);
    msg_add(t, "\n  but it is    ");
    msg_decoded(t, st, have.data, have.len);
  }
out:
  es_buf_close(&have);
  es_buf_close(&want);
  return same;
}

const char *es_test_message(const es_test *t) {
  return t ? es__message_text(&t->msg) : "";
}

const es_result *es_test_result(const es_test *t) {
  return t ? &t->last : NULL;
}

es_app *es_test_app(es_test *t) { return t ? t->app : NULL; }

es_store *es_test_store(es_test *t) { return t ? t->store : NULL; }
