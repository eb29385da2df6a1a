/*
 * test_store_log.c - the embedded log: the shared store cases of
 * store_cases.h, then what only a disk store has: reopening, torn tails,
 * damage, the writer lock, read-only openers, and a SIGKILL crash loop.
 *
 * Every store lives in its own directory under /tmp, removed afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../runtime/src/store/io.h"
#include "../../runtime/src/util/crc32c.h"
#include "es/es_error.h"
#include "es/es_store.h"

#include "dir.h"

#define CASE_KIND "log"
#define MAX_OPEN 16

static char dirs[MAX_OPEN][64];
static es_store *opened[MAX_OPEN];

/* A fresh directory under /tmp; `out` must hold 64 bytes. */
static int fresh_dir(char *out) {
  snprintf(out, 64, "/tmp/es_log_test.XXXXXX");
  return mkdtemp(out) ? 0 : -1;
}

static int case_open(es_store **out, const es_store_options *opt) {
  int slot = 0, rc;
  if (!out)
    return es_store_open_log(NULL, "/tmp", opt, 0);
  while (slot < MAX_OPEN && opened[slot])
    slot++;
  if (slot == MAX_OPEN || fresh_dir(dirs[slot]) != 0)
    return ES_EIO;
  rc = es_store_open_log(out, dirs[slot], opt, 0);
  if (rc == 0)
    opened[slot] = *out;
  else
    remove_dir(dirs[slot]);
  return rc;
}

static void case_close(es_store *t) {
  es_store_close(t);
  for (int i = 0; i < MAX_OPEN; i++)
    if (t && opened[i] == t) {
      remove_dir(dirs[i]);
      opened[i] = NULL;
    }
}

#include "store_cases.h"

/* ---- log-only cases ------------------------------------------------------ */

static char dir[64];

static void log_setup(void) { cr_assert_eq(fresh_dir(dir), 0); }
static void log_teardown(void) { remove_dir(dir); }

TestSuite(log, .init = log_setup, .fini = log_teardown, .timeout = 60);

static es_store *open_dir(const es_store_options *o, unsigned flags) {
  es_store *t = NULL;
  int rc = es_store_open_log(&t, dir, o, flags);
  cr_assert_eq(rc, 0, "open: %s", es_err_name(rc));
  return t;
}

/* The path of the newest segment (highest name) of `dir`. */
static void newest_seg(char path[512]) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char best[32] = "";
  cr_assert(d);
  while ((e = readdir(d)) != NULL)
    if (strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".seg") == 0 &&
        strcmp(e->d_name, best) > 0)
      snprintf(best, sizeof best, "%s", e->d_name);
  closedir(d);
  cr_assert(best[0]);
  snprintf(path, 512, "%s/%s", dir, best);
}

static off_t file_size(const char *path) {
  struct stat sb;
  cr_assert_eq(stat(path, &sb), 0);
  return sb.st_size;
}

static void flip_byte(const char *path, off_t at) {
  int fd = open(path, O_RDWR);
  uint8_t c;
  cr_assert(fd >= 0);
  cr_assert_eq(pread(fd, &c, 1, at), 1);
  c ^= 0x10;
  cr_assert_eq(pwrite(fd, &c, 1, at), 1);
  close(fd);
}

/* Appends one two-stream batch ("A", "B" keyed `key`): positions come in
 * pairs, so an odd head would show half a batch. */
static int append_pair(es_store *t, const char *key, const char *text) {
  es_new_event e = ev(text);
  es_append_stream g[2] = {
      {"A", key, {ES_EXPECT_ANY, 0}, &e, 1, 0},
      {"B", key, {ES_EXPECT_ANY, 0}, &e, 1, 0},
  };
  return es_store_append(t, g, 2, NULL);
}

static uint64_t head_of(es_store *t) {
  uint64_t h = 999;
  cr_assert_eq(es_store_head(t, &h), 0);
  return h;
}

Test(log, crc32c_check_vector) {
  cr_assert_eq(es__crc32c(0, "123456789", 9), 0xE3069283u);
  cr_assert_eq(es__crc32c(es__crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
  cr_assert_eq(es__crc32c(0, NULL, 0), 0u);
}

/* The crc32 instruction (when the CPU has it) and the table agree on
 * random data of every length 0 .. 600 at every alignment 0 .. 15, and on
 * runs continued at random split points. */
Test(log, crc32c_matches_the_table_version_on_random_data) {
  static unsigned char buf[4096 + 16];
  unsigned long long x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < sizeof buf; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = (unsigned char)x;
  }
  cr_assert_eq(es__crc32c_sw(0, "123456789", 9), 0xE3069283u);
  for (size_t len = 0; len <= 600; len++)
    for (size_t a = 0; a < 16; a++) {
      uint32_t seed = (uint32_t)(len * 16 + a);
      cr_assert_eq(es__crc32c(seed, buf + a, len),
                   es__crc32c_sw(seed, buf + a, len), "len %zu align %zu", len,
                   a);
    }
  for (int r = 0; r < 2000; r++) {
    size_t a, len, cut;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    a = (size_t)(x % 16);
    len = (size_t)((x >> 8) % 4096);
    cut = len ? (size_t)((x >> 24) % len) : 0;
    cr_assert_eq(
        es__crc32c(es__crc32c(0, buf + a, cut), buf + a + cut, len - cut),
        es__crc32c_sw(0, buf + a, len));
  }
  cr_log_info("crc32c: %s", es__crc32c_hw() ? "crc32 instruction" : "table");
}

Test(log, bad_open_arguments) {
  es_store *t = (es_store *)1;
  cr_assert_eq(es_store_open_log(NULL, dir, NULL, 0), ES_EINVAL);
  cr_assert_eq(es_store_open_log(&t, NULL, NULL, 0), ES_EINVAL);
  cr_assert_null(t);
  cr_assert_eq(es_store_open_log(&t, dir, NULL, 0x80), ES_EINVAL);
  cr_assert_eq(es_store_open_log(&t, "/tmp/es_log_test_missing/x", NULL,
                                 ES_STORE_READONLY),
               ES_EIO);
}

Test(log, reopen_preserves_everything) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_snapshot_info in = {7, 0xabc}, out = {0, 0};
  seen *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
  es_new_event e[3];
  es_store *t;
  es_buf buf;
  uint64_t pos = 0;
  char text[3][16];

  o.segment_size = 300; /* a few records a segment: exercise rolling */
  t = open_dir(&o, 0);
  for (int i = 0; i < 20; i++) {
    char key[8];
    snprintf(key, sizeof key, "k%d", i % 3);
    for (int j = 0; j < 3; j++) {
      snprintf(text[j], sizeof text[j], "e%d.%d", i, j);
      e[j] = ev(text[j]);
      e[j].correlation_id.bytes[0] = (uint8_t)i;
      e[j].timestamp = 1000 + i;
    }
    cr_assert_eq(es_store_append_one(t, "Acc", key, es_expect_any(), e,
                                     (uint32_t)(1 + i % 3), NULL),
                 0);
  }
  cr_assert_eq(es_store_snapshot_put(t, "Acc", "k1", &in, "snap", 4), 0);
  cr_assert_eq(es_store_checkpoint_put(t, "proj/../x", 33, "cp", 2), 0);
  cr_assert_eq(es_store_read_all(t, 1, 0, collect, a), 0);
  es_store_close(t);

  t = open_dir(&o, 0);
  cr_assert_eq(es_store_read_all(t, 1, 0, collect, b), 0);
  cr_assert_eq(a->n, 39); /* 7 appends of 1, 7 of 2, 6 of 3 events */
  cr_assert_eq(b->n, a->n);
  for (uint32_t i = 0; i < a->n; i++) {
    cr_assert_eq(b->position[i], i + 1);
    cr_assert_eq(b->version[i], a->version[i]);
    cr_assert_str_eq(b->key[i], a->key[i]);
    cr_assert_str_eq(b->text[i], a->text[i]);
    cr_assert_eq(memcmp(&b->meta[i], &a->meta[i], sizeof a->meta[i]), 0);
  }
  cr_assert_eq(es_store_stream_version(t, "Acc", "k0", &pos), 0);
  cr_assert_eq(pos, 7); /* i = 0, 3, .., 18: one event each */
  es_buf_init(&buf, 0);
  cr_assert_eq(es_store_snapshot_get(t, "Acc", "k1", &out, &buf), 0);
  cr_assert_eq(out.version, 7);
  cr_assert_eq(out.layout, 0xabc);
  cr_assert_eq(buf.len, 4);
  cr_assert_eq(es_store_checkpoint_get(t, "proj/../x", &pos, &buf), 0);
  cr_assert_eq(pos, 33);
  cr_assert_eq(memcmp(buf.data, "cp", 2), 0);
  es_buf_close(&buf);
  /* appends continue where the log ended */
  cr_assert_eq(
      es_store_append_one(t, "Acc", "k0", es_expect_exact(7), e, 1, &pos), 0);
  cr_assert_eq(pos, 8);
  cr_assert_eq(head_of(t), 40);
  es_store_close(t);
  free(a);
  free(b);
}

