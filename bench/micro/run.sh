#!/usr/bin/env bash
# Reproduce the fast-path figures of docs/allocator.md: instructions per malloc/free
# pair (callgrind) and wall time per pair / per object, for heron, jemalloc, mimalloc
# and glibc, all running the same binaries (only LD_PRELOAD differs; each program
# prints which allocator really served it).
#
#   bench/micro/run.sh [build-dir]      (default: build; configured and built if needed)
#
# Wall time: one discarded warm-up, then RUNS runs with the allocators in round-robin
# order; median, min and max, with a "!" where the spread (max-min)/median exceeds 5 %.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null

RUNS=${RUNS:-5}
PAIRS_ITERS=${PAIRS_ITERS:-20000000}
PRODCONS_OBJECTS=${PRODCONS_OBJECTS:-5000000}
lib=/usr/lib/x86_64-linux-gnu
declare -A preload=(
  [heron]="$PWD/$build/alloc/libheron.so"
  [jemalloc]="$lib/libjemalloc.so.2"
  [mimalloc]="$lib/libmimalloc.so.2"
  [glibc]=""
)
order=(heron jemalloc mimalloc glibc)
pairs="$build/bench/micro/bench_pairs"
prodcons="$build/bench/micro/bench_prodcons"

echo "# heron fast-path figures, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
echo

# Instructions per pair: the difference between two run lengths, so start-up and exit
# cancel out. Includes the benchmark loop itself (about 14 instructions).
collected() { # allocator args...
  local a=$1; shift
  LD_PRELOAD=${preload[$a]} valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
    awk '/Collected/ {print $4}'
}
echo "## instructions per malloc+free pair (callgrind, 16 B..1 KiB, loop included)"
echo
echo "| allocator | immediate | ring |"
echo "|---|---:|---:|"
for a in "${order[@]}"; do
  row="| $a |"
  for pattern in immediate ring; do
    small=$(collected "$a" "$pairs" "$pattern" 100000)
    big=$(collected "$a" "$pairs" "$pattern" 200000)
    row="$row $(( (big - small) / 100000 )) |"
  done
  echo "$row"
done
echo

# Wall time: run a benchmark for every allocator RUNS times, round-robin.
stats() { # values... -> "median (min-max)"
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {
    med = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2;
    flag = (v[NR] - v[1]) / med > 0.05 ? " !" : "";
    printf "%.1f (%.1f-%.1f)%s", med, v[1], v[NR], flag }'
}
wall() { # title cmd...
  local title=$1; shift
  declare -A results=()
  for a in "${order[@]}"; do LD_PRELOAD=${preload[$a]} "$@" >/dev/null; done # warm-up
  for ((r = 0; r < RUNS; r++)); do
    for a in "${order[@]}"; do
      line=$(LD_PRELOAD=${preload[$a]} "$@")
      served=$(echo "$line" | awk '{print $2}')
      if [ "$a" != "$served" ]; then
        echo "run.sh: error: preload of $a did not take effect (served by $served)" >&2
        exit 1
      fi
      results[$a]="${results[$a]:-} $(echo "$line" | awk '{print $4}')"
    done
  done
  echo "| $title | $(for a in "${order[@]}"; do printf '%s | ' "$(stats ${results[$a]})"; done)"
}
echo "## wall time, ns (median of $RUNS, min-max; ! = spread over 5 %)"
echo
echo "| benchmark | $(printf '%s | ' "${order[@]}")"
echo "|---|$(printf -- '---:|%.0s' "${order[@]}")"
wall "pairs immediate, ns/pair" "$pairs" immediate "$PAIRS_ITERS"
wall "pairs ring, ns/pair" "$pairs" ring "$PAIRS_ITERS"
wall "producer/consumer, ns/object" "$prodcons" "$PRODCONS_OBJECTS"
