/*
 * test_lock.c - the schema lock: what esgen says about each kind of change,
 * byte for byte, and what it writes.
 *
 * Every cases/NNN-name.es comes with cases/NNN-name.lock (the lock of the
 * schema before the change), cases/NNN-name.err (what `esgen --check
 * --lock NNN-name.lock NNN-name.es` prints, run inside cases/) and
 * cases/NNN-name.diff (what `esgen --diff NNN-name.lock NNN-name.es`
 * prints on stdout). The exit status is 0 for cases whose name contains
 * -ok, -note or -warning (accepted changes), else 1. Cases are found at
 * run time. base/shop.es is the schema the cases start from, base/nested.es
 * (nested types) that of cases 024 to 028.
 *
 * Environment (set by meson): ESGEN, the compiler; LOCK_DIR, this
 * directory; SCHEMAS_DIR, the project's schemas.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define MIN_CASES 20

typedef struct lock_case {
  char name[128]; /* "002-field-retyped" */
} lock_case;

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
  return strcmp(((const lock_case *)a)->name, ((const lock_case *)b)->name);
}

/* The cases, sorted, from `alloc`; NULL and 0 when there are none. */
static lock_case *list_cases(size_t *n, void *(*alloc)(size_t)) {
  const char *root = getenv("LOCK_DIR");
  char dir[4096];
  lock_case *cases = NULL;
  size_t count = 0, i = 0;
  *n = 0;
  if (!root)
    return NULL;
  snprintf(dir, sizeof dir, "%s/cases", root);
  for (int pass = 0; pass < 2; pass++) {
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
      return NULL;
    while ((e = readdir(d)) != NULL) {
      size_t len = strlen(e->d_name);
      if (!ends_with(e->d_name, ".es") || len - 3 >= sizeof cases->name)
        continue;
      if (pass == 0)
        count++;
      else if (i < count) {
        memcpy(cases[i].name, e->d_name, len - 3);
        cases[i++].name[len - 3] = '\0';
      }
    }
    closedir(d);
    if (pass == 0) {
      if (!count)
        return NULL;
      cases = alloc(count * sizeof *cases);
      if (!cases)
        return NULL;
      memset(cases, 0, count * sizeof *cases);
    }
  }
  qsort(cases, i, sizeof *cases, by_name);
  *n = i;
  return cases;
}

static void free_params(struct criterion_test_params *p) { cr_free(p->params); }

static char *in_dir(const char *sub, const char *name, const char *ext) {
  static char path[4][4096];
  static int next;
  char *p = path[next++ % 4];
  snprintf(p, sizeof path[0], "%s/%s/%s%s", env("LOCK_DIR"), sub, name, ext);
  return p;
}

static run_result esgen(const char *cwd, const char *const *args) {
  char *argv[12] = {(char *)env("ESGEN")};
  int n = 1;
  for (; args[n - 1] && n < 11; n++)
    argv[n] = (char *)args[n - 1];
  argv[n] = NULL;
  run_result r;
  cr_assert(run_program(cwd, argv, &r) == 0, "cannot start esgen");
  return r;
}

#define ESGEN(cwd, ...) esgen((cwd), (const char *const[]){__VA_ARGS__, NULL})

static char *slurp(const char *path) {
  size_t len;
  char *s = read_file(path, &len);
  cr_assert(s != NULL, "cannot read %s", path);
  return s;
}

static char *tmpdir(void) {
  char tmpl[] = "/tmp/esgen-lock-XXXXXX";
  char *d = mkdtemp(tmpl);
  cr_assert(d != NULL);
  return strdup(d);
}

static void rmtree(char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4200];
  while (d && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  }
  if (d)
    closedir(d);
  rmdir(dir);
  free(dir);
}

static void copy(const char *from, const char *to) {
  size_t len;
  char *s = read_file(from, &len);
  cr_assert(s != NULL, "cannot read %s", from);
  FILE *f = fopen(to, "wb");
  cr_assert(f != NULL);
  cr_assert(fwrite(s, 1, len, f) == len && fclose(f) == 0);
  free(s);
}

