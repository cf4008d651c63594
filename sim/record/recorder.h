/*
 * recorder.h: what the two halves of libheron-record.so share: recorder.c (the state,
 * the interposed allocation functions, starting and finishing a trace) and endings.c
 * (fork, exec, _exit and fatal signals). See recorder.c for how the recorder works.
 */
#ifndef HN_SIM_RECORDER_H
#define HN_SIM_RECORDER_H

#include <stdatomic.h>
#include <stdint.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "sim/trace_write.h"

#define EXPORT __attribute__((visibility("default")))
#define CALLER() ((uint64_t)(uintptr_t)__builtin_return_address(0))

/* dlsym gives an object pointer; POSIX guarantees it converts to the function's type. */
#define LOOKUP(var, name)                         \
    do {                                          \
        void *sym_ = dlsym(RTLD_NEXT, name);      \
        memcpy(&(var), &sym_, sizeof(var));       \
    } while (0)

/* Spins before sleeping on the futex: the lock is held for tens of nanoseconds unless
 * a chunk is being written. */
#define LOCK_SPINS 100

enum { ST_UNINIT, ST_ON, ST_OFF };

struct hn_rec_state {
    atomic_int lock;        /* 0 free, 1 held, 2 held with waiters */
    atomic_int state;       /* ST_*: read without the lock, written under it */
    int follow;             /* record forked children */
    int callsites;
    pid_t pid;              /* process this state belongs to */
    pid_t root;
    uint32_t nthreads;      /* thread numbers given out */
    uint64_t t0;            /* monotonic ns of time 0 */
    uint64_t exec_mark;     /* file size before the empty last chunk written for exec */
    uint64_t depth;         /* forks between the root process and this one */
    hn_trace_writer w;
};

extern struct hn_rec_state hn_rec;
/* The re-entry guard: set while the recorder runs on this thread. */
extern __thread int hn_rec_busy __attribute__((tls_model("initial-exec")));
/* This thread's number + 1; 0 until its first event. */
extern __thread uint32_t hn_rec_thread_plus1 __attribute__((tls_model("initial-exec")));

/* Starts a trace in this image or, when parent is set, in a forked child; the caller
 * holds the lock and the re-entry guard. */
void hn_rec_start_locked(pid_t parent);
/* Writes the last chunk and closes the file; the caller holds the lock. Async-signal-safe. */
void hn_rec_finish_locked(void);
/* Finishes the trace at exit (the destructor) or before _exit. */
void hn_rec_stop(void);
/* Registers the fork handlers and the fatal-signal handlers (endings.c). */
void hn_rec_install_endings(void);

/* ---- the lock: a futex mutex (Drepper's "Futexes are tricky", mutex 2) ---- */

static inline void hn_rec_lock(void)
{
    int c = 0;
    for (int i = 0; i < LOCK_SPINS; i++) {
        c = 0;
        if (atomic_compare_exchange_weak_explicit(&hn_rec.lock, &c, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        __builtin_ia32_pause();
    }
    if (c != 2)
        c = atomic_exchange_explicit(&hn_rec.lock, 2, memory_order_acquire);
    while (c != 0) {
        syscall(SYS_futex, &hn_rec.lock, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange_explicit(&hn_rec.lock, 2, memory_order_acquire);
    }
}

static inline int hn_rec_trylock(void)
{
    int c = 0;
    return atomic_compare_exchange_strong_explicit(&hn_rec.lock, &c, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void hn_rec_unlock(void)
{
    if (atomic_exchange_explicit(&hn_rec.lock, 0, memory_order_release) == 2)
        syscall(SYS_futex, &hn_rec.lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}


#endif
