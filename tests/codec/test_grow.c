/*
 * test_grow.c - the contract between a schema and the user's code, checked
 * the way a user meets it: esgen and the C compiler run as programs on
 * copies of schemas/bank.es in a temporary directory.
 *
 *   - the `esgen --stubs` skeleton and the generated code compile with
 *     -Wall -Wextra -Werror -pedantic under gcc and clang, and link with
 *     libes into a program that works;
 *   - when the schema grows a command, the generated code plus the old
 *     skeleton no longer link, and the linker names the missing function;
 *   - `esgen --stubs` never overwrites a file.
 *
 * meson passes ESGEN, BANK_ES, ES_INCLUDE, ES_BUILD_INCLUDE, LIBES_A and
 * SANITIZE (the build's b_sanitize, which linking libes.a needs); the C
 * compiler is the `cc` on PATH (or $CC), like a user's.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

static char dir[64];

static const char *need_env(const char *name) {
  const char *v = getenv(name);
  cr_assert(v && *v, "%s is not set: run this through `meson test`", name);
  return v;
}

/* The absolute path of `name` on PATH, or false. */
static bool which(const char *name, char *out, size_t n) {
  const char *path = getenv("PATH");
  if (strchr(name, '/')) {
    snprintf(out, n, "%s", name);
    return access(out, X_OK) == 0;
  }
  while (path && *path) {
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    snprintf(out, n, "%.*s/%s", (int)len, len ? path : ".", name);
    if (access(out, X_OK) == 0)
      return true;
    path = end ? end + 1 : NULL;
  }
  return false;
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/esgen-grow-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
  char *argv[] = {"/bin/rm", "-rf", dir, NULL};
  run_result r;
  if (dir[0] && run_program(NULL, argv, &r) == 0)
    run_result_free(&r);
}

TestSuite(grow, .init = setup, .fini = teardown, .timeout = 120);

/* Runs argv (argv[0] absolute) and returns its result; the test fails if
 * it cannot be started. */
static run_result run(char *const argv[]) {
  run_result r;
  cr_assert_eq(run_program(NULL, argv, &r), 0, "cannot run %s", argv[0]);
  return r;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "%s", path);
  cr_assert_eq(fputs(text, f) >= 0, 1);
  cr_assert_eq(fclose(f), 0);
}

/* `sub` made under the temporary directory; its path in `out`. */
static void subdir(const char *sub, char *out, size_t n) {
  snprintf(out, n, "%s/%s", dir, sub);
  cr_assert_eq(mkdir(out, 0700), 0, "%s", out);
}

/* esgen -o DIR [--stubs STUBS] SCHEMA, which must succeed. */
static void esgen(const char *out_dir, const char *stubs, const char *schema) {
  char *argv[7] = {(char *)need_env("ESGEN"), "-o", (char *)out_dir};
  int n = 3;
  if (stubs) {
    argv[n++] = "--stubs";
    argv[n++] = (char *)stubs;
  }
  argv[n++] = (char *)schema;
  argv[n] = NULL;
  run_result r = run(argv);
  cr_assert_eq(r.status, 0, "esgen failed: %s", r.err);
  run_result_free(&r);
}

/* A small program driving the bank through the stubs: Open emits Opened. */
static const char main_c[] =
    "#include <stdio.h>\n"
    "#include \"bank.es.h\"\n"
    "int main(void) {\n"
    "  bank_account_state st;\n"
    "  bank_account_open cmd;\n"
    "  es_decision d;\n"
    "  int rc, ok;\n"
    "  bank_account_state_init(&st);\n"
    "  bank_account_open_init(&cmd);\n"
    "  cmd.owner = \"Ada\";\n"
    "  cmd.initial = 7;\n"
    "  es_decision_init(&d, &bank_account_aggregate, 0);\n"
    "  rc = bank_account_aggregate.commands[0].decide(&st, &cmd, &d);\n"
    "  ok = rc == 0 && d.n_emitted == 1 &&\n"
    "       d.emitted[0].type == &bank_account_opened_desc;\n"
    "  es_decision_close(&d);\n"
    "  puts(ok ? \"opened\" : \"broken\");\n"
    "  return ok ? 0 : 1;\n"
    "}\n";

