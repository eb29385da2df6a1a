/*
 * test_projection_crash.c - 100,000 events across 1,000 streams; a child
 * process runs the Tally projection and is SIGKILLed at random moments
 * while catching up, 20 times, restarted each time.
 *
 *  - exactly-once (commit hook): the read model and its position are
 *    written together to one file (write a temporary, rename over). The
 *    final model equals a straight run's and no event was applied twice.
 *  - at-least-once (store checkpoint): every delivery is appended to a
 *    log file as it is handled. Every event is delivered, in order, and a
 *    restart redelivers only events after the last checkpoint (at most
 *    one batch per kill); folding the deliveries idempotently (per-stream
 *    version) gives the straight run's model.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "es/es.h"
#include "tally_gen.h"
#include "tally_view.h"

#define ROUNDS 100
#define STREAMS 1000
#define COUNTERS 800
#define KILLS 20
#define BATCH 256

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char dir[64];

/* The child writes a byte here once its projection is open, so that the
 * parent's random delay is spent catching up, not opening. */
static int ready_fd = -1;

static void say_ready(void) {
  char c = 'r';
  if (write(ready_fd, &c, 1) != 1)
    _exit(30);
  close(ready_fd);
}

static void build_store(void) {
  es_store *s = NULL;
  uint64_t h = 0;
  strcpy(dir, "/tmp/es-proj-crash-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  cr_assert_eq(tally_generate(s, ROUNDS, STREAMS, COUNTERS), 0);
  cr_assert_eq(es_store_head(s, &h), 0);
  cr_assert_eq(h, (uint64_t)ROUNDS * STREAMS);
  es_store_close(s);
}

static void remove_store(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

static int zero_position(void *ctx, uint64_t *pos) {
  (void)ctx;
  *pos = 0;
  return 0;
}

static int commit_nothing(void *ctx, uint64_t pos) {
  (void)ctx;
  (void)pos;
  return 0;
}

/* A straight, uninterrupted run; `secs` gets its duration. */
static tally_model straight(double *secs) {
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection *p = NULL;
  es_store *s = NULL;
  tally_view v;
  double t0 = now_seconds();
  tally_view_init(&v, 0);
  cr_assert_eq(es_store_open_log(&s, dir, NULL, ES_STORE_READONLY), 0);
  o.ctx = &v;
  o.batch_size = BATCH;
  o.load_position = zero_position;
  o.commit = commit_nothing;
  cr_assert_eq(
      es_projection_open(&p, &tally_schema, &tally_tally_projection, s, &o), 0);
  cr_assert_eq(es_projection_run_until_caught_up(p, NULL), 0);
  es_projection_close(p);
  es_store_close(s);
  *secs = now_seconds() - t0;
  cr_assert_eq(v.m.repeats, 0);
  return v.m;
}

static void assert_same_model(const tally_model *a, const tally_model *b) {
  cr_assert_eq(a->handled, b->handled, "handled %llu vs %llu",
               (unsigned long long)a->handled, (unsigned long long)b->handled);
  cr_assert_eq(memcmp(a->total, b->total, sizeof a->total), 0);
  cr_assert_eq(memcmp(a->c_version, b->c_version, sizeof a->c_version), 0);
  cr_assert_eq(memcmp(a->reading, b->reading, sizeof a->reading), 0);
  cr_assert_eq(memcmp(a->m_version, b->m_version, sizeof a->m_version), 0);
  cr_assert_eq(a->upcast, b->upcast);
}

/* ---- the child: exactly-once -------------------------------------------- */

typedef struct file_db {
  tally_view v; /* first: the handlers' ctx */
  tally_model durable;
  char path[128], tmp[128];
} file_db;

static int read_model(const char *path, tally_model *m) {
  int fd = open(path, O_RDONLY);
  ssize_t n;
  memset(m, 0, sizeof *m);
  if (fd < 0)
    return errno == ENOENT ? 0 : -1;
  n = read(fd, m, sizeof *m);
  close(fd);
  return n == (ssize_t)sizeof *m ? 0 : -1;
}

static int fdb_load(void *ctx, uint64_t *pos) {
  file_db *d = ctx;
  *pos = d->durable.position;
  return 0;
}

/* The read model and the position, in one file, replaced atomically. */
static int fdb_commit(void *ctx, uint64_t pos) {
  file_db *d = ctx;
  const tally_model *m = &d->v.m;
  int fd;
  ssize_t n;
  d->v.m.position = pos;
  fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return ES_EIO;
  n = write(fd, m, sizeof *m);
  if (close(fd) != 0 || n != (ssize_t)sizeof *m || rename(d->tmp, d->path) != 0)
    return ES_EIO;
  d->durable = d->v.m;
  return 0;
}

static void fdb_rollback(void *ctx) {
  file_db *d = ctx;
  d->v.m = d->durable;
}

static void child_exactly_once(void) {
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection *p = NULL;
  es_store *s = NULL;
  static file_db d;
  int rc;

  memset(&d, 0, sizeof d);
  snprintf(d.path, sizeof d.path, "%s/model.bin", dir);
  snprintf(d.tmp, sizeof d.tmp, "%s/model.tmp", dir);
  if (read_model(d.path, &d.durable) != 0)
    _exit(10);
  d.v.m = d.durable;
  if (es_store_open_log(&s, dir, NULL, ES_STORE_READONLY) != 0)
    _exit(11);
  o.ctx = &d;
  o.batch_size = BATCH;
  o.load_position = fdb_load;
  o.commit = fdb_commit;
  o.rollback = fdb_rollback;
  if (es_projection_open(&p, &tally_schema, &tally_tally_projection, s, &o))
    _exit(12);
  say_ready();
  rc = es_projection_run_until_caught_up(p, NULL);
  es_projection_close(p);
  es_store_close(s);
  _exit(rc == 0 ? 0 : 13);
}

/* ---- the child: at-least-once -------------------------------------------- */

typedef struct delivery {
  uint64_t position;
} delivery;

static int log_fd = -1;

static void log_delivery(void *ctx, const es_event_meta *meta) {
  delivery d = {meta->position};
  (void)ctx;
  if (write(log_fd, &d, sizeof d) != (ssize_t)sizeof d)
    _exit(20);
}

static void child_at_least_once(void) {
  es_projection_options o = ES_PROJECTION_OPTIONS_INIT;
  es_projection *p = NULL;
  es_store *s = NULL;
  static tally_view v;
  char path[128];
  int rc;

  snprintf(path, sizeof path, "%s/deliveries.bin", dir);
  log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log_fd < 0)
    _exit(21);
  tally_view_init(&v, 0);
  v.after = log_delivery;
  if (es_store_open_log(&s, dir, NULL, 0) != 0) /* writes the checkpoint */
    _exit(22);
  o.ctx = &v;
  o.batch_size = BATCH;
  if (es_projection_open(&p, &tally_schema, &tally_tally_projection, s, &o))
    _exit(23);
  say_ready();
  rc = es_projection_run_until_caught_up(p, NULL);
  es_projection_close(p);
  es_store_close(s);
  _exit(rc == 0 ? 0 : 24);
}

/* Progress: the committed position, or the number of deliveries. */
static uint64_t model_progress(void) {
  char path[128];
  tally_model m;
  snprintf(path, sizeof path, "%s/model.bin", dir);
  return read_model(path, &m) == 0 ? m.position : 0;
}

static uint64_t delivery_progress(void) {
  char path[128];
  struct stat st;
  snprintf(path, sizeof path, "%s/deliveries.bin", dir);
  return stat(path, &st) == 0 ? (uint64_t)st.st_size / sizeof(delivery) : 0;
}

/* ---- the parent ---------------------------------------------------------- */

/* Starts children running `child` and kills each at a random moment
 * within [0, max_delay) after its projection is open (while it catches
 * up), until KILLS of them died by the signal, then lets one finish.
 * Returns how many kills happened; `mid_run` counts those after which
 * `progress` had moved. */
static int kill_and_restart(void (*child)(void), double max_delay,
                            uint64_t (*progress)(void), int *finished_early,
                            int *mid_run) {
  int kills = 0, tries = 0, status;
  uint64_t before = progress(), after;
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  *finished_early = 0;
  *mid_run = 0;
  while (kills < KILLS && tries++ < 10 * KILLS) {
    int fds[2];
    char c;
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ready_fd = fds[1];
      child();
    }
    close(fds[1]);
    (void)!read(fds[0], &c, 1); /* ready, or EOF when it died */
    close(fds[0]);
    double delay = max_delay * ((double)rand_r(&seed) / RAND_MAX);
    struct timespec ts = {(time_t)delay,
                          (long)((delay - (double)(time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      kills++;
      after = progress();
      if (after > before)
        (*mid_run)++; /* it had handled events when it died */
      before = after;
    } else {
      cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "child failed: status %d", status);
      (*finished_early)++;
      break; /* it caught up before the kill */
    }
  }
  /* the last run, to the end */
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    ready_fd = open("/dev/null", O_WRONLY);
    child();
  }
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "final child failed: status %d", status);
  return kills;
}

