/*
 * dir.c - recursive removal of a test's temporary directory.
 */
#include "dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes what `path` names: a file or link with unlink, a directory
 * with its contents first. */
static int remove_path(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) != 0)
    return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR(sb.st_mode))
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
  return remove_dir(path);
}

int remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4096];
  int rc = 0;

  if (!d)
    return errno == ENOENT ? 0 : -1;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
            (int)sizeof path ||
        remove_path(path) != 0)
      rc = -1;
  }
  closedir(d);
  if (rmdir(dir) != 0)
    rc = -1;
  return rc;
}
