/*
 * log.c - the logging helper behind es_obs.log.
 */
#include <stdarg.h>
#include <stddef.h>

#include "es/es_obs.h"

const char *es_log_level_name(int level) {
  switch (level) {
  case ES_LOG_DEBUG:
    return "debug";
  case ES_LOG_INFO:
    return "info";
  case ES_LOG_WARN:
    return "warn";
  case ES_LOG_ERROR:
    return "error";
  default:
    return "unknown";
  }
}

/* Collects the NULL-terminated key/value pairs on the stack and calls the
 * hook once. The level test comes first, so a filtered message costs one
 * comparison and never walks its arguments. */
void es__log(const es_obs *o, int level, const char *msg, ...) {
  es_log_field fields[ES_LOG_FIELDS_MAX];
  size_t n = 0;
  va_list ap;

  if (!es__log_enabled(o, level))
    return;
  va_start(ap, msg);
  while (n < ES_LOG_FIELDS_MAX) {
    const char *key = va_arg(ap, const char *);
    const char *value;
    if (!key)
      break;
    value = va_arg(ap, const char *);
    fields[n].key = key;
    fields[n].value = value ? value : "";
    n++;
  }
  va_end(ap);
  o->log(o->log_ctx, level, msg ? msg : "", fields, n);
}
