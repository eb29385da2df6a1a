/*
 * command_index.h - which append carried out each command id, for as long
 * as the store's command retention: the memory behind
 * es_store_command_find() in the memory and log stores.
 *
 * Internal to libes. Entries are kept in position order (a queue: new ones
 * at the back, expired ones leave at the front) and found by id through an
 * open-addressing table of queue numbers, hashed with SipHash under a
 * random key (command ids come from callers). An entry is the first append
 * whose events carry the id as their causation id: the run of consecutive
 * positions holding it, and the timestamp of its first event. A later
 * append with the same id is not recorded (the first result stands).
 *
 * Appends reserve before they commit and note after, so noting never
 * fails: es__cmd_index_reserve() for every event an append may note (under
 * the store's lock, with the other things that can fail), then one
 * es__cmd_index_note() per event, each using one reserved place, or
 * es__cmd_index_release() of the places an append that failed will not
 * use. Not thread-safe: the store locks.
 */
#ifndef ES__COMMAND_INDEX_H
#define ES__COMMAND_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "es/es_store.h"

typedef struct es__cmd_entry {
  es_uuid id;
  uint64_t first;  /* position of its first event */
  uint32_t n;      /* consecutive events from `first` */
  es_timestamp at; /* the first event's timestamp */
  uint64_t hash;   /* of `id`, kept for moving table slots */
} es__cmd_entry;

typedef struct es__cmd_index {
  es__cmd_entry *q; /* the queue: q[h .. h + n) are numbers base .. + n */
  size_t h, n, cap, pending;
  uint64_t base;
  uint64_t *slots; /* 0: empty; see SLOT() in command_index.c */
  size_t n_slots;  /* 0 or a power of two, kept at most half full */
  uint64_t k0, k1;
  int64_t retention_us; /* negative: forever */
} es__cmd_index;

/* An empty index whose entries expire `retention_us` after their time
 * (negative: never), hashing under the key (k0, k1). */
void es__cmd_index_init(es__cmd_index *x, int64_t retention_us, uint64_t k0,
                        uint64_t k1);

/* Frees everything. Accepts NULL. */
void es__cmd_index_close(es__cmd_index *x);

/* Makes room for `events` more notes beyond those already reserved.
 * Returns 0 or ES_ENOMEM (nothing reserved then). */
int es__cmd_index_reserve(es__cmd_index *x, size_t events);

/* Gives back `events` reserved places that no note will use. */
void es__cmd_index_release(es__cmd_index *x, size_t events);

/* Notes that the event at `position`, with time `at`, carries causation
 * id `id` (zero: nothing to note), after dropping the entries expired at
 * `now`. Uses one reserved place when there is one. Positions must be
 * noted in ascending order. Returns 0, or ES_ENOMEM only when no place
 * was reserved. */
int es__cmd_index_note(es__cmd_index *x, const es_uuid *id, uint64_t position,
                       es_timestamp at, es_timestamp now);

/* The entry for `id` unless it expired at `now`, or NULL. */
const es__cmd_entry *es__cmd_index_find(const es__cmd_index *x,
                                        const es_uuid *id, es_timestamp now);

/* es_store_command_find() on an index: fills `*out` from the entry for
 * `id` unless it expired at `now`. Returns 0 or ES_ENOTFOUND. */
int es__cmd_index_record(const es__cmd_index *x, const es_uuid *id,
                         es_timestamp now, es_command_record *out);

/* ---- the file form (the embedded log's N.cmd next to segment N) ------- */

/* The image of the entries whose first position is in [first, end): a
 * header (magic "ESLOGCM1", CRC32C of the rest, first, end - first, entry
 * count, latest entry time) and 32 bytes an entry (id, position relative
 * to `first` u32, n u32, time i64), little-endian. `*out` is the
 * caller's to free. Returns 0 or ES_ENOMEM. */
int es__cmd_index_image(const es__cmd_index *x, uint64_t first, uint64_t end,
                        uint8_t **out, size_t *len);

/* Notes the entries of image `b` (`len` bytes) when it is whole and
 * describes exactly positions [first, end); skips them all when even the
 * latest expired at `now`. Returns 0 (loaded or skipped), 1 when the image
 * is unusable (nothing noted), or ES_ENOMEM. */
int es__cmd_index_load(es__cmd_index *x, const uint8_t *b, size_t len,
                       uint64_t first, uint64_t end, es_timestamp now);

/* Calls `fn` for each entry of image `b` (`len` bytes) in order, with the
 * entry's byte offset in the image, when the image is whole and describes
 * exactly positions [first, end). Returns 0, 1 when the image is unusable
 * (no call made), or the first nonzero value `fn` returned. */
int es__cmd_image_each(
    const uint8_t *b, size_t len, uint64_t first, uint64_t end,
    int (*fn)(const es__cmd_entry *e, uint64_t at_byte, void *ctx), void *ctx);

#endif