Test(projection_crash, exactly_once_with_the_commit_hook, .timeout = 600) {
  double secs;
  tally_model want, got;
  char path[128];
  int kills, early, mid;

  build_store();
  want = straight(&secs);
  /* Each life handles at most ~1/25 of the events: 20 kills land while
   * catching up. */
  kills = kill_and_restart(child_exactly_once, secs / 25, model_progress,
                           &early, &mid);
  cr_log_info("exactly-once: straight run %.3f s, %d kills (%d after "
              "progress), %d early",
              secs, kills, mid, early);
  cr_assert_geq(mid, KILLS / 2, "only %d kills after some progress", mid);
  cr_assert_eq(kills, KILLS, "only %d kills before the child caught up", kills);
  snprintf(path, sizeof path, "%s/model.bin", dir);
  cr_assert_eq(read_model(path, &got), 0);
  cr_assert_eq(got.position, (uint64_t)ROUNDS * STREAMS);
  cr_assert_eq(got.repeats, 0, "%llu events applied twice",
               (unsigned long long)got.repeats);
  assert_same_model(&got, &want);
  remove_store();
}

/* Which positions hold an event the projection lists. */
static int mark_listed(const es_stored_event *ev, void *arg) {
  uint8_t *listed = arg;
  listed[ev->meta.position] =
      ev->meta.type_id == tally_counter_added_desc.type_id ||
      ev->meta.type_id == tally_meter_reading_desc.type_id;
  return 0;
}

