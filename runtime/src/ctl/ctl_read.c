/*
 * ctl_read.c - the commands that only read: info, ls, cat, tail, verify,
 * projections, sagas, dead-letters.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "es/es_error.h"
#include "es/es_mp.h"
#include "es/es_projection.h"
#include "es/es_saga_run.h"
#include "subscribe/saga_timer.h"
#include "util/alloc.h"

/* Parses a decimal number option value. */
static int number_arg(ctl *c, const char *opt, const char *v, uint64_t *out) {
  char *end;
  if (!v || !*v || *v == '-') {
    ctl_error(c, "'%s' needs a number", opt);
    return -1;
  }
  errno = 0;
  *out = strtoull(v, &end, 10);
  if (errno || *end) {
    ctl_error(c, "'%s %s': not a number", opt, v);
    return -1;
  }
  return 0;
}

static int no_args(ctl *c, const char *cmd, int argc, char **argv) {
  if (argc > 0) {
    ctl_error(c, "'%s' takes no argument ('%s')", cmd, argv[0]);
    return -1;
  }
  return 0;
}

/* Files and bytes of the log directory. */
static void dir_size(const char *dir, uint64_t *files, uint64_t *bytes) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4096];
  struct stat st;
  *files = *bytes = 0;
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      (*files)++;
      *bytes += (uint64_t)st.st_size;
    }
  }
  closedir(d);
}

/* Every projection or saga name in the recorded descriptions, once. */
typedef struct names {
  const char *v[256];
  const es__jv *json[256];
  size_t n;
} names;

static void collect(ctl *c, bool sagas, names *out) {
  out->n = 0;
  for (uint32_t i = 0; i < c->n_schemas; i++) {
    const es__dschema *d = &c->schemas[i].d;
    uint32_t n = sagas ? d->n_sagas : d->n_projections;
    const es__dnamed *list = sagas ? d->sagas : d->projections;
    for (uint32_t k = 0; k < n; k++) {
      size_t j;
      for (j = 0; j < out->n; j++)
        if (strcmp(out->v[j], list[k].name) == 0)
          break;
      if (j < out->n) {
        out->json[j] = list[k].json; /* the newest wins */
        continue;
      }
      if (out->n < 256) {
        out->json[out->n] = list[k].json;
        out->v[out->n++] = list[k].name;
      }
    }
  }
}

int ctl_dead_letters(ctl *c, int (*fn)(const es_dead_letter *dl, void *ctx),
                     void *ctx) {
  names sagas;
  int rc = 0;

  collect(c, true, &sagas);
  for (uint32_t i = 0; c->schema && i < c->schema->n_sagas; i++) {
    size_t k;
    for (k = 0; k < sagas.n; k++)
      if (strcmp(sagas.v[k], c->schema->sagas[i]->name) == 0)
        break;
    if (k == sagas.n && sagas.n < 256)
      sagas.v[sagas.n++] = c->schema->sagas[i]->name;
  }
  for (size_t i = 0; i < sagas.n && rc == 0; i++) {
    uint64_t bad = 0;
    rc = es_saga_dead_letters(c->store, sagas.v[i], fn, ctx, &bad);
    if (rc == ES_ECORRUPT && bad)
      ctl_error(c, "saga '%s': dead-letter record %" PRIu64 ": %s", sagas.v[i],
                bad, es_strerror(rc));
    else if (rc < 0)
      ctl_error(c, "saga '%s': reading its dead letters: %s", sagas.v[i],
                es_strerror(rc));
  }
  return rc;
}

static int count_file_letter(const es_dead_letter *dl, void *ctx) {
  (void)dl;
  (*(uint64_t *)ctx)++;
  return 0;
}

