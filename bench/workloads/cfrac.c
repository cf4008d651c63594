/*
 * cfrac.c: cfrac/espresso-like. Arbitrary-precision arithmetic the way cfrac does it:
 * every operation returns a freshly allocated number and the operands die soon after,
 * so the heap sees a stream of tiny, short-lived objects (number headers, list nodes)
 * mixed with small-to-medium digit arrays that grow with realloc.
 *
 * Each round multiplies random factors into an accumulator (a new number per step),
 * keeps the partial products on a linked list, adds them up in place (realloc growth),
 * then frees it all. The printed check is the low word of the sums, so a broken
 * allocator that corrupts digits changes the output.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

/* Rounds at scale 1; each round does FACTORS multiplications. */
#define ROUNDS_AT_SCALE_1 6e5
/* 48 factors of up to 32 bits grow the accumulator to ~48 words (192 bytes). */
#define FACTORS 48

typedef struct big {
  size_t len;   /* words used */
  uint32_t *d;  /* little-endian words, allocated exactly len words */
} big_t;

typedef struct node {
  struct node *next;
  big_t *value;
} node_t;

static big_t *big_new(size_t len) {
  big_t *b = hn_bench_xmalloc(sizeof *b);
  b->len = len;
  b->d = hn_bench_xmalloc(len * sizeof *b->d);
  return b;
}

static void big_free(big_t *b) {
  free(b->d);
  free(b);
}

/* A new number a * m. */
static big_t *big_mul_small(const big_t *a, uint32_t m) {
  big_t *r = big_new(a->len + 1);
  uint64_t carry = 0;
  for (size_t i = 0; i < a->len; i++) {
    uint64_t v = (uint64_t)a->d[i] * m + carry;
    r->d[i] = (uint32_t)v;
    carry = v >> 32;
  }
  r->d[a->len] = (uint32_t)carry;
  if (carry == 0) {
    r->len = a->len;
    r->d = hn_bench_xrealloc(r->d, r->len * sizeof *r->d); /* shrink: cfrac trims too */
  }
  return r;
}

/* acc += b in place, growing acc's digits with realloc. */
static void big_add_into(big_t *acc, const big_t *b) {
  if (acc->len < b->len + 1) {
    size_t old = acc->len;
    acc->len = b->len + 1;
    acc->d = hn_bench_xrealloc(acc->d, acc->len * sizeof *acc->d);
    memset(acc->d + old, 0, (acc->len - old) * sizeof *acc->d);
  }
  uint64_t carry = 0;
  size_t i = 0;
  for (; i < b->len; i++) {
    uint64_t v = (uint64_t)acc->d[i] + b->d[i] + carry;
    acc->d[i] = (uint32_t)v;
    carry = v >> 32;
  }
  for (; carry != 0 && i < acc->len; i++) {
    uint64_t v = (uint64_t)acc->d[i] + carry;
    acc->d[i] = (uint32_t)v;
    carry = v >> 32;
  }
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "cfrac", 0, &a);
  uint64_t rounds = hn_bench_iters(&a, ROUNDS_AT_SCALE_1, 50);
  uint64_t rng = hn_rng_seed(7);
  uint64_t check = 0;
  for (uint64_t r = 0; r < rounds; r++) {
    big_t *acc = big_new(1);
    acc->d[0] = 1;
    node_t *list = NULL;
    for (int f = 0; f < FACTORS; f++) {
      uint32_t m = (uint32_t)hn_rng_next(&rng) | 1;
      big_t *next = big_mul_small(acc, m);
      node_t *n = hn_bench_xmalloc(sizeof *n);
      n->value = acc;
      n->next = list;
      list = n;
      acc = next;
    }
    big_t *sum = big_new(1);
    sum->d[0] = 0;
    while (list != NULL) {
      node_t *n = list;
      list = n->next;
      big_add_into(sum, n->value);
      big_free(n->value);
      free(n);
    }
    big_add_into(sum, acc);
    check += sum->d[0];
    big_free(acc);
    big_free(sum);
  }
  hn_bench_result(" rounds=%llu check=%llu", (unsigned long long)rounds,
                  (unsigned long long)check);
  return 0;
}
