/*
 * output.c - atomic file output (temp file + rename, or link for files
 * that must never be replaced).
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether `path` holds exactly `data`: its size first, then its bytes,
 * mapped rather than read (a generated file can be hundreds of megabytes,
 * and a regeneration that changes nothing is the common case). esgen
 * replaces files by renaming, never truncates one in place, so the mapping
 * cannot lose its pages under the comparison. */
static bool same_content(const char *path, const void *data, size_t len) {
  struct stat st;
  void *old;
  bool same;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return false;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (uintmax_t)st.st_size != len) {
    close(fd);
    return false;
  }
  if (len == 0) {
    close(fd);
    return true;
  }
  old = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (old == MAP_FAILED)
    return false; /* then the file is written again: never wrong */
  same = memcmp(old, data, len) == 0;
  munmap(old, len);
  return same;
}

int esc_write_file(const char *path, const void *data, size_t len,
                   bool keep_existing) {
  char tmp[4096];
  int fd, err = 0;
  const char *p = data;
  size_t left = len;

  if (keep_existing && access(path, F_OK) == 0)
    return EEXIST;
  if (!keep_existing && same_content(path, data, len))
    return 0;
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >=
      (int)sizeof tmp)
    return ENAMETOOLONG;
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    return errno;
  while (left) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      err = errno;
      break;
    }
    p += n;
    left -= (size_t)n;
  }
  if (close(fd) != 0 && !err)
    err = errno;
  if (!err) {
    if (keep_existing) {
      /* link() fails if the target exists: no window for a race to
       * clobber a file the user created meanwhile. */
      if (link(tmp, path) != 0)
        err = errno;
    } else if (rename(tmp, path) != 0) {
      err = errno;
    }
  }
  if (keep_existing || err)
    unlink(tmp);
  return err;
}

/* One level: fine when it exists already as a directory. */
static int make_dir(const char *path) {
  struct stat st;
  if (mkdir(path, 0777) == 0)
    return 0;
  if (errno != EEXIST)
    return errno;
  if (stat(path, &st) != 0)
    return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int esc_make_dirs(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  int err;
  if (n == 0)
    return ENOENT;
  if (n >= sizeof buf)
    return ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  /* Parents first; a leading '/' is the root, which always exists. */
  for (size_t i = 1; i < n; i++) {
    if (buf[i] != '/' || buf[i - 1] == '/')
      continue;
    buf[i] = '\0';
    err = make_dir(buf);
    buf[i] = '/';
    if (err)
      return err;
  }
  return make_dir(buf);
}
