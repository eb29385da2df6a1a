/*
 * value_check.c - a value (or its msgpack) against its descriptor, with the
 * field to blame (see value_check.h).
 */
#include "schema/value_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "es/es_error.h"
#include "es/es_mp.h"
#include "schema/kind.h"

#define PATH_MAX_LEN 160

/* Where a walk is: the field path so far and where to say what is wrong. */
typedef struct walk {
  const es_type_desc *top;
  const char *role;
  char path[PATH_MAX_LEN];
  size_t len;
  char *why;
  size_t cap;
} walk;

/* The list shape every es_*_list and generated list struct has. */
typedef struct any_list {
  const void *items;
  uint32_t count;
} any_list;

/* Appends `n` bytes of `s` to the path, as many as fit. */
static void add(walk *w, const char *s, size_t n) {
  size_t room = sizeof w->path - 1 - w->len;
  if (n > room)
    n = room;
  memcpy(w->path + w->len, s, n);
  w->len += n;
  w->path[w->len] = '\0';
}

/* Appends ".name" (or "name" first, or "[i]" when name is NULL) to the
 * path; returns the old length for pop(). Built by hand, not with
 * snprintf(): every field of every command passes here, and the path is
 * read only when something is wrong. */
static size_t push(walk *w, const char *name, uint32_t index) {
  size_t old = w->len;
  if (name) {
    if (w->len)
      add(w, ".", 1);
    add(w, name, strlen(name));
  } else {
    char digits[12];
    size_t at = sizeof digits;
    do {
      digits[--at] = (char)('0' + index % 10);
      index /= 10;
    } while (index);
    digits[--at] = '[';
    add(w, digits + at, sizeof digits - at);
    add(w, "]", 1);
  }
  return old;
}

static void pop(walk *w, size_t old) {
  w->len = old;
  w->path[old] = '\0';
}

