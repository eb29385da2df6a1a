/*
 * pg_bank.c - the bank on a PostgreSQL store for multi-process tests
 * (pg_bank.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_bank.h"

void pg_bank_open(const char *conninfo, const char *schema, es_store **s,
                  es_app **app) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  o.pg_schema = schema;
  if (es_store_open_postgres(s, conninfo, &o, 0) != 0)
    _exit(3);
  if (es_app_open(app, &bank_schema, *s, NULL) != 0)
    _exit(4);
}

void pg_bank_open_account(es_app *app, const char *key) {
  bank_account_open cmd;
  bank_account_open_init(&cmd);
  cmd.owner = key;
  cmd.initial = 1000;
  if (bank_account_execute_open(app, key, &cmd, NULL, NULL) != 0)
    _exit(5);
}

int pg_bank_failing_execute(void *ctx, const es_aggregate_desc *agg,
                            uint32_t command, const char *key,
                            const void *value, const es_exec_options *opt,
                            es_result *res) {
  (void)ctx;
  (void)agg;
  (void)command;
  (void)key;
  (void)value;
  (void)opt;
  res->outcome = ES_OUTCOME_FAILED;
  return ES_EIO;
}

void pg_bank_no_sleep(void *ctx, int64_t us) {
  (void)ctx;
  (void)us;
}

int pg_bank_exit_code(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    exit(1);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int pg_bank_run_then_kill(void (*proc)(int fd), const char *who) {
  int ready[2], status;
  char byte;
  pid_t pid;
  if (pipe(ready) != 0) {
    perror("pipe");
    exit(1);
  }
  fflush(NULL);
  pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(1);
  }
  if (pid == 0) {
    close(ready[0]);
    proc(ready[1]);
    _exit(0);
  }
  close(ready[1]);
  if (read(ready[0], &byte, 1) != 1) { /* the child failed: say how */
    fprintf(stderr, "%s: process A exited %d\n", who, pg_bank_exit_code(pid));
    close(ready[0]);
    return 1;
  }
  close(ready[0]);
  if (kill(pid, SIGKILL) != 0 || waitpid(pid, &status, 0) != pid ||
      !WIFSIGNALED(status)) {
    fprintf(stderr, "%s: process A did not die of SIGKILL\n", who);
    return 1;
  }
  return 0;
}
