/*
 * check.c - the semantic pass: every rule of the schema language that the
 * grammar cannot express, and the resolution of every reference. This
 * file runs the passes in order; check.h says where each rule lives.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

/* The schema declaration: first, exactly once. Returns it, or NULL
 * (reported) when there is none. */
static esc_decl *schema_decl(checker *c) {
  esc_schema *s = c->s;
  esc_decl *schema = NULL;
  for (esc_decl *x = s->decls; x; x = x->next) {
    if (x->kind != ESC_DECL_SCHEMA)
      continue;
    if (schema) {
      esc_error(c->d, x->kw,
                "a second 'schema' declaration; a file declares exactly one "
                "schema");
      esc_note(c->d, schema->kw, "the schema is declared here");
      continue;
    }
    schema = x;
    if (x != s->decls) {
      esc_error(c->d, x->kw, "'schema' must be the first declaration");
      esc_note(c->d, s->decls->kw, "the first declaration is here");
    }
  }
  if (!schema) {
    esc_tok start = {s->src, 0, 1, 1};
    esc_error(c->d, start,
              "missing 'schema NAME;' declaration; a schema file starts "
              "with one");
  }
  return schema;
}

/* The schema's name, its C prefix and the names the schema as a whole
 * generates. false when out of memory. */
static bool schema_names(checker *c, esc_decl *schema) {
  static const esc_name_id whole[] = {ESC_N_SCHEMA,      ESC_N_AGGREGATES,
                                      ESC_N_PROJECTIONS, ESC_N_SAGAS,
                                      ESC_N_TYPES,       ESC_N_DESCRIPTION};
  esc_schema *s = c->s;
  s->name = schema->name;
  chk_name(c, s->name, "a schema");
  if (!esc_names_prefix(s))
    return false;
  if (strcmp(s->c_prefix, "es") == 0)
    esc_error(c->d, s->name,
              "schema name '%.*s' would give generated names the prefix "
              "'es_', which libes reserves",
              TOKF(s->name));
  chk_claim_all(c, s->name, whole, sizeof whole / sizeof whole[0], s->c_prefix);
  return true;
}

/* What a record or an enum generates (an aggregate's, projection's and
 * saga's names are claimed with their rules). */
static void claim_type(checker *c, esc_decl *x) {
  if (x->kind == ESC_DECL_RECORD) {
    chk_claim_struct(c, x->c_name, x->name);
    chk_claim(c, x->name, ESC_N_LIST, x->c_name, NULL, NULL);
  } else if (x->kind == ESC_DECL_ENUM) {
    static const esc_name_id ids[] = {ESC_N_STRUCT, ESC_N_LIST, ESC_N_DESC,
                                      ESC_N_ENUM_NAME, ESC_N_ENUM_VALUES};
    chk_claim_all(c, x->name, ids, sizeof ids / sizeof ids[0], x->c_name);
    chk_claim(c, x->name, ESC_N_COUNT, x->c_upper, NULL, NULL);
  }
}

/* Top-level names share one namespace; gives each its C name. */
static void top_level_names(checker *c) {
  uint32_t idx[8] = {0};
  for (esc_decl *x = c->s->decls; x && !c->oom; x = x->next) {
    if (x->kind == ESC_DECL_SCHEMA)
      continue;
    chk_name(c, x->name, chk_kind_word(x->kind));
    esc_decl *y = chk_find_top(c, x->name);
    if (y != x) {
      esc_error(c->d, x->name, "'%.*s' is already declared as %s",
                TOKF(x->name), chk_kind_word(y->kind));
      esc_note(c->d, y->name, "previous declaration of '%.*s' is here",
               TOKF(y->name));
    }
    x->index = idx[x->kind]++;
    if (!esc_names_decl(c->s, x))
      c->oom = true;
    else if (y == x)
      claim_type(c, x);
  }
}

/* The rules, in an order where each finds what it needs resolved: types
 * and aggregates before the projections and sagas that refer to them. */
static void rules(checker *c) {
  for (esc_decl *x = c->s->decls; x; x = x->next) {
    if (x->kind == ESC_DECL_ENUM)
      chk_enum(c, x);
    else if (x->kind == ESC_DECL_RECORD)
      chk_fields(c, x->fields, false, "record fields");
    else if (x->kind == ESC_DECL_AGGREGATE)
      chk_aggregate(c, x);
  }
  chk_cycles(c);
  for (esc_decl *x = c->s->decls; x; x = x->next) {
    if (x->kind == ESC_DECL_PROJECTION)
      chk_projection(c, x);
    else if (x->kind == ESC_DECL_SAGA)
      chk_saga(c, x);
  }
}

int esc_check(esc_schema *s, esc_diag *d) {
  checker c = {.s = s, .d = d};
  int errors_before = d->n_errors;
  esc_decl *schema = schema_decl(&c);
  if (!schema)
    return d->n_errors - errors_before;
  if (!schema_names(&c, schema) || !chk_index_tops(&c))
    c.oom = true;
  if (!c.oom)
    top_level_names(&c);
  if (!c.oom)
    rules(&c);
  if (c.oom)
    esc_error_file(d, "out of memory");
  chk_names_free(&c);
  return d->n_errors - errors_before;
}
