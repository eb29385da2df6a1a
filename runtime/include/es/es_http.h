/*
 * es_http.h - the ops endpoint: a small HTTP server (libmicrohttpd, on its
 * own thread) for monitoring an application. In libes-http (pkg-config
 * libes-http), so libes itself needs no HTTP library.
 *
 *   GET /metrics  the application's es_metrics in the Prometheus text
 *                 format (version 0.0.4)
 *   GET /health   200 "ok" when the store takes a write (a checkpoint
 *                 named "$health"), else 503 with the reason
 *   GET /ready    200 "ready" when the store answers and every projection
 *                 and saga lag gauge is within `max_lag`, else 503
 *
 * Anything else is 404; a method other than GET or HEAD is 405.
 */
#ifndef ES_HTTP_H
#define ES_HTTP_H

#include <stdint.h>

#include "es_obs.h"
#include "es_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct es_http es_http;

typedef struct es_http_options {
  const char *address; /* IPv4 address to bind; NULL: "127.0.0.1" */
  uint16_t port;       /* 0: any free port (es_http_port() tells which) */
  es_store *store;     /* for /health and /ready; must outlive the server */
  const es_metrics *metrics; /* for /metrics and the lags of /ready; NULL:
                                none (an empty /metrics) */
  int64_t max_lag; /* events behind the head /ready tolerates; 0: 1000 */
} es_http_options;

#define ES_HTTP_OPTIONS_INIT                                                   \
  { NULL, 0, NULL, NULL, 0 }

/* Starts serving on its own thread. Returns 0, ES_EINVAL (NULL out or
 * store, an address that is not an IPv4 address), or ES_EIO (the address
 * cannot be bound: in use, or not ours). `*out` is NULL on failure. */
int es_http_serve(es_http **out, const es_http_options *opt);

/* The port the server listens on. */
uint16_t es_http_port(const es_http *h);

/* Stops the server (requests in progress finish first) and frees it.
 * Accepts NULL. */
void es_http_stop(es_http *h);

#ifdef __cplusplus
}
#endif
#endif
