/*
 * check_rules.c - the rules of declarations: enums, aggregates (keys,
 * errors, event versions, commands and what they emit), projections and
 * sagas (what they handle, send and route by), resolving every "A.B"
 * reference on the way.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

/* ---- declarations ------------------------------------------------------ */

/* A list of names that become constants of `owner_upper` (an enum's
 * values, an aggregate's errors): each allowed, unique and claimed.
 * Returns how many there are. */
static uint32_t constants(checker *c, esc_name_list *names,
                          const char *owner_upper, const char *what,
                          const char *dup_what) {
  uint32_t n = 0;
  for (esc_name_list *v = names; v; v = v->next, n++) {
    esc_name_list *w = names;
    chk_name(c, v->name, what);
    while (w != v && !chk_same(v->name, w->name))
      w = w->next;
    if (w != v)
      chk_duplicate(c, v->name, w->name, dup_what);
    else
      chk_claim_const(c, v->name, owner_upper, v->name);
  }
  return n;
}

void chk_enum(checker *c, esc_decl *d) {
  if (!d->values)
    esc_error(c->d, d->name, "enum '%.*s' has no values", TOKF(d->name));
  d->n_values =
      constants(c, d->values, d->c_upper, "an enum value", "enum value");
}

/* The key's ESC_T_*, or -1 (reported) when it is not a key type. */
static int key_kind(checker *c, esc_decl *d) {
  esc_tok t = d->key.type;
  if (t.n == 0)
    return ESC_T_STRING;
  int k = esc_builtin_kind(t);
  if (k != ESC_T_STRING && k != ESC_T_U64 && k != ESC_T_UUID) {
    esc_error(c->d, t, "key type must be string, u64 or uuid, not '%.*s'",
              TOKF(t));
    return -1;
  }
  return k;
}

static void check_versions(checker *c, esc_decl *agg) {
  for (esc_decl *e = agg->events; e; e = e->next) {
    if (e->version_tok.n) {
      uint64_t v = 0;
      esc_tok num = e->version_tok;
      num.z++;
      num.n--;
      bool digits = num.n > 0;
      for (uint32_t i = 0; i < num.n; i++)
        digits &= num.z[i] >= '0' && num.z[i] <= '9';
      /* A version that is no version is reported and then left out of
       * the comparisons below as 0, so it causes nothing more. */
      if (e->version_tok.z[0] != 'v' || !digits) {
        esc_error(c->d, e->version_tok,
                  "expected a version like 'v2' after the event name, not "
                  "'%.*s'",
                  TOKF(e->version_tok));
        v = 0;
      } else if (!esc_tok_u64(num, &v) || v > 65535) {
        esc_error(c->d, e->version_tok,
                  "version '%.*s' is too large (at most v65535)",
                  TOKF(e->version_tok));
        v = 0;
      } else if (v == 0) {
        esc_error(c->d, e->version_tok, "versions start at v1, not 'v0'");
      }
      e->version = (uint32_t)v;
    }
  }
  /* Same name: distinct versions, the highest current, no gaps. */
  for (esc_decl *e = agg->events; e; e = e->next) {
    bool first = true, highest = true;
    for (esc_decl *g = agg->events; g; g = g->next) {
      if (!chk_same(g->name, e->name))
        continue;
      if (g == e)
        continue;
      if (g->version > e->version)
        highest = false;
      /* Report at the later declaration only, once. */
      if (g->version != e->version || g->kw.z > e->kw.z)
        continue;
      /* (An unusable version, 0, was reported already.) */
      bool report = first && e->version;
      first = false;
      if (!report)
        continue;
      if (!e->version_tok.n && !g->version_tok.n) {
        chk_duplicate(c, e->name, g->name, "event");
        continue;
      }
      esc_error(c->d, e->version_tok.n ? e->version_tok : e->name,
                "event '%.*s' v%u is already declared", TOKF(e->name),
                e->version);
      if (g->version_tok.n)
        esc_note(c->d, g->version_tok, "previous declaration is here");
      else
        esc_note(c->d, g->name,
                 "previous declaration is here (an event without a "
                 "version is v1)");
    }
    e->current = highest && first;
    if (e->current && e->version > 1) {
      /* The first missing version is enough to say. */
      for (uint32_t v = 1; v < e->version; v++) {
        bool found = false;
        for (esc_decl *g = agg->events; g; g = g->next)
          if (chk_same(g->name, e->name) && g->version == v)
            found = true;
        if (!found) {
          esc_error(c->d, e->version_tok.n ? e->version_tok : e->name,
                    "event '%.*s' has v%u but no v%u: every version from "
                    "v1 up must be declared",
                    TOKF(e->name), e->version, v);
          break;
        }
      }
    }
  }
  /* Chain each version to the next one up. */
  for (esc_decl *e = agg->events; e; e = e->next)
    for (esc_decl *g = agg->events; g; g = g->next)
      if (chk_same(g->name, e->name) && e->version &&
          g->version == e->version + 1) {
        e->newer = g;
        g->older = e;
      }
}

