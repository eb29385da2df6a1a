/*
 * diag.h - gcc-style diagnostics for schema files.
 *
 *   bank.es:12:5: error: unknown type 'Mony'
 *      12 |   x: Mony;
 *         |      ^~~~
 *
 * Messages are lowercase, with no final period and names in quotes.
 * After ESC_MAX_ERRORS errors the rest are dropped with one final note.
 */
#ifndef ESC_DIAG_H
#define ESC_DIAG_H

#include <stdarg.h>
#include <stdio.h>

#include "ast.h"

#define ESC_MAX_ERRORS 20

typedef struct esc_diag {
  FILE *out;          /* where messages go; NULL: nowhere (counting only) */
  const char *path;
  const char *src;
  size_t src_len;
  int n_errors;
  int n_warnings;
  int suppressed;     /* errors past the cap */
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

/* An error about the file as a whole ("bank.es: error: ..."). */
void esc_error_file(esc_diag *d, const char *fmt, ...) ESC_PRINTF(2, 3);

/* Prints the "too many errors" line if errors were dropped. */
void esc_diag_finish(esc_diag *d);

#endif
