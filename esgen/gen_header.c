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

static void enum_decl(const esc_decl *e, es_buf *b) {
  uint32_t i = 0;
  esc_namebuf nb;
  esc_out(b, "/* enum %.*s: sent as its number, 0 .. %s_COUNT-1 */\n",
          TOKF(e->name), e->c_upper);
  esc_out(b, "typedef enum %s {\n", e->c_name);
  for (const esc_name_list *v = e->values; v; v = v->next, i++) {
    esc_out(b, "  %s = %u,\n", esc_name_const(&nb, e->c_upper, v->name), i);
  }
  esc_out(b, "} %s;\n", e->c_name);
  esc_out(b, "#define %s_COUNT %u\n", e->c_upper, e->n_values);
  esc_out(b, "extern const es_enum_desc %s_desc;\n", e->c_name);
  esc_out(
      b, "/* The value's name as in the schema, or NULL if out of range. */\n");
  esc_out(b, "const char *%s_name(%s value);\n", e->c_name, e->c_name);
  esc_out(b,
          "typedef struct %s_list {\n  %s *items;\n  uint32_t count;\n} "
          "%s_list;\n\n",
          e->c_name, e->c_name, e->c_name);
}

static void forward_decl(const esc_schema *s, const esc_struct *st, void *ctx) {
  es_buf *b = ctx;
  (void)s;
  esc_out(b, "typedef struct %s %s;\n", st->c_name, st->c_name);
}

static void list_decl(const esc_decl *r, es_buf *b) {
  esc_out(
      b,
      "typedef struct %s_list {\n  %s *items;\n  uint32_t count;\n} %s_list;\n",
      r->c_name, r->c_name, r->c_name);
}

static void struct_decl(const esc_schema *s, const esc_struct *st, void *ctx) {
  es_buf *b = ctx;
  esc_namebuf nb;
  (void)s;
  esc_out(b, "/* %s", st->schema_name);
  if (st->decl->kind == ESC_DECL_EVENT && st->decl->version_tok.n)
    esc_out(b, " v%u", st->version);
  if (st->decl->kind == ESC_DECL_EVENT && !st->decl->current)
    esc_out(b,
            ": an older shape, read from the store and lifted by %s_upcast_%s",
            st->decl->parent->c_name, st->decl->snake);
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
    else if (f->type->has_max)
      esc_out(b, " /* at most %llu %s */", (unsigned long long)f->type->max,
              f->type->kind == ESC_T_LIST ? "items" : "bytes");
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
  esc_out(b, "#define %s UINT64_C(0x%016llx)\n",
          esc_name_type_id(&nb, st->c_name),
          (unsigned long long)es_fnv1a64(st->id_text));
  esc_out(b, "extern const es_type_desc %s_desc;\n", st->c_name);
  esc_out(b, "void %s_init(%s *value);\n", st->c_name, st->c_name);
  esc_out(b, "int %s_encode(const %s *value, es_buf *out);\n", st->c_name,
          st->c_name);
  esc_out(b,
          "int %s_decode(%s *value,\n"
          "    const void *data, size_t len, es_arena *arena);\n\n",
          st->c_name, st->c_name);
}

