/*
 * gen_header.c - writes <schema>.es.h, the contract between a schema, the
 * user's code and libes: types, codecs, descriptors, and one prototype
 * for every function the user must write.
 */
#include <stdio.h>
#include <string.h>

#include <es/es.h>

#include "gen.h"
#include "template.h"

#define TOKF(t) (int)(t).n, (t).z

static void guard_name(const char *base, char *out, size_t n) {
  size_t i = 0;
  for (; base[i] && i + 3 < n; i++) {
    char c = base[i];
    if (c >= 'a' && c <= 'z')
      c = (char)(c - 32);
    else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      c = '_';
    out[i] = c;
  }
  memcpy(out + i, "_H", 3);
}

/* Copies schema text into a C comment. A string default may hold "*\/"
 * (which would end the comment early) or "/\*" (-Wcomment), so a space
 * goes between any '*' and '/' that touch. */
static void comment_text(es_buf *b, const char *z, size_t n) {
  for (size_t i = 0; i < n; i++) {
    esc_out(b, "%c", z[i]);
    if (i + 1 < n &&
        ((z[i] == '*' && z[i + 1] == '/') || (z[i] == '/' && z[i + 1] == '*')))
      esc_out(b, " ");
  }
}

/* "Name" as the schema writes it, for @SCHEMA_NAME@. */
static void schema_name(esc_tvars *tv, esc_tok name) {
  esc_tv_fmt(tv, "SCHEMA_NAME", "%.*s", TOKF(name));
}

/* The list type of a record or an enum. */
static void list_decl(const char *c_name, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  esc_tv_name(&tv, ESC_N_STRUCT, c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_LIST, c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_LIST, &tv);
}

/* One constant of an enum or an aggregate's errors. */
static void enum_value(es_buf *b, const char *owner_upper, esc_tok value,
                       uint32_t number) {
  esc_tvars tv;
  esc_namebuf nb;
  esc_tv_init(&tv);
  esc_tv_str(&tv, "CONST", esc_name_const(&nb, owner_upper, value));
  esc_tv_fmt(&tv, "NUMBER", "%u", number);
  esc_tpl(b, ESC_TPL_ENUM_VALUE, &tv);
}

static void enum_decl(const esc_decl *e, es_buf *b) {
  esc_tvars tv;
  uint32_t i = 0;
  esc_tv_init(&tv);
  schema_name(&tv, e->name);
  esc_tv_name(&tv, ESC_N_STRUCT, e->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_COUNT, e->c_upper, NULL, NULL);
  esc_tv_name(&tv, ESC_N_DESC, e->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_ENUM_NAME, e->c_name, NULL, NULL);
  esc_tv_fmt(&tv, "N_VALUES", "%u", e->n_values);
  esc_tpl(b, ESC_TPL_ENUM_OPEN, &tv);
  for (const esc_name_list *v = e->values; v; v = v->next, i++)
    enum_value(b, e->c_upper, v->name, i);
  esc_tpl(b, ESC_TPL_ENUM_CLOSE, &tv);
  list_decl(e->c_name, b);
  esc_out(b, "\n");
}

static void forward_decl(const esc_schema *s, const esc_struct *st, void *ctx) {
  esc_tvars tv;
  (void)s;
  esc_tv_init(&tv);
  esc_tv_name(&tv, ESC_N_STRUCT, st->c_name, NULL, NULL);
  esc_tpl(ctx, ESC_TPL_FORWARD, &tv);
}

/* Whether `t` or, for a list, any level of its elements has a `max`. */
static bool has_bound(const esc_type *t) {
  for (; t; t = t->kind == ESC_T_LIST ? t->elem : NULL)
    if (t->has_max)
      return true;
  return false;
}

/* The comment after a bounded field, "at most 3 items, each at most 8
 * bytes": the field's own bound first, then its elements', level by
 * level. */
static void bounds_comment(es_buf *b, const esc_type *t) {
  const char *sep = " /* ";
  for (int level = 0; t; t = t->kind == ESC_T_LIST ? t->elem : NULL, level++) {
    if (!t->has_max)
      continue;
    esc_out(b, "%s%sat most %llu %s", sep, level ? "each " : "",
            (unsigned long long)t->max,
            t->kind == ESC_T_LIST ? "items" : "bytes");
    sep = ", ";
  }
  esc_out(b, " */");
}

