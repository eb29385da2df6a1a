/*
 * keywords.h - the words of the schema language and the names of its
 * built-in types, in one table each: the lexer, the parser's "expected
 * ..." messages, the checker and the generators all read them from here.
 */
#ifndef ESC_KEYWORDS_H
#define ESC_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"

/* X(TOKEN, text): TK_<TOKEN> is the parser's token (parse.y lists the
 * same tokens, in this order, first). */
#define ESC_KEYWORDS(X)                                                        \
  X(SCHEMA, "schema")                                                          \
  X(ENUM, "enum")                                                              \
  X(RECORD, "record")                                                          \
  X(AGGREGATE, "aggregate")                                                    \
  X(KEY, "key")                                                                \
  X(STATE, "state")                                                            \
  X(ERRORS, "errors")                                                          \
  X(COMMAND, "command")                                                        \
  X(EVENT, "event")                                                            \
  X(EMITS, "emits")                                                            \
  X(SNAPSHOT, "snapshot")                                                      \
  X(EVERY, "every")                                                            \
  X(PROJECTION, "projection")                                                  \
  X(SAGA, "saga")                                                              \
  X(ON, "on")                                                                  \
  X(START, "start")                                                            \
  X(BY, "by")                                                                  \
  X(REJECTED, "rejected")                                                      \
  X(TIMEOUT, "timeout")                                                        \
  X(SENDS, "sends")                                                            \
  X(LIST, "list")                                                              \
  X(MAX, "max")                                                                \
  X(TRUE, "true")                                                              \
  X(FALSE, "false")

/* X(KIND, text): ESC_T_<KIND> (ast.h), in its order. */
#define ESC_BUILTINS(X)                                                        \
  X(BOOL, "bool")                                                              \
  X(I8, "i8")                                                                  \
  X(I16, "i16")                                                                \
  X(I32, "i32")                                                                \
  X(I64, "i64")                                                                \
  X(U8, "u8")                                                                  \
  X(U16, "u16")                                                                \
  X(U32, "u32")                                                                \
  X(U64, "u64")                                                                \
  X(F32, "f32")                                                                \
  X(F64, "f64")                                                                \
  X(STRING, "string")                                                          \
  X(BYTES, "bytes")                                                            \
  X(TIMESTAMP, "timestamp")                                                    \
  X(UUID, "uuid")

/* The keyword token of `z[0 .. n)`, or 0 when it is not a keyword. */
int esc_keyword_token(const char *z, size_t n);

/* The text of keyword token `token` ("schema"), or NULL. */
const char *esc_keyword_text(int token);

/* Whether token `token` is a keyword. */
bool esc_is_keyword_token(int token);

/* The ESC_T_* of a built-in type name, or -1. */
int esc_builtin_kind(esc_tok name);

/* The schema-language name of a kind: a built-in's ("i64"), "enum",
 * "record", "list"; "?" for anything else. */
const char *esc_kind_name(int kind);

#endif
