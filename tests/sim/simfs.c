/*
 * simfs.c - the simulated file system (see simfs.h).
 */
#include "simfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_util.h"

#define NAME_MAX_SIM 64
#define PATH_MAX_SIM 256
#define FD_BASE 1000
#define MAX_FDS 256
#define MAX_DIRS 8

enum { OP_WRITE, OP_TRUNC };
enum { DOP_LINK, DOP_UNLINK };

/* One unsynced change of a file: a write of `len` bytes at `off`, or a
 * truncation to `off`. */
typedef struct file_op {
  int kind;
  uint64_t off;
  size_t len;
  uint8_t *data;
} file_op;

typedef struct bytes {
  uint8_t *p;
  size_t len, cap;
} bytes;

typedef struct inode {
  bytes cur, durable;
  file_op *ops;
  size_t n_ops, cap_ops;
  int lock_fd; /* holder of the lock, or -1 */
  int alive;
  int mark;
} inode;

typedef struct dent {
  char name[NAME_MAX_SIM];
  int ino;
} dent;

/* An unsynced directory change: name now links `ino`, or is gone. A
 * rename is an unlink and a link applied together (`pair`). */
typedef struct dir_op {
  int kind, ino, pair;
  char name[NAME_MAX_SIM];
} dir_op;

typedef struct sdir {
  char path[PATH_MAX_SIM];
  dent *cur, *durable;
  size_t n_cur, n_durable, cap_cur, cap_durable;
  dir_op *ops;
  size_t n_ops, cap_ops;
} sdir;

typedef struct sfd {
  int used, is_dir, id;
  char name[NAME_MAX_SIM];
} sfd;

static struct {
  uint64_t rng[4];
  inode **inodes;
  size_t n_inodes, cap_inodes;
  sdir dirs[MAX_DIRS];
  size_t n_dirs;
  sfd fds[MAX_FDS];
  uint32_t rate;
  unsigned kinds;
  int forced; /* fault kind + 1, or 0 */
  uint64_t countdown;
  int crashed;
  uint64_t injected[SIMFS_FAULT_KINDS], power_losses;
  char sync_failed[4096];
} fs;

/* ---- random choices --------------------------------------------------- */

/* The store's generator (xoshiro256**), on the simulator's own state. */
static uint64_t rnd(void) { return es__rng_next(fs.rng); }

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

static void die(const char *what) {
  fprintf(stderr, "simfs: %s\n", what);
  abort();
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    die("out of memory");
  return p;
}

#define GROW(arr, n, cap)                                                      \
  do {                                                                         \
    if ((n) == (cap)) {                                                        \
      (cap) = (cap) ? (cap)*2 : 8;                                             \
      (arr) = xrealloc((arr), (cap) * sizeof *(arr));                          \
    }                                                                          \
  } while (0)

/* ---- bytes ------------------------------------------------------------ */

static void bytes_resize(bytes *b, size_t len) {
  if (len > b->cap) {
    size_t c = b->cap ? b->cap : 64;
    while (c < len)
      c *= 2;
    b->p = xrealloc(b->p, c);
    b->cap = c;
  }
  if (len > b->len)
    memset(b->p + b->len, 0, len - b->len);
  b->len = len;
}

static void bytes_write(bytes *b, uint64_t off, const void *data, size_t len) {
  if (!len)
    return;
  if (off + len > b->len)
    bytes_resize(b, (size_t)(off + len));
  memcpy(b->p + off, data, len);
}

static void bytes_copy(bytes *to, const bytes *from) {
  to->len = 0;
  bytes_resize(to, from->len);
  if (from->len)
    memcpy(to->p, from->p, from->len);
}

static void op_apply(bytes *b, const file_op *o, size_t len) {
  if (o->kind == OP_WRITE)
    bytes_write(b, o->off, o->data, len);
  else if (o->off < b->len)
    b->len = (size_t)o->off;
  else
    bytes_resize(b, (size_t)o->off);
}

/* ---- faults ----------------------------------------------------------- */

static int eligible(simfs_fault k) { return (fs.kinds >> k) & 1; }

