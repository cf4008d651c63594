/*
 * probe.c: the preload check for real programs. bench/run starts this under the same
 * environment as the program it measures (same LD_PRELOAD); its marker line says which
 * allocator that environment gives. It allocates a little so the allocator is live.
 */
#include "bench.h"

#include <stdlib.h>

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "probe", 0, &a);
  void *p = hn_bench_xmalloc(64);
  hn_bench_use(p);
  free(p);
  hn_bench_result("%s", "");
  return 0;
}