Test(log, torn_tail_is_cut_reported_and_appends_continue) {
  es_store_open_report rep;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char seg[512];
  es_store *t = open_dir(NULL, 0);

  for (int i = 0; i < 3; i++)
    cr_assert_eq(append_pair(t, "k", "payload"), 0);
  es_store_close(t);
  newest_seg(seg);
  cr_assert_eq(truncate(seg, file_size(seg) - 5), 0); /* mid-record */

  o.report = &rep;
  t = open_dir(&o, 0);
  cr_assert_gt(rep.dropped_bytes, 0);
  cr_assert_str_eq(rep.file, strrchr(seg, '/') + 1);
  cr_assert_eq((off_t)rep.offset, file_size(seg));
  cr_assert(strstr(rep.message, "torn tail"), "%s", rep.message);
  cr_assert_eq(head_of(t), 4, "the torn batch vanished whole");
  cr_assert_eq(append_pair(t, "k", "again"), 0);
  cr_assert_eq(head_of(t), 6);
  es_store_close(t);

  t = open_dir(&o, 0);
  cr_assert_eq(rep.dropped_bytes, 0);
  cr_assert_str_eq(rep.message, "");
  cr_assert_eq(head_of(t), 6);
  es_store_close(t);
}

Test(log, flipped_bit_in_the_last_record_is_cut) {
  es_store_open_report rep;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char seg[512];
  es_store *t = open_dir(NULL, 0);

  for (int i = 0; i < 3; i++)
    cr_assert_eq(append_pair(t, "k", "payload"), 0);
  es_store_close(t);
  newest_seg(seg);
  flip_byte(seg, file_size(seg) - 2);
  o.report = &rep;
  t = open_dir(&o, 0);
  cr_assert_gt(rep.dropped_bytes, 0);
  cr_assert_eq(head_of(t), 4);
  cr_assert_eq(append_pair(t, "k", "again"), 0);
  es_store_close(t);
}

Test(log, flipped_bit_mid_log_is_corrupt_with_file_and_offset) {
  es_store_open_report rep;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char seg[512];
  es_store *t = open_dir(NULL, 0);

  for (int i = 0; i < 3; i++)
    cr_assert_eq(append_pair(t, "k", "payload"), 0);
  es_store_close(t);
  newest_seg(seg);
  flip_byte(seg, 16 + 8 + 100); /* inside the first record */
  o.report = &rep;
  t = (es_store *)1;
  cr_assert_eq(es_store_open_log(&t, dir, &o, 0), ES_ECORRUPT);
  cr_assert_null(t);
  cr_assert_str_eq(rep.file, strrchr(seg, '/') + 1);
  cr_assert_eq(rep.offset, 16, "the damaged record's offset");
  cr_assert(strstr(rep.message, rep.file), "%s", rep.message);
  cr_assert_eq(es_store_open_log(&t, dir, &o, ES_STORE_READONLY), ES_ECORRUPT,
               "readers refuse it too");
  cr_assert_eq(file_size(seg) > 16 + 8 + 100, 1, "nothing was cut");
}

/* Writes `n` zero bytes at `at`: a piece of a write that never reached the
 * disk while a later piece did. */
static void zero_range(const char *path, off_t at, size_t n) {
  uint8_t z[256] = {0};
  int fd = open(path, O_RDWR);
  cr_assert(fd >= 0 && n <= sizeof z);
  cr_assert_eq(pwrite(fd, z, n, at), (ssize_t)n);
  close(fd);
}

/* The newest segment after three pairs, its size then, and after a
 * fourth. */
/* Four batches of two events; `*three` and `*four` are where the third
 * and the fourth end. The sizes are taken after a close: an open writer's
 * file reaches past its records (zeros written ahead), a closed one's
 * ends with them. */
static void four_pairs(char seg[512], off_t *three, off_t *four) {
  es_store *t = open_dir(NULL, 0);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(append_pair(t, "k", "payload"), 0);
  es_store_close(t);
  newest_seg(seg);
  *three = file_size(seg);
  t = open_dir(NULL, 0);
  cr_assert_eq(append_pair(t, "k", "payload"), 0);
  es_store_close(t);
  *four = file_size(seg);
}

Test(log, a_last_batch_whose_start_never_reached_the_disk_is_cut) {
  es_store_open_report rep;
  es_store_verify_report vr;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char seg[512];
  off_t three, four;
  es_store *t;

  four_pairs(seg, &three, &four);
  zero_range(seg, three, 40); /* its end (and commit record) survived */
  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), 0, "%s", vr.message);
  cr_assert_eq(vr.head, 6);
  cr_assert_eq(vr.tail_bytes, (uint64_t)(four - three));
  o.report = &rep;
  t = open_dir(&o, 0);
  cr_assert_eq(head_of(t), 6, "the unfinished batch is gone, whole");
  cr_assert_eq(rep.dropped_bytes, (uint64_t)(four - three));
  cr_assert(strstr(rep.message, "torn tail"), "%s", rep.message);
  cr_assert_eq(file_size(seg), three);
  cr_assert_eq(append_pair(t, "k", "again"), 0);
  es_store_close(t);
}

Test(log, damage_before_a_whole_batch_is_corrupt_not_a_torn_tail) {
  es_store_open_report rep;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char seg[512];
  off_t three, four;
  es_store *t = (es_store *)1;

  four_pairs(seg, &three, &four);
  zero_range(seg, three - 40, 40); /* the third batch's end */
  o.report = &rep;
  cr_assert_eq(es_store_open_log(&t, dir, &o, 0), ES_ECORRUPT,
               "the fourth batch was acknowledged: nothing may be cut");
  cr_assert_null(t);
  cr_assert(strstr(rep.message, "followed by valid data"), "%s", rep.message);
  cr_assert_eq(file_size(seg), four, "nothing was cut");
}

/* A writer that dies leaves `pairs` batches and the zeros it wrote ahead
 * of them in the newest segment (default options: up to 1 MiB). */
static void die_after_pairs(int pairs) {
  pid_t child = fork();
  int status;
  cr_assert(child >= 0);
  if (child == 0) {
    es_store *w = NULL;
    if (es_store_open_log(&w, dir, NULL, 0) != 0)
      _exit(3);
    for (int i = 0; i < pairs; i++)
      if (append_pair(w, "k", "payload") != 0)
        _exit(4);
    _exit(0);
  }
  cr_assert_eq(waitpid(child, &status, 0), child);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
}

/* A writer keeps zeros written ahead of its records in the newest
 * segment (so that a sync has no file size to update). A writer that dies
 * leaves them: they are no tail, nothing is dropped or reported, the next
 * append goes right after the records, and a close cuts them. */
Test(log, zeros_written_ahead_are_no_torn_tail) {
  es_store_open_report rep;
  es_store_verify_report vr;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char seg[512];
  off_t ahead, closed;
  es_store *t;

  die_after_pairs(3);
  newest_seg(seg);
  ahead = file_size(seg);
  cr_assert_geq(ahead, 1 << 19, "zeros written ahead: %lld", (long long)ahead);

  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), 0, "%s", vr.message);
  cr_assert_eq(vr.head, 6);
  cr_assert_eq(vr.tail_bytes, 0);
  o.report = &rep;
  t = open_dir(&o, 0);
  cr_assert_eq(rep.dropped_bytes, 0);
  cr_assert_str_eq(rep.message, "");
  cr_assert_eq(head_of(t), 6);
  cr_assert_eq(file_size(seg), ahead, "the open keeps them");
  cr_assert_eq(append_pair(t, "k", "again"), 0);
  es_store_close(t);
  closed = file_size(seg);
  cr_assert_lt(closed, 4096, "the close cut them: %lld", (long long)closed);

  t = open_dir(&o, 0);
  cr_assert_eq(rep.dropped_bytes, 0);
  cr_assert_eq(head_of(t), 8, "the append went right after the records");
  es_store_close(t);
  cr_assert_eq(file_size(seg), closed);
}

