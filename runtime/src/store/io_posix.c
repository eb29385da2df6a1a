/*
 * io_posix.c - es__io on the real system calls (see io.h).
 */
#define _GNU_SOURCE /* F_OFD_SETLK, pwritev */
#include "store/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int posix_open(const char *path, int flags, mode_t mode) {
  return open(path, flags, mode);
}

static int posix_openat(int dirfd, const char *name, int flags, mode_t mode) {
  return openat(dirfd, name, flags, mode);
}

/* An OFD lock where there is one (released by the last close of this open
 * file, never by another descriptor of the process), else a POSIX lock. */
static int posix_lock(int fd) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
#ifdef F_OFD_SETLK
  return fcntl(fd, F_OFD_SETLK, &fl);
#else
  return fcntl(fd, F_SETLK, &fl);
#endif
}

/* Lists through a duplicate of `dirfd`: closedir() closes the descriptor
 * it was given, and `dirfd` stays the caller's. */
static int posix_list(int dirfd, es__io_name_fn fn, void *ctx) {
  int fd = dup(dirfd), rc = 0;
  DIR *d;
  struct dirent *e;

  if (fd < 0)
    return -1;
  d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -1;
  }
  rewinddir(d);
  while (rc == 0 && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      rc = fn(e->d_name, ctx);
  closedir(d);
  return rc;
}

static void *posix_mmap(int fd, size_t len, off_t off) {
  void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
  return p == MAP_FAILED ? NULL : p;
}

const es__io es__io_posix = {
    .open = posix_open,
    .mkdir = mkdir,
    .openat = posix_openat,
    .close = close,
    .pread = pread,
    .pwrite = pwrite,
    .pwritev = pwritev,
    .fsync = fsync,
    .fdatasync = fdatasync,
    .ftruncate = ftruncate,
    .fstat = fstat,
    .renameat = renameat,
    .unlinkat = unlinkat,
    .lock = posix_lock,
    .list = posix_list,
    .mmap = posix_mmap,
    .munmap = munmap,
};

static const es__io *installed = &es__io_posix;

const es__io *es__io_get(void) { return installed; }

const es__io *es__io_set(const es__io *io) {
  const es__io *old = installed;
  installed = io ? io : &es__io_posix;
  return old;
}
