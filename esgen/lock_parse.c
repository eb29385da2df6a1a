/*
 * lock_parse.c - lock text back into a lock. The text is esgen's own
 * output, but it is committed and may be edited or merged by hand, so
 * every line is checked and a bad one is reported where it is.
 */
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "grow.h"
#include "lock.h"

typedef struct lparser {
  esc_lock *lk;
  esc_diag *d;
  size_t cap;
  bool oom;
  /* the line being read */
  const char *z;
  size_t n;
  uint32_t line;
} lparser;

static esc_tok at_col(const lparser *p, size_t col0, size_t len) {
  return (esc_tok){p->z + col0, (uint32_t)len, p->line, (uint32_t)col0 + 1};
}

static bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Length of the name at p->z[i..], 0 when there is none. */
static size_t name_len(const lparser *p, size_t i) {
  size_t j = i;
  while (j < p->n && is_name_char(p->z[j]))
    j++;
  return j - i;
}

static char *dup(lparser *p, const char *z, size_t n) {
  char *s = es_arena_strndup(&p->lk->arena, z, n);
  if (!s)
    p->oom = true;
  return s;
}

/* Parses decimal digits at p->z[*i..]; false when there are none or the
 * number overflows. */
static bool number(const lparser *p, size_t *i, uint64_t *out) {
  size_t j = *i;
  while (j < p->n && p->z[j] >= '0' && p->z[j] <= '9')
    j++;
  if (j == *i || !esc_tok_u64(at_col(p, *i, j - *i), out))
    return false;
  *i = j;
  return true;
}

static bool starts(const lparser *p, size_t i, const char *s) {
  size_t n = strlen(s);
  return p->n - i >= n && memcmp(p->z + i, s, n) == 0;
}

static void bad_line(lparser *p, const char *expected) {
  esc_error(p->d, at_col(p, 0, p->n), "malformed lock line; expected %s",
            expected);
}

/* `KIND NAME [vN] [id HEX]`. */
static esc_lk_entry *entry_line(lparser *p) {
  static const char *const kinds[] = {"enum ", "record ", "state ",
                                      "saga-state ", "event "};
  int kind = -1;
  size_t i = 0;
  for (int k = 0; k < 5 && kind < 0; k++)
    if (starts(p, 0, kinds[k])) {
      kind = k;
      i = strlen(kinds[k]);
    }
  size_t nl = kind < 0 ? 0 : name_len(p, i);
  if (!nl) {
    bad_line(p, "an entry ('event', 'record', 'state', 'saga-state' or "
                "'enum' and a name) or a field");
    return NULL;
  }
  if (esc_grow(&p->lk->entries, &p->cap, (size_t)p->lk->n + 1,
               sizeof *p->lk->entries, 32) != 0) {
    p->oom = true;
    return NULL;
  }
  esc_lk_entry *e = &p->lk->entries[p->lk->n];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->name = dup(p, p->z + i, nl);
  e->at = at_col(p, i, nl);
  e->version = 1;
  e->current = true;
  i += nl;
  uint64_t v = 1;
  if (kind == ESC_LK_EVENT) {
    bool ok = starts(p, i, " v");
    i += 2;
    if (!ok || !number(p, &i, &v) || v == 0 || v > 65535) {
      bad_line(p, "'v' and a version after the event's name");
      return NULL;
    }
  }
  e->version = (uint32_t)v;
  if (kind != ESC_LK_ENUM) {
    if (!starts(p, i, " id ") || p->n - i != 20) {
      bad_line(p, "'id' and 16 hex digits after the name");
      return NULL;
    }
    char *end;
    char hex[17];
    memcpy(hex, p->z + i + 4, 16);
    hex[16] = '\0';
    e->id = strtoull(hex, &end, 16);
    if (*end || strspn(hex, "0123456789abcdef") != 16) {
      bad_line(p, "'id' and 16 hex digits after the name");
      return NULL;
    }
  } else if (i != p->n) {
    bad_line(p, "nothing after the enum's name");
    return NULL;
  }
  p->lk->n++;
  return e;
}