Test(log, a_second_writer_is_refused_with_the_pid) {
  es_store_open_report rep;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *t = open_dir(NULL, 0), *u = (es_store *)1, *r;
  char want[64];
  pid_t child;
  int status;

  o.report = &rep;
  cr_assert_eq(es_store_open_log(&u, dir, &o, 0), ES_ELOCKED);
  cr_assert_null(u);
  cr_assert_eq(rep.locked_pid, (long)getpid());
  snprintf(want, sizeof want, "locked by pid %ld", (long)getpid());
  cr_assert(strstr(rep.message, want), "%s", rep.message);
  /* from another process as well */
  child = fork();
  cr_assert(child >= 0);
  if (child == 0) {
    es_store *v = NULL;
    int rc = es_store_open_log(&v, dir, &o, 0);
    _exit(rc == ES_ELOCKED && rep.locked_pid == (long)getppid() ? 0 : 1);
  }
  cr_assert_eq(waitpid(child, &status, 0), child);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* readers take no lock */
  r = open_dir(NULL, ES_STORE_READONLY);
  es_store_close(r);
  es_store_close(t);
  u = open_dir(NULL, 0); /* the lock went with the writer */
  es_store_close(u);
}

Test(log, a_segment_created_without_its_header_is_repaired) {
  es_store_open_report rep;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char seg[512];
  es_store *t = open_dir(NULL, 0);
  int fd;

  cr_assert_eq(append_pair(t, "k", "payload"), 0);
  es_store_close(t);
  /* a roll killed between creating the file and writing its header */
  snprintf(seg, sizeof seg, "%s/%020d.seg", dir, 3);
  fd = open(seg, O_RDWR | O_CREAT | O_EXCL, 0644);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, "ESLOG", 5), 5);
  close(fd);
  o.report = &rep;
  t = open_dir(&o, 0);
  cr_assert_eq(rep.dropped_bytes, 5);
  cr_assert(strstr(rep.message, "header"), "%s", rep.message);
  cr_assert_eq(head_of(t), 2);
  cr_assert_eq(append_pair(t, "k", "again"), 0);
  es_store_close(t);
  cr_assert_gt(file_size(seg), 16, "the append went to the new segment");
  t = open_dir(&o, 0);
  cr_assert_eq(head_of(t), 4);
  es_store_close(t);
}

Test(log, a_segment_header_missing_its_first_piece_is_repaired) {
  es_store_open_report rep;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_verify_report vr;
  char seg[512];
  es_store *t = open_dir(NULL, 0), *u = (es_store *)1;
  int fd;

  cr_assert_eq(append_pair(t, "k", "payload"), 0);
  es_store_close(t);
  /* a roll's header written in two pieces; only the second reached the
   * disk before the power went */
  snprintf(seg, sizeof seg, "%s/%020d.seg", dir, 3);
  fd = open(seg, O_RDWR | O_CREAT | O_EXCL, 0644);
  cr_assert(fd >= 0);
  cr_assert_eq(pwrite(fd, "\0SLOGSG1\3\0\0\0\0\0\0\0", 16, 0), 16);
  close(fd);
  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), 0, "%s", vr.message);
  cr_assert_eq(vr.tail_bytes, 16);
  o.report = &rep;
  t = open_dir(&o, 0);
  cr_assert_eq(rep.dropped_bytes, 16);
  cr_assert(strstr(rep.message, "header"), "%s", rep.message);
  cr_assert_eq(head_of(t), 2);
  cr_assert_eq(append_pair(t, "k", "again"), 0);
  es_store_close(t);

  /* the same damage with a batch after it is not a torn header */
  flip_byte(seg, 0);
  cr_assert_eq(es_store_open_log(&u, dir, &o, 0), ES_ECORRUPT);
  cr_assert_null(u);
  cr_assert(strstr(rep.message, "bad segment header"), "%s", rep.message);
}

typedef struct writer_arg {
  es_store *t;
  int n;
} writer_arg;

static void *writer(void *arg) {
  writer_arg *w = arg;
  for (int i = 0; i < w->n; i++)
    T_CHECK(append_pair(w->t, "w", "live") == 0);
  return NULL;
}

static int check_order(const es_stored_event *e, void *ctx) {
  uint64_t *next = ctx;
  T_CHECK(e->meta.position == *next);
  T_CHECK(e->len == 4 && memcmp(e->payload, "live", 4) == 0);
  (*next)++;
  return 0;
}

Test(log, a_read_only_opener_reads_while_a_writer_appends) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  writer_arg w;
  pthread_t th;
  es_store *t, *r;
  uint64_t next = 1, h = 0, seen_max = 0;
  es_snapshot_info in = {1, 2};
  es_new_event e = ev("x");

  o.segment_size = 2048;
  t = open_dir(&o, 0);
  for (int i = 0; i < 5; i++)
    cr_assert_eq(append_pair(t, "w", "live"), 0);
  r = open_dir(&o, ES_STORE_READONLY);
  cr_assert_eq(head_of(r), 10);
  cr_assert_eq(es_store_append_one(r, "A", "k", es_expect_any(), &e, 1, NULL),
               ES_EREADONLY);
  cr_assert_eq(es_store_snapshot_put(r, "A", "k", &in, "s", 1), ES_EREADONLY);
  w.t = t;
  w.n = 200;
  cr_assert_eq(pthread_create(&th, NULL, writer, &w), 0);
  while (seen_max < 410) {
    h = head_of(r);
    cr_assert(h % 2 == 0, "whole batches only");
    cr_assert(h >= seen_max);
    seen_max = h;
    cr_assert_eq(es_store_read_all(r, next, 0, check_order, &next), 0);
    cr_assert(next - 1 >= h);
  }
  pthread_join(th, NULL);
  cr_assert_eq(next, 411);
  cr_assert_eq(es_store_stream_version(r, "A", "w", &h), 0);
  cr_assert_eq(h, 205);
  es_store_close(r);
  es_store_close(t);
}

/* The writer process of the waiting test: for every byte read from `go`,
 * appends `pairs` batches (small segments, so some roll to a new one),
 * a moment later so that the reader is most likely blocked by then (the
 * test holds either way). */
static void appending_child(int go, int pairs) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *t = NULL;
  char c;

  o.segment_size = 1024;
  if (es_store_open_log(&t, dir, &o, 0) != 0)
    _exit(3);
  while (read(go, &c, 1) == 1) {
    struct timespec d = {0, 20000000}; /* let the reader block first */
    nanosleep(&d, NULL);
    for (int i = 0; i < pairs; i++)
      if (append_pair(t, "other", "live") != 0)
        _exit(4);
  }
  es_store_close(t);
  _exit(0);
}

/* A read-only opener waits for appends made by a writer in another
 * process: each wait returns with the new head, the view (head, stream
 * versions, reads) follows, across new segments. The 30 s timeout only
 * guards against a wait that never notices. */
Test(log, a_read_only_waiter_sees_another_process_append, .timeout = 120) {
  es_store *t = open_dir(NULL, 0), *r;
  int go[2], status;
  uint64_t h, v = 0, next = 1;
  pid_t child;

  cr_assert_eq(append_pair(t, "other", "live"), 0);
  es_store_close(t);
  r = open_dir(NULL, ES_STORE_READONLY);
  cr_assert_eq(head_of(r), 2);
  cr_assert_eq(pipe(go), 0);
  child = fork();
  cr_assert(child >= 0);
  if (child == 0) {
    close(go[1]);
    appending_child(go[0], 3);
  }
  close(go[0]);
  h = 2;
  for (int round = 0; round < 6; round++) {
    uint64_t want = h + 6, got = 0;
    cr_assert_eq(write(go[1], "a", 1), 1); /* the child appends now */
    while (h < want) {
      int rc = es_store_wait(r, h, 30000000, &got);
      cr_assert_eq(rc, 0, "round %d: waiting after %llu: %s", round,
                   (unsigned long long)h, es_err_name(rc));
      cr_assert_gt(got, h);
      h = got;
    }
    cr_assert_eq(h, want, "round %d", round);
    cr_assert_eq(head_of(r), want);
    cr_assert_eq(es_store_stream_version(r, "B", "other", &v), 0);
    cr_assert_eq(v, want / 2);
    cr_assert_eq(es_store_read_all(r, next, 0, check_order, &next), 0);
    cr_assert_eq(next, want + 1);
  }
  close(go[1]);
  cr_assert_eq(waitpid(child, &status, 0), child);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
  {
    es_store_open_report rep;
    es_store_options o = ES_STORE_OPTIONS_INIT;
    o.report = &rep;
    es_store_close(open_dir(&o, ES_STORE_READONLY));
    cr_assert_gt(rep.segments_indexed, 0, "the appends rolled segments");
  }
  es_store_close(r);
}

typedef struct ro_waiter {
  es_store *r;
  uint64_t after;
  int rc;
  _Atomic int done;
} ro_waiter;

static void *ro_wait_forever(void *arg) {
  ro_waiter *w = arg;
  uint64_t h;
  w->rc = es_store_wait(w->r, w->after, -1, &h);
  atomic_store(&w->done, 1);
  return NULL;
}

