/*
 * esgen_bench.c - how fast esgen checks and compiles a large schema, how
 * much C it writes a type, and how long a C compiler takes over it.
 *
 *   esgen_bench GEN_SCHEMA ESGEN [N] [--bank FILE.es] [--cc CC]
 *               [--compile N2] [-I DIR]...
 *
 * Has GEN_SCHEMA write a schema of N aggregates (default 2000) into a
 * temporary directory, then times `ESGEN --check` and `ESGEN -o DIR`
 * on it, best of three runs each (wall clock, and the CPU time of the best
 * run), and prints the size of what it wrote:
 *
 *   esgen: 2000 aggregates, 20000 commands, 20000 events: check 0.41 s,
 *   generate 0.93 s (goal < 1 s)
 *   esgen: generated 2000 aggregates: 160.1 MB .c + 44.6 MB .h for 42025
 *   types: 3809 bytes of .c a type
 *
 * With --cc, the user's compile time: CC -O2 -c of the generated .c of
 * FILE.es (--bank) and of a schema of N2 aggregates (--compile, default
 * 100: the whole big schema takes a compiler many minutes), with the -I
 * directories the generated code needs (libes's headers).
 *
 * Exits non-zero only if a command fails; missing the goal is reported,
 * not fatal (a shared machine is noisy).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* wait4 */
#endif

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dir.h"

#define RUNS 3
#define GOAL 1.0 /* seconds for a full generation */
#define MAX_INC 8

extern char **environ;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs argv (stdout to `out` if not NULL); returns its wall time in
 * seconds (its user + system CPU time in `*cpu`, may be NULL), or -1 if it
 * could not run or did not exit 0. */
static double run(char *const argv[], const char *out, double *cpu) {
  posix_spawn_file_actions_t fa;
  struct rusage ru;
  pid_t pid;
  int status, err;
  double t0 = now();

  posix_spawn_file_actions_init(&fa);
  if (out)
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err) {
    fprintf(stderr, "esgen_bench: cannot run %s: %s\n", argv[0], strerror(err));
    return -1;
  }
  if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    fprintf(stderr, "esgen_bench: %s failed\n", argv[0]);
    return -1;
  }
  if (cpu)
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  return now() - t0;
}

static double best_of(char *const argv[], double *cpu) {
  double best = -1, c;
  for (int i = 0; i < RUNS; i++) {
    double t = run(argv, NULL, &c);
    if (t < 0)
      return -1;
    if (best < 0 || t < best) {
      best = t;
      *cpu = c;
    }
  }
  return best;
}

static long long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* The number of type descriptors `path` (a generated .c) defines: lines
 * that begin "const es_type_desc ". */
static long count_types(const char *path) {
  static const char tag[] = "const es_type_desc ";
  char line[512];
  long n = 0;
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, tag, sizeof tag - 1) == 0)
      n++;
  fclose(f);
  return n;
}

/* Prints what esgen wrote for `what` in `dir` for schema file `base`
 * (.c and .h sizes, types, bytes of .c a type). Returns 0 or -1. */
static int print_sizes(const char *what, const char *dir, const char *base) {
  char c[4096], h[4096];
  long long cs, hs;
  long types;
  snprintf(c, sizeof c, "%s/%s.c", dir, base);
  snprintf(h, sizeof h, "%s/%s.h", dir, base);
  cs = file_size(c);
  hs = file_size(h);
  types = count_types(c);
  if (cs < 0 || hs < 0 || types <= 0) {
    fprintf(stderr, "esgen_bench: no generated code in %s\n", dir);
    return -1;
  }
  printf("esgen: generated %s: %.1f KB .c + %.1f KB .h for %ld types: "
         "%lld bytes of .c a type (%lld with the .h)\n",
         what, (double)cs / 1e3, (double)hs / 1e3, types, cs / types,
         (cs + hs) / types);
  return 0;
}

typedef struct opts {
  const char *gen, *esgen, *n, *bank, *cc, *compile_n;
  const char *inc[MAX_INC];
  int n_inc;
} opts;

/* Generates `schema` into `out` and compiles its .c with opt->cc -O2 -c,
 * printing the sizes and the compile time. Returns 0 or -1. */
