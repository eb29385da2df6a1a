/*
 * check_types.c - types and fields: every type reference resolved to its
 * enum or record, bounds where they apply, field names unique, defaults
 * allowed where they are (their values: check_literals.c), and no record
 * that contains itself by value.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* A type as a schema writes it ("list<Money>", "string?"), for messages. */
const char *chk_type_text(const esc_type *t, char *buf, size_t n) {
  if (t->kind == ESC_T_LIST) {
    char elem[128];
    snprintf(buf, n, "list<%s>%s", chk_type_text(t->elem, elem, sizeof elem),
             t->optional ? "?" : "");
  } else if (t->kind >= ESC_T_ENUM) {
    snprintf(buf, n, "%.*s%s", TOKF(t->name), t->optional ? "?" : "");
  } else {
    snprintf(buf, n, "%s%s", esc_kind_name(t->kind), t->optional ? "?" : "");
  }
  return buf;
}

/* The innermost element of a list of lists (the type itself otherwise). */
static const esc_type *innermost(const esc_type *t) {
  while (t->kind == ESC_T_LIST)
    t = t->elem;
  return t;
}

/* Names the C struct of list type `t` once its elements are resolved, and
 * claims the name when this schema generates it (a list of lists; the list
 * of a record or an enum is claimed with the record or enum). */
static void name_list(checker *c, esc_type *t) {
  esc_namebuf nb;
  const esc_type *e = innermost(t);
  const char *name;
  if (e->kind == ESC_T_NAMED)
    return; /* unknown type: already reported */
  name = esc_name_list_type(&nb, c->s->c_prefix, t);
  if (!name)
    return; /* longer than any C compiler compares: never generated */
  if (!(t->c_list = es_arena_strndup(&c->s->arena, name, strlen(name)))) {
    c->oom = true;
    return;
  }
  if (t->elem->kind == ESC_T_LIST)
    chk_claim(c, e->name, ESC_N_STRUCT, name, NULL, NULL);
}

static void resolve_type(checker *c, esc_type *t) {
  if (t->kind == ESC_T_LIST) {
    if (t->elem->optional)
      esc_error(c->d, t->elem->name, "list elements cannot be optional");
    resolve_type(c, t->elem);
    name_list(c, t);
  } else if (t->kind == ESC_T_NAMED) {
    esc_decl *d = chk_find_top(c, t->name);
    if (!d) {
      suggest sg = SUGGEST(t->name);
      char buf[160];
      for (esc_decl *x = c->s->decls; x; x = x->next)
        if (x->kind == ESC_DECL_ENUM || x->kind == ESC_DECL_RECORD)
          chk_consider(&sg, x->name);
      for (int k = 0; k <= ESC_T_UUID; k++)
        chk_consider_str(&sg, esc_kind_name(k));
      if (!sg.best.n)
        chk_builtin_alias(&sg);
      esc_error(c->d, t->name, "unknown type '%.*s'%s", TOKF(t->name),
                chk_hint(&sg, buf, sizeof buf));
    } else if (d->kind == ESC_DECL_ENUM) {
      t->kind = ESC_T_ENUM;
      t->decl = d;
    } else if (d->kind == ESC_DECL_RECORD) {
      t->kind = ESC_T_RECORD;
      t->decl = d;
    } else {
      esc_error(c->d, t->name, "'%.*s' is %s, not a type", TOKF(t->name),
                chk_kind_word(d->kind));
    }
  }
  if (t->has_max) {
    char buf[160];
    if (t->kind == ESC_T_NAMED)
      ; /* unknown type: already reported */
    else if (t->kind != ESC_T_STRING && t->kind != ESC_T_BYTES &&
             t->kind != ESC_T_LIST)
      esc_error(c->d, t->max_tok,
                "'max' applies only to string, bytes and list types, not "
                "'%s'",
                chk_type_text(t, buf, sizeof buf));
    else if (t->max == 0)
      esc_error(c->d, t->max_tok,
                "'max 0' allows nothing; a bound must be at least 1");
  }
}

/* Fields of one struct: unique names, resolved types, valid defaults. */
void chk_fields(checker *c, esc_field *fields, bool defaults_ok,
                const char *owner_what) {
  for (esc_field *f = fields; f; f = f->next) {
    chk_name(c, f->name, "a field");
    for (esc_field *g = fields; g != f; g = g->next)
      if (chk_same(f->name, g->name))
        chk_duplicate(c, f->name, g->name, "field");
    resolve_type(c, f->type);
    if (f->def) {
      if (!defaults_ok)
        esc_error(c->d, f->def->at,
                  "defaults are allowed only on event and state fields, not "
                  "on %s",
                  owner_what);
      else if (f->type->kind != ESC_T_NAMED)
        chk_default(c, f);
    }
    if (f->type->optional && f->type->kind != ESC_T_RECORD) {
      /* `x?` generates a `has_x` member beside `x` (an optional record is
       * a pointer instead). */
      for (esc_field *g = fields; g; g = g->next)
        if (g->name.n == f->name.n + 4 && memcmp(g->name.z, "has_", 4) == 0 &&
            memcmp(g->name.z + 4, f->name.z, f->name.n) == 0)
          esc_error(c->d, g->name,
                    "field '%.*s' clashes with the presence flag of optional "
                    "field '%.*s'",
                    TOKF(g->name), TOKF(f->name));
    }
  }
}

