/*
 * dead_letter.c - a dead letter as one line of JSON: writing it, parsing
 * it, and the dead-letter files of earlier versions (es_dead_letters_list(),
 * es_dead_letter_resolve()), whose lines are the same. The store keeps the
 * lines (dead_letter_store.c).
 *
 * A line:
 *   {"id":"<command uuid>","saga":"MoneyTransfer","key":"t-1","step":3,
 *    "effect":0,"target":"Account.Deposit","instance":"acc-2",
 *    "correlation":"<uuid>","error":"ES_EIO","rejection":"",
 *    "message":"...","attempts":5,"time":"2024-05-01T12:00:00.000000Z",
 *    "command":{"amount":10,...},"msgpack":"<hex>"}
 * "command" is for people (es_json_write of the decoded command); "msgpack"
 * is what re-dispatch executes. Strings are written as given (keys and
 * messages should be UTF-8) with quotes, backslashes and control
 * characters escaped.
 *
 * A letter that was dealt with (re-dispatched with success) is marked by a
 * later line, appended the same way; the letter's own line stays:
 *   {"resolved":"<command uuid>","time":"...","outcome":"ok"}
 * Listing skips resolved letters.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "es/es_error.h"
#include "es/es_saga_run.h"
#include "subscribe/dead_letter.h"
#include "util/alloc.h"
#include "util/hex.h"
#include "util/json_parse.h"
#include "util/line.h"

/* ---- writing --------------------------------------------------------------
 */

static void put(es_buf *b, const char *s) { es_buf_append(b, s, strlen(s)); }

static void put_str(es_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  put(b, "\"");
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      es_buf_append(b, e, 2);
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      es_buf_append(b, e, 6);
    } else {
      es_buf_append(b, s, 1);
    }
  }
  put(b, "\"");
}

static void put_member(es_buf *b, const char *name, const char *value) {
  put(b, ",\"");
  put(b, name);
  put(b, "\":");
  put_str(b, value);
}

static void put_u64(es_buf *b, const char *name, uint64_t v) {
  char tmp[48];
  snprintf(tmp, sizeof tmp, ",\"%s\":%" PRIu64, name, v);
  put(b, tmp);
}

static void iso8601(int64_t us, char out[96]) {
  time_t secs = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
  long frac = (long)(us - (int64_t)secs * 1000000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm)) {
    snprintf(out, 96, "1970-01-01T00:00:00.000000Z");
    return;
  }
  snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

int es__dead_letter_format(const es__dead_letter *d, bool readable,
                           es_buf *out) {
  static const char hex[] = "0123456789abcdef";
  char id[37], corr[37], when[96];

  es_uuid_format(&d->id, id);
  es_uuid_format(&d->correlation, corr);
  iso8601(d->time_us, when);
  put(out, "{\"id\":");
  put_str(out, id);
  put_member(out, "saga", d->saga);
  put_member(out, "key", d->key);
  put_u64(out, "step", d->step);
  put_u64(out, "effect", d->effect);
  put_member(out, "target", d->target);
  put_member(out, "instance", d->instance);
  put_member(out, "correlation", corr);
  put_member(out, "error", d->error);
  put_member(out, "rejection", d->rejection ? d->rejection : "");
  put_member(out, "message", d->message ? d->message : "");
  put_u64(out, "attempts", d->attempts);
  put_member(out, "time", when);
  put(out, ",\"command\":");
  if (readable && d->command_type && d->command_value) {
    size_t mark = out->len;
    int err = out->err;
    if (es_json_write(d->command_type, d->command_value, out) != 0 && !err) {
      out->len = mark; /* unreadable value: keep the line valid */
      out->err = 0;
      put(out, "null");
    }
  } else {
    put(out, "null");
  }
  put(out, ",\"msgpack\":\"");
  for (size_t i = 0; i < d->msgpack_len; i++) {
    char h[2] = {hex[d->msgpack[i] >> 4], hex[d->msgpack[i] & 15]};
    es_buf_append(out, h, 2);
  }
  put(out, "\"}");
  return out->err;
}

