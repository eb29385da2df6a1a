/*
 * gen_source.c - writes <schema>.es.c: straight-line codecs, descriptors
 * and the routing table.
 *
 * Wire format: every struct is a msgpack array of its fields in schema
 * order; an absent optional is nil; enums are unsigned integers; uuids are
 * 16-byte bins; timestamps are integers. A reader accepts fewer fields
 * (older writer: defaults fill in) and more (newer writer: skipped).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <es/es.h>

#include "gen.h"
#include "template.h"

#define TOKF(t) (int)(t).n, (t).z

#if defined(__GNUC__)
#define ESC_GEN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ESC_GEN_PRINTF(a, b)
#endif

/* ---- values ------------------------------------------------------------ */

/* A C string literal of `s` (escaped; no trigraphs, no hex run-ons). */
static void c_string(es_buf *b, const char *s, size_t n) {
  esc_out(b, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      esc_out(b, "\\%c", c);
    else if (c == '\n')
      esc_out(b, "\\n");
    else if (c == '\t')
      esc_out(b, "\\t");
    else if (c == '?')
      esc_out(b, "\\?");
    else if (c < 0x20 || c >= 0x7f)
      esc_out(b, "\\%03o", c);
    else
      esc_out(b, "%c", c);
  }
  esc_out(b, "\"");
}

static int hexval(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : c - 'A' + 10;
}

/* A C floating constant of `v` with `digits` significant digits (enough to
 * round-trip its type) and `suffix`. "%g" alone prints 2.0 as "2", which is
 * an integer constant ("2f" does not even compile) and loses the sign of
 * -0.0, so a '.0' is added whenever the digits have no '.' or exponent. */
static void float_literal(es_buf *b, double v, int digits, const char *suffix) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%.*g", digits, v);
  for (char *c = tmp; *c; c++)
    if (*c == ',') /* a locale's decimal comma */
      *c = '.';
  esc_out(b, "%s%s%s", tmp, strpbrk(tmp, ".e") ? "" : ".0", suffix);
}

/* The C expression of a field's default. */
static void default_expr(es_buf *b, const esc_field *f) {
  const esc_literal *l = f->def;
  const esc_type *t = f->type;
  esc_namebuf nb;
  switch (t->kind) {
  case ESC_T_BOOL:
    esc_out(b, "%s", l->u ? "true" : "false");
    break;
  case ESC_T_I8:
  case ESC_T_I16:
  case ESC_T_I32:
  case ESC_T_I64:
  case ESC_T_TIMESTAMP:
    if (l->negative && l->u == UINT64_C(9223372036854775808))
      esc_out(b, "INT64_MIN");
    else
      esc_out(b, "%sINT64_C(%" PRIu64 ")", l->negative ? "-" : "", l->u);
    break;
  case ESC_T_U8:
  case ESC_T_U16:
  case ESC_T_U32:
  case ESC_T_U64:
    esc_out(b, "UINT64_C(%" PRIu64 ")", l->u);
    break;
  case ESC_T_F32:
    float_literal(b, (float)l->f, 9, "f");
    break;
  case ESC_T_F64:
    float_literal(b, l->f, 17, "");
    break;
  case ESC_T_STRING:
    c_string(b, l->s, l->s_len);
    break;
  case ESC_T_UUID: {
    esc_out(b, "(es_uuid){{");
    int k = 0;
    for (size_t i = 0; i + 1 < l->s_len && k < 16; i++) {
      if (l->s[i] == '-')
        continue;
      esc_out(b, "%s0x%02x", k ? ", " : "",
              hexval(l->s[i]) * 16 + hexval(l->s[i + 1]));
      i++;
      k++;
    }
    esc_out(b, "}}");
    break;
  }
  case ESC_T_ENUM: {
    const esc_name_list *v = t->decl->values;
    for (uint64_t i = 0; i < l->u && v; i++)
      v = v->next;
    esc_out(b, "%s", esc_name_const(&nb, t->decl->c_upper, v->name));
    break;
  }
  default:
    esc_out(b, "0");
  }
}

/* ---- encoding ---------------------------------------------------------- */

/* Nesting is counted as the decoder counts it (es_mp_read_array): every
 * msgpack array, a record's or a list's, is one level, and a value whose
 * arrays would nest more than ES_MP_MAX_DEPTH deep is refused with
 * ES_EDEPTH, so the encoder never writes what no decoder would read (and
 * a cycle of optional records cannot recurse forever). `depth` in the
 * generated enc_* functions is the number of arrays already open around
 * the record being written; `level` here is how many more arrays (the
 * record's own, then a list's) enclose the value. */
/* The bound passed to es_enc_* / es_dec_* (0: none). */
static uint64_t max_of(const esc_type *t) { return t->has_max ? t->max : 0; }

