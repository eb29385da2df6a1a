/*
 * store_log.c - the embedded log: events in append-only segment files in
 * one directory, an in-memory index rebuilt by a scan at open.
 *
 * Files in the directory:
 *   LOCK                      the writer lock (OFD fcntl lock; holds the pid)
 *   NNNNNNNNNNNNNNNNNNNN.seg  segments, named by their first position
 *   snap-<32 hex>, ckpt-<32 hex>  one snapshot / checkpoint each, named by
 *                             a hash of the stream or checkpoint name (the
 *                             name itself is kept inside, never in a path)
 *
 * A segment is a 16-byte header ("ESLOGSG1", first position u64) and then
 * records: [u32 length][u32 CRC32C of the length bytes and the body][body].
 * An event body is kind 1, position, version, type id, type version,
 * timestamp, event id, correlation id, causation id, the three lengths
 * (type u16, key u16, payload u32) and those bytes; all little-endian.
 * Every append is a batch: its event records and then one commit record
 * (kind 2, first position, count). Recovery keeps only committed batches,
 * so a batch lands whole or not at all.
 *
 * Appends (group commit): an appender checks expectations and assigns
 * positions and versions under the mutex, encodes its batch and queues it.
 * The first appender to find no sync in flight becomes the leader: it takes
 * the whole queue, writes it with pwritev, fdatasyncs once, and then, under
 * the mutex again, adds every batch to the index and wakes everyone. Reads
 * see only synced events (`n`); expectations see queued ones (`assigned`).
 * A failed write or sync poisons the store: every later append fails with
 * the same error (what a failed fdatasync left on disk is unknowable).
 *
 * Index: position p -> (segment, offset) in `loc[p - 1]`, stream -> its
 * positions. Reads copy a few locations under the mutex and pread without
 * it; every record read is CRC-checked again.
 */
#define _GNU_SOURCE /* F_OFD_SETLK, pwritev */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "es/es_error.h"
#include "es/es_store.h"
#include "hashmap.h"
#include "store_util.h"

#define SEG_MAGIC "ESLOGSG1"
#define SEG_HDR 16u
#define FRAME 8u
#define K_EVENT 1u
#define K_COMMIT 2u
#define EV_FIXED 93u    /* event body without type, key and payload */
#define COMMIT_BODY 13u /* kind, first position, count */
#define MAX_BODY ((uint32_t)1 << 30)
#define MAX_EVENT ((size_t)MAX_BODY - 1024) /* payload and blob limit */
#define LOC_SHIFT 40 /* loc = segment index << 40 | offset */
#define READ_CHUNK 64
#define READ_BLOCK ((size_t)64 << 10)
#define WRITE_IOV 64
#define BLOB_MAGIC 0x4c425345u /* "ESBL" */
#define BLOB_HDR 32u

typedef struct log_seg {
  uint64_t first; /* first position, from the name */
  uint64_t size;  /* end of the last whole batch */
  int fd;
} log_seg;

typedef struct log_stream {
  uint64_t *pos;     /* version v's position at index v - 1 (synced) */
  uint64_t n, cap;   /* synced versions, capacity of pos */
  uint64_t assigned; /* version counting queued batches */
  size_t id_len;
  char id[]; /* "type\0key\0" */
} log_stream;

typedef struct log_batch {
  struct log_batch *next;
  uint8_t *buf;
  size_t len;
  uint64_t first, count;
  uint32_t n_groups;
  log_stream **st; /* per group (NULL: check-only group, no stream) */
  uint32_t *cnt;   /* per group: events */
  size_t *rel;     /* per event: record offset in buf */
  int done, rc;
} log_batch;

typedef struct log_store {
  es_store base;
  pthread_mutex_t mu;
  pthread_cond_t grew;   /* synced appends and interrupts (monotonic) */
  pthread_cond_t synced; /* a group commit finished */
  es__hashmap streams;
  uint64_t *loc;     /* position p at index p - 1 */
  uint64_t n, cap;   /* synced head, capacity of loc */
  uint64_t assigned; /* head counting queued batches */
  log_seg *segs;
  uint32_t n_segs, cap_segs;
  log_batch *queue, **queue_tail;
  int syncing; /* a leader is writing */
  int failed;  /* sticky write or sync error */
  uint64_t interrupts;
  uint64_t rng[4];
  int readonly;
  int dirfd, lockfd;
  uint64_t seg_limit;
  uint64_t write_off;      /* end of the newest segment; the leader's */
  pthread_mutex_t blob_mu; /* serialises snapshot and checkpoint puts */
  uint64_t tmp_seq;
  char dir[PATH_MAX];
} log_store;

/* ---- little-endian and I/O helpers ------------------------------------ */

static void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get16(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The CRC of a record: over its length bytes and its body. */
static uint32_t frame_crc(const uint8_t *frame, uint32_t body_len) {
  return es__crc32c(es__crc32c(0, frame, 4), frame + FRAME, body_len);
}

/* Reads exactly `len` bytes at `off`; ES_EIO on error or a short file. */
static int pread_all(int fd, void *buf, size_t len, uint64_t off) {
  uint8_t *p = buf;
  while (len) {
    ssize_t got = pread(fd, p, len, (off_t)off);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return ES_EIO;
    p += got;
    len -= (size_t)got;
    off += (uint64_t)got;
  }
  return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off) {
  const uint8_t *p = buf;
  while (len) {
    ssize_t put = pwrite(fd, p, len, (off_t)off);
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0)
      return ES_EIO;
    p += put;
    len -= (size_t)put;
    off += (uint64_t)put;
  }
  return 0;
}

static void seg_name(char out[32], uint64_t first) {
  snprintf(out, 32, "%020" PRIu64 ".seg", first);
}

