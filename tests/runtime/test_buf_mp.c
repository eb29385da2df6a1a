/*
 * test_buf_mp.c - es_buf and the msgpack primitives.
 *
 * Every writer is checked byte for byte against msgpack-c's own packer at
 * every size boundary, msgpack-c's unpacker must read what we write, and
 * the readers and es_mp_skip() must turn hostile input into error codes.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_buf.h"
#include "es/es_mp.h"

TestSuite(buf, .timeout = 10);
TestSuite(mp, .timeout = 10);

/* ---- helpers ------------------------------------------------------------- */

typedef struct ref {
  msgpack_sbuffer sb;
  msgpack_packer pk;
} ref;

static void ref_init(ref *r) {
  msgpack_sbuffer_init(&r->sb);
  msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void ref_clear(ref *r) { msgpack_sbuffer_clear(&r->sb); }
static void ref_destroy(ref *r) { msgpack_sbuffer_destroy(&r->sb); }

/* Our bytes equal msgpack-c's bytes. */
static void assert_same(const es_buf *b, const ref *r, const char *what,
                        unsigned long long v) {
  cr_assert_eq(b->err, 0, "%s %llu: err %d", what, v, b->err);
  cr_assert_eq(b->len, r->sb.size, "%s %llu: %zu bytes, msgpack-c %zu", what, v,
               b->len, r->sb.size);
  cr_assert(memcmp(b->data, r->sb.data, b->len) == 0,
            "%s %llu: bytes differ (first byte %02x vs %02x)", what, v,
            b->data[0], (unsigned char)r->sb.data[0]);
}

static const uint64_t uint_cases[] = {0,
                                      1,
                                      0x7f,
                                      0x80,
                                      0xff,
                                      0x100,
                                      0xffff,
                                      0x10000,
                                      0xffffffffu,
                                      UINT64_C(0x100000000),
                                      UINT64_C(0x7fffffffffffffff),
                                      UINT64_C(0x8000000000000000),
                                      UINT64_MAX};

static const int64_t int_cases[] = {INT64_MIN,
                                    (int64_t)INT32_MIN - 1,
                                    INT32_MIN,
                                    INT32_MIN + 1,
                                    INT16_MIN - 1,
                                    INT16_MIN,
                                    -129,
                                    -128,
                                    -127,
                                    -33,
                                    -32,
                                    -31,
                                    -1,
                                    0,
                                    1,
                                    0x7f,
                                    0x80,
                                    0xff,
                                    0x100,
                                    INT16_MAX,
                                    0xffff,
                                    0x10000,
                                    INT32_MAX,
                                    0xffffffffLL,
                                    0x100000000LL,
                                    INT64_MAX};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- es_buf -------------------------------------------------------------- */

Test(buf, init_append_clear_close) {
  es_buf b;
  es_buf_init(&b, 0);
  cr_assert_eq(b.max, ES_BUF_DEFAULT_MAX);
  cr_assert_null(b.data);
  es_buf_append(&b, "abc", 3);
  es_buf_append(&b, "defg", 4);
  cr_assert_eq(b.len, 7);
  cr_assert_eq(memcmp(b.data, "abcdefg", 7), 0);
  cr_assert_geq(b.cap, b.len);
  uint8_t *data = b.data;
  es_buf_clear(&b);
  cr_assert_eq(b.len, 0);
  cr_assert_eq(b.data, data, "clear keeps the allocation");
  es_buf_close(&b);
  cr_assert_null(b.data);
  cr_assert_eq(b.len, 0);
  cr_assert_eq(b.cap, 0);
  es_buf_close(NULL);
  /* usable again after close */
  es_buf_append(&b, "x", 1);
  cr_assert_eq(b.len, 1);
  es_buf_close(&b);
}

Test(buf, static_initializer_and_zero_byte_reserve) {
  es_buf b = ES_BUF_INIT;
  uint8_t *d = es_buf_reserve(&b, 0);
  cr_assert_not_null(d, "a 0-byte reserve must give a pointer");
  cr_assert_eq(b.err, 0);
  es_buf_append(&b, NULL, 0);
  cr_assert_eq(b.len, 0);
  cr_assert_eq(b.err, 0);
  es_buf_close(&b);
}

Test(buf, grows_geometrically_and_keeps_content) {
  es_buf b = ES_BUF_INIT;
  size_t reallocs = 0, last_cap = 0;
  for (int i = 0; i < 100000; i++) {
    uint8_t c = (uint8_t)(i * 13);
    es_buf_append(&b, &c, 1);
    if (b.cap != last_cap) {
      reallocs++;
      last_cap = b.cap;
    }
  }
  cr_assert_eq(b.err, 0);
  cr_assert_eq(b.len, 100000);
  cr_assert_lt(reallocs, 20, "%zu reallocations for 100000 appends", reallocs);
  for (int i = 0; i < 100000; i++)
    cr_assert_eq(b.data[i], (uint8_t)(i * 13), "byte %d", i);
  es_buf_close(&b);
}

Test(buf, max_is_never_exceeded_and_error_is_sticky) {
  es_buf b;
  es_buf_init(&b, 100);
  es_buf_append(&b, "0123456789", 10);
  for (int i = 0; i < 9; i++)
    es_buf_append(&b, "0123456789", 10);
  cr_assert_eq(b.err, 0);
  cr_assert_eq(b.len, 100, "exactly max is allowed");
  cr_assert_leq(b.cap, 100);
  es_buf_append(&b, "x", 1);
  cr_assert_eq(b.err, ES_ETOOBIG);
  cr_assert_eq(b.len, 100);
  /* sticky: even an append that would fit does nothing now */
  b.len = 50;
  es_buf_append(&b, "y", 1);
  cr_assert_eq(b.len, 50);
  cr_assert_null(es_buf_reserve(&b, 1));
  es_buf_clear(&b);
  cr_assert_eq(b.err, 0);
  es_buf_append(&b, "z", 1);
  cr_assert_eq(b.len, 1);
  es_buf_close(&b);
}

Test(buf, grow_reports_its_code) {
  es_buf b;
  es_buf_init(&b, 16);
  cr_assert_eq(es__buf_grow(&b, 16), 0);
  cr_assert_geq(b.cap, 16);
  cr_assert_eq(es__buf_grow(&b, 17), ES_ETOOBIG);
  cr_assert_eq(b.err, ES_ETOOBIG);
  cr_assert_eq(es__buf_grow(&b, 1), ES_ETOOBIG, "sticky");
  es_buf_close(&b);

  es_buf_init(&b, 0);
  es_buf_append(&b, "ab", 2);
  cr_assert_eq(es__buf_grow(&b, SIZE_MAX), ES_ETOOBIG, "len + n overflows");
  cr_assert_eq(b.len, 2);
  es_buf_close(&b);
}

Test(buf, huge_max_fails_with_enomem_not_a_crash) {
  es_buf b;
  es_buf_init(&b, SIZE_MAX);
  cr_assert_eq(es__buf_grow(&b, SIZE_MAX / 2), ES_ENOMEM);
  cr_assert_eq(b.err, ES_ENOMEM);
  cr_assert_null(es_buf_reserve(&b, 1));
  es_buf_close(&b);
}

/* ---- writers against msgpack-c ------------------------------------------- */

Test(mp, nil_and_bool_match_msgpack_c) {
  es_buf b = ES_BUF_INIT;
  ref r;
  ref_init(&r);
  es_mp_write_nil(&b);
  es_mp_write_bool(&b, true);
  es_mp_write_bool(&b, false);
  msgpack_pack_nil(&r.pk);
  msgpack_pack_true(&r.pk);
  msgpack_pack_false(&r.pk);
  assert_same(&b, &r, "nil/bool", 0);

  es_mp_reader rd;
  bool v = false;
  es_mp_reader_init(&rd, b.data, b.len);
  cr_assert(es_mp_read_nil(&rd));
  cr_assert_eq(es_mp_read_bool(&rd, &v), 0);
  cr_assert(v);
  cr_assert(!es_mp_read_nil(&rd), "false is not nil");
  cr_assert_eq(es_mp_read_bool(&rd, &v), 0);
  cr_assert(!v);
  cr_assert_eq(es_mp_remaining(&rd), 0);
  cr_assert(!es_mp_read_nil(&rd));
  cr_assert_eq(es_mp_read_bool(&rd, &v), ES_ETRUNC);
  ref_destroy(&r);
  es_buf_close(&b);
}

Test(mp, uint_matches_msgpack_c_and_round_trips) {
  es_buf b = ES_BUF_INIT;
  ref r;
  ref_init(&r);
  for (size_t i = 0; i < N_OF(uint_cases); i++) {
    uint64_t v = uint_cases[i], got = 0;
    es_buf_clear(&b);
    ref_clear(&r);
    es_mp_write_uint(&b, v);
    msgpack_pack_uint64(&r.pk, v);
    assert_same(&b, &r, "uint", (unsigned long long)v);

    es_mp_reader rd;
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_uint(&rd, &got, UINT64_MAX), 0);
    cr_assert_eq(got, v);
    cr_assert_eq(es_mp_remaining(&rd), 0);
  }
  ref_destroy(&r);
  es_buf_close(&b);
}

