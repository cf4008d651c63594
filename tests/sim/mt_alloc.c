/*
 * mt_alloc.c: a multi-threaded program for the recorder's tests.
 *
 *   mt_alloc THREADS ROUNDS
 *
 * Each thread allocates through every interposed entry point (malloc, calloc, realloc,
 * reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc), checks what
 * it got (alignment, zeroed calloc memory, malloc_usable_size, contents kept by realloc),
 * and hands half of its objects to the next thread, which frees them: frees from another
 * thread are where a recorder's ordering goes wrong. A constructor allocates before main,
 * and each thread makes dlsym fail (which allocates its error message inside dlsym).
 * Prints the number of allocation
 * calls that returned memory and of frees, which the test compares with the trace.
 * Exits 1 on the first wrong result.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUE 256

struct queue {
    pthread_mutex_t lock;
    void *items[QUEUE];
    int n;
};

static struct queue *queues;
static int nthreads, rounds;
static atomic_long allocs, frees;

#define EARLY 100
static void *early[EARLY]; /* allocated before main, freed by main */

static void die(const char *what);

__attribute__((constructor)) static void allocate_before_main(void)
{
    for (int i = 0; i < EARLY; i++)
        if (!(early[i] = malloc(24 + (size_t)i)))
            abort();
    atomic_fetch_add(&allocs, EARLY);
}

static void die(const char *what)
{
    fprintf(stderr, "mt_alloc: %s\n", what);
    exit(1);
}

static void give(int to, void *p)
{
    struct queue *q = &queues[to];
    pthread_mutex_lock(&q->lock);
    if (q->n < QUEUE) {
        q->items[q->n++] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    if (p) { /* full: free it here */
        free(p);
        atomic_fetch_add(&frees, 1);
    }
}

static void drain(int me)
{
    struct queue *q = &queues[me];
    pthread_mutex_lock(&q->lock);
    for (int i = 0; i < q->n; i++) {
        if (((unsigned char *)q->items[i])[0] != 0xab)
            die("an object handed over lost its contents");
        free(q->items[i]);
        atomic_fetch_add(&frees, 1);
    }
    q->n = 0;
    pthread_mutex_unlock(&q->lock);
}

static void *check_aligned(void *p, size_t align, size_t n)
{
    if (!p)
        die("aligned allocation failed");
    if ((uintptr_t)p % align)
        die("allocation not aligned");
    if (malloc_usable_size(p) < n)
        die("malloc_usable_size smaller than the request");
    atomic_fetch_add(&allocs, 1);
    memset(p, 0xab, n ? n : 1);
    return p;
}

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    unsigned seed = (unsigned)me * 7919u + 1;
    if (dlsym(RTLD_DEFAULT, "hn_no_such_symbol") || !dlerror())
        die("dlsym found a symbol that does not exist");
    for (int r = 0; r < rounds; r++) {
        void *p[10];
        size_t n = (size_t)(rand_r(&seed) % 2000) + 1;
        p[0] = check_aligned(malloc(n), 16, n);
        unsigned char *z = calloc(n, 3);
        for (size_t i = 0; i < n * 3; i++)
            if (!z || z[i])
                die("calloc memory not zeroed");
        p[1] = check_aligned(z, 16, n * 3);
        void *q = NULL;
        if (posix_memalign(&q, 64, n))
            die("posix_memalign failed");
        p[2] = check_aligned(q, 64, n);
        p[3] = check_aligned(aligned_alloc(256, 512), 256, 512);
        p[4] = check_aligned(memalign(32, n), 32, n);
        p[5] = check_aligned(valloc(100), 4096, 100);
        p[6] = check_aligned(pvalloc(5000), 4096, 8192);
        unsigned char *g = malloc(8);
        if (!g)
            die("malloc failed");
        atomic_fetch_add(&allocs, 1);
        memcpy(g, "abcdefg", 8);
        g = realloc(g, 100000); /* moves */
        if (!g || memcmp(g, "abcdefg", 8))
            die("realloc lost the contents");
        g = reallocarray(g, 10, 30);
        if (!g || memcmp(g, "abcdefg", 8))
            die("reallocarray lost the contents");
        p[7] = check_aligned(g, 16, 300);
        atomic_fetch_sub(&allocs, 1); /* counted when it was a malloc */
        void *a = realloc(NULL, 40); /* realloc(NULL) is a malloc */
        p[8] = check_aligned(a, 16, 40);
        p[9] = check_aligned(malloc(0), 16, 0);
        for (int i = 0; i < 10; i++) {
            if (i % 2 && nthreads > 1) {
                give((me + 1) % nthreads, p[i]);
            } else {
                free(p[i]);
                atomic_fetch_add(&frees, 1);
            }
        }
        if (r % 16 == 0)
            drain(me);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (nthreads = atoi(argv[1])) < 1 || nthreads > 64 || (rounds = atoi(argv[2])) < 1)
        die("usage: mt_alloc THREADS ROUNDS");
    queues = calloc((size_t)nthreads, sizeof *queues);
    pthread_t *t = malloc((size_t)nthreads * sizeof *t);
    if (!queues || !t)
        die("out of memory");
    for (int i = 0; i < nthreads; i++)
        pthread_mutex_init(&queues[i].lock, NULL);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i))
            die("pthread_create failed");
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < nthreads; i++)
        drain(i);
    for (int i = 0; i < EARLY; i++)
        free(early[i]);
    atomic_fetch_add(&frees, EARLY);
    printf("allocs %ld frees %ld\n", atomic_load(&allocs), atomic_load(&frees));
    free(t);
    free(queues);
    return 0;
}