/* Fills the caller's report (when there is one) and returns `rc`. */
static int report(es_store_open_report *rep, int rc, uint64_t first,
                  uint64_t offset, const char *fmt, const char *dir) {
  char name[32];
  if (!rep)
    return rc;
  seg_name(name, first);
  snprintf(rep->file, sizeof rep->file, "%s", name);
  rep->offset = offset;
  /* A message cut short by a long directory name is still useful. */
  if (snprintf(rep->message, sizeof rep->message, fmt, dir, name, offset,
               rep->dropped_bytes) < 0)
    rep->message[0] = '\0';
  return rc;
}

/* ---- streams and the index -------------------------------------------- */

static log_stream *find_stream(log_store *s, const char *id, size_t len) {
  return es__hashmap_get(&s->streams, id, len);
}

static log_stream *stream_new(const char *id, size_t len) {
  log_stream *st = malloc(sizeof *st + len + 1);
  if (!st)
    return NULL;
  st->pos = NULL;
  st->n = st->cap = st->assigned = 0;
  memcpy(st->id, id, len);
  st->id[len] = '\0';
  st->id_len = len;
  return st;
}

static void stream_free(log_stream *st) {
  if (!st)
    return;
  free(st->pos);
  free(st);
}

/* Grows `*v` (capacity `*cap`) to hold `need` u64s. */
static int grow_u64(uint64_t **v, uint64_t *cap, uint64_t need) {
  uint64_t c = *cap ? *cap : 16;
  uint64_t *p;
  if (need <= *cap)
    return 0;
  while (c < need)
    c *= 2;
  if (c > SIZE_MAX / sizeof **v)
    return ES_ENOMEM;
  p = realloc(*v, (size_t)c * sizeof **v);
  if (!p)
    return ES_ENOMEM;
  *v = p;
  *cap = c;
  return 0;
}

static int push_seg(log_store *s, uint64_t first, uint64_t size, int fd) {
  if (s->n_segs == s->cap_segs) {
    uint32_t c = s->cap_segs ? s->cap_segs * 2 : 8;
    log_seg *p = realloc(s->segs, c * sizeof *p);
    if (!p)
      return ES_ENOMEM;
    s->segs = p;
    s->cap_segs = c;
  }
  s->segs[s->n_segs].first = first;
  s->segs[s->n_segs].size = size;
  s->segs[s->n_segs].fd = fd;
  s->n_segs++;
  return 0;
}

/* ---- scanning (open, read-only refresh) -------------------------------- */

typedef struct pend {
  log_stream *st;
  uint64_t off;
} pend;

/* True when a frame with a valid CRC starts anywhere in buf[from, len). */
static int valid_frame_after(const uint8_t *buf, uint64_t from, uint64_t len) {
  for (uint64_t o = from; o + FRAME + COMMIT_BODY <= len; o++) {
    uint32_t bl = get32(buf + o);
    if (bl < COMMIT_BODY || bl > len - o - FRAME)
      continue;
    if (buf[o + FRAME] != K_EVENT && buf[o + FRAME] != K_COMMIT)
      continue;
    if (frame_crc(buf + o, bl) == get32(buf + o + 4))
      return 1;
  }
  return 0;
}

/* Parses the event body at `b` (length `bl`, CRC already good) and finds or
 * creates its stream. Returns 0 or ES_ECORRUPT (well-formed CRC, bad
 * content), ES_ENOMEM. */
static int scan_event(log_store *s, const uint8_t *b, uint32_t bl,
                      uint64_t want_pos, log_stream **out) {
  uint32_t tl, kl, pl;
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  log_stream *st;

  if (bl < EV_FIXED || get64(b + 1) != want_pos)
    return ES_ECORRUPT;
  tl = get16(b + 85);
  kl = get16(b + 87);
  pl = get32(b + 89);
  if (tl < 1 || tl > ES_STREAM_TYPE_MAX || kl < 1 || kl > ES_KEY_MAX ||
      (uint64_t)EV_FIXED + tl + kl + pl != bl ||
      memchr(b + EV_FIXED, 0, (size_t)tl + kl) != NULL)
    return ES_ECORRUPT;
  memcpy(id, b + EV_FIXED, tl);
  id[tl] = '\0';
  memcpy(id + tl + 1, b + EV_FIXED + tl, kl);
  st = find_stream(s, id, (size_t)tl + 1 + kl);
  if (!st) {
    st = stream_new(id, (size_t)tl + 1 + kl);
    if (!st)
      return ES_ENOMEM;
    if (es__hashmap_put(&s->streams, st->id, st->id_len, st) != 0) {
      stream_free(st);
      return ES_ENOMEM;
    }
  }
  if (get64(b + 9) != st->assigned + 1)
    return ES_ECORRUPT;
  st->assigned++;
  *out = st;
  return 0;
}

/* Scans segment `si` from `from` (0: check the header first) to its end,
 * adding every committed batch to the index; sets the segment's size to the
 * end of the last whole batch. A writer cuts a torn tail of the newest
 * segment (`last`) and reports it; damage followed by a valid record, or
 * any damage in an older segment, is ES_ECORRUPT. Caller holds `mu` (or is
 * opening). */
