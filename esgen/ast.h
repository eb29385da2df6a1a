/*
 * ast.h - the schema as parsed, then resolved in place by the checker.
 *
 * Every node lives in one es_arena owned by the esc_schema; nothing here is
 * freed on its own. Names are zero-copy slices of the source text (which
 * the esc_schema keeps alive). After esc_check() succeeds, every type
 * reference points at its declaration and every qualified reference
 * (Account.Deposited) at its command or event, so code generators and
 * other tools never look anything up by name.
 */
#ifndef ESC_AST_H
#define ESC_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <es/es_arena.h>

/* A slice of the source with where it starts. */
typedef struct esc_tok {
  const char *z;
  uint32_t n;
  uint32_t line, col; /* 1-based */
} esc_tok;

/* Built-in type kinds share their numbers with es_kind (es_desc.h);
 * ESC_T_NAMED is a reference not yet resolved, ESC_T_LIST a list. */
enum {
  ESC_T_BOOL,
  ESC_T_I8,
  ESC_T_I16,
  ESC_T_I32,
  ESC_T_I64,
  ESC_T_U8,
  ESC_T_U16,
  ESC_T_U32,
  ESC_T_U64,
  ESC_T_F32,
  ESC_T_F64,
  ESC_T_STRING,
  ESC_T_BYTES,
  ESC_T_TIMESTAMP,
  ESC_T_UUID,
  ESC_T_ENUM,
  ESC_T_RECORD,
  ESC_T_NAMED,
  ESC_T_LIST
};

typedef struct esc_decl esc_decl;

/* A projection or saga handler reading an event (filled after checking). */
typedef struct esc_sub {
  bool is_saga;
  uint32_t index;   /* the projection's or saga's index among its kind */
  uint32_t handler; /* its position among that one's event handlers */
} esc_sub;

typedef struct esc_type {
  int kind;
  esc_tok name;          /* as written ("i64", "Money", "list") */
  struct esc_type *elem; /* ESC_T_LIST: the element type, maybe a list */
  const char *c_list;    /* ESC_T_LIST once checked: its C struct type */
  esc_decl *decl;        /* ESC_T_ENUM, ESC_T_RECORD once resolved */
  bool optional;
  bool has_max;
  uint64_t max;
  esc_tok max_tok;
} esc_type;

enum { ESC_LIT_INT, ESC_LIT_FLOAT, ESC_LIT_STRING, ESC_LIT_BOOL, ESC_LIT_NAME };

typedef struct esc_literal {
  int kind;
  esc_tok tok; /* the literal as written, without a leading '-' */
  esc_tok at;  /* where the literal starts (the '-' if any) */
  bool negative;
  /* filled by the checker */
  uint64_t u; /* integer magnitude; bool as 0/1; enum value index */
  double f;
  char *s; /* string with escapes decoded, NUL-terminated */
  size_t s_len;
} esc_literal;

typedef struct esc_field {
  esc_tok name;
  esc_type *type;
  esc_literal *def; /* `= literal`, or NULL */
  struct esc_field *next;
  uint32_t index;
} esc_field;

typedef struct esc_name_list {
  esc_tok name;
  esc_tok qual; /* second part of "A.B", n == 0 when unqualified */
  struct esc_name_list *next;
  /* resolved: */
  esc_decl *target; /* the aggregate of A.B */
  esc_decl *member; /* the command or event B */
} esc_name_list;

enum {
  ESC_DECL_SCHEMA,
  ESC_DECL_ENUM,
  ESC_DECL_RECORD,
  ESC_DECL_AGGREGATE,
  ESC_DECL_COMMAND,
  ESC_DECL_EVENT,
  ESC_DECL_PROJECTION,
  ESC_DECL_SAGA
};

/* One `on` line of a saga. */
enum { ESC_ON_EVENT, ESC_ON_START, ESC_ON_REJECTED, ESC_ON_TIMEOUT };

typedef struct esc_saga_on {
  int kind;
  esc_tok at;
  esc_name_list *ref;  /* the A.E or A.C; NULL for timeout */
  esc_tok by;          /* n == 0 without `by` */
  esc_field *by_field; /* resolved */
  struct esc_saga_on *next;
} esc_saga_on;

/* A key declaration: `key string;`. */
typedef struct esc_key {
  esc_tok type; /* n == 0: none given (string) */
  int kind;     /* ESC_T_STRING, ESC_T_U64 or ESC_T_UUID once checked */
} esc_key;

struct esc_decl {
  int kind;
  esc_tok kw; /* the introducing keyword, for locations */
  esc_tok name;
  esc_decl *next;   /* next declaration in the same list */
  esc_decl *parent; /* the aggregate of a command or event */
  uint32_t index;   /* position among its kind, for tables */

  /* enum */
  esc_name_list *values;
  uint32_t n_values;

  /* record, command, event: fields; aggregate, saga: state fields */
  esc_field *fields;
  uint32_t n_fields;
  bool has_state;
  esc_tok state_at;

  /* event */
  esc_tok version_tok; /* "v2", n == 0 when not given */
  uint32_t version;
  esc_decl *newer; /* the next version of the same event, or NULL */
  esc_decl *older; /* chain of older versions (resolved) */
  bool current;    /* the highest version of its name */
  bool emitted;

  /* command */
  esc_name_list *emits;

  /* aggregate */
  esc_key key;
  esc_name_list *errors;
  uint32_t n_errors;
  esc_decl *commands;
  esc_decl *events; /* every version, in source order */
  uint32_t n_commands, n_events, n_current_events;
  bool has_snapshot;
  uint64_t snapshot_every;
  esc_tok snapshot_at;

  /* projection: handlers; saga: handlers + sends */
  esc_name_list *on;
  esc_saga_on *saga_on;
  esc_name_list *sends;
  bool on_timeout;

  /* filled after checking (model.c) */
  esc_sub *subs; /* current event: who else reads it, in order */
  uint32_t n_subs;
  uint64_t layout_hash; /* hash of the fields (state fields for an
                           aggregate or saga): see model.c */
  int layout_state;     /* 0 not computed, 1 in progress, 2 done */

  /* filled by the checker: C names */
  char *c_name;  /* "bank_account_deposited" */
  char *c_upper; /* "BANK_ACCOUNT_DEPOSITED" */
  char *snake;   /* "deposited" (with "_v1" for an old version) */
};

typedef struct esc_schema {
  es_arena arena;   /* every node and string below */
  const char *path; /* as given on the command line */
  const char *src;  /* NUL-terminated source text */
  size_t src_len;
  esc_tok name;
  esc_decl *decls; /* in source order: enums, records, aggregates, ... */
  char *c_prefix;  /* "bank" */
  char *c_upper;   /* "BANK" */
} esc_schema;

#endif
