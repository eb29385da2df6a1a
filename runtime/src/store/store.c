/*
 * store.c - the public es_store_*() functions: argument checks shared by
 * every implementation, then a call through the vtable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_error.h"
#include "es/es_obs.h"
#include "es/es_store.h"
#include "store/store_util.h"
#include "util/alloc.h"

/* True when `s` is a NUL-terminated name of 1 .. max bytes. */
static int name_ok(const char *s, size_t max) {
  size_t n;

  if (!s)
    return 0;
  n = strnlen(s, max + 1);
  return n >= 1 && n <= max;
}

/* A stream name to read: any key a store may hold (streams written before
 * the key rule stay readable). */
static int stream_ok(const char *type, const char *key) {
  return name_ok(type, ES_STREAM_TYPE_MAX) && name_ok(key, ES_KEY_MAX);
}

/* A stream name to write: its key follows es_key_check(). */
static int new_stream_ok(const char *type, const char *key) {
  return name_ok(type, ES_STREAM_TYPE_MAX) && es_key_check(key, NULL, 0) == 0;
}

static int same_stream(const es_append_stream *a, const es_append_stream *b) {
  return strcmp(a->type, b->type) == 0 && strcmp(a->key, b->key) == 0;
}

static int cmp_stream(const void *pa, const void *pb) {
  const es_append_stream *a = *(const es_append_stream *const *)pa;
  const es_append_stream *b = *(const es_append_stream *const *)pb;
  int c = strcmp(a->type, b->type);
  return c ? c : strcmp(a->key, b->key);
}

/* ES_EINVAL when one stream is named by two groups: pairwise for a few
 * groups, by sorting pointers for many. */
static int check_distinct(const es_append_stream *streams, uint32_t n) {
  const es_append_stream **v;
  int rc = 0;

  if (n <= 16) {
    for (uint32_t i = 0; i < n; i++)
      for (uint32_t j = i + 1; j < n; j++)
        if (same_stream(&streams[i], &streams[j]))
          return ES_EINVAL;
    return 0;
  }
  v = es__malloc(n * sizeof *v);
  if (!v)
    return ES_ENOMEM;
  for (uint32_t i = 0; i < n; i++)
    v[i] = &streams[i];
  qsort(v, n, sizeof *v, cmp_stream);
  for (uint32_t i = 1; i < n && !rc; i++)
    if (same_stream(v[i - 1], v[i]))
      rc = ES_EINVAL;
  es__free(v);
  return rc;
}

static int check_append(const es_store *s, const es_append_stream *streams,
                        uint32_t n_streams) {
  uint64_t total = 0;

  if (!streams || n_streams == 0 || n_streams > ES_STORE_MAX_APPEND_STREAMS)
    return ES_EINVAL;
  for (uint32_t i = 0; i < n_streams; i++) {
    const es_append_stream *g = &streams[i];
    if (!new_stream_ok(g->type, g->key) || g->expected.kind > ES_EXPECT_EXACT)
      return ES_EINVAL;
    if (g->n_events && !g->events)
      return ES_EINVAL;
    for (uint32_t j = 0; j < g->n_events; j++) {
      if (g->events[j].len && !g->events[j].payload)
        return ES_EINVAL;
      if (g->events[j].len > s->opt.max_event_size)
        return ES_ETOOBIG;
    }
    total += g->n_events;
  }
  if (total == 0)
    return ES_EINVAL;
  if (total > s->opt.max_append_events)
    return ES_ETOOBIG;
  return check_distinct(streams, n_streams);
}

void es__store_log_opened(es_store *s, const char *path, uint64_t t0_us) {
  char pos[24], took[24];
  uint64_t head = 0;
  if (!es__log_enabled(s->opt.obs, ES_LOG_INFO))
    return;
  (void)es_store_head(s, &head);
  snprintf(pos, sizeof pos, "%llu", (unsigned long long)head);
  snprintf(took, sizeof took, "%llu",
           (unsigned long long)(es_obs_now_us() - t0_us));
  es__log(s->opt.obs, ES_LOG_INFO, "store opened", "store", s->ops->name,
          "path", path ? path : "", "position", pos, "open_us", took, NULL);
}

void es_store_close(es_store *s) {
  if (!s)
    return;
  if (es__log_enabled(s->opt.obs, ES_LOG_INFO)) {
    const es_obs *obs = s->opt.obs;
    const char *kind = s->ops->name;
    char pos[24];
    uint64_t head = 0;
    (void)es_store_head(s, &head);
    snprintf(pos, sizeof pos, "%llu", (unsigned long long)head);
    s->ops->close(s); /* the bundle outlives the store: log after */
    es__log(obs, ES_LOG_INFO, "store closed", "store", kind, "position", pos,
            NULL);
    return;
  }
  s->ops->close(s);
}

const char *es_store_kind(const es_store *s) { return s ? s->ops->name : ""; }

