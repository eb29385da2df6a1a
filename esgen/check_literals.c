/*
 * check_literals.c - default values: integers and floats in the range of
 * their type, strings decoded (escapes, UTF-8, bounds), uuids, booleans
 * and enum values. A checked literal carries its value for the
 * generators (esc_literal's u, f, s).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static bool is_signed(int k) { return k >= ESC_T_I8 && k <= ESC_T_I64; }
static bool is_unsigned(int k) { return k >= ESC_T_U8 && k <= ESC_T_U64; }

/* Writes code point `cp` as UTF-8 at out + *n. */
static void put_utf8(char *out, size_t *n, uint32_t cp) {
  if (cp < 0x80) {
    out[(*n)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*n)++] = (char)(0xc0 | cp >> 6);
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out[(*n)++] = (char)(0xe0 | cp >> 12);
    out[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  } else {
    out[(*n)++] = (char)(0xf0 | cp >> 18);
    out[(*n)++] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  }
}

/* A '\u{...}' escape at `at` (p points at the backslash): appends the
 * character and returns where the text goes on, or NULL (reported). */
static const char *u_escape(checker *c, esc_tok at, const char *p,
                            const char *end, char *out, size_t *n) {
  const char *q = p + 3;
  uint32_t cp = 0;
  int digits = 0;
  if (p + 2 >= end || p[2] != '{') {
    esc_error(c->d, at,
              "malformed escape: '\\u' takes 1 to 6 hex "
              "digits in braces, as in '\\u{20ac}'");
    return NULL;
  }
  while (q < end && *q != '}' && digits <= 6) {
    char h = *q;
    unsigned v = (h >= '0' && h <= '9')   ? (unsigned)(h - '0')
                 : (h >= 'a' && h <= 'f') ? (unsigned)(h - 'a' + 10)
                 : (h >= 'A' && h <= 'F') ? (unsigned)(h - 'A' + 10)
                                          : 16u;
    if (v == 16)
      break;
    cp = cp * 16 + v;
    digits++;
    q++;
  }
  at.n = (uint32_t)(q - p + (q < end && *q == '}' ? 1 : 0));
  if (q >= end || *q != '}' || digits == 0 || digits > 6) {
    esc_error(c->d, at,
              "malformed escape: '\\u' takes 1 to 6 hex "
              "digits in braces, as in '\\u{20ac}'");
    return NULL;
  }
  if (cp == 0) {
    esc_error(c->d, at,
              "'\\u{%.*s}' is a NUL character, which strings cannot "
              "hold",
              (int)(q - p - 3), p + 3);
    return NULL;
  }
  if (cp > 0x10ffff) {
    esc_error(c->d, at,
              "'\\u{%.*s}' is past U+10FFFF, the last Unicode "
              "character",
              (int)(q - p - 3), p + 3);
    return NULL;
  }
  if (cp >= 0xd800 && cp <= 0xdfff) {
    esc_error(c->d, at,
              "'\\u{%.*s}' is a UTF-16 surrogate, not a character; "
              "write the character itself, as in '\\u{1f600}'",
              (int)(q - p - 3), p + 3);
    return NULL;
  }
  put_utf8(out, n, cp);
  return q + 1;
}

/* One escape at `at` (p points at the backslash): appends what it
 * stands for and returns where the text goes on, or NULL (reported). */
static const char *escape(checker *c, esc_tok at, const char *p,
                          const char *end, char *out, size_t *n) {
  char e = p[1];
  if (e == '\\' || e == '"')
    out[(*n)++] = e;
  else if (e == 'n')
    out[(*n)++] = '\n';
  else if (e == 't')
    out[(*n)++] = '\t';
  else if (e == 'u')
    return u_escape(c, at, p, end, out, n);
  else {
    esc_error(c->d, at,
              "unknown escape '\\%c' (use \\\\ \\\" \\n \\t or \\u{...})", e);
    return NULL;
  }
  return p + 2;
}

/* The length of the UTF-8 character at p, or 0 when it is not one: no
 * overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_len(const char *p, const char *end) {
  unsigned char ch = (unsigned char)*p;
  int len = ch < 0x80                  ? 1
            : ch >= 0xc2 && ch <= 0xdf ? 2
            : ch >= 0xe0 && ch <= 0xef ? 3
            : ch >= 0xf0 && ch <= 0xf4 ? 4
                                       : 0;
  bool ok = len > 0 && p + len <= end;
  for (int i = 1; ok && i < len; i++)
    ok = ((unsigned char)p[i] & 0xc0) == 0x80;
  if (ok && len >= 3) {
    unsigned char c1 = (unsigned char)p[1];
    ok = !(ch == 0xe0 && c1 < 0xa0) && !(ch == 0xed && c1 >= 0xa0) &&
         !(ch == 0xf0 && c1 < 0x90) && !(ch == 0xf4 && c1 >= 0x90);
  }
  return ok ? len : 0;
}

/* Decodes the escapes of a string literal into l->s (left NULL when the
 * literal is reported). */
static void decode_string(checker *c, esc_literal *l) {
  esc_tok t = l->tok;
  const char *p = t.z + 1, *end = t.z + t.n - 1;
  char *out = es_arena_alloc(&c->s->arena, t.n + 1);
  size_t n = 0;
  if (!out) {
    c->oom = true;
    return;
  }
  while (p < end) {
    unsigned char ch = (unsigned char)*p;
    esc_tok at = t;
    at.col = t.col + (uint32_t)(p - t.z);
    at.z = p;
    at.n = 2;
    if (ch == '\\') {
      if (!(p = escape(c, at, p, end, out, &n)))
        return;
      continue;
    }
    at.n = 1;
    if (ch == 0) {
      esc_error(c->d, at, "a NUL byte cannot be part of a string");
      return;
    }
    int len = utf8_len(p, end);
    if (!len) {
      esc_error(c->d, at, "string is not valid UTF-8 (byte 0x%02x)",
                (unsigned)ch);
      return;
    }
    memcpy(out + n, p, (size_t)len);
    n += (size_t)len;
    p += len;
  }
  out[n] = '\0';
  l->s = out;
  l->s_len = n;
}

