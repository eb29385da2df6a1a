/*
 * test_nested.c - lists of lists (nested.es): round trips at two and three
 * levels of lists of numbers, strings, records and enums; the bound of
 * every level enforced on encode, on decode of hostile bytes and at the
 * execute entries (which name the item to blame); descriptors that walk
 * them (JSON), esctl reading them by the schema's description alone, and
 * decoding that never reads past its input.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es.h"
#include "es/es_mp.h"
#include "nested.es.h"

static es_arena arena;
static es_buf buf;

static void setup(void) {
  es_arena_init(&arena, 0);
  es_buf_init(&buf, 0);
}

static void teardown(void) {
  es_buf_close(&buf);
  es_arena_close(&arena);
}

TestSuite(nested, .init = setup, .fini = teardown);

/* ---- the user's half of nested.es -------------------------------------- */

int nested_board_decide_draw(const nested_board_state *state,
                             const nested_board_draw *command, es_decision *d) {
  nested_board_drawn event;
  (void)state;
  nested_board_drawn_init(&event);
  event.grids = command->grids;
  event.rows = command->grids.cells;
  return nested_board_emit_drawn(d, &event);
}

/* The event's lists live in `arena` as long as the state: the state keeps
 * a copy of the struct that points at them. */
void nested_board_apply_drawn(nested_board_state *state,
                              const nested_board_drawn *event,
                              es_arena *arena_) {
  nested_grids *g = es_arena_alloc(arena_, sizeof *g);
  if (!g)
    return;
  *g = event->grids;
  state->grids = g;
}

/* ---- a value with every nesting ---------------------------------------- */

/* Storage for one Grids value: every list points into it. */
typedef struct sample {
  nested_grids g;
  int32_t n0[2], n2[3];
  es_i32_list numbers[3];
  int32_t b0[3], b1[1];
  es_i32_list bounded[2];
  const char *w0[3], *w1[1];
  es_string_list words[2];
  nested_cell c0[2], c1[1];
  nested_cell_list cells[3];
  int64_t k00[2], k01[1], k10[2];
  es_i64_list k0[2], k1[1];
  nested_i64_list_list cubes[2];
  nested_suit s0[2];
  nested_suit_list suits[1];
  uint8_t m0[3];
  es_u8_list maybe[1];
} sample;

/* numbers [[1, -2], [], [2147483647, -2147483648, 0]]; inner lists of
 * every length, an empty one among them, each level within its bound. */
static void sample_fill(sample *s) {
  nested_grids_init(&s->g);
  memcpy(s->n0, (int32_t[]){1, -2}, sizeof s->n0);
  memcpy(s->n2, (int32_t[]){INT32_MAX, INT32_MIN, 0}, sizeof s->n2);
  s->numbers[0] = (es_i32_list){s->n0, 2};
  s->numbers[1] = (es_i32_list){NULL, 0};
  s->numbers[2] = (es_i32_list){s->n2, 3};
  s->g.numbers = (nested_i32_list_list){s->numbers, 3};

  memcpy(s->b0, (int32_t[]){7, 8, 9}, sizeof s->b0);
  s->b1[0] = 10;
  s->bounded[0] = (es_i32_list){s->b0, 3};
  s->bounded[1] = (es_i32_list){s->b1, 1};
  s->g.bounded = (nested_i32_list_list){s->bounded, 2};

  s->w0[0] = "ab";
  s->w0[1] = "";
  s->w0[2] = "fives";
  s->w1[0] = "x";
  s->words[0] = (es_string_list){s->w0, 3};
  s->words[1] = (es_string_list){s->w1, 1};
  s->g.words = (nested_string_list_list){s->words, 2};

  s->c0[0] = (nested_cell){1, "one"};
  s->c0[1] = (nested_cell){2, "two"};
  s->c1[0] = (nested_cell){65535, "eightchr"};
  s->cells[0] = (nested_cell_list){s->c0, 2};
  s->cells[1] = (nested_cell_list){NULL, 0};
  s->cells[2] = (nested_cell_list){s->c1, 1};
  s->g.cells = (nested_cell_list_list){s->cells, 3};

  memcpy(s->k00, (int64_t[]){INT64_MIN, 1}, sizeof s->k00);
  s->k01[0] = 2;
  memcpy(s->k10, (int64_t[]){3, INT64_MAX}, sizeof s->k10);
  s->k0[0] = (es_i64_list){s->k00, 2};
  s->k0[1] = (es_i64_list){s->k01, 1};
  s->k1[0] = (es_i64_list){s->k10, 2};
  s->cubes[0] = (nested_i64_list_list){s->k0, 2};
  s->cubes[1] = (nested_i64_list_list){s->k1, 1};
  s->g.cubes = (nested_i64_list_list_list){s->cubes, 2};

  s->s0[0] = NESTED_SUIT_SPADES;
  s->s0[1] = NESTED_SUIT_HEARTS;
  s->suits[0] = (nested_suit_list){s->s0, 2};
  s->g.suits = (nested_suit_list_list){s->suits, 1};

  memcpy(s->m0, (uint8_t[]){0, 128, 255}, sizeof s->m0);
  s->maybe[0] = (es_u8_list){s->m0, 3};
  s->g.has_maybe = true;
  s->g.maybe = (nested_u8_list_list){s->maybe, 1};
}

