/*
 * build.c - AST construction for the grammar's actions.
 *
 * Allocation failures set ps->oom and return NULL or an empty list; the
 * grammar tolerates NULL everywhere, and the driver reports the failure
 * once at the end.
 */
#include "build.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

void esc_parser_init(esc_parser *ps, esc_schema *s, esc_diag *d) {
  memset(ps, 0, sizeof *ps);
  ps->schema = s;
  ps->diag = d;
  ps->tail = &s->decls;
}

static void *node(esc_parser *ps, size_t size) {
  void *p = es_arena_calloc(&ps->schema->arena, 1, size);
  if (!p)
    ps->oom = true;
  return p;
}

bool esc_tok_is(esc_tok t, const char *s) {
  size_t n = strlen(s);
  return t.n == n && memcmp(t.z, s, n) == 0;
}

bool esc_tok_u64(esc_tok t, uint64_t *out) {
  uint64_t v = 0;
  uint32_t i = 0;
  unsigned base = 10;
  if (t.n > 2 && t.z[0] == '0' && (t.z[1] == 'x' || t.z[1] == 'X'))
    base = 16, i = 2;
  for (; i < t.n; i++) {
    char c = t.z[i];
    unsigned dgt;
    if (c >= '0' && c <= '9')
      dgt = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      dgt = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      dgt = (unsigned)(c - 'A' + 10);
    else
      return false;
    if (dgt >= base || v > (UINT64_MAX - dgt) / base)
      return false;
    v = v * base + dgt;
  }
  *out = v;
  return true;
}

/* How a token is named in "expected ..." messages: a keyword as itself,
 * in quotes. */
static const char *token_desc(int code, char *buf, size_t n) {
  const char *kw = esc_keyword_text(code);
  if (kw) {
    snprintf(buf, n, "'%s'", kw);
    return buf;
  }
  switch (code) {
  case TK_IDENT:
    return "a name";
  case TK_INT:
    return "an integer";
  case TK_FLOAT:
    return "a number";
  case TK_STRING:
    return "a string";
  case TK_SEMI:
    return "';'";
  case TK_COLON:
    return "':'";
  case TK_COMMA:
    return "','";
  case TK_DOT:
    return "'.'";
  case TK_LBRACE:
    return "'{'";
  case TK_RBRACE:
    return "'}'";
  case TK_LT:
    return "'<'";
  case TK_GT:
    return "'>'";
  case TK_QUESTION:
    return "'?'";
  case TK_EQ:
    return "'='";
  case TK_MINUS:
    return "'-'";
  default:
    return "a token";
  }
}

void esc_syntax_error(esc_parser *ps, int major, const esc_tok *tok,
                      const int *expected, int n_expected,
                      const esc_tok *open) {
  char list[512];
  size_t len = 0;
  bool ident = false, semi = false, rbrace = false;
  int n_show = 0;
  int show[8];
  esc_tok at = *tok;

  if (ps->failed)
    return;
  ps->failed = true;
  /* Wherever a name may stand, every keyword may too (to be refused with a
   * clear message), so "a name" covers them. */
  for (int i = 0; i < n_expected; i++) {
    ident |= expected[i] == TK_IDENT;
    semi |= expected[i] == TK_SEMI;
    rbrace |= expected[i] == TK_RBRACE;
  }
  for (int i = 0; i < n_expected && n_show <= 7; i++) {
    if (ident && esc_is_keyword_token(expected[i]))
      continue;
    /* The grammar takes 'schema' anywhere at the top so that the checker
     * can say where it belongs; suggesting it mid-file would mislead. */
    if (expected[i] == TK_SCHEMA && n_expected > 1 && ps->prev.n)
      continue;
    show[n_show++] = expected[i];
  }
  list[0] = '\0';
  if (n_show >= 1 && n_show <= 7) {
    for (int i = 0; i < n_show; i++) {
      const char *sep = i == 0 ? "" : i == n_show - 1 ? " or " : ", ";
      char kw[32];
      int w = snprintf(list + len, sizeof list - len, "%s%s", sep,
                       token_desc(show[i], kw, sizeof kw));
      if (w < 0 || (size_t)w >= sizeof list - len)
        break;
      len += (size_t)w;
    }
  }

  /* A missing ';' or '}' is noticed only at the next token, often on a
   * later line; the place to show is just after the previous one. */
  if (ps->prev.n && (major == 0 || (semi && tok->line > ps->prev.line))) {
    at.z = ps->prev.z + ps->prev.n;
    at.n = 1;
    at.line = ps->prev.line;
    at.col = ps->prev.col + ps->prev.n;
  }

  if (major == 0) {
    if (list[0])
      esc_error(ps->diag, at, "expected %s at end of input", list);
    else
      esc_error(ps->diag, at, "unexpected end of input");
    if (rbrace && open)
      esc_note(ps->diag, *open, "to match this '{'");
  } else if (ident && esc_is_keyword_token(major)) {
    esc_error(ps->diag, at, "'%.*s' is a reserved word and cannot be a name",
              (int)tok->n, tok->z);
  } else if (list[0] && at.z != tok->z) {
    esc_error(ps->diag, at, "expected %s after '%.*s'", list, (int)ps->prev.n,
              ps->prev.z);
  } else if (list[0]) {
    esc_error(ps->diag, at, "expected %s before '%.*s'", list, (int)tok->n,
              tok->z);
  } else {
    esc_error(ps->diag, at, "unexpected '%.*s'", (int)tok->n, tok->z);
  }
}