/* Waiters on a read-only store (one of them blocked on the directory
 * watch, the others behind it) all return ES_EINTERRUPTED. */
Test(log, interrupt_releases_read_only_waiters) {
  es_store *t = open_dir(NULL, 0), *r;
  ro_waiter w[3];
  pthread_t th[3];

  cr_assert_eq(append_pair(t, "k", "live"), 0);
  es_store_close(t);
  r = open_dir(NULL, ES_STORE_READONLY);
  for (int i = 0; i < 3; i++) {
    w[i].r = r;
    w[i].after = 2;
    w[i].rc = 0;
    atomic_init(&w[i].done, 0);
    cr_assert_eq(pthread_create(&th[i], NULL, ro_wait_forever, &w[i]), 0);
  }
  /* An interrupt releases the waits already blocked; repeat until every
   * thread got there. */
  for (int i = 0; i < 3; i++)
    while (!atomic_load(&w[i].done)) {
      struct timespec d = {0, 5000000};
      es_store_interrupt(r);
      nanosleep(&d, NULL);
    }
  for (int i = 0; i < 3; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(w[i].rc, ES_EINTERRUPTED);
  }
  es_store_close(r);
}

/* ---- crash safety -----------------------------------------------------------
 */

/* The child: appends two-stream batches whose payloads name their own
 * stream version, and reports each acknowledged last position. */
static void crash_child(int wfd) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *t = NULL;
  char text[2][32];
  unsigned seed = (unsigned)getpid();

  o.segment_size = 4096;
  if (es_store_open_log(&t, dir, &o, 0) != 0)
    _exit(3);
  for (;;) {
    es_new_event e[2];
    es_append_stream g[2];
    es_append_result res;
    char key[8];
    uint64_t v[2];
    snprintf(key, sizeof key, "c%u", rand_r(&seed) % 5);
    for (int i = 0; i < 2; i++) {
      if (es_store_stream_version(t, i ? "B" : "A", key, &v[i]) != 0)
        _exit(4);
      snprintf(text[i], sizeof text[i], "%s:%llu", key,
               (unsigned long long)v[i] + 1);
      e[i] = ev(text[i]);
      g[i] = (es_append_stream){i ? "B" : "A", key, es_expect_exact(v[i]),
                                &e[i],         1,   0};
    }
    if (es_store_append(t, g, 2, &res) != 0)
      _exit(5);
    if (write(wfd, &res.last_position, sizeof res.last_position) !=
        (ssize_t)sizeof res.last_position)
      _exit(6);
  }
}

static int check_intact(const es_stored_event *e, void *ctx) {
  char want[48];
  uint64_t *next = ctx;
  T_CHECK(e->meta.position == *next);
  snprintf(want, sizeof want, "%s:%llu", e->meta.key,
           (unsigned long long)e->meta.version);
  T_CHECK(e->len == strlen(want) && memcmp(e->payload, want, e->len) == 0);
  (*next)++;
  return 0;
}

Test(log, sigkill_at_random_moments_loses_no_acknowledged_append,
     .timeout = 120) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  unsigned seed = 12345;
  uint64_t acked = 0, child_acks = 0;

  o.segment_size = 4096;
  for (int round = 0; round < 60; round++) {
    int p[2], status;
    pid_t child;
    uint64_t pos, next = 1;
    es_store *t;

    cr_assert_eq(pipe(p), 0);
    child = fork();
    cr_assert(child >= 0);
    if (child == 0) {
      close(p[0]);
      crash_child(p[1]);
    }
    close(p[1]);
    /* Kill it at a random moment after its first acknowledged append:
     * every round then has something the crash must not lose. */
    if (read(p[0], &pos, sizeof pos) != (ssize_t)sizeof pos) {
      cr_assert_eq(waitpid(child, &status, 0), child);
      cr_assert_fail("round %d: the child acknowledged nothing (status %d)",
                     round, status);
    }
    cr_assert_gt(pos, acked);
    acked = pos;
    child_acks++;
    {
      long us = (long)(rand_r(&seed) % 20000);
      struct timespec d = {0, us * 1000};
      nanosleep(&d, NULL);
    }
    cr_assert_eq(kill(child, SIGKILL), 0);
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFSIGNALED(status), "child exited early: %d",
              WEXITSTATUS(status));
    while (read(p[0], &pos, sizeof pos) == (ssize_t)sizeof pos) {
      cr_assert_gt(pos, acked);
      acked = pos;
      child_acks++;
    }
    close(p[0]);

    o.report = &rep;
    t = open_dir(&o, 0);
    cr_assert_eq(rep.segments_scanned, 1 + rep.indexes_written,
                 "round %d: only segments without an index were scanned",
                 round);
    pos = head_of(t);
    cr_assert_geq(pos, acked, "round %d: acknowledged %llu, head %llu", round,
                  (unsigned long long)acked, (unsigned long long)pos);
    cr_assert_eq(pos % 2, 0, "round %d: half a batch survived", round);
    cr_assert_eq(es_store_read_all(t, 1, 0, check_intact, &next), 0);
    cr_assert_eq(next, pos + 1);
    /* appends continue */
    {
      char key[8], text[2][32];
      es_new_event e[2];
      es_append_stream g[2];
      uint64_t v;
      snprintf(key, sizeof key, "p%d", round);
      for (int i = 0; i < 2; i++) {
        snprintf(text[i], sizeof text[i], "%s:1", key);
        e[i] = ev(text[i]);
        g[i] = (es_append_stream){i ? "B" : "A", key, es_expect_no_stream(),
                                  &e[i],         1,   0};
      }
      cr_assert_eq(es_store_append(t, g, 2, NULL), 0);
      cr_assert_eq(es_store_stream_version(t, "B", key, &v), 0);
      cr_assert_eq(v, 1);
    }
    acked = head_of(t);
    es_store_close(t);
    /* every sealed segment has its index again */
    t = open_dir(&o, ES_STORE_READONLY);
    cr_assert_eq(rep.segments_scanned, 1, "round %d", round);
    cr_assert_eq(head_of(t), acked);
    es_store_close(t);
    o.report = NULL;
  }
  cr_log_info("crash loop: %llu acknowledged child appends, head %llu",
              (unsigned long long)child_acks, (unsigned long long)acked);
}

/* ---- index files ------------------------------------------------------------
 */

#define IDX_STREAMS 40

/* How many files of `dir` end in `suffix` (".seg", ".idx") or, with a
 * suffix of "tmp-", start with it. */
static int count_files(const char *suffix) {
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t sl = strlen(suffix);
  int n = 0;
  cr_assert(d);
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (strcmp(suffix, "tmp-") == 0
            ? strncmp(e->d_name, "tmp-", 4) == 0
            : l > sl && strcmp(e->d_name + l - sl, suffix) == 0)
      n++;
  }
  closedir(d);
  return n;
}

/* Removes every file of `dir` ending in `suffix`. */
static void remove_files(const char *suffix) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[512];
  size_t sl = strlen(suffix);
  cr_assert(d);
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l > sl && strcmp(e->d_name + l - sl, suffix) == 0) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  }
  closedir(d);
}

/* The path of the index of segment number `first`. */
static void idx_path(char path[512], unsigned long long first) {
  snprintf(path, 512, "%s/%020llu.idx", dir, first);
}

/* The first positions of the segments, ascending, into `out` (at most
 * `max`); returns how many. */
static int seg_firsts(unsigned long long *out, int max) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  cr_assert(d);
  while ((e = readdir(d)) != NULL)
    if (strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".seg") == 0) {
      cr_assert(n < max);
      out[n++] = strtoull(e->d_name, NULL, 10);
    }
  closedir(d);
  for (int i = 1; i < n; i++) /* insertion sort */
    for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
      unsigned long long x = out[j];
      out[j] = out[j - 1];
      out[j - 1] = x;
    }
  return n;
}

/* Zeros are kept only in the newest segment: a roll cuts them first, so
 * every sealed segment ends with its last batch's commit record, even
 * when the zeros were written under a larger segment size. */
Test(log, a_roll_leaves_a_sealed_segment_ending_with_its_last_batch) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_verify_report vr;
  unsigned long long firsts[64];
  char seg[512];
  int n;
  es_store *t;

  die_after_pairs(3);
  o.segment_size = 8192;
  t = open_dir(&o, 0);
  for (int i = 0; i < 200; i++)
    cr_assert_eq(append_pair(t, "k", "a payload of some size"), 0);
  n = seg_firsts(firsts, 64);
  cr_assert_geq(n, 3);
  for (int i = 0; i + 1 < n; i++) {
    uint8_t c[21];
    off_t size;
    int fd;
    snprintf(seg, sizeof seg, "%s/%020llu.seg", dir, firsts[i]);
    size = file_size(seg);
    cr_assert_geq(size, 16 + 21);
    fd = open(seg, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, c, 21, size - 21), 21);
    close(fd);
    cr_assert(c[0] == 13 && c[1] == 0 && c[2] == 0 && c[3] == 0 && c[8] == 2,
              "%s does not end with a commit record", seg);
  }
  es_store_close(t);
  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), 0, "%s", vr.message);
  cr_assert_eq(vr.head, 406);
  cr_assert_eq(vr.damage, 0, "%s", vr.message);
}