/* ---- deep equality ----------------------------------------------------- */

#define EQ_LIST_OF_LISTS(a, b, what, eq_item)                                  \
  do {                                                                         \
    cr_assert_eq((a).count, (b).count, "%s: count", what);                     \
    for (uint32_t i_ = 0; i_ < (a).count; i_++) {                              \
      cr_assert_eq((a).items[i_].count, (b).items[i_].count, "%s[%u]: count",  \
                   what, i_);                                                  \
      for (uint32_t j_ = 0; j_ < (a).items[i_].count; j_++)                    \
        eq_item((a).items[i_].items[j_], (b).items[i_].items[j_], what, i_,    \
                j_);                                                           \
    }                                                                          \
  } while (0)

#define EQ_NUM(x, y, what, i, j)                                               \
  cr_assert_eq((x), (y), "%s[%u][%u]", what, i, j)
#define EQ_STR(x, y, what, i, j)                                               \
  cr_assert_str_eq((x), (y), "%s[%u][%u]", what, i, j)
#define EQ_CELL(x, y, what, i, j)                                              \
  do {                                                                         \
    cr_assert_eq((x).row, (y).row, "%s[%u][%u].row", what, i, j);              \
    cr_assert_str_eq((x).label, (y).label, "%s[%u][%u].label", what, i, j);    \
  } while (0)

static void eq_cubes(const nested_i64_list_list_list *a,
                     const nested_i64_list_list_list *b) {
  cr_assert_eq(a->count, b->count, "cubes: count");
  for (uint32_t i = 0; i < a->count; i++)
    EQ_LIST_OF_LISTS(a->items[i], b->items[i], "cubes[i]", EQ_NUM);
}

static void eq_grids(const nested_grids *a, const nested_grids *b) {
  EQ_LIST_OF_LISTS(a->numbers, b->numbers, "numbers", EQ_NUM);
  EQ_LIST_OF_LISTS(a->bounded, b->bounded, "bounded", EQ_NUM);
  EQ_LIST_OF_LISTS(a->words, b->words, "words", EQ_STR);
  EQ_LIST_OF_LISTS(a->cells, b->cells, "cells", EQ_CELL);
  eq_cubes(&a->cubes, &b->cubes);
  EQ_LIST_OF_LISTS(a->suits, b->suits, "suits", EQ_NUM);
  cr_assert_eq(a->has_maybe, b->has_maybe, "has_maybe");
  if (a->has_maybe)
    EQ_LIST_OF_LISTS(a->maybe, b->maybe, "maybe", EQ_NUM);
}

/* Encodes `in`, decodes it, checks the value and that it encodes to the
 * same bytes again. */
static void roundtrip(const nested_grids *in) {
  nested_grids out;
  es_buf again = ES_BUF_INIT;
  int rc;
  es_buf_clear(&buf);
  rc = nested_grids_encode(in, &buf);
  cr_assert_eq(rc, 0, "encode: %s", es_err_name(rc));
  rc = nested_grids_decode(&out, buf.data, buf.len, &arena);
  cr_assert_eq(rc, 0, "decode: %s", es_err_name(rc));
  eq_grids(in, &out);
  cr_assert_eq(nested_grids_encode(&out, &again), 0);
  cr_assert_eq(again.len, buf.len, "re-encoded length");
  cr_assert(memcmp(again.data, buf.data, buf.len) == 0, "re-encoded bytes");
  es_buf_close(&again);
}

