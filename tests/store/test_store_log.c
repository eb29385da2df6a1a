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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../runtime/src/crc32c.h"
#include "es/es_error.h"
#include "es/es_store.h"

#define CASE_KIND "log"
#define MAX_OPEN 16

static char dirs[MAX_OPEN][64];
static es_store *opened[MAX_OPEN];

/* A fresh directory under /tmp; `out` must hold 64 bytes. */
static int fresh_dir(char *out) {
  snprintf(out, 64, "/tmp/es_log_test.XXXXXX");
  return mkdtemp(out) ? 0 : -1;
}

/* Removes the store directory `dir` (flat: no subdirectories). */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[512];
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
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
    {
      long us = 1000 + (long)(rand_r(&seed) % 20000);
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

    t = open_dir(&o, 0);
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
  }
  cr_assert_gt(child_acks, 60, "the children did append: %llu",
               (unsigned long long)child_acks);
  cr_log_info("crash loop: %llu acknowledged child appends, head %llu",
              (unsigned long long)child_acks, (unsigned long long)acked);
}