/* Whether this call gets fault `k` (one of the kinds it can get). */
static int fault(simfs_fault a, simfs_fault b) {
  if (fs.forced) {
    simfs_fault f = (simfs_fault)(fs.forced - 1);
    if (f == a || f == b) {
      fs.forced = 0;
      fs.injected[f]++;
      return (int)f + 1;
    }
    return 0;
  }
  if (!fs.rate || below(1000000) >= fs.rate)
    return 0;
  {
    simfs_fault f = (eligible(a) && eligible(b)) ? (below(2) ? a : b)
                    : eligible(a)                ? a
                    : eligible(b)                ? b
                                                 : SIMFS_FAULT_KINDS;
    if (f == SIMFS_FAULT_KINDS)
      return 0;
    fs.injected[f]++;
    return (int)f + 1;
  }
}

/* Counts a call; turns the power off when the countdown runs out. Returns
 * nonzero when the power is off (the call fails with EIO). */
static int tick(void) {
  if (!fs.crashed && fs.countdown && --fs.countdown == 0)
    simfs_power_loss();
  if (fs.crashed) {
    errno = EIO;
    return 1;
  }
  return 0;
}

/* ---- lookups ---------------------------------------------------------- */

static sfd *get_fd(int fd, int want_dir) {
  sfd *f;
  if (fd < FD_BASE || fd >= FD_BASE + MAX_FDS)
    return NULL;
  f = &fs.fds[fd - FD_BASE];
  if (!f->used || (want_dir >= 0 && f->is_dir != want_dir))
    return NULL;
  return f;
}

static int new_fd(int is_dir, int id, const char *name) {
  for (int i = 0; i < MAX_FDS; i++)
    if (!fs.fds[i].used) {
      fs.fds[i].used = 1;
      fs.fds[i].is_dir = is_dir;
      fs.fds[i].id = id;
      snprintf(fs.fds[i].name, NAME_MAX_SIM, "%s", name);
      return FD_BASE + i;
    }
  errno = EMFILE;
  return -1;
}

static sdir *find_dir(const char *path) {
  for (size_t i = 0; i < fs.n_dirs; i++)
    if (strcmp(fs.dirs[i].path, path) == 0)
      return &fs.dirs[i];
  return NULL;
}

static dent *find_dent(dent *v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].name, name) == 0)
      return &v[i];
  return NULL;
}

static void dent_set(dent **v, size_t *n, size_t *cap, const char *name,
                     int ino) {
  dent *e = find_dent(*v, *n, name);
  if (!e) {
    GROW(*v, *n, *cap);
    e = &(*v)[(*n)++];
    snprintf(e->name, NAME_MAX_SIM, "%s", name);
  }
  e->ino = ino;
}

static void dent_del(dent *v, size_t *n, const char *name) {
  dent *e = find_dent(v, *n, name);
  if (e)
    *e = v[--*n];
}

static void dir_log(sdir *d, int kind, const char *name, int ino, int pair) {
  dir_op *o;
  GROW(d->ops, d->n_ops, d->cap_ops);
  o = &d->ops[d->n_ops++];
  o->kind = kind;
  o->ino = ino;
  o->pair = pair;
  snprintf(o->name, NAME_MAX_SIM, "%s", name);
}

static void dir_apply(sdir *d, const dir_op *o) {
  if (o->kind == DOP_LINK)
    dent_set(&d->durable, &d->n_durable, &d->cap_durable, o->name, o->ino);
  else
    dent_del(d->durable, &d->n_durable, o->name);
}

/* Makes the first `n` unsynced changes of `d` durable and forgets the
 * rest (a rename's two halves go together). */
static void dir_settle(sdir *d, size_t n) {
  while (n < d->n_ops && n > 0 && d->ops[n - 1].pair)
    n++;
  for (size_t i = 0; i < n; i++)
    dir_apply(d, &d->ops[i]);
  d->n_ops = 0;
}

static void file_log(inode *in, int kind, uint64_t off, const void *data,
                     size_t len) {
  file_op *o;
  GROW(in->ops, in->n_ops, in->cap_ops);
  o = &in->ops[in->n_ops++];
  o->kind = kind;
  o->off = off;
  o->len = len;
  o->data = NULL;
  if (len) {
    o->data = xrealloc(NULL, len);
    memcpy(o->data, data, len);
  }
}