int es__dead_letter_format_resolved(const char *id, int64_t time_us,
                                    es_buf *out) {
  char when[96];
  iso8601(time_us, when);
  put(out, "{\"resolved\":");
  put_str(out, id);
  put(out, ",\"time\":\"");
  put(out, when);
  put(out, "\",\"outcome\":\"ok\"}");
  return out->err;
}

/* Appends the line in `b` to the file at `path` (created 0644) and fsyncs
 * it. Returns 0 or ES_EIO. */
static int append_line(const char *path, const es_buf *b) {
  size_t off = 0;
  int fd, rc = 0;

  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return ES_EIO;
  /* O_APPEND: one write() per line keeps concurrent writers' lines whole
   * on a local file system. */
  while (off < b->len) {
    ssize_t n = write(fd, b->data + off, b->len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = ES_EIO;
      break;
    }
    off += (size_t)n;
  }
  if (rc == 0 && fsync(fd) != 0)
    rc = ES_EIO;
  if (close(fd) != 0 && rc == 0)
    rc = ES_EIO;
  return rc;
}

/* ---- reading --------------------------------------------------------------
 */

/* Member `name` of `v` as a string without a NUL in it (strings libes
 * writes never hold one), or NULL. */
static const char *member_str(const es__jv *v, const char *name) {
  const es__jv *m = es__jv_get(v, name);
  if (!m || m->kind != ES__JV_STR || strlen(m->s) != m->n)
    return NULL;
  return m->s;
}

/* Member `name` of `v` when it is an unsigned integer no larger than
 * `max`, else 0. */
static uint64_t member_u64(const es__jv *v, const char *name, uint64_t max) {
  uint64_t x;
  return es__jv_u64(v, name, &x) == 0 && x <= max ? x : 0;
}

/* `s`, or "" for an absent member. */
static const char *or_empty(const char *s) { return s ? s : ""; }

int es__dead_letter_parse(const char *line, size_t len, es_arena *a,
                          es_dead_letter *dl) {
  es__jv *v;
  const char *hexs, *resolved;
  uint8_t *bin;
  size_t n;
  int rc = es__json_parse(line, len, a, &v, NULL);

  if (rc == ES_ENOMEM)
    return rc;
  if (rc || v->kind != ES__JV_OBJ)
    return -1;
  memset(dl, 0, sizeof *dl);
  dl->id = member_str(v, "id");
  resolved = member_str(v, "resolved");
  if (!dl->id && !es__jv_get(v, "id") && resolved) {
    dl->id = resolved;
    return strlen(resolved) < 40 ? 1 : -1;
  }
  dl->saga = member_str(v, "saga");
  dl->key = member_str(v, "key");
  dl->target = member_str(v, "target");
  dl->instance = member_str(v, "instance");
  dl->error = member_str(v, "error");
  dl->correlation = or_empty(member_str(v, "correlation"));
  dl->rejection = or_empty(member_str(v, "rejection"));
  dl->message = or_empty(member_str(v, "message"));
  dl->time = or_empty(member_str(v, "time"));
  dl->step = member_u64(v, "step", UINT64_MAX);
  dl->effect = (uint32_t)member_u64(v, "effect", UINT32_MAX);
  dl->attempts = (uint32_t)member_u64(v, "attempts", UINT32_MAX);
  hexs = member_str(v, "msgpack");
  if (!dl->id || !dl->saga || !dl->key || !dl->target || !dl->instance ||
      !dl->error || !hexs)
    return -1;
  n = strlen(hexs);
  if (!(bin = es_arena_alloc(a, n / 2 + 1)))
    return ES_ENOMEM;
  if (es__hex_decode(hexs, n, bin) != 0)
    return -1;
  dl->command = bin;
  dl->command_len = n / 2;
  return 0;
}

/* The ids of resolved letters: sorted, found by binary search. */
typedef struct id_set {
  char (*ids)[40];
  size_t n, cap;
} id_set;

static int id_cmp(const void *a, const void *b) { return strcmp(a, b); }

static bool id_set_has(const id_set *set, const char *id) {
  return set->n && strlen(id) < 40 &&
         bsearch(id, set->ids, set->n, sizeof *set->ids, id_cmp) != NULL;
}

