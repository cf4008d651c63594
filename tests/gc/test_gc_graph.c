/*
 * test_gc_graph.c: reachability is exact for precise objects.
 *
 * Random graphs (list runs, trees, back edges making cycles, shared nodes) of precise
 * nodes (inline bitmaps and type descriptors) and conservative nodes, each owning a
 * pointer-free blob. Roots are a registered global array. The test keeps its own model
 * of the edges by index, computes the reachable set, and checks after collecting that
 *   - every reachable node is intact (its payload and its blob match their checksums),
 *   - every unreachable node had its finalizer run exactly once, and no reachable one,
 *   - the objects freed are exactly the unreachable nodes and their blobs (stats);
 * under the sanitizers, no reachable one and none twice, the count not (EXACT_FREE in
 * gc_test_util.h).
 * Graph work runs on helper threads, so nothing on the main thread's stack or in its
 * registers holds a node when it collects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gc_test_util.h"

#define K 3 /* edges per node */

typedef struct node {
  struct node *e[K];
  uint64_t *blob;
  uint64_t id;
  uint64_t nwords; /* payload words; the blob has nwords + 1 words */
  uint64_t sum;
  uint64_t payload[];
} node_t;

#define NODE_PTRMAP 0xFull /* e[0..2] and blob */
#define TYPED_PAYLOAD 8
static const uint64_t typed_map[1] = {NODE_PTRMAP};
static const heron_gc_type_t typed_node = {sizeof(node_t) + TYPED_PAYLOAD * 8, typed_map};

#define MAXN 20000
#define NROOTS 16
static node_t *roots[NROOTS];

typedef struct {
  size_t n;
  int32_t edge[MAXN][K]; /* -1: none */
  int32_t root[NROOTS];
  unsigned char reach[MAXN];
  unsigned char finalized[MAXN];
  unsigned char dead[MAXN]; /* freed in an earlier round */
  uint64_t seed;
  node_t *byid[MAXN]; /* only used on helper threads; cleared before collecting */
  int bad;
} model_t;

static model_t *M;

static uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t s = a * 0x9E3779B97F4A7C15ull ^ b;
  return gct_rand(&s);
}

static void node_finalizer(void *obj, void *arg) {
  node_t *n = obj;
  size_t id = (size_t)(uintptr_t)arg;
  if (n->id != id || id >= M->n) {
    M->bad++;
    return;
  }
  M->finalized[id]++;
}

static node_t *new_node(size_t id, uint64_t *seed) {
  node_t *n;
  size_t nw;
  switch (id % 3) {
  case 0:
    nw = gct_rand(seed) % 40;
    n = heron_gc_malloc_bitmap(sizeof(node_t) + nw * 8, NODE_PTRMAP);
    break;
  case 1:
    nw = TYPED_PAYLOAD;
    n = heron_gc_malloc_typed(&typed_node, 1);
    break;
  default:
    nw = gct_rand(seed) % 20;
    n = heron_gc_malloc(sizeof(node_t) + nw * 8);
    break;
  }
  if (n == NULL) abort();
  n->id = id;
  n->nwords = nw;
  n->blob = heron_gc_malloc_noscan((nw + 1) * 8 + gct_rand(seed) % 1500);
  if (n->blob == NULL) abort();
  uint64_t sum = 0;
  for (size_t i = 0; i < nw; i++) sum ^= n->payload[i] = mix(id, i);
  for (size_t i = 0; i <= nw; i++) n->blob[i] = mix(id, 1000 + i);
  n->sum = sum;
  heron_gc_set_finalizer(n, node_finalizer, (void *)(uintptr_t)id);
  return n;
}

static int node_ok(const node_t *n, size_t id) {
  if (n->id != id) return 0;
  uint64_t sum = 0;
  for (size_t i = 0; i < n->nwords; i++) {
    if (n->payload[i] != mix(id, i)) return 0;
    sum ^= n->payload[i];
  }
  if (sum != n->sum) return 0;
  for (size_t i = 0; i <= n->nwords; i++)
    if (n->blob[i] != mix(id, 1000 + i)) return 0;
  return 1;
}

static void compute_reach(void) {
  static int32_t stack[MAXN];
  size_t sp = 0;
  memset(M->reach, 0, sizeof M->reach);
  for (int r = 0; r < NROOTS; r++)
    if (M->root[r] >= 0 && !M->reach[M->root[r]]) {
      M->reach[M->root[r]] = 1;
      stack[sp++] = M->root[r];
    }
  while (sp) {
    int32_t v = stack[--sp];
    for (int k = 0; k < K; k++) {
      int32_t w = M->edge[v][k];
      if (w >= 0 && !M->reach[w]) {
        M->reach[w] = 1;
        stack[sp++] = w;
      }
    }
  }
}

