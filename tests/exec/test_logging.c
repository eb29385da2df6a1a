/*
 * test_logging.c - what libes logs (docs/runtime.md, "Logging"): a
 * capturing hook records every line of one scenario (open a store, run
 * commands that succeed, repeat, get rejected and conflict, close) on the
 * memory store and the embedded log, and the lines are compared with the
 * exact expected text. No payload byte may appear in any line.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es.h"
#include "exec_support.h"

#define SECRET "owner-payload-4f1c"

/* Every line the hook saw, as "level msg key=value ...". Values that
 * differ from run to run (ids, durations, the directory) are masked. */
typedef struct capture {
  char lines[64][512];
  size_t n;
  const char *dir; /* shown as DIR */
} capture;

static int is_uuid(const char *v) {
  if (strlen(v) != 36)
    return 0;
  for (int i = 0; i < 36; i++)
    if ((i == 8 || i == 13 || i == 18 || i == 23)
            ? v[i] != '-'
            : !strchr("0123456789abcdef", v[i]))
      return 0;
  return 1;
}

static void hook(void *ctx, int level, const char *msg, const es_log_field *f,
                 size_t n) {
  capture *c = ctx;
  char *line;
  size_t len;
  cr_assert_lt(c->n, 64, "more lines than the scenario should log");
  line = c->lines[c->n++];
  len = (size_t)snprintf(line, 512, "%s %s", es_log_level_name(level), msg);
  for (size_t i = 0; i < n; i++) {
    const char *v = f[i].value;
    cr_assert(strstr(v, SECRET) == NULL, "payload bytes in '%s'", msg);
    if (!strcmp(f[i].key, "open_us"))
      v = "T";
    else if (!strcmp(f[i].key, "command_id") && is_uuid(v) &&
             strncmp(v, "00000000-", 9))
      v = "ID";
    else if (c->dir && !strcmp(v, c->dir))
      v = "DIR";
    len += (size_t)snprintf(line + len, 512 - len, " %s=%s", f[i].key, v);
    cr_assert_lt(len, 512);
  }
}

static void expect_lines(const capture *c, const char *const *want) {
  size_t n = 0;
  while (want[n])
    n++;
  for (size_t i = 0; i < c->n && i < n; i++)
    cr_expect_str_eq(c->lines[i], want[i], "line %zu", i);
  for (size_t i = n; i < c->n; i++)
    cr_expect_fail("unexpected line %zu: %s", i, c->lines[i]);
  for (size_t i = c->n; i < n; i++)
    cr_expect_fail("missing line %zu: %s", i, want[i]);
}

/* The scenario: open; an Open (a cache miss, one event); a Deposit with a
 * command id, then the same again (answered from memory); a Withdraw that
 * is rejected; a Deposit through a second app whose cached state is
 * stale (a conflict, retried once); close. */
static void scenario(es_store *s, const es_obs *obs) {
  es_app_options o = ES_APP_OPTIONS_INIT;
  es_exec_options eo;
  ledger_account_open open = {.owner = SECRET, .initial = 100};
  ledger_account_withdraw w = {.amount = 1000};
  es_app *a, *b;
  memset(&eo, 0, sizeof eo);

  o.obs = obs;
  a = ex_app(s, &o);
  b = ex_app(s, &o);
  cr_assert_eq(ledger_account_execute_open(a, "acc-1", &open, NULL, NULL), 0);
  eo.command_id.bytes[15] = 7;
  cr_assert_eq(ex_deposit(a, "acc-1", 5, &eo, NULL), 0);
  cr_assert_eq(ex_deposit(a, "acc-1", 5, &eo, NULL), 0);
  cr_assert_eq(ledger_account_execute_withdraw(a, "acc-1", &w, NULL, NULL),
               ES_EREJECTED);
  cr_assert_eq(ex_deposit(b, "acc-1", 1, NULL, NULL), 0); /* b loads v2 */
  cr_assert_eq(ex_deposit(a, "acc-1", 2, NULL, NULL), 0); /* a is stale */
  cr_assert_eq(ex_deposit(b, "acc-1", 3, NULL, NULL), 0); /* b is stale */
  es_app_close(b);
  es_app_close(a);
}

