/*
 * test_diagnostics.c - what esgen says about broken schemas, byte for byte.
 *
 * Every bad/NNN-name.es is checked with `esgen --check NNN-name.es` run
 * inside bad/ (so the path in each message is the bare file name), and
 * its stderr must equal bad/NNN-name.err exactly; the exit status must be
 * 1, or 0 for warning-only cases (named *-warning.es). Cases are found at
 * run time: a new pair of files needs no change here. Every schema in
 * good/ must pass with exit status 0 and nothing on stderr.
 *
 * Beyond the text: --check writes nothing, a failing compile writes no
 * output at all, and a file already where output would go is left alone
 * (bytes and modification time).
 *
 * Environment (set by meson): ESGEN, the compiler; DIAG_DIR, this
 * directory in the source tree.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define MIN_BAD_CASES 45
#define MIN_GOOD_CASES 3

typedef struct diag_case {
  char name[128]; /* "001-duplicate-record.es" */
} diag_case;

static const char *env(const char *name) {
  const char *v = getenv(name);
  cr_assert(v != NULL, "%s is not set (run the test through meson)", name);
  return v;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const diag_case *)a)->name, ((const diag_case *)b)->name);
}

/* The *.es files of DIAG_DIR/sub, sorted, in memory from `alloc` (the
 * parameter generators must use cr_malloc). NULL and 0 if there are none
 * or the directory cannot be read. */
static diag_case *list_cases(const char *sub, size_t *n, void *(*alloc)(size_t),
                             void (*release)(void *)) {
  const char *root = getenv("DIAG_DIR");
  char dir[4096];
  DIR *d;
  struct dirent *e;
  diag_case *cases = NULL;
  size_t count = 0, i = 0;

  *n = 0;
  if (!root)
    return NULL;
  snprintf(dir, sizeof dir, "%s/%s", root, sub);
  /* Two passes: count, then fill, so one allocation does. */
  for (int pass = 0; pass < 2; pass++) {
    d = opendir(dir);
    if (!d)
      return NULL;
    while ((e = readdir(d)) != NULL) {
      if (!ends_with(e->d_name, ".es") ||
          strlen(e->d_name) >= sizeof cases->name)
        continue;
      if (pass == 0)
        count++;
      else if (i < count)
        memcpy(cases[i++].name, e->d_name, strlen(e->d_name) + 1);
    }
    closedir(d);
    if (pass == 0) {
      if (count == 0)
        return NULL;
      cases = alloc(count * sizeof *cases);
      if (!cases)
        return NULL;
      memset(cases, 0, count * sizeof *cases);
    }
  }
  if (i == 0) {
    release(cases);
    return NULL;
  }
  qsort(cases, i, sizeof *cases, by_name);
  *n = i;
  return cases;
}

static void free_params(struct criterion_test_params *p) { cr_free(p->params); }

static char *path_in(const char *sub, const char *name) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s/%s", env("DIAG_DIR"), sub, name);
  return path;
}

static run_result esgen(const char *cwd, const char *a1, const char *a2,
                        const char *a3, const char *a4, const char *a5) {
  char *argv[7] = {(char *)env("ESGEN"), (char *)a1, (char *)a2, (char *)a3,
                   (char *)a4,           (char *)a5, NULL};
  run_result r;
  cr_assert(run_program(cwd, argv, &r) == 0, "cannot start esgen");
  return r;
}

/* ---- temporary directories ---------------------------------------------- */

static char *tmpdir(void) {
  char tmpl[] = "/tmp/esgen-diag-XXXXXX";
  char *d = mkdtemp(tmpl);
  cr_assert(d != NULL, "mkdtemp failed");
  return strdup(d);
}

static void rmtree(char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4096];
  if (d) {
    while ((e = readdir(d)) != NULL) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
        continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
  free(dir);
}

/* The names in `dir`, one per line, for messages ("" when empty). */
static char *entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char *list = calloc(1, 1);
  size_t len = 0;
  cr_assert(d != NULL && list != NULL);
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    size_t n = strlen(e->d_name);
    char *p = realloc(list, len + n + 4); /* "  " name "\n" NUL */
    cr_assert(p != NULL);
    list = p;
    memcpy(list + len, "  ", 2);
    memcpy(list + len + 2, e->d_name, n);
    list[len + n + 2] = '\n';
    len += n + 3;
    list[len] = '\0';
  }
  closedir(d);
  return list;
}

