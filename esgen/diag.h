/*
 * diag.h - gcc-style diagnostics for schema files.
 *
 *   bank.es:12:5: error: unknown type 'Mony'
 *      12 |   x: Mony;
 *         |      ^~~~
 *
 * Messages are lowercase, with no final period and names in quotes.
 *
 * Diagnostics are collected as they are reported (the checker works rule
 * by rule, not line by line) and printed by esc_diag_finish() in source
 * order, each error or warning followed by its notes. Only the first
 * ESC_MAX_ERRORS errors in that order are shown; one final note counts the
 * rest.
 */
#ifndef ESC_DIAG_H
#define ESC_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "ast.h"

#define ESC_MAX_ERRORS 20

/* One reported error or warning with its notes, rendered. */
typedef struct esc_diag_entry {
  uint32_t line, col; /* of the error or warning; 0: about the whole file */
  size_t seq;         /* report order, to keep ties stable */
  bool error;
  char *text;
  size_t len;
} esc_diag_entry;

typedef struct esc_diag {
  FILE *out; /* where messages go; NULL: nowhere (counting only) */
  const char *path;
  const char *src;
  size_t src_len;
  int n_errors;
  int n_warnings;
  int suppressed; /* errors past the cap, once finished */
  /* held until esc_diag_finish() */
  esc_diag_entry *entries;
  size_t n_entries, cap_entries;
  bool dropping; /* the last error or warning was lost: drop its notes */
} esc_diag;

void esc_diag_init(esc_diag *d, FILE *out, const char *path, const char *src,
                   size_t src_len);

#if defined(__GNUC__)
#define ESC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ESC_PRINTF(a, b)
#endif

/* An error at `at` (its whole length is underlined). */
void esc_error(esc_diag *d, esc_tok at, const char *fmt, ...) ESC_PRINTF(3, 4);
void esc_warning(esc_diag *d, esc_tok at, const char *fmt, ...)
    ESC_PRINTF(3, 4);
/* A note that belongs to the previous diagnostic (dropped with it). */
void esc_note(esc_diag *d, esc_tok at, const char *fmt, ...) ESC_PRINTF(3, 4);

/* A note about `at` in another file (`path` with source `src`, `len`
 * bytes), belonging to the previous diagnostic like esc_note(). */
void esc_note_in(esc_diag *d, const char *path, const char *src, size_t len,
                 esc_tok at, const char *fmt, ...) ESC_PRINTF(6, 7);

/* A note on its own, neither an error nor a warning: something the user
 * should know that needs no change. */
void esc_remark(esc_diag *d, esc_tok at, const char *fmt, ...) ESC_PRINTF(3, 4);

/* An error about the file as a whole ("bank.es: error: ..."). */
void esc_error_file(esc_diag *d, const char *fmt, ...) ESC_PRINTF(2, 3);

/* Prints what was reported, in source order and capped, then the "more
 * errors not shown" note if errors were dropped; releases the held
 * diagnostics. Call it once, when the source is done with. */
void esc_diag_finish(esc_diag *d);

#endif
