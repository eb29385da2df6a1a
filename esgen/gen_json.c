/*
 * gen_json.c - the schema as a JSON description (docs/schema-json.md).
 *
 * The description is what a tool needs to read a store without the
 * application: every type with its stable id, version, layout hash and
 * fields (kind, list, optional, bound, default), and the aggregates,
 * projections and sagas that route them. Output is deterministic (source
 * order, no dates, no paths), one line per type, so the same schema always
 * gives the same bytes and therefore the same hash.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <es/es.h>

#include "gen.h"

#define TOKF(t) (int)(t).n, (t).z

/* A JSON string from `n` bytes: quotes, backslashes and control bytes are
 * escaped; other bytes pass through (the source is UTF-8). */
static void json_str(es_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  es_buf_append(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      es_buf_append(b, e, 2);
    } else if (c == '\n') {
      es_buf_append(b, "\\n", 2);
    } else if (c == '\t') {
      es_buf_append(b, "\\t", 2);
    } else if (c < 0x20 || c == 0x7f) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      es_buf_append(b, e, 6);
    } else {
      es_buf_append(b, s + i, 1);
    }
  }
  es_buf_append(b, "\"", 1);
}

static void json_tok(es_buf *b, esc_tok t) { json_str(b, t.z, t.n); }

static void json_cstr(es_buf *b, const char *s) { json_str(b, s, strlen(s)); }

/* The value of a default, in the JSON form esctl prints values in. */
static void json_default(es_buf *b, const esc_field *f) {
  const esc_literal *l = f->def;
  const esc_type *t = f->type;
  const esc_name_list *v;
  char tmp[64];
  if (t->kind == ESC_T_BOOL)
    esc_out(b, "%s", l->u ? "true" : "false");
  else if (esc_is_signed_kind(t->kind))
    esc_out(b, "%s%" PRIu64, l->negative && l->u ? "-" : "", l->u);
  else if (esc_is_unsigned_kind(t->kind))
    esc_out(b, "%" PRIu64, l->u);
  else if (t->kind == ESC_T_F32 || t->kind == ESC_T_F64)
    esc_out(b, "%s", esc_float_text(tmp, sizeof tmp, l->f, t->kind));
  else if (t->kind == ESC_T_STRING || t->kind == ESC_T_UUID)
    json_str(b, l->s, l->s_len);
  else if (t->kind == ESC_T_ENUM && (v = esc_enum_value(t->decl, l->u)))
    json_tok(b, v->name);
  else if (t->kind == ESC_T_ENUM)
    esc_out(b, "%" PRIu64, l->u);
  else
    esc_out(b, "null");
}

/* The "elem" of list type `t`: its element's list flag and bound, and the
 * element's own element when it is a list in turn. */
static void json_elem(es_buf *b, const esc_type *t) {
  const esc_type *e = t->elem;
  esc_out(b, ",\"elem\":{\"list\":%s",
          e->kind == ESC_T_LIST ? "true" : "false");
  if (e->has_max)
    esc_out(b, ",\"max\":%" PRIu64, e->max);
  if (e->kind == ESC_T_LIST)
    json_elem(b, e);
  esc_out(b, "}");
}

static void json_field(es_buf *b, const esc_field *f) {
  const esc_type *t = f->type, *e = t;
  while (e->kind == ESC_T_LIST)
    e = e->elem;
  esc_out(b, "{\"name\":");
  json_tok(b, f->name);
  esc_out(b, ",\"kind\":\"%s\"", esc_kind_name(e->kind));
  if (e->kind == ESC_T_RECORD) {
    esc_out(b, ",\"record\":");
    json_tok(b, e->decl->name);
  } else if (e->kind == ESC_T_ENUM) {
    esc_out(b, ",\"enum\":");
    json_tok(b, e->decl->name);
  }
  esc_out(b, ",\"list\":%s,\"optional\":%s",
          t->kind == ESC_T_LIST ? "true" : "false",
          t->optional ? "true" : "false");
  if (t->has_max)
    esc_out(b, ",\"max\":%" PRIu64, t->max);
  if (t->kind == ESC_T_LIST)
    json_elem(b, t);
  if (f->def) {
    esc_out(b, ",\"default\":");
    json_default(b, f);
  }
  esc_out(b, "}");
}

