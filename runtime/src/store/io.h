/*
 * io.h - the file operations of the embedded log, behind one table.
 *
 * The log store (store_log.c) performs every file operation through an
 * es__io table captured when it is opened. Production uses es__io_posix:
 * the system calls themselves, one indirect call each. Tests install a
 * simulated file system (tests/sim) with es__io_set() before opening a
 * store, to inject I/O errors, torn writes and power losses
 * deterministically.
 *
 * Every operation has the signature and the result convention of the call
 * it stands for (-1 and errno on failure), so the store reads as if it
 * called the system directly.
 */
#ifndef ES_STORE_IO_H
#define ES_STORE_IO_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Called once per directory entry name by es__io.list. Nonzero stops the
 * listing and becomes its result. */
typedef int (*es__io_name_fn)(const char *name, void *ctx);

typedef struct es__io {
  /* Opens a directory (O_DIRECTORY); its descriptor is the `dirfd` of the
   * calls below, and fsync() on it makes its entries durable. */
  int (*open)(const char *path, int flags, mode_t mode);
  int (*mkdir)(const char *path, mode_t mode);
  int (*openat)(int dirfd, const char *name, int flags, mode_t mode);
  int (*close)(int fd);
  ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
  ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
  ssize_t (*pwritev)(int fd, const struct iovec *iov, int n, off_t off);
  int (*fsync)(int fd);
  int (*fdatasync)(int fd);
  int (*ftruncate)(int fd, off_t len);
  int (*fstat)(int fd, struct stat *sb);
  int (*renameat)(int olddirfd, const char *old, int newdirfd,
                  const char *new_name);
  int (*unlinkat)(int dirfd, const char *name, int flags);
  /* Takes an exclusive, non-blocking lock on the whole file, held until
   * the descriptor is closed: 0, or -1 with errno EAGAIN or EACCES when
   * another holder has it. */
  int (*lock)(int fd);
  /* Calls `fn` for each entry of directory `dirfd` (without "." and "..").
   * `fn` may unlink the entry it is given. 0, -1 with errno, or what `fn`
   * returned. */
  int (*list)(int dirfd, es__io_name_fn fn, void *ctx);
  /* A read-only view of `len` bytes of `fd` at `off` (page-aligned), or
   * NULL with errno. munmap() releases it. */
  void *(*mmap)(int fd, size_t len, off_t off);
  int (*munmap)(void *addr, size_t len);
} es__io;

/* The real system calls. */
extern const es__io es__io_posix;

/* The table that stores opened from now on use: es__io_posix unless a test
 * installed another. */
const es__io *es__io_get(void);

/* Installs `io` (NULL: es__io_posix) for stores opened from now on and
 * returns the one it replaces. For tests: a store keeps the table it was
 * opened with until it is closed. Not thread-safe against opening stores
 * at the same time. */
const es__io *es__io_set(const es__io *io);

#endif
