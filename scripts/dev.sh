#!/usr/bin/env bash
# The README's two Quick start commands, and what CI runs.
#   scripts/dev.sh main   install what is missing, build, run the main job
#   scripts/dev.sh test   install what is missing, build, run the whole test suite
#                         (release build, then AddressSanitizer+UBSan, then ThreadSanitizer)
# Extra arguments after `test` go to `meson test` (for example a suite: --suite unit).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12 packages the build, the tests (the bench suite's smoke test among them) and
# the main job need.
packages=(
  meson ninja-build pkg-config gcc g++ clang libclang-rt-14-dev
  libcmocka-dev libbsd-dev
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev libgc-dev
  python3 sqlite3 git procps
  redis-server redis-tools
)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# configure DIR [meson options...]: set up a build directory once, reuse it after.
configure() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
  ninja -C "$dir"
}

main_job() {
  configure build
  mkdir -p out
  build/sim/gcsim --gogc=100 --svg=out/heap.svg sim/traces/python-json.trace
  echo "dev.sh: picture of heap, goal, live heap and RSS in out/heap.svg" >&2
}

test_job() {
  configure build
  meson test -C build --print-errorlogs --num-processes 2 "$@"
  configure build-asan -Db_sanitize=address,undefined -Db_lundef=false
  meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite slow "$@"
  configure build-tsan -Db_sanitize=thread -Db_lundef=false
  meson test -C build-tsan --print-errorlogs --num-processes 2 --no-suite slow "$@"
}

case "${1:-}" in
  main) shift; install_missing; main_job "$@" ;;
  test) shift; install_missing; test_job "$@" ;;
  *) echo "usage: scripts/dev.sh main|test [meson test arguments]" >&2; exit 2 ;;
esac