void ctl_warn_dead_letter_file(ctl *c) {
  uint64_t n = 0;
  if (!c->dead_letters || !*c->dead_letters ||
      es_dead_letters_list(c->dead_letters, count_file_letter, &n, NULL) != 0 ||
      !n)
    return;
  ctl_warn(c,
           "'%s' holds %" PRIu64 " dead letter(s) written by an earlier "
           "version, not yet in the store: the application imports the file "
           "when it opens its saga runner with es_saga_options."
           "dead_letter_path naming it (so does 'redispatch')",
           c->dead_letters, n);
}

static int count_dead(const es_dead_letter *dl, void *ctx) {
  (void)dl;
  (*(uint64_t *)ctx)++;
  return 0;
}

/* Long because: it prints one report in its two forms (JSON and text)
 * side by side, so that they stay alike.
 * `esctl info`: what a store holds, its files, projections, sagas and dead
 * letters. */
int ctl_cmd_info(ctl *c, int argc, char **argv) {
  ctl_scan scan;
  names proj, sagas;
  uint64_t files, bytes, dead = 0;
  es_buf b;
  int rc, dl_rc;

  if (no_args(c, "info", argc, argv))
    return CTL_USAGE;
  if ((rc = ctl_scan_streams(c, &scan)) != 0) {
    ctl_error(c, "reading '%s': %s", ctl_display(c), es_strerror(rc));
    return CTL_PROBLEM;
  }
  dir_size(c->store_arg, &files, &bytes);
  collect(c, false, &proj);
  collect(c, true, &sagas);
  dl_rc = ctl_dead_letters(c, count_dead, &dead);
  es_buf_init(&b, 0);
  if (c->json) {
    ctl_put(&b, "{\"store\":");
    ctl_put_str(&b, ctl_display(c));
    ctl_putf(&b,
             ",\"kind\":\"%s\",\"head\":%" PRIu64 ",\"streams\":%zu,"
             "\"events\":%" PRIu64 ",\"files\":%" PRIu64 ",\"bytes\":%" PRIu64
             ",\"schemas\":[",
             es_store_kind(c->store), scan.head, scan.n, scan.events, files,
             bytes);
    for (uint32_t i = 0; i < c->n_schemas; i++) {
      ctl_putf(&b, "%s{\"name\":", i ? "," : "");
      ctl_put_str(&b, c->schemas[i].d.name);
      ctl_putf(&b, ",\"hash\":\"%s\",\"position\":%" PRIu64 "}",
               c->schemas[i].hash, c->schemas[i].position);
    }
    ctl_put(&b, "],\"projections\":[");
  } else {
    ctl_putf(&b, "store         %s (%s, read-only)\n", ctl_display(c),
             es_store_kind(c->store));
    ctl_putf(&b, "head          position %" PRIu64 "\n", scan.head);
    ctl_putf(&b, "streams       %zu\n", scan.n);
    ctl_putf(&b, "events        %" PRIu64 " (%" PRIu64 " bytes of payload)\n",
             scan.events, scan.bytes);
    ctl_putf(&b, "files         %" PRIu64 " (%" PRIu64 " bytes)\n", files,
             bytes);
    ctl_putf(&b, "schemas       %u\n", c->n_schemas);
    for (uint32_t i = 0; i < c->n_schemas; i++)
      ctl_putf(&b, "  %-12s %s  recorded at position %" PRIu64 "\n",
               c->schemas[i].d.name, c->schemas[i].hash,
               c->schemas[i].position);
    ctl_putf(&b, "projections   %zu\n", proj.n);
  }
  for (size_t i = 0; i < proj.n; i++) {
    char name[sizeof ES_PROJECTION_CHECKPOINT_PREFIX + ES_KEY_MAX];
    uint64_t pos = 0;
    snprintf(name, sizeof name, "%s%s", ES_PROJECTION_CHECKPOINT_PREFIX,
             proj.v[i]);
    int prc = es_store_checkpoint_get(c->store, name, &pos, NULL);
    bool kept = prc == 0;
    if (c->json) {
      ctl_putf(&b, "%s{\"name\":", i ? "," : "");
      ctl_put_str(&b, proj.v[i]);
      if (kept)
        ctl_putf(&b, ",\"checkpoint\":%" PRIu64 ",\"lag\":%" PRIu64 "}", pos,
                 scan.head - (pos < scan.head ? pos : scan.head));
      else
        ctl_put(&b, ",\"checkpoint\":null,\"lag\":null}");
    } else if (kept) {
      ctl_putf(&b, "  %-12s checkpoint %" PRIu64 "  lag %" PRIu64 "\n",
               proj.v[i], pos, scan.head - (pos < scan.head ? pos : scan.head));
    } else {
      ctl_putf(&b,
               "  %-12s no checkpoint in the store (kept by the read "
               "model, or never run)\n",
               proj.v[i]);
    }
  }
  if (c->json)
    ctl_put(&b, "],\"sagas\":[");
  else
    ctl_putf(&b, "sagas         %zu\n", sagas.n);
  for (size_t i = 0; i < sagas.n; i++) {
    char name[ES_KEY_MAX + 8], stream[ES_KEY_MAX + 8];
    uint64_t pos = 0, instances = 0;
    snprintf(name, sizeof name, "saga:%s", sagas.v[i]);
    snprintf(stream, sizeof stream, "saga:%s", sagas.v[i]);
    int prc = es_store_checkpoint_get(c->store, name, &pos, NULL);
    for (size_t k = 0; k < scan.n; k++)
      if (strcmp(scan.streams[k]->type, stream) == 0)
        instances++;
    if (c->json) {
      ctl_putf(&b, "%s{\"name\":", i ? "," : "");
      ctl_put_str(&b, sagas.v[i]);
      if (prc == 0)
        ctl_putf(&b, ",\"checkpoint\":%" PRIu64 ",\"lag\":%" PRIu64, pos,
                 scan.head - (pos < scan.head ? pos : scan.head));
      else
        ctl_put(&b, ",\"checkpoint\":null,\"lag\":null");
      ctl_putf(&b, ",\"instances\":%" PRIu64 "}", instances);
    } else {
      ctl_putf(&b, "  %-12s ", sagas.v[i]);
      if (prc == 0)
        ctl_putf(&b, "checkpoint %" PRIu64 "  lag %" PRIu64 "  ", pos,
                 scan.head - (pos < scan.head ? pos : scan.head));
      else
        ctl_put(&b, "no checkpoint  ");
      ctl_putf(&b, "instances %" PRIu64 "\n", instances);
    }
  }
  if (c->json) {
    ctl_putf(&b, "],\"dead_letters\":%" PRIu64 "}", dead);
  } else {
    ctl_putf(&b, "dead letters  %" PRIu64, dead);
  }
  ctl_emit(&b);
  es_buf_close(&b);
  ctl_scan_free(&scan);
  ctl_warn_dead_letter_file(c);
  if (dl_rc)
    return CTL_PROBLEM;
  return c->bad_schemas ? CTL_PROBLEM : CTL_OK;
}

