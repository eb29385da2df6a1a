/*
 * run.h - running a program from a test and capturing what it prints.
 */
#ifndef TEST_RUN_H
#define TEST_RUN_H

#include <stddef.h>

typedef struct run_result {
  int status; /* exit status, or 128 + signal number */
  char *out;  /* stdout, NUL-terminated */
  size_t out_len;
  char *err; /* stderr, NUL-terminated */
  size_t err_len;
} run_result;

/* Runs argv[0] with `argv` in directory `cwd` (NULL: the current one),
 * stdin from /dev/null. Returns 0, or -1 if it could not be started. */
int run_program(const char *cwd, char *const argv[], run_result *r);

void run_result_free(run_result *r);

/* The whole content of `path` (NUL-terminated) or NULL; `*len` its size. */
char *read_file(const char *path, size_t *len);

#endif