/* Compiles and links main.c, the generated code of `gen_dir` and `stubs`
 * with compiler `cc` into `prog`. */
static run_result build(const char *cc, const char *gen_dir, const char *stubs,
                        const char *prog) {
  char inc_gen[512], inc_es[512], inc_ver[512], main_path[512], gen_c[512];
  snprintf(inc_gen, sizeof inc_gen, "-I%s", gen_dir);
  snprintf(inc_es, sizeof inc_es, "-I%s", need_env("ES_INCLUDE"));
  snprintf(inc_ver, sizeof inc_ver, "-I%s", need_env("ES_BUILD_INCLUDE"));
  snprintf(main_path, sizeof main_path, "%s/main.c", dir);
  snprintf(gen_c, sizeof gen_c, "%s/bank.es.c", gen_dir);
  write_file(main_path, main_c);
  /* a sanitized libes needs the sanitizer runtime at link time */
  const char *san = getenv("SANITIZE");
  char fsan[128] = "-DNO_SANITIZER";
  if (san && *san && strcmp(san, "none") != 0)
    snprintf(fsan, sizeof fsan, "-fsanitize=%s", san);
  char *argv[] = {
      (char *)cc, "-std=c11",  "-Wall",       "-Wextra",
      "-Werror",  "-pedantic", fsan,          inc_gen,
      inc_es,     inc_ver,     "-o",          (char *)prog,
      main_path,  gen_c,       (char *)stubs, (char *)need_env("LIBES_A"),
      "-pthread", "-lm",       NULL};
  return run(argv);
}

static const char *user_cc(char *out, size_t n) {
  const char *cc = getenv("CC");
  cr_assert(which(cc && *cc ? cc : "cc", out, n), "no C compiler on PATH");
  return out;
}

Test(grow, skeleton_compiles_strictly_with_gcc_and_clang) {
  static const char *const compilers[] = {"gcc", "clang"};
  char gen[128], stubs[256], cc[512];
  int found = 0;
  subdir("gen", gen, sizeof gen);
  snprintf(stubs, sizeof stubs, "%s/bank.stubs.c", gen);
  esgen(gen, stubs, need_env("BANK_ES"));
  for (size_t i = 0; i < 2; i++) {
    char gen_c[600], inc_gen[600], inc_es[512], inc_ver[512];
    if (!which(compilers[i], cc, sizeof cc))
      continue;
    found++;
    snprintf(gen_c, sizeof gen_c, "%s/bank.es.c", gen);
    snprintf(inc_gen, sizeof inc_gen, "-I%s", gen);
    snprintf(inc_es, sizeof inc_es, "-I%s", need_env("ES_INCLUDE"));
    snprintf(inc_ver, sizeof inc_ver, "-I%s", need_env("ES_BUILD_INCLUDE"));
    for (int f = 0; f < 2; f++) {
      char *argv[] = {cc,          "-std=c11",        "-Wall", "-Wextra",
                      "-Werror",   "-pedantic",       "-O2",   inc_gen,
                      inc_es,      inc_ver,           "-c",    "-o",
                      "/dev/null", f ? stubs : gen_c, NULL};
      run_result r = run(argv);
      cr_assert_eq(r.status, 0, "%s %s:\n%s", compilers[i], argv[13], r.err);
      cr_assert_eq(r.err_len, 0, "%s printed:\n%s", compilers[i], r.err);
      run_result_free(&r);
    }
  }
  if (!found)
    cr_skip_test("neither gcc nor clang on PATH");
}

Test(grow, skeleton_links_into_a_working_program) {
  char gen[128], stubs[256], prog[256], cc[512];
  subdir("gen", gen, sizeof gen);
  snprintf(stubs, sizeof stubs, "%s/bank.stubs.c", gen);
  snprintf(prog, sizeof prog, "%s/prog", dir);
  esgen(gen, stubs, need_env("BANK_ES"));
  run_result r = build(user_cc(cc, sizeof cc), gen, stubs, prog);
  cr_assert_eq(r.status, 0, "build failed:\n%s", r.err);
  run_result_free(&r);
  char *argv[] = {prog, NULL};
  r = run(argv);
  cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_assert_str_eq(r.out, "opened\n");
  run_result_free(&r);
}

