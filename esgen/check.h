/*
 * check.h - what the parts of the checker share (esc_check() in check.c
 * is the only entry point from outside).
 *
 *   check_names.c     names: which are allowed, the C names they claim,
 *                     lookups by name and "did you mean"
 *   check_types.c     types, fields and records that contain themselves
 *   check_literals.c  default values: ranges, strings, uuids, enum values
 *   check_rules.c     aggregates, events and versions, projections, sagas
 *   check_saga_flow.c what a saga hears back of the commands it sends and
 *                     how it routes events: outcomes nobody follows,
 *                     handlers that never run
 *
 * The checker keeps going after an error so that one run reports as much
 * as it can; each rule reports at the token that breaks it, with a note
 * pointing at the earlier declaration where one is involved.
 */
#ifndef ESC_CHECK_H
#define ESC_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "build.h"
#include "frontend.h"
#include "names.h"

typedef struct checker {
  esc_schema *s;
  esc_diag *d;
  bool oom;
  /* generated C identifiers, to catch two schema names that map to one */
  struct cname {
    size_t name; /* offset in `pool` */
    size_t hash; /* of the name: compared before the bytes */
    esc_tok at;
    esc_name_id site; /* the pattern that made it */
  } * cnames;
  size_t n_cnames, cap_cnames;
  char *pool; /* the identifiers, NUL-terminated, one after another */
  size_t pool_len, pool_cap;
  /* hash table: 1 + index into cnames (0: empty) and bits of the name's
   * hash that the slot's position does not say, so that most probes read
   * nothing else */
  struct cname_slot {
    uint32_t cname;
    uint32_t tag;
  } * slots;
  size_t n_slots;
  /* pairs of names already reported as clashing: one error per pair */
  struct clash {
    const char *a, *b;
  } clashes[32];
  size_t n_clashes;
  /* top-level declarations by name (the first of each name) */
  esc_decl **tops;
  size_t n_tops;
} checker;

#define TOKF(t) (int)(t).n, (t).z

/* ---- check_names.c ---- */

/* Refuses a name that would break or confuse the generated C; `what` is
 * "a field", "an enum", ... */
void chk_name(checker *c, esc_tok name, const char *what);

/* Claims the C name `id` makes from `a`, `b`, `cc` for the schema name at
 * `at`: a second schema name that makes the same C name is an error. */
void chk_claim(checker *c, esc_tok at, esc_name_id id, const char *a,
               const char *b, const char *cc);
/* Claims the `n` names `ids` make from `owner` alone. */
void chk_claim_all(checker *c, esc_tok at, const esc_name_id *ids, size_t n,
                   const char *owner);
/* Claims every name a struct type `c_name` generates. */
void chk_claim_struct(checker *c, const char *c_name, esc_tok at);
/* Claims an enum value's or error code's constant. */
void chk_claim_const(checker *c, esc_tok at, const char *owner_upper,
                     esc_tok value);
/* Releases what the claims and lookups hold. */
void chk_names_free(checker *c);

bool chk_same(esc_tok a, esc_tok b);
/* "<what> 'x' is already declared" with a note at the first. */
void chk_duplicate(checker *c, esc_tok again, esc_tok first, const char *what);

/* The closest candidate to a misspelt name, by edit distance (adjacent
 * swaps count once, case differences not at all). */
typedef struct suggest {
  esc_tok name, best;
  int d;
} suggest;

#define SUGGEST(name)                                                          \
  { (name), {0}, 1 << 30 }

void chk_consider(suggest *sg, esc_tok cand);
void chk_consider_str(suggest *sg, const char *cand);
/* Built-in types under the names other languages give them. */
void chk_builtin_alias(suggest *sg);
/* "; did you mean 'X'?" when there is a close candidate, else "". */
const char *chk_hint(const suggest *sg, char *buf, size_t n);
/* chk_hint for `name` among the names of the declarations in `list`. */
const char *chk_hint_decls(esc_tok name, const esc_decl *list, char *buf,
                           size_t n);
/* Indexes the top-level declarations; false when out of memory. */
bool chk_index_tops(checker *c);
/* The first top-level declaration called `name`, or NULL. */
esc_decl *chk_find_top(checker *c, esc_tok name);
esc_decl *chk_find_current_event(esc_decl *agg, esc_tok name);
esc_decl *chk_find_command(esc_decl *agg, esc_tok name);
/* "an enum", "a record", ... */
const char *chk_kind_word(int kind);

/* ---- check_types.c ---- */

/* A type as a schema writes it ("list<Money>", "string?"). */
const char *chk_type_text(const esc_type *t, char *buf, size_t n);
/* Fields of one struct: unique names, resolved types, valid defaults
 * (allowed when `defaults_ok`; `owner_what` names the struct kind). */
void chk_fields(checker *c, esc_field *fields, bool defaults_ok,
                const char *owner_what);
/* Records that contain themselves by value. */
void chk_cycles(checker *c);

/* ---- check_literals.c ---- */

/* A field's default: of its type, in range, decoded into the literal. */
void chk_default(checker *c, esc_field *f);

/* ---- check_rules.c ---- */

void chk_enum(checker *c, esc_decl *d);
void chk_aggregate(checker *c, esc_decl *a);
void chk_projection(checker *c, esc_decl *p);
void chk_saga(checker *c, esc_decl *s);
/* "A.E" as one token, for carets under the whole reference. */
esc_tok chk_ref_tok(const esc_name_list *r);
/* Whether every `emits` of aggregate `a` names one of its events (else
 * what a command emits is not known, and a warning built on it, such as
 * "never emitted", would mislead). */
bool chk_emits_known(const esc_decl *a);

/* ---- check_saga_flow.c ---- */
/* Warnings about a saga whose references are resolved: a command sent to
 * an aggregate it hears nothing from, a `by` field optional in one
 * handler and required in another, `on rejected` of a command that is
 * never rejected. */
void chk_saga_flow(checker *c, const esc_decl *s);

#endif
