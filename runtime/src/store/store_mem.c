/*
 * store_mem.c - the memory store: every event in RAM, one mutex.
 *
 * Events are allocated one by one (record and payload copy in one block)
 * and never change or move once appended, so readers copy a few record
 * pointers under the lock and run their callbacks without it. The global
 * log is an array of record pointers (position p at index p - 1); each
 * stream has the same for its versions. Streams are found through a hash
 * map keyed by "type\0key" (neither part may hold a NUL, so the joined
 * form is unambiguous). Appends build everything that can fail before they
 * touch any shared structure, so a failed append leaves no trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "es/es_error.h"
#include "es/es_obs.h"
#include "es/es_store.h"
#include "store/command_index.h"
#include "store/store_util.h"
#include "store/wait.h"
#include "util/alloc.h"
#include "util/hashmap.h"

/* Record pointers a reader copies per lock hold. */
#define MEM_READ_CHUNK 64
/* How many records ahead a reader asks the CPU to fetch: a stream's
 * records lie wherever they were allocated, so each one delivered would
 * otherwise wait for memory. */
#define MEM_PREFETCH 4

typedef struct mem_event {
  es_stored_event rec;
  uint8_t payload[];
} mem_event;

/* A snapshot or checkpoint value; replaced whole, never edited. */
typedef struct mem_blob {
  uint64_t a; /* snapshot: version; checkpoint: position */
  uint64_t b; /* snapshot: layout */
  size_t len;
  uint8_t data[];
} mem_blob;

typedef struct mem_stream {
  mem_event **events; /* version v at index v - 1 */
  uint64_t n, cap;
  mem_blob *snapshot;
  const char *key; /* into id */
  size_t id_len;
  char id[]; /* "type\0key\0" */
} mem_stream;

typedef struct mem_checkpoint {
  mem_blob *blob;
  size_t name_len;
  char name[];
} mem_checkpoint;

typedef struct mem_store {
  es_store base;
  pthread_mutex_t mu;
  pthread_cond_t grew; /* signalled on every append and interrupt */
  es__hashmap streams;
  es__hashmap checkpoints;
  mem_event **log; /* position p at index p - 1 */
  uint64_t n, cap;
  uint64_t interrupts; /* es_store_interrupt() calls so far */
  uint64_t rng[4];     /* xoshiro256** state */
  es__cmd_index cmds;  /* command id -> the append that carried it out */
} mem_store;

/* ---- helpers ---------------------------------------------------------- */

static mem_stream *find_stream(mem_store *s, const char *type,
                               const char *key) {
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  size_t len = es__stream_id(id, type, key);
  return es__hashmap_get(&s->streams, id, len);
}