static const char *role_name(const char *role) {
  if (strcmp(role, "ES_ROLE_STATE") == 0)
    return "state";
  if (strcmp(role, "ES_ROLE_COMMAND") == 0)
    return "command";
  if (strcmp(role, "ES_ROLE_EVENT") == 0)
    return "event";
  if (strcmp(role, "ES_ROLE_SAGA_STATE") == 0)
    return "saga_state";
  return "record";
}

typedef struct types_ctx {
  es_buf *b;
  int n;
} types_ctx;

static void json_type(const esc_schema *s, const esc_struct *st, void *ctx) {
  types_ctx *tc = ctx;
  es_buf *b = tc->b;
  (void)s;
  esc_out(b, "%s\n  {\"name\":", tc->n++ ? "," : "");
  json_cstr(b, st->schema_name);
  esc_out(b, ",\"role\":\"%s\",\"c_name\":", role_name(st->role));
  json_cstr(b, st->c_name);
  esc_out(b,
          ",\"id\":\"%016" PRIx64 "\",\"version\":%u,\"layout\":\"%016" PRIx64
          "\",\"fields\":[",
          es_fnv1a64(st->id_text), st->version, st->layout_hash);
  int i = 0;
  for (const esc_field *f = st->fields; f; f = f->next) {
    if (i++)
      esc_out(b, ",");
    json_field(b, f);
  }
  esc_out(b, "]}");
}

static const char *key_name(int kind) {
  return kind == ESC_T_U64 ? "u64" : kind == ESC_T_UUID ? "uuid" : "string";
}

/* "Account.Deposited" of a resolved A.B reference. */
static void json_ref(es_buf *b, const esc_name_list *r) {
  esc_out(b, "\"%.*s.%.*s\"", TOKF(r->name), TOKF(r->qual));
}

/* The names of list `l` as a JSON array; with `refs`, its "A.B"
 * references (json_ref()). */
static void json_names(es_buf *b, const esc_name_list *l, bool refs) {
  esc_out(b, "[");
  for (const esc_name_list *n = l; n; n = n->next) {
    if (n != l)
      esc_out(b, ",");
    if (refs)
      json_ref(b, n);
    else
      json_tok(b, n->name);
  }
  esc_out(b, "]");
}

static void json_aggregate(es_buf *b, const esc_decl *a) {
  int i = 0;
  esc_out(b, "\n  {\"name\":");
  json_tok(b, a->name);
  esc_out(b, ",\"key\":\"%s\",\"state\":", key_name(a->key.kind));
  if (a->has_state)
    esc_out(b, "\"%.*s#state\"", TOKF(a->name));
  else
    esc_out(b, "null");
  esc_out(b, ",\"errors\":");
  json_names(b, a->errors, false);
  esc_out(b, ",\"snapshot_every\":%" PRIu64 ",\n   \"commands\":[",
          a->has_snapshot ? a->snapshot_every : 0);
  for (const esc_decl *c = a->commands; c; c = c->next) {
    esc_out(b, "%s{\"name\":", i++ ? "," : "");
    json_tok(b, c->name);
    esc_out(b, ",\"emits\":");
    json_names(b, c->emits, false);
    esc_out(b, "}");
  }
  esc_out(b, "],\n   \"events\":[");
  i = 0;
  for (const esc_decl *e = a->events; e; e = e->next) {
    if (!e->current)
      continue;
    int k = 0;
    esc_out(b, "%s{\"name\":", i++ ? "," : "");
    json_tok(b, e->name);
    esc_out(b, ",\"version\":%u,\"versions\":[", e->version);
    /* Every version of this event, oldest first. */
    for (uint32_t v = 1; v <= e->version; v++)
      for (const esc_decl *o = a->events; o; o = o->next)
        if (o->version == v && o->name.n == e->name.n &&
            memcmp(o->name.z, e->name.z, e->name.n) == 0)
          esc_out(b, "%s%u", k++ ? "," : "", v);
    esc_out(b, "]}");
  }
  esc_out(b, "]}");
}