/* ---- round trips ------------------------------------------------------- */

Test(nested, every_nesting_round_trips) {
  sample s;
  sample_fill(&s);
  roundtrip(&s.g);
}

Test(nested, empty_lists_at_every_level_round_trip) {
  nested_grids g;
  nested_grids_init(&g);
  cr_assert_eq(g.numbers.count, 0);
  cr_assert_eq(g.has_maybe, false);
  roundtrip(&g);

  /* outer lists holding only empty lists */
  es_i32_list none[4] = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
  nested_i64_list_list no_cubes[2] = {{NULL, 0}, {NULL, 0}};
  es_u8_list no_bytes[1] = {{NULL, 0}};
  g.numbers = (nested_i32_list_list){none, 4};
  g.bounded = (nested_i32_list_list){none, 4};
  g.cubes = (nested_i64_list_list_list){no_cubes, 2};
  g.has_maybe = true; /* present and empty differs from absent */
  g.maybe = (nested_u8_list_list){no_bytes, 1};
  roundtrip(&g);
}

Test(nested, wire_form_is_arrays_of_arrays) {
  nested_grids g;
  es_i32_list inner[2];
  int32_t a[2] = {1, 2};
  nested_grids_init(&g);
  inner[0] = (es_i32_list){a, 2};
  inner[1] = (es_i32_list){NULL, 0};
  g.numbers = (nested_i32_list_list){inner, 2};
  cr_assert_eq(nested_grids_encode(&g, &buf), 0);
  /* [ [[1,2],[]], [], [], [], [], [], nil ] */
  static const uint8_t want[] = {0x97, 0x92, 0x92, 0x01, 0x02, 0x90,
                                 0x90, 0x90, 0x90, 0x90, 0x90, 0xc0};
  cr_assert_eq(buf.len, sizeof want);
  cr_assert(memcmp(buf.data, want, sizeof want) == 0);
}

Test(nested, events_and_state_hold_lists_of_lists) {
  sample s;
  nested_board_drawn ev, out;
  nested_board_state st, st_out;
  es_string_list hist[2];
  const char *h0[2] = {"a", "b"};
  sample_fill(&s);
  nested_board_drawn_init(&ev);
  ev.grids = s.g;
  ev.rows = s.g.cells;
  cr_assert_eq(nested_board_drawn_encode(&ev, &buf), 0);
  cr_assert_eq(nested_board_drawn_decode(&out, buf.data, buf.len, &arena), 0);
  eq_grids(&ev.grids, &out.grids);
  EQ_LIST_OF_LISTS(ev.rows, out.rows, "rows", EQ_CELL);

  nested_board_state_init(&st);
  hist[0] = (es_string_list){h0, 2};
  hist[1] = (es_string_list){NULL, 0};
  st.history = (nested_string_list_list){hist, 2};
  st.grids = &s.g;
  es_buf_clear(&buf);
  cr_assert_eq(nested_board_state_encode(&st, &buf), 0);
  cr_assert_eq(nested_board_state_decode(&st_out, buf.data, buf.len, &arena),
               0);
  EQ_LIST_OF_LISTS(st.history, st_out.history, "history", EQ_STR);
  cr_assert_not_null(st_out.grids);
  eq_grids(st.grids, st_out.grids);
}

/* ---- bounds on encode -------------------------------------------------- */

/* Encoding `g` fails with ES_EBOUND and leaves the buffer as it was. */
static void refused(const nested_grids *g, const char *what) {
  static const char before[] = "kept";
  int rc;
  es_buf_clear(&buf);
  es_buf_append(&buf, before, 4);
  rc = nested_grids_encode(g, &buf);
  cr_assert_eq(rc, ES_EBOUND, "%s: %s", what, es_err_name(rc));
  cr_assert_eq(buf.len, 4, "%s: buffer untouched", what);
  cr_assert(memcmp(buf.data, before, 4) == 0);
  cr_assert_eq(buf.err, 0);
}

