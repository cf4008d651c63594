#!/usr/bin/env bash
# run.sh: builds the reader's libFuzzer target with clang and runs it for a bounded time
# on a copy of the committed seed corpus. Registered in meson's 'fuzz' suite.
#   run.sh SOURCE_ROOT BUILD_DIR SECONDS SANITIZING
# Exit 77 (skipped) when clang or libFuzzer is missing, and in sanitizer builds: the
# target carries its own AddressSanitizer, so running it once, in the normal build, is
# enough. Crashes are kept in BUILD_DIR/fuzz-artifacts/.
set -euo pipefail
src=$1 build=$2 seconds=$3 sanitizing=$4
if [ "$sanitizing" = true ]; then
  echo "skip: the fuzz target brings its own sanitizers; it runs in the normal build"
  exit 77
fi
cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cc" ]; then
  echo "skip: clang is not installed"
  exit 77
fi
out="$build/fuzz"
mkdir -p "$out" "$build/fuzz-artifacts"
if ! "$cc" -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$src" \
    "$src/tests/sim/fuzz/fuzz_reader.c" "$src/sim/trace_read.c" "$src/sim/crc32c.c" \
    -o "$out/fuzz_reader" 2> "$out/build.log"; then
  if grep -q -e "fuzzer" -e "libclang_rt" "$out/build.log"; then
    cat "$out/build.log"
    echo "skip: libFuzzer is not available (libclang-rt-14-dev)"
    exit 77
  fi
  cat "$out/build.log"
  exit 1
fi
corpus="$out/corpus"
rm -rf "$corpus"
cp -r "$src/tests/sim/fuzz/corpus" "$corpus"
# -max_len: a few chunks' worth; -timeout: a hang fails the run
exec "$out/fuzz_reader" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
  -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/" "$corpus"
