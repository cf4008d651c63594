/*
 * cmd_record.c: `gcsim record -o trace.bin -- PROGRAM ARGS...`: runs a program with the
 * recorder (libheron-record.so) preloaded and reports the traces it wrote.
 *
 * The recorder is found, in order, at $HERON_RECORD_LIB, next to the gcsim executable
 * (the build tree), and in the installed library directory. It goes first in LD_PRELOAD,
 * ahead of any allocator the user preloads, so that allocator is the one it forwards to.
 * The output path is made absolute because the program may change directory. Old files
 * of an earlier recording to the same path (trace.bin and trace.bin.PID[.N]) are removed
 * first, so every file left afterwards belongs to this run. gcsim exits with the
 * program's status (128 + the signal when a signal ended it), or 1 when no trace was
 * written.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/gcsim.h"
#include "sim/trace_read.h"
#include "sim/units.h"

#ifndef HN_RECORD_LIB
#define HN_RECORD_LIB "/usr/local/lib/libheron-record.so"
#endif

static int find_recorder(char *buf, size_t len)
{
    const char *env = getenv("HERON_RECORD_LIB");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return access(buf, R_OK);
    }
    if (hn_gcsim_sibling(buf, len, "libheron-record.so") == 0)
        return 0;
    snprintf(buf, len, "%s", HN_RECORD_LIB);
    return access(buf, R_OK);
}

/* Every trace file this recording to out may have written: out, out.PID, out.PID.N. */
static int list_outputs(const char *out, glob_t *g)
{
    char pattern[PATH_MAX + 16];
    int rc;
    memset(g, 0, sizeof *g);
    snprintf(pattern, sizeof pattern, "%s.[0-9]*", out);
    rc = glob(pattern, 0, NULL, g);
    if (rc != 0 && rc != GLOB_NOMATCH)
        return -1;
    return 0;
}

