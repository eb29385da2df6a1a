/*
 * test_hostile.c - generated decoders against bytes nobody should send:
 * truncations, lengths claiming 4 GiB, wrong types at every position,
 * nesting past the limit, arenas too small, and a long run of randomly
 * mutated encodings. Every case must end in an ES_E* code (or a value
 * that encodes again), never a crash, a hang or a huge allocation.
 *
 * Inputs are copied into buffers of exactly their length, so a sanitizer
 * build catches any read past the end.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kitchen.es.h"
#include "kitchen_pack.h"
#include "kitchen_values.h"

static es_arena arena;
static es_buf buf;
static kp_buf kp;

static void setup(void) {
  es_arena_init(&arena, (size_t)8 << 20);
  es_buf_init(&buf, 0);
  kp_open(&kp);
  kp_int_mode = KP_MIN;
}

static void teardown(void) {
  kp_close(&kp);
  es_buf_close(&buf);
  es_arena_close(&arena);
}

TestSuite(hostile, .init = setup, .fini = teardown);

/* Decodes `len` bytes of `data` as `t` from a heap copy of exactly that
 * size, into a fresh value, with the arena emptied first. */
static int decode_exact(const es_type_desc *t, const void *data, size_t len) {
  void *copy = malloc(len ? len : 1);
  void *value = malloc(t->size);
  int rc;
  cr_assert(copy && value);
  if (len)
    memcpy(copy, data, len);
  es_arena_reset(&arena);
  rc = es_type_decode(t, value, copy, len, &arena);
  free(value);
  free(copy);
  return rc;
}

/* ---- a corpus of valid encodings ----------------------------------------- */

typedef struct sample {
  const es_type_desc *type;
  uint8_t *data;
  size_t len;
} sample;

static sample corpus[16];
static size_t n_corpus;

static void add(const es_type_desc *t, const void *v) {
  es_buf b = ES_BUF_INIT;
  cr_assert_eq(es_type_encode(t, v, &b), 0, "%s", t->name);
  corpus[n_corpus].type = t;
  corpus[n_corpus].data = b.data; /* owned from here on */
  corpus[n_corpus].len = b.len;
  n_corpus++;
}

/* Small values of the richest types (no 70000-element lists: every
 * truncation of every sample is tried). */
static void build_corpus(void) {
  static kitchen_scalars s1, s2;
  static kitchen_optionals o1, o2;
  static kitchen_lists l;
  static kitchen_bounded b;
  static kitchen_shape sh;
  static kitchen_oven_configured c;
  static kitchen_oven_defaults d;
  static kitchen_oven_state st;
  static kitchen_oven_baked bk;
  static const char *dishes[2] = {"pie", KV_UNICODE};

  kv_scalars_unicode(&s1);
  kv_scalars_min(&s2);
  kv_optionals_full(&o1);
  kv_optionals_zero(&o2);
  kv_lists_full(&l);
  l.l_i32.count = 5;
  l.l_u8.count = 6;
  kv_bounded_max(&b);
  kv_shape_full(&sh);
  kv_configured_full(&c);
  c.lists = l;
  kitchen_oven_defaults_init(&d);
  kitchen_oven_state_init(&st);
  st.shapes.items = &sh;
  st.shapes.count = 1;
  st.last = &sh;
  st.dishes.items = dishes;
  st.dishes.count = 2;
  kitchen_oven_baked_init(&bk);
  bk.dishes.items = dishes;
  bk.dishes.count = 2;

  n_corpus = 0;
  add(&kitchen_scalars_desc, &s1);
  add(&kitchen_scalars_desc, &s2);
  add(&kitchen_optionals_desc, &o1);
  add(&kitchen_optionals_desc, &o2);
  add(&kitchen_lists_desc, &l);
  add(&kitchen_bounded_desc, &b);
  add(&kitchen_shape_desc, &sh);
  add(&kitchen_node_desc, kv_tree());
  add(&kitchen_oven_configured_desc, &c);
  add(&kitchen_oven_defaults_desc, &d);
  add(&kitchen_oven_state_desc, &st);
  add(&kitchen_oven_baked_desc, &bk);
}

static void free_corpus(void) {
  for (size_t i = 0; i < n_corpus; i++)
    free(corpus[i].data);
  n_corpus = 0;
}

/* ---- truncation -------------------------------------------------------- */

