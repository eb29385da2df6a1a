/*
 * testing_saga.c - given events, rejections and elapsed time; then the
 * commands sent, the timeouts pending, completion (es_testing_saga.h).
 *
 * The saga runs in the real runner on a memory store with the test's
 * clock. The runner's commands come here (es_saga_options.execute)
 * instead of an executor: each is recorded (its target, key and encoded
 * bytes) and answered - accepted with no events, or rejected when the test
 * arranged it - so the saga's reactions to both are the runner's own.
 * Checks compare encoded bytes and describe mismatches as JSON in a
 * message the caller's framework prints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_app.h"
#include "es/es_error.h"
#include "es/es_testing_saga.h"
#include "testing/test_given.h"
#include "testing/test_message.h"
#include "util/alloc.h"

#define START_US INT64_C(1700000000000000)

/* One command the runner dispatched. */
typedef struct sent_cmd {
  const es_aggregate_desc *agg;
  uint32_t command; /* index into agg->commands */
  char key[ES_KEY_MAX + 1];
  size_t offset, len;   /* its msgpack, in es_saga_test.bytes */
  es_uuid id;           /* the runner's command id */
  const char *rejected; /* the error it was rejected with, or NULL */
  bool claimed;         /* by a then_sent() */
} sent_cmd;

/* One rejection reject() arranged. */
typedef struct arranged {
  const es_aggregate_desc *agg;
  uint32_t command;
  char key[ES_KEY_MAX + 1]; /* "" matches every instance */
  uint32_t error;           /* 1-based */
  bool used;
} arranged;

struct es_saga_test {
  const es_schema_desc *schema;
  const es_saga_desc *saga;
  es_store *store;
  es_app *app; /* the runner needs one; the commands never reach it */
  es_saga_runner *runner;
  es_saga_options opt;
  int64_t now;
  int setup_rc; /* first failed setup step, 0 if none */
  bool ran;     /* a given() or advance() has run */
  es_saga_report report;
  sent_cmd *sent; /* every command, in dispatch order */
  uint32_t n_sent;
  uint64_t cap_sent;
  uint32_t window; /* the first of the last run's */
  es_buf bytes;
  arranged *rej;
  uint32_t n_rej;
  uint64_t cap_rej;
  char stream[ES_STREAM_TYPE_MAX + 1]; /* "saga:<Name>" */
  char instance[ES_KEY_MAX + 1];       /* of the last stored step */
  char followed[ES_KEY_MAX + 1];       /* es_saga_test_follow()'s */
  bool follow;
  es__message msg; /* "" when nothing failed */
  es_arena arena;  /* decoded values shown in messages */
};

/* ---- the message ----------------------------------------------------------
 */

static void msg_add(es_saga_test *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  es__message_vadd(&t->msg, fmt, ap);
  va_end(ap);
}

static void msg_json(es_saga_test *t, const es_type_desc *type,
                     const void *value) {
  es__message_json(&t->msg, type, value);
}

static void msg_decoded(es_saga_test *t, const es_type_desc *type,
                        const void *p, size_t len) {
  es__message_decoded(&t->msg, &t->arena, type, p, len);
}

/* Appends one recorded command: `Account.Withdraw to acc-1 {...}`. */
static void msg_sent(es_saga_test *t, const sent_cmd *c) {
  const es_type_desc *type = c->agg->commands[c->command].command;
  msg_add(t, "%s to %s ", type->name, c->key);
  msg_decoded(t, type, t->bytes.data + c->offset, c->len);
  if (c->rejected)
    msg_add(t, " (rejected: %s)", c->rejected);
  if (c->claimed)
    msg_add(t, " (claimed by an earlier then_sent)");
}

/* Appends the commands of the last run, one per line. */
static void msg_window(es_saga_test *t) {
  if (t->window == t->n_sent) {
    msg_add(t, "nothing");
    return;
  }
  msg_add(t, "%u command(s):", (unsigned)(t->n_sent - t->window));
  for (uint32_t i = t->window; i < t->n_sent; i++) {
    msg_add(t, "\n    [%u] ", (unsigned)(i - t->window));
    msg_sent(t, &t->sent[i]);
  }
}

/* ---- the executor the runner talks to -------------------------------------
 */

