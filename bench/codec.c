/*
 * codec.c - encode + decode of a typical event, esgen's generated codec
 * beside a hand-written msgpack-c pair for the same struct, in one run.
 *
 * The event is bank's Account.Deposited {amount, transfer, memo}, the
 * one every deposit stores. Both sides write the same bytes (a positional
 * array of three, the smallest integer encoding) and both decode into a
 * bank_account_deposited whose strings are copied out of the input:
 * esgen into an es_arena, msgpack-c via msgpack_unpack() into a reused
 * msgpack_zone and then a bump buffer. Each side checks what it decodes
 * as a real decoder must (types, the NUL check ours does). Buffers, arenas
 * and zones are reused across iterations, as a store or an executor
 * reuses them. Best of 7 rounds.
 *
 *   codec [ITERATIONS]   (default 2,000,000 per round)
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bank.es.h"

#define ROUNDS 7

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keeps the compiler from dropping work whose result is unused. */
static volatile uint64_t sink;
#define CLOBBER() __asm__ __volatile__("" ::: "memory")

/* ---- the hand-written msgpack-c pair ------------------------------------ */

static int mp_encode(const bank_account_deposited *v, msgpack_packer *pk) {
  size_t n;
  if (msgpack_pack_array(pk, 3) != 0 || msgpack_pack_int64(pk, v->amount))
    return -1;
  if (v->has_transfer) {
    n = strlen(v->transfer);
    if (msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, v->transfer, n))
      return -1;
  } else if (msgpack_pack_nil(pk)) {
    return -1;
  }
  n = strlen(v->memo);
  if (msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, v->memo, n))
    return -1;
  return 0;
}

/* A bump allocator for the decoded strings (what es_arena is to ours). */
typedef struct bump {
  char buf[1024];
  size_t used;
} bump;

static const char *copy_str(bump *b, const msgpack_object_str *s) {
  char *p;
  if (s->size >= sizeof b->buf - b->used || memchr(s->ptr, 0, s->size))
    return NULL;
  p = b->buf + b->used;
  memcpy(p, s->ptr, s->size);
  p[s->size] = '\0';
  b->used += s->size + 1;
  return p;
}