Test(nested, every_level_bound_is_enforced_on_encode) {
  sample s;
  es_i32_list five[5], one_more = {(int32_t[]){1, 2, 3, 4}, 4};
  const char *w4[4] = {"a", "b", "c", "d"};
  int64_t k3[3] = {1, 2, 3};
  nested_i64_list_list cube3[3];

  /* outer bound (max 4 lists) */
  sample_fill(&s);
  for (int i = 0; i < 5; i++)
    five[i] = (es_i32_list){NULL, 0};
  s.g.bounded = (nested_i32_list_list){five, 4};
  cr_assert_eq(nested_grids_encode(&s.g, &buf), 0, "4 lists: the max");
  s.g.bounded.count = 5;
  refused(&s.g, "5 lists");

  /* inner bound (max 3 numbers) */
  sample_fill(&s);
  s.bounded[1] = one_more;
  refused(&s.g, "4 numbers in the second list");

  /* strings: max 2 lists of max 3 strings of max 5 bytes */
  sample_fill(&s);
  s.words[1] = (es_string_list){w4, 4};
  refused(&s.g, "4 strings");
  sample_fill(&s);
  s.w0[2] = "sixsix";
  refused(&s.g, "a 6-byte string");

  /* records: max 3 cells per row; a cell's own label bound */
  sample_fill(&s);
  s.cells[1] = (nested_cell_list){(nested_cell[4]){{0, ""}}, 4};
  refused(&s.g, "4 cells");
  sample_fill(&s);
  s.c1[0].label = "ninechars";
  refused(&s.g, "a 9-byte label");

  /* three levels, each max 2 */
  sample_fill(&s);
  for (int i = 0; i < 3; i++)
    cube3[i] = (nested_i64_list_list){NULL, 0};
  s.g.cubes = (nested_i64_list_list_list){cube3, 3};
  refused(&s.g, "3 at level 1");
  sample_fill(&s);
  s.cubes[1] = (nested_i64_list_list){
      (es_i64_list[3]){{s.k00, 2}, {NULL, 0}, {NULL, 0}}, 3};
  refused(&s.g, "3 at level 2");
  sample_fill(&s);
  s.k0[1] = (es_i64_list){k3, 3};
  refused(&s.g, "3 at level 3");
}

Test(nested, a_null_inner_items_pointer_is_einval) {
  sample s;
  sample_fill(&s);
  s.numbers[2].items = NULL;
  cr_assert_eq(nested_grids_encode(&s.g, &buf), ES_EINVAL);
  cr_assert_eq(buf.len, 0);
}

/* ---- hostile bytes ----------------------------------------------------- */

/* A Grids value written by hand: `numbers` and `bounded` as given (an
 * array of arrays of small ints, counts per inner list), the rest empty. */
static void write_grids(es_buf *b, const uint32_t *bounded_counts,
                        uint32_t n_bounded) {
  es_mp_write_array(b, 7);
  es_mp_write_array(b, 0); /* numbers */
  es_mp_write_array(b, n_bounded);
  for (uint32_t i = 0; i < n_bounded; i++) {
    es_mp_write_array(b, bounded_counts[i]);
    for (uint32_t k = 0; k < bounded_counts[i]; k++)
      es_mp_write_int(b, (int64_t)k);
  }
  for (int i = 0; i < 4; i++)
    es_mp_write_array(b, 0); /* words, cells, cubes, suits */
  es_mp_write_nil(b);        /* maybe */
}

static int decode_buf(void) {
  nested_grids out;
  return nested_grids_decode(&out, buf.data, buf.len, &arena);
}

