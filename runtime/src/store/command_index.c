/*
 * command_index.c - command id -> the append that carried it out, bounded
 * by a retention time (see command_index.h).
 */
#include <stdlib.h>
#include <string.h>

#include "es/es_error.h"
#include "store/command_index.h"
#include "store/le.h"
#include "store/store_util.h"
#include "util/alloc.h"
#include "util/crc32c.h"
#include "util/hashmap.h"

/* A table slot: bit 63 set (0 is an empty slot), 23 bits of the entry's
 * hash (so that most probes that miss need not read the entry), and its
 * number modulo 2^40 (numbers grow for the life of the index; fewer than
 * 2^40 entries are ever held at once, so the difference to `base` taken
 * modulo 2^40 is exact). */
#define NUM_BITS 40
#define NUM_MASK ((UINT64_C(1) << NUM_BITS) - 1)
#define TAG_MASK ((UINT64_C(1) << 23) - 1)
#define USED (UINT64_C(1) << 63)
#define TAG(h) (((h) >> NUM_BITS) & TAG_MASK)
#define SLOT(h, num) (USED | TAG(h) << NUM_BITS | ((num)&NUM_MASK))

#define IMG_MAGIC "ESLOGCM1"
#define IMG_HDR 48u   /* magic, CRC, pad, first, count, entries, latest */
#define IMG_ENTRY 32u /* id, relative position u32, n u32, time i64 */

/* True when an entry of time `at` has expired at `now`. */
static int expired(const es__cmd_index *x, es_timestamp at, es_timestamp now) {
  return x->retention_us >= 0 && at < now &&
         (uint64_t)now - (uint64_t)at > (uint64_t)x->retention_us;
}

static es__cmd_entry *entry_of(const es__cmd_index *x, uint64_t slot) {
  return &x->q[x->h + (((slot & NUM_MASK) - x->base) & NUM_MASK)];
}

/* The i-th oldest entry. */
static es__cmd_entry *nth(const es__cmd_index *x, size_t i) {
  return &x->q[x->h + i];
}

void es__cmd_index_init(es__cmd_index *x, int64_t retention_us, uint64_t k0,
                        uint64_t k1) {
  memset(x, 0, sizeof *x);
  x->retention_us = retention_us;
  x->k0 = k0;
  x->k1 = k1;
}

void es__cmd_index_close(es__cmd_index *x) {
  if (!x)
    return;
  es__free(x->q);
  es__free(x->slots);
  memset(x, 0, sizeof *x);
}

/* The table slot holding entry number `num`, whose hash is `h`. */
static size_t slot_of(const es__cmd_index *x, uint64_t h, uint64_t num) {
  size_t mask = x->n_slots - 1, i = (size_t)h & mask;
  while ((x->slots[i] & NUM_MASK) != (num & NUM_MASK))
    i = (i + 1) & mask;
  return i;
}

static void table_insert(uint64_t *slots, size_t n_slots, uint64_t h,
                         uint64_t num) {
  size_t mask = n_slots - 1, i = (size_t)h & mask;
  while (slots[i])
    i = (i + 1) & mask;
  slots[i] = SLOT(h, num);
}

/* Empties slot `i` and moves later entries of its probe run back, so that
 * every entry stays reachable from its home slot (no tombstones). */
static void table_remove(es__cmd_index *x, size_t i) {
  size_t mask = x->n_slots - 1, j = i;
  for (;;) {
    size_t k;
    j = (j + 1) & mask;
    if (!x->slots[j])
      break;
    k = (size_t)entry_of(x, x->slots[j])->hash & mask;
    if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
      continue;
    x->slots[i] = x->slots[j];
    i = j;
  }
  x->slots[i] = 0;
}

/* Drops the oldest entry. */
static void pop_front(es__cmd_index *x) {
  table_remove(x, slot_of(x, nth(x, 0)->hash, x->base));
  x->h++;
  x->base++;
  x->n--;
}

/* Grows the queue and the table for `need` entries in all; moving the
 * entries to the front of the queue allocates nothing, so a grow covered
 * by an earlier one cannot fail. */
