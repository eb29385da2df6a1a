/*
 * bench_util.h - what the store benchmarks share: a clock, a scratch
 * directory that is removed afterwards, a small random generator.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* Seconds of CPU time the calling thread has had: on a busy machine, a
 * figure free of the time other processes held the CPU. */
static inline double bench_thread_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds of CPU time every thread of this process has used (the figure
 * of a run on a shared machine that other processes' load does not
 * inflate). */
static inline double bench_process_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The one-minute load average (how busy the machine was), or -1. */
static inline double bench_loadavg(void) {
  FILE *f = fopen("/proc/loadavg", "r");
  double l = -1;
  if (f) {
    if (fscanf(f, "%lf", &l) != 1)
      l = -1;
    fclose(f);
  }
  return l;
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

/* What the disk gives: write(`bytes`) + fdatasync appended to one file
 * in `dir`, for about a second (at least 200 rounds). */
typedef struct bench_sync_figures {
  double per_s, mean_us, p50_us, p99_us;
  long n;
} bench_sync_figures;

static inline int bench_raw_sync(const char *dir, size_t bytes,
                                 bench_sync_figures *f) {
  char path[4200], *block;
  double *lat, t0, start;
  long cap = 20000, n = 0;
  int fd;

  snprintf(path, sizeof path, "%s/raw-sync", dir);
  if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
    return -1;
  lat = malloc((size_t)cap * sizeof *lat);
  block = malloc(bytes ? bytes : 1);
  if (!lat || !block) {
    free(lat);
    free(block);
    close(fd);
    return -1;
  }
  memset(block, 'x', bytes);
  start = bench_now();
  while (n < cap && (n < 200 || bench_now() - start < 1.0)) {
    t0 = bench_now();
    if (write(fd, block, bytes) != (ssize_t)bytes || fdatasync(fd) != 0) {
      close(fd);
      free(lat);
      free(block);
      return -1;
    }
    lat[n++] = bench_now() - t0;
  }
  f->n = n;
  f->per_s = (double)n / (bench_now() - start);
  f->mean_us = 1e6 / f->per_s;
  f->p50_us = bench_quantile(lat, (size_t)n, 0.50) * 1e6;
  f->p99_us = bench_quantile(lat, (size_t)n, 0.99) * 1e6;
  close(fd);
  unlink(path);
  free(lat);
  free(block);
  return 0;
}

#endif
