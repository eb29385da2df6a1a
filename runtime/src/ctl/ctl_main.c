/*
 * ctl_main.c - es_ctl_main(): options, the command table, opening the
 * store and loading the schema descriptions recorded in it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "es/es_ctl.h"
#include "es/es_error.h"
#include "store/schema_record.h"
#include "util/alloc.h"

typedef struct command {
  const char *name;
  int (*run)(ctl *c, int argc, char **argv);
  bool needs_schema; /* the application's own functions */
  bool opens_store;  /* STORE is opened read-only before run */
  const char *args;
  const char *help;
} command;

static const command commands[] = {
    {"info", ctl_cmd_info, false, true, "",
     "kind, head, streams, events, bytes, schemas, projections, sagas"},
    {"ls", ctl_cmd_ls, false, true, "[--type AGG]",
     "streams with their version and last position"},
    {"cat", ctl_cmd_cat, false, true, "AGG/KEY [--from V]",
     "one stream's events, decoded"},
    {"tail", ctl_cmd_tail, false, true, "[--from POS] [-f]",
     "the global order; -f follows new events"},
    {"verify", ctl_cmd_verify, false, false, "",
     "read every record and check it; never writes"},
    {"projections", ctl_cmd_projections, false, true, "",
     "projections with their checkpoint and lag"},
    {"sagas", ctl_cmd_sagas, false, true, "",
     "saga instances with state and pending timeouts"},
    {"dead-letters", ctl_cmd_dead_letters, false, true, "",
     "commands sagas set aside"},
    {"copy", ctl_cmd_copy, false, false, "DST",
     "copy every event, description, checkpoint and snapshot to DST"},
    {"export", ctl_cmd_export, false, true, "",
     "the whole store as JSON lines on stdout"},
    {"import", ctl_cmd_import, false, false, "< FILE",
     "JSON lines from export into a new store"},
    {"state", ctl_cmd_state, true, true, "AGG/KEY [--at V]",
     "each event and the state after it (time travel)"},
    {"redispatch", ctl_cmd_redispatch, true, false, "ID",
     "execute a dead letter's command again (idempotent)"},
    {"rebuild", ctl_cmd_rebuild, true, false, "PROJECTION",
     "empty a projection's read model and replay every event"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void vreport(ctl *c, const char *what, const char *fmt, va_list ap) {
  fprintf(stderr, "%s: %s: ", c->prog, what);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void ctl_error(ctl *c, const char *fmt, ...) {
  va_list ap;
  ctl_progress_end(c);
  va_start(ap, fmt);
  vreport(c, "error", fmt, ap);
  va_end(ap);
}

void ctl_warn(ctl *c, const char *fmt, ...) {
  va_list ap;
  ctl_progress_end(c);
  va_start(ap, fmt);
  vreport(c, "warning", fmt, ap);
  va_end(ap);
}

static bool progress_shown;

void ctl_progress(ctl *c, uint64_t done, uint64_t total) {
  static unsigned last = 101;
  unsigned pct;
  if (!c->progress || total < 10000)
    return;
  pct = (unsigned)(done * 100 / total);
  if (pct == last)
    return;
  last = pct;
  fprintf(stderr, "\r[%-40.*s] %3u%%", (int)(pct * 40 / 100),
          "########################################", pct);
  progress_shown = true;
}

void ctl_progress_end(ctl *c) {
  if (c->progress && progress_shown) {
    fprintf(stderr, "\r%60s\r", "");
    progress_shown = false;
  }
}

void ctl_emit(es_buf *b) {
  if (b->len)
    fwrite(b->data, 1, b->len, stdout);
  fputc('\n', stdout);
}

static void usage(ctl *c, FILE *f) {
  fprintf(f,
          "usage: %s [--json] [--dead-letters FILE] COMMAND STORE [ARGS]\n"
          "\n"
          "Reads (and moves) an esgen event store. STORE is an embedded-log "
          "directory\nor a PostgreSQL connection string (postgresql://...), "
          "opened read-only:\nsafe beside a running application.\n\n"
          "commands:\n",
          c->prog);
  for (size_t i = 0; i < N_COMMANDS; i++) {
    char head[64];
    if (commands[i].needs_schema && !c->schema)
      continue;
    snprintf(head, sizeof head, "%s %s", commands[i].name, commands[i].args);
    fprintf(f, "  %-28s %s\n", head, commands[i].help);
  }
  fprintf(f, "\noptions:\n"
             "  --json               JSON lines instead of tables\n"
             "  --dead-letters FILE  the dead-letter log (default: "
             "STORE/dead-letters.jsonl)\n"
             "  --pg-schema NAME     the PostgreSQL schema of the store's "
             "tables (default: esgen)\n"
             "  --help               print this help\n"
             "\nExit status: 0 ok, 1 problem found, 2 usage or open error.\n");
}

static int usage_error(ctl *c, const char *fmt, const char *arg) {
  fprintf(stderr, "%s: error: ", c->prog);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nusage: %s COMMAND STORE [ARGS] (try '%s --help')\n",
          c->prog, c->prog);
  return CTL_USAGE;
}

bool ctl_is_database(const char *arg) {
  return strncmp(arg, "postgresql://", 13) == 0 ||
         strncmp(arg, "postgres://", 11) == 0 || strchr(arg, '=') != NULL;
}

const char *ctl_display(const ctl *c) {
  /* A connection string may hold a password: never print it. */
  return ctl_is_database(c->store_arg) ? "(PostgreSQL)" : c->store_arg;
}

int ctl_open_store(ctl *c, const char *arg, bool writable, es_store **out) {
  es_store_open_report rep;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  struct stat st;
  int rc;

  *out = NULL;
  if (ctl_is_database(arg)) {
    memset(&rep, 0, sizeof rep);
    o.report = &rep;
    o.pg_schema = c->pg_schema;
    rc = es_store_open_postgres(out, arg, &o, writable ? 0 : ES_STORE_READONLY);
    if (rc) {
      ctl_error(c, "cannot open the PostgreSQL store: %s%s%s", es_strerror(rc),
                rep.message[0] ? ": " : "", rep.message);
      return CTL_USAGE;
    }
    return 0;
  }
  if (!writable && stat(arg, &st) != 0) {
    ctl_error(c, "cannot open store '%s': %s", arg, strerror(errno));
    return CTL_USAGE;
  }
  memset(&rep, 0, sizeof rep);
  o.report = &rep;
  rc = es_store_open_log(out, arg, &o, writable ? 0 : ES_STORE_READONLY);
  if (rc == ES_ELOCKED) {
    ctl_error(c, "store '%s' is in use by process %ld; stop it first", arg,
              rep.locked_pid);
    return CTL_USAGE;
  }
  if (rc) {
    if (rep.message[0])
      ctl_error(c, "cannot open store '%s': %s", arg, rep.message);
    else
      ctl_error(c, "cannot open store '%s': %s", arg, es_strerror(rc));
    return CTL_USAGE;
  }
  return 0;
}

static int add_schema(const es__schema_entry *e, void *ctx) {
  ctl *c = ctx;
  char why[200];
  ctl_schema *s;
  if (!e->json) {
    ctl_warn(c, "schema description %s is listed but cannot be read: %s",
             e->hash, es_strerror(e->error));
    c->bad_schemas++;
    return 0;
  }
  s = es__realloc(c->schemas, (c->n_schemas + 1) * sizeof *s);
  if (!s)
    return ES_ENOMEM;
  c->schemas = s;
  s = &c->schemas[c->n_schemas];
  memset(s, 0, sizeof *s);
  memcpy(s->hash, e->hash, 17);
  s->position = e->position;
  /* The parse keeps pointers into its text: copy it into the arena. */
  char *text = es_arena_alloc(&c->arena, e->len + 1);
  if (!text)
    return ES_ENOMEM;
  memcpy(text, e->json, e->len);
  text[e->len] = '\0';
  int rc = es__dschema_parse(text, e->len, &c->arena, &s->d, why, sizeof why);
  if (rc == ES_ENOMEM)
    return rc;
  if (rc) {
    ctl_warn(c, "schema description %s is damaged: %s", e->hash, why);
    c->bad_schemas++;
    return 0;
  }
  c->n_schemas++;
  return 0;
}

int ctl_load_schemas(ctl *c) {
  int rc = es__schema_each(c->store, add_schema, c);
  if (rc == ES_ECORRUPT) {
    ctl_warn(c, "the list of schema descriptions ('%s') is damaged",
             ES__SCHEMAS_CHECKPOINT);
    c->bad_schemas++;
    return 0;
  }
  return rc;
}

static const char *base_name(const char *p) {
  const char *s = p ? strrchr(p, '/') : NULL;
  return s ? s + 1 : p ? p : "esctl";
}

int es_ctl_main(int argc, char **argv, const es_schema_desc *schema) {
  return es_ctl_main_with(argc, argv, schema, NULL);
}

int es_ctl_main_with(int argc, char **argv, const es_schema_desc *schema,
                     const es_ctl_options *opt) {
  ctl c;
  char **args = es__calloc((size_t)(argc > 0 ? argc : 1) + 1, sizeof *args);
  int n = 0, rc;
  const command *cmd = NULL;

  memset(&c, 0, sizeof c);
  c.prog = base_name(argc > 0 ? argv[0] : NULL);
  c.schema = schema;
  c.opt = opt;
  c.progress = isatty(2);
  es_arena_init(&c.arena, 0);
  if (!args) {
    ctl_error(&c, "out of memory");
    return CTL_USAGE;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--json") == 0) {
      c.json = true;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(&c, stdout);
      rc = CTL_OK;
      goto done;
    } else if (strcmp(a, "--pg-schema") == 0) {
      if (i + 1 >= argc) {
        rc = usage_error(&c, "'%s' needs an argument", a);
        goto done;
      }
      c.pg_schema = argv[++i];
    } else if (strcmp(a, "--dead-letters") == 0) {
      if (i + 1 >= argc) {
        rc = usage_error(&c, "'%s' needs an argument", a);
        goto done;
      }
      c.dead_letters = argv[++i];
    } else {
      args[n++] = argv[i];
    }
  }
  if (n == 0) {
    rc = usage_error(&c, "%s", "no command given");
    goto done;
  }
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, args[0]) == 0 &&
        (!commands[i].needs_schema || schema))
      cmd = &commands[i];
  if (!cmd) {
    rc = usage_error(&c, "unknown command '%s'", args[0]);
    goto done;
  }
  if (n < 2) {
    rc = usage_error(&c, "'%s' needs a STORE", args[0]);
    goto done;
  }
  c.store_arg = args[1];
  if (!c.dead_letters && ctl_is_database(args[1])) {
    c.dead_letters = ""; /* a database has no directory: none unless given */
  } else if (!c.dead_letters) {
    snprintf(c.dl_path, sizeof c.dl_path, "%s/dead-letters.jsonl", args[1]);
    c.dead_letters = c.dl_path;
  }
  if (cmd->opens_store) {
    if ((rc = ctl_open_store(&c, args[1], false, &c.store)) != 0)
      goto done;
    if ((rc = ctl_load_schemas(&c)) != 0) {
      ctl_error(&c, "cannot read the schema descriptions: %s", es_strerror(rc));
      rc = CTL_USAGE;
      goto done;
    }
  }
  rc = cmd->run(&c, n - 2, args + 2);
  if (fflush(stdout) != 0 && rc == CTL_OK) {
    ctl_error(&c, "cannot write to stdout: %s", strerror(errno));
    rc = CTL_PROBLEM;
  }
done:
  ctl_progress_end(&c);
  es_store_close(c.store);
  es__free(c.schemas);
  es_arena_close(&c.arena);
  es__free(args);
  return rc;
}
