/*
 * handoff.c - what one OS thread a client pays to sleep and be woken, with
 * nothing else in the way: the floor under a durable command, whose client
 * thread sleeps until its batch is synced and is woken after.
 *
 * Two patterns with 64 threads (futex words, no store, no I/O):
 *
 *   ring   thread i sleeps on its word until thread i-1 bumps it and wakes
 *          it, then does the same to thread i+1: one wake, one sleep and
 *          one switch a hand-off, one thread running at a time.
 *   group  the group commit's pattern: a leader bumps one word and wakes
 *          all 64 sleepers at once (one FUTEX_WAKE); each runs, counts
 *          itself in (the last one wakes the leader) and sleeps again.
 *
 * Prints the process's CPU time and the wall time per wake + sleep of one
 * client thread. With the memory store's CPU a command and the syncs'
 * share, it bounds the commands/s of 64 durable clients on these cores.
 *
 *   handoff [-r ROUNDS] [-t THREADS]
 *     -r  rounds (default 20,000; each wakes every thread once)
 *     -t  threads (default 64)
 */
#define _DEFAULT_SOURCE /* syscall() */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "bench_util.h"

#define MAX_THREADS 1024

typedef struct {
  _Alignas(64) atomic_uint word;
} padded_word;

static padded_word ring[MAX_THREADS];
static padded_word generation, arrived;
static int threads = 64;
static long rounds = 20000;

static void futex_wait(atomic_uint *word, unsigned seen) {
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void futex_wake(atomic_uint *word, int count) {
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

/* Sleeps until `word` is no longer `seen`; returns its new value. */
static unsigned wait_change(atomic_uint *word, unsigned seen) {
  unsigned now;
  while ((now = atomic_load(word)) == seen)
    futex_wait(word, seen);
  return now;
}

/* ---- ring -----------------------------------------------------------------
 */

static void *ring_thread(void *arg) {
  int i = (int)(intptr_t)arg;
  atomic_uint *mine = &ring[i].word;
  atomic_uint *next = &ring[(i + 1) % threads].word;
  unsigned seen = 0;
  for (long r = 0; r < rounds; r++) {
    if (i != 0 || r != 0)
      seen = wait_change(mine, seen);
    atomic_fetch_add(next, 1);
    futex_wake(next, 1);
  }
  return NULL;
}

/* ---- group ----------------------------------------------------------------
 */

static void *group_thread(void *arg) {
  unsigned seen = 0;
  (void)arg;
  for (long r = 0; r < rounds; r++) {
    seen = wait_change(&generation.word, seen);
    if ((int)atomic_fetch_add(&arrived.word, 1) + 1 == threads)
      futex_wake(&arrived.word, 1);
  }
  return NULL;
}

static void group_lead(void) {
  for (long r = 0; r < rounds; r++) {
    atomic_store(&arrived.word, 0);
    atomic_fetch_add(&generation.word, 1);
    futex_wake(&generation.word, INT_MAX);
    unsigned n;
    while ((n = atomic_load(&arrived.word)) != (unsigned)threads)
      futex_wait(&arrived.word, n);
  }
}

/* ---- runs -----------------------------------------------------------------
 */

/* Runs `body` on `threads` threads (the group pattern leads from this one)
 * and prints CPU and wall time per wake + sleep. 0 or -1. */
static int run(const char *name, void *(*body)(void *), int lead) {
  pthread_t t[MAX_THREADS];
  double wall = bench_now(), cpu = bench_process_cpu();
  for (int i = 0; i < threads; i++) {
    if (pthread_create(&t[i], NULL, body, (void *)(intptr_t)i) != 0) {
      fprintf(stderr, "handoff: pthread_create failed\n");
      exit(1);
    }
  }
  if (lead)
    group_lead();
  for (int i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  wall = bench_now() - wall;
  cpu = bench_process_cpu() - cpu;
  double n = (double)rounds * threads;
  printf("  %-6s %3d threads: %6.2f us of CPU a wake + sleep, %6.2f us of "
         "wall time (%.0f hand-offs in %.2f s)\n",
         name, threads, cpu / n * 1e6, wall / n * 1e6, n, wall);
  return 0;
}

int main(int argc, char **argv) {
  int c;
  while ((c = getopt(argc, argv, "r:t:")) != -1) {
    if (c == 'r')
      rounds = atol(optarg);
    else if (c == 't')
      threads = atoi(optarg);
    else {
      fprintf(stderr, "usage: handoff [-r ROUNDS] [-t THREADS]\n");
      return 2;
    }
  }
  if (rounds < 1 || threads < 2 || threads > MAX_THREADS) {
    fprintf(stderr, "handoff: -r must be >= 1, -t 2..%d\n", MAX_THREADS);
    return 2;
  }
  printf("handoff: %ld rounds, %ld cores, load average %.1f\n", rounds,
         sysconf(_SC_NPROCESSORS_ONLN), bench_loadavg());
  run("ring", ring_thread, 0);
  run("group", group_thread, 1);
  return 0;
}