static int grow(es__cmd_index *x, size_t need) {
  if (x->h && x->h + need > x->cap) {
    memmove(x->q, x->q + x->h, x->n * sizeof *x->q);
    x->h = 0;
  }
  if (need > x->cap) {
    size_t c = x->cap ? x->cap : 64;
    es__cmd_entry *q;
    while (c < need)
      c *= 2;
    q = es__realloc(x->q, c * sizeof *q);
    if (!q)
      return ES_ENOMEM;
    x->q = q;
    x->cap = c;
  }
  if (need * 2 > x->n_slots) {
    size_t ns = x->n_slots ? x->n_slots : 128;
    uint64_t *slots;
    while (ns < need * 2)
      ns *= 2;
    slots = es__calloc(ns, sizeof *slots);
    if (!slots)
      return ES_ENOMEM;
    for (size_t i = 0; i < x->n; i++)
      table_insert(slots, ns, nth(x, i)->hash, x->base + i);
    es__free(x->slots);
    x->slots = slots;
    x->n_slots = ns;
  }
  return 0;
}

int es__cmd_index_reserve(es__cmd_index *x, size_t events) {
  int rc = grow(x, x->n + x->pending + events);
  if (rc == 0)
    x->pending += events;
  return rc;
}

void es__cmd_index_release(es__cmd_index *x, size_t events) {
  x->pending -= events < x->pending ? events : x->pending;
}

/* The entry for `id` whatever its age, or NULL. */
static es__cmd_entry *lookup(const es__cmd_index *x, const es_uuid *id,
                             uint64_t h) {
  size_t mask, i;
  if (!x->n_slots)
    return NULL;
  mask = x->n_slots - 1;
  for (i = (size_t)h & mask; x->slots[i]; i = (i + 1) & mask) {
    es__cmd_entry *e;
    if (TAG(x->slots[i]) != TAG(h))
      continue;
    e = entry_of(x, x->slots[i]);
    if (e->hash == h && memcmp(e->id.bytes, id->bytes, 16) == 0)
      return e;
  }
  return NULL;
}

int es__cmd_index_note(es__cmd_index *x, const es_uuid *id, uint64_t position,
                       es_timestamp at, es_timestamp now) {
  uint64_t h;
  es__cmd_entry *e;

  if (x->pending) /* this note's reserved place */
    x->pending--;
  while (x->n && expired(x, nth(x, 0)->at, now))
    pop_front(x);
  if (es__uuid_is_zero(id))
    return 0;
  if (x->n) {
    e = nth(x, x->n - 1);
    if (e->first + e->n == position &&
        memcmp(e->id.bytes, id->bytes, 16) == 0) {
      e->n++; /* the next event of the same append */
      return 0;
    }
  }
  h = es__siphash13(x->k0, x->k1, id->bytes, 16);
  if (lookup(x, id, h))
    return 0; /* the first append with this id stands */
  if (grow(x, x->n + x->pending + 1) != 0)
    return ES_ENOMEM;
  e = nth(x, x->n);
  e->id = *id;
  e->first = position;
  e->n = 1;
  e->at = at;
  e->hash = h;
  table_insert(x->slots, x->n_slots, h, x->base + x->n);
  x->n++;
  return 0;
}

const es__cmd_entry *es__cmd_index_find(const es__cmd_index *x,
                                        const es_uuid *id, es_timestamp now) {
  const es__cmd_entry *e =
      lookup(x, id, es__siphash13(x->k0, x->k1, id->bytes, 16));
  return e && !expired(x, e->at, now) ? e : NULL;
}

int es__cmd_index_record(const es__cmd_index *x, const es_uuid *id,
                         es_timestamp now, es_command_record *out) {
  const es__cmd_entry *e = es__cmd_index_find(x, id, now);
  if (!e)
    return ES_ENOTFOUND;
  out->first_position = e->first;
  out->last_position = e->first + e->n - 1;
  out->timestamp = e->at;
  return 0;
}

