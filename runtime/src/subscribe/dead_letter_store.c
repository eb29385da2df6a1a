/*
 * dead_letter_store.c - dead letters kept by the store: saga S's in the
 * stream ("saga:S#dead", "dead"), one record per letter and one per
 * resolution, each record being the letter's JSON line (dead_letter.c),
 * type es_fnv1a64("es.saga.dead_letter"), version 1.
 *
 * Why a stream of the store rather than a file or a table of its own: the
 * store already makes a record durable, visible to every process that
 * shares it and atomic with other records, on every store alike (the
 * embedded log, the memory store, PostgreSQL). The runner appends a letter
 * in the same append as the saga step that sets its command aside, so a
 * crash leaves both or neither; and a resolution expects the stream's
 * version it read, so two operators resolving one letter at once store one
 * resolution.
 *
 * Dead-letter files of earlier versions (JSON lines, the same objects) are
 * imported by es_saga_dead_letters_import(): a letter or resolution already
 * in its saga's stream (by id) is not appended again, so an import that
 * died half-way and runs again appends only what is missing; the file is
 * then renamed "<path>.migrated".
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es/es_error.h"
#include "es/es_saga_run.h"
#include "store/store_util.h"
#include "subscribe/dead_letter.h"
#include "util/alloc.h"
#include "util/hashmap.h"
#include "util/line.h"

#define RESOLVE_ATTEMPTS 16 /* re-reads after a concurrent append */
#define IMPORT_ATTEMPTS 16
#define IMPORT_CHUNK 512u /* records per append of an import */
#define MIGRATED_NAMES 100

uint64_t es__dead_letter_type(void) {
  return es_fnv1a64("es.saga.dead_letter");
}

int es__dead_letter_stream(const char *saga, char out[ES_STREAM_TYPE_MAX + 1]) {
  size_t n = saga ? strlen(saga) : 0;
  if (!n || n + sizeof "saga:#dead" > ES_STREAM_TYPE_MAX + 1)
    return ES_EINVAL;
  snprintf(out, ES_STREAM_TYPE_MAX + 1, "saga:%s#dead", saga);
  return 0;
}

int es__dead_letter_record(const es__dead_letter *d, size_t max, es_buf *line,
                           es_new_event *ev) {
  int rc;
  es_buf_clear(line);
  rc = es__dead_letter_format(d, true, line);
  if (rc == 0 && line->len > max) {
    es_buf_clear(line);
    rc = es__dead_letter_format(d, false, line);
  }
  if (rc != 0)
    return rc;
  if (line->len > max)
    return ES_ETOOBIG;
  memset(ev, 0, sizeof *ev);
  ev->type_id = es__dead_letter_type();
  ev->type_version = 1;
  ev->correlation_id = d->correlation;
  ev->payload = line->data;
  ev->len = line->len;
  return 0;
}

/* ---- id sets ----------------------------------------------------------- */

/* A set of letter ids (uuid text), the keys copied into `keys`. */
typedef struct id_set {
  es__hashmap map;
  es_arena keys;
} id_set;

static void id_set_init(id_set *s) {
  es__hashmap_init(&s->map, UINT64_C(0x646561642e6c6574),
                   UINT64_C(0x7465722e69647331));
  es_arena_init(&s->keys, 0);
}

static void id_set_close(id_set *s) {
  es__hashmap_close(&s->map);
  es_arena_close(&s->keys);
}

static bool id_set_has(const id_set *s, const char *id) {
  return es__hashmap_get(&s->map, id, strlen(id)) != NULL;
}

/* Adds `id`. Returns 0 or ES_ENOMEM. */
static int id_set_add(id_set *s, const char *id) {
  size_t n = strlen(id);
  char *k;
  if (id_set_has(s, id))
    return 0;
  if (!(k = es_arena_alloc(&s->keys, n + 1)))
    return ES_ENOMEM;
  memcpy(k, id, n + 1);
  return es__hashmap_put(&s->map, k, n, k);
}

/* ---- reading a saga's stream -------------------------------------------- */