/* The typedef of a list of lists, after those of its elements; `seen`
 * holds the names already written, one per line. */
static void nested_list_decl(const esc_type *t, es_buf *seen, es_buf *b) {
  esc_tvars tv;
  size_t n;
  if (t->kind != ESC_T_LIST || t->elem->kind != ESC_T_LIST)
    return;
  nested_list_decl(t->elem, seen, b);
  n = strlen(t->c_list);
  for (size_t at = 0; at < seen->len;) {
    const char *line = (const char *)seen->data + at;
    const char *end = memchr(line, '\n', seen->len - at);
    size_t len = (size_t)(end - line);
    if (len == n && memcmp(line, t->c_list, n) == 0)
      return;
    at += len + 1;
  }
  esc_out(seen, "%s\n", t->c_list);
  esc_tv_init(&tv);
  esc_tv_str(&tv, "LIST", t->c_list);
  esc_tv_str(&tv, "STRUCT", t->elem->c_list);
  esc_tpl(b, ESC_TPL_LIST, &tv);
}

typedef struct nested_lists {
  es_buf seen, *out;
} nested_lists;

static void nested_list_decls(const esc_schema *s, const esc_struct *st,
                              void *ctx) {
  nested_lists *nl = ctx;
  (void)s;
  for (const esc_field *f = st->fields; f; f = f->next)
    nested_list_decl(f->type, &nl->seen, nl->out);
}

static void struct_decl(const esc_schema *s, const esc_struct *st, void *ctx) {
  es_buf *b = ctx;
  esc_namebuf nb;
  (void)s;
  esc_out(b, "/* %s", st->schema_name);
  if (st->decl->kind == ESC_DECL_EVENT && st->decl->version_tok.n)
    esc_out(b, " v%u", st->version);
  if (st->decl->kind == ESC_DECL_EVENT && !st->decl->current)
    esc_out(b, ": an older shape, read from the store and lifted by %s",
            esc_name(&nb, ESC_N_UPCAST, st->decl->parent->c_name,
                     st->decl->snake, NULL));
  esc_out(b, " */\n");
  esc_out(b, "struct %s {\n", st->c_name);
  for (const esc_field *f = st->fields; f; f = f->next) {
    es_buf t = ES_BUF_INIT;
    if (f->type->optional && f->type->kind != ESC_T_RECORD)
      esc_out(b, "  bool has_%.*s;\n", TOKF(f->name));
    esc_out_field_ctype(&t, f->type);
    if (t.err) {
      b->err = t.err;
      es_buf_close(&t);
      return;
    }
    esc_out(b, "  %.*s%s%.*s;", (int)t.len, (const char *)t.data,
            t.data[t.len - 1] == '*' ? "" : " ", TOKF(f->name));
    es_buf_close(&t);
    if (f->type->optional && f->type->kind == ESC_T_RECORD)
      esc_out(b, " /* optional: NULL when absent */");
    else if (has_bound(f->type))
      bounds_comment(b, f->type);
    else if (f->def) {
      esc_out(b, " /* default ");
      comment_text(b, f->def->at.z, f->def->at.n);
      esc_out(b, " */");
    }
    esc_out(b, "\n");
  }
  if (!st->fields)
    esc_out(b, "  uint8_t es_unused; /* C has no empty structs */\n");
  esc_out(b, "};\n");
  esc_tvars tv;
  esc_tv_init(&tv);
  esc_tv_name(&tv, ESC_N_STRUCT, st->c_name, NULL, NULL);
  esc_tv_str(&tv, "TYPE_ID", esc_name_type_id(&nb, st->c_name));
  esc_tv_fmt(&tv, "ID", "%016llx", (unsigned long long)es_fnv1a64(st->id_text));
  esc_tv_name(&tv, ESC_N_DESC, st->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_INIT, st->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_ENCODE, st->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_DECODE, st->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_STRUCT_API, &tv);
}

/* How a function takes an instance key of kind `kind`, and turns it into
 * the text the runtime takes: @KEY_PARAM@ (ends in ' ' or '*'),
 * @KEY_TYPE@, @KEY_TEXT@ (the conversion, if any) and @KEY_ARG@. */
