/*
 * ctl_copy.c - copy (store to store) and export (JSON lines): every event
 * with its ids, metadata and order, the schema descriptions, and the
 * checkpoints and snapshots the runtime keeps; then a count and digest of
 * both sides compared.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl/ctl.h"
#include "es/es_error.h"
#include "es/es_projection.h"
#include "schema/json_out.h"
#include "store/schema_record.h"
#include "util/alloc.h"
#include "util/json_parse.h"
#include "util/line.h"

/* FNV-1a 64 over everything an event is. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= UINT64_C(1099511628211);
  }
  return h;
}

static uint64_t event_digest(uint64_t h, const es_stored_event *ev) {
  const es_event_meta *m = &ev->meta;
  h = fnv(h, m->event_id.bytes, 16);
  h = fnv(h, m->aggregate, strlen(m->aggregate) + 1);
  h = fnv(h, m->key, strlen(m->key) + 1);
  h = fnv(h, &m->version, sizeof m->version);
  h = fnv(h, &m->position, sizeof m->position);
  h = fnv(h, &m->type_id, sizeof m->type_id);
  h = fnv(h, &m->type_version, sizeof m->type_version);
  h = fnv(h, &m->timestamp, sizeof m->timestamp);
  h = fnv(h, m->correlation_id.bytes, 16);
  h = fnv(h, m->causation_id.bytes, 16);
  return fnv(h, ev->payload, ev->len);
}

typedef struct digest_ctx {
  uint64_t n, h;
} digest_ctx;

static int digest_event(const es_stored_event *ev, void *ctx) {
  digest_ctx *d = ctx;
  d->n++;
  d->h = event_digest(d->h, ev);
  return 0;
}

/* ---- copy -----------------------------------------------------------------
 */

#define BATCH_EVENTS 512
#define BATCH_BYTES ((size_t)4 << 20)

typedef struct group {
  char type[ES_STREAM_TYPE_MAX + 1], key[ES_KEY_MAX + 1];
  uint64_t first_version;
  uint32_t first, n; /* into the batch's events */
} group;

typedef struct copy_ctx {
  ctl *c;
  es_store *dst;
  es_new_event ev[BATCH_EVENTS];
  group g[BATCH_EVENTS];
  uint32_t n_ev, n_g;
  es_buf payloads;
  size_t offsets[BATCH_EVENTS];
  uint64_t copied, head;
  int err;
} copy_ctx;

/* A copy into `dst` for command `c`, or NULL when out of memory. */
static copy_ctx *copy_new(ctl *c, es_store *dst) {
  copy_ctx *cc = es__calloc(1, sizeof *cc);
  if (!cc)
    return NULL;
  cc->c = c;
  cc->dst = dst;
  es_buf_init(&cc->payloads, BATCH_BYTES + ES_STORE_DEFAULT_MAX_EVENT);
  return cc;
}

/* Frees `cc` (may be NULL); the store it copied into stays open. */
static void copy_free(copy_ctx *cc) {
  if (cc)
    es_buf_close(&cc->payloads);
  es__free(cc);
}

static int flush(copy_ctx *cc) {
  es_append_stream s[BATCH_EVENTS];
  int rc;
  if (!cc->n_ev)
    return 0;
  for (uint32_t i = 0; i < cc->n_ev; i++)
    cc->ev[i].payload = cc->payloads.data + cc->offsets[i];
  for (uint32_t i = 0; i < cc->n_g; i++) {
    memset(&s[i], 0, sizeof s[i]);
    s[i].type = cc->g[i].type;
    s[i].key = cc->g[i].key;
    s[i].expected = es_expect_exact(cc->g[i].first_version - 1);
    s[i].events = &cc->ev[cc->g[i].first];
    s[i].n_events = cc->g[i].n;
  }
  rc = es_store_append(cc->dst, s, cc->n_g, NULL);
  cc->copied += cc->n_ev;
  cc->n_ev = cc->n_g = 0;
  es_buf_clear(&cc->payloads);
  return rc;
}

/* Events join the batch in global order; a stream already in the batch
 * but not last would put its events out of order: flush first. */
