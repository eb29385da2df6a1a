/*
 * kitchen_impl.c - the user's half of kitchen.es: every decide, apply,
 * upcast, projection and saga function its header declares, written the
 * way an application would (the tests check what they do).
 */
#include <string.h>

#include "kitchen_impl.h"

double kitchen_f_to_c(int32_t fahrenheit) {
  return ((double)fahrenheit - 32.0) * 5.0 / 9.0;
}

/* ---- Oven: decide ------------------------------------------------------ */

int kitchen_oven_decide_bake(const kitchen_oven_state *state,
                             const kitchen_oven_bake *command, es_decision *d) {
  kitchen_oven_baked baked;
  const char *dishes[1];
  int rc;

  if (!state->lit)
    return kitchen_oven_reject(d, KITCHEN_OVEN_NOT_LIT, "light the oven first");
  if (command->temp_f > KITCHEN_MAX_TEMP_F)
    return kitchen_oven_reject(d, KITCHEN_OVEN_TOO_HOT, command->dish);

  kitchen_oven_baked_init(&baked);
  dishes[0] = command->dish;
  baked.dishes.items = dishes;
  baked.dishes.count = 1;
  baked.temp_c = kitchen_f_to_c(command->temp_f);
  baked.minutes = command->minutes;
  if ((rc = kitchen_oven_emit_baked(d, &baked)) != 0)
    return rc;

  if (command->temp_f > KITCHEN_BURN_TEMP_F) {
    kitchen_oven_burnt burnt;
    kitchen_oven_burnt_init(&burnt);
    burnt.dish = command->dish;
    burnt.at = command->at + (es_timestamp)command->minutes * 60 * 1000000;
    return kitchen_oven_emit_burnt(d, &burnt);
  }
  return 0;
}

int kitchen_oven_decide_clean(const kitchen_oven_state *state,
                              const kitchen_oven_clean *command,
                              es_decision *d) {
  kitchen_oven_cleaned cleaned;

  if (state->bakes == 0 && !state->has_burnt)
    return kitchen_oven_reject(d, KITCHEN_OVEN_ALREADY_CLEAN, NULL);
  kitchen_oven_cleaned_init(&cleaned);
  cleaned.has_batch = command->has_batch;
  cleaned.batch = command->batch;
  return kitchen_oven_emit_cleaned(d, &cleaned);
}

int kitchen_oven_decide_configure(const kitchen_oven_state *state,
                                  const kitchen_oven_configure *command,
                                  es_decision *d) {
  kitchen_oven_configured configured;
  int rc;

  (void)state;
  kitchen_oven_configured_init(&configured);
  configured.scalars = command->scalars;
  configured.optionals = command->optionals;
  configured.lists = command->lists;
  configured.bounded = command->bounded;
  configured.shape = command->shape;
  configured.tree = command->tree;
  if ((rc = kitchen_oven_emit_configured(d, &configured)) != 0)
    return rc;

  /* A nonzero `required` also resets the tunables to their defaults. */
  if (command->required != 0) {
    kitchen_oven_defaults defaults;
    kitchen_oven_defaults_init(&defaults);
    defaults.required = command->required;
    return kitchen_oven_emit_defaults(d, &defaults);
  }
  return 0;
}

/* Lighting a lit oven changes nothing, so it emits nothing. */
int kitchen_oven_decide_light(const kitchen_oven_state *state,
                              const kitchen_oven_light *command,
                              es_decision *d) {
  kitchen_oven_lit lit;
  (void)command;
  if (state->lit)
    return 0;
  kitchen_oven_lit_init(&lit);
  return kitchen_oven_emit_lit(d, &lit);
}

/* ---- Oven: apply ------------------------------------------------------- */

/* Keeps the newest three dishes, in a new array from `arena`. */
void kitchen_oven_apply_baked(kitchen_oven_state *state,
                              const kitchen_oven_baked *event,
                              es_arena *arena) {
  const char *all[6];
  uint32_t n = 0, first;
  const char **items;

  for (uint32_t i = 0; i < state->dishes.count && n < 6; i++)
    all[n++] = state->dishes.items[i];
  for (uint32_t i = 0; i < event->dishes.count && n < 6; i++)
    all[n++] = event->dishes.items[i];
  first = n > 3 ? n - 3 : 0;
  items = es_arena_alloc_array(arena, n - first, sizeof *items);
  if (items) {
    if (n > first)
      memcpy(items, all + first, (n - first) * sizeof *items);
    state->dishes.items = items;
    state->dishes.count = n - first;
  }
  state->bakes++;
  state->temp_c = event->temp_c;
}