/* Build: lists, trees, cycles and shared nodes, by index; then objects to match. */
static void build(void *arg) {
  (void)arg;
  uint64_t *seed = &M->seed;
  size_t n = M->n;
  for (size_t i = 0; i < n; i++) {
    M->byid[i] = new_node(i, seed);
    for (int k = 0; k < K; k++) M->edge[i][k] = -1;
  }
  for (size_t i = 1; i < n; i++) {
    uint64_t r = gct_rand(seed) % 100;
    if (r < 40) M->edge[i - 1][0] = (int32_t)i;          /* list runs */
    else if (r < 70) M->edge[(i - 1) / 2][1] = (int32_t)i; /* trees */
    else if (r < 85) M->edge[i][2] = (int32_t)(gct_rand(seed) % i); /* back edge: cycle */
    else M->edge[gct_rand(seed) % i][2] = (int32_t)(gct_rand(seed) % n); /* shared */
  }
  for (int r = 0; r < NROOTS; r++) M->root[r] = (int32_t)(gct_rand(seed) % n);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < K; k++)
      M->byid[i]->e[k] = M->edge[i][k] >= 0 ? M->byid[M->edge[i][k]] : NULL;
  for (int r = 0; r < NROOTS; r++) roots[r] = M->byid[M->root[r]];
  memset(M->byid, 0, sizeof M->byid);
}

/* Walk the real graph from the roots and check every node reached is intact and is in
 * the model's reachable set; rebuild byid for the mutation step. */
static void verify(void *arg) {
  (void)arg;
  static node_t *stack[MAXN];
  static unsigned char seen[MAXN];
  memset(seen, 0, sizeof seen);
  size_t sp = 0;
  for (int r = 0; r < NROOTS; r++)
    if (roots[r]) stack[sp++] = roots[r];
  while (sp) {
    node_t *v = stack[--sp];
    size_t id = v->id;
    if (id >= M->n || !M->reach[id] || !node_ok(v, id)) {
      M->bad++;
      continue;
    }
    if (seen[id]) continue;
    seen[id] = 1;
    M->byid[id] = v;
    for (int k = 0; k < K; k++)
      if (v->e[k]) stack[sp++] = v->e[k];
  }
  for (size_t i = 0; i < M->n; i++)
    if (M->reach[i] && !seen[i]) M->bad++;
}

/* Drop some roots, rewire some edges among reachable nodes. */
static void mutate(void *arg) {
  (void)arg;
  uint64_t *seed = &M->seed;
  verify(NULL);
  for (int r = 0; r < NROOTS; r += 3) {
    M->root[r] = -1;
    HERON_GC_STORE(&roots[r], NULL);
  }
  for (int j = 0; j < 500; j++) {
    size_t a = gct_rand(seed) % M->n, b = gct_rand(seed) % M->n;
    int k = (int)(gct_rand(seed) % K);
    if (!M->reach[a]) continue;
    if (gct_rand(seed) % 2 && M->reach[b]) {
      M->edge[a][k] = (int32_t)b;
      HERON_GC_STORE(&M->byid[a]->e[k], M->byid[b]);
    } else {
      M->edge[a][k] = -1;
      HERON_GC_STORE(&M->byid[a]->e[k], NULL);
    }
  }
  memset(M->byid, 0, sizeof M->byid);
}

static uint64_t reachable_count(void) {
  uint64_t c = 0;
  for (size_t i = 0; i < M->n; i++) c += M->reach[i];
  return c;
}

static void check_round(uint64_t *prev_unreach) {
  heron_gc_stats_t a, b;
  heron_gc_stats_get(&a);
  gct_collect_and_finalize(); /* finds the unreachable, runs their finalizers */
  gct_collect_and_finalize(); /* frees them */
  heron_gc_stats_get(&b);
  uint64_t unreach = 0;
  for (size_t i = 0; i < M->n; i++) {
    if (M->reach[i]) {
      assert_int_equal(M->finalized[i], 0);
    } else {
      /* Once at most; exactly once where nothing stale is scanned (EXACT_FREE). */
      assert_true(M->finalized[i] <= 1);
      if (EXACT_FREE) assert_int_equal(M->finalized[i], 1);
      unreach++;
    }
  }
  assert_int_equal(M->bad, 0);
  /* each node and its blob */
  if (EXACT_FREE)
    assert_int_equal(b.objects_freed - a.objects_freed, 2 * (unreach - *prev_unreach));
  *prev_unreach = unreach;
  gct_on_thread(verify, NULL);
  assert_int_equal(M->bad, 0);
}

static void test_random_graphs(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    M = calloc(1, sizeof *M);
    M->n = 5000 + seed * 3000;
    M->seed = seed;
    gct_on_thread(build, NULL);
    compute_reach();
    assert_true(reachable_count() > 0 && reachable_count() < M->n);
    uint64_t prev = 0;
    check_round(&prev);
    for (int round = 0; round < 3; round++) {
      gct_on_thread(mutate, NULL);
      compute_reach();
      check_round(&prev);
    }
    memset(roots, 0, sizeof roots);
    memset(M->root, -1, sizeof M->root);
    compute_reach();
    check_round(&prev);
    assert_int_equal(prev, M->n);
    free(M);
  }
}

int main(void) {
  heron_gc_config_t cfg = {.gogc = -1, .flags = HERON_GC_FINALIZE_EXPLICIT};
  if (heron_gc_init(&cfg) != 0) return 1;
  heron_gc_add_root(roots, sizeof roots);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_graphs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