static bool uuid_text(const char *s, size_t n) {
  if (n != 36)
    return false;
  for (size_t i = 0; i < 36; i++) {
    char ch = s[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? ch != '-'
             : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                 (ch >= 'A' && ch <= 'F')))
      return false;
  }
  return true;
}

void chk_default(checker *c, esc_field *f) {
  esc_literal *l = f->def;
  esc_type *t = f->type;
  int k = t->kind;
  if (t->optional) {
    esc_error(c->d, l->at,
              "optional field '%.*s' cannot have a default: absent is its "
              "default",
              TOKF(f->name));
    return;
  }
  if (k == ESC_T_LIST || k == ESC_T_RECORD || k == ESC_T_BYTES) {
    esc_error(c->d, l->at, "a %s field cannot have a default",
              k == ESC_T_LIST     ? "list"
              : k == ESC_T_RECORD ? "record"
                                  : "bytes");
    return;
  }
  if (is_signed(k) || is_unsigned(k) || k == ESC_T_TIMESTAMP) {
    static const uint64_t umax[] = {
        0, 0, 0, 0, 0, UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX};
    static const uint64_t smax[] = {0, INT8_MAX, INT16_MAX, INT32_MAX,
                                    INT64_MAX};
    int sk = k == ESC_T_TIMESTAMP ? ESC_T_I64 : k;
    bool ok;
    if (l->kind != ESC_LIT_INT) {
      esc_error(c->d, l->at, "default of '%.*s' must be an integer",
                TOKF(f->name));
      return;
    }
    ok = esc_tok_u64(l->tok, &l->u);
    if (ok && is_unsigned(k))
      ok = l->u <= umax[k] && !(l->negative && l->u != 0);
    else if (ok)
      /* two's complement: one more below zero */
      ok = l->u <= smax[sk] + (l->negative ? 1u : 0u);
    if (!ok) {
      if (is_unsigned(k))
        esc_error(c->d, l->at, "'%.*s' is out of range for %s (0 to %llu)",
                  TOKF(l->at), esc_kind_name(k), (unsigned long long)umax[k]);
      else
        esc_error(c->d, l->at, "'%.*s' is out of range for %s (-%llu to %llu)",
                  TOKF(l->at), esc_kind_name(k),
                  (unsigned long long)smax[sk] + 1,
                  (unsigned long long)smax[sk]);
    }
  } else if (k == ESC_T_F32 || k == ESC_T_F64) {
    char buf[64];
    if (l->kind != ESC_LIT_INT && l->kind != ESC_LIT_FLOAT) {
      esc_error(c->d, l->at, "default of '%.*s' must be a number",
                TOKF(f->name));
      return;
    }
    if (l->tok.n >= sizeof buf) {
      esc_error(c->d, l->at, "number '%.*s' is too long", TOKF(l->at));
      return;
    }
    memcpy(buf, l->tok.z, l->tok.n);
    buf[l->tok.n] = '\0';
    l->f = strtod(buf, NULL);
    if (l->negative)
      l->f = -l->f;
    if (!isfinite(l->f) ||
        (k == ESC_T_F32 && fabs(l->f) > 3.4028234663852886e38))
      esc_error(c->d, l->at, "'%.*s' is out of range for %s", TOKF(l->at),
                esc_kind_name(k));
  } else if (k == ESC_T_BOOL) {
    if (l->kind != ESC_LIT_BOOL)
      esc_error(c->d, l->at, "default of '%.*s' must be true or false",
                TOKF(f->name));
    else
      l->u = esc_tok_is(l->tok, "true");
  } else if (k == ESC_T_STRING || k == ESC_T_UUID) {
    if (l->kind != ESC_LIT_STRING) {
      esc_error(c->d, l->at, "default of '%.*s' must be a string",
                TOKF(f->name));
      return;
    }
    decode_string(c, l);
    if (!l->s)
      return;
    if (k == ESC_T_UUID && !uuid_text(l->s, l->s_len))
      esc_error(c->d, l->at,
                "default of '%.*s' must be a uuid like "
                "\"123e4567-e89b-12d3-a456-426614174000\"",
                TOKF(f->name));
    if (k == ESC_T_STRING && t->has_max && l->s_len > t->max)
      esc_error(c->d, l->at,
                "default of '%.*s' is %zu bytes, more than 'max %llu'",
                TOKF(f->name), l->s_len, (unsigned long long)t->max);
  } else if (k == ESC_T_ENUM) {
    esc_decl *e = t->decl;
    uint32_t i = 0;
    if (l->kind != ESC_LIT_NAME) {
      esc_error(c->d, l->at, "default of '%.*s' must be a value of '%.*s'",
                TOKF(f->name), TOKF(e->name));
      return;
    }
    for (esc_name_list *v = e->values; v; v = v->next, i++) {
      if (chk_same(v->name, l->tok)) {
        l->u = i;
        return;
      }
    }
    suggest sg = SUGGEST(l->tok);
    char buf[160];
    for (esc_name_list *v = e->values; v; v = v->next)
      chk_consider(&sg, v->name);
    esc_error(c->d, l->at, "'%.*s' is not a value of enum '%.*s'%s",
              TOKF(l->tok), TOKF(e->name), chk_hint(&sg, buf, sizeof buf));
  }
}
