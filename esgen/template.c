/*
 * template.c - @NAME@ substitution (see template.h).
 */
#include "template.h"

#include "ast.h"
#include "format.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <es/es.h>

static const char *const id_names[ESC_NAME_COUNT] = {
#define ESC_NAME_ID(id, pattern) #id,
    ESC_NAMES(ESC_NAME_ID)
#undef ESC_NAME_ID
};

/* ES_ABI_VERSION as text. */
#define ESC_STR2(x) #x
#define ESC_STR(x) ESC_STR2(x)

void esc_tv_output(esc_tvars *tv, const esc_schema *s, const char *base) {
  esc_tv_str(tv, "BASE", base);
  esc_tv_str(tv, "PREFIX", s->c_prefix);
  esc_tv_str(tv, "VERSION", ES_VERSION_STRING);
  esc_tv_str(tv, "ABI", ESC_STR(ES_ABI_VERSION));
}

void esc_tv_init(esc_tvars *tv) {
  tv->n = 0;
  tv->used = 0;
  tv->overflow = false;
}

static void set(esc_tvars *tv, const char *name, const char *value,
                size_t len) {
  if (tv->n == ESC_TVARS_MAX || !value) {
    tv->overflow = true;
    return;
  }
  tv->v[tv->n++] = (esc_var){name, strlen(name), value, len};
}

void esc_tv_str(esc_tvars *tv, const char *name, const char *value) {
  set(tv, name, value, value ? strlen(value) : 0);
}

/* Copies `len` bytes of `z` into the pool; NULL when full. */
static const char *keep(esc_tvars *tv, const char *z, size_t len) {
  char *p;
  if (!z || tv->used + len + 1 > sizeof tv->pool)
    return NULL;
  p = tv->pool + tv->used;
  memcpy(p, z, len);
  p[len] = '\0';
  tv->used += len + 1;
  return p;
}

void esc_tv_name(esc_tvars *tv, esc_name_id id, const char *a, const char *b,
                 const char *c) {
  esc_namebuf nb;
  const char *name = esc_name(&nb, id, a, b, c);
  size_t len = name ? strlen(name) : 0;
  set(tv, id_names[id], keep(tv, name, len), len);
}

void esc_tv_name_or_null(esc_tvars *tv, bool present, esc_name_id id,
                         const char *owner) {
  if (present)
    esc_tv_name(tv, id, owner, NULL, NULL);
  else
    esc_tv_str(tv, id_names[id], "NULL");
}

void esc_tv_fmt(esc_tvars *tv, const char *name, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = esc_vformat(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf) {
    tv->overflow = true;
    return;
  }
  set(tv, name, keep(tv, buf, (size_t)n), (size_t)n);
}

/* The value of placeholder `z[0 .. n)`, or NULL. The last value set for a
 * name wins, so a generator may override one it set before. */
static const esc_var *find(const esc_tvars *tv, const char *z, size_t n) {
  if (!tv)
    return NULL;
  for (size_t i = tv->n; i-- > 0;)
    if (tv->v[i].name_len == n && memcmp(tv->v[i].name, z, n) == 0)
      return &tv->v[i];
  return NULL;
}

/* Finds the next placeholder in `t`: `*at` is its opening '@', the
 * returned pointer its closing one; NULL when no whole placeholder is
 * left. */
static const char *next_placeholder(const char *t, const char **at) {
  *at = strchr(t, '@');
  return *at ? strchr(*at + 1, '@') : NULL;
}

/* What esc_tpl() does from `t` on, one '@' at a time: the general case,
 * for the rest of a template once a placeholder has no value (its closing
 * '@' may then open the next placeholder). */
static void expand_rest(es_buf *b, const char *t, const esc_tvars *tv) {
  for (;;) {
    const char *at;
    const char *end = next_placeholder(t, &at);
    if (!end) {
      es_buf_append(b, t, strlen(t));
      return;
    }
    es_buf_append(b, t, (size_t)(at - t));
    const esc_var *v = find(tv, at + 1, (size_t)(end - at - 1));
    if (v) {
      es_buf_append(b, v->value, v->len);
      t = end + 1;
    } else {
      es_buf_append(b, at, 1);
      t = at + 1;
    }
  }
}

/* A template split once into the text before each placeholder and the
 * placeholder's name, as esc_tpl() reads it when every placeholder has a
 * value; `tail` is the text after the last one. Millions of expansions
 * then copy runs of known length instead of scanning the text. */
typedef struct tpl_piece {
  uint32_t text_len; /* the text before the placeholder's '@' */
  uint32_t name_len;
} tpl_piece;

typedef struct tpl_split {
  tpl_piece *pieces;
  size_t n;
  size_t tail_len;
} tpl_split;

static tpl_split splits[ESC_TPL_COUNT];
static bool split_done[ESC_TPL_COUNT];

/* Splits template `which`; false when out of memory (esc_tpl() then
 * expands it the general way). */
static bool split_template(int which) {
  const char *t = esc_templates[which];
  tpl_split *sp = &splits[which];
  size_t n = 0;
  const char *at, *end;
  for (const char *p = t; (end = next_placeholder(p, &at)) != NULL; p = end + 1)
    n++;
  sp->pieces = n ? malloc(n * sizeof *sp->pieces) : NULL;
  if (n && !sp->pieces)
    return false;
  sp->n = n;
  for (size_t k = 0; k < n; k++) {
    end = next_placeholder(t, &at);
    if ((size_t)(end - t) > UINT32_MAX) {
      free(sp->pieces);
      sp->pieces = NULL;
      return false;
    }
    sp->pieces[k] = (tpl_piece){(uint32_t)(at - t), (uint32_t)(end - at - 1)};
    t = end + 1;
  }
  sp->tail_len = strlen(t);
  split_done[which] = true;
  return true;
}

void esc_tpl(es_buf *b, int which, const esc_tvars *tv) {
  const char *t = esc_templates[which];
  if (tv && tv->overflow) {
    es_buf_fail(b, ES_ENOMEM);
    return;
  }
  if (!split_done[which] && !split_template(which)) {
    expand_rest(b, t, tv);
    return;
  }
  const tpl_split *sp = &splits[which];
  for (size_t k = 0; k < sp->n; k++) {
    const tpl_piece *pc = &sp->pieces[k];
    const char *at = t + pc->text_len;
    es_buf_append(b, t, pc->text_len);
    const esc_var *v = find(tv, at + 1, pc->name_len);
    if (!v) {
      es_buf_append(b, at, 1);
      expand_rest(b, at + 1, tv);
      return;
    }
    es_buf_append(b, v->value, v->len);
    t = at + pc->name_len + 2;
  }
  es_buf_append(b, t, sp->tail_len);
}