Test(mp, int_matches_msgpack_c_and_round_trips) {
  es_buf b = ES_BUF_INIT;
  ref r;
  ref_init(&r);
  for (size_t i = 0; i < N_OF(int_cases); i++) {
    int64_t v = int_cases[i], got = 0;
    es_buf_clear(&b);
    ref_clear(&r);
    es_mp_write_int(&b, v);
    msgpack_pack_int64(&r.pk, v);
    assert_same(&b, &r, "int", (unsigned long long)v);

    /* the narrower msgpack-c packers agree for values they can hold */
    if (v >= INT32_MIN && v <= INT32_MAX) {
      ref_clear(&r);
      msgpack_pack_int32(&r.pk, (int32_t)v);
      assert_same(&b, &r, "int32", (unsigned long long)v);
    }
    if (v >= INT16_MIN && v <= INT16_MAX) {
      ref_clear(&r);
      msgpack_pack_int16(&r.pk, (int16_t)v);
      assert_same(&b, &r, "int16", (unsigned long long)v);
    }
    if (v >= INT8_MIN && v <= INT8_MAX) {
      ref_clear(&r);
      msgpack_pack_int8(&r.pk, (int8_t)v);
      assert_same(&b, &r, "int8", (unsigned long long)v);
    }

    es_mp_reader rd;
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_int(&rd, &got, INT64_MIN, INT64_MAX), 0);
    cr_assert_eq(got, v);
    cr_assert_eq(es_mp_remaining(&rd), 0);
  }
  ref_destroy(&r);
  es_buf_close(&b);
}