/* The aggregate other than `a` that has a current event `name`, if any. */
static esc_decl *event_elsewhere(checker *c, esc_decl *a, esc_tok name) {
  for (esc_decl *x = c->s->decls; x; x = x->next)
    if (x != a && x->kind == ESC_DECL_AGGREGATE)
      for (esc_decl *e = x->events; e; e = e->next)
        if (chk_same(e->name, name))
          return x;
  return NULL;
}

/* The aggregate's errors: names, and the constants and helpers they
 * generate. */
static void aggregate_errors(checker *c, esc_decl *a) {
  a->n_errors = constants(c, a->errors, a->c_upper, "an error", "error");
  if (a->errors) {
    chk_claim(c, a->name, ESC_N_ERROR, a->c_name, NULL, NULL);
    chk_claim(c, a->name, ESC_N_REJECT, a->c_name, NULL, NULL);
    chk_claim(c, a->name, ESC_N_ERRORS, a->c_name, NULL, NULL);
  }
}

/* Events, once their versions are known: names, fields, and what the
 * current and the older versions generate. */
static void aggregate_events(checker *c, esc_decl *a) {
  const char *A = a->c_name;
  uint32_t n_events = 0, n_current = 0;
  check_versions(c, a);
  for (esc_decl *e = a->events; e; e = e->next) {
    chk_name(c, e->name, "an event");
    chk_fields(c, e->fields, true, "events");
    if (!esc_names_decl(c->s, e)) {
      c->oom = true;
      return;
    }
    if (e->current) {
      e->index = n_current++;
      chk_claim_struct(c, e->c_name, e->name);
      chk_claim(c, e->name, ESC_N_APPLY, A, e->snake, NULL);
      chk_claim(c, e->name, ESC_N_APPLY_ANY, A, e->snake, NULL);
      chk_claim(c, e->name, ESC_N_SUBSCRIBERS, e->c_name, NULL, NULL);
      chk_claim(c, e->name, ESC_N_OLD, e->c_name, NULL, NULL);
    }
    n_events++;
  }
  a->n_events = n_events;
  a->n_current_events = n_current;
  if (n_current)
    chk_claim(c, a->name, ESC_N_EVENTS, A, NULL, NULL);
  /* Older versions once the current ones have their names: a clash is
   * then reported at the older shape. */
  for (esc_decl *e = a->events; e; e = e->next) {
    if (e->current || !e->newer)
      continue;
    chk_claim_struct(c, e->c_name, e->name);
    chk_claim(c, e->name, ESC_N_UPCAST, A, e->snake, NULL);
    chk_claim(c, e->name, ESC_N_UPCAST_ANY, A, e->snake, NULL);
  }
}

/* Whether command `m` repeats the name of a command or event before it
 * (reported). */
static bool command_name_taken(checker *c, esc_decl *a, esc_decl *m) {
  for (esc_decl *n = a->commands; n != m; n = n->next)
    if (chk_same(m->name, n->name)) {
      chk_duplicate(c, m->name, n->name, "command");
      return true;
    }
  for (esc_decl *e = a->events; e; e = e->next)
    if (chk_same(m->name, e->name)) {
      esc_error(c->d, m->name,
                "command '%.*s' has the same name as an event of '%.*s'; "
                "commands and events of an aggregate share one namespace",
                TOKF(m->name), TOKF(a->name));
      esc_note(c->d, e->name, "event '%.*s' is declared here", TOKF(e->name));
      return true;
    }
  return false;
}

