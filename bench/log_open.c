/*
 * log_open.c - how long the embedded log takes to open at 10M events, how
 * much memory it holds then, and how fast read_all replays it.
 *
 *   log_open [EVENTS [STREAMS [BATCH [THREADS]]]]
 *
 * Builds a store of EVENTS (10M) events of 64-byte payloads over STREAMS
 * (100k) streams through the public API: appends of BATCH (100) events,
 * one event for each of BATCH consecutive streams, from THREADS (16)
 * threads so that group commit shares the fdatasyncs (the store has no
 * non-durable mode). Every stream ends at version EVENTS / STREAMS, and
 * every segment holds events of nearly every stream. Then, each in a fresh
 * child process so that its RSS is the open's alone:
 *   cold  - a writer open after posix_fadvise(DONTNEED) on every file;
 *   warm  - a writer open (best of 3), then read_all of everything;
 *   scan  - a read-only open with the index files hidden: the full rescan
 *           the index saves.
 * With LOG_OPEN_COMMANDS set, every event carries its own causation id, as
 * if each were one command's (the most the command index can hold): the
 * open then also loads every N.cmd file.
 * The store lives in a fresh directory under $TMPDIR (or /tmp), removed at
 * the end unless LOG_OPEN_KEEP is set. Prints one line per figure and a
 * summary line (read_all there: the second, cached pass).
 */
#define _GNU_SOURCE /* mkdtemp, posix_fadvise under -D_POSIX_C_SOURCE */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "es/es_error.h"
#include "es/es_store.h"

#define PAYLOAD 64

static char dir[512];
static uint64_t n_events = 10000000, n_streams = 100000;
static uint32_t batch = 100, n_threads = 16;
static int with_commands; /* LOG_OPEN_COMMANDS: a command id per event */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The resident set of this process, in bytes (0 when unknown). */
static uint64_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  uint64_t kb = 0;
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %" SCNu64, &kb) == 1)
      break;
  fclose(f);
  return kb * 1024;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "log_open: %s: %s\n", what, es_err_name(rc));
  exit(1);
}

/* ---- building ------------------------------------------------------------ */

typedef struct builder {
  es_store *s;
  uint32_t id;
} builder;

/* Thread `id` appends batches id, id + n_threads, ...: batch b holds one
 * event for each of streams (b * batch .. b * batch + batch - 1) mod
 * n_streams. */
static void *build_thread(void *arg) {
  builder *w = arg;
  uint64_t n_batches = n_events / batch;
  es_new_event *ev = calloc(batch, sizeof *ev);
  es_append_stream *g = calloc(batch, sizeof *g);
  char(*keys)[32] = calloc(batch, sizeof *keys);
  uint8_t(*pl)[PAYLOAD] = calloc(batch, sizeof *pl);

  if (!ev || !g || !keys || !pl)
    die("build", ES_ENOMEM);
  for (uint64_t b = w->id; b < n_batches; b += n_threads) {
    for (uint32_t i = 0; i < batch; i++) {
      uint64_t st = (b * batch + i) % n_streams;
      snprintf(keys[i], sizeof keys[i], "acct-%06" PRIu64, st);
      for (int k = 0; k < PAYLOAD; k++)
        pl[i][k] = (uint8_t)(b * 31 + i * 7 + (uint64_t)k);
      memset(&ev[i], 0, sizeof ev[i]);
      ev[i].type_id = 0x1234 + i % 4;
      ev[i].type_version = 1;
      ev[i].payload = pl[i];
      ev[i].len = PAYLOAD;
      if (with_commands) {
        uint64_t n = b * batch + i + 1;
        ev[i].causation_id.bytes[0] = 0xc0;
        memcpy(ev[i].causation_id.bytes + 8, &n, sizeof n);
      }
      g[i] =
          (es_append_stream){"Account", keys[i], es_expect_any(), &ev[i], 1, 0};
    }
    {
      int rc = es_store_append(w->s, g, batch, NULL);
      if (rc)
        die("append", rc);
    }
  }
  free(ev);
  free(g);
  free(keys);
  free(pl);
  return NULL;
}

