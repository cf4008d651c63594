/*
 * recorder.c: libheron-record.so, the allocation recorder `gcsim record` preloads.
 *
 * It defines malloc, free, calloc, realloc, reallocarray, posix_memalign, aligned_alloc,
 * memalign, valloc and pvalloc; each calls the allocator that would otherwise have served
 * the program (found with dlsym(RTLD_NEXT): glibc, or heron, jemalloc... preloaded after
 * this library) and logs the call into trace.bin through the one trace writer.
 *
 * 1. Ids. Each object carries its id in a 16-byte header just before the pointer the
 *    program gets (the real allocation is 16 bytes larger, or one alignment larger for
 *    the memalign family, so alignment is kept). A free reads the id there, next to
 *    memory the program just used, instead of looking its address up in a table: a
 *    table of a million live objects misses the cache on every free, which made recording
 *    six times slower than the program. The header holds the id, its offset from the
 *    real block and a check word; a pointer whose check word does not match was not
 *    allocated here and goes to the real free unchanged. free clears the check word.
 *    malloc_usable_size is interposed so it answers for the program's part of a block.
 * 2. Order. One lock guards the thread numbers and the chunk being filled, so events are
 *    logged in one global order that is causal: an allocation is logged before its
 *    pointer is returned, a free before the memory is given back, so a free always
 *    follows its allocation, on any thread. Per-thread buffers merged by time stamp were
 *    the alternative; they need an unbounded sort window when a thread goes idle.
 * 3. Chunks. Events go into a 64 KiB chunk buffer written with write(2) when full, under
 *    the lock. A crash loses at most the chunk in progress.
 * 4. Re-entry. A per-thread flag marks "inside the recorder": any allocation made while
 *    it is set (by dlsym, by the real allocator itself, by the writer) is forwarded
 *    without logging. Before dlsym has found the real calloc, requests are served from a
 *    small static arena; freeing arena memory does nothing.
 * 5. Processes. The first process image of the recorded command writes the output file;
 *    with --fork=follow each forked child writes <out>.<pid>. A child's trace starts
 *    empty: the objects it inherited are not in it, and neither are their frees (each
 *    header holds the fork depth of the process that logged it, so a child knows which
 *    objects are its own). A program started by exec loads the recorder afresh
 *    (LD_PRELOAD is inherited) and writes <out>.<pid> (or <out>.<pid>.<n> when that name
 *    is taken, as after exec in the same process). With --fork=ignore only the root
 *    process, in each of its images, is recorded.
 * 6. Endings. A destructor writes the last chunk at exit. _exit and _Exit, the exec
 *    calls (execve, execv, execvp, execvpe, execl, execlp, execle) and fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, when the
 *    program left them at their default) write what is buffered first; a signal handler
 *    then restores the default action and raises the signal again.
 *
 * Configuration comes from the environment `gcsim record` sets: HERON_RECORD_OUT (the
 * output path; without it nothing is recorded), HERON_RECORD_ROOT (pid of the root
 * process), HERON_RECORD_FORK (follow or ignore), HERON_RECORD_CALLSITES (1 to log the
 * return address of each allocation call).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <alloca.h>
#include <malloc.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sim/trace_write.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS __attribute__((tls_model("initial-exec"))) static __thread
#define CALLER() ((uint64_t)(uintptr_t)__builtin_return_address(0))

#define RECORDER_VERSION "heron-record 0.1.0"
/* dlsym and the C library's early start-up allocate a few hundred bytes; 64 KiB leaves
 * a wide margin and costs nothing until touched. */
#define BOOT_ARENA_SIZE (64 * 1024)
/* Spins before sleeping on the futex: the lock is held for tens of nanoseconds unless
 * a chunk is being written. */
#define LOCK_SPINS 100
/* The command line kept in the header; longer ones are cut. */
#define ARGS_MAX 4096

enum { ST_UNINIT, ST_ON, ST_OFF };

static struct {
    atomic_int lock;        /* 0 free, 1 held, 2 held with waiters */
    int state;              /* ST_*: read without the lock, written under it */
    int follow;             /* record forked children */
    int callsites;
    pid_t pid;              /* process this state belongs to */
    pid_t root;
    uint32_t nthreads;      /* thread numbers given out */
    uint64_t t0;            /* monotonic ns of time 0 */
    uint64_t exec_mark;     /* file size before the empty last chunk written for exec */
    uint64_t depth;         /* forks between the root process and this one */
    hn_trace_writer w;
} rec;