/* Appends `batches` deterministic batches of 1..3 groups over IDX_STREAMS
 * keys of type "T", 1..4 events a group (every 7th batch: one group of 40,
 * so that sparse locations fall inside batches); each payload names its
 * own stream and version ("key:version"). */
static void fill(es_store *t, int batches, unsigned seed) {
  static char text[64][32];
  for (int b = 0; b < batches; b++) {
    es_new_event e[64];
    es_append_stream g[3];
    char key[3][8];
    int ng = b % 7 == 6 ? 1 : 1 + (int)(rand_r(&seed) % 3), k = 0;
    for (int i = 0; i < ng; i++) {
      uint64_t v = 0;
      int n = b % 7 == 6 ? 40 : 1 + (int)(rand_r(&seed) % 4);
      snprintf(key[i], sizeof key[i], "k%d",
               (int)((unsigned)(b * 3 + i) % IDX_STREAMS));
      cr_assert_eq(es_store_stream_version(t, "T", key[i], &v), 0);
      g[i] = (es_append_stream){"T",   key[i],      es_expect_exact(v),
                                e + k, (uint32_t)n, 0};
      for (int j = 0; j < n; j++, k++) {
        snprintf(text[k], sizeof text[k], "%s:%llu", key[i],
                 (unsigned long long)v + 1 + (unsigned long long)j);
        e[k] = ev(text[k]);
        e[k].timestamp = 1000 + b;
        e[k].correlation_id.bytes[3] = (uint8_t)b;
      }
    }
    cr_assert_eq(es_store_append(t, g, (uint32_t)ng, NULL), 0);
  }
}

/* A running digest of the events a read delivers, checking each on the
 * way: payload "key:version", positions ascending (without gaps for
 * read_all), versions without gaps for read_stream. */
typedef struct digest {
  uint64_t h, n, last_pos, last_ver;
  int all; /* read_all: positions must be consecutive */
} digest;

static void mix(uint64_t *h, const void *p, size_t len) {
  const uint8_t *b = p;
  for (size_t i = 0; i < len; i++)
    *h = (*h ^ b[i]) * 0x100000001b3ull;
}

static int digest_fn(const es_stored_event *e, void *ctx) {
  digest *d = ctx;
  char want[48];
  snprintf(want, sizeof want, "%s:%llu", e->meta.key,
           (unsigned long long)e->meta.version);
  cr_assert(e->len == strlen(want) && memcmp(e->payload, want, e->len) == 0,
            "position %llu", (unsigned long long)e->meta.position);
  if (d->n && d->all)
    cr_assert_eq(e->meta.position, d->last_pos + 1);
  if (d->n && !d->all) {
    cr_assert_gt(e->meta.position, d->last_pos);
    cr_assert_eq(e->meta.version, d->last_ver + 1);
  }
  d->last_pos = e->meta.position;
  d->last_ver = e->meta.version;
  mix(&d->h, &e->meta.position, sizeof e->meta.position);
  mix(&d->h, &e->meta.version, sizeof e->meta.version);
  mix(&d->h, &e->meta.type_id, sizeof e->meta.type_id);
  mix(&d->h, &e->meta.timestamp, sizeof e->meta.timestamp);
  mix(&d->h, e->meta.event_id.bytes, 16);
  mix(&d->h, e->meta.correlation_id.bytes, 16);
  mix(&d->h, e->meta.aggregate, strlen(e->meta.aggregate) + 1);
  mix(&d->h, e->meta.key, strlen(e->meta.key) + 1);
  mix(&d->h, e->payload, e->len);
  d->n++;
  return 0;
}

/* Everything reads can tell about a store, as numbers. */
typedef struct store_view {
  uint64_t head;
  uint64_t all[4][2];                 /* digest and count of 4 read_alls */
  uint64_t version[IDX_STREAMS];      /* stream versions */
  uint64_t stream[IDX_STREAMS][3][2]; /* 3 read_streams per stream */
} store_view;

static void view_of(es_store *t, store_view *v) {
  uint64_t h = head_of(t);
  uint64_t from[4] = {0, h / 3, h / 2 + 7, h > 5 ? h - 5 : 1};
  uint32_t max[4] = {0, 50, 0, 3};
  memset(v, 0, sizeof *v);
  v->head = h;
  for (int i = 0; i < 4; i++) {
    digest d = {0xcbf29ce484222325ull, 0, 0, 0, 1};
    cr_assert_eq(es_store_read_all(t, from[i], max[i], digest_fn, &d), 0);
    v->all[i][0] = d.h;
    v->all[i][1] = d.n;
  }
  for (int k = 0; k < IDX_STREAMS; k++) {
    char key[8];
    uint64_t vf[3] = {1, 0, 0};
    uint32_t vm[3] = {0, 0, 5};
    snprintf(key, sizeof key, "k%d", k);
    cr_assert_eq(es_store_stream_version(t, "T", key, &v->version[k]), 0);
    vf[1] = v->version[k] / 2 + 1;
    vf[2] = v->version[k] > 3 ? v->version[k] - 3 : 1;
    for (int i = 0; i < 3; i++) {
      digest d = {0xcbf29ce484222325ull, 0, 0, 0, 0};
      cr_assert_eq(
          es_store_read_stream(t, "T", key, vf[i], vm[i], digest_fn, &d), 0);
      v->stream[k][i][0] = d.h;
      v->stream[k][i][1] = d.n;
    }
  }
}

static es_store *open_rep(es_store_options *o, es_store_open_report *rep,
                          unsigned flags) {
  o->report = rep;
  return open_dir(o, flags);
}

/* A store of many small segments: returns its view (taken before close)
 * and how many segments it has. */
static int make_indexed_store(es_store_options *o, store_view *before) {
  es_store *t;
  o->segment_size = 1024;
  t = open_dir(o, 0);
  fill(t, 300, 7);
  view_of(t, before);
  es_store_close(t);
  cr_assert_gt(count_files(".seg"), 20);
  cr_assert_eq(count_files(".idx"), count_files(".seg") - 1,
               "every sealed segment got its index when it was rolled");
  return count_files(".seg");
}

Test(log, reopen_loads_sealed_segments_from_their_index_files) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  store_view *before = calloc(1, sizeof *before),
             *after = calloc(1, sizeof *after);
  int segs = make_indexed_store(&o, before);
  es_store *t = open_rep(&o, &rep, 0);
  uint64_t total = head_of(t), v = 0;
  es_new_event e = ev("k1:0");

  cr_assert_eq(rep.segments_indexed, (uint32_t)segs - 1);
  cr_assert_eq(rep.segments_scanned, 1, "only the newest segment");
  cr_assert_lt(rep.events_scanned, total / 10);
  cr_assert_eq(rep.indexes_written, 0);
  cr_assert_str_eq(rep.message, "");
  view_of(t, after);
  cr_assert_eq(memcmp(before, after, sizeof *before), 0,
               "indexed open reads like the store that wrote it");
  /* appends continue at the right versions */
  cr_assert_eq(es_store_stream_version(t, "T", "k1", &v), 0);
  cr_assert_gt(v, 0);
  cr_assert_eq(
      es_store_append_one(t, "T", "k1", es_expect_exact(v - 1), &e, 1, NULL),
      ES_ECONFLICT);
  es_store_close(t);

  /* a read-only opener uses the index files too */
  t = open_rep(&o, &rep, ES_STORE_READONLY);
  cr_assert_eq(rep.segments_indexed, (uint32_t)segs - 1);
  view_of(t, after);
  cr_assert_eq(memcmp(before, after, sizeof *before), 0);
  es_store_close(t);

  /* without index files: a full rescan, same answers, indexes rewritten */
  remove_files(".idx");
  t = open_rep(&o, &rep, 0);
  cr_assert_eq(rep.segments_indexed, 0);
  cr_assert_eq(rep.segments_scanned, (uint32_t)segs);
  cr_assert_eq(rep.events_scanned, total);
  cr_assert_eq(rep.indexes_written, (uint32_t)segs - 1);
  view_of(t, after);
  cr_assert_eq(memcmp(before, after, sizeof *before), 0,
               "a rescan reads the same as the index");
  es_store_close(t);
  cr_assert_eq(count_files(".idx"), segs - 1);

  t = open_rep(&o, &rep, 0);
  cr_assert_eq(rep.segments_indexed, (uint32_t)segs - 1);
  view_of(t, after);
  cr_assert_eq(memcmp(before, after, sizeof *before), 0,
               "the rewritten indexes load the same");
  es_store_close(t);
  free(before);
  free(after);
}

