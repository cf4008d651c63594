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
 *    calls (execve, execv, execvp, execvpe, execl, execlp, execle) and fatal signals
 *    (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, when the program left them at
 *    their default) write what is buffered first; a signal handler then restores the
 *    default action and raises the signal again. Forks, exec, _exit and signals are in
 *    endings.c; the allocation functions and the trace's start and end are here.
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
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/record/recorder.h"

#define TLS __attribute__((tls_model("initial-exec"))) __thread

#define RECORDER_VERSION "heron-record 0.1.0"
/* dlsym and the C library's early start-up allocate a few hundred bytes; 64 KiB leaves
 * a wide margin and costs nothing until touched. */
#define BOOT_ARENA_SIZE (64 * 1024)
/* The command line kept in the header; longer ones are cut. */
#define ARGS_MAX 4096

struct hn_rec_state hn_rec;
TLS int hn_rec_busy;
TLS uint32_t hn_rec_thread_plus1;

static unsigned char chunk_buf[HN_TRACE_WRITER_BUF];
static char path_buf[PATH_MAX + 64];
static char exe_buf[PATH_MAX];
static char args_buf[ARGS_MAX];
/* /proc/self/maps as read, and its executable mappings as kept in the header: python's
 * maps run to about 30 KiB, the executable lines of it to about 3 KiB. */
#define MAPS_RAW_MAX (256 * 1024)
#define MAPS_MAX (32 * 1024)
static char maps_raw[MAPS_RAW_MAX];
static char maps_buf[MAPS_MAX];

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static size_t (*real_usable)(void *);

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

