/*
 * pg_bank.h - the bank on a PostgreSQL store, for the tests that run the
 * MoneyTransfer saga in several processes: opening it, an account, an
 * executor that fails every command, and waiting for a child.
 */
#ifndef PG_BANK_H
#define PG_BANK_H

#include <stdint.h>
#include <sys/types.h>

#include "bank_app.h"

/* Opens the store in schema `schema` of the database `conninfo` names,
 * and the bank's app on it; exits the process (3, 4) when it cannot. */
void pg_bank_open(const char *conninfo, const char *schema, es_store **s,
                  es_app **app);

/* Opens account `key` with 1000, owned by `key`; exits (5) on failure. */
void pg_bank_open_account(es_app *app, const char *key);

/* A saga executor (es_saga_options.execute) that fails every command as an
 * I/O error would, so the saga retries it and sets it aside. */
int pg_bank_failing_execute(void *ctx, const es_aggregate_desc *agg,
                            uint32_t command, const char *key,
                            const void *value, const es_exec_options *opt,
                            es_result *res);

/* A saga backoff (es_saga_options.sleep_us) that does not wait. */
void pg_bank_no_sleep(void *ctx, int64_t us);

/* Waits for child `pid`: its exit status, or 128 + the signal that ended
 * it. */
int pg_bank_exit_code(pid_t pid);

/* Forks a child that runs `proc(fd)` and writes one byte to `fd` once it
 * has done what it must leave behind; kills it with SIGKILL right after
 * that byte. Returns 0, or 1 (having said so, naming `who`) when the
 * child exited without sending it. Call before any thread starts. */
int pg_bank_run_then_kill(void (*proc)(int fd), const char *who);

#endif
