/*
 * test_message.h - the failure message the test helpers build: printf
 * text plus values shown as JSON. Internal to libes.
 */
#ifndef ES__TEST_MESSAGE_H
#define ES__TEST_MESSAGE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "es/es_arena.h"
#include "es/es_desc.h"

typedef struct es__message {
  char *text; /* NUL-terminated; NULL until the first allocation */
  size_t len, cap;
} es__message;

/* Prepares an empty message: 0, or ES_ENOMEM. */
int es__message_init(es__message *m);
void es__message_free(es__message *m);
void es__message_clear(es__message *m);

/* Appends printf-style text; on allocation failure the message is cut. */
void es__message_vadd(es__message *m, const char *fmt, va_list ap);

/* Appends `value` of `type` as JSON, or a note saying why not. */
void es__message_json(es__message *m, const es_type_desc *type,
                      const void *value);

/* Appends encoded bytes `p[0 .. len)` of `type` as JSON, decoding them
 * into `a`. */
void es__message_decoded(es__message *m, es_arena *a, const es_type_desc *type,
                         const void *p, size_t len);

/* Records the first setup failure of a test helper: `*setup_rc` = `rc`
 * and the message says "setup failed: <what>: <code> (<text>)"; once one
 * is recorded, a later failure changes neither. Returns `rc`. */
int es__message_setup_failed(es__message *m, int *setup_rc, int rc,
                             const char *what);

/* The preconditions of a then check named `check`: no setup failed (its
 * message stays), and `ran` (else the message says "<check>: no <first>
 * ran before it"). Clears the message and `a` for the check when it may
 * go on. */
bool es__message_check_start(es__message *m, es_arena *a, int setup_rc,
                             bool ran, const char *check, const char *first);

/* The text ("" when empty). */
const char *es__message_text(const es__message *m);

#endif
