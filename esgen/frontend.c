/*
 * frontend.c - reading, tokenizing, parsing and checking a schema.
 */
#include "frontend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "grow.h"
#include "lex.h"
#include "parse.h"

/* Lemon's entry points (parse.c), declared here as Lemon does not. */
void *escParseAlloc(void *(*alloc)(size_t), esc_parser *ps);
void escParse(void *parser, int major, esc_tok minor);
void escParseFree(void *parser, void (*dealloc)(void *));

void esc_schema_free(esc_schema *s) {
  if (!s)
    return;
  es_arena_close(&s->arena);
  free(s);
}

/* Feeds every token to the parser; stops at the first error. */
static void parse(esc_schema *s, esc_diag *d, esc_parser *ps) {
  esc_lexer lx;
  esc_tok tok;
  void *p = escParseAlloc(malloc, ps);
  if (!p) {
    esc_error_file(d, "out of memory");
    return;
  }
  esc_lex_init(&lx, s->src, s->src_len);
  for (;;) {
    int code = esc_lex(&lx, &tok, d);
    if (code < 0) {
      ps->failed = true;
      break;
    }
    escParse(p, code, tok);
    if (code == 0 || ps->failed || ps->oom)
      break;
    ps->prev = tok;
  }
  escParseFree(p, free);
  if (ps->oom)
    esc_error_file(d, "out of memory");
}

int esc_compile(const char *path, const char *src, size_t len, esc_diag *d,
                esc_schema **out) {
  esc_schema *s;
  esc_parser ps;
  char *copy;
  int errors = d->n_errors;

  *out = NULL;
  s = calloc(1, sizeof *s);
  if (!s) {
    esc_error_file(d, "out of memory");
    return -1;
  }
  /* The tree takes some tens of times the source; the cap only guards
   * against a runaway. */
  es_arena_init(&s->arena,
                len < (ESC_MAX_SOURCE >> 6) ? (size_t)1 << 32 : len * 64);
  copy = es_arena_alloc(&s->arena, len + 1);
  if (!copy) {
    esc_error_file(d, "out of memory");
    goto fail;
  }
  if (len)
    memcpy(copy, src, len);
  copy[len] = '\0';
  s->path = path;
  s->src = copy;
  s->src_len = len;
  /* Diagnostics show lines from the same copy the tokens point into. */
  d->src = copy;
  d->src_len = len;

  esc_parser_init(&ps, s, d);
  parse(s, d, &ps);
  /* A syntax error leaves no tree worth checking; errors the grammar's
   * actions report (a reserved word as a name, a block given twice) do,
   * and the checker may find more. */
  if (!ps.failed && !ps.oom)
    esc_check(s, d);
  if (d->n_errors != errors)
    goto fail;
  if (esc_model_finish(s) != 0) {
    esc_error_file(d, "out of memory");
    goto fail;
  }
  *out = s;
  return 0;
fail:
  esc_schema_free(s);
  return -1;
}

char *esc_read_source(const char *path, size_t *len, const char **why) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0;
  if (!f) {
    *why = strerror(errno);
    return NULL;
  }
  for (;;) {
    if (n == cap) {
      if (cap >= ESC_MAX_SOURCE) {
        *why = "file is larger than 64 MiB";
        goto fail;
      }
      if (esc_grow(&buf, &cap, n + 1, 1, 8192) != 0) {
        *why = "out of memory";
        goto fail;
      }
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) {
        *why = strerror(errno);
        goto fail;
      }
      break;
    }
  }
  fclose(f);
  *len = n;
  return buf ? buf : calloc(1, 1);
fail:
  fclose(f);
  free(buf);
  return NULL;
}

int esc_compile_file(const char *path, FILE *diag_out, esc_schema **out,
                     int *n_warnings) {
  esc_diag d;
  size_t len = 0;
  const char *why = NULL;
  char *src = esc_read_source(path, &len, &why);
  int rc;

  *out = NULL;
  esc_diag_init(&d, diag_out, path, src, len);
  if (!src) {
    esc_error_file(&d, "cannot read '%s': %s", path,
                   why ? why : "unknown error");
    esc_diag_finish(&d);
    return -1;
  }
  rc = esc_compile(path, src, len, &d, out);
  free(src);
  esc_diag_finish(&d);
  if (n_warnings)
    *n_warnings = d.n_warnings;
  return rc;
}
