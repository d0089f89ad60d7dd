#!/usr/bin/env bash
# pg_versions.test.sh — `run --pg 14,15`: the suite on each version, results named per version in every
# format; a migration that needs 15 (NULLS NOT DISTINCT) passes on 15 and fails on 14. A version that is
# not there stops the run before anything runs (exit 2).
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d /tmp/rh-pgver.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR="$work/run"
unset REHEARSE_PG
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
[ $rc -eq 0 ] && grep -q "note: the restored dump is from PostgreSQL 14.9 (production); this rehearsal ran on 15\.[0-9]* (--pg 14" <<<"$out" ||
    fail "no mismatch note: exit $rc: $out"
"$REHEARSE_BIN" run --pg 15 --format json dump.scenario 2>/dev/null | grep -q '"postgres_note": *"the restored dump is from PostgreSQL 14.9' ||
    fail "json: no postgres_note: $("$REHEARSE_BIN" run --pg 15 --format json dump.scenario 2>&1)"
"$REHEARSE_BIN" run --pg 15 --format tap dump.scenario 2>/dev/null | grep -q '^# note: the restored dump is from PostgreSQL 14.9' || fail "tap: no note"
"$REHEARSE_BIN" run --pg 15 --format junit dump.scenario 2>/dev/null | grep -q 'note: the restored dump is from PostgreSQL 14.9' || fail "junit: no note"
out=$("$REHEARSE_BIN" run --no-color --pg 14 dump.scenario 2>&1)
grep -q "note:" <<<"$out" && fail "a note on the dump's own major: $out"

out=$("$REHEARSE_BIN" run --no-color --pg 15,63 v.scenario 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "cannot find PostgreSQL 63" <<<"$out" && ! grep -q "^PASS" <<<"$out" ||
    fail "a missing version: exit $rc: $out"
out=$("$REHEARSE_BIN" check --repo "$REHEARSE_SOURCE_DIR/examples/basic" --base HEAD --pg 14,15 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "check runs on one PostgreSQL version" <<<"$out" || fail "check --pg 14,15: exit $rc: $out"
echo "pg_versions: ok"
