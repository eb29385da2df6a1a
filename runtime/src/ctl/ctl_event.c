/*
 * ctl_event.c - events as esctl prints them, and the scan that finds every
 * stream.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "es/es_error.h"
#include "es/es_mp.h"
#include "schema/json_out.h"
#include "util/alloc.h"
#include "util/hashmap.h"

void ctl_put(es_buf *b, const char *s) { es__json_put_raw(b, s); }

void ctl_put_str(es_buf *b, const char *s) {
  es__json_put_str(b, s ? s : "", s ? strlen(s) : 0);
}

void ctl_putf(es_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  es__json_vputf(b, fmt, ap);
  va_end(ap);
}

void ctl_put_time(es_buf *b, int64_t us) {
  time_t secs = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
  long frac = (long)(us - (int64_t)secs * 1000000);
  struct tm tm;
  char tmp[64];
  if (!gmtime_r(&secs, &tm)) {
    ctl_putf(b, "%" PRId64, us);
    return;
  }
  strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
  ctl_putf(b, "%s.%06ldZ", tmp, frac);
}

void ctl_put_uuid(es_buf *b, const es_uuid *u) {
  char text[37];
  es_uuid_format(u, text);
  ctl_put(b, text);
}

const es__dtype *ctl_find_type(ctl *c, uint64_t type_id, uint32_t version,
                               uint64_t position) {
  const es__dtype *any = NULL;
  /* Newest first: the description in force when the event was written. */
  for (uint32_t i = c->n_schemas; i-- > 0;) {
    const es__dtype *t = es__dschema_find(&c->schemas[i].d, type_id, version);
    if (!t)
      continue;
    if (c->schemas[i].position <= position)
      return t;
    if (!any)
      any = t;
  }
  return any;
}

/* ---- any msgpack value ---------------------------------------------------
 */

static int mp_any(es_mp_reader *r, es_buf *out) {
  uint8_t c;
  int rc;
  if (r->p >= r->end)
    return ES_ETRUNC;
  c = *r->p;
  if (es_mp_read_nil(r)) {
    ctl_put(out, "null");
    return 0;
  }
  if (c == 0xc2 || c == 0xc3) {
    bool v;
    es_mp_read_bool(r, &v);
    ctl_put(out, v ? "true" : "false");
    return 0;
  }
  if (c < 0x80 || c >= 0xe0 || (c >= 0xcc && c <= 0xd3))
    return es__json_put_mp_int(r, out);
  if (c == 0xca || c == 0xcb) {
    double v;
    if ((rc = es_mp_read_f64(r, &v)) != 0)
      return rc;
    es__json_put_float(out, v, 17);
    return 0;
  }
  if ((c & 0xe0) == 0xa0 || (c >= 0xd9 && c <= 0xdb))
    return es__json_put_mp_str(r, out);
  if (c >= 0xc4 && c <= 0xc6)
    return es__json_put_mp_bin(r, out);
  if ((c & 0xf0) == 0x90 || c == 0xdc || c == 0xdd) {
    uint32_t n;
    if ((rc = es_mp_read_array(r, &n)) != 0)
      return rc;
    ctl_put(out, "[");
    for (uint32_t i = 0; i < n; i++) {
      if (i)
        ctl_put(out, ",");
      if ((rc = mp_any(r, out)) != 0)
        return rc;
    }
    ctl_put(out, "]");
    es_mp_leave(r);
    return 0;
  }
  return ES_ETYPE; /* maps and extensions are never written by esgen */
}

int ctl_mp_json(const uint8_t *p, size_t len, es_buf *out) {
  es_mp_reader r;
  size_t start = out->len;
  int rc;
  es_mp_reader_init(&r, p, len);
  rc = mp_any(&r, out);
  if (!rc && r.p != r.end)
    rc = ES_ETRAILING;
  if (rc)
    out->len = start;
  return rc;
}

/* ---- one event ------------------------------------------------------------
 */

/* The type's name: from its description, the runtime's own record types,
 * or its id in hex. */