Test(grow, new_command_without_its_function_fails_to_link) {
  char orig[128], grown[128], stubs[256], schema[256], prog[256], cc[512];
  char *text, *at, *grown_text;
  size_t len;
  static const char freeze[] = "  command Freeze { } emits Closed;\n";

  /* yesterday's schema, and the skeleton the user filled in */
  subdir("orig", orig, sizeof orig);
  snprintf(stubs, sizeof stubs, "%s/bank.stubs.c", orig);
  esgen(orig, stubs, need_env("BANK_ES"));

  /* today's: Account grows a command */
  text = read_file(need_env("BANK_ES"), &len);
  cr_assert_not_null(text);
  at = strstr(text, "  command Close");
  cr_assert_not_null(at, "bank.es has no `command Close` line");
  at = strchr(at, '\n') + 1;
  grown_text = malloc(len + sizeof freeze);
  memcpy(grown_text, text, (size_t)(at - text));
  strcpy(grown_text + (at - text), freeze);
  strcat(grown_text, at);
  subdir("grown", grown, sizeof grown);
  snprintf(schema, sizeof schema, "%s/bank.es", grown);
  write_file(schema, grown_text);
  free(text);
  free(grown_text);
  esgen(grown, NULL, schema);

  /* the new header declares the function the user has not written */
  snprintf(prog, sizeof prog, "%s/bank.es.h", grown);
  text = read_file(prog, &len);
  cr_assert_not_null(strstr(text, "int bank_account_decide_freeze("));
  free(text);

  /* the old skeleton no longer links, and the linker says why */
  snprintf(prog, sizeof prog, "%s/prog", dir);
  run_result r = build(user_cc(cc, sizeof cc), grown, stubs, prog);
  cr_assert_neq(r.status, 0, "linked without bank_account_decide_freeze");
  cr_assert_not_null(strstr(r.err, "bank_account_decide_freeze"),
                     "the error does not name the missing function:\n%s",
                     r.err);
  cr_assert(access(prog, F_OK) != 0, "no program was left behind");
  run_result_free(&r);

  /* a fresh skeleton of the grown schema has it, and links */
  snprintf(stubs, sizeof stubs, "%s/bank.stubs.c", grown);
  char *argv[] = {(char *)need_env("ESGEN"), "--stubs", stubs, schema, NULL};
  r = run(argv);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
  text = read_file(stubs, &len);
  cr_assert_not_null(strstr(text, "int bank_account_decide_freeze("));
  free(text);
  r = build(cc, grown, stubs, prog);
  cr_assert_eq(r.status, 0, "%s", r.err);
  run_result_free(&r);
}

Test(grow, stubs_never_overwrite_a_file) {
  char path[256], gen[128];
  size_t len;
  static const char mine[] = "/* my decide functions */\n";
  snprintf(path, sizeof path, "%s/bank.stubs.c", dir);
  write_file(path, mine);

  char *argv[] = {(char *)need_env("ESGEN"), "--stubs", path,
                  (char *)need_env("BANK_ES"), NULL};
  run_result r = run(argv);
  cr_assert_eq(r.status, 1);
  cr_assert_not_null(strstr(r.err, "bank.stubs.c"), "%s", r.err);
  run_result_free(&r);
  char *text = read_file(path, &len);
  cr_assert_str_eq(text, mine, "the file is unchanged");
  free(text);

  /* nor with -o: and then nothing else is written either */
  subdir("gen", gen, sizeof gen);
  char *argv2[] = {(char *)need_env("ESGEN"),   "-o", gen, "--stubs", path,
                   (char *)need_env("BANK_ES"), NULL};
  r = run(argv2);
  cr_assert_eq(r.status, 1);
  run_result_free(&r);
  text = read_file(path, &len);
  cr_assert_str_eq(text, mine);
  free(text);
  snprintf(path, sizeof path, "%s/bank.es.h", gen);
  cr_assert(access(path, F_OK) != 0, "bank.es.h was written anyway");
}