static mem_stream *stream_new(const char *type, const char *key) {
  char id[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  size_t len = es__stream_id(id, type, key);
  mem_stream *st = es__malloc(sizeof *st + len + 1);

  if (!st)
    return NULL;
  st->events = NULL;
  st->n = st->cap = 0;
  st->snapshot = NULL;
  memcpy(st->id, id, len + 1);
  st->id_len = len;
  st->key = st->id + strlen(type) + 1;
  return st;
}

static void stream_free(mem_stream *st) {
  if (!st)
    return;
  es__free(st->events);
  es__free(st->snapshot);
  es__free(st);
}

/* Grows `*v` (capacity `*cap`) to hold `need` pointers. */
static int grow_ptrs(mem_event ***v, uint64_t *cap, uint64_t need) {
  return es__grow_array(v, cap, need, sizeof **v);
}

static mem_blob *blob_new(uint64_t a, uint64_t b, const void *data,
                          size_t len) {
  mem_blob *bl = es__malloc(sizeof *bl + len);

  if (!bl)
    return NULL;
  bl->a = a;
  bl->b = b;
  bl->len = len;
  if (len)
    memcpy(bl->data, data, len);
  return bl;
}

/* ---- append ----------------------------------------------------------- */

static int mem_append(es_store *bs, es_append_stream *g, uint32_t n,
                      es_append_result *res) {
  mem_store *s = (mem_store *)bs;
  mem_stream **st = es__calloc(n, sizeof *st);
  uint8_t *created = es__calloc(n, 1); /* st[i] made by this call */
  mem_event **evs = NULL;
  uint64_t total = 0, k = 0;
  uint32_t n_new = 0;
  es_timestamp now = es__store_now(bs);
  int rc = ES_ENOMEM, locked = 0;

  if (!st || !created)
    goto fail;
  for (uint32_t i = 0; i < n; i++)
    total += g[i].n_events;
  evs = es__calloc((size_t)total, sizeof *evs);
  if (!evs)
    goto fail;
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < g[i].n_events; j++, k++) {
      const es_new_event *e = &g[i].events[j];
      mem_event *m = es__malloc(sizeof *m + e->len);
      if (!m)
        goto fail;
      evs[k] = m;
      if (e->len)
        memcpy(m->payload, e->payload, e->len);
      m->rec.payload = m->payload;
      m->rec.len = e->len;
      m->rec.meta.event_id = e->event_id;
      m->rec.meta.type_id = e->type_id;
      m->rec.meta.type_version = e->type_version;
      m->rec.meta.timestamp = e->timestamp ? e->timestamp : now;
      m->rec.meta.correlation_id = e->correlation_id;
      m->rec.meta.causation_id = e->causation_id;
    }

  pthread_mutex_lock(&s->mu);
  locked = 1;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t cur;
    st[i] = find_stream(s, g[i].type, g[i].key);
    cur = st[i] ? st[i]->n : 0;
    if (es__append_expectation(g, i, cur, res) != 0) {
      rc = ES_ECONFLICT;
      goto fail;
    }
  }
  /* Everything that can fail, before anything shared changes. */
  for (uint32_t i = 0; i < n; i++) {
    if (!st[i] && g[i].n_events) {
      st[i] = stream_new(g[i].type, g[i].key);
      if (!st[i])
        goto fail;
      created[i] = 1;
      n_new++;
    }
    if (st[i] &&
        grow_ptrs(&st[i]->events, &st[i]->cap, st[i]->n + g[i].n_events) != 0)
      goto fail;
  }
  if (es__hashmap_reserve(&s->streams, n_new) != 0 ||
      grow_ptrs(&s->log, &s->cap, s->n + total) != 0 ||
      es__cmd_index_reserve(&s->cmds, (size_t)total) != 0)
    goto fail;

  /* Commit: nothing below fails. */
  res->first_position = s->n + 1;
  k = 0;
  for (uint32_t i = 0; i < n; i++) {
    mem_stream *t = st[i];
    if (created[i])
      es__hashmap_put(&s->streams, t->id, t->id_len, t);
    for (uint32_t j = 0; j < g[i].n_events; j++, k++) {
      mem_event *m = evs[k];
      if (es__uuid_is_zero(&m->rec.meta.event_id))
        es__uuid_v7(&m->rec.meta.event_id, s->rng, now);
      m->rec.meta.aggregate = t->id;
      m->rec.meta.key = t->key;
      m->rec.meta.version = t->n + 1;
      m->rec.meta.position = s->n + 1;
      t->events[t->n++] = m;
      s->log[s->n++] = m;
      es__cmd_index_note(&s->cmds, &m->rec.meta.causation_id, s->n,
                         m->rec.meta.timestamp, now);
    }
    g[i].version = t ? t->n : 0;
  }
  res->last_position = s->n;
  pthread_cond_broadcast(&s->grew);
  pthread_mutex_unlock(&s->mu);
  es__free(st);
  es__free(created);
  es__free(evs);
  return 0;

fail:
  if (st && created)
    for (uint32_t i = 0; i < n; i++)
      if (created[i])
        stream_free(st[i]);
  if (locked)
    pthread_mutex_unlock(&s->mu);
  if (evs)
    for (uint64_t i = 0; i < total; i++)
      es__free(evs[i]);
  es__free(evs);
  es__free(created);
  es__free(st);
  return rc;
}

/* ---- reads ------------------------------------------------------------ */

/* Starts fetching record `m` (its header and the start of the payload
 * after it) into the cache; a prefetch never faults. */
static void prefetch_event(const mem_event *m) {
#if defined(__GNUC__)
  const char *p = (const char *)m;
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
  __builtin_prefetch(p + 128);
  __builtin_prefetch(p + 192);
#else
  (void)m;
#endif
}

/* Delivers v[first - 1 .. last - 1] (1-based, inclusive) of the pointer
 * array found at `*v`, copying a chunk at a time under the lock since the
 * array may move when an append grows it. */
