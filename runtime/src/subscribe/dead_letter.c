/*
 * dead_letter.c - the dead-letter log: one JSON object per line, appended
 * and fsync'd, read back by es_dead_letters_list().
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
 * es_dead_letters_list() skips resolved letters.
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

int es__dead_letter_format(const es__dead_letter *d, es_buf *out) {
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
  if (d->command_type && d->command_value) {
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
  put(out, "\"}\n");
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

int es__dead_letter_write(const char *path, const es__dead_letter *d) {
  es_buf b = ES_BUF_INIT;
  int rc;

  if (!path || !d)
    return ES_EINVAL;
  rc = es__dead_letter_format(d, &b);
  if (rc == 0)
    rc = append_line(path, &b);
  es_buf_close(&b);
  return rc;
}

/* ---- reading --------------------------------------------------------------
 */

typedef struct jparser {
  const char *p, *end;
  char *out; /* unescaped strings go here, NUL-terminated */
} jparser;

static void skip_ws(jparser *j) {
  while (j->p < j->end &&
         (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
    j->p++;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int hex4(const char *s, const char *end, unsigned *v) {
  *v = 0;
  if (end - s < 4)
    return -1;
  for (int i = 0; i < 4; i++) {
    int h = hexval(s[i]);
    if (h < 0)
      return -1;
    *v = *v << 4 | (unsigned)h;
  }
  return 0;
}

static char *put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xc0 | cp >> 6);
    *o++ = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xe0 | cp >> 12);
    *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
  } else {
    *o++ = (char)(0xf0 | cp >> 18);
    *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
    *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
  }
  return o;
}

/* A string at j->p (at its opening quote), unescaped into j->out. No
 * escape makes its output longer than its input, so j->out (as long as
 * the line) cannot overflow. */
static const char *read_str(jparser *j) {
  char *start = j->out, *o = j->out;
  if (j->p >= j->end || *j->p != '"')
    return NULL;
  j->p++;
  while (j->p < j->end && *j->p != '"') {
    char c = *j->p++;
    if (c != '\\') {
      *o++ = c;
      continue;
    }
    if (j->p >= j->end)
      return NULL;
    c = *j->p++;
    switch (c) {
    case '"':
    case '\\':
    case '/':
      *o++ = c;
      break;
    case 'b':
      *o++ = '\b';
      break;
    case 'f':
      *o++ = '\f';
      break;
    case 'n':
      *o++ = '\n';
      break;
    case 'r':
      *o++ = '\r';
      break;
    case 't':
      *o++ = '\t';
      break;
    case 'u': {
      unsigned cp, lo;
      if (hex4(j->p, j->end, &cp) != 0)
        return NULL;
      j->p += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 &&
          j->p[0] == '\\' && j->p[1] == 'u' &&
          hex4(j->p + 2, j->end, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        j->p += 6;
      } else if (cp >= 0xd800 && cp < 0xe000) {
        cp = 0xfffd;
      }
      if (cp == 0)
        return NULL; /* our strings never hold a NUL */
      o = put_utf8(o, cp);
      break;
    }
    default:
      return NULL;
    }
  }
  if (j->p >= j->end)
    return NULL;
  j->p++;
  *o++ = '\0';
  j->out = o;
  return start;
}

/* Skips any value; numbers are returned as text in `*num` (else NULL). */
static int skip_value(jparser *j, const char **num, size_t *num_len) {
  int depth = 0;
  *num = NULL;
  skip_ws(j);
  if (j->p >= j->end)
    return -1;
  if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
    *num = j->p;
    while (j->p < j->end && strchr("+-.eE0123456789", *j->p))
      j->p++;
    *num_len = (size_t)(j->p - *num);
    return 0;
  }
  if (*j->p == 't' || *j->p == 'f' || *j->p == 'n') {
    while (j->p < j->end && *j->p >= 'a' && *j->p <= 'z')
      j->p++;
    return 0;
  }
  if (*j->p != '{' && *j->p != '[')
    return -1;
  do {
    if (j->p >= j->end)
      return -1;
    if (*j->p == '"') {
      char *mark = j->out;
      if (!read_str(j))
        return -1;
      j->out = mark;
      continue;
    }
    if (*j->p == '{' || *j->p == '[')
      depth++;
    else if (*j->p == '}' || *j->p == ']')
      depth--;
    j->p++;
  } while (depth > 0);
  return 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *v) {
  uint64_t x = 0;
  if (!s || !n || n > 20)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - 9) / 10)
      return -1;
    x = x * 10 + (uint64_t)(s[i] - '0');
  }
  *v = x;
  return 0;
}

/* Parses one line into `dl`; strings land in `scratch` (line length + 1
 * bytes), the msgpack bytes in `bin` (half that). Returns 0 for a letter,
 * 1 for a line marking letter `dl->id` resolved, -1 for anything else. */
