/*
 * diag.c - diagnostics with the source line and a caret, collected and
 * then printed in source order.
 */
#include "diag.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>

void esc_diag_init(esc_diag *d, FILE *out, const char *path, const char *src,
                   size_t src_len) {
  memset(d, 0, sizeof *d);
  d->out = out;
  d->path = path;
  d->src = src;
  d->src_len = src_len;
}

/* ---- rendering into a growing string ------------------------------------ */

typedef struct text {
  char *p;
  size_t len, cap;
  bool failed;
} text;

static void put_v(text *t, const char *fmt, va_list ap) {
  va_list ap2;
  int n;
  if (t->failed)
    return;
  va_copy(ap2, ap);
  n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt,
                ap2);
  va_end(ap2);
  if (n < 0) {
    t->failed = true;
    return;
  }
  if (!t->p || (size_t)n >= t->cap - t->len) {
    if (esc_grow(&t->p, &t->cap, t->len + (size_t)n + 1, 1, 256) != 0) {
      t->failed = true;
      return;
    }
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
  }
  t->len += (size_t)n;
}

static void put(text *t, const char *fmt, ...) ESC_PRINTF(2, 3);
static void put(text *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  put_v(t, fmt, ap);
  va_end(ap);
}

/* The text of 1-based line `line`: start and length without the newline. */
static const char *line_text(const esc_diag *d, uint32_t line, size_t *len) {
  const char *p = d->src, *end = d->src + d->src_len;
  if (!p)
    return NULL;
  for (uint32_t l = 1; l < line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
      return NULL;
    p = nl + 1;
  }
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  *len = nl ? (size_t)(nl - p) : (size_t)(end - p);
  if (*len && p[*len - 1] == '\r')
    (*len)--;
  return p;
}

/* Whether `c` continues a UTF-8 sequence (takes no column on screen). */
static bool continuation(char c) { return ((unsigned char)c & 0xc0) == 0x80; }

static void show_source(const esc_diag *d, text *t, esc_tok at) {
  size_t len;
  const char *line;
  if (at.line == 0)
    return;
  line = line_text(d, at.line, &len);
  if (!line)
    return;
  put(t, "%5u | ", at.line);
  /* Control characters (a stray NUL would even cut the line short) show
   * as spaces, so the line prints as text and the caret stays aligned. */
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)line[i];
    put(t, "%c", (ch < 0x20 && ch != '\t') || ch == 0x7f ? ' ' : (char)ch);
  }
  put(t, "\n      | ");
  /* Keep tabs, and count a multibyte character once, so the caret lines
   * up with the text above it. */
  for (uint32_t i = 1; i < at.col && i - 1 < len; i++)
    if (!continuation(line[i - 1]))
      put(t, "%c", line[i - 1] == '\t' ? '\t' : ' ');
  put(t, "^");
  /* Underline at most to the end of the line. */
  size_t start = at.col - 1, end = start + at.n;
  if (end > len)
    end = len;
  for (size_t i = start + 1; i < end; i++)
    if (!continuation(line[i]))
      put(t, "~");
  put(t, "\n");
}

static void render(const esc_diag *d, text *t, const char *kind, esc_tok at,
                   const char *fmt, va_list ap) {
  if (at.line)
    put(t, "%s:%u:%u: %s: ", d->path, at.line, at.col, kind);
  else
    put(t, "%s: %s: ", d->path, kind);
  put_v(t, fmt, ap);
  put(t, "\n");
  show_source(d, t, at);
}

/* ---- collecting --------------------------------------------------------- */

/* Holds a new error or warning; on failure prints it at once instead. */
static void add(esc_diag *d, bool error, const char *kind, esc_tok at,
                const char *fmt, va_list ap) {
  text t = {0};
  d->dropping = false;
  if (!d->out)
    return;
  render(d, &t, kind, at, fmt, ap);
  if (!t.failed && esc_grow(&d->entries, &d->cap_entries, d->n_entries + 1,
                            sizeof *d->entries, 16) != 0)
    t.failed = true;
  if (t.failed) {
    /* Out of memory: print what can be printed, unsorted. */
    if (t.p)
      fwrite(t.p, 1, t.len, d->out);
    free(t.p);
    d->dropping = true;
    return;
  }
  d->entries[d->n_entries] = (esc_diag_entry){
      at.line, at.line ? at.col : 0, d->n_entries, error, t.p, t.len};
  d->n_entries++;
}

void esc_error(esc_diag *d, esc_tok at, const char *fmt, ...) {
  va_list ap;
  d->n_errors++;
  va_start(ap, fmt);
  add(d, true, "error", at, fmt, ap);
  va_end(ap);
}

void esc_warning(esc_diag *d, esc_tok at, const char *fmt, ...) {
  va_list ap;
  d->n_warnings++;
  va_start(ap, fmt);
  add(d, false, "warning", at, fmt, ap);
  va_end(ap);
}

/* Appends a note rendered against `src` to the last entry. */
static void note_v(esc_diag *d, const esc_diag *src, esc_tok at,
                   const char *fmt, va_list ap) {
  esc_diag_entry *e;
  if (!d->out || d->dropping || d->n_entries == 0)
    return;
  e = &d->entries[d->n_entries - 1];
  text t = {e->text, e->len, e->len + 1, false};
  render(src, &t, "note", at, fmt, ap);
  /* On failure the note is lost but the error it belongs to is kept. */
  if (t.failed && t.p)
    t.p[e->len] = '\0';
  else
    e->len = t.len;
  e->text = t.p;
}

void esc_note(esc_diag *d, esc_tok at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  note_v(d, d, at, fmt, ap);
  va_end(ap);
}

void esc_note_in(esc_diag *d, const char *path, const char *src, size_t len,
                 esc_tok at, const char *fmt, ...) {
  esc_diag other = {.path = path, .src = src, .src_len = len};
  va_list ap;
  va_start(ap, fmt);
  note_v(d, &other, at, fmt, ap);
  va_end(ap);
}

void esc_remark(esc_diag *d, esc_tok at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  add(d, false, "note", at, fmt, ap);
  va_end(ap);
}

void esc_error_file(esc_diag *d, const char *fmt, ...) {
  esc_tok none = {0};
  va_list ap;
  d->n_errors++;
  va_start(ap, fmt);
  add(d, true, "error", none, fmt, ap);
  va_end(ap);
}

/* ---- printing ----------------------------------------------------------- */

static int by_position(const void *a, const void *b) {
  const esc_diag_entry *x = a, *y = b;
  if (x->line != y->line)
    return x->line < y->line ? -1 : 1;
  if (x->col != y->col)
    return x->col < y->col ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void esc_diag_finish(esc_diag *d) {
  int shown = 0;
  if (d->n_entries)
    qsort(d->entries, d->n_entries, sizeof *d->entries, by_position);
  d->suppressed = 0;
  for (size_t i = 0; i < d->n_entries; i++) {
    esc_diag_entry *e = &d->entries[i];
    if (shown >= ESC_MAX_ERRORS) {
      /* Past the cap: errors are counted, warnings silently dropped. */
      if (e->error)
        d->suppressed++;
    } else {
      fwrite(e->text, 1, e->len, d->out);
      if (e->error)
        shown++;
    }
    free(e->text);
  }
  free(d->entries);
  d->entries = NULL;
  d->n_entries = d->cap_entries = 0;
  if (d->suppressed && d->out)
    fprintf(d->out, "%s: note: %d more error%s not shown\n", d->path,
            d->suppressed, d->suppressed == 1 ? "" : "s");
}
