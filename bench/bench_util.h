/*
 * bench_util.h - what the store benchmarks share: a clock, a scratch
 * directory that is removed afterwards, a small random generator.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Makes a fresh directory under `parent` (NULL: $TMPDIR, else /var/tmp,
 * which is on disk where /tmp may be tmpfs) into `out`. 0 or -1. */
static inline int bench_mkdtemp(const char *parent, const char *name, char *out,
                                size_t cap) {
  if (!parent || !*parent)
    parent = getenv("TMPDIR");
  if (!parent || !*parent)
    parent = "/var/tmp";
  if (snprintf(out, cap, "%s/%s-XXXXXX", parent, name) >= (int)cap)
    return -1;
  if (!mkdtemp(out)) {
    fprintf(stderr, "mkdtemp %s: %s\n", out, strerror(errno));
    return -1;
  }
  return 0;
}

/* Removes `path` and everything under it. */
static inline void bench_rmtree(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  if (d) {
    while ((e = readdir(d)) != NULL) {
      char sub[4096];
      struct stat st;
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
        continue;
      if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >=
          (int)sizeof sub)
        continue;
      if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
        bench_rmtree(sub);
      else
        unlink(sub);
    }
    closedir(d);
  }
  rmdir(path);
}

/* xorshift64*: a fast per-thread generator, seeded by the caller. */
static inline uint64_t bench_rand(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * UINT64_C(2685821657736338717);
}

static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The `q` quantile (0..1) of `v[0 .. n)`, sorting it. */
static inline double bench_quantile(double *v, size_t n, double q) {
  size_t i;
  if (n == 0)
    return 0;
  qsort(v, n, sizeof *v, bench_cmp_double);
  i = (size_t)(q * (double)(n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

#endif