static int scan_seg(log_store *s, uint32_t si, uint64_t from, int last,
                    es_store_open_report *rep) {
  log_seg *g = &s->segs[si];
  struct stat sb;
  uint8_t *buf = NULL;
  pend *pv = NULL;
  uint64_t len, off = 0, good = 0, npend = 0, cap_pend = 0, bad = UINT64_MAX;
  int rc = 0, torn_kind = 0;

  if (fstat(g->fd, &sb) != 0)
    return ES_EIO;
  if (from == 0) {
    uint8_t h[SEG_HDR];
    if ((uint64_t)sb.st_size < SEG_HDR) {
      if (!last)
        return report(rep, ES_ECORRUPT, g->first, 0,
                      "corrupt store: %s/%s: short header at offset %" PRIu64,
                      s->dir);
      if (s->readonly)
        return 0; /* being created: next refresh */
      if (rep)
        rep->dropped_bytes += (uint64_t)sb.st_size;
      memcpy(h, SEG_MAGIC, 8);
      put64(h + 8, g->first);
      if (ftruncate(g->fd, 0) != 0 || pwrite_all(g->fd, h, SEG_HDR, 0) ||
          fdatasync(g->fd) != 0)
        return ES_EIO;
      report(rep, 0, g->first, 0,
             "store %s: %s: torn segment header rewritten at offset %" PRIu64
             " (%" PRIu64 " bytes dropped)",
             s->dir);
      g->size = SEG_HDR;
      return 0;
    }
    if (pread_all(g->fd, h, SEG_HDR, 0) || memcmp(h, SEG_MAGIC, 8) != 0 ||
        get64(h + 8) != g->first || g->first != s->n + 1)
      return report(rep, ES_ECORRUPT, g->first, 0,
                    "corrupt store: %s/%s: bad segment header at offset "
                    "%" PRIu64,
                    s->dir);
    from = SEG_HDR;
  }
  if ((uint64_t)sb.st_size < from)
    return report(rep, ES_ECORRUPT, g->first, from,
                  "corrupt store: %s/%s: file shrank below offset %" PRIu64,
                  s->dir);
  len = (uint64_t)sb.st_size - from;
  if (len > SIZE_MAX - 1)
    return ES_ENOMEM;
  buf = malloc(len ? (size_t)len : 1);
  if (!buf)
    return ES_ENOMEM;
  if (pread_all(g->fd, buf, (size_t)len, from) != 0) {
    rc = ES_EIO;
    goto done;
  }

  while (off < len) {
    uint32_t bl;
    const uint8_t *b;
    if (len - off < FRAME) {
      bad = off;
      break;
    }
    bl = get32(buf + off);
    if (bl < COMMIT_BODY || bl > MAX_BODY || bl > len - off - FRAME ||
        frame_crc(buf + off, bl) != get32(buf + off + 4)) {
      bad = off;
      torn_kind = 1; /* bad frame: torn, unless valid records follow */
      break;
    }
    b = buf + off + FRAME;
    if (b[0] == K_EVENT) {
      log_stream *st = NULL;
      if (npend == cap_pend) {
        uint64_t c = cap_pend ? cap_pend * 2 : 64;
        pend *p = realloc(pv, (size_t)c * sizeof *p);
        if (!p) {
          rc = ES_ENOMEM;
          goto done;
        }
        pv = p;
        cap_pend = c;
      }
      rc = scan_event(s, b, bl, s->n + npend + 1, &st);
      if (rc == ES_ECORRUPT) {
        rc = report(rep, rc, g->first, from + off,
                    "corrupt store: %s/%s: bad event record at offset "
                    "%" PRIu64,
                    s->dir);
        goto done;
      }
      if (rc)
        goto done;
      pv[npend].st = st;
      pv[npend].off = from + off;
      npend++;
    } else if (b[0] == K_COMMIT && bl == COMMIT_BODY && npend > 0 &&
               get64(b + 1) == s->n + 1 && get32(b + 9) == npend) {
      if (grow_u64(&s->loc, &s->cap, s->n + npend) != 0) {
        rc = ES_ENOMEM;
        goto done;
      }
      for (uint64_t i = 0; i < npend; i++) {
        log_stream *st = pv[i].st;
        if (grow_u64(&st->pos, &st->cap, st->n + 1) != 0) {
          rc = ES_ENOMEM;
          goto done;
        }
        st->pos[st->n++] = s->n + 1;
        s->loc[s->n++] = (uint64_t)si << LOC_SHIFT | pv[i].off;
      }
      s->assigned = s->n;
      npend = 0;
      good = off + FRAME + bl;
    } else {
      rc =
          report(rep, ES_ECORRUPT, g->first, from + off,
                 "corrupt store: %s/%s: bad record at offset %" PRIu64, s->dir);
      goto done;
    }
    off += FRAME + bl;
  }
  /* Events of an unfinished batch do not count. */
  for (uint64_t i = 0; i < npend; i++)
    pv[i].st->assigned = pv[i].st->n;
  if (bad == UINT64_MAX && npend == 0) {
    g->size = from + len;
    goto done;
  }
  if (bad == UINT64_MAX)
    bad = good;
  if (!last || (torn_kind && valid_frame_after(buf, bad + 1, len))) {
    rc = report(rep, ES_ECORRUPT, g->first, from + bad,
                "corrupt store: %s/%s: damaged record at offset %" PRIu64
                " followed by valid data",
                s->dir);
    goto done;
  }
  g->size = from + good;
  if (!s->readonly) {
    if (ftruncate(g->fd, (off_t)g->size) != 0 || fdatasync(g->fd) != 0) {
      rc = ES_EIO;
      goto done;
    }
    if (rep)
      rep->dropped_bytes += len - good;
    report(rep, 0, g->first, g->size,
           "store %s: %s: torn tail cut back to offset %" PRIu64 " (%" PRIu64
           " bytes dropped)",
           s->dir);
  }

done:
  free(pv);
  free(buf);
  return rc;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Lists the segment numbers in the directory, sorted, into `*out`. */
static int list_segs(log_store *s, uint64_t **out, uint32_t *n) {
  int fd = dup(s->dirfd);
  DIR *d;
  struct dirent *e;
  uint64_t *v = NULL, cap = 0;
  uint32_t k = 0;
  int rc = 0;

  *out = NULL;
  *n = 0;
  if (fd < 0)
    return ES_EIO;
  d = fdopendir(fd);
  if (!d) {
    close(fd);
    return ES_EIO;
  }
  rewinddir(d);
  while ((e = readdir(d)) != NULL) {
    uint64_t num = 0;
    int ok = strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".seg") == 0;
    for (int i = 0; ok && i < 20; i++) {
      if (e->d_name[i] < '0' || e->d_name[i] > '9' ||
          num > (UINT64_MAX - 9) / 10)
        ok = 0;
      else
        num = num * 10 + (uint64_t)(e->d_name[i] - '0');
    }
    if (!ok)
      continue;
    if (grow_u64(&v, &cap, (uint64_t)k + 1) != 0) {
      rc = ES_ENOMEM;
      break;
    }
    v[k++] = num;
  }
  closedir(d);
  if (rc) {
    free(v);
    return rc;
  }
  if (k)
    qsort(v, k, sizeof *v, cmp_u64);
  *out = v;
  *n = k;
  return 0;
}

