#!/usr/bin/env bash
# pg_versions_check.test.sh — `check --pg 14,15`: the gate on each version, per version in every format, and
# the migration that deploys on 15 only (NULLS NOT DISTINCT) is an error naming both versions; production's
# version from --scale's statistics against the check's; a version that is not there is exit 2 before
# anything runs. (`run --pg`: pg_versions.test.sh.)
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d -p /dev/shm rh-pgchk.XXXXXX 2>/dev/null || mktemp -d /tmp/rh-pgchk.XXXXXX) # tmpfs: a data directory copied per cluster
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR="$work/run"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" && rh_tie_folder "$work" # removed even after a SIGKILL
unset REHEARSE_PG
fail() { echo "FAIL: $*" >&2; exit 1; }
"$REHEARSE_BIN" pg install 14 >/dev/null 2>&1 || { echo "SKIP: PostgreSQL 14 cannot be installed here"; exit 77; }
sys=$("$REHEARSE_BIN" pg list | awk '/\(pg_config\)|\(installed package\)/ {split($1, v, "."); print v[1]; exit}')
[ "$sys" = 15 ] || { echo "SKIP: the system PostgreSQL is $sys, not 15"; exit 77; }

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
    grep -q '<failure type="postgres"' <<<"$(grep -A1 'name="\[pg 14\] PostgreSQL' "$work/c.xml")" &&
    grep -q '</testcase>' <<<"$(grep -A1 'name="\[pg 15\] PostgreSQL' "$work/c.xml")" || fail "check junit: $(cat "$work/c.xml")"
"$REHEARSE_BIN" check --base main --pg 14,15 --format markdown --output "$work/c.md" >/dev/null 2>&1
grep -q 'PostgreSQL 14\.[0-9]* (--pg 14): failed' <<<"$(tr -d '\\' < "$work/c.md")" && grep -q 'differs-across-versions' "$work/c.md" ||
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
# check --tool dbmate --pg 14,15: the same gate on each version for another tool (exit 2 before: "one --pg
# version at a time"); its file that needs 15 is the error naming both, json as every format
d="$work/dbmate"; mkdir -p "$d/db/migrations"
git init -q -b main "$d" && cd "$d" || exit 1
git config user.email t@example.invalid && git config user.name t
printf -- '-- migrate:up\ncreate table users (id int primary key, email text);\n-- migrate:down\n' >db/migrations/20250101000000_init.sql
git add -A && git commit -qm init
printf -- '-- migrate:up\ncreate unique index users_email on users (email) nulls not distinct;\n-- migrate:down\n' >db/migrations/20250201000000_email.sql
out=$("$REHEARSE_BIN" check --no-color --base main --tool dbmate --pg 14,15 2>&1); rc=$?
[ $rc -eq 1 ] || fail "check --tool dbmate --pg 14,15: exit $rc, expected 1: $out"
grep -q "PostgreSQL 14\.[0-9]* (--pg 14): failed, [1-9][0-9]* error(s); 15\.[0-9]* (--pg 15): passed" <<<"$out" ||
    fail "check --tool dbmate --pg 14,15: versions: $out"
grep -q "\[e differs-across-versions\] 20250201000000_email.sql deploys on PostgreSQL 15\.[0-9]* but fails on PostgreSQL 14\." <<<"$out" ||
    fail "check --tool dbmate --pg 14,15: no differs-across-versions: $out"
"$REHEARSE_BIN" check --base main --tool dbmate --pg 14,15 --format json --output "$work/d.json" >/dev/null 2>&1
python3 - "$work/d.json" <<'PY' || fail "check --tool dbmate --pg 14,15 json: $(cat "$work/d.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"] == "dbmate", d["tool"]
assert [p["asked"] for p in d["postgres_versions"]] == ["14", "15"], d.get("postgres_versions")
PY
echo "pg_versions_check: ok"