Test(hostile, every_truncation_fails) {
  build_corpus();
  for (size_t k = 0; k < n_corpus; k++) {
    const sample *s = &corpus[k];
    cr_assert_eq(decode_exact(s->type, s->data, s->len), 0, "%s",
                 s->type->name);
    for (size_t len = 0; len < s->len; len++) {
      int rc = decode_exact(s->type, s->data, len);
      cr_assert_eq(rc, ES_ETRUNC, "%s cut to %zu of %zu bytes: %s",
                   s->type->name, len, s->len, es_err_name(rc));
    }
  }
  free_corpus();
}

/* ---- lengths claiming 4 GiB --------------------------------------------- */

Test(hostile, oversized_length_headers) {
  /* top-level array32 claiming 2^32-1 fields */
  static const uint8_t top[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
  /* Point with a str32 / bin32 / array32 / map32 / ext32 of 4 GiB - 1 as
   * a newer writer's third field */
  static const uint8_t tails[][6] = {
      {0xdb, 0xff, 0xff, 0xff, 0xff, 'x'}, {0xc6, 0xff, 0xff, 0xff, 0xff, 1},
      {0xdd, 0xff, 0xff, 0xff, 0xff, 1},   {0xdf, 0xff, 0xff, 0xff, 0xff, 1},
      {0xc9, 0xff, 0xff, 0xff, 0xff, 1},   {0xdc, 0xff, 0xff, 0x00, 0x00, 0}};
  uint8_t in[16];
  cr_assert_eq(decode_exact(&kitchen_point_desc, top, sizeof top), ES_ETRUNC);
  for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
    in[0] = 0x93, in[1] = 0x01, in[2] = 0x02;
    memcpy(in + 3, tails[i], 6);
    cr_assert_eq(decode_exact(&kitchen_point_desc, in, 9), ES_ETRUNC,
                 "tail %zu", i);
  }

  /* in a field: Scalars with f_string as str32, f_bytes as bin32 */
  kitchen_scalars s;
  kitchen_scalars_init(&s);
  for (int which = 11; which <= 12; which++) {
    msgpack_packer *pk = kp_reset(&kp);
    msgpack_pack_array(pk, 15);
    for (int i = 0; i < 15; i++) {
      if (i == which) {
        msgpack_sbuffer_write(&kp.sb, which == 11 ? "\xdb" : "\xc6", 1);
        msgpack_sbuffer_write(&kp.sb, "\xff\xff\xff\xff", 4);
      } else if (i == 0) {
        msgpack_pack_true(pk);
      } else if (i == 9 || i == 10) {
        msgpack_pack_double(pk, 0.5);
      } else if (i == 11) {
        kp_str(pk, "");
      } else if (i == 12 || i == 14) {
        kp_bin(pk, s.f_uuid.bytes, i == 12 ? 0 : 16);
      } else {
        msgpack_pack_int(pk, 0);
      }
    }
    cr_assert_eq(decode_exact(&kitchen_scalars_desc, kp.sb.data, kp.sb.size),
                 ES_ETRUNC, "field %d", which);
  }

  /* a list as array32 of 2^32-1: refused before any allocation */
  msgpack_packer *pk = kp_reset(&kp);
  msgpack_pack_array(pk, 17);
  msgpack_sbuffer_write(&kp.sb, "\xdd\xff\xff\xff\xff", 5);
  for (int i = 0; i < 64; i++)
    msgpack_pack_true(pk);
  cr_assert_eq(decode_exact(&kitchen_lists_desc, kp.sb.data, kp.sb.size),
               ES_ETRUNC);
  cr_assert_lt(es_arena_used(&arena), 4096, "nothing big was allocated");
}

Test(hostile, list_that_fits_the_input_but_not_the_arena) {
  /* 200000 nils claim to be 200000 Nodes: the claim fits the input, the
   * items (tens of bytes each) do not fit a 1 MiB arena */
  size_t n = 200000;
  uint8_t *in = malloc(n + 16);
  es_arena small;
  kitchen_node out;
  size_t k = 0;
  in[k++] = 0x93;
  in[k++] = 0x01;
  in[k++] = 0xdd;
  in[k++] = (uint8_t)(n >> 24), in[k++] = (uint8_t)(n >> 16);
  in[k++] = (uint8_t)(n >> 8), in[k++] = (uint8_t)n;
  memset(in + k, 0xc0, n);
  k += n;
  in[k++] = 0xc0;
  es_arena_init(&small, (size_t)1 << 20);
  cr_assert_eq(kitchen_node_decode(&out, in, k, &small), ES_ENOMEM);
  cr_assert_leq(small.reserved, (size_t)1 << 20);
  /* with room for the items, the first nil is the error */
  cr_assert_eq(kitchen_node_decode(&out, in, k, &arena), ES_ETYPE);
  es_arena_close(&small);
  free(in);
}