/* ---- records: containment cycles --------------------------------------- */

/* Records that contain themselves by value (not behind list<> or ?) would
 * be infinitely large. A depth-first walk over by-value record fields
 * reports each cycle once, at the field that closes it as seen from the
 * first record of the cycle in source order. The walk keeps its own stack:
 * a long chain of records must not overflow the C one. */
/* Appends to `buf`, silently truncating. */
static void cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    ESC_PRINTF(4, 5);
static void cat(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
  va_list ap;
  int n;
  if (*len + 1 >= cap)
    return;
  va_start(ap, fmt);
  n = vsnprintf(buf + *len, cap - *len, fmt, ap);
  va_end(ap);
  if (n > 0)
    *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

static esc_field *by_value_record(esc_field *f) {
  for (; f; f = f->next)
    if (f->type->kind == ESC_T_RECORD && !f->type->optional && f->type->decl)
      return f;
  return NULL;
}

void chk_cycles(checker *c) {
  size_t n = 0;
  for (esc_decl *d = c->s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_RECORD)
      d->index = (uint32_t)n++;
  if (!n)
    return;
  /* 0 new, 1 on the stack, 2 done; | 4 once a cycle through it was
   * reported (one error per record is enough to act on) */
  unsigned char *color = calloc(n, 1);
  struct frame {
    esc_decl *r;
    esc_field *f; /* the field being followed */
  } *stack = calloc(n, sizeof *stack);
  size_t *pos = calloc(n, sizeof *pos); /* where a record is on the stack */
  if (!color || !stack || !pos) {
    c->oom = true;
    goto done;
  }
  for (esc_decl *root = c->s->decls; root; root = root->next) {
    size_t top = 0;
    if (root->kind != ESC_DECL_RECORD || (color[root->index] & 3))
      continue;
    stack[0] = (struct frame){root, by_value_record(root->fields)};
    color[root->index] = 1;
    pos[root->index] = 0;
    top = 1;
    while (top) {
      struct frame *fr = &stack[top - 1];
      if (!fr->f) {
        color[fr->r->index] = (unsigned char)((color[fr->r->index] & 4) | 2);
        top--;
        continue;
      }
      esc_field *f = fr->f;
      esc_decl *next = f->type->decl;
      fr->f = by_value_record(f->next);
      if ((color[next->index] & 3) == 0) {
        color[next->index] |= 1;
        pos[next->index] = top;
        stack[top++] = (struct frame){next, by_value_record(next->fields)};
      } else if ((color[next->index] & 3) == 1 && !(color[next->index] & 4)) {
        /* The cycle runs from `next`, down the stack, back to it. */
        size_t from = pos[next->index];
        color[next->index] |= 4;
        esc_decl *r = stack[from].r;
        esc_field *via = from + 1 < top ? NULL : f;
        /* "A.b -> B.c -> A", with the middle of a long cycle elided. */
        char path[512];
        size_t len = 0, hops = top - from;
        for (size_t i = from; i < top; i++) {
          /* The field each frame followed: the one before its cursor. */
          esc_field *g = i + 1 == top ? f : NULL;
          if (!g)
            for (esc_field *h = stack[i].r->fields; h; h = h->next)
              if (h->type->kind == ESC_T_RECORD && !h->type->optional &&
                  h->type->decl == stack[i + 1].r &&
                  (!stack[i].f || h->index < stack[i].f->index))
                g = h;
          if (i == from)
            via = g;
          if (hops > 6 && i >= from + 3 && i + 2 < top) {
            if (i == from + 3)
              cat(path, sizeof path, &len, "... -> ");
            continue;
          }
          cat(path, sizeof path, &len, "%.*s.%.*s -> ", TOKF(stack[i].r->name),
              TOKF(g->name));
        }
        cat(path, sizeof path, &len, "%.*s", TOKF(r->name));
        if (r == stack[top - 1].r)
          esc_error(c->d, via->name,
                    "record '%.*s' contains itself through field '%.*s'; "
                    "make the field optional or a list",
                    TOKF(r->name), TOKF(via->name));
        else
          esc_error(c->d, via->name,
                    "record '%.*s' contains itself through field '%.*s' "
                    "(%s); make one of these fields optional or a list",
                    TOKF(r->name), TOKF(via->name), path);
      }
    }
  }
done:
  free(color);
  free(stack);
  free(pos);
}
