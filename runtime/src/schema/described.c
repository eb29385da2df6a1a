/*
 * described.c - see described.h. The description is untrusted input (it
 * comes from a store file): every member is checked, every reference
 * resolved or refused, and decoding is bounded by the msgpack reader's
 * input and depth limits.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_desc.h"
#include "es/es_error.h"
#include "es/es_mp.h"
#include "es/es_types.h"
#include "schema/described.h"
#include "schema/json_out.h"
#include "schema/kind.h"
#include "util/buf_text.h"

static const char *const kind_names[] = {
    "bool",  "i8",        "i16",  "i32",  "i64",   "u8",
    "u16",   "u32",       "u64",  "f32",  "f64",   "string",
    "bytes", "timestamp", "uuid", "enum", "record"};

#define N_KINDS ((int)(sizeof kind_names / sizeof kind_names[0]))

static int refuse(char *why, size_t cap, const char *fmt, ...) {
  if (why && cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
  }
  return ES_EDECODE;
}

static int kind_of(const char *name) {
  for (int k = 0; name && k < N_KINDS; k++)
    if (strcmp(kind_names[k], name) == 0)
      return k;
  return -1;
}

static const es__jv *array_member(const es__jv *v, const char *name) {
  const es__jv *m = es__jv_get(v, name);
  return m && m->kind == ES__JV_ARR ? m : NULL;
}

/* A 16-hex-digit id member. */
static int hex_member(const es__jv *v, const char *name, uint64_t *out) {
  const char *s = es__jv_str(v, name);
  char *end;
  if (!s || strlen(s) != 16)
    return ES_EDECODE;
  *out = (uint64_t)strtoull(s, &end, 16);
  return *end ? ES_EDECODE : 0;
}

static int parse_enums(const es__jv *arr, es_arena *a, es__dschema *s,
                       char *why, size_t cap) {
  s->n_enums = (uint32_t)arr->count;
  s->enums = es_arena_calloc(a, arr->count ? arr->count : 1, sizeof *s->enums);
  if (!s->enums)
    return ES_ENOMEM;
  for (size_t i = 0; i < arr->count; i++) {
    const es__jv *e = &arr->items[i];
    const es__jv *vals = array_member(e, "values");
    es__denum *d = &s->enums[i];
    d->name = es__jv_str(e, "name");
    if (!d->name || !vals)
      return refuse(why, cap, "enum %zu has no name or values", i);
    d->count = (uint32_t)vals->count;
    d->values =
        es_arena_calloc(a, vals->count ? vals->count : 1, sizeof *d->values);
    if (!d->values)
      return ES_ENOMEM;
    for (size_t k = 0; k < vals->count; k++) {
      if (vals->items[k].kind != ES__JV_STR)
        return refuse(why, cap, "enum '%s': a value is not a string", d->name);
      d->values[k] = vals->items[k].s;
    }
  }
  return 0;
}

static const es__denum *find_enum(const es__dschema *s, const char *name) {
  for (uint32_t i = 0; name && i < s->n_enums; i++)
    if (strcmp(s->enums[i].name, name) == 0)
      return &s->enums[i];
  return NULL;
}

static const es__dtype *find_record(const es__dschema *s, const char *name) {
  for (uint32_t i = 0; name && i < s->n_types; i++)
    if (strcmp(s->types[i].name, name) == 0 &&
        strcmp(s->types[i].role, "record") == 0)
      return &s->types[i];
  return NULL;
}

/* How many levels of list field `f` has: 1, and one more per `elem` that
 * is a list (format 2; a format 1 list has one level). Returns 0, or
 * ES_EDECODE for a chain that is not well formed or nests deeper than any
 * decoder reads. */