static void enc_value(es_buf *b, const esc_type *t, const char *x,
                      const char *ind, int level) {
  switch (t->kind) {
  case ESC_T_BOOL:
    esc_out(b, "%ses_mp_write_bool(b, %s);\n", ind, x);
    break;
  case ESC_T_I8:
  case ESC_T_I16:
  case ESC_T_I32:
  case ESC_T_I64:
  case ESC_T_TIMESTAMP:
    esc_out(b, "%ses_mp_write_int(b, %s);\n", ind, x);
    break;
  case ESC_T_U8:
  case ESC_T_U16:
  case ESC_T_U32:
  case ESC_T_U64:
    esc_out(b, "%ses_mp_write_uint(b, %s);\n", ind, x);
    break;
  case ESC_T_F32:
    esc_out(b, "%ses_mp_write_f32(b, %s);\n", ind, x);
    break;
  case ESC_T_F64:
    esc_out(b, "%ses_mp_write_f64(b, %s);\n", ind, x);
    break;
  case ESC_T_STRING:
    esc_out(b, "%ses_enc_string(b, %s, %" PRIu64 ");\n", ind, x, max_of(t));
    break;
  case ESC_T_BYTES:
    esc_out(b, "%ses_enc_bytes(b, %s, %" PRIu64 ");\n", ind, x, max_of(t));
    break;
  case ESC_T_UUID:
    esc_out(b, "%ses_enc_uuid(b, &%s);\n", ind, x);
    break;
  case ESC_T_ENUM:
    esc_out(b, "%ses_enc_enum(b, (uint32_t)%s, %s_COUNT);\n", ind, x,
            t->decl->c_upper);
    break;
  case ESC_T_RECORD:
    esc_out(b, "%senc_%s(%s%s, b, depth + %d);\n", ind, t->decl->c_name,
            t->optional ? "" : "&", x, level);
    break;
  case ESC_T_LIST: {
    char item[256];
    esc_out(b,
            "%sif (depth + %d >= ES_MP_MAX_DEPTH)\n"
            "%s  es_buf_fail(b, ES_EDEPTH);\n",
            ind, level, ind);
    esc_out(b, "%sif (es_enc_list(b, %s.count, %s.items, %" PRIu64 ")) {\n",
            ind, x, x, max_of(t));
    esc_out(b, "%s  for (uint32_t i = 0; i < %s.count; i++) {\n", ind, x);
    snprintf(item, sizeof item, "%s.items[i]", x);
    char ind2[64];
    snprintf(ind2, sizeof ind2, "%s    ", ind);
    enc_value(b, t->elem, item, ind2, level + 1);
    esc_out(b, "%s  }\n%s}\n", ind, ind);
    break;
  }
  }
}

static void enc_struct(const esc_struct *st, es_buf *b) {
  esc_out(b, "static void enc_%s(const %s *v, es_buf *b, int depth) {\n",
          st->c_name, st->c_name);
  esc_out(b, "  if (depth >= ES_MP_MAX_DEPTH) {\n"
             "    es_buf_fail(b, ES_EDEPTH);\n    return;\n  }\n");
  esc_out(b, "  es_mp_write_array(b, %u);\n", st->n_fields);
  for (const esc_field *f = st->fields; f; f = f->next) {
    char x[256];
    snprintf(x, sizeof x, "v->%.*s", TOKF(f->name));
    if (f->type->optional && f->type->kind == ESC_T_RECORD) {
      esc_out(b, "  if (%s)\n  ", x);
      enc_value(b, f->type, x, "  ", 1);
      esc_out(b, "  else\n    es_mp_write_nil(b);\n");
    } else if (f->type->optional) {
      esc_out(b, "  if (v->has_%.*s) {\n", TOKF(f->name));
      enc_value(b, f->type, x, "    ", 1);
      esc_out(b, "  } else {\n    es_mp_write_nil(b);\n  }\n");
    } else {
      enc_value(b, f->type, x, "  ", 1);
    }
  }
  esc_out(b, "}\n\n");
}

/* ---- decoding ---------------------------------------------------------- */

/* One call that may fail: `rc` is returned as it is. */
static void dec_call(es_buf *b, const char *ind, const char *fmt, ...)
    ESC_GEN_PRINTF(3, 4);