static int is_output_name(const char *out, const char *path)
{
    size_t n = strlen(out);
    if (strncmp(path, out, n) != 0 || path[n] != '.')
        return 0;
    for (const char *p = path + n + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
            return 0;
    return 1;
}

/* One line about a trace just written; 0 if it reads cleanly. */
static int report(const char *path)
{
    char err[HN_TRACE_ERR_LEN], b[48];
    hn_trace_reader *r = hn_trace_reader_open(path, err);
    if (!r) {
        hn_gcsim_error("%s", err);
        return -1;
    }
    hn_trace_event ev = {0};
    int rc;
    while ((rc = hn_trace_next(r, &ev)) > 0)
        ;
    if (rc < 0)
        hn_gcsim_error("%s", hn_trace_reader_error(r));
    else if (hn_trace_reader_warning(r))
        hn_gcsim_warn("%s", hn_trace_reader_warning(r));
    else
        fprintf(stderr, "gcsim: %s: %" PRIu64 " events, %" PRIu32 " thread%s, %s (%.2f bytes/event), %s\n",
                path, r->events, hn_trace_reader_threads(r),
                hn_trace_reader_threads(r) == 1 ? "" : "s",
                hn_fmt_size(b, sizeof b, (double)hn_trace_reader_bytes(r)),
                r->events ? (double)hn_trace_reader_bytes(r) / (double)r->events : 0.0,
                hn_trace_reader_header(r)->program);
    hn_trace_reader_close(r);
    return rc < 0 ? -1 : 0;
}

static int record_usage(FILE *to)
{
    fprintf(to,
        "usage: gcsim record -o trace.bin [--callsites] [--fork=follow|ignore] -- PROGRAM ARGS...\n"
        "  Runs PROGRAM with the allocation recorder preloaded and writes its trace.\n"
        "  -o, --output=FILE   the trace of the program (forked children and exec'd programs:\n"
        "                      FILE.PID, or FILE.PID.N)\n"
        "  --callsites         log the return address of each allocation call\n"
        "  --fork=follow       record forked children too (the default)\n"
        "  --fork=ignore       record only the process started\n");
    return to == stdout ? 0 : 2;
}

int hn_cmd_record(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"callsites", no_argument, NULL, 'c'},
        {"fork", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *fork_mode = "follow";
    int callsites = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'c': callsites = 1; break;
        case 'f':
            if (strcmp(optarg, "follow") != 0 && strcmp(optarg, "ignore") != 0) {
                hn_gcsim_error("--fork=%s: expected follow or ignore", optarg);
                return 2;
            }
            fork_mode = optarg;
            break;
        case 'h': return record_usage(stdout);
        default: return record_usage(stderr);
        }
    }
    if (!out) {
        hn_gcsim_error("record: no output file (-o trace.bin)");
        return record_usage(stderr);
    }
    if (optind >= argc) {
        hn_gcsim_error("record: no program to run (gcsim record -o %s -- PROGRAM ARGS...)", out);
        return 2;
    }

    char lib[PATH_MAX], abs_out[PATH_MAX];
    if (find_recorder(lib, sizeof lib) < 0) {
        hn_gcsim_error("cannot find libheron-record.so (tried %s; set HERON_RECORD_LIB)", lib);
        return 1;
    }
    if (out[0] == '/') {
        snprintf(abs_out, sizeof abs_out, "%s", out);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            hn_gcsim_error("cannot find the current directory: %s", strerror(errno));
            return 1;
        }
        if ((size_t)snprintf(abs_out, sizeof abs_out, "%s/%s", cwd, out) >= sizeof abs_out) {
            hn_gcsim_error("%s: path too long", out);
            return 1;
        }
    }
    glob_t old;
    if (unlink(abs_out) < 0 && errno != ENOENT) {
        hn_gcsim_error("%s: %s", out, strerror(errno));
        return 1;
    }
    if (list_outputs(abs_out, &old) == 0) {
        for (size_t i = 0; i < old.gl_pathc; i++)
            if (is_output_name(abs_out, old.gl_pathv[i]))
                unlink(old.gl_pathv[i]);
        globfree(&old);
    }

    char preload[2 * PATH_MAX + 2];
    const char *prev = getenv("LD_PRELOAD");
    snprintf(preload, sizeof preload, "%s%s%s", lib, prev && *prev ? ":" : "", prev ? prev : "");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        hn_gcsim_error("fork: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        char root[24];
        snprintf(root, sizeof root, "%ld", (long)getpid());
        if (setenv("LD_PRELOAD", preload, 1) || setenv("HERON_RECORD_OUT", abs_out, 1) ||
            setenv("HERON_RECORD_ROOT", root, 1) || setenv("HERON_RECORD_FORK", fork_mode, 1) ||
            setenv("HERON_RECORD_CALLSITES", callsites ? "1" : "0", 1)) {
            hn_gcsim_error("setenv: %s", strerror(errno));
            _exit(127);
        }
        execvp(argv[optind], argv + optind);
        hn_gcsim_error("%s: %s", argv[optind], strerror(errno));
        _exit(127);
    }

    /* Like a shell: the program takes ^C and ^\, gcsim waits for it to end. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            hn_gcsim_error("waitpid: %s", strerror(errno));
            return 1;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);

    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (WIFSIGNALED(status))
        hn_gcsim_warn("%s ended by signal %d (%s)", argv[optind], WTERMSIG(status),
                      strsignal(WTERMSIG(status)));
    if (WIFEXITED(status) && rc == 127 && access(abs_out, F_OK) != 0)
        return 127; /* exec failed: the child said why */
    if (access(abs_out, F_OK) != 0) {
        hn_gcsim_error("%s wrote no trace to %s: is it statically linked, or setuid?",
                       argv[optind], out);
        return 1;
    }
    int bad = report(out) < 0;
    glob_t more;
    if (list_outputs(abs_out, &more) == 0) {
        for (size_t i = 0; i < more.gl_pathc; i++)
            if (is_output_name(abs_out, more.gl_pathv[i])) {
                /* named as the user named the output: OUT.PID, not /abs/path/OUT.PID */
                char name[PATH_MAX + 64];
                snprintf(name, sizeof name, "%s%s", out, more.gl_pathv[i] + strlen(abs_out));
                bad |= report(name) < 0;
            }
        globfree(&more);
    }
    if (rc == 0 && bad)
        rc = 1;
    return rc;
}
