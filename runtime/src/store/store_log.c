/*
 * store_log.c - the embedded log: events in append-only segment files in
 * one directory; an in-memory index loaded at open from one index file per
 * sealed segment, plus a scan of the newest segment only.
 *
 * Files in the directory:
 *   LOCK                      the writer lock (OFD fcntl lock; holds the pid)
 *   NNNNNNNNNNNNNNNNNNNN.seg  segments, named by their first position
 *   NNNNNNNNNNNNNNNNNNNN.idx  the index of a sealed segment (same number)
 *   NNNNNNNNNNNNNNNNNNNN.cmd  the command ids of a sealed segment's events
 *                             (command_index.h), written with its index
 *   snap-<32 hex>, ckpt-<32 hex>  one snapshot / checkpoint each, named by
 *                             a hash of the stream or checkpoint name (the
 *                             name itself is kept inside, never in a path)
 *   tmp-*                     files being written; removed at writer open
 *
 * A segment is a 16-byte header ("ESLOGSG1", first position u64) and then
 * records: [u32 length][u32 CRC32C of the length bytes and the body][body].
 * An event body is kind 1, position, version, type id, type version,
 * timestamp, event id, correlation id, causation id, the three lengths
 * (type u16, key u16, payload u32) and those bytes; all little-endian.
 * Every append is a batch: its event records and then one commit record
 * (kind 2, first position, count). Recovery keeps only committed batches,
 * so a batch lands whole or not at all. The writer keeps zeros written
 * ahead of the records of the newest segment (zero_ahead(): most syncs
 * then have no file size to record); recovery takes a newest segment that
 * holds only zeros after its last whole batch as clean, and a roll cuts
 * them (synced) so a sealed segment ends with its last batch.
 *
 * Appends (group commit): an appender checks expectations and assigns
 * positions and versions under the mutex, encodes its batch and queues it.
 * The first appender to find no sync in flight becomes the leader: it takes
 * the whole queue (one group), writes it with pwritev, fdatasyncs once, and
 * then, under the mutex again, adds every batch to the index and takes the
 * first batch queued meanwhile; after unlocking it names that batch's
 * appender the next leader (woken alone, before anyone else, so the next
 * write and sync start at once). Then it stores each batch's result in the
 * batch and wakes the rest of its group with one futex wake on the group's
 * word; they return without retaking the mutex. A batch belongs to its
 * appender, and a leader's store of its final state is the leader's last
 * access to it (see log_batch). An append returns only after the fdatasync
 * covering its batch. Reads see only synced events (`n`); expectations see
 * queued ones (`assigned`).
 * A failed write or sync poisons the store: every later append fails with
 * the same error (what a failed fdatasync left on disk is unknowable).
 *
 * In-memory index: stream -> the position of each version (`pos`, 8 bytes
 * an event) and its record's offset in its segment (`off`, 4 bytes an
 * event; OFF_NONE past 4 GiB), and a sparse position -> (segment, offset)
 * table holding one location every IDX_K positions (`sparse[j]` locates
 * position j*IDX_K+1). A stream read goes straight to each event: its
 * segment from its position (the segment table), its offset from `off`;
 * events of the stream that lie close together in the file are read with
 * one pread, and an isolated one with a small read. read_all (and an event
 * without an offset) finds position p by starting at the nearest sparse
 * entry at or before p in p's segment (or at the segment's first record)
 * and stepping over the record headers up to p; a sequential read just
 * continues from the record it delivered last. Reads copy a few locations
 * under the mutex and read without it; every record delivered is
 * CRC-checked again and bounds-checked against what was readable when
 * its location was taken.
 *
 * Reads come from read-only maps of the segments where they can (no
 * system call an event), made through the I/O table like every other
 * file operation: a segment is mapped in pieces, each covering what was
 * synced when it was made, from where the previous one ended: a sealed
 * segment's rest at once, the newest segment's new part once at least
 * `map_min` bytes of it are synced (MAP_MIN, less for small segments). A
 * piece never changes (the log only appends; a failed write is cut back
 * only past the synced end; recovery cuts a torn tail before anything is
 * mapped) and stays mapped until the store is closed. A read-only store
 * maps sealed segments only: what it sees of the newest segment may not
 * be synced yet, and its writer cuts back what it could not sync (a map
 * past the end of a file faults). Whatever no piece covers yet (the
 * newest bytes, a record across the end of a piece, or every byte if
 * mapping fails) is read with pread into a small window. An event whose
 * record lies whole in a map is CRC-checked and delivered in place.
 *
 * Index files: when the leader rolls to a new segment it writes the sealed
 * segment's index (after publishing its batch, so only its own append
 * waits for it): the segment's stream table (type, key, version of the
 * stream's first event there, each event's position relative to the
 * segment's first, then each event's record offset) and its sparse
 * locations, under one CRC32C, written to
 * tmp-idx-N, fdatasync'd, renamed, directory fsync'd. Best effort: a
 * missing or unusable index only costs a scan. At open each sealed segment
 * loads its index when the CRC, the segment's header, its size and the
 * positions all agree; otherwise the segment is scanned and (by a writer)
 * its index written again. The newest segment is always scanned.
 */
#define _GNU_SOURCE /* syscall */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#if defined(__linux__) && !defined(ES_NO_FUTEX)
#define LOG_FUTEX 1
#include <linux/futex.h>
#include <sys/syscall.h>
#endif
#if defined(__linux__) && !defined(ES_NO_INOTIFY)
#define LOG_INOTIFY 1
#include <poll.h>
#include <sys/inotify.h>
#endif
#include <time.h>
#include <unistd.h>

#include "es/es_error.h"
#include "es/es_obs.h"
#include "es/es_store.h"
#include "store/command_index.h"
#include "store/io.h"
#include "store/le.h"
#include "store/store_log.h"
#include "store/store_util.h"
#include "store/wait.h"
#include "util/alloc.h"
#include "util/crc32c.h"
#include "util/hashmap.h"

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
#define LOC_MASK (((uint64_t)1 << LOC_SHIFT) - 1)
#define IDX_K 16u /* sparse step: one location every IDX_K positions */
#define IDX_MAGIC "ESLOGIX2" /* 1: no record offsets (rescanned) */
#define IDX_HDR 48u    /* magic, CRC, K, first, count, size, streams, locs */
#define IDX_STREAM 16u /* type len u16, key len u16, count u32, version */
#define MIN_EVENT_REC ((uint64_t)FRAME + EV_FIXED + 2)
#define READ_CHUNK 64
#define READ_BLOCK ((size_t)64 << 10)
#define READ_ONE ((size_t)1 << 10) /* one event read on its own */
#define READ_GAP ((size_t)4 << 10) /* events closer than this: one pread */
#define OFF_NONE UINT32_MAX        /* a record offset that does not fit */
#define WRITE_IOV 64
#define BLOB_MAGIC 0x4c425345u /* "ESBL" */
#define BLOB_HDR 32u
/* A read-only waiter looks at the directory again at least this often:
 * with inotify only as a safety net (a file system that does not report
 * another machine's writes), without it as the way it notices appends. */
#define RO_RECHECK_US ((int64_t)1000000)
#define RO_POLL_US ((int64_t)100000)
/* Newest segment: map this much at once. */
#define MAP_MIN ((uint64_t)1 << 20)
/* Newest segment: zeros written ahead of the records (see zero_ahead()). */
#define PREALLOC ((uint64_t)1 << 20)
#define ZERO_BLOCK ((size_t)64 << 10)

/* A read-only map of bytes [off, end) of a segment, at `base`. */
typedef struct log_map {
  const uint8_t *base;
  uint64_t off, end;
} log_map;

typedef struct log_seg {
  uint64_t first; /* first position, from the name */
  uint64_t size;  /* end of the last whole batch */
  int fd;
  log_map *maps; /* in file order, each from where the previous ended */
  uint32_t n_maps;
  uint64_t cap_maps;
  int map_failed; /* mapping failed once: pread from now on */
} log_seg;

typedef struct log_stream {
  uint64_t *pos;     /* version v's position at index v - 1 (synced) */
  uint32_t *off;     /* its record's offset in its segment, or OFF_NONE */
  uint64_t n, cap;   /* synced versions, capacity of pos and off */
  uint64_t assigned; /* version counting queued batches */
  uint32_t id_len;
  uint32_t mark; /* index loading: 1 + the segment that last named it */
  uint32_t slot; /* index loading: its entry number in that segment */
  char id[];     /* "type\0key\0" */
} log_stream;

/* One append's records on their way to disk.
 *
 * Ownership: a batch belongs to the appender that made it (log_append()),
 * which frees it when it returns. While its state is B_WAIT it is lent to
 * the group commit: it sits in the store's queue and then in one leader's
 * group, and only that leader reads or writes it (and its appender only
 * reads `state`). The leader gives it back with one store to `state`
 * (B_DONE: here is your result; B_LEAD: you lead the next group): that
 * store is the leader's last access to the batch, whose appender may free
 * it the instant it sees the new state. Wakeups therefore go through words
 * of the store (`lead_word`, `done_word`), never through the batch. */
typedef struct log_batch {
  struct log_batch *next;
  uint8_t *buf;
  size_t len;
  uint64_t first, count;
  uint32_t n_groups;
  log_stream **st;        /* per group (NULL: check-only group, no stream) */
  uint32_t *cnt;          /* per group: events */
  size_t *rel;            /* per event: record offset in buf */
  _Atomic uint32_t state; /* B_WAIT, B_LEAD or B_DONE: see above */
  int rc;                 /* the append's result, set before B_DONE */
  int head;               /* first in the queue: the next leader */
  uint64_t group;         /* the group commit that takes it */
} log_batch;

enum { B_WAIT, B_LEAD, B_DONE };
#define GROUP_WORDS 4

typedef struct log_store {
  es_store base;
  pthread_mutex_t mu;
  pthread_cond_t grew;   /* synced appends and interrupts (monotonic) */
  pthread_cond_t synced; /* a batch's state changed (without futexes) */
  es__hashmap streams;
  uint64_t *sparse;    /* sparse[j]: the location of position j*IDX_K+1 */
  uint64_t cap_sparse; /* capacity of sparse */
  uint64_t n;          /* synced head */
  uint64_t assigned;   /* head counting queued batches */
  log_seg *segs;
  uint32_t n_segs;
  uint64_t cap_segs;
  log_batch *queue, **queue_tail;
  uint64_t group; /* number of the group commit that takes `queue` */
  _Atomic uint32_t done_word[GROUP_WORDS]; /* group g done: [g % 4]++ */
  _Atomic uint32_t lead_word; /* bumped when a next leader is named */
  int syncing;                /* a leader is writing, or one has been named */
  int failed;                 /* sticky write or sync error */
  uint64_t interrupts;
  uint64_t rng[4];
  int readonly;
  /* Read-only waiting (see ro_wait()): */
  int watch_fd;     /* inotify on the directory; -1: none (yet) */
  int wake_fd[2];   /* a pipe: es_store_interrupt() wakes the watcher */
  int watch_set;    /* set-up was tried */
  int watching;     /* a waiter polls watch_fd; the others wait on `grew` */
  const es__io *io; /* every file operation (store/io.h) */
  int dirfd, lockfd;
  uint64_t seg_limit;
  uint64_t map_min;   /* map the newest segment this many bytes at a time */
  uint64_t write_off; /* end of the newest segment; the leader's */
  uint64_t file_end;  /* its file's size (zeros past write_off); the leader's */
  es__cmd_index cmds; /* command id -> its append; guarded by mu */
  pthread_mutex_t blob_mu; /* serialises snapshot and checkpoint puts */
  uint64_t tmp_seq;
  char dir[PATH_MAX];
} log_store;

void (*es__store_log_pause)(int point);

/* ---- little-endian and I/O helpers ------------------------------------ */

/* The CRC of a record: over its length bytes and its body. */
static uint32_t frame_crc(const uint8_t *frame, uint32_t body_len) {
  return es__crc32c(es__crc32c(0, frame, 4), frame + FRAME, body_len);
}

/* Reads `len` bytes at `off` into `in`, or writes them from `out` (the
 * other one NULL), carrying on after EINTR and short transfers until all
 * are done or the file ends (a read or write of 0 bytes); the bytes done,
 * or -1 on an error. */
static int64_t transfer(const es__io *io, int fd, uint8_t *in,
                        const uint8_t *out, size_t len, uint64_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = in ? io->pread(fd, in + done, len - done, (off_t)off)
                   : io->pwrite(fd, out + done, len - done, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    done += (size_t)n;
    off += (uint64_t)n;
  }
  return (int64_t)done;
}

/* Reads exactly `len` bytes at `off`; ES_EIO on error or a short file. */
static int pread_all(const es__io *io, int fd, void *buf, size_t len,
                     uint64_t off) {
  return transfer(io, fd, buf, NULL, len, off) == (int64_t)len ? 0 : ES_EIO;
}

/* Reads up to `len` bytes at `off`, fewer only where the file ends; the
 * bytes read, or -1 on error. For readers beside a writer, which cuts the
 * zeros it wrote ahead when it closes or rolls (the file may shrink
 * between a reader's fstat and its read). */
static int64_t pread_upto(const es__io *io, int fd, void *buf, size_t len,
                          uint64_t off) {
  return transfer(io, fd, buf, NULL, len, off);
}

/* Writes exactly `len` bytes at `off`; ES_EIO on error or a short write. */
static int pwrite_all(const es__io *io, int fd, const void *buf, size_t len,
                      uint64_t off) {
  return transfer(io, fd, NULL, buf, len, off) == (int64_t)len ? 0 : ES_EIO;
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
  log_stream *st = es__malloc(sizeof *st + len + 1);
  if (!st)
    return NULL;
  st->pos = NULL;
  st->off = NULL;
  st->n = st->cap = st->assigned = 0;
  st->mark = st->slot = 0;
  memcpy(st->id, id, len);
  st->id[len] = '\0';
  st->id_len = (uint32_t)len;
  return st;
}

static void stream_free(log_stream *st) {
  if (!st)
    return;
  es__free(st->pos);
  es__free(st->off);
  es__free(st);
}

/* Grows `*v` (capacity `*cap`) to hold `need` u64s. */
static int grow_u64(uint64_t **v, uint64_t *cap, uint64_t need) {
  return es__grow_array(v, cap, need, sizeof **v);
}

/* Grows the stream's `pos` and `off` to hold `need` versions. */
static int stream_grow(log_stream *st, uint64_t need) {
  /* Both arrays double from the same capacity, so they end equal; when
   * `off` fails, `pos` is larger than cap says, which is harmless. Two
   * arrays, not one of a struct: 12 bytes a version instead of 16. */
  uint64_t cap_pos = st->cap, cap_off = st->cap;
  if (es__grow_array(&st->pos, &cap_pos, need, sizeof *st->pos) ||
      es__grow_array(&st->off, &cap_off, need, sizeof *st->off))
    return ES_ENOMEM;
  st->cap = cap_pos;
  return 0;
}

/* Appends version n + 1 at position `pos`, record offset `off`; the caller
 * has grown the stream. */
static void stream_push(log_stream *st, uint64_t pos, uint64_t off) {
  st->off[st->n] = off < OFF_NONE ? (uint32_t)off : OFF_NONE;
  st->pos[st->n++] = pos;
}

