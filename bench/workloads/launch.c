/*
 * launch.c: how bench/run starts every measured program.
 *
 *     bench-launch REPORT PROGRAM [ARGS...]
 *
 * It forks, runs PROGRAM in the child, and writes to the file REPORT first
 * `pid PID` (so the runner can sample the child's /proc files) and, when the child
 * has exited, `rusage ...` with the wall time and the child's wait4 resource usage.
 *
 * Why not let Python's subprocess do it: the kernel's ru_maxrss keeps the largest RSS
 * a process had, and a child made by fork or vfork inherits its parent's, so every
 * child of the Python runner would report at least the runner's own ~20 MiB. Forked
 * from this small program, the floor is about 1 MiB, the same for every allocator.
 * Exit status: the child's (128 + signal if it was killed), 127 if it could not start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double seconds(struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench-launch REPORT PROGRAM [ARGS...]\n");
    return 2;
  }
  FILE *report = fopen(argv[1], "w");
  if (report == NULL) {
    fprintf(stderr, "bench-launch: error: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  double t0 = now();
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "bench-launch: error: fork: %s\n", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    fclose(report);
    execvp(argv[2], argv + 2);
    fprintf(stderr, "bench-launch: error: %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  fprintf(report, "pid %d\n", (int)pid);
  fflush(report);
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "bench-launch: error: wait4: %s\n", strerror(errno));
      return 1;
    }
  }
  double wall = now() - t0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(report, "rusage wall=%.6f user=%.6f sys=%.6f maxrss_kib=%ld minflt=%ld majflt=%ld "
                  "nvcsw=%ld nivcsw=%ld code=%d\n",
          wall, seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt,
          ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw, code);
  if (fclose(report) != 0) {
    fprintf(stderr, "bench-launch: error: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  return code;
}
