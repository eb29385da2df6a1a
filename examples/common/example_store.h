/*
 * example_store.h - where the examples keep their events: a directory
 * (the embedded log) or a PostgreSQL database, and a throwaway store for
 * a run that leaves nothing behind. Not part of libes: a few lines each
 * example would otherwise repeat.
 */
#ifndef EXAMPLE_STORE_H
#define EXAMPLE_STORE_H

#include <stdbool.h>

#include <es/es.h>

/* True when `where` names a PostgreSQL database (a libpq URI or a
 * "key=value" connection string) rather than a directory. */
bool example_is_database(const char *where);

/* Opens the store at `where`: PostgreSQL (tables in schema `pg_schema`)
 * or the embedded log in a directory. Returns what the opener returns. */
int example_open_store(es_store **store, const char *where,
                       const char *pg_schema, es_store_options *sopt);

/* Runs `run_on` twice on a fresh store in a new directory under $TMPDIR
 * (or /tmp), so that the second run reads what the first one stored, then
 * removes the directory. `name` names the directory and the messages.
 * Returns run_on's first nonzero status, 1 when the directory cannot be
 * made or removed, else 0. */
int example_run_twice_on_temp(const char *name, int (*run_on)(const char *dir));

#endif