static int compile_one(const opts *o, const char *what, const char *schema,
                       const char *out) {
  char c[4096], obj[4096], base[256];
  char *argv[8 + 2 * MAX_INC];
  const char *slash = strrchr(schema, '/');
  double cpu, wall;
  int k = 0;
  snprintf(base, sizeof base, "%s", slash ? slash + 1 : schema);
  {
    char *gen[] = {(char *)o->esgen, "-o", (char *)out, (char *)schema, NULL};
    if (run(gen, NULL, NULL) < 0)
      return -1;
  }
  if (print_sizes(what, out, base) != 0)
    return -1;
  snprintf(c, sizeof c, "%s/%s.c", out, base);
  snprintf(obj, sizeof obj, "%s/%s.o", out, base);
  argv[k++] = (char *)o->cc;
  argv[k++] = "-O2";
  argv[k++] = "-std=c11";
  for (int i = 0; i < o->n_inc; i++) {
    argv[k++] = "-I";
    argv[k++] = (char *)o->inc[i];
  }
  argv[k++] = "-c";
  argv[k++] = c;
  argv[k++] = "-o";
  argv[k++] = obj;
  argv[k] = NULL;
  if ((wall = run(argv, NULL, &cpu)) < 0)
    return -1;
  printf("cc -O2 -c of %s: %.2f s (CPU %.2f s), object %.1f KB\n", what, wall,
         cpu, (double)file_size(obj) / 1e3);
  return 0;
}

int main(int argc, char **argv) {
  char dir[] = "/tmp/esgen_bench.XXXXXX";
  char schema[64], counts_path[64], out[64], small[64], counts[256] = "";
  double check, generate, check_cpu = 0, gen_cpu = 0;
  opts o;
  int pos = 0, rc = 1;
  FILE *f;

  memset(&o, 0, sizeof o);
  o.n = "2000";
  o.compile_n = "100";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--bank") && v)
      o.bank = argv[++i];
    else if (!strcmp(a, "--cc") && v)
      o.cc = argv[++i];
    else if (!strcmp(a, "--compile") && v)
      o.compile_n = argv[++i];
    else if (!strcmp(a, "-I") && v && o.n_inc < MAX_INC)
      o.inc[o.n_inc++] = argv[++i];
    else if (a[0] != '-' && pos == 0 && ++pos)
      o.gen = a;
    else if (a[0] != '-' && pos == 1 && ++pos)
      o.esgen = a;
    else if (a[0] != '-' && pos == 2 && ++pos)
      o.n = a;
    else
      pos = -1;
  }
  if (pos < 2) {
    fprintf(stderr, "usage: esgen_bench GEN_SCHEMA ESGEN [N] [--bank FILE.es] "
                    "[--cc CC] [--compile N2] [-I DIR]...\n");
    return 2;
  }
  if (!mkdtemp(dir)) {
    perror("esgen_bench: mkdtemp");
    return 1;
  }
  snprintf(schema, sizeof schema, "%s/bench.es", dir);
  snprintf(small, sizeof small, "%s/small.es", dir);
  snprintf(counts_path, sizeof counts_path, "%s/counts", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  if (mkdir(out, 0755) != 0) {
    perror("esgen_bench: mkdir");
    goto done;
  }

  {
    char *gen[] = {(char *)o.gen, (char *)o.n, schema, NULL};
    if (run(gen, counts_path, NULL) < 0)
      goto done;
  }
  f = fopen(counts_path, "r");
  if (!f || !fgets(counts, sizeof counts, f)) {
    fprintf(stderr, "esgen_bench: no counts from %s\n", o.gen);
    if (f)
      fclose(f);
    goto done;
  }
  fclose(f);
  counts[strcspn(counts, "\n")] = '\0';

  {
    char *chk[] = {(char *)o.esgen, "--check", schema, NULL};
    char *gen[] = {(char *)o.esgen, "-o", out, schema, NULL};
    if ((check = best_of(chk, &check_cpu)) < 0 ||
        (generate = best_of(gen, &gen_cpu)) < 0)
      goto done;
  }
  printf("esgen: %s: check %.2f s (CPU %.2f s), generate %.2f s (CPU %.2f s) "
         "(goal < %.0f s%s)\n",
         counts, check, check_cpu, generate, gen_cpu, GOAL,
         generate < GOAL ? "" : ": missed");
  {
    char what[64];
    snprintf(what, sizeof what, "%s aggregates", o.n);
    if (print_sizes(what, out, "bench.es") != 0)
      goto done;
  }
  remove_dir(out);
  if (o.cc) {
    char what[64];
    if (mkdir(out, 0755) != 0)
      goto done;
    if (o.bank && compile_one(&o, o.bank, o.bank, out) != 0)
      goto done;
    {
      char *gen[] = {(char *)o.gen, (char *)o.compile_n, small, NULL};
      if (run(gen, counts_path, NULL) < 0)
        goto done;
    }
    snprintf(what, sizeof what, "%s aggregates", o.compile_n);
    if (compile_one(&o, what, small, out) != 0)
      goto done;
  }
  rc = 0;
done:
  remove_dir(out);
  remove_dir(dir);
  return rc;
}
