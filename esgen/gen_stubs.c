/*
 * gen_stubs.c - writes the skeleton of every function the user owns.
 *
 * The skeleton compiles and does the obvious thing where there is one:
 * a decide emits its command's first event with every field the command
 * shares (same name, same type) copied over; an upcaster copies the
 * fields both versions share. Everything else is left for the user.
 */
#include <string.h>

#include "gen.h"
#include "template.h"

#define TOKF(t) (int)(t).n, (t).z

static bool same_type(const esc_type *a, const esc_type *b) {
  if (a->kind != b->kind || a->optional != b->optional)
    return false;
  if (a->kind == ESC_T_LIST)
    return same_type(a->elem, b->elem);
  if (a->kind == ESC_T_ENUM || a->kind == ESC_T_RECORD)
    return a->decl == b->decl;
  return true;
}

/* Copies every field of `src` (the parameter `param`) that `dst` has too,
 * same name and type, into `dst` (the C expression `dname`); a source that
 * shares nothing is marked unused instead. */
static void copy_shared(es_buf *b, const esc_field *dst, const esc_field *src,
                        const char *dname, const char *param) {
  bool any = false;
  for (const esc_field *d = dst; d; d = d->next)
    for (const esc_field *s = src; s; s = s->next) {
      if (s->name.n != d->name.n || memcmp(s->name.z, d->name.z, s->name.n) ||
          !same_type(s->type, d->type))
        continue;
      if (d->type->optional && d->type->kind != ESC_T_RECORD)
        esc_out(b, "  %shas_%.*s = %s->has_%.*s;\n", dname, TOKF(d->name),
                param, TOKF(s->name));
      esc_out(b, "  %s%.*s = %s->%.*s;\n", dname, TOKF(d->name), param,
              TOKF(s->name));
      any = true;
    }
  if (!any)
    esc_out(b, "  (void)%s;\n", param);
}

/* "Name" as the schema writes it, for @SCHEMA_NAME@. */
static void schema_name(esc_tvars *tv, esc_tok name) {
  esc_tv_fmt(tv, "SCHEMA_NAME", "%.*s", TOKF(name));
}

/* A decide that emits the command's first event with what the two
 * share, or does nothing when the command emits none. */
static void decide_stub(const esc_decl *a, const esc_decl *m, es_buf *b) {
  const esc_decl *e = m->emits ? m->emits->member : NULL;
  esc_tvars tv;
  esc_tv_init(&tv);
  esc_tv_name(&tv, ESC_N_DECIDE, a->c_name, m->snake, NULL);
  esc_tv_name(&tv, ESC_N_STATE, a->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_STRUCT, m->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_STUB_DECIDE, &tv);
  if (!e) {
    esc_tpl(b, ESC_TPL_STUB_DECIDE_NOTHING, &tv);
    return;
  }
  esc_tv_str(&tv, "EVENT", e->c_name);
  esc_tv_name(&tv, ESC_N_INIT, e->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_EMIT, a->c_name, e->snake, NULL);
  esc_tpl(b, ESC_TPL_STUB_DECIDE_EVENT, &tv);
  copy_shared(b, e->fields, m->fields, "event.", "command");
  esc_tpl(b, ESC_TPL_STUB_DECIDE_EMIT, &tv);
}

static void apply_stub(const esc_decl *a, const esc_decl *e, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  esc_tv_name(&tv, ESC_N_APPLY, a->c_name, e->snake, NULL);
  esc_tv_name(&tv, ESC_N_STATE, a->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_STRUCT, e->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_STUB_APPLY, &tv);
}

/* An upcaster that copies what the two versions share. */
static void upcast_stub(const esc_decl *a, const esc_decl *e, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  esc_tv_name(&tv, ESC_N_UPCAST, a->c_name, e->snake, NULL);
  esc_tv_name(&tv, ESC_N_STRUCT, e->c_name, NULL, NULL);
  esc_tv_str(&tv, "NEWER", e->newer->c_name);
  esc_tv_name(&tv, ESC_N_INIT, e->newer->c_name, NULL, NULL);
  esc_tpl(b, ESC_TPL_STUB_UPCAST, &tv);
  copy_shared(b, e->newer->fields, e->fields, "to->", "from");
  esc_tpl(b, ESC_TPL_STUB_RETURN_0, &tv);
}

static void aggregate_stubs(const esc_decl *a, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, a->name);
  esc_tpl(b, ESC_TPL_STUB_AGGREGATE, &tv);
  for (const esc_decl *m = a->commands; m; m = m->next)
    decide_stub(a, m, b);
  if (a->has_state)
    for (const esc_decl *e = a->events; e; e = e->next)
      if (e->current)
        apply_stub(a, e, b);
  for (const esc_decl *e = a->events; e; e = e->next)
    if (e->newer)
      upcast_stub(a, e, b);
}

static void projection_stubs(const esc_decl *p, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, p->name);
  esc_tpl(b, ESC_TPL_STUB_PROJECTION, &tv);
  for (const esc_name_list *r = p->on; r; r = r->next) {
    esc_tv_init(&tv);
    esc_tv_name(&tv, ESC_N_ON, p->c_name, r->target->snake, r->member->snake);
    esc_tv_name(&tv, ESC_N_STRUCT, r->member->c_name, NULL, NULL);
    esc_tpl(b, ESC_TPL_STUB_PROJECTION_ON, &tv);
  }
}

static void saga_stubs(const esc_decl *s, es_buf *b) {
  static const int handler_tpl[3] = {ESC_TPL_STUB_SAGA_ON_TIMEOUT,
                                     ESC_TPL_STUB_SAGA_ON_REJECTED,
                                     ESC_TPL_STUB_SAGA_ON};
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, s->name);
  esc_tpl(b, ESC_TPL_STUB_SAGA, &tv);
  esc_saga_handlers(b, s, handler_tpl);
}

int esc_gen_stubs(const esc_schema *s, const char *base, const char *stubs,
                  es_buf *b) {
  static const esc_decl_writers stubs_of = {aggregate_stubs, projection_stubs,
                                            saga_stubs};
  esc_tvars v;
  esc_tv_init(&v);
  esc_tv_output(&v, s, base);
  esc_tv_str(&v, "STUBS", stubs);
  esc_tpl(b, ESC_TPL_STUBS_OPEN, &v);
  esc_each_decl(s, &stubs_of, b);
  /* No trailing blank line. */
  if (b->len >= 2 && b->data[b->len - 1] == '\n' && b->data[b->len - 2] == '\n')
    b->len--;
  return b->err;
}
