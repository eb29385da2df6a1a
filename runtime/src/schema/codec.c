/*
 * codec.c - the top of every generated codec: encoding a whole value
 * without leaving half of it in the buffer, decoding one that must use
 * every byte. The fields themselves are straight-line generated code
 * (es_codec.h).
 */
#include "es/es_codec.h"

int es_encode_value(es_buf *b, es_enc_record_fn enc, const void *value) {
  size_t start = b->len;
  int rc;
  if (b->err)
    return b->err;
  enc(value, b, 0);
  if ((rc = b->err) != 0) {
    /* Leave the buffer as it was. */
    b->err = 0;
    b->len = start;
  }
  return rc;
}

void es_type_init(const es_type_desc *t, void *value) {
  if (t->init)
    t->init(value);
  else
    memset(value, 0, t->size);
}

int es_type_encode(const es_type_desc *t, const void *value, es_buf *b) {
  return es_encode_value(b, t->enc, value);
}

int es_type_decode(const es_type_desc *t, void *value, const void *data,
                   size_t len, es_arena *a) {
  return es_decode_value(data, len, t->dec, value, a);
}

int es_decode_value(const void *data, size_t len, es_dec_record_fn dec,
                    void *value, es_arena *a) {
  es_mp_reader r;
  int rc;
  es_mp_reader_init(&r, data, len);
  if ((rc = dec(&r, value, a)) != 0)
    return rc;
  return r.p == r.end ? 0 : ES_ETRAILING;
}