static int copy_event(const es_stored_event *ev, void *ctx) {
  copy_ctx *cc = ctx;
  const es_event_meta *m = &ev->meta;
  group *last = cc->n_g ? &cc->g[cc->n_g - 1] : NULL;
  bool same = last && strcmp(last->type, m->aggregate) == 0 &&
              strcmp(last->key, m->key) == 0;
  int rc;

  if (!same)
    for (uint32_t i = 0; i + 1 < cc->n_g; i++)
      if (strcmp(cc->g[i].type, m->aggregate) == 0 &&
          strcmp(cc->g[i].key, m->key) == 0) {
        if ((rc = flush(cc)) != 0)
          return rc;
        break;
      }
  if (cc->n_ev == BATCH_EVENTS || cc->payloads.len + ev->len > BATCH_BYTES ||
      cc->n_g == ES_STORE_MAX_APPEND_STREAMS) {
    if ((rc = flush(cc)) != 0)
      return rc;
  }
  last = cc->n_g ? &cc->g[cc->n_g - 1] : NULL;
  same = last && strcmp(last->type, m->aggregate) == 0 &&
         strcmp(last->key, m->key) == 0;
  if (!same) {
    group *g = &cc->g[cc->n_g++];
    snprintf(g->type, sizeof g->type, "%s", m->aggregate);
    snprintf(g->key, sizeof g->key, "%s", m->key);
    g->first_version = m->version;
    g->first = cc->n_ev;
    g->n = 0;
    last = g;
  }
  es_new_event *e = &cc->ev[cc->n_ev];
  e->event_id = m->event_id;
  e->type_id = m->type_id;
  e->type_version = m->type_version;
  e->timestamp = m->timestamp;
  e->correlation_id = m->correlation_id;
  e->causation_id = m->causation_id;
  e->len = ev->len;
  cc->offsets[cc->n_ev] = cc->payloads.len;
  es_buf_append(&cc->payloads, ev->payload, ev->len);
  if (cc->payloads.err)
    return cc->payloads.err;
  cc->n_ev++;
  last->n++;
  ctl_progress(cc->c, m->position, cc->head);
  return 0;
}

static int copy_checkpoint(ctl *c, es_store *dst, const char *name) {
  es_buf blob;
  uint64_t pos;
  int rc;
  es_buf_init(&blob, 0);
  rc = es_store_checkpoint_get(c->store, name, &pos, &blob);
  if (rc == 0)
    rc = es_store_checkpoint_put(dst, name, pos, blob.data, blob.len);
  else if (rc == ES_ENOTFOUND)
    rc = 0;
  es_buf_close(&blob);
  return rc;
}

typedef struct schema_copy {
  es_store *dst;
  int err;
} schema_copy;

static int copy_schema(const es__schema_entry *e, void *ctx) {
  schema_copy *sc = ctx;
  char name[sizeof ES__SCHEMA_CHECKPOINT_PREFIX + 16];
  if (!e->json)
    return 0;
  snprintf(name, sizeof name, "%s%s", ES__SCHEMA_CHECKPOINT_PREFIX, e->hash);
  return es_store_checkpoint_put(sc->dst, name, e->position, e->json, e->len);
}

static int copy_extras(ctl *c, es_store *dst, const ctl_scan *scan) {
  schema_copy sc = {dst, 0};
  char name[ES_KEY_MAX + 32];
  es_buf blob;
  int rc;

  if ((rc = es__schema_each(c->store, copy_schema, &sc)) != 0 ||
      (rc = copy_checkpoint(c, dst, ES__SCHEMAS_CHECKPOINT)) != 0)
    return rc;
  for (uint32_t i = 0; i < c->n_schemas; i++) {
    const es__dschema *d = &c->schemas[i].d;
    for (uint32_t k = 0; k < d->n_projections; k++) {
      snprintf(name, sizeof name, "%s%s", ES_PROJECTION_CHECKPOINT_PREFIX,
               d->projections[k].name);
      if ((rc = copy_checkpoint(c, dst, name)) != 0)
        return rc;
    }
    for (uint32_t k = 0; k < d->n_sagas; k++) {
      snprintf(name, sizeof name, "saga:%s", d->sagas[k].name);
      if ((rc = copy_checkpoint(c, dst, name)) != 0)
        return rc;
    }
  }
  es_buf_init(&blob, 0);
  for (size_t i = 0; i < scan->n && !rc; i++) {
    es_snapshot_info info;
    rc = es_store_snapshot_get(c->store, scan->streams[i]->type,
                               scan->streams[i]->key, &info, &blob);
    if (rc == 0)
      rc = es_store_snapshot_put(dst, scan->streams[i]->type,
                                 scan->streams[i]->key, &info, blob.data,
                                 blob.len);
    else if (rc == ES_ENOTFOUND)
      rc = 0;
  }
  es_buf_close(&blob);
  return rc;
}

