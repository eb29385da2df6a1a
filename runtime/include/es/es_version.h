/*
 * es_version.h - the versions of libes: the release and the ABI that
 * generated code is checked against.
 */
#ifndef ES_VERSION_H
#define ES_VERSION_H

/* Bumped whenever a descriptor or helper that generated code uses changes;
 * generated headers refuse to compile against another value. */
#define ES_ABI_VERSION 2

#define ES_VERSION_MAJOR 0
#define ES_VERSION_MINOR 1
#define ES_VERSION_PATCH 0
#define ES_VERSION_STRING "0.1.0"

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
