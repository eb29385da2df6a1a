/*
** parse.y - the grammar of .es schema files (Lemon).
**
** Actions only shape: the esc_* builders in build.c allocate and link
** nodes in the schema's arena, so no nonterminal owns heap memory and no
** destructor is needed. Error recovery is off: the first syntax error
** stops the parse (everything after it would be guesswork), and the
** checker reports the many semantic errors a run can have.
*/

%name escParse
%token_prefix TK_
%token_type {esc_tok}
%extra_context {esc_parser *ps}
%default_type {esc_tok}
%stack_size 100

%include {
#include <assert.h>
#include <stdlib.h>

#include "build.h"

#define YYNOERRORRECOVERY 1
}

/* Works out which tokens would have been accepted, by replaying the
** parser's actions on a copy of its state stack for each candidate, so the
** message can say "expected ';'" rather than just "unexpected". */
%syntax_error {
  int expected[YYNTOKEN];
  int n_expected = 0;
  int depth = (int)(yypParser->yytos - yypParser->yystack);
  for (int t = 1; t < YYNTOKEN && depth < 120; t++) {
    YYACTIONTYPE st[128];
    int top = depth;
    for (int i = 0; i <= top; i++) st[i] = yypParser->yystack[i].stateno;
    for (int guard = 0; guard < 256; guard++) {
      YYACTIONTYPE act = yy_find_shift_action((YYCODETYPE)t, st[top]);
      if (act <= YY_MAX_SHIFTREDUCE || act == YY_ACCEPT_ACTION) {
        expected[n_expected++] = t;
        break;
      }
      if (act < YY_MIN_REDUCE || act > YY_MAX_REDUCE) break;
      int rule = act - YY_MIN_REDUCE;
      top += yyRuleInfoNRhs[rule];
      if (top < 0 || top >= 126) break;
      st[top + 1] = yy_find_reduce_action(st[top], yyRuleInfoLhs[rule]);
      top++;
    }
  }
  /* The innermost '{' still open, for "to match this '{'". */
  const esc_tok *open = NULL;
  for (yyStackEntry *e = yypParser->yytos; e > yypParser->yystack; e--)
    if (e->major == TK_LBRACE) {
      open = &e->minor.yy0;
      break;
    }
  esc_syntax_error(ps, yymajor, &yyminor, expected, n_expected, open);
}

%stack_overflow {
  esc_tok none = {0};
  esc_error(ps->diag, none, "schema is nested too deeply");
  ps->failed = true;
}

/* Fixes the token numbering, so parse.h stays stable. The keywords come
** first: the same tokens as ESC_KEYWORDS in keywords.h, where their
** spelling is (keywords.c checks the two agree when it is compiled). */
%token SCHEMA ENUM RECORD AGGREGATE KEY STATE ERRORS COMMAND EVENT EMITS
       SNAPSHOT EVERY PROJECTION SAGA ON START BY REJECTED TIMEOUT SENDS LIST
       MAX TRUE FALSE.
%token IDENT INT FLOAT STRING SEMI COLON COMMA DOT LBRACE RBRACE LT GT
       QUESTION EQ MINUS.

%token_class kw SCHEMA|ENUM|RECORD|AGGREGATE|KEY|STATE|ERRORS|COMMAND|EVENT|EMITS|SNAPSHOT|EVERY|PROJECTION|SAGA|ON|START|BY|REJECTED|TIMEOUT|SENDS|LIST|MAX|TRUE|FALSE.

file ::= decls.

decls ::= .
decls ::= decls decl.

/* ---- names ---- */

name(A) ::= IDENT(B).  { A = B; }
name(A) ::= kw(B).     { A = B; esc_reserved_name(ps, B); }

%type names {esc_nlist}
names(A) ::= name(N).                { A = esc_nlist_one(ps, N, (esc_tok){0}); }
names(A) ::= names(L) COMMA name(N). { A = esc_nlist_add(ps, L, N, (esc_tok){0}); }

%type qnames {esc_nlist}
/* The aggregate part is a plain IDENT: reserved words were already refused
** as aggregate names, and allowing them here would make `on rejected`
** and `on timeout` ambiguous. */
qnames(A) ::= IDENT(X) DOT name(Y).                { A = esc_nlist_one(ps, X, Y); }
qnames(A) ::= qnames(L) COMMA IDENT(X) DOT name(Y). { A = esc_nlist_add(ps, L, X, Y); }

%type name_block {esc_nlist}
name_block(A) ::= LBRACE RBRACE.                { A = (esc_nlist){0}; }
name_block(A) ::= LBRACE names(L) RBRACE.       { A = L; }
name_block(A) ::= LBRACE names(L) COMMA RBRACE. { A = L; }

/* ---- top level ---- */

decl ::= SCHEMA(K) name(N) SEMI. { esc_add_decl(ps, ESC_DECL_SCHEMA, K, N); }

decl ::= ENUM(K) name(N) name_block(V). {
  esc_decl *d = esc_add_decl(ps, ESC_DECL_ENUM, K, N);
  if (d) d->values = V.first;
}

decl ::= RECORD(K) name(N) field_block(F). {
  esc_decl *d = esc_add_decl(ps, ESC_DECL_RECORD, K, N);
  if (d) { d->fields = F.first; d->n_fields = F.n; }
}

decl ::= aggregate_head LBRACE aggregate_items RBRACE. { ps->cur = NULL; }
aggregate_head ::= AGGREGATE(K) name(N). { ps->cur = esc_add_decl(ps, ESC_DECL_AGGREGATE, K, N); }

decl ::= projection_head LBRACE projection_items RBRACE. { ps->cur = NULL; }
projection_head ::= PROJECTION(K) name(N). { ps->cur = esc_add_decl(ps, ESC_DECL_PROJECTION, K, N); }