/* Writes "field 'path' of role 'Type': <what>" and returns `rc`. */
static int blame(walk *w, int rc, const char *fmt, ...) {
  va_list ap;
  int n;
  if (!w->why || !w->cap)
    return rc;
  n = snprintf(w->why, w->cap, "field '%s' of %s '%s': ", w->path, w->role,
               w->top->name);
  if (n >= 0 && (size_t)n < w->cap) {
    va_start(ap, fmt);
    vsnprintf(w->why + n, w->cap - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* ---- values in memory --------------------------------------------------- */

static int check_fields(walk *w, const es_type_desc *t, const uint8_t *base,
                        int depth);

/* One value of field `f`'s kind at `p`; `bounded`: f->max applies to it
 * (a list's max bounds its count, not its items). */
static int check_one(walk *w, const es_field_desc *f, const uint8_t *p,
                     bool bounded, int depth) {
  switch (f->kind) {
  case ES_KIND_STRING: {
    const char *s = *(const char *const *)(const void *)p;
    size_t n = s ? strlen(s) : 0;
    if (bounded && f->max && n > f->max)
      return blame(w, ES_EBOUND, "%zu bytes, max %u", n, f->max);
    return 0;
  }
  case ES_KIND_BYTES: {
    const es_bytes *b = (const es_bytes *)(const void *)p;
    if (b->len && !b->data)
      return blame(w, ES_EINVAL, "%zu bytes and a NULL data pointer", b->len);
    if (bounded && f->max && b->len > f->max)
      return blame(w, ES_EBOUND, "%zu bytes, max %u", b->len, f->max);
    return 0;
  }
  case ES_KIND_ENUM: {
    int v = *(const int *)(const void *)p;
    uint32_t count = f->enumeration ? f->enumeration->count : 0;
    if (v < 0 || (uint32_t)v >= count)
      return blame(w, ES_EENUM, "%d is not a value of enum '%s' (0 .. %u)", v,
                   f->enumeration ? f->enumeration->name : "?",
                   count ? count - 1 : 0);
    return 0;
  }
  case ES_KIND_RECORD:
    if (!f->record)
      return 0;
    if (f->optional && !f->is_list) { /* behind a pointer */
      p = *(const uint8_t *const *)(const void *)p;
      if (!p)
        return blame(w, ES_EINVAL, "marked present but NULL");
    }
    return check_fields(w, f->record, p, depth + 1);
  default:
    return 0;
  }
}

static int check_list(walk *w, const es_field_desc *f, const uint8_t *p,
                      int depth);

/* The value at `p` described by `f`: a list, or one value. */
static int check_value(walk *w, const es_field_desc *f, const uint8_t *p,
                       int depth) {
  return f->is_list ? check_list(w, f, p, depth)
                    : check_one(w, f, p, true, depth);
}

/* A list's count within its bound, then each item, described by f->elem
 * (a list of lists: the inner lists, each with its own bound). A hand-made
 * descriptor without `elem` has items of f->kind without a bound. */
static int check_list(walk *w, const es_field_desc *f, const uint8_t *p,
                      int depth) {
  const any_list *l = (const any_list *)(const void *)p;
  int rc = 0;
  if (f->max && l->count > f->max)
    return blame(w, ES_EBOUND, "%u items, max %u", l->count, f->max);
  if (l->count && !l->items)
    return blame(w, ES_EINVAL, "%u items and a NULL items pointer", l->count);
  if (f->elem && depth + 1 > ES_MP_MAX_DEPTH)
    return blame(w, ES_EDEPTH, "lists nested deeper than %d", ES_MP_MAX_DEPTH);
  for (uint32_t i = 0; rc == 0 && i < l->count; i++) {
    const uint8_t *item = (const uint8_t *)l->items + (size_t)i * f->elem_size;
    size_t old = push(w, NULL, i);
    rc = f->elem ? check_value(w, f->elem, item, depth + 1)
                 : check_one(w, f, item, false, depth);
    if (rc == 0)
      pop(w, old);
  }
  return rc;
}

static int check_field(walk *w, const es_field_desc *f, const uint8_t *base,
                       int depth) {
  if (f->optional && !*(const bool *)(const void *)(base + f->has_offset))
    return 0;
  return check_value(w, f, base + f->offset, depth);
}

static int check_fields(walk *w, const es_type_desc *t, const uint8_t *base,
                        int depth) {
  if (depth > ES_MP_MAX_DEPTH)
    return blame(w, ES_EDEPTH, "records nested deeper than %d",
                 ES_MP_MAX_DEPTH);
  for (uint32_t i = 0; i < t->n_fields; i++) {
    size_t old = push(w, t->fields[i].name, 0);
    int rc = check_field(w, &t->fields[i], base, depth);
    if (rc)
      return rc; /* the path names the field */
    pop(w, old);
  }
  return 0;
}

int es__value_check(const es_type_desc *t, const char *role, const void *value,
                    char *why, size_t cap) {
  walk w;
  memset(&w, 0, sizeof w);
  w.top = t;
  w.role = role;
  w.why = why;
  w.cap = cap;
  if (why && cap)
    why[0] = '\0';
  return check_fields(&w, t, value, 0);
}

/* ---- values as msgpack -------------------------------------------------- */

static int why_fields(walk *w, const es_type_desc *t, es_mp_reader *r, int rc);

/* Reads one integer of `kind` (es__kind_is_integer), refusing a value
 * outside the kind's range. */
static int read_int_kind(es_mp_reader *r, uint8_t kind) {
  static const int64_t lo[] = {0, INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN};
  static const int64_t hi[] = {0, INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX};
  static const uint64_t uhi[] = {UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX};
  int64_t v;
  uint64_t u;
  if (kind == ES_KIND_TIMESTAMP)
    kind = ES_KIND_I64;
  if (kind >= ES_KIND_I8 && kind <= ES_KIND_I64)
    return es_mp_read_int(r, &v, lo[kind], hi[kind]);
  return es_mp_read_uint(r, &u, uhi[kind - ES_KIND_U8]);
}

/* The first rule one wire value of field `f`'s kind breaks (0: none). */
static int why_one(walk *w, const es_field_desc *f, es_mp_reader *r,
                   bool bounded, int rc_in) {
  const uint8_t *p;
  const char *sp;
  uint32_t n;
  uint64_t u;
  bool b;
  float f32;
  double f64;
  int rc;

  switch (es__kind_is_integer(f->kind) ? ES_KIND_I64 : f->kind) {
  case ES_KIND_BOOL:
    rc = es_mp_read_bool(r, &b);
    break;
  case ES_KIND_I64: /* any integer kind */
    rc = read_int_kind(r, f->kind);
    break;
  case ES_KIND_F32:
    rc = es_mp_read_f32(r, &f32);
    break;
  case ES_KIND_F64:
    rc = es_mp_read_f64(r, &f64);
    break;
  case ES_KIND_STRING:
    if ((rc = es_mp_read_str(r, &sp, &n)) != 0)
      break;
    if (bounded && f->max && n > f->max)
      return blame(w, ES_EBOUND, "%u bytes, max %u", n, f->max);
    if (memchr(sp, 0, n))
      return blame(w, ES_EDECODE, "a string holding a NUL byte");
    return 0;
  case ES_KIND_BYTES:
  case ES_KIND_UUID:
    if ((rc = es_mp_read_bin(r, &p, &n)) != 0)
      break;
    if (f->kind == ES_KIND_UUID && n != 16)
      return blame(w, ES_EDECODE, "a uuid of %u bytes, not 16", n);
    if (bounded && f->max && n > f->max)
      return blame(w, ES_EBOUND, "%u bytes, max %u", n, f->max);
    return 0;
  case ES_KIND_ENUM:
    if ((rc = es_mp_read_uint(r, &u, UINT32_MAX)) != 0)
      break;
    if (!f->enumeration || u >= f->enumeration->count)
      return blame(w, ES_EENUM, "%llu is not a value of enum '%s'",
                   (unsigned long long)u,
                   f->enumeration ? f->enumeration->name : "?");
    return 0;
  case ES_KIND_RECORD:
    return f->record ? why_fields(w, f->record, r, rc_in) : es_mp_skip(r);
  default:
    return es_mp_skip(r);
  }
  if (rc)
    return blame(w, rc, "%s", es_strerror(rc));
  return 0;
}

/* The first rule a wire list of `f` breaks: its count over f->max, then
 * each item's (f->elem, or f's kind without a bound for a hand-made
 * descriptor without one). */
static int why_list(walk *w, const es_field_desc *f, es_mp_reader *r,
                    int rc_in) {
  uint32_t n;
  int rc;
  if ((rc = es_mp_read_array(r, &n)) != 0)
    return blame(w, rc, "%s", es_strerror(rc));
  if (f->max && n > f->max)
    return blame(w, ES_EBOUND, "%u items, max %u", n, f->max);
  for (uint32_t i = 0; i < n; i++) {
    size_t old = push(w, NULL, i);
    if (f->elem && f->elem->is_list)
      rc = why_list(w, f->elem, r, rc_in);
    else
      rc = why_one(w, f->elem ? f->elem : f, r, f->elem != NULL, rc_in);
    if (rc)
      return rc;
    pop(w, old);
  }
  es_mp_leave(r);
  return 0;
}

static int why_field(walk *w, const es_field_desc *f, es_mp_reader *r,
                     int rc_in) {
  if (f->optional && es_mp_read_nil(r))
    return 0;
  if (!f->is_list)
    return why_one(w, f, r, true, rc_in);
  return why_list(w, f, r, rc_in);
}

/* Walks the array of a `t` value, field by field; a field the array does
 * not reach is to blame when decoding said ES_EMISSING and nothing before
 * it broke a rule (the generated decoder asks for every field without a
 * default, which come first). */
static int why_fields(walk *w, const es_type_desc *t, es_mp_reader *r,
                      int rc_in) {
  uint32_t n;
  int rc = es_mp_read_array(r, &n);
  if (rc)
    return w->len ? blame(w, rc, "%s", es_strerror(rc)) : rc;
  for (uint32_t i = 0; i < t->n_fields; i++) {
    size_t old = push(w, t->fields[i].name, 0);
    if (i >= n) {
      if (rc_in == ES_EMISSING && !t->fields[i].optional)
        return blame(w, ES_EMISSING, "missing (%u of %u fields given)", n,
                     t->n_fields);
      pop(w, old);
      continue;
    }
    if ((rc = why_field(w, &t->fields[i], r, rc_in)) != 0)
      return rc;
    pop(w, old);
  }
  for (uint32_t i = t->n_fields; i < n; i++)
    if ((rc = es_mp_skip(r)) != 0)
      return rc;
  es_mp_leave(r);
  return 0;
}

void es__decode_why(const es_type_desc *t, const char *role, const void *data,
                    size_t len, int rc, char *why, size_t cap) {
  es_mp_reader r;
  walk w;
  if (!why || !cap)
    return;
  memset(&w, 0, sizeof w);
  w.top = t;
  w.role = role;
  w.why = why;
  w.cap = cap;
  why[0] = '\0';
  es_mp_reader_init(&r, data, len);
  if (why_fields(&w, t, &r, rc) != 0 && why[0])
    return;
  snprintf(why, cap, "%s '%s' does not decode: %s", role, t->name,
           es_strerror(rc));
}