/* Damages the index of the `which`th segment in way `how`. */
static void damage_index(unsigned long long first, unsigned long long other,
                         int how) {
  char path[512], from[512];
  off_t size;
  idx_path(path, first);
  size = file_size(path);
  switch (how) {
  case 0: /* a flipped bit: the CRC catches it */
    flip_byte(path, size / 2);
    break;
  case 1: /* cut short */
    cr_assert_eq(truncate(path, size - 3), 0);
    break;
  case 2: /* empty, as a crash before the data reached the disk may leave */
    cr_assert_eq(truncate(path, 0), 0);
    break;
  case 3: /* missing */
    cr_assert_eq(unlink(path), 0);
    break;
  case 4: /* another segment's index */
    idx_path(from, other);
    cr_assert_eq(rename(from, path), 0);
    break;
  case 5: { /* well-formed, CRC good, but a stream's first version is off */
    int fd = open(path, O_RDWR);
    uint8_t *b = malloc((size_t)size);
    uint32_t n_sparse, crc;
    cr_assert(fd >= 0 && b);
    cr_assert_eq(pread(fd, b, (size_t)size, 0), size);
    n_sparse = (uint32_t)b[44] | (uint32_t)b[45] << 8 | (uint32_t)b[46] << 16 |
               (uint32_t)b[47] << 24;
    b[48 + 8 * n_sparse + 8]++; /* the first stream's version, low byte */
    crc = es__crc32c(0, b + 12, (size_t)size - 12);
    for (int i = 0; i < 4; i++)
      b[8 + i] = (uint8_t)(crc >> (8 * i));
    cr_assert_eq(pwrite(fd, b, (size_t)size, 0), size);
    close(fd);
    free(b);
    break;
  }
  default: /* a newer segment's index whose first position is wrong: a
              stale index after its segment was replaced */
    idx_path(from, other);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(link(from, path), 0);
    break;
  }
}

Test(log, a_damaged_or_missing_index_falls_back_to_a_scan) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  store_view *before = calloc(1, sizeof *before),
             *after = calloc(1, sizeof *after);
  unsigned long long firsts[256];
  int segs = make_indexed_store(&o, before);

  cr_assert_eq(seg_firsts(firsts, 256), segs);
  for (int how = 0; how < 7; how++) {
    es_store *t;
    int which = 1 + how * 2; /* a different sealed segment each time */
    cr_assert_lt(which + 1, segs - 1);
    damage_index(firsts[which], firsts[which + 1], how);
    if (how == 4) /* that moved the next segment's index too */
      cr_assert_eq(count_files(".idx"), segs - 2);
    t = open_rep(&o, &rep, 0);
    cr_assert_eq(rep.segments_scanned, how == 4 ? 3 : 2, "damage %d", how);
    cr_assert_eq(rep.segments_indexed, (uint32_t)segs - (how == 4 ? 3 : 2),
                 "damage %d", how);
    cr_assert_eq(rep.indexes_written, how == 4 ? 2 : 1, "damage %d", how);
    view_of(t, after);
    cr_assert_eq(memcmp(before, after, sizeof *before), 0, "damage %d", how);
    es_store_close(t);
    t = open_rep(&o, &rep, 0);
    cr_assert_eq(rep.segments_scanned, 1, "damage %d: index rewritten", how);
    view_of(t, after);
    cr_assert_eq(memcmp(before, after, sizeof *before), 0, "damage %d", how);
    es_store_close(t);
  }
  free(before);
  free(after);
}

Test(log, a_crash_while_writing_an_index_leaves_a_usable_store) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  store_view *before = calloc(1, sizeof *before),
             *after = calloc(1, sizeof *after);
  unsigned long long firsts[256];
  char tmp[512], path[512];
  int segs = make_indexed_store(&o, before), fd;
  es_store *t;

  cr_assert_eq(seg_firsts(firsts, 256), segs);
  /* killed before the rename: a partial temporary and no index */
  idx_path(path, firsts[segs - 2]);
  snprintf(tmp, sizeof tmp, "%s/tmp-idx-%020llu.idx", dir, firsts[segs - 2]);
  cr_assert_eq(rename(path, tmp), 0);
  cr_assert_eq(truncate(tmp, 30), 0);
  /* and a blob's temporary from the same crash */
  snprintf(tmp, sizeof tmp, "%s/tmp-3", dir);
  fd = open(tmp, O_WRONLY | O_CREAT, 0644);
  cr_assert(fd >= 0);
  close(fd);
  cr_assert_eq(count_files("tmp-"), 2);

  t = open_rep(&o, &rep, ES_STORE_READONLY);
  cr_assert_eq(rep.segments_scanned, 2);
  cr_assert_eq(rep.indexes_written, 0, "readers write nothing");
  view_of(t, after);
  cr_assert_eq(memcmp(before, after, sizeof *before), 0);
  es_store_close(t);
  cr_assert_eq(count_files("tmp-"), 2);

  t = open_rep(&o, &rep, 0);
  cr_assert_eq(rep.segments_scanned, 2);
  cr_assert_eq(rep.indexes_written, 1);
  cr_assert_eq(count_files("tmp-"), 0, "the writer removed the leftovers");
  view_of(t, after);
  cr_assert_eq(memcmp(before, after, sizeof *before), 0);
  es_store_close(t);
  cr_assert_eq(count_files(".idx"), segs - 1);
  free(before);
  free(after);
}

Test(log, a_sealed_segment_that_changed_size_is_not_trusted_to_its_index) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  store_view *before = calloc(1, sizeof *before);
  unsigned long long firsts[256];
  char seg[512];
  int segs = make_indexed_store(&o, before), fd;
  es_store *t = (es_store *)1;

  cr_assert_eq(seg_firsts(firsts, 256), segs);
  snprintf(seg, sizeof seg, "%s/%020llu.seg", dir, firsts[3]);
  fd = open(seg, O_WRONLY | O_APPEND);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, "garbage!", 8), 8);
  close(fd);
  o.report = &rep;
  cr_assert_eq(es_store_open_log(&t, dir, &o, 0), ES_ECORRUPT);
  cr_assert_null(t);
  cr_assert_str_eq(rep.file, strrchr(seg, '/') + 1);
  cr_assert(strstr(rep.message, "corrupt"), "%s", rep.message);
  free(before);
}

/* ---- verification ---------------------------------------------------------
 */

/* An FNV-1a digest of every file of `dir` (names, sizes and bytes), to
 * show that verification writes nothing. */
static uint64_t dir_digest(void) {
  uint64_t h = 0xcbf29ce484222325ull;
  DIR *d = opendir(dir);
  struct dirent *e;
  cr_assert(d);
  while ((e = readdir(d)) != NULL) {
    char path[512];
    uint8_t buf[4096];
    ssize_t got;
    uint64_t fh = 0xcbf29ce484222325ull;
    int fd;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    fd = open(path, O_RDONLY);
    cr_assert(fd >= 0);
    mix(&fh, e->d_name, strlen(e->d_name));
    while ((got = read(fd, buf, sizeof buf)) > 0)
      mix(&fh, buf, (size_t)got);
    close(fd);
    h += fh; /* the order of readdir does not matter */
  }
  closedir(d);
  return h;
}

/* The offset of the first commit record of segment file `path`. */
static uint64_t first_commit(const char *path) {
  uint8_t h[9];
  uint64_t off = 16;
  int fd = open(path, O_RDONLY);
  cr_assert(fd >= 0);
  for (;;) {
    cr_assert_eq(pread(fd, h, 9, (off_t)off), 9);
    if (h[8] == 2)
      break;
    off += 8 + ((uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                (uint32_t)h[3] << 24);
  }
  close(fd);
  return off;
}

static void flip_bit(const char *path, uint64_t at, int bit) {
  int fd = open(path, O_RDWR);
  uint8_t c;
  cr_assert(fd >= 0);
  cr_assert_eq(pread(fd, &c, 1, (off_t)at), 1);
  c ^= (uint8_t)(1u << bit);
  cr_assert_eq(pwrite(fd, &c, 1, (off_t)at), 1);
  close(fd);
}

typedef struct damage_log {
  int n;
  char file[4][64];
  uint64_t offset[4];
} damage_log;

static void note_damage(const char *file, uint64_t offset, const char *message,
                        void *ctx) {
  damage_log *l = ctx;
  cr_assert(strstr(message, file) && strstr(message, "corrupt store"), "%s",
            message);
  if (l->n < 4) {
    snprintf(l->file[l->n], sizeof l->file[0], "%s", file);
    l->offset[l->n] = offset;
  }
  l->n++;
}

Test(log, verify_finds_a_whole_store_whole) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_verify_report vr;
  store_view *before = calloc(1, sizeof *before);
  int segs = make_indexed_store(&o, before);

  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), 0, "%s", vr.message);
  cr_assert_eq(vr.segments, (uint32_t)segs);
  cr_assert_eq(vr.indexes, (uint32_t)segs - 1);
  cr_assert_eq(vr.cmd_files, (uint32_t)segs - 1);
  cr_assert_eq(vr.events, before->head);
  cr_assert_eq(vr.head, before->head);
  cr_assert_eq(vr.batches, 300);
  cr_assert_eq(vr.damage, 0);
  cr_assert_eq(vr.tail_bytes, 0);
  cr_assert_str_empty(vr.message);
  cr_assert_eq(es_store_verify_log(dir, NULL), 0);
  cr_assert_eq(es_store_verify_log(NULL, &vr), ES_EINVAL);
  cr_assert_eq(es_store_verify_log("", NULL), ES_EINVAL);
  free(before);
}