static void type_name(const es__dtype *t, uint64_t id, char *out, size_t cap) {
  if (t)
    snprintf(out, cap, "%s", t->name);
  else if (id == es_fnv1a64("es.saga.step"))
    snprintf(out, cap, "es.saga.step");
  else if (id == es_fnv1a64("es.saga.timer"))
    snprintf(out, cap, "es.saga.timer");
  else
    snprintf(out, cap, "%016" PRIx64, id);
}

int ctl_format_event(ctl *c, const es_stored_event *ev, es_buf *out,
                     bool json) {
  const es_event_meta *m = &ev->meta;
  const es__dtype *t =
      ctl_find_type(c, m->type_id, m->type_version, m->position);
  char name[300];
  es_buf data;
  int rc = 0;

  type_name(t, m->type_id, name, sizeof name);
  es_buf_init(&data, 0);
  if (t)
    rc = es__dvalue_json(t, ev->payload, ev->len, &data);
  if (!t || rc) {
    es_buf_clear(&data);
    if (ctl_mp_json(ev->payload, ev->len, &data) != 0) {
      es_buf_clear(&data);
      ctl_put(&data, "{\"msgpack\":");
      es__json_put_base64(&data, ev->payload, ev->len);
      ctl_put(&data, "}");
    }
  }
  if (json) {
    ctl_put(out, "{\"position\":");
    ctl_putf(out, "%" PRIu64 ",\"stream\":", m->position);
    ctl_put_str(out, m->aggregate);
    ctl_put(out, ",\"key\":");
    ctl_put_str(out, m->key);
    ctl_putf(out, ",\"version\":%" PRIu64 ",\"type\":", m->version);
    ctl_put_str(out, name);
    ctl_putf(out, ",\"type_id\":\"%016" PRIx64 "\",\"type_version\":%u",
             m->type_id, m->type_version);
    ctl_put(out, ",\"id\":\"");
    ctl_put_uuid(out, &m->event_id);
    ctl_put(out, "\",\"time\":\"");
    ctl_put_time(out, m->timestamp);
    ctl_put(out, "\",\"correlation\":\"");
    ctl_put_uuid(out, &m->correlation_id);
    ctl_put(out, "\",\"causation\":\"");
    ctl_put_uuid(out, &m->causation_id);
    ctl_putf(out, "\",\"decoded\":%s,\"data\":", t && !rc ? "true" : "false");
    es_buf_append(out, data.data, data.len);
    ctl_put(out, "}");
  } else {
    ctl_putf(out, "%6" PRIu64 "  %s/%s #%" PRIu64 "  %s v%u  ", m->position,
             m->aggregate, m->key, m->version, name, m->type_version);
    ctl_put_time(out, m->timestamp);
    ctl_put(out, "\n        id ");
    ctl_put_uuid(out, &m->event_id);
    ctl_put(out, "  correlation ");
    ctl_put_uuid(out, &m->correlation_id);
    ctl_put(out, "  causation ");
    ctl_put_uuid(out, &m->causation_id);
    ctl_put(out, "\n        ");
    if (t && rc)
      ctl_putf(out, "(does not decode as %s: %s) ", name, es_err_name(rc));
    else if (!t)
      ctl_put(out, "(no description) ");
    es_buf_append(out, data.data, data.len);
  }
  es_buf_close(&data);
  return out->err ? out->err : rc;
}

/* ---- streams ------------------------------------------------------------- */

typedef struct scan_ctx {
  ctl *c;
  es__hashmap map;
  ctl_scan *scan;
  size_t cap;
  int err;
} scan_ctx;