/* es_saga_options.execute: records the command and answers it. */
static int answer(void *ctx, const es_aggregate_desc *agg, uint32_t command,
                  const char *key, const void *value,
                  const es_exec_options *opt, es_result *res) {
  static const es_uuid nil;
  es_saga_test *t = ctx;
  const es_type_desc *type;
  es_result local;
  sent_cmd *c;
  size_t n, at;
  int rc;

  if (!res)
    res = &local;
  memset(res, 0, sizeof *res);
  res->outcome = ES_OUTCOME_FAILED;
  n = key ? strlen(key) : 0;
  if (!agg || command >= agg->n_commands || !value || !n || n > ES_KEY_MAX)
    return res->rc = ES_EINVAL;
  /* The same command id again (a re-dispatch): the first answer stands,
   * as the executor's deduplication would have it. */
  if (opt && memcmp(&opt->command_id, &nil, sizeof nil) != 0)
    for (uint32_t i = 0; i < t->n_sent; i++)
      if (!memcmp(&t->sent[i].id, &opt->command_id, sizeof(es_uuid)) &&
          !t->sent[i].rejected) {
        res->outcome = ES_OUTCOME_OK;
        res->duplicate = true;
        return res->rc = 0;
      }
  if (es__grow_array(&t->sent, &t->cap_sent, (uint64_t)t->n_sent + 1,
                     sizeof *t->sent))
    return res->rc = ES_ENOMEM;
  type = agg->commands[command].command;
  at = t->bytes.len;
  if ((rc = es_type_encode(type, value, &t->bytes)) != 0 ||
      (rc = t->bytes.err) != 0)
    return res->rc = rc;
  c = &t->sent[t->n_sent++];
  memset(c, 0, sizeof *c);
  c->agg = agg;
  c->command = command;
  memcpy(c->key, key, n + 1);
  c->offset = at;
  c->len = t->bytes.len - at;
  if (opt)
    c->id = opt->command_id;
  for (uint32_t i = 0; i < t->n_rej; i++) {
    arranged *a = &t->rej[i];
    if (a->used || a->agg != agg || a->command != command ||
        (a->key[0] && strcmp(a->key, key) != 0))
      continue;
    a->used = true;
    c->rejected = agg->errors[a->error - 1];
    res->outcome = ES_OUTCOME_REJECTED;
    res->error = a->error;
    res->error_name = c->rejected;
    snprintf(res->message, sizeof res->message,
             "rejected by es_saga_test_reject()");
    return res->rc = ES_EREJECTED;
  }
  res->outcome = ES_OUTCOME_OK;
  return res->rc = 0;
}

static int64_t test_clock(void *ctx) { return ((es_saga_test *)ctx)->now; }

static void no_sleep(void *ctx, int64_t us) {
  (void)ctx;
  (void)us;
}

/* ---- setup ----------------------------------------------------------------
 */

static int setup_failed(es_saga_test *t, int rc, const char *what) {
  return es__message_setup_failed(&t->msg, &t->setup_rc, rc, what);
}

es_saga_test *es_saga_test_new(const es_schema_desc *schema,
                               const es_saga_desc *saga) {
  es_saga_test *t;
  uint32_t i;

  if (!schema || !saga || !saga->name)
    return NULL;
  for (i = 0; i < schema->n_sagas; i++)
    if (schema->sagas[i] == saga)
      break;
  if (i == schema->n_sagas)
    return NULL;
  if (strlen(saga->name) + sizeof "saga:" > sizeof t->stream)
    return NULL;
  if (!(t = es__calloc(1, sizeof *t)))
    return NULL;
  t->schema = schema;
  t->saga = saga;
  t->now = START_US;
  snprintf(t->stream, sizeof t->stream, "saga:%s", saga->name);
  es_arena_init(&t->arena, 0);
  es_buf_init(&t->bytes, 0);
  t->opt = (es_saga_options)ES_SAGA_OPTIONS_INIT;
  t->opt.now_us = test_clock;
  t->opt.clock_ctx = t;
  t->opt.sleep_us = no_sleep;
  t->opt.execute = answer;
  t->opt.execute_ctx = t;
  if (es__message_init(&t->msg) != 0 ||
      es_store_open_memory(&t->store, NULL) != 0 ||
      es_app_open(&t->app, schema, t->store, NULL) != 0 ||
      es_saga_runner_open(&t->runner, t->app, saga, t->store, &t->opt) != 0) {
    es_saga_test_free(t);
    return NULL;
  }
  return t;
}

