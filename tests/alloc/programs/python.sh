#!/usr/bin/env bash
# python.sh: python3 with PYTHONMALLOC=malloc (so every object goes through malloc) runs a
# script that builds and drops dicts, lists, strings and tuples; its checksum must be the
# same with and without heron, and heron must have served millions of allocations.
. "$(dirname "$0")/lib.sh"

# The system python3, not a version manager's shim (a shell script that would be the first
# process under heron).
py=/usr/bin/python3
[ -x "$py" ] || { need python3; py=$(command -v python3); }

cat >"$tmp/work.py" <<'PY'
import hashlib, json, random

random.seed(12345)
h = hashlib.sha256()
for rnd in range(3):
    d = {}
    for i in range(60000):
        key = "k%d-%s" % (i, "x" * (i % 37))
        d[key] = [j * rnd for j in range(i % 23)] + [str(i)] * (i % 5)
    rows = sorted(d.items(), key=lambda kv: (len(kv[1]), kv[0]))
    h.update(json.dumps(rows[::97]).encode())
    words = [("%x" % random.getrandbits(64)) * random.randint(1, 9) for _ in range(50000)]
    sets = {w[:3]: set(w) for w in words}
    h.update(",".join(sorted(sets)).encode())
    tree = None
    for i in range(20000):
        tree = (i, tree) if i % 3 else (tree, str(i), {i: tree})
    del d, rows, words, sets, tree
print(h.hexdigest())
PY

PYTHONMALLOC=malloc "$py" "$tmp/work.py" >"$tmp/plain.out" || fail "python3 failed without heron"
PYTHONMALLOC=malloc under_heron "$tmp/heron.err" "$py" "$tmp/work.py" >"$tmp/heron.out" ||
  fail "python3 failed under heron: $(tail -5 "$tmp/heron.err")"
[ -s "$tmp/plain.out" ] || fail "no checksum"
same "$tmp/plain.out" "$tmp/heron.out" "the checksum"
served "$tmp/heron.err" 1000000
