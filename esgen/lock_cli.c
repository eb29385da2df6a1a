/*
 * lock_cli.c - the lock on the command line: `--lock FILE` (write it, or
 * check the schema against it), `--update-lock` and `--diff OLD NEW`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "lock.h"
#include "lock_cli.h"
#include "output.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads and parses lock file `path`. Returns 0, 1 when the file does not
 * exist (nothing reported), or -1 after reporting why. `*text` holds the
 * file's bytes (which the lock points into) to free() after the lock. */
static int read_lock(const char *path, char **text, esc_lock *lk) {
  size_t len = 0;
  const char *why = NULL;
  esc_diag d;
  errno = 0;
  *text = esc_read_source(path, &len, &why);
  if (!*text) {
    if (errno == ENOENT)
      return 1;
    fprintf(stderr, "esgen: error: cannot read lock '%s': %s\n", path,
            why ? why : "unknown error");
    return -1;
  }
  esc_diag_init(&d, stderr, path, *text, len);
  int rc = esc_lock_parse(path, *text, len, &d, lk);
  esc_diag_finish(&d);
  return rc;
}

/* Writes the lock of `s` to `path` (untouched when it already holds the
 * same bytes). */
static int write_lock(const esc_schema *s, const char *path) {
  esc_lock lk;
  es_buf b;
  int rc = 1;
  es_buf_init(&b, (size_t)1 << 30);
  if (esc_lock_from_schema(s, &lk) != 0 || esc_lock_write(&lk, &b) != 0) {
    fprintf(stderr, "esgen: error: out of memory while writing the lock\n");
    goto done;
  }
  int err = esc_write_file(path, b.data, b.len, false);
  if (err) {
    fprintf(stderr, "esgen: error: cannot write '%s': %s\n", path,
            strerror(err));
    goto done;
  }
  rc = 0;
done:
  esc_lock_close(&lk);
  es_buf_close(&b);
  return rc;
}

int esc_lock_check(const esc_schema *s, const char *path, bool update,
                   bool may_write, bool *write_after) {
  esc_lock old = {0}, now = {0};
  esc_lk_diffs ds = {0};
  char *text = NULL;
  int rc = 1;
  *write_after = false;
  int got = read_lock(path, &text, &old);
  if (got < 0)
    goto done;
  if (got == 1) {
    /* No lock yet: this schema's shapes become it. */
    *write_after = may_write;
    rc = 0;
    goto done;
  }
  if (esc_lock_from_schema(s, &now) != 0 ||
      esc_lock_compare(&old, &now, &ds) != 0) {
    fprintf(stderr, "esgen: error: out of memory while comparing with the "
                    "lock\n");
    goto done;
  }
  esc_diag d;
  esc_diag_init(&d, stderr, s->path, s->src, s->src_len);
  esc_lk_diffs_report(&ds, &old, &d);
  esc_diag_finish(&d);
  /* After the changes it counts. */
  if (!esc_lk_diffs_fail(&ds) && ds.n && !update)
    fprintf(stderr,
            "%s: note: %zu accepted change%s since '%s' %s not recorded in "
            "it; '--update-lock' records %s\n",
            s->path, ds.n, ds.n == 1 ? "" : "s", path, ds.n == 1 ? "is" : "are",
            ds.n == 1 ? "it" : "them");
  if (esc_lk_diffs_fail(&ds))
    goto done;
  *write_after = update && may_write && ds.n > 0;
  rc = 0;
done:
  esc_lk_diffs_free(&ds);
  esc_lock_close(&old);
  esc_lock_close(&now);
  free(text);
  return rc;
}

int esc_lock_write_file(const esc_schema *s, const char *path) {
  return write_lock(s, path);
}

/* ---- --diff ------------------------------------------------------------- */

static int by_place(const void *a, const void *b) {
  const esc_lk_diff *x = *(const esc_lk_diff *const *)a;
  const esc_lk_diff *y = *(const esc_lk_diff *const *)b;
  if (x->at.line != y->at.line)
    return x->at.line < y->at.line ? -1 : 1;
  if (x->at.col != y->at.col)
    return x->at.col < y->at.col ? -1 : 1;
  return x < y ? -1 : x > y;
}

/* Prints each difference as "NEW:LINE:COL: CLASS: message" with its note,
 * in the new schema's order, then a count per class. */
static void print_diffs(const esc_lk_diffs *ds, const esc_lock *old,
                        const esc_lock *now, FILE *out) {
  const esc_lk_diff **order = calloc(ds->n + 1, sizeof *order);
  size_t counts[ESC_LK_FORBIDDEN + 1] = {0};
  if (!order)
    return;
  for (size_t i = 0; i < ds->n; i++)
    order[i] = &ds->items[i];
  qsort(order, ds->n, sizeof *order, by_place);
  for (size_t i = 0; i < ds->n; i++) {
    const esc_lk_diff *x = order[i];
    counts[x->cls]++;
    if (x->at.line)
      fprintf(out, "%s:%u:%u: ", now->path, x->at.line, x->at.col);
    else
      fprintf(out, "%s: ", now->path);
    fprintf(out, "%s: %s\n", esc_lk_class_name(x->cls), x->msg);
    if (x->old_msg && x->old_at.line)
      fprintf(out, "%s:%u:%u: note: %s\n", old->path, x->old_at.line,
              x->old_at.col, x->old_msg);
  }
  if (!ds->n)
    fprintf(out, "no changes\n");
  else {
    const char *sep = "";
    fprintf(out, "%zu change%s:", ds->n, ds->n == 1 ? "" : "s");
    for (int c = 0; c <= ESC_LK_FORBIDDEN; c++)
      if (counts[c]) {
        fprintf(out, "%s %zu %s", sep, counts[c],
                esc_lk_class_name((esc_lk_class)c));
        sep = ",";
      }
    fprintf(out, "\n");
  }
  free(order);
}

int esc_lock_diff(const char *old_path, const esc_schema *now_schema) {
  esc_schema *old_schema = NULL;
  esc_lock old = {0}, now = {0};
  esc_lk_diffs ds = {0};
  char *text = NULL;
  int rc = 1;
  if (ends_with(old_path, ".es")) {
    if (esc_compile_file(old_path, stderr, &old_schema, NULL) != 0)
      goto done;
    if (esc_lock_from_schema(old_schema, &old) != 0)
      goto oom;
  } else {
    int got = read_lock(old_path, &text, &old);
    if (got == 1)
      fprintf(stderr, "esgen: error: cannot read lock '%s': %s\n", old_path,
              strerror(ENOENT));
    if (got != 0)
      goto done;
  }
  if (esc_lock_from_schema(now_schema, &now) != 0 ||
      esc_lock_compare(&old, &now, &ds) != 0)
    goto oom;
  print_diffs(&ds, &old, &now, stdout);
  if (fflush(stdout) != 0) {
    fprintf(stderr, "esgen: error: cannot write to stdout: %s\n",
            strerror(errno));
    goto done;
  }
  rc = esc_lk_diffs_fail(&ds) ? 1 : 0;
  goto done;
oom:
  fprintf(stderr, "esgen: error: out of memory while comparing schemas\n");
done:
  esc_lk_diffs_free(&ds);
  esc_lock_close(&old);
  esc_lock_close(&now);
  esc_schema_free(old_schema);
  free(text);
  return rc;
}