static void aggregate_api(const esc_decl *a, es_buf *b) {
  esc_namebuf nb;
  uint32_t i = 1;
  esc_out(b, "/* ---- aggregate %.*s ---- */\n\n", TOKF(a->name));
  esc_out(b, "extern const es_aggregate_desc %s_aggregate;\n\n", a->c_name);
  if (a->n_errors) {
    esc_out(b, "/* Domain rejections of %.*s. */\n", TOKF(a->name));
    esc_out(b, "typedef enum %s_error {\n", a->c_name);
    for (const esc_name_list *e = a->errors; e; e = e->next, i++) {
      esc_out(b, "  %s = %u,\n", esc_name_const(&nb, a->c_upper, e->name), i);
    }
    esc_out(b, "} %s_error;\n\n", a->c_name);
    esc_out(b,
            "/* Rejects the command: nothing is stored, and the caller gets\n"
            " * ES_EREJECTED with the error's name and `message` (copied;\n"
            " * may be NULL). Return its result from decide. */\n");
    esc_out(b,
            "static inline int %s_reject(es_decision *d, %s_error error,\n"
            "    const char *message) {\n"
            "  return es_decision_reject(d, (uint32_t)error, message);\n}\n\n",
            a->c_name, a->c_name);
  }
  for (const esc_decl *e = a->events; e; e = e->next) {
    if (!e->current || !e->emitted)
      continue;
    esc_out(b,
            "/* Emits %.*s: encoded at once, so `event` may live on the "
            "stack. */\n",
            TOKF(e->name));
    esc_out(b,
            "static inline int %s_emit_%s(es_decision *d,\n"
            "    const %s *event) {\n"
            "  return es_decision_emit(d, &%s_desc, event);\n}\n\n",
            a->c_name, e->snake, e->c_name, e->c_name);
  }
  for (const esc_decl *m = a->commands; m; m = m->next) {
    int kk = a->key.kind;
    esc_out(b,
            "/* Executes %.*s on instance `key`: decide, store, apply (see\n"
            " * es_app_execute_value()). `opt` and `res` may be NULL. */\n",
            TOKF(m->name));
    esc_out(b,
            "static inline int %s_execute_%s(es_app *app,\n"
            "    %skey, const %s *command,\n"
            "    const es_exec_options *opt, es_result *res) {\n",
            a->c_name, m->snake,
            kk == ESC_T_U64    ? "uint64_t "
            : kk == ESC_T_UUID ? "const es_uuid *"
                               : "const char *",
            m->c_name);
    if (kk == ESC_T_U64)
      esc_out(b, "  char text[21];\n  es_key_from_u64(key, text);\n");
    else if (kk == ESC_T_UUID)
      esc_out(b, "  char text[37];\n  es_key_from_uuid(key, text);\n");
    esc_out(
        b,
        "  return es_app_execute_value(app, &%s_aggregate, %u, %s, command,\n"
        "      opt, res);\n}\n\n",
        a->c_name, m->index, kk == ESC_T_STRING ? "key" : "text");
  }
  if (a->commands) {
    esc_out(b, "/* What you write for %.*s: decide, one per command. */\n",
            TOKF(a->name));
    for (const esc_decl *m = a->commands; m; m = m->next) {
      esc_out(b,
              "int %s_decide_%s(const %s_state *state,\n"
              "    const %s *command, es_decision *d);\n",
              a->c_name, m->snake, a->c_name, m->c_name);
    }
    esc_out(b, "\n");
  }
  if (a->has_state) {
    esc_out(b, "/* What you write for %.*s: apply, one per event. */\n",
            TOKF(a->name));
    for (const esc_decl *e = a->events; e; e = e->next)
      if (e->current)
        esc_out(b,
                "void %s_apply_%s(%s_state *state,\n"
                "    const %s *event, es_arena *arena);\n",
                a->c_name, e->snake, a->c_name, e->c_name);
    esc_out(b, "\n");
  }
  for (const esc_decl *e = a->events; e; e = e->next)
    if (e->newer) {
      esc_out(b,
              "/* What you write: lift %.*s v%u to v%u (allocate from "
              "`arena`). */\n",
              TOKF(e->name), e->version, e->newer->version);
      esc_out(
          b,
          "int %s_upcast_%s(const %s *from,\n    %s *to, es_arena *arena);\n\n",
          a->c_name, e->snake, e->c_name, e->newer->c_name);
    }
}

/* The part of a handler's name that says which aggregate member it is for:
 * "account_withdrawn". */
static void member_suffix(const esc_name_list *r, es_buf *b) {
  esc_out(b, "%s_%s", r->target->snake, r->member->snake);
}

static void projection_api(const esc_decl *p, es_buf *b) {
  esc_out(b, "/* ---- projection %.*s ---- */\n\n", TOKF(p->name));
  esc_out(b, "extern const es_projection_desc %s_projection;\n\n", p->c_name);
  esc_out(b,
          "/* What you write for %.*s: one handler per event, in global\n"
          " * order. `ctx` is what you gave the runtime for this projection.\n"
          " * Return 0, or a negative code to stop and retry later. */\n",
          TOKF(p->name));
  for (const esc_name_list *r = p->on; r; r = r->next) {
    esc_out(b, "int %s_on_", p->c_name);
    member_suffix(r, b);
    esc_out(b,
            "(const %s *event,\n    const es_event_meta *meta, void *ctx);\n",
            r->member->c_name);
  }
  esc_out(b, "\n");
}

