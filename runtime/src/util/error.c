/*
 * error.c - names and messages of the ES_E* codes, from ES_ERRNO_MAP.
 */
#include "es/es_error.h"

const char *es_strerror(int rc) {
  switch (rc) {
  case ES_OK:
    return "success";
#define ES__ERR_MSG(name, value, msg)                                          \
  case ES_##name:                                                              \
    return msg;
    ES_ERRNO_MAP(ES__ERR_MSG)
#undef ES__ERR_MSG
  default:
    return "unknown error";
  }
}

const char *es_err_name(int rc) {
  switch (rc) {
  case ES_OK:
    return "ES_OK";
#define ES__ERR_NAME(name, value, msg)                                         \
  case ES_##name:                                                              \
    return "ES_" #name;
    ES_ERRNO_MAP(ES__ERR_NAME)
#undef ES__ERR_NAME
  default:
    return "ES_UNKNOWN";
  }
}