/* A declaration that is a name and one list: {"name":..,"<member>":[..]}. */
static void json_named_list(es_buf *b, esc_tok name, const char *member,
                            const esc_name_list *l, bool refs) {
  esc_out(b, "\n  {\"name\":");
  json_tok(b, name);
  esc_out(b, ",\"%s\":", member);
  json_names(b, l, refs);
  esc_out(b, "}");
}

static void json_projection(es_buf *b, const esc_decl *p) {
  json_named_list(b, p->name, "on", p->on, true);
}

static void json_saga(es_buf *b, const esc_decl *g) {
  int i = 0;
  esc_out(b, "\n  {\"name\":");
  json_tok(b, g->name);
  esc_out(b, ",\"key\":\"%s\",\"state\":\"%.*s#state\",\"on\":[",
          key_name(g->key.kind), TOKF(g->name));
  for (const esc_saga_on *on = g->saga_on; on; on = on->next) {
    if (on->kind != ESC_ON_EVENT && on->kind != ESC_ON_START)
      continue;
    esc_out(b, "%s{\"event\":", i++ ? "," : "");
    json_ref(b, on->ref);
    esc_out(b, ",\"starts\":%s,\"by\":",
            on->kind == ESC_ON_START ? "true" : "false");
    if (on->by.n)
      json_tok(b, on->by);
    else
      esc_out(b, "null");
    esc_out(b, "}");
  }
  esc_out(b, "],\"sends\":");
  json_names(b, g->sends, true);
  esc_out(b, ",\"on_rejected\":[");
  i = 0;
  for (const esc_saga_on *on = g->saga_on; on; on = on->next)
    if (on->kind == ESC_ON_REJECTED) {
      if (i++)
        esc_out(b, ",");
      json_ref(b, on->ref);
    }
  esc_out(b, "],\"on_timeout\":%s}", g->on_timeout ? "true" : "false");
}

/* Writes the list of declarations of `kind` as a JSON array member. */
static void json_decls(const esc_schema *s, es_buf *b, const char *member,
                       int kind, void (*fn)(es_buf *, const esc_decl *)) {
  int i = 0;
  esc_out(b, ",\n \"%s\":[", member);
  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == kind) {
      if (i++)
        esc_out(b, ",");
      fn(b, d);
    }
  esc_out(b, "]");
}

static void json_enum(es_buf *b, const esc_decl *e) {
  json_named_list(b, e->name, "values", e->values, false);
}

int esc_gen_json(const esc_schema *s, es_buf *b) {
  types_ctx tc = {b, 0};
  esc_out(b, "{\"format\":\"esgen-schema\",\"format_version\":%d,\"schema\":",
          ESC_SCHEMA_JSON_VERSION);
  json_tok(b, s->name);
  esc_out(b, ",\"abi\":%d", ES_ABI_VERSION);
  json_decls(s, b, "enums", ESC_DECL_ENUM, json_enum);
  esc_out(b, ",\n \"types\":[");
  esc_each_struct(s, &tc, json_type);
  esc_out(b, "]");
  json_decls(s, b, "aggregates", ESC_DECL_AGGREGATE, json_aggregate);
  json_decls(s, b, "projections", ESC_DECL_PROJECTION, json_projection);
  json_decls(s, b, "sagas", ESC_DECL_SAGA, json_saga);
  esc_out(b, "}\n");
  return b->err;
}