Test(nested, every_level_bound_is_enforced_on_decode) {
  write_grids(&buf, (uint32_t[]){3, 0, 1, 3}, 4);
  cr_assert_eq(decode_buf(), 0, "every level at or under its max");

  es_buf_clear(&buf);
  write_grids(&buf, (uint32_t[]){0, 0, 0, 0, 0}, 5);
  cr_assert_eq(decode_buf(), ES_EBOUND, "5 lists, max 4");

  es_buf_clear(&buf);
  write_grids(&buf, (uint32_t[]){1, 4}, 2);
  cr_assert_eq(decode_buf(), ES_EBOUND, "an inner list of 4, max 3");

  /* strings: [[ "sixsix" ]] with max 5 bytes at the third level */
  es_buf_clear(&buf);
  es_mp_write_array(&buf, 7);
  es_mp_write_array(&buf, 0);
  es_mp_write_array(&buf, 0);
  es_mp_write_array(&buf, 1);
  es_mp_write_array(&buf, 1);
  es_mp_write_cstr(&buf, "sixsix");
  for (int i = 0; i < 3; i++)
    es_mp_write_array(&buf, 0);
  es_mp_write_nil(&buf);
  cr_assert_eq(decode_buf(), ES_EBOUND, "a 6-byte string, max 5");

  /* three levels: [[[1, 2, 3]]] with max 2 at the third */
  es_buf_clear(&buf);
  es_mp_write_array(&buf, 7);
  for (int i = 0; i < 4; i++)
    es_mp_write_array(&buf, 0);
  es_mp_write_array(&buf, 1);
  es_mp_write_array(&buf, 1);
  es_mp_write_array(&buf, 3);
  for (int k = 1; k <= 3; k++)
    es_mp_write_int(&buf, k);
  es_mp_write_array(&buf, 0);
  es_mp_write_nil(&buf);
  cr_assert_eq(decode_buf(), ES_EBOUND, "3 numbers at level 3, max 2");
}

Test(nested, a_huge_inner_count_fails_before_allocating) {
  /* numbers: [[ <claims 4294967295 items> ]]: no arena can hold that, and
   * the input cannot either, so it must fail on the input's length. */
  static const uint8_t bytes[] = {0x97, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff};
  nested_grids out;
  es_arena small;
  es_arena_init(&small, 4096);
  cr_assert_eq(nested_grids_decode(&out, bytes, sizeof bytes, &small),
               ES_ETRUNC);
  es_arena_close(&small);
}

Test(nested, a_scalar_where_a_list_belongs_is_etype) {
  /* numbers: [ 5 ] where an inner list belongs */
  static const uint8_t scalar[] = {0x97, 0x91, 0x05, 0x90, 0x90,
                                   0x90, 0x90, 0x90, 0xc0};
  /* numbers: [[ [] ]]: a list where a number belongs */
  static const uint8_t list[] = {0x97, 0x91, 0x91, 0x90, 0x90,
                                 0x90, 0x90, 0x90, 0x90, 0xc0};
  nested_grids out;
  cr_assert_eq(nested_grids_decode(&out, scalar, sizeof scalar, &arena),
               ES_ETYPE);
  cr_assert_eq(nested_grids_decode(&out, list, sizeof list, &arena), ES_ETYPE);
}

Test(nested, every_truncation_and_every_byte_flip_fails_cleanly) {
  sample s;
  nested_grids out;
  uint8_t *copy;
  sample_fill(&s);
  cr_assert_eq(nested_grids_encode(&s.g, &buf), 0);
  copy = malloc(buf.len);
  cr_assert_not_null(copy);
  memcpy(copy, buf.data, buf.len);
  for (size_t n = 0; n < buf.len; n++) {
    /* a heap copy of exactly n bytes: ASan sees any read past it */
    uint8_t *cut = malloc(n ? n : 1);
    memcpy(cut, copy, n);
    cr_assert_neq(nested_grids_decode(&out, cut, n, &arena), 0,
                  "decoded from %zu of %zu bytes", n, buf.len);
    free(cut);
  }
  for (size_t i = 0; i < buf.len; i++)
    for (int bit = 0; bit < 8; bit++) {
      copy[i] ^= (uint8_t)(1u << bit);
      (void)nested_grids_decode(&out, copy, buf.len, &arena);
      copy[i] ^= (uint8_t)(1u << bit);
    }
  free(copy);
}

/* ---- descriptors ------------------------------------------------------- */