Test(mp, unsigned_narrow_packers_agree) {
  es_buf b = ES_BUF_INIT;
  ref r;
  ref_init(&r);
  for (size_t i = 0; i < N_OF(uint_cases); i++) {
    uint64_t v = uint_cases[i];
    es_buf_clear(&b);
    es_mp_write_uint(&b, v);
    if (v <= UINT32_MAX) {
      ref_clear(&r);
      msgpack_pack_uint32(&r.pk, (uint32_t)v);
      assert_same(&b, &r, "uint32", (unsigned long long)v);
    }
    if (v <= UINT16_MAX) {
      ref_clear(&r);
      msgpack_pack_uint16(&r.pk, (uint16_t)v);
      assert_same(&b, &r, "uint16", (unsigned long long)v);
    }
    if (v <= UINT8_MAX) {
      ref_clear(&r);
      msgpack_pack_uint8(&r.pk, (uint8_t)v);
      assert_same(&b, &r, "uint8", (unsigned long long)v);
    }
  }
  ref_destroy(&r);
  es_buf_close(&b);
}

Test(mp, floats_match_msgpack_c_and_round_trip_bitwise) {
  static const double dcases[] = {0.0,      -0.0,     1.5,       -2.25,
                                  0.1,      DBL_MAX,  DBL_MIN,   -DBL_MAX,
                                  4.9e-324, INFINITY, -INFINITY, NAN};
  es_buf b = ES_BUF_INIT;
  ref r;
  ref_init(&r);
  for (size_t i = 0; i < N_OF(dcases); i++) {
    double d = dcases[i], dback = 0;
    float f = (float)d, fback = 0;
    es_mp_reader rd;

    es_buf_clear(&b);
    ref_clear(&r);
    es_mp_write_f64(&b, d);
    msgpack_pack_double(&r.pk, d);
    assert_same(&b, &r, "f64 case", i);
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_f64(&rd, &dback), 0);
    cr_assert_eq(memcmp(&d, &dback, sizeof d), 0, "f64 case %zu", i);

    es_buf_clear(&b);
    ref_clear(&r);
    es_mp_write_f32(&b, f);
    msgpack_pack_float(&r.pk, f);
    assert_same(&b, &r, "f32 case", i);
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_f32(&rd, &fback), 0);
    cr_assert_eq(memcmp(&f, &fback, sizeof f), 0, "f32 case %zu", i);
    /* a float32 widens exactly into a double reader */
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_f64(&rd, &dback), 0);
    if (!isnan(f))
      cr_assert_eq(dback, (double)f, "case %zu", i);
  }
  ref_destroy(&r);
  es_buf_close(&b);
}

Test(mp, f64_narrows_into_f32_reader) {
  es_buf b = ES_BUF_INIT;
  es_mp_reader rd;
  float f = 0;
  es_mp_write_f64(&b, 0.1);
  es_mp_reader_init(&rd, b.data, b.len);
  cr_assert_eq(es_mp_read_f32(&rd, &f), 0);
  cr_assert_eq(f, 0.1f);
  es_buf_close(&b);
}

static const size_t blob_lens[] = {0,   1,   15,    16,    31,    32,
                                   255, 256, 65535, 65536, 100000};

Test(mp, str_matches_msgpack_c_at_every_boundary) {
  char *src = malloc(100000);
  cr_assert_not_null(src);
  for (size_t i = 0; i < 100000; i++)
    src[i] = (char)('a' + i % 26);
  es_buf b = ES_BUF_INIT;
  ref r;
  ref_init(&r);
  for (size_t i = 0; i < N_OF(blob_lens); i++) {
    size_t n = blob_lens[i];
    es_buf_clear(&b);
    ref_clear(&r);
    es_mp_write_str(&b, src, n);
    msgpack_pack_str(&r.pk, n);
    msgpack_pack_str_body(&r.pk, src, n);
    assert_same(&b, &r, "str", n);

    es_mp_reader rd;
    const char *p = NULL;
    uint32_t got = 0;
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_str(&rd, &p, &got), 0);
    cr_assert_eq(got, n);
    cr_assert(memcmp(p, src, n) == 0);
    cr_assert(p >= (const char *)b.data &&
                  p + n <= (const char *)b.data + b.len,
              "str must point into the input");
    cr_assert_eq(es_mp_remaining(&rd), 0);
    /* a str is not a bin */
    es_mp_reader_init(&rd, b.data, b.len);
    const uint8_t *bp;
    cr_assert_eq(es_mp_read_bin(&rd, &bp, &got), ES_ETYPE);
  }
  ref_destroy(&r);
  es_buf_close(&b);
  free(src);
}

Test(mp, cstr_writes_null_as_empty) {
  es_buf b = ES_BUF_INIT;
  es_mp_write_cstr(&b, NULL);
  es_mp_write_cstr(&b, "hi");
  cr_assert_eq(b.len, 4);
  cr_assert_eq(memcmp(b.data, "\xa0\xa2hi", 4), 0);
  es_buf_close(&b);
}

Test(mp, bin_matches_msgpack_c_at_every_boundary) {
  uint8_t *src = malloc(100000);
  cr_assert_not_null(src);
  for (size_t i = 0; i < 100000; i++)
    src[i] = (uint8_t)(i * 7);
  es_buf b = ES_BUF_INIT;
  ref r;
  ref_init(&r);
  for (size_t i = 0; i < N_OF(blob_lens); i++) {
    size_t n = blob_lens[i];
    es_buf_clear(&b);
    ref_clear(&r);
    es_mp_write_bin(&b, src, n);
    msgpack_pack_bin(&r.pk, n);
    msgpack_pack_bin_body(&r.pk, src, n);
    assert_same(&b, &r, "bin", n);

    es_mp_reader rd;
    const uint8_t *p = NULL;
    uint32_t got = 0;
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_bin(&rd, &p, &got), 0);
    cr_assert_eq(got, n);
    cr_assert(memcmp(p, src, n) == 0);
    cr_assert_eq(es_mp_remaining(&rd), 0);
    const char *sp;
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_str(&rd, &sp, &got), ES_ETYPE);
  }
  ref_destroy(&r);
  es_buf_close(&b);
  free(src);
}

