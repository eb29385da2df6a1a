/*
 * line.h - reading a text file line by line through libes's allocator
 * (getline() would allocate with the C library's malloc).
 */
#ifndef ES__LINE_H
#define ES__LINE_H

#include <stdio.h>

#include "es/es_buf.h"

/* The cap a line buffer is given: far above any line libes writes, low
 * enough that a file without newlines cannot take all memory. */
#define ES__LINE_MAX ((size_t)1 << 30)

/* Reads the next line of `f` into `line`, replacing its content: the bytes
 * up to and including the '\n' (none on a last line without one), with a
 * NUL after them that `line->len` does not count. Returns 1 when a line
 * was read, 0 at the end of the file, ES_EIO on a read error, or the
 * buffer's error (ES_ENOMEM, ES_EBOUND past its cap). */
int es__read_line(FILE *f, es_buf *line);

#endif
