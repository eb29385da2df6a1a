/*
 * lock_cli.h - what the command line does with a lock (lock_cli.c).
 */
#ifndef ESC_LOCK_CLI_H
#define ESC_LOCK_CLI_H

#include <stdbool.h>

#include "ast.h"

/* Checks checked schema `s` against lock file `path`, reporting every
 * difference that matters to stderr. Returns 0 when the schema may be
 * built, 1 when it may not (or the lock cannot be read). `*write_after`
 * says whether the lock should be (re)written once the outputs are:
 * when it does not exist yet, or with `update` when anything changed;
 * never unless `may_write`. */
int esc_lock_check(const esc_schema *s, const char *path, bool update,
                   bool may_write, bool *write_after);

/* Writes the lock of `s` to `path` atomically. Returns 0, or 1 after
 * reporting why not. */
int esc_lock_write_file(const esc_schema *s, const char *path);

/* Prints what changed from `old_path` (a lock, or a schema ending in
 * ".es") to `now` on stdout, classified. Returns 0 when nothing needs a
 * new version or is forbidden, else 1. */
int esc_lock_diff(const char *old_path, const esc_schema *now);

#endif
