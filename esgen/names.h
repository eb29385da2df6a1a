/*
 * names.h - every C identifier esgen generates is spelled here, and only
 * here (as protobuf-c's FullNameToC helpers do for it).
 *
 * The checker claims each name a schema will generate, so that two schema
 * names that would make one C name are refused before anything is written;
 * the generators ask for the same names when they write code. Neither has
 * a naming pattern of its own, so what is checked is what is generated.
 *
 * Words: `<s>` the schema prefix ("bank"), `<a>`, `<p>`, `<g>` an
 * aggregate's, projection's or saga's C name ("bank_account"), `<T>` a
 * struct's C name, `<m>` a member's snake_case name ("deposited",
 * "posted_v1"), `<t>` the snake_case name of the aggregate a handler's
 * event or command belongs to.
 */
#ifndef ESC_NAMES_H
#define ESC_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"

/* X(ID, pattern): the pattern's %s are filled from esc_name()'s a, b, c
 * in order. */
#define ESC_NAMES(X)                                                           \
  /* the schema as a whole: <s> */                                             \
  X(SCHEMA, "%s_schema")                                                       \
  X(AGGREGATES, "%s_aggregates")                                               \
  X(PROJECTIONS, "%s_projections")                                             \
  X(SAGAS, "%s_sagas")                                                         \
  X(TYPES, "%s_types")                                                         \
  X(DESCRIPTION, "%s_description")                                             \
  /* a top-level declaration <s>_<m>, a member <a>_<m> */                      \
  X(DECL, "%s_%s")                                                             \
  /* every struct type: <T> */                                                 \
  X(STRUCT, "%s")                                                              \
  X(DESC, "%s_desc")                                                           \
  X(INIT, "%s_init")                                                           \
  X(ENCODE, "%s_encode")                                                       \
  X(DECODE, "%s_decode")                                                       \
  X(FIELDS, "%s_fields")                                                       \
  X(TYPE_ID, "%s_TYPE_ID") /* <T> in capitals */                               \
  X(INIT_ANY, "%s_init_any")                                                   \
  X(ENC, "enc_%s")                                                             \
  X(DEC, "dec_%s")                                                             \
  /* records and enums: <T>; a list of lists: the element's list type */       \
  X(LIST, "%s_list")                                                           \
  /* libes's list of a built-in type, by the type's name ("i32") */            \
  X(RT_LIST, "es_%s_list")                                                     \
  X(ENUM_NAME, "%s_name")                                                      \
  X(ENUM_VALUES, "%s_values")                                                  \
  X(COUNT, "%s_COUNT") /* the enum's name in capitals */                       \
  /* an enum value or error code: owner and value, both in capitals */         \
  X(CONST, "%s_%s")                                                            \
  /* aggregates: <a> */                                                        \
  X(AGGREGATE, "%s_aggregate")                                                 \
  X(STATE, "%s_state")                                                         \
  X(ERROR, "%s_error")                                                         \
  X(REJECT, "%s_reject")                                                       \
  X(ERRORS, "%s_errors")                                                       \
  X(COMMANDS, "%s_commands")                                                   \
  X(EVENTS, "%s_events")                                                       \
  /* commands: <a>, <m> */                                                     \
  X(DECIDE, "%s_decide_%s")                                                    \
  X(DECIDE_ANY, "%s_decide_%s_any")                                            \
  X(EXECUTE, "%s_execute_%s")                                                  \
  X(EMITS, "%s_emits") /* <T> of the command */                                \
  /* events: <a>, <m> */                                                       \
  X(EMIT, "%s_emit_%s")                                                        \
  X(APPLY, "%s_apply_%s")                                                      \
  X(APPLY_ANY, "%s_apply_%s_any")                                              \
  X(UPCAST, "%s_upcast_%s")                                                    \
  X(UPCAST_ANY, "%s_upcast_%s_any")                                            \
  X(SUBSCRIBERS, "%s_subscribers") /* <T> of the event */                      \
  X(OLD, "%s_old")                 /* <T> of the event */                      \
  /* projections and sagas: <p> or <g>, then <t>, <m> */                       \
  X(PROJECTION, "%s_projection")                                               \
  X(SAGA, "%s_saga")                                                           \
  X(HANDLERS, "%s_handlers")                                                   \
  X(SENDS, "%s_sends")                                                         \
  X(ON, "%s_on_%s_%s")                                                         \
  X(ON_ANY, "%s_on_%s_%s_any")                                                 \
  X(SEND, "%s_send_%s_%s")                                                     \
  X(ON_REJECTED, "%s_on_rejected_%s_%s")                                       \
  X(ON_REJECTED_ANY, "%s_on_rejected_%s_%s_any")                               \
  X(ON_TIMEOUT, "%s_on_timeout")                                               \
  X(ON_TIMEOUT_ANY, "%s_on_timeout_any")

