Pieces of the generated source, <schema>.es.c, one section a piece
(esgen/gen_source.c says when each is written). A line ending in '\'
goes on without a line break. Every generated name is a
placeholder filled from esgen/names.h, named after its ID there
(@ENCODE@ is ESC_N_ENCODE); @STRUCT@ is the type a piece is about and
@SCHEMA_NAME@ the name of what it is about as the schema writes it.
@@ enum_code_open
static const char *const @ENUM_VALUES@[] = {\
@@ enum_code_close
};
const es_enum_desc @DESC@ = {"@SCHEMA_NAME@", @N_VALUES@, @ENUM_VALUES@};
const char *@ENUM_NAME@(@STRUCT@ value) {
  return (uint32_t)value < @N_VALUES@ ? @ENUM_VALUES@[value] : NULL;
}

@@ prototypes
static void @ENC@(const void *value, es_buf *b, int depth);
static int @DEC@(es_mp_reader *r, void *value, es_arena *a);
@@ init_open
/* ---- @SCHEMA_NAME@ ---- */

void @INIT@(@STRUCT@ *v) {
  memset(v, 0, sizeof *v);
@@ function_close
}

@@ enc_open
static void @ENC@(const void *value, es_buf *b, int depth) {
  const @STRUCT@ *v = value;
  if (!es_enc_record(b, depth, @N_FIELDS@))
    return;
@@ dec_open
static int @DEC@(es_mp_reader *r, void *value, es_arena *a) {
  @STRUCT@ *v = value;
  uint32_t n;
  int rc;
  if ((rc = es_dec_record(r, &n, @N_REQUIRED@)) != 0)
    return rc;
  memset(v, 0, sizeof *v);
@@ dec_close
  return es_dec_record_end(r, n, @N_FIELDS@);
}

@@ struct_codec
int @ENCODE@(const @STRUCT@ *v, es_buf *b) {
  return es_encode_value(b, @ENC@, v);
}
int @DECODE@(@STRUCT@ *v, const void *data, size_t len, es_arena *a) {
  return es_decode_value(data, len, @DEC@, v, a);
}

@@ init_any
static void @INIT_ANY@(void *v) { @INIT@(v); }

@@ fields_open
static const es_field_desc @FIELDS@[] = {
@@ table_close
};
@@ type_desc
const es_type_desc @DESC@ = {
    ES_TYPE_DESC_MAGIC, @ROLE@, "@SCHEMA_NAME@", "@STRUCT@",
    UINT64_C(0x@ID@), UINT64_C(0x@LAYOUT@), @TYPE_VERSION@, @N_FIELDS@,
    @FIELDS@, sizeof(@STRUCT@),
    @INIT_ANY@, @ENC@, @DEC@};

@@ routing_aggregate
/* ---- routing: aggregate @SCHEMA_NAME@ ---- */

@@ decide_any
static int @DECIDE_ANY@(const void *state, const void *command,
    es_decision *d) {
  return @DECIDE@(state, command, d);
}
@@ apply_any
static void @APPLY_ANY@(void *state, const void *event,
    es_arena *a) {
  @APPLY@(state, event, a);
}
@@ upcast_any
static int @UPCAST_ANY@(const void *from, void *to,
    es_arena *a) {
  return @UPCAST@(from, to, a);
}
@@ aggregate_desc
const es_aggregate_desc @AGGREGATE@ = {
    "@SCHEMA_NAME@", @KEY_KIND@, @STATE_DESC@,
    @N_COMMANDS@, @COMMANDS@,
    @N_EVENTS@, @EVENTS@,
    @N_ERRORS@, @ERRORS@, @SNAPSHOT_EVERY@};

@@ routing_projection
/* ---- routing: projection @SCHEMA_NAME@ ---- */

@@ projection_on_any
static int @ON_ANY@(const void *event,
    const es_event_meta *meta, void *ctx) {
  return @ON@(event, meta, ctx);
}
@@ projection_desc
const es_projection_desc @PROJECTION@ = {"@SCHEMA_NAME@", @N_HANDLERS@, @HANDLERS@};

@@ routing_saga
/* ---- routing: saga @SCHEMA_NAME@ ---- */

@@ saga_on_timeout_any
static int @ON_TIMEOUT_ANY@(void *state, const es_timeout *t,
    es_saga_ctx *ctx) {
  return @ON_TIMEOUT@(state, t, ctx);
}
@@ saga_on_rejected_any
static int @ON_REJECTED_ANY@(void *state,
    const void *command, const es_rejection *why, es_saga_ctx *ctx) {
  return @ON_REJECTED@(state, command, why, ctx);
}
@@ saga_on_any
static int @ON_ANY@(void *state, const void *event,
    const es_event_meta *meta, es_saga_ctx *ctx) {
  return @ON@(state, event, meta, ctx);
}
@@ saga_desc
const es_saga_desc @SAGA@ = {
    "@SCHEMA_NAME@", @KEY_KIND@, &@STATE_DESC@,
    @N_HANDLERS@, @HANDLERS@, @N_SENDS@, @SENDS@, @ON_TIMEOUT_ANY@};

@@ schema_desc
const es_schema_desc @SCHEMA@ = {
    ES_ABI_VERSION, "@SCHEMA_NAME@",
    @N_AGGREGATES@, @AGGREGATES@,
    @N_PROJECTIONS@, @PROJECTIONS@,
    @N_SAGAS@, @SAGAS@,
    @N_TYPES@, @TYPES@,
    (const char *)@DESCRIPTION@, @DESCRIPTION_LEN@};
