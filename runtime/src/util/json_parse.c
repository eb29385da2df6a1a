/*
 * json_parse.c - see json_parse.h. Recursive descent over a bounded
 * cursor; every allocation comes from the caller's arena, so a failed
 * parse frees nothing by itself and leaks nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_error.h"
#include "util/json_parse.h"

#define MAX_DEPTH 64

typedef struct parser {
  const char *p, *start, *end;
  es_arena *arena;
  int depth;
  int err;
} parser;

static int fail(parser *ps, int err) {
  if (!ps->err)
    ps->err = err;
  return ps->err;
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return fail(ps, ES_EDECODE);
  ps->p += n;
  return 0;
}

static int hex4(parser *ps, unsigned *out) {
  unsigned v = 0;
  if (ps->end - ps->p < 4)
    return fail(ps, ES_EDECODE);
  for (int i = 0; i < 4; i++) {
    char c = *ps->p++;
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return fail(ps, ES_EDECODE);
  }
  *out = v;
  return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xc0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* A string at ps->p (the opening quote). Unescaped text is never longer
 * than its source, so one allocation of the source length suffices. */
static int string(parser *ps, const char **out, size_t *n) {
  const char *q = ps->p + 1;
  char *buf, *o;

  while (q < ps->end && *q != '"') /* find the end first */
    q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
  if (q >= ps->end)
    return fail(ps, ES_EDECODE);
  buf = es_arena_alloc(ps->arena, (size_t)(q - ps->p));
  if (!buf)
    return fail(ps, ES_ENOMEM);
  o = buf;
  ps->p++;
  while (*ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20)
      return fail(ps, ES_EDECODE);
    if (c != '\\') {
      *o++ = (char)c;
      ps->p++;
      continue;
    }
    ps->p++;
    switch (*ps->p++) {
    case '"':
      *o++ = '"';
      break;
    case '\\':
      *o++ = '\\';
      break;
    case '/':
      *o++ = '/';
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
      if (hex4(ps, &cp))
        return ps->err;
      if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
        if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
          return fail(ps, ES_EDECODE);
        ps->p += 2;
        if (hex4(ps, &lo))
          return ps->err;
        if (lo < 0xdc00 || lo >= 0xe000)
          return fail(ps, ES_EDECODE);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else if (cp >= 0xdc00 && cp < 0xe000) {
        return fail(ps, ES_EDECODE);
      }
      o += put_utf8(o, cp);
      break;
    }
    default:
      return fail(ps, ES_EDECODE);
    }
  }
  ps->p++;
  *o = '\0';
  *out = buf;
  *n = (size_t)(o - buf);
  return 0;
}

static int number(parser *ps, es__jv *v) {
  const char *s = ps->p;
  if (ps->p < ps->end && *ps->p == '-')
    ps->p++;
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
    return fail(ps, ES_EDECODE);
  if (*ps->p == '0')
    ps->p++;
  else
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
      ps->p++;
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
      return fail(ps, ES_EDECODE);
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
      ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
      ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
      return fail(ps, ES_EDECODE);
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
      ps->p++;
  }
  v->kind = ES__JV_NUM;
  v->n = (size_t)(ps->p - s);
  char *t = es_arena_alloc(ps->arena, v->n + 1);
  if (!t)
    return fail(ps, ES_ENOMEM);
  memcpy(t, s, v->n);
  t[v->n] = '\0';
  v->s = t;
  return 0;
}

static int value(parser *ps, es__jv *v);

/* Elements (and names) are collected in a growing arena array: doubling
 * wastes at most half, and documents here are small. */
static int grow(parser *ps, es__jv **items, const char ***keys, size_t *cap,
                size_t count) {
  size_t ncap = *cap ? *cap * 2 : 8;
  es__jv *ni;
  if (count < *cap)
    return 0;
  ni = es_arena_alloc_array(ps->arena, ncap, sizeof *ni);
  if (!ni)
    return fail(ps, ES_ENOMEM);
  if (count)
    memcpy(ni, *items, count * sizeof *ni);
  *items = ni;
  if (keys) {
    const char **nk = es_arena_alloc_array(ps->arena, ncap, sizeof *nk);
    if (!nk)
      return fail(ps, ES_ENOMEM);
    if (count)
      memcpy(nk, *keys, count * sizeof *nk);
    *keys = nk;
  }
  *cap = ncap;
  return 0;
}

