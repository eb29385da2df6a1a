/*
 * fuzz_run.c - a main for a harness `esgen --fuzz` wrote, without
 * libFuzzer, so that the ordinary suite runs it:
 *
 *   fuzz_run [FILE | DIR]...   each type's default value, then each FILE
 *                              and each file in each DIR
 *   fuzz_run --seeds DIR       writes each type's default value into DIR
 *                              (a seed corpus for libFuzzer)
 *
 * Every input goes through LLVMFuzzerTestOneInput() as it is, then every
 * prefix of it and every copy of it with one byte inverted: what a fuzzer
 * tries first, repeatable. The harness aborts on any failure, so exit
 * status 0 means every input passed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <es/es.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int esgen_fuzz_seed(uint32_t i, es_buf *out, const char **name);

static unsigned long n_inputs;

/* `data` as it is, each prefix, and each single-byte inversion. */
static void run_input(const uint8_t *data, size_t n) {
  uint8_t *copy = malloc(n ? n : 1);
  if (!copy)
    abort();
  memcpy(copy, data, n);
  for (size_t len = 0; len <= n; len++)
    LLVMFuzzerTestOneInput(copy, len);
  for (size_t i = 1; i < n; i++) { /* byte 0 picks the type */
    copy[i] ^= 0xff;
    LLVMFuzzerTestOneInput(copy, n);
    copy[i] ^= 0xff;
  }
  free(copy);
  n_inputs++;
}

static int run_file(const char *path) {
  es_buf b = ES_BUF_INIT;
  char chunk[4096];
  size_t got;
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
    es_buf_append(&b, chunk, got);
  fclose(f);
  if (b.err) {
    fprintf(stderr, "fuzz_run: %s: cannot read it whole\n", path);
    es_buf_close(&b);
    return 1;
  }
  run_input(b.data, b.len);
  es_buf_close(&b);
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in `dir`, in name order. */
static int run_dir(const char *dir) {
  char **names = NULL, path[4096];
  size_t n = 0, cap = 0;
  struct dirent *e;
  struct stat st;
  int rc = 0;
  DIR *d = opendir(dir);
  if (!d) {
    perror(dir);
    return 1;
  }
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      names = realloc(names, cap * sizeof *names);
      if (!names)
        abort();
    }
    size_t len = strlen(e->d_name) + 1;
    if (!(names[n] = malloc(len)))
      abort();
    memcpy(names[n++], e->d_name, len);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
      rc |= run_file(path);
    free(names[i]);
  }
  free(names);
  return rc;
}

/* Runs the default value of every type, or writes it into `dir`. */
static int seeds(const char *dir) {
  for (uint32_t i = 0;; i++) {
    es_buf b = ES_BUF_INIT;
    const char *name = NULL;
    char path[4096];
    FILE *f;
    int rc = esgen_fuzz_seed(i, &b, &name);
    if (rc == ES_ENOTFOUND) {
      es_buf_close(&b);
      return 0;
    }
    if (rc) {
      fprintf(stderr, "fuzz_run: seed %u: %s\n", (unsigned)i, es_strerror(rc));
      es_buf_close(&b);
      return 1;
    }
    if (!dir) {
      run_input(b.data, b.len);
      es_buf_close(&b);
      continue;
    }
    snprintf(path, sizeof path, "%s/%s-default", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
      perror(path);
      es_buf_close(&b);
      return 1;
    }
    es_buf_close(&b);
  }
}

int main(int argc, char **argv) {
  struct stat st;
  int rc;
  if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
    return seeds(argv[2]);
  rc = seeds(NULL);
  for (int i = 1; i < argc; i++) {
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      rc = 1;
    } else {
      rc |= S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
    }
  }
  printf("fuzz_run: %lu inputs passed, with their prefixes and one-byte "
         "changes\n",
         n_inputs);
  return rc;
}