/* One pass over a dead-letter stream. */
typedef struct scan {
  int (*fn)(const es_dead_letter *dl, void *ctx); /* NULL: collect only */
  void *ctx;
  id_set letters;  /* collected: ids of every letter */
  id_set resolved; /* collected: ids of resolved letters */
  es_arena arena;
  es_buf text;
  uint64_t type;
  uint64_t last; /* version of the last record read */
  uint64_t bad;  /* ES_ECORRUPT: version of the record */
} scan;

static void scan_init(scan *s) {
  memset(s, 0, sizeof *s);
  id_set_init(&s->letters);
  id_set_init(&s->resolved);
  es_arena_init(&s->arena, 0);
  es_buf_init(&s->text, 0);
  s->type = es__dead_letter_type();
}

static void scan_close(scan *s) {
  id_set_close(&s->letters);
  id_set_close(&s->resolved);
  es_arena_close(&s->arena);
  es_buf_close(&s->text);
}

static int scan_record(const es_stored_event *ev, void *arg) {
  scan *s = arg;
  es_dead_letter dl;
  int kind;

  s->last = ev->meta.version;
  es_arena_reset(&s->arena);
  es_buf_clear(&s->text);
  es_buf_append(&s->text, ev->payload, ev->len);
  es_buf_append(&s->text, "", 1); /* the parser reads a C string */
  if (s->text.err)
    return s->text.err;
  kind = ev->meta.type_id == s->type
             ? es__dead_letter_parse((const char *)s->text.data, ev->len,
                                     &s->arena, &dl)
             : -1;
  if (kind == ES_ENOMEM)
    return kind;
  if (kind < 0 || strlen(dl.id) >= 40) {
    s->bad = ev->meta.version;
    return ES_ECORRUPT;
  }
  if (!s->fn)
    return id_set_add(kind == 1 ? &s->resolved : &s->letters, dl.id);
  if (kind == 1 || id_set_has(&s->resolved, dl.id))
    return 0;
  dl.line_no = ev->meta.version;
  dl.line = (const char *)s->text.data;
  return s->fn(&dl, s->ctx);
}

/* Reads stream `stream` once to collect its ids and version into `s`
 * (s->fn NULL), then, when `fn` is given, again up to that version,
 * calling `fn` for each pending letter. Returns 0, fn's nonzero value,
 * ES_ECORRUPT (s->bad), or the store's error. */
static int scan_stream(es_store *store, const char *stream, scan *s,
                       int (*fn)(const es_dead_letter *dl, void *ctx),
                       void *ctx) {
  uint64_t upto;
  int rc =
      es_store_read_stream(store, stream, ES__DEAD_KEY, 1, 0, scan_record, s);
  if (rc != 0 || !fn || s->last == 0)
    return rc;
  upto = s->last;
  s->fn = fn;
  s->ctx = ctx;
  rc = es_store_read_stream(store, stream, ES__DEAD_KEY, 1,
                            upto <= UINT32_MAX ? (uint32_t)upto : 0,
                            scan_record, s);
  s->last = upto;
  return rc;
}

int es_saga_dead_letters(es_store *store, const char *saga,
                         int (*fn)(const es_dead_letter *dl, void *ctx),
                         void *ctx, uint64_t *bad_record) {
  char stream[ES_STREAM_TYPE_MAX + 1];
  scan s;
  int rc;

  if (bad_record)
    *bad_record = 0;
  if (!store || !fn || es__dead_letter_stream(saga, stream) != 0)
    return ES_EINVAL;
  scan_init(&s);
  rc = scan_stream(store, stream, &s, fn, ctx);
  if (rc == ES_ECORRUPT && s.bad && bad_record)
    *bad_record = s.bad;
  scan_close(&s);
  return rc;
}

/* ---- resolving ------------------------------------------------------------
 */

static int is_letter(const es_dead_letter *dl, void *ctx) {
  return strcmp(dl->id, ctx) == 0;
}

