/*
 * metrics.c - counters, latency histograms and lag gauges, and their
 * Prometheus text dump.
 *
 * Recording is one or two relaxed atomic adds and never locks. Each
 * counter sits on its own cache line so that threads bumping different
 * counters (cache hits on one, appends on another) do not contend.
 * Gauges are registered under a mutex into a fixed table and published by
 * a release store of the table's length; a registered slot's kind and name
 * never change afterwards, so readers need no lock.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es/es_error.h"
#include "es/es_obs.h"
#include "util/alloc.h"
#include "util/buf_text.h"

/* One counter on a cache line of its own (see the comment above: with a
 * 16-byte aligned base, no two 64-byte strided slots share a line). */
typedef struct es__ctr_slot {
  _Atomic uint64_t v;
  char pad[64 - sizeof(_Atomic uint64_t)];
} es__ctr_slot;

typedef struct es__histogram {
  _Atomic uint64_t buckets[ES_HIST_BUCKETS]; /* per bucket, not cumulative */
  _Atomic uint64_t sum_us;
  char pad[64 - sizeof(_Atomic uint64_t)];
} es__histogram;

typedef struct es__gauge {
  _Atomic int64_t value;
  es_gauge_kind kind; /* set once, before the slot is published */
  size_t name_len;
  char name[ES_METRICS_NAME_MAX + 1];
} es__gauge;

struct es__metrics {
  es__ctr_slot counters[ES_CTR__COUNT];
  es__histogram hists[ES_HIST__COUNT];
  pthread_mutex_t reg_mu; /* serializes es_metrics_gauge_register() */
  _Atomic int n_gauges;   /* published slots: release store, acquire load */
  es__gauge gauges[ES_METRICS_GAUGES_MAX];
};

/* ---- static tables ------------------------------------------------------- */

static const uint64_t hist_bounds_us[ES_HIST_BOUNDS] = {
    1,      2,      5,       10,      20,      50,      100,   200,
    500,    1000,   2000,    5000,    10000,   20000,   50000, 100000,
    200000, 500000, 1000000, 2000000, 5000000, 10000000};

/* The same bounds in seconds, as the `le` label values. */
static const char *const hist_le[ES_HIST_BUCKETS] = {
    "0.000001", "0.000002", "0.000005", "0.00001", "0.00002", "0.00005",
    "0.0001",   "0.0002",   "0.0005",   "0.001",   "0.002",   "0.005",
    "0.01",     "0.02",     "0.05",     "0.1",     "0.2",     "0.5",
    "1",        "2",        "5",        "10",      "+Inf"};

typedef struct es__ctr_def {
  const char *family;
  const char *label; /* NULL: no label */
  const char *help;
} es__ctr_def;

static const es__ctr_def ctr_defs[ES_CTR__COUNT] = {
#define ES__CTR_DEF(id, family, label, help) {family, label, help},
    ES_COUNTER_MAP(ES__CTR_DEF)
#undef ES__CTR_DEF
};

typedef struct es__hist_def {
  const char *name;
  const char *help;
} es__hist_def;

static const es__hist_def hist_defs[ES_HIST__COUNT] = {
#define ES__HIST_DEF(id, name, help) {name, help},
    ES_HIST_MAP(ES__HIST_DEF)
#undef ES__HIST_DEF
};

typedef struct es__gauge_def {
  const char *name;
  const char *label; /* the label's name; the value is the gauge's name */
  const char *help;
} es__gauge_def;

static const es__gauge_def gauge_defs[] = {
    {"es_projection_lag_events", "projection",
     "Events a projection is behind the store's last position."},
    {"es_saga_lag_events", "saga",
     "Events a saga is behind the store's last position."},
};

#define ES__GAUGE_KINDS ((int)(sizeof gauge_defs / sizeof gauge_defs[0]))

uint64_t es_hist_bound_us(int i) {
  if (i < 0 || i >= ES_HIST_BOUNDS)
    return UINT64_MAX;
  return hist_bounds_us[i];
}

/* ---- lifecycle ----------------------------------------------------------- */

int es_metrics_init(es_metrics *m) {
  struct es__metrics *s;
  size_t i, j;

  if (!m)
    return ES_EINVAL;
  m->impl = NULL;
  s = es__malloc(sizeof *s);
  if (!s)
    return ES_ENOMEM;
  for (i = 0; i < ES_CTR__COUNT; i++)
    atomic_init(&s->counters[i].v, 0);
  for (i = 0; i < ES_HIST__COUNT; i++) {
    for (j = 0; j < ES_HIST_BUCKETS; j++)
      atomic_init(&s->hists[i].buckets[j], 0);
    atomic_init(&s->hists[i].sum_us, 0);
  }
  for (i = 0; i < ES_METRICS_GAUGES_MAX; i++) {
    atomic_init(&s->gauges[i].value, 0);
    s->gauges[i].kind = ES_GAUGE_PROJECTION_LAG;
    s->gauges[i].name_len = 0;
    s->gauges[i].name[0] = '\0';
  }
  atomic_init(&s->n_gauges, 0);
  if (pthread_mutex_init(&s->reg_mu, NULL) != 0) {
    es__free(s);
    return ES_ENOMEM;
  }
  m->impl = s;
  return 0;
}