int ctl_cmd_ls(ctl *c, int argc, char **argv) {
  const char *type = NULL;
  ctl_scan scan;
  es_buf b;
  int rc;

  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
      type = argv[++i];
    } else {
      ctl_error(c, "'ls': unexpected '%s' (ls [--type AGG])", argv[i]);
      return CTL_USAGE;
    }
  }
  if ((rc = ctl_scan_streams(c, &scan)) != 0) {
    ctl_error(c, "reading '%s': %s", ctl_display(c), es_strerror(rc));
    return CTL_PROBLEM;
  }
  es_buf_init(&b, 0);
  if (!c->json)
    printf("%-40s %8s %8s\n", "STREAM", "VERSION", "POSITION");
  for (size_t i = 0; i < scan.n; i++) {
    const ctl_stream *s = scan.streams[i];
    if (type && strcmp(type, s->type) != 0)
      continue;
    es_buf_clear(&b);
    if (c->json) {
      ctl_put(&b, "{\"stream\":");
      ctl_put_str(&b, s->type);
      ctl_put(&b, ",\"key\":");
      ctl_put_str(&b, s->key);
      ctl_putf(&b, ",\"version\":%" PRIu64 ",\"position\":%" PRIu64 "}",
               s->version, s->position);
    } else {
      char name[ES_STREAM_TYPE_MAX + ES_KEY_MAX + 2];
      snprintf(name, sizeof name, "%s/%s", s->type, s->key);
      ctl_putf(&b, "%-40s %8" PRIu64 " %8" PRIu64, name, s->version,
               s->position);
    }
    ctl_emit(&b);
  }
  es_buf_close(&b);
  ctl_scan_free(&scan);
  return CTL_OK;
}

