/*
 * diag.c - printing diagnostics with the source line and a caret.
 */
#include "diag.h"

#include <string.h>

void esc_diag_init(esc_diag *d, FILE *out, const char *path, const char *src,
                   size_t src_len) {
  memset(d, 0, sizeof *d);
  d->out = out;
  d->path = path;
  d->src = src;
  d->src_len = src_len;
}

/* The text of 1-based line `line`: start and length without the newline. */
static const char *line_text(const esc_diag *d, uint32_t line, size_t *len) {
  const char *p = d->src, *end = d->src + d->src_len;
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

static void show_source(esc_diag *d, esc_tok at) {
  size_t len;
  const char *text;
  if (at.line == 0)
    return;
  text = line_text(d, at.line, &len);
  if (!text)
    return;
  fprintf(d->out, "%5u | %.*s\n      | ", at.line, (int)len, text);
  /* Keep tabs so the caret lines up with the text above it. */
  for (uint32_t i = 1; i < at.col && i - 1 < len; i++)
    fputc(text[i - 1] == '\t' ? '\t' : ' ', d->out);
  fputc('^', d->out);
  size_t span = at.n;
  /* Underline at most to the end of the line. */
  if (at.col - 1 + span > len)
    span = len >= at.col ? len - (at.col - 1) : 1;
  for (size_t i = 1; i < span; i++)
    fputc('~', d->out);
  fputc('\n', d->out);
}

static void report(esc_diag *d, const char *kind, esc_tok at, const char *fmt,
                   va_list ap) {
  if (!d->out)
    return;
  if (at.line)
    fprintf(d->out, "%s:%u:%u: %s: ", d->path, at.line, at.col, kind);
  else
    fprintf(d->out, "%s: %s: ", d->path, kind);
  vfprintf(d->out, fmt, ap);
  fputc('\n', d->out);
  show_source(d, at);
}

void esc_error(esc_diag *d, esc_tok at, const char *fmt, ...) {
  va_list ap;
  if (d->n_errors++ >= ESC_MAX_ERRORS) {
    d->suppressed++;
    return;
  }
  va_start(ap, fmt);
  report(d, "error", at, fmt, ap);
  va_end(ap);
}

void esc_warning(esc_diag *d, esc_tok at, const char *fmt, ...) {
  va_list ap;
  d->n_warnings++;
  va_start(ap, fmt);
  report(d, "warning", at, fmt, ap);
  va_end(ap);
}

void esc_note(esc_diag *d, esc_tok at, const char *fmt, ...) {
  va_list ap;
  if (d->n_errors > ESC_MAX_ERRORS)
    return;
  va_start(ap, fmt);
  report(d, "note", at, fmt, ap);
  va_end(ap);
}

void esc_error_file(esc_diag *d, const char *fmt, ...) {
  esc_tok none = {0};
  va_list ap;
  d->n_errors++;
  va_start(ap, fmt);
  report(d, "error", none, fmt, ap);
  va_end(ap);
}

void esc_diag_finish(esc_diag *d) {
  if (d->suppressed && d->out)
    fprintf(d->out, "%s: note: %d more errors not shown\n", d->path,
            d->suppressed);
}