static int count_lists(const es__jv *f, uint32_t format, uint32_t *lists) {
  const es__jv *e = f;
  *lists = 1;
  if (format < 2)
    return 0;
  for (;;) {
    const es__jv *list;
    e = es__jv_get(e, "elem");
    list = e ? es__jv_get(e, "list") : NULL;
    if (!e || e->kind != ES__JV_OBJ || !list || list->kind != ES__JV_BOOL)
      return ES_EDECODE;
    if (!list->b)
      return 0;
    if (++*lists >= ES_MP_MAX_DEPTH)
      return ES_EDECODE;
  }
}

static int parse_field(const es__jv *f, es__dfield *d, uint32_t format,
                       char *why, size_t cap, const char *type) {
  const es__jv *list = es__jv_get(f, "list"), *opt = es__jv_get(f, "optional");
  d->name = es__jv_str(f, "name");
  d->kind = kind_of(es__jv_str(f, "kind"));
  if (!d->name || d->kind < 0)
    return refuse(why, cap, "type '%s': a field has no name or a bad kind",
                  type);
  d->list = list && list->kind == ES__JV_BOOL && list->b;
  d->optional = opt && opt->kind == ES__JV_BOOL && opt->b;
  if (d->list && count_lists(f, format, &d->lists))
    return refuse(why, cap, "type '%s': field '%s': bad elem", type, d->name);
  if (es__jv_get(f, "max") && es__jv_u64(f, "max", &d->max))
    return refuse(why, cap, "type '%s': field '%s': bad max", type, d->name);
  d->def = es__jv_get(f, "default");
  return 0;
}

static int parse_types(const es__jv *arr, es_arena *a, es__dschema *s,
                       char *why, size_t cap) {
  s->n_types = (uint32_t)arr->count;
  s->types = es_arena_calloc(a, arr->count ? arr->count : 1, sizeof *s->types);
  if (!s->types)
    return ES_ENOMEM;
  for (size_t i = 0; i < arr->count; i++) {
    const es__jv *t = &arr->items[i], *fields = array_member(t, "fields");
    es__dtype *d = &s->types[i];
    uint64_t version;
    d->name = es__jv_str(t, "name");
    d->role = es__jv_str(t, "role");
    if (!d->name || !d->role || !fields)
      return refuse(why, cap, "type %zu has no name, role or fields", i);
    if (hex_member(t, "id", &d->id) || hex_member(t, "layout", &d->layout))
      return refuse(why, cap, "type '%s': bad id or layout", d->name);
    if (es__jv_u64(t, "version", &version) || version == 0 ||
        version > UINT32_MAX)
      return refuse(why, cap, "type '%s': bad version", d->name);
    d->version = (uint32_t)version;
    d->n_fields = (uint32_t)fields->count;
    d->fields = es_arena_calloc(a, fields->count ? fields->count : 1,
                                sizeof *d->fields);
    if (!d->fields)
      return ES_ENOMEM;
    for (size_t k = 0; k < fields->count; k++) {
      int rc = parse_field(&fields->items[k], &d->fields[k], s->format_version,
                           why, cap, d->name);
      if (rc)
        return rc;
    }
  }
  /* References, once every type is known (records may refer ahead). */
  for (uint32_t i = 0; i < s->n_types; i++) {
    es__dtype *d = &s->types[i];
    for (uint32_t k = 0; k < d->n_fields; k++) {
      es__dfield *f = &d->fields[k];
      const es__jv *fields = array_member(&arr->items[i], "fields");
      if (f->kind == ES_KIND_RECORD) {
        f->record = find_record(s, es__jv_str(&fields->items[k], "record"));
        if (!f->record)
          return refuse(why, cap, "type '%s': field '%s': unknown record",
                        d->name, f->name);
      } else if (f->kind == ES_KIND_ENUM) {
        f->enumeration = find_enum(s, es__jv_str(&fields->items[k], "enum"));
        if (!f->enumeration)
          return refuse(why, cap, "type '%s': field '%s': unknown enum",
                        d->name, f->name);
      }
    }
  }
  return 0;
}