/* Reports an `emits` entry `r` that names no current event of `a`. */
static void unknown_emitted(checker *c, esc_decl *a, esc_name_list *r) {
  esc_decl *other = event_elsewhere(c, a, r->name);
  if (other) {
    esc_error(c->d, r->name,
              "'%.*s' is an event of aggregate '%.*s'; a command emits "
              "only events of its own aggregate '%.*s'",
              TOKF(r->name), TOKF(other->name), TOKF(a->name));
    return;
  }
  char buf[160];
  esc_error(c->d, r->name, "'%.*s' is not an event of aggregate '%.*s'%s",
            TOKF(r->name), TOKF(a->name),
            chk_hint_decls(r->name, a->events, buf, sizeof buf));
}

/* Resolves what command `m` emits; false when an entry names no event of
 * the aggregate. */
static bool command_emits(checker *c, esc_decl *a, esc_decl *m) {
  bool resolved = true;
  if (!m->emits)
    esc_error(c->d, m->name,
              "command '%.*s' emits no event; add 'emits EventName;'",
              TOKF(m->name));
  for (esc_name_list *r = m->emits; r; r = r->next) {
    esc_decl *e = chk_find_current_event(a, r->name);
    if (!e) {
      unknown_emitted(c, a, r);
      resolved = false;
      continue;
    }
    for (esc_name_list *q = m->emits; q != r; q = q->next)
      if (chk_same(q->name, r->name)) {
        esc_error(c->d, r->name, "'%.*s' is listed twice in 'emits'",
                  TOKF(r->name));
        break;
      }
    r->target = a;
    r->member = e;
    if (!e->emitted)
      chk_claim(c, e->name, ESC_N_EMIT, a->c_name, e->snake, NULL);
    e->emitted = true;
  }
  return resolved;
}

/* Commands: names, fields, what each generates and emits. Returns false
 * when an `emits` names no event of the aggregate. */
static bool aggregate_commands(checker *c, esc_decl *a) {
  const char *A = a->c_name;
  uint32_t i = 0;
  bool resolved = true;
  for (esc_decl *m = a->commands; m; m = m->next, i++) {
    m->index = i;
    chk_name(c, m->name, "a command");
    bool dup = command_name_taken(c, a, m);
    chk_fields(c, m->fields, false, "command fields");
    if (!esc_names_decl(c->s, m)) {
      c->oom = true;
      return true;
    }
    if (!dup) {
      chk_claim_struct(c, m->c_name, m->name);
      chk_claim(c, m->name, ESC_N_DECIDE, A, m->snake, NULL);
      chk_claim(c, m->name, ESC_N_EXECUTE, A, m->snake, NULL);
      chk_claim(c, m->name, ESC_N_DECIDE_ANY, A, m->snake, NULL);
      chk_claim(c, m->name, ESC_N_EMITS, m->c_name, NULL, NULL);
    }
    if (!command_emits(c, a, m))
      resolved = false;
  }
  a->n_commands = i;
  if (a->commands)
    chk_claim(c, a->name, ESC_N_COMMANDS, A, NULL, NULL);
  return resolved;
}

void chk_aggregate(checker *c, esc_decl *a) {
  esc_namebuf nb;
  a->key.kind = key_kind(c, a);
  chk_fields(c, a->fields, true, "aggregate state");
  chk_claim(c, a->name, ESC_N_AGGREGATE, a->c_name, NULL, NULL);
  if (a->has_state)
    chk_claim_struct(c, esc_name(&nb, ESC_N_STATE, a->c_name, NULL, NULL),
                     a->name);
  aggregate_errors(c, a);
  aggregate_events(c, a);
  bool resolved = aggregate_commands(c, a);

  if (a->commands && !a->has_state)
    esc_error(c->d, a->name,
              "aggregate '%.*s' has commands but no state; add 'state { ... }'",
              TOKF(a->name));
  if (a->has_snapshot && !a->has_state)
    esc_error(c->d, a->snapshot_at,
              "aggregate '%.*s' has a snapshot policy but no state to "
              "snapshot",
              TOKF(a->name));
  /* A misspelt `emits` is already an error; the event it meant would
   * only add a misleading warning. */
  for (esc_decl *e = a->events; e && resolved; e = e->next)
    if (e->current && !e->emitted)
      esc_warning(c->d, e->name, "event '%.*s' is never emitted",
                  TOKF(e->name));
}