typedef struct print_ctx {
  ctl *c;
  es_buf b;
  uint64_t n, last, undecoded;
  uint64_t at; /* state: stop after this version (0: all) */
} print_ctx;

static int print_event(const es_stored_event *ev, void *vctx) {
  print_ctx *p = vctx;
  es_buf_clear(&p->b);
  if (ctl_format_event(p->c, ev, &p->b, p->c->json) != 0)
    p->undecoded++;
  ctl_emit(&p->b);
  p->n++;
  p->last = ev->meta.position;
  return 0;
}

int ctl_cmd_cat(ctl *c, int argc, char **argv) {
  ctl_stream_args args;
  print_ctx p;
  int rc;

  if (ctl_parse_stream_args(c, "cat", "--from", argc, argv, &args))
    return CTL_USAGE;
  memset(&p, 0, sizeof p);
  p.c = c;
  es_buf_init(&p.b, 0);
  rc = es_store_read_stream(c->store, args.type, args.key, args.version, 0,
                            print_event, &p);
  es_buf_close(&p.b);
  if (rc) {
    ctl_error(c, "reading '%s': %s", args.stream, es_strerror(rc));
    return CTL_PROBLEM;
  }
  if (p.n == 0) {
    uint64_t v = 0;
    es_store_stream_version(c->store, args.type, args.key, &v);
    if (v == 0) {
      ctl_error(c, "no stream '%s' in '%s'", args.stream, ctl_display(c));
      return CTL_PROBLEM;
    }
  }
  return p.undecoded ? CTL_PROBLEM : CTL_OK;
}

int ctl_cmd_tail(ctl *c, int argc, char **argv) {
  uint64_t from = 1;
  bool follow = false;
  print_ctx p;
  int rc = 0;

  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--from") == 0) {
      if (number_arg(c, "--from", i + 1 < argc ? argv[++i] : NULL, &from))
        return CTL_USAGE;
    } else if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0) {
      follow = true;
    } else {
      ctl_error(c, "'tail': unexpected '%s' (tail [--from POS] [-f])", argv[i]);
      return CTL_USAGE;
    }
  }
  memset(&p, 0, sizeof p);
  p.c = c;
  p.last = from ? from - 1 : 0;
  es_buf_init(&p.b, 0);
  for (;;) {
    uint64_t head;
    rc = es_store_read_all(c->store, p.last + 1, 0, print_event, &p);
    if (rc || !follow)
      break;
    fflush(stdout);
    /* Blocks until the head passes what was printed: on a read-only log,
     * the store notices another process's appends (inotify). */
    rc = es_store_wait(c->store, p.last, -1, &head);
    if (rc)
      break;
  }
  es_buf_close(&p.b);
  if (rc) {
    ctl_error(c, "reading the global order: %s", es_strerror(rc));
    return CTL_PROBLEM;
  }
  return p.undecoded ? CTL_PROBLEM : CTL_OK;
}

/* ---- verify --------------------------------------------------------------
 */

typedef struct verify_ctx {
  ctl *c;
  uint64_t expect, events, undecodable, problems;
  uint64_t head; /* for the progress bar */
} verify_ctx;