/* What one pass over the log does with each parsed line. */
typedef struct list_pass {
  int (*fn)(const es_dead_letter *dl, void *ctx);
  void *ctx;
  id_set *resolved;
  bool collect; /* first pass: gather the resolved ids */
} list_pass;

int es__dead_letter_read_lines(FILE *f,
                               int (*fn)(es_dead_letter *dl, int kind,
                                         size_t len, void *ctx),
                               void *ctx, uint64_t *bad_line) {
  es_buf buf;
  es_arena arena;
  uint64_t no = 0;
  int rc = 0, more;

  es_buf_init(&buf, ES__LINE_MAX);
  es_arena_init(&arena, 0);
  while ((more = es__read_line(f, &buf)) == 1) {
    char *line = (char *)buf.data;
    size_t len = buf.len;
    es_dead_letter dl;
    int kind;
    no++;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (!len)
      continue;
    es_arena_reset(&arena);
    kind = es__dead_letter_parse(line, len, &arena, &dl);
    if (kind == ES_ENOMEM) {
      rc = kind;
      break;
    }
    if (kind < 0) {
      if (bad_line)
        *bad_line = no;
      rc = ES_ECORRUPT;
      break;
    }
    dl.line_no = no;
    dl.line = line;
    if ((rc = fn(&dl, kind, len, ctx)) != 0)
      break;
  }
  if (rc == 0 && more < 0)
    rc = more;
  es_arena_close(&arena);
  es_buf_close(&buf);
  return rc;
}

/* One pass's work on a parsed line (es__dead_letter_read_lines()). */
static int pass_line(es_dead_letter *dl, int kind, size_t len, void *ctx) {
  list_pass *lp = ctx;
  id_set *set = lp->resolved;

  (void)len;
  if (!lp->collect)
    return kind == 1 || id_set_has(set, dl->id) ? 0 : lp->fn(dl, lp->ctx);
  if (kind != 1)
    return 0;
  if (set->n == set->cap) {
    size_t c = set->cap ? set->cap * 2 : 16;
    char(*p)[40] = es__realloc(set->ids, c * sizeof *p);
    if (!p)
      return ES_ENOMEM;
    set->ids = p;
    set->cap = c;
  }
  strcpy(set->ids[set->n++], dl->id);
  return 0;
}

int es_dead_letters_list(const char *path,
                         int (*fn)(const es_dead_letter *dl, void *ctx),
                         void *ctx, uint64_t *bad_line) {
  id_set resolved = {NULL, 0, 0};
  list_pass lp = {fn, ctx, &resolved, true};
  FILE *f;
  int rc;

  if (bad_line)
    *bad_line = 0;
  if (!path || !fn)
    return ES_EINVAL;
  f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? 0 : ES_EIO;
  rc = es__dead_letter_read_lines(f, pass_line, &lp, bad_line);
  if (rc == 0) {
    if (resolved.n)
      qsort(resolved.ids, resolved.n, sizeof *resolved.ids, id_cmp);
    rewind(f);
    lp.collect = false;
    rc = es__dead_letter_read_lines(f, pass_line, &lp, bad_line);
  }
  es__free(resolved.ids);
  fclose(f);
  return rc;
}

/* es_dead_letter_resolve()'s search for the pending letter. */
static int find_pending(const es_dead_letter *dl, void *ctx) {
  return strcmp(dl->id, ctx) == 0;
}

int es_dead_letter_resolve(const char *path, const char *id) {
  es_buf b = ES_BUF_INIT;
  struct timespec ts;
  int rc;

  if (!path || !*path || !id || !*id || strlen(id) >= 40)
    return ES_EINVAL;
  rc = es_dead_letters_list(path, find_pending, (void *)id, NULL);
  if (rc == 0)
    return ES_ENOTFOUND;
  if (rc != 1)
    return rc;
  clock_gettime(CLOCK_REALTIME, &ts);
  es__dead_letter_format_resolved(
      id, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, &b);
  put(&b, "\n");
  rc = b.err ? b.err : append_line(path, &b);
  es_buf_close(&b);
  return rc;
}
