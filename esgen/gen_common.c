/*
 * gen_common.c - pieces every generator uses: formatted output, C type
 * spelling, and the canonical order of struct types.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <es/es.h>

#include "format.h"
#include "gen.h"
#include "template.h"

void esc_out(es_buf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  size_t room;
  if (b->err)
    return;
  /* Most pieces are plain text or one string: copied, not formatted (the
   * big schemas write millions of them). */
  size_t plain = strcspn(fmt, "%");
  if (!fmt[plain]) {
    es_buf_append(b, fmt, plain);
    return;
  }
  if (fmt[0] == '%' && fmt[1] == 's' && fmt[2] == '\0') {
    va_start(ap, fmt);
    const char *s = va_arg(ap, const char *);
    va_end(ap);
    es_buf_append(b, s, strlen(s));
    return;
  }
  /* Format straight into the spare room; only a line that does not fit
   * is formatted twice. */
  room = b->cap - b->len;
  va_start(ap, fmt);
  n = esc_vformat(room ? (char *)b->data + b->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->err = ES_EINVAL;
    return;
  }
  if ((size_t)n >= room) {
    uint8_t *d = es_buf_reserve(b, (size_t)n + 1);
    if (!d)
      return;
    va_start(ap, fmt);
    esc_vformat((char *)d, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

static const char *const kind_consts[] = {
    "ES_KIND_BOOL",  "ES_KIND_I8",        "ES_KIND_I16",  "ES_KIND_I32",
    "ES_KIND_I64",   "ES_KIND_U8",        "ES_KIND_U16",  "ES_KIND_U32",
    "ES_KIND_U64",   "ES_KIND_F32",       "ES_KIND_F64",  "ES_KIND_STRING",
    "ES_KIND_BYTES", "ES_KIND_TIMESTAMP", "ES_KIND_UUID", "ES_KIND_ENUM",
    "ES_KIND_RECORD"};

static const char *const ctypes[] = {
    "bool",    "int8_t",       "int16_t",  "int32_t",      "int64_t",
    "uint8_t", "uint16_t",     "uint32_t", "uint64_t",     "float",
    "double",  "const char *", "es_bytes", "es_timestamp", "es_uuid"};

const char *esc_kind_const(int kind) {
  return kind >= 0 && kind <= ESC_T_RECORD ? kind_consts[kind] : "?";
}

void esc_out_base_ctype(es_buf *b, const esc_type *t) {
  if (t->kind == ESC_T_ENUM || t->kind == ESC_T_RECORD)
    esc_out(b, "%s", t->decl->c_name);
  else
    esc_out(b, "%s", ctypes[t->kind]);
}

void esc_out_field_ctype(es_buf *b, const esc_type *t) {
  if (t->kind == ESC_T_LIST) {
    esc_out(b, "%s", t->c_list);
  } else if (t->kind == ESC_T_RECORD && t->optional) {
    esc_out(b, "const %s *", t->decl->c_name);
  } else {
    esc_out_base_ctype(b, t);
  }
}

/* ---- canonical struct order ------------------------------------------- */

/* Depth-first: a record is emitted after every record it holds by value. */
static void visit_record(const esc_decl *r, const esc_decl **order, size_t *n,
                         unsigned char *mark, size_t n_records) {
  if (mark[r->index])
    return;
  mark[r->index] = 1;
  for (const esc_field *f = r->fields; f; f = f->next)
    if (f->type->kind == ESC_T_RECORD && !f->type->optional)
      visit_record(f->type->decl, order, n, mark, n_records);
  order[(*n)++] = r;
}

static void emit(const esc_schema *s, void *ctx, esc_struct_fn fn,
                 const esc_decl *decl, const char *c_name,
                 const char *schema_name, const char *role,
                 const esc_field *fields, uint32_t n_fields, uint32_t version) {
  esc_struct st;
  /* Field by field: an initializer would clear all of id_text, for every
   * struct of every pass. */
  st.decl = decl;
  st.c_name = c_name;
  st.schema_name = schema_name;
  st.role = role;
  st.fields = fields;
  st.n_fields = n_fields;
  st.version = version;
  st.layout_hash = decl->layout_hash;
  esc_format(st.id_text, sizeof st.id_text, "%.*s.%s", (int)s->name.n,
             s->name.z, schema_name);
  fn(s, &st, ctx);
}

void esc_each_struct(const esc_schema *s, void *ctx, esc_struct_fn fn) {
  size_t n_records = 0, n = 0;
  char name[512], c_name[512];
  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_RECORD)
      n_records++;
  if (n_records) {
    const esc_decl **order = calloc(n_records, sizeof *order);
    unsigned char *mark = calloc(n_records, 1);
    if (order && mark) {
      for (const esc_decl *d = s->decls; d; d = d->next)
        if (d->kind == ESC_DECL_RECORD)
          visit_record(d, order, &n, mark, n_records);
      for (size_t i = 0; i < n; i++) {
        esc_format(name, sizeof name, "%.*s", (int)order[i]->name.n,
                   order[i]->name.z);
        emit(s, ctx, fn, order[i], order[i]->c_name, name, "ES_ROLE_RECORD",
             order[i]->fields, order[i]->n_fields, 1);
      }
    }
    free(order);
    free(mark);
  }
  for (const esc_decl *a = s->decls; a; a = a->next) {
    if (a->kind != ESC_DECL_AGGREGATE && a->kind != ESC_DECL_SAGA)
      continue;
    if (a->has_state || a->kind == ESC_DECL_SAGA) {
      esc_format(name, sizeof name, "%.*s#state", (int)a->name.n, a->name.z);
      esc_format(c_name, sizeof c_name, "%s_state", a->c_name);
      emit(s, ctx, fn, a, c_name, name,
           a->kind == ESC_DECL_SAGA ? "ES_ROLE_SAGA_STATE" : "ES_ROLE_STATE",
           a->fields, a->n_fields, 1);
    }
    if (a->kind == ESC_DECL_SAGA)
      continue;
    for (const esc_decl *m = a->commands; m; m = m->next) {
      esc_format(name, sizeof name, "%.*s.%.*s", (int)a->name.n, a->name.z,
                 (int)m->name.n, m->name.z);
      emit(s, ctx, fn, m, m->c_name, name, "ES_ROLE_COMMAND", m->fields,
           m->n_fields, 1);
    }
    for (const esc_decl *e = a->events; e; e = e->next) {
      esc_format(name, sizeof name, "%.*s.%.*s", (int)a->name.n, a->name.z,
                 (int)e->name.n, e->name.z);
      emit(s, ctx, fn, e, e->c_name, name, "ES_ROLE_EVENT", e->fields,
           e->n_fields, e->version);
    }
  }
}

/* Sets the template variables of the handler of saga `s` for `on`; the
 * template of the three for its kind. */
static int saga_handler_vars(esc_tvars *tv, const esc_decl *s,
                             const esc_saga_on *on, const int tpl[3]) {
  const esc_name_list *r = on->ref;
  esc_tv_name(tv, ESC_N_STATE, s->c_name, NULL, NULL);
  if (on->kind == ESC_ON_TIMEOUT) {
    esc_tv_name(tv, ESC_N_ON_TIMEOUT, s->c_name, NULL, NULL);
    return tpl[0];
  }
  esc_tv_name(tv, ESC_N_STRUCT, r->member->c_name, NULL, NULL);
  if (on->kind == ESC_ON_REJECTED) {
    esc_tv_name(tv, ESC_N_ON_REJECTED, s->c_name, r->target->snake,
                r->member->snake);
    return tpl[1];
  }
  esc_tv_name(tv, ESC_N_ON, s->c_name, r->target->snake, r->member->snake);
  return tpl[2];
}

void esc_saga_handlers(es_buf *b, const esc_decl *s, const int tpl[3]) {
  esc_tvars tv;
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    esc_tv_init(&tv);
    esc_tpl(b, saga_handler_vars(&tv, s, on, tpl), &tv);
  }
}