static bool accepted(const char *name) {
  return strstr(name, "-ok") || strstr(name, "-note") ||
         strstr(name, "-warning");
}

/* ---- golden cases ------------------------------------------------------- */

ParameterizedTestParameters(lock, golden) {
  size_t n;
  lock_case *cases = list_cases(&n, cr_malloc);
  return cr_make_param_array(lock_case, cases, n, free_params);
}

/* --check --lock: exact stderr and status, the lock untouched; --diff:
 * exact stdout, same verdict. */
ParameterizedTest(lock_case *c, lock, golden) {
  char es[200], lk[200];
  int want = accepted(c->name) ? 0 : 1;
  snprintf(es, sizeof es, "%s.es", c->name);
  snprintf(lk, sizeof lk, "%s.lock", c->name);
  char *lock_before = slurp(in_dir("cases", c->name, ".lock"));
  char *expected = slurp(in_dir("cases", c->name, ".err"));
  char *cases = in_dir("cases", "", "");

  run_result r = ESGEN(cases, "--check", "--lock", lk, es);
  cr_expect_eq(r.status, want, "%s: exit status %d, expected %d\n%s", c->name,
               r.status, want, r.err);
  cr_expect_str_eq(r.err, expected, "%s: stderr differs:\n%s", c->name, r.err);
  cr_expect_str_empty(r.out);
  run_result_free(&r);
  free(expected);

  expected = slurp(in_dir("cases", c->name, ".diff"));
  r = ESGEN(cases, "--diff", lk, es);
  cr_expect_eq(r.status, want, "%s: --diff exit status %d\n%s", c->name,
               r.status, r.err);
  cr_expect_str_eq(r.out, expected, "%s: --diff printed:\n%s", c->name, r.out);
  run_result_free(&r);
  free(expected);

  char *lock_after = slurp(in_dir("cases", c->name, ".lock"));
  cr_expect_str_eq(lock_after, lock_before, "%s: the lock changed", c->name);
  free(lock_before);
  free(lock_after);
}

/* Every classification has a case, each case has its files. */
Test(lock, suite_is_complete) {
  static const char *const kinds[] = {"compatible",
                                      "field-retyped",
                                      "field-removed",
                                      "reordered",
                                      "renamed",
                                      "made-required",
                                      "bound-lowered",
                                      "required-field-added",
                                      "enum-value-removed",
                                      "enum-renumbered",
                                      "old-version-changed",
                                      "version-deleted",
                                      "event-deleted",
                                      "type-id-reused",
                                      "state-changed",
                                      "saga-state-changed",
                                      "record-in-event",
                                      "nested-inner-bound-lowered",
                                      "nested-inner-bound-raised",
                                      "nested-inner-retyped",
                                      "nested-record-in-record"};
  size_t n;
  lock_case *cases = list_cases(&n, malloc);
  cr_assert_geq(n, MIN_CASES, "only %zu cases", n);
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    bool found = false;
    for (size_t i = 0; i < n; i++)
      found |= strstr(cases[i].name, kinds[k]) != NULL;
    cr_expect(found, "no case for '%s'", kinds[k]);
  }
  for (size_t i = 0; i < n; i++) {
    cr_expect(access(in_dir("cases", cases[i].name, ".lock"), R_OK) == 0,
              "%s has no .lock", cases[i].name);
    cr_expect(access(in_dir("cases", cases[i].name, ".err"), R_OK) == 0,
              "%s has no .err", cases[i].name);
    cr_expect(access(in_dir("cases", cases[i].name, ".diff"), R_OK) == 0,
              "%s has no .diff", cases[i].name);
  }
  free(cases);
}

/* ---- what esgen writes -------------------------------------------------- */

static void lock_path(char *out, size_t n, const char *dir) {
  snprintf(out, n, "%s/shop.lock", dir);
}

/* Without a lock, esgen writes one (with the outputs), the same bytes
 * every time, and a later build leaves it untouched. */
