/*
 * model.c - what the generators need that follows from a checked schema:
 * each event's readers (projection and saga handlers) and each type's
 * layout hash. Computed once, in time linear in the schema's size.
 */
#include <stdio.h>
#include <string.h>

#include "frontend.h"
#include "keywords.h"

/* ---- subscribers ----------------------------------------------------------
 */

/* Calls `fn` for every event handler of every projection and saga, in
 * declaration order, with the handler's position. */
static void each_handler(esc_schema *s,
                         void (*fn)(esc_schema *s, esc_decl *ev, esc_sub sub)) {
  for (esc_decl *p = s->decls; p; p = p->next) {
    uint32_t h = 0;
    if (p->kind == ESC_DECL_PROJECTION) {
      for (esc_name_list *r = p->on; r; r = r->next, h++)
        fn(s, r->member, (esc_sub){false, p->index, h});
    } else if (p->kind == ESC_DECL_SAGA) {
      for (esc_saga_on *on = p->saga_on; on; on = on->next)
        if (on->kind == ESC_ON_EVENT || on->kind == ESC_ON_START)
          fn(s, on->ref->member, (esc_sub){true, p->index, h++});
    }
  }
}

static void count_sub(esc_schema *s, esc_decl *ev, esc_sub sub) {
  (void)s;
  (void)sub;
  ev->n_subs++;
}

static void add_sub(esc_schema *s, esc_decl *ev, esc_sub sub) {
  (void)s;
  ev->subs[ev->n_subs++] = sub;
}

/* ---- layout hashes ----------------------------------------------------------
 */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) {
    h ^= c[i];
    h *= UINT64_C(1099511628211);
  }
  return h;
}

static uint64_t fnv_str(uint64_t h, const char *s) {
  return fnv(h, s, strlen(s));
}

static uint64_t fields_hash(const esc_field *fields);

/* A record's own layout, computed once. A record met again while its own
 * hash is being computed (recursion through list<> or ?) contributes its
 * name only. */
static uint64_t record_hash(esc_decl *r) {
  if (r->layout_state == 1)
    return 0;
  if (r->layout_state == 0) {
    r->layout_state = 1;
    r->layout_hash = fields_hash(r->fields);
    r->layout_state = 2;
  }
  return r->layout_hash;
}

static uint64_t type_hash(uint64_t h, const esc_type *t) {
  h = fnv_str(h, esc_kind_name(t->kind));
  if (t->optional)
    h = fnv(h, "?", 1);
  /* A bound is part of the layout: a value stored under a larger bound
   * may not decode under a smaller one. */
  if (t->has_max) {
    char max[32];
    int n = snprintf(max, sizeof max, " max %llu", (unsigned long long)t->max);
    h = fnv(h, max, (size_t)n);
  }
  if (t->kind == ESC_T_LIST) {
    h = fnv(h, "<", 1);
    h = type_hash(h, t->elem);
    h = fnv(h, ">", 1);
  } else if (t->kind == ESC_T_ENUM) {
    h = fnv(h, t->decl->name.z, t->decl->name.n);
    for (const esc_name_list *v = t->decl->values; v; v = v->next)
      h = fnv(h, v->name.z, v->name.n);
  } else if (t->kind == ESC_T_RECORD) {
    uint64_t body = record_hash(t->decl);
    h = fnv(h, t->decl->name.z, t->decl->name.n);
    h = fnv(h, "{", 1);
    h = fnv(h, &body, sizeof body);
    h = fnv(h, "}", 1);
  }
  return h;
}

static uint64_t fields_hash(const esc_field *fields) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (const esc_field *f = fields; f; f = f->next) {
    h = fnv(h, f->name.z, f->name.n);
    h = fnv(h, ":", 1);
    h = type_hash(h, f->type);
    h = fnv(h, ";", 1);
  }
  return h;
}

int esc_model_finish(esc_schema *s) {
  each_handler(s, count_sub);
  for (esc_decl *a = s->decls; a; a = a->next) {
    if (a->kind != ESC_DECL_AGGREGATE)
      continue;
    for (esc_decl *e = a->events; e; e = e->next) {
      if (!e->n_subs)
        continue;
      e->subs = es_arena_alloc_array(&s->arena, e->n_subs, sizeof *e->subs);
      if (!e->subs)
        return -1;
      e->n_subs = 0;
    }
  }
  each_handler(s, add_sub);

  for (esc_decl *d = s->decls; d; d = d->next) {
    if (d->kind == ESC_DECL_RECORD) {
      record_hash(d);
    } else if (d->kind == ESC_DECL_AGGREGATE || d->kind == ESC_DECL_SAGA) {
      d->layout_hash = fields_hash(d->fields);
      d->layout_state = 2;
      if (d->kind == ESC_DECL_SAGA)
        continue;
      for (esc_decl *m = d->commands; m; m = m->next)
        m->layout_hash = fields_hash(m->fields), m->layout_state = 2;
      for (esc_decl *e = d->events; e; e = e->next)
        e->layout_hash = fields_hash(e->fields), e->layout_state = 2;
    }
  }
  return 0;
}
