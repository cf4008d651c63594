/*
 * child_run.c: run the test program again as a child and capture its output (child_run.h).
 */
#include "child_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char self[4096];

int t_child_init(const char *prog) {
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "%s: error: /proc/self/exe: %s\n", prog, strerror(errno));
    return -1;
  }
  self[n] = '\0';
  return 0;
}

/* Read fd to its end, or until buf is full, and NUL-terminate. */
static void read_all(int fd, char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == cap - 1) break;
  }
  buf[n] = '\0';
}

int t_child_run(const char *arg, const char *arg2, const char *env_name, const char *env_value,
                char *out, size_t out_cap, char *err, size_t err_cap) {
  int o[2], e[2], status = 0;
  pid_t pid;
  if (pipe(o) != 0) return -1;
  if (pipe(e) != 0) {
    close(o[0]);
    close(o[1]);
    return -1;
  }
  pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(o[1], 1);
    dup2(e[1], 2);
    close(o[0]);
    close(o[1]);
    close(e[0]);
    close(e[1]);
    if (env_name) setenv(env_name, env_value, 1);
    execl(self, self, arg, arg2, (char *)NULL);
    _exit(127);
  }
  close(o[1]);
  close(e[1]);
  read_all(e[0], err, err_cap);
  read_all(o[0], out, out_cap);
  close(o[0]);
  close(e[0]);
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}