static int mp_decode(bank_account_deposited *v, const char *data, size_t len,
                     msgpack_zone *zone, bump *b) {
  msgpack_object o;
  const msgpack_object *f;
  size_t off = 0;
  if (msgpack_unpack(data, len, &off, zone, &o) != MSGPACK_UNPACK_SUCCESS ||
      o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size < 1)
    return -1;
  f = o.via.array.ptr;
  memset(v, 0, sizeof *v);
  if (f[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
    if (f[0].via.u64 > INT64_MAX)
      return -1;
    v->amount = (int64_t)f[0].via.u64;
  } else if (f[0].type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
    v->amount = f[0].via.i64;
  } else {
    return -1;
  }
  if (o.via.array.size > 1 && f[1].type != MSGPACK_OBJECT_NIL) {
    if (f[1].type != MSGPACK_OBJECT_STR ||
        !(v->transfer = copy_str(b, &f[1].via.str)))
      return -1;
    v->has_transfer = true;
  }
  v->memo = "";
  if (o.via.array.size > 2) {
    if (f[2].type != MSGPACK_OBJECT_STR ||
        !(v->memo = copy_str(b, &f[2].via.str)))
      return -1;
  }
  return 0;
}

/* ---- timing ---------------------------------------------------------------
 */

typedef struct figures {
  double enc, dec, both; /* ns per op, best round */
} figures;

static void best(double *slot, double t0, double t1, long n) {
  double ns = (t1 - t0) / (double)n;
  if (*slot == 0 || ns < *slot)
    *slot = ns;
}

static int check(const bank_account_deposited *a,
                 const bank_account_deposited *b) {
  return a->amount == b->amount && a->has_transfer == b->has_transfer &&
         (!a->has_transfer || strcmp(a->transfer, b->transfer) == 0) &&
         strcmp(a->memo, b->memo) == 0;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  bank_account_deposited ev, out;
  figures es = {0, 0, 0}, mp = {0, 0, 0};
  es_buf buf;
  es_arena arena;
  msgpack_sbuffer sbuf;
  msgpack_packer pk;
  msgpack_zone zone;
  bump b;
  double t0, t1;

  if (n <= 0)
    n = 2000000;
  bank_account_deposited_init(&ev);
  ev.amount = 125050;
  ev.has_transfer = true;
  ev.transfer = "t-2024-000042";
  ev.memo = "rent, March";

  es_buf_init(&buf, 0);
  es_arena_init(&arena, 0);
  msgpack_sbuffer_init(&sbuf);
  msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
  msgpack_zone_init(&zone, 2048);

  /* Same bytes on both sides, and both decode them back. */
  if (bank_account_deposited_encode(&ev, &buf) != 0 || mp_encode(&ev, &pk) ||
      buf.len != sbuf.size || memcmp(buf.data, sbuf.data, buf.len) != 0) {
    fprintf(stderr, "codec: the two encoders disagree\n");
    return 1;
  }
  b.used = 0;
  if (bank_account_deposited_decode(&out, buf.data, buf.len, &arena) != 0 ||
      !check(&ev, &out) ||
      mp_decode(&out, sbuf.data, sbuf.size, &zone, &b) != 0 ||
      !check(&ev, &out)) {
    fprintf(stderr, "codec: a decoder failed\n");
    return 1;
  }
  const size_t len = buf.len;
  char *bytes = malloc(len);
  if (!bytes)
    return 1;
  memcpy(bytes, buf.data, len);

  for (int round = 0; round < ROUNDS; round++) {
    /* esgen: encode */
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      es_buf_clear(&buf);
      bank_account_deposited_encode(&ev, &buf);
      CLOBBER();
    }
    t1 = now_ns();
    best(&es.enc, t0, t1, n);
    /* esgen: decode */
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      es_arena_reset(&arena);
      bank_account_deposited_decode(&out, bytes, len, &arena);
      CLOBBER();
    }
    t1 = now_ns();
    sink += (uint64_t)out.amount;
    best(&es.dec, t0, t1, n);
    /* esgen: both */
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      es_buf_clear(&buf);
      es_arena_reset(&arena);
      bank_account_deposited_encode(&ev, &buf);
      bank_account_deposited_decode(&out, buf.data, buf.len, &arena);
      CLOBBER();
    }
    t1 = now_ns();
    sink += (uint64_t)out.amount;
    best(&es.both, t0, t1, n);

    /* msgpack-c: encode */
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      msgpack_sbuffer_clear(&sbuf);
      mp_encode(&ev, &pk);
      CLOBBER();
    }
    t1 = now_ns();
    best(&mp.enc, t0, t1, n);
    /* msgpack-c: decode */
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      msgpack_zone_clear(&zone);
      b.used = 0;
      mp_decode(&out, bytes, len, &zone, &b);
      CLOBBER();
    }
    t1 = now_ns();
    sink += (uint64_t)out.amount;
    best(&mp.dec, t0, t1, n);
    /* msgpack-c: both */
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      msgpack_sbuffer_clear(&sbuf);
      msgpack_zone_clear(&zone);
      b.used = 0;
      mp_encode(&ev, &pk);
      mp_decode(&out, sbuf.data, sbuf.size, &zone, &b);
      CLOBBER();
    }
    t1 = now_ns();
    sink += (uint64_t)out.amount;
    best(&mp.both, t0, t1, n);
  }

  printf("codec: Account.Deposited {amount: %lld, transfer: \"%s\", memo: "
         "\"%s\"}, %zu bytes of msgpack\n",
         (long long)ev.amount, ev.transfer, ev.memo, len);
  printf("  %ld ops a round, best of %d rounds, ns/op\n", n, ROUNDS);
  printf("  %-24s %8s %8s %16s\n", "", "encode", "decode", "encode+decode");
  printf("  %-24s %8.1f %8.1f %16.1f\n", "esgen (generated)", es.enc, es.dec,
         es.both);
  printf("  %-24s %8.1f %8.1f %16.1f\n", "msgpack-c (hand-written)", mp.enc,
         mp.dec, mp.both);
  printf("  ratio esgen / msgpack-c: encode %.2f, decode %.2f, "
         "encode+decode %.2f\n",
         es.enc / mp.enc, es.dec / mp.dec, es.both / mp.both);
  printf("  target: <= 1.00 (at least as fast), goal <= 0.50: %s\n",
         es.both / mp.both <= 0.5   ? "goal met"
         : es.both / mp.both <= 1.0 ? "target met, goal not"
                                    : "NOT met");

  free(bytes);
  msgpack_zone_destroy(&zone);
  msgpack_sbuffer_destroy(&sbuf);
  es_arena_close(&arena);
  es_buf_close(&buf);
  return 0;
}