void esc_reserved_name(esc_parser *ps, esc_tok name) {
  esc_error(ps->diag, name, "'%.*s' is a reserved word and cannot be a name",
            (int)name.n, name.z);
}

/* A new declaration of `kind`, version 1, not yet in any list. */
static esc_decl *new_decl(esc_parser *ps, int kind, esc_tok kw, esc_tok name) {
  esc_decl *d = node(ps, sizeof *d);
  if (!d)
    return NULL;
  d->kind = kind;
  d->kw = kw;
  d->name = name;
  d->version = 1;
  return d;
}

esc_decl *esc_add_decl(esc_parser *ps, int kind, esc_tok kw, esc_tok name) {
  esc_decl *d = new_decl(ps, kind, kw, name);
  if (!d)
    return NULL;
  *ps->tail = d;
  ps->tail = &d->next;
  return d;
}

esc_decl *esc_add_member(esc_parser *ps, int kind, esc_tok kw, esc_tok name) {
  esc_decl *agg = ps->cur, *d, **tail;
  if (!agg || !(d = new_decl(ps, kind, kw, name)))
    return NULL;
  d->parent = agg;
  tail = kind == ESC_DECL_COMMAND ? &agg->commands : &agg->events;
  while (*tail)
    tail = &(*tail)->next;
  *tail = d;
  return d;
}

/* Links node `n` at the end of list `l`, a struct of `first` and `last`
 * (esc_nlist, esc_flist): one statement for lists of any node type. */
#define LIST_APPEND(l, n)                                                      \
  do {                                                                         \
    if ((l).last)                                                              \
      (l).last->next = (n);                                                    \
    else                                                                       \
      (l).first = (n);                                                         \
    (l).last = (n);                                                            \
  } while (0)

esc_nlist esc_nlist_one(esc_parser *ps, esc_tok name, esc_tok qual) {
  esc_nlist l = {0};
  return esc_nlist_add(ps, l, name, qual);
}

esc_nlist esc_nlist_add(esc_parser *ps, esc_nlist l, esc_tok name,
                        esc_tok qual) {
  esc_name_list *n = node(ps, sizeof *n);
  if (!n)
    return l;
  n->name = name;
  n->qual = qual;
  LIST_APPEND(l, n);
  return l;
}

esc_flist esc_flist_add(esc_parser *ps, esc_flist l, esc_tok name,
                        esc_type *type, esc_literal *def) {
  esc_field *f = node(ps, sizeof *f);
  if (!f || !type)
    return l;
  f->name = name;
  f->type = type;
  f->def = def;
  f->index = l.n++;
  LIST_APPEND(l, f);
  return l;
}

/* A new type of `kind`, spelled `name` in the schema. */
static esc_type *new_type(esc_parser *ps, int kind, esc_tok name) {
  esc_type *t = node(ps, sizeof *t);
  if (t) {
    t->kind = kind;
    t->name = name;
  }
  return t;
}

esc_type *esc_type_named(esc_parser *ps, esc_tok name) {
  int kind = esc_builtin_kind(name);
  return new_type(ps, kind >= 0 ? kind : ESC_T_NAMED, name);
}

esc_type *esc_type_list(esc_parser *ps, esc_tok kw, esc_type *elem) {
  esc_type *t = elem ? new_type(ps, ESC_T_LIST, kw) : NULL;
  if (t)
    t->elem = elem;
  return t;
}

