/*
 * mksizeclasses: derives heron's size classes and writes the table the allocator
 * compiles (alloc/sizeclass_table.h) and its reference page (docs/size-classes.md).
 *
 *   mksizeclasses alloc/sizeclass_table.h docs/size-classes.md
 *
 * The rule is Go's (runtime/mksizeclasses.go), restated:
 *  1. Walk sizes upward in steps of the current alignment. The alignment is 8 for the
 *     first class, 16 from 16 bytes (malloc promises 16-byte alignment to anything that
 *     can hold a long double), size/8 from 128 bytes, so that rounding a request up to
 *     its class wastes at most 12.5 % of the object, and 256 from 2048 bytes (Go's
 *     choice: finer than size/8 where spans get long).
 *  2. For each size take the fewest 8 KiB pages whose unused tail (span bytes modulo
 *     object size) is at most 1/8 of the span.
 *  3. A size that fits the same number of objects in the same number of pages as the
 *     previous class replaces it (the bigger size costs nothing), unless that would
 *     round a request just above the class before it up by more than 1/8.
 *  4. Each class then grows to the largest size, a multiple of 128 above 1 KiB, that
 *     still fits the same count in its pages, stays below the next class and keeps the
 *     same 1/8 bound.
 * Go lets steps 3 and 4 break the 1/8 bound (its 896-byte class takes 769-byte
 * requests, 14 % waste); heron keeps it, for every size from 128 bytes up, at the cost
 * of a few more classes.
 * It also checks what the allocator relies on: sizes above 1 KiB are multiples of 128
 * (the size_to_class128 index), at most HN_MAX_OBJECTS objects per span (the per-span
 * bitmaps), and that the reciprocal (divmagic) gives the exact object index for every
 * byte offset inside every span.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PAGE_SIZE 8192u
#define MAX_SMALL 32768u
#define SMALL_LIMIT 1024u  /* sizes up to here are looked up in steps of 8 */
#define LARGE_STEP 128u    /* above it, in steps of 128 */
#define MAX_OBJECTS 1024u  /* bitmaps in span metadata are 1024 bits */
/* Objects moved between a thread cache and the central list at once: TCMalloc's rule,
 * 64 KiB worth, at least 2 (so a batch amortises a lock), at most 32 (so a thread
 * cache of tiny objects stays small). */
#define BATCH_BYTES 65536u
#define BATCH_MIN 2u
#define BATCH_MAX 32u

struct sclass {
  unsigned size, pages;
};

static struct sclass classes[128];
static unsigned nclasses = 1; /* class 0 means "not a small object" */

static int is_pow2(unsigned x) { return x && !(x & (x - 1)); }

/* Would a class of `size` after a class of `prev` round a request up by more than 1/8?
 * (Only judged from 128 bytes up: below, the 16-byte alignment sets the spacing.) */
static int too_wasteful(unsigned prev, unsigned size) {
  return prev >= 128 && (size - (prev + 1)) * 8 > size;
}

static void derive(void) {
  unsigned align = 8;
  for (unsigned size = 8; size <= MAX_SMALL; size += align) {
    if (is_pow2(size)) {
      if (size >= 2048)
        align = 256;
      else if (size >= 128)
        align = size / 8;
      else if (size >= 16)
        align = 16;
    }
    unsigned span = PAGE_SIZE;
    while (span % size > span / 8)
      span += PAGE_SIZE;
    unsigned pages = span / PAGE_SIZE;
    if (nclasses > 1 && pages == classes[nclasses - 1].pages &&
        span / size == span / classes[nclasses - 1].size &&
        !(nclasses > 2 && too_wasteful(classes[nclasses - 2].size, size))) {
      classes[nclasses - 1].size = size;
      continue;
    }
    classes[nclasses].size = size;
    classes[nclasses].pages = pages;
    nclasses++;
  }
  for (unsigned i = 1; i < nclasses; i++) {
    struct sclass *c = &classes[i];
    unsigned span = c->pages * PAGE_SIZE;
    unsigned grown = span / (span / c->size);
    grown &= ~(LARGE_STEP - 1);
    int below_next = i + 1 == nclasses || grown < classes[i + 1].size;
    if (grown > c->size && c->size > SMALL_LIMIT && below_next && !too_wasteful(classes[i - 1].size, grown))
      c->size = grown;
  }
}

