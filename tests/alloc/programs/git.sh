#!/usr/bin/env bash
# git.sh: git init, add and commit 400 generated files, a second commit that changes a
# quarter of them, then log, fsck and gc, with and without heron. With fixed names and
# dates the commit ids depend only on the content, so both runs must print the same ones.
. "$(dirname "$0")/lib.sh"
need git

export HOME=$tmp GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=heron GIT_AUTHOR_EMAIL=heron@example.invalid
export GIT_COMMITTER_NAME=heron GIT_COMMITTER_EMAIL=heron@example.invalid
export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'

# The files: 400 of 1 to 800 lines in 20 directories, made once and copied to each run.
mkdir -p "$tmp/files"
(cd "$tmp/files" && mkdir d{0..19} && awk 'BEGIN {
  for (i = 1; i <= 400; i++) {
    f = "d" (i % 20) "/f" i ".txt"
    for (j = i; j <= i * 3; j++) print "line of file " i ": " j > f
    close(f)
  }
}')

# session DIR RUN: the whole session in DIR, each git command run through RUN (a command
# prefix), appending git's stderr to DIR.err; prints what the commands print.
session() {
  local dir=$1 run=$2 i
  mkdir -p "$dir"
  cp -r "$tmp/files" "$dir/repo"
  cd "$dir/repo"
  $run git init -q -b main . 2>>"$dir.err"
  $run git add . 2>>"$dir.err"
  $run git commit -q -m "400 files" 2>>"$dir.err"
  for i in $(seq 1 4 400); do echo "changed $i" >>"d$((i % 20))/f$i.txt"; done
  $run git commit -q -a -m "a quarter changed" 2>>"$dir.err"
  $run git log --format='%H %s' 2>>"$dir.err"
  $run git ls-files 2>>"$dir.err" | wc -l
  $run git fsck --full --no-progress 2>>"$dir.err" && echo "fsck ok"
  $run git gc -q 2>>"$dir.err"
  $run git count-objects -v 2>>"$dir.err" | grep -E '^(count|in-pack):'
  cd - >/dev/null
}

with_heron() { LD_PRELOAD=$lib HERON_STATS_AT_EXIT=1 "$@"; }

session "$tmp/plain" "" >"$tmp/plain.out" || fail "git failed without heron: $(tail -5 "$tmp/plain.err")"
session "$tmp/heron" with_heron >"$tmp/heron.out" ||
  fail "git failed under heron: $(grep -v '^ ' "$tmp/heron.err" | tail -5)"
grep -q 'fsck ok' "$tmp/heron.out" || fail "git fsck failed under heron"
[ "$(grep -c ' 400 files$\| a quarter changed$' "$tmp/heron.out")" -eq 2 ] || fail "git log lacks the commits"
same "$tmp/plain.out" "$tmp/heron.out" "git's output (commit ids, files, objects)"
served "$tmp/heron.err" 5000