/* What the scenario's commands log, on any store. */
#define COMMAND_LINES                                                          \
  "debug cache miss aggregate=Account key=acc-1 version=0",                    \
      "debug events appended aggregate=Account key=acc-1 count=1 version=1 "   \
      "position=1 bytes=21",                                                   \
      "debug command aggregate=Account key=acc-1 command=Account.Open "        \
      "outcome=ok attempts=1 command_id=ID duplicate=false",                   \
      "debug events appended aggregate=Account key=acc-1 count=1 version=2 "   \
      "position=2 bytes=3",                                                    \
      "debug command aggregate=Account key=acc-1 command=Account.Deposit "     \
      "outcome=ok attempts=1 command_id=" ID7 " duplicate=false",              \
      "debug command aggregate=Account key=acc-1 command=Account.Deposit "     \
      "outcome=ok attempts=1 command_id=" ID7 " duplicate=true",               \
      "debug command aggregate=Account key=acc-1 command=Account.Withdraw "    \
      "outcome=rejected attempts=1 command_id=ID error=InsufficientFunds",     \
      "debug cache miss aggregate=Account key=acc-1 version=2",                \
      "debug events appended aggregate=Account key=acc-1 count=1 version=3 "   \
      "position=3 bytes=3",                                                    \
      "debug command aggregate=Account key=acc-1 command=Account.Deposit "     \
      "outcome=ok attempts=1 command_id=ID duplicate=false",                   \
      "debug conflict; retrying aggregate=Account key=acc-1 "                  \
      "command=Account.Deposit attempt=2 max=6",                               \
      "debug events appended aggregate=Account key=acc-1 count=1 version=4 "   \
      "position=4 bytes=3",                                                    \
      "debug command aggregate=Account key=acc-1 command=Account.Deposit "     \
      "outcome=ok attempts=2 command_id=ID duplicate=false",                   \
      "debug conflict; retrying aggregate=Account key=acc-1 "                  \
      "command=Account.Deposit attempt=2 max=6",                               \
      "debug events appended aggregate=Account key=acc-1 count=1 version=5 "   \
      "position=5 bytes=3",                                                    \
      "debug command aggregate=Account key=acc-1 command=Account.Deposit "     \
      "outcome=ok attempts=2 command_id=ID duplicate=false"

#define ID7 "00000000-0000-0000-0000-000000000007"

static void run_memory(int level, capture *c) {
  es_obs obs = ES_OBS_INIT;
  es_store_options so = ES_STORE_OPTIONS_INIT;
  es_store *s;
  obs.log = hook;
  obs.log_ctx = c;
  obs.log_level = level;
  so.obs = &obs;
  cr_assert_eq(es_store_open_memory(&s, &so), 0);
  scenario(s, &obs);
  es_store_close(s);
}

static void run_log(int level, capture *c) {
  char dir[64];
  es_obs obs = ES_OBS_INIT;
  es_store_options so = ES_STORE_OPTIONS_INIT;
  es_store *s;
  cr_assert_eq(ex_fresh_dir(dir), 0);
  c->dir = dir;
  obs.log = hook;
  obs.log_ctx = c;
  obs.log_level = level;
  so.obs = &obs;
  cr_assert_eq(es_store_open_log(&s, dir, &so, 0), 0);
  scenario(s, &obs);
  es_store_close(s);
  /* Reopen: the recovery summary now reads the segment back. */
  cr_assert_eq(es_store_open_log(&s, dir, &so, 0), 0);
  es_store_close(s);
  remove_dir(dir);
  c->dir = NULL;
}

Test(logging, memory_store_every_line) {
  static const char *const want[] = {
      "info store opened store=memory path= position=0 open_us=T",
      COMMAND_LINES, "info store closed store=memory position=5", NULL};
  capture c = {.n = 0};
  run_memory(ES_LOG_DEBUG, &c);
  expect_lines(&c, want);
}

Test(logging, log_store_every_line) {
  static const char *const want[] = {
      "info store recovered path=DIR segments_indexed=0 segments_scanned=0 "
      "events_scanned=0 indexes_written=0 dropped_bytes=0",
      "info store opened store=log path=DIR position=0 open_us=T",
      COMMAND_LINES,
      "info store closed store=log position=5",
      "info store recovered path=DIR segments_indexed=0 segments_scanned=1 "
      "events_scanned=5 indexes_written=0 dropped_bytes=0",
      "info store opened store=log path=DIR position=5 open_us=T",
      "info store closed store=log position=5",
      NULL};
  capture c = {.n = 0};
  run_log(ES_LOG_DEBUG, &c);
  expect_lines(&c, want);
}

/* At INFO only the lifecycle remains: the per-command lines are dropped
 * before they are formatted. */
Test(logging, info_is_lifecycle_only) {
  static const char *const want_memory[] = {
      "info store opened store=memory path= position=0 open_us=T",
      "info store closed store=memory position=5", NULL};
  capture c = {.n = 0};
  run_memory(ES_LOG_INFO, &c);
  expect_lines(&c, want_memory);
  c.n = 0;
  run_log(ES_LOG_INFO, &c);
  cr_expect_eq(c.n, 6);
  for (size_t i = 0; i < c.n; i++)
    cr_expect(!strncmp(c.lines[i], "info store ", 11), "%s", c.lines[i]);
}
