/*
 * check_saga_flow.c - what a saga can hear back: mistakes in how a saga
 * follows the commands it sends and routes the events it hears, found
 * once its references are resolved (check_rules.c). All three are
 * warnings: each describes a schema that builds and runs, but where a
 * handler never runs or an outcome goes unnoticed.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

/* Whether saga `s` handles an event of aggregate `a` (`on` or `start
 * on`) or a rejection of one of its commands: whether it hears anything
 * of `a`. */
static bool hears_from(const esc_decl *s, const esc_decl *a) {
  for (const esc_saga_on *on = s->saga_on; on; on = on->next)
    if (on->ref && on->ref->member && on->ref->target == a)
      return true;
  return false;
}

/* The first `on rejected` handler of saga `s`, or NULL. */
static const esc_saga_on *first_rejection_handler(const esc_decl *s) {
  for (const esc_saga_on *on = s->saga_on; on; on = on->next)
    if (on->kind == ESC_ON_REJECTED && on->ref->member)
      return on;
  return NULL;
}

/* "'A.E1', 'A.E2'": the events command `m` emits, into `buf` (cut
 * with "..." when it does not fit). */
static const char *emitted_list(const esc_decl *a, const esc_decl *m, char *buf,
                                size_t n) {
  size_t len = 0;
  buf[0] = '\0';
  for (const esc_name_list *r = m->emits; r; r = r->next) {
    int w = snprintf(buf + len, n - len, "%s'%.*s.%.*s'", len ? ", " : "",
                     TOKF(a->name), TOKF(r->name));
    if (w < 0 || (size_t)w >= n - len) {
      snprintf(buf + (n > 4 ? n - 4 : 0), n > 4 ? 4 : n, "...");
      break;
    }
    len += (size_t)w;
  }
  return buf;
}

/* A saga that handles rejections knows its commands can fail. A command
 * it sends to an aggregate it hears nothing from - none of that
 * aggregate's events, no rejection of any of its commands - can then
 * neither be seen to succeed nor to fail: the saga waits for an answer
 * that never comes, and a rejection lands in the dead-letter log. Not
 * reported: a command to an aggregate the saga does hear from, which is
 * a last or compensating step sent and left alone on purpose (the bank's
 * Transfer.Complete, the shop's Inventory.Release), and a command of an
 * aggregate without errors, which is never rejected. */
static void check_unfollowed_sends(checker *c, const esc_decl *s) {
  const esc_saga_on *rejection = first_rejection_handler(s);
  char events[320];
  if (!rejection)
    return;
  for (const esc_name_list *r = s->sends; r; r = r->next) {
    const esc_decl *a = r->target, *m = r->member;
    if (!m || !m->emits || !a->errors || hears_from(s, a) ||
        !chk_emits_known(a))
      continue;
    esc_warning(c->d, chk_ref_tok(r),
                "saga '%.*s' sends '%.*s.%.*s' but hears nothing from "
                "'%.*s': neither the %s it emits (%s) nor its rejection; "
                "add 'on %.*s.%.*s' or 'on rejected %.*s.%.*s'",
                TOKF(s->name), TOKF(r->name), TOKF(r->qual), TOKF(a->name),
                m->emits->next ? "events" : "event",
                emitted_list(a, m, events, sizeof events), TOKF(a->name),
                TOKF(m->emits->name), TOKF(r->name), TOKF(r->qual));
    esc_note(c->d, chk_ref_tok(rejection->ref),
             "rejections of '%.*s.%.*s' are handled here; a rejection of "
             "'%.*s.%.*s' would go to the dead-letter log",
             TOKF(rejection->ref->name), TOKF(rejection->ref->qual),
             TOKF(r->name), TOKF(r->qual));
  }
}

/* The events of one aggregate that carry the saga's key in a field of
 * one name say, by its optionality, whether an event of that aggregate
 * can be outside the process (optional: absent means "not ours") or
 * always belongs to an instance (required). When two handlers disagree,
 * one of the two events is modelled wrong: a required field is filled
 * with a made-up key outside the process, or an optional one lets an
 * event of the process slip by unrouted. Each handler is compared with
 * the first one routed by a field of the same name. */
static void check_by_optionality(checker *c, const esc_decl *s) {
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    if (!on->by_field)
      continue;
    for (const esc_saga_on *o = s->saga_on; o != on; o = o->next) {
      if (!o->by_field || o->ref->target != on->ref->target ||
          !chk_same(o->by, on->by))
        continue;
      bool earlier_optional = o->by_field->type->optional;
      if (earlier_optional == on->by_field->type->optional)
        break; /* agrees with the first handler by this field */
      const esc_saga_on *req = earlier_optional ? on : o;
      const esc_saga_on *opt = earlier_optional ? o : on;
      esc_warning(c->d, on->by,
                  "field '%.*s' is required in '%.*s.%.*s' but optional in "
                  "'%.*s.%.*s', though both carry the key of saga '%.*s'; "
                  "make it optional in both (absent: the event is not the "
                  "saga's) or required in both",
                  TOKF(on->by), TOKF(req->ref->name), TOKF(req->ref->qual),
                  TOKF(opt->ref->name), TOKF(opt->ref->qual), TOKF(s->name));
      esc_note(c->d, o->by, "'%.*s.%.*s' is routed by its %s '%.*s' here",
               TOKF(o->ref->name), TOKF(o->ref->qual),
               earlier_optional ? "optional" : "required", TOKF(o->by));
      break;
    }
  }
}

/* Only a decide function rejects a command, and only with one of its
 * aggregate's errors (es_decision_reject() refuses any other code): a
 * command of an aggregate that declares no errors is never rejected, so
 * a saga's `on rejected` of it never runs. */
static void check_unreachable_rejections(checker *c, const esc_decl *s) {
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    if (on->kind != ESC_ON_REJECTED || !on->ref->member ||
        on->ref->target->errors)
      continue;
    esc_warning(c->d, chk_ref_tok(on->ref),
                "'%.*s.%.*s' is never rejected: aggregate '%.*s' declares no "
                "errors, so this handler of saga '%.*s' never runs; declare "
                "the errors it rejects with in 'errors { ... }', or remove "
                "the handler",
                TOKF(on->ref->name), TOKF(on->ref->qual),
                TOKF(on->ref->target->name), TOKF(s->name));
  }
}

void chk_saga_flow(checker *c, const esc_decl *s) {
  check_unreachable_rejections(c, s);
  check_unfollowed_sends(c, s);
  check_by_optionality(c, s);
}
