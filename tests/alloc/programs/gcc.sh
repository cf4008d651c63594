#!/usr/bin/env bash
# gcc.sh: gcc -O2 compiles a generated C program of a few thousand lines with heron
# preloaded (into gcc, cc1, as and ld); the object file must be byte for byte the one gcc
# makes without heron, and the linked program must print the same thing.
. "$(dirname "$0")/lib.sh"
need gcc

src=$tmp/prog.c
{
  echo '#include <stdio.h>'
  echo '#include <string.h>'
  echo 'struct node { struct node *next; unsigned long v; char tag[24]; };'
  for i in $(seq 1 200); do
    cat <<C
static unsigned long f$i(unsigned long x, struct node *n) {
  unsigned long acc = x * ${i}ul + 7;
  for (int k = 0; k < $((i % 13 + 3)); k++) {
    switch ((acc >> k) & 3) {
    case 0: acc ^= acc << $((i % 7 + 1)); break;
    case 1: acc += n ? n->v : $i; break;
    case 2: acc = acc * 2654435761ul + $i; break;
    default: acc -= (unsigned long)strlen(n ? n->tag : "f$i");
    }
  }
  return acc;
}
C
  done
  echo 'int main(void) {'
  echo '  struct node a = {0, 42, "heron"}, b = {&a, 7, "gcc"};'
  echo '  unsigned long s = 1;'
  for i in $(seq 1 200); do echo "  s = f$i(s, $([ $((i % 2)) = 0 ] && echo '&b' || echo 'b.next'));"; done
  printf '  printf("%%lu\\n", s);\n'
  echo '  return 0;'
  echo '}'
} >"$src"

cd "$tmp"
gcc -O2 -c prog.c -o plain.o || fail "gcc failed without heron"
under_heron heron.err gcc -O2 -c prog.c -o heron.o || fail "gcc failed under heron: $(tail -5 heron.err)"
cmp -s plain.o heron.o || fail "the object files differ"
gcc plain.o -o plain && ./plain >plain.out
under_heron link.err gcc heron.o -o heron || fail "linking failed under heron: $(tail -5 link.err)"
./heron >heron.out
[ -s heron.out ] || fail "the program printed nothing"
same plain.out heron.out "the program's output"
served heron.err 50000