/* Appends the resolution of `id` to `stream`, expecting `version`. */
static int append_resolution(es_store *store, const char *stream,
                             const char *id, uint64_t version) {
  es_buf line = ES_BUF_INIT;
  es_new_event ev;
  int rc = es__dead_letter_format_resolved(id, es__now_us(), &line);

  memset(&ev, 0, sizeof ev);
  ev.type_id = es__dead_letter_type();
  ev.type_version = 1;
  ev.payload = line.data;
  ev.len = line.len;
  if (rc == 0)
    rc = es_store_append_one(store, stream, ES__DEAD_KEY,
                             es_expect_exact(version), &ev, 1, NULL);
  es_buf_close(&line);
  return rc;
}

int es_saga_dead_letter_resolve(es_store *store, const char *saga,
                                const char *id) {
  char stream[ES_STREAM_TYPE_MAX + 1];
  int rc = ES_ECONFLICT;

  if (!store || !id || !*id || strlen(id) >= 40 ||
      es__dead_letter_stream(saga, stream) != 0)
    return ES_EINVAL;
  for (int i = 0; i < RESOLVE_ATTEMPTS && rc == ES_ECONFLICT; i++) {
    scan s;
    scan_init(&s);
    rc = scan_stream(store, stream, &s, is_letter, (void *)id);
    if (rc == 0)
      rc = ES_ENOTFOUND;
    else if (rc == 1)
      rc = append_resolution(store, stream, id, s.last);
    scan_close(&s);
  }
  return rc;
}

/* ---- importing a file of an earlier version ----------------------------- */

/* One line of the file: a letter or a resolution, of saga `saga`. */
typedef struct imp_line {
  const char *saga;
  const char *id;
  bool resolution;
  size_t off, len; /* in the import's text */
} imp_line;

typedef struct import {
  es_buf text; /* every line, back to back */
  es_arena arena;
  imp_line *v;
  size_t n;
  uint64_t cap;
  uint64_t appended;
  uint64_t bad_line; /* the line import_line() refused */
} import;

/* The saga of the letter `id` among the lines read so far, or NULL. */
static const char *saga_of(const import *im, const char *id) {
  for (size_t i = im->n; i-- > 0;)
    if (!im->v[i].resolution && strcmp(im->v[i].id, id) == 0)
      return im->v[i].saga;
  return NULL;
}

static char *arena_str(es_arena *a, const char *s) {
  size_t n = strlen(s);
  char *p = es_arena_alloc(a, n + 1);
  if (p)
    memcpy(p, s, n + 1);
  return p;
}

/* Adds one parsed line; a resolution of a letter the file does not hold
 * marks nothing and is passed over. */
static int import_add(import *im, const es_dead_letter *dl, bool resolution,
                      const char *line, size_t len) {
  imp_line *l;
  const char *saga = resolution ? saga_of(im, dl->id) : dl->saga;

  if (!saga)
    return 0;
  if (es__grow_array(&im->v, &im->cap, im->n + 1, sizeof *im->v))
    return ES_ENOMEM;
  l = &im->v[im->n];
  l->saga = resolution ? saga : arena_str(&im->arena, saga);
  l->id = arena_str(&im->arena, dl->id);
  l->resolution = resolution;
  l->off = im->text.len;
  l->len = len;
  es_buf_append(&im->text, line, len);
  if (!l->saga || !l->id || im->text.err)
    return im->text.err ? im->text.err : ES_ENOMEM;
  im->n++;
  return 0;
}

/* Takes one parsed line of the file into `im` (es__dead_letter_read_lines()),
 * or refuses it: ES_ECORRUPT (its number in `im->bad_line`) for an id or
 * saga name no stream can hold. */
static int import_line(es_dead_letter *dl, int kind, size_t len, void *ctx) {
  import *im = ctx;

  if (strlen(dl->id) >= 40 ||
      (kind == 0 && (!*dl->saga || strlen(dl->saga) + sizeof "saga:#dead" >
                                       ES_STREAM_TYPE_MAX + 1))) {
    im->bad_line = dl->line_no;
    return ES_ECORRUPT;
  }
  return import_add(im, dl, kind == 1, dl->line, len);
}

/* Appends to `stream` the lines of `saga` that it does not hold yet, in
 * the file's order, a chunk at a time, each expecting the version read.
 * Returns 0, ES_ECONFLICT (another process appended: read again), or the
 * store's error. */
