/*
 * fork_alloc.c: a program that forks, execs, exits through _exit and dies by a signal,
 * for the recorder's tests.
 *
 *   fork_alloc            parent: 1000 objects; a child that allocates 2000 objects,
 *                         frees inherited ones too, and leaves by _exit; a child that
 *                         execs "fork_alloc exec"; then frees its objects and exits
 *   fork_alloc exec       3000 objects allocated, 1500 freed, normal exit
 *   fork_alloc crash      4000 objects allocated, then kills itself with SIGSEGV
 *   fork_alloc quit       5000 objects allocated, then _exit(3)
 *   fork_alloc execfail   1000 objects, an exec that fails, 2000 more objects: the trace
 *                         must go on after the exec attempt
 *   fork_alloc vfork      a vfork child that execs "fork_alloc exec" while the parent
 *                         waits, then 1000 objects in the parent (which must not hang)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void **many(int n, size_t size)
{
    void **v = malloc((size_t)n * sizeof *v);
    if (!v)
        exit(1);
    for (int i = 0; i < n; i++) {
        v[i] = malloc(size + (size_t)(i % 64));
        if (!v[i])
            exit(1);
        memset(v[i], i, size);
    }
    return v;
}

static int wait_for(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        void **v = many(3000, 48);
        for (int i = 0; i < 3000; i += 2)
            free(v[i]);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "crash") == 0) {
        many(4000, 32);
        fflush(stdout);
        raise(SIGSEGV);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "execfail") == 0) {
        many(1000, 40);
        char *args[] = {"missing", NULL};
        if (execv("/nonexistent/program", args) != -1)
            return 1;
        many(2000, 40);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "vfork") == 0) {
        pid_t c = vfork();
        if (c == 0) {
            char *args[] = {argv[0], "exec", NULL};
            execv("/proc/self/exe", args);
            _exit(127);
        }
        if (c < 0 || wait_for(c) != 0)
            return 1;
        many(1000, 40);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "quit") == 0) {
        many(5000, 16);
        _exit(3);
    }

    void **mine = many(1000, 64);
    pid_t a = fork();
    if (a == 0) {
        void **v = many(2000, 24);
        for (int i = 0; i < 2000; i++)
            free(v[i]);
        for (int i = 0; i < 100; i++)
            free(mine[i]); /* inherited from the parent */
        _exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
        _exit(127);
    }
    int ra = wait_for(a), rb = wait_for(b);
    if (ra != 0 || rb != 0) {
        fprintf(stderr, "fork_alloc: children ended with %d and %d\n", ra, rb);
        return 1;
    }
    for (int i = 0; i < 1000; i++)
        free(mine[i]);
    free(mine);
    return 0;
}