Test(projection_crash, at_least_once_with_the_store_checkpoint,
     .timeout = 600) {
  const uint64_t total = (uint64_t)ROUNDS * STREAMS;
  uint8_t *listed = calloc(total + 1, 1), *seen = calloc(total + 1, 1);
  double secs;
  tally_model want;
  es_store *s = NULL;
  char path[128];
  int kills, early, mid;
  uint64_t cp = 0, last = 0, n = 0, restarts = 0;
  delivery d;
  FILE *f;

  cr_assert(listed && seen);
  build_store();
  want = straight(&secs);
  kills = kill_and_restart(child_at_least_once, secs / 25, delivery_progress,
                           &early, &mid);
  cr_assert_eq(kills, KILLS);
  cr_assert_geq(mid, KILLS / 2, "only %d kills after some progress", mid);

  /* The deliveries: in order within each life; a restart goes back at most
   * one batch of positions (the events after the last checkpoint). */
  snprintf(path, sizeof path, "%s/deliveries.bin", dir);
  f = fopen(path, "rb");
  cr_assert_not_null(f);
  while (fread(&d, sizeof d, 1, f) == 1) {
    cr_assert(d.position >= 1 && d.position <= total);
    if (d.position <= last) {
      restarts++;
      cr_assert_lt(last - d.position, (uint64_t)BATCH,
                   "went back from %llu to %llu", (unsigned long long)last,
                   (unsigned long long)d.position);
    }
    seen[d.position] = 1;
    last = d.position;
    n++;
  }
  fclose(f);
  cr_assert_eq(last, total);
  cr_log_info("at-least-once: straight run %.3f s, %d kills, %d early, "
              "%d after progress, %llu deliveries for %llu events, %llu "
              "restarts went back",
              secs, kills, early, mid, (unsigned long long)n,
              (unsigned long long)want.handled, (unsigned long long)restarts);

  /* Every listed event delivered, nothing else; the checkpoint at the
   * head. */
  cr_assert_eq(es_store_open_log(&s, dir, NULL, 0), 0);
  cr_assert_eq(es_store_read_all(s, 1, 0, mark_listed, listed), 0);
  cr_assert_eq(es_store_checkpoint_get(s, "projection:Tally", &cp, NULL), 0);
  cr_assert_eq(cp, total);
  es_store_close(s);
  for (uint64_t i = 1; i <= total; i++)
    cr_assert_eq(seen[i], listed[i], "position %llu: seen %d, listed %d",
                 (unsigned long long)i, seen[i], listed[i]);
  cr_assert_geq(n, want.handled);
  free(listed);
  free(seen);
  remove_store();
}