Test(mp, array_header_matches_msgpack_c_and_round_trips) {
  static const uint32_t counts[] = {
      0, 1, 15, 16, 0xffff, 0x10000, 70000, 0xfffffffeu, UINT32_MAX};
  es_buf b = ES_BUF_INIT;
  ref r;
  ref_init(&r);
  for (size_t i = 0; i < N_OF(counts); i++) {
    uint32_t n = counts[i], got = 0;
    es_buf_clear(&b);
    ref_clear(&r);
    es_mp_write_array(&b, n);
    msgpack_pack_array(&r.pk, n);
    assert_same(&b, &r, "array", n);
    if (n > 100000)
      continue; /* the header alone is checked above */
    size_t hdr = b.len;
    for (uint32_t k = 0; k < n; k++)
      es_mp_write_nil(&b);
    es_mp_reader rd;
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_array(&rd, &got), 0);
    cr_assert_eq(got, n);
    cr_assert_eq(rd.depth, 1);
    cr_assert_eq(es_mp_remaining(&rd), b.len - hdr);
    for (uint32_t k = 0; k < n; k++)
      cr_assert(es_mp_read_nil(&rd));
    es_mp_leave(&rd);
    cr_assert_eq(rd.depth, 0);
    cr_assert_eq(es_mp_remaining(&rd), 0);
  }
  ref_destroy(&r);
  es_buf_close(&b);
}

Test(mp, writers_are_sticky_at_max) {
  es_buf b;
  es_buf_init(&b, 16);
  es_mp_write_str(&b, "0123456789", 10);
  cr_assert_eq(b.err, 0);
  es_mp_write_str(&b, "0123456789", 10);
  cr_assert_eq(b.err, ES_ETOOBIG);
  cr_assert_eq(b.len, 11, "a failed write leaves no partial value");
  es_mp_write_uint(&b, 1);
  es_mp_write_nil(&b);
  cr_assert_eq(b.len, 11);
  es_buf_close(&b);
}

/* ---- msgpack-c reads what we write ----------------------------------------
 */

Test(mp, msgpack_c_unpacks_our_bytes) {
  es_buf b = ES_BUF_INIT;
  static const uint8_t bin[3] = {1, 2, 3};
  char longstr[300];
  memset(longstr, 'q', sizeof longstr);

  es_mp_write_array(&b, 12);
  es_mp_write_nil(&b);
  es_mp_write_bool(&b, true);
  es_mp_write_uint(&b, UINT64_MAX);
  es_mp_write_int(&b, INT64_MIN);
  es_mp_write_int(&b, -200);
  es_mp_write_uint(&b, 300);
  es_mp_write_f32(&b, 1.5f);
  es_mp_write_f64(&b, -0.125);
  es_mp_write_str(&b, "héllo", strlen("héllo"));
  es_mp_write_str(&b, longstr, sizeof longstr);
  es_mp_write_bin(&b, bin, sizeof bin);
  es_mp_write_array(&b, 2);
  es_mp_write_int(&b, -1);
  es_mp_write_array(&b, 0);
  cr_assert_eq(b.err, 0);

  msgpack_unpacked u;
  size_t off = 0;
  msgpack_unpacked_init(&u);
  cr_assert_eq(msgpack_unpack_next(&u, (const char *)b.data, b.len, &off),
               MSGPACK_UNPACK_SUCCESS);
  cr_assert_eq(off, b.len, "msgpack-c consumed %zu of %zu", off, b.len);
  msgpack_object o = u.data;
  cr_assert_eq(o.type, MSGPACK_OBJECT_ARRAY);
  cr_assert_eq(o.via.array.size, 12);
  msgpack_object *e = o.via.array.ptr;
  cr_assert_eq(e[0].type, MSGPACK_OBJECT_NIL);
  cr_assert_eq(e[1].type, MSGPACK_OBJECT_BOOLEAN);
  cr_assert(e[1].via.boolean);
  cr_assert_eq(e[2].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
  cr_assert_eq(e[2].via.u64, UINT64_MAX);
  cr_assert_eq(e[3].type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
  cr_assert_eq(e[3].via.i64, INT64_MIN);
  cr_assert_eq(e[4].via.i64, -200);
  cr_assert_eq(e[5].via.u64, 300);
  cr_assert_eq(e[6].type, MSGPACK_OBJECT_FLOAT32);
  cr_assert_eq(e[6].via.f64, 1.5);
  cr_assert_eq(e[7].type, MSGPACK_OBJECT_FLOAT64);
  cr_assert_eq(e[7].via.f64, -0.125);
  cr_assert_eq(e[8].type, MSGPACK_OBJECT_STR);
  cr_assert_eq(e[8].via.str.size, strlen("héllo"));
  cr_assert_eq(memcmp(e[8].via.str.ptr, "héllo", e[8].via.str.size), 0);
  cr_assert_eq(e[9].via.str.size, sizeof longstr);
  cr_assert_eq(e[10].type, MSGPACK_OBJECT_BIN);
  cr_assert_eq(e[10].via.bin.size, 3);
  cr_assert_eq(memcmp(e[10].via.bin.ptr, bin, 3), 0);
  cr_assert_eq(e[11].type, MSGPACK_OBJECT_ARRAY);
  cr_assert_eq(e[11].via.array.size, 2);
  cr_assert_eq(e[11].via.array.ptr[0].via.i64, -1);
  cr_assert_eq(e[11].via.array.ptr[1].via.array.size, 0);
  msgpack_unpacked_destroy(&u);
  es_buf_close(&b);
}

/* ---- readers: accepted encodings and errors -------------------------------
 */

Test(mp, readers_accept_non_shortest_integers) {
  /* 5 as uint16, uint64, int8, int64; -1 as int16 and int32 */
  static const uint8_t in[] = {0xcd, 0x00, 0x05, 0xcf, 0,    0,    0,    0,
                               0,    0,    0,    5,    0xd0, 5,    0xd3, 0,
                               0,    0,    0,    0,    0,    0,    5,    0xd1,
                               0xff, 0xff, 0xd2, 0xff, 0xff, 0xff, 0xff};
  es_mp_reader rd;
  int64_t v;
  uint64_t u;
  es_mp_reader_init(&rd, in, sizeof in);
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(es_mp_read_uint(&rd, &u, 10), 0);
    cr_assert_eq(u, 5);
  }
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(es_mp_read_uint(&rd, &u, 10), 0, "signed format, value 5");
    cr_assert_eq(u, 5);
  }
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(es_mp_read_int(&rd, &v, -1, 0), 0);
    cr_assert_eq(v, -1);
  }
  cr_assert_eq(es_mp_remaining(&rd), 0);
}

