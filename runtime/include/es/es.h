/*
 * es.h - libes, the runtime of esgen: everything generated code and
 * applications include.
 */
#ifndef ES_H
#define ES_H

/* Bumped whenever a descriptor or helper that generated code uses changes;
 * generated headers refuse to compile against another value. */
#define ES_ABI_VERSION 1

#define ES_VERSION_MAJOR 0
#define ES_VERSION_MINOR 1
#define ES_VERSION_PATCH 0
#define ES_VERSION_STRING "0.1.0"

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

#ifdef __cplusplus
extern "C" {
#endif

/* The ES_ABI_VERSION libes was built with: lets a program check at run
 * time that the library it loaded matches its headers. */
int es_abi_version(void);

#ifdef __cplusplus
}
#endif
#endif