static int parse_named(const es__jv *root, const char *member, es_arena *a,
                       es__dnamed **out, uint32_t *n, char *why, size_t cap) {
  const es__jv *arr = array_member(root, member);
  *n = 0;
  if (!arr)
    return 0; /* later formats may leave a kind out */
  *out = es_arena_calloc(a, arr->count ? arr->count : 1, sizeof **out);
  if (!*out)
    return ES_ENOMEM;
  for (size_t i = 0; i < arr->count; i++) {
    (*out)[i].json = &arr->items[i];
    (*out)[i].name = es__jv_str(&arr->items[i], "name");
    if (!(*out)[i].name)
      return refuse(why, cap, "%s entry %zu has no name", member, i);
  }
  *n = (uint32_t)arr->count;
  return 0;
}

int es__dschema_parse(const char *json, size_t len, es_arena *a, es__dschema *s,
                      char *why, size_t cap) {
  size_t at = 0;
  uint64_t fv;
  const es__jv *enums, *types;
  int rc;

  memset(s, 0, sizeof *s);
  if (why && cap)
    why[0] = '\0';
  rc = es__json_parse(json, len, a, (es__jv **)&s->root, &at);
  if (rc == ES_EDECODE || rc == ES_EDEPTH)
    return refuse(why, cap, "not JSON (at byte %zu)", at);
  if (rc)
    return rc;
  if (!es__jv_str(s->root, "format") ||
      strcmp(es__jv_str(s->root, "format"), "esgen-schema") != 0)
    return refuse(why, cap, "not an esgen schema description");
  if (es__jv_u64(s->root, "format_version", &fv) || fv < 1 || fv > 2)
    return refuse(why, cap, "unknown format_version");
  s->format_version = (uint32_t)fv;
  s->name = es__jv_str(s->root, "schema");
  enums = array_member(s->root, "enums");
  types = array_member(s->root, "types");
  if (!s->name || !enums || !types)
    return refuse(why, cap, "no schema name, enums or types");
  if ((rc = parse_enums(enums, a, s, why, cap)) != 0 ||
      (rc = parse_types(types, a, s, why, cap)) != 0)
    return rc;
  if ((rc = parse_named(s->root, "aggregates", a, &s->aggregates,
                        &s->n_aggregates, why, cap)) != 0 ||
      (rc = parse_named(s->root, "projections", a, &s->projections,
                        &s->n_projections, why, cap)) != 0 ||
      (rc = parse_named(s->root, "sagas", a, &s->sagas, &s->n_sagas, why,
                        cap)) != 0)
    return rc;
  return 0;
}

const es__dtype *es__dschema_find(const es__dschema *s, uint64_t id,
                                  uint32_t version) {
  for (uint32_t i = 0; s && i < s->n_types; i++)
    if (s->types[i].id == id && s->types[i].version == version)
      return &s->types[i];
  return NULL;
}

/* ---- msgpack to JSON ------------------------------------------------------
 */

static void put_jv(es_buf *b, const es__jv *v) {
  switch (v->kind) {
  case ES__JV_BOOL:
    es__buf_puts(b, v->b ? "true" : "false");
    break;
  case ES__JV_NUM:
    es__buf_puts(b, v->s);
    break;
  case ES__JV_STR:
    es__json_put_str(b, v->s, v->n);
    break;
  default:
    es__buf_puts(b, "null");
  }
}

static int dec_record(es_mp_reader *r, const es__dtype *t, es_buf *out);