static void build(void) {
  es_store *s = NULL;
  pthread_t *th = calloc(n_threads, sizeof *th);
  builder *w = calloc(n_threads, sizeof *w);
  double t0 = now_s(), t;
  int rc = es_store_open_log(&s, dir, NULL, 0);

  if (rc)
    die("open for building", rc);
  if (!th || !w)
    die("build", ES_ENOMEM);
  for (uint32_t i = 0; i < n_threads; i++) {
    w[i].s = s;
    w[i].id = i;
    if (pthread_create(&th[i], NULL, build_thread, &w[i]) != 0)
      die("pthread_create", ES_ENOMEM);
  }
  for (uint32_t i = 0; i < n_threads; i++)
    pthread_join(th[i], NULL);
  es_store_close(s);
  t = now_s() - t0;
  printf("build: %" PRIu64 " events (%" PRIu64 " streams, appends of %u, "
         "%u threads) in %.1f s, %.0f events/s\n",
         n_events, n_streams, batch, n_threads, t, (double)n_events / t);
  free(th);
  free(w);
}

/* ---- files ------------------------------------------------------------- */

/* Sums the sizes of the files ending in `suffix`; with `fadvise`, drops
 * them from the page cache; with `to`, renames NAME`suffix` to NAME`to`.
 * Returns the sum. */
static uint64_t each_file(const char *suffix, int fadvise, const char *to) {
  DIR *d = opendir(dir);
  struct dirent *e;
  uint64_t sum = 0;
  size_t sl = strlen(suffix);
  char path[1024], dest[1100];

  if (!d)
    return 0;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    struct stat sb;
    if (l <= sl || strcmp(e->d_name + l - sl, suffix) != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &sb) == 0)
      sum += (uint64_t)sb.st_size;
    if (fadvise) {
      int fd = open(path, O_RDONLY);
      if (fd >= 0) {
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
      }
    }
    if (to) {
      snprintf(dest, sizeof dest, "%.*s%s", (int)(strlen(path) - sl), path, to);
      if (rename(path, dest) != 0)
        perror("rename");
    }
  }
  closedir(d);
  return sum;
}