static unsigned batch_of(unsigned size) {
  unsigned n = BATCH_BYTES / size;
  return n < BATCH_MIN ? BATCH_MIN : n > BATCH_MAX ? BATCH_MAX : n;
}

static uint32_t divmagic_of(unsigned size) { return (uint32_t)(UINT32_MAX / size + 1); }

static void check(void) {
  for (unsigned i = 1; i < nclasses; i++) {
    unsigned size = classes[i].size, span = classes[i].pages * PAGE_SIZE;
    if (i > 1 && (size <= classes[i - 1].size || too_wasteful(classes[i - 1].size, size))) {
      fprintf(stderr, "mksizeclasses: class %u: size %u breaks the order or the 1/8 rule\n", i, size);
      exit(1);
    }
    if (size > SMALL_LIMIT && size % LARGE_STEP) {
      fprintf(stderr, "mksizeclasses: class %u: size %u not a multiple of %u\n", i, size, LARGE_STEP);
      exit(1);
    }
    if (span / size > MAX_OBJECTS) {
      fprintf(stderr, "mksizeclasses: class %u: %u objects per span\n", i, span / size);
      exit(1);
    }
    uint32_t magic = divmagic_of(size);
    for (uint64_t off = 0; off < span; off++) {
      if (((off * magic) >> 32) != off / size) {
        fprintf(stderr, "mksizeclasses: class %u: divmagic wrong at offset %llu\n", i,
                (unsigned long long)off);
        exit(1);
      }
    }
  }
}

static unsigned class_for(unsigned size) {
  for (unsigned i = 1; i < nclasses; i++)
    if (classes[i].size >= size)
      return i;
  return 0;
}

static void write_header(FILE *f) {
  fprintf(f, "/* Generated by alloc/tools/mksizeclasses.c: do not edit; rerun it instead.\n"
             " * The size classes, their span lengths and batch sizes, the reciprocals that\n"
             " * find an object's index from an offset, and the size -> class lookup tables. */\n");
  fprintf(f, "#ifndef HN_SIZECLASS_TABLE_H\n#define HN_SIZECLASS_TABLE_H\n\n");
  fprintf(f, "#define HN_NCLASSES %u\n", nclasses);
  fprintf(f, "#define HN_MAX_SMALL %u\n", MAX_SMALL);
  fprintf(f, "#define HN_SMALL_LIMIT %u\n", SMALL_LIMIT);
  fprintf(f, "#define HN_LARGE_STEP %u\n", LARGE_STEP);
  fprintf(f, "#define HN_MAX_OBJECTS %u\n\n", MAX_OBJECTS);
  fprintf(f, "static const uint32_t hn_class_size[HN_NCLASSES] = {\n  0,");
  for (unsigned i = 1; i < nclasses; i++)
    fprintf(f, "%s%u,", i % 10 == 0 ? "\n  " : " ", classes[i].size);
  fprintf(f, "\n};\n\nstatic const uint8_t hn_class_pages[HN_NCLASSES] = {\n  0,");
  for (unsigned i = 1; i < nclasses; i++)
    fprintf(f, "%s%u,", i % 16 == 0 ? "\n  " : " ", classes[i].pages);
  fprintf(f, "\n};\n\nstatic const uint16_t hn_class_objects[HN_NCLASSES] = {\n  0,");
  for (unsigned i = 1; i < nclasses; i++)
    fprintf(f, "%s%u,", i % 16 == 0 ? "\n  " : " ", classes[i].pages * PAGE_SIZE / classes[i].size);
  fprintf(f, "\n};\n\nstatic const uint8_t hn_class_batch[HN_NCLASSES] = {\n  0,");
  for (unsigned i = 1; i < nclasses; i++)
    fprintf(f, "%s%u,", i % 16 == 0 ? "\n  " : " ", batch_of(classes[i].size));
  fprintf(f, "\n};\n\nstatic const uint32_t hn_class_divmagic[HN_NCLASSES] = {\n  0,");
  for (unsigned i = 1; i < nclasses; i++)
    fprintf(f, "%s%uu,", i % 6 == 0 ? "\n  " : " ", divmagic_of(classes[i].size));
  fprintf(f, "\n};\n\n/* Class of sizes 0..%u, indexed by (size + 7) / 8. */\n", SMALL_LIMIT);
  fprintf(f, "static const uint8_t hn_size_to_class8[%u] = {", SMALL_LIMIT / 8 + 1);
  for (unsigned i = 0; i <= SMALL_LIMIT / 8; i++)
    fprintf(f, "%s%u,", i % 20 == 0 ? "\n  " : " ", class_for(i > 0 ? i * 8 : 1));
  fprintf(f, "\n};\n\n/* Class of sizes %u..%u, indexed by (size - %u + 127) / 128. */\n", SMALL_LIMIT + 1,
          MAX_SMALL, SMALL_LIMIT);
  unsigned n128 = (MAX_SMALL - SMALL_LIMIT) / LARGE_STEP + 1;
  fprintf(f, "static const uint8_t hn_size_to_class128[%u] = {", n128);
  for (unsigned i = 0; i < n128; i++)
    fprintf(f, "%s%u,", i % 20 == 0 ? "\n  " : " ", class_for(SMALL_LIMIT + i * LARGE_STEP));
  fprintf(f, "\n};\n\n#endif\n");
}

