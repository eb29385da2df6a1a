/*
 * saga_timer.c - reading a record of a saga's timer index: see
 * saga_timer.h.
 */
#include "subscribe/saga_timer.h"

#include <string.h>

#include "es/es_error.h"
#include "es/es_mp.h"

int es__saga_timer_record_read(const uint8_t *p, size_t len,
                               es__saga_timer_record *out) {
  es_mp_reader rd;
  uint32_t n, kn, nn;
  uint64_t op;
  const char *k, *nm;

  es_mp_reader_init(&rd, p, len);
  if (es_mp_read_array(&rd, &n) != 0 || n < 5 ||
      es_mp_read_uint(&rd, &op, 16) != 0 || es_mp_read_str(&rd, &k, &kn) != 0 ||
      kn == 0 || kn > ES_KEY_MAX || es_mp_read_str(&rd, &nm, &nn) != 0 ||
      nn > ES_TIMEOUT_NAME_MAX ||
      es_mp_read_int(&rd, &out->timer.due, INT64_MIN, INT64_MAX) != 0 ||
      es_mp_read_uint(&rd, &out->step, UINT64_MAX) != 0)
    return ES_ECORRUPT;
  out->op = (uint32_t)op;
  memcpy(out->timer.key, k, kn);
  out->timer.key[kn] = '\0';
  memcpy(out->timer.name, nm, nn);
  out->timer.name[nn] = '\0';
  return 0;
}