static int deliver(mem_store *s, mem_event **const *v, uint64_t first,
                   uint64_t last, es_event_fn fn, void *ctx) {
  mem_event *chunk[MEM_READ_CHUNK];

  while (first <= last) {
    uint64_t k = last - first + 1;
    if (k > MEM_READ_CHUNK)
      k = MEM_READ_CHUNK;
    pthread_mutex_lock(&s->mu);
    memcpy(chunk, *v + (first - 1), (size_t)k * sizeof chunk[0]);
    pthread_mutex_unlock(&s->mu);
    for (uint64_t i = 0; i < k && i < MEM_PREFETCH; i++)
      prefetch_event(chunk[i]);
    for (uint64_t i = 0; i < k; i++) {
      int rc;
      if (i + MEM_PREFETCH < k)
        prefetch_event(chunk[i + MEM_PREFETCH]);
      rc = fn(&chunk[i]->rec, ctx);
      if (rc)
        return rc;
    }
    first += k;
  }
  return 0;
}

static int mem_read_stream(es_store *bs, const char *type, const char *key,
                           uint64_t from, uint32_t max, es_event_fn fn,
                           void *ctx) {
  mem_store *s = (mem_store *)bs;
  mem_stream *st;
  uint64_t have;

  pthread_mutex_lock(&s->mu);
  st = find_stream(s, type, key);
  have = st ? st->n : 0;
  pthread_mutex_unlock(&s->mu);
  if (from > have)
    return 0;
  return deliver(s, &st->events, from, es__read_end(from, have, max), fn, ctx);
}

static int mem_read_all(es_store *bs, uint64_t from, uint32_t max,
                        es_event_fn fn, void *ctx) {
  mem_store *s = (mem_store *)bs;
  uint64_t have;

  pthread_mutex_lock(&s->mu);
  have = s->n;
  pthread_mutex_unlock(&s->mu);
  if (from > have)
    return 0;
  return deliver(s, &s->log, from, es__read_end(from, have, max), fn, ctx);
}

/* ---- waiting ---------------------------------------------------------- */