int ctl_cmd_copy(ctl *c, int argc, char **argv) {
  const char *dst_arg, *dst_name;
  es_store *dst = NULL;
  copy_ctx *cc = NULL;
  ctl_scan scan;
  digest_ctx a = {0, UINT64_C(14695981039346656037)}, b = a;
  uint64_t dst_head = 0;
  int rc, status = CTL_PROBLEM;
  struct stat st;

  memset(&scan, 0, sizeof scan);
  if (argc != 1) {
    ctl_error(c, "'copy' needs a destination: copy SRC DST");
    return CTL_USAGE;
  }
  dst_arg = argv[0];
  dst_name = ctl_is_database(dst_arg) ? "(PostgreSQL)" : dst_arg;
  if ((rc = ctl_open_store(c, c->store_arg, false, &c->store)) != 0)
    return rc;
  if ((rc = ctl_load_schemas(c)) != 0) {
    ctl_error(c, "cannot read the schema descriptions: %s", es_strerror(rc));
    return CTL_PROBLEM;
  }
  if (stat(dst_arg, &st) == 0 && !S_ISDIR(st.st_mode)) {
    ctl_error(c, "'%s' exists and is not a directory", dst_name);
    return CTL_USAGE;
  }
  if ((rc = ctl_open_store(c, dst_arg, true, &dst)) != 0)
    return rc;
  if ((rc = es_store_head(dst, &dst_head)) != 0 || dst_head != 0) {
    ctl_error(c,
              "'%s' is not empty (head %" PRIu64 "): copy only into a new "
              "store",
              dst_name, dst_head);
    es_store_close(dst);
    return CTL_USAGE;
  }
  if (!(cc = copy_new(c, dst))) {
    ctl_error(c, "out of memory");
    goto done;
  }
  es_store_head(c->store, &cc->head);
  rc = es_store_read_all(c->store, 1, 0, copy_event, cc);
  if (!rc)
    rc = flush(cc);
  ctl_progress_end(c);
  if (rc) {
    ctl_error(c, "copying events to '%s': %s (after %" PRIu64 " events)",
              dst_name, es_strerror(rc), cc->copied);
    goto done;
  }
  if ((rc = ctl_scan_streams(c, &scan)) != 0 ||
      (rc = copy_extras(c, dst, &scan)) != 0) {
    ctl_error(c, "copying checkpoints and snapshots to '%s': %s", dst_name,
              es_strerror(rc));
    goto done;
  }
  /* Both sides read again: what is in DST now must be what SRC had. */
  if ((rc = es_store_read_all(c->store, 1, cc->head, digest_event, &a)) != 0 ||
      (rc = es_store_read_all(dst, 1, 0, digest_event, &b)) != 0) {
    ctl_error(c, "reading back: %s", es_strerror(rc));
    goto done;
  }
  if (a.n != b.n || a.h != b.h) {
    ctl_error(c,
              "'%s' differs from '%s' after the copy: %" PRIu64
              " events (digest %016" PRIx64 ") against %" PRIu64
              " (digest %016" PRIx64 ")",
              dst_name, ctl_display(c), b.n, b.h, a.n, a.h);
    goto done;
  }
  if (c->json)
    printf("{\"events\":%" PRIu64 ",\"digest\":\"%016" PRIx64
           "\",\"streams\":%zu,\"schemas\":%u}\n",
           a.n, a.h, scan.n, c->n_schemas);
  else
    printf("copied %" PRIu64 " events in %zu streams and %u schema "
           "description%s from %s to %s; digest %016" PRIx64 " matches\n",
           a.n, scan.n, c->n_schemas, c->n_schemas == 1 ? "" : "s",
           ctl_display(c), dst_name, a.h);
  status = CTL_OK;
done:
  ctl_scan_free(&scan);
  copy_free(cc);
  es_store_close(dst);
  return status;
}

