/*
 * check.c - the semantic pass: every rule of the schema language that the
 * grammar cannot express, and the resolution of every reference.
 *
 * The checker keeps going after an error so that one run reports as much
 * as it can; each rule reports at the token that breaks it, with a note
 * pointing at the earlier declaration where one is involved.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "frontend.h"

typedef struct checker {
  esc_schema *s;
  esc_diag *d;
  bool oom;
  /* generated C identifiers, to catch two schema names that map to one */
  struct cname {
    const char *name;
    esc_tok at;
  } *cnames;
  size_t n_cnames, cap_cnames;
} checker;

#define TOKF(t) (int)(t).n, (t).z

/* ---- names ------------------------------------------------------------ */

static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if",
    "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while", "bool", "true", "false", "NULL",
    "alignas", "alignof", "noreturn", "static_assert", "thread_local",
    "complex", "imaginary", "asm", "class", "new", "delete", "this",
    "template", "typename", "namespace", "using", "private", "public",
    "protected", "virtual", "friend", "operator", "explicit", "mutable",
    "try", "catch", "throw", "nullptr", "export", "and", "or", "not", "xor",
    "concept", "requires", "decltype", "constexpr", "wchar_t", "char16_t",
    "char32_t", "errno", "assert", "main"};

/* Refuses names that would break or confuse the generated C. */
static void check_name(checker *c, esc_tok name, const char *what) {
  for (size_t i = 0; i < sizeof c_keywords / sizeof c_keywords[0]; i++) {
    if (esc_tok_is(name, c_keywords[i])) {
      esc_error(c->d, name,
                "'%.*s' is a C or C++ keyword and cannot be %s name",
                TOKF(name), what);
      return;
    }
  }
  if (esc_builtin_kind(name) >= 0) {
    esc_error(c->d, name, "'%.*s' is a built-in type and cannot be %s name",
              TOKF(name), what);
    return;
  }
  if (name.n >= 1 && name.z[0] == '_') {
    esc_error(c->d, name,
              "'%.*s' starts with '_', which C reserves; pick another name",
              TOKF(name));
    return;
  }
  if (name.n >= 3 && (memcmp(name.z, "es_", 3) == 0 ||
                      memcmp(name.z, "ES_", 3) == 0)) {
    esc_error(c->d, name, "'%.*s' starts with 'es_', which libes reserves",
              TOKF(name));
  }
}

static char *str_fmt(checker *c, const char *fmt, ...) ESC_PRINTF(2, 3);
static char *str_fmt(checker *c, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf) {
    c->oom = true;
    return NULL;
  }
  char *s = es_arena_strndup(&c->s->arena, buf, (size_t)n);
  if (!s)
    c->oom = true;
  return s;
}

