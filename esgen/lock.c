/*
 * lock.c - a schema's lock, and a lock as text (docs/evolution.md has the
 * format): what the store keeps, in the order the schema declares it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <es/es_desc.h>

#include "gen.h"
#include "grow.h"
#include "lock.h"

/* ---- from a schema ------------------------------------------------------ */

typedef struct builder {
  esc_lock *lk;
  size_t cap;
  bool oom;
} builder;

static char *tok_dup(builder *b, esc_tok t) {
  char *p = es_arena_strndup(&b->lk->arena, t.z, t.n);
  if (!p)
    b->oom = true;
  return p;
}

static char *str_dup(builder *b, const char *s) {
  char *p = es_arena_strdup(&b->lk->arena, s);
  if (!p)
    b->oom = true;
  return p;
}

/* The type as the schema writes it, into `out`; with the top level's own
 * '?' and bound only when `whole`. */
static void type_text(es_buf *out, const esc_type *t, bool whole) {
  if (t->kind == ESC_T_LIST) {
    esc_out(out, "list<");
    type_text(out, t->elem, true);
    esc_out(out, ">");
  } else if (t->kind == ESC_T_ENUM || t->kind == ESC_T_RECORD) {
    esc_out(out, "%.*s", (int)t->decl->name.n, t->decl->name.z);
  } else {
    esc_out(out, "%s", esc_kind_name(t->kind));
  }
  if (!whole)
    return;
  if (t->optional)
    esc_out(out, "?");
  if (t->has_max)
    esc_out(out, " max %" PRIu64, t->max);
}

/* A default as a literal the schema could hold: strings re-escaped. */
static void literal_text(es_buf *out, const esc_literal *l) {
  switch (l->kind) {
  case ESC_LIT_INT:
    esc_out(out, "%s%" PRIu64, l->negative && l->u ? "-" : "", l->u);
    break;
  case ESC_LIT_FLOAT:
    esc_out(out, "%s%.*s", l->negative ? "-" : "", (int)l->tok.n, l->tok.z);
    break;
  case ESC_LIT_BOOL:
    esc_out(out, "%s", l->u ? "true" : "false");
    break;
  case ESC_LIT_NAME:
    esc_out(out, "%.*s", (int)l->tok.n, l->tok.z);
    break;
  default:
    esc_out(out, "\"");
    for (size_t i = 0; i < l->s_len; i++) {
      unsigned char c = (unsigned char)l->s[i];
      if (c == '"' || c == '\\')
        esc_out(out, "\\%c", c);
      else if (c == '\n')
        esc_out(out, "\\n");
      else if (c == '\t')
        esc_out(out, "\\t");
      else if (c < 0x20 || c == 0x7f)
        esc_out(out, "\\u{%X}", c);
      else
        esc_out(out, "%c", c);
    }
    esc_out(out, "\"");
  }
}