static int open_seg(log_store *s, uint64_t first, int writable) {
  char name[32];
  int fd;
  seg_name(name, first);
  fd = openat(s->dirfd, name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0)
    return ES_EIO;
  if (push_seg(s, first, 0, fd) != 0) {
    close(fd);
    return ES_ENOMEM;
  }
  return 0;
}

/* Read-only stores: picks up what the writer made durable since. Caller
 * holds `mu`. */
static int refresh(log_store *s) {
  uint64_t *nums = NULL;
  uint32_t k = 0, before = s->n_segs;
  int rc = list_segs(s, &nums, &k);

  for (uint32_t i = 0; rc == 0 && i < k; i++)
    if (!before || nums[i] > s->segs[before - 1].first)
      rc = open_seg(s, nums[i], 0);
  free(nums);
  if (rc)
    return rc;
  for (uint32_t i = before ? before - 1 : 0; i < s->n_segs; i++) {
    rc = scan_seg(s, i, s->segs[i].size, i + 1 == s->n_segs, NULL);
    if (rc)
      return rc;
    if (s->segs[i].size < SEG_HDR) /* header not yet written */
      break;
  }
  pthread_cond_broadcast(&s->grew);
  return 0;
}

/* ---- appending ---------------------------------------------------------- */

/* Creates the segment starting at `first`, its header synced and the
 * directory entry with it. Only the leader (or the opener) calls this. */
static int create_seg(log_store *s, uint64_t first) {
  char name[32];
  uint8_t h[SEG_HDR];
  int fd, rc;

  seg_name(name, first);
  fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return ES_EIO;
  memcpy(h, SEG_MAGIC, 8);
  put64(h + 8, first);
  if (pwrite_all(fd, h, SEG_HDR, 0) != 0 || fsync(fd) != 0 ||
      fsync(s->dirfd) != 0) {
    close(fd);
    return ES_EIO;
  }
  pthread_mutex_lock(&s->mu);
  rc = push_seg(s, first, SEG_HDR, fd);
  pthread_mutex_unlock(&s->mu);
  if (rc) {
    close(fd);
    return rc;
  }
  s->write_off = SEG_HDR;
  return 0;
}

/* Writes the batches of `q` back to back at `off` in `fd`. */
static int write_batches(int fd, log_batch *q, uint64_t off) {
  struct iovec iov[WRITE_IOV];
  while (q) {
    int k = 0;
    size_t total = 0;
    for (; q && k < WRITE_IOV; q = q->next, k++) {
      iov[k].iov_base = q->buf;
      iov[k].iov_len = q->len;
      total += q->len;
    }
    for (int i = 0; total;) {
      ssize_t put = pwritev(fd, iov + i, k - i, (off_t)off);
      if (put < 0 && errno == EINTR)
        continue;
      if (put <= 0)
        return ES_EIO;
      off += (uint64_t)put;
      total -= (size_t)put;
      while (i < k && (size_t)put >= iov[i].iov_len) {
        put -= (ssize_t)iov[i].iov_len;
        i++;
      }
      if (i < k) {
        iov[i].iov_base = (uint8_t *)iov[i].iov_base + put;
        iov[i].iov_len -= (size_t)put;
      }
    }
  }
  return 0;
}

/* The leader's turn: writes and syncs every queued batch, then publishes
 * them. Called and returns with `mu` held; drops it for the I/O. */
static void lead(log_store *s) {
  log_batch *q = s->queue;
  uint64_t base;
  int rc = s->failed, fd;

  s->queue = NULL;
  s->queue_tail = &s->queue;
  s->syncing = 1;
  pthread_mutex_unlock(&s->mu);

  if (!rc && s->write_off >= s->seg_limit && s->write_off > SEG_HDR)
    rc = create_seg(s, q->first);
  fd = s->segs[s->n_segs - 1].fd; /* only the leader changes segs */
  base = s->write_off;
  if (!rc)
    rc = write_batches(fd, q, base);
  if (!rc && fdatasync(fd) != 0)
    rc = ES_EIO;
  if (rc && rc != s->failed) /* best effort: leave no half batch */
    (void)!ftruncate(fd, (off_t)base);

  pthread_mutex_lock(&s->mu);
  if (rc)
    s->failed = rc;
  for (log_batch *b = q; b; b = b->next) {
    if (!rc) {
      uint64_t k = 0, si = s->n_segs - 1;
      for (uint32_t i = 0; i < b->n_groups; i++)
        for (uint32_t j = 0; j < b->cnt[i]; j++, k++) {
          log_stream *st = b->st[i];
          st->pos[st->n++] = b->first + k;
          s->loc[b->first + k - 1] = si << LOC_SHIFT | (base + b->rel[k]);
        }
      s->n = b->first + b->count - 1;
      base += b->len;
    }
    b->rc = rc;
    b->done = 1;
  }
  if (!rc) {
    s->write_off = base;
    s->segs[s->n_segs - 1].size = base;
  }
  s->syncing = 0;
  pthread_cond_broadcast(&s->synced);
  pthread_cond_broadcast(&s->grew);
}

/* Encodes one event record at `p`; returns its size. */
static size_t encode_event(uint8_t *p, const es_new_event *e, uint64_t pos,
                           uint64_t version, es_timestamp ts, const es_uuid *id,
                           const char *type, const char *key) {
  size_t tl = strlen(type), kl = strlen(key);
  uint32_t bl = (uint32_t)(EV_FIXED + tl + kl + e->len);
  uint8_t *b = p + FRAME;

  put32(p, bl);
  b[0] = K_EVENT;
  put64(b + 1, pos);
  put64(b + 9, version);
  put64(b + 17, e->type_id);
  put32(b + 25, e->type_version);
  put64(b + 29, (uint64_t)ts);
  memcpy(b + 37, id->bytes, 16);
  memcpy(b + 53, e->correlation_id.bytes, 16);
  memcpy(b + 69, e->causation_id.bytes, 16);
  put16(b + 85, (uint32_t)tl);
  put16(b + 87, (uint32_t)kl);
  put32(b + 89, (uint32_t)e->len);
  memcpy(b + EV_FIXED, type, tl);
  memcpy(b + EV_FIXED + tl, key, kl);
  if (e->len)
    memcpy(b + EV_FIXED + tl + kl, e->payload, e->len);
  put32(p + 4, frame_crc(p, bl));
  return FRAME + bl;
}

