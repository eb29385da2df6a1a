/*
 * template.h - the fixed text of esgen's outputs (templates/, embedded at
 * build time) and the @NAME@ substitution that fills it in.
 *
 * A generator fills an esc_tvars with the values of one template's
 * placeholders (most of them names from names.h, under the name of their
 * ID: @ENCODE@ is ESC_N_ENCODE's name) and expands the template with
 * them. A placeholder with no value is left as written, so a test that
 * finds '@' in generated code finds a missing value.
 */
#ifndef ESC_TEMPLATE_H
#define ESC_TEMPLATE_H

#include <es/es_buf.h>

#include "names.h"
#include "templates.h" /* ESC_TPL_*, generated from templates/ */

extern const char *const esc_templates[ESC_TPL_COUNT];

typedef struct esc_var {
  const char *name;
  size_t name_len;
  const char *value;
  size_t len;
} esc_var;

#define ESC_TVARS_MAX 48

/* The values of one expansion. Values set with esc_tv_name() or
 * esc_tv_fmt() are copied into `pool`; esc_tv_str() keeps the pointer. */
typedef struct esc_tvars {
  esc_var v[ESC_TVARS_MAX];
  size_t n;
  char pool[8192];
  size_t used;
  bool overflow; /* a value did not fit: esc_tpl() fails the buffer */
} esc_tvars;

void esc_tv_init(esc_tvars *tv);
/* @name@ is `value` (not copied: it must outlive the expansion). */
void esc_tv_str(esc_tvars *tv, const char *name, const char *value);
/* @ID@ is the name names.h's `id` makes from `a`, `b`, `c`. */
void esc_tv_name(esc_tvars *tv, esc_name_id id, const char *a, const char *b,
                 const char *c);
/* @ID@ is that name when `present`, else NULL (a table the schema does
 * not need). */
void esc_tv_name_or_null(esc_tvars *tv, bool present, esc_name_id id,
                         const char *owner);
/* @name@ is what `fmt` formats. */
void esc_tv_fmt(esc_tvars *tv, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The values every output's templates may use: @BASE@ (the schema file's
 * name), @PREFIX@, @VERSION@ (esgen's) and @ABI@. */
struct esc_schema;
void esc_tv_output(esc_tvars *tv, const struct esc_schema *s, const char *base);

/* Appends template `which` to `b` with its placeholders filled from `tv`
 * (NULL: none). */
void esc_tpl(es_buf *b, int which, const esc_tvars *tv);

#endif