static unsigned char chunk_buf[HN_TRACE_WRITER_BUF];
static char path_buf[PATH_MAX + 64];
static char exe_buf[PATH_MAX];
static char args_buf[ARGS_MAX];

TLS int in_recorder;        /* the re-entry guard */
TLS uint32_t thread_plus1;  /* this thread's number + 1; 0 until its first event */

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static size_t (*real_usable)(void *);

/* ---- the lock: a futex mutex (Drepper's "Futexes are tricky", mutex 2) ---- */

static void rec_lock(void)
{
    int c = 0;
    for (int i = 0; i < LOCK_SPINS; i++) {
        c = 0;
        if (atomic_compare_exchange_weak_explicit(&rec.lock, &c, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        __builtin_ia32_pause();
    }
    if (c != 2)
        c = atomic_exchange_explicit(&rec.lock, 2, memory_order_acquire);
    while (c != 0) {
        syscall(SYS_futex, &rec.lock, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange_explicit(&rec.lock, 2, memory_order_acquire);
    }
}

static int rec_trylock(void)
{
    int c = 0;
    return atomic_compare_exchange_strong_explicit(&rec.lock, &c, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static void rec_unlock(void)
{
    if (atomic_exchange_explicit(&rec.lock, 0, memory_order_release) == 2)
        syscall(SYS_futex, &rec.lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ---- small helpers that never allocate ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *put_dec(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = tmp[--n];
    *p = 0;
    return p;
}

static void say(const char *a, const char *b, const char *c)
{
    const char *parts[] = {"heron-record: ", a, b, c, "\n"};
    for (size_t i = 0; i < 5; i++)
        if (parts[i] && write(2, parts[i], strlen(parts[i])) < 0)
            return;
}

/* ---- the bootstrap arena, for what dlsym allocates before the real calloc is known ---- */

static _Alignas(64) unsigned char boot_arena[BOOT_ARENA_SIZE];
static atomic_size_t boot_used;

static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    for (;;) {
        size_t used = atomic_load(&boot_used);
        size_t start = (used + 16 + align - 1) & ~(align - 1); /* 16 bytes before hold n */
        if (start > BOOT_ARENA_SIZE || n > BOOT_ARENA_SIZE - start)
            return NULL;
        if (atomic_compare_exchange_weak(&boot_used, &used, start + n)) {
            memcpy(boot_arena + start - sizeof n, &n, sizeof n);
            return boot_arena + start; /* static storage: zero, as calloc needs */
        }
    }
}

static int is_boot(const void *p)
{
    return (const unsigned char *)p >= boot_arena &&
           (const unsigned char *)p < boot_arena + BOOT_ARENA_SIZE;
}

static size_t boot_size(const void *p)
{
    size_t n;
    memcpy(&n, (const unsigned char *)p - sizeof n, sizeof n);
    return n;
}

/* dlsym gives an object pointer; POSIX guarantees it converts to the function's type. */
#define LOOKUP(var, name)                         \
    do {                                          \
        void *sym_ = dlsym(RTLD_NEXT, name);      \
        memcpy(&(var), &sym_, sizeof(var));       \
    } while (0)

static void resolve(void)
{
    if (real_malloc)
        return;
    in_recorder++;
    LOOKUP(real_free, "free");
    LOOKUP(real_calloc, "calloc");
    LOOKUP(real_realloc, "realloc");
    LOOKUP(real_posix_memalign, "posix_memalign");
    LOOKUP(real_usable, "malloc_usable_size");
    LOOKUP(real_malloc, "malloc"); /* last: once it is set, every real function is */
    in_recorder--;
    if (!real_malloc || !real_free || !real_calloc || !real_realloc || !real_posix_memalign ||
        !real_usable) {
        say("cannot find the C library's malloc with dlsym(RTLD_NEXT)", NULL, NULL);
        abort();
    }
}

/* ---- starting and ending a trace ---- */

/* Reads /proc/self/cmdline into args_buf with spaces between the arguments. */
static void read_cmdline(void)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, args_buf, sizeof args_buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 0)
        n = 0;
    while (n > 0 && args_buf[n - 1] == 0)
        n--;
    for (ssize_t i = 0; i < n; i++)
        if (args_buf[i] == 0)
            args_buf[i] = ' ';
    args_buf[n] = 0;
    ssize_t m = readlink("/proc/self/exe", exe_buf, sizeof exe_buf - 1);
    exe_buf[m > 0 ? m : 0] = 0;
}

/* Opens this image's output file (see 5. above); -1 if none is to be written. */
static int open_output(const char *out, pid_t parent)
{
    pid_t pid = getpid();
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    if (pid == rec.root && !parent) {
        int fd = open(out, flags, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    char *p = path_buf;
    size_t len = strlen(out);
    if (len > PATH_MAX)
        return errno = ENAMETOOLONG, -1;
    memcpy(p, out, len);
    p += len;
    *p++ = '.';
    p = put_dec(p, (uint64_t)pid);
    for (unsigned n = 2; n < 1000; n++) {
        int fd = open(path_buf, flags, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        *p = '.';
        put_dec(p + 1, n);
    }
    return -1;
}

/* Starts a trace in this process image or, when parent is set, in a forked child.
 * Caller holds the lock and the re-entry guard. */
static void start_locked(pid_t parent)
{
    const char *out = getenv("HERON_RECORD_OUT");
    const char *root = getenv("HERON_RECORD_ROOT");
    const char *fork_mode = getenv("HERON_RECORD_FORK");
    const char *sites = getenv("HERON_RECORD_CALLSITES");
    rec.state = ST_OFF;
    if (!out || !*out)
        return;
    rec.pid = getpid();
    rec.root = root ? (pid_t)strtol(root, NULL, 10) : rec.pid;
    rec.follow = !fork_mode || strcmp(fork_mode, "ignore") != 0;
    rec.callsites = sites && strcmp(sites, "1") == 0;
    if (rec.pid != rec.root && !rec.follow)
        return;

    int fd = open_output(out, parent);
    if (fd < 0) {
        say("cannot create the trace for ", out, strerror(errno));
        return;
    }
    char pid_s[24], ppid_s[24], start_s[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rec.t0 = now_ns();
    put_dec(start_s, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    put_dec(pid_s, (uint64_t)rec.pid);
    put_dec(ppid_s, (uint64_t)(parent ? parent : rec.pid != rec.root ? getppid() : 0));
    read_cmdline();
    hn_trace_meta meta[] = {
        {"generator", RECORDER_VERSION}, {"program", exe_buf}, {"args", args_buf},
        {"clock", "CLOCK_MONOTONIC"}, {"start_unix_ns", start_s}, {"pid", pid_s},
        {"parent_pid", ppid_s}, {"fork", rec.follow ? "follow" : "ignore"},
    };
    hn_trace_writer_init(&rec.w, fd, rec.callsites ? HN_TRACE_F_CALLSITES : 0, chunk_buf,
                         sizeof chunk_buf);
    size_t nmeta = sizeof meta / sizeof meta[0] - (ppid_s[0] == '0');
    if (hn_trace_write_header(&rec.w, meta, nmeta) < 0) {
        say("cannot write the trace: ", strerror(rec.w.err), NULL);
        close(fd);
        return;
    }
    rec.nthreads = 0;
    rec.state = ST_ON;
}

/* Writes the last chunk and closes the file. Caller holds the lock. Async-signal-safe. */
static void finish_locked(void)
{
    if (rec.state != ST_ON)
        return;
    rec.state = ST_OFF;
    hn_trace_writer_finish(&rec.w);
    close(rec.w.fd);
}

/* Stops recording after a failure; caller holds the lock. */
static void fail_locked(const char *what)
{
    say(what, "; recording stops here", NULL);
    finish_locked();
}

static void on_fork_prepare(void)
{
    in_recorder++;
    rec_lock();
}

static void on_fork_parent(void)
{
    rec_unlock();
    in_recorder--;
}

/* In the child: a new, empty trace (follow) or none (ignore). */
static void on_fork_child(void)
{
    pid_t parent = rec.pid;
    atomic_store(&rec.lock, 1);
    thread_plus1 = 0;
    rec.depth++;
    if (rec.state == ST_ON) {
        close(rec.w.fd); /* the parent's file: the parent writes what is buffered */
        rec.state = ST_OFF;
        if (rec.follow)
            start_locked(parent);
    }
    rec_unlock();
    in_recorder--;
}

static void on_fatal_signal(int sig)
{
    int saved = errno;
    if (rec.pid == getpid() && rec_trylock()) {
        finish_locked();
        rec_unlock();
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

/* Called on the first allocation and from the constructor, whichever comes first. */
static void init(void)
{
    resolve();
    in_recorder++;
    rec_lock();
    if (rec.state == ST_UNINIT) {
        start_locked(0);
        if (rec.state == ST_ON) {
            pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
            install_signal_handlers();
        }
    }
    rec_unlock();
    in_recorder--;
}

__attribute__((constructor)) static void recorder_start(void)
{
    init();
}

__attribute__((destructor)) static void recorder_stop(void)
{
    in_recorder++;
    rec_lock();
    if (rec.pid == getpid())
        finish_locked();
    rec_unlock();
    in_recorder--;
}

/* ---- the object header ---- */

#define HDR_SIZE 16u               /* keeps malloc's 16-byte alignment */
#define HDR_MAGIC 0x4852434bu      /* any constant; mixed with the id and offset below */
#define ID_BITS 48                 /* ids below 2^48; the fork depth above */
#define ID_MASK (((uint64_t)1 << ID_BITS) - 1)
#define ID_NONE ID_MASK            /* an allocation that was not logged */
#define ALIGN_MAX ((size_t)1 << 30) /* larger alignments fail with ENOMEM */

struct hdr {
    uint64_t tag;    /* id | fork depth << ID_BITS */
    uint32_t offset; /* from the real block to the program's pointer */
    uint32_t check;
};

static inline uint32_t hdr_check(uint64_t tag, uint32_t offset)
{
    return HDR_MAGIC ^ (uint32_t)tag ^ (uint32_t)(tag >> 32) ^ (offset * 0x9E3779B1u);
}

static inline void *hdr_place(void *block, uint32_t offset, uint64_t tag)
{
    unsigned char *q = (unsigned char *)block + offset;
    struct hdr h = {tag, offset, hdr_check(tag, offset)};
    memcpy(q - HDR_SIZE, &h, sizeof h);
    return q;
}

/* 1 if q was allocated here, with its header in *h. */
static inline int hdr_get(const void *q, struct hdr *h)
{
    memcpy(h, (const unsigned char *)q - HDR_SIZE, sizeof *h);
    return h->check == hdr_check(h->tag, h->offset) && h->offset >= HDR_SIZE &&
           h->offset <= ALIGN_MAX;
}

/* The id of a header's object if this process logged it, else ID_NONE. */
static inline uint64_t hdr_logged_id(const struct hdr *h)
{
    return (h->tag >> ID_BITS) == (rec.depth & 0xffff) ? h->tag & ID_MASK : ID_NONE;
}

/* ---- logging ---- */

static uint32_t thread_locked(void)
{
    if (!thread_plus1)
        thread_plus1 = ++rec.nthreads;
    return thread_plus1 - 1;
}

static uint64_t now_rel(void)
{
    return now_ns() - rec.t0;
}

static inline int ready(void)
{
    if (__builtin_expect(rec.state == ST_UNINIT, 0) && !in_recorder)
        init();
    return real_malloc != NULL;
}

static inline int logging(void)
{
    return rec.state == ST_ON && !in_recorder;
}

static inline uint64_t untagged(void)
{
    return ID_NONE | (rec.depth & 0xffff) << ID_BITS;
}

/* Logs a new object (replacing old_id unless it is ID_NONE) and returns its header
 * tag. Keeps errno. */
static uint64_t log_new(unsigned kind, size_t size, unsigned align_log2, uint64_t site,
                        uint64_t old_id)
{
    if (!logging())
        return untagged();
    int saved = errno;
    uint64_t t = now_rel(), tag = untagged();
    rec_lock();
    if (rec.state == ST_ON) {
        uint32_t th = thread_locked();
        uint64_t id = old_id != ID_NONE
                          ? hn_trace_put_realloc(&rec.w, t, th, old_id, size, site)
                          : hn_trace_put_alloc(&rec.w, kind, t, th, size, align_log2, site);
        if (id < ID_NONE)
            tag = id | (rec.depth & 0xffff) << ID_BITS;
        if (rec.w.err)
            fail_locked(strerror(rec.w.err));
    }
    rec_unlock();
    errno = saved;
    return tag;
}

static void log_free(uint64_t id)
{
    int saved = errno;
    uint64_t t = now_rel();
    rec_lock();
    if (rec.state == ST_ON) {
        hn_trace_put_free(&rec.w, t, thread_locked(), id);
        if (rec.w.err)
            fail_locked(strerror(rec.w.err));
    }
    rec_unlock();
    errno = saved;
}

static unsigned log2_of(size_t align)
{
    return align ? 63 - (unsigned)__builtin_clzll(align) : 0;
}

/* The next power of two at or above v (v <= ALIGN_MAX). */
static size_t pow2_ceil(size_t v)
{
    return v <= 1 ? 1 : (size_t)1 << (64 - __builtin_clzll(v - 1));
}

/* ---- the interposed functions ---- */

static void *new_plain(size_t n, int zero, unsigned kind, uint64_t site)
{
    if (n > SIZE_MAX - HDR_SIZE)
        return errno = ENOMEM, NULL;
    void *p = zero ? real_calloc(1, n + HDR_SIZE) : real_malloc(n + HDR_SIZE);
    if (!p)
        return NULL;
    return hdr_place(p, HDR_SIZE, log_new(kind, n, 0, site, ID_NONE));
}

/* align: a power of two. */
static void *new_aligned(size_t align, size_t n, uint64_t site)
{
    if (align <= HDR_SIZE) {
        if (n > SIZE_MAX - HDR_SIZE)
            return errno = ENOMEM, NULL;
        void *p = real_malloc(n + HDR_SIZE);
        return p ? hdr_place(p, HDR_SIZE, log_new(HN_EV_ALIGNED, n, log2_of(align), site,
                                                  ID_NONE))
                 : NULL;
    }
    void *p;
    if (align > ALIGN_MAX || n > SIZE_MAX - align)
        return errno = ENOMEM, NULL;
    int saved = errno, rc = real_posix_memalign(&p, align, n + align);
    errno = saved;
    if (rc)
        return errno = rc, NULL;
    return hdr_place(p, (uint32_t)align, log_new(HN_EV_ALIGNED, n, log2_of(align), site,
                                                 ID_NONE));
}

EXPORT void *malloc(size_t n)
{
    if (!ready())
        return boot_alloc(n, 16);
    return new_plain(n, 0, HN_EV_MALLOC, CALLER());
}

static void free_tagged(void *q, const struct hdr *h)
{
    uint64_t id = hdr_logged_id(h);
    struct hdr dead = *h;
    dead.check = ~h->check; /* a second free of q is not mistaken for ours */
    memcpy((unsigned char *)q - HDR_SIZE, &dead, sizeof dead);
    if (id != ID_NONE && logging())
        log_free(id);
    real_free((unsigned char *)q - h->offset);
}

EXPORT void free(void *q)
{
    struct hdr h;
    if (!q || is_boot(q))
        return;
    if (!ready())
        return; /* before dlsym found free, only the arena hands out memory */
    if (hdr_get(q, &h))
        free_tagged(q, &h);
    else
        real_free(q);
}

EXPORT void *calloc(size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return errno = ENOMEM, NULL;
    if (!ready())
        return boot_alloc(total, 16);
    return new_plain(total, 1, HN_EV_CALLOC, CALLER());
}

static void *realloc_any(void *q, size_t n, uint64_t site)
{
    struct hdr h;
    if (!q)
        return new_plain(n, 0, HN_EV_MALLOC, site);
    if (is_boot(q) || !hdr_get(q, &h)) {
        /* not ours: move it into a block that is */
        size_t old = is_boot(q) ? boot_size(q) : real_usable(q);
        void *p = new_plain(n, 0, HN_EV_MALLOC, site);
        if (p) {
            memcpy(p, q, old < n ? old : n);
            if (!is_boot(q))
                real_free(q);
        }
        return p;
    }
    if (n == 0) { /* glibc's realloc(p, 0): free p, return NULL */
        free_tagged(q, &h);
        return NULL;
    }
    if (n > SIZE_MAX - h.offset)
        return errno = ENOMEM, NULL;
    uint64_t old_id = hdr_logged_id(&h);
    void *p = real_realloc((unsigned char *)q - h.offset, n + h.offset);
    if (!p)
        return NULL;
    return hdr_place(p, h.offset, log_new(HN_EV_MALLOC, n, 0, site, old_id));
}

EXPORT void *realloc(void *q, size_t n)
{
    if (!ready()) {
        void *p = boot_alloc(n, 16);
        if (p && q)
            memcpy(p, q, boot_size(q) < n ? boot_size(q) : n);
        return p;
    }
    return realloc_any(q, n, CALLER());
}

EXPORT void *reallocarray(void *q, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n))
        return errno = ENOMEM, NULL;
    if (!ready())
        return NULL;
    return realloc_any(q, n, CALLER());
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    if (!ready())
        return (*out = boot_alloc(n, align)) ? 0 : ENOMEM;
    int saved = errno;
    void *p = new_aligned(align, n, CALLER());
    int rc = p ? 0 : errno;
    errno = saved;
    if (p)
        *out = p;
    return rc;
}

/* glibc's aligned_alloc and memalign take any alignment and round it up to a power of two. */
EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (align > ALIGN_MAX)
        return errno = EINVAL, NULL;
    if (!ready())
        return boot_alloc(n, pow2_ceil(align));
    return new_aligned(pow2_ceil(align), n, CALLER());
}

EXPORT void *memalign(size_t align, size_t n)
{
    if (align > ALIGN_MAX)
        return errno = EINVAL, NULL;
    if (!ready())
        return boot_alloc(n, pow2_ceil(align));
    return new_aligned(pow2_ceil(align), n, CALLER());
}

EXPORT void *valloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (!ready())
        return boot_alloc(n, page);
    return new_aligned(page, n, CALLER());
}

EXPORT void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (n > SIZE_MAX - page)
        return errno = ENOMEM, NULL;
    n = (n + page - 1) & ~(page - 1);
    if (!ready())
        return boot_alloc(n, page);
    return new_aligned(page, n ? n : page, CALLER());
}

EXPORT size_t malloc_usable_size(void *q)
{
    struct hdr h;
    if (!q)
        return 0;
    if (is_boot(q))
        return boot_size(q);
    if (!ready())
        return 0;
    if (hdr_get(q, &h))
        return real_usable((unsigned char *)q - h.offset) - h.offset;
    return real_usable(q);
}

/* ---- process endings: write what is buffered before the image goes away ---- */

/* Before exec: write the chunk in progress and an empty last chunk, so the trace is
 * whole if exec succeeds; exec_failed() takes the last chunk back off if it does not.
 * The lock is held across the exec so no other thread writes after that last chunk.
 * A vfork child shares our memory but not our pid: it leaves the trace alone. */
static void exec_prepare(void)
{
    in_recorder++;
    rec_lock();
    rec.exec_mark = 0;
    if (rec.state == ST_ON && rec.pid == getpid()) {
        hn_trace_writer_flush(&rec.w, 0);
        rec.exec_mark = rec.w.bytes;
        hn_trace_writer_finish(&rec.w);
    }
}

/* Called with the lock exec_prepare took, which it releases. */
static void exec_failed(void)
{
    int saved = errno;
    if (rec.exec_mark && rec.state == ST_ON && !rec.w.err) {
        if (ftruncate(rec.w.fd, (off_t)rec.exec_mark) == 0 &&
            lseek(rec.w.fd, (off_t)rec.exec_mark, SEEK_SET) >= 0) {
            rec.w.bytes = rec.exec_mark;
            rec.w.chunks--;
        } else {
            rec.state = ST_OFF;
        }
    }
    rec_unlock();
    in_recorder--;
    errno = saved;
}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);

#define EXEC_FORWARD(name, type, ...)                                  \
    static type real_fn;                                               \
    if (!real_fn)                                                      \
        LOOKUP(real_fn, name);                                         \
    exec_prepare();                                                    \
    int rc = real_fn(__VA_ARGS__);                                     \
    exec_failed();                                                     \
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
    recorder_stop();
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

EXPORT void _Exit(int status)
{
    recorder_stop();
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}
