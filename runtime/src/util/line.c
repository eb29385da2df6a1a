/*
 * line.c - one line of a text file into an es_buf.
 */
#include <stdio.h>

#include "es/es_buf.h"
#include "es/es_error.h"
#include "util/line.h"

int es__read_line(FILE *f, es_buf *line) {
  int ch = EOF, rc;

  es_buf_clear(line);
  flockfile(f);
  while ((ch = getc_unlocked(f)) != EOF) {
    uint8_t *p = es_buf_reserve(line, 2); /* the byte and a NUL after it */
    if (!p)
      break;
    *p = (uint8_t)ch;
    es_buf_commit(line, 1);
    if (ch == '\n')
      break;
  }
  rc = line->err ? line->err : ferror(f) ? ES_EIO : 0;
  funlockfile(f);
  if (rc)
    return rc;
  if (ch == EOF && line->len == 0)
    return 0;
  line->data[line->len] = '\0';
  return 1;
}