/* ---- wrong types at every position ----------------------------------------
 */

/* Values to put where a field goes, and what each field accepts. */
enum {
  W_NIL,
  W_TRUE,
  W_ZERO,
  W_NEG,
  W_F64,
  W_STR,
  W_BIN16,
  W_BIN3,
  W_ARR,
  W_MAP,
  W_C1,
  N_WRONG
};

static void pack_wrong(msgpack_packer *pk, int w) {
  static const uint8_t b16[16];
  switch (w) {
  case W_NIL:
    msgpack_pack_nil(pk);
    break;
  case W_TRUE:
    msgpack_pack_true(pk);
    break;
  case W_ZERO:
    msgpack_pack_int(pk, 0);
    break;
  case W_NEG:
    msgpack_pack_int(pk, -1);
    break;
  case W_F64:
    msgpack_pack_double(pk, 1.5);
    break;
  case W_STR:
    kp_str(pk, "str");
    break;
  case W_BIN16:
    kp_bin(pk, b16, 16);
    break;
  case W_BIN3:
    kp_bin(pk, b16, 3);
    break;
  case W_ARR:
    msgpack_pack_array(pk, 0);
    break;
  case W_MAP:
    msgpack_pack_map(pk, 0);
    break;
  case W_C1:
    msgpack_sbuffer_write(&kp.sb, "\xc1", 1);
    break;
  }
}

typedef enum { K_BOOL, K_INT, K_UINT, K_FLOAT, K_STR, K_BYTES, K_UUID } k_class;

/* What decoding `w` into a field of class `k` must return. */
static int expect(k_class k, int w) {
  switch (w) {
  case W_TRUE:
    return k == K_BOOL ? 0 : ES_ETYPE;
  case W_ZERO:
    return k == K_INT || k == K_UINT ? 0 : ES_ETYPE;
  case W_NEG:
    return k == K_INT ? 0 : k == K_UINT ? ES_ERANGE : ES_ETYPE;
  case W_F64:
    return k == K_FLOAT ? 0 : ES_ETYPE;
  case W_STR:
    return k == K_STR ? 0 : ES_ETYPE;
  case W_BIN16:
    return k == K_BYTES || k == K_UUID ? 0 : ES_ETYPE;
  case W_BIN3:
    return k == K_BYTES ? 0 : k == K_UUID ? ES_EDECODE : ES_ETYPE;
  default: /* nil, array, map, 0xc1 */
    return ES_ETYPE;
  }
}

static const k_class scalar_class[15] = {
    K_BOOL, K_INT,   K_INT,   K_INT, K_INT,   K_UINT, K_UINT, K_UINT,
    K_UINT, K_FLOAT, K_FLOAT, K_STR, K_BYTES, K_INT,  K_UUID};

typedef struct wrong_at {
  uint32_t field;
  int w;
} wrong_at;

static bool put_wrong(msgpack_packer *pk, uint32_t i, void *ctx) {
  const wrong_at *at = ctx;
  if (i != at->field)
    return false;
  pack_wrong(pk, at->w);
  return true;
}

Test(hostile, wrong_type_at_every_scalar_position) {
  kitchen_scalars s;
  kitchen_scalars_init(&s);
  for (uint32_t f = 0; f < 15; f++) {
    for (int w = 0; w < N_WRONG; w++) {
      wrong_at at = {f, w};
      kp_scalars(kp_reset(&kp), &s, 15, put_wrong, &at);
      int rc = decode_exact(&kitchen_scalars_desc, kp.sb.data, kp.sb.size);
      cr_assert_eq(rc, expect(scalar_class[f], w), "field %u value %d: %s", f,
                   w, es_err_name(rc));
    }
  }
}

