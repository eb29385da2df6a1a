/*
 * ctl_app.c - the commands that run the application's own functions:
 * state (time travel), redispatch (a dead letter), rebuild (a projection).
 * Only es_ctl_main() called with the application's schema offers them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "es/es_app.h"
#include "es/es_error.h"
#include "es/es_projection.h"
#include "es/es_saga_run.h"
#include "schema/event_decode.h"
#include "subscribe/dead_letter.h"

typedef struct state_ctx {
  ctl *c;
  const es_aggregate_desc *agg;
  void *state;
  es_arena arena;
  es_buf b;
  uint64_t n;
  int err;
} state_ctx;

static int state_step(const es_stored_event *ev, void *vctx) {
  state_ctx *s = vctx;
  void *value = NULL;
  uint32_t idx;
  int rc;

  es_buf_clear(&s->b);
  rc = es__event_decode(s->agg, ev->meta.type_id, ev->meta.type_version,
                        ev->payload, ev->len, &s->arena, NULL, &idx, &value);
  if (rc) {
    ctl_error(s->c, "%s/%s #%" PRIu64 ": cannot decode with this build: %s",
              ev->meta.aggregate, ev->meta.key, ev->meta.version,
              es_strerror(rc));
    s->err = rc;
    return rc;
  }
  if (s->state && s->agg->events[idx].apply)
    s->agg->events[idx].apply(s->state, value, &s->arena);
  if (s->c->json) {
    ctl_put(&s->b, "{\"event\":");
    ctl_format_event(s->c, ev, &s->b, true);
    ctl_put(&s->b, ",\"state\":");
  } else {
    ctl_format_event(s->c, ev, &s->b, false);
    ctl_put(&s->b, "\n   => ");
  }
  if (s->state)
    rc = es_json_write(s->agg->state, s->state, &s->b);
  else
    ctl_put(&s->b, "null");
  if (s->c->json)
    ctl_put(&s->b, "}");
  ctl_emit(&s->b);
  s->n++;
  return rc;
}

int ctl_cmd_state(ctl *c, int argc, char **argv) {
  ctl_stream_args args;
  state_ctx s;
  int rc;

  if (ctl_parse_stream_args(c, "state", "--at", argc, argv, &args))
    return CTL_USAGE;
  memset(&s, 0, sizeof s);
  s.c = c;
  s.agg = es_schema_find_aggregate(c->schema, args.type);
  if (!s.agg) {
    ctl_error(c, "schema '%s' has no aggregate '%s'", c->schema->name,
              args.type);
    return CTL_USAGE;
  }
  es_arena_init(&s.arena, 0);
  es_buf_init(&s.b, 0);
  if (s.agg->state) {
    s.state = es_arena_calloc(&s.arena, 1, s.agg->state->size);
    if (s.state)
      es_type_init(s.agg->state, s.state);
  }
  /* up to version V: the first V events (all of them past UINT32_MAX) */
  rc = es_store_read_stream(
      c->store, args.type, args.key, 1,
      args.version > UINT32_MAX ? 0 : (uint32_t)args.version, state_step, &s);
  es_buf_close(&s.b);
  es_arena_close(&s.arena);
  if (rc && !s.err)
    ctl_error(c, "reading '%s': %s", args.stream, es_strerror(rc));
  if (rc)
    return CTL_PROBLEM;
  if (!s.n) {
    ctl_error(c, "no stream '%s' in '%s'", args.stream, ctl_display(c));
    return CTL_PROBLEM;
  }
  return CTL_OK;
}

/* The letter `redispatch` looks for, copied out of the listing (the store
 * is not called back from inside its own read). */
typedef struct find_dl {
  const char *id;
  bool found;
  es_buf line; /* the letter as JSON, NUL-terminated */
} find_dl;

static int find_letter(const es_dead_letter *dl, void *ctx) {
  find_dl *f = ctx;
  if (strcmp(dl->id, f->id) != 0)
    return 0;
  f->found = true;
  es_buf_append(&f->line, dl->line, strlen(dl->line) + 1);
  return f->line.err ? f->line.err : 1;
}

/* Imports the dead-letter file of an earlier version, if any, so that its
 * letters can be re-dispatched. Returns 0 or CTL_PROBLEM (printed). */