Test(mp, integer_range_errors_leave_the_reader_in_place) {
  es_buf b = ES_BUF_INIT;
  es_mp_reader rd;
  int64_t v;
  uint64_t u;

  struct {
    int64_t value, lo, hi;
  } bad[] = {
      {128, INT8_MIN, INT8_MAX},
      {-129, INT8_MIN, INT8_MAX},
      {32768, INT16_MIN, INT16_MAX},
      {-32769, INT16_MIN, INT16_MAX},
      {(int64_t)INT32_MAX + 1, INT32_MIN, INT32_MAX},
      {(int64_t)INT32_MIN - 1, INT32_MIN, INT32_MAX},
      {0, 1, 10},
      {11, 1, 10},
  };
  for (size_t i = 0; i < N_OF(bad); i++) {
    es_buf_clear(&b);
    es_mp_write_int(&b, bad[i].value);
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_int(&rd, &v, bad[i].lo, bad[i].hi), ES_ERANGE,
                 "case %zu", i);
    cr_assert_eq(rd.p, b.data, "case %zu moved the reader", i);
    /* the edges themselves are fine */
    es_buf_clear(&b);
    es_mp_write_int(&b, bad[i].lo);
    es_mp_write_int(&b, bad[i].hi);
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_int(&rd, &v, bad[i].lo, bad[i].hi), 0);
    cr_assert_eq(v, bad[i].lo);
    cr_assert_eq(es_mp_read_int(&rd, &v, bad[i].lo, bad[i].hi), 0);
    cr_assert_eq(v, bad[i].hi);
  }

  /* a uint64 above INT64_MAX is out of range for a signed field */
  es_buf_clear(&b);
  es_mp_write_uint(&b, (uint64_t)INT64_MAX + 1);
  es_mp_reader_init(&rd, b.data, b.len);
  cr_assert_eq(es_mp_read_int(&rd, &v, INT64_MIN, INT64_MAX), ES_ERANGE);
  cr_assert_eq(es_mp_read_uint(&rd, &u, UINT64_MAX), 0);
  cr_assert_eq(u, (uint64_t)INT64_MAX + 1);

  /* negative values never fit an unsigned field */
  static const int64_t negs[] = {-1, -32, -33, -200, INT32_MIN, INT64_MIN};
  for (size_t i = 0; i < N_OF(negs); i++) {
    es_buf_clear(&b);
    es_mp_write_int(&b, negs[i]);
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_read_uint(&rd, &u, UINT64_MAX), ES_ERANGE, "%lld",
                 (long long)negs[i]);
    cr_assert_eq(rd.p, b.data);
  }

  /* unsigned upper bounds: u8 field */
  es_buf_clear(&b);
  es_mp_write_uint(&b, 256);
  es_mp_reader_init(&rd, b.data, b.len);
  cr_assert_eq(es_mp_read_uint(&rd, &u, UINT8_MAX), ES_ERANGE);
  cr_assert_eq(es_mp_read_uint(&rd, &u, UINT16_MAX), 0);
  cr_assert_eq(u, 256);
  es_buf_close(&b);
}

Test(mp, type_errors) {
  static const uint8_t str[] = {0xa1, 'x'};
  static const uint8_t nil[] = {0xc0};
  static const uint8_t map[] = {0x80};
  es_mp_reader rd;
  int64_t v;
  uint64_t u;
  bool bo;
  float f;
  double d;
  uint32_t n;
  const char *s;

  es_mp_reader_init(&rd, str, sizeof str);
  cr_assert_eq(es_mp_read_int(&rd, &v, INT64_MIN, INT64_MAX), ES_ETYPE);
  cr_assert_eq(es_mp_read_uint(&rd, &u, UINT64_MAX), ES_ETYPE);
  cr_assert_eq(es_mp_read_bool(&rd, &bo), ES_ETYPE);
  cr_assert_eq(es_mp_read_f32(&rd, &f), ES_ETYPE);
  cr_assert_eq(es_mp_read_f64(&rd, &d), ES_ETYPE);
  cr_assert_eq(es_mp_read_array(&rd, &n), ES_ETYPE);
  cr_assert_eq(rd.p, str);
  es_mp_reader_init(&rd, nil, sizeof nil);
  cr_assert_eq(es_mp_read_str(&rd, &s, &n), ES_ETYPE);
  cr_assert_eq(es_mp_read_int(&rd, &v, INT64_MIN, INT64_MAX), ES_ETYPE);
  es_mp_reader_init(&rd, map, sizeof map);
  cr_assert_eq(es_mp_read_array(&rd, &n), ES_ETYPE, "a map is not an array");
  cr_assert_eq(rd.depth, 0);
}