Test(hostile, wrong_type_at_every_optional_position) {
  /* as above, except that nil is every optional's "absent" */
  static const k_class cls[16] = {
      K_BOOL, K_INT,   K_INT,   K_INT, K_INT,   K_UINT, K_UINT, K_UINT,
      K_UINT, K_FLOAT, K_FLOAT, K_STR, K_BYTES, K_INT,  K_UUID, K_UINT};
  kitchen_optionals o;
  kv_optionals_full(&o);
  for (uint32_t f = 0; f < 19; f++) {
    for (int w = 0; w < N_WRONG; w++) {
      wrong_at at = {f, w};
      int want;
      if (w == W_NIL)
        want = 0;
      else if (f < 16)
        want = expect(cls[f], w);
      else if (f == 16) /* Point: an empty array lacks its fields */
        want = w == W_ARR ? ES_EMISSING : ES_ETYPE;
      else if (f == 17) /* list<i32> */
        want = w == W_ARR ? 0 : ES_ETYPE;
      else
        want = expect(K_STR, w);
      kp_optionals(kp_reset(&kp), &o, 19, put_wrong, &at);
      int rc = decode_exact(&kitchen_optionals_desc, kp.sb.data, kp.sb.size);
      cr_assert_eq(rc, want, "field %u value %d: %s", f, w, es_err_name(rc));
    }
  }
}

/* Lists: a non-list at each position, and a list with one bad element. */
static bool put_list(msgpack_packer *pk, uint32_t i, void *ctx) {
  const wrong_at *at = ctx;
  if (i != at->field)
    return false;
  if (at->w < 0) {
    kp_str(pk, "not a list");
  } else {
    msgpack_pack_array(pk, 2);
    pack_wrong(pk, W_ZERO);
    pack_wrong(pk, at->w);
  }
  return true;
}

Test(hostile, wrong_type_at_every_list_position) {
  static const k_class cls[16] = {
      K_BOOL, K_INT,   K_INT,   K_INT, K_INT,   K_UINT, K_UINT, K_UINT,
      K_UINT, K_FLOAT, K_FLOAT, K_STR, K_BYTES, K_INT,  K_UUID, K_UINT};
  kitchen_lists l;
  kitchen_lists_init(&l);
  for (uint32_t f = 0; f < 17; f++) {
    wrong_at at = {f, -1};
    kp_lists(kp_reset(&kp), &l, 17, put_list, &at);
    cr_assert_eq(decode_exact(&kitchen_lists_desc, kp.sb.data, kp.sb.size),
                 ES_ETYPE, "field %u", f);
    /* [0, x]: 0 already fails unless the elements are integers (or
     * enums: 0 is Red); else x decides */
    for (int w = 0; w < N_WRONG; w++) {
      at.w = w;
      int want;
      if (f == 16) /* Point: 0 is not an array */
        want = ES_ETYPE;
      else if (expect(cls[f], W_ZERO) != 0)
        want = expect(cls[f], W_ZERO);
      else
        want = expect(cls[f], w);
      kp_lists(kp_reset(&kp), &l, 17, put_list, &at);
      int rc = decode_exact(&kitchen_lists_desc, kp.sb.data, kp.sb.size);
      cr_assert_eq(rc, want, "field %u value %d: %s", f, w, es_err_name(rc));
    }
  }
}

Test(hostile, wrong_shapes_of_records) {
  kitchen_shape sh;
  msgpack_packer *pk;
  kv_shape_full(&sh);
  /* origin: an int, a one-field array, an array of strings */
  for (int k = 0; k < 3; k++) {
    pk = kp_reset(&kp);
    msgpack_pack_array(pk, 5);
    kp_str(pk, "s");
    msgpack_pack_int(pk, 0);
    if (k == 0) {
      msgpack_pack_int(pk, 5);
    } else if (k == 1) {
      msgpack_pack_array(pk, 1);
      msgpack_pack_int(pk, 1);
    } else {
      msgpack_pack_array(pk, 2);
      kp_str(pk, "x");
      kp_str(pk, "y");
    }
    msgpack_pack_array(pk, 0);
    msgpack_pack_nil(pk);
    int want[] = {ES_ETYPE, ES_EMISSING, ES_ETYPE};
    cr_assert_eq(decode_exact(&kitchen_shape_desc, kp.sb.data, kp.sb.size),
                 want[k], "case %d", k);
  }
  /* a map where the top-level array goes */
  pk = kp_reset(&kp);
  msgpack_pack_map(pk, 1);
  kp_str(pk, "x");
  msgpack_pack_int(pk, 1);
  cr_assert_eq(decode_exact(&kitchen_point_desc, kp.sb.data, kp.sb.size),
               ES_ETYPE);
  /* nothing at all */
  cr_assert_eq(decode_exact(&kitchen_point_desc, "", 0), ES_ETRUNC);
}

