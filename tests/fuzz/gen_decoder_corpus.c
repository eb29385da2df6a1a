/*
 * gen_decoder_corpus.c - writes seed inputs for fuzz_decoder into DIR:
 * one file per bank.es type holding its default value, plus a few values
 * with every optional and list filled in. Each file is the type's index
 * in bank_schema.types (one byte) followed by the encoding.
 *
 *   gen_decoder_corpus tests/fuzz/corpus/decoder
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank.es.h"

static const char *dir;

static int index_of(const es_type_desc *t) {
  for (uint32_t i = 0; i < bank_schema.n_types; i++)
    if (bank_schema.types[i] == t)
      return (int)i;
  fprintf(stderr, "gen_decoder_corpus: %s is not in bank_schema\n", t->name);
  exit(1);
}

static void put(const es_type_desc *t, const void *value, const char *tag) {
  char path[4096];
  es_buf b;
  uint8_t idx = (uint8_t)index_of(t);
  FILE *f;

  es_buf_init(&b, 0);
  es_buf_append(&b, &idx, 1);
  if (es_type_encode(t, value, &b) != 0) {
    fprintf(stderr, "gen_decoder_corpus: cannot encode %s\n", t->name);
    exit(1);
  }
  snprintf(path, sizeof path, "%s/%s-%s", dir, t->c_name, tag);
  f = fopen(path, "wb");
  if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
  es_buf_close(&b);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_decoder_corpus DIR\n");
    return 2;
  }
  dir = argv[1];

  /* Every type with its defaults. */
  for (uint32_t i = 0; i < bank_schema.n_types; i++) {
    const es_type_desc *t = bank_schema.types[i];
    void *v = calloc(1, t->size);
    if (!v)
      return 1;
    es_type_init(t, v);
    put(t, v, "default");
    free(v);
  }

  /* A few with everything set. */
  bank_money recent[3] = {{100, BANK_CURRENCY_EUR},
                          {-250, BANK_CURRENCY_USD},
                          {INT64_MAX, BANK_CURRENCY_GBP}};
  bank_account_state st;
  bank_account_state_init(&st);
  st.owner = "Ada Lovelace";
  st.balance = INT64_MIN;
  st.open = true;
  st.recent.items = recent;
  st.recent.count = 3;
  st.has_nickname = true;
  st.nickname = "ada \xc3\xa9";
  put(&bank_account_state_desc, &st, "full");

  bank_account_deposited dep;
  bank_account_deposited_init(&dep);
  dep.amount = 4200;
  dep.has_transfer = true;
  dep.transfer = "t-0001";
  dep.memo = "rent";
  put(&bank_account_deposited_desc, &dep, "full");

  bank_transfer_state ts;
  bank_transfer_state_init(&ts);
  ts.from = "acc-1";
  ts.to = "acc-2";
  ts.amount = 1;
  ts.status = BANK_TRANSFER_STATUS_FAILED;
  put(&bank_transfer_state_desc, &ts, "full");

  bank_money_transfer_state ms;
  bank_money_transfer_state_init(&ms);
  ms.from = "a";
  ms.to = "b";
  ms.amount = -1;
  ms.withdrawn = true;
  put(&bank_money_transfer_state_desc, &ms, "full");
  return 0;
}