static int import_file(ctl *c, es_store *store) {
  uint64_t n = 0, bad = 0;
  int rc;
  if (!c->dead_letters || !*c->dead_letters)
    return 0;
  rc = es_saga_dead_letters_import(store, c->dead_letters, &n, &bad);
  if (rc == ES_ECORRUPT && bad)
    ctl_error(c, "%s:%" PRIu64 ": not a dead letter", c->dead_letters, bad);
  else if (rc)
    ctl_error(c, "importing '%s': %s", c->dead_letters, es_strerror(rc));
  else if (n)
    ctl_warn(c, "imported %" PRIu64 " record(s) of '%s' into the store", n,
             c->dead_letters);
  return rc ? CTL_PROBLEM : 0;
}

/* Prints what the re-dispatch of `dl` did. */
static void print_redispatch(ctl *c, const es_dead_letter *dl, int rc,
                             const es_result *res) {
  if (c->json)
    printf("{\"id\":\"%s\",\"outcome\":\"%s\",\"duplicate\":%s,\"version\":"
           "%" PRIu64 ",\"resolved\":%s}\n",
           dl->id, rc == ES_EREJECTED ? "rejected" : "ok",
           res->duplicate ? "true" : "false", res->version,
           rc ? "false" : "true");
  else
    printf("%s: %s to %s: %s%s%s, version %" PRIu64 "%s\n", dl->id, dl->target,
           dl->instance, rc == ES_EREJECTED ? "rejected " : "ok",
           rc == ES_EREJECTED && res->error_name ? res->error_name : "",
           res->duplicate ? " (duplicate: done before, nothing stored)" : "",
           res->version, rc ? "" : "; resolved");
}

/* Executes letter `dl` again and, when that succeeds, marks it resolved.
 * Returns CTL_OK or CTL_PROBLEM (printed). */
static int redispatch(ctl *c, es_app *app, es_store *store,
                      const es_dead_letter *dl) {
  const es_saga_desc *saga = NULL;
  es_saga_runner *r = NULL;
  es_saga_options o = ES_SAGA_OPTIONS_INIT;
  es_result res;
  int rc;

  for (uint32_t i = 0; i < c->schema->n_sagas; i++)
    if (strcmp(c->schema->sagas[i]->name, dl->saga) == 0)
      saga = c->schema->sagas[i];
  if (!saga) {
    ctl_error(c, "dead letter %s is of saga '%s', which schema '%s' has not",
              dl->id, dl->saga, c->schema->name);
    return CTL_PROBLEM;
  }
  memset(&res, 0, sizeof res);
  rc = es_saga_runner_open(&r, app, saga, store, &o);
  if (!rc)
    rc = es_saga_redispatch(r, dl, &res);
  es_saga_runner_close(r);
  if (rc && rc != ES_EREJECTED) {
    ctl_error(c, "redispatch of %s (%s to %s): %s", dl->id, dl->target,
              dl->instance, es_strerror(rc));
    return CTL_PROBLEM;
  }
  if (rc == 0) {
    int rrc = es_saga_dead_letter_resolve(store, saga->name, dl->id);
    if (rrc != 0 && rrc != ES_ENOTFOUND) { /* not found: resolved meanwhile */
      ctl_error(c, "%s was executed but could not be marked resolved: %s",
                dl->id, es_strerror(rrc));
      return CTL_PROBLEM;
    }
  }
  print_redispatch(c, dl, rc, &res);
  return rc ? CTL_PROBLEM : CTL_OK;
}

int ctl_cmd_redispatch(ctl *c, int argc, char **argv) {
  find_dl f;
  es_store *store = NULL;
  es_app *app = NULL;
  es_arena a;
  es_dead_letter dl;
  int rc, status = CTL_PROBLEM;

  if (argc != 1) {
    ctl_error(c, "'redispatch' needs the dead letter's id: redispatch ID");
    return CTL_USAGE;
  }
  memset(&f, 0, sizeof f);
  f.id = argv[0];
  es_buf_init(&f.line, 0);
  es_arena_init(&a, 0);
  if ((rc = ctl_open_store(c, c->store_arg, true, &store)) != 0)
    goto out_status;
  if ((rc = es_app_open(&app, c->schema, store, NULL)) != 0) {
    ctl_error(c, "cannot open the application on '%s': %s", ctl_display(c),
              es_strerror(rc));
    rc = CTL_USAGE;
    goto out_status;
  }
  c->store = store;
  if ((rc = ctl_load_schemas(c)) != 0) {
    ctl_error(c, "cannot read the schema descriptions: %s", es_strerror(rc));
    goto out;
  }
  if (import_file(c, store) != 0 || ctl_dead_letters(c, find_letter, &f) < 0)
    goto out;
  if (!f.found) {
    ctl_error(c, "no dead letter '%s' in '%s'", f.id, ctl_display(c));
    goto out;
  }
  if (es__dead_letter_parse((const char *)f.line.data, f.line.len - 1, &a,
                            &dl) != 0) {
    ctl_error(c, "dead letter '%s' does not parse", f.id);
    goto out;
  }
  dl.line = (const char *)f.line.data;
  status = redispatch(c, app, store, &dl);
out:
  rc = status;
out_status:
  c->store = NULL;
  es_app_close(app);
  es_store_close(store);
  es_arena_close(&a);
  es_buf_close(&f.line);
  return rc;
}

