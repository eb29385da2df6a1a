/*
 * http.c - es_http_serve(): /metrics, /health and /ready on
 * libmicrohttpd's internal polling thread. Every response is built whole
 * in an es_buf and handed to MHD to copy, so nothing is shared with the
 * thread after a request returns.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "es/es_error.h"
#include "es/es_http.h"
#include "util/alloc.h"

#define DEFAULT_MAX_LAG 1000
#define HEALTH_CHECKPOINT "$health"

struct es_http {
  struct MHD_Daemon *daemon;
  es_http_options opt;
  uint16_t port;
};

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

static mhd_result reply(struct MHD_Connection *conn, unsigned status,
                        const char *type, const char *body, size_t len) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  mhd_result ok;
  if (!r)
    return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  ok = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ok;
}

static mhd_result text(struct MHD_Connection *conn, unsigned status,
                       const char *msg) {
  return reply(conn, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* Alive, and the store takes a write: a checkpoint put goes through the
 * same path (write, sync, rename) as every durable blob. */
static mhd_result health(es_http *h, struct MHD_Connection *conn) {
  char msg[160];
  uint64_t head = 0;
  int rc = es_store_head(h->opt.store, &head);
  if (!rc)
    rc =
        es_store_checkpoint_put(h->opt.store, HEALTH_CHECKPOINT, head, NULL, 0);
  if (rc) {
    snprintf(msg, sizeof msg, "unhealthy: the store does not take writes: %s\n",
             es_strerror(rc));
    return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
  }
  return text(conn, MHD_HTTP_OK, "ok\n");
}

static mhd_result ready(es_http *h, struct MHD_Connection *conn) {
  char msg[200];
  uint64_t head = 0;
  int64_t max = h->opt.max_lag ? h->opt.max_lag : DEFAULT_MAX_LAG;
  int rc = es_store_head(h->opt.store, &head);
  if (rc) {
    snprintf(msg, sizeof msg, "not ready: the store does not answer: %s\n",
             es_strerror(rc));
    return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
  }
  /* Unregistered ids read as 0: every lag gauge is covered. */
  for (int id = 0; h->opt.metrics && id < ES_METRICS_GAUGES_MAX; id++) {
    int64_t lag = es_metrics_gauge(h->opt.metrics, id);
    if (lag > max) {
      snprintf(msg, sizeof msg,
               "not ready: a projection or saga is %" PRId64
               " events behind (at most %" PRId64 " allowed)\n",
               lag, max);
      return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
    }
  }
  return text(conn, MHD_HTTP_OK, "ready\n");
}

static mhd_result metrics(es_http *h, struct MHD_Connection *conn) {
  es_buf b;
  mhd_result r;
  int rc = 0;
  es_buf_init(&b, 0);
  if (h->opt.metrics)
    rc = es_metrics_write_prometheus(h->opt.metrics, &b);
  if (rc)
    r = text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable\n");
  else
    r = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
              b.data ? (const char *)b.data : "", b.len);
  es_buf_close(&b);
  return r;
}

static mhd_result handle(void *cls, struct MHD_Connection *conn,
                         const char *url, const char *method,
                         const char *version, const char *upload,
                         size_t *upload_size, void **con_cls) {
  es_http *h = cls;
  (void)version;
  (void)upload;
  (void)con_cls;
  if (*upload_size) /* a body we do not read */
    *upload_size = 0;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
  if (strcmp(url, "/metrics") == 0)
    return metrics(h, conn);
  if (strcmp(url, "/health") == 0)
    return health(h, conn);
  if (strcmp(url, "/ready") == 0)
    return ready(h, conn);
  return text(conn, MHD_HTTP_NOT_FOUND,
              "not found: try /metrics, /health or /ready\n");
}

int es_http_serve(es_http **out, const es_http_options *opt) {
  struct sockaddr_in addr;
  const union MHD_DaemonInfo *info;
  es_http *h;

  if (!out)
    return ES_EINVAL;
  *out = NULL;
  if (!opt || !opt->store)
    return ES_EINVAL;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(opt->port);
  if (inet_pton(AF_INET, opt->address ? opt->address : "127.0.0.1",
                &addr.sin_addr) != 1)
    return ES_EINVAL;
  h = es__calloc(1, sizeof *h);
  if (!h)
    return ES_ENOMEM;
  h->opt = *opt;
  h->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, opt->port, NULL,
      NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
  if (!h->daemon) {
    es__free(h);
    return ES_EIO;
  }
  info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  h->port = info ? info->port : opt->port;
  *out = h;
  return 0;
}

uint16_t es_http_port(const es_http *h) { return h ? h->port : 0; }

void es_http_stop(es_http *h) {
  if (!h)
    return;
  MHD_stop_daemon(h->daemon);
  es__free(h);
}