static int mem_wait(es_store *bs, uint64_t after, int64_t timeout_us,
                    uint64_t *head) {
  mem_store *s = (mem_store *)bs;
  int rc;

  pthread_mutex_lock(&s->mu);
  rc =
      es__wait_head(&s->mu, &s->grew, &s->n, &s->interrupts, after, timeout_us);
  *head = s->n;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static void mem_interrupt(es_store *bs) {
  mem_store *s = (mem_store *)bs;

  pthread_mutex_lock(&s->mu);
  es__interrupt_waiters(&s->grew, &s->interrupts);
  pthread_mutex_unlock(&s->mu);
}

static int mem_head(es_store *bs, uint64_t *position) {
  mem_store *s = (mem_store *)bs;

  pthread_mutex_lock(&s->mu);
  *position = s->n;
  pthread_mutex_unlock(&s->mu);
  return 0;
}

static int mem_stream_version(es_store *bs, const char *type, const char *key,
                              uint64_t *version) {
  mem_store *s = (mem_store *)bs;
  mem_stream *st;

  pthread_mutex_lock(&s->mu);
  st = find_stream(s, type, key);
  *version = st ? st->n : 0;
  pthread_mutex_unlock(&s->mu);
  return 0;
}

/* ---- snapshots and checkpoints ---------------------------------------- */

static int mem_snapshot_put(es_store *bs, const char *type, const char *key,
                            const es_snapshot_info *info, const void *data,
                            size_t len) {
  mem_store *s = (mem_store *)bs;
  mem_blob *bl = blob_new(info->version, info->layout, data, len), *old;
  mem_stream *st, *made = NULL;
  int rc = ES_ENOMEM;

  if (!bl)
    return ES_ENOMEM;
  pthread_mutex_lock(&s->mu);
  st = find_stream(s, type, key);
  if (!st) {
    made = st = stream_new(type, key);
    if (!st || es__hashmap_put(&s->streams, st->id, st->id_len, st) != 0)
      goto fail;
  }
  old = st->snapshot;
  st->snapshot = bl;
  pthread_mutex_unlock(&s->mu);
  es__free(old);
  return 0;

fail:
  pthread_mutex_unlock(&s->mu);
  stream_free(made);
  es__free(bl);
  return rc;
}

static int mem_snapshot_get(es_store *bs, const char *type, const char *key,
                            es_snapshot_info *info, es_buf *data) {
  mem_store *s = (mem_store *)bs;
  mem_stream *st;
  int rc = ES_ENOTFOUND;

  pthread_mutex_lock(&s->mu);
  st = find_stream(s, type, key);
  if (st && st->snapshot) {
    es_buf_append(data, st->snapshot->data, st->snapshot->len);
    rc = data->err;
    if (rc == 0) {
      info->version = st->snapshot->a;
      info->layout = st->snapshot->b;
    }
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static int mem_checkpoint_put(es_store *bs, const char *name, uint64_t position,
                              const void *data, size_t len) {
  mem_store *s = (mem_store *)bs;
  mem_blob *bl = blob_new(position, 0, data, len), *old;
  mem_checkpoint *c, *made = NULL;
  size_t nl = strlen(name);

  if (!bl)
    return ES_ENOMEM;
  pthread_mutex_lock(&s->mu);
  c = es__hashmap_get(&s->checkpoints, name, nl);
  if (!c) {
    made = c = es__malloc(sizeof *c + nl + 1);
    if (!c)
      goto fail;
    c->blob = NULL;
    c->name_len = nl;
    memcpy(c->name, name, nl + 1);
    if (es__hashmap_put(&s->checkpoints, c->name, nl, c) != 0)
      goto fail;
  }
  old = c->blob;
  c->blob = bl;
  pthread_mutex_unlock(&s->mu);
  es__free(old);
  return 0;

fail:
  pthread_mutex_unlock(&s->mu);
  es__free(made);
  es__free(bl);
  return ES_ENOMEM;
}

static int mem_checkpoint_get(es_store *bs, const char *name,
                              uint64_t *position, es_buf *data) {
  mem_store *s = (mem_store *)bs;
  mem_checkpoint *c;
  int rc = ES_ENOTFOUND;

  pthread_mutex_lock(&s->mu);
  c = es__hashmap_get(&s->checkpoints, name, strlen(name));
  if (c) {
    rc = 0;
    if (data) {
      es_buf_append(data, c->blob->data, c->blob->len);
      rc = data->err;
    }
    if (rc == 0)
      *position = c->blob->a;
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* ---- open and close --------------------------------------------------- */

static void mem_close(es_store *bs) {
  mem_store *s = (mem_store *)bs;
  size_t i = 0;
  void *v;

  while ((v = es__hashmap_next(&s->streams, &i)) != NULL)
    stream_free(v);
  i = 0;
  while ((v = es__hashmap_next(&s->checkpoints, &i)) != NULL) {
    es__free(((mem_checkpoint *)v)->blob);
    es__free(v);
  }
  for (uint64_t p = 0; p < s->n; p++)
    es__free(s->log[p]);
  es__free(s->log);
  es__hashmap_close(&s->streams);
  es__hashmap_close(&s->checkpoints);
  es__cmd_index_close(&s->cmds);
  pthread_cond_destroy(&s->grew);
  pthread_mutex_destroy(&s->mu);
  es__free(s);
}

static int mem_command_find(es_store *bs, const es_uuid *id,
                            es_command_record *out) {
  mem_store *s = (mem_store *)bs;
  int rc;

  pthread_mutex_lock(&s->mu);
  rc = es__cmd_index_record(&s->cmds, id, es__store_now(bs), out);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static const es_store_ops mem_ops = {
    "memory",           mem_close,        mem_append,
    mem_read_stream,    mem_read_all,     mem_wait,
    mem_interrupt,      mem_head,         mem_stream_version,
    mem_snapshot_put,   mem_snapshot_get, mem_checkpoint_put,
    mem_checkpoint_get, mem_command_find, NULL,
};

int es_store_open_memory(es_store **out, const es_store_options *opt) {
  uint64_t t0 = es_obs_now_us();
  mem_store *s;
  int have_mu = 0;

  if (!out)
    return ES_EINVAL;
  *out = NULL;
  s = es__calloc(1, sizeof *s);
  if (!s)
    return ES_ENOMEM;
  s->base.ops = &mem_ops;
  if (opt)
    s->base.opt = *opt;
  es__store_defaults(&s->base.opt);
  es__rng_seed(s->rng, s);
  es__hashmap_init(&s->streams, es__rng_next(s->rng), es__rng_next(s->rng));
  es__hashmap_init(&s->checkpoints, es__rng_next(s->rng), es__rng_next(s->rng));
  es__cmd_index_init(&s->cmds, s->base.opt.command_retention_us,
                     es__rng_next(s->rng), es__rng_next(s->rng));

  if (pthread_mutex_init(&s->mu, NULL) != 0)
    goto fail;
  have_mu = 1;
  if (es__cond_init_monotonic(&s->grew) != 0)
    goto fail;
  *out = &s->base;
  es__store_log_opened(&s->base, NULL, t0);
  return 0;

fail:
  if (have_mu)
    pthread_mutex_destroy(&s->mu);
  es__free(s);
  return ES_ENOMEM;
}