esc_tok chk_ref_tok(const esc_name_list *r) {
  esc_tok t = r->name;
  if (r->qual.n && r->qual.line == t.line && r->qual.z > t.z)
    t.n = (uint32_t)(r->qual.z + r->qual.n - t.z);
  return t;
}

/* Resolves "A.E" to an event (want_event) or a command of aggregate A. */
static bool resolve_ref(checker *c, esc_name_list *r, bool want_event) {
  esc_decl *a = chk_find_top(c, r->name);
  char buf[160];
  if (!a) {
    suggest sg = SUGGEST(r->name);
    for (esc_decl *x = c->s->decls; x; x = x->next)
      if (x->kind == ESC_DECL_AGGREGATE)
        chk_consider(&sg, x->name);
    esc_error(c->d, r->name, "unknown aggregate '%.*s'%s", TOKF(r->name),
              chk_hint(&sg, buf, sizeof buf));
    return false;
  }
  if (a->kind != ESC_DECL_AGGREGATE) {
    esc_error(c->d, r->name, "'%.*s' is %s, not an aggregate", TOKF(r->name),
              chk_kind_word(a->kind));
    return false;
  }
  r->target = a;
  r->member = want_event ? chk_find_current_event(a, r->qual)
                         : chk_find_command(a, r->qual);
  if (!r->member) {
    bool other = want_event ? chk_find_command(a, r->qual) != NULL
                            : chk_find_current_event(a, r->qual) != NULL;
    if (other)
      esc_error(c->d, chk_ref_tok(r), "'%.*s.%.*s' is %s, not %s",
                TOKF(r->name), TOKF(r->qual),
                want_event ? "a command" : "an event",
                want_event ? "an event" : "a command");
    else
      esc_error(c->d, r->qual, "aggregate '%.*s' has no %s '%.*s'%s",
                TOKF(r->name), want_event ? "event" : "command", TOKF(r->qual),
                chk_hint_decls(r->qual, want_event ? a->events : a->commands,
                               buf, sizeof buf));
    return false;
  }
  return true;
}

/* Whether every `emits` of `a` names one of its events (check.h). */
bool chk_emits_known(const esc_decl *a) {
  for (const esc_decl *m = a->commands; m; m = m->next)
    for (const esc_name_list *r = m->emits; r; r = r->next)
      if (!r->member)
        return false;
  return true;
}

/* A handler of an event that no command emits never runs: a projection
 * or saga that waits for it waits forever. `who` is "projection 'P'". */
static void handles_never_emitted(checker *c, const esc_name_list *r,
                                  const char *what, esc_tok who) {
  if (r->member->emitted || !chk_emits_known(r->target))
    return;
  esc_warning(c->d, chk_ref_tok(r),
              "'%.*s.%.*s' is never emitted by a command of '%.*s', so %s "
              "'%.*s' never receives it",
              TOKF(r->name), TOKF(r->qual), TOKF(r->target->name), what,
              TOKF(who));
}

void chk_projection(checker *c, esc_decl *p) {
  uint32_t i = 0;
  chk_claim(c, p->name, ESC_N_PROJECTION, p->c_name, NULL, NULL);
  chk_claim(c, p->name, ESC_N_HANDLERS, p->c_name, NULL, NULL);
  if (!p->on)
    esc_error(c->d, p->name,
              "projection '%.*s' handles no events; add 'on Aggregate.Event;'",
              TOKF(p->name));
  for (esc_name_list *r = p->on; r; r = r->next, i++) {
    bool twice = false;
    if (!resolve_ref(c, r, true))
      continue;
    for (esc_name_list *q = p->on; q != r && !twice; q = q->next)
      if (q->member == r->member) {
        esc_error(c->d, chk_ref_tok(r), "'%.*s.%.*s' is already handled",
                  TOKF(r->name), TOKF(r->qual));
        esc_note(c->d, chk_ref_tok(q), "previous handler is here");
        twice = true;
      }
    if (twice)
      continue;
    handles_never_emitted(c, r, "projection", p->name);
    chk_claim(c, r->qual, ESC_N_ON, p->c_name, r->target->snake,
              r->member->snake);
    chk_claim(c, r->qual, ESC_N_ON_ANY, p->c_name, r->target->snake,
              r->member->snake);
  }
}

static const char *kind_text(int k) {
  return k == ESC_T_STRING ? "string" : k == ESC_T_U64 ? "u64" : "uuid";
}

