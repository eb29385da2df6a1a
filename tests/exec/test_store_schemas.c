/*
 * test_store_schemas.c - es_app_open() refuses a store holding event
 * versions the schema cannot read, naming the type and version, instead
 * of failing on the first load (docs/evolution.md, "At run time").
 *
 * The descriptions an older or newer build of the ledger schema would
 * have recorded are made from the ledger's own (docs/schema-json.md, "In
 * the store") and put in an embedded log store.
 */
#include <stdlib.h>
#include <string.h>

#include "exec_support.h"

/* Description `d` (NULL: the ledger's) with `from` replaced by `to`
 * (once, at the first `from` after `after`). */
static char *edited(const char *d, const char *after, const char *from,
                    const char *to) {
  if (!d)
    d = ledger_schema.description;
  const char *a = strstr(d, after);
  cr_assert(a != NULL, "no %s in the description", after);
  const char *f = strstr(a, from);
  cr_assert(f != NULL, "no %s after %s", from, after);
  size_t n = strlen(d) - strlen(from) + strlen(to);
  char *out = malloc(n + 1);
  cr_assert(out != NULL);
  size_t head = (size_t)(f - d);
  memcpy(out, d, head);
  strcpy(out + head, to);
  strcat(out, f + strlen(from));
  return out;
}

/* Records `json` in `s` as an earlier open would have. */
static void record(es_store *s, const char *hash, const char *json) {
  char name[64], line[64];
  es_buf list;
  uint64_t pos = 0;
  es_buf_init(&list, 0);
  int rc = es_store_checkpoint_get(s, "$schemas", &pos, &list);
  cr_assert(rc == 0 || rc == ES_ENOTFOUND);
  if (rc == ES_ENOTFOUND)
    es_buf_clear(&list);
  snprintf(name, sizeof name, "$schema:%s", hash);
  cr_assert_eq(es_store_checkpoint_put(s, name, 0, json, strlen(json)), 0);
  snprintf(line, sizeof line, "%s 0\n", hash);
  es_buf_append(&list, line, strlen(line));
  cr_assert_eq(es_store_checkpoint_put(s, "$schemas", 0, list.data, list.len),
               0);
  es_buf_close(&list);
}

typedef struct fixture {
  char dir[64];
  es_store *s;
} fixture;

static void start(fixture *f) {
  cr_assert_eq(ex_fresh_dir(f->dir), 0);
  cr_assert_eq(es_store_open_log(&f->s, f->dir, NULL, 0), 0);
}

static void stop(fixture *f) {
  es_store_close(f->s);
  remove_dir(f->dir);
}

/* The schema's own description, and descriptions of other schemas or of
 * aggregates it does not have, are no reason to refuse. */
Test(store_schemas, readable_store_opens) {
  fixture f;
  start(&f);
  es_app *app = ex_app(f.s, NULL);
  cr_assert_eq(ex_open(app, "a", 5), 0);
  es_app_close(app);
  char *other =
      edited(NULL, "\"schema\":\"ledger\"", "\"ledger\"", "\"journal\"");
  char *other_v9 =
      edited(other, "\"schema\":\"journal\"", "\"version\":2", "\"version\":9");
  free(other);
  record(f.s, "00000000000000a1", other_v9);
  char *ghost = edited(NULL, "\"name\":\"Counter.Added\"", "Counter.Added",
                       "Ghosted.Added");
  char *ghost_v2 = edited(ghost, "\"name\":\"Ghosted.Added\"", "\"version\":1",
                          "\"version\":2");
  record(f.s, "00000000000000a2", ghost_v2);
  char why[256] = "untouched";
  cr_expect_eq(es_schema_check_store(&ledger_schema, f.s, why, sizeof why), 0);
  cr_expect_str_empty(why);
  app = ex_app(f.s, NULL);
  es_app_close(app);
  free(other_v9);
  free(ghost);
  free(ghost_v2);
  stop(&f);
}

/* A newer build wrote Deposited v3: this one reads only up to v2. */
Test(store_schemas, newer_version_refused_at_open) {
  fixture f;
  start(&f);
  es_app *app = ex_app(f.s, NULL);
  cr_assert_eq(ex_open(app, "a", 5), 0);
  es_app_close(app);
  char *json = edited(NULL,
                      "\"name\":\"Account.Deposited\",\"role\":\"event\","
                      "\"c_name\":\"ledger_account_deposited\"",
                      "\"version\":2", "\"version\":3");
  record(f.s, "00000000000000b1", json);
  char why[512];
  cr_expect_eq(es_schema_check_store(&ledger_schema, f.s, why, sizeof why),
               ES_ESCHEMA);
  cr_expect_str_eq(why, "the store may hold events of 'Account.Deposited' v3 "
                        "(recorded by schema description 00000000000000b1), "
                        "but this schema reads 'Account.Deposited' only up "
                        "to v2");
  app = NULL;
  cr_expect_eq(es_app_open(&app, &ledger_schema, f.s, NULL), ES_ESCHEMA);
  cr_expect_null(app);
  cr_expect_str_eq(es_strerror(ES_ESCHEMA),
                   "store holds events this schema cannot read");
  free(json);
  stop(&f);
}

/* An older build had an event this one no longer declares. */
Test(store_schemas, dropped_event_refused_at_open) {
  fixture f;
  start(&f);
  char *renamed = edited(NULL, "\"name\":\"Account.Tagged\"", "Account.Tagged",
                         "Account.Labeled");
  char *json = edited(renamed, "\"name\":\"Account.Labeled\"",
                      "53eb58bd26c7d27d", "0123456789abcdef");
  record(f.s, "00000000000000c1", json);
  char why[512];
  cr_expect_eq(es_schema_check_store(&ledger_schema, f.s, why, sizeof why),
               ES_ESCHEMA);
  cr_expect_str_eq(why, "the store may hold events of 'Account.Labeled' v1 "
                        "(recorded by schema description 00000000000000c1), "
                        "but this schema does not declare 'Account.Labeled'");
  es_app *app = NULL;
  cr_expect_eq(es_app_open(&app, &ledger_schema, f.s, NULL), ES_ESCHEMA);
  /* Nothing of this schema was recorded by the refused open. */
  es_buf list;
  uint64_t pos;
  es_buf_init(&list, 0);
  cr_assert_eq(es_store_checkpoint_get(f.s, "$schemas", &pos, &list), 0);
  cr_expect_eq(list.len, strlen("00000000000000c1 0\n"));
  es_buf_close(&list);
  free(renamed);
  free(json);
  stop(&f);
}

Test(store_schemas, bad_arguments) {
  cr_expect_eq(es_schema_check_store(NULL, NULL, NULL, 0), ES_EINVAL);
}