static int verify_event(const es_stored_event *ev, void *vctx) {
  verify_ctx *v = vctx;
  const es_event_meta *m = &ev->meta;
  if (m->position != v->expect) {
    ctl_error(v->c,
              "global order: position %" PRIu64 " where %" PRIu64
              " was expected",
              m->position, v->expect);
    v->problems++;
  }
  v->expect = m->position + 1;
  v->events++;
  const es__dtype *t =
      ctl_find_type(v->c, m->type_id, m->type_version, m->position);
  if (t) {
    es_buf tmp;
    es_buf_init(&tmp, 0);
    int rc = es__dvalue_json(t, ev->payload, ev->len, &tmp);
    es_buf_close(&tmp);
    if (rc) {
      ctl_error(v->c,
                "position %" PRIu64 " (%s/%s #%" PRIu64 "): does not decode "
                "as %s v%u: %s",
                m->position, m->aggregate, m->key, m->version, t->name,
                m->type_version, es_strerror(rc));
      v->problems++;
    }
  } else if (strncmp(m->aggregate, "saga:", 5) != 0) {
    v->undecodable++;
  }
  ctl_progress(v->c, m->position, v->head);
  return 0;
}

/* es_store_verify_log()'s report of one damage: printed as it is found. */
static void print_damage(const char *file, uint64_t offset, const char *message,
                         void *ctx) {
  (void)file;
  (void)offset;
  ctl_error(ctx, "%s", message);
}

/* Checks every file of the embedded log with es_store_verify_log(): every
 * segment record by record (framing, CRCs, positions, batches, versions)
 * and each sealed segment's index and command-id files; each damage is
 * printed with its file and offset. Returns the number of problems. */
static uint64_t verify_files(ctl *c) {
  es_store_verify_report rep;
  int rc;

  memset(&rep, 0, sizeof rep);
  rep.on_damage = print_damage;
  rep.ctx = c;
  rc = es_store_verify_log(c->store_arg, &rep);
  if (rc && rc != ES_ECORRUPT) {
    ctl_error(c, "'%s': reading the store's files: %s", c->store_arg,
              es_strerror(rc));
    return rep.damage + 1;
  }
  if (rep.tail_bytes)
    ctl_warn(c,
             "'%s': an unfinished append of %" PRIu64 " bytes at the end "
             "(cut back when a writer opens it)",
             c->store_arg, rep.tail_bytes);
  return rep.damage;
}

int ctl_cmd_verify(ctl *c, int argc, char **argv) {
  verify_ctx v;
  ctl_scan scan;
  uint64_t head = 0;
  int rc;

  if (no_args(c, "verify", argc, argv))
    return CTL_USAGE;
  memset(&v, 0, sizeof v);
  if (!ctl_is_database(c->store_arg)) /* the log's own files */
    v.problems = verify_files(c);
  if (ctl_open_store(c, c->store_arg, false, &c->store) != 0) {
    /* Damage the open meets: already reported by verify_files(). */
    if (c->json)
      printf("{\"events\":0,\"undescribed\":0,\"problems\":%" PRIu64 "}\n",
             v.problems + 1);
    else
      printf("%s: cannot be opened; %" PRIu64 " problem(s)\n", ctl_display(c),
             v.problems + 1);
    return CTL_PROBLEM;
  }
  if ((rc = ctl_load_schemas(c)) != 0) {
    ctl_error(c, "cannot read the schema descriptions: %s", es_strerror(rc));
    v.problems++;
  }
  v.c = c;
  v.expect = 1;
  es_store_head(c->store, &head);
  v.head = head;
  rc = es_store_read_all(c->store, 1, 0, verify_event, &v);
  ctl_progress_end(c);
  if (rc) {
    /* The log reports damage with its file and offset on stderr through
     * the open report; a read meeting it says ES_ECORRUPT. */
    ctl_error(c,
              "'%s': reading the global order after position %" PRIu64 ": %s",
              ctl_display(c), v.expect - 1, es_strerror(rc));
    v.problems++;
  }
  if (!rc && v.events != head) {
    ctl_error(c, "head is %" PRIu64 " but %" PRIu64 " events were read", head,
              v.events);
    v.problems++;
  }
  if (!rc && (rc = ctl_scan_streams(c, &scan)) == 0) {
    for (size_t i = 0; i < scan.n; i++)
      if (scan.streams[i]->gap) {
        ctl_error(c, "stream '%s/%s': versions do not follow 1, 2, 3, ...",
                  scan.streams[i]->type, scan.streams[i]->key);
        v.problems++;
      }
    ctl_scan_free(&scan);
  }
  if (c->bad_schemas)
    v.problems += c->bad_schemas;
  if (c->json)
    printf("{\"events\":%" PRIu64 ",\"undescribed\":%" PRIu64
           ",\"problems\":%" PRIu64 "}\n",
           v.events, v.undecodable, v.problems);
  else
    printf("%s: %" PRIu64 " events read, %" PRIu64 " without a description, "
           "%" PRIu64 " problem%s\n",
           ctl_display(c), v.events, v.undecodable, v.problems,
           v.problems == 1 ? "" : "s");
  return v.problems ? CTL_PROBLEM : CTL_OK;
}