esc_type *esc_type_finish(esc_parser *ps, esc_type *t, bool optional,
                          const esc_tok *max_kw, const esc_tok *max) {
  if (!t)
    return NULL;
  t->optional = optional;
  if (max_kw && max) {
    t->has_max = true;
    /* "max 16", as one token for carets. */
    t->max_tok = *max_kw;
    if (max->line == max_kw->line)
      t->max_tok.n = (uint32_t)(max->z + max->n - max_kw->z);
    if (!esc_tok_u64(*max, &t->max) || t->max > UINT32_MAX) {
      esc_error(ps->diag, t->max_tok, "'%.*s' is too large (at most %u)",
                (int)t->max_tok.n, t->max_tok.z, (unsigned)UINT32_MAX);
      t->max = UINT64_MAX; /* reported: no "max 0" on top */
    }
  }
  return t;
}

esc_literal *esc_literal_new(esc_parser *ps, int kind, esc_tok tok,
                             const esc_tok *minus) {
  esc_literal *l = node(ps, sizeof *l);
  if (!l)
    return NULL;
  l->kind = kind;
  l->tok = tok;
  l->at = minus ? *minus : tok;
  if (minus)
    l->at.n = (uint32_t)(tok.z + tok.n - minus->z);
  l->negative = minus != NULL;
  return l;
}

/* Reports a second occurrence of a block that may appear once. */
static bool once(esc_parser *ps, bool seen, esc_tok kw, const char *what,
                 esc_tok first) {
  if (seen) {
    esc_error(ps->diag, kw, "'%s' given twice in '%.*s'", what,
              (int)ps->cur->name.n, ps->cur->name.z);
    esc_note(ps->diag, first, "first given here");
  }
  return !seen;
}

void esc_set_key(esc_parser *ps, esc_tok kw, esc_tok type) {
  if (!ps->cur ||
      !once(ps, ps->cur->key.type.n != 0, kw, "key", ps->cur->key.type))
    return;
  ps->cur->key.type = type;
}

void esc_set_state(esc_parser *ps, esc_tok kw, esc_flist fields) {
  if (!ps->cur || !once(ps, ps->cur->has_state, kw, "state", ps->cur->state_at))
    return;
  ps->cur->has_state = true;
  ps->cur->state_at = kw;
  ps->cur->fields = fields.first;
  ps->cur->n_fields = fields.n;
}

void esc_set_errors(esc_parser *ps, esc_tok kw, esc_nlist errors) {
  if (!ps->cur || !once(ps, ps->cur->errors != NULL, kw, "errors",
                        ps->cur->errors ? ps->cur->errors->name : kw))
    return;
  ps->cur->errors = errors.first;
}

void esc_set_snapshot(esc_parser *ps, esc_tok kw, esc_tok every) {
  if (!ps->cur ||
      !once(ps, ps->cur->has_snapshot, kw, "snapshot", ps->cur->snapshot_at))
    return;
  ps->cur->has_snapshot = true;
  ps->cur->snapshot_at = kw;
  if (!esc_tok_u64(every, &ps->cur->snapshot_every) ||
      ps->cur->snapshot_every == 0 || ps->cur->snapshot_every > UINT32_MAX)
    esc_error(ps->diag, every,
              "snapshot interval must be between 1 and %u events",
              (unsigned)UINT32_MAX);
}

void esc_add_saga_on(esc_parser *ps, int kind, esc_tok at, esc_nlist ref,
                     const esc_tok *by) {
  esc_saga_on **tail;
  esc_name_list *r = ref.first;
  if (!ps->cur)
    return;
  tail = &ps->cur->saga_on;
  while (*tail)
    tail = &(*tail)->next;
  do {
    esc_saga_on *on = node(ps, sizeof *on);
    if (!on)
      return;
    on->kind = kind;
    on->at = at;
    on->ref = r;
    if (by)
      on->by = *by;
    *tail = on;
    tail = &on->next;
    if (kind == ESC_ON_TIMEOUT)
      ps->cur->on_timeout = true;
    if (r) {
      esc_name_list *next = r->next;
      r->next = NULL; /* each `on` owns exactly one reference */
      r = next;
    }
  } while (r);
}

static void append(esc_name_list **head, esc_nlist l) {
  while (*head)
    head = &(*head)->next;
  *head = l.first;
}

void esc_add_sends(esc_parser *ps, esc_tok kw, esc_nlist targets) {
  (void)kw;
  if (ps->cur)
    append(&ps->cur->sends, targets);
}

void esc_add_projection_on(esc_parser *ps, esc_nlist refs) {
  if (ps->cur)
    append(&ps->cur->on, refs);
}
