/*
 * es.h - libes, the runtime of esgen: everything generated code and
 * applications include.
 */
#ifndef ES_H
#define ES_H

#include "es/es_version.h" /* generated: see es_version.h.in */
#include "es_alloc.h"
#include "es_app.h"
#include "es_arena.h"
#include "es_buf.h"
#include "es_codec.h"
#include "es_decision.h"
#include "es_desc.h"
#include "es_error.h"
#include "es_meta.h"
#include "es_mp.h"
#include "es_obs.h"
#include "es_projection.h"
#include "es_saga.h"
#include "es_saga_run.h"
#include "es_store.h"
#include "es_subscription.h"
#include "es_types.h"

#endif