/* One line on stderr from up to four parts (NULL ones skipped), without allocating. */
static void say(const char *a, const char *b, const char *c, const char *d)
{
    const char *parts[] = {"heron-record: ", a, b, c, d, "\n"};
    for (size_t i = 0; i < 6; i++)
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

static void resolve(void)
{
    if (real_malloc)
        return;
    hn_rec_busy++;
    LOOKUP(real_free, "free");
    LOOKUP(real_calloc, "calloc");
    LOOKUP(real_realloc, "realloc");
    LOOKUP(real_posix_memalign, "posix_memalign");
    LOOKUP(real_usable, "malloc_usable_size");
    LOOKUP(real_malloc, "malloc"); /* last: once it is set, every real function is */
    hn_rec_busy--;
    if (!real_malloc || !real_free || !real_calloc || !real_realloc || !real_posix_memalign ||
        !real_usable) {
        say("cannot find the C library's malloc with dlsym(RTLD_NEXT)", NULL, NULL, NULL);
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

/* Keeps the executable, file-backed lines of /proc/self/maps in maps_buf as
 * "START-END OFFSET PATH" lines, so call sites can be named as PATH+OFFSET later. */
static void read_maps(void)
{
    size_t got = 0, out = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    maps_buf[0] = 0;
    if (fd < 0)
        return;
    for (;;) {
        ssize_t n = read(fd, maps_raw + got, sizeof maps_raw - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    maps_raw[got] = 0;
    for (char *line = maps_raw; *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        char *perms = memchr(line, ' ', (size_t)(end - line));
        char *path = memchr(line, '/', (size_t)(end - line));
        if (perms && path && perms + 3 < end && perms[3] == 'x') {
            char *offset = perms + 6; /* "r-xp " then the offset */
            char *offset_end = memchr(offset, ' ', (size_t)(end - offset));
            size_t range = (size_t)(perms - line), olen = offset_end ? (size_t)(offset_end - offset) : 0;
            size_t plen = (size_t)(end - path);
            if (olen && out + range + olen + plen + 3 < sizeof maps_buf) {
                memcpy(maps_buf + out, line, range);
                out += range;
                maps_buf[out++] = ' ';
                memcpy(maps_buf + out, offset, olen);
                out += olen;
                maps_buf[out++] = ' ';
                memcpy(maps_buf + out, path, plen);
                out += plen;
                maps_buf[out++] = '\n';
            }
        }
        line = *end ? end + 1 : end;
    }
    maps_buf[out] = 0;
}

/* Opens this image's output file (see 5. above); -1 if none is to be written. */
static int open_output(const char *out, pid_t parent)
{
    pid_t pid = getpid();
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    if (pid == hn_rec.root && !parent) {
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
void hn_rec_start_locked(pid_t parent)
{
    const char *out = getenv("HERON_RECORD_OUT");
    const char *root = getenv("HERON_RECORD_ROOT");
    const char *fork_mode = getenv("HERON_RECORD_FORK");
    const char *sites = getenv("HERON_RECORD_CALLSITES");
    hn_rec.state = ST_OFF;
    if (!out || !*out)
        return;
    hn_rec.pid = getpid();
    hn_rec.root = root ? (pid_t)strtol(root, NULL, 10) : hn_rec.pid;
    hn_rec.follow = !fork_mode || strcmp(fork_mode, "ignore") != 0;
    hn_rec.callsites = sites && strcmp(sites, "1") == 0;
    if (hn_rec.pid != hn_rec.root && !hn_rec.follow)
        return;

    int fd = open_output(out, parent);
    if (fd < 0) {
        say("cannot create ", out, ": ", strerror(errno));
        return;
    }
    char pid_s[24], ppid_s[24], start_s[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    hn_rec.t0 = now_ns();
    put_dec(start_s, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    put_dec(pid_s, (uint64_t)hn_rec.pid);
    put_dec(ppid_s, (uint64_t)(parent ? parent : hn_rec.pid != hn_rec.root ? getppid() : 0));
    read_cmdline();
    if (hn_rec.callsites)
        read_maps();
    hn_trace_meta meta[] = {
        {"generator", RECORDER_VERSION}, {"program", exe_buf}, {"args", args_buf},
        {"clock", "CLOCK_MONOTONIC"}, {"start_unix_ns", start_s}, {"pid", pid_s},
        {"fork", hn_rec.follow ? "follow" : "ignore"}, {"maps", maps_buf},
        {"parent_pid", ppid_s}, /* last: */
    };
    hn_trace_writer_init(&hn_rec.w, fd, hn_rec.callsites ? HN_TRACE_F_CALLSITES : 0, chunk_buf,
                         sizeof chunk_buf);
    size_t nmeta = sizeof meta / sizeof meta[0] - (ppid_s[0] == '0'); /* no parent: leave it out */
    if (hn_trace_write_header(&hn_rec.w, meta, nmeta) < 0) {
        say("cannot write ", out, ": ", strerror(hn_rec.w.err));
        close(fd);
        return;
    }
    hn_rec.nthreads = 0;
    hn_rec.state = ST_ON;
}

/* Writes the last chunk and closes the file. Caller holds the lock. Async-signal-safe. */
void hn_rec_finish_locked(void)
{
    if (hn_rec.state != ST_ON)
        return;
    hn_rec.state = ST_OFF;
    hn_trace_writer_finish(&hn_rec.w);
    close(hn_rec.w.fd);
}

/* Stops recording after a failure; caller holds the lock. */
static void fail_locked(const char *what)
{
    say(what, "; recording stops here", NULL, NULL);
    hn_rec_finish_locked();
}

/* Called on the first allocation and from the constructor, whichever comes first. */
static void init(void)
{
    resolve();
    hn_rec_busy++;
    hn_rec_lock();
    if (hn_rec.state == ST_UNINIT) {
        hn_rec_start_locked(0);
        if (hn_rec.state == ST_ON) {
            hn_rec_install_endings();
        }
    }
    hn_rec_unlock();
    hn_rec_busy--;
}

__attribute__((constructor)) static void recorder_start(void)
{
    init();
}

__attribute__((destructor)) void hn_rec_stop(void)
{
    if (hn_rec.pid != getpid()) /* a vfork child: the trace is its parent's */
        return;
    hn_rec_busy++;
    hn_rec_lock();
    hn_rec_finish_locked();
    hn_rec_unlock();
    hn_rec_busy--;
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
    return (h->tag >> ID_BITS) == (hn_rec.depth & 0xffff) ? h->tag & ID_MASK : ID_NONE;
}

/* ---- logging ---- */

static uint32_t thread_locked(void)
{
    if (!hn_rec_thread_plus1)
        hn_rec_thread_plus1 = ++hn_rec.nthreads;
    return hn_rec_thread_plus1 - 1;
}

static uint64_t now_rel(void)
{
    return now_ns() - hn_rec.t0;
}

static inline int ready(void)
{
    if (__builtin_expect(hn_rec.state == ST_UNINIT, 0) && !hn_rec_busy)
        init();
    return real_malloc != NULL;
}

static inline int logging(void)
{
    return hn_rec.state == ST_ON && !hn_rec_busy;
}

static inline uint64_t untagged(void)
{
    return ID_NONE | (hn_rec.depth & 0xffff) << ID_BITS;
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
    hn_rec_lock();
    if (hn_rec.state == ST_ON) {
        uint32_t th = thread_locked();
        uint64_t id = old_id != ID_NONE
                          ? hn_trace_put_realloc(&hn_rec.w, t, th, old_id, size, site)
                          : hn_trace_put_alloc(&hn_rec.w, kind, t, th, size, align_log2, site);
        if (id < ID_NONE)
            tag = id | (hn_rec.depth & 0xffff) << ID_BITS;
        if (hn_rec.w.err)
            fail_locked(strerror(hn_rec.w.err));
    }
    hn_rec_unlock();
    errno = saved;
    return tag;
}

static void log_free(uint64_t id)
{
    int saved = errno;
    uint64_t t = now_rel();
    hn_rec_lock();
    if (hn_rec.state == ST_ON) {
        hn_trace_put_free(&hn_rec.w, t, thread_locked(), id);
        if (hn_rec.w.err)
            fail_locked(strerror(hn_rec.w.err));
    }
    hn_rec_unlock();
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

