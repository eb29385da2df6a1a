/*
 * lock.h - the schema lock (docs/evolution.md): the shape of everything a
 * store keeps, written once, committed, and checked on every compile so a
 * change that would make stored events unreadable fails the build.
 *
 *   lock.c          a schema's lock, and the lock as text
 *   lock_parse.c    the text back into a lock
 *   lock_compare.c  two locks compared: each difference classified
 *
 * A lock is a list of entries (enums, records, aggregate and saga states,
 * every version of every event), each with its fields in wire order. The
 * same structure comes from a schema (with source positions in the .es
 * file) and from a lock file (positions in the lock), so any two of them
 * compare: a lock with a schema (--lock) or two schemas (--diff).
 */
#ifndef ESC_LOCK_H
#define ESC_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <es/es_arena.h>
#include <es/es_buf.h>

#include "ast.h"
#include "diag.h"

/* The lock format's version, on its `esgen-lock` line. */
#define ESC_LOCK_FORMAT 1

enum {
  ESC_LK_ENUM,
  ESC_LK_RECORD,
  ESC_LK_STATE,      /* an aggregate's state: snapshots */
  ESC_LK_SAGA_STATE, /* kept with every running saga instance */
  ESC_LK_EVENT
};

/* A field, or an enum value (`type` NULL; its number is its position). */
typedef struct esc_lk_field {
  const char *name;
  const char *type; /* as the schema writes it, without the field's own
                       '?' and bound: "i64", "list<Money>" */
  bool optional;
  bool has_max;
  uint64_t max;
  const char *def; /* the default as a literal, or NULL */
  esc_tok at;      /* where it is declared */
} esc_lk_field;

typedef struct esc_lk_entry {
  int kind;
  const char *name; /* "Currency", "Money", "Account", "Account.Deposited" */
  uint32_t version; /* of an event; 1 for everything else */
  uint64_t id;      /* the stable type id; 0 for an enum */
  bool current;     /* an event's highest version */
  uint32_t n_fields;
  esc_lk_field *fields;
  esc_tok at; /* where it is declared */
} esc_lk_entry;

typedef struct esc_lock {
  es_arena arena; /* every string and array below */
  const char *schema;
  esc_tok schema_at;
  uint32_t n;
  esc_lk_entry *entries;
  /* the text positions refer to, for diagnostics */
  const char *path;
  const char *src;
  size_t src_len;
} esc_lock;

/* The lock of checked schema `s` (positions in its source). Returns 0, or
 * -1 when out of memory. Release with esc_lock_close(). */
int esc_lock_from_schema(const esc_schema *s, esc_lock *out);

/* Writes `lk` as lock text (deterministic: same lock, same bytes). */
int esc_lock_write(const esc_lock *lk, es_buf *out);

/* Parses lock text `src` (`len` bytes, kept by reference: it must outlive
 * the lock) read from `path`. Returns 0, or -1 with errors reported to
 * `d` (which must be set up for the same text). */
int esc_lock_parse(const char *path, const char *src, size_t len, esc_diag *d,
                   esc_lock *out);

/* "enum", "record", "state", "saga-state", "event". */
const char *esc_lk_kind_word(int kind);

/* Releases what a lock holds. Accepts a zeroed lock. */
void esc_lock_close(esc_lock *lk);

/* ---- comparing (lock_compare.c) ---- */

/* What a difference means for stored data. */
typedef enum esc_lk_class {
  ESC_LK_COMPATIBLE,  /* old data reads as before */
  ESC_LK_SNAPSHOTS,   /* a state changed: snapshots are rebuilt */
  ESC_LK_SAGA_CHANGE, /* running saga instances may not read */
  ESC_LK_NEW_VERSION, /* needs a new version of the event */
  ESC_LK_FORBIDDEN    /* stored data would be lost or misread */
} esc_lk_class;

typedef struct esc_lk_diff {
  esc_lk_class cls;
  esc_tok at;     /* in the new schema */
  esc_tok old_at; /* in the old lock or schema (line 0: none) */
  char *msg;      /* the diagnostic's message */
  char *old_msg;  /* the note's message about old_at (NULL: none) */
} esc_lk_diff;

typedef struct esc_lk_diffs {
  esc_lk_diff *items;
  size_t n, cap;
  bool oom;
} esc_lk_diffs;

/* Compares `old` (a lock, or the lock of an older schema) with `now`,
 * appending one difference per change to `out`, in the order of `now`.
 * Returns 0, or -1 when out of memory. */
int esc_lock_compare(const esc_lock *old, const esc_lock *now,
                     esc_lk_diffs *out);

/* Whether any difference fails the build. */
bool esc_lk_diffs_fail(const esc_lk_diffs *ds);

/* Reports the differences to `d` (set up for the new schema): errors for
 * new versions and forbidden changes, a warning for a saga state, a note
 * for a state, each with a note at the old position. Compatible changes
 * are not reported. */
void esc_lk_diffs_report(const esc_lk_diffs *ds, const esc_lock *old,
                         esc_diag *d);

/* "compatible", "needs a new version", ... */
const char *esc_lk_class_name(esc_lk_class c);

void esc_lk_diffs_free(esc_lk_diffs *ds);

#endif
