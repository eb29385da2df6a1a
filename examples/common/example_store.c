/*
 * example_store.c - the examples' stores: see example_store.h.
 */
#include "example_store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool example_is_database(const char *where) {
  return strncmp(where, "postgresql://", 13) == 0 ||
         strncmp(where, "postgres://", 11) == 0 || strchr(where, '=') != NULL;
}

int example_open_store(es_store **store, const char *where,
                       const char *pg_schema, es_store_options *sopt) {
  if (example_is_database(where)) {
    sopt->pg_schema = pg_schema;
    return es_store_open_postgres(store, where, sopt, 0);
  }
  return es_store_open_log(store, where, sopt, 0);
}

/* Removes directory `path` and what it holds (the log store's files). */
static int remove_tree(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  int rc = 0;
  if (!d)
    return -1;
  while ((e = readdir(d)) != NULL) {
    char sub[4096];
    struct stat st;
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >=
        (int)sizeof sub) {
      rc = -1;
      continue;
    }
    if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
      rc |= remove_tree(sub);
    else if (unlink(sub) != 0)
      rc = -1;
  }
  closedir(d);
  return rmdir(path) != 0 ? -1 : rc;
}

int example_run_twice_on_temp(const char *name,
                              int (*run_on)(const char *dir)) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  int rc;
  if (snprintf(dir, sizeof dir, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
               name) >= (int)sizeof dir ||
      !mkdtemp(dir)) {
    fprintf(stderr, "%s: mkdtemp %s: %s\n", name, dir, strerror(errno));
    return 1;
  }
  rc = run_on(dir);
  if (rc == 0) {
    printf("\n-- the same store, opened again --\n");
    rc = run_on(dir);
  }
  if (remove_tree(dir) != 0) {
    fprintf(stderr, "%s: could not remove %s\n", name, dir);
    rc = 1;
  }
  return rc;
}