decl ::= saga_head LBRACE saga_items RBRACE. { ps->cur = NULL; }
saga_head ::= SAGA(K) name(N). { ps->cur = esc_add_decl(ps, ESC_DECL_SAGA, K, N); }

/* ---- fields and types ---- */

%type field_block {esc_flist}
field_block(A) ::= LBRACE fields(F) RBRACE. { A = F; }

%type fields {esc_flist}
fields(A) ::= . { A = (esc_flist){0}; }
fields(A) ::= fields(L) name(N) COLON type(T) default(D) SEMI. {
  A = esc_flist_add(ps, L, N, T, D);
}

%type type {esc_type *}
type(A) ::= base(B).                  { A = esc_type_finish(ps, B, false, NULL, NULL); }
type(A) ::= base(B) QUESTION.         { A = esc_type_finish(ps, B, true, NULL, NULL); }
type(A) ::= base(B) MAX(K) INT(M).    { A = esc_type_finish(ps, B, false, &K, &M); }
type(A) ::= base(B) QUESTION MAX(K) INT(M). { A = esc_type_finish(ps, B, true, &K, &M); }

%type base {esc_type *}
base(A) ::= IDENT(N).                { A = esc_type_named(ps, N); }
base(A) ::= LIST(K) LT type(E) GT.   { A = esc_type_list(ps, K, E); }

%type default {esc_literal *}
default(A) ::= .                  { A = NULL; }
default(A) ::= EQ literal(L).     { A = L; }

%type literal {esc_literal *}
literal(A) ::= INT(T).            { A = esc_literal_new(ps, ESC_LIT_INT, T, NULL); }
literal(A) ::= MINUS(M) INT(T).   { A = esc_literal_new(ps, ESC_LIT_INT, T, &M); }
literal(A) ::= FLOAT(T).          { A = esc_literal_new(ps, ESC_LIT_FLOAT, T, NULL); }
literal(A) ::= MINUS(M) FLOAT(T). { A = esc_literal_new(ps, ESC_LIT_FLOAT, T, &M); }
literal(A) ::= STRING(T).         { A = esc_literal_new(ps, ESC_LIT_STRING, T, NULL); }
literal(A) ::= TRUE(T).           { A = esc_literal_new(ps, ESC_LIT_BOOL, T, NULL); }
literal(A) ::= FALSE(T).          { A = esc_literal_new(ps, ESC_LIT_BOOL, T, NULL); }
literal(A) ::= IDENT(T).          { A = esc_literal_new(ps, ESC_LIT_NAME, T, NULL); }

/* ---- aggregate ---- */

aggregate_items ::= .
aggregate_items ::= aggregate_items aggregate_item.

aggregate_item ::= KEY(K) IDENT(T) SEMI.            { esc_set_key(ps, K, T); }
aggregate_item ::= STATE(K) field_block(F).         { esc_set_state(ps, K, F); }
aggregate_item ::= ERRORS(K) name_block(L).         { esc_set_errors(ps, K, L); }
aggregate_item ::= SNAPSHOT(K) EVERY INT(N) SEMI.   { esc_set_snapshot(ps, K, N); }

aggregate_item ::= COMMAND(K) name(N) field_block(F) emits(E). {
  esc_decl *d = esc_add_member(ps, ESC_DECL_COMMAND, K, N);
  if (d) { d->fields = F.first; d->n_fields = F.n; d->emits = E.first; }
}

%type emits {esc_nlist}
emits(A) ::= .                       { A = (esc_nlist){0}; }
emits(A) ::= SEMI.                   { A = (esc_nlist){0}; }
emits(A) ::= EMITS names(L) SEMI.    { A = L; }

aggregate_item ::= EVENT(K) name(N) field_block(F). {
  esc_decl *d = esc_add_member(ps, ESC_DECL_EVENT, K, N);
  if (d) { d->fields = F.first; d->n_fields = F.n; }
}
aggregate_item ::= EVENT(K) name(N) IDENT(V) field_block(F). {
  esc_decl *d = esc_add_member(ps, ESC_DECL_EVENT, K, N);
  if (d) { d->fields = F.first; d->n_fields = F.n; d->version_tok = V; }
}

/* ---- projection ---- */

projection_items ::= .
projection_items ::= projection_items ON qnames(L) SEMI. { esc_add_projection_on(ps, L); }

/* ---- saga ---- */

saga_items ::= .
saga_items ::= saga_items saga_item.

saga_item ::= KEY(K) IDENT(T) SEMI.      { esc_set_key(ps, K, T); }
saga_item ::= STATE(K) field_block(F).   { esc_set_state(ps, K, F); }
saga_item ::= START(K) ON qnames(L) SEMI.               { esc_add_saga_on(ps, ESC_ON_START, K, L, NULL); }
saga_item ::= START(K) ON qnames(L) BY name(B) SEMI.    { esc_add_saga_on(ps, ESC_ON_START, K, L, &B); }
saga_item ::= ON(K) qnames(L) SEMI.                     { esc_add_saga_on(ps, ESC_ON_EVENT, K, L, NULL); }
saga_item ::= ON(K) qnames(L) BY name(B) SEMI.          { esc_add_saga_on(ps, ESC_ON_EVENT, K, L, &B); }
saga_item ::= ON(K) REJECTED qnames(L) SEMI.            { esc_add_saga_on(ps, ESC_ON_REJECTED, K, L, NULL); }
saga_item ::= ON(K) TIMEOUT SEMI.                       { esc_add_saga_on(ps, ESC_ON_TIMEOUT, K, (esc_nlist){0}, NULL); }
saga_item ::= SENDS(K) qnames(L) SEMI.                  { esc_add_sends(ps, K, L); }