void esc_each_decl(const esc_schema *s, const esc_decl_writers *w, es_buf *b) {
  for (const esc_decl *d = s->decls; d; d = d->next) {
    if (d->kind == ESC_DECL_AGGREGATE)
      w->aggregate(d, b);
    else if (d->kind == ESC_DECL_PROJECTION)
      w->projection(d, b);
    else if (d->kind == ESC_DECL_SAGA)
      w->saga(d, b);
  }
}

const char *esc_float_text(char *tmp, size_t cap, double v, int kind) {
  if (kind == ESC_T_F32)
    snprintf(tmp, cap, "%.9g", (double)(float)v);
  else
    snprintf(tmp, cap, "%.17g", v);
  for (char *c = tmp; *c; c++)
    if (*c == ',') /* a locale's decimal comma */
      *c = '.';
  return tmp;
}

const esc_name_list *esc_enum_value(const esc_decl *e, uint64_t index) {
  const esc_name_list *v = e->values;
  for (uint64_t i = 0; v && i < index; i++)
    v = v->next;
  return v;
}

bool esc_is_signed_kind(int kind) {
  return (kind >= ESC_T_I8 && kind <= ESC_T_I64) || kind == ESC_T_TIMESTAMP;
}

bool esc_is_unsigned_kind(int kind) {
  return kind >= ESC_T_U8 && kind <= ESC_T_U64;
}
