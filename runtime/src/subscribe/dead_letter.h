/*
 * dead_letter.h - writing the dead-letter log (JSON lines). Internal to
 * libes; es_dead_letters_list() in es_saga_run.h reads it back.
 */
#ifndef ES__DEAD_LETTER_H
#define ES__DEAD_LETTER_H

#include <stddef.h>
#include <stdint.h>

#include "es/es_desc.h"
#include "es/es_types.h"

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

/* Formats `d` as one JSON line (with its newline) into `out`. Returns 0 or
 * the buffer's error. */
int es__dead_letter_format(const es__dead_letter *d, es_buf *out);

/* Appends `d` to the file at `path` (created 0644 when missing) and
 * fsyncs it: a letter that was reported written survives a crash. Returns
 * 0, ES_EIO, ES_ENOMEM. */
int es__dead_letter_write(const char *path, const es__dead_letter *d);

#endif