Test(nested, descriptors_give_every_level_its_bound) {
  const es_field_desc *f = &nested_grids_desc.fields[4]; /* cubes */
  cr_assert_str_eq(f->name, "cubes");
  cr_assert_eq(f->kind, ES_KIND_I64);
  cr_assert(f->is_list);
  cr_assert_eq(f->max, 2);
  cr_assert_eq(f->elem_size, sizeof(nested_i64_list_list));
  cr_assert_not_null(f->elem);
  cr_assert(f->elem->is_list);
  cr_assert_eq(f->elem->max, 2);
  cr_assert_eq(f->elem->elem_size, sizeof(es_i64_list));
  cr_assert(f->elem->elem->is_list);
  cr_assert_eq(f->elem->elem->max, 2);
  cr_assert_eq(f->elem->elem->elem_size, sizeof(int64_t));
  cr_assert(!f->elem->elem->elem->is_list);
  cr_assert_null(f->elem->elem->elem->elem);

  f = &nested_grids_desc.fields[2]; /* words */
  cr_assert_eq(f->max, 2);
  cr_assert_eq(f->elem->max, 3);
  cr_assert_eq(f->elem->elem->max, 5, "the strings' own bound");
  cr_assert_eq(f->elem->elem->kind, ES_KIND_STRING);

  f = &nested_grids_desc.fields[3]; /* cells */
  cr_assert_eq(f->record, &nested_cell_desc);
  cr_assert_eq(f->elem->elem->record, &nested_cell_desc);
  cr_assert_eq(f->elem->elem_size, sizeof(nested_cell));
}

Test(nested, json_walks_every_level) {
  sample s;
  sample_fill(&s);
  cr_assert_eq(es_json_write(&nested_grids_desc, &s.g, &buf), 0);
  es_buf_append(&buf, "", 1);
  cr_assert_str_eq(
      (const char *)buf.data,
      "{\"numbers\":[[1,-2],[],[2147483647,-2147483648,0]],"
      "\"bounded\":[[7,8,9],[10]],"
      "\"words\":[[\"ab\",\"\",\"fives\"],[\"x\"]],"
      "\"cells\":[[{\"row\":1,\"label\":\"one\"},{\"row\":2,\"label\":\"two\"}]"
      ","
      "[],[{\"row\":65535,\"label\":\"eightchr\"}]],"
      "\"cubes\":[[[-9223372036854775808,1],[2]],[[3,9223372036854775807]]],"
      "\"suits\":[[\"Spades\",\"Hearts\"]],"
      "\"maybe\":[[0,128,255]]}");
}

/* ---- the execute entries ------------------------------------------------ */

/* Draw with `g` through the typed entry: refused with `rc` and the
 * message `want`, and nothing stored. */
static void entry_refuses(es_app *app, es_store *store, const nested_grids *g,
                          int rc, const char *want) {
  nested_board_draw cmd = {.grids = *g};
  es_result r;
  uint64_t head = 1;
  cr_assert_eq(nested_board_execute_draw(app, 7, &cmd, NULL, &r), rc, "%s",
               want);
  cr_assert_str_eq(r.message, want);
  cr_assert_eq(es_store_head(store, &head), 0);
  cr_assert_eq(head, 0, "nothing stored");
}

/* es_app_read_state()'s callback: the state holds the grids drawn. */
static int check_state(const void *state, uint64_t version, void *ctx) {
  const nested_board_state *st = state;
  cr_assert_eq(version, 1);
  cr_assert_not_null(st->grids);
  eq_grids(ctx, st->grids);
  return 0;
}

