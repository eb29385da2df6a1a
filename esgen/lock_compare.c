/*
 * lock_compare.c - what changed between a lock and a schema, and what
 * each change means for data already stored (docs/evolution.md, "The
 * rules"): compatible, a state whose snapshots are rebuilt, a saga state
 * that running instances may not read, a change that needs a new event
 * version, or one that is forbidden.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "lock.h"

typedef struct cmp {
  const esc_lock *old, *now;
  esc_lk_diffs *out;
  bool *stored; /* per old entry: a record or enum held by some event */
} cmp;

/* ---- differences -------------------------------------------------------- */

static char *vfmt(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  char *s = n < 0 ? NULL : malloc((size_t)n + 1);
  if (s)
    vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

static char *fmt(const char *f, ...) ESC_PRINTF(1, 2);
static char *fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = vfmt(f, ap);
  va_end(ap);
  return s;
}

/* Takes `msg` and `old_msg` (malloc'd, may be NULL after a failure). */
static void push(cmp *c, esc_lk_class cls, esc_tok at, esc_tok old_at,
                 char *msg, char *old_msg) {
  esc_lk_diffs *ds = c->out;
  if (!msg || ds->oom) {
    ds->oom = true;
    free(msg);
    free(old_msg);
    return;
  }
  if (esc_grow(&ds->items, &ds->cap, ds->n + 1, sizeof *ds->items, 16) != 0) {
    ds->oom = true;
    free(msg);
    free(old_msg);
    return;
  }
  ds->items[ds->n++] = (esc_lk_diff){cls, at, old_at, msg, old_msg};
}

/* ---- words -------------------------------------------------------------- */

/* "event 'Account.Deposited'" (with " vN" beside other versions),
 * "record 'Money'", "the state of 'Account'", ... into `buf`. */
static const char *what(const esc_lk_entry *e, char *buf, size_t n) {
  switch (e->kind) {
  case ESC_LK_ENUM:
    snprintf(buf, n, "enum '%s'", e->name);
    break;
  case ESC_LK_RECORD:
    snprintf(buf, n, "record '%s'", e->name);
    break;
  case ESC_LK_STATE:
    snprintf(buf, n, "the state of '%s'", e->name);
    break;
  case ESC_LK_SAGA_STATE:
    snprintf(buf, n, "the state of saga '%s'", e->name);
    break;
  default:
    if (e->version > 1 || !e->current)
      snprintf(buf, n, "event '%s' v%u", e->name, e->version);
    else
      snprintf(buf, n, "event '%s'", e->name);
  }
  return buf;
}

/* A field as the lock writes it: "amount: i64", "memo: string = \"\"". */
static const char *field_text(const esc_lk_field *f, char *buf, size_t n) {
  int k =
      snprintf(buf, n, "%s: %s%s", f->name, f->type, f->optional ? "?" : "");
  if (f->has_max && k >= 0 && (size_t)k < n)
    k += snprintf(buf + k, n - (size_t)k, " max %llu",
                  (unsigned long long)f->max);
  if (f->def && k >= 0 && (size_t)k < n)
    snprintf(buf + k, n - (size_t)k, " = %s", f->def);
  return buf;
}

/* The event's own name: "Deposited" of "Account.Deposited". */
static const char *short_name(const esc_lk_entry *e) {
  const char *dot = strchr(e->name, '.');
  return dot ? dot + 1 : e->name;
}

static bool from_lock_file(const esc_lock *lk) {
  size_t n = lk->path ? strlen(lk->path) : 0;
  return n < 3 || strcmp(lk->path + n - 3, ".es") != 0;
}

/* The note about the old position: what it records there. */
static char *old_field_note(const cmp *c, const esc_lk_field *f) {
  char buf[512];
  return fmt("%s '%s'", from_lock_file(c->old) ? "the lock records" : "it was",
             f->type ? field_text(f, buf, sizeof buf) : f->name);
}

static char *old_entry_note(const cmp *c, const esc_lk_entry *e) {
  char buf[300];
  return fmt("%s %s here",
             from_lock_file(c->old) ? "the lock records" : "it was declared",
             what(e, buf, sizeof buf));
}

