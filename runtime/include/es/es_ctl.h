/*
 * es_ctl.h - esctl, the store's command line, as a library entry: an
 * application builds its own tool (with the commands that need its own
 * functions) in three lines:
 *
 *   #include <es/es_ctl.h>
 *   #include "bank.es.h"
 *   int main(int argc, char **argv) { return es_ctl_main(argc, argv,
 * &bank_schema); }
 *
 * docs/esctl.md describes every command.
 */
#ifndef ES_CTL_H
#define ES_CTL_H

#include "es_desc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs one esctl command: `argv` is `PROG COMMAND STORE [ARGS]` (see
 * `PROG --help`). Every command decodes events with the schema
 * descriptions recorded in the store; with `schema` (NULL for the plain
 * esctl) the commands that run the application's own functions are
 * there too: `state AGG/KEY [--at V]`, `redispatch ID`, `rebuild
 * PROJECTION`. Writes to stdout and stderr. Returns the exit status: 0, 1
 * when a problem was found (damage, a missing stream, a failed command),
 * 2 for a usage error or a store that cannot be opened. */
int es_ctl_main(int argc, char **argv, const es_schema_desc *schema);

#ifdef __cplusplus
}
#endif
#endif