/* Sparse entries needed to cover positions 1 .. n. */
static uint64_t sparse_need(uint64_t n) { return (n + IDX_K - 1) / IDX_K; }

/* Records that position `pos` lives at `loc`, when it is a sparse one.
 * The caller has grown `sparse` to cover `pos`. */
static void sparse_note(log_store *s, uint64_t pos, uint64_t loc) {
  if ((pos - 1) % IDX_K == 0)
    s->sparse[(pos - 1) / IDX_K] = loc;
}

static int push_seg(log_store *s, uint64_t first, uint64_t size, int fd) {
  if (es__grow_array(&s->segs, &s->cap_segs, (uint64_t)s->n_segs + 1,
                     sizeof *s->segs))
    return ES_ENOMEM;
  memset(&s->segs[s->n_segs], 0, sizeof s->segs[s->n_segs]);
  s->segs[s->n_segs].first = first;
  s->segs[s->n_segs].size = size;
  s->segs[s->n_segs].fd = fd;
  s->n_segs++;
  return 0;
}

/* ---- scanning (open, read-only refresh) -------------------------------- */

/* Adds the command id (causation id) of the event body `b`, published at
 * `position`, to the command index. Returns 0 or ES_ENOMEM. */
static int note_command(log_store *s, const uint8_t *b, uint64_t position) {
  es_uuid id;
  memcpy(id.bytes, b + 69, 16);
  return es__cmd_index_note(&s->cmds, &id, position,
                            (es_timestamp)es__get64(b + 29),
                            es__store_now(&s->base));
}

typedef struct pend {
  log_stream *st;
  uint64_t off;
} pend;

/* Whether a frame with a valid CRC and a known kind starts at buf[o]. */
static int frame_at(const uint8_t *buf, uint64_t o, uint64_t len) {
  uint32_t bl;
  if (o + FRAME + COMMIT_BODY > len)
    return 0;
  bl = es__get32(buf + o);
  if (bl < COMMIT_BODY || bl > len - o - FRAME)
    return 0;
  if (buf[o + FRAME] != K_EVENT && buf[o + FRAME] != K_COMMIT)
    return 0;
  return frame_crc(buf + o, bl) == es__get32(buf + o + 4);
}

/* True when a frame with a valid CRC starts anywhere in buf[from, len). */
static int valid_frame_after(const uint8_t *buf, uint64_t from, uint64_t len) {
  for (uint64_t o = from; o + FRAME + COMMIT_BODY <= len; o++)
    if (frame_at(buf, o, len))
      return 1;
  return 0;
}

/* Whether buf[bad, len), damaged at `bad`, can only be what is left of
 * the unfinished batch whose first position is `next`: past the damage,
 * every valid record is an event of that batch (position `next` or later)
 * or that batch's commit record, and nothing valid follows the commit.
 * An append is acknowledged only after an fdatasync covering every byte
 * before it, so the pieces of the one batch whose sync did not complete
 * may reach the disk in any order (a later piece without an earlier one);
 * a valid commit record of any other batch after the damage means an
 * acknowledged batch may lie there, and the damage is not a torn tail. */
static int only_unfinished_batch(const uint8_t *buf, uint64_t bad, uint64_t len,
                                 uint64_t next) {
  for (uint64_t o = bad + 1; o + FRAME + COMMIT_BODY <= len; o++) {
    const uint8_t *b = buf + o + FRAME;
    uint32_t bl;
    if (!frame_at(buf, o, len))
      continue;
    bl = es__get32(buf + o);
    if (b[0] == K_EVENT) {
      if (bl < EV_FIXED || es__get64(b + 1) < next)
        return 0;
      o += FRAME + bl - 1; /* not inside its payload */
      continue;
    }
    if (bl != COMMIT_BODY || es__get64(b + 1) != next)
      return 0;
    return !valid_frame_after(buf, o + FRAME + bl, len);
  }
  return 1;
}

/* The stream the event body `b` (`bl` bytes, at least EV_FIXED) names,
 * found or, when new, created. Returns 0, 1 when its type or key is
 * malformed (a bad length, a NUL, past `bl`), or ES_ENOMEM. */
static int body_stream(log_store *s, const uint8_t *b, uint32_t bl,
                       log_stream **out) {
  uint32_t tl = es__get16(b + 85), kl = es__get16(b + 87);
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  log_stream *st;

  if (tl < 1 || tl > ES_STREAM_TYPE_MAX || kl < 1 || kl > ES_KEY_MAX ||
      (uint64_t)EV_FIXED + tl + kl > bl ||
      memchr(b + EV_FIXED, 0, (size_t)tl + kl) != NULL)
    return 1;
  memcpy(id, b + EV_FIXED, tl);
  id[tl] = '\0';
  memcpy(id + tl + 1, b + EV_FIXED + tl, kl);
  st = find_stream(s, id, (size_t)tl + 1 + kl);
  if (!st) {
    st = stream_new(id, (size_t)tl + 1 + kl);
    if (!st || es__hashmap_put(&s->streams, st->id, st->id_len, st) != 0) {
      stream_free(st);
      return ES_ENOMEM;
    }
  }
  *out = st;
  return 0;
}

/* Parses the event body at `b` (length `bl`, CRC already good) and finds or
 * creates its stream. Returns 0 or ES_ECORRUPT (well-formed CRC, bad
 * content), ES_ENOMEM. */
static int scan_event(log_store *s, const uint8_t *b, uint32_t bl,
                      uint64_t want_pos, log_stream **out) {
  log_stream *st;
  int rc;

  if (bl < EV_FIXED || es__get64(b + 1) != want_pos ||
      (uint64_t)EV_FIXED + es__get16(b + 85) + es__get16(b + 87) +
              es__get32(b + 89) !=
          bl)
    return ES_ECORRUPT;
  if ((rc = body_stream(s, b, bl, &st)) != 0)
    return rc == 1 ? ES_ECORRUPT : rc;
  if (es__get64(b + 9) != st->assigned + 1)
    return ES_ECORRUPT;
  st->assigned++;
  *out = st;
  return 0;
}

/* Before a tail is cut for good: reads the `len` bytes at `from` again
 * and returns ES_EIO when they differ from `buf`. A read that returned
 * flipped bits once makes an intact last batch look torn; cutting it would
 * lose an acknowledged append, so an unstable read fails the open instead
 * (a retry, or an operator, decides). */
static int read_again(log_store *s, int fd, const uint8_t *buf, uint64_t len,
                      uint64_t from) {
  uint8_t *again = es__malloc(len ? (size_t)len : 1);
  int rc;
  if (!again)
    return ES_ENOMEM;
  rc = pread_all(s->io, fd, again, (size_t)len, from);
  if (rc == 0 && memcmp(again, buf, (size_t)len) != 0)
    rc = ES_EIO;
  es__free(again);
  return rc;
}

/* A segment being scanned: its bytes from `from`, and the events of the
 * batch whose commit record has not been met yet. */
typedef struct seg_scan {
  uint8_t *buf;
  uint64_t from, len; /* buf holds the segment's bytes [from, from + len) */
  uint64_t off;       /* where reading stopped (len: at the end) */
  uint64_t good;      /* end of the last whole batch, relative to from */
  int bad_frame;      /* stopped at a bad frame (not a short one) */
  pend *pv;
  uint64_t npend, cap_pend;
} seg_scan;

/* Whether the newest segment `g` (its file `size` bytes, its header bad)
 * holds any valid record, read twice to be sure. A roll writes and syncs
 * the header before any batch goes into the segment, so a header that
 * never became durable has no record after it. Returns 0 (none), 1, or
 * ES_EIO (the two reads differ, or one failed), ES_ENOMEM. */
static int holds_records(log_store *s, log_seg *g, uint64_t size) {
  uint8_t *buf = size < SIZE_MAX ? es__malloc((size_t)size) : NULL;
  int rc;

  if (!buf)
    return ES_ENOMEM;
  rc = pread_all(s->io, g->fd, buf, (size_t)size, 0);
  if (rc == 0)
    rc = read_again(s, g->fd, buf, size, 0);
  if (rc == 0)
    rc = valid_frame_after(buf, 0, size);
  es__free(buf);
  return rc;
}

/* Checks the header of segment `g` (its file is `size` bytes). The newest
 * segment's header may be torn (short, or a piece of its write missing)
 * when a roll died before it was durable, and then nothing follows it: a
 * writer writes it again. Returns 0 (records follow), 1 (nothing more to
 * scan), or ES_ECORRUPT, ES_EIO, ES_ENOMEM. */
static int scan_header(log_store *s, log_seg *g, uint64_t size, int last,
                       es_store_open_report *rep) {
  uint8_t h[SEG_HDR];
  int rc;

  if (size >= SEG_HDR) {
    if (pread_all(s->io, g->fd, h, SEG_HDR, 0) != 0)
      return ES_EIO;
    if (memcmp(h, SEG_MAGIC, 8) == 0 && es__get64(h + 8) == g->first &&
        g->first == s->n + 1)
      return 0;
    rc = last && g->first == s->n + 1 ? holds_records(s, g, size) : 1;
    if (rc == 1)
      return report(rep, ES_ECORRUPT, g->first, 0,
                    "corrupt store: %s/%s: bad segment header at offset "
                    "%" PRIu64,
                    s->dir);
    if (rc)
      return rc;
  } else if (!last) {
    return report(rep, ES_ECORRUPT, g->first, 0,
                  "corrupt store: %s/%s: short header at offset %" PRIu64,
                  s->dir);
  }
  if (s->readonly)
    return 1; /* being created, or torn: the writer's next open */
  if (rep)
    rep->dropped_bytes += size;
  memcpy(h, SEG_MAGIC, 8);
  es__put64(h + 8, g->first);
  if (s->io->ftruncate(g->fd, 0) != 0 ||
      pwrite_all(s->io, g->fd, h, SEG_HDR, 0) || s->io->fdatasync(g->fd) != 0)
    return ES_EIO;
  report(rep, 0, g->first, 0,
         "store %s: %s: torn segment header rewritten at offset %" PRIu64
         " (%" PRIu64 " bytes dropped)",
         s->dir);
  g->size = SEG_HDR;
  return 1;
}

/* Keeps the event record at `off` (of stream `st`) until its batch's
 * commit record. Returns 0 or ES_ENOMEM. */
static int scan_pend(seg_scan *sc, log_stream *st, uint64_t off) {
  if (es__grow_array(&sc->pv, &sc->cap_pend, sc->npend + 1, sizeof *sc->pv))
    return ES_ENOMEM;
  sc->pv[sc->npend].st = st;
  sc->pv[sc->npend].off = off;
  sc->npend++;
  return 0;
}

/* A commit record closed the pending batch: adds its events (of segment
 * `si`) to the index. Returns 0 or ES_ENOMEM. */
static int scan_commit(log_store *s, uint32_t si, seg_scan *sc) {
  if (grow_u64(&s->sparse, &s->cap_sparse, sparse_need(s->n + sc->npend)))
    return ES_ENOMEM;
  for (uint64_t i = 0; i < sc->npend; i++) {
    log_stream *st = sc->pv[i].st;
    uint64_t off = sc->pv[i].off;
    if (stream_grow(st, st->n + 1) != 0)
      return ES_ENOMEM;
    stream_push(st, s->n + 1, off);
    sparse_note(s, s->n + 1, (uint64_t)si << LOC_SHIFT | off);
    s->n++;
    if (note_command(s, sc->buf + (off - sc->from) + FRAME, s->n) != 0)
      return ES_ENOMEM;
  }
  s->assigned = s->n;
  sc->npend = 0;
  return 0;
}

/* Reads the records of `sc` in order, indexing each committed batch,
 * until the end or the first bad frame (`sc->off`). A valid frame with bad
 * content is damage, never a torn write: ES_ECORRUPT (reported). Returns 0
 * or ES_ECORRUPT, ES_ENOMEM. */
static int scan_records(log_store *s, uint32_t si, seg_scan *sc,
                        es_store_open_report *rep) {
  const uint64_t first = s->segs[si].first;

  for (sc->off = 0; sc->off < sc->len;) {
    const uint8_t *frame = sc->buf + sc->off, *b = frame + FRAME;
    uint64_t at = sc->from + sc->off;
    uint32_t bl;
    int rc;
    if (sc->len - sc->off < FRAME)
      return 0; /* a short frame */
    bl = es__get32(frame);
    if (bl < COMMIT_BODY || bl > MAX_BODY || bl > sc->len - sc->off - FRAME ||
        frame_crc(frame, bl) != es__get32(frame + 4)) {
      sc->bad_frame = 1;
      return 0;
    }
    if (b[0] == K_EVENT) {
      log_stream *st = NULL;
      rc = scan_event(s, b, bl, s->n + sc->npend + 1, &st);
      if (rc == ES_ECORRUPT)
        return report(rep, rc, first, at,
                      "corrupt store: %s/%s: bad event record at offset "
                      "%" PRIu64,
                      s->dir);
      if (rc == 0)
        rc = scan_pend(sc, st, at);
      if (rc)
        return rc;
      if (rep)
        rep->events_scanned++;
    } else if (b[0] == K_COMMIT && bl == COMMIT_BODY && sc->npend > 0 &&
               es__get64(b + 1) == s->n + 1 && es__get32(b + 9) == sc->npend) {
      if ((rc = scan_commit(s, si, sc)) != 0)
        return rc;
      sc->good = sc->off + FRAME + bl;
    } else {
      return report(rep, ES_ECORRUPT, first, at,
                    "corrupt store: %s/%s: bad record at offset %" PRIu64,
                    s->dir);
    }
    sc->off += FRAME + bl;
  }
  return 0;
}

/* What follows the last whole batch of the segment (`sc->good`) is not a
 * batch: in the newest segment, the unacknowledged remains of the batch
 * being written when the writer or the machine died, cut back by a writer
 * (after reading it again: a flipped bit in one read must not make an
 * intact batch look torn) and reported; anywhere else, or when an
 * acknowledged batch may follow the damage, ES_ECORRUPT. */
static int cut_tail(log_store *s, log_seg *g, seg_scan *sc, int last,
                    es_store_open_report *rep) {
  uint64_t bad = sc->off < sc->len ? sc->off : sc->good;
  int rc;

  if (!last || (sc->bad_frame &&
                !only_unfinished_batch(sc->buf, bad, sc->len, s->n + 1))) {
    return report(rep, ES_ECORRUPT, g->first, sc->from + bad,
                  "corrupt store: %s/%s: damaged record at offset %" PRIu64
                  " followed by valid data",
                  s->dir);
  }
  g->size = sc->from + sc->good;
  if (s->readonly)
    return 0;
  if ((rc = read_again(s, g->fd, sc->buf, sc->len, sc->from)) != 0)
    return rc;
  if (s->io->ftruncate(g->fd, (off_t)g->size) != 0 ||
      s->io->fdatasync(g->fd) != 0)
    return ES_EIO;
  if (rep)
    rep->dropped_bytes += sc->len - sc->good;
  report(rep, 0, g->first, g->size,
         "store %s: %s: torn tail cut back to offset %" PRIu64 " (%" PRIu64
         " bytes dropped)",
         s->dir);
  return 0;
}

/* The end of what buf[0, len) holds past the last whole batch (at
 * `good`): `good` when only zeros follow it (written ahead of the records,
 * see zero_ahead()), else `len`: a tail to cut, zeros and all. */