/* ---- one change ----------------------------------------------------------
 *
 * A change is found field by field; what it means depends on what holds
 * the field, and is decided here.
 */

typedef struct change {
  const esc_lk_entry *o, *n;
  bool compatible;
  bool added_required; /* a field added at the end with no default */
  esc_tok at;
  const esc_lk_field *old_field; /* for the note; NULL: the entry */
  char text[700];
} change;

static void report(cmp *c, change *ch, bool *state_noted) {
  char w[300], *msg = NULL;
  const esc_lk_entry *o = ch->o;
  esc_lk_class cls;
  if (ch->compatible) {
    cls = ESC_LK_COMPATIBLE;
    msg = fmt("%s", ch->text);
  } else if (o->kind == ESC_LK_STATE ||
             ((o->kind == ESC_LK_RECORD || o->kind == ESC_LK_ENUM) &&
              !c->stored[o - c->old->entries])) {
    /* Snapshots hold it, and snapshots are rebuilt: one note is enough. */
    if (*state_noted)
      return;
    *state_noted = true;
    cls = ESC_LK_SNAPSHOTS;
    msg = fmt("%s; snapshots stored with the old layout will be ignored and "
              "rebuilt from events",
              ch->text);
  } else if (o->kind == ESC_LK_SAGA_STATE) {
    cls = ESC_LK_SAGA_CHANGE;
    msg = fmt("%s; running instances of saga '%s' keep their state in the "
              "old shape and could not be read: let them finish first, or "
              "only add fields at the end, optional or with a default",
              ch->text, o->name);
  } else if (o->kind == ESC_LK_RECORD) {
    cls = ESC_LK_FORBIDDEN;
    msg = fmt("%s; record '%s' is stored inside events: keep it as it was "
              "and declare a new record for the new shape, used by new "
              "versions of those events",
              ch->text, o->name);
  } else if (o->kind == ESC_LK_ENUM) {
    cls = ESC_LK_NEW_VERSION;
    msg = fmt("%s; stored events hold enum values by number: keep the "
              "values in their order and add new ones at the end, or "
              "declare a new enum for new versions of the events that "
              "hold it",
              ch->text);
  } else if (o->current && ch->n->current) {
    const char *ev = short_name(o);
    cls = ESC_LK_NEW_VERSION;
    if (ch->added_required)
      msg = fmt("%s; events stored without it could not be read: give it "
                "a default or make it optional, or declare the old shape "
                "as '%s v%u' and the new one as '%s v%u'",
                ch->text, ev, o->version, ev, o->version + 1);
    else
      msg = fmt("%s; events already stored have the old shape: declare it "
                "as '%s v%u' and the new one as '%s v%u'",
                ch->text, ev, o->version, ev, o->version + 1);
  } else {
    cls = ESC_LK_FORBIDDEN;
    msg = fmt("%s; %s is the shape of events already stored and cannot "
              "change: restore it and make the change in a new version",
              ch->text, what(o, w, sizeof w));
  }
  push(c, cls, ch->at, ch->old_field ? ch->old_field->at : o->at, msg,
       ch->old_field ? old_field_note(c, ch->old_field) : old_entry_note(c, o));
}

/* ---- comparing one entry ------------------------------------------------ */

static int index_of(const esc_lk_entry *e, const char *name) {
  for (uint32_t i = 0; i < e->n_fields; i++)
    if (strcmp(e->fields[i].name, name) == 0)
      return (int)i;
  return -1;
}

