/*
 * json.c - any described value as one line of JSON, for tools and logs.
 *
 * Compact output ({"a":1,"b":[true]}), fields in descriptor order, no
 * trailing newline. Strings are escaped so the result is valid UTF-8 JSON
 * whatever they contain: invalid UTF-8 becomes U+FFFD.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "es/es_desc.h"
#include "es/es_error.h"
#include "es/es_mp.h"
#include "schema/json_out.h"
#include "util/buf_text.h"

/* Records within records (through optional pointers, possibly a cycle). */
#define ES__JSON_MAX_DEPTH ES_MP_MAX_DEPTH

static void put_c(es_buf *b, char c) { es_buf_append(b, &c, 1); }

/* Length of the valid UTF-8 sequence at `s` (of `n` bytes), or 0. Rejects
 * overlong forms, surrogates and code points past U+10FFFF. */
static size_t utf8_valid(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len, i;
  uint32_t cp;

  if (c < 0xc2 || c > 0xf4)
    return 0; /* ASCII is handled by the caller; 0x80..0xc1 never lead */
  len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
  if (n < len)
    return 0;
  cp = c & (0x3f >> (len - 1));
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return 0;
  return len;
}

static void put_str(es_buf *b, const char *str, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, run = 0;

  put_c(b, '"');
  while (i < n) {
    unsigned char c = s[i];
    size_t len;

    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      i++;
      continue;
    }
    if (c >= 0x80) {
      len = utf8_valid(s + i, n - i);
      if (len) {
        i += len;
        continue;
      }
    }
    /* flush the plain run before `i`, then escape s[i] */
    es_buf_append(b, s + run, i - run);
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      es_buf_append(b, esc, 2);
    } else if (c < 0x20) {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f]};
      es_buf_append(b, esc, 6);
    } else {
      es__buf_puts(b, "\\ufffd");
    }
    i++;
    run = i;
  }
  es_buf_append(b, s + run, n - run);
  put_c(b, '"');
}