static void key_vars(esc_tvars *tv, int kind) {
  esc_tv_str(tv, "KEY_PARAM",
             kind == ESC_T_U64    ? "uint64_t "
             : kind == ESC_T_UUID ? "const es_uuid *"
                                  : "const char *");
  esc_tv_str(tv, "KEY_TYPE",
             kind == ESC_T_U64    ? "uint64_t"
             : kind == ESC_T_UUID ? "const es_uuid *"
                                  : "const char *");
  esc_tv_str(tv, "KEY_TEXT",
             kind == ESC_T_U64
                 ? "  char text[21];\n  es_key_from_u64(key, text);\n"
             : kind == ESC_T_UUID
                 ? "  char text[37];\n  es_key_from_uuid(key, text);\n"
                 : "");
  esc_tv_str(tv, "KEY_ARG", kind == ESC_T_STRING ? "key" : "text");
}

static void aggregate_errors(const esc_decl *a, es_buf *b) {
  esc_tvars tv;
  uint32_t i = 1;
  esc_tv_init(&tv);
  schema_name(&tv, a->name);
  esc_tv_name(&tv, ESC_N_ERROR, a->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_REJECT, a->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_ERRORS_OPEN, &tv);
  for (const esc_name_list *e = a->errors; e; e = e->next, i++)
    enum_value(b, a->c_upper, e->name, i);
  esc_tpl(b, ESC_TPL_ERRORS_CLOSE, &tv);
}

static void aggregate_emit(const esc_decl *a, const esc_decl *e, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, e->name);
  esc_tv_name(&tv, ESC_N_EMIT, a->c_name, e->snake, NULL);
  esc_tv_name(&tv, ESC_N_STRUCT, e->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_DESC, e->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_EMIT, &tv);
}

static void aggregate_execute(const esc_decl *a, const esc_decl *m, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, m->name);
  esc_tv_name(&tv, ESC_N_EXECUTE, a->c_name, m->snake, NULL);
  esc_tv_name(&tv, ESC_N_STRUCT, m->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_AGGREGATE, a->c_name, NULL, NULL);
  esc_tv_fmt(&tv, "INDEX", "%u", m->index);
  key_vars(&tv, a->key.kind);
  esc_tpl(b, ESC_TPL_EXECUTE, &tv);
}

/* The prototypes of what the user writes for aggregate `a`: decide, apply
 * and upcast. */
static void aggregate_user_api(const esc_decl *a, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, a->name);
  esc_tv_name(&tv, ESC_N_STATE, a->c_name, NULL, NULL);
  size_t base = tv.n, used = tv.used;
  if (a->commands) {
    esc_tpl(b, ESC_TPL_DECIDE_INTRO, &tv);
    for (const esc_decl *m = a->commands; m; m = m->next) {
      tv.n = base, tv.used = used;
      esc_tv_name(&tv, ESC_N_DECIDE, a->c_name, m->snake, NULL);
      esc_tv_name(&tv, ESC_N_STRUCT, m->c_name, NULL, NULL);
      esc_tpl(b, ESC_TPL_DECIDE, &tv);
    }
    esc_out(b, "\n");
  }
  if (a->has_state) {
    tv.n = base, tv.used = used;
    esc_tpl(b, ESC_TPL_APPLY_INTRO, &tv);
    for (const esc_decl *e = a->events; e; e = e->next) {
      if (!e->current)
        continue;
      tv.n = base, tv.used = used;
      esc_tv_name(&tv, ESC_N_APPLY, a->c_name, e->snake, NULL);
      esc_tv_name(&tv, ESC_N_STRUCT, e->c_name, NULL, NULL);
      esc_tpl(b, ESC_TPL_APPLY, &tv);
    }
    esc_out(b, "\n");
  }
  for (const esc_decl *e = a->events; e; e = e->next) {
    if (!e->newer)
      continue;
    esc_tv_init(&tv);
    schema_name(&tv, e->name);
    esc_tv_fmt(&tv, "FROM_VERSION", "%u", e->version);
    esc_tv_fmt(&tv, "TO_VERSION", "%u", e->newer->version);
    esc_tv_name(&tv, ESC_N_UPCAST, a->c_name, e->snake, NULL);
    esc_tv_name(&tv, ESC_N_STRUCT, e->c_name, NULL, NULL);
    esc_tv_str(&tv, "NEWER", e->newer->c_name);
    esc_tpl(b, ESC_TPL_UPCAST, &tv);
  }
}

