/*
 * gcsim.h: what gcsim's subcommands share: their entry points and error printing.
 *
 * Each subcommand is `int hn_cmd_NAME(int argc, char **argv)` with argv[0] the
 * subcommand's name; it returns the exit status (0 ok, 1 failure, 2 usage) and only
 * main() exits. Errors are one line: "gcsim: error: trace.bin: chunk 12: bad checksum".
 */
#ifndef HN_SIM_GCSIM_H
#define HN_SIM_GCSIM_H

#include <stddef.h>

#define HN_GCSIM_VERSION "0.1.0"

int hn_cmd_record(int argc, char **argv);
int hn_cmd_info(int argc, char **argv);
int hn_cmd_gen(int argc, char **argv);
/* The default command: simulate (cmd_sim.c). */
int hn_cmd_sim(int argc, char **argv);
/* Measures the cost model on this machine (calibrate.c). */
int hn_cmd_calibrate(int argc, char **argv);

__attribute__((format(printf, 1, 2))) void hn_gcsim_error(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void hn_gcsim_warn(const char *fmt, ...);

/* A file installed beside gcsim, rel being relative to gcsim's own directory (found through
 * /proc/self/exe): writes the path to buf and returns 0 when it is readable, -1 if not. */
int hn_gcsim_sibling(char *buf, size_t len, const char *rel);

/* Forks a child joined to the parent by a pipe, stdio flushed first. In the child it
 * returns 0 with *fd the pipe's write end; in the parent the child's pid with *fd the
 * read end; -1 with the error printed if the pipe or the fork failed. */
int hn_gcsim_fork_piped(int *fd);

/* Parses a whole decimal integer in [min, max] for option opt; prints the error. */
int hn_gcsim_int(const char *opt, const char *s, long long min, long long max, long long *out);

#endif
