/*
 * lex.h - the tokenizer of .es files (re2c, see lex.re).
 */
#ifndef ESC_LEX_H
#define ESC_LEX_H

#include "ast.h"
#include "diag.h"

typedef struct esc_lexer {
  const char *cur;
  const char *lim;        /* one past the last byte; *lim == '\0' */
  const char *line_start; /* first byte of the current line */
  const char *marker;
  uint32_t line;
} esc_lexer;

/* Prepares to tokenize `src[0 .. len)`; `src[len]` must be '\0'. */
void esc_lex_init(esc_lexer *lx, const char *src, size_t len);

/* The next token's TK_* code (parse.h) with its slice in `*tok`; 0 at the
 * end of input; -1 after reporting a lexical error to `d` (the caller
 * stops: a bad token makes everything after it guesswork). */
int esc_lex(esc_lexer *lx, esc_tok *tok, esc_diag *d);

#endif