static void remove_all(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[1024];
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

/* ---- measuring ------------------------------------------------------------
 */

typedef struct result {
  double open_s, read_s, read2_s;
  uint64_t rss, rss_before, head, read_n, indexed, scanned, events_scanned;
  int rc;
} result;

static int count_fn(const es_stored_event *ev, void *ctx) {
  uint64_t *n = ctx;
  *n += ev->len ? 1 : 0;
  return 0;
}

/* In a child process: opens (flags), measures, maybe reads everything. */
static result measure(unsigned flags, int read_all) {
  int p[2];
  result r;
  pid_t child;

  memset(&r, 0, sizeof r);
  if (pipe(p) != 0)
    die("pipe", ES_EIO);
  child = fork();
  if (child < 0)
    die("fork", ES_EIO);
  if (child == 0) {
    es_store_open_report rep;
    es_store_options o = ES_STORE_OPTIONS_INIT;
    es_store *s = NULL;
    double t0;
    close(p[0]);
    o.report = &rep;
    r.rss_before = rss_bytes();
    t0 = now_s();
    r.rc = es_store_open_log(&s, dir, &o, flags);
    r.open_s = now_s() - t0;
    r.rss = rss_bytes();
    if (r.rc == 0) {
      r.indexed = rep.segments_indexed;
      r.scanned = rep.segments_scanned;
      r.events_scanned = rep.events_scanned;
      es_store_head(s, &r.head);
      if (read_all) {
        t0 = now_s();
        r.rc = es_store_read_all(s, 1, 0, count_fn, &r.read_n);
        r.read_s = now_s() - t0;
        r.read_n = 0;
        t0 = now_s();
        if (r.rc == 0)
          r.rc = es_store_read_all(s, 1, 0, count_fn, &r.read_n);
        r.read2_s = now_s() - t0;
      }
      es_store_close(s);
    }
    if (write(p[1], &r, sizeof r) != (ssize_t)sizeof r)
      _exit(1);
    _exit(0);
  }
  close(p[1]);
  if (read(p[0], &r, sizeof r) != (ssize_t)sizeof r)
    r.rc = ES_EIO;
  close(p[0]);
  waitpid(child, NULL, 0);
  if (r.rc)
    die("measured open", r.rc);
  return r;
}

static void show(const char *what, const result *r) {
  printf("%-5s open: %.3f s, head %" PRIu64 ", %" PRIu64
         " segments from their index, %" PRIu64 " scanned (%" PRIu64
         " events), rss %.0f MB (%.0f MB before open)\n",
         what, r->open_s, r->head, r->indexed, r->scanned, r->events_scanned,
         (double)r->rss / 1e6, (double)r->rss_before / 1e6);
}

int main(int argc, char **argv) {
  const char *tmp = getenv("TMPDIR");
  result cold, warm, scan, best;
  pid_t child;
  int status;

  if (argc > 1)
    n_events = strtoull(argv[1], NULL, 10);
  if (argc > 2)
    n_streams = strtoull(argv[2], NULL, 10);
  if (argc > 3)
    batch = (uint32_t)strtoul(argv[3], NULL, 10);
  if (argc > 4)
    n_threads = (uint32_t)strtoul(argv[4], NULL, 10);
  if (!n_events || !n_streams || !batch ||
      batch > ES_STORE_MAX_APPEND_STREAMS || batch > n_streams || !n_threads ||
      n_events % batch) {
    fprintf(stderr,
            "usage: log_open [EVENTS [STREAMS [BATCH [THREADS]]]]\n"
            "  BATCH <= STREAMS, BATCH <= 1024, EVENTS %% BATCH == 0\n");
    return 2;
  }
  with_commands = getenv("LOG_OPEN_COMMANDS") != NULL;
  snprintf(dir, sizeof dir, "%s/es_log_open.XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  fflush(stdout);
  child = fork(); /* build in a child: the parent stays small */
  if (child < 0)
    die("fork", ES_EIO);
  if (child == 0) {
    build();
    fflush(stdout);
    _exit(0);
  }
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    remove_all();
    return 1;
  }
  printf("disk: %.0f MB of segments, %.1f MB of index files, %.1f MB of "
         "command files\n",
         (double)each_file(".seg", 0, NULL) / 1e6,
         (double)each_file(".idx", 0, NULL) / 1e6,
         (double)each_file(".cmd", 0, NULL) / 1e6);

  each_file(".seg", 1, NULL);
  each_file(".idx", 1, NULL);
  each_file(".cmd", 1, NULL);
  cold = measure(0, 0);
  show("cold", &cold);
  best = measure(0, 0);
  for (int i = 0; i < 2; i++) {
    warm = measure(0, 0);
    if (warm.open_s < best.open_s)
      best = warm;
  }
  show("warm", &best);
  warm = measure(0, 1);
  printf("read_all: %" PRIu64 " events in %.2f s, %.1f M events/s (segments "
         "not cached); again: %.2f s, %.1f M events/s (cached)\n",
         warm.read_n, warm.read_s, (double)warm.read_n / warm.read_s / 1e6,
         warm.read2_s, (double)warm.read_n / warm.read2_s / 1e6);
  each_file(".idx", 0, ".hidden");
  scan = measure(ES_STORE_READONLY, 0);
  each_file(".hidden", 0, ".idx");
  show("scan", &scan);

  printf("log open: %" PRIu64 " events in %.2f s (index, warm; %.2f s cold, "
         "%.2f s full rescan), rss %.0f MB; read_all %.1f M events/s\n",
         best.head, best.open_s, cold.open_s, scan.open_s,
         (double)best.rss / 1e6, (double)warm.read_n / warm.read2_s / 1e6);
  if (getenv("LOG_OPEN_KEEP"))
    printf("kept the store in %s\n", dir);
  else
    remove_all();
  return 0;
}