Test(lock, written_when_absent_then_kept) {
  char *dir = tmpdir(), lk[4300];
  const char *base = in_dir("base", "shop.es", "");
  struct stat st1, st2;
  lock_path(lk, sizeof lk, dir);
  run_result r = ESGEN(dir, "--lock", lk, "-o", dir, base);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_expect_str_empty(r.err);
  run_result_free(&r);
  cr_assert(stat(lk, &st1) == 0, "no lock written");
  char *first = slurp(lk);
  cr_expect(strstr(first, "esgen-lock 1\nschema shop\n") != NULL);
  cr_expect(strstr(first, "event Order.Placed v1 id ") != NULL);
  cr_expect(strstr(first, "  3 size: Size = Medium\n") != NULL);

  r = ESGEN(dir, "--lock", lk, "-o", dir, base);
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect_str_empty(r.err, "an unchanged schema says:\n%s", r.err);
  run_result_free(&r);
  cr_assert(stat(lk, &st2) == 0);
  cr_expect(st1.st_ino == st2.st_ino &&
                st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec &&
                st1.st_mtim.tv_sec == st2.st_mtim.tv_sec,
            "the lock was rewritten");

  /* Deterministic: another directory, the same bytes. */
  char *dir2 = tmpdir(), lk2[4300];
  lock_path(lk2, sizeof lk2, dir2);
  r = ESGEN(dir2, "--lock", lk2, "-o", dir2, base);
  cr_assert_eq(r.status, 0);
  run_result_free(&r);
  char *second = slurp(lk2);
  cr_expect_str_eq(second, first);
  free(first);
  free(second);
  rmtree(dir);
  rmtree(dir2);
}

/* Nested types (lists of lists with bounds at each level, records in
 * records, optional records and lists) are written in full: the lock of
 * base/nested.es is base/nested.lock byte for byte, and the schema checked
 * against that lock has nothing to say. Cases 024 to 028 change them. */
Test(lock, nested_types_written_and_compared) {
  char *dir = tmpdir(), lk[4300];
  const char *es = in_dir("base", "nested.es", "");
  snprintf(lk, sizeof lk, "%s/nested.lock", dir);
  run_result r = ESGEN(dir, "--lock", lk, "-o", dir, es);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_expect_str_empty(r.err);
  run_result_free(&r);
  char *written = slurp(lk);
  char *golden = slurp(in_dir("base", "nested.lock", ""));
  cr_expect_str_eq(written, golden, "the lock of nested.es:\n%s", written);
  free(written);
  free(golden);

  r = ESGEN(dir, "--check", "--lock", in_dir("base", "nested.lock", ""), es);
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect_str_empty(r.err, "nested.es against its own lock says:\n%s", r.err);
  run_result_free(&r);
  r = ESGEN(dir, "--diff", in_dir("base", "nested.lock", ""), es);
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect_str_eq(r.out, "no changes\n");
  run_result_free(&r);
  rmtree(dir);
}

/* --check never writes a lock. */
Test(lock, check_writes_no_lock) {
  char *dir = tmpdir(), lk[4300];
  lock_path(lk, sizeof lk, dir);
  run_result r =
      ESGEN(dir, "--check", "--lock", lk, in_dir("base", "shop.es", ""));
  cr_expect_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  cr_expect(access(lk, F_OK) != 0, "--check wrote the lock");
  rmtree(dir);
}

/* A refused change writes nothing at all: no header, no source, and the
 * lock as it was, even with --update-lock. */
Test(lock, refused_change_writes_nothing) {
  char *dir = tmpdir(), lk[4300], h[4300];
  lock_path(lk, sizeof lk, dir);
  copy(in_dir("cases", "002-field-retyped", ".lock"), lk);
  char *before = slurp(lk);
  run_result r = ESGEN(dir, "--lock", lk, "--update-lock", "-o", dir,
                       in_dir("cases", "002-field-retyped", ".es"));
  cr_expect_eq(r.status, 1);
  cr_expect(strstr(r.err, "error: field 'total' of event 'Order.Placed' "
                          "changed type from 'i64' to 'i32'") != NULL,
            "%s", r.err);
  run_result_free(&r);
  snprintf(h, sizeof h, "%s/002-field-retyped.es.h", dir);
  cr_expect(access(h, F_OK) != 0, "a header was written");
  char *after = slurp(lk);
  cr_expect_str_eq(after, before, "the lock changed");
  free(before);
  free(after);
  rmtree(dir);
}