static void saga_api(const esc_decl *s, es_buf *b) {
  esc_out(b, "/* ---- saga %.*s ---- */\n\n", TOKF(s->name));
  esc_out(b, "extern const es_saga_desc %s_saga;\n\n", s->c_name);
  for (const esc_name_list *r = s->sends; r; r = r->next) {
    int kk = r->target->key.kind;
    esc_out(b,
            "/* Sends %.*s.%.*s to instance `key` once this handler's new\n"
            " * state is stored. */\n",
            TOKF(r->name), TOKF(r->qual));
    esc_out(b, "static inline int %s_send_", s->c_name);
    member_suffix(r, b);
    esc_out(b, "(es_saga_ctx *ctx,\n    %s key, const %s *command) {\n",
            kk == ESC_T_U64    ? "uint64_t"
            : kk == ESC_T_UUID ? "const es_uuid *"
                               : "const char *",
            r->member->c_name);
    if (kk == ESC_T_U64)
      esc_out(b, "  char text[21];\n  es_key_from_u64(key, text);\n");
    else if (kk == ESC_T_UUID)
      esc_out(b, "  char text[37];\n  es_key_from_uuid(key, text);\n");
    esc_out(
        b, "  return es_saga_send(ctx, &%s_aggregate, %u, %s, command);\n}\n\n",
        r->target->c_name, r->member->index,
        kk == ESC_T_STRING ? "key" : "text");
  }
  esc_out(
      b,
      "/* What you write for %.*s. Change `state` as the saga moves on;\n"
      " * send commands, schedule timeouts or complete through `ctx`.\n"
      " * The event's strings and lists live as long as the state; allocate\n"
      " * anything new the state keeps from ctx->arena.\n"
      " * Return 0, or a negative code to retry the event later. */\n",
      TOKF(s->name));
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    if (on->kind == ESC_ON_TIMEOUT) {
      esc_out(b,
              "int %s_on_timeout(%s_state *state,\n"
              "    const es_timeout *timeout, es_saga_ctx *ctx);\n",
              s->c_name, s->c_name);
    } else if (on->kind == ESC_ON_REJECTED) {
      esc_out(b, "int %s_on_rejected_", s->c_name);
      member_suffix(on->ref, b);
      esc_out(
          b,
          "(%s_state *state,\n    const %s *command, const es_rejection *why,\n"
          "    es_saga_ctx *ctx);\n",
          s->c_name, on->ref->member->c_name);
    } else {
      esc_out(b, "int %s_on_", s->c_name);
      member_suffix(on->ref, b);
      esc_out(
          b,
          "(%s_state *state,\n    const %s *event, const es_event_meta *meta,\n"
          "    es_saga_ctx *ctx);\n",
          s->c_name, on->ref->member->c_name);
    }
  }
  esc_out(b, "\n");
}

int esc_gen_header(const esc_schema *s, const char *base, es_buf *b) {
  char guard[256];
  esc_tpl_vars v = {base, guard, s->c_prefix, NULL};
  bool any_record = false;

  guard_name(base, guard, sizeof guard);
  esc_template(b, ESC_TPL_HEADER_OPEN, &v);

  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_ENUM)
      enum_decl(d, b);

  /* Every struct is named up front so lists and optional records may
   * point at types defined further down. */
  esc_each_struct(s, b, forward_decl);
  esc_out(b, "\n");
  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_RECORD) {
      list_decl(d, b);
      any_record = true;
    }
  if (any_record)
    esc_out(b, "\n");
  esc_each_struct(s, b, struct_decl);

  for (const esc_decl *d = s->decls; d; d = d->next) {
    if (d->kind == ESC_DECL_AGGREGATE)
      aggregate_api(d, b);
    else if (d->kind == ESC_DECL_PROJECTION)
      projection_api(d, b);
    else if (d->kind == ESC_DECL_SAGA)
      saga_api(d, b);
  }

  esc_out(b, "/* ---- the schema as a whole ---- */\n\n");
  esc_out(b,
          "/* Every type, aggregate, projection and saga of %.*s: what the\n"
          " * runtime routes commands and events with. */\n",
          TOKF(s->name));
  esc_out(b, "extern const es_schema_desc %s_schema;\n\n", s->c_prefix);
  esc_template(b, ESC_TPL_HEADER_CLOSE, &v);
  return b->err;
}