/* An event without `by` reaches the saga instance whose key is the key of
 * the aggregate instance that emitted it. When another event of the same
 * aggregate is routed by a field (or starts instances by one), the two disagree
 * about which instance an event of that aggregate belongs to: almost always a
 * forgotten `by`, and the event would silently reach no instance (or the wrong
 * one). */
static void check_saga_routing(checker *c, const esc_decl *s) {
  if (s->key.kind < 0)
    return;
  for (const esc_saga_on *on = s->saga_on; on; on = on->next) {
    /* A `start on` without `by` says on purpose that instances are keyed
     * like the emitting aggregate; a key of another type is an error
     * reported already. */
    if (on->kind != ESC_ON_EVENT || on->by.n || !on->ref->member ||
        on->ref->target->key.kind != s->key.kind)
      continue;
    for (const esc_saga_on *o = s->saga_on; o; o = o->next) {
      if ((o->kind != ESC_ON_EVENT && o->kind != ESC_ON_START) ||
          !o->by_field || o->ref->target != on->ref->target)
        continue;
      esc_warning(c->d, chk_ref_tok(on->ref),
                  "'%.*s.%.*s' has no 'by', so it is routed by the key of the "
                  "'%.*s' that emitted it, while '%.*s.%.*s' is routed by "
                  "its field '%.*s'; add 'by' with the field that holds the "
                  "saga's key",
                  TOKF(on->ref->name), TOKF(on->ref->qual), TOKF(on->ref->name),
                  TOKF(o->ref->name), TOKF(o->ref->qual), TOKF(o->by));
      esc_note(c->d, o->by, "'%.*s.%.*s' is routed by '%.*s' here",
               TOKF(o->ref->name), TOKF(o->ref->qual), TOKF(o->by));
      break;
    }
  }
}

/* `sends`: existing commands, each once. */
static void saga_sends(checker *c, esc_decl *s) {
  for (esc_name_list *r = s->sends; r; r = r->next) {
    bool twice = false;
    if (!resolve_ref(c, r, false))
      continue;
    for (esc_name_list *q = s->sends; q != r && !twice; q = q->next)
      if (q->member == r->member) {
        esc_error(c->d, chk_ref_tok(r),
                  "'%.*s.%.*s' is listed twice in 'sends'", TOKF(r->name),
                  TOKF(r->qual));
        twice = true;
      }
    if (!twice)
      chk_claim(c, r->qual, ESC_N_SEND, s->c_name, r->target->snake,
                r->member->snake);
  }
}

/* `on rejected A.C`: a command the saga sends, handled once. */
static void saga_on_rejected(checker *c, esc_decl *s, esc_saga_on *on) {
  esc_name_list *r = on->ref;
  if (!resolve_ref(c, r, false))
    return;
  bool sent = false;
  for (esc_name_list *q = s->sends; q; q = q->next)
    if (q->member == r->member)
      sent = true;
  if (!sent)
    esc_error(c->d, chk_ref_tok(r),
              "saga '%.*s' handles rejections of '%.*s.%.*s' but does "
              "not send it; add it to 'sends'",
              TOKF(s->name), TOKF(r->name), TOKF(r->qual));
  for (esc_saga_on *o = s->saga_on; o != on; o = o->next)
    if (o->kind == ESC_ON_REJECTED && o->ref->member == r->member) {
      esc_error(c->d, chk_ref_tok(r),
                "rejections of '%.*s.%.*s' are already handled", TOKF(r->name),
                TOKF(r->qual));
      esc_note(c->d, chk_ref_tok(o->ref), "previous handler is here");
      return;
    }
  chk_claim(c, r->qual, ESC_N_ON_REJECTED, s->c_name, r->target->snake,
            r->member->snake);
  chk_claim(c, r->qual, ESC_N_ON_REJECTED_ANY, s->c_name, r->target->snake,
            r->member->snake);
}

/* `by FIELD` of an event handler: a field of the event, of the saga's key
 * type (or its optional). */
