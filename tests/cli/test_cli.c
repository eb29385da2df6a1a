/*
 * test_cli.c - esgen's command line: options, exit codes, deterministic
 * output, and files that are written whole or not at all.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

static const char *env(const char *name) {
  const char *v = getenv(name);
  cr_assert(v != NULL, "%s is not set (run the test through meson)", name);
  return v;
}

static char *tmpdir(void) {
  char tmpl[] = "/tmp/esgen-cli-XXXXXX";
  char *d = mkdtemp(tmpl);
  cr_assert(d != NULL);
  return strdup(d);
}

static void rmtree(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4096];
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  cr_assert(d != NULL);
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n++;
  closedir(d);
  return n;
}

static run_result esgen(const char *cwd, const char *a1, const char *a2,
                        const char *a3, const char *a4) {
  char *argv[6] = {(char *)env("ESGEN"), (char *)a1, (char *)a2,
                   (char *)a3,           (char *)a4, NULL};
  run_result r;
  cr_assert(run_program(cwd, argv, &r) == 0, "cannot start esgen");
  return r;
}

static char *bank(void) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/bank.es", env("SCHEMAS_DIR"));
  return path;
}

Test(cli, version) {
  run_result r = esgen(NULL, "--version", NULL, NULL, NULL);
  cr_assert_eq(r.status, 0);
  cr_assert_str_eq(r.out, "esgen 0.1.0 (libes ABI 4)\n");
  cr_assert_str_empty(r.err);
  run_result_free(&r);
}

Test(cli, help) {
  run_result r = esgen(NULL, "--help", NULL, NULL, NULL);
  cr_assert_eq(r.status, 0);
  cr_assert(strstr(r.out, "usage: esgen [options] FILE.es") == r.out);
  cr_assert(strstr(r.out, "--stubs FILE") != NULL);
  run_result_free(&r);
}

Test(cli, usage_errors) {
  run_result r = esgen(NULL, NULL, NULL, NULL, NULL);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.err, "esgen: error: no schema file given\n") == r.err);
  run_result_free(&r);

  r = esgen(NULL, "--bogus", bank(), NULL, NULL);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.err, "esgen: error: unknown option '--bogus'\n") == r.err);
  run_result_free(&r);

  r = esgen(NULL, "-o", NULL, NULL, NULL);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.err, "'-o' needs an argument") != NULL);
  run_result_free(&r);

  r = esgen(NULL, "--fuzz", NULL, NULL, NULL);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.err, "'--fuzz' needs an argument") != NULL);
  run_result_free(&r);

  r = esgen(NULL, bank(), bank(), NULL, NULL);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.err, "more than one schema given") != NULL);
  run_result_free(&r);
}

Test(cli, unreadable_schema) {
  char *dir = tmpdir();
  run_result r = esgen(dir, "-o", ".", "missing.es", NULL);
  cr_assert_eq(r.status, 1);
  cr_assert_str_eq(r.err, "missing.es: error: cannot read 'missing.es': No "
                          "such file or directory\n");
  cr_assert_eq(count_entries(dir), 0);
  run_result_free(&r);
  rmtree(dir);
  free(dir);
}

Test(cli, check_writes_nothing) {
  char *dir = tmpdir();
  run_result r = esgen(dir, "--check", bank(), NULL, NULL);
  cr_assert_eq(r.status, 0);
  cr_assert_str_empty(r.err);
  cr_assert_str_empty(r.out);
  cr_assert_eq(count_entries(dir), 0);
  run_result_free(&r);
  rmtree(dir);
  free(dir);
}

/* Same input, byte-identical output, wherever the schema and output are. */
Test(cli, deterministic_output) {
  char *d1 = tmpdir(), *d2 = tmpdir(), p1[4096], p2[4096], copy[4096];
  size_t n1, n2;
  run_result r = esgen(NULL, "-o", d1, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  snprintf(p1, sizeof p1, "%s/bank.es.fuzz.c", d1);
  r = esgen(NULL, "--fuzz", p1, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);

  /* A copy of the schema elsewhere, compiled from another directory. */
  char *src = read_file(bank(), &n1);
  cr_assert(src != NULL);
  snprintf(copy, sizeof copy, "%s/bank.es", d2);
  FILE *f = fopen(copy, "wb");
  cr_assert(f != NULL);
  fwrite(src, 1, n1, f);
  fclose(f);
  free(src);
  r = esgen(d2, "-o", ".", "bank.es", NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  r = esgen(d2, "--fuzz", "bank.es.fuzz.c", "bank.es", NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);

  const char *ext[] = {"h", "c", "fuzz.c"};
  for (int i = 0; i < 3; i++) {
    snprintf(p1, sizeof p1, "%s/bank.es.%s", d1, ext[i]);
    snprintf(p2, sizeof p2, "%s/bank.es.%s", d2, ext[i]);
    char *a = read_file(p1, &n1), *b = read_file(p2, &n2);
    cr_assert(a && b);
    cr_assert_eq(n1, n2, "bank.es.%s differs in size", ext[i]);
    cr_assert(memcmp(a, b, n1) == 0, "bank.es.%s differs", ext[i]);
    cr_assert(strstr(a, d1) == NULL, "output names a machine path");
    free(a);
    free(b);
  }
  rmtree(d1);
  rmtree(d2);
  free(d1);
  free(d2);
}

/* --fuzz alone writes the harness and nothing else; the harness names
 * the schema's header and every type's descriptor. */
Test(cli, fuzz_writes_only_the_harness) {
  char *dir = tmpdir(), path[4096];
  size_t n;
  snprintf(path, sizeof path, "%s/bank.es.fuzz.c", dir);
  run_result r = esgen(NULL, "--fuzz", path, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  cr_assert_eq(count_entries(dir), 1);
  char *text = read_file(path, &n);
  cr_assert(text != NULL);
  cr_assert(strstr(text, "#include \"bank.es.h\"") != NULL);
  cr_assert(strstr(text, "int LLVMFuzzerTestOneInput(") != NULL);
  cr_assert(strstr(text, "&bank_account_deposited_desc,") != NULL);
  cr_assert(strstr(text, "&bank_money_transfer_state_desc,") != NULL);
  free(text);
  rmtree(dir);
  free(dir);
}

/* Every @NAME@ placeholder of the templates was filled: a template that
 * names a value its generator did not set would leave one in the output
 * (nothing esgen writes has an '@' of its own). */
Test(cli, templates_filled) {
  char *dir = tmpdir(), stubs[4096], path[4096];
  snprintf(stubs, sizeof stubs, "%s/bank.stubs.c", dir);
  run_result r = esgen(NULL, "--stubs", stubs, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  snprintf(path, sizeof path, "%s/bank.es.fuzz.c", dir);
  r = esgen(NULL, "--fuzz", path, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  r = esgen(NULL, "-o", dir, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  const char *files[] = {"bank.es.h", "bank.es.c", "bank.stubs.c",
                         "bank.es.fuzz.c"};
  for (int i = 0; i < 4; i++) {
    size_t n;
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    char *text = read_file(path, &n);
    cr_assert(text != NULL, "%s was not written", files[i]);
    cr_assert(memchr(text, '@', n) == NULL, "%s has an unfilled placeholder",
              files[i]);
    free(text);
  }
  rmtree(dir);
  free(dir);
}

/* Regenerating unchanged output leaves the files alone (no rebuilds). */
Test(cli, unchanged_output_not_rewritten) {
  char *dir = tmpdir(), path[4096];
  struct stat before, after;
  run_result r = esgen(NULL, "-o", dir, bank(), NULL);
  cr_assert_eq(r.status, 0);
  run_result_free(&r);
  snprintf(path, sizeof path, "%s/bank.es.h", dir);
  cr_assert(stat(path, &before) == 0);
  sleep(1);
  r = esgen(NULL, "-o", dir, bank(), NULL);
  cr_assert_eq(r.status, 0);
  run_result_free(&r);
  cr_assert(stat(path, &after) == 0);
  cr_assert_eq(before.st_mtime, after.st_mtime);
  cr_assert_eq(before.st_ino, after.st_ino);
  cr_assert_eq(count_entries(dir), 2, "temporary files left behind");
  rmtree(dir);
  free(dir);
}

/* A file of the right size whose bytes differ (an edit, a corruption) is
 * replaced: the comparison looks at every byte, not at the size. */
Test(cli, same_size_different_output_rewritten) {
  char *dir = tmpdir(), path[4096];
  size_t n, m;
  run_result r = esgen(NULL, "-o", dir, bank(), NULL);
  cr_assert_eq(r.status, 0);
  run_result_free(&r);
  snprintf(path, sizeof path, "%s/bank.es.c", dir);
  char *want = read_file(path, &n);
  cr_assert(want != NULL && n > 2);
  FILE *f = fopen(path, "r+b");
  cr_assert(f != NULL);
  /* The last byte but one: a mismatch only a full comparison sees. */
  cr_assert(fseek(f, (long)n - 2, SEEK_SET) == 0);
  cr_assert(fputc(want[n - 2] == 'x' ? 'y' : 'x', f) != EOF);
  cr_assert(fclose(f) == 0);
  r = esgen(NULL, "-o", dir, bank(), NULL);
  cr_assert_eq(r.status, 0);
  run_result_free(&r);
  char *got = read_file(path, &m);
  cr_assert(got != NULL);
  cr_assert_eq(m, n);
  cr_assert(memcmp(got, want, n) == 0, "the edited file was not replaced");
  cr_assert_eq(count_entries(dir), 2, "temporary files left behind");
  free(want);
  free(got);
  rmtree(dir);
  free(dir);
}

Test(cli, output_dir_is_created) {
  char *dir = tmpdir(), sub[4096], top[4096];
  snprintf(top, sizeof top, "%s/out", dir);
  snprintf(sub, sizeof sub, "%s/out/gen/", dir);
  run_result r = esgen(NULL, "-o", sub, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_assert_str_empty(r.err);
  cr_assert_eq(count_entries(sub), 2, "expected bank.es.h and bank.es.c");
  /* Run again into the directory that now exists: nothing to create. */
  run_result_free(&r);
  r = esgen(NULL, "-o", sub, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  rmtree(sub);
  rmtree(top);
  rmtree(dir);
  free(dir);
}

Test(cli, unwritable_output_dir) {
  char *dir = tmpdir(), file[2048], sub[4096];
  /* A directory cannot be made inside a regular file (even by root). */
  snprintf(file, sizeof file, "%s/file", dir);
  FILE *f = fopen(file, "w");
  cr_assert(f != NULL);
  fclose(f);
  snprintf(sub, sizeof sub, "%s/sub", file);
  run_result r = esgen(NULL, "-o", sub, bank(), NULL);
  cr_assert_eq(r.status, 1);
  char want[8192];
  snprintf(want, sizeof want,
           "esgen: error: cannot create directory '%s': Not a directory\n",
           sub);
  cr_assert_str_eq(r.err, want);
  cr_assert_eq(count_entries(dir), 1);
  run_result_free(&r);
  rmtree(dir);
  free(dir);
}

Test(cli, stubs_never_overwrite) {
  char *dir = tmpdir(), path[4096];
  size_t n;
  snprintf(path, sizeof path, "%s/bank.stubs.c", dir);
  run_result r = esgen(NULL, "--stubs", path, bank(), NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  /* Only the skeleton: no header or source without -o. */
  cr_assert_eq(count_entries(dir), 1);

  FILE *f = fopen(path, "wb");
  cr_assert(f != NULL);
  fputs("/* my code */\n", f);
  fclose(f);
  r = esgen(NULL, "--stubs", path, bank(), NULL);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.err, "already exists") != NULL);
  run_result_free(&r);
  char *text = read_file(path, &n);
  cr_assert_str_eq(text, "/* my code */\n");
  free(text);
  cr_assert_eq(count_entries(dir), 1, "temporary files left behind");
  rmtree(dir);
  free(dir);
}

Test(cli, graph_matches_golden) {
  char golden[4096];
  size_t n;
  snprintf(golden, sizeof golden, "%s/bank.mmd", env("CLI_DIR"));
  char *want = read_file(golden, &n);
  cr_assert(want != NULL, "cannot read %s", golden);
  run_result r = esgen(NULL, "--graph", bank(), NULL, NULL);
  cr_assert_eq(r.status, 0);
  cr_assert_str_eq(r.out, want);
  run_result_free(&r);
  free(want);
}

/* The JSON description of lists of lists: one `elem` per level, each with
 * its own bound (docs/schema-json.md). */
Test(cli, json_of_nested_lists_matches_golden) {
  char golden[4096];
  size_t n;
  snprintf(golden, sizeof golden, "%s/nested.json", env("CLI_DIR"));
  char *want = read_file(golden, &n);
  cr_assert(want != NULL, "cannot read %s", golden);
  run_result r = esgen(NULL, "--json", env("NESTED_ES"), NULL, NULL);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_assert_str_eq(r.out, want);
  run_result_free(&r);
  free(want);
}