static void batch_free(log_batch *b) {
  if (!b)
    return;
  free(b->buf);
  free(b->st);
  free(b->cnt);
  free(b->rel);
  free(b);
}

static int log_append(es_store *bs, es_append_stream *g, uint32_t n,
                      es_append_result *res) {
  log_store *s = (log_store *)bs;
  log_batch *b;
  uint8_t *created = NULL;
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  uint64_t total = 0;
  size_t size = FRAME + COMMIT_BODY, off = 0;
  uint32_t n_new = 0;
  es_timestamp now = es__now_us();
  int rc = ES_ENOMEM, locked = 0;

  if (s->readonly)
    return ES_EREADONLY;
  b = calloc(1, sizeof *b);
  if (!b)
    return ES_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    size_t tl = strlen(g[i].type), kl = strlen(g[i].key);
    total += g[i].n_events;
    for (uint32_t j = 0; j < g[i].n_events; j++)
      size += FRAME + EV_FIXED + tl + kl + g[i].events[j].len;
  }
  b->n_groups = n;
  b->count = total;
  b->st = calloc(n, sizeof *b->st);
  b->cnt = calloc(n, sizeof *b->cnt);
  b->rel = calloc((size_t)total, sizeof *b->rel);
  b->buf = malloc(size);
  created = calloc(n, 1);
  if (!b->st || !b->cnt || !b->rel || !b->buf || !created)
    goto fail;
  b->len = size;

  pthread_mutex_lock(&s->mu);
  locked = 1;
  if (s->failed) {
    rc = s->failed;
    goto fail;
  }
  for (uint32_t i = 0; i < n; i++) {
    uint64_t cur;
    size_t len = es__stream_id(id, g[i].type, g[i].key);
    b->st[i] = find_stream(s, id, len);
    cur = b->st[i] ? b->st[i]->assigned : 0;
    if (!es__expectation_holds(g[i].expected, cur)) {
      res->conflict = i;
      res->actual_version = cur;
      rc = ES_ECONFLICT;
      goto fail;
    }
  }
  /* Everything that can fail, before anything shared changes. */
  for (uint32_t i = 0; i < n; i++) {
    if (!b->st[i] && g[i].n_events) {
      size_t len = es__stream_id(id, g[i].type, g[i].key);
      b->st[i] = stream_new(id, len);
      if (!b->st[i])
        goto fail;
      created[i] = 1;
      n_new++;
    }
    if (b->st[i] && grow_u64(&b->st[i]->pos, &b->st[i]->cap,
                             b->st[i]->assigned + g[i].n_events) != 0)
      goto fail;
  }
  if (es__hashmap_reserve(&s->streams, n_new) != 0 ||
      grow_u64(&s->loc, &s->cap, s->assigned + total) != 0)
    goto fail;

  /* Commit: nothing below fails. */
  b->first = s->assigned + 1;
  for (uint32_t i = 0, k = 0; i < n; i++) {
    log_stream *t = b->st[i];
    if (created[i])
      es__hashmap_put(&s->streams, t->id, t->id_len, t);
    b->cnt[i] = g[i].n_events;
    for (uint32_t j = 0; j < g[i].n_events; j++, k++) {
      const es_new_event *e = &g[i].events[j];
      es_uuid eid = e->event_id;
      if (es__uuid_is_zero(&eid))
        es__uuid_v7(&eid, s->rng, now);
      b->rel[k] = off;
      off += encode_event(b->buf + off, e, b->first + k, ++t->assigned,
                          e->timestamp ? e->timestamp : now, &eid, g[i].type,
                          g[i].key);
    }
    g[i].version = t ? t->assigned : 0;
  }
  put32(b->buf + off, COMMIT_BODY);
  b->buf[off + FRAME] = K_COMMIT;
  put64(b->buf + off + FRAME + 1, b->first);
  put32(b->buf + off + FRAME + 9, (uint32_t)total);
  put32(b->buf + off + 4, frame_crc(b->buf + off, COMMIT_BODY));
  s->assigned += total;
  res->first_position = b->first;
  res->last_position = s->assigned;
  free(created);
  created = NULL;

  *s->queue_tail = b;
  s->queue_tail = &b->next;
  while (!b->done) {
    if (!s->syncing)
      lead(s);
    else
      pthread_cond_wait(&s->synced, &s->mu);
  }
  rc = b->rc;
  pthread_mutex_unlock(&s->mu);
  batch_free(b);
  return rc;

fail:
  if (created)
    for (uint32_t i = 0; i < n; i++)
      if (created[i])
        stream_free(b->st[i]);
  if (locked)
    pthread_mutex_unlock(&s->mu);
  free(created);
  batch_free(b);
  return rc;
}

/* ---- reads ----------------------------------------------------------------
 */

/* A window of one segment kept between records of one read. */
typedef struct rd_cache {
  int fd;
  uint64_t off;
  size_t len, cap;
  uint8_t *buf;
} rd_cache;