/* CamelCase -> camel_case ("HTTPServer" -> "http_server"). */
static char *snake(checker *c, esc_tok t, bool upper) {
  char buf[512];
  size_t n = 0;
  for (uint32_t i = 0; i < t.n && n + 2 < sizeof buf; i++) {
    char ch = t.z[i];
    bool is_up = ch >= 'A' && ch <= 'Z';
    if (is_up && i > 0 && n > 0 && buf[n - 1] != '_') {
      char prev = t.z[i - 1];
      bool prev_lower = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
      bool next_lower = i + 1 < t.n && t.z[i + 1] >= 'a' && t.z[i + 1] <= 'z';
      bool prev_upper = prev >= 'A' && prev <= 'Z';
      if (prev_lower || (prev_upper && next_lower))
        buf[n++] = '_';
    }
    if (upper)
      buf[n++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    else
      buf[n++] = is_up ? (char)(ch + 32) : ch;
  }
  char *s = es_arena_strndup(&c->s->arena, buf, n);
  if (!s)
    c->oom = true;
  return s;
}

static char *upper_of(checker *c, const char *lower) {
  size_t n = strlen(lower);
  char *s = es_arena_strndup(&c->s->arena, lower, n);
  if (!s) {
    c->oom = true;
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (s[i] >= 'a' && s[i] <= 'z')
      s[i] = (char)(s[i] - 32);
  return s;
}

/* Registers a generated C identifier; two schema names mapping to one
 * identifier would make the output fail to compile, so say so here. */
static void claim(checker *c, const char *name, esc_tok at) {
  if (!name)
    return;
  for (size_t i = 0; i < c->n_cnames; i++) {
    if (strcmp(c->cnames[i].name, name) == 0) {
      esc_error(c->d, at,
                "'%.*s' would generate the C name '%s', which '%.*s' "
                "already generates",
                TOKF(at), name, TOKF(c->cnames[i].at));
      esc_note(c->d, c->cnames[i].at, "'%.*s' is declared here",
               TOKF(c->cnames[i].at));
      return;
    }
  }
  if (c->n_cnames == c->cap_cnames) {
    size_t cap = c->cap_cnames ? c->cap_cnames * 2 : 64;
    void *p = realloc(c->cnames, cap * sizeof *c->cnames);
    if (!p) {
      c->oom = true;
      return;
    }
    c->cnames = p;
    c->cap_cnames = cap;
  }
  c->cnames[c->n_cnames].name = name;
  c->cnames[c->n_cnames].at = at;
  c->n_cnames++;
}

static bool same(esc_tok a, esc_tok b) {
  return a.n == b.n && memcmp(a.z, b.z, a.n) == 0;
}

static void duplicate(checker *c, esc_tok again, esc_tok first,
                      const char *what) {
  esc_error(c->d, again, "%s '%.*s' is already declared", what, TOKF(again));
  esc_note(c->d, first, "previous declaration of '%.*s' is here",
           TOKF(first));
}

/* ---- lookups ---------------------------------------------------------- */

static esc_decl *find_top(checker *c, esc_tok name) {
  for (esc_decl *d = c->s->decls; d; d = d->next)
    if (d->kind != ESC_DECL_SCHEMA && same(d->name, name))
      return d;
  return NULL;
}

static esc_decl *find_current_event(esc_decl *agg, esc_tok name) {
  for (esc_decl *e = agg->events; e; e = e->next)
    if (e->current && same(e->name, name))
      return e;
  return NULL;
}

static esc_decl *find_command(esc_decl *agg, esc_tok name) {
  for (esc_decl *m = agg->commands; m; m = m->next)
    if (same(m->name, name))
      return m;
  return NULL;
}

static const char *kind_word(int kind) {
  switch (kind) {
  case ESC_DECL_ENUM:
    return "an enum";
  case ESC_DECL_RECORD:
    return "a record";
  case ESC_DECL_AGGREGATE:
    return "an aggregate";
  case ESC_DECL_PROJECTION:
    return "a projection";
  case ESC_DECL_SAGA:
    return "a saga";
  default:
    return "a declaration";
  }
}

/* ---- types and defaults ----------------------------------------------- */

static const char *builtin_name(int kind) {
  static const char *const names[] = {
      "bool", "i8",  "i16", "i32",    "i64",   "u8",        "u16", "u32",
      "u64",  "f32", "f64", "string", "bytes", "timestamp", "uuid"};
  return kind >= 0 && kind <= ESC_T_UUID ? names[kind] : "?";
}

static void resolve_type(checker *c, esc_type *t, bool in_list) {
  if (t->kind == ESC_T_LIST) {
    if (in_list) {
      esc_error(c->d, t->name,
                "lists of lists are not supported; wrap the inner list in a "
                "record");
      return;
    }
    if (t->elem->optional)
      esc_error(c->d, t->elem->name, "list elements cannot be optional");
    resolve_type(c, t->elem, true);
  } else if (t->kind == ESC_T_NAMED) {
    esc_decl *d = find_top(c, t->name);
    if (!d) {
      esc_error(c->d, t->name, "unknown type '%.*s'", TOKF(t->name));
    } else if (d->kind == ESC_DECL_ENUM) {
      t->kind = ESC_T_ENUM;
      t->decl = d;
    } else if (d->kind == ESC_DECL_RECORD) {
      t->kind = ESC_T_RECORD;
      t->decl = d;
    } else {
      esc_error(c->d, t->name, "'%.*s' is %s, not a type", TOKF(t->name),
                kind_word(d->kind));
    }
  }
  if (t->has_max) {
    if (t->kind != ESC_T_STRING && t->kind != ESC_T_BYTES &&
        t->kind != ESC_T_LIST)
      esc_error(c->d, t->max_tok,
                "'max' applies only to string, bytes and list types");
    else if (t->max == 0)
      esc_error(c->d, t->max_tok, "bound must be at least 1");
  }
}

static bool is_signed(int k) { return k >= ESC_T_I8 && k <= ESC_T_I64; }
static bool is_unsigned(int k) { return k >= ESC_T_U8 && k <= ESC_T_U64; }

/* Decodes the escapes of a string literal into l->s. */
static void decode_string(checker *c, esc_literal *l) {
  esc_tok t = l->tok;
  const char *p = t.z + 1, *end = t.z + t.n - 1;
  char *out = es_arena_alloc(&c->s->arena, t.n + 1);
  size_t n = 0;
  if (!out) {
    c->oom = true;
    return;
  }
  while (p < end) {
    unsigned char ch = (unsigned char)*p;
    esc_tok at = t;
    at.col = t.col + (uint32_t)(p - t.z);
    at.z = p;
    at.n = 2;
    if (ch == '\\') {
      char e = p[1];
      if (e == '\\' || e == '"') {
        out[n++] = e;
        p += 2;
      } else if (e == 'n') {
        out[n++] = '\n';
        p += 2;
      } else if (e == 't') {
        out[n++] = '\t';
        p += 2;
      } else if (e == 'u' && p + 2 < end && p[2] == '{') {
        const char *q = p + 3;
        uint32_t cp = 0;
        int digits = 0;
        while (q < end && *q != '}' && digits <= 6) {
          char h = *q;
          unsigned v = (h >= '0' && h <= '9')   ? (unsigned)(h - '0')
                       : (h >= 'a' && h <= 'f') ? (unsigned)(h - 'a' + 10)
                       : (h >= 'A' && h <= 'F') ? (unsigned)(h - 'A' + 10)
                                                : 16u;
          if (v == 16)
            break;
          cp = cp * 16 + v;
          digits++;
          q++;
        }
        at.n = (uint32_t)(q - p + (q < end && *q == '}' ? 1 : 0));
        if (q >= end || *q != '}' || digits == 0 || digits > 6) {
          esc_error(c->d, at, "malformed escape: '\\u' takes 1 to 6 hex "
                              "digits in braces, as in '\\u{20ac}'");
          return;
        }
        if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          esc_error(c->d, at, "'\\u{%.*s}' is not a valid character here",
                    (int)(q - p - 3), p + 3);
          return;
        }
        if (cp < 0x80) {
          out[n++] = (char)cp;
        } else if (cp < 0x800) {
          out[n++] = (char)(0xc0 | cp >> 6);
          out[n++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          out[n++] = (char)(0xe0 | cp >> 12);
          out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
          out[n++] = (char)(0x80 | (cp & 0x3f));
        } else {
          out[n++] = (char)(0xf0 | cp >> 18);
          out[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
          out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
          out[n++] = (char)(0x80 | (cp & 0x3f));
        }
        p = q + 1;
      } else {
        esc_error(c->d, at,
                  "unknown escape '\\%c' (use \\\\ \\\" \\n \\t or \\u{...})",
                  e);
        return;
      }
      continue;
    }
    /* Raw bytes must be UTF-8. */
    int len = ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3
                          : (ch >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && p + len <= end;
    for (int i = 1; ok && i < len; i++)
      ok = ((unsigned char)p[i] & 0xc0) == 0x80;
    if (ok && len == 2 && ch < 0xc2)
      ok = false;
    if (!ok) {
      at.n = 1;
      esc_error(c->d, at, "string is not valid UTF-8");
      return;
    }
    memcpy(out + n, p, (size_t)len);
    n += (size_t)len;
    p += len;
  }
  out[n] = '\0';
  l->s = out;
  l->s_len = n;
}

static bool uuid_text(const char *s, size_t n) {
  if (n != 36)
    return false;
  for (size_t i = 0; i < 36; i++) {
    char ch = s[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? ch != '-'
             : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                 (ch >= 'A' && ch <= 'F')))
      return false;
  }
  return true;
}

static void check_default(checker *c, esc_field *f) {
  esc_literal *l = f->def;
  esc_type *t = f->type;
  int k = t->kind;
  if (t->optional) {
    esc_error(c->d, l->at,
              "optional field '%.*s' cannot have a default: absent is its "
              "default",
              TOKF(f->name));
    return;
  }
  if (k == ESC_T_LIST || k == ESC_T_RECORD || k == ESC_T_BYTES) {
    esc_error(c->d, l->at, "a %s field cannot have a default",
              k == ESC_T_LIST ? "list" : k == ESC_T_RECORD ? "record" : "bytes");
    return;
  }
  if (is_signed(k) || is_unsigned(k) || k == ESC_T_TIMESTAMP) {
    static const uint64_t umax[] = {0,          0,          0,
                                    0,          0,          UINT8_MAX,
                                    UINT16_MAX, UINT32_MAX, UINT64_MAX};
    static const uint64_t smax[] = {0, INT8_MAX, INT16_MAX, INT32_MAX,
                                    INT64_MAX};
    uint64_t lim;
    if (l->kind != ESC_LIT_INT) {
      esc_error(c->d, l->at, "default of '%.*s' must be an integer",
                TOKF(f->name));
      return;
    }
    if (!esc_tok_u64(l->tok, &l->u)) {
      esc_error(c->d, l->at, "integer '%.*s' is too large", TOKF(l->at));
      return;
    }
    if (is_unsigned(k)) {
      if (l->negative && l->u != 0) {
        esc_error(c->d, l->at, "'%.*s' is negative, but '%.*s' is %s",
                  TOKF(l->at), TOKF(f->name), builtin_name(k));
        return;
      }
      lim = umax[k];
    } else {
      lim = smax[k == ESC_T_TIMESTAMP ? ESC_T_I64 : k];
      if (l->negative)
        lim += 1; /* two's complement: one more below zero */
    }
    if (l->u > lim)
      esc_error(c->d, l->at, "'%.*s' is out of range for %s", TOKF(l->at),
                k == ESC_T_TIMESTAMP ? "timestamp" : builtin_name(k));
  } else if (k == ESC_T_F32 || k == ESC_T_F64) {
    char buf[64];
    if (l->kind != ESC_LIT_INT && l->kind != ESC_LIT_FLOAT) {
      esc_error(c->d, l->at, "default of '%.*s' must be a number",
                TOKF(f->name));
      return;
    }
    if (l->tok.n >= sizeof buf) {
      esc_error(c->d, l->at, "number '%.*s' is too long", TOKF(l->at));
      return;
    }
    memcpy(buf, l->tok.z, l->tok.n);
    buf[l->tok.n] = '\0';
    l->f = strtod(buf, NULL);
    if (l->negative)
      l->f = -l->f;
    if (!isfinite(l->f) || (k == ESC_T_F32 && fabs(l->f) > 3.4028234663852886e38))
      esc_error(c->d, l->at, "'%.*s' is out of range for %s", TOKF(l->at),
                builtin_name(k));
  } else if (k == ESC_T_BOOL) {
    if (l->kind != ESC_LIT_BOOL)
      esc_error(c->d, l->at, "default of '%.*s' must be true or false",
                TOKF(f->name));
    else
      l->u = esc_tok_is(l->tok, "true");
  } else if (k == ESC_T_STRING || k == ESC_T_UUID) {
    if (l->kind != ESC_LIT_STRING) {
      esc_error(c->d, l->at, "default of '%.*s' must be a string",
                TOKF(f->name));
      return;
    }
    decode_string(c, l);
    if (!l->s)
      return;
    if (k == ESC_T_UUID && !uuid_text(l->s, l->s_len))
      esc_error(c->d, l->at,
                "default of '%.*s' must be a uuid like "
                "\"123e4567-e89b-12d3-a456-426614174000\"",
                TOKF(f->name));
    if (k == ESC_T_STRING && t->has_max && l->s_len > t->max)
      esc_error(c->d, l->at, "default is %zu bytes, more than 'max %llu'",
                l->s_len, (unsigned long long)t->max);
  } else if (k == ESC_T_ENUM) {
    esc_decl *e = t->decl;
    uint32_t i = 0;
    if (l->kind != ESC_LIT_NAME) {
      esc_error(c->d, l->at, "default of '%.*s' must be a value of '%.*s'",
                TOKF(f->name), TOKF(e->name));
      return;
    }
    for (esc_name_list *v = e->values; v; v = v->next, i++) {
      if (same(v->name, l->tok)) {
        l->u = i;
        return;
      }
    }
    esc_error(c->d, l->at, "'%.*s' is not a value of enum '%.*s'",
              TOKF(l->tok), TOKF(e->name));
  }
}

/* Fields of one struct: unique names, resolved types, valid defaults. */
static void check_fields(checker *c, esc_field *fields, bool defaults_ok,
                         const char *owner_what) {
  for (esc_field *f = fields; f; f = f->next) {
    check_name(c, f->name, "a field");
    for (esc_field *g = fields; g != f; g = g->next)
      if (same(f->name, g->name))
        duplicate(c, f->name, g->name, "field");
    resolve_type(c, f->type, false);
    if (f->def) {
      if (!defaults_ok)
        esc_error(c->d, f->def->at,
                  "defaults are allowed only on event and state fields, not "
                  "on %s",
                  owner_what);
      else if (f->type->kind != ESC_T_NAMED)
        check_default(c, f);
    }
    if (f->type->optional) {
      /* `x?` generates a `has_x` member beside `x`. */
      for (esc_field *g = fields; g; g = g->next)
        if (g->name.n == f->name.n + 4 && memcmp(g->name.z, "has_", 4) == 0 &&
            memcmp(g->name.z + 4, f->name.z, f->name.n) == 0)
          esc_error(c->d, g->name,
                    "field '%.*s' clashes with the presence flag of optional "
                    "field '%.*s'",
                    TOKF(g->name), TOKF(f->name));
    }
  }
}

/* ---- records: containment cycles --------------------------------------- */

/* Whether `r` contains `target` by value (not behind list<> or ?). */
static bool contains(esc_decl *r, esc_decl *target, int depth,
                     esc_field **via) {
  if (depth > 1000)
    return false;
  for (esc_field *f = r->fields; f; f = f->next) {
    esc_type *t = f->type;
    if (t->kind != ESC_T_RECORD || t->optional || !t->decl)
      continue;
    if (t->decl == target || contains(t->decl, target, depth + 1, via)) {
      if (depth == 0)
        *via = f;
      return true;
    }
  }
  return false;
}

/* ---- declarations ------------------------------------------------------ */

static void check_enum(checker *c, esc_decl *d) {
  uint32_t n = 0;
  if (!d->values)
    esc_error(c->d, d->name, "enum '%.*s' has no values", TOKF(d->name));
  for (esc_name_list *v = d->values; v; v = v->next, n++) {
    check_name(c, v->name, "an enum value");
    for (esc_name_list *w = d->values; w != v; w = w->next)
      if (same(v->name, w->name))
        duplicate(c, v->name, w->name, "enum value");
    claim(c, str_fmt(c, "%s_%s", d->c_upper, snake(c, v->name, true)),
          v->name);
  }
  d->n_values = n;
}

static int key_kind(checker *c, esc_decl *d) {
  esc_tok t = d->key.type;
  if (t.n == 0)
    return ESC_T_STRING;
  int k = esc_builtin_kind(t);
  if (k != ESC_T_STRING && k != ESC_T_U64 && k != ESC_T_UUID) {
    esc_error(c->d, t, "key type must be string, u64 or uuid, not '%.*s'",
              TOKF(t));
    return ESC_T_STRING;
  }
  return k;
}

static void check_versions(checker *c, esc_decl *agg) {
  for (esc_decl *e = agg->events; e; e = e->next) {
    if (e->version_tok.n) {
      uint64_t v = 0;
      esc_tok num = e->version_tok;
      num.z++;
      num.n--;
      if (e->version_tok.z[0] != 'v' || num.n == 0 || num.z[0] == 'x' ||
          !esc_tok_u64(num, &v) || v == 0 || v > 65535) {
        esc_error(c->d, e->version_tok,
                  "expected a version like 'v2' after the event name, not "
                  "'%.*s'",
                  TOKF(e->version_tok));
        v = 1;
      }
      e->version = (uint32_t)v;
    }
  }
  /* Same name: distinct versions, the highest current, no gaps. */
  for (esc_decl *e = agg->events; e; e = e->next) {
    bool first = true, highest = true;
    uint32_t count = 0;
    for (esc_decl *g = agg->events; g; g = g->next) {
      if (!same(g->name, e->name))
        continue;
      count++;
      if (g == e)
        continue;
      if (g->version > e->version)
        highest = false;
      if (g->version == e->version) {
        /* Report at the later declaration only. */
        if (g->kw.z < e->kw.z) {
          first = false;
          if (e->version_tok.n || g->version_tok.n)
            esc_error(c->d, e->version_tok.n ? e->version_tok : e->name,
                      "event '%.*s' v%u is already declared", TOKF(e->name),
                      e->version);
          else
            duplicate(c, e->name, g->name, "event");
          esc_note(c->d, g->name, "previous declaration is here");
        }
      }
    }
    e->current = highest && first;
    if (e->current && count > 1) {
      for (uint32_t v = 1; v < e->version; v++) {
        bool found = false;
        for (esc_decl *g = agg->events; g; g = g->next)
          if (same(g->name, e->name) && g->version == v)
            found = true;
        if (!found)
          esc_error(c->d, e->version_tok.n ? e->version_tok : e->name,
                    "event '%.*s' has v%u but no v%u: every version from "
                    "v1 up must be declared",
                    TOKF(e->name), e->version, v);
      }
    }
  }
  /* Chain each version to the next one up. */
  for (esc_decl *e = agg->events; e; e = e->next)
    for (esc_decl *g = agg->events; g; g = g->next)
      if (same(g->name, e->name) && g->version == e->version + 1) {
        e->newer = g;
        g->older = e;
      }
}

static void check_aggregate(checker *c, esc_decl *a) {
  uint32_t i;
  a->key.kind = key_kind(c, a);
  check_fields(c, a->fields, true, "aggregate state");
  claim(c, str_fmt(c, "%s_state", a->c_name), a->name);

  i = 0;
  for (esc_name_list *e = a->errors; e; e = e->next, i++) {
    check_name(c, e->name, "an error");
    for (esc_name_list *f = a->errors; f != e; f = f->next)
      if (same(e->name, f->name))
        duplicate(c, e->name, f->name, "error");
    claim(c, str_fmt(c, "%s_%s", a->c_upper, snake(c, e->name, true)),
          e->name);
  }
  a->n_errors = i;

  check_versions(c, a);
  i = 0;
  uint32_t n_events = 0, n_current = 0;
  for (esc_decl *e = a->events; e; e = e->next) {
    check_name(c, e->name, "an event");
    check_fields(c, e->fields, true, "events");
    e->snake = e->current ? snake(c, e->name, false)
                          : str_fmt(c, "%s_v%u", snake(c, e->name, false),
                                    e->version);
    e->c_name = str_fmt(c, "%s_%s", a->c_name, e->snake ? e->snake : "");
    e->c_upper = e->c_name ? upper_of(c, e->c_name) : NULL;
    claim(c, e->c_name, e->name);
    if (e->current) {
      e->index = n_current++;
      claim(c, str_fmt(c, "%s_apply_%s", a->c_name, e->snake), e->name);
    }
    n_events++;
  }
  a->n_events = n_events;
  a->n_current_events = n_current;

  for (esc_decl *m = a->commands; m; m = m->next, i++) {
    m->index = i;
    check_name(c, m->name, "a command");
    for (esc_decl *n = a->commands; n != m; n = n->next)
      if (same(m->name, n->name))
        duplicate(c, m->name, n->name, "command");
    for (esc_decl *e = a->events; e; e = e->next)
      if (same(m->name, e->name)) {
        esc_error(c->d, m->name,
                  "command '%.*s' has the name of an event of '%.*s'",
                  TOKF(m->name), TOKF(a->name));
        esc_note(c->d, e->name, "event '%.*s' is declared here",
                 TOKF(e->name));
        break;
      }
    check_fields(c, m->fields, false, "commands");
    m->snake = snake(c, m->name, false);
    m->c_name = str_fmt(c, "%s_%s", a->c_name, m->snake ? m->snake : "");
    m->c_upper = m->c_name ? upper_of(c, m->c_name) : NULL;
    claim(c, m->c_name, m->name);
    claim(c, str_fmt(c, "%s_decide_%s", a->c_name, m->snake), m->name);
    if (!m->emits)
      esc_error(c->d, m->name, "command '%.*s' emits no event; add 'emits E;'",
                TOKF(m->name));
    for (esc_name_list *r = m->emits; r; r = r->next) {
      esc_decl *e = find_current_event(a, r->name);
      if (!e) {
        esc_error(c->d, r->name, "'%.*s' is not an event of aggregate '%.*s'",
                  TOKF(r->name), TOKF(a->name));
        continue;
      }
      for (esc_name_list *q = m->emits; q != r; q = q->next)
        if (same(q->name, r->name))
          esc_error(c->d, r->name, "'%.*s' is listed twice", TOKF(r->name));
      r->target = a;
      r->member = e;
      e->emitted = true;
    }
  }
  a->n_commands = i;

  if (a->commands && !a->has_state)
    esc_error(c->d, a->name,
              "aggregate '%.*s' has commands but no state; add 'state { ... }'",
              TOKF(a->name));
  if (a->has_snapshot && !a->has_state)
    esc_error(c->d, a->snapshot_at, "a snapshot needs state to snapshot");
  for (esc_decl *e = a->events; e; e = e->next)
    if (e->current && !e->emitted)
      esc_warning(c->d, e->name, "event '%.*s' is never emitted",
                  TOKF(e->name));
}

/* Resolves "A.E" to an event (want_event) or a command of aggregate A. */
static bool resolve_ref(checker *c, esc_name_list *r, bool want_event) {
  esc_decl *a = find_top(c, r->name);
  if (!a) {
    esc_error(c->d, r->name, "unknown aggregate '%.*s'", TOKF(r->name));
    return false;
  }
  if (a->kind != ESC_DECL_AGGREGATE) {
    esc_error(c->d, r->name, "'%.*s' is %s, not an aggregate", TOKF(r->name),
              kind_word(a->kind));
    return false;
  }
  r->target = a;
  r->member = want_event ? find_current_event(a, r->qual)
                         : find_command(a, r->qual);
  if (!r->member) {
    esc_error(c->d, r->qual, "aggregate '%.*s' has no %s '%.*s'",
              TOKF(r->name), want_event ? "event" : "command", TOKF(r->qual));
    return false;
  }
  return true;
}

static void check_projection(checker *c, esc_decl *p) {
  uint32_t i = 0;
  if (!p->on)
    esc_error(c->d, p->name,
              "projection '%.*s' handles no events; add 'on Aggregate.Event;'",
              TOKF(p->name));
  for (esc_name_list *r = p->on; r; r = r->next, i++) {
    if (!resolve_ref(c, r, true))
      continue;
    for (esc_name_list *q = p->on; q != r; q = q->next)
      if (q->member == r->member)
        esc_error(c->d, r->name, "'%.*s.%.*s' is already handled",
                  TOKF(r->name), TOKF(r->qual));
    claim(c,
          str_fmt(c, "%s_on_%s_%s", p->c_name, r->target->c_name + strlen(c->s->c_prefix) + 1,
                  r->member->snake),
          r->qual);
  }
}

static const char *kind_text(int k) {
  return k == ESC_T_STRING ? "string" : k == ESC_T_U64 ? "u64" : "uuid";
}

static void check_saga(checker *c, esc_decl *s) {
  bool starts = false;
  s->key.kind = key_kind(c, s);
  check_fields(c, s->fields, true, "saga state");
  claim(c, str_fmt(c, "%s_state", s->c_name), s->name);

  for (esc_name_list *r = s->sends; r; r = r->next) {
    if (!resolve_ref(c, r, false))
      continue;
    for (esc_name_list *q = s->sends; q != r; q = q->next)
      if (q->member == r->member)
        esc_error(c->d, r->name, "'%.*s.%.*s' is listed twice in 'sends'",
                  TOKF(r->name), TOKF(r->qual));
  }
  bool seen_timeout = false;
  for (esc_saga_on *on = s->saga_on; on; on = on->next) {
    if (on->kind == ESC_ON_TIMEOUT) {
      if (seen_timeout)
        esc_error(c->d, on->at, "'on timeout' given twice");
      seen_timeout = true;
      continue;
    }
    if (on->kind == ESC_ON_REJECTED) {
      if (!resolve_ref(c, on->ref, false))
        continue;
      bool sent = false;
      for (esc_name_list *q = s->sends; q; q = q->next)
        if (q->member == on->ref->member)
          sent = true;
      if (!sent)
        esc_error(c->d, on->ref->name,
                  "saga '%.*s' handles rejections of '%.*s.%.*s' but does "
                  "not send it; add it to 'sends'",
                  TOKF(s->name), TOKF(on->ref->name), TOKF(on->ref->qual));
      for (esc_saga_on *o = s->saga_on; o != on; o = o->next)
        if (o->kind == ESC_ON_REJECTED && o->ref->member == on->ref->member)
          esc_error(c->d, on->ref->name,
                    "rejections of '%.*s.%.*s' are already handled",
                    TOKF(on->ref->name), TOKF(on->ref->qual));
      continue;
    }
    if (on->kind == ESC_ON_START)
      starts = true;
    if (!resolve_ref(c, on->ref, true))
      continue;
    esc_decl *ev = on->ref->member;
    for (esc_saga_on *o = s->saga_on; o != on; o = o->next)
      if ((o->kind == ESC_ON_EVENT || o->kind == ESC_ON_START) &&
          o->ref->member == ev)
        esc_error(c->d, on->ref->name, "'%.*s.%.*s' is already handled",
                  TOKF(on->ref->name), TOKF(on->ref->qual));
    if (on->by.n) {
      esc_field *f = NULL;
      for (esc_field *g = ev->fields; g; g = g->next)
        if (same(g->name, on->by))
          f = g;
      if (!f) {
        esc_error(c->d, on->by, "event '%.*s.%.*s' has no field '%.*s'",
                  TOKF(on->ref->name), TOKF(on->ref->qual), TOKF(on->by));
        continue;
      }
      if (f->type->kind != s->key.kind) {
        esc_error(c->d, on->by,
                  "field '%.*s' of '%.*s.%.*s' is not a %s, but saga '%.*s' "
                  "is keyed by %s",
                  TOKF(on->by), TOKF(on->ref->name), TOKF(on->ref->qual),
                  kind_text(s->key.kind), TOKF(s->name),
                  kind_text(s->key.kind));
        continue;
      }
      on->by_field = f;
    } else {
      esc_decl *agg = on->ref->target;
      if (agg->key.kind != s->key.kind)
        esc_error(c->d, on->ref->name,
                  "'%.*s' is keyed by %s but saga '%.*s' by %s; name the "
                  "correlation field with 'by'",
                  TOKF(agg->name), kind_text(agg->key.kind), TOKF(s->name),
                  kind_text(s->key.kind));
    }
  }
  if (!starts)
    esc_error(c->d, s->name,
              "saga '%.*s' has no 'start on' event, so nothing would start it",
              TOKF(s->name));
}

/* Reports records that contain themselves by value. */
static void check_cycles(checker *c) {
  for (esc_decl *d = c->s->decls; d; d = d->next) {
    esc_field *via = NULL;
    if (d->kind == ESC_DECL_RECORD && contains(d, d, 0, &via))
      esc_error(c->d, via->name,
                "record '%.*s' contains itself through field '%.*s'; put the "
                "field behind 'list<>' or '?'",
                TOKF(d->name), TOKF(via->name));
  }
}

int esc_check(esc_schema *s, esc_diag *d) {
  checker c = {.s = s, .d = d};
  esc_decl *schema = NULL;
  int errors_before = d->n_errors;

  /* The schema declaration: first, exactly once. */
  for (esc_decl *x = s->decls; x; x = x->next) {
    if (x->kind != ESC_DECL_SCHEMA)
      continue;
    if (schema) {
      duplicate(&c, x->kw, schema->kw, "'schema'");
      continue;
    }
    schema = x;
    if (x != s->decls)
      esc_error(d, x->kw, "'schema' must be the first declaration");
  }
  if (!schema) {
    esc_tok start = {s->src, 0, 1, 1};
    esc_error(d, start, "missing 'schema NAME;' declaration at the top");
    return d->n_errors - errors_before;
  }
  s->name = schema->name;
  check_name(&c, s->name, "a schema");
  s->c_prefix = snake(&c, s->name, false);
  s->c_upper = s->c_prefix ? upper_of(&c, s->c_prefix) : NULL;
  if (!s->c_prefix)
    goto done;

  /* Top-level names share one namespace; give each its C name. */
  uint32_t idx[8] = {0};
  for (esc_decl *x = s->decls; x; x = x->next) {
    if (x->kind == ESC_DECL_SCHEMA)
      continue;
    check_name(&c, x->name, x->kind == ESC_DECL_ENUM       ? "an enum"
                            : x->kind == ESC_DECL_RECORD    ? "a record"
                            : x->kind == ESC_DECL_AGGREGATE ? "an aggregate"
                            : x->kind == ESC_DECL_SAGA      ? "a saga"
                                                            : "a projection");
    for (esc_decl *y = s->decls; y != x; y = y->next)
      if (y->kind != ESC_DECL_SCHEMA && same(x->name, y->name)) {
        duplicate(&c, x->name, y->name, "name");
        break;
      }
    x->index = idx[x->kind]++;
    x->snake = snake(&c, x->name, false);
    x->c_name = str_fmt(&c, "%s_%s", s->c_prefix, x->snake ? x->snake : "");
    x->c_upper = x->c_name ? upper_of(&c, x->c_name) : NULL;
    if (x->kind == ESC_DECL_RECORD || x->kind == ESC_DECL_ENUM) {
      claim(&c, x->c_name, x->name);
      claim(&c, str_fmt(&c, "%s_list", x->c_name), x->name);
    }
  }
  if (c.oom)
    goto done;

  for (esc_decl *x = s->decls; x; x = x->next) {
    switch (x->kind) {
    case ESC_DECL_ENUM:
      check_enum(&c, x);
      break;
    case ESC_DECL_RECORD:
      check_fields(&c, x->fields, false, "records");
      break;
    case ESC_DECL_AGGREGATE:
      check_aggregate(&c, x);
      break;
    default:
      break;
    }
  }
  check_cycles(&c);
  for (esc_decl *x = s->decls; x; x = x->next) {
    if (x->kind == ESC_DECL_PROJECTION)
      check_projection(&c, x);
    else if (x->kind == ESC_DECL_SAGA)
      check_saga(&c, x);
  }

done:
  if (c.oom)
    esc_error_file(d, "out of memory");
  free(c.cnames);
  return d->n_errors - errors_before;
}
