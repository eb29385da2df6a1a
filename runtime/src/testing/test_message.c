/*
 * test_message.c - building the test helpers' failure messages.
 */
#include "testing/test_message.h"

#include <stdio.h>
#include <stdlib.h>

#include "es/es_buf.h"
#include "es/es_error.h"
#include "util/alloc.h"

int es__message_init(es__message *m) {
  m->len = 0;
  m->cap = 64;
  m->text = es__calloc(1, m->cap);
  return m->text ? 0 : ES_ENOMEM;
}

void es__message_free(es__message *m) {
  if (!m)
    return;
  es__free(m->text);
  m->text = NULL;
  m->len = m->cap = 0;
}

void es__message_clear(es__message *m) {
  m->len = 0;
  if (m->text)
    m->text[0] = '\0';
}

void es__message_vadd(es__message *m, const char *fmt, va_list ap) {
  va_list ap2;
  int n;
  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return;
  if (m->len + (size_t)n + 1 > m->cap) {
    size_t cap = (m->len + (size_t)n + 1) * 2;
    char *p = es__realloc(m->text, cap);
    if (!p)
      return;
    m->text = p;
    m->cap = cap;
  }
  vsnprintf(m->text + m->len, m->cap - m->len, fmt, ap);
  m->len += (size_t)n;
}

static void add(es__message *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  es__message_vadd(m, fmt, ap);
  va_end(ap);
}

int es__message_setup_failed(es__message *m, int *setup_rc, int rc,
                             const char *what) {
  if (!*setup_rc) {
    *setup_rc = rc;
    es__message_clear(m);
    add(m, "setup failed: %s: %s (%s)", what, es_err_name(rc), es_strerror(rc));
  }
  return rc;
}

bool es__message_check_start(es__message *m, es_arena *a, int setup_rc,
                             bool ran, const char *check, const char *first) {
  if (setup_rc)
    return false; /* the message already tells */
  es__message_clear(m);
  es_arena_reset(a);
  if (!ran) {
    add(m, "%s: no %s ran before it", check, first);
    return false;
  }
  return true;
}

void es__message_json(es__message *m, const es_type_desc *type,
                      const void *value) {
  es_buf b;
  es_buf_init(&b, 0);
  if (es_json_write(type, value, &b) == 0)
    add(m, "%.*s", (int)b.len, (const char *)b.data);
  else
    add(m, "<not printable as JSON>");
  es_buf_close(&b);
}

void es__message_decoded(es__message *m, es_arena *a, const es_type_desc *type,
                         const void *p, size_t len) {
  void *value = es_arena_alloc(a, type->size);
  if (!value || es_type_decode(type, value, len ? p : "", len, a) != 0) {
    add(m, "<undecodable, %zu bytes>", len);
    return;
  }
  es__message_json(m, type, value);
}

const char *es__message_text(const es__message *m) {
  return m && m->text ? m->text : "";
}
