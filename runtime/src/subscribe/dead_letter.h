/*
 * dead_letter.h - dead letters: one JSON object each, kept by the store in
 * the stream ("saga:<Name>#dead", "dead") of their saga (dead_letter_store.c),
 * formatted and parsed here (dead_letter.c). Internal to libes;
 * es_saga_dead_letters() in es_saga_run.h reads them back.
 */
#ifndef ES__DEAD_LETTER_H
#define ES__DEAD_LETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "es/es_arena.h"
#include "es/es_desc.h"
#include "es/es_saga_run.h"
#include "es/es_store.h"
#include "es/es_types.h"

/* The key of a saga's dead-letter stream; its type is "saga:<Name>#dead". */
#define ES__DEAD_KEY "dead"

/* What one dead letter says. Strings are NUL-terminated; `command_type`
 * and `command_value` (the decoded command, may be NULL when it did not
 * decode) give the readable "command" member, `msgpack` the exact bytes
 * re-dispatch executes. */
typedef struct es__dead_letter {
  es_uuid id;
  const char *saga;
  const char *key;
  uint64_t step;
  uint32_t effect;
  const char *target;
  const char *instance;
  es_uuid correlation;
  const char *error;     /* es_err_name() of the last failure */
  const char *rejection; /* "" unless rejected */
  const char *message;
  uint32_t attempts;
  int64_t time_us;
  const es_type_desc *command_type;
  const void *command_value;
  const uint8_t *msgpack;
  size_t msgpack_len;
} es__dead_letter;

/* Formats `d` as one JSON object, without a newline, into `out`; with
 * `readable` false the "command" member is null (the line then holds only
 * what re-dispatch needs, for a command too large to show twice). Returns
 * 0 or the buffer's error. */
int es__dead_letter_format(const es__dead_letter *d, bool readable,
                           es_buf *out);

/* Formats the line marking letter `id` resolved at `time_us`. */
int es__dead_letter_format_resolved(const char *id, int64_t time_us,
                                    es_buf *out);

/* Parses one line (`len` bytes, NUL-terminated) into `dl`; its strings and
 * command bytes are allocated from `a`. Unknown members are passed over.
 * Returns 0 for a letter, 1 for a line marking letter `dl->id` resolved
 * (an id shorter than 40 bytes), -1 for anything else, or ES_ENOMEM. */
int es__dead_letter_parse(const char *line, size_t len, es_arena *a,
                          es_dead_letter *dl);

/* Reads the dead-letter lines of `f` (a file of an earlier version) in
 * order, passing over blank ones, and calls `fn` with each parsed line:
 * `kind` as es__dead_letter_parse() returns it, `dl->line_no` the line's
 * number, `dl->line` the line without its newline, `len` its length.
 * Returns 0, the first nonzero value `fn` returns, ES_ECORRUPT for a line
 * that does not parse (its number in `*bad_line`, may be NULL), ES_EIO,
 * ES_ENOMEM. */
int es__dead_letter_read_lines(FILE *f,
                               int (*fn)(es_dead_letter *dl, int kind,
                                         size_t len, void *ctx),
                               void *ctx, uint64_t *bad_line);

/* The type id of dead-letter records: es_fnv1a64("es.saga.dead_letter"). */
uint64_t es__dead_letter_type(void);

/* Writes the stream type of saga `saga`'s dead letters into `out`.
 * Returns 0, or ES_EINVAL for a saga name that is empty or too long. */
int es__dead_letter_stream(const char *saga, char out[ES_STREAM_TYPE_MAX + 1]);

/* The record of letter `d` for its saga's dead-letter stream: the JSON
 * line in `line` (readable, or without the decoded command when the
 * readable line would pass `max` bytes), `ev` pointing at it. Returns 0,
 * ES_ETOOBIG (over `max` even so), ES_ENOMEM. */
int es__dead_letter_record(const es__dead_letter *d, size_t max, es_buf *line,
                           es_new_event *ev);

#endif
