Pieces of the stubs file, the skeleton of every function the user writes
(esgen/gen_stubs.c says when each is written). Every generated name is a
placeholder filled from esgen/names.h, named after its ID there
(@DECIDE@ is ESC_N_DECIDE); @STRUCT@ is the command's or event's type,
@EVENT@ the event a decide emits and @NEWER@ the version an upcaster
lifts to; @INIT@ is the init function of the one initialised.
@@ stub_aggregate
/* ---- @SCHEMA_NAME@ ---- */

@@ stub_decide
int @DECIDE@(const @STATE@ *state,
    const @STRUCT@ *command, es_decision *d) {
  (void)state;
@@ stub_decide_nothing
  (void)command;
  (void)d;
  return 0;
}

@@ stub_decide_event
  @EVENT@ event;
  @INIT@(&event);
@@ stub_decide_emit
  return @EMIT@(d, &event);
}

@@ stub_apply
void @APPLY@(@STATE@ *state,
    const @STRUCT@ *event, es_arena *arena) {
  (void)state;
  (void)event;
  (void)arena;
}

@@ stub_upcast
int @UPCAST@(const @STRUCT@ *from,
    @NEWER@ *to, es_arena *arena) {
  (void)arena;
  @INIT@(to);
@@ stub_return_0
  return 0;
}

@@ stub_projection
/* ---- projection @SCHEMA_NAME@ ---- */

@@ stub_projection_on
int @ON@(const @STRUCT@ *event,
    const es_event_meta *meta, void *ctx) {
  (void)event;
  (void)meta;
  (void)ctx;
  return 0;
}

@@ stub_saga
/* ---- saga @SCHEMA_NAME@ ---- */

@@ stub_saga_on_timeout
int @ON_TIMEOUT@(@STATE@ *state,
    const es_timeout *timeout, es_saga_ctx *ctx) {
  (void)state;
  (void)timeout;
  (void)ctx;
  return 0;
}

@@ stub_saga_on_rejected
int @ON_REJECTED@(@STATE@ *state,
    const @STRUCT@ *command, const es_rejection *why,
    es_saga_ctx *ctx) {
  (void)state;
  (void)command;
  (void)why;
  (void)ctx;
  return 0;
}

@@ stub_saga_on
int @ON@(@STATE@ *state,
    const @STRUCT@ *event, const es_event_meta *meta,
    es_saga_ctx *ctx) {
  (void)state;
  (void)event;
  (void)meta;
  (void)ctx;
  return 0;
}