Test(mp, empty_input_is_truncated) {
  es_mp_reader rd;
  int64_t v;
  uint64_t u;
  bool bo;
  float f;
  double d;
  uint32_t n;
  const char *s;
  const uint8_t *p;

  es_mp_reader_init(&rd, NULL, 0);
  cr_assert_eq(es_mp_remaining(&rd), 0);
  cr_assert(!es_mp_read_nil(&rd));
  cr_assert_eq(es_mp_read_bool(&rd, &bo), ES_ETRUNC);
  cr_assert_eq(es_mp_read_int(&rd, &v, INT64_MIN, INT64_MAX), ES_ETRUNC);
  cr_assert_eq(es_mp_read_uint(&rd, &u, UINT64_MAX), ES_ETRUNC);
  cr_assert_eq(es_mp_read_f32(&rd, &f), ES_ETRUNC);
  cr_assert_eq(es_mp_read_f64(&rd, &d), ES_ETRUNC);
  cr_assert_eq(es_mp_read_array(&rd, &n), ES_ETRUNC);
  cr_assert_eq(es_mp_read_str(&rd, &s, &n), ES_ETRUNC);
  cr_assert_eq(es_mp_read_bin(&rd, &p, &n), ES_ETRUNC);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);
}

/* Every proper prefix of every encoding is ETRUNC for its reader and for
 * es_mp_skip, and never reads past the prefix (ASan checks: each prefix is
 * copied to its own exactly sized allocation). */
Test(mp, every_prefix_is_truncated) {
  es_buf b = ES_BUF_INIT;
  char body[70000];
  memset(body, 'z', sizeof body);

  enum { U, I, F32, F64, STR, BIN, ARR };
  struct {
    int kind;
    size_t n;
  } cases[] = {{U, 0x80},    {U, 0x100},   {U, 0x10000}, {U, 0x100000000},
               {I, 0},       {I, 1},       {I, 2},       {I, 3},
               {F32, 0},     {F64, 0},     {STR, 5},     {STR, 40},
               {STR, 300},   {STR, 70000}, {BIN, 5},     {BIN, 300},
               {BIN, 70000}, {ARR, 3},     {ARR, 20},    {ARR, 70000}};
  static const int64_t ints[] = {-100, -1000, -100000, INT64_MIN};

  for (size_t c = 0; c < N_OF(cases); c++) {
    es_buf_clear(&b);
    switch (cases[c].kind) {
    case U:
      es_mp_write_uint(&b, cases[c].n);
      break;
    case I:
      es_mp_write_int(&b, ints[cases[c].n]);
      break;
    case F32:
      es_mp_write_f32(&b, 1.0f);
      break;
    case F64:
      es_mp_write_f64(&b, 1.0);
      break;
    case STR:
      es_mp_write_str(&b, body, cases[c].n);
      break;
    case BIN:
      es_mp_write_bin(&b, body, cases[c].n);
      break;
    case ARR:
      es_mp_write_array(&b, (uint32_t)cases[c].n);
      for (size_t k = 0; k < cases[c].n; k++)
        es_mp_write_uint(&b, 1);
      break;
    }
    cr_assert_eq(b.err, 0);
    /* long bodies: test the header prefixes and a few body cuts */
    for (size_t len = 0; len < b.len; len++) {
      if (len > 16 && len < b.len - 2 && len % 4099 != 0)
        continue;
      uint8_t *copy = malloc(len ? len : 1);
      cr_assert_not_null(copy);
      memcpy(copy, b.data, len);
      es_mp_reader rd;
      int rc = 0;
      int64_t v;
      uint64_t u;
      float f;
      double d;
      uint32_t n;
      const char *s;
      const uint8_t *p;

      es_mp_reader_init(&rd, copy, len);
      switch (cases[c].kind) {
      case U:
        rc = es_mp_read_uint(&rd, &u, UINT64_MAX);
        break;
      case I:
        rc = es_mp_read_int(&rd, &v, INT64_MIN, INT64_MAX);
        break;
      case F32:
        rc = es_mp_read_f32(&rd, &f);
        break;
      case F64:
        rc = es_mp_read_f64(&rd, &d);
        break;
      case STR:
        rc = es_mp_read_str(&rd, &s, &n);
        break;
      case BIN:
        rc = es_mp_read_bin(&rd, &p, &n);
        break;
      case ARR:
        rc = es_mp_read_array(&rd, &n);
        break;
      }
      cr_assert_eq(rc, ES_ETRUNC, "case %zu prefix %zu: %d", c, len, rc);
      es_mp_reader_init(&rd, copy, len);
      cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC, "skip case %zu prefix %zu", c,
                   len);
      cr_assert_eq(rd.p, copy, "skip moved the reader on failure");
      free(copy);
    }
    /* and the whole value skips exactly */
    es_mp_reader rd;
    es_mp_reader_init(&rd, b.data, b.len);
    cr_assert_eq(es_mp_skip(&rd), 0, "case %zu", c);
    cr_assert_eq(es_mp_remaining(&rd), 0);
  }
  es_buf_close(&b);
}

/* ---- hostile headers ---------------------------------------------------- */

