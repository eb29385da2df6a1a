/*
 * esgen_bench.c - how fast esgen checks and compiles a large schema.
 *
 *   esgen_bench GEN_SCHEMA ESGEN [N]
 *
 * Has GEN_SCHEMA write a schema of N aggregates (default 2000) into a
 * temporary directory, then times `ESGEN --check` and `ESGEN -o DIR`
 * on it, best of three runs each, and prints one line:
 *
 *   esgen: 2000 aggregates, 20000 commands, 20000 events: check 0.41 s,
 *   generate 0.93 s (goal < 1 s)
 *
 * Exits non-zero only if a command fails; missing the goal is reported,
 * not fatal (a shared machine is noisy).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 3
#define GOAL 1.0 /* seconds for a full generation */

extern char **environ;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs argv (stdout to `out` if not NULL); returns its wall time in
 * seconds, or -1 if it could not run or did not exit 0. */
static double run(char *const argv[], const char *out) {
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status, err;
  double t0 = now();

  posix_spawn_file_actions_init(&fa);
  if (out)
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err) {
    fprintf(stderr, "esgen_bench: cannot run %s: %s\n", argv[0], strerror(err));
    return -1;
  }
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    fprintf(stderr, "esgen_bench: %s failed\n", argv[0]);
    return -1;
  }
  return now() - t0;
}

static double best_of(char *const argv[]) {
  double best = -1;
  for (int i = 0; i < RUNS; i++) {
    double t = run(argv, NULL);
    if (t < 0)
      return -1;
    if (best < 0 || t < best)
      best = t;
  }
  return best;
}

/* Removes the files in `dir` (flat), then `dir`. */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4096];
  if (d) {
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

int main(int argc, char **argv) {
  char dir[] = "/tmp/esgen_bench.XXXXXX";
  char schema[64], counts_path[64], out[64], counts[256] = "";
  const char *n = argc > 3 ? argv[3] : "2000";
  double check, generate;
  FILE *f;
  int rc = 1;

  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: esgen_bench GEN_SCHEMA ESGEN [N]\n");
    return 2;
  }
  if (!mkdtemp(dir)) {
    perror("esgen_bench: mkdtemp");
    return 1;
  }
  snprintf(schema, sizeof schema, "%s/bench.es", dir);
  snprintf(counts_path, sizeof counts_path, "%s/counts", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  if (mkdir(out, 0755) != 0) {
    perror("esgen_bench: mkdir");
    goto done;
  }

  {
    char *gen[] = {argv[1], (char *)n, schema, NULL};
    if (run(gen, counts_path) < 0)
      goto done;
  }
  f = fopen(counts_path, "r");
  if (!f || !fgets(counts, sizeof counts, f)) {
    fprintf(stderr, "esgen_bench: no counts from %s\n", argv[1]);
    if (f)
      fclose(f);
    goto done;
  }
  fclose(f);
  counts[strcspn(counts, "\n")] = '\0';

  {
    char *chk[] = {argv[2], "--check", schema, NULL};
    char *gen[] = {argv[2], "-o", out, schema, NULL};
    if ((check = best_of(chk)) < 0 || (generate = best_of(gen)) < 0)
      goto done;
  }
  printf("esgen: %s: check %.2f s, generate %.2f s (goal < %.0f s%s)\n", counts,
         check, generate, GOAL, generate < GOAL ? "" : ": missed");
  rc = 0;
done:
  remove_dir(out);
  remove_dir(dir);
  return rc;
}
