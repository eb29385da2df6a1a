/*
 * ctl.h - what esctl's commands share: the open store, the schema
 * descriptions recorded in it, output in both modes, and the scan that
 * lists streams. Internal to libes.
 */
#ifndef ES__CTL_H
#define ES__CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "es/es_arena.h"
#include "es/es_buf.h"
#include "es/es_ctl.h"
#include "es/es_desc.h"
#include "es/es_saga_run.h"
#include "es/es_store.h"
#include "schema/described.h"

/* Exit statuses. */
enum { CTL_OK = 0, CTL_PROBLEM = 1, CTL_USAGE = 2 };

/* One description recorded in the store. */
typedef struct ctl_schema {
  char hash[17];
  uint64_t position;
  es__dschema d;
} ctl_schema;

typedef struct ctl {
  const char *prog;             /* for diagnostics: "esctl" */
  const es_schema_desc *schema; /* the application's, or NULL */
  const es_ctl_options *opt;    /* the application's hooks, or NULL */
  const char *store_arg;        /* as given */
  const char *dead_letters;     /* a dead-letter file of an earlier version */
  const char *pg_schema;        /* --pg-schema, or NULL */
  bool json;                    /* --json: JSON lines */
  bool progress;                /* stderr is a terminal */
  es_store *store;
  es_arena arena; /* descriptions and other long-lived strings */
  ctl_schema *schemas;
  uint32_t n_schemas;
  uint32_t bad_schemas; /* descriptions that did not parse */
  char dl_path[4096];
} ctl;

/* One stream as a scan of the global order finds it. */
typedef struct ctl_stream {
  const char *type, *key;
  uint64_t version;  /* of its last event */
  uint64_t position; /* of its last event */
  uint64_t events;
  bool gap; /* versions did not follow 1, 2, 3, ... */
} ctl_stream;

typedef struct ctl_scan {
  ctl_stream **streams; /* sorted by type, then key */
  size_t n;
  uint64_t events, head, bytes;
} ctl_scan;

/* ---- ctl_main.c ---- */
void ctl_error(ctl *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void ctl_warn(ctl *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* True when `arg` names a PostgreSQL database, not a directory. */
bool ctl_is_database(const char *arg);
/* The store's name for output: its directory, or "(PostgreSQL)". */
const char *ctl_display(const ctl *c);
/* Opens `arg` (log directory or PostgreSQL database; read-only unless
 * `writable`) into `*out`; prints why not. Returns 0 or CTL_USAGE. */
int ctl_open_store(ctl *c, const char *arg, bool writable, es_store **out);
/* Loads the descriptions recorded in c->store. */
int ctl_load_schemas(ctl *c);
/* A progress bar on stderr when it is a terminal: done of total. */
void ctl_progress(ctl *c, uint64_t done, uint64_t total);
void ctl_progress_end(ctl *c);
/* Writes b's content and a newline to stdout. */
void ctl_emit(es_buf *b);

/* ---- ctl_event.c ---- */
/* The description of an event at `position` with (type_id, version). */
const es__dtype *ctl_find_type(ctl *c, uint64_t type_id, uint32_t version,
                               uint64_t position);
/* Appends an ISO-8601 UTC time with microseconds. */
void ctl_put_time(es_buf *b, int64_t us);
void ctl_put_uuid(es_buf *b, const es_uuid *u);
/* The event as one JSON object (metadata and decoded "data"); or, when
 * !json, as one human line. Returns 0, or the decoder's error when the
 * payload does not decode by its description ("data" is then raw). */
int ctl_format_event(ctl *c, const es_stored_event *ev, es_buf *out, bool json);
/* Any msgpack value as JSON (no description). */
int ctl_mp_json(const uint8_t *p, size_t len, es_buf *out);
void ctl_put_str(es_buf *b, const char *s);
void ctl_put(es_buf *b, const char *s);
void ctl_putf(es_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Scans the global order: every stream. `*scan` is freed by
 * ctl_scan_free(). Returns 0 or the store's error. */
int ctl_scan_streams(ctl *c, ctl_scan *scan);
void ctl_scan_free(ctl_scan *scan);
/* Splits "AGG/KEY" at the first '/' into type and key (copied into the
 * buffers). Returns 0 or -1 (printed). */
int ctl_split_stream(ctl *c, const char *arg, char *type, char *key);

/* The arguments of a command on one stream: `AGG/KEY [OPT V]`. */
typedef struct ctl_stream_args {
  const char *stream; /* AGG/KEY as given */
  char type[ES_STREAM_TYPE_MAX + 1];
  char key[ES_KEY_MAX + 1];
  uint64_t version; /* V (1, 2, ...), or 0 without OPT */
} ctl_stream_args;

/* Parses `AGG/KEY [OPT V]` for command `cmd` (both named in messages).
 * Returns 0 or -1 (printed). */
int ctl_parse_stream_args(ctl *c, const char *cmd, const char *opt, int argc,
                          char **argv, ctl_stream_args *a);

/* ---- ctl_read.c ---- */
/* Calls `fn` for each pending dead letter of every saga the store's
 * descriptions or the application's schema name. Returns 0, fn's nonzero
 * value, or an error (printed). */
int ctl_dead_letters(ctl *c, int (*fn)(const es_dead_letter *dl, void *ctx),
                     void *ctx);
/* Warns when the dead-letter file of an earlier version (c->dead_letters)
 * still holds letters the store has not imported. */
void ctl_warn_dead_letter_file(ctl *c);

/* ---- the commands: argv after STORE ---- */
int ctl_cmd_info(ctl *c, int argc, char **argv);
int ctl_cmd_ls(ctl *c, int argc, char **argv);
int ctl_cmd_cat(ctl *c, int argc, char **argv);
int ctl_cmd_tail(ctl *c, int argc, char **argv);
int ctl_cmd_verify(ctl *c, int argc, char **argv);
int ctl_cmd_projections(ctl *c, int argc, char **argv);
int ctl_cmd_sagas(ctl *c, int argc, char **argv);
int ctl_cmd_dead_letters(ctl *c, int argc, char **argv);
int ctl_cmd_copy(ctl *c, int argc, char **argv);
int ctl_cmd_export(ctl *c, int argc, char **argv);
int ctl_cmd_import(ctl *c, int argc, char **argv);
int ctl_cmd_state(ctl *c, int argc, char **argv);
int ctl_cmd_redispatch(ctl *c, int argc, char **argv);
int ctl_cmd_rebuild(ctl *c, int argc, char **argv);

#endif
