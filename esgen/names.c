/*
 * names.c - the spelling of every generated C identifier (see names.h).
 */
#include "names.h"

#include <stdio.h>
#include <string.h>

#include "keywords.h"

static const char *const patterns[ESC_NAME_COUNT] = {
#define ESC_NAME_PATTERN(id, pattern) pattern,
    ESC_NAMES(ESC_NAME_PATTERN)
#undef ESC_NAME_PATTERN
};

const char *esc_name_pattern(esc_name_id id) { return patterns[id]; }

const char *esc_name(esc_namebuf *nb, esc_name_id id, const char *a,
                     const char *b, const char *c) {
  /* Each %s of the pattern takes the next argument. Names are made for
   * every declaration of a schema, so this copies rather than parsing a
   * format with snprintf. */
  const char *args[3] = {a, b, c};
  size_t o = 0, next = 0;
  for (const char *p = patterns[id]; *p; p++) {
    const char *piece = p;
    size_t n = 1;
    if (p[0] == '%' && p[1] == 's') {
      piece = next < 3 && args[next] ? args[next] : "";
      n = strlen(piece);
      next++;
      p++;
    }
    if (o + n >= sizeof nb->s)
      return NULL;
    memcpy(nb->s + o, piece, n);
    o += n;
  }
  nb->s[o] = '\0';
  return nb->s;
}

static bool is_upper(char ch) { return ch >= 'A' && ch <= 'Z'; }
static bool is_lower_or_digit(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* An '_' goes before an upper-case letter that follows a lower-case
 * letter or digit, or that follows another upper-case letter and is
 * followed by a lower-case one (the end of an acronym: "HTTPServer"). */
size_t esc_snake(const char *z, size_t n, bool upper, char *out, size_t cap) {
  size_t o = 0;
  if (cap == 0)
    return 0;
  for (size_t k = 0; k < n && o + 2 < cap; k++) {
    char ch = z[k];
    if (is_upper(ch) && k > 0 && o > 0 && out[o - 1] != '_') {
      char prev = z[k - 1];
      bool next_lower = k + 1 < n && z[k + 1] >= 'a' && z[k + 1] <= 'z';
      if (is_lower_or_digit(prev) || (is_upper(prev) && next_lower))
        out[o++] = '_';
    }
    if (upper)
      out[o++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    else
      out[o++] = is_upper(ch) ? (char)(ch + 32) : ch;
  }
  out[o] = '\0';
  return o;
}

/* A copy of `z` in the arena; NULL when out of memory. */
static char *keep(esc_schema *s, const char *z) {
  return z ? es_arena_strndup(&s->arena, z, strlen(z)) : NULL;
}

static char *snake_of(esc_schema *s, esc_tok t, bool upper) {
  char buf[512];
  size_t n = esc_snake(t.z, t.n, upper, buf, sizeof buf);
  return es_arena_strndup(&s->arena, buf, n);
}

static char *upper_of(esc_schema *s, const char *lower) {
  char buf[ESC_NAME_MAX];
  size_t n = esc_snake(lower, strlen(lower), true, buf, sizeof buf);
  return es_arena_strndup(&s->arena, buf, n);
}

bool esc_names_prefix(esc_schema *s) {
  s->c_prefix = snake_of(s, s->name, false);
  s->c_upper = s->c_prefix ? upper_of(s, s->c_prefix) : NULL;
  return s->c_upper != NULL;
}

bool esc_names_decl(esc_schema *s, esc_decl *d) {
  esc_namebuf nb;
  const char *owner = d->parent ? d->parent->c_name : s->c_prefix;
  d->snake = snake_of(s, d->name, false);
  if (!d->snake || !owner)
    return false;
  /* An older version of an event keeps its version in its name. */
  if (d->kind == ESC_DECL_EVENT && !d->current) {
    char v[ESC_NAME_MAX];
    snprintf(v, sizeof v, "%s_v%u", d->snake, d->version);
    if (!(d->snake = keep(s, v)))
      return false;
  }
  d->c_name = keep(s, esc_name(&nb, ESC_N_DECL, owner, d->snake, NULL));
  d->c_upper = d->c_name ? upper_of(s, d->c_name) : NULL;
  return d->c_upper != NULL;
}

const char *esc_name_const(esc_namebuf *nb, const char *owner_upper,
                           esc_tok value) {
  char up[512];
  esc_snake(value.z, value.n, true, up, sizeof up);
  return esc_name(nb, ESC_N_CONST, owner_upper, up, NULL);
}

const char *esc_name_type_id(esc_namebuf *nb, const char *c_name) {
  char up[ESC_NAME_MAX];
  esc_snake(c_name, strlen(c_name), true, up, sizeof up);
  return esc_name(nb, ESC_N_TYPE_ID, up, NULL, NULL);
}

const char *esc_name_list_type(esc_namebuf *nb, const char *prefix,
                               const esc_type *t) {
  esc_namebuf inner;
  const esc_type *e = t->elem;
  unsigned depth = 1;
  const char *name;
  while (e->kind == ESC_T_LIST) {
    e = e->elem;
    depth++;
  }
  if (e->kind == ESC_T_ENUM || e->kind == ESC_T_RECORD)
    name = esc_name(nb, ESC_N_LIST, e->decl->c_name, NULL, NULL);
  else if (depth == 1)
    return esc_name(nb, ESC_N_RT_LIST, esc_kind_name(e->kind), NULL, NULL);
  else if (!esc_name(&inner, ESC_N_DECL, prefix, esc_kind_name(e->kind), NULL))
    return NULL;
  else
    name = esc_name(nb, ESC_N_LIST, inner.s, NULL, NULL);
  for (; name && depth > 1; depth--) {
    inner = *nb;
    name = esc_name(nb, ESC_N_LIST, inner.s, NULL, NULL);
  }
  return name;
}