static int scan_event(const es_stored_event *ev, void *vctx) {
  scan_ctx *sc = vctx;
  size_t tl = strlen(ev->meta.aggregate), kl = strlen(ev->meta.key);
  char stack[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
  ctl_stream *s;

  memcpy(stack, ev->meta.aggregate, tl + 1);
  memcpy(stack + tl + 1, ev->meta.key, kl);
  s = es__hashmap_get(&sc->map, stack, tl + 1 + kl);
  if (!s) {
    char *k = es_arena_alloc(&sc->c->arena, tl + kl + 2);
    s = es_arena_calloc(&sc->c->arena, 1, sizeof *s);
    if (!k || !s)
      return ES_ENOMEM;
    memcpy(k, stack, tl + 1 + kl);
    k[tl + 1 + kl] = '\0';
    s->type = k;
    s->key = k + tl + 1;
    if (es__hashmap_put(&sc->map, k, tl + 1 + kl, s))
      return ES_ENOMEM;
    if (sc->scan->n == sc->cap) {
      size_t ncap = sc->cap ? sc->cap * 2 : 64;
      ctl_stream **ns = es__realloc(sc->scan->streams, ncap * sizeof *ns);
      if (!ns)
        return ES_ENOMEM;
      sc->scan->streams = ns;
      sc->cap = ncap;
    }
    sc->scan->streams[sc->scan->n++] = s;
  }
  if (ev->meta.version != s->version + 1)
    s->gap = true;
  s->version = ev->meta.version;
  s->position = ev->meta.position;
  s->events++;
  sc->scan->events++;
  sc->scan->bytes += ev->len;
  ctl_progress(sc->c, ev->meta.position, sc->scan->head);
  return 0;
}

static int by_name(const void *a, const void *b) {
  const ctl_stream *x = *(ctl_stream *const *)a, *y = *(ctl_stream *const *)b;
  int d = strcmp(x->type, y->type);
  return d ? d : strcmp(x->key, y->key);
}

int ctl_scan_streams(ctl *c, ctl_scan *scan) {
  scan_ctx sc;
  int rc;
  memset(scan, 0, sizeof *scan);
  memset(&sc, 0, sizeof sc);
  sc.c = c;
  sc.scan = scan;
  es__hashmap_init(&sc.map, 0x6573637463746c31u, 0x73747265616d73u);
  if ((rc = es_store_head(c->store, &scan->head)) == 0)
    rc = es_store_read_all(c->store, 1, 0, scan_event, &sc);
  ctl_progress_end(c);
  es__hashmap_close(&sc.map);
  if (!rc && scan->n)
    qsort(scan->streams, scan->n, sizeof *scan->streams, by_name);
  return rc;
}

void ctl_scan_free(ctl_scan *scan) {
  es__free(scan->streams);
  memset(scan, 0, sizeof *scan);
}

int ctl_split_stream(ctl *c, const char *arg, char *type, char *key) {
  const char *slash = strchr(arg, '/');
  size_t tl = slash ? (size_t)(slash - arg) : 0;
  if (!slash || tl == 0 || !slash[1]) {
    ctl_error(c, "'%s' is not a stream: give AGG/KEY (e.g. Account/alice)",
              arg);
    return -1;
  }
  if (tl > ES_STREAM_TYPE_MAX || strlen(slash + 1) > ES_KEY_MAX) {
    ctl_error(c, "'%s': aggregate name or key too long", arg);
    return -1;
  }
  memcpy(type, arg, tl);
  type[tl] = '\0';
  strcpy(key, slash + 1);
  return 0;
}

/* Parses the value `v` (NULL when missing) of option `opt`: a version. */
static int version_arg(ctl *c, const char *opt, const char *v, uint64_t *out) {
  char *end;
  if (!v) {
    ctl_error(c, "'%s' needs a version (1, 2, ...)", opt);
    return -1;
  }
  errno = 0;
  *out = strtoull(v, &end, 10);
  if (!*v || *v == '-' || errno || *end || !*out) {
    ctl_error(c, "'%s %s': not a version (1, 2, ...)", opt, v);
    return -1;
  }
  return 0;
}

int ctl_parse_stream_args(ctl *c, const char *cmd, const char *opt, int argc,
                          char **argv, ctl_stream_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], opt) == 0) {
      if (version_arg(c, opt, i + 1 < argc ? argv[++i] : NULL, &a->version))
        return -1;
    } else if (!a->stream && argv[i][0] != '-') {
      a->stream = argv[i];
    } else {
      ctl_error(c, "'%s': unexpected '%s' (%s AGG/KEY [%s V])", cmd, argv[i],
                cmd, opt);
      return -1;
    }
  }
  if (!a->stream) {
    ctl_error(c, "'%s' needs a stream: %s AGG/KEY [%s V]", cmd, cmd, opt);
    return -1;
  }
  return ctl_split_stream(c, a->stream, a->type, a->key);
}