static int parse_line(const char *line, size_t len, char *scratch, uint8_t *bin,
                      es_dead_letter *dl) {
  jparser j = {line, line + len, scratch};
  const char *hexs = NULL, *resolved = NULL;
  bool have_id = false;

  memset(dl, 0, sizeof *dl);
  dl->rejection = dl->message = dl->correlation = dl->time = "";
  skip_ws(&j);
  if (j.p >= j.end || *j.p++ != '{')
    return -1;
  for (;;) {
    const char *name, *num = NULL, *s = NULL;
    size_t num_len = 0;
    uint64_t v = 0;

    skip_ws(&j);
    if (!(name = read_str(&j)))
      return -1;
    skip_ws(&j);
    if (j.p >= j.end || *j.p++ != ':')
      return -1;
    skip_ws(&j);
    if (j.p < j.end && *j.p == '"') {
      if (!(s = read_str(&j)))
        return -1;
    } else if (skip_value(&j, &num, &num_len) != 0) {
      return -1;
    }
    if (num && parse_u64(num, num_len, &v) != 0)
      num = NULL;
    if (!strcmp(name, "id") && s)
      dl->id = s, have_id = true;
    else if (!strcmp(name, "resolved") && s)
      resolved = s;
    else if (!strcmp(name, "saga") && s)
      dl->saga = s;
    else if (!strcmp(name, "key") && s)
      dl->key = s;
    else if (!strcmp(name, "step") && num)
      dl->step = v;
    else if (!strcmp(name, "effect") && num && v <= UINT32_MAX)
      dl->effect = (uint32_t)v;
    else if (!strcmp(name, "target") && s)
      dl->target = s;
    else if (!strcmp(name, "instance") && s)
      dl->instance = s;
    else if (!strcmp(name, "correlation") && s)
      dl->correlation = s;
    else if (!strcmp(name, "error") && s)
      dl->error = s;
    else if (!strcmp(name, "rejection") && s)
      dl->rejection = s;
    else if (!strcmp(name, "message") && s)
      dl->message = s;
    else if (!strcmp(name, "attempts") && num && v <= UINT32_MAX)
      dl->attempts = (uint32_t)v;
    else if (!strcmp(name, "time") && s)
      dl->time = s;
    else if (!strcmp(name, "msgpack") && s)
      hexs = s;
    skip_ws(&j);
    if (j.p < j.end && *j.p == ',') {
      j.p++;
      continue;
    }
    if (j.p < j.end && *j.p == '}') {
      j.p++;
      break;
    }
    return -1;
  }
  skip_ws(&j);
  if (j.p == j.end && resolved && !have_id) {
    dl->id = resolved;
    return 1;
  }
  if (j.p != j.end || !have_id || !dl->saga || !dl->key || !dl->target ||
      !dl->instance || !dl->error || !hexs)
    return -1;
  {
    size_t n = strlen(hexs);
    if (n % 2)
      return -1;
    for (size_t i = 0; i < n; i += 2) {
      int hi = hexval(hexs[i]), lo = hexval(hexs[i + 1]);
      if (hi < 0 || lo < 0)
        return -1;
      bin[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    dl->command = bin;
    dl->command_len = n / 2;
  }
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

/* One pass over the log at `f`. Returns 0, the callback's value,
 * ES_ECORRUPT (the line's number in `*bad_line`), ES_EIO, ES_ENOMEM. */
static int read_pass(FILE *f, list_pass *lp, uint64_t *bad_line) {
  es_buf buf;
  char *line, *scratch = NULL;
  uint8_t *bin = NULL;
  size_t scap = 0;
  uint64_t no = 0;
  int rc = 0, more;

  es_buf_init(&buf, ES__LINE_MAX);
  while ((more = es__read_line(f, &buf)) == 1) {
    es_dead_letter dl;
    size_t len = buf.len;
    int kind;
    line = (char *)buf.data;
    no++;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (!len)
      continue;
    if (len + 1 > scap) {
      char *s = es__realloc(scratch, len + 1);
      uint8_t *b = es__realloc(bin, len / 2 + 1);
      if (s)
        scratch = s;
      if (b)
        bin = b;
      if (!s || !b) {
        rc = ES_ENOMEM;
        break;
      }
      scap = len + 1;
    }
    kind = parse_line(line, len, scratch, bin, &dl);
    if (kind < 0 || (kind == 1 && strlen(dl.id) >= 40)) {
      if (bad_line)
        *bad_line = no;
      rc = ES_ECORRUPT;
      break;
    }
    if (lp->collect) {
      id_set *set = lp->resolved;
      if (kind != 1)
        continue;
      if (set->n == set->cap) {
        size_t c = set->cap ? set->cap * 2 : 16;
        char(*p)[40] = es__realloc(set->ids, c * sizeof *p);
        if (!p) {
          rc = ES_ENOMEM;
          break;
        }
        set->ids = p;
        set->cap = c;
      }
      strcpy(set->ids[set->n++], dl.id);
      continue;
    }
    if (kind == 1 || id_set_has(lp->resolved, dl.id))
      continue;
    dl.line_no = no;
    dl.line = line;
    if ((rc = lp->fn(&dl, lp->ctx)) != 0)
      break;
  }
  if (rc == 0 && more < 0)
    rc = more;
  es_buf_close(&buf);
  es__free(scratch);
  es__free(bin);
  return rc;
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
  rc = read_pass(f, &lp, bad_line);
  if (rc == 0) {
    if (resolved.n)
      qsort(resolved.ids, resolved.n, sizeof *resolved.ids, id_cmp);
    rewind(f);
    lp.collect = false;
    rc = read_pass(f, &lp, bad_line);
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
  char when[96];
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
  iso8601((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, when);
  put(&b, "{\"resolved\":");
  put_str(&b, id);
  put(&b, ",\"time\":\"");
  put(&b, when);
  put(&b, "\",\"outcome\":\"ok\"}\n");
  rc = b.err ? b.err : append_line(path, &b);
  es_buf_close(&b);
  return rc;
}
