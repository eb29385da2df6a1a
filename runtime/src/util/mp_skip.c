/*
 * mp_skip.c - skipping one msgpack value of any type.
 *
 * Iterative, with an explicit stack of "values still to skip" per open
 * array or map, so hostile nesting costs neither C stack nor heap. Every
 * step consumes at least one input byte, and a container's count is
 * checked against the bytes left before it is entered, so the work is
 * linear in the input whatever the headers claim.
 */
#include <stdint.h>

#include "es/es_mp.h"

/* What one header says: skip `hdr + len` bytes, then `items` values. */
typedef struct mp_head {
  size_t hdr;     /* bytes of the header itself */
  uint64_t len;   /* payload bytes after the header */
  uint64_t items; /* values inside (2 per map entry) */
  int is_container;
} mp_head;

/* Decodes the header at `p`; 0, ES_ETRUNC or ES_EDECODE. */
static int mp_head_read(const uint8_t *p, size_t rem, mp_head *h) {
  uint8_t c = p[0];

  h->hdr = 1;
  h->len = 0;
  h->items = 0;
  h->is_container = 0;

  if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
    return 0;
  if (c <= 0x8f) {
    h->items = 2u * (uint64_t)(c & 0x0f), h->is_container = 1;
    return 0;
  }
  if (c <= 0x9f) {
    h->items = c & 0x0f, h->is_container = 1;
    return 0;
  }
  if (c <= 0xbf) {
    h->len = c & 0x1f;
    return 0;
  }

  switch (c) {
  case 0xc4: /* bin 8 */
  case 0xd9: /* str 8 */
    h->hdr = 2;
    break;
  case 0xc5: /* bin 16 */
  case 0xda: /* str 16 */
  case 0xdc: /* array 16 */
  case 0xde: /* map 16 */
    h->hdr = 3;
    break;
  case 0xc6: /* bin 32 */
  case 0xdb: /* str 32 */
  case 0xdd: /* array 32 */
  case 0xdf: /* map 32 */
    h->hdr = 5;
    break;
  case 0xc7: /* ext 8: length, type, data */
    h->hdr = 3;
    break;
  case 0xc8: /* ext 16 */
    h->hdr = 4;
    break;
  case 0xc9: /* ext 32 */
    h->hdr = 6;
    break;
  case 0xca: /* float 32 */
    h->len = 4;
    return 0;
  case 0xcb: /* float 64 */
    h->len = 8;
    return 0;
  case 0xcc: /* uint 8 */
  case 0xd0: /* int 8 */
    h->len = 1;
    return 0;
  case 0xcd:
  case 0xd1:
    h->len = 2;
    return 0;
  case 0xce:
  case 0xd2:
    h->len = 4;
    return 0;
  case 0xcf:
  case 0xd3:
    h->len = 8;
    return 0;
  case 0xd4: /* fixext 1 .. 16: type byte, then 1 << (c - 0xd4) bytes */
  case 0xd5:
  case 0xd6:
  case 0xd7:
  case 0xd8:
    h->hdr = 2;
    h->len = (uint64_t)1 << (c - 0xd4);
    return 0;
  default: /* 0xc1, the one byte msgpack never uses */
    return ES_EDECODE;
  }

  if (rem < h->hdr)
    return ES_ETRUNC;
  switch (c) {
  case 0xc4:
  case 0xd9:
  case 0xc7:
    h->len = p[1];
    break;
  case 0xc5:
  case 0xda:
  case 0xc8:
    h->len = es__mp_ld16(p + 1);
    break;
  case 0xc6:
  case 0xdb:
  case 0xc9:
    h->len = es__mp_ld32(p + 1);
    break;
  case 0xdc:
    h->items = es__mp_ld16(p + 1), h->is_container = 1;
    break;
  case 0xdd:
    h->items = es__mp_ld32(p + 1), h->is_container = 1;
    break;
  case 0xde:
    h->items = 2u * (uint64_t)es__mp_ld16(p + 1), h->is_container = 1;
    break;
  default: /* 0xdf */
    h->items = 2u * (uint64_t)es__mp_ld32(p + 1), h->is_container = 1;
    break;
  }
  return 0;
}

/* Nesting counts like es_mp_read_array(): the reader's own depth plus the
 * containers opened here; the reader is left untouched on failure. */
int es_mp_skip(es_mp_reader *r) {
  uint64_t left[ES_MP_MAX_DEPTH + 1]; /* values still to skip, per level */
  const uint8_t *p = r->p;
  int base = r->depth > 0 ? r->depth : 0;
  int top = 0;
  int rc;

  left[0] = 1;
  while (top >= 0) {
    size_t rem = (size_t)(r->end - p);
    mp_head h;

    if (left[top] == 0) {
      top--;
      continue;
    }
    left[top]--;
    if (rem < 1)
      return ES_ETRUNC;
    rc = mp_head_read(p, rem, &h);
    if (rc)
      return rc;
    if (rem < h.hdr || h.len > rem - h.hdr)
      return ES_ETRUNC;
    p += h.hdr + (size_t)h.len;
    if (h.is_container) {
      /* each value takes at least one byte */
      if (h.items > (uint64_t)(r->end - p))
        return ES_ETRUNC;
      if (base + top >= ES_MP_MAX_DEPTH)
        return ES_EDEPTH;
      left[++top] = h.items;
    }
  }
  r->p = p;
  return 0;
}