static uint64_t zero_trimmed(const uint8_t *buf, uint64_t good, uint64_t len) {
  for (uint64_t o = good; o < len; o++)
    if (buf[o])
      return len;
  return good;
}

/* Scans segment `si` from `from` (0: check the header first) to its end,
 * adding every committed batch to the index; sets the segment's size to the
 * end of the last whole batch. A writer cuts a torn tail of the newest
 * segment (`last`) and reports it; damage that may hide an acknowledged
 * batch, or any damage in an older segment, is ES_ECORRUPT. Caller holds
 * `mu` (or is opening). */
static int scan_seg(log_store *s, uint32_t si, uint64_t from, int last,
                    es_store_open_report *rep) {
  log_seg *g = &s->segs[si];
  seg_scan sc;
  struct stat sb;
  int rc;

  if (s->io->fstat(g->fd, &sb) != 0)
    return ES_EIO;
  if (from == 0) {
    rc = scan_header(s, g, (uint64_t)sb.st_size, last, rep);
    if (rc)
      return rc == 1 ? 0 : rc;
    from = SEG_HDR;
  }
  if ((uint64_t)sb.st_size < from)
    return report(rep, ES_ECORRUPT, g->first, from,
                  "corrupt store: %s/%s: file shrank below offset %" PRIu64,
                  s->dir);
  memset(&sc, 0, sizeof sc);
  sc.from = from;
  sc.len = (uint64_t)sb.st_size - from;
  if (sc.len > SIZE_MAX - 1)
    return ES_ENOMEM;
  if (!(sc.buf = es__malloc(sc.len ? (size_t)sc.len : 1)))
    return ES_ENOMEM;
  if (s->readonly) { /* the writer may cut zeros meanwhile */
    int64_t got = pread_upto(s->io, g->fd, sc.buf, (size_t)sc.len, from);
    rc = got < 0 ? ES_EIO : 0;
    sc.len = got < 0 ? 0 : (uint64_t)got;
  } else {
    rc = pread_all(s->io, g->fd, sc.buf, (size_t)sc.len, from) ? ES_EIO : 0;
  }
  if (rc == 0)
    rc = scan_records(s, si, &sc, rep);
  /* Events of an unfinished batch do not count. */
  for (uint64_t i = 0; i < sc.npend; i++)
    sc.pv[i].st->assigned = sc.pv[i].st->n;
  if (last) /* zeros written ahead of the records are no part of a tail */
    sc.len = zero_trimmed(sc.buf, sc.good, sc.len);
  if (rc == 0 && sc.good == sc.len)
    g->size = from + sc.len;
  else if (rc == 0)
    rc = cut_tail(s, g, &sc, last, rep);
  es__free(sc.pv);
  es__free(sc.buf);
  return rc;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The segment numbers being listed. */
typedef struct seg_list {
  uint64_t *v, cap;
  uint32_t k;
} seg_list;

/* Adds `name`'s number to the list when it names a segment. */
static int list_seg(const char *name, void *ctx) {
  seg_list *l = ctx;
  uint64_t num = 0;
  int ok = strlen(name) == 24 && strcmp(name + 20, ".seg") == 0;
  for (int i = 0; ok && i < 20; i++) {
    if (name[i] < '0' || name[i] > '9' || num > (UINT64_MAX - 9) / 10)
      ok = 0;
    else
      num = num * 10 + (uint64_t)(name[i] - '0');
  }
  if (!ok)
    return 0;
  if (grow_u64(&l->v, &l->cap, (uint64_t)l->k + 1) != 0)
    return ES_ENOMEM;
  l->v[l->k++] = num;
  return 0;
}

/* Lists the segment numbers in the directory, sorted, into `*out`. */
static int list_segs(log_store *s, uint64_t **out, uint32_t *n) {
  seg_list l = {NULL, 0, 0};
  int rc = s->io->list(s->dirfd, list_seg, &l);

  *out = NULL;
  *n = 0;
  if (rc) {
    es__free(l.v);
    return rc == -1 ? ES_EIO : rc; /* -1: the listing; else list_seg's */
  }
  if (l.k)
    qsort(l.v, l.k, sizeof *l.v, cmp_u64);
  *out = l.v;
  *n = l.k;
  return 0;
}

static int open_seg(log_store *s, uint64_t first, int writable) {
  char name[32];
  int fd;
  seg_name(name, first);
  fd = s->io->openat(s->dirfd, name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC,
                     0);
  if (fd < 0)
    return ES_EIO;
  if (push_seg(s, first, 0, fd) != 0) {
    s->io->close(fd);
    return ES_ENOMEM;
  }
  return 0;
}

/* ---- index files ----------------------------------------------------------
 *
 * NNNN.idx, all little-endian:
 *   0  "ESLOGIX1"
 *   8  u32 CRC32C of every byte from offset 12 to the end
 *  12  u32 IDX_K (the sparse step it was written with)
 *  16  u64 the segment's first position
 *  24  u64 its event count
 *  32  u64 its size in bytes (the end of its last batch)
 *  40  u32 streams, u32 sparse locations
 *  48  the segment offsets of its positions j*IDX_K+1, ascending (u64 each)
 *      then per stream: u16 type length, u16 key length, u32 count,
 *      u64 version of its first event in the segment, type, key, and
 *      `count` ascending u32 positions relative to the segment's first.
 */

static void idx_name(char out[32], uint64_t first) {
  snprintf(out, 32, "%020" PRIu64 ".idx", first);
}

static void cmd_name(char out[32], uint64_t first) {
  snprintf(out, 32, "%020" PRIu64 ".cmd", first);
}

/* The sparse indices j with j*IDX_K+1 in [first, end): [*jlo, *jhi). */
static void sparse_range(uint64_t first, uint64_t end, uint64_t *jlo,
                         uint64_t *jhi) {
  *jlo = sparse_need(first - 1);
  *jhi = sparse_need(end - 1);
  if (*jhi < *jlo)
    *jhi = *jlo;
}

/* The first i in pos[0 .. n) with pos[i] >= p (n when none). */
static uint64_t lower_bound(const uint64_t *pos, uint64_t n, uint64_t p) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (pos[mid] < p)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Encodes the index of sealed segment `si`, whose events are positions
 * [first, end), into a new buffer `*out` of `*len` bytes (the caller frees
 * it). Caller holds `mu` (or is opening). Returns 0, ES_ENOMEM, or
 * ES_ETOOBIG / ES_ECORRUPT when the segment cannot have an index (more
 * than 2^32 events; a location not in the segment). */
static int index_build(const log_store *s, uint32_t si, uint64_t end,
                       uint8_t **out, size_t *len) {
  const log_seg *g = &s->segs[si];
  uint64_t count = end - g->first, jlo, jhi, size, n_streams = 0;
  size_t i, at;
  uint8_t *buf, *p;
  log_stream *st;

  *out = NULL;
  *len = 0;
  if (count > UINT32_MAX)
    return ES_ETOOBIG;
  sparse_range(g->first, end, &jlo, &jhi);
  size = IDX_HDR + (jhi - jlo) * 8;
  for (i = 0; (st = es__hashmap_next(&s->streams, &i)) != NULL;) {
    uint64_t a = lower_bound(st->pos, st->n, g->first),
             b = lower_bound(st->pos, st->n, end);
    if (a < b) {
      n_streams++;
      size += IDX_STREAM + st->id_len - 1 + (b - a) * 8;
    }
  }
  if (n_streams > UINT32_MAX || size > SIZE_MAX)
    return ES_ETOOBIG;
  buf = es__malloc((size_t)size);
  if (!buf)
    return ES_ENOMEM;
  memcpy(buf, IDX_MAGIC, 8);
  es__put32(buf + 12, IDX_K);
  es__put64(buf + 16, g->first);
  es__put64(buf + 24, count);
  es__put64(buf + 32, g->size);
  es__put32(buf + 40, (uint32_t)n_streams);
  es__put32(buf + 44, (uint32_t)(jhi - jlo));
  p = buf + IDX_HDR;
  for (uint64_t j = jlo; j < jhi; j++, p += 8) {
    if (s->sparse[j] >> LOC_SHIFT != si) {
      es__free(buf);
      return ES_ECORRUPT;
    }
    es__put64(p, s->sparse[j] & LOC_MASK);
  }
  for (i = 0; (st = es__hashmap_next(&s->streams, &i)) != NULL;) {
    uint64_t a = lower_bound(st->pos, st->n, g->first),
             b = lower_bound(st->pos, st->n, end);
    uint32_t tl;
    if (a >= b)
      continue;
    tl = (uint32_t)strlen(st->id);
    es__put16(p, tl);
    es__put16(p + 2, st->id_len - tl - 1);
    es__put32(p + 4, (uint32_t)(b - a));
    es__put64(p + 8, a + 1);
    memcpy(p + IDX_STREAM, st->id, tl);
    memcpy(p + IDX_STREAM + tl, st->id + tl + 1, st->id_len - tl - 1);
    p += IDX_STREAM + st->id_len - 1;
    for (uint64_t k = a; k < b; k++, p += 4)
      es__put32(p, (uint32_t)(st->pos[k] - g->first));
    for (uint64_t k = a; k < b; k++, p += 4)
      es__put32(p, st->off[k]);
  }
  at = (size_t)(p - buf);
  es__put32(buf + 8, es__crc32c(0, buf + 12, at - 12));
  *out = buf;
  *len = at;
  return 0;
}

/* Writes the index image `buf` (of a segment, or of its command ids) as
 * file `name` atomically: tmp-idx-name, fdatasync, rename over name, fsync
 * of the directory. A crash at any point leaves the old file, no file, or the
 * whole new one (and maybe a tmp- file, removed at the next writer open).
 * Returns 0 or ES_EIO. */
static int index_write(log_store *s, const char *name, const uint8_t *buf,
                       size_t len) {
  char tmp[48];
  int fd;

  snprintf(tmp, sizeof tmp, "tmp-idx-%s", name);
  fd = s->io->openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                     0644);
  if (fd < 0)
    return ES_EIO;
  if (pwrite_all(s->io, fd, buf, len, 0) != 0 || s->io->fdatasync(fd) != 0)
    goto fail;
  s->io->close(fd);
  fd = -1;
  if (s->io->renameat(s->dirfd, tmp, s->dirfd, name) != 0 ||
      s->io->fsync(s->dirfd) != 0)
    goto fail;
  return 0;

fail:
  if (fd >= 0)
    s->io->close(fd);
  s->io->unlinkat(s->dirfd, tmp, 0);
  return ES_EIO;
}

/* Writes N.cmd: the command ids of sealed segment `si` (events [first,
 * end)) from the command index. Best effort, like the segment's index. */
static int cmd_save(log_store *s, uint32_t si, uint64_t end) {
  char name[32];
  uint8_t *buf;
  size_t len;
  int rc = es__cmd_index_image(&s->cmds, s->segs[si].first, end, &buf, &len);
  cmd_name(name, s->segs[si].first);
  if (rc == 0)
    rc = index_write(s, name, buf, len);
  es__free(buf);
  return rc;
}

/* Builds and writes the index of sealed segment `si` (events [first, end))
 * and its command ids.
 * Best effort: returns 0 or the error, which costs only a scan at the next
 * open. Caller is opening (no lock needed). */
static int index_save(log_store *s, uint32_t si, uint64_t end) {
  char name[32];
  uint8_t *buf;
  size_t len;
  int rc = index_build(s, si, end, &buf, &len);
  idx_name(name, s->segs[si].first);
  if (rc == 0)
    rc = index_write(s, name, buf, len);
  es__free(buf);
  if (rc == 0)
    rc = cmd_save(s, si, end);
  return rc;
}

/* Reads all of file `name` into `*buf` (capacity `*cap`, grown as needed)
 * when it is at least `min` and at most `max` bytes. Returns its length, or
 * 0 when it is missing, unreadable or out of bounds; -1 on ES_ENOMEM. */
