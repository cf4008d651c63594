#!/usr/bin/env bash
# sqlite.sh: sqlite3 runs a real workload (tables of 100,000 and 20,000 rows made with
# recursive CTEs, an index, a join, aggregates, an update and a delete) on a database file;
# its output must be the same with and without heron, which must have served the allocations.
. "$(dirname "$0")/lib.sh"
need sqlite3

cat >"$tmp/work.sql" <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, price REAL, note TEXT);
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO item SELECT i, i % 20000, 'item-' || i, (i * 7919 % 10007) / 100.0,
                        substr(hex(randomblob(0)) || printf('%0*d', i % 200, i), 1, 300)
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
INSERT INTO grp SELECT i, 'group-' || (i * 31 % 20000) FROM n;
CREATE INDEX item_grp ON item(grp, price);
SELECT count(*), sum(price), min(name), max(name), sum(length(note)) FROM item;
SELECT g.label, count(*), round(sum(i.price), 2), max(length(i.note))
  FROM item i JOIN grp g ON g.id = i.grp
  GROUP BY g.label ORDER BY sum(i.price) DESC, g.label LIMIT 10;
UPDATE item SET price = price * 2, note = note || name WHERE grp % 7 = 3;
DELETE FROM item WHERE id % 11 = 0;
SELECT grp % 10, count(*), round(avg(price), 4), group_concat(DISTINCT length(note) % 10)
  FROM item GROUP BY grp % 10 ORDER BY 1;
SELECT count(*) FROM item a JOIN item b ON a.grp = b.grp AND a.id < b.id WHERE a.grp < 500;
PRAGMA integrity_check;
SQL

sqlite3 "$tmp/plain.db" <"$tmp/work.sql" >"$tmp/plain.out" || fail "sqlite3 failed without heron"
under_heron "$tmp/heron.err" sqlite3 "$tmp/heron.db" <"$tmp/work.sql" >"$tmp/heron.out" ||
  fail "sqlite3 failed under heron: $(tail -5 "$tmp/heron.err")"
grep -qx ok "$tmp/heron.out" || fail "integrity_check did not say ok"
same "$tmp/plain.out" "$tmp/heron.out" "the query output"
served "$tmp/heron.err" 100000