void kitchen_oven_apply_burnt(kitchen_oven_state *state,
                              const kitchen_oven_burnt *event,
                              es_arena *arena) {
  (void)arena;
  state->has_burnt = true;
  state->burnt = event->dish;
  state->lit = false;
}

void kitchen_oven_apply_cleaned(kitchen_oven_state *state,
                                const kitchen_oven_cleaned *event,
                                es_arena *arena) {
  (void)event;
  (void)arena;
  state->has_burnt = false;
  state->burnt = NULL;
  state->bakes = 0;
  state->dishes.items = NULL;
  state->dishes.count = 0;
  state->lit = true;
}

void kitchen_oven_apply_configured(kitchen_oven_state *state,
                                   const kitchen_oven_configured *event,
                                   es_arena *arena) {
  kitchen_shape *last = es_arena_memdup(arena, &event->shape, sizeof *last);
  uint32_t keep = state->shapes.count < 3 ? state->shapes.count : 2;
  kitchen_shape *shapes = es_arena_alloc_array(arena, keep + 1, sizeof *shapes);

  if (last)
    state->last = last;
  if (shapes) {
    if (keep)
      memcpy(shapes, state->shapes.items + (state->shapes.count - keep),
             keep * sizeof *shapes);
    shapes[keep] = event->shape;
    state->shapes.items = shapes;
    state->shapes.count = keep + 1;
  }
  state->name = event->scalars.f_string;
}

void kitchen_oven_apply_defaults(kitchen_oven_state *state,
                                 const kitchen_oven_defaults *event,
                                 es_arena *arena) {
  (void)arena;
  state->heat = event->d_enum;
  state->ratio = event->d_f32;
  state->temp_c = event->d_f64;
  state->budget = event->d_u64;
  state->low = event->d_i64;
  state->lit = event->d_bool;
}

void kitchen_oven_apply_lit(kitchen_oven_state *state,
                            const kitchen_oven_lit *event, es_arena *arena) {
  (void)event;
  (void)arena;
  state->lit = true;
}

/* ---- Oven: upcasters ---------------------------------------------------- */

/* v1 stored Fahrenheit; v2 stores Celsius. Below absolute zero is a
 * corrupt event, not something to convert. */
int kitchen_oven_upcast_baked_v1(const kitchen_oven_baked_v1 *from,
                                 kitchen_oven_baked_v2 *to, es_arena *arena) {
  (void)arena;
  if (from->temp_f < -459)
    return ES_EUPCAST;
  kitchen_oven_baked_v2_init(to);
  to->dish = from->dish;
  to->temp_c = kitchen_f_to_c(from->temp_f);
  return 0;
}

/* v2 held one comma-separated string; v3 holds up to three dishes. */
int kitchen_oven_upcast_baked_v2(const kitchen_oven_baked_v2 *from,
                                 kitchen_oven_baked *to, es_arena *arena) {
  const char *p = from->dish ? from->dish : "";
  const char **items;
  uint32_t n = 1;

  for (const char *c = p; *c; c++)
    n += *c == ',';
  if (n > 3)
    return ES_EUPCAST;
  items = es_arena_alloc_array(arena, n, sizeof *items);
  if (!items)
    return ES_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (!(items[i] = es_arena_strndup(arena, p, len)))
      return ES_ENOMEM;
    p += len + (end ? 1 : 0);
  }
  kitchen_oven_baked_init(to); /* minutes: its default, 30 */
  to->dishes.items = items;
  to->dishes.count = n;
  to->temp_c = from->temp_c;
  return 0;
}

/* ---- Pantry ------------------------------------------------------------ */

int kitchen_pantry_decide_stock(const kitchen_pantry_state *state,
                                const kitchen_pantry_stock *command,
                                es_decision *d) {
  kitchen_pantry_stocked stocked;

  if (state->stock.count >= 3)
    return kitchen_pantry_reject(d, KITCHEN_PANTRY_FULL, command->item);
  kitchen_pantry_stocked_init(&stocked);
  stocked.item = command->item;
  stocked.has_oven = command->has_oven;
  stocked.oven = command->oven;
  return kitchen_pantry_emit_stocked(d, &stocked);
}

void kitchen_pantry_apply_stocked(kitchen_pantry_state *state,
                                  const kitchen_pantry_stocked *event,
                                  es_arena *arena) {
  const char **items =
      es_arena_alloc_array(arena, state->stock.count + 1, sizeof *items);
  if (!items)
    return;
  if (state->stock.count)
    memcpy(items, state->stock.items, state->stock.count * sizeof *items);
  items[state->stock.count] = event->item;
  state->stock.items = items;
  state->stock.count++;
}

