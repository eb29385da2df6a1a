/*
 * test_http.c - the ops endpoint (es_http.h) over real sockets: /metrics
 * accepted by Prometheus's own `promtool check metrics`, /health and
 * /ready answering what the store and the lag gauges say, 404 and 405.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <es/es.h>
#include <es/es_http.h>

/* One request; the whole response (headers and body) into `out`. Returns
 * the status code, or -1. */
static int request(uint16_t port, const char *method, const char *path,
                   char *out, size_t cap) {
  struct sockaddr_in a;
  char req[256];
  size_t n = 0;
  ssize_t r;
  int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
  cr_assert(fd >= 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method,
           path);
  cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
  while (n + 1 < cap && (r = read(fd, out + n, cap - 1 - n)) > 0)
    n += (size_t)r;
  out[n] = '\0';
  close(fd);
  sscanf(out, "HTTP/1.%*d %d", &status);
  return status;
}

static const char *body(const char *resp) {
  const char *b = strstr(resp, "\r\n\r\n");
  return b ? b + 4 : "";
}

typedef struct fixture {
  es_store *store;
  es_metrics metrics;
  es_http *http;
  int lag_id;
} fixture;

static void start(fixture *f, int64_t max_lag) {
  es_http_options o = ES_HTTP_OPTIONS_INIT;
  cr_assert_eq(es_store_open_memory(&f->store, NULL), 0);
  cr_assert_eq(es_metrics_init(&f->metrics), 0);
  es_metrics_add(&f->metrics, ES_CTR_COMMANDS_OK, 3);
  es_metrics_observe_us(&f->metrics, ES_HIST_COMMAND, 250);
  cr_assert_eq(es_metrics_gauge_register(&f->metrics, ES_GAUGE_PROJECTION_LAG,
                                         "Balances \"eu\"", &f->lag_id),
               0);
  o.store = f->store;
  o.metrics = &f->metrics;
  o.max_lag = max_lag;
  cr_assert_eq(es_http_serve(&f->http, &o), 0);
  cr_assert_neq(es_http_port(f->http), 0);
}

static void stop(fixture *f) {
  es_http_stop(f->http);
  es_metrics_close(&f->metrics);
  es_store_close(f->store);
}

Test(http, metrics_pass_promtool) {
  fixture f;
  static char resp[1 << 16];
  char path[] = "/tmp/es-http-metrics-XXXXXX", cmd[512];
  const char *promtool = getenv("PROMTOOL");
  start(&f, 0);
  cr_assert_eq(
      request(es_http_port(f.http), "GET", "/metrics", resp, sizeof resp), 200);
  cr_assert(strstr(resp, "Content-Type: text/plain; version=0.0.4"));
  cr_assert(strstr(body(resp), "es_commands_total{outcome=\"ok\"} 3\n"));
  cr_assert(strstr(body(resp), "es_command_latency_seconds_count 1\n"));
  cr_assert(strstr(body(resp), "projection=\"Balances \\\"eu\\\"\""));
  stop(&f);
  if (!promtool || !*promtool)
    cr_skip_test("promtool not found");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  const char *b = body(resp);
  cr_assert_eq(write(fd, b, strlen(b)), (ssize_t)strlen(b));
  close(fd);
  snprintf(cmd, sizeof cmd, "'%s' check metrics < '%s'", promtool, path);
  int rc = system(cmd);
  unlink(path);
  cr_assert_eq(rc, 0, "promtool check metrics refused /metrics");
}

Test(http, health_and_ready) {
  fixture f;
  char resp[4096];
  uint64_t pos;
  start(&f, 10);
  uint16_t port = es_http_port(f.http);
  cr_assert_eq(request(port, "GET", "/health", resp, sizeof resp), 200);
  cr_assert_str_eq(body(resp), "ok\n");
  /* /health wrote its checkpoint: the store took a write. */
  cr_assert_eq(es_store_checkpoint_get(f.store, "$health", &pos, NULL), 0);
  cr_assert_eq(request(port, "GET", "/ready", resp, sizeof resp), 200);
  es_metrics_gauge_set(&f.metrics, f.lag_id, 11);
  cr_assert_eq(request(port, "GET", "/ready", resp, sizeof resp), 503);
  cr_assert(strstr(body(resp), "11 events behind (at most 10 allowed)"));
  es_metrics_gauge_set(&f.metrics, f.lag_id, 10);
  cr_assert_eq(request(port, "GET", "/ready", resp, sizeof resp), 200);
  cr_assert_eq(request(port, "GET", "/nothing", resp, sizeof resp), 404);
  cr_assert_eq(request(port, "POST", "/metrics", resp, sizeof resp), 405);
  stop(&f);
}

Test(http, health_fails_on_a_read_only_store) {
  char dir[] = "/tmp/es-http-ro-XXXXXX";
  es_store *w = NULL, *ro = NULL;
  es_http *h = NULL;
  es_http_options o = ES_HTTP_OPTIONS_INIT;
  char resp[4096], cmd[256];
  cr_assert(mkdtemp(dir));
  cr_assert_eq(es_store_open_log(&w, dir, NULL, 0), 0);
  es_store_close(w);
  cr_assert_eq(es_store_open_log(&ro, dir, NULL, ES_STORE_READONLY), 0);
  o.store = ro;
  cr_assert_eq(es_http_serve(&h, &o), 0);
  cr_assert_eq(request(es_http_port(h), "GET", "/health", resp, sizeof resp),
               503);
  cr_assert(strstr(body(resp), "does not take writes"));
  cr_assert_eq(request(es_http_port(h), "GET", "/ready", resp, sizeof resp),
               200);
  es_http_stop(h);
  es_store_close(ro);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

Test(http, bad_options) {
  es_http *h = (es_http *)1;
  es_http_options o = ES_HTTP_OPTIONS_INIT;
  es_store *s = NULL;
  cr_assert_eq(es_http_serve(&h, &o), ES_EINVAL);
  cr_assert_null(h);
  cr_assert_eq(es_store_open_memory(&s, NULL), 0);
  o.store = s;
  o.address = "not an address";
  cr_assert_eq(es_http_serve(&h, &o), ES_EINVAL);
  o.address = "127.0.0.1";
  es_http *first = NULL;
  cr_assert_eq(es_http_serve(&first, &o), 0);
  o.port = es_http_port(first); /* taken */
  cr_assert_eq(es_http_serve(&h, &o), ES_EIO);
  es_http_stop(first);
  es_http_stop(NULL);
  es_store_close(s);
}
