/*
 * frontend.h - esgen's front end as a library: source text in, a checked
 * and resolved schema (ast.h) out. The code generators, and any other
 * tool that needs to understand a schema, start here.
 */
#ifndef ESC_FRONTEND_H
#define ESC_FRONTEND_H

#include <stdio.h>

#include "ast.h"
#include "diag.h"

/* Upper bound on a schema file's size. */
#define ESC_MAX_SOURCE ((size_t)64 << 20)

/* Parses and checks `src[0 .. len)` (copied; need not be NUL-terminated),
 * reporting to `d` as coming from `path`. On success returns 0 and a
 * schema in `*out` to release with esc_schema_free(). When anything was
 * wrong returns -1 with the diagnostics in `d` and `*out` NULL. Warnings
 * alone do not fail. */
int esc_compile(const char *path, const char *src, size_t len, esc_diag *d,
                esc_schema **out);

/* Reads `path` and compiles it; `diag_out` receives diagnostics (may be
 * NULL). Returns 0, or -1 after reporting why. */
int esc_compile_file(const char *path, FILE *diag_out, esc_schema **out,
                     int *n_warnings);

/* Reads a whole file (at most ESC_MAX_SOURCE bytes) into memory to free(),
 * `*len` bytes, not NUL-terminated. NULL with the reason in `*why` when it
 * cannot. */
char *esc_read_source(const char *path, size_t *len, const char **why);

/* Releases a schema and everything in it. Accepts NULL. */
void esc_schema_free(esc_schema *s);

/* Checks a parsed schema and resolves its references (check.c). Returns
 * the number of errors reported. */
int esc_check(esc_schema *s, esc_diag *d);

/* Works out, for a checked schema, each event's readers and each type's
 * layout hash (model.c). Returns 0, or -1 when out of memory. */
int esc_model_finish(esc_schema *s);

#endif