/* ---- export ----------------------------------------------------------------
 */

static int export_event(const es_stored_event *ev, void *ctx) {
  ctl *c = ctx;
  es_buf b;
  es_buf_init(&b, 0);
  ctl_put(&b, "{\"event\":");
  ctl_format_event(c, ev, &b, true);
  /* The exact bytes, so an import stores what was stored. */
  b.len--; /* reopen the event object */
  ctl_putf(&b, ",\"timestamp\":%" PRId64 ",\"msgpack\":", ev->meta.timestamp);
  es__json_put_base64(&b, ev->payload, ev->len);
  ctl_put(&b, "}}");
  ctl_emit(&b);
  es_buf_close(&b);
  return 0;
}

static int export_schema(const es__schema_entry *e, void *ctx) {
  es_buf b;
  (void)ctx;
  if (!e->json)
    return 0;
  es_buf_init(&b, 0);
  ctl_putf(&b,
           "{\"schema\":{\"hash\":\"%s\",\"position\":%" PRIu64
           ",\"description\":",
           e->hash, e->position);
  es__json_put_str(&b, e->json, e->len);
  ctl_put(&b, "}}");
  ctl_emit(&b);
  es_buf_close(&b);
  return 0;
}

int ctl_cmd_export(ctl *c, int argc, char **argv) {
  int rc;
  if (argc) {
    ctl_error(c, "'export' takes no argument ('%s'): it writes to stdout",
              argv[0]);
    return CTL_USAGE;
  }
  if ((rc = es__schema_each(c->store, export_schema, c)) != 0 ||
      (rc = es_store_read_all(c->store, 1, 0, export_event, c)) != 0) {
    ctl_error(c, "exporting '%s': %s", ctl_display(c), es_strerror(rc));
    return CTL_PROBLEM;
  }
  return CTL_OK;
}

/* ---- import ---------------------------------------------------------------
 */

static int b64val(int ch) {
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Decodes base64 `s` into `out` (cleared first). Returns 0 or -1. */
static int unbase64(const char *s, size_t n, es_buf *out) {
  uint32_t acc = 0;
  int bits = 0;
  es_buf_clear(out);
  while (n && s[n - 1] == '=')
    n--;
  for (size_t i = 0; i < n; i++) {
    int v = b64val((unsigned char)s[i]);
    if (v < 0)
      return -1;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      uint8_t byte = (uint8_t)(acc >> (bits - 8));
      bits -= 8;
      es_buf_append(out, &byte, 1);
    }
  }
  return out->err ? -1 : 0;
}

static int uuid_member(const es__jv *o, const char *name, es_uuid *out) {
  const char *s = es__jv_str(o, name);
  return s && es_uuid_parse(out, s) == 0 ? 0 : -1;
}

/* One exported event back into a stored event for copy_event(). */
static int import_event(copy_ctx *cc, const es__jv *e, es_buf *payload) {
  es_stored_event ev;
  const char *type_id = es__jv_str(e, "type_id");
  const es__jv *mp = es__jv_get(e, "msgpack"), *ts = es__jv_get(e, "timestamp");
  uint64_t tv;
  char *end;
  int64_t t;

  memset(&ev, 0, sizeof ev);
  ev.meta.aggregate = es__jv_str(e, "stream");
  ev.meta.key = es__jv_str(e, "key");
  if (!ev.meta.aggregate || !ev.meta.key || !type_id || !mp ||
      mp->kind != ES__JV_STR || es__jv_u64(e, "version", &ev.meta.version) ||
      es__jv_u64(e, "position", &ev.meta.position) ||
      es__jv_u64(e, "type_version", &tv) || tv > UINT32_MAX ||
      es__jv_to_i64(ts, &t) || uuid_member(e, "id", &ev.meta.event_id) ||
      uuid_member(e, "correlation", &ev.meta.correlation_id) ||
      uuid_member(e, "causation", &ev.meta.causation_id) ||
      unbase64(mp->s, mp->n, payload))
    return ES_EDECODE;
  ev.meta.type_id = strtoull(type_id, &end, 16);
  if (*end || strlen(type_id) != 16)
    return ES_EDECODE;
  ev.meta.type_version = (uint32_t)tv;
  ev.meta.timestamp = t;
  ev.payload = payload->data;
  ev.len = payload->len;
  return copy_event(&ev, cc);
}