/* `  N name` (an enum value) or `  N name: TYPE[?][ max M][ = DEFAULT]`. */
static bool field_line(lparser *p, esc_lk_entry *e, esc_lk_field *f) {
  size_t i = 2;
  uint64_t idx;
  if (!number(p, &i, &idx) || !starts(p, i, " ") || !name_len(p, i + 1)) {
    bad_line(p, "a field: its number, name and type");
    return false;
  }
  if (idx != e->n_fields) {
    esc_error(p->d, at_col(p, 2, i - 2),
              "field number %llu out of order in the lock; expected %u",
              (unsigned long long)idx, e->n_fields);
    return false;
  }
  i++;
  size_t nl = name_len(p, i);
  f->name = dup(p, p->z + i, nl);
  f->at = at_col(p, i, nl);
  i += nl;
  if (e->kind == ESC_LK_ENUM) {
    if (i != p->n) {
      bad_line(p, "an enum value: its number and name");
      return false;
    }
    return true;
  }
  if (!starts(p, i, ": ")) {
    bad_line(p, "':' and a type after the field's name");
    return false;
  }
  i += 2;
  /* The default runs to the end of the line; a type never holds " = ". */
  size_t end = p->n;
  for (size_t j = i; j + 3 <= p->n; j++)
    if (memcmp(p->z + j, " = ", 3) == 0) {
      f->def = dup(p, p->z + j + 3, p->n - j - 3);
      end = j;
      break;
    }
  /* A bound is the last thing before it (a " max " followed by more is
   * a list element's bound, part of the type). */
  for (size_t j = end; j > i; j--)
    if (j + 5 <= end && memcmp(p->z + j, " max ", 5) == 0) {
      size_t k = j + 5;
      uint64_t max;
      if (number(p, &k, &max) && k == end) {
        f->has_max = true;
        f->max = max;
        end = j;
      }
      break;
    }
  if (end > i && p->z[end - 1] == '?') {
    f->optional = true;
    end--;
  }
  if (end == i) {
    bad_line(p, "a type after ':'");
    return false;
  }
  f->type = dup(p, p->z + i, end - i);
  return true;
}

/* Appends a field to the last entry, growing its array. */
static esc_lk_field *new_field(lparser *p, esc_lk_entry *e, uint32_t *cap) {
  if (e->n_fields == *cap) {
    uint32_t ncap = *cap ? *cap * 2 : 8;
    esc_lk_field *f = es_arena_alloc_array(&p->lk->arena, ncap, sizeof *f);
    if (!f) {
      p->oom = true;
      return NULL;
    }
    if (e->n_fields)
      memcpy(f, e->fields, e->n_fields * sizeof *f);
    e->fields = f;
    *cap = ncap;
  }
  esc_lk_field *f = &e->fields[e->n_fields];
  memset(f, 0, sizeof *f);
  return f;
}

int esc_lock_parse(const char *path, const char *src, size_t len, esc_diag *d,
                   esc_lock *out) {
  lparser p = {out, d, 0, false, NULL, 0, 0};
  int errors = d->n_errors;
  bool header = false, named = false, bad_entry = false;
  esc_lk_entry *cur = NULL;
  uint32_t fcap = 0;
  memset(out, 0, sizeof *out);
  es_arena_init(&out->arena, 0);
  out->path = path;
  out->src = src;
  out->src_len = len;
  const char *z = src, *end = src + len;
  while (z < end && !p.oom && d->n_errors - errors < ESC_MAX_ERRORS) {
    const char *nl = memchr(z, '\n', (size_t)(end - z));
    p.z = z;
    p.n = nl ? (size_t)(nl - z) : (size_t)(end - z);
    if (p.n && z[p.n - 1] == '\r')
      p.n--;
    p.line++;
    z = nl ? nl + 1 : end;
    if (p.n == 0 || p.z[0] == '#')
      continue;
    if (!header) {
      size_t i = strlen("esgen-lock ");
      uint64_t v;
      if (!starts(&p, 0, "esgen-lock ") || !number(&p, &i, &v) || i != p.n) {
        bad_line(&p, "'esgen-lock 1' (is this a lock file?)");
        break;
      }
      if (v != ESC_LOCK_FORMAT) {
        esc_error(d, at_col(&p, 0, p.n),
                  "lock format %llu is not one this esgen reads (%d); use "
                  "the esgen that wrote it",
                  (unsigned long long)v, ESC_LOCK_FORMAT);
        break;
      }
      header = true;
    } else if (!named) {
      size_t nlen = starts(&p, 0, "schema ") ? name_len(&p, 7) : 0;
      if (!nlen || 7 + nlen != p.n) {
        bad_line(&p, "'schema' and the schema's name");
        break;
      }
      out->schema = dup(&p, p.z + 7, nlen);
      out->schema_at = at_col(&p, 7, nlen);
      named = true;
    } else if (starts(&p, 0, "  ")) {
      if (!cur) {
        /* The fields of an entry reported already are left alone. */
        if (!bad_entry)
          bad_line(&p, "an entry before its fields");
        continue;
      }
      esc_lk_field *f = new_field(&p, cur, &fcap);
      if (f && field_line(&p, cur, f))
        cur->n_fields++;
    } else {
      cur = entry_line(&p);
      bad_entry = !cur;
      fcap = 0;
    }
  }
  if (!p.oom && d->n_errors == errors && !named)
    esc_error_file(d, "not a complete lock: no 'esgen-lock' and 'schema' "
                      "lines");
  if (p.oom)
    esc_error_file(d, "out of memory");
  if (d->n_errors != errors) {
    esc_lock_close(out);
    return -1;
  }
  /* An event's current version is the highest of its name. */
  for (uint32_t i = 0; i < out->n; i++)
    for (uint32_t j = 0; j < out->n; j++)
      if (out->entries[i].kind == ESC_LK_EVENT &&
          out->entries[j].kind == ESC_LK_EVENT &&
          strcmp(out->entries[i].name, out->entries[j].name) == 0 &&
          out->entries[j].version > out->entries[i].version)
        out->entries[i].current = false;
  return 0;
}