int es_store_append(es_store *s, es_append_stream *streams, uint32_t n_streams,
                    es_append_result *res) {
  es_append_result scratch;
  int rc;

  if (!s)
    return ES_EINVAL;
  rc = check_append(s, streams, n_streams);
  if (rc)
    return rc;
  if (!res)
    res = &scratch;
  memset(res, 0, sizeof *res);
  return s->ops->append(s, streams, n_streams, res);
}

int es_store_append_one(es_store *s, const char *type, const char *key,
                        es_expected expected, const es_new_event *events,
                        uint32_t n_events, uint64_t *version) {
  es_append_stream g;
  int rc;

  g.type = type;
  g.key = key;
  g.expected = expected;
  g.events = events;
  g.n_events = n_events;
  g.version = 0;
  rc = es_store_append(s, &g, 1, NULL);
  if (rc == 0 && version)
    *version = g.version;
  return rc;
}

int es_store_read_stream(es_store *s, const char *type, const char *key,
                         uint64_t from_version, uint32_t max, es_event_fn fn,
                         void *ctx) {
  if (!s || !fn || !stream_ok(type, key))
    return ES_EINVAL;
  return s->ops->read_stream(s, type, key, from_version ? from_version : 1, max,
                             fn, ctx);
}

int es_store_read_all(es_store *s, uint64_t from_position, uint32_t max,
                      es_event_fn fn, void *ctx) {
  if (!s || !fn)
    return ES_EINVAL;
  return s->ops->read_all(s, from_position ? from_position : 1, max, fn, ctx);
}

int es_store_wait(es_store *s, uint64_t after, int64_t timeout_us,
                  uint64_t *head) {
  uint64_t scratch;

  if (!s)
    return ES_EINVAL;
  return s->ops->wait(s, after, timeout_us, head ? head : &scratch);
}

void es_store_interrupt(es_store *s) {
  if (s)
    s->ops->interrupt(s);
}

int es_store_head(es_store *s, uint64_t *position) {
  if (!s || !position)
    return ES_EINVAL;
  return s->ops->head(s, position);
}

int es_store_stream_version(es_store *s, const char *type, const char *key,
                            uint64_t *version) {
  if (!s || !version || !stream_ok(type, key))
    return ES_EINVAL;
  return s->ops->stream_version(s, type, key, version);
}

int es_store_snapshot_put(es_store *s, const char *type, const char *key,
                          const es_snapshot_info *info, const void *data,
                          size_t len) {
  if (!s || !info || !new_stream_ok(type, key) || (len && !data))
    return ES_EINVAL;
  if (len > s->opt.max_blob_size)
    return ES_ETOOBIG;
  return s->ops->snapshot_put(s, type, key, info, data, len);
}

int es_store_snapshot_get(es_store *s, const char *type, const char *key,
                          es_snapshot_info *info, es_buf *data) {
  if (!s || !info || !data || !stream_ok(type, key))
    return ES_EINVAL;
  es_buf_clear(data);
  return s->ops->snapshot_get(s, type, key, info, data);
}

int es_store_checkpoint_put(es_store *s, const char *name, uint64_t position,
                            const void *data, size_t len) {
  if (!s || !name_ok(name, ES_KEY_MAX) || (len && !data))
    return ES_EINVAL;
  if (len > s->opt.max_blob_size)
    return ES_ETOOBIG;
  return s->ops->checkpoint_put(s, name, position, data, len);
}

int es_store_checkpoint_get(es_store *s, const char *name, uint64_t *position,
                            es_buf *data) {
  if (!s || !position || !name_ok(name, ES_KEY_MAX))
    return ES_EINVAL;
  if (data)
    es_buf_clear(data);
  return s->ops->checkpoint_get(s, name, position, data);
}

int es_store_command_find(es_store *s, const es_uuid *id,
                          es_command_record *out) {
  static const es_uuid zero;
  if (!s || !id || !out || memcmp(id->bytes, zero.bytes, 16) == 0)
    return ES_EINVAL;
  memset(out, 0, sizeof *out);
  return s->ops->command_find(s, id, out);
}

int es_store_lease_try(es_store *s, const char *name, es_lease **out) {
  es_lease *l;
  if (out)
    *out = NULL;
  if (!s || !out || !name_ok(name, ES_KEY_MAX))
    return ES_EINVAL;
  if (s->ops->lease_try)
    return s->ops->lease_try(s, name, out);
  if (!(l = es__calloc(1, sizeof *l)))
    return ES_ENOMEM;
  *out = l;
  return 0;
}

int es_store_lease_check(es_lease *l) {
  if (!l)
    return ES_EINVAL;
  return l->check ? l->check(l) : 0;
}

void es_store_lease_release(es_lease *l) {
  if (!l)
    return;
  if (l->release)
    l->release(l);
  else
    es__free(l);
}