/* Accepted changes reach the lock only with --update-lock, and then the
 * lock is what a fresh one would be. */
Test(lock, update_lock_records_accepted_changes) {
  char *dir = tmpdir(), lk[4300], fresh[4300];
  const char *es = in_dir("cases", "001-compatible-changes-ok", ".es");
  lock_path(lk, sizeof lk, dir);
  copy(in_dir("cases", "001-compatible-changes-ok", ".lock"), lk);
  char *before = slurp(lk);

  run_result r = ESGEN(dir, "--lock", lk, "-o", dir, es);
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect(strstr(r.err, "note: 5 accepted changes since") != NULL, "%s",
            r.err);
  run_result_free(&r);
  char *same = slurp(lk);
  cr_expect_str_eq(same, before, "the lock changed without --update-lock");

  r = ESGEN(dir, "--lock", lk, "--update-lock", "-o", dir, es);
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect_str_empty(r.err);
  run_result_free(&r);
  snprintf(fresh, sizeof fresh, "%s/fresh.lock", dir);
  r = ESGEN(dir, "--check", "--lock", fresh, es);
  run_result_free(&r);
  r = ESGEN(dir, "--lock", fresh, "-o", dir, es);
  cr_assert_eq(r.status, 0);
  run_result_free(&r);
  char *updated = slurp(lk), *expected = slurp(fresh);
  cr_expect_str_eq(updated, expected);

  r = ESGEN(dir, "--lock", lk, "-o", dir, es);
  cr_expect_eq(r.status, 0);
  cr_expect_str_empty(r.err, "after --update-lock:\n%s", r.err);
  run_result_free(&r);
  free(before);
  free(same);
  free(updated);
  free(expected);
  rmtree(dir);
}

/* --diff between two schemas: the old one's lines in the notes. */
Test(lock, diff_two_schemas) {
  run_result r = ESGEN(in_dir("cases", "", ""), "--diff", "../base/shop.es",
                       "002-field-retyped.es");
  cr_expect_eq(r.status, 1, "%s", r.err);
  cr_expect_str_eq(
      r.out,
      "002-field-retyped.es:13:19: needs a new version: field 'total' of "
      "event 'Order.Placed' changed type from 'i64' to 'i32'; events already "
      "stored have the old shape: declare it as 'Placed v1' and the new one "
      "as 'Placed v2'\n"
      "../base/shop.es:14:19: note: it was 'total: i64'\n"
      "1 change: 1 needs a new version\n");
  run_result_free(&r);

  r = ESGEN(in_dir("cases", "", ""), "--diff", "../base/shop.es",
            "../base/shop.es");
  cr_expect_eq(r.status, 0);
  cr_expect_str_eq(r.out, "no changes\n");
  run_result_free(&r);
}

Test(lock, usage) {
  run_result r = ESGEN(NULL, "--update-lock", in_dir("base", "shop.es", ""));
  cr_expect_eq(r.status, 1);
  cr_expect(strstr(r.err, "'--update-lock' needs '--lock FILE'") != NULL);
  run_result_free(&r);
  r = ESGEN(NULL, "--diff", "x.lock", "-o", "out",
            in_dir("base", "shop.es", ""));
  cr_expect_eq(r.status, 1);
  run_result_free(&r);
  r = ESGEN(NULL, "--diff", "/nonexistent/x.lock",
            in_dir("base", "shop.es", ""));
  cr_expect_eq(r.status, 1);
  cr_expect(strstr(r.err, "cannot read lock '/nonexistent/x.lock'") != NULL,
            "%s", r.err);
  run_result_free(&r);
}
