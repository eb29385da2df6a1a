/*
 * trace.c - span names; the trace helpers themselves are inline in
 * es_obs.h so that a runtime without hooks pays one NULL check.
 */
#include "es/es_obs.h"

const char *es_span_name(int span) {
  switch (span) {
  case ES_SPAN_EXECUTE:
    return "execute";
  case ES_SPAN_APPEND:
    return "append";
  case ES_SPAN_APPLY:
    return "apply";
  case ES_SPAN_DISPATCH:
    return "dispatch";
  default:
    return "unknown";
  }
}
