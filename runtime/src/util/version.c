/*
 * version.c - the ABI version libes was compiled with.
 */
#include "es/es_version.h"

int es_abi_version(void) { return ES_ABI_VERSION; }