static int64_t read_small(log_store *s, const char *name, uint8_t **buf,
                          size_t *cap, uint64_t min, uint64_t max) {
  struct stat sb;
  int64_t r = 0;
  int fd = s->io->openat(s->dirfd, name, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    return 0;
  if (s->io->fstat(fd, &sb) != 0 || (uint64_t)sb.st_size < min ||
      (uint64_t)sb.st_size > max || (uint64_t)sb.st_size > SIZE_MAX ||
      sb.st_size > INT64_MAX)
    goto done;
  if ((size_t)sb.st_size > *cap) {
    uint8_t *p = es__realloc(*buf, (size_t)sb.st_size);
    if (!p) {
      r = -1;
      goto done;
    }
    *buf = p;
    *cap = (size_t)sb.st_size;
  }
  if (pread_all(s->io, fd, *buf, (size_t)sb.st_size, 0) == 0)
    r = (int64_t)sb.st_size;
done:
  s->io->close(fd);
  return r;
}

/* The streams of the index loaded last, in its order. Index files written
 * by one writer list their streams in the same (hash table) order, so the
 * stream after the one last matched is a good guess for the next entry,
 * which saves hashing and probing for most of them. */
typedef struct idx_hint {
  log_stream **prev; /* entries of segment `seg` (NULL: none) */
  uint32_t n_prev, seg, cursor;
} idx_hint;

/* Finds the stream `id` (`len` bytes), first as the hint's guess. */
static log_stream *hinted_stream(log_store *s, idx_hint *h, uint32_t si,
                                 const char *id, size_t len) {
  log_stream *st = NULL;
  if (h->prev && h->seg + 1 == si && h->cursor < h->n_prev) {
    st = h->prev[h->cursor];
    if (st->id_len != len || memcmp(st->id, id, len) != 0)
      st = NULL;
  }
  if (!st) {
    st = find_stream(s, id, len);
    if (!st)
      return NULL;
    if (st->mark != si) /* not in the previous index: keep the cursor */
      return st;
    h->cursor = st->slot; /* resynchronise */
  }
  h->cursor++;
  return st;
}

/* Checks the stream entries of index image `b` (`len` bytes, header
 * already checked; entries from `at`) against the segment's `count`
 * events and the streams loaded so far, finding or creating each stream
 * (empty) into `sts`. Returns 0, 1 when the image does not fit (nothing
 * loaded then, beyond empty streams, which read like absent ones), or
 * ES_ENOMEM. */
static int index_check(log_store *s, uint32_t si, const uint8_t *b, size_t len,
                       size_t at, uint64_t count, uint64_t size,
                       log_stream **sts, uint32_t n_streams, idx_hint *h) {
  uint8_t *seen = es__calloc((size_t)(count / 8 + 1), 1);
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  uint64_t total = 0;
  int rc = 1;

  if (!seen)
    return ES_ENOMEM;
  for (uint32_t e = 0; e < n_streams; e++) {
    uint32_t tl, kl, cnt;
    uint64_t prev = 0;
    log_stream *st;

    if (len - at < IDX_STREAM)
      goto done;
    tl = es__get16(b + at);
    kl = es__get16(b + at + 2);
    cnt = es__get32(b + at + 4);
    if (tl < 1 || tl > ES_STREAM_TYPE_MAX || kl < 1 || kl > ES_KEY_MAX ||
        cnt < 1 || cnt > count - total ||
        (uint64_t)(len - at - IDX_STREAM) < tl + kl + (uint64_t)cnt * 8 ||
        memchr(b + at + IDX_STREAM, 0, (size_t)tl + kl) != NULL)
      goto done;
    memcpy(id, b + at + IDX_STREAM, tl);
    id[tl] = '\0';
    memcpy(id + tl + 1, b + at + IDX_STREAM + tl, kl);
    st = hinted_stream(s, h, si, id, (size_t)tl + 1 + kl);
    if (!st) {
      st = stream_new(id, (size_t)tl + 1 + kl);
      if (!st || es__hashmap_put(&s->streams, st->id, st->id_len, st) != 0) {
        stream_free(st);
        rc = ES_ENOMEM;
        goto done;
      }
    }
    if (st->mark == si + 1 || es__get64(b + at + 8) != st->n + 1)
      goto done; /* named twice, or not where the stream stands */
    st->mark = si + 1;
    st->slot = e;
    sts[e] = st;
    at += IDX_STREAM + tl + kl;
    for (uint32_t k = 0; k < cnt; k++, at += 4) {
      uint32_t d = es__get32(b + at);
      if (d >= count || (k && d <= prev) || (seen[d / 8] >> (d % 8)) & 1)
        goto done;
      seen[d / 8] |= (uint8_t)(1u << (d % 8));
      prev = d;
    }
    for (uint32_t k = 0; k < cnt; k++, at += 4) {
      uint32_t o = es__get32(b + at);
      if (o != OFF_NONE && (o < SEG_HDR || o >= size))
        goto done;
    }
    total += cnt;
  }
  if (at == len && total == count)
    rc = 0;
done:
  es__free(seen);
  return rc;
}

/* Loads the index of sealed segment `si` (the next one to load: its first
 * position must be n + 1) when it is usable: a whole file with a good CRC,
 * the same sparse step, the segment's first position, header and exact
 * size, positions that reach the next segment's first, and streams that
 * continue where they stand. `*loaded` says whether it was. `*buf`/`*cap`
 * are a reusable read buffer; `h` carries this index's streams to the
 * next load. Returns 0 or ES_ENOMEM. */
static int index_load(log_store *s, uint32_t si, uint8_t **buf, size_t *cap,
                      idx_hint *h, int *loaded) {
  log_seg *g = &s->segs[si];
  char name[32];
  uint8_t hdr[SEG_HDR];
  struct stat sb;
  uint64_t count, size, jlo, jhi, prev = 0, max;
  uint32_t n_streams;
  log_stream **sts = NULL;
  const uint8_t *b;
  size_t at;
  int64_t len;
  int rc;

  *loaded = 0;
  if (si + 1 >= s->n_segs || g->first != s->n + 1 ||
      s->io->fstat(g->fd, &sb) != 0)
    return 0;
  size = (uint64_t)sb.st_size;
  if (size < SEG_HDR)
    return 0;
  /* Bounds on the file from the segment's size: at most one event per
   * MIN_EVENT_REC bytes, each naming at most one stream. */
  count = (size - SEG_HDR) / MIN_EVENT_REC;
  max = IDX_HDR + (count / IDX_K + 2) * 8 +
        count * (IDX_STREAM + ES_STREAM_TYPE_MAX + ES_KEY_MAX + 8);
  idx_name(name, g->first);
  len = read_small(s, name, buf, cap, IDX_HDR, max);
  if (len < 0)
    return ES_ENOMEM;
  if (len == 0)
    return 0;
  b = *buf;
  count = es__get64(b + 24);
  n_streams = es__get32(b + 40);
  if (memcmp(b, IDX_MAGIC, 8) != 0 ||
      es__get32(b + 8) != es__crc32c(0, b + 12, (size_t)len - 12) ||
      es__get32(b + 12) != IDX_K || es__get64(b + 16) != g->first ||
      es__get64(b + 32) != size || count > (size - SEG_HDR) / MIN_EVENT_REC ||
      s->segs[si + 1].first != g->first + count || n_streams > count)
    return 0;
  sparse_range(g->first, g->first + count, &jlo, &jhi);
  if (es__get32(b + 44) != jhi - jlo ||
      (uint64_t)len - IDX_HDR < (jhi - jlo) * 8)
    return 0;
  for (uint64_t j = 0; j < jhi - jlo; j++) {
    uint64_t off = es__get64(b + IDX_HDR + j * 8);
    if (off < SEG_HDR || off >= size || (j && off <= prev))
      return 0;
    prev = off;
  }
  if (pread_all(s->io, g->fd, hdr, SEG_HDR, 0) != 0 ||
      memcmp(hdr, SEG_MAGIC, 8) != 0 || es__get64(hdr + 8) != g->first)
    return 0;
  at = IDX_HDR + (size_t)(jhi - jlo) * 8;
  sts = es__malloc((n_streams ? n_streams : 1) * sizeof *sts);
  if (!sts)
    return ES_ENOMEM;
  rc = index_check(s, si, b, (size_t)len, at, count, size, sts, n_streams, h);
  if (rc) {
    es__free(sts);
    return rc == 1 ? 0 : rc;
  }
  es__free(h->prev);
  h->prev = sts; /* kept for the next load's guesses */
  h->n_prev = n_streams;
  h->seg = si;
  h->cursor = 0;

  /* It fits: apply it. Only ES_ENOMEM can fail now, failing the open. */
  if (grow_u64(&s->sparse, &s->cap_sparse, sparse_need(g->first + count - 1)))
    return ES_ENOMEM;
  for (uint64_t j = jlo; j < jhi; j++)
    s->sparse[j] =
        (uint64_t)si << LOC_SHIFT | es__get64(b + IDX_HDR + (j - jlo) * 8);
  for (uint32_t e = 0; e < n_streams; e++) {
    log_stream *st = sts[e];
    uint32_t tl = es__get16(b + at), kl = es__get16(b + at + 2),
             cnt = es__get32(b + at + 4);
    at += IDX_STREAM + tl + kl;
    if (stream_grow(st, st->n + cnt) != 0)
      return ES_ENOMEM;
    for (uint32_t k = 0; k < cnt; k++, at += 4)
      stream_push(st, g->first + es__get32(b + at),
                  es__get32(b + at + 4 * cnt));
    at += 4 * (size_t)cnt;
    st->assigned = st->n;
  }
  s->n += count;
  s->assigned = s->n;
  g->size = size;
  *loaded = 1;
  return 0;
}

/* Notes the command ids of sealed segment `si` (events [first, end), its
 * index loaded) by walking its records. Returns 0, ES_ENOMEM, or EIO /
 * ES_ECORRUPT for a segment that does not read as its index said. */
static int cmd_scan(log_store *s, uint32_t si, uint64_t end) {
  const log_seg *g = &s->segs[si];
  uint64_t len = g->size - SEG_HDR, off = 0, pos = g->first;
  uint8_t *buf = len < SIZE_MAX ? es__malloc(len ? (size_t)len : 1) : NULL;
  int rc = 0;

  if (!buf)
    return ES_ENOMEM;
  if (pread_all(s->io, g->fd, buf, (size_t)len, SEG_HDR) != 0)
    rc = ES_EIO;
  while (rc == 0 && off + FRAME <= len) {
    uint32_t bl = es__get32(buf + off);
    const uint8_t *b = buf + off + FRAME;
    if (bl < COMMIT_BODY || bl > len - off - FRAME ||
        frame_crc(buf + off, bl) != es__get32(buf + off + 4))
      rc = ES_ECORRUPT;
    else if (b[0] == K_EVENT && (bl < EV_FIXED || es__get64(b + 1) != pos++))
      rc = ES_ECORRUPT;
    else if (b[0] == K_EVENT)
      rc = note_command(s, b, pos - 1);
    off += FRAME + bl;
  }
  if (rc == 0 && pos != end)
    rc = ES_ECORRUPT;
  es__free(buf);
  return rc;
}

/* Notes the command ids of sealed segment `si`, whose index was loaded:
 * from its N.cmd when that is whole and describes the segment, else from
 * its records (and a writer writes the N.cmd again). Damage met there is
 * left to the read that meets it, as for the rest of an indexed segment.
 * Returns 0 or ES_ENOMEM. */
static int cmd_load(log_store *s, uint32_t si, uint8_t **buf, size_t *cap) {
  const log_seg *g = &s->segs[si];
  uint64_t end = s->segs[si + 1].first;
  char name[32];
  int64_t len;
  int rc;

  cmd_name(name, g->first);
  len = read_small(s, name, buf, cap, 1, (uint64_t)64 << 20);
  if (len < 0)
    return ES_ENOMEM;
  rc = len ? es__cmd_index_load(&s->cmds, *buf, (size_t)len, g->first, end,
                                es__store_now(&s->base))
           : 1;
  if (rc != 1)
    return rc;
  rc = cmd_scan(s, si, end);
  if (rc == 0 && !s->readonly)
    (void)cmd_save(s, si, end);
  return rc == ES_ENOMEM ? rc : 0;
}

/* Removes the tmp- files a dead writer left (only a writer makes them, and
 * the caller holds the lock). Best effort. */
static int remove_one_tmp(const char *name, void *ctx) {
  log_store *s = ctx;
  if (strncmp(name, "tmp-", 4) == 0)
    s->io->unlinkat(s->dirfd, name, 0);
  return 0;
}

static void remove_tmp(log_store *s) {
  (void)s->io->list(s->dirfd, remove_one_tmp, s);
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
  es__free(nums);
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
  fd = s->io->openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                     0644);
  if (fd < 0)
    return ES_EIO;
  memcpy(h, SEG_MAGIC, 8);
  es__put64(h + 8, first);
  if (pwrite_all(s->io, fd, h, SEG_HDR, 0) != 0 || s->io->fsync(fd) != 0 ||
      s->io->fsync(s->dirfd) != 0) {
    s->io->close(fd);
    return ES_EIO;
  }
  pthread_mutex_lock(&s->mu);
  rc = push_seg(s, first, SEG_HDR, fd);
  pthread_mutex_unlock(&s->mu);
  if (rc) {
    s->io->close(fd);
    return rc;
  }
  s->write_off = s->file_end = SEG_HDR;
  return 0;
}

/* Cuts the zeros past the records of the newest segment. With `sync`
 * (before a roll makes it a sealed segment, which must end with its last
 * batch: recovery accepts zeros only at the end of the newest segment),
 * always, and durably: a cut made earlier without a sync (a close), even
 * by another process, may not have reached the disk. Without (a close):
 * only when there are zeros, best effort. Only the leader (or the closer)
 * calls this. Returns 0 or ES_EIO. */
static int cut_zeros(log_store *s, int fd, int sync) {
  if (!sync && s->file_end <= s->write_off)
    return 0;
  if (s->io->ftruncate(fd, (off_t)s->write_off) != 0 ||
      (sync && s->io->fdatasync(fd) != 0))
    return ES_EIO;
  s->file_end = s->write_off;
  return 0;
}

/* Keeps zeros written ahead of the records of the newest segment, so that
 * the writes of most group commits fall inside the file and their
 * fdatasync has no file size to update (on ext4: no journal or inode
 * write, only the data and the cache flush). Called by the leader before
 * writing records that end at `end`: when fewer than half of PREALLOC
 * bytes of zeros would remain past them, writes zeros from the file's end
 * up to PREALLOC past `end` (never past the segment limit), to be synced
 * with the records. The zeros are written, not fallocated: writing into
 * unwritten extents updates the extent tree at each sync. Returns 0 or
 * ES_EIO. */
static int zero_ahead(log_store *s, int fd, uint64_t end) {
  static const uint8_t zero[ZERO_BLOCK];
  struct iovec iov[WRITE_IOV];
  uint64_t want = end + PREALLOC, from = s->file_end > end ? s->file_end : end;

  if (s->file_end < end)
    s->file_end = end; /* the records reach past the zeros */
  if (want > s->seg_limit)
    want = s->seg_limit;
  if (s->file_end >= end + PREALLOC / 2 || want <= from)
    return 0;
  while (from < want) {
    int k = 0;
    for (uint64_t at = from; at < want && k < WRITE_IOV; k++) {
      iov[k].iov_base = (void *)(uintptr_t)zero;
      iov[k].iov_len =
          want - at < ZERO_BLOCK ? (size_t)(want - at) : ZERO_BLOCK;
      at += iov[k].iov_len;
    }
    ssize_t put = s->io->pwritev(fd, iov, k, (off_t)from);
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0)
      return ES_EIO;
    from += (uint64_t)put;
  }
  s->file_end = want;
  return 0;
}

/* The bytes of the batches of `q`. */
static uint64_t group_len(const log_batch *q) {
  uint64_t len = 0;
  for (; q; q = q->next)
    len += q->len;
  return len;
}

