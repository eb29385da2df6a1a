Pieces of the generated header, <schema>.es.h, one section a piece
(esgen/gen_header.c says when each is written). Every generated name is a
placeholder filled from esgen/names.h, named after its ID there
(@DECIDE@ is ESC_N_DECIDE); @STRUCT@ is the type a piece is about and
@SCHEMA_NAME@ the name of what it is about as the schema writes it.
@@ enum_open
/* enum @SCHEMA_NAME@: sent as its number, 0 .. @COUNT@-1 */
typedef enum @STRUCT@ {
@@ enum_value
  @CONST@ = @NUMBER@,
@@ enum_close
} @STRUCT@;
#define @COUNT@ @N_VALUES@
extern const es_enum_desc @DESC@;
/* The value's name as in the schema, or NULL if out of range. */
const char *@ENUM_NAME@(@STRUCT@ value);
@@ list
typedef struct @LIST@ {
  @STRUCT@ *items;
  uint32_t count;
} @LIST@;
@@ forward
typedef struct @STRUCT@ @STRUCT@;
@@ struct_api
#define @TYPE_ID@ UINT64_C(0x@ID@)
extern const es_type_desc @DESC@;
void @INIT@(@STRUCT@ *value);
int @ENCODE@(const @STRUCT@ *value, es_buf *out);
int @DECODE@(@STRUCT@ *value,
    const void *data, size_t len, es_arena *arena);

@@ aggregate_open
/* ---- aggregate @SCHEMA_NAME@ ---- */

extern const es_aggregate_desc @AGGREGATE@;

@@ errors_open
/* Domain rejections of @SCHEMA_NAME@. */
typedef enum @ERROR@ {
@@ errors_close
} @ERROR@;

/* Rejects the command: nothing is stored, and the caller gets
 * ES_EREJECTED with the error's name and `message` (copied;
 * may be NULL). Return its result from decide. */
static inline int @REJECT@(es_decision *d, @ERROR@ error,
    const char *message) {
  return es_decision_reject(d, (uint32_t)error, message);
}

@@ emit
/* Emits @SCHEMA_NAME@: encoded at once, so `event` may live on the stack. */
static inline int @EMIT@(es_decision *d,
    const @STRUCT@ *event) {
  return es_decision_emit(d, &@DESC@, event);
}

@@ execute
/* Executes @SCHEMA_NAME@ on instance `key`: decide, store, apply (see
 * es_app_execute_value()). `opt` and `res` may be NULL. */
static inline int @EXECUTE@(es_app *app,
    @KEY_PARAM@key, const @STRUCT@ *command,
    const es_exec_options *opt, es_result *res) {
@KEY_TEXT@  return es_app_execute_value(app, &@AGGREGATE@, @INDEX@, @KEY_ARG@, command,
      opt, res);
}

@@ decide_intro
/* What you write for @SCHEMA_NAME@: decide, one per command. */
@@ decide
int @DECIDE@(const @STATE@ *state,
    const @STRUCT@ *command, es_decision *d);
@@ apply_intro
/* What you write for @SCHEMA_NAME@: apply, one per event. */
@@ apply
void @APPLY@(@STATE@ *state,
    const @STRUCT@ *event, es_arena *arena);
@@ upcast
/* What you write: lift @SCHEMA_NAME@ v@FROM_VERSION@ to v@TO_VERSION@ (allocate from `arena`). */
int @UPCAST@(const @STRUCT@ *from,
    @NEWER@ *to, es_arena *arena);

@@ projection_open
/* ---- projection @SCHEMA_NAME@ ---- */

extern const es_projection_desc @PROJECTION@;

/* What you write for @SCHEMA_NAME@: one handler per event, in global
 * order. `ctx` is what you gave the runtime for this projection.
 * Return 0, or a negative code to stop and retry later. */
@@ projection_on
int @ON@(const @STRUCT@ *event,
    const es_event_meta *meta, void *ctx);
@@ saga_open
/* ---- saga @SCHEMA_NAME@ ---- */

extern const es_saga_desc @SAGA@;

@@ saga_send
/* Sends @TARGET@ to instance `key` once this handler's new
 * state is stored. */
static inline int @SEND@(es_saga_ctx *ctx,
    @KEY_TYPE@ key, const @STRUCT@ *command) {
@KEY_TEXT@  return es_saga_send(ctx, &@AGGREGATE@, @INDEX@, @KEY_ARG@, command);
}

@@ saga_intro
/* What you write for @SCHEMA_NAME@. Change `state` as the saga moves on;
 * send commands, schedule timeouts or complete through `ctx`.
 * The event's strings and lists live as long as the state; allocate
 * anything new the state keeps from ctx->arena.
 * Return 0, or a negative code to retry the event later. */
@@ saga_on_timeout
int @ON_TIMEOUT@(@STATE@ *state,
    const es_timeout *timeout, es_saga_ctx *ctx);
@@ saga_on_rejected
int @ON_REJECTED@(@STATE@ *state,
    const @STRUCT@ *command, const es_rejection *why,
    es_saga_ctx *ctx);
@@ saga_on
int @ON@(@STATE@ *state,
    const @STRUCT@ *event, const es_event_meta *meta,
    es_saga_ctx *ctx);
@@ schema
/* ---- the schema as a whole ---- */

/* Every type, aggregate, projection and saga of @SCHEMA_NAME@: what the
 * runtime routes commands and events with. */
extern const es_schema_desc @SCHEMA@;

