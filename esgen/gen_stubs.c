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

/* dst.x = src->x for each field both share. */
static void copy_shared(es_buf *b, const esc_field *dst, const esc_field *src,
                        const char *dname, const char *sname) {
  for (const esc_field *d = dst; d; d = d->next)
    for (const esc_field *s = src; s; s = s->next) {
      if (s->name.n != d->name.n || memcmp(s->name.z, d->name.z, s->name.n) ||
          !same_type(s->type, d->type))
        continue;
      if (d->type->optional && d->type->kind != ESC_T_RECORD)
        esc_out(b, "  %shas_%.*s = %shas_%.*s;\n", dname, TOKF(d->name), sname,
                TOKF(s->name));
      esc_out(b, "  %s%.*s = %s%.*s;\n", dname, TOKF(d->name), sname,
              TOKF(s->name));
    }
}

static void aggregate_stubs(const esc_decl *a, es_buf *b) {
  const char *A = a->c_name;
  esc_out(b, "/* ---- %.*s ---- */\n\n", TOKF(a->name));
  for (const esc_decl *m = a->commands; m; m = m->next) {
    const esc_decl *e = m->emits ? m->emits->member : NULL;
    esc_out(b,
            "int %s_decide_%s(const %s_state *state,\n"
            "    const %s *command, es_decision *d) {\n",
            A, m->snake, A, m->c_name);
    esc_out(b, "  (void)state;\n");
    if (!e) {
      esc_out(b, "  (void)command;\n  (void)d;\n  return 0;\n}\n\n");
      continue;
    }
    esc_out(b, "  %s event;\n  %s_init(&event);\n", e->c_name, e->c_name);
    bool shares = false;
    for (const esc_field *f = e->fields; f && !shares; f = f->next)
      for (const esc_field *g = m->fields; g; g = g->next)
        if (f->name.n == g->name.n &&
            !memcmp(f->name.z, g->name.z, f->name.n) &&
            same_type(f->type, g->type))
          shares = true;
    if (shares)
      copy_shared(b, e->fields, m->fields, "event.", "command->");
    else
      esc_out(b, "  (void)command;\n");
    esc_out(b, "  return %s_emit_%s(d, &event);\n}\n\n", A, e->snake);
  }
  if (a->has_state)
    for (const esc_decl *e = a->events; e; e = e->next) {
      if (!e->current)
        continue;
      esc_out(b,
              "void %s_apply_%s(%s_state *state,\n"
              "    const %s *event, es_arena *arena) {\n"
              "  (void)state;\n  (void)event;\n  (void)arena;\n}\n\n",
              A, e->snake, A, e->c_name);
    }
  for (const esc_decl *e = a->events; e; e = e->next) {
    if (!e->newer)
      continue;
    esc_out(b,
            "int %s_upcast_%s(const %s *from,\n    %s *to, es_arena *arena) {\n"
            "  (void)arena;\n  %s_init(to);\n",
            A, e->snake, e->c_name, e->newer->c_name, e->newer->c_name);
    bool shares = false;
    for (const esc_field *f = e->newer->fields; f && !shares; f = f->next)
      for (const esc_field *g = e->fields; g; g = g->next)
        if (f->name.n == g->name.n &&
            !memcmp(f->name.z, g->name.z, f->name.n) &&
            same_type(f->type, g->type))
          shares = true;
    if (shares)
      copy_shared(b, e->newer->fields, e->fields, "to->", "from->");
    else
      esc_out(b, "  (void)from;\n");
    esc_out(b, "  return 0;\n}\n\n");
  }
}

static void projection_stubs(const esc_decl *p, es_buf *b) {
  esc_out(b, "/* ---- projection %.*s ---- */\n\n", TOKF(p->name));
  for (const esc_name_list *r = p->on; r; r = r->next)
    esc_out(b,
            "int %s_on_%s_%s(const %s *event,\n"
            "    const es_event_meta *meta, void *ctx) {\n"
            "  (void)event;\n  (void)meta;\n  (void)ctx;\n  return 0;\n}\n\n",
            p->c_name, r->target->snake, r->member->snake, r->member->c_name);
}

static void saga_stubs(const esc_decl *s, es_buf *b) {
  const char *S = s->c_name;
  esc_out(b, "/* ---- saga %.*s ---- */\n\n", TOKF(s->name));
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    const esc_name_list *r = on->ref;
    if (on->kind == ESC_ON_TIMEOUT)
      esc_out(
          b,
          "int %s_on_timeout(%s_state *state,\n"
          "    const es_timeout *timeout, es_saga_ctx *ctx) {\n"
          "  (void)state;\n  (void)timeout;\n  (void)ctx;\n  return 0;\n}\n\n",
          S, S);
    else if (on->kind == ESC_ON_REJECTED)
      esc_out(b,
              "int %s_on_rejected_%s_%s(%s_state *state,\n"
              "    const %s *command, const es_rejection *why,\n"
              "    es_saga_ctx *ctx) {\n"
              "  (void)state;\n  (void)command;\n  (void)why;\n  (void)ctx;\n"
              "  return 0;\n}\n\n",
              S, r->target->snake, r->member->snake, S, r->member->c_name);
    else
      esc_out(b,
              "int %s_on_%s_%s(%s_state *state,\n"
              "    const %s *event, const es_event_meta *meta,\n"
              "    es_saga_ctx *ctx) {\n"
              "  (void)state;\n  (void)event;\n  (void)meta;\n  (void)ctx;\n"
              "  return 0;\n}\n\n",
              S, r->target->snake, r->member->snake, S, r->member->c_name);
  }
}

int esc_gen_stubs(const esc_schema *s, const char *base, const char *stubs,
                  es_buf *b) {
  esc_tpl_vars v = {base, NULL, s->c_prefix, stubs};
  esc_template(b, ESC_TPL_STUBS_OPEN, &v);
  for (const esc_decl *d = s->decls; d; d = d->next) {
    if (d->kind == ESC_DECL_AGGREGATE)
      aggregate_stubs(d, b);
    else if (d->kind == ESC_DECL_PROJECTION)
      projection_stubs(d, b);
    else if (d->kind == ESC_DECL_SAGA)
      saga_stubs(d, b);
  }
  /* No trailing blank line. */
  if (b->len >= 2 && b->data[b->len - 1] == '\n' && b->data[b->len - 2] == '\n')
    b->len--;
  return b->err;
}