Test(hostile, strings_with_nul_are_refused) {
  kitchen_scalars s;
  kitchen_scalars_init(&s);
  s.f_string = "ab";
  cr_assert_eq(kitchen_scalars_encode(&s, &buf), 0);
  /* "ab" -> "a\0" in place */
  uint8_t *p = memchr(buf.data, 'b', buf.len);
  cr_assert_not_null(p);
  *p = 0;
  cr_assert_eq(decode_exact(&kitchen_scalars_desc, buf.data, buf.len),
               ES_EDECODE);
}

/* ---- nesting ------------------------------------------------------------ */

/* A chain of `n` Nodes as msgpack-c writes it. */
static void pack_chain(int n, bool through_list) {
  static kitchen_node nodes[128];
  kv_chain(nodes, n, through_list);
  kp_node(kp_reset(&kp), &nodes[0], 3, NULL, NULL);
}

Test(hostile, nesting_100_deep_is_edepth) {
  static kitchen_node nodes[100];
  for (int through_list = 0; through_list < 2; through_list++) {
    pack_chain(100, through_list);
    cr_assert_eq(decode_exact(&kitchen_node_desc, kp.sb.data, kp.sb.size),
                 ES_EDEPTH, "through %s", through_list ? "list" : "next");
    kv_chain(nodes, 100, through_list);
    kitchen_point mark = {1, 2};
    es_buf_clear(&buf);
    cr_assert_eq(kitchen_point_encode(&mark, &buf), 0);
    size_t len = buf.len;
    cr_assert_eq(kitchen_node_encode(&nodes[0], &buf), ES_EDEPTH);
    cr_assert_eq(buf.len, len, "the buffer is as it was");
    cr_assert_eq(buf.err, 0);
  }
  /* a newer writer's field nested 100 deep is refused while skipping */
  msgpack_packer *pk = kp_reset(&kp);
  msgpack_pack_array(pk, 3);
  msgpack_pack_int(pk, 1);
  msgpack_pack_int(pk, 2);
  for (int i = 0; i < 100; i++)
    msgpack_pack_array(pk, 1);
  msgpack_pack_nil(pk);
  cr_assert_eq(decode_exact(&kitchen_point_desc, kp.sb.data, kp.sb.size),
               ES_EDEPTH);
}

Test(hostile, cycle_is_refused_not_followed) {
  kitchen_node loop;
  kitchen_node_init(&loop);
  loop.next = &loop;
  cr_assert_eq(kitchen_node_encode(&loop, &buf), ES_EDEPTH);
  cr_assert_eq(buf.len, 0);
  kitchen_node_init(&loop);
  loop.children.items = &loop;
  loop.children.count = 1;
  cr_assert_eq(kitchen_node_encode(&loop, &buf), ES_EDEPTH);
}

Test(hostile, encoder_and_decoder_agree_on_the_depth_limit) {
  /* Whatever the encoder accepts, the decoder reads; whatever it refuses
   * for depth, the decoder would have refused too. */
  static kitchen_node nodes[80];
  int last_ok[2] = {0, 0};
  for (int through_list = 0; through_list < 2; through_list++) {
    for (int n = 1; n <= 80; n++) {
      kitchen_node out;
      kv_chain(nodes, n, through_list);
      es_buf_clear(&buf);
      int enc = kitchen_node_encode(&nodes[0], &buf);
      pack_chain(n, through_list);
      int dec = decode_exact(&kitchen_node_desc, kp.sb.data, kp.sb.size);
      cr_assert(enc == 0 || enc == ES_EDEPTH);
      cr_assert_eq(enc, dec, "%d nodes through %s: encode %s, decode %s", n,
                   through_list ? "lists" : "next", es_err_name(enc),
                   es_err_name(dec));
      if (enc == 0) {
        cr_assert_eq(kitchen_node_decode(&out, buf.data, buf.len, &arena), 0);
        last_ok[through_list] = n;
      }
    }
  }
  /* 64 arrays deep at most: a node is one, its children list another */
  cr_assert_eq(last_ok[0], 63);
  cr_assert_eq(last_ok[1], 32);
}

