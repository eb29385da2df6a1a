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

#include "format.h"
#include "gen.h"
#include "grow.h"
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

/* A C floating constant of `v`, of kind ESC_T_F32 or ESC_T_F64, with
 * digits enough to round-trip its type and `suffix`. "%g" alone prints 2.0 as
 * "2", which is an integer constant ("2f" does not even compile) and loses the
 * sign of -0.0, so a '.0' is added whenever the digits have no '.' or exponent.
 */
static void float_literal(es_buf *b, double v, int kind, const char *suffix) {
  char tmp[64];
  esc_float_text(tmp, sizeof tmp, v, kind);
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
    float_literal(b, l->f, ESC_T_F32, "f");
    break;
  case ESC_T_F64:
    float_literal(b, l->f, ESC_T_F64, "");
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
  case ESC_T_ENUM:
    /* The checker made sure the value exists. */
    esc_out(b, "%s",
            esc_name_const(&nb, t->decl->c_upper,
                           esc_enum_value(t->decl, l->u)->name));
    break;
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

/* Room for the C expression of a list item nested as deep as the parser
 * allows ("v->x.items[i].items[i2]..."). */
#define ITEM_MAX 2048

/* The name of a loop's variable (`stem`, "i", "n_", ...) for the list at
 * C expression `x`: the stem alone for a field's own list, then the stem
 * and the nesting level for a list of lists ("i2" inside "i"), so that no
 * inner loop shadows an outer one. */
static void loop_var(char *out, size_t cap, const char *stem, const char *x) {
  unsigned level = 1;
  for (const char *p = strstr(x, ".items["); p; p = strstr(p + 1, ".items["))
    level++;
  if (level == 1)
    esc_format(out, cap, "%s", stem);
  else
    esc_format(out, cap, "%s%u", stem, level);
}

/* Numbers, bools and timestamps: one msgpack call each way. */
static bool is_scalar(int kind) {
  return kind <= ESC_T_F64 || kind == ESC_T_TIMESTAMP;
}

/* The msgpack writer of a number, a bool or a timestamp. */
static const char *scalar_writer(int kind) {
  switch (kind) {
  case ESC_T_BOOL:
    return "es_mp_write_bool";
  case ESC_T_U8:
  case ESC_T_U16:
  case ESC_T_U32:
  case ESC_T_U64:
    return "es_mp_write_uint";
  case ESC_T_F32:
    return "es_mp_write_f32";
  case ESC_T_F64:
    return "es_mp_write_f64";
  default: /* signed integers and timestamps */
    return "es_mp_write_int";
  }
}

static void enc_value(es_buf *b, const esc_type *t, const char *x,
                      const char *ind, int level) {
  esc_namebuf nb;
  if (is_scalar(t->kind)) {
    esc_out(b, "%s%s(b, %s);\n", ind, scalar_writer(t->kind), x);
    return;
  }
  switch (t->kind) {
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
    esc_out(b, "%ses_enc_enum(b, (uint32_t)%s, %s);\n", ind, x,
            esc_name(&nb, ESC_N_COUNT, t->decl->c_upper, NULL, NULL));
    break;
  case ESC_T_RECORD:
    esc_out(b, "%s%s(%s%s, b, depth + %d);\n", ind,
            esc_name(&nb, ESC_N_ENC, t->decl->c_name, NULL, NULL),
            t->optional ? "" : "&", x, level);
    break;
  case ESC_T_LIST: {
    char item[ITEM_MAX], i[16];
    loop_var(i, sizeof i, "i", x);
    esc_out(b,
            "%sif (depth + %d >= ES_MP_MAX_DEPTH)\n"
            "%s  es_buf_fail(b, ES_EDEPTH);\n",
            ind, level, ind);
    esc_out(b, "%sif (es_enc_list(b, %s.count, %s.items, %" PRIu64 ")) {\n",
            ind, x, x, max_of(t));
    esc_out(b, "%s  for (uint32_t %s = 0; %s < %s.count; %s++) {\n", ind, i, i,
            x, i);
    esc_format(item, sizeof item, "%s.items[%s]", x, i);
    char ind2[64];
    esc_format(ind2, sizeof ind2, "%s    ", ind);
    enc_value(b, t->elem, item, ind2, level + 1);
    esc_out(b, "%s  }\n%s}\n", ind, ind);
    break;
  }
  }
}

static void enc_struct(const esc_struct *st, const esc_tvars *tv, es_buf *b) {
  esc_tpl(b, ESC_TPL_ENC_OPEN, tv);
  if (!st->fields)
    esc_out(b, "  (void)v;\n");
  for (const esc_field *f = st->fields; f; f = f->next) {
    char x[256];
    esc_format(x, sizeof x, "v->%.*s", TOKF(f->name));
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
  esc_tpl(b, ESC_TPL_FUNCTION_CLOSE, tv);
}

/* ---- decoding ---------------------------------------------------------- */

/* One call that may fail: `rc` is returned as it is. */
static void dec_call(es_buf *b, const char *ind, const char *fmt, ...)
    ESC_GEN_PRINTF(3, 4);
static void dec_call(es_buf *b, const char *ind, const char *fmt, ...) {
  char call[1024];
  va_list ap;
  va_start(ap, fmt);
  esc_vformat(call, sizeof call, fmt, ap);
  va_end(ap);
  esc_out(b, "%sif ((rc = %s) != 0)\n%s  return rc;\n", ind, call, ind);
}

static void dec_value(es_buf *b, const esc_type *t, const char *x,
                      const char *ind) {
  esc_namebuf nb;
  if (is_scalar(t->kind) || t->kind == ESC_T_UUID) {
    dec_call(b, ind, "es_dec_%s(r, &%s)", esc_kind_name(t->kind), x);
    return;
  }
  switch (t->kind) {
  case ESC_T_STRING:
  case ESC_T_BYTES:
    dec_call(b, ind, "es_dec_%s(r, &%s, %" PRIu64 ", a)",
             esc_kind_name(t->kind), x, max_of(t));
    break;
  case ESC_T_ENUM:
    esc_out(b, "%s{\n%s  uint32_t e_;\n", ind, ind);
    esc_out(b,
            "%s  if ((rc = es_dec_enum(r, &e_, %s)) != 0)\n"
            "%s    return rc;\n%s  %s = (%s)e_;\n%s}\n",
            ind, esc_name(&nb, ESC_N_COUNT, t->decl->c_upper, NULL, NULL), ind,
            ind, x, t->decl->c_name, ind);
    break;
  case ESC_T_RECORD:
    if (t->optional) {
      esc_out(b,
              "%s{\n%s  %s *p_ = es_arena_alloc(a, sizeof *p_);\n"
              "%s  if (!p_)\n%s    return ES_ENOMEM;\n",
              ind, ind, t->decl->c_name, ind, ind);
      char ind2[64];
      esc_format(ind2, sizeof ind2, "%s  ", ind);
      dec_call(b, ind2, "%s(r, p_, a)",
               esc_name(&nb, ESC_N_DEC, t->decl->c_name, NULL, NULL));
      esc_out(b, "%s  %s = p_;\n%s}\n", ind, x, ind);
    } else {
      dec_call(b, ind, "%s(r, &%s, a)",
               esc_name(&nb, ESC_N_DEC, t->decl->c_name, NULL, NULL), x);
    }
    break;
  case ESC_T_LIST: {
    char ind2[64], ind4[64], item[ITEM_MAX], i[16], n[16], p[16];
    es_buf ct = ES_BUF_INIT;
    loop_var(i, sizeof i, "i_", x);
    loop_var(n, sizeof n, "n_", x);
    loop_var(p, sizeof p, "p_", x);
    esc_format(ind2, sizeof ind2, "%s  ", ind);
    esc_format(ind4, sizeof ind4, "%s    ", ind);
    esc_out_field_ctype(&ct, t->elem);
    esc_out(b, "%s{\n%s  uint32_t %s;\n%s  void *%s;\n", ind, ind, n, ind, p);
    dec_call(b, ind2, "es_dec_list(r, &%s, %" PRIu64 ", sizeof(%.*s), &%s, a)",
             n, max_of(t), (int)ct.len, (const char *)ct.data, p);
    es_buf_close(&ct);
    esc_out(b, "%s  %s.items = %s;\n%s  %s.count = %s;\n", ind, x, p, ind, x,
            n);
    esc_out(b, "%s  for (uint32_t %s = 0; %s < %s; %s++) {\n", ind, i, i, n, i);
    esc_format(item, sizeof item, "%s.items[%s]", x, i);
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
  esc_format(ind2, sizeof ind2, "%s  ", ind);
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

static void dec_struct(const esc_struct *st, esc_tvars *tv, es_buf *b) {
  uint32_t i = 0, need = 0;
  /* Fields up to the last one that is neither optional nor defaulted must
   * be present; after it, a field an older writer did not know is absent
   * or takes its default. */
  for (const esc_field *f = st->fields; f; f = f->next, i++)
    if (!f->type->optional && !f->def)
      need = i + 1;
  esc_tv_fmt(tv, "N_REQUIRED", "%u", need);
  esc_tpl(b, ESC_TPL_DEC_OPEN, tv);
  i = 0;
  for (const esc_field *f = st->fields; f; f = f->next, i++) {
    char x[256];
    esc_format(x, sizeof x, "v->%.*s", TOKF(f->name));
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
  esc_tpl(b, ESC_TPL_DEC_CLOSE, tv);
}

/* ---- per struct -------------------------------------------------------- */

/* The members of a descriptor that follow its offsets, for a value of
 * type `t`: elem_size, record, enumeration and, for a list, the
 * descriptor of its elements (a file-scope compound literal, which has
 * static storage), with their own bound and, for a list of lists, their
 * own elements in turn. */
static void desc_tail(es_buf *b, const esc_field *f, const esc_type *t) {
  esc_namebuf nb;
  const esc_type *e = t;
  while (e->kind == ESC_T_LIST)
    e = e->elem;
  if (t->kind == ESC_T_LIST) {
    es_buf ct = ES_BUF_INIT;
    esc_out_field_ctype(&ct, t->elem);
    esc_out(b, "sizeof(%.*s), ", (int)ct.len, (const char *)ct.data);
    es_buf_close(&ct);
  } else {
    esc_out(b, "0, ");
  }
  if (e->kind == ESC_T_RECORD)
    esc_out(b, "&%s, NULL",
            esc_name(&nb, ESC_N_DESC, e->decl->c_name, NULL, NULL));
  else if (e->kind == ESC_T_ENUM)
    esc_out(b, "NULL, &%s",
            esc_name(&nb, ESC_N_DESC, e->decl->c_name, NULL, NULL));
  else
    esc_out(b, "NULL, NULL");
  if (t->kind != ESC_T_LIST) {
    esc_out(b, ", NULL}");
    return;
  }
  esc_out(b,
          ",\n        &(const es_field_desc){\"%.*s\", %s, %d, 0, 0, %" PRIu64
          ", 0, 0, ",
          TOKF(f->name), esc_kind_const(e->kind), t->elem->kind == ESC_T_LIST,
          max_of(t->elem));
  desc_tail(b, f, t->elem);
  esc_out(b, "}");
}

/* The row of a field that is not a list, with the ES_FIELD* macros of
 * es_desc.h (a third of the bytes of the row written out); false when no
 * macro fits it. */
static bool short_field_desc(const esc_struct *st, const esc_field *f,
                             es_buf *b) {
  const esc_type *t = f->type;
  esc_namebuf nb;
  const char *what;
  if (t->kind == ESC_T_LIST)
    return false;
  if (t->kind == ESC_T_RECORD || t->kind == ESC_T_ENUM) {
    if (t->has_max)
      return false;
    what = t->kind == ESC_T_ENUM ? (t->optional ? "ENUM_HAS" : "ENUM")
                                 : (t->optional ? "RECORD_PTR" : "RECORD");
    esc_out(b, "    ES_FIELD_%s(%s, %.*s, %s),\n", what, st->c_name,
            TOKF(f->name),
            esc_name(&nb, ESC_N_DESC, t->decl->c_name, NULL, NULL));
    return true;
  }
  esc_out(b, "    ES_FIELD%s(%s, %.*s, %s, %" PRIu64 "),\n",
          t->optional ? "_HAS" : "", st->c_name, TOKF(f->name),
          esc_kind_const(t->kind) + strlen("ES_KIND_"), max_of(t));
  return true;
}

static void field_descs(const esc_struct *st, const esc_tvars *tv, es_buf *b) {
  if (!st->fields)
    return;
  esc_tpl(b, ESC_TPL_FIELDS_OPEN, tv);
  for (const esc_field *f = st->fields; f; f = f->next) {
    const esc_type *t = f->type, *e = t;
    if (short_field_desc(st, f, b))
      continue;
    while (e->kind == ESC_T_LIST)
      e = e->elem;
    esc_out(b,
            "    {\"%.*s\", %s, %d, %d, 0, %" PRIu64 ", offsetof(%s, %.*s), ",
            TOKF(f->name), esc_kind_const(e->kind), t->kind == ESC_T_LIST,
            t->optional, max_of(t), st->c_name, TOKF(f->name));
    if (t->optional && t->kind != ESC_T_RECORD)
      esc_out(b, "offsetof(%s, has_%.*s), ", st->c_name, TOKF(f->name));
    else
      esc_out(b, "0, ");
    desc_tail(b, f, t);
    esc_out(b, ",\n");
  }
  esc_tpl(b, ESC_TPL_TABLE_CLOSE, tv);
  esc_out(b, "\n");
}

/* Whether field `f` starts as anything but zero bytes: a default, an
 * empty string (never NULL), a record with defaults of its own. */
static bool starts_set(const esc_field *f) {
  const esc_type *t = f->type;
  return !t->optional &&
         (f->def || t->kind == ESC_T_STRING || t->kind == ESC_T_RECORD);
}

/* Whether a struct's init does more than zero it: when it does not, its
 * descriptor has no init function and libes zeroes the value. */
static bool has_init(const esc_struct *st) {
  for (const esc_field *f = st->fields; f; f = f->next)
    if (starts_set(f))
      return true;
  return false;
}

static void init_fn(const esc_struct *st, const esc_tvars *tv, es_buf *b) {
  esc_namebuf nb;
  esc_tpl(b, ESC_TPL_INIT_OPEN, tv);
  for (const esc_field *f = st->fields; f; f = f->next) {
    const esc_type *t = f->type;
    if (!starts_set(f))
      continue;
    if (f->def) {
      esc_out(b, "  v->%.*s = ", TOKF(f->name));
      default_expr(b, f);
      esc_out(b, ";\n");
    } else if (t->kind == ESC_T_STRING) {
      esc_out(b, "  v->%.*s = \"\";\n", TOKF(f->name));
    } else if (t->kind == ESC_T_RECORD) {
      esc_out(b, "  %s(&v->%.*s);\n",
              esc_name(&nb, ESC_N_INIT, t->decl->c_name, NULL, NULL),
              TOKF(f->name));
    }
  }
  esc_tpl(b, ESC_TPL_FUNCTION_CLOSE, tv);
}

/* The names every struct type generates, and what its descriptor says,
 * for the templates about it. */
static void struct_vars(const esc_struct *st, esc_tvars *tv) {
  static const esc_name_id ids[] = {ESC_N_STRUCT,   ESC_N_DESC,   ESC_N_INIT,
                                    ESC_N_ENCODE,   ESC_N_DECODE, ESC_N_FIELDS,
                                    ESC_N_INIT_ANY, ESC_N_ENC,    ESC_N_DEC};
  esc_tv_init(tv);
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    esc_tv_name(tv, ids[i], st->c_name, NULL, NULL);
  esc_tv_str(tv, "SCHEMA_NAME", st->schema_name);
  esc_tv_str(tv, "ROLE", st->role);
  esc_tv_fmt(tv, "ID", "%016" PRIx64, es_fnv1a64(st->id_text));
  esc_tv_fmt(tv, "LAYOUT", "%016" PRIx64, st->layout_hash);
  esc_tv_fmt(tv, "TYPE_VERSION", "%u", st->version);
  esc_tv_fmt(tv, "N_FIELDS", "%u", st->n_fields);
  if (!st->fields)
    esc_tv_str(tv, "FIELDS", "NULL"); /* overrides the name: none made */
}

static void struct_code(const esc_schema *s, const esc_struct *st, void *ctx) {
  es_buf *b = ctx;
  esc_tvars tv;
  (void)s;
  struct_vars(st, &tv);
  init_fn(st, &tv, b);
  enc_struct(st, &tv, b);
  dec_struct(st, &tv, b);
  esc_tpl(b, ESC_TPL_STRUCT_CODEC, &tv);
  if (has_init(st))
    esc_tpl(b, ESC_TPL_INIT_ANY, &tv);
  else
    esc_tv_str(&tv, "INIT_ANY", "NULL"); /* overrides the name: none made */
  field_descs(st, &tv, b);
  esc_tpl(b, ESC_TPL_TYPE_DESC, &tv);
}

/* Records may be used before they are defined (recursion, and records
 * come first but refer to each other): declare their codecs up front. */
static void prototypes(const esc_schema *s, const esc_struct *st, void *ctx) {
  esc_tvars tv;
  (void)s;
  if (st->decl->kind != ESC_DECL_RECORD)
    return;
  esc_tv_init(&tv);
  esc_tv_name(&tv, ESC_N_STRUCT, st->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_ENC, st->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_DEC, st->c_name, NULL, NULL);
  esc_tpl(ctx, ESC_TPL_PROTOTYPES, &tv);
}

/* ---- routing ----------------------------------------------------------- */

/* "Name" as the schema writes it, for @SCHEMA_NAME@. */
static void schema_name(esc_tvars *tv, esc_tok name) {
  esc_tv_fmt(tv, "SCHEMA_NAME", "%.*s", TOKF(name));
}

static const char *key_kind_const(int kind) {
  return kind == ESC_T_U64    ? "ES_KEY_U64"
         : kind == ESC_T_UUID ? "ES_KEY_UUID"
                              : "ES_KEY_STRING";
}

/* "Name1", "Name2": the names of an enum's values or an aggregate's
 * errors, as C strings. */
static void name_strings(es_buf *b, const esc_name_list *l) {
  for (; l; l = l->next)
    esc_out(b, "\"%.*s\"%s", TOKF(l->name), l->next ? ", " : "");
}

static void enum_code(const esc_decl *e, es_buf *b) {
  esc_tvars tv;
  esc_tv_init(&tv);
  schema_name(&tv, e->name);
  esc_tv_name(&tv, ESC_N_STRUCT, e->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_ENUM_VALUES, e->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_DESC, e->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_ENUM_NAME, e->c_name, NULL, NULL);
  esc_tv_fmt(&tv, "N_VALUES", "%u", e->n_values);
  esc_tpl(b, ESC_TPL_ENUM_CODE_OPEN, &tv);
  name_strings(b, e->values);
  esc_tpl(b, ESC_TPL_ENUM_CODE_CLOSE, &tv);
}

/* The wrapper taking `void *` (template `tpl`, named by pattern `any`)
 * through which the routing tables call the user's function named by
 * pattern `fn`; both names are made of `owner`, `x` and `y`. */
static void any_wrapper(es_buf *b, int tpl, esc_name_id any, esc_name_id fn,
                        const char *owner, const char *x, const char *y) {
  esc_tvars tv;
  esc_tv_init(&tv);
  esc_tv_name(&tv, any, owner, x, y);
  esc_tv_name(&tv, fn, owner, x, y);
  esc_tpl(b, tpl, &tv);
}

/* A command's decide wrapper and the indexes of the events it emits. */
static void command_routing(const esc_decl *a, const esc_decl *m, es_buf *b) {
  esc_namebuf nb;
  any_wrapper(b, ESC_TPL_DECIDE_ANY, ESC_N_DECIDE_ANY, ESC_N_DECIDE, a->c_name,
              m->snake, NULL);
  esc_out(b, "static const uint32_t %s[] = {",
          esc_name(&nb, ESC_N_EMITS, m->c_name, NULL, NULL));
  for (const esc_name_list *r = m->emits; r; r = r->next)
    esc_out(b, "%u%s", r->member->index, r->next ? ", " : "");
  esc_out(b, "};\n");
}

static void command_table(const esc_decl *a, es_buf *b) {
  esc_namebuf n1, n2, n3;
  esc_out(b, "static const es_command_route %s[] = {\n",
          esc_name(&n1, ESC_N_COMMANDS, a->c_name, NULL, NULL));
  for (const esc_decl *m = a->commands; m; m = m->next) {
    uint32_t n = 0;
    for (const esc_name_list *r = m->emits; r; r = r->next)
      n++;
    esc_out(b, "    {&%s, %s, %u, %s},\n",
            esc_name(&n1, ESC_N_DESC, m->c_name, NULL, NULL),
            esc_name(&n2, ESC_N_DECIDE_ANY, a->c_name, m->snake, NULL), n,
            esc_name(&n3, ESC_N_EMITS, m->c_name, NULL, NULL));
  }
  esc_out(b, "};\n\n");
}

/* The upcasters of every older version of current event `e`, oldest
 * first, and the table the runtime lifts old events with. */
static void event_versions(const esc_decl *a, const esc_decl *e, es_buf *b) {
  const esc_decl *oldest = e;
  esc_namebuf n1, n2;
  while (oldest->older)
    oldest = oldest->older;
  for (const esc_decl *o = oldest; o != e; o = o->newer)
    any_wrapper(b, ESC_TPL_UPCAST_ANY, ESC_N_UPCAST_ANY, ESC_N_UPCAST,
                a->c_name, o->snake, NULL);
  esc_out(b, "static const es_event_version %s[] = {\n",
          esc_name(&n1, ESC_N_OLD, e->c_name, NULL, NULL));
  for (const esc_decl *o = oldest; o != e; o = o->newer)
    esc_out(b, "    {&%s, %s},\n",
            esc_name(&n1, ESC_N_DESC, o->c_name, NULL, NULL),
            esc_name(&n2, ESC_N_UPCAST_ANY, a->c_name, o->snake, NULL));
  esc_out(b, "};\n");
}

/* What the runtime needs about current event `e`: its apply wrapper, its
 * older versions, its subscribers. */
static void event_routing(const esc_decl *a, const esc_decl *e, es_buf *b) {
  esc_namebuf nb;
  if (a->has_state)
    any_wrapper(b, ESC_TPL_APPLY_ANY, ESC_N_APPLY_ANY, ESC_N_APPLY, a->c_name,
                e->snake, NULL);
  if (e->older)
    event_versions(a, e, b);
  if (e->n_subs) {
    esc_out(b, "static const es_subscriber %s[] = {\n",
            esc_name(&nb, ESC_N_SUBSCRIBERS, e->c_name, NULL, NULL));
    for (uint32_t i = 0; i < e->n_subs; i++)
      esc_out(b, "    {%d, %u, %u},\n", e->subs[i].is_saga, e->subs[i].index,
              e->subs[i].handler);
    esc_out(b, "};\n");
  }
}

static void event_table(const esc_decl *a, es_buf *b) {
  esc_namebuf nb;
  esc_out(b, "static const es_event_route %s[] = {\n",
          esc_name(&nb, ESC_N_EVENTS, a->c_name, NULL, NULL));
  for (const esc_decl *e = a->events; e; e = e->next) {
    uint32_t n_old = 0, n_subs = e->n_subs;
    if (!e->current)
      continue;
    for (const esc_decl *o = e->older; o; o = o->older)
      n_old++;
    esc_out(b, "    {&%s, ", esc_name(&nb, ESC_N_DESC, e->c_name, NULL, NULL));
    if (a->has_state)
      esc_out(b, "%s, ",
              esc_name(&nb, ESC_N_APPLY_ANY, a->c_name, e->snake, NULL));
    else
      esc_out(b, "NULL, ");
    if (n_old)
      esc_out(b, "%u, %s, ", n_old,
              esc_name(&nb, ESC_N_OLD, e->c_name, NULL, NULL));
    else
      esc_out(b, "0, NULL, ");
    if (n_subs)
      esc_out(b, "%u, %s},\n", n_subs,
              esc_name(&nb, ESC_N_SUBSCRIBERS, e->c_name, NULL, NULL));
    else
      esc_out(b, "0, NULL},\n");
  }
  esc_out(b, "};\n");
}

static void aggregate_desc(const esc_decl *a, es_buf *b) {
  esc_tvars tv;
  esc_namebuf nb, state;
  esc_tv_init(&tv);
  schema_name(&tv, a->name);
  esc_tv_name(&tv, ESC_N_AGGREGATE, a->c_name, NULL, NULL);
  esc_tv_str(&tv, "KEY_KIND", key_kind_const(a->key.kind));
  if (a->has_state)
    esc_tv_fmt(&tv, "STATE_DESC", "&%s",
               esc_name(&nb, ESC_N_DESC,
                        esc_name(&state, ESC_N_STATE, a->c_name, NULL, NULL),
                        NULL, NULL));
  else
    esc_tv_str(&tv, "STATE_DESC", "NULL");
  esc_tv_fmt(&tv, "N_COMMANDS", "%u", a->n_commands);
  esc_tv_name_or_null(&tv, a->commands, ESC_N_COMMANDS, a->c_name);
  esc_tv_fmt(&tv, "N_EVENTS", "%u", a->n_current_events);
  esc_tv_name_or_null(&tv, a->n_current_events, ESC_N_EVENTS, a->c_name);
  esc_tv_fmt(&tv, "N_ERRORS", "%u", a->n_errors);
  esc_tv_name_or_null(&tv, a->n_errors, ESC_N_ERRORS, a->c_name);
  esc_tv_fmt(&tv, "SNAPSHOT_EVERY", "%" PRIu64,
             a->has_snapshot ? a->snapshot_every : 0);
  esc_tpl(b, ESC_TPL_AGGREGATE_DESC, &tv);
}

static void aggregate_code(const esc_decl *a, es_buf *b) {
  esc_tvars tv;
  esc_namebuf nb;
  esc_tv_init(&tv);
  schema_name(&tv, a->name);
  esc_tpl(b, ESC_TPL_ROUTING_AGGREGATE, &tv);
  for (const esc_decl *m = a->commands; m; m = m->next)
    command_routing(a, m, b);
  if (a->commands)
    command_table(a, b);
  for (const esc_decl *e = a->events; e; e = e->next)
    if (e->current)
      event_routing(a, e, b);
  if (a->n_current_events)
    event_table(a, b);
  if (a->n_errors) {
    esc_out(b, "static const char *const %s[] = {",
            esc_name(&nb, ESC_N_ERRORS, a->c_name, NULL, NULL));
    name_strings(b, a->errors);
    esc_out(b, "};\n");
  }
  aggregate_desc(a, b);
}

static void projection_code(const esc_decl *p, es_buf *b) {
  esc_tvars tv;
  esc_namebuf n1, n2;
  uint32_t n = 0;
  esc_tv_init(&tv);
  schema_name(&tv, p->name);
  esc_tpl(b, ESC_TPL_ROUTING_PROJECTION, &tv);
  for (const esc_name_list *r = p->on; r; r = r->next, n++)
    any_wrapper(b, ESC_TPL_PROJECTION_ON_ANY, ESC_N_ON_ANY, ESC_N_ON, p->c_name,
                r->target->snake, r->member->snake);
  esc_out(b, "static const es_projection_handler %s[] = {\n",
          esc_name(&n1, ESC_N_HANDLERS, p->c_name, NULL, NULL));
  for (const esc_name_list *r = p->on; r; r = r->next)
    esc_out(b, "    {&%s, %u, %s},\n",
            esc_name(&n1, ESC_N_AGGREGATE, r->target->c_name, NULL, NULL),
            r->member->index,
            esc_name(&n2, ESC_N_ON_ANY, p->c_name, r->target->snake,
                     r->member->snake));
  esc_out(b, "};\n");
  esc_tv_init(&tv);
  schema_name(&tv, p->name);
  esc_tv_name(&tv, ESC_N_PROJECTION, p->c_name, NULL, NULL);
  esc_tv_name(&tv, ESC_N_HANDLERS, p->c_name, NULL, NULL);
  esc_tv_fmt(&tv, "N_HANDLERS", "%u", n);
  esc_tpl(b, ESC_TPL_PROJECTION_DESC, &tv);
}

/* The wrapper the runtime calls for one `on` line of saga `s`. */
static void saga_handler_any(const esc_decl *s, const esc_saga_on *on,
                             es_buf *b) {
  const esc_name_list *r = on->ref;
  if (on->kind == ESC_ON_TIMEOUT)
    any_wrapper(b, ESC_TPL_SAGA_ON_TIMEOUT_ANY, ESC_N_ON_TIMEOUT_ANY,
                ESC_N_ON_TIMEOUT, s->c_name, NULL, NULL);
  else if (on->kind == ESC_ON_REJECTED)
    any_wrapper(b, ESC_TPL_SAGA_ON_REJECTED_ANY, ESC_N_ON_REJECTED_ANY,
                ESC_N_ON_REJECTED, s->c_name, r->target->snake,
                r->member->snake);
  else
    any_wrapper(b, ESC_TPL_SAGA_ON_ANY, ESC_N_ON_ANY, ESC_N_ON, s->c_name,
                r->target->snake, r->member->snake);
}

/* The saga's event handlers, for routing; returns how many. */
static uint32_t saga_handler_table(const esc_decl *s, es_buf *b) {
  esc_namebuf n1, n2;
  uint32_t n = 0;
  esc_out(b, "static const es_saga_handler %s[] = {\n",
          esc_name(&n1, ESC_N_HANDLERS, s->c_name, NULL, NULL));
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    const esc_name_list *r = on->ref;
    if (on->kind != ESC_ON_EVENT && on->kind != ESC_ON_START)
      continue;
    esc_out(b, "    {&%s, %u, %d, ",
            esc_name(&n1, ESC_N_AGGREGATE, r->target->c_name, NULL, NULL),
            r->member->index, on->kind == ESC_ON_START);
    if (on->by_field)
      esc_out(b, "&%s[%u], ",
              esc_name(&n1, ESC_N_FIELDS, r->member->c_name, NULL, NULL),
              on->by_field->index);
    else
      esc_out(b, "NULL, ");
    esc_out(b, "%s},\n",
            esc_name(&n2, ESC_N_ON_ANY, s->c_name, r->target->snake,
                     r->member->snake));
    n++;
  }
  esc_out(b, "};\n");
  return n;
}

/* The commands the saga sends, each with its rejection handler; returns
 * how many. */
static uint32_t saga_send_table(const esc_decl *s, es_buf *b) {
  esc_namebuf nb;
  uint32_t n = 0;
  esc_out(b, "static const es_saga_target %s[] = {\n",
          esc_name(&nb, ESC_N_SENDS, s->c_name, NULL, NULL));
  for (const esc_name_list *r = s->sends; r; r = r->next, n++) {
    bool rejected = false;
    for (const esc_saga_on *on = s->saga_on; on; on = on->next)
      if (on->kind == ESC_ON_REJECTED && on->ref->member == r->member)
        rejected = true;
    esc_out(b, "    {&%s, %u, ",
            esc_name(&nb, ESC_N_AGGREGATE, r->target->c_name, NULL, NULL),
            r->member->index);
    if (rejected)
      esc_out(b, "%s},\n",
              esc_name(&nb, ESC_N_ON_REJECTED_ANY, s->c_name, r->target->snake,
                       r->member->snake));
    else
      esc_out(b, "NULL},\n");
  }
  esc_out(b, "};\n");
  return n;
}

static void saga_code(const esc_decl *s, es_buf *b) {
  esc_tvars tv;
  esc_namebuf nb, state;
  uint32_t n_handlers, n_sends = 0;
  esc_tv_init(&tv);
  schema_name(&tv, s->name);
  esc_tpl(b, ESC_TPL_ROUTING_SAGA, &tv);
  for (const esc_saga_on *on = s->saga_on; on; on = on->next)
    saga_handler_any(s, on, b);
  n_handlers = saga_handler_table(s, b);
  if (s->sends)
    n_sends = saga_send_table(s, b);
  esc_tv_init(&tv);
  schema_name(&tv, s->name);
  esc_tv_name(&tv, ESC_N_SAGA, s->c_name, NULL, NULL);
  esc_tv_str(&tv, "KEY_KIND", key_kind_const(s->key.kind));
  esc_tv_str(&tv, "STATE_DESC",
             esc_name(&nb, ESC_N_DESC,
                      esc_name(&state, ESC_N_STATE, s->c_name, NULL, NULL),
                      NULL, NULL));
  esc_tv_fmt(&tv, "N_HANDLERS", "%u", n_handlers);
  esc_tv_name(&tv, ESC_N_HANDLERS, s->c_name, NULL, NULL);
  esc_tv_fmt(&tv, "N_SENDS", "%u", n_sends);
  esc_tv_name_or_null(&tv, s->sends, ESC_N_SENDS, s->c_name);
  esc_tv_name_or_null(&tv, s->on_timeout, ESC_N_ON_TIMEOUT_ANY, s->c_name);
  esc_tpl(b, ESC_TPL_SAGA_DESC, &tv);
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
  if (esc_grow(&t->items, &t->cap, t->n + 1, sizeof *t->items, 64) != 0) {
    t->oom = true;
    return;
  }
  t->items[t->n].id = es_fnv1a64(st->id_text);
  t->items[t->n].version = st->version;
  esc_format(t->items[t->n].c_name, sizeof t->items[t->n].c_name, "%s",
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

/* Bytes of the description a row of its array holds, and a source line
 * of a row. A row is one string literal (adjacent literals, one a line),
 * within the 4095 characters C11 promises a literal (-Woverlength-strings);
 * a row of exactly DESC_ROW characters keeps no terminating NUL, the zeros
 * that fill the last row end the text. */
#define DESC_ROW 4000
#define DESC_LINE 100
_Static_assert(DESC_ROW % DESC_LINE == 0, "a row is whole lines");

/* Writes byte `c` of a string literal at `o`, escaped when it must be:
 * quotes, backslashes, '?' (trigraphs) and anything not printable ASCII
 * (octal, always three digits, so a digit after it cannot join it).
 * Returns the bytes written, 1 to 4. */
static size_t literal_byte(char *o, unsigned c) {
  if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?') {
    o[0] = (char)c;
    return 1;
  }
  o[0] = '\\';
  if (c == '\n') {
    o[1] = 'n';
    return 2;
  }
  if (c == '"' || c == '\\' || c == '?') {
    o[1] = (char)c;
    return 2;
  }
  o[1] = (char)('0' + (c >> 6 & 7));
  o[2] = (char)('0' + (c >> 3 & 7));
  o[3] = (char)('0' + (c & 7));
  return 4;
}

/* Appends `src[0 .. n)` as the inside of a string literal. */
static void literal_bytes(es_buf *b, const uint8_t *src, size_t n) {
  char *o = (char *)es_buf_reserve(b, 4 * n);
  size_t len = 0;
  if (!o)
    return;
  for (size_t i = 0; i < n; i++)
    len += literal_byte(o + len, src[i]);
  es_buf_commit(b, len);
}

/* The schema's JSON description (esc_gen_json()) as rows of a char array
 * (a string literal that long would trip -Woverlength-strings): about one
 * byte of C a byte of JSON. Its length goes to `*len`. */
static void description_code(const esc_schema *s, es_buf *b, size_t *len) {
  es_buf json = ES_BUF_INIT;
  esc_namebuf nb;
  es_buf_init(&json, (size_t)1 << 30);
  *len = 0;
  if (esc_gen_json(s, &json) != 0) {
    b->err = json.err ? json.err : ES_ENOMEM;
    es_buf_close(&json);
    return;
  }
  esc_out(b,
          "/* The schema's JSON description (docs/schema-json.md), recorded "
          "in\n * the store by es_app_open(); rows of %d bytes. */\n"
          "static const char %s[][%d] = {",
          DESC_ROW, esc_name(&nb, ESC_N_DESCRIPTION, s->c_prefix, NULL, NULL),
          DESC_ROW);
  /* A line at a time; DESC_LINE divides DESC_ROW. */
  for (size_t i = 0; i < json.len; i += DESC_LINE) {
    size_t n = json.len - i < DESC_LINE ? json.len - i : DESC_LINE;
    if (i % DESC_ROW == 0)
      es_buf_append(b, i ? "\",\n    \"" : "\n    \"", i ? 8 : 6);
    else
      es_buf_append(b, "\"\n    \"", 7);
    literal_bytes(b, json.data + i, n);
  }
  if (json.len % DESC_ROW == 0) /* a row for the terminating NUL */
    es_buf_append(b, json.len ? "\",\n    \"" : "\n    \"", json.len ? 8 : 6);
  es_buf_append(b, "\"};\n", 4);
  *len = json.len;
  es_buf_close(&json);
}

/* A table of pointers to the descriptors of every declaration of `kind`
 * (none when there are none). */
static void decl_table(const esc_schema *s, es_buf *b, int kind,
                       const char *type, esc_name_id table, esc_name_id desc) {
  esc_namebuf nb;
  esc_out(b, "static const %s *const %s[] = {\n", type,
          esc_name(&nb, table, s->c_prefix, NULL, NULL));
  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == kind)
      esc_out(b, "    &%s,\n", esc_name(&nb, desc, d->c_name, NULL, NULL));
  esc_out(b, "};\n");
}

static void schema_code(const esc_schema *s, es_buf *b) {
  const char *X = s->c_prefix;
  uint32_t n[8] = {0};
  type_table types = {0};
  size_t desc_len;
  esc_tvars tv;
  esc_namebuf nb;
  for (const esc_decl *d = s->decls; d; d = d->next)
    n[d->kind]++;
  if (n[ESC_DECL_AGGREGATE])
    decl_table(s, b, ESC_DECL_AGGREGATE, "es_aggregate_desc", ESC_N_AGGREGATES,
               ESC_N_AGGREGATE);
  if (n[ESC_DECL_PROJECTION])
    decl_table(s, b, ESC_DECL_PROJECTION, "es_projection_desc",
               ESC_N_PROJECTIONS, ESC_N_PROJECTION);
  if (n[ESC_DECL_SAGA])
    decl_table(s, b, ESC_DECL_SAGA, "es_saga_desc", ESC_N_SAGAS, ESC_N_SAGA);
  esc_each_struct(s, &types, collect);
  if (types.oom) {
    b->err = ES_ENOMEM;
    free(types.items);
    return;
  }
  if (types.n) {
    qsort(types.items, types.n, sizeof *types.items, by_id);
    esc_out(b, "/* Sorted by type id, then version, for binary search. */\n");
    esc_out(b, "static const es_type_desc *const %s[] = {\n",
            esc_name(&nb, ESC_N_TYPES, X, NULL, NULL));
    for (size_t i = 0; i < types.n; i++)
      esc_out(b, "    &%s,\n",
              esc_name(&nb, ESC_N_DESC, types.items[i].c_name, NULL, NULL));
    esc_out(b, "};\n");
  }
  description_code(s, b, &desc_len);
  esc_tv_init(&tv);
  esc_tv_fmt(&tv, "SCHEMA_NAME", "%.*s", TOKF(s->name));
  esc_tv_name(&tv, ESC_N_SCHEMA, X, NULL, NULL);
  esc_tv_name(&tv, ESC_N_DESCRIPTION, X, NULL, NULL);
  esc_tv_fmt(&tv, "DESCRIPTION_LEN", "%zu", desc_len);
  esc_tv_fmt(&tv, "N_AGGREGATES", "%u", n[ESC_DECL_AGGREGATE]);
  esc_tv_name_or_null(&tv, n[ESC_DECL_AGGREGATE], ESC_N_AGGREGATES, X);
  esc_tv_fmt(&tv, "N_PROJECTIONS", "%u", n[ESC_DECL_PROJECTION]);
  esc_tv_name_or_null(&tv, n[ESC_DECL_PROJECTION], ESC_N_PROJECTIONS, X);
  esc_tv_fmt(&tv, "N_SAGAS", "%u", n[ESC_DECL_SAGA]);
  esc_tv_name_or_null(&tv, n[ESC_DECL_SAGA], ESC_N_SAGAS, X);
  esc_tv_fmt(&tv, "N_TYPES", "%zu", types.n);
  esc_tv_name_or_null(&tv, types.n, ESC_N_TYPES, X);
  esc_tpl(b, ESC_TPL_SCHEMA_DESC, &tv);
  free(types.items);
}

int esc_gen_source(const esc_schema *s, const char *base, es_buf *b) {
  static const esc_decl_writers code_of = {aggregate_code, projection_code,
                                           saga_code};
  esc_tvars v;
  esc_tv_init(&v);
  esc_tv_output(&v, s, base);
  esc_tpl(b, ESC_TPL_SOURCE_OPEN, &v);
  for (const esc_decl *d = s->decls; d; d = d->next)
    if (d->kind == ESC_DECL_ENUM)
      enum_code(d, b);
  esc_each_struct(s, b, prototypes);
  esc_out(b, "\n");
  esc_each_struct(s, b, struct_code);
  esc_each_decl(s, &code_of, b);
  schema_code(s, b);
  esc_tpl(b, ESC_TPL_SOURCE_CLOSE, &v);
  return b->err;
}
