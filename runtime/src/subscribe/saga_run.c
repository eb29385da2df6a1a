/*
 * saga_run.c - the saga runner: instances in the store, the outbox,
 * deterministic dispatch, retries and dead letters, durable timeouts.
 *
 * Records. Instance `key` of saga S is the stream ("saga:S", key); each
 * record is a step (type es_fnv1a64("es.saga.step"), version 1), msgpack:
 *   [trigger, position, ref_step, ref_effect, timer, due, correlation,
 *    state, completed, effects, step]
 *   trigger     1 event (position: its global position)
 *               2 rejection of effect ref_effect of step ref_step
 *               3 timeout `timer` due at `due`
 *               4 dead letter: effect (ref_step, ref_effect) was set aside
 *   state       the saga state after the step (its type's encoding)
 *   effects     [[kind, target, key, command, name, delay_us, due], ...]
 *   step        the step's number = its version in the stream
 * The timer index is the stream ("saga:S#timers", "timers"); each record
 * (type es_fnv1a64("es.saga.timer"), version 1) is [op, key, name, due,
 * step] with op
 *   1 schedule (key, name) at due (replacing)   2 cancel (key, name)
 *   3 fired (key, name, due): drop if still due then
 *   4 clear: drop every timeout of key
 *   5 firing (key, name, due, step): drop it; step's effects are pending
 *   6 dispatched (key, step): step's effects are all sent
 * Index records that a step implies are appended atomically with it.
 * A dead-letter step (trigger 4) is appended atomically with the letter,
 * a record of the stream ("saga:S#dead", "dead") (dead_letter_store.c).
 *
 * Invariant (the outbox rule): a command reaches es_app_execute_value()
 * only after the step recording it is stored, and every stored step's
 * commands are sent at least once: an event-triggered step is found again
 * when its event is redelivered (the checkpoint moves only after all of a
 * batch's steps are dispatched), a rejection step through the step whose
 * command was rejected, a timeout step through its "firing" record until
 * its "dispatched" record. The deterministic command id makes "at least
 * once" into "exactly once" at the target aggregate.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es/es_error.h"
#include "es/es_mp.h"
#include "es/es_saga_run.h"
#include "es/es_subscription.h"
#include "schema/event_decode.h"
#include "store/store_util.h"
#include "subscribe/dead_letter.h"
#include "subscribe/leader.h"
#include "subscribe/saga_timer.h"
#include "util/alloc.h"
#include "util/hashmap.h"

#define DEFAULT_ATTEMPTS 5u
#define DEFAULT_BASE_US ((int64_t)10000)
#define DEFAULT_MAX_US ((int64_t)1000000)
#define DEFAULT_JITTER 50u
#define DEFAULT_BATCH 256u
#define DEFAULT_CACHE 64u
#define MAX_CONFLICTS 8    /* re-handles of one event after conflicts */
#define MAX_DEPTH 32       /* rejection -> compensation chains */
#define LIVE_WAIT_US 50000 /* longest sleep of the live loop */
#define ERROR_PAUSE_US 100000

enum { T_EVENT = 1, T_REJECTED = 2, T_TIMEOUT = 3, T_DEAD = 4 };
enum {
  OP_SCHEDULE = 1,
  OP_CANCEL = 2,
  OP_FIRED = 3,
  OP_CLEAR = 4,
  OP_FIRING = 5,
  OP_DISPATCHED = 6
};

/* What the runner keeps of one stored step. */
typedef struct step_info {
  uint64_t step;
  uint32_t trigger;
  uint64_t position;
  uint64_t ref_step;
  uint32_t ref_effect;
  char timer[ES_TIMEOUT_NAME_MAX + 1];
  int64_t due;
  uint8_t *raw; /* the record, for re-dispatch */
  size_t len;
} step_info;

/* One effect of a stored step; `cmd` points into the step's bytes. */
typedef struct stored_effect {
  uint32_t kind, target;
  char key[ES_KEY_MAX + 1];
  char name[ES_TIMEOUT_NAME_MAX + 1];
  int64_t delay, due;
  const uint8_t *cmd;
  size_t cmd_len;
} stored_effect;

typedef struct inst {
  char key[ES_KEY_MAX + 1];
  uint64_t version;  /* steps stored; 0: no instance yet */
  uint64_t last_pos; /* position of the last event handled */
  bool completed;
  es_uuid correlation;
  void *state;
  es_arena arena;
  step_info *steps;
  uint32_t n_steps;
  uint64_t cap_steps;
  uint64_t used;
} inst;

typedef es__saga_timer timer;

typedef struct pending {
  char key[ES_KEY_MAX + 1];
  uint64_t step;
} pending;

struct es_saga_runner {
  es_app *app;
  const es_saga_desc *saga;
  es_store *store;
  es_saga_options opt;
  uint64_t step_type, timer_type;
  char stream[ES_STREAM_TYPE_MAX + 1];
  char timers[ES_STREAM_TYPE_MAX + 1];
  char dead[ES_STREAM_TYPE_MAX + 1];
  char checkpoint[ES_KEY_MAX + 1];
  uint64_t saved; /* the checkpoint stored */
  es_subscription sub;
  inst **cache;
  uint32_t n_cache;
  uint64_t tick;
  timer *tm;
  size_t n_tm;
  uint64_t cap_tm;
  pending *pd;
  size_t n_pd;
  uint64_t cap_pd;
  es_arena scratch;
  uint64_t rng[4];
  es_saga_report run;
  es_saga_report total;
  pthread_mutex_t mu; /* total */
  bool crashed;
  int gauge;
  pthread_t thread;
  bool started;
  atomic_bool stop;
  es__leader leader; /* the live thread's lease "saga:<Name>" */
};

/* ---- small helpers
 * ----------------------------------------------------------- */

static int64_t now_us(es_saga_runner *r) {
  return r->opt.now_us ? r->opt.now_us(r->opt.clock_ctx) : es__now_us();
}