/* A sealed segment loaded from its index is not read at open, so damage
 * inside it goes unnoticed there; verification reads it all and names the
 * file and the record's offset, for every bit of a commit record. */
Test(log, verify_reports_every_flipped_bit_of_a_sealed_commit_record,
     .timeout = 240) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  es_store_verify_report vr;
  store_view *before = calloc(1, sizeof *before);
  unsigned long long firsts[256];
  char seg[512], name[32];
  int segs = make_indexed_store(&o, before);
  uint64_t commit, clean;

  cr_assert_eq(seg_firsts(firsts, 256), segs);
  snprintf(name, sizeof name, "%020llu.seg", firsts[2]);
  snprintf(seg, sizeof seg, "%s/%s", dir, name);
  commit = first_commit(seg);
  clean = dir_digest();
  for (int byte = 0; byte < 8 + 13; byte++)
    for (int bit = 0; bit < 8; bit++) {
      es_store *t;
      flip_bit(seg, commit + (uint64_t)byte, bit);
      if (byte == 20 && bit == 7) { /* the open does not see it */
        o.report = &rep;
        t = open_dir(&o, ES_STORE_READONLY);
        cr_assert_eq(rep.segments_indexed, (uint32_t)segs - 1);
        es_store_close(t);
        o.report = NULL;
      }
      memset(&vr, 0, sizeof vr);
      cr_assert_eq(es_store_verify_log(dir, &vr), ES_ECORRUPT,
                   "byte %d bit %d of the commit record went unnoticed", byte,
                   bit);
      cr_assert_str_eq(vr.file, name, "byte %d bit %d", byte, bit);
      cr_assert_eq(vr.offset, commit, "byte %d bit %d", byte, bit);
      cr_assert(strstr(vr.message, name), "%s", vr.message);
      flip_bit(seg, commit + (uint64_t)byte, bit);
    }
  cr_assert_eq(dir_digest(), clean, "verification wrote");
  cr_assert_eq(es_store_verify_log(dir, &vr), 0, "%s", vr.message);
  free(before);
}

Test(log, verify_reports_each_damage_and_damaged_index_files) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_verify_report vr;
  store_view *before = calloc(1, sizeof *before);
  unsigned long long firsts[256];
  char seg[512], idx[512], name[32];
  damage_log log;
  int segs = make_indexed_store(&o, before), fd;
  uint8_t *b;
  off_t len;

  cr_assert_eq(seg_firsts(firsts, 256), segs);
  /* An index file whose CRC no longer matches. */
  idx_path(idx, firsts[1]);
  flip_byte(idx, file_size(idx) - 3);
  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), ES_ECORRUPT);
  snprintf(name, sizeof name, "%020llu.idx", firsts[1]);
  cr_assert_str_eq(vr.file, name);
  cr_assert_eq(vr.offset, 8, "the CRC field");
  flip_byte(idx, file_size(idx) - 3);

  /* An index file with a good CRC that points at the wrong record. */
  idx_path(idx, firsts[4]);
  len = file_size(idx);
  b = malloc((size_t)len);
  fd = open(idx, O_RDWR);
  cr_assert_eq(pread(fd, b, (size_t)len, 0), len);
  b[48] ^= 1; /* the first sparse location */
  {
    uint32_t crc = es__crc32c(0, b + 12, (size_t)len - 12);
    for (int i = 0; i < 4; i++)
      b[8 + i] = (uint8_t)(crc >> (8 * i));
  }
  cr_assert_eq(pwrite(fd, b, (size_t)len, 0), len);
  close(fd);
  free(b);

  /* And a flipped event byte in another sealed segment. */
  snprintf(seg, sizeof seg, "%s/%020llu.seg", dir, firsts[6]);
  flip_bit(seg, 16 + 30, 2);

  memset(&vr, 0, sizeof vr);
  memset(&log, 0, sizeof log);
  vr.on_damage = note_damage;
  vr.ctx = &log;
  cr_assert_eq(es_store_verify_log(dir, &vr), ES_ECORRUPT);
  cr_assert_eq(vr.damage, 2, "%s", vr.message);
  cr_assert_eq(log.n, 2);
  snprintf(name, sizeof name, "%020llu.idx", firsts[4]);
  cr_assert_str_eq(log.file[0], name);
  cr_assert_eq(log.offset[0], 48);
  cr_assert_str_eq(vr.file, name, "the first damage is the report's");
  snprintf(name, sizeof name, "%020llu.seg", firsts[6]);
  cr_assert_str_eq(log.file[1], name);
  cr_assert_eq(log.offset[1], 16);
  /* The rest of the log was still checked. */
  cr_assert_eq(vr.segments, (uint32_t)segs);
  free(before);
}

/* Beside a writer, its unfinished batch at the end is not damage. */
Test(log, verify_counts_an_unfinished_tail_without_calling_it_damage) {
  es_store_verify_report vr;
  es_store *t = open_dir(NULL, 0);
  char path[512];
  int fd;

  for (int i = 0; i < 10; i++)
    cr_assert_eq(append_pair(t, "k", "tail"), 0);
  es_store_close(t);
  newest_seg(path);
  fd = open(path, O_WRONLY | O_APPEND);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, "\x40\0\0\0half a record", 18), 18);
  close(fd);
  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), 0, "%s", vr.message);
  cr_assert_eq(vr.tail_bytes, 18);
  cr_assert_eq(vr.head, 20);
}

/* ---- the command index across reopens ------------------------------------ */

/* Appends 600 commands (id n -> key "k<n % 7>", n % 3 + 1 events) over
 * many small segments, with the test's clock. */
static void fill_commands(es_store_options *o) {
  es_store *t;
  o->segment_size = 2048;
  o->now_us = fake_clock;
  t = open_dir(o, 0);
  for (int n = 0; n < 600; n++) {
    es_uuid id = cmd_id(0);
    char key[8];
    memcpy(id.bytes + 4, &n, sizeof n);
    snprintf(key, sizeof key, "k%d", n % 7);
    cr_assert_eq(append_cmd(t, key, id, (uint32_t)(n % 3 + 1)), 0);
  }
  es_store_close(t);
  cr_assert_gt(count_files(".seg"), 10);
}

/* Checks that every command of fill_commands() is found where it was
 * appended (positions follow from the event counts), or none is. */
static void check_commands(es_store *t, int expect_found) {
  uint64_t pos = 1;
  for (int n = 0; n < 600; n++) {
    es_uuid id = cmd_id(0);
    es_command_record r;
    int rc;
    memcpy(id.bytes + 4, &n, sizeof n);
    rc = es_store_command_find(t, &id, &r);
    if (!expect_found) {
      cr_assert_eq(rc, ES_ENOTFOUND, "command %d", n);
      continue;
    }
    cr_assert_eq(rc, 0, "command %d: %s", n, es_err_name(rc));
    cr_assert_eq(r.first_position, pos, "command %d", n);
    cr_assert_eq(r.last_position, pos + (uint64_t)(n % 3), "command %d", n);
    pos += (uint64_t)(n % 3) + 1;
  }
}