static void saga_by_field(checker *c, esc_decl *s, esc_saga_on *on) {
  esc_decl *ev = on->ref->member;
  esc_field *f = NULL;
  char buf[160];
  for (esc_field *g = ev->fields; g; g = g->next)
    if (chk_same(g->name, on->by))
      f = g;
  if (!f) {
    suggest sg = SUGGEST(on->by);
    for (esc_field *g = ev->fields; g; g = g->next)
      chk_consider(&sg, g->name);
    esc_error(c->d, on->by, "event '%.*s.%.*s' has no field '%.*s'%s",
              TOKF(on->ref->name), TOKF(on->ref->qual), TOKF(on->by),
              chk_hint(&sg, buf, sizeof buf));
    return;
  }
  if (f->type->kind != s->key.kind) {
    esc_error(c->d, on->by,
              "field '%.*s' of '%.*s.%.*s' is '%s', but saga '%.*s' is "
              "keyed by %s; 'by' needs a %s or %s? field",
              TOKF(on->by), TOKF(on->ref->name), TOKF(on->ref->qual),
              chk_type_text(f->type, buf, sizeof buf), TOKF(s->name),
              kind_text(s->key.kind), kind_text(s->key.kind),
              kind_text(s->key.kind));
    return;
  }
  on->by_field = f;
}

/* `start on A.E` or `on A.E`: an event, handled once, routed by a field
 * or by a key of the saga's key type. */
static void saga_on_event(checker *c, esc_decl *s, esc_saga_on *on) {
  esc_name_list *r = on->ref;
  if (!resolve_ref(c, r, true))
    return;
  bool twice = false;
  for (esc_saga_on *o = s->saga_on; o != on && !twice; o = o->next)
    if ((o->kind == ESC_ON_EVENT || o->kind == ESC_ON_START) &&
        o->ref->member == r->member) {
      esc_error(c->d, chk_ref_tok(r), "'%.*s.%.*s' is already handled",
                TOKF(r->name), TOKF(r->qual));
      esc_note(c->d, chk_ref_tok(o->ref), "previous handler is here");
      twice = true;
    }
  if (!twice) {
    handles_never_emitted(c, r, "saga", s->name);
    chk_claim(c, r->qual, ESC_N_ON, s->c_name, r->target->snake,
              r->member->snake);
    chk_claim(c, r->qual, ESC_N_ON_ANY, s->c_name, r->target->snake,
              r->member->snake);
  }
  if (s->key.kind < 0)
    return; /* no key to match */
  if (on->by.n) {
    saga_by_field(c, s, on);
    return;
  }
  esc_decl *agg = r->target;
  if (agg->key.kind >= 0 && agg->key.kind != s->key.kind)
    esc_error(c->d, chk_ref_tok(r),
              "'%.*s' is keyed by %s but saga '%.*s' by %s; name the "
              "correlation field with 'by'",
              TOKF(agg->name), kind_text(agg->key.kind), TOKF(s->name),
              kind_text(s->key.kind));
}

void chk_saga(checker *c, esc_decl *s) {
  bool starts = false;
  const char *S = s->c_name;
  const esc_saga_on *timeout = NULL;
  esc_namebuf nb;
  s->key.kind = key_kind(c, s);
  chk_fields(c, s->fields, true, "saga state");
  chk_claim_struct(c, esc_name(&nb, ESC_N_STATE, S, NULL, NULL), s->name);
  chk_claim(c, s->name, ESC_N_SAGA, S, NULL, NULL);
  chk_claim(c, s->name, ESC_N_HANDLERS, S, NULL, NULL);
  if (s->sends)
    chk_claim(c, s->name, ESC_N_SENDS, S, NULL, NULL);
  saga_sends(c, s);
  for (esc_saga_on *on = s->saga_on; on; on = on->next) {
    if (on->kind == ESC_ON_TIMEOUT) {
      if (timeout) {
        esc_error(c->d, on->at, "'on timeout' given twice");
        esc_note(c->d, timeout->at, "first given here");
        continue;
      }
      timeout = on;
      chk_claim(c, on->at, ESC_N_ON_TIMEOUT, S, NULL, NULL);
      chk_claim(c, on->at, ESC_N_ON_TIMEOUT_ANY, S, NULL, NULL);
    } else if (on->kind == ESC_ON_REJECTED) {
      saga_on_rejected(c, s, on);
    } else {
      starts |= on->kind == ESC_ON_START;
      saga_on_event(c, s, on);
    }
  }
  if (!starts)
    esc_error(c->d, s->name,
              "saga '%.*s' has no 'start on' event, so nothing would start it",
              TOKF(s->name));
  check_saga_routing(c, s);
  chk_saga_flow(c, s);
}