void es_saga_test_free(es_saga_test *t) {
  if (!t)
    return;
  es_saga_runner_close(t->runner);
  es_app_close(t->app);
  es_store_close(t->store);
  es_arena_close(&t->arena);
  es_buf_close(&t->bytes);
  es__free(t->sent);
  es__free(t->rej);
  es__message_free(&t->msg);
  es__free(t);
}

/* Remembers the instance of the last step stored at or after `from`. */
static int see_step(const es_stored_event *ev, void *arg) {
  es_saga_test *t = arg;
  if (!strcmp(ev->meta.aggregate, t->stream))
    snprintf(t->instance, sizeof t->instance, "%s", ev->meta.key);
  return 0;
}

/* What an arranging call (given, reject, advance) returns before it
 * starts: ES_EINVAL without a test, else the first failed setup step
 * (arranging stops there), else 0. */
static int arranging(const es_saga_test *t) {
  return t ? t->setup_rc : ES_EINVAL;
}

/* Runs the saga until it is caught up (timeouts due included); the
 * commands it sends open a new window. */
static int run(es_saga_test *t, const char *what, uint64_t from) {
  int rc;
  t->window = t->n_sent;
  rc = es_saga_run_until_caught_up(t->runner, &t->report);
  t->ran = true;
  if (rc != 0)
    return setup_failed(t, rc, what);
  if ((rc = es_store_read_all(t->store, from, 0, see_step, t)) != 0)
    return setup_failed(t, rc, "reading the saga's steps");
  return 0;
}

int es_saga_test_given(es_saga_test *t, const char *aggregate, const char *key,
                       const es_type_desc *event, const void *value) {
  const es_aggregate_desc *agg;
  es_new_event ev;
  es_buf b;
  uint64_t head = 0;
  int rc;

  if ((rc = arranging(t)) != 0)
    return rc;
  if (!aggregate || !key || !event || !value)
    return setup_failed(t, ES_EINVAL, "given: NULL aggregate, key or event");
  if (!(agg = es_schema_find_aggregate(t->schema, aggregate)))
    return setup_failed(t, ES_EUNKNOWN, "given: no aggregate of that name");
  if (!es__test_is_event_of(agg, event))
    return setup_failed(t, ES_EUNKNOWN, "given: not an event of the aggregate");
  es_buf_init(&b, t->store->opt.max_event_size);
  if ((rc = es__test_encode(event, value, &b, &ev)) == 0 &&
      (rc = es_store_head(t->store, &head)) == 0) {
    ev.timestamp = t->now;
    rc = es_store_append_one(t->store, agg->name, key, es_expect_any(), &ev, 1,
                             NULL);
  }
  es_buf_close(&b);
  if (rc != 0)
    return setup_failed(t, rc, "given: the event does not encode or append");
  return run(t, "given: the saga run", head + 1);
}

int es_saga_test_reject(es_saga_test *t, const es_aggregate_desc *agg,
                        const char *key, const es_type_desc *command,
                        const char *error) {
  arranged *a;
  uint32_t c, e, s;
  size_t n = key ? strlen(key) : 0;
  int rc;

  if ((rc = arranging(t)) != 0)
    return rc;
  if (!agg || !command || !error || n > ES_KEY_MAX)
    return setup_failed(t, ES_EINVAL, "reject: NULL argument or bad key");
  for (c = 0; c < agg->n_commands; c++)
    if (agg->commands[c].command == command)
      break;
  if (c == agg->n_commands)
    return setup_failed(t, ES_EUNKNOWN,
                        "reject: not a command of the aggregate");
  for (e = 0; e < agg->n_errors; e++)
    if (!strcmp(agg->errors[e], error))
      break;
  if (e == agg->n_errors)
    return setup_failed(t, ES_EUNKNOWN,
                        "reject: not an error of the aggregate");
  for (s = 0; s < t->saga->n_sends; s++)
    if (t->saga->sends[s].aggregate == agg && t->saga->sends[s].command == c)
      break;
  if (s == t->saga->n_sends)
    return setup_failed(t, ES_EINVAL, "reject: the saga does not send it");
  if (es__grow_array(&t->rej, &t->cap_rej, (uint64_t)t->n_rej + 1,
                     sizeof *t->rej))
    return setup_failed(t, ES_ENOMEM, "reject");
  a = &t->rej[t->n_rej++];
  memset(a, 0, sizeof *a);
  a->agg = agg;
  a->command = c;
  if (n)
    memcpy(a->key, key, n + 1);
  a->error = e + 1;
  return 0;
}