static void put_base64(es_buf *b, const uint8_t *p, size_t n) {
  static const char abc[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;

  put_c(b, '"');
  for (i = 0; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    char q[4] = {abc[v >> 18], abc[(v >> 12) & 63], abc[(v >> 6) & 63],
                 abc[v & 63]};
    es_buf_append(b, q, 4);
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    char q[4] = {abc[v >> 18], abc[(v >> 12) & 63], '=', '='};
    es_buf_append(b, q, 4);
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    char q[4] = {abc[v >> 18], abc[(v >> 12) & 63], abc[(v >> 6) & 63], '='};
    es_buf_append(b, q, 4);
  }
  put_c(b, '"');
}

/* Bytes one element of `kind` occupies in memory; 0 for a bad kind. */
static size_t kind_size(const es_field_desc *f) {
  switch (f->kind) {
  case ES_KIND_BOOL:
    return sizeof(bool);
  case ES_KIND_I8:
  case ES_KIND_U8:
    return 1;
  case ES_KIND_I16:
  case ES_KIND_U16:
    return 2;
  case ES_KIND_I32:
  case ES_KIND_U32:
  case ES_KIND_F32:
    return 4;
  case ES_KIND_I64:
  case ES_KIND_U64:
  case ES_KIND_F64:
    return 8;
  case ES_KIND_STRING:
    return sizeof(const char *);
  case ES_KIND_BYTES:
    return sizeof(es_bytes);
  case ES_KIND_TIMESTAMP:
    return sizeof(es_timestamp);
  case ES_KIND_UUID:
    return sizeof(es_uuid);
  case ES_KIND_ENUM:
    return sizeof(int);
  case ES_KIND_RECORD:
    return f->record ? f->record->size : 0;
  default:
    return 0;
  }
}

/* The unsigned integer of `size` bytes (1, 2, 4 or 8) stored at `p`,
 * widened. memcpy reads it: `p` may not be aligned for its type when a
 * descriptor is hand-written. */
static uint64_t load_unsigned(const void *p, size_t size) {
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  switch (size) {
  case 1:
    return memcpy(&u8, p, size), u8;
  case 2:
    return memcpy(&u16, p, size), u16;
  case 4:
    return memcpy(&u32, p, size), u32;
  default:
    return memcpy(&u64, p, sizeof u64), u64;
  }
}

/* The signed integer of `size` bytes stored at `p`: its bits, with the
 * sign bit copied into the bits above them. */
static int64_t load_signed(const void *p, size_t size) {
  uint64_t u = load_unsigned(p, size);
  int64_t v;
  if (size < sizeof u && (u >> (8 * size - 1)) & 1)
    u |= UINT64_MAX << (8 * size);
  memcpy(&v, &u, sizeof v);
  return v;
}

/* A float (`size` 4) or a double (8) stored at `p`, widened. */
static double load_real(const void *p, size_t size) {
  float f32;
  double f64;
  if (size == sizeof f32)
    return memcpy(&f32, p, sizeof f32), f32;
  return memcpy(&f64, p, sizeof f64), f64;
}

static int put_record(es_buf *b, const es_type_desc *t, const void *value,
                      int depth);

/* One value of `f`'s kind stored at `p` (a field, or a list element).
 * memcpy reads each scalar: `p` may not be aligned for its type when a
 * descriptor is hand-written. */
static int put_value(es_buf *b, const es_field_desc *f, const void *p,
                     int depth) {
  switch (f->kind) {
  case ES_KIND_BOOL: /* read as a byte: a garbage bool must not be UB */
    es__buf_puts(b, *(const unsigned char *)p ? "true" : "false");
    return 0;
  case ES_KIND_I8:
  case ES_KIND_I16:
  case ES_KIND_I32:
  case ES_KIND_I64:
  case ES_KIND_TIMESTAMP:
    es__buf_put_i64(b, load_signed(p, kind_size(f)));
    return 0;
  case ES_KIND_U8:
  case ES_KIND_U16:
  case ES_KIND_U32:
  case ES_KIND_U64:
    es__buf_put_u64(b, load_unsigned(p, kind_size(f)));
    return 0;
  case ES_KIND_F32:
  case ES_KIND_F64:
    es__json_put_float(b, load_real(p, kind_size(f)),
                       f->kind == ES_KIND_F32 ? 9 : 17);
    return 0;
  case ES_KIND_STRING: {
    const char *v;
    memcpy(&v, p, sizeof v);
    put_str(b, v ? v : "", v ? strlen(v) : 0);
    return 0;
  }
  case ES_KIND_BYTES: {
    es_bytes v;
    memcpy(&v, p, sizeof v);
    if (!v.data && v.len)
      return ES_EINVAL;
    put_base64(b, v.data, v.len);
    return 0;
  }
  case ES_KIND_UUID: {
    es_uuid v;
    char text[37];
    memcpy(&v, p, sizeof v);
    es_uuid_format(&v, text);
    put_c(b, '"');
    es_buf_append(b, text, 36);
    put_c(b, '"');
    return 0;
  }
  case ES_KIND_ENUM: {
    int v;
    memcpy(&v, p, sizeof v);
    if (f->enumeration && v >= 0 && (uint32_t)v < f->enumeration->count &&
        f->enumeration->values[v])
      put_str(b, f->enumeration->values[v], strlen(f->enumeration->values[v]));
    else
      es__buf_put_i64(b, v);
    return 0;
  }
  case ES_KIND_RECORD:
    if (!f->record)
      return ES_EINVAL;
    return put_record(b, f->record, p, depth + 1);
  default:
    return ES_EINVAL;
  }
}

/* A list's items, each described by f->elem (a list of lists: the inner
 * lists); a hand-made descriptor without `elem` has items of f->kind. */
static int put_list(es_buf *b, const es_field_desc *f, const void *p,
                    int depth) {
  struct {
    const unsigned char *items;
    uint32_t count;
  } list; /* the layout every generated list struct shares */
  const es_field_desc *e = f->elem ? f->elem : f;
  size_t natural = e->is_list && f->elem ? sizeof list : kind_size(e);
  size_t stride = f->elem_size ? f->elem_size : natural;
  uint32_t i;
  int rc;

  if (depth > ES__JSON_MAX_DEPTH)
    return ES_EDEPTH;
  memcpy(&list.items, p, sizeof list.items);
  memcpy(&list.count, (const unsigned char *)p + sizeof(void *),
         sizeof list.count);
  if (!natural || stride < natural || (!list.items && list.count))
    return ES_EINVAL;
  put_c(b, '[');
  for (i = 0; i < list.count; i++) {
    const unsigned char *item = list.items + (size_t)i * stride;
    if (i)
      put_c(b, ',');
    if (e != f && e->is_list)
      rc = put_list(b, e, item, depth + 1);
    else
      rc = put_value(b, e, item, depth);
    if (rc)
      return rc;
  }
  put_c(b, ']');
  return 0;
}

static int put_field(es_buf *b, const es_field_desc *f, const void *value,
                     int depth) {
  const unsigned char *p = (const unsigned char *)value + f->offset;

  if (f->optional && f->kind == ES_KIND_RECORD && !f->is_list) {
    const void *rec; /* an optional record is a pointer, NULL when absent */
    memcpy(&rec, p, sizeof rec);
    if (!rec) {
      es__buf_puts(b, "null");
      return 0;
    }
    if (!f->record)
      return ES_EINVAL;
    return put_record(b, f->record, rec, depth + 1);
  }
  if (f->optional) {
    if (!((const unsigned char *)value)[f->has_offset]) {
      es__buf_puts(b, "null");
      return 0;
    }
  }
  if (f->is_list)
    return put_list(b, f, p, depth);
  return put_value(b, f, p, depth);
}

static int put_record(es_buf *b, const es_type_desc *t, const void *value,
                      int depth) {
  uint32_t i;
  int rc;

  if (depth > ES__JSON_MAX_DEPTH)
    return ES_EDEPTH;
  if (t->magic != ES_TYPE_DESC_MAGIC || !value || (t->n_fields && !t->fields))
    return ES_EINVAL;
  put_c(b, '{');
  for (i = 0; i < t->n_fields; i++) {
    const es_field_desc *f = &t->fields[i];
    if (i)
      put_c(b, ',');
    put_str(b, f->name ? f->name : "", f->name ? strlen(f->name) : 0);
    put_c(b, ':');
    rc = put_field(b, f, value, depth);
    if (rc)
      return rc;
  }
  put_c(b, '}');
  return 0;
}

/* On failure `out` keeps what it held before the call (its sticky `err`
 * is set only for the buffer's own errors, not for a bad descriptor). */
int es_json_write(const es_type_desc *t, const void *value, es_buf *out) {
  size_t start = out->len;
  int rc;

  if (out->err)
    return out->err;
  if (!t)
    return ES_EINVAL;
  rc = put_record(out, t, value, 1);
  if (!rc)
    rc = out->err;
  if (rc && out->len > start)
    out->len = start;
  return rc;
}

void es__json_put_str(es_buf *b, const char *s, size_t n) { put_str(b, s, n); }

void es__json_put_base64(es_buf *b, const uint8_t *p, size_t n) {
  put_base64(b, p, n);
}

void es__json_put_raw(es_buf *b, const char *s) { es__buf_puts(b, s); }

void es__json_vputf(es_buf *b, const char *fmt, va_list ap) {
  char tmp[ES__JSON_PUTF_MAX + 1];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  if (n > 0)
    es_buf_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void es__json_putf(es_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  es__json_vputf(b, fmt, ap);
  va_end(ap);
}

void es__json_put_float(es_buf *b, double v, int digits) {
  char tmp[40];
  int n, i;

  if (isnan(v) || isinf(v)) {
    es__buf_puts(b, "null");
    return;
  }
  n = snprintf(tmp, sizeof tmp, "%.*g", digits, v);
  /* a program's setlocale() may have made the decimal point a comma */
  for (i = 0; i < n; i++)
    if (tmp[i] == ',')
      tmp[i] = '.';
  es_buf_append(b, tmp, (size_t)n);
}

int es__json_put_mp_int(es_mp_reader *r, es_buf *b) {
  uint64_t u;
  bool neg;
  int rc = es__mp_read_intbits(r, &u, &neg);
  if (rc)
    return rc;
  if (neg)
    es__buf_put_i64(b, (int64_t)u);
  else
    es__buf_put_u64(b, u);
  return 0;
}

int es__json_put_mp_str(es_mp_reader *r, es_buf *b) {
  const char *s;
  uint32_t n;
  int rc = es_mp_read_str(r, &s, &n);
  if (rc)
    return rc;
  put_str(b, s, n);
  return 0;
}

int es__json_put_mp_bin(es_mp_reader *r, es_buf *b) {
  const uint8_t *p;
  uint32_t n;
  int rc = es_mp_read_bin(r, &p, &n);
  if (rc)
    return rc;
  put_base64(b, p, n);
  return 0;
}
