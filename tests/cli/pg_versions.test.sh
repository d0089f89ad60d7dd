#!/usr/bin/env bash
# pg_versions.test.sh — `run --pg 14,15`: the suite on each version, results named per version in every
# format; a migration that needs 15 (NULLS NOT DISTINCT) passes on 15 and fails on 14. A version that is
# not there stops the run before anything runs (exit 2). `check --pg 14,15` likewise: per version in
# every format, and the migration that deploys on 15 only is an error naming both versions.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d /tmp/rh-pgver.XXXXXX)
chmod 755 "$work"
kept=
trap '[ -n "$kept" ] && "$REHEARSE_BIN" clusters --stop "$kept" >/dev/null 2>&1; rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR="$work/run"
unset REHEARSE_PG
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # the kept cluster goes with this script, however it ends
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
"$REHEARSE_BIN" run --pg 15 --format json dump.scenario 2>/dev/null | grep -q '"postgres_note": *"production runs PostgreSQL 14.9' ||
    fail "json: no postgres_note: $("$REHEARSE_BIN" run --pg 15 --format json dump.scenario 2>&1)"
"$REHEARSE_BIN" run --pg 15 --format tap dump.scenario 2>/dev/null | grep -q '^# note: production runs PostgreSQL 14.9' || fail "tap: no note"
"$REHEARSE_BIN" run --pg 15 --format junit dump.scenario 2>/dev/null | grep -q 'note: production runs PostgreSQL 14.9' || fail "junit: no note"
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
# check --pg 14,15: the gate on each; the migration that needs 15 is an error naming both versions, every format
git init -q -b main "$work/repo" && cd "$work/repo" || exit 1
git config user.email t@example.invalid && git config user.name t
m=prisma/migrations
mkdir -p $m/20250101000000_init
printf 'CREATE TABLE "User" ("id" INTEGER PRIMARY KEY, "email" TEXT);\n' > $m/20250101000000_init/migration.sql
git add -A && git commit -qm init
mkdir -p $m/20250201000000_email_unique
printf 'CREATE UNIQUE INDEX "User_email_key" ON "User" ("email") NULLS NOT DISTINCT;\n' > $m/20250201000000_email_unique/migration.sql
out=$("$REHEARSE_BIN" check --no-color --base main --pg 14,15 2>&1); rc=$?
[ $rc -eq 1 ] || fail "check --pg 14,15: exit $rc, expected 1: $out"
grep -q "PostgreSQL 14\.[0-9]* (--pg 14): failed, [1-9][0-9]* error(s); 15\.[0-9]* (--pg 15): passed" <<<"$out" ||
    fail "check: no per-version line: $out"
grep -q "error .*20250201000000_email_unique/migration.sql:1: \[e differs-across-versions\] 20250201000000_email_unique deploys on PostgreSQL 15\.[0-9]* but fails on PostgreSQL 14\.[0-9]*" <<<"$out" ||
    fail "check: no error naming both versions: $out"
grep -q "\[pg 14\] " <<<"$out" || fail "check: 14's own findings not named: $out"
grep -q "\[f blocks-writes\] \[pg 15\] CREATE UNIQUE INDEX" <<<"$out" || fail "check: 15's lock finding not named: $out"
"$REHEARSE_BIN" check --base main --pg 14,15 --format json --output "$work/c.json" >/dev/null 2>&1
python3 - "$work/c.json" <<'PY' || fail "check json: $(cat "$work/c.json")"
import json, sys
r = json.load(open(sys.argv[1]))
v = r["postgres_versions"]
assert [p["asked"] for p in v] == ["14", "15"], v
assert v[0]["deployed"] is False and v[0]["errors"] >= 1 and v[1]["deployed"] is True and v[1]["errors"] == 0, v
assert r["postgres"].startswith("14."), r["postgres"]
assert any(f["code"] == "differs-across-versions" and f["level"] == "error" for f in r["findings"]), r["findings"]
PY
"$REHEARSE_BIN" check --base main --pg 14,15 --format junit --output "$work/c.xml" >/dev/null 2>&1
grep -q 'testcase classname="rehearse.check" name="\[pg 14\] PostgreSQL 14\.[0-9]*">' "$work/c.xml" &&
    grep -A1 'name="\[pg 14\] PostgreSQL' "$work/c.xml" | grep -q '<failure type="postgres"' &&
    grep -A1 'name="\[pg 15\] PostgreSQL' "$work/c.xml" | grep -q '</testcase>' || fail "check junit: $(cat "$work/c.xml")"
"$REHEARSE_BIN" check --base main --pg 14,15 --format markdown --output "$work/c.md" >/dev/null 2>&1
tr -d '\\' < "$work/c.md" | grep -q 'PostgreSQL 14\.[0-9]* (--pg 14): failed' && grep -q 'differs-across-versions' "$work/c.md" ||
    fail "check markdown: $(cat "$work/c.md")"
"$REHEARSE_BIN" check --base main --pg 14,15 --format sarif --output "$work/c.sarif" >/dev/null 2>&1
python3 - "$work/c.sarif" <<'PY' || fail "check sarif: $(cat "$work/c.sarif")"
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
assert "(--pg 14): failed" in run["properties"]["postgres"], run.get("properties")
assert any(r["ruleId"] == "differs-across-versions" for r in run["results"]), run["results"]
PY
"$REHEARSE_BIN" check --base main --pg 14,15 --format html --output "$work/c.html" >/dev/null 2>&1
grep -q '<p id="postgres">PostgreSQL 14\.[0-9]* (--pg 14): failed' "$work/c.html" || fail "check html: no versions"
# check --scale: production's version from the statistics (server_version_num) against the check's
printf '{"rehearse_stats":1,"server_version_num":140009,"tables":[{"schema":"public","name":"User","rows":10,"table_bytes":8192,"index_bytes":8192,"dead_tuples":0,"columns":[]}]}' > "$work/stats.json"
out=$("$REHEARSE_BIN" check --no-color --base main --pg 15 --scale "$work/stats.json" 2>&1)
grep -q "warning \[a postgres-version-differs\] production runs PostgreSQL 14.9 (--scale's statistics); this check ran on 15\.[0-9]*: --pg 14 rehearses on production's major" <<<"$out" ||
    fail "check --scale (14.9) on 15: no warning: $out"
out=$("$REHEARSE_BIN" check --no-color --base main --pg 14 --scale "$work/stats.json" 2>&1)
grep -q "postgres-version-differs" <<<"$out" && fail "check --scale (14.9) on 14: a warning: $out"
out=$("$REHEARSE_BIN" check --no-color --base main --pg 15,63 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "cannot find PostgreSQL 63" <<<"$out" && ! grep -q "clean deploy" <<<"$out" ||
    fail "check --pg 15,63: exit $rc: $out"
echo "pg_versions: ok"
