/*
 * lex.re - the tokenizer of .es files. re2c turns this into lex.c.
 *
 * Tokens are slices of the source (no copies). Lines and columns are
 * tracked here because re2c has no notion of them: every rule that
 * consumes a newline bumps `line` and moves `line_start`.
 */
#include "lex.h"

#include <string.h>

#include "keywords.h"
#include "parse.h"

void esc_lex_init(esc_lexer *lx, const char *src, size_t len) {
  lx->cur = src;
  lx->lim = src + len;
  lx->line_start = src;
  lx->marker = src;
  lx->line = 1;
}

static void newline(esc_lexer *lx, const char *after) {
  lx->line++;
  lx->line_start = after;
}

/* Skips a block comment whose "/" "*" ends at lx->cur; 0, or -1 if it
 * never closes. */
static int block_comment(esc_lexer *lx) {
  const char *p = lx->cur;
  while (p + 1 < lx->lim) {
    if (p[0] == '*' && p[1] == '/') {
      lx->cur = p + 2;
      return 0;
    }
    if (*p == '\n')
      newline(lx, p + 1);
    p++;
  }
  return -1;
}

/* Finds the closing quote of a string whose opening quote ends at
 * lx->cur. Escapes are only skipped here; the checker decodes them. */
static int string_body(esc_lexer *lx) {
  const char *p = lx->cur;
  while (p < lx->lim && *p != '"' && *p != '\n') {
    if (*p == '\\' && p + 1 < lx->lim && p[1] != '\n')
      p++;
    p++;
  }
  if (p >= lx->lim || *p != '"')
    return -1;
  lx->cur = p + 1;
  return 0;
}

int esc_lex(esc_lexer *lx, esc_tok *tok, esc_diag *d) {
  for (;;) {
    const char *start = lx->cur;
    tok->z = start;
    tok->line = lx->line;
    tok->col = (uint32_t)(start - lx->line_start) + 1;
    tok->n = 0;
#define TOKEN(code)                                                            \
  do {                                                                         \
    tok->n = (uint32_t)(lx->cur - start);                                      \
    return (code);                                                             \
  } while (0)
    /*!re2c
      re2c:define:YYCTYPE = "unsigned char";
      re2c:define:YYCURSOR = "lx->cur";
      re2c:define:YYLIMIT = "lx->lim";
      re2c:define:YYMARKER = "lx->marker";
      re2c:yyfill:enable = 0;
      re2c:eof = 0;
      re2c:flags:utf-8 = 0;

      ident = [a-zA-Z_][a-zA-Z0-9_]*;
      dec = [0-9]+;

      $               { return 0; }
      [ \t\r\f\v]+    { continue; }
      "\n"            { newline(lx, lx->cur); continue; }
      "//" [^\n]*    { continue; }
      "/*"            {
                        if (block_comment(lx) != 0) {
                          tok->n = 2;
                          esc_error(d, *tok, "unterminated comment");
                          return -1;
                        }
                        continue;
                      }
      "\""            {
                        if (string_body(lx) != 0) {
                          tok->n = 1;
                          esc_error(d, *tok, "unterminated string");
                          return -1;
                        }
                        TOKEN(TK_STRING);
                      }

      ident        {
                     /* Keywords come from keywords.h, like everywhere. */
                     int kw = esc_keyword_token(start, (size_t)(lx->cur - start));
                     TOKEN(kw ? kw : TK_IDENT);
                   }
      dec | "0" [xX] [0-9a-fA-F]+ { TOKEN(TK_INT); }
      dec "." dec ([eE] [+-]? dec)? | dec [eE] [+-]? dec { TOKEN(TK_FLOAT); }
      (dec | "0" [xX]) ident { tok->n = (uint32_t)(lx->cur - start);
                        esc_error(d, *tok, "malformed number '%.*s'", (int)tok->n, tok->z);
                        return -1; }

      ";" { TOKEN(TK_SEMI); }
      ":" { TOKEN(TK_COLON); }
      "," { TOKEN(TK_COMMA); }
      "." { TOKEN(TK_DOT); }
      "{" { TOKEN(TK_LBRACE); }
      "}" { TOKEN(TK_RBRACE); }
      "<" { TOKEN(TK_LT); }
      ">" { TOKEN(TK_GT); }
      "?" { TOKEN(TK_QUESTION); }
      "=" { TOKEN(TK_EQ); }
      "-" { TOKEN(TK_MINUS); }

      * {
          tok->n = 1;
          if (*start == '\0')
            esc_error(d, *tok, "stray NUL byte in input");
          else if ((unsigned char)*start >= 0x80) {
            /* Underline the whole character, not just its first byte. */
            while (start + tok->n < lx->lim &&
                   ((unsigned char)start[tok->n] & 0xc0) == 0x80 && tok->n < 4)
              tok->n++;
            esc_error(d, *tok,
                      "non-ASCII character outside a string or comment; "
                      "names are ASCII letters, digits and '_'");
          }
          else if ((unsigned char)*start < 0x20 || *start == 0x7f)
            esc_error(d, *tok, "stray control character 0x%02x", (unsigned)(unsigned char)*start);
          else
            esc_error(d, *tok, "unexpected character '%c'", *start);
          return -1;
        }
    */
#undef TOKEN
  }
}