/* ---- projections, sagas, dead letters ------------------------------------
 */

int ctl_cmd_projections(ctl *c, int argc, char **argv) {
  names proj;
  uint64_t head = 0;
  es_buf b;

  if (no_args(c, "projections", argc, argv))
    return CTL_USAGE;
  collect(c, false, &proj);
  es_store_head(c->store, &head);
  es_buf_init(&b, 0);
  if (!c->json)
    printf("%-24s %10s %8s\n", "PROJECTION", "CHECKPOINT", "LAG");
  for (size_t i = 0; i < proj.n; i++) {
    char name[sizeof ES_PROJECTION_CHECKPOINT_PREFIX + ES_KEY_MAX];
    uint64_t pos = 0;
    snprintf(name, sizeof name, "%s%s", ES_PROJECTION_CHECKPOINT_PREFIX,
             proj.v[i]);
    bool kept = es_store_checkpoint_get(c->store, name, &pos, NULL) == 0;
    uint64_t lag = head - (pos < head ? pos : head);
    es_buf_clear(&b);
    if (c->json) {
      ctl_put(&b, "{\"projection\":");
      ctl_put_str(&b, proj.v[i]);
      if (kept)
        ctl_putf(&b, ",\"checkpoint\":%" PRIu64 ",\"lag\":%" PRIu64, pos, lag);
      else
        ctl_put(&b, ",\"checkpoint\":null,\"lag\":null");
      ctl_put(&b, ",\"on\":");
      const es__jv *on = es__jv_get(proj.json[i], "on");
      ctl_put(&b, "[");
      for (size_t k = 0; on && on->kind == ES__JV_ARR && k < on->count; k++) {
        if (k)
          ctl_put(&b, ",");
        ctl_put_str(&b, on->items[k].s);
      }
      ctl_put(&b, "]}");
    } else if (kept) {
      ctl_putf(&b, "%-24s %10" PRIu64 " %8" PRIu64, proj.v[i], pos, lag);
    } else {
      ctl_putf(&b, "%-24s %10s %8s", proj.v[i], "-", "-");
    }
    ctl_emit(&b);
  }
  es_buf_close(&b);
  return CTL_OK;
}

/* Pending timers of one saga: replayed from its timer index. */
typedef es__saga_timer timer;

typedef struct timers {
  timer *v;
  size_t n;
  uint64_t cap;
  int err;
} timers;

static void timer_drop(timers *t, const char *key, const char *name,
                       const int64_t *due) {
  for (size_t i = 0; i < t->n;)
    if (strcmp(t->v[i].key, key) == 0 &&
        (!name || strcmp(t->v[i].name, name) == 0) &&
        (!due || t->v[i].due == *due))
      t->v[i] = t->v[--t->n];
    else
      i++;
}

