/*
 * endings.c: the recorder at the edges of a process's life: fork, exec, _exit and fatal
 * signals (point 5 and 6 of recorder.c's opening comment). Each writes what is buffered
 * before the process image goes away, or starts the child's own trace.
 */
#include <alloca.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sim/record/recorder.h"

static void on_fork_prepare(void)
{
    hn_rec_busy++;
    hn_rec_lock();
}

static void on_fork_parent(void)
{
    hn_rec_unlock();
    hn_rec_busy--;
}

/* In the child: a new, empty trace (follow) or none (ignore). */
static void on_fork_child(void)
{
    pid_t parent = hn_rec.pid;
    atomic_store(&hn_rec.lock, 1);
    hn_rec_thread_plus1 = 0;
    hn_rec.depth++;
    if (hn_rec.state == ST_ON) {
        close(hn_rec.w.fd); /* the parent's file: the parent writes what is buffered */
        hn_rec.state = ST_OFF;
        if (hn_rec.follow)
            hn_rec_start_locked(parent);
    }
    hn_rec_unlock();
    hn_rec_busy--;
}

static void on_fatal_signal(int sig)
{
    int saved = errno;
    if (hn_rec.pid == getpid() && hn_rec_trylock()) {
        hn_rec_finish_locked();
        hn_rec_unlock();
    }
    signal(sig, SIG_DFL);
    errno = saved;
    raise(sig);
}

static void install_signal_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) < 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

void hn_rec_install_endings(void)
{
    pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
    install_signal_handlers();
}

/* ---- process endings: write what is buffered before the image goes away ---- */

/* Before exec: write the chunk in progress and an empty last chunk, so the trace is
 * whole if exec succeeds; exec_failed() takes the last chunk back off if it does not.
 * The lock is held across the exec so no other thread writes after that last chunk.
 * A vfork child shares our memory but not our pid: it leaves the trace and the lock
 * alone (a lock it took would stay taken in the parent once it execs). */
static int exec_prepare(void)
{
    if (hn_rec.pid != getpid())
        return 0;
    hn_rec_busy++;
    hn_rec_lock();
    hn_rec.exec_mark = 0;
    if (hn_rec.state == ST_ON) {
        hn_trace_writer_flush(&hn_rec.w, 0);
        hn_rec.exec_mark = hn_rec.w.bytes;
        hn_trace_writer_finish(&hn_rec.w);
    }
    return 1;
}

/* Called with the lock exec_prepare took (when it returned 1), which it releases. */
static void exec_failed(int locked)
{
    int saved = errno;
    if (!locked)
        return;
    if (hn_rec.exec_mark && hn_rec.state == ST_ON && !hn_rec.w.err) {
        if (ftruncate(hn_rec.w.fd, (off_t)hn_rec.exec_mark) == 0 &&
            lseek(hn_rec.w.fd, (off_t)hn_rec.exec_mark, SEEK_SET) >= 0) {
            hn_rec.w.bytes = hn_rec.exec_mark;
            hn_rec.w.chunks--;
        } else {
            hn_rec.state = ST_OFF;
        }
    }
    hn_rec_unlock();
    hn_rec_busy--;
    errno = saved;
}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);

#define EXEC_FORWARD(name, type, ...)                                  \
    static type real_fn;                                               \
    if (!real_fn)                                                      \
        LOOKUP(real_fn, name);                                         \
    int locked = exec_prepare();                                       \
    int rc = real_fn(__VA_ARGS__);                                     \
    exec_failed(locked);                                               \
    return rc;

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    EXEC_FORWARD("execve", execve_fn, path, argv, envp)
}

EXPORT int execv(const char *path, char *const argv[])
{
    EXEC_FORWARD("execv", execv_fn, path, argv)
}

EXPORT int execvp(const char *file, char *const argv[])
{
    EXEC_FORWARD("execvp", execv_fn, file, argv)
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    EXEC_FORWARD("execvpe", execve_fn, file, argv, envp)
}

/* The execl family takes its arguments as a list; glibc's versions call execve
 * internally, past our definitions, so they are rebuilt here on the vector forms. */
#define EXECL_ARGV(first, ap, argv)                                  \
    do {                                                             \
        size_t n_ = 1;                                               \
        va_start(ap, first);                                         \
        while (va_arg(ap, char *))                                   \
            n_++;                                                    \
        va_end(ap);                                                  \
        argv = alloca((n_ + 1) * sizeof(char *));                    \
        argv[0] = (char *)(first);                                   \
        va_start(ap, first);                                         \
        for (size_t i_ = 1; i_ <= n_; i_++)                          \
            argv[i_] = va_arg(ap, char *);                           \
    } while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    char **argv;
    EXECL_ARGV(arg, ap, argv);
    va_end(ap);
    return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    char **argv;
    EXECL_ARGV(arg, ap, argv);
    va_end(ap);
    return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    char **argv;
    EXECL_ARGV(arg, ap, argv);
    char **envp = va_arg(ap, char **); /* after the NULL that ends the arguments */
    va_end(ap);
    return execve(path, argv, envp);
}

EXPORT void _exit(int status)
{
    hn_rec_stop();
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

EXPORT void _Exit(int status)
{
    hn_rec_stop();
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}
