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
    size_t name; /* offset in `pool` */
    esc_tok at;
    const char *site; /* the pattern that made it */
  } * cnames;
  size_t n_cnames, cap_cnames;
  char *pool; /* the identifiers, NUL-terminated, one after another */
  size_t pool_len, pool_cap;
  size_t *slots; /* hash table of 1 + index into cnames; 0: empty */
  size_t n_slots;
  /* pairs of names already reported as clashing: one error per pair */
  struct clash {
    const char *a, *b;
  } clashes[32];
  size_t n_clashes;
  /* top-level declarations by name (the first of each name) */
  esc_decl **tops;
  size_t n_tops;
} checker;

#define TOKF(t) (int)(t).n, (t).z

/* ---- names ------------------------------------------------------------ */

static const char *const c_keywords[] = {
    "auto",     "break",         "case",         "char",     "const",
    "continue", "default",       "do",           "double",   "else",
    "enum",     "extern",        "float",        "for",      "goto",
    "if",       "inline",        "int",          "long",     "register",
    "restrict", "return",        "short",        "signed",   "sizeof",
    "static",   "struct",        "switch",       "typedef",  "union",
    "unsigned", "void",          "volatile",     "while",    "bool",
    "true",     "false",         "NULL",         "alignas",  "alignof",
    "noreturn", "static_assert", "thread_local", "complex",  "imaginary",
    "asm",      "class",         "new",          "delete",   "this",
    "template", "typename",      "namespace",    "using",    "private",
    "public",   "protected",     "virtual",      "friend",   "operator",
    "explicit", "mutable",       "try",          "catch",    "throw",
    "nullptr",  "export",        "and",          "or",       "not",
    "xor",      "concept",       "requires",     "decltype", "constexpr",
    "wchar_t",  "char16_t",      "char32_t",     "errno",    "assert",
    "main"};

/* The words of the schema language; the parser already refused them as
 * names, so the checker says nothing more about them. */
static const char *const es_keywords[] = {
    "schema",     "enum",    "record", "aggregate", "key",      "state",
    "errors",     "command", "event",  "emits",     "snapshot", "every",
    "projection", "saga",    "on",     "start",     "by",       "rejected",
    "timeout",    "sends",   "list",   "max",       "true",     "false"};

/* Whether `name` is one of the `n` words (checked for every name in a
 * schema: the first character rules out almost every word cheaply). */
static bool is_word(esc_tok name, const char *const *words, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (words[i][0] == name.z[0] && strncmp(words[i], name.z, name.n) == 0 &&
        words[i][name.n] == '\0')
      return true;
  return false;
}

