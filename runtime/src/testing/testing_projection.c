/*
 * testing_projection.c - given events, run the projection, inspect the
 * read model (es_testing_projection.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_app.h"
#include "es/es_error.h"
#include "es/es_testing_projection.h"
#include "testing/test_given.h"
#include "util/alloc.h"

struct es_projection_test {
  const es_schema_desc *schema;
  es_store *store;
  es_projection *runner;
  int setup_rc; /* first failed given(), 0 if none */
  es_projection_report report;
  char msg[512];
};

es_projection_test *es_projection_test_new(const es_schema_desc *schema,
                                           const es_projection_desc *proj,
                                           void *ctx) {
  es_projection_options opt = ES_PROJECTION_OPTIONS_INIT;
  es_projection_test *t = es__calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->schema = schema;
  if (es_store_open_memory(&t->store, NULL) != 0)
    goto fail;
  opt.ctx = ctx;
  opt.max_attempts = 1; /* report a failure at once */
  if (es_projection_open(&t->runner, schema, proj, t->store, &opt) != 0)
    goto fail;
  return t;
fail:
  es_store_close(t->store);
  es__free(t);
  return NULL;
}

void es_projection_test_free(es_projection_test *t) {
  if (!t)
    return;
  es_projection_close(t->runner);
  es_store_close(t->store);
  es__free(t);
}

int es_projection_test_given(es_projection_test *t, const char *key,
                             const es_type_desc *event, const void *value) {
  const es_aggregate_desc *agg;
  es_new_event ev;
  es_buf b;
  int rc;

  if (!t)
    return ES_EINVAL;
  if (!key || !event || !value) {
    rc = ES_EINVAL;
    snprintf(t->msg, sizeof t->msg, "given: NULL key, event or value");
    goto out;
  }
  agg = es__test_owner_of(t->schema, event);
  if (!agg) {
    rc = ES_EUNKNOWN;
    snprintf(t->msg, sizeof t->msg, "given: %s is not an event of schema %s",
             event->name, t->schema->name);
    goto out;
  }
  es_buf_init(&b, 0);
  rc = es__test_encode(event, value, &b, &ev);
  if (rc == 0) {
    rc = es_store_append_one(t->store, agg->name, key, es_expect_any(), &ev, 1,
                             NULL);
  }
  es_buf_close(&b);
  if (rc != 0)
    snprintf(t->msg, sizeof t->msg, "given: %s to %s/%s: %s (%s)", event->name,
             agg->name, key, es_err_name(rc), es_strerror(rc));
out:
  if (rc != 0 && t->setup_rc == 0)
    t->setup_rc = rc;
  return rc;
}

bool es_projection_test_run(es_projection_test *t) {
  char what[128];
  int rc;
  if (!t)
    return false;
  memset(&t->report, 0, sizeof t->report);
  if (t->setup_rc != 0)
    return false; /* the message is the given()'s */
  t->msg[0] = '\0';
  rc = es_projection_run_until_caught_up(t->runner, &t->report);
  if (rc == 0)
    return true;
  if (rc > 0)
    snprintf(what, sizeof what, "handler returned %d", rc);
  else
    snprintf(what, sizeof what, "%s %d (%s)", es_err_name(rc), rc,
             es_strerror(rc));
  if (t->report.failed_position)
    snprintf(t->msg, sizeof t->msg,
             "projection %s failed at the event at position %llu "
             "(given events are at 1, 2, ...): %s",
             es_projection_name(t->runner),
             (unsigned long long)t->report.failed_position, what);
  else
    snprintf(t->msg, sizeof t->msg, "projection %s failed: %s",
             es_projection_name(t->runner), what);
  return false;
}

const es_projection_report *
es_projection_test_report(const es_projection_test *t) {
  return t ? &t->report : NULL;
}

const char *es_projection_test_message(const es_projection_test *t) {
  return t ? t->msg : "";
}

es_store *es_projection_test_store(es_projection_test *t) {
  return t ? t->store : NULL;
}

es_projection *es_projection_test_runner(es_projection_test *t) {
  return t ? t->runner : NULL;
}
