/*
 * schema_record.c - see schema_record.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es/es_desc.h"
#include "es/es_error.h"
#include "store/schema_record.h"

void es__schema_hash(const char *json, size_t len, char out[17]) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)json[i];
    h *= UINT64_C(1099511628211);
  }
  snprintf(out, 17, "%016" PRIx64, h);
}

static int each_listed(es_store *s, const es_buf *list, const char *skip,
                       int (*fn)(const es__schema_entry *e, void *ctx),
                       void *ctx);

/* True when list `b` has a line for `hash`. */
static int listed(const es_buf *b, const char *hash) {
  const char *p = (const char *)b->data, *end = p + b->len;
  while (p && p + 16 <= end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (memcmp(p, hash, 16) == 0 && (p + 16 == end || p[16] == ' '))
      return 1;
    p = nl ? nl + 1 : NULL;
  }
  return 0;
}

int es__schema_record(es_store *s, const char *json, size_t len,
                      int (*check_other)(const es__schema_entry *e, void *ctx),
                      void *ctx) {
  char name[sizeof ES__SCHEMA_CHECKPOINT_PREFIX + 16], hash[17], line[64];
  uint64_t pos = 0, head = 0, list_pos;
  es_buf list;
  int rc;

  es__schema_hash(json, len, hash);
  snprintf(name, sizeof name, "%s%s", ES__SCHEMA_CHECKPOINT_PREFIX, hash);
  es_buf_init(&list, 0);
  rc = es_store_checkpoint_get(s, ES__SCHEMAS_CHECKPOINT, &list_pos, &list);
  if (rc == ES_ENOTFOUND) {
    es_buf_clear(&list);
    rc = 0;
  }
  if (rc)
    goto done;
  /* The others first: a schema refused records nothing. */
  if (check_other && (rc = each_listed(s, &list, hash, check_other, ctx)) != 0)
    goto done;
  if (listed(&list, hash) && es_store_checkpoint_get(s, name, &pos, NULL) == 0)
    goto done; /* there already */
  if ((rc = es_store_head(s, &head)) != 0)
    goto done;
  rc = es_store_checkpoint_get(s, name, &pos, NULL);
  if (rc == ES_ENOTFOUND) {
    pos = head;
    rc = es_store_checkpoint_put(s, name, pos, json, len);
  }
  if (rc)
    goto done;
  if (!listed(&list, hash)) {
    int n = snprintf(line, sizeof line, "%s %" PRIu64 "\n", hash, pos);
    es_buf_append(&list, line, (size_t)n);
    if ((rc = list.err) != 0)
      goto done;
    rc = es_store_checkpoint_put(s, ES__SCHEMAS_CHECKPOINT, head, list.data,
                                 list.len);
  }
done:
  es_buf_close(&list);
  return rc;
}

/* Calls `fn` for every description listed in `list` except the one
 * with hash `skip` (NULL: none), oldest first. */
static int each_listed(es_store *s, const es_buf *list, const char *skip,
                       int (*fn)(const es__schema_entry *e, void *ctx),
                       void *ctx) {
  es_buf desc;
  int rc = 0;
  es_buf_init(&desc, 0);
  const char *p = (const char *)list->data, *end = p + list->len;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    char name[sizeof ES__SCHEMA_CHECKPOINT_PREFIX + 16], hash[17], *num_end;
    es__schema_entry e;
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n < 18 || p[16] != ' ' || n > 40) {
      rc = ES_ECORRUPT;
      goto done;
    }
    char num[32];
    memcpy(hash, p, 16);
    hash[16] = '\0';
    memcpy(num, p + 17, n - 17);
    num[n - 17] = '\0';
    memset(&e, 0, sizeof e);
    e.hash = hash;
    e.position = strtoull(num, &num_end, 10);
    if (*num_end || strspn(hash, "0123456789abcdef") != 16) {
      rc = ES_ECORRUPT;
      goto done;
    }
    p = nl ? nl + 1 : NULL;
    if (skip && strcmp(hash, skip) == 0)
      continue;
    snprintf(name, sizeof name, "%s%s", ES__SCHEMA_CHECKPOINT_PREFIX, hash);
    uint64_t pos;
    e.error = es_store_checkpoint_get(s, name, &pos, &desc);
    if (!e.error) {
      es_buf_append(&desc, "", 1); /* NUL-terminated for parsers */
      e.error = desc.err;
    }
    if (!e.error) {
      e.json = (const char *)desc.data;
      e.len = desc.len - 1;
    }
    if ((rc = fn(&e, ctx)) != 0)
      goto done;
  }
done:
  es_buf_close(&desc);
  return rc;
}

int es__schema_each(es_store *s,
                    int (*fn)(const es__schema_entry *e, void *ctx),
                    void *ctx) {
  es_buf list;
  uint64_t list_pos;
  int rc;

  es_buf_init(&list, 0);
  rc = es_store_checkpoint_get(s, ES__SCHEMAS_CHECKPOINT, &list_pos, &list);
  if (rc == ES_ENOTFOUND)
    rc = 0;
  else if (rc == 0)
    rc = each_listed(s, &list, NULL, fn, ctx);
  es_buf_close(&list);
  return rc;
}