static esc_lk_entry *add_entry(builder *b, int kind, const char *name,
                               esc_tok at, uint32_t n_fields) {
  esc_lock *lk = b->lk;
  if (b->oom)
    return NULL;
  if (esc_grow(&lk->entries, &b->cap, (size_t)lk->n + 1, sizeof *lk->entries,
               32) != 0) {
    b->oom = true;
    return NULL;
  }
  esc_lk_entry *e = &lk->entries[lk->n++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->name = str_dup(b, name);
  e->version = 1;
  e->at = at;
  e->n_fields = n_fields;
  if (n_fields) {
    e->fields = es_arena_calloc(&lk->arena, n_fields, sizeof *e->fields);
    if (!e->fields)
      b->oom = true;
  }
  return b->oom ? NULL : e;
}

static void add_fields(builder *b, esc_lk_entry *e, const esc_field *fields) {
  es_buf t;
  uint32_t i = 0;
  es_buf_init(&t, 0);
  for (const esc_field *f = fields; f && !b->oom; f = f->next, i++) {
    esc_lk_field *lf = &e->fields[i];
    es_buf_clear(&t);
    type_text(&t, f->type, false);
    esc_out(&t, "%c", '\0');
    lf->name = tok_dup(b, f->name);
    lf->type = t.err ? NULL : str_dup(b, (const char *)t.data);
    lf->optional = f->type->optional;
    lf->has_max = f->type->has_max;
    lf->max = f->type->max;
    lf->at = f->name;
    if (f->def) {
      es_buf_clear(&t);
      literal_text(&t, f->def);
      esc_out(&t, "%c", '\0');
      lf->def = t.err ? NULL : str_dup(b, (const char *)t.data);
    }
    if (t.err)
      b->oom = true;
  }
  es_buf_close(&t);
}

/* Every stored struct: records, states, saga states and events. */
static void add_struct(const esc_schema *s, const esc_struct *st, void *ctx) {
  builder *b = ctx;
  const esc_decl *d = st->decl;
  int kind;
  esc_tok at = d->name;
  (void)s;
  if (strcmp(st->role, "ES_ROLE_RECORD") == 0)
    kind = ESC_LK_RECORD;
  else if (strcmp(st->role, "ES_ROLE_STATE") == 0)
    kind = ESC_LK_STATE;
  else if (strcmp(st->role, "ES_ROLE_SAGA_STATE") == 0)
    kind = ESC_LK_SAGA_STATE;
  else if (strcmp(st->role, "ES_ROLE_EVENT") == 0)
    kind = ESC_LK_EVENT;
  else
    return; /* commands are never stored */
  if ((kind == ESC_LK_STATE || kind == ESC_LK_SAGA_STATE) && d->has_state)
    at = d->state_at;
  /* States are named by their aggregate or saga alone. */
  char name[600];
  if (kind == ESC_LK_STATE || kind == ESC_LK_SAGA_STATE)
    snprintf(name, sizeof name, "%.*s", (int)d->name.n, d->name.z);
  else
    snprintf(name, sizeof name, "%s", st->schema_name);
  esc_lk_entry *e = add_entry(b, kind, name, at, st->n_fields);
  if (!e)
    return;
  e->version = st->version;
  e->id = es_fnv1a64(st->id_text);
  e->current = kind != ESC_LK_EVENT || d->current;
  add_fields(b, e, st->fields);
}

int esc_lock_from_schema(const esc_schema *s, esc_lock *out) {
  builder b = {out, 0, false};
  memset(out, 0, sizeof *out);
  es_arena_init(&out->arena, 0);
  out->path = s->path;
  out->src = s->src;
  out->src_len = s->src_len;
  out->schema_at = s->name;
  out->schema = tok_dup(&b, s->name);
  for (const esc_decl *d = s->decls; d && !b.oom; d = d->next) {
    if (d->kind != ESC_DECL_ENUM)
      continue;
    char name[300];
    snprintf(name, sizeof name, "%.*s", (int)d->name.n, d->name.z);
    esc_lk_entry *e = add_entry(&b, ESC_LK_ENUM, name, d->name, d->n_values);
    uint32_t i = 0;
    for (const esc_name_list *v = d->values; e && v; v = v->next, i++) {
      e->fields[i].name = tok_dup(&b, v->name);
      e->fields[i].at = v->name;
    }
  }
  if (!b.oom)
    esc_each_struct(s, &b, add_struct);
  if (b.oom) {
    esc_lock_close(out);
    return -1;
  }
  return 0;
}

void esc_lock_close(esc_lock *lk) {
  if (!lk)
    return;
  free(lk->entries);
  es_arena_close(&lk->arena);
  memset(lk, 0, sizeof *lk);
}

/* ---- as text ------------------------------------------------------------ */

static const char *const kind_words[] = {"enum", "record", "state",
                                         "saga-state", "event"};

const char *esc_lk_kind_word(int kind) { return kind_words[kind]; }

int esc_lock_write(const esc_lock *lk, es_buf *out) {
  esc_out(out,
          "# The stored shapes of schema '%s': every event version, record\n"
          "# and state, fields in wire order. Written by 'esgen --lock';\n"
          "# commit it and review its changes (docs/evolution.md).\n"
          "esgen-lock %d\n"
          "schema %s\n",
          lk->schema, ESC_LOCK_FORMAT, lk->schema);
  for (uint32_t i = 0; i < lk->n; i++) {
    const esc_lk_entry *e = &lk->entries[i];
    esc_out(out, "\n%s %s", kind_words[e->kind], e->name);
    if (e->kind == ESC_LK_EVENT)
      esc_out(out, " v%" PRIu32, e->version);
    if (e->kind != ESC_LK_ENUM)
      esc_out(out, " id %016" PRIx64, e->id);
    esc_out(out, "\n");
    for (uint32_t j = 0; j < e->n_fields; j++) {
      const esc_lk_field *f = &e->fields[j];
      if (!f->type) {
        esc_out(out, "  %" PRIu32 " %s\n", j, f->name);
        continue;
      }
      esc_out(out, "  %" PRIu32 " %s: %s%s", j, f->name, f->type,
              f->optional ? "?" : "");
      if (f->has_max)
        esc_out(out, " max %" PRIu64, f->max);
      if (f->def)
        esc_out(out, " = %s", f->def);
      esc_out(out, "\n");
    }
  }
  return out->err ? -1 : 0;
}
