/*
 * check_names.c - the names of a schema: which are allowed, the C names
 * each claims (so that two schema names never make one C name), lookups
 * of declarations by name, and "did you mean" for names not found.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "grow.h"

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
void chk_name(checker *c, esc_tok name, const char *what) {
  if (name.n == 0)
    return;
  /* The parser already refused the words of the schema language as
   * names: nothing more to say about them. */
  if (esc_keyword_token(name.z, name.n))
    return;
  if (name.n > ESC_SCHEMA_NAME_MAX) {
    esc_error(c->d, name,
              "'%.*s...' is %u characters long; a name has at most %d", 16,
              name.z, name.n, ESC_SCHEMA_NAME_MAX);
    return;
  }
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

/* FNV-1a, for the two hash tables here. */
static size_t hash_bytes(const char *z, size_t n) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)z[i]) * UINT64_C(1099511628211);
  /* The tables index by the low bits, which FNV leaves depending on the
   * low bits of the bytes alone: fold the high bits in. */
  return (size_t)(h ^ (h >> 29) ^ (h >> 47));
}

/* The bits of a name's hash kept in its slot. */
static uint32_t slot_tag(size_t hash) {
  return (uint32_t)((uint64_t)hash >> 32);
}

/* Registers a generated C identifier made by the pattern `site` for the
 * schema name `at`. Two schema names mapping to one identifier would make
 * the output fail to compile, so say so here. A repeat of the same name
 * through the same pattern is a duplicate declaration, which is reported
 * as such, so it is passed over in silence. The identifiers are kept
 * apart from the schema's arena: there are many, and only the checker
 * needs them. */