static void file_forget_ops(inode *in) {
  for (size_t i = 0; i < in->n_ops; i++)
    free(in->ops[i].data);
  in->n_ops = 0;
}

/* The disk got an arbitrary subset of the unsynced changes, each whole,
 * not at all, or (a write) cut after any byte. */
static void file_settle_some(inode *in) {
  for (size_t i = 0; i < in->n_ops; i++) {
    file_op *o = &in->ops[i];
    uint64_t r = below(8);
    if (r < 3)
      continue; /* lost */
    if (r == 3 && o->kind == OP_WRITE && o->len > 1)
      op_apply(&in->durable, o, (size_t)below(o->len)); /* torn */
    else
      op_apply(&in->durable, o, o->len);
  }
  file_forget_ops(in);
}

static int new_inode(void) {
  inode *in = xrealloc(NULL, sizeof *in);
  memset(in, 0, sizeof *in);
  in->lock_fd = -1;
  in->alive = 1;
  GROW(fs.inodes, fs.n_inodes, fs.cap_inodes);
  fs.inodes[fs.n_inodes] = in;
  return (int)fs.n_inodes++;
}

static void inode_free(inode *in) {
  if (!in)
    return;
  file_forget_ops(in);
  free(in->ops);
  free(in->cur.p);
  free(in->durable.p);
  free(in);
}

/* ---- the es__io operations ------------------------------------------- */

static int s_open(const char *path, int flags, mode_t mode) {
  sdir *d;
  (void)mode;
  if (tick())
    return -1;
  d = find_dir(path);
  if (!d || !(flags & O_DIRECTORY)) {
    errno = d ? EISDIR : ENOENT;
    return -1;
  }
  return new_fd(1, (int)(d - fs.dirs), "");
}

static int s_mkdir(const char *path, mode_t mode) {
  sdir *d;
  (void)mode;
  if (tick())
    return -1;
  if (find_dir(path)) {
    errno = EEXIST;
    return -1;
  }
  if (fs.n_dirs == MAX_DIRS || strlen(path) >= PATH_MAX_SIM) {
    errno = ENOSPC;
    return -1;
  }
  d = &fs.dirs[fs.n_dirs++];
  memset(d, 0, sizeof *d);
  snprintf(d->path, PATH_MAX_SIM, "%s", path);
  return 0; /* directories themselves are durable at once */
}

static int s_openat(int dirfd, const char *name, int flags, mode_t mode) {
  sfd *df;
  sdir *d;
  dent *e;
  int ino;
  (void)mode;
  if (tick())
    return -1;
  df = get_fd(dirfd, 1);
  if (!df) {
    errno = EBADF;
    return -1;
  }
  if (strlen(name) >= NAME_MAX_SIM) {
    errno = ENAMETOOLONG;
    return -1;
  }
  d = &fs.dirs[df->id];
  e = find_dent(d->cur, d->n_cur, name);
  if (e && (flags & O_CREAT) && (flags & O_EXCL)) {
    errno = EEXIST;
    return -1;
  }
  if (!e && !(flags & O_CREAT)) {
    errno = ENOENT;
    return -1;
  }
  if (e) {
    ino = e->ino;
  } else {
    ino = new_inode();
    dent_set(&d->cur, &d->n_cur, &d->cap_cur, name, ino);
    dir_log(d, DOP_LINK, name, ino, 0);
  }
  if ((flags & O_TRUNC) && fs.inodes[ino]->cur.len) {
    fs.inodes[ino]->cur.len = 0;
    file_log(fs.inodes[ino], OP_TRUNC, 0, NULL, 0);
  }
  return new_fd(0, ino, name);
}

static int s_close(int fd) {
  sfd *f = get_fd(fd, -1);
  if (!f) {
    errno = EBADF;
    return -1;
  }
  if (!f->is_dir && fs.inodes[f->id] && fs.inodes[f->id]->lock_fd == fd)
    fs.inodes[f->id]->lock_fd = -1;
  f->used = 0;
  return 0;
}

static inode *file_of(int fd, sfd **out) {
  sfd *f;
  if (tick())
    return NULL;
  f = get_fd(fd, 0);
  if (!f) {
    errno = EBADF;
    return NULL;
  }
  if (out)
    *out = f;
  return fs.inodes[f->id];
}

