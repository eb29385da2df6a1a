/*
 * run.c - fork/exec with both output streams captured through pipes.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct sink {
  char *data;
  size_t len, cap;
} sink;

static int sink_add(sink *s, const char *p, size_t n) {
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + n + 1)
      cap *= 2;
    char *d = realloc(s->data, cap);
    if (!d)
      return -1;
    s->data = d;
    s->cap = cap;
  }
  memcpy(s->data + s->len, p, n);
  s->len += n;
  s->data[s->len] = '\0';
  return 0;
}

int run_program(const char *cwd, char *const argv[], run_result *r) {
  int out[2], err[2], st;
  pid_t pid;
  sink so = {0}, se = {0};

  memset(r, 0, sizeof *r);
  if (pipe(out) != 0)
    return -1;
  if (pipe(err) != 0) {
    close(out[0]);
    close(out[1]);
    return -1;
  }
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]);
    close(err[0]);
    if (cwd && chdir(cwd) != 0)
      _exit(126);
    execv(argv[0], argv);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    char buf[4096];
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sink_add(i == 0 ? &so : &se, buf, (size_t)n);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      }
    }
  }
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (!so.data)
    sink_add(&so, "", 0);
  if (!se.data)
    sink_add(&se, "", 0);
  r->out = so.data;
  r->out_len = so.len;
  r->err = se.data;
  r->err_len = se.len;
  return 0;
}

void run_result_free(run_result *r) {
  if (!r)
    return;
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  sink s = {0};
  char buf[8192];
  size_t n;
  if (!f)
    return NULL;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    if (sink_add(&s, buf, n) != 0) {
      free(s.data);
      fclose(f);
      return NULL;
    }
  fclose(f);
  if (!s.data)
    sink_add(&s, "", 0);
  if (len)
    *len = s.len;
  return s.data;
}