Test(log, the_command_index_survives_reopen_from_files_or_records) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_open_report rep;
  es_store *t;
  int segs;

  fake_now = 1700000000000000;
  fill_commands(&o);
  segs = count_files(".seg");
  cr_assert_eq(count_files(".cmd"), segs - 1, "one N.cmd per sealed segment");
  t = open_rep(&o, &rep, 0);
  cr_assert_eq(rep.segments_indexed, (uint32_t)segs - 1);
  check_commands(t, 1);
  es_store_close(t);

  /* a reader finds them too */
  t = open_dir(&o, ES_STORE_READONLY);
  check_commands(t, 1);
  es_store_close(t);

  /* without the N.cmd files: read from the records, files written again */
  remove_files(".cmd");
  t = open_rep(&o, &rep, 0);
  cr_assert_eq(rep.segments_indexed, (uint32_t)segs - 1, "the index stays");
  check_commands(t, 1);
  es_store_close(t);
  cr_assert_eq(count_files(".cmd"), segs - 1);

  /* without the segment indexes: the scan finds them */
  remove_files(".idx");
  t = open_dir(&o, 0);
  check_commands(t, 1);
  es_store_close(t);
}

Test(log, a_damaged_command_file_falls_back_to_the_records) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  char path[512];
  es_store *t;

  fake_now = 1700000000000000;
  fill_commands(&o);
  snprintf(path, sizeof path, "%s/%020d.cmd", dir, 1);
  flip_byte(path, file_size(path) - 5);
  t = open_dir(&o, 0);
  check_commands(t, 1);
  es_store_close(t);
}

/* Verification reads each sealed segment's N.cmd: a whole one matching
 * the records passes; a damaged one, or one whose CRC is good but whose
 * entry names another command than its events carry, is damage in that
 * file (at the CRC field, and at the entry). */
Test(log, verify_checks_the_command_files_against_the_records) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store_verify_report vr;
  char path[512], name[32];
  uint8_t *b;
  off_t len;
  int segs, fd;

  fake_now = 1700000000000000;
  fill_commands(&o);
  segs = count_files(".seg");
  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), 0, "%s", vr.message);
  cr_assert_eq(vr.cmd_files, (uint32_t)segs - 1);

  snprintf(name, sizeof name, "%020d.cmd", 1);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  flip_byte(path, file_size(path) - 5);
  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), ES_ECORRUPT);
  cr_assert_eq(vr.damage, 1, "%s", vr.message);
  cr_assert_str_eq(vr.file, name);
  cr_assert(strstr(vr.message, name), "%s", vr.message);
  flip_byte(path, file_size(path) - 5);

  /* The second entry names another id; the CRC is made good again. */
  len = file_size(path);
  cr_assert_geq(len, 48 + 2 * 32);
  b = malloc((size_t)len);
  fd = open(path, O_RDWR);
  cr_assert_eq(pread(fd, b, (size_t)len, 0), len);
  b[48 + 32 + 15] ^= 0x40;
  {
    uint32_t crc = es__crc32c(0, b + 12, (size_t)len - 12);
    for (int i = 0; i < 4; i++)
      b[8 + i] = (uint8_t)(crc >> (8 * i));
  }
  cr_assert_eq(pwrite(fd, b, (size_t)len, 0), len);
  close(fd);
  free(b);
  memset(&vr, 0, sizeof vr);
  cr_assert_eq(es_store_verify_log(dir, &vr), ES_ECORRUPT);
  cr_assert_str_eq(vr.file, name);
  cr_assert_eq(vr.offset, 48 + 32, "the second entry");
  cr_assert_eq(vr.segments, (uint32_t)segs, "the rest was still read");
}

Test(log, command_ids_expire_across_a_reopen) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *t;

  fake_now = 1700000000000000;
  o.command_retention_us = 1000000;
  fill_commands(&o);
  fake_now += o.command_retention_us;
  t = open_dir(&o, 0);
  check_commands(t, 1);
  es_store_close(t);
  fake_now += 1;
  t = open_dir(&o, 0);
  check_commands(t, 0);
  es_store_close(t);
  remove_files(".cmd"); /* the records say the same */
  t = open_dir(&o, 0);
  check_commands(t, 0);
  es_store_close(t);
}

/* ---- reads from maps of the segments ------------------------------------
 */

/* The POSIX table, with maps counted, the inode of each mapped file noted,
 * and maps failing on demand. */
static es__io mapping_io;
static atomic_int maps_made, maps_fail;
static ino_t mapped_ino[1024];

static void *mapping_mmap(int fd, size_t len, off_t off) {
  struct stat sb;
  int n;
  if (atomic_load(&maps_fail)) {
    errno = ENOMEM;
    return NULL;
  }
  n = atomic_fetch_add(&maps_made, 1);
  if (n < 1024 && fstat(fd, &sb) == 0)
    mapped_ino[n] = sb.st_ino;
  return es__io_posix.mmap(fd, len, off);
}

/* Stores opened from now on use mapping_io; `fail`: every map fails. */
static void use_mapping_io(int fail) {
  mapping_io = es__io_posix;
  mapping_io.mmap = mapping_mmap;
  atomic_store(&maps_made, 0);
  atomic_store(&maps_fail, fail);
  es__io_set(&mapping_io);
}

/* Whether the file at `path` is one that was mapped. */
static int was_mapped(const char *path) {
  struct stat sb;
  int n = atomic_load(&maps_made);
  cr_assert_eq(stat(path, &sb), 0);
  for (int i = 0; i < n && i < 1024; i++)
    if (mapped_ino[i] == sb.st_ino)
      return 1;
  return 0;
}

/* Reads as the store grows (from sealed segments mapped whole and from
 * pieces of the newest one, records across the end of a piece read with
 * pread) deliver every event intact, and what a store that cannot map
 * reads is the same. */
Test(log, reads_from_maps_match_reads_without_them) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  store_view *live = calloc(1, sizeof *live), *plain = calloc(1, sizeof *plain);
  es_store *t;

  cr_assert(live && plain);
  use_mapping_io(0);
  o.segment_size = 16384; /* the newest segment is mapped 2 KiB at a time */
  t = open_dir(&o, 0);
  for (int round = 0; round < 12; round++) {
    fill(t, 25, 11u + (unsigned)round);
    view_of(t, live); /* digest_fn checks every event it is given */
  }
  cr_assert_gt(atomic_load(&maps_made), count_files(".seg"),
               "segments were mapped in pieces while they were the newest");
  es_store_close(t);
  use_mapping_io(1);
  t = open_dir(&o, 0);
  view_of(t, plain);
  cr_assert_eq(atomic_load(&maps_made), 0);
  cr_assert_eq(memcmp(live, plain, sizeof *live), 0,
               "reads through pread see the same events");
  es_store_close(t);
  es__io_set(NULL);
  free(live);
  free(plain);
}

/* A record damaged on disk in a sealed segment (loaded from its index, so
 * not scanned at open) is found by the CRC check of the read that takes
 * it from the map. */
Test(log, a_damaged_record_read_from_a_map_is_corrupt) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  store_view *before = calloc(1, sizeof *before);
  static unsigned long long firsts[1024];
  char seg[512];
  es_store *t;
  digest d = {0xcbf29ce484222325ull, 0, 0, 0, 1};

  cr_assert(before);
  make_indexed_store(&o, before);
  cr_assert_gt(seg_firsts(firsts, 1024), 3);
  snprintf(seg, sizeof seg, "%s/%020llu.seg", dir, firsts[1]);
  flip_bit(seg, 16 + 8 + 30, 3); /* the first record's timestamp */
  use_mapping_io(0);
  t = open_dir(&o, 0);
  cr_assert_eq(es_store_read_all(t, 1, 0, digest_fn, &d), ES_ECORRUPT);
  cr_assert_eq(d.n, firsts[1] - 1, "every event before it was delivered");
  cr_assert(was_mapped(seg), "the damaged segment was read from a map");
  es_store_close(t);
  es__io_set(NULL);
  free(before);
}

/* A read-only opener maps sealed segments only: the writer, in another
 * process, cuts back what it wrote to the newest one but could not sync,
 * and a map past the end of a file faults. The writer itself maps the
 * newest segment's synced part. */
Test(log, a_read_only_store_never_maps_the_newest_segment) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  store_view *v = calloc(1, sizeof *v);
  char seg[512];
  es_store *t, *r;
  unsigned seed = 1;

  cr_assert(v);
  o.segment_size = 16384;
  t = open_dir(&o, 0);
  do { /* the newest segment well past what a writer maps at once */
    fill(t, 5, seed++);
    newest_seg(seg);
  } while (count_files(".seg") < 3 || file_size(seg) < 8192);
  use_mapping_io(0);
  r = open_dir(&o, ES_STORE_READONLY);
  view_of(r, v);
  cr_assert_gt(atomic_load(&maps_made), 0, "sealed segments were mapped");
  cr_assert_not(was_mapped(seg));
  es_store_close(r);
  es_store_close(t);
  use_mapping_io(0);
  t = open_dir(&o, 0);
  view_of(t, v);
  cr_assert(was_mapped(seg), "a writer maps its newest segment");
  es_store_close(t);
  es__io_set(NULL);
  free(v);
}