static bool same(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

#define SAY(ch, ...) snprintf((ch)->text, sizeof(ch)->text, __VA_ARGS__)

/* How the bounds inside two type texts differ ("list<list<string max 8>>"
 * and "list<list<string max 4>>"), when the texts are the same but for
 * them: the first difference, and the first one that stored values could
 * break (a bound lowered or added), if any. */
typedef struct bound_change {
  bool differ;   /* some bound inside differs */
  bool breaks;   /* ... and one is lowered or added */
  bool had, has; /* the reported bound, before and after */
  uint64_t was, is;
} bound_change;

/* " max N" at `*i` of `t`: N, with `*i` past it. */
static bool bound_at(const char *t, size_t *i, uint64_t *n) {
  size_t j = *i + 5;
  if (strncmp(t + *i, " max ", 5) != 0 || t[j] < '0' || t[j] > '9')
    return false;
  *n = 0;
  for (; t[j] >= '0' && t[j] <= '9'; j++)
    *n = *n * 10 + (uint64_t)(t[j] - '0'); /* written by esgen: fits */
  *i = j;
  return true;
}

/* Records in `bc` the change of one bound (`had`/`was` to `has`/`is`). */
static void note_bound(bound_change *bc, bool had, uint64_t was, bool has,
                       uint64_t is) {
  bool breaks = has && (!had || is < was);
  if (had == has && was == is)
    return;
  if (bc->differ && (bc->breaks || !breaks))
    return; /* keep the first, or the first that breaks */
  *bc = (bound_change){true, breaks, had, has, was, is};
}

/* Whether `old_t` and `new_t` are one type but for bounds inside it;
 * `bc` says how those differ. */
static bool same_but_bounds(const char *old_t, const char *new_t,
                            bound_change *bc) {
  size_t i = 0, j = 0;
  *bc = (bound_change){0};
  while (old_t[i] || new_t[j]) {
    uint64_t was = 0, is = 0;
    bool had = bound_at(old_t, &i, &was), has = bound_at(new_t, &j, &is);
    if (had || has) {
      note_bound(bc, had, was, has, is);
      continue;
    }
    if (old_t[i] != new_t[j])
      return false;
    i++;
    j++;
  }
  return true;
}

/* The changes of one field kept in its place (same name). */
static void same_field(cmp *c, change *ch, const esc_lk_field *of,
                       const esc_lk_field *nf, bool *noted) {
  char w[300];
  const char *W = what(ch->o, w, sizeof w);
  ch->at = nf->at;
  ch->old_field = of;
  ch->added_required = false;
  bound_change bc;
  if (of->type && nf->type && !same(of->type, nf->type) &&
      same_but_bounds(of->type, nf->type, &bc)) {
    ch->compatible = !bc.breaks;
    if (!bc.has)
      SAY(ch,
          "field '%s' of %s lost the bound 'max %llu' inside its type "
          "('%s' is now '%s')",
          nf->name, W, (unsigned long long)bc.was, of->type, nf->type);
    else if (!bc.had)
      SAY(ch,
          "field '%s' of %s has a new bound 'max %llu' inside its "
          "type ('%s' is now '%s')",
          nf->name, W, (unsigned long long)bc.is, of->type, nf->type);
    else
      SAY(ch,
          "a bound inside the type of field '%s' of %s was %s from "
          "'max %llu' to 'max %llu' ('%s' is now '%s')",
          nf->name, W, bc.breaks ? "lowered" : "raised",
          (unsigned long long)bc.was, (unsigned long long)bc.is, of->type,
          nf->type);
    report(c, ch, noted);
  } else if (!same(of->type, nf->type)) {
    ch->compatible = false;
    SAY(ch, "field '%s' of %s changed type from '%s' to '%s'", nf->name, W,
        of->type, nf->type);
    report(c, ch, noted);
    return; /* the rest follows from the type */
  }
  if (of->optional != nf->optional) {
    ch->compatible = nf->optional;
    if (nf->optional)
      SAY(ch, "field '%s' of %s is now optional", nf->name, W);
    else
      SAY(ch, "field '%s' of %s is no longer optional", nf->name, W);
    report(c, ch, noted);
  }
  if (of->has_max != nf->has_max || of->max != nf->max) {
    ch->compatible = !nf->has_max || (of->has_max && nf->max > of->max);
    if (!nf->has_max)
      SAY(ch, "field '%s' of %s lost its bound 'max %llu'", nf->name, W,
          (unsigned long long)of->max);
    else if (!of->has_max)
      SAY(ch, "field '%s' of %s has a new bound 'max %llu'", nf->name, W,
          (unsigned long long)nf->max);
    else
      SAY(ch,
          "the bound of field '%s' of %s was %s from 'max %llu' to "
          "'max %llu'",
          nf->name, W, ch->compatible ? "raised" : "lowered",
          (unsigned long long)of->max, (unsigned long long)nf->max);
    report(c, ch, noted);
  }
  if (!same(of->def, nf->def)) {
    /* A default fills the field in events stored before it existed: a
     * new one is harmless, a changed or dropped one changes them. */
    ch->compatible = of->def == NULL;
    if (!of->def)
      SAY(ch, "field '%s' of %s has a new default", nf->name, W);
    else if (!nf->def)
      SAY(ch, "field '%s' of %s no longer has a default", nf->name, W);
    else
      SAY(ch, "the default of field '%s' of %s changed from '%s' to '%s'",
          nf->name, W, of->def, nf->def);
    report(c, ch, noted);
  }
}

/* The values of an enum: numbers are stored, names are not. */
static void compare_enum(cmp *c, change *ch) {
  const esc_lk_entry *o = ch->o, *n = ch->n;
  bool noted = false;
  for (uint32_t i = 0; i < o->n_fields || i < n->n_fields; i++) {
    const esc_lk_field *of = i < o->n_fields ? &o->fields[i] : NULL;
    const esc_lk_field *nf = i < n->n_fields ? &n->fields[i] : NULL;
    ch->old_field = of;
    ch->at = nf ? nf->at : n->at;
    if (of && nf && strcmp(of->name, nf->name) == 0)
      continue;
    int moved = of ? index_of(n, of->name) : -1;
    if (!nf) {
      ch->compatible = false;
      SAY(ch, "value '%s' was removed from enum '%s'", of->name, o->name);
    } else if (!of) {
      ch->compatible = true;
      SAY(ch, "value '%s' was added at the end of enum '%s'", nf->name,
          n->name);
    } else if (moved >= 0) {
      ch->compatible = false;
      SAY(ch, "value '%s' of enum '%s' moved from number %u to %d", of->name,
          o->name, i, moved);
      ch->at = n->fields[moved].at;
    } else if (index_of(o, nf->name) >= 0) {
      ch->compatible = false;
      SAY(ch, "value '%s' was removed from enum '%s'", of->name, o->name);
    } else {
      ch->compatible = true;
      SAY(ch, "value '%s' of enum '%s' was renamed to '%s'", of->name, o->name,
          nf->name);
    }
    report(c, ch, &noted);
    if (!ch->compatible)
      return; /* every later number follows from this one */
  }
}

/* The fields of a struct, in wire order. */
static void compare_fields(cmp *c, change *ch) {
  const esc_lk_entry *o = ch->o, *n = ch->n;
  bool noted = false;
  char w[300];
  const char *W = what(o, w, sizeof w);
  for (uint32_t i = 0; i < o->n_fields || i < n->n_fields; i++) {
    const esc_lk_field *of = i < o->n_fields ? &o->fields[i] : NULL;
    const esc_lk_field *nf = i < n->n_fields ? &n->fields[i] : NULL;
    if (of && nf && strcmp(of->name, nf->name) == 0) {
      same_field(c, ch, of, nf, &noted);
      continue;
    }
    ch->old_field = of;
    ch->at = nf ? nf->at : n->at;
    ch->added_required = false;
    ch->compatible = false;
    if (!nf) {
      SAY(ch, "field '%s' was removed from %s", of->name, W);
    } else if (!of) {
      ch->compatible = nf->optional || nf->def;
      ch->added_required = !ch->compatible;
      SAY(ch, "field '%s' was added at the end of %s%s", nf->name, W,
          nf->optional ? ", optional"
          : nf->def    ? " with a default"
                       : " without a default");
      report(c, ch, &noted);
      continue;
    } else {
      int old_pos = index_of(o, nf->name), new_pos = index_of(n, of->name);
      if (old_pos < 0 && new_pos < 0) {
        SAY(ch, "field '%s' of %s was renamed to '%s'", of->name, W, nf->name);
        report(c, ch, &noted);
        continue; /* a new name is a new field: its type says no more */
      }
      if (old_pos < 0)
        SAY(ch, "field '%s' was inserted into %s before '%s'%s", nf->name, W,
            of->name,
            o->kind == ESC_LK_STATE ? ""
                                    : "; fields are stored by position, so "
                                      "new ones go at the end");
      else if (new_pos < 0)
        SAY(ch, "field '%s' was removed from %s", of->name, W);
      else {
        SAY(ch, "field '%s' of %s moved from position %d to %u", nf->name, W,
            old_pos, i);
        ch->old_field = &o->fields[old_pos];
      }
    }
    report(c, ch, &noted);
    return; /* later positions all follow from this one */
  }
}

/* ---- the whole lock ----------------------------------------------------- */

static const esc_lk_entry *find(const esc_lock *lk, int kind, const char *name,
                                uint32_t version) {
  for (uint32_t i = 0; i < lk->n; i++) {
    const esc_lk_entry *e = &lk->entries[i];
    if (e->kind == kind && e->version == version && strcmp(e->name, name) == 0)
      return e;
  }
  return NULL;
}

/* Whether type text `type` names `name` (as a whole word). */
static bool mentions(const char *type, const char *name) {
  size_t n = strlen(name);
  for (const char *p = strstr(type, name); p; p = strstr(p + 1, name)) {
    bool start =
        p == type || !(p[-1] == '_' || (p[-1] >= '0' && p[-1] <= '9') ||
                       ((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z'));
    char after = p[n];
    bool end = !(after == '_' || (after >= '0' && after <= '9') ||
                 ((after | 32) >= 'a' && (after | 32) <= 'z'));
    if (start && end)
      return true;
  }
  return false;
}

/* Marks the records and enums that events hold, directly or through
 * records. */
static void mark_stored(cmp *c) {
  const esc_lock *lk = c->old;
  bool grew = true;
  while (grew) {
    grew = false;
    for (uint32_t i = 0; i < lk->n; i++) {
      const esc_lk_entry *h = &lk->entries[i];
      if (h->kind != ESC_LK_EVENT &&
          !(h->kind == ESC_LK_RECORD && c->stored[i]))
        continue;
      for (uint32_t j = 0; j < lk->n; j++) {
        const esc_lk_entry *t = &lk->entries[j];
        if (c->stored[j] ||
            (t->kind != ESC_LK_RECORD && t->kind != ESC_LK_ENUM))
          continue;
        for (uint32_t f = 0; f < h->n_fields && !c->stored[j]; f++)
          if (mentions(h->fields[f].type, t->name))
            c->stored[j] = grew = true;
      }
    }
  }
}

/* Where to report something the new schema no longer has: its newest
 * remaining version, or else the schema's name. */
static esc_tok gone_at(const cmp *c, const esc_lk_entry *o,
                       const esc_lk_entry **newest) {
  *newest = NULL;
  for (uint32_t i = 0; i < c->now->n; i++) {
    const esc_lk_entry *e = &c->now->entries[i];
    if (e->kind == o->kind && strcmp(e->name, o->name) == 0 &&
        (!*newest || e->version > (*newest)->version))
      *newest = e;
  }
  return *newest ? (*newest)->at : c->now->schema_at;
}

static void removed_event(cmp *c, const esc_lk_entry *o) {
  const esc_lk_entry *newest;
  esc_tok at = gone_at(c, o, &newest);
  char *msg;
  if (newest)
    msg = fmt("event '%s' v%u is in the lock, so events of it may be stored, "
              "but the schema declares '%s' only up to v%u; keep declaring "
              "v%u",
              o->name, o->version, short_name(o), newest->version, o->version);
  else
    msg = fmt("event '%s' is in the lock, so events of it may be stored, but "
              "the schema no longer declares it; keep its declaration (an "
              "event no command emits only warns; a new name would be a new "
              "type id)",
              o->name);
  push(c, ESC_LK_FORBIDDEN, at, o->at, msg, old_entry_note(c, o));
}

/* Ids follow from names; two names with one id would mix their events. */
static void check_id(cmp *c, const esc_lk_entry *n) {
  char w1[300], w2[300];
  for (uint32_t i = 0; i < c->old->n; i++) {
    const esc_lk_entry *o = &c->old->entries[i];
    if (o->kind == ESC_LK_ENUM || o->id != n->id ||
        (o->kind == n->kind && strcmp(o->name, n->name) == 0))
      continue;
    push(c, ESC_LK_FORBIDDEN, n->at, o->at,
         fmt("type id %016llx of %s is the id of %s in the lock; stored data "
             "of one would be read as the other: rename it",
             (unsigned long long)n->id, what(n, w1, sizeof w1),
             what(o, w2, sizeof w2)),
         old_entry_note(c, o));
    return;
  }
}

static void compare_entry(cmp *c, const esc_lk_entry *o) {
  const esc_lk_entry *n = find(c->now, o->kind, o->name, o->version);
  char w[300];
  if (!n) {
    if (o->kind == ESC_LK_EVENT)
      removed_event(c, o);
    return; /* a record, enum or state gone shows where it was used */
  }
  if (o->kind != ESC_LK_ENUM && o->id != n->id) {
    push(c, ESC_LK_FORBIDDEN, n->at, o->at,
         fmt("%s has type id %016llx, but the lock records %016llx; events "
             "stored under the old id would not be found",
             what(n, w, sizeof w), (unsigned long long)n->id,
             (unsigned long long)o->id),
         old_entry_note(c, o));
    return;
  }
  change ch = {.o = o, .n = n};
  if (o->kind == ESC_LK_ENUM)
    compare_enum(c, &ch);
  else
    compare_fields(c, &ch);
}

static void new_entry(cmp *c, const esc_lk_entry *n) {
  char w[300];
  check_id(c, n);
  if (find(c->old, n->kind, n->name, n->version))
    return;
  esc_tok none = {0};
  push(c, ESC_LK_COMPATIBLE, n->at, none,
       fmt("%s is new", what(n, w, sizeof w)), NULL);
}

int esc_lock_compare(const esc_lock *old, const esc_lock *now,
                     esc_lk_diffs *out) {
  cmp c = {old, now, out, NULL};
  if (strcmp(old->schema, now->schema) != 0) {
    push(&c, ESC_LK_FORBIDDEN, now->schema_at, old->schema_at,
         fmt("schema '%s' is called '%s' in the lock; type ids are made "
             "from the schema's name, so events already stored would not be "
             "found: keep the name '%s'",
             now->schema, old->schema, old->schema),
         fmt("%s '%s' here",
             from_lock_file(old) ? "the lock records" : "it was", old->schema));
    return out->oom ? -1 : 0;
  }
  c.stored = calloc(old->n + 1, sizeof *c.stored);
  if (!c.stored)
    return -1;
  mark_stored(&c);
  for (uint32_t i = 0; i < old->n; i++)
    compare_entry(&c, &old->entries[i]);
  for (uint32_t i = 0; i < now->n; i++)
    new_entry(&c, &now->entries[i]);
  free(c.stored);
  return out->oom ? -1 : 0;
}

/* ---- using the result --------------------------------------------------- */

bool esc_lk_diffs_fail(const esc_lk_diffs *ds) {
  for (size_t i = 0; i < ds->n; i++)
    if (ds->items[i].cls == ESC_LK_NEW_VERSION ||
        ds->items[i].cls == ESC_LK_FORBIDDEN)
      return true;
  return false;
}

void esc_lk_diffs_report(const esc_lk_diffs *ds, const esc_lock *old,
                         esc_diag *d) {
  for (size_t i = 0; i < ds->n; i++) {
    const esc_lk_diff *x = &ds->items[i];
    switch (x->cls) {
    case ESC_LK_COMPATIBLE:
      continue;
    case ESC_LK_SNAPSHOTS:
      esc_remark(d, x->at, "%s", x->msg);
      break;
    case ESC_LK_SAGA_CHANGE:
      esc_warning(d, x->at, "%s", x->msg);
      break;
    default:
      esc_error(d, x->at, "%s", x->msg);
    }
    if (x->old_msg && x->old_at.line)
      esc_note_in(d, old->path, old->src, old->src_len, x->old_at, "%s",
                  x->old_msg);
  }
}

const char *esc_lk_class_name(esc_lk_class c) {
  static const char *const names[] = {"compatible", "snapshots rebuilt",
                                      "saga state changed",
                                      "needs a new version", "forbidden"};
  return names[c];
}

void esc_lk_diffs_free(esc_lk_diffs *ds) {
  for (size_t i = 0; i < ds->n; i++) {
    free(ds->items[i].msg);
    free(ds->items[i].old_msg);
  }
  free(ds->items);
  memset(ds, 0, sizeof *ds);
}