/* Index of the first entry whose first position is at least `p`. */
static size_t lower_bound(const es__cmd_index *x, uint64_t p) {
  size_t lo = 0, hi = x->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (nth(x, mid)->first < p)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int es__cmd_index_image(const es__cmd_index *x, uint64_t first, uint64_t end,
                        uint8_t **out, size_t *len) {
  size_t a = lower_bound(x, first), b = lower_bound(x, end);
  es_timestamp latest = INT64_MIN;
  uint8_t *buf = es__malloc(IMG_HDR + (b - a) * IMG_ENTRY), *p;

  *out = NULL;
  *len = 0;
  if (!buf)
    return ES_ENOMEM;
  memset(buf, 0, IMG_HDR);
  memcpy(buf, IMG_MAGIC, 8);
  es__put64(buf + 16, first);
  es__put64(buf + 24, end - first);
  es__put64(buf + 32, b - a);
  p = buf + IMG_HDR;
  for (size_t i = a; i < b; i++, p += IMG_ENTRY) {
    const es__cmd_entry *e = nth(x, i);
    memcpy(p, e->id.bytes, 16);
    es__put32(p + 16, (uint32_t)(e->first - first));
    es__put32(p + 20, e->n);
    es__put64(p + 24, (uint64_t)e->at);
    if (e->at > latest)
      latest = e->at;
  }
  es__put64(buf + 40, (uint64_t)latest);
  es__put32(buf + 8, es__crc32c(0, buf + 12, (size_t)(p - buf) - 12));
  *out = buf;
  *len = (size_t)(p - buf);
  return 0;
}

/* True when image `b` (`len` bytes) is whole and describes exactly
 * positions [first, end): header, CRC, and entries in order inside it. */
static int image_whole(const uint8_t *b, size_t len, uint64_t first,
                       uint64_t end) {
  uint64_t count, prev = 0;

  if (len < IMG_HDR || memcmp(b, IMG_MAGIC, 8) != 0 ||
      es__get32(b + 8) != es__crc32c(0, b + 12, len - 12) ||
      es__get64(b + 16) != first || es__get64(b + 24) != end - first)
    return 0;
  count = es__get64(b + 32);
  if (count > (len - IMG_HDR) / IMG_ENTRY || len != IMG_HDR + count * IMG_ENTRY)
    return 0;
  for (uint64_t i = 0; i < count; i++) {
    const uint8_t *e = b + IMG_HDR + i * IMG_ENTRY;
    uint64_t rel = es__get32(e + 16), n = es__get32(e + 20);
    if ((i && rel < prev) || n == 0 || rel + n > end - first)
      return 0;
    prev = rel + n;
  }
  return 1;
}

int es__cmd_image_each(
    const uint8_t *b, size_t len, uint64_t first, uint64_t end,
    int (*fn)(const es__cmd_entry *e, uint64_t at_byte, void *ctx), void *ctx) {
  if (!image_whole(b, len, first, end))
    return 1;
  for (size_t off = IMG_HDR; off < len; off += IMG_ENTRY) {
    const uint8_t *p = b + off;
    es__cmd_entry e;
    int rc;
    memset(&e, 0, sizeof e);
    memcpy(e.id.bytes, p, 16);
    e.first = first + es__get32(p + 16);
    e.n = es__get32(p + 20);
    e.at = (es_timestamp)es__get64(p + 24);
    if ((rc = fn(&e, off, ctx)) != 0)
      return rc;
  }
  return 0;
}

/* es__cmd_image_each()'s step for es__cmd_index_load(). */
typedef struct load_ctx {
  es__cmd_index *x;
  es_timestamp now;
} load_ctx;

static int load_entry(const es__cmd_entry *e, uint64_t at_byte, void *vctx) {
  load_ctx *l = vctx;
  (void)at_byte;
  for (uint32_t k = 0; k < e->n; k++) {
    int rc = es__cmd_index_note(l->x, &e->id, e->first + k, e->at, l->now);
    if (rc)
      return rc;
  }
  return 0;
}

int es__cmd_index_load(es__cmd_index *x, const uint8_t *b, size_t len,
                       uint64_t first, uint64_t end, es_timestamp now) {
  load_ctx l = {x, now};
  uint64_t count;

  if (!image_whole(b, len, first, end))
    return 1;
  if (expired(x, (es_timestamp)es__get64(b + 40), now))
    return 0;
  count = es__get64(b + 32);
  if (grow(x, x->n + x->pending + (size_t)count) != 0)
    return ES_ENOMEM;
  return es__cmd_image_each(b, len, first, end, load_entry, &l);
}