int es_saga_test_advance(es_saga_test *t, int64_t us) {
  uint64_t head = 0;
  int rc;
  if ((rc = arranging(t)) != 0)
    return rc;
  if (us < 0 || us > INT64_MAX - t->now)
    return setup_failed(t, ES_EINVAL, "advance: negative or too far");
  if ((rc = es_store_head(t->store, &head)) != 0)
    return setup_failed(t, rc, "advance: store head");
  t->now += us;
  return run(t, "advance: the saga run", head + 1);
}

/* ---- checks ---------------------------------------------------------------
 */

/* Common preconditions of the then checks. */
static bool can_check(es_saga_test *t, const char *check) {
  return t && es__message_check_start(&t->msg, &t->arena, t->setup_rc, t->ran,
                                      check, "given() or advance()");
}

bool es_saga_test_then_sent(es_saga_test *t, const es_aggregate_desc *agg,
                            const char *key, const es_type_desc *command,
                            const void *value) {
  es_buf want;
  uint32_t c;
  bool found = false;

  if (!can_check(t, "then_sent"))
    return false;
  if (!agg || !key || !command || !value) {
    msg_add(t, "then_sent: NULL argument");
    return false;
  }
  for (c = 0; c < agg->n_commands; c++)
    if (agg->commands[c].command == command)
      break;
  if (c == agg->n_commands) {
    msg_add(t, "then_sent: %s is not a command of %s", command->name,
            agg->name);
    return false;
  }
  es_buf_init(&want, 0);
  if (es_type_encode(command, value, &want) != 0 || want.err) {
    msg_add(t, "then_sent: the expected %s does not encode", command->name);
    es_buf_close(&want);
    return false;
  }
  for (uint32_t i = t->window; i < t->n_sent && !found; i++) {
    sent_cmd *s = &t->sent[i];
    if (s->claimed || s->agg != agg || s->command != c ||
        strcmp(s->key, key) != 0 || s->len != want.len ||
        memcmp(t->bytes.data + s->offset, want.data, want.len) != 0)
      continue;
    s->claimed = true;
    found = true;
  }
  es_buf_close(&want);
  if (found)
    return true;
  msg_add(t, "expected %s to %s ", command->name, key);
  msg_json(t, command, value);
  msg_add(t, "\n  but the last run sent ");
  msg_window(t);
  return false;
}

bool es_saga_test_then_nothing_else_sent(es_saga_test *t) {
  uint32_t left = 0;
  if (!can_check(t, "then_nothing_else_sent"))
    return false;
  for (uint32_t i = t->window; i < t->n_sent; i++)
    if (!t->sent[i].claimed)
      left++;
  if (!left)
    return true;
  msg_add(t,
          "expected nothing else sent, but the last run also sent "
          "%u command(s):",
          (unsigned)left);
  for (uint32_t i = t->window; i < t->n_sent; i++)
    if (!t->sent[i].claimed) {
      msg_add(t, "\n    [%u] ", (unsigned)(i - t->window));
      msg_sent(t, &t->sent[i]);
    }
  return false;
}

static const char *followed(const es_saga_test *t) {
  return t->follow ? t->followed : t->instance;
}

/* Looks up the followed instance for `check`; false (with a message) when
 * there is none or it cannot be read. */
