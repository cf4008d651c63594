/*
 * gcsim.c: gcsim's entry point: dispatches to a subcommand.
 *
 * `gcsim record|info|gen ...` run the trace tools; each subcommand parses its own
 * options. Anything else is the default command, the simulation (cmd_sim.c):
 * `gcsim --gogc=100 trace.bin`.
 */
#include "sim/gcsim.h"
#include "sim/replay.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"record", hn_cmd_record, "record -o trace.bin [--callsites] [--fork=follow|ignore] -- PROGRAM ARGS..."},
    {"info", hn_cmd_info, "info [--json] trace.bin..."},
    {"gen", hn_cmd_gen, "gen steady|spike|leak|phases -o trace.bin [--live=SIZE] [--rate=RATE] ..."},
    {"calibrate", hn_cmd_calibrate, "calibrate [--output=FILE] [--dry-run]"},
};

__attribute__((format(printf, 2, 0))) static void say(const char *what, const char *fmt,
                                                      va_list ap)
{
    fprintf(stderr, "gcsim: %s: ", what);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void hn_gcsim_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("error", fmt, ap);
    va_end(ap);
}

void hn_gcsim_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("warning", fmt, ap);
    va_end(ap);
}

int hn_gcsim_sibling(char *buf, size_t len, const char *rel)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    if ((size_t)snprintf(buf, len, "%s/%s", exe, rel) >= len)
        return -1;
    return access(buf, R_OK) == 0 ? 0 : -1;
}

int hn_gcsim_fork_piped(int *fd)
{
    int fds[2];
    if (pipe(fds) < 0) {
        hn_gcsim_error("pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        hn_gcsim_error("fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[pid == 0 ? 0 : 1]);
    *fd = fds[pid == 0 ? 1 : 0];
    return (int)pid;
}

int hn_gcsim_int(const char *opt, const char *s, long long min, long long max, long long *out)
{
    const char *why = NULL;
    *out = strtonum(s, min, max, &why);
    if (why) {
        hn_gcsim_error("--%s=%s: %s (expected an integer from %lld to %lld)", opt, s, why, min,
                       max);
        return -1;
    }
    return 0;
}

static int usage(FILE *to)
{
    fprintf(to, "usage: gcsim COMMAND [OPTIONS]\n"
                "       gcsim [--gogc=N|off[,...]] [--gomemlimit=SIZE] [OPTIONS] trace.bin\n\n"
                "The second form, the simulation, is the default command; `gcsim --help-sim`\n"
                "describes its options.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(to, "  gcsim %s\n", subcommands[i].summary);
    fprintf(to, "\n`gcsim COMMAND --help` describes a command's options.\n");
    return to == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0)
        return usage(stdout);
    if (strcmp(argv[1], "--version") == 0) {
        printf("gcsim %s\n", HN_GCSIM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    /* Not listed: gcsim runs itself this way, with an allocator preloaded. */
    if (strcmp(argv[1], "replay-child") == 0)
        return hn_cmd_replay_child(argc - 1, argv + 1);
    if (strcmp(argv[1], "sim") == 0)
        return hn_cmd_sim(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help-sim") == 0) {
        char *help[] = {argv[0], "--help", NULL};
        return hn_cmd_sim(2, help);
    }
    /* A word that is neither a command nor a file, and does not look like a path, is a
     * mistyped command rather than a missing trace. */
    if (argv[1][0] != '-' && !strchr(argv[1], '/') && !strchr(argv[1], '.') &&
        access(argv[1], F_OK) != 0) {
        hn_gcsim_error("unknown command '%s'", argv[1]);
        return usage(stderr);
    }
    return hn_cmd_sim(argc, argv);
}
