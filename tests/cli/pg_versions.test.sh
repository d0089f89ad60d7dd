#!/usr/bin/env bash
# pg_versions.test.sh — `run --pg 14,15`: the suite on each version, results named per version in every
# format; a migration that needs 15 (NULLS NOT DISTINCT) passes on 15 and fails on 14. A version that is
# not there stops the run before anything runs (exit 2). `check --pg 14,15`: pg_versions_check.test.sh
# (a test of its own, so that ctest -j2 runs the two halves side by side).
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d -p /dev/shm rh-pgver.XXXXXX 2>/dev/null || mktemp -d /tmp/rh-pgver.XXXXXX) # tmpfs: a data directory copied per cluster
chmod 755 "$work"
kept=
trap '[ -n "$kept" ] && "$REHEARSE_BIN" clusters --stop "$kept" >/dev/null 2>&1; rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR="$work/run"
unset REHEARSE_PG
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # the kept cluster and the folder go with this script, however it ends
rh_tie_folder "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
"$REHEARSE_BIN" pg install 14 >/dev/null 2>&1 || { echo "SKIP: PostgreSQL 14 cannot be installed here"; exit 77; }
sys=$("$REHEARSE_BIN" pg list | awk '/\(pg_config\)|\(installed package\)/ {split($1, v, "."); print v[1]; exit}')
[ "$sys" = 15 ] || { echo "SKIP: the system PostgreSQL is $sys, not 15"; exit 77; }
cd "$work" || exit 1
mkdir -p migs/20250101000000_init
printf 'CREATE TABLE t (a int);\nCREATE UNIQUE INDEX t_a ON t (a) NULLS NOT DISTINCT;\n' > migs/20250101000000_init/migration.sql
printf 'scenario "needs 15"\nmigrations migs\ndeploy\nexpect query "select count(*) from pg_indexes where indexname = '"'"'t_a'"'"'" = 1\n' > v.scenario

out=$("$REHEARSE_BIN" run --no-color --pg 14,15 v.scenario 2>&1); rc=$?
[ $rc -eq 1 ] || fail "exit $rc, expected 1 (fails on 14): $out"
grep -q "^FAIL .*\[pg 14\] needs 15" <<<"$out" && grep -q "^PASS .*\[pg 15\] needs 15" <<<"$out" ||
    fail "not reported per version: $out"
"$REHEARSE_BIN" run --pg 14,15 --format junit --output "$work/r.xml" v.scenario 2>/dev/null
grep -q 'testcase name="\[pg 14\] needs 15"' r.xml && grep -q 'testcase name="\[pg 15\] needs 15"' r.xml || fail "junit: $(cat r.xml)"
"$REHEARSE_BIN" run --pg 14,15 --format json --output "$work/r.json" v.scenario 2>/dev/null
grep -q '"\[pg 14\] needs 15"' r.json && grep -q '"\[pg 15\] needs 15"' r.json || fail "json: $(cat r.json)"
"$REHEARSE_BIN" run --pg 14,15 --format tap --output "$work/r.tap" v.scenario 2>/dev/null
grep -q '^not ok 1 .*\[pg 14\] needs 15' r.tap && grep -q '^ok 2 .*\[pg 15\] needs 15' r.tap || fail "tap: $(cat r.tap)"

# production's version from a restored dump's header: a rehearsal on another major says so, in every format
cat > dump.scenario <<'SCN'
scenario "from a 14 dump"
restore schema <<SQL
--
-- PostgreSQL database dump
--

-- Dumped from database version 14.9
-- Dumped by pg_dump version 14.9