Test(nested, the_execute_entry_names_the_item_over_its_bound) {
  es_store *store = NULL;
  es_app *app = NULL;
  sample s;
  nested_board_draw cmd;
  es_result r;
  cr_assert_eq(es_store_open_memory(&store, NULL), 0);
  cr_assert_eq(es_app_open(&app, &nested_schema, store, NULL), 0);

  sample_fill(&s);
  s.bounded[1] = (es_i32_list){(int32_t[]){1, 2, 3, 4}, 4};
  entry_refuses(app, store, &s.g, ES_EBOUND,
                "field 'grids.bounded[1]' of command 'Board.Draw': 4 items, "
                "max 3");
  sample_fill(&s);
  s.w0[2] = "sixsix";
  entry_refuses(app, store, &s.g, ES_EBOUND,
                "field 'grids.words[0][2]' of command 'Board.Draw': 6 bytes, "
                "max 5");
  sample_fill(&s);
  s.k1[0] = (es_i64_list){(int64_t[]){1, 2, 3}, 3};
  entry_refuses(app, store, &s.g, ES_EBOUND,
                "field 'grids.cubes[1][0]' of command 'Board.Draw': 3 items, "
                "max 2");
  sample_fill(&s);
  s.c1[0].label = "ninechars";
  entry_refuses(app, store, &s.g, ES_EBOUND,
                "field 'grids.cells[2][0].label' of command 'Board.Draw': 9 "
                "bytes, max 8");
  sample_fill(&s);
  s.s0[1] = (nested_suit)9;
  entry_refuses(app, store, &s.g, ES_EENUM,
                "field 'grids.suits[0][1]' of command 'Board.Draw': 9 is not "
                "a value of enum 'Suit' (0 .. 1)");

  /* the msgpack entry: hostile bytes are explained the same way */
  es_buf_clear(&buf);
  es_mp_write_array(&buf, 1);
  write_grids(&buf, (uint32_t[]){0, 4}, 2);
  cr_assert_eq(
      es_app_execute(app, "Board", "7", "Draw", buf.data, buf.len, NULL, &r),
      ES_EBOUND);
  cr_assert_str_eq(r.message, "field 'grids.bounded[1]' of command "
                              "'Board.Draw': 4 items, max 3");

  /* a good one is stored, and the state folds it back from the store */
  sample_fill(&s);
  cmd.grids = s.g;
  cr_assert_eq(nested_board_execute_draw(app, 7, &cmd, NULL, &r), 0, "%s",
               r.message);
  es_app_close(app);
  app = NULL;
  cr_assert_eq(es_app_open(&app, &nested_schema, store, NULL), 0);
  cr_assert_eq(
      es_app_read_state(app, &nested_board_aggregate, "7", check_state, &s.g),
      0);
  es_app_close(app);
  es_store_close(store);
}

/* ---- read by its description alone --------------------------------------- */

/* esctl decodes a store's events with the schema description the app
 * recorded there (docs/schema-json.md), not with the generated code:
 * the lists of lists it prints must be the ones es_json_write() prints
 * from the value itself. */
Test(nested, esctl_reads_lists_of_lists_from_the_description) {
  const char *esctl = getenv("ESCTL");
  char tmpl[] = "/tmp/nested-esctl-XXXXXX", cmd[600], *dir, *out;
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *store = NULL;
  es_app *app = NULL;
  nested_board_draw draw;
  nested_board_drawn ev;
  es_buf want = ES_BUF_INIT;
  size_t len = 0, cap = 1 << 16;
  FILE *p;
  sample s;

  cr_assert_not_null(esctl, "ESCTL is not set (run the test through meson)");
  dir = mkdtemp(tmpl);
  cr_assert_not_null(dir);
  cr_assert_eq(es_store_open_log(&store, dir, &o, 0), 0);
  cr_assert_eq(es_app_open(&app, &nested_schema, store, NULL), 0);
  sample_fill(&s);
  draw.grids = s.g;
  cr_assert_eq(nested_board_execute_draw(app, 7, &draw, NULL, NULL), 0);
  es_app_close(app);
  es_store_close(store);

  /* what the event holds, as the descriptor walk writes it */
  nested_board_drawn_init(&ev);
  ev.grids = s.g;
  ev.rows = s.g.cells;
  cr_assert_eq(es_json_write(&nested_board_drawn_desc, &ev, &want), 0);
  es_buf_append(&want, "", 1);

  snprintf(cmd, sizeof cmd, "'%s' --json cat '%s' Board/7", esctl, dir);
  p = popen(cmd, "r");
  cr_assert_not_null(p);
  out = malloc(cap);
  cr_assert_not_null(out);
  while (len + 1 < cap) {
    size_t n = fread(out + len, 1, cap - 1 - len, p);
    if (!n)
      break;
    len += n;
  }
  out[len] = '\0';
  cr_assert_eq(pclose(p), 0, "esctl failed: %s", out);
  cr_assert_not_null(strstr(out, (const char *)want.data),
                     "esctl printed:\n%s\nwithout:\n%s", out,
                     (const char *)want.data);
  free(out);
  es_buf_close(&want);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}