static int dec_value(es_mp_reader *r, const es__dfield *f, es_buf *out) {
  uint64_t u;
  bool bv;
  int rc;
  if (es__kind_is_integer(f->kind))
    return es__json_put_mp_int(r, out);
  switch (f->kind) {
  case ES_KIND_BOOL:
    if ((rc = es_mp_read_bool(r, &bv)) != 0)
      return rc;
    es__buf_puts(out, bv ? "true" : "false");
    return 0;
  case ES_KIND_F32: {
    float v;
    if ((rc = es_mp_read_f32(r, &v)) != 0)
      return rc;
    es__json_put_float(out, v, 9);
    return 0;
  }
  case ES_KIND_F64: {
    double v;
    if ((rc = es_mp_read_f64(r, &v)) != 0)
      return rc;
    es__json_put_float(out, v, 17);
    return 0;
  }
  case ES_KIND_STRING:
    return es__json_put_mp_str(r, out);
  case ES_KIND_BYTES:
    return es__json_put_mp_bin(r, out);
  case ES_KIND_UUID: {
    const uint8_t *p;
    uint32_t n;
    es_uuid id;
    char text[37];
    if ((rc = es_mp_read_bin(r, &p, &n)) != 0)
      return rc;
    if (n != 16)
      return ES_EDECODE;
    memcpy(id.bytes, p, 16);
    es_uuid_format(&id, text);
    es__json_put_str(out, text, strlen(text));
    return 0;
  }
  case ES_KIND_ENUM:
    if ((rc = es_mp_read_uint(r, &u, UINT32_MAX)) != 0)
      return rc;
    if (f->enumeration && u < f->enumeration->count)
      es__json_put_str(out, f->enumeration->values[u],
                       strlen(f->enumeration->values[u]));
    else
      es__json_putf(out, "%" PRIu64, u);
    return 0;
  case ES_KIND_RECORD:
    return f->record ? dec_record(r, f->record, out) : ES_EDECODE;
  default:
    return ES_EDECODE;
  }
}

/* A list with `lists` levels (1: of values of f's kind). */
static int dec_list(es_mp_reader *r, const es__dfield *f, uint32_t lists,
                    es_buf *out) {
  uint32_t n;
  int rc;
  if ((rc = es_mp_read_array(r, &n)) != 0)
    return rc;
  es__buf_puts(out, "[");
  for (uint32_t i = 0; i < n; i++) {
    if (i)
      es__buf_puts(out, ",");
    rc = lists > 1 ? dec_list(r, f, lists - 1, out) : dec_value(r, f, out);
    if (rc)
      return rc;
  }
  es__buf_puts(out, "]");
  es_mp_leave(r);
  return 0;
}

static int dec_field(es_mp_reader *r, const es__dfield *f, es_buf *out) {
  if (f->optional && es_mp_read_nil(r)) {
    es__buf_puts(out, "null");
    return 0;
  }
  if (!f->list)
    return dec_value(r, f, out);
  return dec_list(r, f, f->lists, out);
}

static int dec_record(es_mp_reader *r, const es__dtype *t, es_buf *out) {
  uint32_t n, i;
  int rc;
  if ((rc = es_mp_read_array(r, &n)) != 0)
    return rc;
  es__buf_puts(out, "{");
  for (i = 0; i < t->n_fields; i++) {
    const es__dfield *f = &t->fields[i];
    if (i)
      es__buf_puts(out, ",");
    es__json_put_str(out, f->name, strlen(f->name));
    es__buf_puts(out, ":");
    if (i < n) {
      if ((rc = dec_field(r, f, out)) != 0)
        return rc;
    } else if (f->def) { /* written by an older schema */
      put_jv(out, f->def);
    } else {
      es__buf_puts(out, f->list ? "[]" : "null");
    }
  }
  for (; i < n; i++) /* written by a newer schema */
    if ((rc = es_mp_skip(r)) != 0)
      return rc;
  es__buf_puts(out, "}");
  es_mp_leave(r);
  return 0;
}

int es__dvalue_json(const es__dtype *t, const uint8_t *data, size_t len,
                    es_buf *out) {
  es_mp_reader r;
  size_t start = out->len;
  int rc;

  if (out->err)
    return out->err;
  es_mp_reader_init(&r, data, len);
  rc = dec_record(&r, t, out);
  if (!rc && r.p != r.end)
    rc = ES_ETRAILING;
  if (!rc)
    rc = out->err;
  if (rc && out->len > start)
    out->len = start;
  return rc;
}