/* ---- comparing stderr ---------------------------------------------------- */

/* Line `n` (1-based) of `s`, into `out` (truncated), with "<none>" past
 * the end. */
static const char *nth_line(const char *s, size_t len, int n, char *out,
                            size_t cap) {
  const char *p = s, *end = s + len;
  for (int i = 1; i < n && p < end; i++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
  }
  if (p >= end) {
    snprintf(out, cap, "<none>");
    return out;
  }
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  size_t n_chars = nl ? (size_t)(nl - p) : (size_t)(end - p);
  snprintf(out, cap, "\"%.*s\"%s", (int)n_chars, p, nl ? "" : " (no newline)");
  return out;
}

/* Asserts that `actual` equals `expected` byte for byte; on a mismatch
 * says where, line by line, and shows the whole of what esgen printed. */
static void expect_same_text(const char *what, const char *expected,
                             size_t expected_len, const char *actual,
                             size_t actual_len) {
  size_t i = 0;
  int line = 1;
  char exp_line[512], act_line[512];
  if (expected_len == actual_len && memcmp(expected, actual, actual_len) == 0)
    return;
  while (i < expected_len && i < actual_len && expected[i] == actual[i]) {
    if (expected[i] == '\n')
      line++;
    i++;
  }
  cr_expect_fail(
      "%s: stderr differs from the .err file at line %d\n"
      "  expected: %s\n"
      "  actual:   %s\n"
      "---- actual stderr (%zu bytes) ----\n%s"
      "---- end ----",
      what, line,
      nth_line(expected, expected_len, line, exp_line, sizeof exp_line),
      nth_line(actual, actual_len, line, act_line, sizeof act_line), actual_len,
      actual);
}

/* ---- the cases ----------------------------------------------------------- */

ParameterizedTestParameters(diagnostics, bad) {
  size_t n;
  diag_case *cases = list_cases("bad", &n, cr_malloc, cr_free);
  return cr_make_param_array(diag_case, cases, n, free_params);
}

/* esgen --check NAME in bad/: exact stderr and exit status. */
ParameterizedTest(diag_case *c, diagnostics, bad) {
  char err_name[160];
  size_t expected_len = 0;
  char *expected;
  int want = ends_with(c->name, "-warning.es") ? 0 : 1;

  snprintf(err_name, sizeof err_name, "%.*s.err", (int)(strlen(c->name) - 3),
           c->name);
  expected = read_file(path_in("bad", err_name), &expected_len);
  cr_assert(expected != NULL, "%s: missing bad/%s", c->name, err_name);

  run_result r =
      esgen(path_in("bad", ""), "--check", c->name, NULL, NULL, NULL);
  cr_expect_eq(r.status, want, "%s: exit status %d, expected %d\n%s", c->name,
               r.status, want, r.err);
  cr_expect_str_empty(r.out, "%s: --check printed to stdout:\n%s", c->name,
                      r.out);
  expect_same_text(c->name, expected, expected_len, r.err, r.err_len);
  if (want == 1)
    cr_expect(strstr(r.err, ": error: ") != NULL,
              "%s: exit status 1 without an error", c->name);
  else
    cr_expect(strstr(r.err, ": warning: ") != NULL &&
                  strstr(r.err, ": error: ") == NULL,
              "%s: a -warning case must warn and not fail", c->name);
  run_result_free(&r);
  free(expected);
}

ParameterizedTestParameters(diagnostics, bad_writes_nothing) {
  size_t n;
  diag_case *cases = list_cases("bad", &n, cr_malloc, cr_free);
  return cr_make_param_array(diag_case, cases, n, free_params);
}

/* Without --check a bad schema writes nothing: no header, no source, no
 * stubs, no temporary files; and says the same as with --check. */
