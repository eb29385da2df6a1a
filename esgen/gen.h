/*
 * gen.h - the code generators. Each writes one output into an es_buf from
 * a checked schema; none touches the file system (output.c does), so a
 * failed run never leaves a partial file.
 */
#ifndef ESC_GEN_H
#define ESC_GEN_H

#include <es/es_buf.h>
#include <es/es_version.h>

#include "ast.h"
#include "keywords.h"
#include "names.h"
#include "template.h"

/* esgen is released with libes, under one version. */
#define ESGEN_VERSION ES_VERSION_STRING

/* `base` is the file name the outputs are named after ("bank.es"): the
 * header is <base>.h, the source <base>.c. */
int esc_gen_header(const esc_schema *s, const char *base, es_buf *out);
int esc_gen_source(const esc_schema *s, const char *base, es_buf *out);
/* `stubs` is the stubs file's own name, for its comment. */
int esc_gen_stubs(const esc_schema *s, const char *base, const char *stubs,
                  es_buf *out);
/* The libFuzzer harness of every decoder (templates/fuzz.c); `fuzz` is
 * its own file name, for its comment. */
int esc_gen_fuzz(const esc_schema *s, const char *base, const char *fuzz,
                 es_buf *out);
int esc_gen_graph(const esc_schema *s, es_buf *out);
/* The JSON description of the schema (docs/schema-json.md). */
int esc_gen_json(const esc_schema *s, es_buf *out);

/* The "format_version" esc_gen_json() writes. */
#define ESC_SCHEMA_JSON_VERSION 2

/* ---- shared by the generators (gen_common.c) ---- */

void esc_out(es_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Writes the C type of one value of `t` ignoring optional/list ("int64_t",
 * "const char *", "bank_money"). */
void esc_out_base_ctype(es_buf *b, const esc_type *t);

/* Writes the C type of a field as declared in its struct. */
void esc_out_field_ctype(es_buf *b, const esc_type *t);

/* The ES_KIND_* constant's name for a resolved base type. */
const char *esc_kind_const(int kind);

/* The struct role name for a declaration's struct. */
typedef struct esc_struct {
  const esc_decl *decl;    /* the record, command, event, aggregate or saga */
  const char *c_name;      /* "bank_account_state" */
  const char *schema_name; /* "Account.state", "Account.Deposited" */
  const char *role;        /* "ES_ROLE_STATE" */
  const esc_field *fields;
  uint32_t n_fields;
  uint32_t version;
  uint64_t layout_hash; /* see model.c */
  char id_text[1100];   /* what the type id hashes */
} esc_struct;

/* Calls `fn` for every struct type in the order the header defines them
 * (records in dependency order first). */
typedef void (*esc_struct_fn)(const esc_schema *s, const esc_struct *st,
                              void *ctx);
void esc_each_struct(const esc_schema *s, void *ctx, esc_struct_fn fn);

/* Writes one template a handler of saga `s`, in the order of its `on`
 * lines, with what every template about a handler uses (@STATE@, @STRUCT@
 * and the handler's name: @ON_TIMEOUT@, @ON_REJECTED@ or @ON@): `tpl[0]`
 * for `on timeout`, `tpl[1]` for `on rejected`, `tpl[2]` for an event. */
void esc_saga_handlers(es_buf *b, const esc_decl *s, const int tpl[3]);

/* The shortest text of float literal `v` of kind ESC_T_F32 or ESC_T_F64
 * that reads back as the same value ("%g" with 9 or 17 digits, '.' as the
 * decimal point whatever the locale), in `tmp[cap]`; returns `tmp`. */
const char *esc_float_text(char *tmp, size_t cap, double v, int kind);

/* Value number `index` of enum `e`, or NULL. */
const esc_name_list *esc_enum_value(const esc_decl *e, uint64_t index);

/* Whether `kind` is a signed integer (timestamps are), an unsigned one. */
bool esc_is_signed_kind(int kind);
bool esc_is_unsigned_kind(int kind);

/* What a generator writes for each aggregate, projection and saga. */
typedef struct esc_decl_writers {
  void (*aggregate)(const esc_decl *d, es_buf *b);
  void (*projection)(const esc_decl *d, es_buf *b);
  void (*saga)(const esc_decl *d, es_buf *b);
} esc_decl_writers;

/* Calls the writer of each aggregate, projection and saga of `s`, in the
 * schema's order. */
void esc_each_decl(const esc_schema *s, const esc_decl_writers *w, es_buf *b);

#endif