static void dec_call(es_buf *b, const char *ind, const char *fmt, ...) {
  char call[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(call, sizeof call, fmt, ap);
  va_end(ap);
  esc_out(b, "%sif ((rc = %s) != 0)\n%s  return rc;\n", ind, call, ind);
}

static void dec_value(es_buf *b, const esc_type *t, const char *x,
                      const char *ind) {
  switch (t->kind) {
  case ESC_T_BOOL:
  case ESC_T_I8:
  case ESC_T_I16:
  case ESC_T_I32:
  case ESC_T_I64:
  case ESC_T_TIMESTAMP:
  case ESC_T_U8:
  case ESC_T_U16:
  case ESC_T_U32:
  case ESC_T_U64:
  case ESC_T_F32:
  case ESC_T_F64:
  case ESC_T_UUID:
    dec_call(b, ind, "es_dec_%s(r, &%s)", esc_kind_name(t->kind), x);
    break;
  case ESC_T_STRING:
  case ESC_T_BYTES:
    dec_call(b, ind, "es_dec_%s(r, &%s, %" PRIu64 ", a)",
             esc_kind_name(t->kind), x, max_of(t));
    break;
  case ESC_T_ENUM:
    esc_out(b, "%s{\n%s  uint32_t e_;\n", ind, ind);
    esc_out(b,
            "%s  if ((rc = es_dec_enum(r, &e_, %s_COUNT)) != 0)\n"
            "%s    return rc;\n%s  %s = (%s)e_;\n%s}\n",
            ind, t->decl->c_upper, ind, ind, x, t->decl->c_name, ind);
    break;
  case ESC_T_RECORD:
    if (t->optional) {
      esc_out(b,
              "%s{\n%s  %s *p_ = es_arena_alloc(a, sizeof *p_);\n"
              "%s  if (!p_)\n%s    return ES_ENOMEM;\n",
              ind, ind, t->decl->c_name, ind, ind);
      char ind2[64];
      snprintf(ind2, sizeof ind2, "%s  ", ind);
      dec_call(b, ind2, "dec_%s(r, p_, a)", t->decl->c_name);
      esc_out(b, "%s  %s = p_;\n%s}\n", ind, x, ind);
    } else {
      dec_call(b, ind, "dec_%s(r, &%s, a)", t->decl->c_name, x);
    }
    break;
  case ESC_T_LIST: {
    char ind2[64], ind4[64], item[300];
    es_buf ct = ES_BUF_INIT;
    snprintf(ind2, sizeof ind2, "%s  ", ind);
    snprintf(ind4, sizeof ind4, "%s    ", ind);
    esc_out_base_ctype(&ct, t->elem);
    esc_out(b, "%s{\n%s  uint32_t n_;\n%s  void *p_;\n", ind, ind, ind);
    dec_call(b, ind2, "es_dec_list(r, &n_, %" PRIu64 ", sizeof(%.*s), &p_, a)",
             max_of(t), (int)ct.len, (const char *)ct.data);
    es_buf_close(&ct);
    esc_out(b, "%s  %s.items = p_;\n%s  %s.count = n_;\n", ind, x, ind, x);
    esc_out(b, "%s  for (uint32_t i_ = 0; i_ < n_; i_++) {\n", ind);
    snprintf(item, sizeof item, "%s.items[i_]", x);
    dec_value(b, t->elem, item, ind4);
    esc_out(b, "%s  }\n%s  es_mp_leave(r);\n%s}\n", ind, ind, ind);
    break;
  }
  }
}

/* One field: nil for an absent optional, else the value. */
static void dec_field(es_buf *b, const esc_field *f, const char *x,
                      const char *ind) {
  char ind2[64];
  snprintf(ind2, sizeof ind2, "%s  ", ind);
  if (!f->type->optional) {
    dec_value(b, f->type, x, ind);
    return;
  }
  esc_out(b, "%sif (!es_mp_read_nil(r)) {\n", ind);
  if (f->type->kind != ESC_T_RECORD)
    esc_out(b, "%s  v->has_%.*s = true;\n", ind, TOKF(f->name));
  dec_value(b, f->type, x, ind2);
  esc_out(b, "%s}\n", ind);
}

static void dec_struct(const esc_struct *st, es_buf *b) {
  uint32_t i = 0, need = 0;
  /* Fields up to the last one that is neither optional nor defaulted must
   * be present; after it, a field an older writer did not know is absent
   * or takes its default. */
  for (const esc_field *f = st->fields; f; f = f->next, i++)
    if (!f->type->optional && !f->def)
      need = i + 1;
  esc_out(b, "static int dec_%s(es_mp_reader *r, %s *v, es_arena *a) {\n",
          st->c_name, st->c_name);
  esc_out(b, "  uint32_t n;\n  int rc;\n");
  esc_out(b, "  if ((rc = es_mp_read_array(r, &n)) != 0)\n    return rc;\n");
  if (need)
    esc_out(b, "  if (n < %u)\n    return ES_EMISSING;\n", need);
  esc_out(b, "  memset(v, 0, sizeof *v);\n");
  i = 0;
  for (const esc_field *f = st->fields; f; f = f->next, i++) {
    char x[256];
    snprintf(x, sizeof x, "v->%.*s", TOKF(f->name));
    if (i < need) {
      dec_field(b, f, x, "  ");
      continue;
    }
    esc_out(b, "  if (n > %u) {\n", i);
    dec_field(b, f, x, "    ");
    esc_out(b, "  }");
    if (f->def) {
      esc_out(b, " else {\n    %s = ", x);
      default_expr(b, f);
      esc_out(b, ";\n  }\n");
    } else {
      esc_out(b, "\n");
    }
  }
  esc_out(b,
          "  for (uint32_t i = %u; i < n; i++)\n"
          "    if ((rc = es_mp_skip(r)) != 0)\n      return rc;\n",
          st->n_fields);
  esc_out(b, "  es_mp_leave(r);\n  return 0;\n}\n\n");
}

/* ---- per struct -------------------------------------------------------- */

static void field_descs(const esc_struct *st, es_buf *b) {
  if (!st->fields)
    return;
  esc_out(b, "static const es_field_desc %s_fields[] = {\n", st->c_name);
  for (const esc_field *f = st->fields; f; f = f->next) {
    const esc_type *t = f->type;
    const esc_type *e = t->kind == ESC_T_LIST ? t->elem : t;
    es_buf ct = ES_BUF_INIT;
    esc_out(b,
            "    {\"%.*s\", %s, %d, %d, 0, %" PRIu64 ", offsetof(%s, %.*s), ",
            TOKF(f->name), esc_kind_const(e->kind), t->kind == ESC_T_LIST,
            t->optional, t->has_max ? t->max : 0, st->c_name, TOKF(f->name));
    if (t->optional && t->kind != ESC_T_RECORD)
      esc_out(b, "offsetof(%s, has_%.*s), ", st->c_name, TOKF(f->name));
    else
      esc_out(b, "0, ");
    if (t->kind == ESC_T_LIST) {
      esc_out_base_ctype(&ct, e);
      esc_out(b, "sizeof(%.*s), ", (int)ct.len, (const char *)ct.data);
    } else {
      esc_out(b, "0, ");
    }
    es_buf_close(&ct);
    if (e->kind == ESC_T_RECORD)
      esc_out(b, "&%s_desc, NULL},\n", e->decl->c_name);
    else if (e->kind == ESC_T_ENUM)
      esc_out(b, "NULL, &%s_desc},\n", e->decl->c_name);
    else
      esc_out(b, "NULL, NULL},\n");
  }
  esc_out(b, "};\n\n");
}

static void init_fn(const esc_struct *st, es_buf *b) {
  esc_out(b, "void %s_init(%s *v) {\n  memset(v, 0, sizeof *v);\n", st->c_name,
          st->c_name);
  for (const esc_field *f = st->fields; f; f = f->next) {
    const esc_type *t = f->type;
    if (t->optional)
      continue;
    if (f->def) {
      esc_out(b, "  v->%.*s = ", TOKF(f->name));
      default_expr(b, f);
      esc_out(b, ";\n");
    } else if (t->kind == ESC_T_STRING) {
      esc_out(b, "  v->%.*s = \"\";\n", TOKF(f->name));
    } else if (t->kind == ESC_T_RECORD) {
      esc_out(b, "  %s_init(&v->%.*s);\n", t->decl->c_name, TOKF(f->name));
    }
  }
  esc_out(b, "}\n\n");
}

static void struct_code(const esc_schema *s, const esc_struct *st, void *ctx) {
  es_buf *b = ctx;
  (void)s;
  esc_out(b, "/* ---- %s ---- */\n\n", st->schema_name);
  init_fn(st, b);
  enc_struct(st, b);
  dec_struct(st, b);
  esc_out(b,
          "int %s_encode(const %s *v, es_buf *b) {\n"
          "  size_t start = b->len;\n  int rc;\n"
          "  if (b->err)\n    return b->err;\n"
          "  enc_%s(v, b, 0);\n"
          "  if ((rc = b->err) != 0) {\n"
          "    /* Leave the buffer as it was. */\n"
          "    b->err = 0;\n    b->len = start;\n  }\n"
          "  return rc;\n}\n\n",
          st->c_name, st->c_name, st->c_name);
  esc_out(b,
          "int %s_decode(%s *v, const void *data, size_t len, es_arena *a) {\n"
          "  es_mp_reader r;\n  int rc;\n"
          "  es_mp_reader_init(&r, data, len);\n"
          "  if ((rc = dec_%s(&r, v, a)) != 0)\n    return rc;\n"
          "  return r.p == r.end ? 0 : ES_ETRAILING;\n}\n\n",
          st->c_name, st->c_name, st->c_name);
  esc_out(b,
          "static void %s_init_any(void *v) { %s_init(v); }\n"
          "static int %s_encode_any(const void *v, es_buf *b) {\n"
          "  return %s_encode(v, b);\n}\n"
          "static int %s_decode_any(void *v, const void *data, size_t len,\n"
          "    es_arena *a) {\n  return %s_decode(v, data, len, a);\n}\n\n",
          st->c_name, st->c_name, st->c_name, st->c_name, st->c_name,
          st->c_name);
  field_descs(st, b);
  esc_out(b,
          "const es_type_desc %s_desc = {\n"
          "    ES_TYPE_DESC_MAGIC, %s, \"%s\", \"%s\",\n"
          "    UINT64_C(0x%016" PRIx64 "), UINT64_C(0x%016" PRIx64
          "), %u, %u,\n"
          "    %s%s, sizeof(%s),\n"
          "    %s_init_any, %s_encode_any, %s_decode_any};\n\n",
          st->c_name, st->role, st->schema_name, st->c_name,
          es_fnv1a64(st->id_text), st->layout_hash, st->version, st->n_fields,
          st->fields ? st->c_name : "NULL", st->fields ? "_fields" : "",
          st->c_name, st->c_name, st->c_name, st->c_name);
}

/* Records may be used before they are defined (recursion, and records
 * come first but refer to each other): declare their codecs up front. */
static void prototypes(const esc_schema *s, const esc_struct *st, void *ctx) {
  es_buf *b = ctx;
  (void)s;
  if (st->decl->kind != ESC_DECL_RECORD)
    return;
  esc_out(b, "static void enc_%s(const %s *v, es_buf *b, int depth);\n",
          st->c_name, st->c_name);
  esc_out(b, "static int dec_%s(es_mp_reader *r, %s *v, es_arena *a);\n",
          st->c_name, st->c_name);
}

/* ---- routing ----------------------------------------------------------- */

static void enum_code(const esc_decl *e, es_buf *b) {
  esc_out(b, "static const char *const %s_values[] = {", e->c_name);
  for (const esc_name_list *v = e->values; v; v = v->next)
    esc_out(b, "\"%.*s\"%s", TOKF(v->name), v->next ? ", " : "");
  esc_out(b, "};\n");
  esc_out(b, "const es_enum_desc %s_desc = {\"%.*s\", %u, %s_values};\n",
          e->c_name, TOKF(e->name), e->n_values, e->c_name);
  esc_out(b,
          "const char *%s_name(%s value) {\n"
          "  return (uint32_t)value < %u ? %s_values[value] : NULL;\n}\n\n",
          e->c_name, e->c_name, e->n_values, e->c_name);
}

static void aggregate_code(const esc_decl *a, es_buf *b) {
  const char *A = a->c_name;
  esc_out(b, "/* ---- routing: aggregate %.*s ---- */\n\n", TOKF(a->name));
  for (const esc_decl *m = a->commands; m; m = m->next) {
    esc_out(
        b,
        "static int %s_decide_%s_any(const void *state, const void *command,\n"
        "    es_decision *d) {\n  return %s_decide_%s(state, command, d);\n}\n",
        A, m->snake, A, m->snake);
    esc_out(b, "static const uint32_t %s_emits[] = {", m->c_name);
    for (const esc_name_list *r = m->emits; r; r = r->next)
      esc_out(b, "%u%s", r->member->index, r->next ? ", " : "");
    esc_out(b, "};\n");
  }
  if (a->commands) {
    esc_out(b, "static const es_command_route %s_commands[] = {\n", A);
    for (const esc_decl *m = a->commands; m; m = m->next) {
      uint32_t n = 0;
      for (const esc_name_list *r = m->emits; r; r = r->next)
        n++;
      esc_out(b, "    {&%s_desc, %s_decide_%s_any, %u, %s_emits},\n", m->c_name,
              A, m->snake, n, m->c_name);
    }
    esc_out(b, "};\n\n");
  }
  for (const esc_decl *e = a->events; e; e = e->next) {
    if (!e->current)
      continue;
    if (a->has_state)
      esc_out(b,
              "static void %s_apply_%s_any(void *state, const void *event,\n"
              "    es_arena *a) {\n  %s_apply_%s(state, event, a);\n}\n",
              A, e->snake, A, e->snake);
    if (e->older) {
      const esc_decl *oldest = e;
      while (oldest->older)
        oldest = oldest->older;
      for (const esc_decl *o = oldest; o != e; o = o->newer)
        esc_out(b,
                "static int %s_upcast_%s_any(const void *from, void *to,\n"
                "    es_arena *a) {\n  return %s_upcast_%s(from, to, a);\n}\n",
                A, o->snake, A, o->snake);
      esc_out(b, "static const es_event_version %s_old[] = {\n", e->c_name);
      for (const esc_decl *o = oldest; o != e; o = o->newer)
        esc_out(b, "    {&%s_desc, %s_upcast_%s_any},\n", o->c_name, A,
                o->snake);
      esc_out(b, "};\n");
    }
    if (e->n_subs) {
      esc_out(b, "static const es_subscriber %s_subscribers[] = {\n",
              e->c_name);
      for (uint32_t i = 0; i < e->n_subs; i++)
        esc_out(b, "    {%d, %u, %u},\n", e->subs[i].is_saga, e->subs[i].index,
                e->subs[i].handler);
      esc_out(b, "};\n");
    }
  }
  if (a->n_current_events) {
    esc_out(b, "static const es_event_route %s_events[] = {\n", A);
    for (const esc_decl *e = a->events; e; e = e->next) {
      uint32_t n_old = 0, n_subs = e->n_subs;
      if (!e->current)
        continue;
      for (const esc_decl *o = e->older; o; o = o->older)
        n_old++;
      esc_out(b, "    {&%s_desc, ", e->c_name);
      if (a->has_state)
        esc_out(b, "%s_apply_%s_any, ", A, e->snake);
      else
        esc_out(b, "NULL, ");
      if (n_old)
        esc_out(b, "%u, %s_old, ", n_old, e->c_name);
      else
        esc_out(b, "0, NULL, ");
      if (n_subs)
        esc_out(b, "%u, %s_subscribers},\n", n_subs, e->c_name);
      else
        esc_out(b, "0, NULL},\n");
    }
    esc_out(b, "};\n");
  }
  if (a->n_errors) {
    esc_out(b, "static const char *const %s_errors[] = {", A);
    for (const esc_name_list *e = a->errors; e; e = e->next)
      esc_out(b, "\"%.*s\"%s", TOKF(e->name), e->next ? ", " : "");
    esc_out(b, "};\n");
  }
  esc_out(b,
          "const es_aggregate_desc %s_aggregate = {\n"
          "    \"%.*s\", %s, %s%s%s,\n",
          A, TOKF(a->name),
          a->key.kind == ESC_T_U64    ? "ES_KEY_U64"
          : a->key.kind == ESC_T_UUID ? "ES_KEY_UUID"
                                      : "ES_KEY_STRING",
          a->has_state ? "&" : "NULL", a->has_state ? A : "",
          a->has_state ? "_state_desc" : "");
  esc_out(b, "    %u, %s%s,\n", a->n_commands, a->commands ? A : "NULL",
          a->commands ? "_commands" : "");
  esc_out(b, "    %u, %s%s,\n", a->n_current_events,
          a->n_current_events ? A : "NULL",
          a->n_current_events ? "_events" : "");
  esc_out(b, "    %u, %s%s, %" PRIu64 "};\n\n", a->n_errors,
          a->n_errors ? A : "NULL", a->n_errors ? "_errors" : "",
          a->has_snapshot ? a->snapshot_every : 0);
}

static void projection_code(const esc_decl *p, es_buf *b) {
  const char *P = p->c_name;
  uint32_t n = 0;
  esc_out(b, "/* ---- routing: projection %.*s ---- */\n\n", TOKF(p->name));
  for (const esc_name_list *r = p->on; r; r = r->next, n++)
    esc_out(b,
            "static int %s_on_%s_%s_any(const void *event,\n"
            "    const es_event_meta *meta, void *ctx) {\n"
            "  return %s_on_%s_%s(event, meta, ctx);\n}\n",
            P, r->target->snake, r->member->snake, P, r->target->snake,
            r->member->snake);
  esc_out(b, "static const es_projection_handler %s_handlers[] = {\n", P);
  for (const esc_name_list *r = p->on; r; r = r->next)
    esc_out(b, "    {&%s_aggregate, %u, %s_on_%s_%s_any},\n", r->target->c_name,
            r->member->index, P, r->target->snake, r->member->snake);
  esc_out(b, "};\n");
  esc_out(b,
          "const es_projection_desc %s_projection = {\"%.*s\", %u, "
          "%s_handlers};\n\n",
          P, TOKF(p->name), n, P);
}

static void saga_code(const esc_decl *s, es_buf *b) {
  const char *S = s->c_name;
  uint32_t n_handlers = 0, n_sends = 0;
  esc_out(b, "/* ---- routing: saga %.*s ---- */\n\n", TOKF(s->name));
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    const esc_name_list *r = on->ref;
    if (on->kind == ESC_ON_TIMEOUT)
      esc_out(b,
              "static int %s_on_timeout_any(void *state, const es_timeout *t,\n"
              "    es_saga_ctx *ctx) {\n  return %s_on_timeout(state, t, "
              "ctx);\n}\n",
              S, S);
    else if (on->kind == ESC_ON_REJECTED)
      esc_out(b,
              "static int %s_on_rejected_%s_%s_any(void *state,\n"
              "    const void *command, const es_rejection *why, es_saga_ctx "
              "*ctx) {\n"
              "  return %s_on_rejected_%s_%s(state, command, why, ctx);\n}\n",
              S, r->target->snake, r->member->snake, S, r->target->snake,
              r->member->snake);
    else
      esc_out(b,
              "static int %s_on_%s_%s_any(void *state, const void *event,\n"
              "    const es_event_meta *meta, es_saga_ctx *ctx) {\n"
              "  return %s_on_%s_%s(state, event, meta, ctx);\n}\n",
              S, r->target->snake, r->member->snake, S, r->target->snake,
              r->member->snake);
  }
  esc_out(b, "static const es_saga_handler %s_handlers[] = {\n", S);
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    const esc_name_list *r = on->ref;
    if (on->kind != ESC_ON_EVENT && on->kind != ESC_ON_START)
      continue;
    esc_out(b, "    {&%s_aggregate, %u, %d, ", r->target->c_name,
            r->member->index, on->kind == ESC_ON_START);
    if (on->by_field)
      esc_out(b, "&%s_fields[%u], ", r->member->c_name, on->by_field->index);
    else
      esc_out(b, "NULL, ");
    esc_out(b, "%s_on_%s_%s_any},\n", S, r->target->snake, r->member->snake);
    n_handlers++;
  }
  esc_out(b, "};\n");
  if (s->sends) {
    esc_out(b, "static const es_saga_target %s_sends[] = {\n", S);
    for (const esc_name_list *r = s->sends; r; r = r->next, n_sends++) {
      bool rejected = false;
      for (const esc_saga_on *on = s->saga_on; on; on = on->next)
        if (on->kind == ESC_ON_REJECTED && on->ref->member == r->member)
          rejected = true;
      esc_out(b, "    {&%s_aggregate, %u, ", r->target->c_name,
              r->member->index);
      if (rejected)
        esc_out(b, "%s_on_rejected_%s_%s_any},\n", S, r->target->snake,
                r->member->snake);
      else
        esc_out(b, "NULL},\n");
    }
    esc_out(b, "};\n");
  }
  esc_out(b,
          "const es_saga_desc %s_saga = {\n    \"%.*s\", %s, &%s_state_desc,\n"
          "    %u, %s_handlers, %u, %s%s, %s%s};\n\n",
          S, TOKF(s->name),
          s->key.kind == ESC_T_U64    ? "ES_KEY_U64"
          : s->key.kind == ESC_T_UUID ? "ES_KEY_UUID"
                                      : "ES_KEY_STRING",
          S, n_handlers, S, n_sends, s->sends ? S : "NULL",
          s->sends ? "_sends" : "", s->on_timeout ? S : "NULL",
          s->on_timeout ? "_on_timeout_any" : "");
}