ParameterizedTest(diag_case *c, diagnostics, bad_writes_nothing) {
  char stubs[4200];
  char *dir;
  if (ends_with(c->name, "-warning.es"))
    return; /* compiles; covered by good-schema tests */
  dir = tmpdir();
  snprintf(stubs, sizeof stubs, "%s/stubs.c", dir);
  run_result r =
      esgen(path_in("bad", ""), "-o", dir, "--stubs", stubs, c->name);
  cr_expect_eq(r.status, 1, "%s: exit status %d without --check", c->name,
               r.status);
  char *left = entries(dir);
  cr_expect_str_empty(left, "%s: a failed run left files behind:\n%s", c->name,
                      left);
  free(left);

  char err_name[160];
  size_t expected_len = 0;
  snprintf(err_name, sizeof err_name, "%.*s.err", (int)(strlen(c->name) - 3),
           c->name);
  char *expected = read_file(path_in("bad", err_name), &expected_len);
  cr_assert(expected != NULL, "%s: missing bad/%s", c->name, err_name);
  expect_same_text(c->name, expected, expected_len, r.err, r.err_len);
  free(expected);
  run_result_free(&r);
  rmtree(dir);
}

ParameterizedTestParameters(diagnostics, good) {
  size_t n;
  diag_case *cases = list_cases("good", &n, cr_malloc, cr_free);
  return cr_make_param_array(diag_case, cases, n, free_params);
}

/* A good schema passes --check silently, writing nothing, and compiles. */
ParameterizedTest(diag_case *c, diagnostics, good) {
  char *dir = tmpdir();
  run_result r =
      esgen(dir, "--check", path_in("good", c->name), NULL, NULL, NULL);
  cr_expect_eq(r.status, 0, "%s: exit status %d\n%s", c->name, r.status, r.err);
  cr_expect_str_empty(r.err, "%s: --check printed:\n%s", c->name, r.err);
  cr_expect_str_empty(r.out, "%s: --check printed to stdout:\n%s", c->name,
                      r.out);
  char *left = entries(dir);
  cr_expect_str_empty(left, "%s: --check wrote files:\n%s", c->name, left);
  free(left);
  run_result_free(&r);

  r = esgen(dir, "-o", ".", path_in("good", c->name), NULL, NULL);
  cr_expect_eq(r.status, 0, "%s: compiling failed (%d)\n%s", c->name, r.status,
               r.err);
  cr_expect_str_empty(r.err, "%s: compiling printed:\n%s", c->name, r.err);
  char h[300], src[300];
  snprintf(h, sizeof h, "%s/%s.h", dir, c->name);
  snprintf(src, sizeof src, "%s/%s.c", dir, c->name);
  cr_expect(access(h, F_OK) == 0 && access(src, F_OK) == 0,
            "%s: no %s.h and %s.c written", c->name, c->name, c->name);
  run_result_free(&r);
  rmtree(dir);
}

/* ---- the suite as a whole ------------------------------------------------ */

/* Enough cases, each with its expected output, and no stray .err files. */
Test(diagnostics, suite_is_complete) {
  size_t n_bad, n_good;
  char dir[4096];
  DIR *d;
  struct dirent *e;
  diag_case *bad = list_cases("bad", &n_bad, malloc, free);
  diag_case *good = list_cases("good", &n_good, malloc, free);

  env("DIAG_DIR");
  cr_expect_geq(n_bad, MIN_BAD_CASES, "only %zu bad cases", n_bad);
  cr_expect_geq(n_good, MIN_GOOD_CASES, "only %zu good cases", n_good);
  for (size_t i = 0; i < n_bad; i++) {
    char err_name[160];
    snprintf(err_name, sizeof err_name, "%.*s.err",
             (int)(strlen(bad[i].name) - 3), bad[i].name);
    cr_expect(access(path_in("bad", err_name), R_OK) == 0, "%s has no %s",
              bad[i].name, err_name);
  }
  snprintf(dir, sizeof dir, "%s/bad", env("DIAG_DIR"));
  d = opendir(dir);
  cr_assert(d != NULL);
  while ((e = readdir(d)) != NULL) {
    char es_name[300];
    if (!ends_with(e->d_name, ".err"))
      continue;
    snprintf(es_name, sizeof es_name, "%.*s.es", (int)(strlen(e->d_name) - 4),
             e->d_name);
    cr_expect(access(path_in("bad", es_name), R_OK) == 0, "%s has no schema %s",
              e->d_name, es_name);
  }
  closedir(d);
  free(bad);
  free(good);
}

