/*
 * child_run.h: re-execute the running test program as a child with one environment
 * variable set, and collect what it writes.
 *
 * The misuse and options tests check what a fresh process prints (an abort line, a warning,
 * an at-exit report), so each case runs in its own process with stdout and stderr on pipes.
 */
#ifndef HERON_TESTS_ALLOC_CHILD_RUN_H
#define HERON_TESTS_ALLOC_CHILD_RUN_H

#include <stddef.h>

/* Remember this program's path (/proc/self/exe); 0, or -1 with a message on stderr. */
int t_child_init(const char *prog);

/* Run this program with argument arg; env_name=env_value is set when env_name is not
 * NULL. stderr is read to its end before stdout (an at-exit report can outgrow a pipe;
 * stdout holds a line or two), both NUL-terminated and cut to their buffers. Returns
 * the child's wait status, or -1 if it could not be started. */
int t_child_run(const char *arg, const char *arg2, const char *env_name, const char *env_value,
                char *out, size_t out_cap, char *err, size_t err_cap);

#endif
