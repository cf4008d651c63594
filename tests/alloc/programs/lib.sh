# lib.sh: what the real-program tests share. Sourced by each tests/alloc/programs/*.sh, which
# meson runs as `SCRIPT LIBHERON SANITIZING`:
#   LIBHERON    the path of libheron.so, loaded with LD_PRELOAD
#   SANITIZING  true in sanitizer builds, where the test is skipped (a sanitizer runtime must
#               come first in the process, so heron cannot be preloaded into these programs)
# Exit codes are meson's: 0 pass, 1 fail, 77 skip.
set -eu

name=$(basename "$0" .sh)
lib=${1:?usage: $0 LIBHERON SANITIZING}
sanitizing=${2:-false}

skip() { echo "$name: skip: $*"; exit 77; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"; }

[ "$sanitizing" = true ] && skip "sanitizer build"
[ -f "$lib" ] || fail "$lib does not exist"
case $lib in /*) ;; *) lib=$PWD/$lib ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# under_heron ERRFILE CMD...: run CMD with heron preloaded and its statistics report written
# at exit, to ERRFILE with the rest of CMD's stderr. Every process CMD starts inherits both.
under_heron() {
  local err=$1; shift
  LD_PRELOAD=$lib HERON_STATS_AT_EXIT=1 "$@" 2>"$err"
}

# allocations ERRFILE: the largest allocation count among the heron reports in ERRFILE
# (a program that runs others leaves one report per process); 0 if there is none.
allocations() {
  awk '$1 == "allocations" && $2 ~ /^[0-9]+$/ && $2 > max { max = $2 } END { print max + 0 }' "$1"
}

# served ERRFILE MIN: heron's reports show that one process made at least MIN allocations.
served() {
  local n
  n=$(allocations "$1")
  grep -q '^heron [0-9.]*: memory' "$1" || fail "no heron statistics report on stderr; stderr was:
$(head -c 2000 "$1")"
  [ "$n" -ge "$2" ] || fail "heron served $n allocations, expected at least $2"
  echo "$name: heron served $n allocations in the busiest process"
}

# same FILE1 FILE2 WHAT: the two outputs are identical.
same() {
  cmp -s "$1" "$2" || fail "$3 differs with heron:
$(diff "$1" "$2" | head -20)"
}
