/*
 * template.h - the fixed text of esgen's outputs (templates/, embedded at
 * build time) and the @NAME@ substitution that fills it in.
 */
#ifndef ESC_TEMPLATE_H
#define ESC_TEMPLATE_H

#include <es/es_buf.h>

/* In the order esgen/meson.build passes the files to embed. */
enum {
  ESC_TPL_HEADER_OPEN,
  ESC_TPL_HEADER_CLOSE,
  ESC_TPL_SOURCE_OPEN,
  ESC_TPL_SOURCE_CLOSE,
  ESC_TPL_STUBS_OPEN,
  ESC_TPL_COUNT
};

extern const char *const esc_templates[ESC_TPL_COUNT];

/* Values for @NAME@ placeholders; a NULL value leaves one unexpanded. */
typedef struct esc_tpl_vars {
  const char *base;   /* @BASE@: "bank.es" */
  const char *guard;  /* @GUARD@: "BANK_ES_H" */
  const char *prefix; /* @PREFIX@: "bank" */
  const char *stubs;  /* @STUBS@: "bank.stubs.c" */
} esc_tpl_vars;

/* Appends template `which` to `b` with placeholders filled in. */
void esc_template(es_buf *b, int which, const esc_tpl_vars *v);

#endif