/* ---- small arenas ------------------------------------------------------- */

Test(hostile, small_arena_limits_fail_cleanly) {
  kitchen_oven_configured in;
  bool succeeded = false;
  kv_configured_full(&in);
  in.lists.l_u8.count = 3000;
  in.lists.l_i32.count = 300;
  cr_assert_eq(kitchen_oven_configured_encode(&in, &buf), 0);
  for (size_t limit = 1; limit <= ((size_t)64 << 10); limit += limit / 8 + 1) {
    es_arena a;
    kitchen_oven_configured out;
    es_arena_init(&a, limit);
    int rc = kitchen_oven_configured_decode(&out, buf.data, buf.len, &a);
    cr_assert(rc == 0 || rc == ES_ENOMEM, "limit %zu: %s", limit,
              es_err_name(rc));
    cr_assert_leq(a.reserved, limit, "limit %zu kept", limit);
    if (rc == 0) {
      eq_configured(&in, &out);
      succeeded = true;
    } else {
      /* the arena is still usable once emptied */
      es_arena_reset(&a);
      cr_assert_eq(
          kitchen_point_decode(&(kitchen_point){0}, "\x92\x01\x02", 3, &a), 0);
    }
    es_arena_close(&a);
  }
  cr_assert(succeeded, "64 KiB is enough");
}

/* ---- random mutations --------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

Test(hostile, random_mutations_never_crash, .timeout = 120) {
  static const uint8_t interesting[] = {
      0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
      0xc1, 0xc2, 0xc3, 0xc4, 0xc6, 0xca, 0xcb, 0xcc, 0xcf, 0xd0,
      0xd3, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
  size_t decoded = 0, failed = 0;
  build_corpus();
  for (int iter = 0; iter < 20000; iter++) {
    const sample *s = &corpus[(size_t)iter % n_corpus];
    size_t len = s->len, cap = s->len + 64;
    uint8_t *in = malloc(cap);
    memcpy(in, s->data, len);
    int n_mut = 1 + (int)(next_rand() % 4);
    for (int m = 0; m < n_mut && len; m++) {
      size_t at = (size_t)(next_rand() % len);
      switch (next_rand() % 5) {
      case 0: /* any byte */
        in[at] = (uint8_t)next_rand();
        break;
      case 1: /* a header byte */
        in[at] = interesting[next_rand() % sizeof interesting];
        break;
      case 2: /* one bit */
        in[at] ^= (uint8_t)(1u << (next_rand() % 8));
        break;
      case 3: /* cut */
        len = at;
        break;
      default: { /* repeat a few bytes in place */
        size_t n = 1 + (size_t)(next_rand() % 8);
        if (len + n <= cap && at + n <= len) {
          memmove(in + at + n, in + at, len - at);
          len += n;
        }
        break;
      }
      }
    }
    /* exact-size copy: a read past `len` is a sanitizer error */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, in, len);
    free(in);
    void *value = calloc(1, s->type->size);
    es_arena_reset(&arena);
    int rc = es_type_decode(s->type, value, exact, len, &arena);
    if (rc == 0) {
      /* what decodes, encodes again, and that encoding is stable */
      es_buf one = ES_BUF_INIT, two = ES_BUF_INIT;
      void *again = calloc(1, s->type->size);
      int erc = es_type_encode(s->type, value, &one);
      cr_assert_eq(erc, 0, "iteration %d (%s): decoded, but encode says %s",
                   iter, s->type->name, es_err_name(erc));
      cr_assert_eq(es_type_decode(s->type, again, one.data, one.len, &arena), 0,
                   "iteration %d", iter);
      cr_assert_eq(es_type_encode(s->type, again, &two), 0);
      cr_assert_eq(one.len, two.len, "iteration %d", iter);
      cr_assert(memcmp(one.data, two.data, one.len) == 0, "iteration %d", iter);
      es_buf_close(&one);
      es_buf_close(&two);
      free(again);
      decoded++;
    } else {
      cr_assert(rc <= ES_EINVAL && rc >= ES_EUPCAST, "iteration %d: %d", iter,
                rc);
      failed++;
    }
    free(value);
    free(exact);
  }
  free_corpus();
  /* both outcomes are common, or the mutations test nothing */
  cr_assert_gt(decoded, 1000, "%zu decoded", decoded);
  cr_assert_gt(failed, 1000, "%zu failed", failed);
}