/* ---- the schema table -------------------------------------------------- */

typedef struct type_entry {
  uint64_t id;
  uint32_t version;
  char c_name[256];
} type_entry;

typedef struct type_table {
  type_entry *items;
  size_t n, cap;
  bool oom;
} type_table;

static void collect(const esc_schema *s, const esc_struct *st, void *ctx) {
  type_table *t = ctx;
  (void)s;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    type_entry *p = realloc(t->items, cap * sizeof *p);
    if (!p) {
      t->oom = true;
      return;
    }
    t->items = p;
    t->cap = cap;
  }
  t->items[t->n].id = es_fnv1a64(st->id_text);
  t->items[t->n].version = st->version;
  snprintf(t->items[t->n].c_name, sizeof t->items[t->n].c_name, "%s",
           st->c_name);
  t->n++;
}

static int by_id(const void *x, const void *y) {
  const type_entry *a = x, *b = y;
  if (a->id != b->id)
    return a->id < b->id ? -1 : 1;
  if (a->version != b->version)
    return a->version < b->version ? -1 : 1;
  return strcmp(a->c_name, b->c_name);
}

/* The schema's JSON description (esc_gen_json()) as a char array: a
 * string literal that long would trip -Woverlength-strings. */
static void description_code(const esc_schema *s, es_buf *b) {
  es_buf json = ES_BUF_INIT;
  es_buf_init(&json, (size_t)1 << 30);
  if (esc_gen_json(s, &json) != 0) {
    b->err = json.err ? json.err : ES_ENOMEM;
    es_buf_close(&json);
    return;
  }
  esc_out(b,
          "/* The schema's JSON description (docs/schema-json.md), recorded "
          "in\n * the store by es_app_open(). */\n"
          "static const char %s_description[] = {",
          s->c_prefix);
  for (size_t i = 0; i < json.len; i++) {
    unsigned c = json.data[i];
    const char *sep = i % 12 ? " " : "\n    ";
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
      esc_out(b, "%s'%c',", sep, (char)c);
    else /* octal: the same char whether char is signed or not */
      esc_out(b, "%s'\\%03o',", sep, c);
  }
  esc_out(b, "\n    0};\n");
  es_buf_close(&json);
}

