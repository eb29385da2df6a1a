/*
 * fuzz_frontend.c - libFuzzer target: arbitrary bytes as a schema file.
 *
 * esc_compile() must either fail with at least one error, or succeed with
 * a schema that every code generator accepts. Diagnostics are only
 * counted (no FILE), so the target stays fast.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "frontend.h"
#include "gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void generate(const esc_schema *s) {
  es_buf b;
  /* What a schema small enough to fuzz makes fits easily in 64 MiB. */
  es_buf_init(&b, (size_t)64 << 20);
  if (esc_gen_header(s, "fuzz.es", &b) != 0)
    abort();
  es_buf_clear(&b);
  if (esc_gen_source(s, "fuzz.es", &b) != 0)
    abort();
  es_buf_clear(&b);
  if (esc_gen_stubs(s, "fuzz.es", "fuzz.stubs.c", &b) != 0)
    abort();
  es_buf_clear(&b);
  if (esc_gen_fuzz(s, "fuzz.es", "fuzz.es.fuzz.c", &b) != 0)
    abort();
  es_buf_clear(&b);
  if (esc_gen_graph(s, &b) != 0)
    abort();
  es_buf_close(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  esc_diag d;
  esc_schema *s = NULL;
  int rc;

  if (size > ((size_t)1 << 20))
    return 0;
  esc_diag_init(&d, NULL, "fuzz.es", (const char *)data, size);
  rc = esc_compile("fuzz.es", (const char *)data, size, &d, &s);
  if (rc == 0) {
    /* Success means no errors and a schema; failure means the opposite. */
    if (!s || d.n_errors != 0)
      abort();
    generate(s);
  } else if (s || d.n_errors == 0) {
    abort();
  }
  esc_diag_finish(&d);
  esc_schema_free(s);
  return 0;
}