CREATE TABLE public.t (a integer);
SQL
expect query "select count(*) from t" = 0
SCN
out=$("$REHEARSE_BIN" run --no-color --pg 15 dump.scenario 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "note: production runs PostgreSQL 14.9 (the restored dump's header); this rehearsal ran on 15\.[0-9]*: --pg 14 rehearses" <<<"$out" ||
    fail "no mismatch note: exit $rc: $out"
out=$("$REHEARSE_BIN" run --pg 15 --format json dump.scenario 2>/dev/null) && grep -q '"postgres_note": *"production runs PostgreSQL 14.9' <<<"$out" ||
    fail "json: no postgres_note: $("$REHEARSE_BIN" run --pg 15 --format json dump.scenario 2>&1)"
out=$("$REHEARSE_BIN" run --pg 15 --format tap dump.scenario 2>/dev/null) && grep -q '^# note: production runs PostgreSQL 14.9' <<<"$out" || fail "tap: no note"
out=$("$REHEARSE_BIN" run --pg 15 --format junit dump.scenario 2>/dev/null) && grep -q 'note: production runs PostgreSQL 14.9' <<<"$out" || fail "junit: no note"
out=$("$REHEARSE_BIN" run --no-color --pg 14 dump.scenario 2>&1)
grep -q "note:" <<<"$out" && fail "a note on the dump's own major: $out"

# postgres VERSION in the scenario: runs there without --pg; skipped by a --pg of another major
printf 'scenario "pinned to 14"\npostgres 14\nmigrations migs\ndeploy\nexpect query "select count(*) from pg_indexes where indexname = '"'"'t_a'"'"'" = 1\n' > pin.scenario
out=$("$REHEARSE_BIN" run --no-color pin.scenario 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "^FAIL .*pinned to 14" <<<"$out" && grep -q 'syntax error at or near "NULLS"' <<<"$out" ||
    fail "postgres 14: not run on 14: exit $rc: $out"
out=$("$REHEARSE_BIN" run --pg 14 --format json pin.scenario 2>/dev/null)
grep -q '"postgres": *"14\.' <<<"$out" || fail "postgres 14 + --pg 14: json: $out"
out=$("$REHEARSE_BIN" run --no-color --pg 14,15 pin.scenario 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "^FAIL .*\[pg 14\] pinned to 14" <<<"$out" && grep -q "^SKIP .*\[pg 15\] pinned to 14" <<<"$out" &&
    grep -q "the scenario runs on PostgreSQL 14 (postgres 14, line 2), not on --pg 15" <<<"$out" ||
    fail "postgres 14 under --pg 14,15: exit $rc: $out"
sed -i 's/^postgres 14$/postgres 63/' pin.scenario
out=$("$REHEARSE_BIN" run --no-color pin.scenario 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "cannot find PostgreSQL 63 (asked by the scenario's \`postgres 63\` (pin.scenario:2))" <<<"$out" &&
    grep -q "rehearse pg install 63" <<<"$out" || fail "postgres 63: exit $rc: $out"

# SHOW server_version of --database-url against --pg / REHEARSE_PG: the same note, on stderr
out=$("$REHEARSE_BIN" deploy --migrations-dir migs --pg 14 --keep 2>&1)
url=$(grep -o "postgresql://[^ ]*" <<<"$out" | head -1)
kept=$(grep -o 'clusters --stop [^`]*' <<<"$out" | cut -d' ' -f3)
rh_tie_cluster "$kept"
[ -n "$url" ] && [ -n "$kept" ] || fail "deploy --keep: no url: $out"
out=$("$REHEARSE_BIN" status --migrations-dir migs --database-url "$url" --pg 15 2>&1)
grep -q "^rehearse: note: production runs PostgreSQL 14\.[0-9]* (SHOW server_version of --database-url); --pg asks for 15: --pg 14 rehearses on production's major" <<<"$out" ||
    fail "--database-url on 14, --pg 15: no note: $out"
out=$(REHEARSE_PG=15 "$REHEARSE_BIN" status --migrations-dir migs --database-url "$url" 2>&1)
grep -q "note: production runs PostgreSQL 14\.[0-9]* (SHOW server_version of --database-url); REHEARSE_PG asks for 15" <<<"$out" ||
    fail "--database-url on 14, REHEARSE_PG=15: no note: $out"
out=$(REHEARSE_PG=14 "$REHEARSE_BIN" status --migrations-dir migs --database-url "$url" 2>&1)
grep -q "note: production runs" <<<"$out" && fail "a note on the same major: $out"
"$REHEARSE_BIN" clusters --stop "$kept" >/dev/null && kept=

out=$("$REHEARSE_BIN" run --no-color --pg 15,63 v.scenario 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "cannot find PostgreSQL 63" <<<"$out" && ! grep -q "^PASS" <<<"$out" ||
    fail "a missing version: exit $rc: $out"
echo "pg_versions: ok"