static int container(parser *ps, es__jv *v, bool object) {
  char close = object ? '}' : ']';
  size_t cap = 0;
  if (++ps->depth > MAX_DEPTH)
    return fail(ps, ES_EDEPTH);
  v->kind = object ? ES__JV_OBJ : ES__JV_ARR;
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    ps->depth--;
    return 0;
  }
  for (;;) {
    if (grow(ps, &v->items, object ? &v->keys : NULL, &cap, v->count))
      return ps->err;
    skip_ws(ps);
    if (object) {
      size_t n;
      if (ps->p >= ps->end || *ps->p != '"')
        return fail(ps, ES_EDECODE);
      if (string(ps, &v->keys[v->count], &n))
        return ps->err;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':')
        return fail(ps, ES_EDECODE);
      ps->p++;
    }
    memset(&v->items[v->count], 0, sizeof v->items[0]);
    if (value(ps, &v->items[v->count]))
      return ps->err;
    v->count++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      ps->depth--;
      return 0;
    }
    return fail(ps, ES_EDECODE);
  }
}

static int value(parser *ps, es__jv *v) {
  skip_ws(ps);
  if (ps->p >= ps->end)
    return fail(ps, ES_EDECODE);
  switch (*ps->p) {
  case '{':
    return container(ps, v, true);
  case '[':
    return container(ps, v, false);
  case '"':
    v->kind = ES__JV_STR;
    return string(ps, &v->s, &v->n);
  case 't':
    v->kind = ES__JV_BOOL;
    v->b = true;
    return literal(ps, "true");
  case 'f':
    v->kind = ES__JV_BOOL;
    return literal(ps, "false");
  case 'n':
    v->kind = ES__JV_NULL;
    return literal(ps, "null");
  default:
    return number(ps, v);
  }
}

int es__json_parse(const char *text, size_t len, es_arena *arena, es__jv **out,
                   size_t *err_at) {
  parser ps = {text, text, text + len, arena, 0, 0};
  es__jv *v;

  *out = NULL;
  if (!text && len)
    return ES_EINVAL;
  v = es_arena_calloc(arena, 1, sizeof *v);
  if (!v)
    return ES_ENOMEM;
  if (value(&ps, v) == 0) {
    skip_ws(&ps);
    if (ps.p != ps.end)
      fail(&ps, ES_EDECODE);
  }
  if (ps.err) {
    if (err_at)
      *err_at = (size_t)(ps.p - ps.start);
    return ps.err;
  }
  *out = v;
  return 0;
}

const es__jv *es__jv_get(const es__jv *v, const char *name) {
  if (!v || v->kind != ES__JV_OBJ || !name)
    return NULL;
  for (size_t i = 0; i < v->count; i++)
    if (strcmp(v->keys[i], name) == 0)
      return &v->items[i];
  return NULL;
}

const char *es__jv_str(const es__jv *v, const char *name) {
  const es__jv *m = es__jv_get(v, name);
  return m && m->kind == ES__JV_STR ? m->s : NULL;
}

int es__jv_to_u64(const es__jv *v, uint64_t *out) {
  char *end;
  unsigned long long u;
  if (!v || v->kind != ES__JV_NUM || v->s[0] == '-' || strpbrk(v->s, ".eE"))
    return ES_EINVAL;
  errno = 0;
  u = strtoull(v->s, &end, 10);
  if (errno || *end)
    return ES_ERANGE;
  *out = (uint64_t)u;
  return 0;
}

int es__jv_to_i64(const es__jv *v, int64_t *out) {
  char *end;
  long long i;
  if (!v || v->kind != ES__JV_NUM || strpbrk(v->s, ".eE"))
    return ES_EINVAL;
  errno = 0;
  i = strtoll(v->s, &end, 10);
  if (errno || *end)
    return ES_ERANGE;
  *out = (int64_t)i;
  return 0;
}

int es__jv_u64(const es__jv *v, const char *name, uint64_t *out) {
  return es__jv_to_u64(es__jv_get(v, name), out) ? ES_EINVAL : 0;
}