static bool instance(es_saga_test *t, const char *check, es_saga_instance *in) {
  const char *key;
  int rc;
  if (!can_check(t, check))
    return false;
  key = followed(t);
  if (!key[0]) {
    msg_add(t, "%s: the saga %s has no instance (no step was stored)", check,
            t->saga->name);
    return false;
  }
  if ((rc = es_saga_instance_get(t->runner, key, in)) != 0) {
    msg_add(t, "%s: reading instance %s: %s", check, key, es_err_name(rc));
    return false;
  }
  if (!in->steps) {
    msg_add(t, "%s: the saga %s has no instance %s", check, t->saga->name, key);
    return false;
  }
  return true;
}

typedef struct timer_scan {
  es_saga_test *t;
  const char *want;
  bool found;
  bool describe;
} timer_scan;

static void scan_timer(const char *key, const char *name, int64_t due,
                       void *ctx) {
  timer_scan *s = ctx;
  (void)key;
  if (!strcmp(name, s->want))
    s->found = true;
  if (s->describe)
    msg_add(s->t, "\n    \"%s\" due in %.3f s", name,
            (double)(due - s->t->now) / 1e6);
}

static bool timer_check(es_saga_test *t, const char *check, const char *name,
                        bool want) {
  es_saga_instance in;
  timer_scan s = {t, name, false, false};
  const char *key;
  size_t n;

  if (!instance(t, check, &in))
    return false;
  if (!name) {
    msg_add(t, "%s: NULL timeout name", check);
    return false;
  }
  key = followed(t);
  es_saga_timeouts(t->runner, key, scan_timer, &s);
  if (s.found == want)
    return true;
  msg_add(t, "expected %s timeout \"%s\" for instance %s of %s, but ",
          want ? "a pending" : "no pending", name, key, t->saga->name);
  s.describe = true;
  n = es_saga_timeouts(t->runner, key, NULL, NULL);
  if (!n) {
    msg_add(t, "it has none%s", in.completed ? " (it is complete)" : "");
    return false;
  }
  msg_add(t, "it has %zu (the clock is at %lld):", n, (long long)t->now);
  es_saga_timeouts(t->runner, key, scan_timer, &s);
  return false;
}

bool es_saga_test_then_scheduled(es_saga_test *t, const char *name) {
  return timer_check(t, "then_scheduled", name, true);
}

bool es_saga_test_then_not_scheduled(es_saga_test *t, const char *name) {
  return timer_check(t, "then_not_scheduled", name, false);
}

static bool completion_check(es_saga_test *t, const char *check, bool want) {
  es_saga_instance in;
  if (!instance(t, check, &in))
    return false;
  if (in.completed == want)
    return true;
  msg_add(t, "expected instance %s of %s %s, but it is %s (%llu step(s))",
          followed(t), t->saga->name, want ? "complete" : "still open",
          in.completed ? "complete" : "open", (unsigned long long)in.steps);
  if (t->saga->state && in.state) {
    msg_add(t, "; its state: ");
    msg_json(t, t->saga->state, in.state);
  }
  return false;
}

bool es_saga_test_then_completed(es_saga_test *t) {
  return completion_check(t, "then_completed", true);
}

bool es_saga_test_then_not_completed(es_saga_test *t) {
  return completion_check(t, "then_not_completed", false);
}

/* ---- the rest -------------------------------------------------------------
 */

void es_saga_test_follow(es_saga_test *t, const char *key) {
  if (!t)
    return;
  t->follow = key != NULL;
  if (key)
    snprintf(t->followed, sizeof t->followed, "%s", key);
}

const char *es_saga_test_instance(const es_saga_test *t) {
  return t ? followed(t) : "";
}

const void *es_saga_test_state(es_saga_test *t) {
  es_saga_instance in;
  if (!t || t->setup_rc || !t->ran)
    return NULL;
  if (!instance(t, "state", &in))
    return NULL;
  return in.state;
}

const char *es_saga_test_message(const es_saga_test *t) {
  return t ? es__message_text(&t->msg) : "";
}

const es_saga_report *es_saga_test_report(const es_saga_test *t) {
  return t ? &t->report : NULL;
}

int64_t es_saga_test_now(const es_saga_test *t) { return t ? t->now : 0; }

es_store *es_saga_test_store(es_saga_test *t) { return t ? t->store : NULL; }

es_saga_runner *es_saga_test_runner(es_saga_test *t) {
  return t ? t->runner : NULL;
}