/* ---- projection Menu ------------------------------------------------------
 */

static void remember(kitchen_menu_view *v, const char *dish,
                     const es_event_meta *meta) {
  size_t n = dish ? strlen(dish) : 0;
  if (n >= sizeof v->last_dish)
    n = sizeof v->last_dish - 1;
  if (n)
    memcpy(v->last_dish, dish, n);
  v->last_dish[n] = '\0';
  if (meta)
    v->last_position = meta->position;
}

int kitchen_menu_on_oven_baked(const kitchen_oven_baked *event,
                               const es_event_meta *meta, void *ctx) {
  kitchen_menu_view *v = ctx;
  if (!v)
    return ES_EINVAL;
  v->dishes += event->dishes.count;
  if (event->dishes.count)
    remember(v, event->dishes.items[event->dishes.count - 1], meta);
  return 0;
}

int kitchen_menu_on_oven_burnt(const kitchen_oven_burnt *event,
                               const es_event_meta *meta, void *ctx) {
  kitchen_menu_view *v = ctx;
  if (!v)
    return ES_EINVAL;
  v->burnt++;
  remember(v, event->dish, meta);
  return 0;
}

int kitchen_menu_on_pantry_stocked(const kitchen_pantry_stocked *event,
                                   const es_event_meta *meta, void *ctx) {
  kitchen_menu_view *v = ctx;
  if (!v)
    return ES_EINVAL;
  v->stocked++;
  remember(v, event->item, meta);
  return 0;
}

/* ---- saga Service ----------------------------------------------------------
 * A burn starts the saga: it asks the oven to clean itself and gives it a
 * deadline; Cleaned ends it; a rejected Clean or the deadline retries. */

static int send_clean(kitchen_service_state *state, es_saga_ctx *ctx) {
  kitchen_oven_clean clean;
  int rc;

  kitchen_oven_clean_init(&clean);
  clean.has_batch = true;
  clean.batch = state->oven;
  if ((rc = kitchen_service_send_oven_clean(ctx, &state->oven, &clean)) != 0)
    return rc;
  state->cleaning = true;
  return es_saga_schedule(ctx, KITCHEN_CLEAN_TIMEOUT, KITCHEN_CLEAN_DELAY_US);
}

int kitchen_service_on_oven_burnt(kitchen_service_state *state,
                                  const kitchen_oven_burnt *event,
                                  const es_event_meta *meta, es_saga_ctx *ctx) {
  (void)event;
  if (!meta || !meta->key || es_uuid_parse(&state->oven, meta->key) != 0)
    return ES_EINVAL;
  state->has_oven = true;
  state->burnt++;
  return send_clean(state, ctx);
}

int kitchen_service_on_oven_cleaned(kitchen_service_state *state,
                                    const kitchen_oven_cleaned *event,
                                    const es_event_meta *meta,
                                    es_saga_ctx *ctx) {
  int rc;
  (void)event;
  (void)meta;
  state->cleaning = false;
  if ((rc = es_saga_cancel(ctx, KITCHEN_CLEAN_TIMEOUT)) != 0)
    return rc;
  es_saga_complete(ctx);
  return 0;
}

/* Stock delivered for this oven: nothing to send, but worth counting as
 * activity that keeps the saga waiting. */
int kitchen_service_on_pantry_stocked(kitchen_service_state *state,
                                      const kitchen_pantry_stocked *event,
                                      const es_event_meta *meta,
                                      es_saga_ctx *ctx) {
  (void)meta;
  (void)ctx;
  if (event->has_oven) {
    state->has_oven = true;
    state->oven = event->oven;
  }
  return 0;
}

int kitchen_service_on_rejected_oven_clean(kitchen_service_state *state,
                                           const kitchen_oven_clean *command,
                                           const es_rejection *why,
                                           es_saga_ctx *ctx) {
  (void)command;
  state->cleaning = false;
  if (why->code == KITCHEN_OVEN_ALREADY_CLEAN) {
    es_saga_complete(ctx);
    return 0;
  }
  return es_saga_schedule(ctx, KITCHEN_CLEAN_TIMEOUT, KITCHEN_CLEAN_DELAY_US);
}

int kitchen_service_on_timeout(kitchen_service_state *state,
                               const es_timeout *timeout, es_saga_ctx *ctx) {
  if (strcmp(timeout->name, KITCHEN_CLEAN_TIMEOUT) != 0 || !state->has_oven)
    return 0;
  return send_clean(state, ctx);
}