static void aggregate_api(const esc_decl *a, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, a->name);
  esc_tv_name(&tv, ESC_N_AGGREGATE, a->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_AGGREGATE_OPEN, &tv);
  if (a->n_errors)
    aggregate_errors(a, b);
  for (const esc_decl *e = a->events; e; e = e->next)
    if (e->current && e->emitted)
      aggregate_emit(a, e, b);
  for (const esc_decl *m = a->commands; m; m = m->next)
    aggregate_execute(a, m, b);
  aggregate_user_api(a, b);
}

static void projection_api(const esc_decl *p, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, p->name);
  esc_tv_name(&tv, ESC_N_PROJECTION, p->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_PROJECTION_OPEN, &tv);
  for (const esc_name_list *r = p->on; r; r = r->next) {
    esc_tv_init(&tv);
    esc_tv_name(&tv, ESC_N_ON, p->c_name, r->target->snake, r->member->snake);
    esc_tv_name(&tv, ESC_N_STRUCT, r->member->c_name, NULL, NULL);
    esc_tpl(b, ESC_TPL_PROJECTION_ON, &tv);
  }
  esc_out(b, "\n");
}

static void saga_send(const esc_decl *s, const esc_name_list *r, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  esc_tv_fmt(&tv, "TARGET", "%.*s.%.*s", TOKF(r->name), TOKF(r->qual));
  esc_tv_name(&tv, ESC_N_SEND, s->c_name, r->target->snake, r->member->snake);
  esc_tv_name(&tv, ESC_N_STRUCT, r->member->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_AGGREGATE, r->target->c_name, NULL, NULL);
  esc_tv_fmt(&tv, "INDEX", "%u", r->member->index);
  key_vars(&tv, r->target->key.kind);
  esc_tpl(b, ESC_TPL_SAGA_SEND, &tv);
}

static void saga_api(const esc_decl *s, es_buf *b) {
  /* The prototypes of the user's handlers. */
  static const int handler_tpl[3] = {ESC_TPL_SAGA_ON_TIMEOUT,
                                     ESC_TPL_SAGA_ON_REJECTED, ESC_TPL_SAGA_ON};
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, s->name);
  esc_tv_name(&tv, ESC_N_SAGA, s->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_SAGA_OPEN, &tv);
  for (const esc_name_list *r = s->sends; r; r = r->next)
    saga_send(s, r, b);
  esc_tpl(b, ESC_TPL_SAGA_INTRO, &tv);
  esc_saga_handlers(b, s, handler_tpl);
  esc_out(b, "\n");
}

int esc_gen_header(const esc_schema *s, const char *base, es_buf *b) {
  static const esc_decl_writers apis = {aggregate_api, projection_api,
                                        saga_api};
  char guard[256];
  esc_tvars tv;
  bool any_record = false;

  guard_name(base, guard, sizeof guard);
  esc_tv_init(&tv);
  esc_tv_output(&tv, s, base);
  esc_tv_str(&tv, "GUARD", guard);
  esc_tpl(b, ESC_TPL_HEADER_OPEN, &tv);

  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_ENUM)
      enum_decl(d, b);

  /* Every struct is named up front so lists and optional records may
   * point at types defined further down. */
  esc_each_struct(s, b, forward_decl);
  esc_out(b, "\n");
  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_RECORD) {
      list_decl(d->c_name, b);
      any_record = true;
    }
  if (any_record)
    esc_out(b, "\n");
  /* Lists of lists, each after the list type it holds. */
  nested_lists nl = {ES_BUF_INIT, b};
  esc_each_struct(s, &nl, nested_list_decls);
  if (nl.seen.len)
    esc_out(b, "\n");
  if (nl.seen.err)
    b->err = nl.seen.err;
  es_buf_close(&nl.seen);
  esc_each_struct(s, b, struct_decl);

  esc_each_decl(s, &apis, b);

  esc_tv_init(&tv);
  esc_tv_output(&tv, s, base);
  esc_tv_str(&tv, "GUARD", guard);
  schema_name(&tv, s->name);
  esc_tv_name(&tv, ESC_N_SCHEMA, s->c_prefix, NULL, NULL);
  esc_tpl(b, ESC_TPL_SCHEMA, &tv);
  esc_tpl(b, ESC_TPL_HEADER_CLOSE, &tv);
  return b->err;
}
