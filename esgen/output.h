/*
 * output.h - writing generated files so that a reader never sees half of
 * one: write a temporary file beside the target, then rename it over.
 */
#ifndef ESC_OUTPUT_H
#define ESC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

/* Writes `len` bytes to `path` atomically. With `keep_existing`, refuses
 * (returning EEXIST) when `path` exists, and never replaces it. When the
 * file already holds exactly these bytes it is left untouched, so build
 * tools see no change. Returns 0 or an errno value. */
int esc_write_file(const char *path, const void *data, size_t len,
                   bool keep_existing);

/* Creates directory `path` and any missing parents (as `mkdir -p`); an
 * existing directory is fine. Returns 0 or an errno value (ENOTDIR when a
 * part of the path is a file). */
int esc_make_dirs(const char *path);

#endif