/* --check writes nothing, neither in the working directory nor beside the
 * schema, whether the schema is good or bad. */
Test(diagnostics, check_writes_no_files) {
  size_t n_bad;
  diag_case *bad = list_cases("bad", &n_bad, malloc, free);
  char *dir = tmpdir();
  char *before = entries(path_in("bad", ""));
  cr_assert(n_bad > 0);
  for (size_t i = 0; i < n_bad; i++) {
    run_result r =
        esgen(dir, "--check", path_in("bad", bad[i].name), NULL, NULL, NULL);
    run_result_free(&r);
  }
  run_result r =
      esgen(dir, "--check", path_in("good", "bank.es"), NULL, NULL, NULL);
  cr_expect_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  char *left = entries(dir);
  cr_expect_str_empty(left, "--check wrote into its working directory:\n%s",
                      left);
  char *after = entries(path_in("bad", ""));
  cr_expect_str_eq(after, before, "--check changed bad/");
  free(left);
  free(before);
  free(after);
  free(bad);
  rmtree(dir);
}

/* Writes `text` to `path` and dates it a day before 2001-09-09. */
static void plant(const char *path, const char *text, struct stat *st) {
  FILE *f = fopen(path, "wb");
  cr_assert(f != NULL, "cannot create %s", path);
  fputs(text, f);
  cr_assert(fclose(f) == 0);
  struct timespec times[2] = {{999913600, 0}, {999913600, 0}};
  cr_assert(utimensat(AT_FDCWD, path, times, 0) == 0);
  cr_assert(stat(path, st) == 0);
}

static void expect_untouched(const char *path, const char *text,
                             const struct stat *was) {
  struct stat now;
  size_t len = 0;
  char *data = read_file(path, &len);
  cr_expect(data != NULL, "%s was removed", path);
  if (!data)
    return;
  cr_expect(len == strlen(text) && memcmp(data, text, len) == 0,
            "%s was rewritten", path);
  cr_expect(stat(path, &now) == 0);
  cr_expect(now.st_mtim.tv_sec == was->st_mtim.tv_sec &&
                now.st_mtim.tv_nsec == was->st_mtim.tv_nsec &&
                now.st_ino == was->st_ino,
            "%s was touched", path);
  free(data);
}

/* Output files already there from an earlier run stay exactly as they
 * were when the schema now has errors. */
Test(diagnostics, failed_run_keeps_existing_output) {
  static const char *const bad_cases[] = {"017-unknown-type.es",
                                          "071-missing-semicolon.es",
                                          "083-too-many-errors.es"};
  char *dir = tmpdir();
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    char h[4200], c[4200], stubs[4200];
    struct stat st_h, st_c, st_stubs;
    const char *name = bad_cases[i];
    snprintf(h, sizeof h, "%s/%s.h", dir, name);
    snprintf(c, sizeof c, "%s/%s.c", dir, name);
    snprintf(stubs, sizeof stubs, "%s/stubs.c", dir);
    plant(h, "/* an earlier header */\n", &st_h);
    plant(c, "/* an earlier source */\n", &st_c);
    plant(stubs, "/* the user's own code */\n", &st_stubs);

    run_result r = esgen(path_in("bad", ""), "-o", dir, name, NULL, NULL);
    cr_expect_eq(r.status, 1, "%s: exit status %d", name, r.status);
    run_result_free(&r);
    r = esgen(path_in("bad", ""), "-o", dir, "--stubs", stubs, name);
    cr_expect_eq(r.status, 1, "%s: exit status %d", name, r.status);
    run_result_free(&r);

    expect_untouched(h, "/* an earlier header */\n", &st_h);
    expect_untouched(c, "/* an earlier source */\n", &st_c);
    expect_untouched(stubs, "/* the user's own code */\n", &st_stubs);
    /* The same three files and nothing else (no temporaries). */
    char *left = entries(dir);
    int lines = 0;
    for (const char *p = left; *p; p++)
      lines += *p == '\n';
    cr_expect_eq(lines, 3, "%s: files now:\n%s", name, left);
    free(left);
    unlink(h);
    unlink(c);
    unlink(stubs);
  }
  rmtree(dir);
}