static void claim(checker *c, const char *name, esc_tok at, esc_name_id site) {
  size_t mask, i, len, hash;
  if (!name)
    return;
  if (c->n_cnames * 2 >= c->n_slots) {
    size_t n = c->n_slots ? c->n_slots * 2 : 256;
    struct cname_slot *slots = calloc(n, sizeof *slots);
    if (!slots || c->n_cnames >= UINT32_MAX) {
      free(slots);
      c->oom = true;
      return;
    }
    for (size_t k = 0; k < c->n_cnames; k++) {
      i = c->cnames[k].hash & (n - 1);
      while (slots[i].cname)
        i = (i + 1) & (n - 1);
      slots[i] =
          (struct cname_slot){(uint32_t)k + 1, slot_tag(c->cnames[k].hash)};
    }
    free(c->slots);
    c->slots = slots;
    c->n_slots = n;
  }
  mask = c->n_slots - 1;
  len = strlen(name) + 1;
  hash = hash_bytes(name, len - 1);
  for (i = hash & mask; c->slots[i].cname; i = (i + 1) & mask) {
    if (c->slots[i].tag != slot_tag(hash))
      continue;
    struct cname *prev = &c->cnames[c->slots[i].cname - 1];
    if (prev->hash != hash || strcmp(c->pool + prev->name, name) != 0)
      continue;
    if (prev->site == site && chk_same(prev->at, at))
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
  if (esc_grow(&c->pool, &c->pool_cap, c->pool_len + len, 1, 4096) != 0 ||
      esc_grow(&c->cnames, &c->cap_cnames, c->n_cnames + 1, sizeof *c->cnames,
               64) != 0) {
    c->oom = true;
    return;
  }
  memcpy(c->pool + c->pool_len, name, len);
  c->cnames[c->n_cnames] = (struct cname){c->pool_len, hash, at, site};
  c->pool_len += len;
  c->slots[i] = (struct cname_slot){(uint32_t)++c->n_cnames, slot_tag(hash)};
}

void chk_claim(checker *c, esc_tok at, esc_name_id id, const char *a,
               const char *b, const char *cc) {
  esc_namebuf nb;
  /* A name too long to spell is longer than any C compiler cares to
   * compare: nothing to claim. */
  claim(c, esc_name(&nb, id, a, b, cc), at, id);
}

void chk_claim_const(checker *c, esc_tok at, const char *owner_upper,
                     esc_tok value) {
  esc_namebuf nb;
  claim(c, esc_name_const(&nb, owner_upper, value), at, ESC_N_CONST);
}

/* What every struct (record, state, command, event) generates. */
void chk_claim_all(checker *c, esc_tok at, const esc_name_id *ids, size_t n,
                   const char *owner) {
  for (size_t i = 0; i < n; i++)
    chk_claim(c, at, ids[i], owner, NULL, NULL);
}

void chk_claim_struct(checker *c, const char *c_name, esc_tok at) {
  static const esc_name_id ids[] = {ESC_N_STRUCT, ESC_N_DESC,   ESC_N_INIT,
                                    ESC_N_ENCODE, ESC_N_DECODE, ESC_N_FIELDS};
  esc_namebuf nb;
  if (!c_name)
    return;
  chk_claim_all(c, at, ids, sizeof ids / sizeof ids[0], c_name);
  claim(c, esc_name_type_id(&nb, c_name), at, ESC_N_TYPE_ID);
}

bool chk_same(esc_tok a, esc_tok b) {
  return a.n == b.n && memcmp(a.z, b.z, a.n) == 0;
}

void chk_duplicate(checker *c, esc_tok again, esc_tok first, const char *what) {
  esc_error(c->d, again, "%s '%.*s' is already declared", what, TOKF(again));
  esc_note(c->d, first, "previous declaration of '%.*s' is here", TOKF(first));
}

/* ---- "did you mean" ------------------------------------------------------ */

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

void chk_consider(suggest *sg, esc_tok cand) {
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

void chk_consider_str(suggest *sg, const char *cand) {
  esc_tok t = {cand, (uint32_t)strlen(cand), 0, 0};
  chk_consider(sg, t);
}

/* "; did you mean 'X'?" when there is a close candidate, else "". */
const char *chk_hint(const suggest *sg, char *buf, size_t n) {
  if (!sg->best.n)
    return "";
  snprintf(buf, n, "; did you mean '%.*s'?", TOKF(sg->best));
  return buf;
}

const char *chk_hint_decls(esc_tok name, const esc_decl *list, char *buf,
                           size_t n) {
  suggest sg = SUGGEST(name);
  for (; list; list = list->next)
    chk_consider(&sg, list->name);
  return chk_hint(&sg, buf, n);
}

/* ---- lookups ---------------------------------------------------------- */

/* The slot of `name` in c->tops: where it is, or where it would go. */
static esc_decl **top_slot(checker *c, esc_tok name) {
  size_t mask = c->n_tops - 1, i = hash_bytes(name.z, name.n) & mask;
  while (c->tops[i] && !chk_same(c->tops[i]->name, name))
    i = (i + 1) & mask;
  return &c->tops[i];
}

/* Indexes the top-level declarations; false when out of memory. */
bool chk_index_tops(checker *c) {
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
esc_decl *chk_find_top(checker *c, esc_tok name) {
  return c->tops ? *top_slot(c, name) : NULL;
}

esc_decl *chk_find_current_event(esc_decl *agg, esc_tok name) {
  for (esc_decl *e = agg->events; e; e = e->next)
    if (e->current && chk_same(e->name, name))
      return e;
  return NULL;
}

esc_decl *chk_find_command(esc_decl *agg, esc_tok name) {
  for (esc_decl *m = agg->commands; m; m = m->next)
    if (chk_same(m->name, name))
      return m;
  return NULL;
}

const char *chk_kind_word(int kind) {
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

/* What other languages call the built-in types, for "did you mean" when
 * no name is close in spelling ("str" is three edits from "string"). */
void chk_builtin_alias(suggest *sg) {
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
      const char *name = esc_kind_name(aliases[i].kind);
      sg->best = (esc_tok){name, (uint32_t)strlen(name), 0, 0};
      sg->d = 0;
      return;
    }
  }
}

void chk_names_free(checker *c) {
  free(c->cnames);
  free(c->slots);
  free(c->pool);
  free(c->tops);
}
