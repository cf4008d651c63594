"""pyalloc.py: the suite's allocation-heavy Python program (run with PYTHONMALLOC=malloc,
so every object goes through the allocator under test).

    python3 pyalloc.py ROUNDS

Each round builds a few hundred thousand short-lived objects the way ordinary Python
code does (dicts of records, lists of strings, tuples, class instances), round-trips
them through JSON, sorts and groups them, then drops them. It prints one
`result name=python objects=N check=C` line; check is a checksum of what it computed.
"""

import json
import sys


class Record:
    __slots__ = ("key", "name", "tags", "score")

    def __init__(self, key, name, tags, score):
        self.key = key
        self.name = name
        self.tags = tags
        self.score = score


def one_round(seed):
    records = [Record(i, f"item-{seed}-{i}", [f"t{i % 7}", f"g{i % 13}"], (i * 7919 + seed) % 1000)
               for i in range(20000)]
    table = {r.name: {"key": r.key, "tags": r.tags, "score": r.score} for r in records}
    text = json.dumps(table)
    back = json.loads(text)
    groups = {}
    for name, row in back.items():
        groups.setdefault(row["score"] % 50, []).append((row["score"], name))
    total = 0
    for k in sorted(groups):
        rows = sorted(groups[k])
        total += rows[0][0] + len(rows) + len("".join(n[-3:] for _, n in rows[:100]))
    words = " ".join(r.name for r in records).split()
    total += len(set(words)) + len(text)
    return total, len(records) * 6


def main(argv):
    if len(argv) != 2:
        print("usage: pyalloc.py ROUNDS", file=sys.stderr)
        return 2
    try:
        rounds = float(argv[1])
    except ValueError:
        print(f"pyalloc.py: error: bad round count '{argv[1]}'", file=sys.stderr)
        return 2
    check, objects = 0, 0
    for seed in range(max(1, round(rounds))):
        c, n = one_round(seed)
        check = (check * 31 + c) % (1 << 61)
        objects += n
    print(f"result name=python objects={objects} check={check}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