typedef enum esc_name_id {
#define ESC_NAME_ENUM(id, pattern) ESC_N_##id,
  ESC_NAMES(ESC_NAME_ENUM)
#undef ESC_NAME_ENUM
      ESC_NAME_COUNT
} esc_name_id;

/* The longest name a schema may give anything: every generated name
 * then fits in ESC_NAME_MAX, with room for the longest pattern. */
#define ESC_SCHEMA_NAME_MAX 128

/* Longer than any identifier a C compiler cares to compare. */
#define ESC_NAME_MAX 1024

typedef struct esc_namebuf {
  char s[ESC_NAME_MAX];
} esc_namebuf;

/* Writes name `id` made from `a`, `b`, `c` (as many as its pattern takes;
 * pass NULL for the rest) into `nb` and returns it, or NULL when it would
 * not fit. */
const char *esc_name(esc_namebuf *nb, esc_name_id id, const char *a,
                     const char *b, const char *c);

/* The pattern of `id`, for identifying a name's origin. */
const char *esc_name_pattern(esc_name_id id);

/* snake_case of a CamelCase or snake name, in capitals with `upper`
 * ("HTTPServer" -> "http_server", "InsufficientFunds" ->
 * "INSUFFICIENT_FUNDS"; "bank_money" -> "BANK_MONEY"). Writes at most
 * `cap` bytes including the NUL, cutting the name short if needed;
 * returns the length written. */
size_t esc_snake(const char *z, size_t n, bool upper, char *out, size_t cap);

/* Gives a checked schema's declarations their C names (c_prefix, and each
 * declaration's snake, c_name and c_upper), allocated in the schema's
 * arena. The prefix first (esc_names_prefix), then each top-level
 * declaration, then each command and event of an aggregate once its
 * versions are known. false when out of memory. */
bool esc_names_prefix(esc_schema *s);
bool esc_names_decl(esc_schema *s, esc_decl *d);

/* The C constant of an enum value or error code `value` of the
 * declaration whose name in capitals is `owner_upper`
 * ("BANK_CURRENCY_EUR"). */
const char *esc_name_const(esc_namebuf *nb, const char *owner_upper,
                           esc_tok value);

/* The C struct type of list type `t` (resolved) in the schema whose C
 * prefix is `prefix`: libes's es_<k>_list for a list of a built-in type,
 * <T>_list for a list of records or enums, and for a list of lists the
 * innermost element's name with one "_list" per level ("bank_i32" for
 * i32): list<list<i32>> is "bank_i32_list_list", list<list<Money>>
 * "bank_money_list_list". NULL when it would not fit. */
const char *esc_name_list_type(esc_namebuf *nb, const char *prefix,
                               const esc_type *t);

/* The type-id macro of struct type `c_name` ("BANK_MONEY_TYPE_ID"). */
const char *esc_name_type_id(esc_namebuf *nb, const char *c_name);

#endif
