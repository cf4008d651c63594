/*
 * example.c: the program docs/gc.md walks through. A list of precisely described cells
 * holding pointer-free strings, a conservatively scanned table, a finalizer and a weak
 * reference; then the statistics. Built by meson and run by `meson test` (suite
 * programs), which checks its exit status.
 */
#include <stdio.h>
#include <string.h>

#include "heron/gc.h"

typedef struct cell {
  struct cell *next; /* word 0: a pointer */
  char *name;        /* word 1: a pointer */
  long value;        /* word 2: not a pointer */
} cell_t;

static const uint64_t cell_ptrs[1] = {0x3}; /* words 0 and 1 */
static const heron_gc_type_t cell_type = {sizeof(cell_t), cell_ptrs};

static cell_t *list; /* a global root, registered below */
static int finalized;

static void on_finalize(void *obj, void *arg) {
  (void)arg;
  printf("finalizer: cell %ld is unreachable\n", ((cell_t *)obj)->value);
  finalized++;
}

static cell_t *push(cell_t *head, const char *name, long value) {
  cell_t *c = heron_gc_malloc_typed(&cell_type, 1);
  c->name = heron_gc_malloc_noscan(strlen(name) + 1); /* never scanned */
  strcpy(c->name, name);
  c->value = value;
  HERON_GC_STORE(&c->next, head);
  return c;
}

/* Builds a cell that nothing keeps, with a finalizer and a weak reference to it. */
static heron_gc_weak_t *__attribute__((noinline)) make_garbage(void) {
  cell_t *tmp = push(NULL, "temporary", 99);
  heron_gc_set_finalizer(tmp, on_finalize, NULL);
  return heron_gc_weak_new(tmp);
}

int main(void) {
  heron_gc_config_t cfg = {.gogc = 100, .flags = HERON_GC_FINALIZE_EXPLICIT};
  if (heron_gc_init(&cfg) != 0) return 1;
  heron_gc_add_root(&list, sizeof list);

  for (long i = 0; i < 100000; i++) {
    char name[32];
    snprintf(name, sizeof name, "cell-%ld", i);
    HERON_GC_STORE(&list, push(list, name, i));
    if (i % 1000 == 500) HERON_GC_STORE(&list, NULL); /* drop the list now and then */
  }

  void **table = heron_gc_malloc(16 * sizeof(void *)); /* conservative: any word */
  table[3] = (char *)list + 8;                         /* interior pointers count */
  heron_gc_weak_t *weak = make_garbage();

  heron_gc_collect();           /* the temporary cell is found unreachable... */
  heron_gc_run_finalizers();    /* ...its finalizer runs here, once */
  heron_gc_collect();           /* ...and this cycle frees it */

  heron_gc_stats_t st;
  heron_gc_stats_get(&st);
  printf("list head %ld, weak %s, finalized %d, cycles %llu, live %llu bytes, max pause %llu us\n",
         list->value, heron_gc_weak_get(weak) ? "alive" : "cleared", finalized,
         (unsigned long long)st.cycles, (unsigned long long)st.heap_live,
         (unsigned long long)(st.pause_max_ns / 1000));
  int ok = list->value == 99999 && table[3] == (char *)list + 8 &&
           heron_gc_weak_get(weak) == NULL && finalized == 1;
  heron_gc_weak_free(weak);
  return ok ? 0 : 1;
}