static int import_saga(es_store *store, import *im, const char *saga) {
  char stream[ES_STREAM_TYPE_MAX + 1];
  es_new_event evs[IMPORT_CHUNK];
  uint32_t n = 0;
  uint64_t version;
  scan s;
  int rc;

  if ((rc = es__dead_letter_stream(saga, stream)) != 0)
    return rc;
  scan_init(&s);
  if ((rc = scan_stream(store, stream, &s, NULL, NULL)) != 0)
    goto out;
  version = s.last;
  for (size_t i = 0; i <= im->n && rc == 0; i++) {
    const imp_line *l = i < im->n ? &im->v[i] : NULL;
    if (l && strcmp(l->saga, saga) == 0) {
      id_set *seen = l->resolution ? &s.resolved : &s.letters;
      if (id_set_has(seen, l->id))
        continue; /* imported before, or written twice in the file */
      if ((rc = id_set_add(seen, l->id)) != 0)
        break;
      if (l->len > store->opt.max_event_size) {
        rc = ES_ETOOBIG;
        break;
      }
      memset(&evs[n], 0, sizeof evs[n]);
      evs[n].type_id = s.type;
      evs[n].type_version = 1;
      evs[n].payload = im->text.data + l->off;
      evs[n++].len = l->len;
    }
    if (n && (n == IMPORT_CHUNK || !l)) {
      rc = es_store_append_one(store, stream, ES__DEAD_KEY,
                               es_expect_exact(version), evs, n, &version);
      if (rc == 0)
        im->appended += n;
      n = 0;
    }
  }
out:
  scan_close(&s);
  return rc;
}

/* Renames the imported file to "<path>.migrated" (".migrated.2", ... when
 * that name is taken) and syncs its directory. A file already gone was
 * renamed by a concurrent import. */
static int set_aside(const char *path) {
  char to[4096], dir[4096];
  int fd, rc = ES_EIO;

  for (int i = 1; i <= MIGRATED_NAMES; i++) {
    if (i == 1)
      snprintf(to, sizeof to, "%s.migrated", path);
    else
      snprintf(to, sizeof to, "%s.migrated.%d", path, i);
    if (access(to, F_OK) == 0)
      continue;
    if (rename(path, to) == 0)
      rc = 0;
    else if (errno == ENOENT)
      return 0;
    break;
  }
  if (rc != 0)
    return rc;
  snprintf(dir, sizeof dir, "%s", path);
  fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ES_EIO;
  if (fsync(fd) != 0)
    rc = ES_EIO;
  close(fd);
  return rc;
}

int es_saga_dead_letters_import(es_store *store, const char *path,
                                uint64_t *imported, uint64_t *bad_line) {
import im;
  FILE *f;
  int rc = 0;

  if (imported)
    *imported = 0;
  if (bad_line)
    *bad_line = 0;
  if (!store || !path || !*path || strlen(path) + 16 > 4096)
    return ES_EINVAL;
  if (!(f = fopen(path, "r")))
    return errno == ENOENT ? 0 : ES_EIO;
  memset(&im, 0, sizeof im);
  es_buf_init(&im.text, ES__LINE_MAX);
  es_arena_init(&im.arena, 0);
  rc = es__dead_letter_read_lines(f, import_line, &im, bad_line);
  if (im.bad_line && bad_line)
    *bad_line = im.bad_line;
  fclose(f);
  for (size_t i = 0; i < im.n && rc == 0; i++) {
    bool first = !im.v[i].resolution; /* each saga once: at its first letter */
    for (size_t k = 0; k < i && first; k++)
      first = strcmp(im.v[k].saga, im.v[i].saga) != 0;
    if (!first)
      continue;
    rc = ES_ECONFLICT;
    for (int a = 0; a < IMPORT_ATTEMPTS && rc == ES_ECONFLICT; a++)
      rc = import_saga(store, &im, im.v[i].saga);
  }
  if (rc == 0)
    rc = set_aside(path);
  if (imported)
    *imported = im.appended;
  es__free(im.v);
  es_arena_close(&im.arena);
  es_buf_close(&im.text);
  return rc;
}