Test(mp, huge_length_headers_fail_fast) {
  static const uint8_t str32[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b'};
  static const uint8_t bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2};
  static const uint8_t str16[] = {0xda, 0x01, 0x00, 'a'};
  static const uint8_t str8[] = {0xd9, 0x05, 'a', 'b', 'c', 'd'};
  static const uint8_t fix[] = {0xa5, 'a', 'b'};
  static const uint8_t ext32[] = {0xc9, 0xff, 0xff, 0xff, 0xff, 1, 2};
  static const uint8_t fixext16[] = {0xd8, 1, 0, 0, 0};
  struct {
    const uint8_t *p;
    size_t n;
    bool is_str;
  } cases[] = {{str32, sizeof str32, true},
               {bin32, sizeof bin32, false},
               {str16, sizeof str16, true},
               {str8, sizeof str8, true},
               {fix, sizeof fix, true}};
  for (size_t i = 0; i < N_OF(cases); i++) {
    es_mp_reader rd;
    const uint8_t *p;
    const char *s;
    uint32_t n;
    es_mp_reader_init(&rd, cases[i].p, cases[i].n);
    if (cases[i].is_str)
      cr_assert_eq(es_mp_read_str(&rd, &s, &n), ES_ETRUNC, "case %zu", i);
    else
      cr_assert_eq(es_mp_read_bin(&rd, &p, &n), ES_ETRUNC, "case %zu", i);
    cr_assert_eq(rd.p, cases[i].p);
    cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC, "skip case %zu", i);
  }
  es_mp_reader rd;
  es_mp_reader_init(&rd, ext32, sizeof ext32);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);
  es_mp_reader_init(&rd, fixext16, sizeof fixext16);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);
}

/* A 5-byte header claiming 4 billion elements must fail at once: looping
 * over the claimed count would hit the timeout. */
Test(mp, huge_counts_fail_fast, .timeout = 2) {
  static const uint8_t arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0};
  static const uint8_t map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0};
  static const uint8_t arr16[] = {0xdc, 0x00, 0x03, 0xc0, 0xc0};
  static const uint8_t map16[] = {0xde, 0x00, 0x02, 0xc0, 0xc0, 0xc0};
  static const uint8_t fixmap[] = {0x82, 0xc0, 0xc0, 0xc0};
  es_mp_reader rd;
  uint32_t n = 12345;

  es_mp_reader_init(&rd, arr32, sizeof arr32);
  cr_assert_eq(es_mp_read_array(&rd, &n), ES_ETRUNC);
  cr_assert_eq(n, 12345, "count must not be handed out");
  cr_assert_eq(rd.depth, 0);
  es_mp_reader_init(&rd, arr32, sizeof arr32);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);
  es_mp_reader_init(&rd, map32, sizeof map32);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);
  es_mp_reader_init(&rd, arr16, sizeof arr16);
  cr_assert_eq(es_mp_read_array(&rd, &n), ES_ETRUNC);
  es_mp_reader_init(&rd, arr16, sizeof arr16);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);
  /* maps need two values per entry */
  es_mp_reader_init(&rd, map16, sizeof map16);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);
  es_mp_reader_init(&rd, fixmap, sizeof fixmap);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);

  /* many nested arrays each claiming 4 billion: still bounded by input */
  uint8_t nest[5 * 60];
  for (size_t i = 0; i < sizeof nest; i += 5)
    memcpy(nest + i, arr32, 5);
  es_mp_reader_init(&rd, nest, sizeof nest);
  cr_assert_eq(es_mp_skip(&rd), ES_ETRUNC);
}

/* `depth` nested one-element arrays around a nil. */
static size_t nested(uint8_t *out, int depth, uint8_t head) {
  for (int i = 0; i < depth; i++)
    out[i] = head;
  out[depth] = 0xc0;
  return (size_t)depth + 1;
}

Test(mp, depth_64_is_accepted_65_is_refused) {
  uint8_t in[200];
  es_mp_reader rd;
  uint32_t n;
  size_t len;

  len = nested(in, ES_MP_MAX_DEPTH, 0x91);
  es_mp_reader_init(&rd, in, len);
  cr_assert_eq(es_mp_skip(&rd), 0);
  cr_assert_eq(es_mp_remaining(&rd), 0);
  cr_assert_eq(rd.depth, 0, "skip leaves depth alone");
  es_mp_reader_init(&rd, in, len);
  for (int i = 0; i < ES_MP_MAX_DEPTH; i++) {
    cr_assert_eq(es_mp_read_array(&rd, &n), 0, "level %d", i + 1);
    cr_assert_eq(n, 1);
  }
  cr_assert(es_mp_read_nil(&rd));
  for (int i = 0; i < ES_MP_MAX_DEPTH; i++)
    es_mp_leave(&rd);
  cr_assert_eq(rd.depth, 0);

  len = nested(in, ES_MP_MAX_DEPTH + 1, 0x91);
  es_mp_reader_init(&rd, in, len);
  cr_assert_eq(es_mp_skip(&rd), ES_EDEPTH);
  cr_assert_eq(rd.p, in, "reader untouched on failure");
  es_mp_reader_init(&rd, in, len);
  int rc = 0, levels = 0;
  while ((rc = es_mp_read_array(&rd, &n)) == 0)
    levels++;
  cr_assert_eq(rc, ES_EDEPTH);
  cr_assert_eq(levels, ES_MP_MAX_DEPTH);

  /* maps nest the same way: {nil: {nil: ...}} */
  uint8_t maps[300];
  size_t m = 0;
  for (int i = 0; i < ES_MP_MAX_DEPTH + 1; i++) {
    maps[m++] = 0x81;
    maps[m++] = 0xc0;
  }
  maps[m++] = 0xc0;
  es_mp_reader_init(&rd, maps, m);
  cr_assert_eq(es_mp_skip(&rd), ES_EDEPTH);
  es_mp_reader_init(&rd, maps + 2, m - 2);
  cr_assert_eq(es_mp_skip(&rd), 0);
  cr_assert_eq(es_mp_remaining(&rd), 0);

  /* an empty innermost array still counts as a level */
  len = nested(in, ES_MP_MAX_DEPTH, 0x91);
  in[ES_MP_MAX_DEPTH] = 0x90;
  es_mp_reader_init(&rd, in, len);
  cr_assert_eq(es_mp_skip(&rd), ES_EDEPTH);
}

