/*
 * gen_fuzz.c - writes the libFuzzer harness of a schema (esgen --fuzz):
 * one entry point that feeds any bytes to any of the schema's generated
 * decoders and checks what they accept (templates/fuzz.c says how).
 */
#include "gen.h"
#include "template.h"

/* One line of the harness's table of types. */
static void fuzz_type(const esc_schema *s, const esc_struct *st, void *ctx) {
  esc_tvars tv;
  (void)s;
  esc_tv_init(&tv);
  esc_tv_name(&tv, ESC_N_DESC, st->c_name, NULL, NULL);
  esc_tpl(ctx, ESC_TPL_FUZZ_TYPE, &tv);
}

static void count_type(const esc_schema *s, const esc_struct *st, void *ctx) {
  (void)s;
  (void)st;
  ++*(size_t *)ctx;
}

int esc_gen_fuzz(const esc_schema *s, const char *base, const char *fuzz,
                 es_buf *b) {
  esc_tvars v;
  size_t n = 0;
  esc_each_struct(s, &n, count_type);
  esc_tv_init(&v);
  esc_tv_output(&v, s, base);
  esc_tv_str(&v, "FUZZ", fuzz);
  esc_tv_name(&v, ESC_N_SCHEMA, s->c_prefix, NULL, NULL);
  esc_tv_fmt(&v, "N_TYPES", "%zu", n);
  esc_tpl(b, ESC_TPL_FUZZ_OPEN, &v);
  esc_each_struct(s, b, fuzz_type);
  esc_tpl(b, ESC_TPL_FUZZ_CLOSE, &v);
  return b->err;
}