/* Writes the batches of `q` back to back at `off` in `fd`. */
static int write_batches(const es__io *io, int fd, log_batch *q, uint64_t off) {
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
      ssize_t put = io->pwritev(fd, iov + i, k - i, (off_t)off);
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

/* Waiting for a batch's state to leave B_WAIT. On Linux, with futexes: a
 * group's head (the next leader) waits on the store's `lead_word`, which
 * the leader bumps and wakes after naming it (only one head waits at a
 * time: the next one queues after this one has taken the queue); every
 * other appender waits on its group's word in `done_word`, which one
 * FUTEX_WAKE per group commit bumps and wakes, so a sync wakes exactly the
 * appenders it covered (groups g and g + 4 share a word: at worst a
 * spurious wakeup, and every wait loops on the state) and they leave
 * without touching the store's mutex. A waiter reads its word before its
 * batch's state and the leader bumps the word after storing the state, so
 * no wakeup is lost. Elsewhere (or with ES_NO_FUTEX): the store's `synced`
 * condition. */
static void batch_wait(log_store *s, log_batch *b) {
#ifdef LOG_FUTEX
  _Atomic uint32_t *w =
      b->head ? &s->lead_word : &s->done_word[b->group % GROUP_WORDS];
  uint32_t seen = atomic_load(w);
  while (atomic_load_explicit(&b->state, memory_order_acquire) == B_WAIT) {
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
    seen = atomic_load(w);
  }
#else
  pthread_mutex_lock(&s->mu);
  while (atomic_load_explicit(&b->state, memory_order_acquire) == B_WAIT)
    pthread_cond_wait(&s->synced, &s->mu);
  pthread_mutex_unlock(&s->mu);
#endif
}

/* Bumps word `w` of the store and wakes whoever waits on it. */
static void word_wake(_Atomic uint32_t *w) {
#ifdef LOG_FUTEX
  atomic_fetch_add(w, 1);
  syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
  (void)w;
#endif
}

/* Gives batch `b` back to its appender with `state` (B_DONE or B_LEAD).
 * The last access to `b`: its appender may free it at once. */
static void batch_release(log_batch *b, uint32_t state) {
  atomic_store_explicit(&b->state, state, memory_order_release);
}

/* Names the appender of `next` the next leader and wakes it. */
static void hand_off(log_store *s, log_batch *next) {
  batch_release(next, B_LEAD);
  word_wake(&s->lead_word);
#ifndef LOG_FUTEX
  pthread_mutex_lock(&s->mu); /* after the store: no wakeup is lost */
  pthread_cond_broadcast(&s->synced);
  pthread_mutex_unlock(&s->mu);
#endif
}

/* The leader's turn: writes and syncs every queued batch, then publishes
 * them. When the newest segment is full it first rolls to a new one, and
 * after publishing writes the sealed segment's index (its image taken
 * under the lock, while every event of that segment is published and no
 * other leader can run). Called with `mu` held; returns without it, its
 * own batch `self` done.
 *
 * Hand-off: right after publishing, while still holding `mu`, the leader
 * takes the first batch queued meanwhile (the next group's head) and
 * keeps `syncing` set; after unlocking it names that batch's appender the
 * next leader (B_LEAD) and wakes it first, so the next group's write and
 * sync start while this group's appenders are being woken. Those get
 * their result in their batch (B_DONE) and one wake for the whole group
 * on its word; none retakes `mu`. The leader's own batch is always its
 * group's head. With nothing queued, `syncing` drops and the next appender
 * leads at once. Every batch but its own is given back with one store,
 * after which the leader never touches it (see log_batch). */
static void lead(log_store *s, log_batch *self) {
  log_batch *next;
  log_batch *q = s->queue;
  uint64_t group = s->group++;
  uint64_t base, sealed = 0;
  uint8_t *idx = NULL, *cmds = NULL;
  size_t idx_len = 0, cmds_len = 0;
  int rc = s->failed, fd, roll;

  s->queue = NULL;
  s->queue_tail = &s->queue;
  s->syncing = 1;
  roll = !rc && s->write_off >= s->seg_limit && s->write_off > SEG_HDR;
  if (roll && index_build(s, s->n_segs - 1, s->n + 1, &idx, &idx_len) != 0)
    idx = NULL; /* no index: the next open scans this segment */
  sealed = s->segs[s->n_segs - 1].first;
  if (idx &&
      es__cmd_index_image(&s->cmds, sealed, s->n + 1, &cmds, &cmds_len) != 0)
    cmds = NULL; /* the next open reads the ids from the segment */
  pthread_mutex_unlock(&s->mu);

  if (roll) {
    rc = cut_zeros(s, s->segs[s->n_segs - 1].fd, 1);
    if (!rc)
      rc = create_seg(s, q->first);
    if (rc) {
      es__free(idx);
      es__free(cmds);
      idx = cmds = NULL;
    }
  }
  fd = s->segs[s->n_segs - 1].fd; /* only the leader changes segs */
  base = s->write_off;
  if (!rc)
    rc = write_batches(s->io, fd, q, base);
  if (!rc)
    rc = zero_ahead(s, fd, base + group_len(q));
  if (!rc) {
    int64_t t0 = es_obs_now_us();
    if (s->io->fdatasync(fd) != 0)
      rc = ES_EIO;
    if (s->base.opt.obs)
      es_metrics_observe_us(s->base.opt.obs->metrics, ES_HIST_SYNC,
                            (uint64_t)(es_obs_now_us() - t0));
  }
  if (rc && rc != s->failed && /* best effort: leave no half batch */
      s->io->ftruncate(fd, (off_t)base) == 0)
    s->file_end = base;

  pthread_mutex_lock(&s->mu);
  if (rc)
    s->failed = rc;
  for (log_batch *b = q; b; b = b->next) {
    if (!rc) {
      uint64_t k = 0, si = s->n_segs - 1;
      for (uint32_t i = 0; i < b->n_groups; i++)
        for (uint32_t j = 0; j < b->cnt[i]; j++, k++) {
          log_stream *st = b->st[i];
          stream_push(st, b->first + k, base + b->rel[k]);
          sparse_note(s, b->first + k, si << LOC_SHIFT | (base + b->rel[k]));
          (void)note_command(s, b->buf + b->rel[k] + FRAME, b->first + k);
        }
      s->n = b->first + b->count - 1;
      base += b->len;
    } else {
      es__cmd_index_release(&s->cmds, (size_t)b->count);
    }
    b->rc = rc;
  }
  if (!rc) {
    s->write_off = base;
    s->segs[s->n_segs - 1].size = base;
  }
  next = s->queue; /* its appender waits: `next` stays until hand_off() */
  if (!next)
    s->syncing = 0;
  pthread_cond_broadcast(&s->grew);
  pthread_mutex_unlock(&s->mu);
  if (es__store_log_pause)
    es__store_log_pause(ES__LOG_PAUSE_HANDOFF);
  if (next)
    hand_off(s, next);
  while (q) {
    log_batch *b = q;
    q = q->next; /* read before the release: `b` may be freed after it */
    if (b != self)
      batch_release(b, B_DONE);
  }
  word_wake(&s->done_word[group % GROUP_WORDS]);
  atomic_store_explicit(&self->state, B_DONE, memory_order_relaxed);
#ifndef LOG_FUTEX
  pthread_mutex_lock(&s->mu); /* after the stores: no wakeup is lost */
  pthread_cond_broadcast(&s->synced);
  pthread_mutex_unlock(&s->mu);
#endif
  if (idx) { /* the segment is sealed whether or not this batch failed */
    char name[32];
    idx_name(name, sealed);
    (void)index_write(s, name, idx, idx_len);
    es__free(idx);
  }
  if (cmds) { /* after the index: a lone N.cmd is never loaded */
    char name[32];
    cmd_name(name, sealed);
    (void)index_write(s, name, cmds, cmds_len);
    es__free(cmds);
  }
}

/* Encodes one event record at `p`; returns its size. */
static size_t encode_event(uint8_t *p, const es_new_event *e, uint64_t pos,
                           uint64_t version, es_timestamp ts, const es_uuid *id,
                           const char *type, const char *key) {
  size_t tl = strlen(type), kl = strlen(key);
  uint32_t bl = (uint32_t)(EV_FIXED + tl + kl + e->len);
  uint8_t *b = p + FRAME;

  es__put32(p, bl);
  b[0] = K_EVENT;
  es__put64(b + 1, pos);
  es__put64(b + 9, version);
  es__put64(b + 17, e->type_id);
  es__put32(b + 25, e->type_version);
  es__put64(b + 29, (uint64_t)ts);
  memcpy(b + 37, id->bytes, 16);
  memcpy(b + 53, e->correlation_id.bytes, 16);
  memcpy(b + 69, e->causation_id.bytes, 16);
  es__put16(b + 85, (uint32_t)tl);
  es__put16(b + 87, (uint32_t)kl);
  es__put32(b + 89, (uint32_t)e->len);
  memcpy(b + EV_FIXED, type, tl);
  memcpy(b + EV_FIXED + tl, key, kl);
  if (e->len)
    memcpy(b + EV_FIXED + tl + kl, e->payload, e->len);
  es__put32(p + 4, frame_crc(p, bl));
  return FRAME + bl;
}

/* A batch of `n` groups, `total` events and `size` bytes of records in
 * one allocation: the batch, then `st`, `rel`, `cnt`, a zeroed flag per
 * group at `*created` and the records (`buf`). NULL on overflow or without
 * memory. Freed with es__free(). */
static log_batch *batch_new(uint32_t n, uint64_t total, size_t size,
                            uint8_t **created) {
  size_t rel_at = sizeof(log_batch) + (size_t)n * sizeof(log_stream *);
  size_t cnt_at, created_at, buf_at;
  log_batch *b;

  if (total > (SIZE_MAX - rel_at) / sizeof(size_t) / 2)
    return NULL;
  cnt_at = rel_at + (size_t)total * sizeof(size_t);
  created_at = cnt_at + (size_t)n * sizeof(uint32_t);
  buf_at = created_at + n;
  if (size > SIZE_MAX - buf_at)
    return NULL;
  b = es__malloc(buf_at + size);
  if (!b)
    return NULL;
  memset(b, 0, buf_at);
  b->st = (log_stream **)(void *)(b + 1);
  b->rel = (size_t *)(void *)((uint8_t *)b + rel_at);
  b->cnt = (uint32_t *)(void *)((uint8_t *)b + cnt_at);
  *created = (uint8_t *)b + created_at;
  b->buf = (uint8_t *)b + buf_at;
  return b;
}

/* Long because: validation, framing and the hand-off to the group commit
 * share the batch being built and the order of their locks; it reads top
 * to bottom as the append's protocol.
 * The es_store append of the embedded log. */
static int log_append(es_store *bs, es_append_stream *g, uint32_t n,
                      es_append_result *res) {
  log_store *s = (log_store *)bs;
  log_batch *b;
  uint8_t *created = NULL;
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  uint64_t total = 0;
  size_t size = FRAME + COMMIT_BODY, off = 0;
  uint32_t n_new = 0;
  es_timestamp now = es__store_now(bs);
  int rc = ES_ENOMEM, locked = 0;

  if (s->readonly)
    return ES_EREADONLY;
  for (uint32_t i = 0; i < n; i++) {
    size_t tl = strlen(g[i].type), kl = strlen(g[i].key);
    total += g[i].n_events;
    for (uint32_t j = 0; j < g[i].n_events; j++)
      size += FRAME + EV_FIXED + tl + kl + g[i].events[j].len;
  }
  b = batch_new(n, total, size, &created);
  if (!b)
    return ES_ENOMEM;
  atomic_init(&b->state, B_WAIT);
  b->n_groups = n;
  b->count = total;
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
    if (es__append_expectation(g, i, cur, res) != 0) {
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
    if (b->st[i] &&
        stream_grow(b->st[i], b->st[i]->assigned + g[i].n_events) != 0)
      goto fail;
  }
  if (es__hashmap_reserve(&s->streams, n_new) != 0 ||
      grow_u64(&s->sparse, &s->cap_sparse, sparse_need(s->assigned + total)) !=
          0 ||
      es__cmd_index_reserve(&s->cmds, (size_t)total) != 0)
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
  es__put32(b->buf + off, COMMIT_BODY);
  b->buf[off + FRAME] = K_COMMIT;
  es__put64(b->buf + off + FRAME + 1, b->first);
  es__put32(b->buf + off + FRAME + 9, (uint32_t)total);
  es__put32(b->buf + off + 4, frame_crc(b->buf + off, COMMIT_BODY));
  s->assigned += total;
  res->first_position = b->first;
  res->last_position = s->assigned;
  created = NULL; /* the streams are the store's now */

  b->head = s->queue == NULL;
  b->group = s->group;
  *s->queue_tail = b;
  s->queue_tail = &b->next;
  if (s->syncing) {
    pthread_mutex_unlock(&s->mu);
    if (es__store_log_pause)
      es__store_log_pause(ES__LOG_PAUSE_QUEUED);
    batch_wait(s, b); /* B_DONE, or B_LEAD: named the next leader */
    if (atomic_load_explicit(&b->state, memory_order_acquire) == B_LEAD) {
      pthread_mutex_lock(&s->mu);
      lead(s, b);
    }
  } else {
    s->syncing = 1;
    lead(s, b);
  }
  rc = b->rc;
  es__free(b);
  return rc;

fail:
  if (created)
    for (uint32_t i = 0; i < n; i++)
      if (created[i])
        stream_free(b->st[i]);
  if (locked)
    pthread_mutex_unlock(&s->mu);
  es__free(b);
  return rc;
}

/* ---- reads ----------------------------------------------------------------
 */

/* A window of one segment kept between records of one read: what no map
 * covers is read into it. */
typedef struct rd_cache {
  const es__io *io;
  int fd;
  uint64_t off;
  size_t len, cap;
  size_t block; /* bytes to read on a miss (at least what is asked) */
  uint8_t *buf;
} rd_cache;

/* A place to look for an event: record offset `off` of segment file `fd`,
 * where the first event at or after it has position `at`; `span` bytes
 * from `off` are worth reading when it is not in the cache. `map` is the
 * piece of the segment mapped around `off` (NULL: none). */
typedef struct rd_at {
  int fd;
  uint64_t off, at;
  size_t span;
  log_map map;
} rd_at;

/* Makes bytes [off, off + len) of the segment of `at` available at
 * `*out`: in its map when that covers them, else read into the window.
 * Returns 0, ES_ENOMEM, or ES_EIO (a read error, or the file ends first). */
static int cache_get(rd_cache *c, const rd_at *at, uint64_t off, size_t len,
                     const uint8_t **out) {
  int fd = at->fd;
  size_t want;
  if (at->map.base && off >= at->map.off && off < at->map.end &&
      at->map.end - off >= len) {
    *out = at->map.base + (off - at->map.off);
    return 0;
  }
  if (c->fd == fd && off >= c->off && off - c->off <= c->len &&
      c->len - (off - c->off) >= len) {
    *out = c->buf + (off - c->off);
    return 0;
  }
  want = len > c->block ? len : c->block;
  if (want > c->cap) {
    uint8_t *p = es__realloc(c->buf, want);
    if (!p)
      return ES_ENOMEM;
    c->buf = p;
    c->cap = want;
  }
  c->fd = -1;
  for (size_t got = 0; got < len;) {
    ssize_t r = c->io->pread(fd, c->buf + got, want - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return ES_EIO;
    got += (size_t)r;
    c->len = got;
  }
  c->fd = fd;
  c->off = off;
  *out = c->buf;
  return 0;
}

/* The whole record at `off` in the segment of `at` (its frame and `*bl`
 * bytes of body) at `*out`, its CRC not checked yet: straight from the map
 * when the map holds all of it, else through the window. ES_EIO when it
 * cannot be read, ES_ENOMEM, ES_ECORRUPT when its length is impossible. */
static int record_get(rd_cache *c, const rd_at *at, uint64_t off,
                      const uint8_t **out, uint32_t *bl) {
  const uint8_t *p;
  uint32_t n;
  int rc;
  if (at->map.base && off >= at->map.off && off < at->map.end &&
      at->map.end - off >= FRAME) {
    p = at->map.base + (off - at->map.off);
    n = es__get32(p);
    if (n < COMMIT_BODY || n > MAX_BODY)
      return ES_ECORRUPT;
    if (at->map.end - off - FRAME >= n) {
      *out = p;
      *bl = n;
      return 0;
    }
  }
  if ((rc = cache_get(c, at, off, FRAME, &p)) != 0)
    return rc;
  n = es__get32(p);
  if (n < COMMIT_BODY || n > MAX_BODY)
    return ES_ECORRUPT;
  if ((rc = cache_get(c, at, off, FRAME + (size_t)n, &p)) != 0)
    return rc;
  *out = p;
  *bl = n;
  return 0;
}

/* The stream a read delivers: its id (type, NUL, key, NUL) as events
 * point to it, and type and key as its records hold them (type then key,
 * `tl` + `kl` bytes). */
typedef struct rd_names {
  const char *id;
  uint32_t tl, kl;
  uint8_t rec[ES_STREAM_TYPE_MAX + ES_KEY_MAX];
} rd_names;

/* Fills `nm` for stream `st`. */
static void names_of(rd_names *nm, const log_stream *st) {
  nm->id = st->id;
  nm->tl = (uint32_t)strlen(st->id);
  nm->kl = st->id_len - nm->tl - 1;
  memcpy(nm->rec, st->id, nm->tl);
  memcpy(nm->rec + nm->tl, st->id + nm->tl + 1, nm->kl);
}

/* Checks the event record at `p` (`bl` bytes of body) to be the event at
 * position `want_pos` and delivers it. `nm`: the stream the record must
 * name, which the event then points to; NULL: the names are copied out of
 * the record. */
static int deliver_record(const uint8_t *p, uint32_t bl, uint64_t want_pos,
                          const rd_names *nm, es_event_fn fn, void *ctx) {
  char names[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  const uint8_t *b = p + FRAME;
  es_stored_event ev;
  uint32_t tl, kl;

  if (bl < EV_FIXED || frame_crc(p, bl) != es__get32(p + 4) ||
      b[0] != K_EVENT || es__get64(b + 1) != want_pos)
    return ES_ECORRUPT;
  tl = es__get16(b + 85);
  kl = es__get16(b + 87);
  if (tl > ES_STREAM_TYPE_MAX || kl > ES_KEY_MAX ||
      (uint64_t)EV_FIXED + tl + kl + es__get32(b + 89) != bl)
    return ES_ECORRUPT;
  memset(&ev, 0, sizeof ev); /* no stack bytes in the padding it shows */
  if (nm) {
    if (tl != nm->tl || kl != nm->kl ||
        memcmp(b + EV_FIXED, nm->rec, tl + kl) != 0)
      return ES_ECORRUPT;
    ev.meta.aggregate = nm->id;
    ev.meta.key = nm->id + tl + 1;
  } else {
    memcpy(names, b + EV_FIXED, tl);
    names[tl] = '\0';
    memcpy(names + tl + 1, b + EV_FIXED + tl, kl);
    names[tl + 1 + kl] = '\0';
    ev.meta.aggregate = names;
    ev.meta.key = names + tl + 1;
  }
  ev.meta.position = want_pos;
  ev.meta.version = es__get64(b + 9);
  ev.meta.type_id = es__get64(b + 17);
  ev.meta.type_version = es__get32(b + 25);
  ev.meta.timestamp = (es_timestamp)es__get64(b + 29);
  memcpy(ev.meta.event_id.bytes, b + 37, 16);
  memcpy(ev.meta.correlation_id.bytes, b + 53, 16);
  memcpy(ev.meta.causation_id.bytes, b + 69, 16);
  ev.len = es__get32(b + 89);
  ev.payload = b + EV_FIXED + tl + kl;
  return fn(&ev, ctx);
}

/* The segment holding position `p` (1 .. n): the last whose first is <= p.
 * Caller holds `mu`. */
static uint32_t seg_of(const log_store *s, uint64_t p) {
  uint32_t lo = 0, hi = s->n_segs - 1;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo + 1) / 2;
    if (s->segs[mid].first <= p)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* Maps the part of segment `si` not mapped yet, up to what is readable,
 * when that is worth it: all of it once the segment is sealed, else
 * `map_min` bytes or more. A read-only store never maps the newest
 * segment: its writer, in another process, cuts back what it wrote but
 * could not sync, and a map past the end of a file faults. Caller holds
 * `mu`. */
static void map_more(log_store *s, uint32_t si) {
  static long page;
  log_seg *g = &s->segs[si];
  uint64_t from = g->n_maps ? g->maps[g->n_maps - 1].end : 0, at, want = 1;
  const uint8_t *base;

  if (si + 1 == s->n_segs) {
    if (s->readonly)
      return;
    want = s->map_min;
  }
  if (g->map_failed || g->size <= from || g->size - from < want ||
      g->size - from > SIZE_MAX)
    return;
  if (!page && (page = sysconf(_SC_PAGESIZE)) <= 0)
    page = 4096;
  at = from / (uint64_t)page * (uint64_t)page;
  if (es__grow_array(&g->maps, &g->cap_maps, (uint64_t)g->n_maps + 1,
                     sizeof *g->maps))
    return;
  base = s->io->mmap(g->fd, (size_t)(g->size - at), (off_t)at);
  if (!base) {
    g->map_failed = 1;
    return;
  }
  g->maps[g->n_maps].base = base;
  g->maps[g->n_maps].off = at;
  g->maps[g->n_maps].end = g->size;
  g->n_maps++;
}

/* The map of segment `si` that holds offset `off` (mapping more of the
 * segment first if none does), or one with a NULL base. Caller holds
 * `mu`. */
static log_map map_at(log_store *s, uint32_t si, uint64_t off) {
  const log_seg *g = &s->segs[si];
  log_map none = {NULL, 0, 0};
  uint32_t i = g->n_maps;
  if (!i || off >= g->maps[i - 1].end) {
    map_more(s, si);
    i = g->n_maps;
  }
  while (i-- > 0)
    if (off >= g->maps[i].off && off < g->maps[i].end)
      return g->maps[i];
  return none;
}

/* What the last lookup of a read found (the next usually falls in the
 * same segment and map): segment `si` (UINT32_MAX: none yet), `map` a
 * piece of it. */
typedef struct rd_hint {
  uint32_t si;
  log_map map;
} rd_hint;

/* seg_of(), trying the hint's segment first. Caller holds `mu`. */
static uint32_t seg_hint(const log_store *s, const rd_hint *h, uint64_t p) {
  uint32_t si = h->si;
  if (si < s->n_segs && s->segs[si].first <= p &&
      (si + 1 == s->n_segs || p < s->segs[si + 1].first))
    return si;
  return seg_of(s, p);
}

/* map_at(), trying the hint's map first; the hint then holds the result.
 * Caller holds `mu`. */
static log_map map_hint(log_store *s, rd_hint *h, uint32_t si, uint64_t off) {
  if (h->si != si || !h->map.base || off < h->map.off || off >= h->map.end) {
    h->si = si;
    h->map = map_at(s, si, off);
  }
  return h->map;
}

/* Where the search for position `p` (1 .. n) starts: the sparse location at
 * or before it when that is in p's segment, else p's segment's first
 * record. Caller holds `mu`. */
static rd_at seek_start(log_store *s, rd_hint *h, uint64_t p) {
  uint32_t lo = seg_hint(s, h, p);
  uint64_t j = (p - 1) / IDX_K, l = s->sparse[j];
  rd_at r;

  r.fd = s->segs[lo].fd;
  r.span = READ_BLOCK;
  if ((l >> LOC_SHIFT) == lo) {
    r.off = l & LOC_MASK;
    r.at = j * IDX_K + 1;
  } else {
    r.off = SEG_HDR;
    r.at = s->segs[lo].first;
  }
  r.map = map_hint(s, h, lo, r.off);
  return r;
}

/* Steps from `*cur` over record headers to the event at position `want`
 * and delivers it (as deliver_record() with `nm`); `*cur` then points
 * just past it. At most 2 * IDX_K + 2 records are stepped over (the start
 * is fewer than IDX_K events before `want`, each with at most one commit
 * record after it): more, or an event past `want`, is ES_ECORRUPT. */
static int seek_deliver(rd_cache *c, rd_at *cur, uint64_t want,
                        const rd_names *nm, es_event_fn fn, void *ctx) {
  for (uint32_t steps = 0; steps <= 2 * IDX_K + 2; steps++) {
    const uint8_t *p;
    uint64_t off = cur->off;
    uint32_t bl;
    int rc = cache_get(c, cur, cur->off, FRAME + 9, &p);

    if (rc != 0)
      return rc;
    bl = es__get32(p);
    if (bl < COMMIT_BODY || bl > MAX_BODY)
      return ES_ECORRUPT;
    cur->off += FRAME + (uint64_t)bl;
    if (p[FRAME] == K_EVENT) {
      uint64_t pos = es__get64(p + FRAME + 1);
      if (pos == want) {
        rc = record_get(c, cur, off, &p, &bl);
        cur->at = want + 1;
        return rc ? rc : deliver_record(p, bl, want, nm, fn, ctx);
      }
      if (pos > want)
        return ES_ECORRUPT;
    } else if (p[FRAME] != K_COMMIT) {
      return ES_ECORRUPT;
    }
  }
  return ES_ECORRUPT;
}

/* Where event `i` (0-based) of stream `st` is: straight at its record
 * when its offset is known (`*direct` set), else as seek_start(). Caller
 * holds `mu`. */
static rd_at stream_start(log_store *s, rd_hint *h, const log_stream *st,
                          uint64_t i, int *direct) {
  uint64_t p = st->pos[i];
  uint32_t si;
  rd_at r;
  *direct = st->off[i] != OFF_NONE;
  if (!*direct)
    return seek_start(s, h, p);
  si = seg_hint(s, h, p);
  r.fd = s->segs[si].fd;
  r.off = st->off[i];
  r.at = p;
  r.span = READ_ONE;
  r.map = map_hint(s, h, si, r.off);
  return r;
}

/* Starts fetching the first bytes of the record `at` points to, when it
 * is mapped; a prefetch never faults. */
static void prefetch_record(const rd_at *at) {
#if defined(__GNUC__)
  if (at->off >= at->map.off && at->off < at->map.end) {
    const uint8_t *p = at->map.base + (at->off - at->map.off);
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(p + 128);
  }
#else
  (void)at;
#endif
}

/* Delivers versions first .. last (1-based, inclusive) of stream `st`
 * (NULL: positions first .. last of the log), a chunk of start points at
 * a time computed under the lock. An event whose record offset is known
 * is read straight from there; the others are found by stepping over
 * records from a sparse location, and such a read keeps its place between
 * events, so a sequential one never goes back to the sparse table. Where
 * no map covers them, a stream's events whose records lie close together
 * in one segment are read with one pread (the first one's span covers the
 * rest). */
static int deliver(log_store *s, const log_stream *st, uint64_t first,
                   uint64_t last, es_event_fn fn, void *ctx) {
  uint64_t pos[READ_CHUNK];
  rd_at start[READ_CHUNK];
  int direct[READ_CHUNK];
  rd_cache c = {s->io, -1, 0, 0, 0, READ_BLOCK, NULL};
  rd_at cur = {-1, 0, 0, READ_BLOCK, {NULL, 0, 0}};
  rd_hint h = {UINT32_MAX, {NULL, 0, 0}};
  rd_names names, *nm = NULL;
  int rc = 0;

  if (st) {
    names_of(&names, st);
    nm = &names;
  }

  while (first <= last && !rc) {
    uint64_t k = last - first + 1;
    if (k > READ_CHUNK)
      k = READ_CHUNK;
    pthread_mutex_lock(&s->mu);
    for (uint64_t i = 0; i < k; i++) {
      if (st) {
        start[i] = stream_start(s, &h, st, first - 1 + i, &direct[i]);
        pos[i] = st->pos[first - 1 + i];
      } else {
        pos[i] = first + i;
        start[i] = seek_start(s, &h, pos[i]);
        direct[i] = 0;
      }
    }
    pthread_mutex_unlock(&s->mu);
    for (uint64_t i = k - 1; i-- > 0;) {
      uint64_t gap = start[i + 1].off - start[i].off;
      if (!start[i].map.base && direct[i] && direct[i + 1] &&
          start[i].fd == start[i + 1].fd && start[i + 1].off > start[i].off &&
          gap <= READ_GAP && gap + start[i + 1].span <= READ_BLOCK)
        start[i].span = (size_t)gap + start[i + 1].span;
    }
    for (uint64_t i = 0; i < k && !rc; i++) {
      /* The records of a stream lie apart: have the ones four events on
       * fetched (further hides no more on a busy machine, nearer less). */
      if (i + 4 < k && start[i + 4].map.base)
        prefetch_record(&start[i + 4]);
      c.block = start[i].span;
      if (direct[i]) {
        const uint8_t *p;
        uint32_t bl;
        rc = record_get(&c, &start[i], start[i].off, &p, &bl);
        if (!rc)
          rc = deliver_record(p, bl, pos[i], nm, fn, ctx);
        continue;
      }
      /* Continue from the last event when that is no further back. */
      if (cur.fd != start[i].fd || cur.at > pos[i] || cur.at < start[i].at)
        cur = start[i];
      rc = seek_deliver(&c, &cur, pos[i], nm, fn, ctx);
    }
    first += k;
  }
  es__free(c.buf);
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
  return deliver(s, st, from, es__read_end(from, have, max), fn, ctx);
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

/* Read-only: sets up, once, the inotify watch on the directory (writes
 * to its files, files created or renamed into it) and the pipe that
 * interrupts the watching waiter. Without them waiting falls back to
 * looking every RO_POLL_US. Caller holds `mu`. */
static void watch_setup(log_store *s) {
  if (s->watch_set)
    return;
  s->watch_set = 1;
#ifdef LOG_INOTIFY
  s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (s->watch_fd < 0)
    return;
  if (inotify_add_watch(s->watch_fd, s->dir,
                        IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0 ||
      pipe2(s->wake_fd, O_NONBLOCK | O_CLOEXEC) != 0) {
    close(s->watch_fd);
    s->watch_fd = -1;
  }
#endif
}

/* Blocks up to `us` for a change in the directory or an interrupt, then
 * empties both. Called without `mu`, by the one watching waiter. */
static void watch_block(log_store *s, int64_t us) {
#ifdef LOG_INOTIFY
  struct pollfd p[2] = {{s->watch_fd, POLLIN, 0}, {s->wake_fd[0], POLLIN, 0}};
  char buf[4096];
  (void)!poll(p, 2, (int)((us + 999) / 1000));
  while (read(s->watch_fd, buf, sizeof buf) > 0)
    ;
  while (read(s->wake_fd[0], buf, sizeof buf) > 0)
    ;
#else
  (void)s;
  (void)us;
#endif
}

/* es_store_wait() on a read-only store: another process appends, so no
 * append here wakes the waiters. Each round picks up what the writer
 * wrote (refresh()) and checks the head; then one waiter (the watcher)
 * blocks on the directory's inotify watch, and the others on `grew`,
 * which the watcher broadcasts whenever it wakes (and a refresh on any
 * thread broadcasts). The watch exists before the first look, so an
 * append between a look and the block still wakes the watcher. Without
 * inotify, every waiter looks again every RO_POLL_US. Caller holds `mu`. */
static int ro_wait(log_store *s, uint64_t after, int64_t timeout_us) {
  uint64_t gen = s->interrupts;
  int64_t end = timeout_us > 0 ? (int64_t)es_obs_now_us() + timeout_us : 0;

  watch_setup(s);
  for (;;) {
    int64_t slice = s->watch_fd >= 0 ? RO_RECHECK_US : RO_POLL_US, left;
    int rc = refresh(s);
    if (rc)
      return rc;
    if (s->n > after)
      return 0;
    if (s->interrupts != gen)
      return ES_EINTERRUPTED;
    if (timeout_us == 0)
      return ES_ETIMEDOUT;
    if (timeout_us > 0) {
      left = end - (int64_t)es_obs_now_us();
      if (left <= 0)
        return ES_ETIMEDOUT;
      if (left < slice)
        slice = left;
    }
    if (s->watch_fd >= 0 && !s->watching) {
      s->watching = 1;
      pthread_mutex_unlock(&s->mu);
      watch_block(s, slice);
      pthread_mutex_lock(&s->mu);
      s->watching = 0;
      pthread_cond_broadcast(&s->grew); /* the others look, one watches */
    } else {
      struct timespec ts;
      es__deadline_after(&ts, slice);
      pthread_cond_timedwait(&s->grew, &s->mu, &ts);
    }
  }
}

static int log_wait(es_store *bs, uint64_t after, int64_t timeout_us,
                    uint64_t *head) {
  log_store *s = (log_store *)bs;
  int rc;

  pthread_mutex_lock(&s->mu);
  if (s->readonly)
    rc = ro_wait(s, after, timeout_us);
  else
    rc = es__wait_head(&s->mu, &s->grew, &s->n, &s->interrupts, after,
                       timeout_us);
  *head = s->n;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static void log_interrupt(es_store *bs) {
  log_store *s = (log_store *)bs;

  pthread_mutex_lock(&s->mu);
  es__interrupt_waiters(&s->grew, &s->interrupts);
  if (s->watch_fd >= 0) /* the watcher blocks in poll(), not on `grew` */
    (void)!write(s->wake_fd[1], "", 1);
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
  es__put32(h, BLOB_MAGIC);
  es__put64(h + 8, a);
  es__put64(h + 16, b);
  es__put32(h + 24, (uint32_t)nl);
  es__put32(h + 28, (uint32_t)len);
  crc = es__crc32c(0, h + 8, BLOB_HDR - 8);
  crc = es__crc32c(crc, name, nl);
  crc = es__crc32c(crc, data, len);
  es__put32(h + 4, crc);

  pthread_mutex_lock(&s->blob_mu);
  snprintf(tmp, sizeof tmp, "tmp-%" PRIu64, s->tmp_seq++);
  fd = s->io->openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                     0644);
  if (fd < 0)
    goto fail;
  if (pwrite_all(s->io, fd, h, BLOB_HDR, 0) != 0 ||
      pwrite_all(s->io, fd, name, nl, BLOB_HDR) != 0 ||
      (len && pwrite_all(s->io, fd, data, len, BLOB_HDR + nl) != 0) ||
      s->io->fdatasync(fd) != 0)
    goto fail;
  s->io->close(fd);
  fd = -1;
  if (s->io->renameat(s->dirfd, tmp, s->dirfd, file) != 0 ||
      s->io->fsync(s->dirfd) != 0)
    goto fail;
  pthread_mutex_unlock(&s->blob_mu);
  return 0;

fail:
  if (fd >= 0)
    s->io->close(fd);
  s->io->unlinkat(s->dirfd, tmp, 0);
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
  int fd = s->io->openat(s->dirfd, file, O_RDONLY | O_CLOEXEC, 0),
      rc = ES_ECORRUPT;

  if (fd < 0)
    return errno == ENOENT ? ES_ENOTFOUND : ES_EIO;
  if (s->io->fstat(fd, &sb) != 0) {
    rc = ES_EIO;
    goto done;
  }
  if ((uint64_t)sb.st_size < BLOB_HDR ||
      (uint64_t)sb.st_size >
          BLOB_HDR + ES_KEY_MAX * 2 + 2 + (uint64_t)s->base.opt.max_blob_size)
    goto done;
  fl = (size_t)sb.st_size;
  buf = es__malloc(fl);
  if (!buf) {
    rc = ES_ENOMEM;
    goto done;
  }
  if (pread_all(s->io, fd, buf, fl, 0) != 0) {
    rc = ES_EIO;
    goto done;
  }
  dl = es__get32(buf + 28);
  if (es__get32(buf) != BLOB_MAGIC ||
      (uint64_t)BLOB_HDR + es__get32(buf + 24) + dl != fl ||
      es__crc32c(0, buf + 8, fl - 8) != es__get32(buf + 4))
    goto done;
  if (es__get32(buf + 24) != nl || memcmp(buf + BLOB_HDR, name, nl) != 0) {
    rc = ES_ENOTFOUND; /* a hash collision: another name's file */
    goto done;
  }
  rc = 0;
  if (data) {
    es_buf_append(data, buf + BLOB_HDR + nl, dl);
    rc = data->err;
  }
  if (rc == 0) {
    *a = es__get64(buf + 8);
    if (b)
      *b = es__get64(buf + 16);
  }

done:
  es__free(buf);
  s->io->close(fd);
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
  if (!s->readonly && !s->failed && s->n_segs) /* best effort, tidy files */
    (void)cut_zeros(s, s->segs[s->n_segs - 1].fd, 0);
  for (uint32_t k = 0; k < s->n_segs; k++) {
    log_seg *g = &s->segs[k];
    for (uint32_t m = 0; m < g->n_maps; m++)
      s->io->munmap((void *)(uintptr_t)(g->maps[m].base),
                    (size_t)(g->maps[m].end - g->maps[m].off));
    es__free(g->maps);
    s->io->close(g->fd);
  }
  es__free(s->segs);
  es__free(s->sparse);
  es__cmd_index_close(&s->cmds);
  if (s->lockfd >= 0)
    s->io->close(s->lockfd); /* releases the lock */
  if (s->dirfd >= 0)
    s->io->close(s->dirfd);
  if (s->watch_fd >= 0) {
    close(s->watch_fd);
    close(s->wake_fd[0]);
    close(s->wake_fd[1]);
  }
  pthread_cond_destroy(&s->synced);
  pthread_cond_destroy(&s->grew);
  pthread_mutex_destroy(&s->blob_mu);
  pthread_mutex_destroy(&s->mu);
  es__free(s);
}

static int log_command_find(es_store *bs, const es_uuid *id,
                            es_command_record *out) {
  log_store *s = (log_store *)bs;
  int rc = 0;

  pthread_mutex_lock(&s->mu);
  if (s->readonly)
    rc = refresh(s);
  if (rc == 0)
    rc = es__cmd_index_record(&s->cmds, id, es__store_now(bs), out);
  pthread_mutex_unlock(&s->mu);
  return rc;
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
    log_command_find,
    NULL, /* leases: one writing process, every lease granted */
};

/* Takes the writer lock: an OFD lock on LOCK, which then holds our pid. */
static int take_lock(log_store *s, es_store_open_report *rep) {
  char pid[32];
  int n;

  s->lockfd =
      s->io->openat(s->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lockfd < 0)
    return ES_EIO;
  n = s->io->lock(s->lockfd);
  if (n != 0) {
    long holder = 0;
    ssize_t got;
    if (errno != EAGAIN && errno != EACCES)
      return ES_EIO;
    got = s->io->pread(s->lockfd, pid, sizeof pid - 1, 0);
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
  if (s->io->ftruncate(s->lockfd, 0) != 0 ||
      pwrite_all(s->io, s->lockfd, pid, (size_t)n, 0) != 0)
    return ES_EIO;
  return 0;
}

/* Opening: loads the index of every sealed segment that has a usable one
 * and scans the others and the newest segment; a writer then writes the
 * index of every sealed segment it had to scan. Ends by trimming the
 * streams' position lists to their length. Returns 0 or an open error. */
static int load_all(log_store *s, es_store_open_report *rep) {
  uint8_t *buf = NULL, *redo = NULL;
  size_t cap = 0, i = 0;
  idx_hint h = {NULL, 0, 0, 0};
  log_stream *st;
  int rc = 0;

  if (s->n_segs) {
    redo = es__calloc(s->n_segs, 1);
    if (!redo)
      return ES_ENOMEM;
  }
  for (uint32_t k = 0; rc == 0 && k < s->n_segs; k++) {
    int loaded = 0;
    rc = index_load(s, k, &buf, &cap, &h, &loaded);
    if (rc == 0 && loaded && rep)
      rep->segments_indexed++;
    if (rc == 0 && loaded)
      rc = cmd_load(s, k, &buf, &cap);
    if (rc == 0 && !loaded) {
      rc = scan_seg(s, k, 0, k + 1 == s->n_segs, rep);
      redo[k] = k + 1 < s->n_segs;
      if (rep)
        rep->segments_scanned++;
    }
  }
  es__free(buf);
  es__free(h.prev);
  for (uint32_t k = 0; rc == 0 && !s->readonly && k + 1 < s->n_segs; k++)
    if (redo[k] && index_save(s, k, s->segs[k + 1].first) == 0 && rep)
      rep->indexes_written++;
  es__free(redo);
  if (rc)
    return rc;
  /* Loading grows the lists by doubling; give back the slack. */
  while ((st = es__hashmap_next(&s->streams, &i)) != NULL)
    if (st->cap > st->n + st->n / 8 + 4) {
      /* Either array may stay larger than cap says, which is harmless. */
      uint64_t *p = es__realloc(st->pos, (size_t)(st->n ? st->n : 1) * 8);
      uint32_t *o = es__realloc(st->off, (size_t)(st->n ? st->n : 1) * 4);
      if (p)
        st->pos = p;
      if (o)
        st->off = o;
      st->cap = st->n ? st->n : 1;
    }
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

/* The open's recovery summary at INFO, and a torn tail it cut at WARN. */
static void log_recovery(log_store *s, const es_store_open_report *rep) {
  const es_obs *obs = s->base.opt.obs;
  char a[24], b[24], c[24], d[24], e[24];
  if (!es__log_enabled(obs, ES_LOG_WARN))
    return;
#define NUM(buf, v)                                                            \
  (snprintf(buf, sizeof buf, "%llu", (unsigned long long)(v)), buf)
  if (rep->dropped_bytes)
    es__log(obs, ES_LOG_WARN, "torn tail cut", "path", s->dir, "file",
            rep->file, "offset", NUM(a, rep->offset), "bytes",
            NUM(b, rep->dropped_bytes), NULL);
  es__log(obs, ES_LOG_INFO, "store recovered", "path", s->dir,
          "segments_indexed", NUM(a, rep->segments_indexed), "segments_scanned",
          NUM(b, rep->segments_scanned), "events_scanned",
          NUM(c, rep->events_scanned), "indexes_written",
          NUM(d, rep->indexes_written), "dropped_bytes",
          NUM(e, rep->dropped_bytes), NULL);
#undef NUM
}

/* Where the writer starts: at the end of the newest segment's records;
 * its file may reach further, zeros written ahead (zero_ahead()). Returns
 * 0 or ES_EIO. */
static int find_file_end(log_store *s) {
  const log_seg *g = &s->segs[s->n_segs - 1];
  struct stat sb;

  if (s->io->fstat(g->fd, &sb) != 0)
    return ES_EIO;
  s->write_off = g->size;
  s->file_end = (uint64_t)sb.st_size > g->size ? (uint64_t)sb.st_size : g->size;
  return 0;
}

int es_store_open_log(es_store **out, const char *dir,
                      const es_store_options *opt, unsigned flags) {
  es_store_open_report own, *rep = opt && opt->report ? opt->report : &own;
  uint64_t t0 = es_obs_now_us();
  log_store *s;
  uint64_t *nums = NULL;
  uint32_t k = 0;
  int rc;

  memset(rep, 0, sizeof *rep);
  if (!out)
    return ES_EINVAL;
  *out = NULL;
  if (!dir || !*dir || strlen(dir) >= PATH_MAX || (flags & ~ES_STORE_READONLY))
    return ES_EINVAL;
  s = es__calloc(1, sizeof *s);
  if (!s)
    return ES_ENOMEM;
  s->base.ops = &log_ops;
  s->io = es__io_get();
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
  /* Small segments (tests) map their newest segment in small pieces. */
  s->map_min = s->seg_limit / 8 < MAP_MIN ? s->seg_limit / 8 + 1 : MAP_MIN;
  s->readonly = (flags & ES_STORE_READONLY) != 0;
  s->dirfd = s->lockfd = s->watch_fd = -1;
  s->queue_tail = &s->queue;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  es__rng_seed(s->rng, s);
  es__hashmap_init(&s->streams, es__rng_next(s->rng), es__rng_next(s->rng));
  es__cmd_index_init(&s->cmds, s->base.opt.command_retention_us,
                     es__rng_next(s->rng), es__rng_next(s->rng));
  if (init_sync(s) != 0) {
    es__hashmap_close(&s->streams);
    es__free(s);
    return ES_ENOMEM;
  }

  if (!s->readonly && s->io->mkdir(dir, 0755) != 0 && errno != EEXIST) {
    rc = ES_EIO;
    goto fail;
  }
  s->dirfd = s->io->open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (s->dirfd < 0) {
    rc = ES_EIO;
    goto fail;
  }
  if (!s->readonly && (rc = take_lock(s, rep)) != 0)
    goto fail;
  if (!s->readonly)
    remove_tmp(s);
  rc = list_segs(s, &nums, &k);
  for (uint32_t i = 0; rc == 0 && i < k; i++)
    rc = open_seg(s, nums[i], !s->readonly && i + 1 == k);
  es__free(nums);
  if (rc == 0)
    rc = load_all(s, rep);
  if (rc)
    goto fail;
  if (!s->readonly) {
    if (s->n_segs == 0)
      rc = create_seg(s, 1);
    else
      rc = find_file_end(s);
    if (rc)
      goto fail;
  }
  *out = &s->base;
  log_recovery(s, rep);
  es__store_log_opened(&s->base, dir, t0);
  return 0;

fail:
  log_close(&s->base);
  return rc;
}

/* ---- verification ----------------------------------------------------------
 *
 * es_store_verify_log() reads every segment record by record (the scan an
 * open does for the newest segment, here for all of them) and compares each
 * sealed segment's index file with what the scan found. It works on a bare
 * log_store (the directory, the I/O table and a stream table) and never
 * writes: damage is described, not repaired.
 */

/* An event of the segment being verified, at index position - first. */
typedef struct vf_event {
  log_stream *st;
  uint64_t off, version;
} vf_event;

/* What verification carries from segment to segment. */
typedef struct verifier {
  log_store *s;                /* dirfd, io, dir and the stream table */
  es_store_verify_report *rep; /* never NULL (a scratch one) */
  uint64_t next;               /* the position the next event must have */
  uint32_t lost; /* damages that lost the thread (streams resync once each) */
  int skip_gap;  /* the last segment was cut short: its positions unknown */
  vf_event *ev;  /* the events of the segment being read */
  uint64_t n_ev, cap_ev;
} verifier;

/* Grows `v->ev` to hold `need` events. */
static int grow_events(verifier *v, uint64_t need) {
  return es__grow_array(&v->ev, &v->cap_ev, need, sizeof *v->ev);
}

/* Counts a damage in `file` at `off` and describes it. */
static void vf_damage(verifier *v, const char *file, uint64_t off,
                      const char *what) {
  es_store_verify_report *r = v->rep;
  char line[sizeof r->message];

  if (snprintf(line, sizeof line, "corrupt store: %s/%s: %s at offset %" PRIu64,
               v->s->dir, file, what, off) < 0)
    line[0] = '\0';
  if (r->damage++ == 0) {
    snprintf(r->file, sizeof r->file, "%s", file);
    r->offset = off;
    memcpy(r->message, line, sizeof line);
  }
  if (r->on_damage)
    r->on_damage(file, off, line, r->ctx);
}

/* After damage, a stream may skip the versions that were in the damaged
 * part: its first event read since takes its version as where the stream
 * stands (the scan then checks the rest). Returns 0 or ES_ENOMEM. */
static int vf_resync_stream(log_store *s, uint32_t lost, const uint8_t *b,
                            uint32_t bl) {
  log_stream *st;
  int rc;

  if (bl < EV_FIXED || es__get64(b + 9) == 0)
    return 0; /* the scan says what is wrong */
  if ((rc = body_stream(s, b, bl, &st)) != 0)
    return rc == 1 ? 0 : rc;
  if (st->mark != lost) {
    st->mark = lost;
    st->n = st->assigned = es__get64(b + 9) - 1;
  }
  return 0;
}

/* Reads the records of `buf` (a segment's `len` bytes from SEG_HDR),
 * checking each and keeping the events of whole batches in `v->ev`.
 * Returns 0 with `*end` the end of the last whole batch, or 1 after
 * describing a damage (`*end` then where reading stopped), or ES_ENOMEM. */
static int vf_records(verifier *v, const char *file, const uint8_t *buf,
                      uint64_t len, int last, uint64_t *end) {
  uint64_t off = SEG_HDR, good = SEG_HDR, npend = 0;

  v->n_ev = 0;
  while (off < len) {
    const uint8_t *b = buf + off + FRAME;
    uint32_t bl;
    if (len - off < FRAME)
      break; /* a short record: the end decides */
    bl = es__get32(buf + off);
    if (bl < COMMIT_BODY || bl > MAX_BODY || bl > len - off - FRAME ||
        frame_crc(buf + off, bl) != es__get32(buf + off + 4)) {
      if (last && only_unfinished_batch(buf, off, len, v->next))
        break; /* the writer's unfinished batch, or a torn tail */
      vf_damage(v, file, off, "bad record (length or CRC)");
      *end = off;
      return 1;
    }
    if (b[0] == K_EVENT) {
      log_stream *st = NULL;
      int rc;
      if (v->lost && vf_resync_stream(v->s, v->lost, b, bl) != 0)
        return ES_ENOMEM;
      rc = scan_event(v->s, b, bl, v->next + npend, &st);
      if (rc == ES_ENOMEM)
        return rc;
      if (rc) {
        vf_damage(v, file, off,
                  "bad event record (position, version or "
                  "lengths)");
        *end = off;
        return 1;
      }
      if (grow_events(v, v->n_ev + npend + 1) != 0)
        return ES_ENOMEM;
      v->ev[v->n_ev + npend].st = st;
      v->ev[v->n_ev + npend].off = off;
      v->ev[v->n_ev + npend].version = st->assigned;
      npend++;
    } else if (b[0] == K_COMMIT && bl == COMMIT_BODY && npend > 0 &&
               es__get64(b + 1) == v->next && es__get32(b + 9) == npend) {
      for (uint64_t i = 0; i < npend; i++)
        v->ev[v->n_ev + i].st->n = v->ev[v->n_ev + i].st->assigned;
      v->n_ev += npend;
      v->next += npend;
      v->rep->events += npend;
      v->rep->batches++;
      npend = 0;
      good = off + FRAME + bl;
    } else {
      vf_damage(v, file, off,
                "bad record (kind, or a commit record that "
                "does not close its batch)");
      *end = off;
      return 1;
    }
    off += FRAME + bl;
  }
  /* Events of an unfinished batch do not count. */
  for (uint64_t i = 0; i < npend; i++)
    v->ev[v->n_ev + i].st->assigned = v->ev[v->n_ev + i].st->n;
  if (last) /* zeros written ahead of the records are no part of a tail */
    len = zero_trimmed(buf, good, len);
  if (good < len) {
    if (!last) {
      vf_damage(v, file, good,
                "sealed segment does not end with a whole "
                "batch");
      *end = good;
      return 1;
    }
    v->rep->tail_bytes = len - good;
  }
  *end = good;
  return 0;
}

/* Checks the stream entries of index image `b` (`len` bytes, from `at`)
 * against the segment's events `v->ev` (`count` of them, from position
 * `first`): each entry names a stream, its first version there, and the
 * relative positions and record offsets of its events; together they name
 * every event once. Returns 0, the offset in the image of the first
 * mismatch + 1, or ES_ENOMEM as a negative value. */
static int64_t vf_index_streams(verifier *v, const uint8_t *b, size_t len,
                                size_t at, uint64_t count, uint32_t n_streams) {
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  uint8_t *seen = es__calloc((size_t)(count / 8 + 1), 1);
  uint64_t total = 0;
  int64_t bad = 0;

  if (!seen)
    return -1;
  for (uint32_t e = 0; e < n_streams && !bad; e++) {
    uint32_t tl, kl, cnt;
    uint64_t ver;
    size_t rel, offs;
    log_stream *st;

    if (len - at < IDX_STREAM) {
      bad = (int64_t)at + 1;
      break;
    }
    tl = es__get16(b + at);
    kl = es__get16(b + at + 2);
    cnt = es__get32(b + at + 4);
    ver = es__get64(b + at + 8);
    if (tl < 1 || tl > ES_STREAM_TYPE_MAX || kl < 1 || kl > ES_KEY_MAX ||
        cnt < 1 || cnt > count - total ||
        (uint64_t)(len - at - IDX_STREAM) < tl + kl + (uint64_t)cnt * 8) {
      bad = (int64_t)at + 1;
      break;
    }
    memcpy(id, b + at + IDX_STREAM, tl);
    id[tl] = '\0';
    memcpy(id + tl + 1, b + at + IDX_STREAM + tl, kl);
    st = memchr(id, 0, tl) ? NULL : find_stream(v->s, id, (size_t)tl + 1 + kl);
    rel = at + IDX_STREAM + tl + kl;
    offs = rel + 4 * (size_t)cnt;
    for (uint32_t k = 0; k < cnt && !bad; k++) {
      uint32_t d = es__get32(b + rel + 4 * (size_t)k), o;
      const vf_event *ev;
      if (d >= count || (seen[d / 8] >> (d % 8)) & 1) {
        bad = (int64_t)(rel + 4 * (size_t)k) + 1;
        break;
      }
      seen[d / 8] |= (uint8_t)(1u << (d % 8));
      ev = &v->ev[d];
      o = es__get32(b + offs + 4 * (size_t)k);
      if (!st || ev->st != st || ev->version != ver + k)
        bad = (int64_t)(rel + 4 * (size_t)k) + 1;
      else if (o != (ev->off < OFF_NONE ? (uint32_t)ev->off : OFF_NONE))
        bad = (int64_t)(offs + 4 * (size_t)k) + 1;
    }
    total += cnt;
    at = offs + 4 * (size_t)cnt;
  }
  if (!bad && (at != len || total != count))
    bad = (int64_t)at + 1;
  es__free(seen);
  return bad;
}

/* Checks the index file of the sealed segment from `first` (`size` bytes,
 * its events in `v->ev`), when there is one: header, CRC, sparse
 * locations and stream entries must all match the segment. */
static int vf_index(verifier *v, uint64_t first, uint64_t size) {
  log_store *s = v->s;
  char name[32];
  uint8_t *b = NULL;
  size_t cap = 0;
  uint64_t count = v->n_ev, jlo, jhi;
  uint64_t max = IDX_HDR + (count / IDX_K + 2) * 8 +
                 count * (IDX_STREAM + ES_STREAM_TYPE_MAX + ES_KEY_MAX + 8);
  int64_t len, bad = 0;
  struct stat sb;
  int fd;

  idx_name(name, first);
  fd = s->io->openat(s->dirfd, name, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return errno == ENOENT ? 0 : ES_EIO; /* none: best effort */
  if (s->io->fstat(fd, &sb) != 0) {
    s->io->close(fd);
    return ES_EIO;
  }
  s->io->close(fd);
  v->rep->indexes++;
  if ((uint64_t)sb.st_size < IDX_HDR || (uint64_t)sb.st_size > max) {
    vf_damage(v, name, 0, "index file of impossible size");
    return 0;
  }
  len = read_small(s, name, &b, &cap, IDX_HDR, max);
  if (len < 0)
    return ES_ENOMEM;
  if (len == 0) {
    es__free(b);
    return ES_EIO;
  }
  sparse_range(first, first + count, &jlo, &jhi);
  if (memcmp(b, IDX_MAGIC, 8) != 0)
    bad = 1;
  else if (es__get32(b + 8) != es__crc32c(0, b + 12, (size_t)len - 12))
    bad = 9;
  else if (es__get32(b + 12) != IDX_K)
    bad = 13;
  else if (es__get64(b + 16) != first)
    bad = 17;
  else if (es__get64(b + 24) != count)
    bad = 25;
  else if (es__get64(b + 32) != size)
    bad = 33;
  else if (es__get32(b + 40) > count)
    bad = 41;
  else if (es__get32(b + 44) != jhi - jlo ||
           (uint64_t)len - IDX_HDR < (jhi - jlo) * 8)
    bad = 45;
  for (uint64_t j = jlo; !bad && j < jhi; j++)
    if (es__get64(b + IDX_HDR + (j - jlo) * 8) !=
        v->ev[j * IDX_K + 1 - first].off)
      bad = (int64_t)(IDX_HDR + (j - jlo) * 8) + 1;
  if (!bad)
    bad = vf_index_streams(v, b, (size_t)len, IDX_HDR + (size_t)(jhi - jlo) * 8,
                           count, es__get32(b + 40));
  es__free(b);
  if (bad < 0)
    return ES_ENOMEM;
  if (bad)
    vf_damage(v, name, (uint64_t)(bad - 1),
              "index file does not match its segment");
  return 0;
}

/* What vf_cmd_entry() compares an N.cmd's entries with. */
typedef struct vf_cmd_ctx {
  verifier *v;
  const uint8_t *seg; /* the segment's bytes */
  uint64_t first;
  uint64_t bad; /* the offset in the file of the first mismatch + 1 */
} vf_cmd_ctx;

/* An N.cmd entry must name the causation id of each event it covers, with
 * the first one's time. */
static int vf_cmd_entry(const es__cmd_entry *e, uint64_t at_byte, void *vctx) {
  vf_cmd_ctx *x = vctx;
  for (uint32_t k = 0; k < e->n; k++) {
    const uint8_t *b = x->seg + x->v->ev[e->first - x->first + k].off + FRAME;
    if (memcmp(b + 69, e->id.bytes, 16) != 0 ||
        (k == 0 && (es_timestamp)es__get64(b + 29) != e->at)) {
      x->bad = at_byte + 1;
      return 1;
    }
  }
  return 0;
}

/* Checks the command-id file N.cmd of the sealed segment from `first`
 * (its bytes `seg`, its events in `v->ev`), when there is one: whole,
 * describing the segment's positions, and each entry naming the causation
 * id its events carry. Returns 0, ES_EIO or ES_ENOMEM. */
static int vf_cmds(verifier *v, uint64_t first, const uint8_t *seg) {
  vf_cmd_ctx x = {v, seg, first, 0};
  char name[32];
  uint8_t *b = NULL;
  size_t cap = 0;
  int64_t len;
  int fd, rc;

  cmd_name(name, first);
  fd = v->s->io->openat(v->s->dirfd, name, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return errno == ENOENT ? 0 : ES_EIO; /* none: a scan rebuilds it */
  v->s->io->close(fd);
  v->rep->cmd_files++;
  len = read_small(v->s, name, &b, &cap, 1, (uint64_t)64 << 20);
  if (len < 0)
    return ES_ENOMEM;
  if (len == 0) {
    vf_damage(v, name, 0, "command-id file empty or of impossible size");
    return 0;
  }
  rc = es__cmd_image_each(b, (size_t)len, first, first + v->n_ev, vf_cmd_entry,
                          &x);
  es__free(b);
  if (rc)
    vf_damage(v, name, x.bad ? x.bad - 1 : 0,
              "command-id file does not match its segment");
  return 0;
}

/* Verifies the segment from `first` (`last`: the newest), then its index
 * when it is sealed. */
static int vf_segment(verifier *v, uint64_t first, int last) {
  log_store *s = v->s;
  char name[32];
  uint8_t *buf = NULL;
  struct stat sb;
  uint64_t len, end = 0;
  int fd, rc = 0;

  seg_name(name, first);
  v->rep->segments++;
  fd = s->io->openat(s->dirfd, name, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return ES_EIO;
  if (s->io->fstat(fd, &sb) != 0 || (uint64_t)sb.st_size > SIZE_MAX - 1) {
    rc = ES_EIO;
    goto done;
  }
  len = (uint64_t)sb.st_size;
  if (first != v->next && !v->skip_gap) {
    vf_damage(v, name, 0,
              first > v->next ? "segment leaves a gap in the positions"
                              : "segment repeats positions");
    v->lost++;
  }
  v->next = first; /* go on from here */
  v->skip_gap = 0;
  if (len < SEG_HDR) {
    if (last) /* being created, or a roll that died: a writer repairs it */
      v->rep->tail_bytes = len;
    else
      vf_damage(v, name, 0, "short segment header");
    v->skip_gap = 1;
    goto done;
  }
  buf = es__malloc((size_t)len);
  if (!buf) {
    rc = ES_ENOMEM;
    goto done;
  }
  { /* a writer may cut zeros meanwhile */
    int64_t got = pread_upto(s->io, fd, buf, (size_t)len, 0);
    if (got < 0) {
      rc = ES_EIO;
      goto done;
    }
    len = (uint64_t)got;
  }
  if (len < SEG_HDR || memcmp(buf, SEG_MAGIC, 8) != 0 ||
      es__get64(buf + 8) != first) {
    if (last && !valid_frame_after(buf, 0, len)) {
      v->rep->tail_bytes = len; /* a roll that died: a writer repairs it */
      v->skip_gap = 1;
      goto done;
    }
    vf_damage(v, name, 0, "bad segment header");
    v->lost++;
    v->skip_gap = 1;
    goto done;
  }
  rc = vf_records(v, name, buf, len, last, &end);
  if (rc == 1) { /* framing lost: the next segment starts afresh */
    v->lost++;
    v->skip_gap = 1;
    rc = 0;
  } else if (rc == 0 && !last) {
    rc = vf_index(v, first, end);
    if (rc == 0)
      rc = vf_cmds(v, first, buf);
  }

done:
  es__free(buf);
  s->io->close(fd);
  return rc;
}

int es_store_verify_log(const char *dir, es_store_verify_report *rep) {
  es_store_verify_report scratch;
  verifier v;
  log_store *s;
  uint64_t *nums = NULL;
  uint32_t k = 0;
  size_t i = 0;
  void *st;
  int rc;

  if (!rep) {
    memset(&scratch, 0, sizeof scratch);
    rep = &scratch;
  }
  {
    void (*fn)(const char *, uint64_t, const char *, void *) = rep->on_damage;
    void *ctx = rep->ctx;
    memset(rep, 0, sizeof *rep);
    rep->on_damage = fn;
    rep->ctx = ctx;
  }
  if (!dir || !*dir || strlen(dir) >= PATH_MAX)
    return ES_EINVAL;
  s = es__calloc(1, sizeof *s);
  if (!s)
    return ES_ENOMEM;
  s->io = es__io_get();
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  es__rng_seed(s->rng, s);
  es__hashmap_init(&s->streams, es__rng_next(s->rng), es__rng_next(s->rng));
  memset(&v, 0, sizeof v);
  v.s = s;
  v.rep = rep;
  v.next = 1;
  s->dirfd = s->io->open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  rc = s->dirfd < 0 ? ES_EIO : list_segs(s, &nums, &k);
  for (uint32_t j = 0; rc == 0 && j < k; j++)
    rc = vf_segment(&v, nums[j], j + 1 == k);
  rep->head = v.next - 1;
  es__free(nums);
  es__free(v.ev);
  while ((st = es__hashmap_next(&s->streams, &i)) != NULL)
    stream_free(st);
  es__hashmap_close(&s->streams);
  if (s->dirfd >= 0)
    s->io->close(s->dirfd);
  es__free(s);
  if (rc == 0 && rep->damage)
    rc = ES_ECORRUPT;
  return rc;
}