static int timer_event(const es_stored_event *ev, void *ctx) {
  timers *t = ctx;
  es__saga_timer_record rec;
  const char *key = rec.timer.key, *name = rec.timer.name;

  if (es__saga_timer_record_read(ev->payload, ev->len, &rec) != 0) {
    t->err = ES_ECORRUPT;
    return 0;
  }
  switch (rec.op) {
  case 1: /* schedule, replacing */
    timer_drop(t, key, name, NULL);
    if (es__grow_array(&t->v, &t->cap, t->n + 1, sizeof *t->v))
      return ES_ENOMEM;
    t->v[t->n++] = rec.timer;
    break;
  case 2: /* cancel */
  case 5: /* firing */
    timer_drop(t, key, name, NULL);
    break;
  case 3: /* fired: drop if still due then */
    timer_drop(t, key, name, &rec.timer.due);
    break;
  case 4: /* clear */
    timer_drop(t, key, NULL, NULL);
    break;
  default:
    break;
  }
  return 0;
}

/* The last step of a saga instance: its state and whether completed. */
typedef struct last_step {
  es_buf rec;
} last_step;

static int keep_step(const es_stored_event *ev, void *ctx) {
  last_step *l = ctx;
  es_buf_clear(&l->rec);
  es_buf_append(&l->rec, ev->payload, ev->len);
  return 0;
}

static void put_saga_state(ctl *c, const char *saga, const es__jv *sj,
                           const uint8_t *rec, size_t len, es_buf *b,
                           bool *completed) {
  es_mp_reader r;
  uint32_t n, sl;
  uint64_t u;
  int64_t i64;
  const char *s;
  const uint8_t *st;
  bool done = false;
  const char *state_name = es__jv_str(sj, "state");
  const es__dtype *t = NULL;

  *completed = false;
  for (uint32_t i = c->n_schemas; i-- > 0 && !t && state_name;)
    for (uint32_t k = 0; k < c->schemas[i].d.n_types; k++)
      if (strcmp(c->schemas[i].d.types[k].name, state_name) == 0) {
        t = &c->schemas[i].d.types[k];
        break;
      }
  es_mp_reader_init(&r, rec, len);
  if (es_mp_read_array(&r, &n) || n < 9 || es_mp_read_uint(&r, &u, 255) ||
      es_mp_read_uint(&r, &u, UINT64_MAX) ||
      es_mp_read_uint(&r, &u, UINT64_MAX) ||
      es_mp_read_uint(&r, &u, UINT64_MAX) || es_mp_read_str(&r, &s, &sl) ||
      es_mp_read_int(&r, &i64, INT64_MIN, INT64_MAX) ||
      es_mp_read_bin(&r, &st, &sl) || es_mp_read_bin(&r, &st, &sl) ||
      es_mp_read_bool(&r, &done)) {
    ctl_putf(b, "null");
    ctl_warn(c, "saga '%s': a step record does not parse", saga);
    return;
  }
  *completed = done;
  if (!t || es__dvalue_json(t, st, sl, b) != 0)
    ctl_put(b, "null");
}

