/*
 * fuzz_decoder.c - libFuzzer target: arbitrary bytes into the decoders
 * esgen generated from schemas/bank.es (fuzz_decoder), or from another
 * schema named by FUZZ_SCHEMA_H and FUZZ_SCHEMA (fuzz_decoder_nested:
 * tests/codec/nested.es, lists of lists).
 *
 * The first byte picks the type (an index into bank_schema.types); the
 * rest is the encoding. A decoder must reject bad input with an error
 * code, never crash or leak. Whatever it accepts must survive a round
 * trip: encode it, decode that, encode again, and both encodings must be
 * the same bytes (the input itself need not be canonical).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_SCHEMA_H
#define FUZZ_SCHEMA_H "bank.es.h"
#define FUZZ_SCHEMA bank_schema
#endif
#include FUZZ_SCHEMA_H

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Arena and buffer limits well above anything valid, below OOM. */
#define LIMIT ((size_t)16 << 20)

static void *new_value(const es_type_desc *t) {
  void *v = calloc(1, t->size ? t->size : 1);
  if (!v)
    abort();
  t->init(v);
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const es_schema_desc *schema = &FUZZ_SCHEMA;
  const es_type_desc *t;
  es_arena a1, a2;
  es_buf e1, e2, json;
  void *v1, *v2;

  if (size < 1 || schema->n_types == 0)
    return 0;
  t = schema->types[data[0] % schema->n_types];
  if (t->magic != ES_TYPE_DESC_MAGIC)
    abort();
  data++;
  size--;

  es_arena_init(&a1, LIMIT);
  es_arena_init(&a2, LIMIT);
  es_buf_init(&e1, LIMIT);
  es_buf_init(&e2, LIMIT);
  es_buf_init(&json, LIMIT);
  v1 = new_value(t);
  v2 = new_value(t);

  if (t->decode(v1, data, size, &a1) == 0) {
    if (t->encode(v1, &e1) != 0)
      abort();
    if (t->decode(v2, e1.data, e1.len, &a2) != 0)
      abort();
    if (t->encode(v2, &e2) != 0)
      abort();
    if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0)
      abort();
    /* The descriptor walk must cope with anything a decoder accepts. */
    if (es_json_write(t, v1, &json) != 0)
      abort();
  }

  free(v1);
  free(v2);
  es_buf_close(&json);
  es_buf_close(&e2);
  es_buf_close(&e1);
  es_arena_close(&a2);
  es_arena_close(&a1);
  return 0;
}