static es_metrics *metrics(es_saga_runner *r) {
  return r->opt.obs ? r->opt.obs->metrics : NULL;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n) {
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

/* The crash hook: true when the runner is to stop as if killed. */
static bool crash_at(es_saga_runner *r, es_saga_point p) {
  if (r->opt.crash_hook && r->opt.crash_hook(r->opt.hook_ctx, p) != 0)
    r->crashed = true;
  return r->crashed;
}

void es_saga_command_id(const char *saga, const char *key, uint64_t step,
                        uint32_t effect, es_uuid *out) {
  uint8_t buf[2 * (ES_KEY_MAX + 1) + 12];
  size_t n = 0, ls = saga ? strlen(saga) : 0, lk = key ? strlen(key) : 0;
  uint64_t h0, h1;

  if (ls > ES_KEY_MAX)
    ls = ES_KEY_MAX;
  if (lk > ES_KEY_MAX)
    lk = ES_KEY_MAX;
  memcpy(buf, saga ? saga : "", ls);
  n = ls;
  buf[n++] = 0;
  memcpy(buf + n, key ? key : "", lk);
  n += lk;
  buf[n++] = 0;
  for (int i = 0; i < 8; i++)
    buf[n++] = (uint8_t)(step >> (8 * i));
  for (int i = 0; i < 4; i++)
    buf[n++] = (uint8_t)(effect >> (8 * i));
  /* Two SipHash-1-3 under fixed keys: stable across processes and
   * versions (changing them would re-execute commands after an upgrade). */
  h0 = es__siphash13(UINT64_C(0x65732e736167612e), UINT64_C(0x636d6469642e7631),
                     buf, n);
  h1 = es__siphash13(UINT64_C(0x6f7574626f782e31), UINT64_C(0x64657465726d2e32),
                     buf, n);
  for (int i = 0; i < 8; i++) {
    out->bytes[i] = (uint8_t)(h0 >> (56 - 8 * i));
    out->bytes[8 + i] = (uint8_t)(h1 >> (56 - 8 * i));
  }
  out->bytes[6] = (uint8_t)((out->bytes[6] & 0x0f) | 0x80); /* version 8 */
  out->bytes[8] = (uint8_t)((out->bytes[8] & 0x3f) | 0x80); /* RFC variant */
}

/* ---- the timer index in memory --------------------------------------------
 */

static timer *tm_find(es_saga_runner *r, const char *key, const char *name) {
  for (size_t i = 0; i < r->n_tm; i++)
    if (!strcmp(r->tm[i].key, key) && !strcmp(r->tm[i].name, name))
      return &r->tm[i];
  return NULL;
}

static void tm_remove_at(es_saga_runner *r, size_t i) {
  r->tm[i] = r->tm[--r->n_tm];
}

static int tm_apply(es_saga_runner *r, uint32_t op, const char *key,
                    const char *name, int64_t due, uint64_t step) {
  timer *t;
  size_t i;

  switch (op) {
  case OP_SCHEDULE:
    if ((t = tm_find(r, key, name)) != NULL) {
      t->due = due;
      return 0;
    }
    if (es__grow_array(&r->tm, &r->cap_tm, r->n_tm + 1, sizeof *r->tm))
      return ES_ENOMEM;
    t = &r->tm[r->n_tm++];
    copy_str(t->key, sizeof t->key, key, strlen(key));
    copy_str(t->name, sizeof t->name, name, strlen(name));
    t->due = due;
    return 0;
  case OP_CANCEL:
  case OP_FIRED:
  case OP_FIRING:
    for (i = 0; i < r->n_tm; i++)
      if (!strcmp(r->tm[i].key, key) && !strcmp(r->tm[i].name, name) &&
          (op == OP_CANCEL || r->tm[i].due == due)) {
        tm_remove_at(r, i);
        break;
      }
    if (op != OP_FIRING)
      return 0;
    if (es__grow_array(&r->pd, &r->cap_pd, r->n_pd + 1, sizeof *r->pd))
      return ES_ENOMEM;
    copy_str(r->pd[r->n_pd].key, sizeof r->pd[0].key, key, strlen(key));
    r->pd[r->n_pd++].step = step;
    return 0;
  case OP_CLEAR:
    for (i = 0; i < r->n_tm;)
      if (!strcmp(r->tm[i].key, key))
        tm_remove_at(r, i);
      else
        i++;
    return 0;
  case OP_DISPATCHED:
    for (i = 0; i < r->n_pd; i++)
      if (!strcmp(r->pd[i].key, key) && r->pd[i].step == step) {
        r->pd[i] = r->pd[--r->n_pd];
        break;
      }
    return 0;
  default:
    return ES_ECORRUPT;
  }
}

static void timer_record(es_buf *b, uint32_t op, const char *key,
                         const char *name, int64_t due, uint64_t step) {
  es_mp_write_array(b, 5);
  es_mp_write_uint(b, op);
  es_mp_write_cstr(b, key);
  es_mp_write_cstr(b, name);
  es_mp_write_int(b, due);
  es_mp_write_uint(b, step);
}

static int read_timer_record(es_saga_runner *r, const uint8_t *p, size_t len) {
  es__saga_timer_record t;
  int rc = es__saga_timer_record_read(p, len, &t);

  if (rc)
    return rc;
  return tm_apply(r, t.op, t.timer.key, t.timer.name, t.timer.due, t.step);
}

typedef struct replay_ctx {
  es_saga_runner *r;
  int rc;
} replay_ctx;

static int replay_timer(const es_stored_event *ev, void *arg) {
  replay_ctx *c = arg;
  if (ev->meta.type_id != c->r->timer_type)
    return 0;
  return c->rc = read_timer_record(c->r, ev->payload, ev->len);
}

/* ---- steps ----------------------------------------------------------------
 */

/* Parses a step record. Every output may be NULL; `*effects` (malloc'd,
 * the caller frees it) point into `p`. */
static int parse_step(const uint8_t *p, size_t len, step_info *si,
                      es_uuid *corr, const uint8_t **state, size_t *state_len,
                      bool *completed, stored_effect **effects,
                      uint32_t *n_effects) {
  es_mp_reader rd;
  uint32_t n, m, sn, bn;
  uint64_t trig, pos, rs, re;
  int64_t due;
  const char *s;
  const uint8_t *b, *st;
  bool done;
  stored_effect *fx = NULL;

  es_mp_reader_init(&rd, p, len);
  if (es_mp_read_array(&rd, &n) != 0 || n < 11 ||
      es_mp_read_uint(&rd, &trig, 4) != 0 ||
      es_mp_read_uint(&rd, &pos, UINT64_MAX) != 0 ||
      es_mp_read_uint(&rd, &rs, UINT64_MAX) != 0 ||
      es_mp_read_uint(&rd, &re, UINT32_MAX) != 0 ||
      es_mp_read_str(&rd, &s, &sn) != 0 || sn > ES_TIMEOUT_NAME_MAX ||
      es_mp_read_int(&rd, &due, INT64_MIN, INT64_MAX) != 0 ||
      es_mp_read_bin(&rd, &b, &bn) != 0 || bn != 16 ||
      es_mp_read_bin(&rd, &st, &m) != 0 || es_mp_read_bool(&rd, &done) != 0)
    return ES_ECORRUPT;
  if (si) {
    si->trigger = (uint32_t)trig;
    si->position = pos;
    si->ref_step = rs;
    si->ref_effect = (uint32_t)re;
    copy_str(si->timer, sizeof si->timer, s, sn);
    si->due = due;
  }
  if (corr)
    memcpy(corr->bytes, b, 16);
  if (state) {
    *state = st;
    *state_len = m;
  }
  if (completed)
    *completed = done;
  if (!effects)
    return 0;
  if (es_mp_read_array(&rd, &m) != 0)
    return ES_ECORRUPT;
  if (m && !(fx = es__calloc(m, sizeof *fx)))
    return ES_ENOMEM;
  for (uint32_t i = 0; i < m; i++) {
    uint32_t k;
    uint64_t kind, target;
    const char *ks, *ns;
    uint32_t kl, nl, cl;
    const uint8_t *cmd;
    if (es_mp_read_array(&rd, &k) != 0 || k < 7 ||
        es_mp_read_uint(&rd, &kind, 2) != 0 ||
        es_mp_read_uint(&rd, &target, UINT32_MAX) != 0 ||
        es_mp_read_str(&rd, &ks, &kl) != 0 || kl > ES_KEY_MAX ||
        es_mp_read_bin(&rd, &cmd, &cl) != 0 ||
        es_mp_read_str(&rd, &ns, &nl) != 0 || nl > ES_TIMEOUT_NAME_MAX ||
        es_mp_read_int(&rd, &fx[i].delay, INT64_MIN, INT64_MAX) != 0 ||
        es_mp_read_int(&rd, &fx[i].due, INT64_MIN, INT64_MAX) != 0) {
      es__free(fx);
      return ES_ECORRUPT;
    }
    for (uint32_t x = 7; x < k; x++)
      if (es_mp_skip(&rd) != 0) {
        es__free(fx);
        return ES_ECORRUPT;
      }
    es_mp_leave(&rd);
    fx[i].kind = (uint32_t)kind;
    fx[i].target = (uint32_t)target;
    copy_str(fx[i].key, sizeof fx[i].key, ks, kl);
    copy_str(fx[i].name, sizeof fx[i].name, ns, nl);
    fx[i].cmd = cmd;
    fx[i].cmd_len = cl;
  }
  *effects = fx;
  *n_effects = m;
  return 0;
}

/* ---- instances
 * ---------------------------------------------------------------- */

static void inst_free(inst *in) {
  if (!in)
    return;
  for (uint32_t i = 0; i < in->n_steps; i++)
    es__free(in->steps[i].raw);
  es__free(in->steps);
  es__free(in->state);
  es_arena_close(&in->arena);
  es__free(in);
}

/* Forgets `in` (after a conflict or a failed handler): the next use
 * reloads it from the store. */
static void inst_drop(es_saga_runner *r, inst *in) {
  for (uint32_t i = 0; i < r->n_cache; i++)
    if (r->cache[i] == in) {
      r->cache[i] = r->cache[--r->n_cache];
      inst_free(in);
      return;
    }
}

static int add_step(inst *in, const step_info *si, const uint8_t *raw,
                    size_t len) {
  step_info *s;
  if (es__grow_array(&in->steps, &in->cap_steps, (uint64_t)in->n_steps + 1,
                     sizeof *in->steps))
    return ES_ENOMEM;
  s = &in->steps[in->n_steps];
  *s = *si;
  if (!(s->raw = es__malloc(len ? len : 1)))
    return ES_ENOMEM;
  if (len)
    memcpy(s->raw, raw, len);
  s->len = len;
  in->n_steps++;
  return 0;
}

typedef struct load_ctx {
  es_saga_runner *r;
  inst *in;
  int rc;
} load_ctx;

static int load_step(const es_stored_event *ev, void *arg) {
  load_ctx *c = arg;
  step_info si;
  int rc;
  if (ev->meta.type_id != c->r->step_type)
    return 0;
  memset(&si, 0, sizeof si);
  if ((rc = parse_step(ev->payload, ev->len, &si, NULL, NULL, NULL, NULL, NULL,
                       NULL)) != 0)
    return c->rc = rc;
  si.step = ev->meta.version;
  if ((rc = add_step(c->in, &si, ev->payload, ev->len)) != 0)
    return c->rc = rc;
  c->in->version = ev->meta.version;
  if (si.trigger == T_EVENT && si.position > c->in->last_pos)
    c->in->last_pos = si.position;
  return 0;
}

/* Decodes the state stored in the latest step (or a fresh one). */
static int inst_state(es_saga_runner *r, inst *in) {
  const es_type_desc *st = r->saga->state;
  const uint8_t *bytes;
  size_t len;
  bool done;

  es_arena_reset(&in->arena);
  es_type_init(st, in->state);
  if (!in->n_steps)
    return 0;
  if (parse_step(in->steps[in->n_steps - 1].raw, in->steps[in->n_steps - 1].len,
                 NULL, &in->correlation, &bytes, &len, &done, NULL, NULL) != 0)
    return ES_ECORRUPT;
  in->completed = done;
  return es_type_decode(st, in->state, bytes, len, &in->arena);
}

/* The instance `key`, from the cache or the store (version 0: none yet,
 * with a fresh state). */
static int inst_get(es_saga_runner *r, const char *key, inst **out) {
  inst *in;
  load_ctx c;
  int rc;

  *out = NULL;
  for (uint32_t i = 0; i < r->n_cache; i++)
    if (!strcmp(r->cache[i]->key, key)) {
      r->cache[i]->used = ++r->tick;
      *out = r->cache[i];
      return 0;
    }
  if (!(in = es__calloc(1, sizeof *in)))
    return ES_ENOMEM;
  copy_str(in->key, sizeof in->key, key, strlen(key));
  es_arena_init(&in->arena, 0);
  if (!(in->state = es__malloc(r->saga->state->size))) {
    inst_free(in);
    return ES_ENOMEM;
  }
  c.r = r;
  c.in = in;
  c.rc = 0;
  rc = es_store_read_stream(r->store, r->stream, key, 1, 0, load_step, &c);
  if (rc == 0)
    rc = c.rc;
  if (rc == 0)
    rc = inst_state(r, in);
  if (rc != 0) {
    inst_free(in);
    return rc;
  }
  if (r->n_cache == r->opt.cache_max) {
    uint32_t lru = 0;
    for (uint32_t i = 1; i < r->n_cache; i++)
      if (r->cache[i]->used < r->cache[lru]->used)
        lru = i;
    inst_free(r->cache[lru]);
    r->cache[lru] = r->cache[--r->n_cache];
  }
  in->used = ++r->tick;
  r->cache[r->n_cache++] = in;
  *out = in;
  return 0;
}

static const step_info *find_step(const inst *in, uint32_t trigger, uint64_t a,
                                  uint32_t b, const char *name) {
  for (uint32_t i = 0; i < in->n_steps; i++) {
    const step_info *s = &in->steps[i];
    if (s->trigger != trigger)
      continue;
    if (trigger == T_EVENT && s->position == a)
      return s;
    if ((trigger == T_REJECTED || trigger == T_DEAD) && s->ref_step == a &&
        s->ref_effect == b)
      return s;
    if (trigger == T_TIMEOUT && s->due == (int64_t)a && !strcmp(s->timer, name))
      return s;
  }
  return NULL;
}

/* ---- recording a step (the outbox)
 * --------------------------------------------- */

typedef struct trigger {
  uint32_t kind;
  uint64_t position;
  uint64_t ref_step;
  uint32_t ref_effect;
  const char *timer;
  int64_t due;
  es_uuid correlation;
  const es_new_event *letter; /* T_DEAD: the dead-letter record */
} trigger;

/* A step on its way to the store: its record and the timer index records
 * it implies, laid out as the events of one append. */
typedef struct step_out {
  uint64_t step;
  int64_t now;
  bool completed;       /* the instance is completed after this step */
  bool newly_completed; /* ... and was not before it */
  uint32_t n_fx;
  es_buf rec; /* the step record */
  es_buf tix; /* the timer index records, back to back */
  es_new_event tev[64], *tevs;
  size_t toff[64], *toffs, cap_t, n_t; /* where each index record starts */
} step_out;

static void step_out_init(step_out *o, es_saga_runner *r, const inst *in,
                          const es_saga_ctx *ctx) {
  o->step = in->version + 1;
  o->now = now_us(r);
  o->completed = in->completed || (ctx && ctx->completed);
  o->newly_completed = o->completed && !in->completed;
  o->n_fx = ctx ? ctx->n_effects : 0;
  es_buf_init(&o->rec, r->store->opt.max_event_size);
  es_buf_init(&o->tix, r->store->opt.max_event_size);
  o->tevs = o->tev;
  o->toffs = o->toff;
  o->cap_t = 64;
  o->n_t = 0;
}

static void step_out_close(step_out *o) {
  if (o->tevs != o->tev)
    es__free(o->tevs);
  if (o->toffs != o->toff)
    es__free(o->toffs);
  es_buf_close(&o->rec);
  es_buf_close(&o->tix);
}

/* Writes the step record: the trigger, the state after the handler, the
 * effects (a send with its command, a timer with its due time). */
static int encode_step(es_saga_runner *r, const inst *in, const trigger *t,
                       const es_saga_ctx *ctx, step_out *o) {
  es_buf st = ES_BUF_INIT, *rec = &o->rec;
  int rc;
  es_buf_init(&st, r->store->opt.max_event_size);
  if ((rc = es_type_encode(r->saga->state, in->state, &st)) != 0 ||
      (rc = st.err) != 0) {
    es_buf_close(&st);
    return rc;
  }
  es_mp_write_array(rec, 11);
  es_mp_write_uint(rec, t->kind);
  es_mp_write_uint(rec, t->position);
  es_mp_write_uint(rec, t->ref_step);
  es_mp_write_uint(rec, t->ref_effect);
  es_mp_write_cstr(rec, t->timer ? t->timer : "");
  es_mp_write_int(rec, t->due);
  es_mp_write_bin(rec, t->correlation.bytes, 16);
  es_mp_write_bin(rec, st.data, st.len);
  es_mp_write_bool(rec, o->completed);
  es_mp_write_array(rec, o->n_fx);
  for (uint32_t i = 0; i < o->n_fx; i++) {
    const es_effect *e = &ctx->effects[i];
    bool send = e->kind == ES_EFFECT_SEND;
    int64_t due = e->kind == ES_EFFECT_SCHEDULE ? o->now + e->delay_us : 0;
    es_mp_write_array(rec, 7);
    es_mp_write_uint(rec, e->kind);
    es_mp_write_uint(rec, e->target);
    es_mp_write_cstr(rec, send ? e->key : "");
    es_mp_write_bin(rec, send ? ctx->payloads.data + e->offset : NULL,
                    send ? e->len : 0);
    es_mp_write_cstr(rec, send ? "" : e->name);
    es_mp_write_int(rec, e->delay_us);
    es_mp_write_int(rec, due);
  }
  es_mp_write_uint(rec, o->step);
  es_buf_close(&st);
  return rec->err;
}

/* Writes the timer index records the step implies, in the order they
 * apply: the firing it consumes, its schedules and cancels, and clearing
 * every timer when it completes the instance. */
static int index_timers(const inst *in, const trigger *t,
                        const es_saga_ctx *ctx, step_out *o) {
  if (o->n_fx + 2 > o->cap_t) {
    o->cap_t = o->n_fx + 2;
    o->tevs = es__malloc(o->cap_t * sizeof *o->tevs);
    o->toffs = es__malloc(o->cap_t * sizeof *o->toffs);
    if (!o->tevs || !o->toffs)
      return ES_ENOMEM;
  }
  if (t->kind == T_TIMEOUT) {
    o->toffs[o->n_t++] = o->tix.len;
    timer_record(&o->tix, OP_FIRING, in->key, t->timer, t->due, o->step);
  }
  for (uint32_t i = 0; i < o->n_fx; i++) {
    const es_effect *e = &ctx->effects[i];
    if (e->kind == ES_EFFECT_SEND)
      continue;
    o->toffs[o->n_t++] = o->tix.len;
    timer_record(&o->tix,
                 e->kind == ES_EFFECT_SCHEDULE ? OP_SCHEDULE : OP_CANCEL,
                 in->key, e->name, o->now + e->delay_us, o->step);
  }
  if (o->newly_completed) {
    o->toffs[o->n_t++] = o->tix.len;
    timer_record(&o->tix, OP_CLEAR, in->key, "", 0, o->step);
  }
  return o->tix.err;
}

/* Appends the step to the instance's stream (expecting the version we
 * hold), its index records to the timer stream and its dead letter to the
 * dead-letter stream, in one append. ES_ECONFLICT drops the instance:
 * another runner moved it. */
static int append_step(es_saga_runner *r, inst *in, const trigger *t,
                       step_out *o) {
  es_new_event ev;
  es_append_stream g[3];
  uint32_t n = 1;
  int rc;
  memset(&ev, 0, sizeof ev);
  ev.type_id = r->step_type;
  ev.type_version = 1;
  ev.correlation_id = t->correlation;
  ev.payload = o->rec.data;
  ev.len = o->rec.len;
  g[0].type = r->stream;
  g[0].key = in->key;
  g[0].expected = es_expect_exact(in->version);
  g[0].events = &ev;
  g[0].n_events = 1;
  for (size_t i = 0; i < o->n_t; i++) {
    size_t end = i + 1 < o->n_t ? o->toffs[i + 1] : o->tix.len;
    memset(&o->tevs[i], 0, sizeof o->tevs[i]);
    o->tevs[i].type_id = r->timer_type;
    o->tevs[i].type_version = 1;
    o->tevs[i].payload = o->tix.data + o->toffs[i];
    o->tevs[i].len = end - o->toffs[i];
  }
  if (o->n_t) {
    g[n].type = r->timers;
    g[n].key = "timers";
    g[n].expected = es_expect_any();
    g[n].events = o->tevs;
    g[n++].n_events = (uint32_t)o->n_t;
  }
  if (t->letter) {
    g[n].type = r->dead;
    g[n].key = ES__DEAD_KEY;
    g[n].expected = es_expect_any();
    g[n].events = t->letter;
    g[n++].n_events = 1;
  }
  rc = es_store_append(r->store, g, n, NULL);
  if (rc == ES_ECONFLICT) /* reload next time */
    inst_drop(r, in);
  return rc;
}

/* Folds the stored step into `in` and its index records into the timer
 * table. On failure the instance is dropped, to be reloaded on next use. */
static int fold_step(es_saga_runner *r, inst *in, const trigger *t,
                     const step_out *o) {
  step_info si;
  int rc = 0;
  memset(&si, 0, sizeof si);
  si.step = o->step;
  si.trigger = t->kind;
  si.position = t->position;
  si.ref_step = t->ref_step;
  si.ref_effect = t->ref_effect;
  copy_str(si.timer, sizeof si.timer, t->timer ? t->timer : "",
           t->timer ? strlen(t->timer) : 0);
  si.due = t->due;
  for (size_t i = 0; i < o->n_t && rc == 0; i++)
    rc = read_timer_record(r, o->tevs[i].payload, o->tevs[i].len);
  if (rc == 0)
    rc = add_step(in, &si, o->rec.data, o->rec.len);
  in->version = o->step;
  if (t->kind == T_EVENT && t->position > in->last_pos)
    in->last_pos = t->position;
  if (rc == 0)
    rc = inst_state(r, in); /* drops what the handler left in the arena */
  if (rc != 0) {
    inst_drop(r, in);
    return rc;
  }
  r->run.steps++;
  if (o->newly_completed)
    r->run.completed++;
  return 0;
}

/* Stores the step `ctx` recorded (NULL: no effects, state unchanged) in
 * one append with the timer index records it implies. Then folds it into
 * `in` and the timer table. ES_ECONFLICT when another runner moved the
 * instance (the caller drops it). */
static int record_step(es_saga_runner *r, inst *in, const trigger *t,
                       es_saga_ctx *ctx) {
  step_out o;
  int rc;
  step_out_init(&o, r, in, ctx);
  if ((rc = encode_step(r, in, t, ctx, &o)) == 0 &&
      (rc = index_timers(in, t, ctx, &o)) == 0 &&
      (rc = append_step(r, in, t, &o)) == 0 &&
      (rc = fold_step(r, in, t, &o)) == 0 && crash_at(r, ES_SAGA_AT_RECORDED))
    rc = ES_EINTERRUPTED;
  step_out_close(&o);
  return rc;
}

/* ---- dispatch
 * -------------------------------------------------------------------- */

/* Whether an attempt that failed with `rc` is worth repeating. A record
 * that failed its CRC (ES_ECORRUPT) counts: one read can return damaged
 * bits and the next the intact record; damage on the disk fails every
 * attempt and still ends in the dead-letter log. */
static bool transient(int rc, uint32_t outcome) {
  if (outcome == ES_OUTCOME_CONFLICT)
    return true;
  return rc == ES_EIO || rc == ES_ENOMEM || rc == ES_ETIMEDOUT ||
         rc == ES_ELOCKED || rc == ES_EINTERRUPTED || rc == ES_ECONFLICT ||
         rc == ES_ECORRUPT;
}

static void backoff(es_saga_runner *r, uint32_t attempt) {
  const es_retry_policy *p = &r->opt.retry;
  int64_t d = p->base_delay_us;
  for (uint32_t i = 1; i < attempt && d < p->max_delay_us; i++)
    d *= 2;
  if (d > p->max_delay_us)
    d = p->max_delay_us;
  if (p->jitter_pct && d > 0) {
    uint64_t span = (uint64_t)d * p->jitter_pct / 100;
    if (span)
      d -= (int64_t)(es__rng_next(r->rng) % (span + 1));
  }
  if (r->opt.sleep_us) {
    r->opt.sleep_us(r->opt.sleep_ctx, d);
  } else if (d > 0) {
    struct timespec ts = {(time_t)(d / 1000000), (long)(d % 1000000) * 1000};
    nanosleep(&ts, NULL);
  }
}

static int dispatch_step(es_saga_runner *r, inst *in, uint64_t step, int depth);

/* Executes one command of the saga: through the app, or the test hook. */
static int execute(es_saga_runner *r, const es_saga_target *tg, const char *key,
                   const void *value, const es_exec_options *xo,
                   es_result *res) {
  if (r->opt.execute)
    return r->opt.execute(r->opt.execute_ctx, tg->aggregate, tg->command, key,
                          value, xo, res);
  return es_app_execute_value(r->app, tg->aggregate, tg->command, key, value,
                              xo, res);
}

static const char *target_name(const es_saga_target *t) {
  return t->aggregate->commands[t->command].command->name;
}

/* Sets effect (step, i) aside: stores the dead letter and the step that
 * says so in one append. */
static int dead_letter(es_saga_runner *r, inst *in, uint64_t step, uint32_t i,
                       const stored_effect *e, const es_uuid *id,
                       const es_uuid *corr, const void *value,
                       const es_result *res, int fault, uint32_t attempts) {
  const es_saga_target *tg = &r->saga->sends[e->target];
  es__dead_letter d;
  es_new_event letter;
  es_buf line = ES_BUF_INIT;
  trigger t;
  char sstep[24], satt[16];
  int rc;

  memset(&d, 0, sizeof d);
  d.id = *id;
  d.saga = r->saga->name;
  d.key = in->key;
  d.step = step;
  d.effect = i;
  d.target = target_name(tg);
  d.instance = e->key;
  d.correlation = *corr;
  d.error = es_err_name(fault);
  d.rejection = res->outcome == ES_OUTCOME_REJECTED && res->error_name
                    ? res->error_name
                    : "";
  d.message =
      res->outcome == ES_OUTCOME_REJECTED ? res->message : es_strerror(fault);
  d.attempts = attempts;
  d.time_us = now_us(r);
  d.command_type = tg->aggregate->commands[tg->command].command;
  d.command_value = value;
  d.msgpack = e->cmd;
  d.msgpack_len = e->cmd_len;
  memset(&t, 0, sizeof t);
  t.kind = T_DEAD;
  t.ref_step = step;
  t.ref_effect = i;
  t.correlation = *corr;
  t.letter = &letter;
  rc = es__dead_letter_record(&d, r->store->opt.max_event_size, &line, &letter);
  if (rc == 0)
    rc = record_step(r, in, &t, NULL);
  es_buf_close(&line);
  if (rc != 0)
    return rc; /* not recorded as dead: retried on the next run */
  snprintf(sstep, sizeof sstep, "%" PRIu64, step);
  snprintf(satt, sizeof satt, "%" PRIu32, attempts);
  es__log(r->opt.obs, ES_LOG_WARN, "saga command dead-lettered", "saga",
          r->saga->name, "key", in->key, "step", sstep, "target", d.target,
          "instance", e->key, "error", d.error, "rejection", d.rejection,
          "attempts", satt, NULL);
  es_metrics_add(metrics(r), ES_CTR_DEAD_LETTERS, 1);
  r->run.dead_lettered++;
  return 0;
}

/* Executes effect `i` of `step` (once recorded), with retries; then its
 * rejection handler or the dead-letter log as the outcome requires. */
/* One DEBUG line per command a saga sent: to whom, how it ended. */
static void log_dispatch(const es_saga_runner *r, const inst *in,
                         const es_saga_target *tg, const stored_effect *e,
                         const es_result *res, uint32_t attempts) {
  static const char *const outcomes[] = {"ok", "rejected", "conflict",
                                         "failed"};
  char n[16];
  if (!es__log_enabled(r->opt.obs, ES_LOG_DEBUG))
    return;
  snprintf(n, sizeof n, "%u", attempts);
  es__log(r->opt.obs, ES_LOG_DEBUG, "saga dispatch", "saga", r->saga->name,
          "key", in->key, "target", target_name(tg), "instance", e->key,
          "outcome", res->outcome < 4 ? outcomes[res->outcome] : "unknown",
          "attempts", n, NULL);
}

static int dispatch_one(es_saga_runner *r, inst *in, uint64_t step, uint32_t i,
                        const stored_effect *e, const es_uuid *corr,
                        int depth) {
  const es_saga_target *tg;
  const es_type_desc *ct;
  es_exec_options xo;
  es_result res;
  es_arena a;
  void *value = NULL;
  uint32_t attempt = 0;
  int rc, drc;

  if (e->target >= r->saga->n_sends)
    return ES_ECORRUPT;
  tg = &r->saga->sends[e->target];
  ct = tg->aggregate->commands[tg->command].command;
  memset(&xo, 0, sizeof xo);
  es_saga_command_id(r->saga->name, in->key, step, i, &xo.command_id);
  xo.correlation_id = *corr;
  memset(&res, 0, sizeof res);
  es_arena_init(&a, 0);
  if (!(value = es_arena_alloc(&a, ct->size))) {
    rc = ES_ENOMEM;
    goto out;
  }
  rc = es_type_decode(ct, value, e->cmd_len ? (const void *)e->cmd : "",
                      e->cmd_len, &a);
  if (rc != 0) { /* cannot happen for bytes the saga encoded: set aside */
    res.outcome = ES_OUTCOME_FAILED;
    rc =
        dead_letter(r, in, step, i, e, &xo.command_id, corr, NULL, &res, rc, 0);
    goto out;
  }
  for (;;) {
    attempt++;
    rc = execute(r, tg, e->key, value, &xo, &res);
    if (res.outcome == ES_OUTCOME_OK || res.outcome == ES_OUTCOME_REJECTED ||
        !transient(rc, res.outcome) || attempt >= r->opt.retry.max_attempts ||
        atomic_load(&r->stop))
      break;
    r->run.retries++;
    backoff(r, attempt);
  }
  log_dispatch(r, in, tg, e, &res, attempt);
  if (res.outcome == ES_OUTCOME_OK) {
    r->run.dispatched++;
    if (res.duplicate)
      r->run.duplicates++;
    rc = 0;
  } else if (res.outcome == ES_OUTCOME_REJECTED) {
    es_rejection why;
    es_saga_ctx ctx;
    void *cmd;
    trigger t;

    r->run.rejections++;
    if (!tg->on_rejected || in->completed) {
      /* Nobody to tell (or the saga is over): a person must look. */
      rc = dead_letter(r, in, step, i, e, &xo.command_id, corr, value, &res,
                       ES_EREJECTED, attempt);
      goto out;
    }
    /* The handler may keep the command's strings: decode into the
     * instance's arena. */
    if (!(cmd = es_arena_alloc(&in->arena, ct->size))) {
      rc = ES_ENOMEM;
      goto out;
    }
    if ((rc = es_type_decode(ct, cmd, e->cmd_len ? (const void *)e->cmd : "",
                             e->cmd_len, &in->arena)) != 0)
      goto out;
    why.error = res.error_name ? res.error_name : "";
    why.code = res.error;
    why.message = res.message;
    es_saga_ctx_init(&ctx, r->saga);
    ctx.arena = &in->arena;
    ctx.key = in->key;
    rc = tg->on_rejected(in->state, cmd, &why, &ctx);
    if (rc == 0)
      rc = ctx.fault;
    if (rc == 0) {
      memset(&t, 0, sizeof t);
      t.kind = T_REJECTED;
      t.ref_step = step;
      t.ref_effect = i;
      t.correlation = *corr;
      rc = record_step(r, in, &t, &ctx);
    } else {
      es__log(r->opt.obs, ES_LOG_ERROR, "saga rejection handler failed", "saga",
              r->saga->name, "key", in->key, "error", es_err_name(rc), NULL);
      es_saga_ctx_close(&ctx);
      inst_drop(r, in); /* the handler may have changed the state */
      goto out;
    }
    es_saga_ctx_close(&ctx);
    if (rc == 0)
      rc = dispatch_step(r, in, in->version, depth + 1);
  } else {
    drc = rc ? rc : ES_EIO;
    rc = dead_letter(r, in, step, i, e, &xo.command_id, corr, value, &res, drc,
                     attempt);
  }
out:
  es_arena_close(&a);
  return rc;
}

/* Sends every command of `step` (each at most once at its target thanks
 * to the deterministic ids), following rejections already handled. */
static int dispatch_step(es_saga_runner *r, inst *in, uint64_t step,
                         int depth) {
  stored_effect *fx = NULL;
  uint32_t n = 0;
  uint8_t *raw;
  size_t len;
  es_uuid corr;
  int rc = 0;

  if (depth > MAX_DEPTH)
    return ES_EDEPTH;
  if (step == 0 || step > in->n_steps)
    return ES_ECORRUPT;
  /* A private copy: handling a rejection below may reload the instance. */
  len = in->steps[step - 1].len;
  if (!(raw = es__malloc(len ? len : 1)))
    return ES_ENOMEM;
  memcpy(raw, in->steps[step - 1].raw, len);
  if ((rc = parse_step(raw, len, NULL, &corr, NULL, NULL, NULL, &fx, &n)) != 0)
    goto out;
  for (uint32_t i = 0; i < n; i++) {
    const step_info *done;
    if (fx[i].kind != ES_EFFECT_SEND)
      continue;
    if (find_step(in, T_DEAD, step, i, NULL))
      continue;
    if ((done = find_step(in, T_REJECTED, step, i, NULL)) != NULL) {
      uint64_t s = done->step;
      if ((rc = dispatch_step(r, in, s, depth + 1)) != 0)
        goto out;
      continue;
    }
    if ((rc = dispatch_one(r, in, step, i, &fx[i], &corr, depth)) != 0)
      goto out;
    if (crash_at(r, ES_SAGA_AT_DISPATCHED)) {
      rc = ES_EINTERRUPTED;
      goto out;
    }
  }
out:
  es__free(fx);
  es__free(raw);
  return rc;
}

/* ---- events
 * ------------------------------------------------------------------------ */

static const es_saga_handler *find_handler(const es_saga_desc *saga,
                                           const es_event_meta *m) {
  for (uint32_t i = 0; i < saga->n_handlers; i++) {
    const es_saga_handler *h = &saga->handlers[i];
    if (h->aggregate->events[h->event].event->type_id == m->type_id &&
        !strcmp(h->aggregate->name, m->aggregate))
      return h;
  }
  return NULL;
}

/* The correlation key in `value` at field `f`: 1 with the key in `out`,
 * 0 when the optional field is absent, or holds no legal key (empty, too
 * long, or refused by es_key_check(): no instance can have it), or an
 * ES_E* code. */
static int by_key(const es_field_desc *f, const void *value,
                  char out[ES_KEY_MAX + 1]) {
  const char *base = value;
  if (f->optional && !*(const bool *)(base + f->has_offset))
    return 0;
  if (f->is_list)
    return ES_EINVAL;
  switch (f->kind) {
  case ES_KIND_STRING: {
    const char *s = *(const char *const *)(base + f->offset);
    size_t n = s ? strlen(s) : 0;
    if (!n || n > ES_KEY_MAX || es_key_check(s, NULL, 0) != 0)
      return 0;
    memcpy(out, s, n + 1);
    return 1;
  }
  case ES_KIND_U64: {
    uint64_t v;
    memcpy(&v, base + f->offset, sizeof v);
    es_key_from_u64(v, out);
    return 1;
  }
  case ES_KIND_UUID: {
    es_uuid u;
    memcpy(&u, base + f->offset, sizeof u);
    es_key_from_uuid(&u, out);
    return 1;
  }
  default:
    return ES_EINVAL;
  }
}

static int handle_once(es_saga_runner *r, const es_saga_handler *h,
                       const es_stored_event *ev) {
  char key[ES_KEY_MAX + 1];
  const step_info *seen;
  es_saga_ctx ctx;
  inst *in;
  uint32_t index;
  void *value;
  trigger t;
  int rc;

  if (h->by) {
    es_arena_reset(&r->scratch);
    rc = es__event_decode(h->aggregate, ev->meta.type_id, ev->meta.type_version,
                          ev->payload, ev->len, &r->scratch, NULL, &index,
                          &value);
    if (rc != 0)
      return rc;
    if ((rc = by_key(h->by, value, key)) <= 0) {
      if (rc == 0)
        r->run.skipped++;
      return rc;
    }
  } else {
    copy_str(key, sizeof key, ev->meta.key, strlen(ev->meta.key));
  }
  if ((rc = inst_get(r, key, &in)) != 0)
    return rc;
  if (ev->meta.position <= in->last_pos) {
    /* Handled before a crash that came before the checkpoint. */
    if (!(seen = find_step(in, T_EVENT, ev->meta.position, 0, NULL))) {
      r->run.skipped++;
      return 0;
    }
    r->run.redelivered++;
    return dispatch_step(r, in, seen->step, 0);
  }
  if ((!in->version && !h->starts) || in->completed) {
    r->run.skipped++;
    return 0;
  }
  rc = es__event_decode(h->aggregate, ev->meta.type_id, ev->meta.type_version,
                        ev->payload, ev->len, &in->arena, NULL, &index, &value);
  if (rc != 0) {
    inst_drop(r, in);
    return rc;
  }
  es_saga_ctx_init(&ctx, r->saga);
  ctx.arena = &in->arena;
  ctx.key = in->key;
  rc = h->handler(in->state, value, &ev->meta, &ctx);
  if (rc == 0)
    rc = ctx.fault;
  if (rc != 0) {
    es__log(r->opt.obs, ES_LOG_ERROR, "saga handler failed", "saga",
            r->saga->name, "key", key, "error", es_err_name(rc), NULL);
    es_saga_ctx_close(&ctx);
    inst_drop(r, in);
    return rc;
  }
  memset(&t, 0, sizeof t);
  t.kind = T_EVENT;
  t.position = ev->meta.position;
  t.correlation = ev->meta.correlation_id;
  rc = record_step(r, in, &t, &ctx);
  es_saga_ctx_close(&ctx);
  if (rc != 0)
    return rc;
  r->run.events++;
  return dispatch_step(r, in, in->version, 0);
}

static int on_event(const es_stored_event *ev, void *arg) {
  es_saga_runner *r = arg;
  const es_saga_handler *h = find_handler(r->saga, &ev->meta);
  int rc = 0;

  if (!h)
    return 0;
  for (int i = 0; i < MAX_CONFLICTS; i++)
    if ((rc = handle_once(r, h, ev)) != ES_ECONFLICT || r->crashed)
      break;
  if (rc == 0 && crash_at(r, ES_SAGA_AT_HANDLED))
    rc = ES_EINTERRUPTED;
  if (r->crashed)
    rc = ES_EINTERRUPTED;
  return rc;
}

/* ---- timeouts
 * ------------------------------------------------------------------------ */

static int index_append(es_saga_runner *r, uint32_t op, const char *key,
                        const char *name, int64_t due, uint64_t step) {
  es_buf b = ES_BUF_INIT;
  es_new_event ev;
  int rc;

  timer_record(&b, op, key, name, due, step);
  if ((rc = b.err) == 0) {
    memset(&ev, 0, sizeof ev);
    ev.type_id = r->timer_type;
    ev.type_version = 1;
    ev.payload = b.data;
    ev.len = b.len;
    rc = es_store_append_one(r->store, r->timers, "timers", es_expect_any(),
                             &ev, 1, NULL);
  }
  if (rc == 0)
    rc = tm_apply(r, op, key, name, due, step);
  es_buf_close(&b);
  return rc;
}

/* Re-dispatches timeout steps stored but not yet marked dispatched. */
static int finish_pending(es_saga_runner *r) {
  while (r->n_pd) {
    pending p = r->pd[0];
    inst *in;
    int rc;
    if ((rc = inst_get(r, p.key, &in)) != 0)
      return rc;
    if (p.step <= in->n_steps && (rc = dispatch_step(r, in, p.step, 0)) != 0)
      return rc;
    if (crash_at(r, ES_SAGA_AT_TIMER))
      return ES_EINTERRUPTED;
    if ((rc = index_append(r, OP_DISPATCHED, p.key, "", 0, p.step)) != 0)
      return rc;
  }
  return 0;
}

static int fire_one(es_saga_runner *r, const timer *tm) {
  es_timeout to;
  es_saga_ctx ctx;
  trigger t;
  inst *in;
  int rc;

  if ((rc = inst_get(r, tm->key, &in)) != 0)
    return rc;
  if (!in->version || in->completed || !r->saga->on_timeout)
    return index_append(r, OP_FIRED, tm->key, tm->name, tm->due, 0);
  to.name = tm->name;
  to.due = tm->due;
  es_saga_ctx_init(&ctx, r->saga);
  ctx.arena = &in->arena;
  ctx.key = in->key;
  rc = r->saga->on_timeout(in->state, &to, &ctx);
  if (rc == 0)
    rc = ctx.fault;
  if (rc != 0) {
    es__log(r->opt.obs, ES_LOG_ERROR, "saga timeout handler failed", "saga",
            r->saga->name, "key", tm->key, "error", es_err_name(rc), NULL);
    es_saga_ctx_close(&ctx);
    inst_drop(r, in);
    return rc;
  }
  memset(&t, 0, sizeof t);
  t.kind = T_TIMEOUT;
  t.timer = tm->name;
  t.due = tm->due;
  t.correlation = in->correlation;
  rc = record_step(r, in, &t, &ctx); /* with its "firing" record */
  es_saga_ctx_close(&ctx);
  if (rc != 0)
    return rc;
  r->run.timeouts_fired++;
  return finish_pending(r);
}

/* Fires every timeout due now, earliest first. */
static int fire_due(es_saga_runner *r) {
  int64_t now = now_us(r);
  for (;;) {
    size_t best = r->n_tm;
    timer tm;
    int rc;
    for (size_t i = 0; i < r->n_tm; i++)
      if (r->tm[i].due <= now &&
          (best == r->n_tm || r->tm[i].due < r->tm[best].due))
        best = i;
    if (best == r->n_tm)
      return 0;
    tm = r->tm[best];
    if ((rc = fire_one(r, &tm)) != 0)
      return rc;
  }
}

/* ---- running
 * ---------------------------------------------------------------------------
 */

static int save_checkpoint(es_saga_runner *r) {
  int rc;
  if (r->sub.position == r->saved)
    return 0;
  rc = es_store_checkpoint_put(r->store, r->checkpoint, r->sub.position, NULL,
                               0);
  if (rc == 0)
    r->saved = r->sub.position;
  return rc;
}

static int run_once(es_saga_runner *r) {
  for (;;) {
    uint32_t delivered = 0;
    uint64_t lag = 0;
    int rc, behind;

    if ((rc = finish_pending(r)) != 0)
      return rc;
    rc = es_subscription_poll(&r->sub, r->opt.batch, on_event, r, &delivered);
    if (r->crashed)
      return ES_EINTERRUPTED;
    /* Whatever was handled before an error is done: keep it. */
    {
      int crc = save_checkpoint(r);
      if (rc == 0)
        rc = crc;
    }
    if (rc != 0)
      return rc;
    behind = es_subscription_behind(&r->sub, &lag);
    if (behind < 0)
      return behind;
    es_metrics_gauge_set(metrics(r), r->gauge, (int64_t)lag);
    if (behind || r->n_pd)
      continue;
    /* Caught up: only now may timeouts fire. A timeout decides from the
     * instance's state, which must include every event stored before it
     * came due (after a restart, say, the withdrawal a transfer is waiting
     * for may be in the store but not yet handled: giving up then would
     * refund money the deposit also received). */
    if ((rc = fire_due(r)) != 0)
      return r->crashed ? ES_EINTERRUPTED : rc;
    behind = es_subscription_behind(&r->sub, &lag);
    if (behind < 0)
      return behind;
    if (!behind && !r->n_pd)
      return 0;
  }
}

static void add_report(es_saga_report *to, const es_saga_report *from) {
  to->events += from->events;
  to->skipped += from->skipped;
  to->redelivered += from->redelivered;
  to->steps += from->steps;
  to->dispatched += from->dispatched;
  to->duplicates += from->duplicates;
  to->rejections += from->rejections;
  to->retries += from->retries;
  to->dead_lettered += from->dead_lettered;
  to->timeouts_fired += from->timeouts_fired;
  to->completed += from->completed;
  to->position = from->position;
}

static int run_counted(es_saga_runner *r, es_saga_report *report) {
  int rc;
  memset(&r->run, 0, sizeof r->run);
  rc = run_once(r);
  r->run.position = r->saved;
  pthread_mutex_lock(&r->mu);
  add_report(&r->total, &r->run);
  pthread_mutex_unlock(&r->mu);
  if (report)
    *report = r->run;
  return rc;
}

int es_saga_run_until_caught_up(es_saga_runner *r, es_saga_report *report) {
  if (report)
    memset(report, 0, sizeof *report);
  if (!r || r->started)
    return ES_EINVAL;
  if (r->crashed)
    return ES_EINTERRUPTED;
  return run_counted(r, report);
}

/* Forgets what another process may have changed while this one stood
 * by: the cached instances, the timer index, the checkpoint. */
static int reload(es_saga_runner *r) {
  replay_ctx c = {r, 0};
  uint64_t cp;
  int rc = es_store_checkpoint_get(r->store, r->checkpoint, &cp, NULL);

  if (rc == ES_ENOTFOUND)
    cp = 0;
  else if (rc != 0)
    return rc;
  for (uint32_t i = 0; i < r->n_cache; i++)
    inst_free(r->cache[i]);
  r->n_cache = 0;
  r->n_tm = 0;
  r->n_pd = 0;
  rc = es_store_read_stream(r->store, r->timers, "timers", 1, 0, replay_timer,
                            &c);
  if (rc == 0)
    rc = c.rc;
  if (rc == 0)
    r->saved = r->sub.position = cp;
  return rc;
}

/* Sleeps `us`, waking early when asked to stop. */
static void pause_us(es_saga_runner *r, int64_t us) {
  for (; us > 0 && !atomic_load(&r->stop); us -= LIVE_WAIT_US) {
    struct timespec ts = {0, (long)LIVE_WAIT_US * 1000};
    nanosleep(&ts, NULL);
  }
}

/* Whether this process runs the saga now (its lease), reloading when it
 * has just become the one. */
static bool leading(es_saga_runner *r) {
  int lead = es__leader_poll(&r->leader), rc;

  if (lead == ES__LEADING)
    return true;
  if (lead == ES__NEW_LEADER) {
    if ((rc = reload(r)) == 0) {
      es__log(r->opt.obs, ES_LOG_INFO, "saga leading", "saga", r->saga->name,
              NULL);
      return true;
    }
    es__log(r->opt.obs, ES_LOG_ERROR, "saga reload failed; retrying", "saga",
            r->saga->name, "error", es_err_name(rc), NULL);
    es__leader_release(&r->leader);
  }
  pause_us(r, ES__LEADER_RETRY_US);
  return false;
}

static void *live(void *arg) {
  es_saga_runner *r = arg;
  while (!atomic_load(&r->stop)) {
    int64_t wait = LIVE_WAIT_US, earliest;
    int rc;
    if (!leading(r))
      continue;
    rc = run_counted(r, NULL);
    if (r->crashed)
      break;
    if (rc != 0) {
      struct timespec ts = {0, (long)ERROR_PAUSE_US * 1000};
      es__log(r->opt.obs, ES_LOG_ERROR, "saga run failed; retrying", "saga",
              r->saga->name, "error", es_err_name(rc), NULL);
      nanosleep(&ts, NULL);
      continue;
    }
    if (es_saga_pending_timeouts(r, &earliest) && earliest - now_us(r) < wait)
      wait = earliest - now_us(r) > 0 ? earliest - now_us(r) : 0;
    es_subscription_wait(&r->sub, wait);
  }
  es__leader_release(&r->leader);
  return NULL;
}

int es_saga_start(es_saga_runner *r) {
  if (!r || r->started || r->crashed)
    return ES_EINVAL;
  atomic_store(&r->stop, false);
  if (pthread_create(&r->thread, NULL, live, r) != 0)
    return ES_ENOMEM;
  r->started = true;
  return 0;
}

void es_saga_stop(es_saga_runner *r) {
  if (!r || !r->started)
    return;
  atomic_store(&r->stop, true);
  pthread_join(r->thread, NULL);
  r->started = false;
}

void es_saga_totals(es_saga_runner *r, es_saga_report *out) {
  if (!out)
    return;
  memset(out, 0, sizeof *out);
  if (!r)
    return;
  pthread_mutex_lock(&r->mu);
  *out = r->total;
  pthread_mutex_unlock(&r->mu);
}

size_t es_saga_pending_timeouts(es_saga_runner *r, int64_t *earliest) {
  int64_t e = INT64_MAX;
  if (!r) {
    if (earliest)
      *earliest = e;
    return 0;
  }
  for (size_t i = 0; i < r->n_tm; i++)
    if (r->tm[i].due < e)
      e = r->tm[i].due;
  if (earliest)
    *earliest = e;
  return r->n_tm;
}

int es_saga_instance_get(es_saga_runner *r, const char *key,
                         es_saga_instance *out) {
  inst *in;
  size_t n;
  int rc;

  if (out)
    memset(out, 0, sizeof *out);
  if (!r || !key || !out || r->started)
    return ES_EINVAL;
  n = strlen(key);
  if (!n || n > ES_KEY_MAX)
    return ES_EINVAL;
  if ((rc = inst_get(r, key, &in)) != 0)
    return rc;
  out->steps = in->version;
  out->completed = in->completed;
  out->state = in->state;
  return 0;
}

size_t es_saga_timeouts(es_saga_runner *r, const char *key,
                        void (*fn)(const char *key, const char *name,
                                   int64_t due, void *ctx),
                        void *ctx) {
  size_t n = 0;
  if (!r || r->started)
    return 0;
  for (size_t i = 0; i < r->n_tm; i++) {
    if (key && strcmp(r->tm[i].key, key) != 0)
      continue;
    n++;
    if (fn)
      fn(r->tm[i].key, r->tm[i].name, r->tm[i].due, ctx);
  }
  return n;
}

/* ---- open / close
 * ---------------------------------------------------------------------- */

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

/* Imports the dead-letter file of an earlier version, if any. */
static int import_dead_letters(es_saga_runner *r) {
  uint64_t n = 0, bad = 0;
  char sn[24], sbad[24];
  int rc;

  if (!r->opt.dead_letter_path)
    return 0;
  rc = es_saga_dead_letters_import(r->store, r->opt.dead_letter_path, &n, &bad);
  snprintf(sn, sizeof sn, "%" PRIu64, n);
  snprintf(sbad, sizeof sbad, "%" PRIu64, bad);
  if (rc != 0)
    es__log(r->opt.obs, ES_LOG_ERROR, "dead-letter file not imported", "saga",
            r->saga->name, "path", r->opt.dead_letter_path, "line", sbad,
            "error", es_err_name(rc), NULL);
  else if (n)
    es__log(r->opt.obs, ES_LOG_INFO, "dead-letter file imported", "saga",
            r->saga->name, "path", r->opt.dead_letter_path, "records", sn,
            NULL);
  return rc;
}

int es_saga_runner_open(es_saga_runner **out, es_app *app,
                        const es_saga_desc *saga, es_store *store,
                        const es_saga_options *opt) {
  es_saga_runner *r;
  uint64_t *types = NULL;
  replay_ctx c;
  size_t nl;
  int rc;

  if (!out)
    return ES_EINVAL;
  *out = NULL;
  if (!app || !saga || !saga->name || !saga->state || !store)
    return ES_EINVAL;
  nl = strlen(saga->name);
  if (!nl || nl + sizeof "saga:#timers" > ES_STREAM_TYPE_MAX + 1 ||
      nl + sizeof "saga:" > ES_KEY_MAX + 1)
    return ES_EINVAL;
  if (opt && opt->retry.jitter_pct > ES_SAGA_NO_JITTER)
    return ES_EINVAL;
  if (!(r = es__calloc(1, sizeof *r)))
    return ES_ENOMEM;
  r->app = app;
  r->saga = saga;
  r->store = store;
  if (opt)
    r->opt = *opt;
  if (!r->opt.retry.max_attempts)
    r->opt.retry.max_attempts = DEFAULT_ATTEMPTS;
  if (r->opt.retry.base_delay_us <= 0)
    r->opt.retry.base_delay_us = DEFAULT_BASE_US;
  if (r->opt.retry.max_delay_us <= 0)
    r->opt.retry.max_delay_us = DEFAULT_MAX_US;
  if (!r->opt.retry.jitter_pct)
    r->opt.retry.jitter_pct = DEFAULT_JITTER;
  else if (r->opt.retry.jitter_pct == ES_SAGA_NO_JITTER)
    r->opt.retry.jitter_pct = 0;
  if (!r->opt.batch)
    r->opt.batch = DEFAULT_BATCH;
  if (!r->opt.cache_max)
    r->opt.cache_max = DEFAULT_CACHE;
  r->step_type = es_fnv1a64("es.saga.step");
  r->timer_type = es_fnv1a64("es.saga.timer");
  snprintf(r->stream, sizeof r->stream, "saga:%s", saga->name);
  snprintf(r->timers, sizeof r->timers, "saga:%s#timers", saga->name);
  es__dead_letter_stream(saga->name, r->dead);
  snprintf(r->checkpoint, sizeof r->checkpoint, "saga:%s", saga->name);
  es_arena_init(&r->scratch, 0);
  es__rng_seed(r->rng, r);
  atomic_init(&r->stop, false);
  r->gauge = -1;
  r->leader.store = store;
  r->leader.name = r->checkpoint;
  if (pthread_mutex_init(&r->mu, NULL) != 0) {
    es__free(r);
    return ES_ENOMEM;
  }
  rc = ES_ENOMEM;
  if (!(r->cache = es__calloc(r->opt.cache_max, sizeof *r->cache)))
    goto fail;
  if (saga->n_handlers &&
      !(types = es__malloc(saga->n_handlers * sizeof *types)))
    goto fail;
  for (uint32_t i = 0; i < saga->n_handlers; i++)
    types[i] = saga->handlers[i]
                   .aggregate->events[saga->handlers[i].event]
                   .event->type_id;
  if (saga->n_handlers)
    qsort(types, saga->n_handlers, sizeof *types, cmp_u64);
  rc = es_store_checkpoint_get(store, r->checkpoint, &r->saved, NULL);
  if (rc == ES_ENOTFOUND)
    r->saved = 0;
  else if (rc != 0)
    goto fail;
  /* No handler would mean "every type" to the subscription: a saga
   * without handlers reads nothing, so give it an impossible type. */
  {
    uint64_t none = r->step_type;
    rc = es_subscription_init(&r->sub, store, r->saved,
                              saga->n_handlers ? types : &none,
                              saga->n_handlers ? saga->n_handlers : 1);
  }
  if (rc != 0)
    goto fail;
  c.r = r;
  c.rc = 0;
  rc = es_store_read_stream(store, r->timers, "timers", 1, 0, replay_timer, &c);
  if (rc == 0)
    rc = c.rc;
  if (rc != 0)
    goto fail;
  if ((rc = import_dead_letters(r)) != 0)
    goto fail;
  if (metrics(r))
    es_metrics_gauge_register(metrics(r), ES_GAUGE_SAGA_LAG, saga->name,
                              &r->gauge);
  es__free(types);
  es__log(r->opt.obs, ES_LOG_INFO, "saga runner open", "saga", saga->name,
          NULL);
  *out = r;
  return 0;
fail:
  es__free(types);
  es_saga_runner_close(r);
  return rc;
}

void es_saga_runner_close(es_saga_runner *r) {
  if (!r)
    return;
  es_saga_stop(r);
  for (uint32_t i = 0; i < r->n_cache; i++)
    inst_free(r->cache[i]);
  es__free(r->cache);
  es__free(r->tm);
  es__free(r->pd);
  es_subscription_close(&r->sub);
  es_arena_close(&r->scratch);
  pthread_mutex_destroy(&r->mu);
  es__free(r);
}

/* ---- re-dispatch
 * -------------------------------------------------------------------------- */

int es_saga_redispatch(es_saga_runner *r, const es_dead_letter *dl,
                       es_result *res) {
  const es_saga_target *tg = NULL;
  const es_type_desc *ct;
  es_exec_options xo;
  es_arena a;
  void *value;
  int rc;

  if (res)
    memset(res, 0, sizeof *res);
  if (!r || !dl || !dl->saga || !dl->target || !dl->instance || !dl->id ||
      strcmp(dl->saga, r->saga->name) != 0)
    return ES_EINVAL;
  for (uint32_t i = 0; i < r->saga->n_sends; i++)
    if (!strcmp(target_name(&r->saga->sends[i]), dl->target)) {
      tg = &r->saga->sends[i];
      break;
    }
  if (!tg)
    return ES_EINVAL;
  memset(&xo, 0, sizeof xo);
  if (es_uuid_parse(&xo.command_id, dl->id) != 0 ||
      es__uuid_is_zero(&xo.command_id))
    return ES_EINVAL;
  if (dl->correlation && es_uuid_parse(&xo.correlation_id, dl->correlation))
    memset(&xo.correlation_id, 0, sizeof xo.correlation_id);
  ct = tg->aggregate->commands[tg->command].command;
  es_arena_init(&a, 0);
  if (!(value = es_arena_alloc(&a, ct->size))) {
    es_arena_close(&a);
    return ES_ENOMEM;
  }
  rc = es_type_decode(ct, value,
                      dl->command_len ? (const void *)dl->command : "",
                      dl->command_len, &a);
  if (rc == 0)
    rc = execute(r, tg, dl->instance, value, &xo, res);
  es_arena_close(&a);
  return rc;
}