/* The application's rebuild hooks for projection `name`, or NULL. */
static const es_ctl_projection *rebuild_hooks(const ctl *c, const char *name) {
  for (uint32_t i = 0; c->opt && i < c->opt->n_projections; i++)
    if (c->opt->projections[i].projection &&
        strcmp(c->opt->projections[i].projection->name, name) == 0)
      return &c->opt->projections[i];
  return NULL;
}

/* Prints what the rebuild did, and the read model when `h` can show it. */
static int rebuild_report(ctl *c, const es_ctl_projection *h, const char *name,
                          uint64_t was, const es_projection_report *rep) {
  es_buf b, model;
  int rc = 0;

  es_buf_init(&b, 0);
  es_buf_init(&model, 0);
  if (h->show)
    rc = h->show(h->options.ctx, &model);
  if (c->json) {
    ctl_putf(&b,
             "{\"projection\":\"%s\",\"was\":%" PRIu64 ",\"position\":%" PRIu64
             ",\"handled\":%" PRIu64,
             name, was, rep->position, rep->events);
    if (h->show && !rc) {
      ctl_put(&b, ",\"read_model\":");
      es_buf_append(&b, model.data, model.len);
    }
    ctl_put(&b, "}");
  } else {
    ctl_putf(&b,
             "projection %s: read model emptied, position %" PRIu64
             " -> 0, replayed to %" PRIu64 ": %" PRIu64 " event(s) handled",
             name, was, rep->position, rep->events);
    if (h->show && !rc) {
      ctl_put(&b, "\nread model: ");
      es_buf_append(&b, model.data, model.len);
    }
  }
  ctl_emit(&b);
  es_buf_close(&b);
  es_buf_close(&model);
  if (rc)
    ctl_error(c, "showing the read model of '%s': %s", name, es_strerror(rc));
  return rc;
}

int ctl_cmd_rebuild(ctl *c, int argc, char **argv) {
  const es_projection_desc *desc = NULL;
  const es_ctl_projection *h;
  es_projection_report rep;
  es_projection *p = NULL;
  es_store *store = NULL;
  const char *step = "opening its runner";
  uint64_t was = 0;
  int rc;

  if (argc != 1) {
    ctl_error(c, "'rebuild' needs a projection: rebuild PROJECTION");
    return CTL_USAGE;
  }
  for (uint32_t i = 0; i < c->schema->n_projections; i++)
    if (strcmp(c->schema->projections[i]->name, argv[0]) == 0)
      desc = c->schema->projections[i];
  if (!desc) {
    ctl_error(c, "schema '%s' has no projection '%s'", c->schema->name,
              argv[0]);
    return CTL_USAGE;
  }
  h = rebuild_hooks(c, argv[0]);
  if (!h || !h->reset) {
    ctl_error(c,
              "'%s' cannot rebuild projection '%s': this tool has no reset "
              "hook for its read model (es_ctl_main_with(), es_ctl_projection)",
              c->prog, argv[0]);
    return CTL_USAGE;
  }
  if ((rc = ctl_open_store(c, c->store_arg, true, &store)) != 0)
    return rc;
  memset(&rep, 0, sizeof rep);
  rc = es_projection_open(&p, c->schema, desc, store, &h->options);
  if (!rc) {
    was = es_projection_position(p);
    step = "emptying its read model (the reset hook)";
    rc = h->reset(h->options.ctx);
  }
  if (!rc) {
    step = "setting its position to 0";
    rc = es_projection_rebuild(p);
  }
  if (!rc) {
    step = "replaying the events";
    rc = es_projection_run_until_caught_up(p, &rep);
  }
  es_projection_close(p);
  es_store_close(store);
  if (rc) {
    if (rep.failed_position)
      ctl_error(c, "rebuilding projection '%s': %s: %s at position %" PRIu64,
                argv[0], step, es_strerror(rc), rep.failed_position);
    else
      ctl_error(c, "rebuilding projection '%s': %s: %s", argv[0], step,
                es_strerror(rc));
    return CTL_PROBLEM;
  }
  return rebuild_report(c, h, argv[0], was, &rep) ? CTL_PROBLEM : CTL_OK;
}