/* Makes bytes [off, off + len) of `fd` available at the returned pointer. */
static const uint8_t *cache_get(rd_cache *c, int fd, uint64_t off, size_t len) {
  size_t want;
  if (c->fd == fd && off >= c->off && off - c->off <= c->len &&
      c->len - (off - c->off) >= len)
    return c->buf + (off - c->off);
  want = len > READ_BLOCK ? len : READ_BLOCK;
  if (want > c->cap) {
    uint8_t *p = realloc(c->buf, want);
    if (!p)
      return NULL;
    c->buf = p;
    c->cap = want;
  }
  c->fd = -1;
  for (size_t got = 0; got < len;) {
    ssize_t r = pread(fd, c->buf + got, want - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return NULL;
    got += (size_t)r;
    c->len = got;
  }
  c->fd = fd;
  c->off = off;
  return c->buf;
}

/* Reads, checks and delivers the event record at `loc`. */
static int deliver_one(rd_cache *c, int fd, uint64_t off, uint64_t want_pos,
                       es_event_fn fn, void *ctx) {
  char names[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  const uint8_t *p = cache_get(c, fd, off, FRAME), *b;
  es_stored_event ev;
  uint32_t bl, tl, kl;

  if (!p)
    return ES_EIO;
  bl = get32(p);
  if (bl < EV_FIXED || bl > MAX_BODY)
    return ES_ECORRUPT;
  p = cache_get(c, fd, off, FRAME + (size_t)bl);
  if (!p)
    return ES_EIO;
  b = p + FRAME;
  if (frame_crc(p, bl) != get32(p + 4) || b[0] != K_EVENT ||
      get64(b + 1) != want_pos)
    return ES_ECORRUPT;
  tl = get16(b + 85);
  kl = get16(b + 87);
  memset(&ev, 0, sizeof ev);
  ev.meta.position = want_pos;
  ev.meta.version = get64(b + 9);
  ev.meta.type_id = get64(b + 17);
  ev.meta.type_version = get32(b + 25);
  ev.meta.timestamp = (es_timestamp)get64(b + 29);
  memcpy(ev.meta.event_id.bytes, b + 37, 16);
  memcpy(ev.meta.correlation_id.bytes, b + 53, 16);
  memcpy(ev.meta.causation_id.bytes, b + 69, 16);
  memcpy(names, b + EV_FIXED, tl);
  names[tl] = '\0';
  memcpy(names + tl + 1, b + EV_FIXED + tl, kl);
  names[tl + 1 + kl] = '\0';
  ev.meta.aggregate = names;
  ev.meta.key = names + tl + 1;
  ev.len = get32(b + 89);
  ev.payload = b + EV_FIXED + tl + kl;
  return fn(&ev, ctx);
}

/* Delivers positions first .. last (1-based, inclusive) of the list at
 * `*v` (NULL: the positions themselves), a chunk of locations at a time
 * copied under the lock. */
static int deliver(log_store *s, uint64_t *const *v, uint64_t first,
                   uint64_t last, es_event_fn fn, void *ctx) {
  uint64_t pos[READ_CHUNK];
  int fds[READ_CHUNK];
  uint64_t offs[READ_CHUNK];
  rd_cache c = {-1, 0, 0, 0, NULL};
  int rc = 0;

  while (first <= last && !rc) {
    uint64_t k = last - first + 1;
    if (k > READ_CHUNK)
      k = READ_CHUNK;
    pthread_mutex_lock(&s->mu);
    for (uint64_t i = 0; i < k; i++) {
      uint64_t l;
      pos[i] = v ? (*v)[first - 1 + i] : first + i;
      l = s->loc[pos[i] - 1];
      fds[i] = s->segs[l >> LOC_SHIFT].fd;
      offs[i] = l & (((uint64_t)1 << LOC_SHIFT) - 1);
    }
    pthread_mutex_unlock(&s->mu);
    for (uint64_t i = 0; i < k && !rc; i++)
      rc = deliver_one(&c, fds[i], offs[i], pos[i], fn, ctx);
    first += k;
  }
  free(c.buf);
  return rc;
}

static int log_read_stream(es_store *bs, const char *type, const char *key,
                           uint64_t from, uint32_t max, es_event_fn fn,
                           void *ctx) {
  log_store *s = (log_store *)bs;
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  size_t len = es__stream_id(id, type, key);
  log_stream *st;
  uint64_t have;
  int rc = 0;

  pthread_mutex_lock(&s->mu);
  if (s->readonly)
    rc = refresh(s);
  st = find_stream(s, id, len);
  have = st ? st->n : 0;
  pthread_mutex_unlock(&s->mu);
  if (rc || from > have)
    return rc;
  return deliver(s, &st->pos, from, es__read_end(from, have, max), fn, ctx);
}

static int log_read_all(es_store *bs, uint64_t from, uint32_t max,
                        es_event_fn fn, void *ctx) {
  log_store *s = (log_store *)bs;
  uint64_t have;
  int rc = 0;

  pthread_mutex_lock(&s->mu);
  if (s->readonly)
    rc = refresh(s);
  have = s->n;
  pthread_mutex_unlock(&s->mu);
  if (rc || from > have)
    return rc;
  return deliver(s, NULL, from, es__read_end(from, have, max), fn, ctx);
}

/* ---- waiting ---------------------------------------------------------- */

static int log_wait(es_store *bs, uint64_t after, int64_t timeout_us,
                    uint64_t *head) {
  log_store *s = (log_store *)bs;
  int rc = 0;

  pthread_mutex_lock(&s->mu);
  if (s->readonly)
    rc = refresh(s);
  if (!rc)
    rc = es__wait_head(&s->mu, &s->grew, &s->n, &s->interrupts, after,
                       timeout_us);
  *head = s->n;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static void log_interrupt(es_store *bs) {
  log_store *s = (log_store *)bs;

  pthread_mutex_lock(&s->mu);
  s->interrupts++;
  pthread_cond_broadcast(&s->grew);
  pthread_mutex_unlock(&s->mu);
}

static int log_head(es_store *bs, uint64_t *position) {
  log_store *s = (log_store *)bs;
  int rc = 0;

  pthread_mutex_lock(&s->mu);
  if (s->readonly)
    rc = refresh(s);
  *position = s->n;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static int log_stream_version(es_store *bs, const char *type, const char *key,
                              uint64_t *version) {
  log_store *s = (log_store *)bs;
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  size_t len = es__stream_id(id, type, key);
  log_stream *st;
  int rc = 0;

  pthread_mutex_lock(&s->mu);
  if (s->readonly)
    rc = refresh(s);
  st = find_stream(s, id, len);
  *version = st ? st->n : 0;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* ---- snapshots and checkpoints: one small file each ------------------- */

/* "snap-" / "ckpt-" and 128 bits of hash of the name (fixed keys, so the
 * name is stable across opens; the real name is checked inside). */
static void blob_file(char out[40], const char *prefix, const char *name,
                      size_t len) {
  uint64_t h1 = es__siphash13(0x6c69626573626c6full, 0x736e617073686f74ull,
                              name, len),
           h2 = es__siphash13(0x636b70742d6c6f67ull, 0x0123456789abcdefull,
                              name, len);
  snprintf(out, 40, "%s%016" PRIx64 "%016" PRIx64, prefix, h1, h2);
}

/* Writes the blob file atomically: temporary, fdatasync, rename, and a
 * sync of the directory. */
static int blob_put(log_store *s, const char *file, const char *name, size_t nl,
                    uint64_t a, uint64_t b, const void *data, size_t len) {
  uint8_t h[BLOB_HDR];
  char tmp[48];
  uint32_t crc;
  int fd = -1, rc = ES_EIO;

  if (s->readonly)
    return ES_EREADONLY;
  put32(h, BLOB_MAGIC);
  put64(h + 8, a);
  put64(h + 16, b);
  put32(h + 24, (uint32_t)nl);
  put32(h + 28, (uint32_t)len);
  crc = es__crc32c(0, h + 8, BLOB_HDR - 8);
  crc = es__crc32c(crc, name, nl);
  crc = es__crc32c(crc, data, len);
  put32(h + 4, crc);

  pthread_mutex_lock(&s->blob_mu);
  snprintf(tmp, sizeof tmp, "tmp-%" PRIu64, s->tmp_seq++);
  fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    goto fail;
  if (pwrite_all(fd, h, BLOB_HDR, 0) != 0 ||
      pwrite_all(fd, name, nl, BLOB_HDR) != 0 ||
      (len && pwrite_all(fd, data, len, BLOB_HDR + nl) != 0) ||
      fdatasync(fd) != 0)
    goto fail;
  close(fd);
  fd = -1;
  if (renameat(s->dirfd, tmp, s->dirfd, file) != 0 || fsync(s->dirfd) != 0)
    goto fail;
  pthread_mutex_unlock(&s->blob_mu);
  return 0;

fail:
  if (fd >= 0)
    close(fd);
  unlinkat(s->dirfd, tmp, 0);
  pthread_mutex_unlock(&s->blob_mu);
  return rc;
}

/* Reads the blob file: header values into a, b and the data into `data`
 * (when not NULL). ES_ENOTFOUND when missing or holding another name. */
static int blob_get(log_store *s, const char *file, const char *name, size_t nl,
                    uint64_t *a, uint64_t *b, es_buf *data) {
  struct stat sb;
  uint8_t *buf = NULL;
  size_t fl;
  uint32_t dl;
  int fd = openat(s->dirfd, file, O_RDONLY | O_CLOEXEC), rc = ES_ECORRUPT;

  if (fd < 0)
    return errno == ENOENT ? ES_ENOTFOUND : ES_EIO;
  if (fstat(fd, &sb) != 0) {
    rc = ES_EIO;
    goto done;
  }
  if ((uint64_t)sb.st_size < BLOB_HDR ||
      (uint64_t)sb.st_size >
          BLOB_HDR + ES_KEY_MAX * 2 + 2 + (uint64_t)s->base.opt.max_blob_size)
    goto done;
  fl = (size_t)sb.st_size;
  buf = malloc(fl);
  if (!buf) {
    rc = ES_ENOMEM;
    goto done;
  }
  if (pread_all(fd, buf, fl, 0) != 0) {
    rc = ES_EIO;
    goto done;
  }
  dl = get32(buf + 28);
  if (get32(buf) != BLOB_MAGIC ||
      (uint64_t)BLOB_HDR + get32(buf + 24) + dl != fl ||
      es__crc32c(0, buf + 8, fl - 8) != get32(buf + 4))
    goto done;
  if (get32(buf + 24) != nl || memcmp(buf + BLOB_HDR, name, nl) != 0) {
    rc = ES_ENOTFOUND; /* a hash collision: another name's file */
    goto done;
  }
  rc = 0;
  if (data) {
    es_buf_append(data, buf + BLOB_HDR + nl, dl);
    rc = data->err;
  }
  if (rc == 0) {
    *a = get64(buf + 8);
    if (b)
      *b = get64(buf + 16);
  }

done:
  free(buf);
  close(fd);
  return rc;
}

static int log_snapshot_put(es_store *bs, const char *type, const char *key,
                            const es_snapshot_info *info, const void *data,
                            size_t len) {
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2], file[40];
  size_t nl = es__stream_id(id, type, key);
  blob_file(file, "snap-", id, nl);
  return blob_put((log_store *)bs, file, id, nl, info->version, info->layout,
                  data, len);
}

static int log_snapshot_get(es_store *bs, const char *type, const char *key,
                            es_snapshot_info *info, es_buf *data) {
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2], file[40];
  size_t nl = es__stream_id(id, type, key);
  blob_file(file, "snap-", id, nl);
  return blob_get((log_store *)bs, file, id, nl, &info->version, &info->layout,
                  data);
}

static int log_checkpoint_put(es_store *bs, const char *name, uint64_t position,
                              const void *data, size_t len) {
  char file[40];
  size_t nl = strlen(name);
  blob_file(file, "ckpt-", name, nl);
  return blob_put((log_store *)bs, file, name, nl, position, 0, data, len);
}

static int log_checkpoint_get(es_store *bs, const char *name,
                              uint64_t *position, es_buf *data) {
  char file[40];
  size_t nl = strlen(name);
  blob_file(file, "ckpt-", name, nl);
  return blob_get((log_store *)bs, file, name, nl, position, NULL, data);
}

/* ---- open and close --------------------------------------------------- */

static void log_close(es_store *bs) {
  log_store *s = (log_store *)bs;
  size_t i = 0;
  void *v;

  while ((v = es__hashmap_next(&s->streams, &i)) != NULL)
    stream_free(v);
  es__hashmap_close(&s->streams);
  for (uint32_t k = 0; k < s->n_segs; k++)
    close(s->segs[k].fd);
  free(s->segs);
  free(s->loc);
  if (s->lockfd >= 0)
    close(s->lockfd); /* releases the lock */
  if (s->dirfd >= 0)
    close(s->dirfd);
  pthread_cond_destroy(&s->synced);
  pthread_cond_destroy(&s->grew);
  pthread_mutex_destroy(&s->blob_mu);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static const es_store_ops log_ops = {
    "log",
    log_close,
    log_append,
    log_read_stream,
    log_read_all,
    log_wait,
    log_interrupt,
    log_head,
    log_stream_version,
    log_snapshot_put,
    log_snapshot_get,
    log_checkpoint_put,
    log_checkpoint_get,
};

/* Takes the writer lock: an OFD lock on LOCK, which then holds our pid. */
static int take_lock(log_store *s, es_store_open_report *rep) {
  struct flock fl;
  char pid[32];
  int n;

  s->lockfd = openat(s->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lockfd < 0)
    return ES_EIO;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
#ifdef F_OFD_SETLK
  n = fcntl(s->lockfd, F_OFD_SETLK, &fl);
#else
  n = fcntl(s->lockfd, F_SETLK, &fl);
#endif
  if (n != 0) {
    long holder = 0;
    ssize_t got;
    if (errno != EAGAIN && errno != EACCES)
      return ES_EIO;
    got = pread(s->lockfd, pid, sizeof pid - 1, 0);
    if (got > 0) {
      pid[got] = '\0';
      holder = strtol(pid, NULL, 10);
    }
    if (rep) {
      rep->locked_pid = holder;
      if (snprintf(rep->message, sizeof rep->message,
                   "store %s is locked by pid %ld", s->dir, holder) < 0)
        rep->message[0] = '\0';
    }
    return ES_ELOCKED;
  }
  n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(s->lockfd, 0) != 0 ||
      pwrite_all(s->lockfd, pid, (size_t)n, 0) != 0)
    return ES_EIO;
  return 0;
}

static int init_sync(log_store *s) {
  int rc = ES_ENOMEM;

  if (pthread_mutex_init(&s->mu, NULL) != 0)
    return rc;
  if (pthread_mutex_init(&s->blob_mu, NULL) != 0)
    goto fail_mu;
  if (es__cond_init_monotonic(&s->grew) != 0)
    goto fail_blob;
  if (pthread_cond_init(&s->synced, NULL) != 0) {
    pthread_cond_destroy(&s->grew);
    goto fail_blob;
  }
  return 0;

fail_blob:
  pthread_mutex_destroy(&s->blob_mu);
fail_mu:
  pthread_mutex_destroy(&s->mu);
  return rc;
}

int es_store_open_log(es_store **out, const char *dir,
                      const es_store_options *opt, unsigned flags) {
  es_store_open_report *rep = opt ? opt->report : NULL;
  log_store *s;
  uint64_t *nums = NULL;
  uint32_t k = 0;
  int rc;

  if (rep)
    memset(rep, 0, sizeof *rep);
  if (!out)
    return ES_EINVAL;
  *out = NULL;
  if (!dir || !*dir || strlen(dir) >= PATH_MAX || (flags & ~ES_STORE_READONLY))
    return ES_EINVAL;
  s = calloc(1, sizeof *s);
  if (!s)
    return ES_ENOMEM;
  s->base.ops = &log_ops;
  if (opt)
    s->base.opt = *opt;
  s->base.opt.report = NULL; /* the caller's report is for the open only */
  es__store_defaults(&s->base.opt);
  /* Record and blob lengths are u32 on disk. */
  if (s->base.opt.max_event_size > MAX_EVENT)
    s->base.opt.max_event_size = MAX_EVENT;
  if (s->base.opt.max_blob_size > MAX_EVENT)
    s->base.opt.max_blob_size = MAX_EVENT;
  if (!s->base.opt.segment_size)
    s->base.opt.segment_size = ES_STORE_DEFAULT_SEGMENT_SIZE;
  s->seg_limit = s->base.opt.segment_size;
  s->readonly = (flags & ES_STORE_READONLY) != 0;
  s->dirfd = s->lockfd = -1;
  s->queue_tail = &s->queue;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  es__rng_seed(s->rng, s);
  es__hashmap_init(&s->streams, es__rng_next(s->rng), es__rng_next(s->rng));
  if (init_sync(s) != 0) {
    es__hashmap_close(&s->streams);
    free(s);
    return ES_ENOMEM;
  }

  if (!s->readonly && mkdir(dir, 0755) != 0 && errno != EEXIST) {
    rc = ES_EIO;
    goto fail;
  }
  s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0) {
    rc = ES_EIO;
    goto fail;
  }
  if (!s->readonly && (rc = take_lock(s, rep)) != 0)
    goto fail;
  rc = list_segs(s, &nums, &k);
  for (uint32_t i = 0; rc == 0 && i < k; i++)
    rc = open_seg(s, nums[i], !s->readonly && i + 1 == k);
  free(nums);
  for (uint32_t i = 0; rc == 0 && i < s->n_segs; i++)
    rc = scan_seg(s, i, 0, i + 1 == s->n_segs, rep);
  if (rc)
    goto fail;
  if (!s->readonly) {
    if (s->n_segs == 0)
      rc = create_seg(s, 1);
    else
      s->write_off = s->segs[s->n_segs - 1].size;
    if (rc)
      goto fail;
  }
  *out = &s->base;
  return 0;

fail:
  log_close(&s->base);
  return rc;
}