int ctl_cmd_sagas(ctl *c, int argc, char **argv) {
  names sagas;
  ctl_scan scan;
  es_buf b;
  last_step l;
  int rc, status = CTL_OK;

  if (no_args(c, "sagas", argc, argv))
    return CTL_USAGE;
  collect(c, true, &sagas);
  if ((rc = ctl_scan_streams(c, &scan)) != 0) {
    ctl_error(c, "reading '%s': %s", ctl_display(c), es_strerror(rc));
    return CTL_PROBLEM;
  }
  es_buf_init(&b, 0);
  es_buf_init(&l.rec, 0);
  if (!c->json)
    printf("%-16s %-16s %5s %-9s %s\n", "SAGA", "INSTANCE", "STEPS", "STATUS",
           "STATE / PENDING TIMEOUTS");
  for (size_t i = 0; i < sagas.n; i++) {
    char stream[ES_KEY_MAX + 16], tstream[ES_KEY_MAX + 16];
    timers tm = {0};
    snprintf(stream, sizeof stream, "saga:%s", sagas.v[i]);
    snprintf(tstream, sizeof tstream, "saga:%s#timers", sagas.v[i]);
    rc = es_store_read_stream(c->store, tstream, "timers", 1, 0, timer_event,
                              &tm);
    if (rc || tm.err) {
      ctl_error(c, "saga '%s': timer index: %s", sagas.v[i],
                es_strerror(rc ? rc : tm.err));
      status = CTL_PROBLEM;
    }
    for (size_t k = 0; k < scan.n; k++) {
      const ctl_stream *s = scan.streams[k];
      bool completed;
      if (strcmp(s->type, stream) != 0)
        continue;
      rc = es_store_read_stream(c->store, s->type, s->key, s->version, 1,
                                keep_step, &l);
      es_buf_clear(&b);
      if (c->json) {
        ctl_put(&b, "{\"saga\":");
        ctl_put_str(&b, sagas.v[i]);
        ctl_put(&b, ",\"key\":");
        ctl_put_str(&b, s->key);
        ctl_putf(&b, ",\"steps\":%" PRIu64 ",\"state\":", s->version);
        put_saga_state(c, sagas.v[i], sagas.json[i], l.rec.data, l.rec.len, &b,
                       &completed);
        ctl_putf(&b, ",\"completed\":%s,\"timeouts\":[",
                 completed ? "true" : "false");
        int first = 1;
        for (size_t t = 0; t < tm.n; t++)
          if (strcmp(tm.v[t].key, s->key) == 0) {
            ctl_put(&b, first ? "{\"name\":" : ",{\"name\":");
            ctl_put_str(&b, tm.v[t].name);
            ctl_put(&b, ",\"due\":\"");
            ctl_put_time(&b, tm.v[t].due);
            ctl_put(&b, "\"}");
            first = 0;
          }
        ctl_put(&b, "]}");
      } else {
        es_buf st;
        es_buf_init(&st, 0);
        put_saga_state(c, sagas.v[i], sagas.json[i], l.rec.data, l.rec.len, &st,
                       &completed);
        ctl_putf(&b, "%-16s %-16s %5" PRIu64 " %-9s %.*s", sagas.v[i], s->key,
                 s->version, completed ? "completed" : "active", (int)st.len,
                 (const char *)st.data);
        es_buf_close(&st);
        for (size_t t = 0; t < tm.n; t++)
          if (strcmp(tm.v[t].key, s->key) == 0) {
            ctl_putf(&b, "\n%-16s %-16s %5s %-9s timeout '%s' due ", "", "", "",
                     "", tm.v[t].name);
            ctl_put_time(&b, tm.v[t].due);
          }
      }
      ctl_emit(&b);
    }
    es__free(tm.v);
  }
  es_buf_close(&l.rec);
  es_buf_close(&b);
  ctl_scan_free(&scan);
  return status;
}

static int print_dead(const es_dead_letter *dl, void *ctx) {
  ctl *c = ctx;
  if (c->json) {
    printf("%s\n", dl->line);
    return 0;
  }
  printf("%-36s %-14s %-18s %-10s %-12s %3u  %s%s%s\n", dl->id, dl->saga,
         dl->target, dl->instance, dl->error, dl->attempts, dl->rejection,
         dl->rejection[0] && dl->message[0] ? ": " : "", dl->message);
  return 0;
}

int ctl_cmd_dead_letters(ctl *c, int argc, char **argv) {
  int rc;
  if (no_args(c, "dead-letters", argc, argv))
    return CTL_USAGE;
  if (!c->json)
    printf("%-36s %-14s %-18s %-10s %-12s %3s  %s\n", "ID", "SAGA", "TARGET",
           "INSTANCE", "ERROR", "TRY", "MESSAGE");
  rc = ctl_dead_letters(c, print_dead, c);
  ctl_warn_dead_letter_file(c);
  return rc ? CTL_PROBLEM : CTL_OK;
}