void es_metrics_close(es_metrics *m) {
  if (!m || !m->impl)
    return;
  pthread_mutex_destroy(&m->impl->reg_mu);
  es__free(m->impl);
  m->impl = NULL;
}

/* ---- recording ----------------------------------------------------------- */

void es_metrics_add(es_metrics *m, es_counter c, uint64_t n) {
  if (!m || !m->impl || (unsigned)c >= ES_CTR__COUNT)
    return;
  atomic_fetch_add_explicit(&m->impl->counters[c].v, n, memory_order_relaxed);
}

/* The bucket of `us`: the first bound >= us, else +Inf. */
static int hist_bucket(uint64_t us) {
  int i;
  for (i = 0; i < ES_HIST_BOUNDS; i++)
    if (us <= hist_bounds_us[i])
      return i;
  return ES_HIST_BOUNDS;
}

void es_metrics_observe_us(es_metrics *m, es_hist h, uint64_t us) {
  es__histogram *hg;
  if (!m || !m->impl || (unsigned)h >= ES_HIST__COUNT)
    return;
  hg = &m->impl->hists[h];
  atomic_fetch_add_explicit(&hg->buckets[hist_bucket(us)], 1,
                            memory_order_relaxed);
  atomic_fetch_add_explicit(&hg->sum_us, us, memory_order_relaxed);
}

/* Whether `p[0 .. n)` is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static int utf8_valid(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len, k;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (n - i < len)
      return 0;
    for (k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return 0;
    i += len;
  }
  return 1;
}

int es_metrics_gauge_register(es_metrics *m, es_gauge_kind kind,
                              const char *name, int *id) {
  struct es__metrics *s;
  size_t len;
  int i, n, rc = 0;

  if (!m || !m->impl || !id || !name || (int)kind < 0 ||
      (int)kind >= ES__GAUGE_KINDS)
    return ES_EINVAL;
  len = strnlen(name, ES_METRICS_NAME_MAX + 1);
  if (len == 0)
    return ES_EINVAL;
  if (len > ES_METRICS_NAME_MAX)
    return ES_ETOOBIG;
  if (!utf8_valid((const unsigned char *)name, len))
    return ES_EINVAL;

  s = m->impl;
  pthread_mutex_lock(&s->reg_mu);
  n = atomic_load_explicit(&s->n_gauges, memory_order_relaxed);
  for (i = 0; i < n; i++) {
    es__gauge *g = &s->gauges[i];
    if (g->kind == kind && g->name_len == len && !memcmp(g->name, name, len)) {
      *id = i;
      goto done;
    }
  }
  if (n >= ES_METRICS_GAUGES_MAX) {
    rc = ES_ETOOBIG;
    goto done;
  }
  s->gauges[n].kind = kind;
  s->gauges[n].name_len = len;
  memcpy(s->gauges[n].name, name, len);
  s->gauges[n].name[len] = '\0';
  atomic_store_explicit(&s->gauges[n].value, 0, memory_order_relaxed);
  atomic_store_explicit(&s->n_gauges, n + 1, memory_order_release);
  *id = n;
done:
  pthread_mutex_unlock(&s->reg_mu);
  return rc;
}

void es_metrics_gauge_set(es_metrics *m, int id, int64_t value) {
  if (!m || !m->impl || id < 0 ||
      id >= atomic_load_explicit(&m->impl->n_gauges, memory_order_acquire))
    return;
  atomic_store_explicit(&m->impl->gauges[id].value, value,
                        memory_order_relaxed);
}

/* ---- reading ------------------------------------------------------------- */

uint64_t es_metrics_counter(const es_metrics *m, es_counter c) {
  if (!m || !m->impl || (unsigned)c >= ES_CTR__COUNT)
    return 0;
  return atomic_load_explicit(&m->impl->counters[c].v, memory_order_relaxed);
}

int64_t es_metrics_gauge(const es_metrics *m, int id) {
  if (!m || !m->impl || id < 0 ||
      id >= atomic_load_explicit(&m->impl->n_gauges, memory_order_acquire))
    return 0;
  return atomic_load_explicit(&m->impl->gauges[id].value, memory_order_relaxed);
}

int es_metrics_hist(const es_metrics *m, es_hist h, es_hist_snapshot *out) {
  const es__histogram *hg;
  int i;
  if (!m || !m->impl || !out || (unsigned)h >= ES_HIST__COUNT)
    return ES_EINVAL;
  hg = &m->impl->hists[h];
  out->count = 0;
  for (i = 0; i < ES_HIST_BUCKETS; i++) {
    out->buckets[i] =
        atomic_load_explicit(&hg->buckets[i], memory_order_relaxed);
    out->count += out->buckets[i];
  }
  out->sum_us = atomic_load_explicit(&hg->sum_us, memory_order_relaxed);
  return 0;
}

