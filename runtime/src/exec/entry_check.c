/*
 * entry_check.c - the checks every execute entry makes before decide (see
 * entry_check.h).
 */
#include "exec/entry_check.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "es/es_error.h"
#include "es/es_saga.h"
#include "schema/value_check.h"

/* `key` for a message: printable ASCII as is, anything else as \xNN, cut
 * at 40 bytes of the key. */
static const char *shown(const char *key, char out[180]) {
  size_t o = 0;
  for (size_t i = 0; key[i] && i < 40; i++) {
    unsigned char c = (unsigned char)key[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
  }
  if (strlen(key) > 40) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
  return out;
}

static int canonical_u64(const char *key) {
  char back[21];
  uint64_t v = 0;
  size_t n = strlen(key);
  if (n > 20)
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (key[i] < '0' || key[i] > '9')
      return 0;
    if (v > (UINT64_MAX - (uint64_t)(key[i] - '0')) / 10)
      return 0; /* past UINT64_MAX */
    v = v * 10 + (uint64_t)(key[i] - '0');
  }
  es_key_from_u64(v, back);
  return strcmp(back, key) == 0;
}

static int canonical_uuid(const char *key) {
  es_uuid u;
  char back[37];
  if (strlen(key) != 36 || es_uuid_parse(&u, key) != 0)
    return 0;
  es_key_from_uuid(&u, back);
  return strcmp(back, key) == 0;
}

int es__key_check_for(const es_aggregate_desc *agg, const char *key, char *why,
                      size_t cap) {
  char reason[96], buf[180];
  if (es_key_check(key, reason, sizeof reason) != 0) {
    snprintf(why, cap, "aggregate '%s': %s%s%s%s", agg->name, reason,
             key && *key ? " in key '" : "", key && *key ? shown(key, buf) : "",
             key && *key ? "'" : "");
    return ES_EINVAL;
  }
  if (agg->key_kind == ES_KEY_U64 && !canonical_u64(key)) {
    snprintf(why, cap,
             "aggregate '%s' (key u64): key '%s' is not a u64 in canonical "
             "form (decimal digits, no sign or leading zero, at most "
             "18446744073709551615)",
             agg->name, shown(key, buf));
    return ES_EINVAL;
  }
  if (agg->key_kind == ES_KEY_UUID && !canonical_uuid(key)) {
    snprintf(why, cap,
             "aggregate '%s' (key uuid): key '%s' is not a uuid in canonical "
             "form (36 characters, lowercase 8-4-4-4-12 hex)",
             agg->name, shown(key, buf));
    return ES_EINVAL;
  }
  return 0;
}

int es__in_schema(const es_schema_desc *schema, const es_aggregate_desc *agg) {
  for (uint32_t i = 0; i < schema->n_aggregates; i++)
    if (schema->aggregates[i] == agg)
      return 1;
  return 0;
}

int es__entry_check(const es_schema_desc *schema, const es_aggregate_desc *agg,
                    uint32_t command, const char *key, const void *value,
                    char *why, size_t cap) {
  int rc;
  if (!es__in_schema(schema, agg)) {
    snprintf(why, cap,
             "aggregate '%s' is not one of schema '%s', which the app was "
             "opened with",
             agg->name ? agg->name : "", schema->name);
    return ES_EUNKNOWN;
  }
  if (!agg->state || command >= agg->n_commands) {
    snprintf(why, cap, "aggregate '%s' has no command number %" PRIu32,
             agg->name, command);
    return ES_EINVAL;
  }
  if ((rc = es__key_check_for(agg, key, why, cap)) != 0)
    return rc;
  return es__value_check(agg->commands[command].command, "command", value, why,
                         cap);
}

void es__load_why(const es_schema_desc *schema, const es_aggregate_desc *agg,
                  const char *key, const es_stored_event *ev, int rc, char *why,
                  size_t cap) {
  const es_type_desc *t =
      es_schema_find_type(schema, ev->meta.type_id, ev->meta.type_version);
  char what[200], buf[180];
  if (!why || !cap)
    return;
  if (!t && rc == ES_EUNKNOWN)
    snprintf(what, sizeof what,
             "an event type aggregate '%s' does not have (type id 0x%016" PRIx64
             ")",
             agg->name, ev->meta.type_id);
  else if (!t)
    snprintf(what, sizeof what,
             "version %" PRIu32 " of type id 0x%016" PRIx64 " is unknown",
             ev->meta.type_version, ev->meta.type_id);
  else if (rc == ES_EUPCAST || rc == ES_ENOMEM || rc == ES_EVERSION)
    snprintf(what, sizeof what, "event '%s' v%" PRIu32 ": %s", t->name,
             t->version, es_strerror(rc));
  else
    es__decode_why(t, "event", ev->payload, ev->len, rc, what, sizeof what);
  snprintf(why, cap,
           "cannot load %s '%s': its event %" PRIu64 " (position %" PRIu64
           ", type version %" PRIu32 "): %s",
           agg->name, shown(key, buf), ev->meta.version, ev->meta.position,
           ev->meta.type_version, what);
}