/* Refuses names that would break or confuse the generated C. */
static void check_name(checker *c, esc_tok name, const char *what) {
  if (name.n == 0)
    return;
  if (is_word(name, es_keywords, sizeof es_keywords / sizeof es_keywords[0]))
    return;
  {
    if (is_word(name, c_keywords, sizeof c_keywords / sizeof c_keywords[0])) {
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
  if (name.n >= 3 &&
      (memcmp(name.z, "es_", 3) == 0 || memcmp(name.z, "ES_", 3) == 0)) {
    esc_error(c->d, name,
              "'%.*s' starts with 'es_', which libes reserves; pick another "
              "name",
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
      bool prev_lower =
          (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
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

static size_t hash_str(const char *z) {
  size_t h = 14695981039346656037u & SIZE_MAX;
  for (; *z; z++)
    h = (h ^ (unsigned char)*z) * 1099511628211u;
  return h;
}

static bool same(esc_tok a, esc_tok b);

/* Registers a generated C identifier made by the pattern `site` for the
 * schema name `at`. Two schema names mapping to one identifier would make
 * the output fail to compile, so say so here. A repeat of the same name
 * through the same pattern is a duplicate declaration, which is reported
 * as such, so it is passed over in silence. The identifiers are kept
 * apart from the schema's arena: there are many, and only the checker
 * needs them. */
static void claim(checker *c, const char *name, esc_tok at, const char *site) {
  size_t mask, i, len;
  if (!name)
    return;
  if (c->n_cnames * 2 >= c->n_slots) {
    size_t n = c->n_slots ? c->n_slots * 2 : 256;
    size_t *slots = calloc(n, sizeof *slots);
    if (!slots) {
      c->oom = true;
      return;
    }
    for (size_t k = 0; k < c->n_cnames; k++) {
      i = hash_str(c->pool + c->cnames[k].name) & (n - 1);
      while (slots[i])
        i = (i + 1) & (n - 1);
      slots[i] = k + 1;
    }
    free(c->slots);
    c->slots = slots;
    c->n_slots = n;
  }
  mask = c->n_slots - 1;
  for (i = hash_str(name) & mask; c->slots[i]; i = (i + 1) & mask) {
    struct cname *prev = &c->cnames[c->slots[i] - 1];
    if (strcmp(c->pool + prev->name, name) != 0)
      continue;
    if (prev->site == site && same(prev->at, at))
      return;
    for (size_t k = 0; k < c->n_clashes; k++)
      if (c->clashes[k].a == at.z && c->clashes[k].b == prev->at.z)
        return;
    if (c->n_clashes < sizeof c->clashes / sizeof c->clashes[0])
      c->clashes[c->n_clashes++] = (struct clash){at.z, prev->at.z};
    esc_error(c->d, at,
              "'%.*s' would generate the C name '%s', which '%.*s' "
              "already generates; rename one of them",
              TOKF(at), name, TOKF(prev->at));
    esc_note(c->d, prev->at, "'%.*s' is declared here", TOKF(prev->at));
    return;
  }
  len = strlen(name) + 1;
  if (c->pool_len + len > c->pool_cap) {
    size_t cap = c->pool_cap ? c->pool_cap : 4096;
    while (cap < c->pool_len + len)
      cap *= 2;
    char *p = realloc(c->pool, cap);
    if (!p) {
      c->oom = true;
      return;
    }
    c->pool = p;
    c->pool_cap = cap;
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
  memcpy(c->pool + c->pool_len, name, len);
  c->cnames[c->n_cnames] = (struct cname){c->pool_len, at, site};
  c->pool_len += len;
  c->slots[i] = ++c->n_cnames;
}

/* claim() of the identifier `fmt` makes; the pattern is the site. */
static void claimf(checker *c, esc_tok at, const char *fmt, ...)
    ESC_PRINTF(3, 4);
static void claimf(checker *c, esc_tok at, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf)
    return; /* longer than any C compiler cares to compare */
  claim(c, buf, at, fmt);
}

/* What every struct (record, state, command, event) generates. */
static void claim_struct(checker *c, const char *c_name, esc_tok at) {
  if (!c_name)
    return;
  claimf(c, at, "%s", c_name);
  claimf(c, at, "%s_desc", c_name);
  claimf(c, at, "%s_init", c_name);
  claimf(c, at, "%s_encode", c_name);
  claimf(c, at, "%s_decode", c_name);
  claimf(c, at, "%s_fields", c_name);
  char up[1024];
  size_t i = 0;
  for (; c_name[i] && i + 1 < sizeof up; i++)
    up[i] = c_name[i] >= 'a' && c_name[i] <= 'z' ? (char)(c_name[i] - 32)
                                                 : c_name[i];
  up[i] = '\0';
  claimf(c, at, "%s_TYPE_ID", up);
}

static bool same(esc_tok a, esc_tok b) {
  return a.n == b.n && memcmp(a.z, b.z, a.n) == 0;
}

static void duplicate(checker *c, esc_tok again, esc_tok first,
                      const char *what) {
  esc_error(c->d, again, "%s '%.*s' is already declared", what, TOKF(again));
  esc_note(c->d, first, "previous declaration of '%.*s' is here", TOKF(first));
}

/* ---- "did you mean" ------------------------------------------------------ */

/* The closest candidate to a misspelt name, by edit distance (adjacent
 * swaps count once, case differences not at all). */
typedef struct suggest {
  esc_tok name, best;
  int d;
} suggest;

static char lower(char ch) {
  return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static int distance(esc_tok a, esc_tok b) {
  enum { N = 64 };
  int row[3][N + 1];
  if (a.n > N || b.n > N)
    return N;
  for (uint32_t j = 0; j <= b.n; j++)
    row[0][j] = (int)j;
  for (uint32_t i = 1; i <= a.n; i++) {
    int *cur = row[i % 3], *prev = row[(i + 2) % 3], *prev2 = row[(i + 1) % 3];
    cur[0] = (int)i;
    for (uint32_t j = 1; j <= b.n; j++) {
      int cost = lower(a.z[i - 1]) != lower(b.z[j - 1]);
      int d = prev[j] + 1;
      if (cur[j - 1] + 1 < d)
        d = cur[j - 1] + 1;
      if (prev[j - 1] + cost < d)
        d = prev[j - 1] + cost;
      if (i > 1 && j > 1 && lower(a.z[i - 1]) == lower(b.z[j - 2]) &&
          lower(a.z[i - 2]) == lower(b.z[j - 1]) && prev2[j - 2] + 1 < d)
        d = prev2[j - 2] + 1;
      cur[j] = d;
    }
  }
  return row[a.n % 3][b.n];
}

static void consider(suggest *sg, esc_tok cand) {
  int d, limit = sg->name.n < 3 ? 1 : (int)(sg->name.n + 2) / 3;
  if (cand.n == 0 ||
      (cand.n == sg->name.n && memcmp(cand.z, sg->name.z, cand.n) == 0))
    return;
  d = distance(sg->name, cand);
  if (d <= limit && d < sg->d) {
    sg->d = d;
    sg->best = cand;
  }
}

static void consider_str(suggest *sg, const char *cand) {
  esc_tok t = {cand, (uint32_t)strlen(cand), 0, 0};
  consider(sg, t);
}

/* "; did you mean 'X'?" when there is a close candidate, else "". */
static const char *hint(const suggest *sg, char *buf, size_t n) {
  if (!sg->best.n)
    return "";
  snprintf(buf, n, "; did you mean '%.*s'?", TOKF(sg->best));
  return buf;
}

#define SUGGEST(name)                                                          \
  { (name), {0}, 1 << 30 }

/* ---- lookups ---------------------------------------------------------- */

static size_t hash_tok(esc_tok t) {
  size_t h = 14695981039346656037u & SIZE_MAX;
  for (uint32_t i = 0; i < t.n; i++)
    h = (h ^ (unsigned char)t.z[i]) * 1099511628211u;
  return h;
}

/* The slot of `name` in c->tops: where it is, or where it would go. */
static esc_decl **top_slot(checker *c, esc_tok name) {
  size_t mask = c->n_tops - 1, i = hash_tok(name) & mask;
  while (c->tops[i] && !same(c->tops[i]->name, name))
    i = (i + 1) & mask;
  return &c->tops[i];
}

/* Indexes the top-level declarations; false when out of memory. */
static bool index_tops(checker *c) {
  size_t n = 0;
  for (esc_decl *d = c->s->decls; d; d = d->next)
    n++;
  c->n_tops = 16;
  while (c->n_tops < n * 2)
    c->n_tops *= 2;
  c->tops = calloc(c->n_tops, sizeof *c->tops);
  if (!c->tops)
    return false;
  for (esc_decl *d = c->s->decls; d; d = d->next) {
    esc_decl **slot;
    if (d->kind == ESC_DECL_SCHEMA)
      continue;
    slot = top_slot(c, d->name);
    if (!*slot)
      *slot = d;
  }
  return true;
}

/* The first top-level declaration called `name`, or NULL. */
static esc_decl *find_top(checker *c, esc_tok name) {
  return c->tops ? *top_slot(c, name) : NULL;
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

/* A type as a schema writes it ("list<Money>", "string?"), for messages. */
static const char *type_text(const esc_type *t, char *buf, size_t n) {
  if (t->kind == ESC_T_LIST) {
    char elem[128];
    snprintf(buf, n, "list<%s>%s", type_text(t->elem, elem, sizeof elem),
             t->optional ? "?" : "");
  } else if (t->kind >= ESC_T_ENUM) {
    snprintf(buf, n, "%.*s%s", TOKF(t->name), t->optional ? "?" : "");
  } else {
    snprintf(buf, n, "%s%s", builtin_name(t->kind), t->optional ? "?" : "");
  }
  return buf;
}

/* What other languages call the built-in types, for "did you mean" when
 * no name is close in spelling ("str" is three edits from "string"). */
static void builtin_alias(suggest *sg) {
  static const struct {
    const char *alias;
    int kind;
  } aliases[] = {
      {"str", ESC_T_STRING},
      {"text", ESC_T_STRING},
      {"varchar", ESC_T_STRING},
      {"char", ESC_T_STRING},
      {"int", ESC_T_I32},
      {"integer", ESC_T_I32},
      {"int32", ESC_T_I32},
      {"short", ESC_T_I16},
      {"long", ESC_T_I64},
      {"int64", ESC_T_I64},
      {"byte", ESC_T_U8},
      {"uint", ESC_T_U32},
      {"unsigned", ESC_T_U32},
      {"uint32", ESC_T_U32},
      {"ulong", ESC_T_U64},
      {"uint64", ESC_T_U64},
      {"float", ESC_T_F32},
      {"float32", ESC_T_F32},
      {"double", ESC_T_F64},
      {"float64", ESC_T_F64},
      {"number", ESC_T_F64},
      {"boolean", ESC_T_BOOL},
      {"datetime", ESC_T_TIMESTAMP},
      {"time", ESC_T_TIMESTAMP},
      {"instant", ESC_T_TIMESTAMP},
      {"guid", ESC_T_UUID},
      {"blob", ESC_T_BYTES},
      {"binary", ESC_T_BYTES},
  };
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
    esc_tok a = {aliases[i].alias, (uint32_t)strlen(aliases[i].alias), 0, 0};
    if (distance(sg->name, a) == 0) {
      const char *name = builtin_name(aliases[i].kind);
      sg->best = (esc_tok){name, (uint32_t)strlen(name), 0, 0};
      sg->d = 0;
      return;
    }
  }
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
      suggest sg = SUGGEST(t->name);
      char buf[160];
      for (esc_decl *x = c->s->decls; x; x = x->next)
        if (x->kind == ESC_DECL_ENUM || x->kind == ESC_DECL_RECORD)
          consider(&sg, x->name);
      for (int k = 0; k <= ESC_T_UUID; k++)
        consider_str(&sg, builtin_name(k));
      if (!sg.best.n)
        builtin_alias(&sg);
      esc_error(c->d, t->name, "unknown type '%.*s'%s", TOKF(t->name),
                hint(&sg, buf, sizeof buf));
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
    char buf[160];
    if (t->kind == ESC_T_NAMED)
      ; /* unknown type: already reported */
    else if (t->kind != ESC_T_STRING && t->kind != ESC_T_BYTES &&
             t->kind != ESC_T_LIST)
      esc_error(c->d, t->max_tok,
                "'max' applies only to string, bytes and list types, not "
                "'%s'",
                type_text(t, buf, sizeof buf));
    else if (t->max == 0)
      esc_error(c->d, t->max_tok,
                "'max 0' allows nothing; a bound must be at least 1");
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
      } else if (e == 'u') {
        const char *q = p + 3;
        if (p + 2 >= end || p[2] != '{') {
          esc_error(c->d, at,
                    "malformed escape: '\\u' takes 1 to 6 hex "
                    "digits in braces, as in '\\u{20ac}'");
          return;
        }
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
          esc_error(c->d, at,
                    "malformed escape: '\\u' takes 1 to 6 hex "
                    "digits in braces, as in '\\u{20ac}'");
          return;
        }
        if (cp == 0) {
          esc_error(c->d, at,
                    "'\\u{%.*s}' is a NUL character, which strings cannot "
                    "hold",
                    (int)(q - p - 3), p + 3);
          return;
        }
        if (cp > 0x10ffff) {
          esc_error(c->d, at,
                    "'\\u{%.*s}' is past U+10FFFF, the last Unicode "
                    "character",
                    (int)(q - p - 3), p + 3);
          return;
        }
        if (cp >= 0xd800 && cp <= 0xdfff) {
          esc_error(c->d, at,
                    "'\\u{%.*s}' is a UTF-16 surrogate, not a character; "
                    "write the character itself, as in '\\u{1f600}'",
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
    if (ch == 0) {
      at.n = 1;
      esc_error(c->d, at, "a NUL byte cannot be part of a string");
      return;
    }
    /* Raw bytes must be UTF-8: no overlong forms, no surrogates, nothing
     * past U+10FFFF. */
    int len = ch < 0x80                  ? 1
              : ch >= 0xc2 && ch <= 0xdf ? 2
              : ch >= 0xe0 && ch <= 0xef ? 3
              : ch >= 0xf0 && ch <= 0xf4 ? 4
                                         : 0;
    bool ok = len > 0 && p + len <= end;
    for (int i = 1; ok && i < len; i++)
      ok = ((unsigned char)p[i] & 0xc0) == 0x80;
    if (ok && len >= 3) {
      unsigned char c1 = (unsigned char)p[1];
      ok = !(ch == 0xe0 && c1 < 0xa0) && !(ch == 0xed && c1 >= 0xa0) &&
           !(ch == 0xf0 && c1 < 0x90) && !(ch == 0xf4 && c1 >= 0x90);
    }
    if (!ok) {
      at.n = 1;
      esc_error(c->d, at, "string is not valid UTF-8 (byte 0x%02x)",
                (unsigned)ch);
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
              k == ESC_T_LIST     ? "list"
              : k == ESC_T_RECORD ? "record"
                                  : "bytes");
    return;
  }
  if (is_signed(k) || is_unsigned(k) || k == ESC_T_TIMESTAMP) {
    static const uint64_t umax[] = {
        0, 0, 0, 0, 0, UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX};
    static const uint64_t smax[] = {0, INT8_MAX, INT16_MAX, INT32_MAX,
                                    INT64_MAX};
    int sk = k == ESC_T_TIMESTAMP ? ESC_T_I64 : k;
    bool ok;
    if (l->kind != ESC_LIT_INT) {
      esc_error(c->d, l->at, "default of '%.*s' must be an integer",
                TOKF(f->name));
      return;
    }
    ok = esc_tok_u64(l->tok, &l->u);
    if (ok && is_unsigned(k))
      ok = l->u <= umax[k] && !(l->negative && l->u != 0);
    else if (ok)
      /* two's complement: one more below zero */
      ok = l->u <= smax[sk] + (l->negative ? 1u : 0u);
    if (!ok) {
      if (is_unsigned(k))
        esc_error(c->d, l->at, "'%.*s' is out of range for %s (0 to %llu)",
                  TOKF(l->at), builtin_name(k), (unsigned long long)umax[k]);
      else
        esc_error(c->d, l->at, "'%.*s' is out of range for %s (-%llu to %llu)",
                  TOKF(l->at), builtin_name(k),
                  (unsigned long long)smax[sk] + 1,
                  (unsigned long long)smax[sk]);
    }
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
    if (!isfinite(l->f) ||
        (k == ESC_T_F32 && fabs(l->f) > 3.4028234663852886e38))
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
      esc_error(c->d, l->at,
                "default of '%.*s' is %zu bytes, more than 'max %llu'",
                TOKF(f->name), l->s_len, (unsigned long long)t->max);
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
    suggest sg = SUGGEST(l->tok);
    char buf[160];
    for (esc_name_list *v = e->values; v; v = v->next)
      consider(&sg, v->name);
    esc_error(c->d, l->at, "'%.*s' is not a value of enum '%.*s'%s",
              TOKF(l->tok), TOKF(e->name), hint(&sg, buf, sizeof buf));
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
    if (f->type->optional && f->type->kind != ESC_T_RECORD) {
      /* `x?` generates a `has_x` member beside `x` (an optional record is
       * a pointer instead). */
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

/* Records that contain themselves by value (not behind list<> or ?) would
 * be infinitely large. A depth-first walk over by-value record fields
 * reports each cycle once, at the field that closes it as seen from the
 * first record of the cycle in source order. The walk keeps its own stack:
 * a long chain of records must not overflow the C one. */
/* Appends to `buf`, silently truncating. */
static void cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    ESC_PRINTF(4, 5);
static void cat(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
  va_list ap;
  int n;
  if (*len + 1 >= cap)
    return;
  va_start(ap, fmt);
  n = vsnprintf(buf + *len, cap - *len, fmt, ap);
  va_end(ap);
  if (n > 0)
    *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

static esc_field *by_value_record(esc_field *f) {
  for (; f; f = f->next)
    if (f->type->kind == ESC_T_RECORD && !f->type->optional && f->type->decl)
      return f;
  return NULL;
}

static void check_cycles(checker *c) {
  size_t n = 0;
  for (esc_decl *d = c->s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_RECORD)
      d->index = (uint32_t)n++;
  if (!n)
    return;
  /* 0 new, 1 on the stack, 2 done; | 4 once a cycle through it was
   * reported (one error per record is enough to act on) */
  unsigned char *color = calloc(n, 1);
  struct frame {
    esc_decl *r;
    esc_field *f; /* the field being followed */
  } *stack = calloc(n, sizeof *stack);
  size_t *pos = calloc(n, sizeof *pos); /* where a record is on the stack */
  if (!color || !stack || !pos) {
    c->oom = true;
    goto done;
  }
  for (esc_decl *root = c->s->decls; root; root = root->next) {
    size_t top = 0;
    if (root->kind != ESC_DECL_RECORD || (color[root->index] & 3))
      continue;
    stack[0] = (struct frame){root, by_value_record(root->fields)};
    color[root->index] = 1;
    pos[root->index] = 0;
    top = 1;
    while (top) {
      struct frame *fr = &stack[top - 1];
      if (!fr->f) {
        color[fr->r->index] = (unsigned char)((color[fr->r->index] & 4) | 2);
        top--;
        continue;
      }
      esc_field *f = fr->f;
      esc_decl *next = f->type->decl;
      fr->f = by_value_record(f->next);
      if ((color[next->index] & 3) == 0) {
        color[next->index] |= 1;
        pos[next->index] = top;
        stack[top++] = (struct frame){next, by_value_record(next->fields)};
      } else if ((color[next->index] & 3) == 1 && !(color[next->index] & 4)) {
        /* The cycle runs from `next`, down the stack, back to it. */
        size_t from = pos[next->index];
        color[next->index] |= 4;
        esc_decl *r = stack[from].r;
        esc_field *via = from + 1 < top ? NULL : f;
        /* "A.b -> B.c -> A", with the middle of a long cycle elided. */
        char path[512];
        size_t len = 0, hops = top - from;
        for (size_t i = from; i < top; i++) {
          /* The field each frame followed: the one before its cursor. */
          esc_field *g = i + 1 == top ? f : NULL;
          if (!g)
            for (esc_field *h = stack[i].r->fields; h; h = h->next)
              if (h->type->kind == ESC_T_RECORD && !h->type->optional &&
                  h->type->decl == stack[i + 1].r &&
                  (!stack[i].f || h->index < stack[i].f->index))
                g = h;
          if (i == from)
            via = g;
          if (hops > 6 && i >= from + 3 && i + 2 < top) {
            if (i == from + 3)
              cat(path, sizeof path, &len, "... -> ");
            continue;
          }
          cat(path, sizeof path, &len, "%.*s.%.*s -> ", TOKF(stack[i].r->name),
              TOKF(g->name));
        }
        cat(path, sizeof path, &len, "%.*s", TOKF(r->name));
        if (r == stack[top - 1].r)
          esc_error(c->d, via->name,
                    "record '%.*s' contains itself through field '%.*s'; "
                    "make the field optional or a list",
                    TOKF(r->name), TOKF(via->name));
        else
          esc_error(c->d, via->name,
                    "record '%.*s' contains itself through field '%.*s' "
                    "(%s); make one of these fields optional or a list",
                    TOKF(r->name), TOKF(via->name), path);
      }
    }
  }
done:
  free(color);
  free(stack);
  free(pos);
}

/* ---- declarations ------------------------------------------------------ */

static void check_enum(checker *c, esc_decl *d) {
  uint32_t n = 0;
  if (!d->values)
    esc_error(c->d, d->name, "enum '%.*s' has no values", TOKF(d->name));
  for (esc_name_list *v = d->values; v; v = v->next, n++) {
    bool dup = false;
    check_name(c, v->name, "an enum value");
    for (esc_name_list *w = d->values; w != v && !dup; w = w->next)
      if (same(v->name, w->name)) {
        duplicate(c, v->name, w->name, "enum value");
        dup = true;
      }
    if (!dup)
      claimf(c, v->name, "%s_%s", d->c_upper, snake(c, v->name, true));
  }
  d->n_values = n;
}

/* The key's ESC_T_*, or -1 (reported) when it is not a key type. */
static int key_kind(checker *c, esc_decl *d) {
  esc_tok t = d->key.type;
  if (t.n == 0)
    return ESC_T_STRING;
  int k = esc_builtin_kind(t);
  if (k != ESC_T_STRING && k != ESC_T_U64 && k != ESC_T_UUID) {
    esc_error(c->d, t, "key type must be string, u64 or uuid, not '%.*s'",
              TOKF(t));
    return -1;
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
      bool digits = num.n > 0;
      for (uint32_t i = 0; i < num.n; i++)
        digits &= num.z[i] >= '0' && num.z[i] <= '9';
      /* A version that is no version is reported and then left out of
       * the comparisons below as 0, so it causes nothing more. */
      if (e->version_tok.z[0] != 'v' || !digits) {
        esc_error(c->d, e->version_tok,
                  "expected a version like 'v2' after the event name, not "
                  "'%.*s'",
                  TOKF(e->version_tok));
        v = 0;
      } else if (!esc_tok_u64(num, &v) || v > 65535) {
        esc_error(c->d, e->version_tok,
                  "version '%.*s' is too large (at most v65535)",
                  TOKF(e->version_tok));
        v = 0;
      } else if (v == 0) {
        esc_error(c->d, e->version_tok, "versions start at v1, not 'v0'");
      }
      e->version = (uint32_t)v;
    }
  }
  /* Same name: distinct versions, the highest current, no gaps. */
  for (esc_decl *e = agg->events; e; e = e->next) {
    bool first = true, highest = true;
    for (esc_decl *g = agg->events; g; g = g->next) {
      if (!same(g->name, e->name))
        continue;
      if (g == e)
        continue;
      if (g->version > e->version)
        highest = false;
      /* Report at the later declaration only, once. */
      if (g->version != e->version || g->kw.z > e->kw.z)
        continue;
      /* (An unusable version, 0, was reported already.) */
      bool report = first && e->version;
      first = false;
      if (!report)
        continue;
      if (!e->version_tok.n && !g->version_tok.n) {
        duplicate(c, e->name, g->name, "event");
        continue;
      }
      esc_error(c->d, e->version_tok.n ? e->version_tok : e->name,
                "event '%.*s' v%u is already declared", TOKF(e->name),
                e->version);
      if (g->version_tok.n)
        esc_note(c->d, g->version_tok, "previous declaration is here");
      else
        esc_note(c->d, g->name,
                 "previous declaration is here (an event without a "
                 "version is v1)");
    }
    e->current = highest && first;
    if (e->current && e->version > 1) {
      /* The first missing version is enough to say. */
      for (uint32_t v = 1; v < e->version; v++) {
        bool found = false;
        for (esc_decl *g = agg->events; g; g = g->next)
          if (same(g->name, e->name) && g->version == v)
            found = true;
        if (!found) {
          esc_error(c->d, e->version_tok.n ? e->version_tok : e->name,
                    "event '%.*s' has v%u but no v%u: every version from "
                    "v1 up must be declared",
                    TOKF(e->name), e->version, v);
          break;
        }
      }
    }
  }
  /* Chain each version to the next one up. */
  for (esc_decl *e = agg->events; e; e = e->next)
    for (esc_decl *g = agg->events; g; g = g->next)
      if (same(g->name, e->name) && e->version &&
          g->version == e->version + 1) {
        e->newer = g;
        g->older = e;
      }
}

/* The aggregate other than `a` that has a current event `name`, if any. */
static esc_decl *event_elsewhere(checker *c, esc_decl *a, esc_tok name) {
  for (esc_decl *x = c->s->decls; x; x = x->next)
    if (x != a && x->kind == ESC_DECL_AGGREGATE)
      for (esc_decl *e = x->events; e; e = e->next)
        if (same(e->name, name))
          return x;
  return NULL;
}

static void check_aggregate(checker *c, esc_decl *a) {
  uint32_t i;
  const char *A = a->c_name;
  a->key.kind = key_kind(c, a);
  check_fields(c, a->fields, true, "aggregate state");
  claimf(c, a->name, "%s_aggregate", A);
  if (a->has_state)
    claim_struct(c, str_fmt(c, "%s_state", A), a->name);

  i = 0;
  for (esc_name_list *e = a->errors; e; e = e->next, i++) {
    bool dup = false;
    check_name(c, e->name, "an error");
    for (esc_name_list *f = a->errors; f != e && !dup; f = f->next)
      if (same(e->name, f->name)) {
        duplicate(c, e->name, f->name, "error");
        dup = true;
      }
    if (!dup)
      claimf(c, e->name, "%s_%s", a->c_upper, snake(c, e->name, true));
  }
  a->n_errors = i;
  if (a->errors) {
    claimf(c, a->name, "%s_error", A);
    claimf(c, a->name, "%s_reject", A);
    claimf(c, a->name, "%s_errors", A);
  }

  check_versions(c, a);
  i = 0;
  uint32_t n_events = 0, n_current = 0;
  for (esc_decl *e = a->events; e; e = e->next) {
    check_name(c, e->name, "an event");
    check_fields(c, e->fields, true, "events");
    e->snake = e->current
                   ? snake(c, e->name, false)
                   : str_fmt(c, "%s_v%u", snake(c, e->name, false), e->version);
    e->c_name = str_fmt(c, "%s_%s", A, e->snake ? e->snake : "");
    e->c_upper = e->c_name ? upper_of(c, e->c_name) : NULL;
    if (e->current) {
      e->index = n_current++;
      claim_struct(c, e->c_name, e->name);
      claimf(c, e->name, "%s_apply_%s", A, e->snake);
      claimf(c, e->name, "%s_apply_%s_any", A, e->snake);
      claimf(c, e->name, "%s_subscribers", e->c_name);
      claimf(c, e->name, "%s_old", e->c_name);
    }
    n_events++;
  }
  a->n_events = n_events;
  a->n_current_events = n_current;
  if (n_current)
    claimf(c, a->name, "%s_events", A);
  /* Older versions once the current ones have their names: a clash is
   * then reported at the older shape. */
  for (esc_decl *e = a->events; e; e = e->next) {
    if (e->current || !e->newer)
      continue;
    claim_struct(c, e->c_name, e->name);
    claimf(c, e->name, "%s_upcast_%s", A, e->snake);
    claimf(c, e->name, "%s_upcast_%s_any", A, e->snake);
  }

  bool unresolved = false; /* an `emits` names no event of `a` */
  for (esc_decl *m = a->commands; m; m = m->next, i++) {
    bool dup = false;
    m->index = i;
    check_name(c, m->name, "a command");
    for (esc_decl *n = a->commands; n != m && !dup; n = n->next)
      if (same(m->name, n->name)) {
        duplicate(c, m->name, n->name, "command");
        dup = true;
      }
    for (esc_decl *e = a->events; e && !dup; e = e->next)
      if (same(m->name, e->name)) {
        esc_error(c->d, m->name,
                  "command '%.*s' has the same name as an event of '%.*s'; "
                  "commands and events of an aggregate share one namespace",
                  TOKF(m->name), TOKF(a->name));
        esc_note(c->d, e->name, "event '%.*s' is declared here", TOKF(e->name));
        dup = true;
      }
    check_fields(c, m->fields, false, "command fields");
    m->snake = snake(c, m->name, false);
    m->c_name = str_fmt(c, "%s_%s", A, m->snake ? m->snake : "");
    m->c_upper = m->c_name ? upper_of(c, m->c_name) : NULL;
    if (!dup) {
      claim_struct(c, m->c_name, m->name);
      claimf(c, m->name, "%s_decide_%s", A, m->snake);
      claimf(c, m->name, "%s_execute_%s", A, m->snake);
      claimf(c, m->name, "%s_decide_%s_any", A, m->snake);
      claimf(c, m->name, "%s_emits", m->c_name);
    }
    if (!m->emits)
      esc_error(c->d, m->name,
                "command '%.*s' emits no event; add 'emits EventName;'",
                TOKF(m->name));
    for (esc_name_list *r = m->emits; r; r = r->next) {
      esc_decl *e = find_current_event(a, r->name);
      if (!e) {
        esc_decl *other = event_elsewhere(c, a, r->name);
        if (other)
          esc_error(c->d, r->name,
                    "'%.*s' is an event of aggregate '%.*s'; a command emits "
                    "only events of its own aggregate '%.*s'",
                    TOKF(r->name), TOKF(other->name), TOKF(a->name));
        else {
          suggest sg = SUGGEST(r->name);
          char buf[160];
          for (esc_decl *x = a->events; x; x = x->next)
            consider(&sg, x->name);
          esc_error(c->d, r->name,
                    "'%.*s' is not an event of aggregate '%.*s'%s",
                    TOKF(r->name), TOKF(a->name), hint(&sg, buf, sizeof buf));
        }
        unresolved = true;
        continue;
      }
      bool twice = false;
      for (esc_name_list *q = m->emits; q != r && !twice; q = q->next)
        if (same(q->name, r->name)) {
          esc_error(c->d, r->name, "'%.*s' is listed twice in 'emits'",
                    TOKF(r->name));
          twice = true;
        }
      r->target = a;
      r->member = e;
      if (!e->emitted)
        claimf(c, e->name, "%s_emit_%s", A, e->snake);
      e->emitted = true;
    }
  }
  a->n_commands = i;
  if (a->commands)
    claimf(c, a->name, "%s_commands", A);

  if (a->commands && !a->has_state)
    esc_error(c->d, a->name,
              "aggregate '%.*s' has commands but no state; add 'state { ... }'",
              TOKF(a->name));
  if (a->has_snapshot && !a->has_state)
    esc_error(c->d, a->snapshot_at,
              "aggregate '%.*s' has a snapshot policy but no state to "
              "snapshot",
              TOKF(a->name));
  /* A misspelt `emits` is already an error; the event it meant would
   * only add a misleading warning. */
  for (esc_decl *e = a->events; e && !unresolved; e = e->next)
    if (e->current && !e->emitted)
      esc_warning(c->d, e->name, "event '%.*s' is never emitted",
                  TOKF(e->name));
}

/* "A.E" as one token, for carets under the whole reference. */
static esc_tok ref_tok(const esc_name_list *r) {
  esc_tok t = r->name;
  if (r->qual.n && r->qual.line == t.line && r->qual.z > t.z)
    t.n = (uint32_t)(r->qual.z + r->qual.n - t.z);
  return t;
}

/* Resolves "A.E" to an event (want_event) or a command of aggregate A. */
static bool resolve_ref(checker *c, esc_name_list *r, bool want_event) {
  esc_decl *a = find_top(c, r->name);
  char buf[160];
  if (!a) {
    suggest sg = SUGGEST(r->name);
    for (esc_decl *x = c->s->decls; x; x = x->next)
      if (x->kind == ESC_DECL_AGGREGATE)
        consider(&sg, x->name);
    esc_error(c->d, r->name, "unknown aggregate '%.*s'%s", TOKF(r->name),
              hint(&sg, buf, sizeof buf));
    return false;
  }
  if (a->kind != ESC_DECL_AGGREGATE) {
    esc_error(c->d, r->name, "'%.*s' is %s, not an aggregate", TOKF(r->name),
              kind_word(a->kind));
    return false;
  }
  r->target = a;
  r->member =
      want_event ? find_current_event(a, r->qual) : find_command(a, r->qual);
  if (!r->member) {
    bool other = want_event ? find_command(a, r->qual) != NULL
                            : find_current_event(a, r->qual) != NULL;
    if (other)
      esc_error(c->d, ref_tok(r), "'%.*s.%.*s' is %s, not %s", TOKF(r->name),
                TOKF(r->qual), want_event ? "a command" : "an event",
                want_event ? "an event" : "a command");
    else {
      suggest sg = SUGGEST(r->qual);
      for (esc_decl *x = want_event ? a->events : a->commands; x; x = x->next)
        consider(&sg, x->name);
      esc_error(c->d, r->qual, "aggregate '%.*s' has no %s '%.*s'%s",
                TOKF(r->name), want_event ? "event" : "command", TOKF(r->qual),
                hint(&sg, buf, sizeof buf));
    }
    return false;
  }
  return true;
}

static void check_projection(checker *c, esc_decl *p) {
  uint32_t i = 0;
  claimf(c, p->name, "%s_projection", p->c_name);
  claimf(c, p->name, "%s_handlers", p->c_name);
  if (!p->on)
    esc_error(c->d, p->name,
              "projection '%.*s' handles no events; add 'on Aggregate.Event;'",
              TOKF(p->name));
  for (esc_name_list *r = p->on; r; r = r->next, i++) {
    bool twice = false;
    if (!resolve_ref(c, r, true))
      continue;
    for (esc_name_list *q = p->on; q != r && !twice; q = q->next)
      if (q->member == r->member) {
        esc_error(c->d, ref_tok(r), "'%.*s.%.*s' is already handled",
                  TOKF(r->name), TOKF(r->qual));
        esc_note(c->d, ref_tok(q), "previous handler is here");
        twice = true;
      }
    if (twice)
      continue;
    claimf(c, r->qual, "%s_on_%s_%s", p->c_name, r->target->snake,
           r->member->snake);
    claimf(c, r->qual, "%s_on_%s_%s_any", p->c_name, r->target->snake,
           r->member->snake);
  }
}

static const char *kind_text(int k) {
  return k == ESC_T_STRING ? "string" : k == ESC_T_U64 ? "u64" : "uuid";
}

/* An event without `by` reaches the saga instance whose key is the key of
 * the aggregate instance that emitted it. When another event of the same
 * aggregate is routed by a field (or starts instances by one), the two disagree
 * about which instance an event of that aggregate belongs to: almost always a
 * forgotten `by`, and the event would silently reach no instance (or the wrong
 * one). */
static void check_saga_routing(checker *c, const esc_decl *s) {
  if (s->key.kind < 0)
    return;
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    /* A `start on` without `by` says on purpose that instances are keyed
     * like the emitting aggregate; a key of another type is an error
     * reported already. */
    if (on->kind != ESC_ON_EVENT || on->by.n || !on->ref->member ||
        on->ref->target->key.kind != s->key.kind)
      continue;
    for (const esc_saga_on *o = s->saga_on; o; o = o->next) {
      if ((o->kind != ESC_ON_EVENT && o->kind != ESC_ON_START) ||
          !o->by_field || o->ref->target != on->ref->target)
        continue;
      esc_warning(c->d, ref_tok(on->ref),
                  "'%.*s.%.*s' has no 'by', so it is routed by the key of the "
                  "'%.*s' that emitted it, while '%.*s.%.*s' is routed by "
                  "its field '%.*s'; add 'by' with the field that holds the "
                  "saga's key",
                  TOKF(on->ref->name), TOKF(on->ref->qual), TOKF(on->ref->name),
                  TOKF(o->ref->name), TOKF(o->ref->qual), TOKF(o->by));
      esc_note(c->d, o->by, "'%.*s.%.*s' is routed by '%.*s' here",
               TOKF(o->ref->name), TOKF(o->ref->qual), TOKF(o->by));
      break;
    }
  }
}

static void check_saga(checker *c, esc_decl *s) {
  bool starts = false;
  const char *S = s->c_name;
  s->key.kind = key_kind(c, s);
  check_fields(c, s->fields, true, "saga state");
  claim_struct(c, str_fmt(c, "%s_state", S), s->name);
  claimf(c, s->name, "%s_saga", S);
  claimf(c, s->name, "%s_handlers", S);
  if (s->sends)
    claimf(c, s->name, "%s_sends", S);

  for (esc_name_list *r = s->sends; r; r = r->next) {
    bool twice = false;
    if (!resolve_ref(c, r, false))
      continue;
    for (esc_name_list *q = s->sends; q != r && !twice; q = q->next)
      if (q->member == r->member) {
        esc_error(c->d, ref_tok(r), "'%.*s.%.*s' is listed twice in 'sends'",
                  TOKF(r->name), TOKF(r->qual));
        twice = true;
      }
    if (!twice)
      claimf(c, r->qual, "%s_send_%s_%s", S, r->target->snake,
             r->member->snake);
  }
  const esc_saga_on *timeout = NULL;
  for (esc_saga_on *on = s->saga_on; on; on = on->next) {
    if (on->kind == ESC_ON_TIMEOUT) {
      if (timeout) {
        esc_error(c->d, on->at, "'on timeout' given twice");
        esc_note(c->d, timeout->at, "first given here");
        continue;
      }
      timeout = on;
      claimf(c, on->at, "%s_on_timeout", S);
      claimf(c, on->at, "%s_on_timeout_any", S);
      continue;
    }
    if (on->kind == ESC_ON_REJECTED) {
      bool twice = false;
      if (!resolve_ref(c, on->ref, false))
        continue;
      bool sent = false;
      for (esc_name_list *q = s->sends; q; q = q->next)
        if (q->member == on->ref->member)
          sent = true;
      if (!sent)
        esc_error(c->d, ref_tok(on->ref),
                  "saga '%.*s' handles rejections of '%.*s.%.*s' but does "
                  "not send it; add it to 'sends'",
                  TOKF(s->name), TOKF(on->ref->name), TOKF(on->ref->qual));
      for (esc_saga_on *o = s->saga_on; o != on && !twice; o = o->next)
        if (o->kind == ESC_ON_REJECTED && o->ref->member == on->ref->member) {
          esc_error(c->d, ref_tok(on->ref),
                    "rejections of '%.*s.%.*s' are already handled",
                    TOKF(on->ref->name), TOKF(on->ref->qual));
          esc_note(c->d, ref_tok(o->ref), "previous handler is here");
          twice = true;
        }
      if (!twice) {
        claimf(c, on->ref->qual, "%s_on_rejected_%s_%s", S,
               on->ref->target->snake, on->ref->member->snake);
        claimf(c, on->ref->qual, "%s_on_rejected_%s_%s_any", S,
               on->ref->target->snake, on->ref->member->snake);
      }
      continue;
    }
    if (on->kind == ESC_ON_START)
      starts = true;
    if (!resolve_ref(c, on->ref, true))
      continue;
    esc_decl *ev = on->ref->member;
    bool twice = false;
    for (esc_saga_on *o = s->saga_on; o != on && !twice; o = o->next)
      if ((o->kind == ESC_ON_EVENT || o->kind == ESC_ON_START) &&
          o->ref->member == ev) {
        esc_error(c->d, ref_tok(on->ref), "'%.*s.%.*s' is already handled",
                  TOKF(on->ref->name), TOKF(on->ref->qual));
        esc_note(c->d, ref_tok(o->ref), "previous handler is here");
        twice = true;
      }
    if (!twice) {
      claimf(c, on->ref->qual, "%s_on_%s_%s", S, on->ref->target->snake,
             ev->snake);
      claimf(c, on->ref->qual, "%s_on_%s_%s_any", S, on->ref->target->snake,
             ev->snake);
    }
    if (s->key.kind < 0)
      continue; /* no key to match */
    if (on->by.n) {
      esc_field *f = NULL;
      for (esc_field *g = ev->fields; g; g = g->next)
        if (same(g->name, on->by))
          f = g;
      if (!f) {
        suggest sg = SUGGEST(on->by);
        char buf[160];
        for (esc_field *g = ev->fields; g; g = g->next)
          consider(&sg, g->name);
        esc_error(c->d, on->by, "event '%.*s.%.*s' has no field '%.*s'%s",
                  TOKF(on->ref->name), TOKF(on->ref->qual), TOKF(on->by),
                  hint(&sg, buf, sizeof buf));
        continue;
      }
      if (f->type->kind != s->key.kind) {
        char buf[160];
        esc_error(c->d, on->by,
                  "field '%.*s' of '%.*s.%.*s' is '%s', but saga '%.*s' is "
                  "keyed by %s; 'by' needs a %s or %s? field",
                  TOKF(on->by), TOKF(on->ref->name), TOKF(on->ref->qual),
                  type_text(f->type, buf, sizeof buf), TOKF(s->name),
                  kind_text(s->key.kind), kind_text(s->key.kind),
                  kind_text(s->key.kind));
        continue;
      }
      on->by_field = f;
    } else {
      esc_decl *agg = on->ref->target;
      if (agg->key.kind >= 0 && agg->key.kind != s->key.kind)
        esc_error(c->d, ref_tok(on->ref),
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
  check_saga_routing(c, s);
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
      esc_error(d, x->kw,
                "a second 'schema' declaration; a file declares exactly one "
                "schema");
      esc_note(d, schema->kw, "the schema is declared here");
      continue;
    }
    schema = x;
    if (x != s->decls) {
      esc_error(d, x->kw, "'schema' must be the first declaration");
      esc_note(d, s->decls->kw, "the first declaration is here");
    }
  }
  if (!schema) {
    esc_tok start = {s->src, 0, 1, 1};
    esc_error(d, start,
              "missing 'schema NAME;' declaration; a schema file starts "
              "with one");
    return d->n_errors - errors_before;
  }
  s->name = schema->name;
  check_name(&c, s->name, "a schema");
  s->c_prefix = snake(&c, s->name, false);
  s->c_upper = s->c_prefix ? upper_of(&c, s->c_prefix) : NULL;
  if (!s->c_prefix)
    goto done;
  if (strcmp(s->c_prefix, "es") == 0)
    esc_error(d, s->name,
              "schema name '%.*s' would give generated names the prefix "
              "'es_', which libes reserves",
              TOKF(s->name));
  claimf(&c, s->name, "%s_schema", s->c_prefix);
  claimf(&c, s->name, "%s_aggregates", s->c_prefix);
  claimf(&c, s->name, "%s_projections", s->c_prefix);
  claimf(&c, s->name, "%s_sagas", s->c_prefix);
  claimf(&c, s->name, "%s_types", s->c_prefix);
  if (!index_tops(&c)) {
    c.oom = true;
    goto done;
  }

  /* Top-level names share one namespace; give each its C name. */
  uint32_t idx[8] = {0};
  for (esc_decl *x = s->decls; x; x = x->next) {
    bool dup = false;
    if (x->kind == ESC_DECL_SCHEMA)
      continue;
    check_name(&c, x->name,
               x->kind == ESC_DECL_ENUM        ? "an enum"
               : x->kind == ESC_DECL_RECORD    ? "a record"
               : x->kind == ESC_DECL_AGGREGATE ? "an aggregate"
               : x->kind == ESC_DECL_SAGA      ? "a saga"
                                               : "a projection");
    esc_decl *y = find_top(&c, x->name);
    if (y != x) {
      esc_error(d, x->name, "'%.*s' is already declared as %s", TOKF(x->name),
                kind_word(y->kind));
      esc_note(d, y->name, "previous declaration of '%.*s' is here",
               TOKF(y->name));
      dup = true;
    }
    x->index = idx[x->kind]++;
    x->snake = snake(&c, x->name, false);
    x->c_name = str_fmt(&c, "%s_%s", s->c_prefix, x->snake ? x->snake : "");
    x->c_upper = x->c_name ? upper_of(&c, x->c_name) : NULL;
    if (dup || !x->c_name)
      continue;
    if (x->kind == ESC_DECL_RECORD) {
      claim_struct(&c, x->c_name, x->name);
      claimf(&c, x->name, "%s_list", x->c_name);
    } else if (x->kind == ESC_DECL_ENUM) {
      claimf(&c, x->name, "%s", x->c_name);
      claimf(&c, x->name, "%s_list", x->c_name);
      claimf(&c, x->name, "%s_desc", x->c_name);
      claimf(&c, x->name, "%s_name", x->c_name);
      claimf(&c, x->name, "%s_values", x->c_name);
      claimf(&c, x->name, "%s_COUNT", x->c_upper);
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
      check_fields(&c, x->fields, false, "record fields");
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
  free(c.slots);
  free(c.pool);
  free(c.tops);
  return d->n_errors - errors_before;
}