static void schema_code(const esc_schema *s, es_buf *b) {
  const char *X = s->c_prefix;
  uint32_t n[8] = {0};
  type_table types = {0};
  for (const esc_decl *d = s->decls; d; d = d->next)
    n[d->kind]++;
  if (n[ESC_DECL_AGGREGATE]) {
    esc_out(b, "static const es_aggregate_desc *const %s_aggregates[] = {\n",
            X);
    for (const esc_decl *d = s->decls; d; d = d->next)
      if (d->kind == ESC_DECL_AGGREGATE)
        esc_out(b, "    &%s_aggregate,\n", d->c_name);
    esc_out(b, "};\n");
  }
  if (n[ESC_DECL_PROJECTION]) {
    esc_out(b, "static const es_projection_desc *const %s_projections[] = {\n",
            X);
    for (const esc_decl *d = s->decls; d; d = d->next)
      if (d->kind == ESC_DECL_PROJECTION)
        esc_out(b, "    &%s_projection,\n", d->c_name);
    esc_out(b, "};\n");
  }
  if (n[ESC_DECL_SAGA]) {
    esc_out(b, "static const es_saga_desc *const %s_sagas[] = {\n", X);
    for (const esc_decl *d = s->decls; d; d = d->next)
      if (d->kind == ESC_DECL_SAGA)
        esc_out(b, "    &%s_saga,\n", d->c_name);
    esc_out(b, "};\n");
  }
  esc_each_struct(s, &types, collect);
  if (types.oom) {
    b->err = ES_ENOMEM;
    free(types.items);
    return;
  }
  if (types.n) {
    qsort(types.items, types.n, sizeof *types.items, by_id);
    esc_out(b, "/* Sorted by type id, then version, for binary search. */\n");
    esc_out(b, "static const es_type_desc *const %s_types[] = {\n", X);
    for (size_t i = 0; i < types.n; i++)
      esc_out(b, "    &%s_desc,\n", types.items[i].c_name);
    esc_out(b, "};\n");
  }
  description_code(s, b);
  esc_out(b,
          "const es_schema_desc %s_schema = {\n    ES_ABI_VERSION, \"%.*s\",\n",
          X, TOKF(s->name));
  esc_out(b, "    %u, %s%s,\n", n[ESC_DECL_AGGREGATE],
          n[ESC_DECL_AGGREGATE] ? X : "NULL",
          n[ESC_DECL_AGGREGATE] ? "_aggregates" : "");
  esc_out(b, "    %u, %s%s,\n", n[ESC_DECL_PROJECTION],
          n[ESC_DECL_PROJECTION] ? X : "NULL",
          n[ESC_DECL_PROJECTION] ? "_projections" : "");
  esc_out(b, "    %u, %s%s,\n", n[ESC_DECL_SAGA], n[ESC_DECL_SAGA] ? X : "NULL",
          n[ESC_DECL_SAGA] ? "_sagas" : "");
  esc_out(b, "    %zu, %s%s,\n", types.n, types.n ? X : "NULL",
          types.n ? "_types" : "");
  esc_out(b, "    %s_description, sizeof %s_description - 1};\n", X, X);
  free(types.items);
}

int esc_gen_source(const esc_schema *s, const char *base, es_buf *b) {
  esc_tpl_vars v = {base, NULL, s->c_prefix, NULL};
  esc_template(b, ESC_TPL_SOURCE_OPEN, &v);
  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_ENUM)
      enum_code(d, b);
  esc_each_struct(s, b, prototypes);
  esc_out(b, "\n");
  esc_each_struct(s, b, struct_code);
  for (const esc_decl *d = s->decls; d; d = d->next) {
    if (d->kind == ESC_DECL_AGGREGATE)
      aggregate_code(d, b);
    else if (d->kind == ESC_DECL_PROJECTION)
      projection_code(d, b);
    else if (d->kind == ESC_DECL_SAGA)
      saga_code(d, b);
  }
  schema_code(s, b);
  esc_template(b, ESC_TPL_SOURCE_CLOSE, &v);
  return b->err;
}