Test(mp, skip_counts_the_readers_own_depth) {
  static const uint8_t two[] = {0x91, 0x91, 0xc0};
  es_mp_reader rd;
  es_mp_reader_init(&rd, two, sizeof two);
  rd.depth = ES_MP_MAX_DEPTH - 2;
  cr_assert_eq(es_mp_skip(&rd), 0);
  es_mp_reader_init(&rd, two, sizeof two);
  rd.depth = ES_MP_MAX_DEPTH - 1;
  cr_assert_eq(es_mp_skip(&rd), ES_EDEPTH);
  es_mp_reader_init(&rd, two + 2, 1);
  rd.depth = ES_MP_MAX_DEPTH;
  cr_assert_eq(es_mp_skip(&rd), 0, "scalars skip at any depth");
}

Test(mp, skip_handles_every_type_as_msgpack_c_writes_it) {
  ref r;
  ref_init(&r);
  msgpack_packer *pk = &r.pk;
  static const char data[100000] = {0};
  static const size_t ext_lens[] = {1,  2,   3,   4,     8,    16,
                                    17, 255, 256, 65535, 65536};
  int values = 0;

  msgpack_pack_nil(pk), values++;
  msgpack_pack_true(pk), values++;
  msgpack_pack_false(pk), values++;
  for (size_t i = 0; i < N_OF(uint_cases); i++)
    msgpack_pack_uint64(pk, uint_cases[i]), values++;
  for (size_t i = 0; i < N_OF(int_cases); i++)
    msgpack_pack_int64(pk, int_cases[i]), values++;
  msgpack_pack_float(pk, 1.0f), values++;
  msgpack_pack_double(pk, 2.0), values++;
  for (size_t i = 0; i < N_OF(blob_lens); i++) {
    msgpack_pack_str_with_body(pk, data, blob_lens[i]), values++;
    msgpack_pack_bin_with_body(pk, data, blob_lens[i]), values++;
  }
  for (size_t i = 0; i < N_OF(ext_lens); i++)
    msgpack_pack_ext_with_body(pk, data, ext_lens[i], 7), values++;
  /* maps of every header size, with container values */
  static const uint32_t map_sizes[] = {0, 1, 15, 16, 70000};
  for (size_t i = 0; i < N_OF(map_sizes); i++) {
    msgpack_pack_map(pk, map_sizes[i]), values++;
    for (uint32_t k = 0; k < map_sizes[i]; k++) {
      msgpack_pack_uint32(pk, k);
      if (k % 3 == 0) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_str_with_body(pk, "x", 1);
        msgpack_pack_map(pk, 1);
        msgpack_pack_nil(pk);
        msgpack_pack_ext_with_body(pk, data, 4, -1);
      } else {
        msgpack_pack_int32(pk, -(int32_t)k);
      }
    }
  }
  static const uint32_t arr_sizes[] = {0, 15, 16, 70000};
  for (size_t i = 0; i < N_OF(arr_sizes); i++) {
    msgpack_pack_array(pk, arr_sizes[i]), values++;
    for (uint32_t k = 0; k < arr_sizes[i]; k++)
      msgpack_pack_true(pk);
  }
  msgpack_pack_int8(pk, 42); /* sentinel */

  es_mp_reader rd;
  es_mp_reader_init(&rd, r.sb.data, r.sb.size);
  for (int i = 0; i < values; i++) {
    const uint8_t *before = rd.p;
    cr_assert_eq(es_mp_skip(&rd), 0, "value %d (type byte %02x)", i, *before);
    cr_assert_gt(rd.p, before);
  }
  int64_t sentinel = 0;
  cr_assert_eq(es_mp_read_int(&rd, &sentinel, 0, 100), 0);
  cr_assert_eq(sentinel, 42);
  cr_assert_eq(es_mp_remaining(&rd), 0);
  ref_destroy(&r);
}

Test(mp, skip_refuses_the_never_used_byte) {
  static const uint8_t c1[] = {0xc1};
  static const uint8_t inside[] = {0x93, 0x01, 0xc1, 0x02};
  static const uint8_t key[] = {0x81, 0xc1, 0x00};
  es_mp_reader rd;
  es_mp_reader_init(&rd, c1, sizeof c1);
  cr_assert_eq(es_mp_skip(&rd), ES_EDECODE);
  es_mp_reader_init(&rd, inside, sizeof inside);
  cr_assert_eq(es_mp_skip(&rd), ES_EDECODE);
  cr_assert_eq(rd.p, inside);
  es_mp_reader_init(&rd, key, sizeof key);
  cr_assert_eq(es_mp_skip(&rd), ES_EDECODE);
}

Test(mp, skip_consumes_exactly_one_value) {
  static const uint8_t in[] = {0x92, 0xa1, 'a', 0x81, 0x01, 0x02, 0x07};
  es_mp_reader rd;
  uint64_t u;
  es_mp_reader_init(&rd, in, sizeof in);
  cr_assert_eq(es_mp_skip(&rd), 0);
  cr_assert_eq(es_mp_remaining(&rd), 1);
  cr_assert_eq(es_mp_read_uint(&rd, &u, 10), 0);
  cr_assert_eq(u, 7);
}