static void write_doc(FILE *f) {
  fprintf(f, "# heron size classes\n\n"
             "Generated by `alloc/tools/mksizeclasses.c` (run `ninja -C build sizeclasses` to\n"
             "regenerate this page and `alloc/sizeclass_table.h`). Pages are 8 KiB. The rule is\n"
             "Go's: classes spaced by at most 1/8 of their size from 128 B up (16 B below, the\n"
             "alignment malloc promises), and spans long enough that the unused tail is at most\n"
             "1/8 of the span.\n\n"
             "Columns: `size` object bytes; `pages` span length; `objects` per span; `tail`\n"
             "bytes left at the span's end; `tail %%` of the span; `round-up %%` the most a\n"
             "request loses to rounding up to the class (a request one byte above the previous\n"
             "class; at most 12.5 %% from 128 B up); `max waste %%` the worst\n"
             "case, a request one byte above the previous class, counting the rounding and the\n"
             "tail share (Go's column); `batch` objects moved between a thread cache and the\n"
             "central list at once.\n\n");
  fprintf(f, "| class | size | pages | objects | tail | tail %% | round-up %% | max waste %% | batch |\n");
  fprintf(f, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (unsigned i = 1; i < nclasses; i++) {
    unsigned size = classes[i].size, span = classes[i].pages * PAGE_SIZE;
    unsigned objs = span / size, tail = span % size;
    unsigned prev = i > 1 ? classes[i - 1].size : 0;
    double maxwaste = 100.0 * (double)(span - objs * (prev + 1)) / (double)span;
    double roundup = 100.0 * (double)(size - (prev + 1)) / (double)size;
    fprintf(f, "| %u | %u | %u | %u | %u | %.2f | %.2f | %.2f | %u |\n", i, size, classes[i].pages,
            objs, tail, 100.0 * tail / span, roundup, maxwaste, batch_of(size));
  }
  fprintf(f, "\n%u classes (class 0 is \"not small\": larger requests get whole pages from the "
             "page heap).\n", nclasses - 1);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: mksizeclasses HEADER DOC\n");
    return 2;
  }
  derive();
  check();
  FILE *h = fopen(argv[1], "w"), *d = fopen(argv[2], "w");
  if (!h || !d) {
    fprintf(stderr, "mksizeclasses: error: cannot open output\n");
    return 1;
  }
  write_header(h);
  write_doc(d);
  if (fclose(h) || fclose(d)) {
    fprintf(stderr, "mksizeclasses: error: write failed\n");
    return 1;
  }
  return 0;
}
