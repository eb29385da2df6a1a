/*
 * build.h - what the grammar's actions call to build the AST.
 *
 * The parser only shapes; these functions allocate nodes in the schema's
 * arena and link them. Nothing they return needs freeing on its own, so
 * the grammar needs no destructors: dropping the arena drops the tree.
 */
#ifndef ESC_BUILD_H
#define ESC_BUILD_H

#include "ast.h"
#include "diag.h"
#include "keywords.h"

typedef struct esc_nlist {
  esc_name_list *first, *last;
} esc_nlist;

typedef struct esc_flist {
  esc_field *first, *last;
  uint32_t n;
} esc_flist;

typedef struct esc_parser {
  esc_schema *schema;
  esc_diag *diag;
  esc_decl *cur;   /* aggregate, projection or saga being parsed */
  esc_decl **tail; /* where the next top-level declaration goes */
  esc_tok prev;    /* the token before the one being parsed */
  bool failed;     /* a syntax error was reported */
  bool oom;
} esc_parser;

void esc_parser_init(esc_parser *ps, esc_schema *s, esc_diag *d);

/* Reports a syntax error at `tok` (`major` 0: end of input); `expected`
 * lists the token codes that would have been accepted there, `open` is
 * the innermost '{' not yet closed (NULL: none). */
void esc_syntax_error(esc_parser *ps, int major, const esc_tok *tok,
                      const int *expected, int n_expected, const esc_tok *open);

/* Reports `name` as a reserved word used where a name belongs. */
void esc_reserved_name(esc_parser *ps, esc_tok name);

esc_decl *esc_add_decl(esc_parser *ps, int kind, esc_tok kw, esc_tok name);
/* A command or event of the aggregate being parsed. */
esc_decl *esc_add_member(esc_parser *ps, int kind, esc_tok kw, esc_tok name);

esc_nlist esc_nlist_one(esc_parser *ps, esc_tok name, esc_tok qual);
esc_nlist esc_nlist_add(esc_parser *ps, esc_nlist l, esc_tok name,
                        esc_tok qual);

esc_flist esc_flist_add(esc_parser *ps, esc_flist l, esc_tok name,
                        esc_type *type, esc_literal *def);

esc_type *esc_type_named(esc_parser *ps, esc_tok name);
esc_type *esc_type_list(esc_parser *ps, esc_tok kw, esc_type *elem);
/* `max_kw` and `max` are the `max N` bound, or both NULL. */
esc_type *esc_type_finish(esc_parser *ps, esc_type *t, bool optional,
                          const esc_tok *max_kw, const esc_tok *max);

esc_literal *esc_literal_new(esc_parser *ps, int kind, esc_tok tok,
                             const esc_tok *minus);

/* Members of the aggregate or saga being parsed. */
void esc_set_key(esc_parser *ps, esc_tok kw, esc_tok type);
void esc_set_state(esc_parser *ps, esc_tok kw, esc_flist fields);
void esc_set_errors(esc_parser *ps, esc_tok kw, esc_nlist errors);
void esc_set_snapshot(esc_parser *ps, esc_tok kw, esc_tok every);
void esc_add_saga_on(esc_parser *ps, int kind, esc_tok at, esc_nlist ref,
                     const esc_tok *by);
void esc_add_sends(esc_parser *ps, esc_tok kw, esc_nlist targets);
void esc_add_projection_on(esc_parser *ps, esc_nlist refs);

/* The value of an INT token (decimal or 0x hex); false on overflow. */
bool esc_tok_u64(esc_tok t, uint64_t *out);

/* Whether the token's text equals `s`. */
bool esc_tok_is(esc_tok t, const char *s);

#endif