uint64_t es_obs_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- Prometheus text format ---------------------------------------------- */

/* Microseconds as seconds in plain decimal, trailing zeros trimmed:
 * 1500 -> "0.0015", 2000000 -> "2". Exact, unlike going through double. */
static void put_seconds(es_buf *b, uint64_t us) {
  char tmp[32];
  uint64_t frac = us % 1000000u;
  int n;
  if (!frac) {
    es__buf_put_u64(b, us / 1000000u);
    return;
  }
  n = snprintf(tmp, sizeof tmp, "%" PRIu64 ".%06" PRIu64, us / 1000000u, frac);
  while (n > 0 && tmp[n - 1] == '0')
    n--;
  es_buf_append(b, tmp, (size_t)n);
}

/* A label value with \, " and newline escaped as the format requires. */
static void put_label_value(es_buf *b, const char *s, size_t len) {
  size_t i, run = 0;
  for (i = 0; i < len; i++) {
    const char *esc = NULL;
    if (s[i] == '\\')
      esc = "\\\\";
    else if (s[i] == '"')
      esc = "\\\"";
    else if (s[i] == '\n')
      esc = "\\n";
    if (esc) {
      es_buf_append(b, s + run, i - run);
      es__buf_puts(b, esc);
      run = i + 1;
    }
  }
  es_buf_append(b, s + run, len - run);
}

static void put_header(es_buf *b, const char *name, const char *help,
                       const char *type) {
  es__buf_puts(b, "# HELP ");
  es__buf_puts(b, name);
  es__buf_puts(b, " ");
  es__buf_puts(b, help);
  es__buf_puts(b, "\n# TYPE ");
  es__buf_puts(b, name);
  es__buf_puts(b, " ");
  es__buf_puts(b, type);
  es__buf_puts(b, "\n");
}

static void write_counters(const struct es__metrics *s, es_buf *b) {
  const char *family = NULL;
  int i;
  for (i = 0; i < ES_CTR__COUNT; i++) {
    const es__ctr_def *d = &ctr_defs[i];
    if (!family || strcmp(family, d->family) != 0) {
      family = d->family;
      put_header(b, d->family, d->help, "counter");
    }
    es__buf_puts(b, d->family);
    if (d->label) {
      es__buf_puts(b, "{");
      es__buf_puts(b, d->label);
      es__buf_puts(b, "}");
    }
    es__buf_puts(b, " ");
    es__buf_put_u64(
        b, atomic_load_explicit(&s->counters[i].v, memory_order_relaxed));
    es__buf_puts(b, "\n");
  }
}

static void write_histograms(const es_metrics *m, es_buf *b) {
  int h, i;
  for (h = 0; h < ES_HIST__COUNT; h++) {
    const es__hist_def *d = &hist_defs[h];
    es_hist_snapshot snap;
    uint64_t cum = 0;
    es_metrics_hist(m, (es_hist)h, &snap);
    put_header(b, d->name, d->help, "histogram");
    for (i = 0; i < ES_HIST_BUCKETS; i++) {
      cum += snap.buckets[i];
      es__buf_puts(b, d->name);
      es__buf_puts(b, "_bucket{le=\"");
      es__buf_puts(b, hist_le[i]);
      es__buf_puts(b, "\"} ");
      es__buf_put_u64(b, cum);
      es__buf_puts(b, "\n");
    }
    es__buf_puts(b, d->name);
    es__buf_puts(b, "_sum ");
    put_seconds(b, snap.sum_us);
    es__buf_puts(b, "\n");
    es__buf_puts(b, d->name);
    es__buf_puts(b, "_count ");
    es__buf_put_u64(b, snap.count);
    es__buf_puts(b, "\n");
  }
}

static void write_gauges(const struct es__metrics *s, es_buf *b) {
  int n = atomic_load_explicit(&s->n_gauges, memory_order_acquire);
  int k, i;
  for (k = 0; k < ES__GAUGE_KINDS; k++) {
    const es__gauge_def *d = &gauge_defs[k];
    int seen = 0;
    for (i = 0; i < n; i++) {
      const es__gauge *g = &s->gauges[i];
      if ((int)g->kind != k)
        continue;
      if (!seen++)
        put_header(b, d->name, d->help, "gauge");
      es__buf_puts(b, d->name);
      es__buf_puts(b, "{");
      es__buf_puts(b, d->label);
      es__buf_puts(b, "=\"");
      put_label_value(b, g->name, g->name_len);
      es__buf_puts(b, "\"} ");
      es__buf_put_i64(b, atomic_load_explicit(&g->value, memory_order_relaxed));
      es__buf_puts(b, "\n");
    }
  }
}

int es_metrics_write_prometheus(const es_metrics *m, es_buf *out) {
  if (!m || !m->impl || !out)
    return ES_EINVAL;
  write_counters(m->impl, out);
  write_histograms(m, out);
  write_gauges(m->impl, out);
  return out->err;
}