static ssize_t s_pread(int fd, void *buf, size_t len, off_t off) {
  inode *in = file_of(fd, NULL);
  size_t n;
  if (!in)
    return -1;
  if ((uint64_t)off >= in->cur.len)
    return 0;
  n = in->cur.len - (size_t)off;
  if (n > len)
    n = len;
  memcpy(buf, in->cur.p + off, n);
  if (n && fault(SIMFS_READ_FLIP, SIMFS_READ_FLIP)) {
    size_t bit = (size_t)below((uint64_t)n * 8);
    ((uint8_t *)buf)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  return (ssize_t)n;
}

static ssize_t s_pwrite(int fd, const void *buf, size_t len, off_t off) {
  inode *in = file_of(fd, NULL);
  int f;
  if (!in)
    return -1;
  if (len == 0)
    return 0;
  f = fault(SIMFS_WRITE_EIO, SIMFS_ENOSPC);
  if (!f && len > 1)
    f = fault(SIMFS_SHORT_WRITE, SIMFS_SHORT_WRITE);
  if (f == SIMFS_ENOSPC + 1) {
    errno = ENOSPC;
    return -1;
  }
  if (f == SIMFS_WRITE_EIO + 1 || f == SIMFS_SHORT_WRITE + 1) {
    size_t part = f == SIMFS_SHORT_WRITE + 1 ? 1 + (size_t)below(len - 1)
                                             : (size_t)below(len);
    if (part) {
      bytes_write(&in->cur, (uint64_t)off, buf, part);
      file_log(in, OP_WRITE, (uint64_t)off, buf, part);
    }
    if (f == SIMFS_SHORT_WRITE + 1)
      return (ssize_t)part;
    errno = EIO;
    return -1;
  }
  bytes_write(&in->cur, (uint64_t)off, buf, len);
  file_log(in, OP_WRITE, (uint64_t)off, buf, len);
  return (ssize_t)len;
}

static ssize_t s_pwritev(int fd, const struct iovec *iov, int n, off_t off) {
  size_t total = 0, at = 0;
  uint8_t *buf;
  ssize_t r;
  for (int i = 0; i < n; i++)
    total += iov[i].iov_len;
  buf = xrealloc(NULL, total);
  for (int i = 0; i < n; i++) {
    if (iov[i].iov_len)
      memcpy(buf + at, iov[i].iov_base, iov[i].iov_len);
    at += iov[i].iov_len;
  }
  r = s_pwrite(fd, buf, total, off);
  free(buf);
  return r;
}

static void note_sync_failure(const char *name) {
  size_t used = strlen(fs.sync_failed);
  if (used + strlen(name) + 2 < sizeof fs.sync_failed)
    snprintf(fs.sync_failed + used, sizeof fs.sync_failed - used, "%s/", name);
}

static int s_fsync(int fd) {
  sfd *f;
  if (tick())
    return -1;
  f = get_fd(fd, -1);
  if (!f) {
    errno = EBADF;
    return -1;
  }
  if (f->is_dir) {
    sdir *d = &fs.dirs[f->id];
    if (fault(SIMFS_SYNC_EIO, SIMFS_SYNC_EIO)) {
      dir_settle(d, (size_t)below(d->n_ops + 1));
      note_sync_failure("/");
      errno = EIO;
      return -1;
    }
    dir_settle(d, d->n_ops);
    return 0;
  }
  {
    inode *in = fs.inodes[f->id];
    if (fault(SIMFS_SYNC_EIO, SIMFS_SYNC_EIO)) {
      file_settle_some(in); /* the rest never reaches the disk */
      note_sync_failure(f->name);
      errno = EIO;
      return -1;
    }
    bytes_copy(&in->durable, &in->cur);
    file_forget_ops(in);
  }
  return 0;
}

static int s_ftruncate(int fd, off_t len) {
  inode *in = file_of(fd, NULL);
  file_op o = {OP_TRUNC, (uint64_t)len, 0, NULL};
  if (!in)
    return -1;
  if ((size_t)len > in->cur.len && fault(SIMFS_ENOSPC, SIMFS_ENOSPC)) {
    errno = ENOSPC;
    return -1;
  }
  op_apply(&in->cur, &o, 0);
  file_log(in, OP_TRUNC, (uint64_t)len, NULL, 0);
  return 0;
}

static int s_fstat(int fd, struct stat *sb) {
  sfd *f;
  if (tick())
    return -1;
  f = get_fd(fd, -1);
  if (!f) {
    errno = EBADF;
    return -1;
  }
  memset(sb, 0, sizeof *sb);
  if (f->is_dir) {
    sb->st_mode = S_IFDIR | 0755;
  } else {
    sb->st_mode = S_IFREG | 0644;
    sb->st_size = (off_t)fs.inodes[f->id]->cur.len;
  }
  return 0;
}

static sdir *dir_of(int dirfd) {
  sfd *f = get_fd(dirfd, 1);
  if (!f) {
    errno = EBADF;
    return NULL;
  }
  return &fs.dirs[f->id];
}

static int s_renameat(int olddirfd, const char *old, int newdirfd,
                      const char *new_name) {
  sdir *d;
  dent *e;
  int ino;
  if (tick())
    return -1;
  d = dir_of(olddirfd);
  if (!d)
    return -1;
  if (dir_of(newdirfd) != d) {
    errno = EXDEV;
    return -1;
  }
  e = find_dent(d->cur, d->n_cur, old);
  if (!e) {
    errno = ENOENT;
    return -1;
  }
  ino = e->ino;
  dent_del(d->cur, &d->n_cur, old);
  dent_set(&d->cur, &d->n_cur, &d->cap_cur, new_name, ino);
  dir_log(d, DOP_UNLINK, old, ino, 1);
  dir_log(d, DOP_LINK, new_name, ino, 0);
  return 0;
}

static int s_unlinkat(int dirfd, const char *name, int flags) {
  sdir *d;
  (void)flags;
  if (tick())
    return -1;
  d = dir_of(dirfd);
  if (!d)
    return -1;
  if (!find_dent(d->cur, d->n_cur, name)) {
    errno = ENOENT;
    return -1;
  }
  dent_del(d->cur, &d->n_cur, name);
  dir_log(d, DOP_UNLINK, name, -1, 0);
  return 0;
}

static int s_lock(int fd) {
  inode *in = file_of(fd, NULL);
  if (!in)
    return -1;
  if (in->lock_fd >= 0 && in->lock_fd != fd && get_fd(in->lock_fd, 0)) {
    errno = EAGAIN;
    return -1;
  }
  in->lock_fd = fd;
  return 0;
}

static int s_list(int dirfd, es__io_name_fn fn, void *ctx) {
  sdir *d;
  char(*names)[NAME_MAX_SIM];
  size_t n;
  int rc = 0;
  if (tick())
    return -1;
  d = dir_of(dirfd);
  if (!d)
    return -1;
  /* A copy: `fn` may unlink. */
  n = d->n_cur;
  names = xrealloc(NULL, n * sizeof *names);
  for (size_t i = 0; i < n; i++)
    memcpy(names[i], d->cur[i].name, NAME_MAX_SIM);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = fn(names[i], ctx);
  free(names);
  return rc;
}

/* A private copy: what the store maps is never written while mapped. */
static void *s_mmap(int fd, size_t len, off_t off) {
  inode *in = file_of(fd, NULL);
  uint8_t *p;
  if (!in)
    return NULL;
  p = xrealloc(NULL, len);
  memset(p, 0, len);
  if ((uint64_t)off < in->cur.len)
    memcpy(p, in->cur.p + off,
           in->cur.len - (size_t)off < len ? in->cur.len - (size_t)off : len);
  return p;
}

static int s_munmap(void *addr, size_t len) {
  (void)len;
  free(addr);
  return 0;
}

static const es__io simfs_table = {
    .open = s_open,
    .mkdir = s_mkdir,
    .openat = s_openat,
    .close = s_close,
    .pread = s_pread,
    .pwrite = s_pwrite,
    .pwritev = s_pwritev,
    .fsync = s_fsync,
    .fdatasync = s_fsync,
    .ftruncate = s_ftruncate,
    .fstat = s_fstat,
    .renameat = s_renameat,
    .unlinkat = s_unlinkat,
    .lock = s_lock,
    .list = s_list,
    .mmap = s_mmap,
    .munmap = s_munmap,
};

/* ---- control ---------------------------------------------------------- */

const es__io *simfs_io(void) { return &simfs_table; }

void simfs_init(uint64_t seed) {
  uint64_t z = seed;
  simfs_free();
  for (int i = 0; i < 4; i++) { /* splitmix64 */
    z += 0x9e3779b97f4a7c15u;
    uint64_t x = z;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    fs.rng[i] = x ^ (x >> 31);
  }
}

void simfs_free(void) {
  for (size_t i = 0; i < fs.n_inodes; i++)
    inode_free(fs.inodes[i]);
  free(fs.inodes);
  for (size_t i = 0; i < fs.n_dirs; i++) {
    free(fs.dirs[i].cur);
    free(fs.dirs[i].durable);
    free(fs.dirs[i].ops);
  }
  { /* the figures count across runs */
    uint64_t injected[SIMFS_FAULT_KINDS], losses = fs.power_losses;
    memcpy(injected, fs.injected, sizeof injected);
    memset(&fs, 0, sizeof fs);
    memcpy(fs.injected, injected, sizeof injected);
    fs.power_losses = losses;
  }
}

void simfs_set_faults(uint32_t per_million, unsigned kinds) {
  fs.rate = per_million;
  fs.kinds = kinds;
}

void simfs_force(simfs_fault k) { fs.forced = (int)k + 1; }

void simfs_crash_after(uint64_t calls) { fs.countdown = calls; }

void simfs_power_loss(void) {
  if (fs.crashed)
    return;
  fs.crashed = 1;
  fs.countdown = 0;
  fs.power_losses++;
  for (size_t i = 0; i < fs.n_dirs; i++)
    dir_settle(&fs.dirs[i], (size_t)below(fs.dirs[i].n_ops + 1));
  for (size_t i = 0; i < fs.n_inodes; i++)
    if (fs.inodes[i]) {
      file_settle_some(fs.inodes[i]);
      fs.inodes[i]->mark = 0;
    }
  /* What no durable entry names is gone. */
  for (size_t i = 0; i < fs.n_dirs; i++)
    for (size_t j = 0; j < fs.dirs[i].n_durable; j++)
      fs.inodes[fs.dirs[i].durable[j].ino]->mark = 1;
  for (size_t i = 0; i < fs.n_inodes; i++)
    if (fs.inodes[i] && !fs.inodes[i]->mark) {
      inode_free(fs.inodes[i]);
      fs.inodes[i] = NULL;
    }
}

int simfs_crashed(void) { return fs.crashed; }

void simfs_restart(void) {
  simfs_power_loss();
  memset(fs.fds, 0, sizeof fs.fds);
  for (size_t i = 0; i < fs.n_inodes; i++)
    if (fs.inodes[i]) {
      bytes_copy(&fs.inodes[i]->cur, &fs.inodes[i]->durable);
      fs.inodes[i]->lock_fd = -1;
    }
  for (size_t i = 0; i < fs.n_dirs; i++) {
    sdir *d = &fs.dirs[i];
    d->n_cur = 0;
    for (size_t j = 0; j < d->n_durable; j++)
      dent_set(&d->cur, &d->n_cur, &d->cap_cur, d->durable[j].name,
               d->durable[j].ino);
  }
  fs.crashed = 0;
  fs.forced = 0;
  fs.sync_failed[0] = '\0';
}

uint64_t simfs_injected(simfs_fault k) { return fs.injected[k]; }

uint64_t simfs_power_losses(void) { return fs.power_losses; }

const char *simfs_fault_name(simfs_fault k) {
  static const char *const names[] = {"write-eio", "sync-eio", "enospc",
                                      "short-write", "read-flip"};
  return k < SIMFS_FAULT_KINDS ? names[k] : "?";
}

int simfs_sync_failed_on(const char *suffix) {
  char *p = fs.sync_failed;
  size_t sl = strlen(suffix);
  int hit = 0;
  while (*p) {
    char *end = strchr(p, '/');
    size_t l = end ? (size_t)(end - p) : strlen(p);
    if (l >= sl && memcmp(p + l - sl, suffix, sl) == 0)
      hit = 1;
    p += l + (end ? 1 : 0);
  }
  fs.sync_failed[0] = '\0';
  return hit;
}