static int import_schema(es_store *dst, const es__jv *s, es_buf *list) {
  const char *hash = es__jv_str(s, "hash");
  const es__jv *d = es__jv_get(s, "description");
  char name[sizeof ES__SCHEMA_CHECKPOINT_PREFIX + 16], check[17];
  uint64_t pos;
  if (!hash || !d || d->kind != ES__JV_STR || es__jv_u64(s, "position", &pos))
    return ES_EDECODE;
  es__schema_hash(d->s, d->n, check);
  if (strcmp(check, hash) != 0)
    return ES_EDECODE; /* the description is not what its hash says */
  snprintf(name, sizeof name, "%s%s", ES__SCHEMA_CHECKPOINT_PREFIX, hash);
  ctl_putf(list, "%s %" PRIu64 "\n", hash, pos);
  return es_store_checkpoint_put(dst, name, pos, d->s, d->n);
}

int ctl_cmd_import(ctl *c, int argc, char **argv) {
  es_store *dst = NULL;
  copy_ctx *cc = NULL;
  es_buf list, payload;
  es_buf line;
  uint64_t line_no = 0, head = 0;
  int rc = 0, status = CTL_PROBLEM, more;

  if (argc) {
    ctl_error(c, "'import' takes no argument ('%s'): it reads stdin", argv[0]);
    return CTL_USAGE;
  }
  if ((rc = ctl_open_store(c, c->store_arg, true, &dst)) != 0)
    return rc;
  if (es_store_head(dst, &head) != 0 || head != 0) {
    ctl_error(c, "'%s' is not empty: import only into a new store",
              c->store_arg);
    es_store_close(dst);
    return CTL_USAGE;
  }
  es_buf_init(&list, 0);
  es_buf_init(&payload, 0);
  es_buf_init(&line, ES__LINE_MAX);
  if (!(cc = copy_new(c, dst)))
    goto done;
  while ((more = es__read_line(stdin, &line)) == 1) {
    es_arena a;
    es__jv *v;
    const es__jv *m;
    line_no++;
    es_arena_init(&a, 0);
    rc = es__json_parse((const char *)line.data, line.len, &a, &v, NULL);
    if (!rc && (m = es__jv_get(v, "event")) != NULL)
      rc = import_event(cc, m, &payload);
    else if (!rc && (m = es__jv_get(v, "schema")) != NULL)
      rc = import_schema(dst, m, &list);
    else if (!rc)
      rc = ES_EDECODE;
    es_arena_close(&a);
    if (rc) {
      ctl_error(c, "<stdin>:%" PRIu64 ": %s", line_no,
                rc == ES_EDECODE ? "not a line of esctl export"
                                 : es_strerror(rc));
      goto done;
    }
  }
  if (more < 0) {
    ctl_error(c, "<stdin>:%" PRIu64 ": %s", line_no + 1, es_strerror(more));
    goto done;
  }
  if ((rc = flush(cc)) != 0 ||
      (list.len && (rc = es_store_checkpoint_put(dst, ES__SCHEMAS_CHECKPOINT, 0,
                                                 list.data, list.len)) != 0)) {
    ctl_error(c, "importing into '%s': %s", ctl_display(c), es_strerror(rc));
    goto done;
  }
  printf(c->json ? "{\"events\":%" PRIu64 "}\n"
                 : "imported %" PRIu64 " events\n",
         cc->copied);
  status = CTL_OK;
done:
  es_buf_close(&line);
  copy_free(cc);
  es_buf_close(&list);
  es_buf_close(&payload);
  es_store_close(dst);
  return status;
}
