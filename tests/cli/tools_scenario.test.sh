#!/usr/bin/env bash
# tools_scenario.test.sh — scenarios with `tool dbmate|drizzle|command "..."`: deploy/status/repair are the
# tool's own commands, outcomes and `expect ledger|status|finding` read the tool's ledger through its
# reader; an assertion that does not hold fails (exit 1); what a tool cannot do (an unknown tool, a verb
# it lacks, a fault or a ledger check in command mode) is an error at FILE:LINE before any cluster (exit 2);
# a scenario naming no tool on another tool's folder is an error at its deploy naming the tool (exit 2).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cli_test.sh" # bin, work, REHEARSE_RUN_DIR, fail
command -v psql >/dev/null || PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin | tail -1)"

cd "$work"
m=dbm/db/migrations; mkdir -p "$m"
printf -- '-- migrate:up\ncreate table a (id int);\n\n-- migrate:down\ndrop table a;\n' >"$m/20240101000000_a.sql"
printf -- '-- migrate:up transaction:false\ncreate index concurrently a_id on a (id);\nselect 1;\n\n-- migrate:down\ndrop index a_id;\n' >"$m/20240102000000_idx.sql"
d=drz/drizzle; mkdir -p "$d/meta" drz2/drizzle/meta
printf 'CREATE TABLE "users" (\n\t"id" serial PRIMARY KEY NOT NULL\n);\n' >"$d/0000_init.sql"
printf 'ALTER TABLE "users" ADD COLUMN "name" text;' >"$d/0001_name.sql"
printf 'CREATE TABLE "branch_t" ("id" integer);' >"$d/0002_branch.sql"
entry() { printf '{"idx":%s,"version":"7","when":%s,"tag":"%s","breakpoints":true}' "$1" "$2" "$3"; }
printf '{"version":"7","dialect":"postgresql","entries":[%s,%s]}\n' "$(entry 0 1700000000000 0000_init)" \
    "$(entry 1 1700000100000 0001_name)" >"$d/meta/_journal.json"
cp "$d"/*.sql drz2/drizzle/
printf '{"version":"7","dialect":"postgresql","entries":[%s,%s,%s]}\n' "$(entry 0 1700000000000 0000_init)" \
    "$(entry 1 1700000100000 0001_name)" "$(entry 2 1700000050000 0002_branch)" >drz2/drizzle/meta/_journal.json

cat >dbmate.scenario <<'EOF'
scenario "dbmate: CONCURRENTLY with another statement, then rollback"
migrations dbm/db/migrations
tool dbmate
deploy => fails 20240102000000_idx.sql sqlstate 25001
expect output contains "Applied: 20240102000000_idx.sql"
expect ledger applied 20240101000000_a.sql
expect ledger absent 20240102000000_idx.sql
expect ledger rows 1
expect status pending 1 20240102000000_idx.sql
status => exit 0
expect output contains "Pending: 1"
snapshot after_deploy
repair rollback
expect output contains "Rolled back: 20240101000000_a.sql"
expect ledger rows 0
expect table a absent
expect catalog != snapshot after_deploy
sql "create table a (id int)"
expect catalog = snapshot after_deploy
repair rollback => exit 2
expect output contains "can't rollback: no migrations have been applied"
EOF
cat >drizzle.scenario <<'EOF'
scenario "drizzle: an entry merged with an older when is skipped"
tool drizzle
migrations drz/drizzle
deploy
expect ledger rows 2
expect ledger applied 0001_name
expect ledger checksum 0001_name matches
migrations drz2/drizzle
deploy => ok
expect finding skipped 0002_branch
expect ledger absent 0002_branch
expect status pending 1 0002_branch
expect table branch_t absent
EOF
cat >command.scenario <<'EOF'
scenario "command: the team's own deploy script, dbmate's ledger"
migrations dbm/db/migrations
tool command "test -f 20240101000000_a.sql && psql -X -q -v ON_ERROR_STOP=1 -c 'create table s (id int)' && echo done in $PGDATABASE" ledger dbmate
deploy
expect output contains "done in"
expect table s present
sql "create table schema_migrations (version varchar primary key); insert into schema_migrations values ('20240101000000')"
expect ledger applied 20240101000000_a.sql
expect status pending 1 20240102000000_idx.sql
tool command "echo broken >&2; exit 3"
deploy => exit 3
expect output contains "broken"
EOF
out=$("$bin" run --no-color dbmate.scenario drizzle.scenario command.scenario 2>&1); rc=$?
[ $rc = 0 ] || fail "tool scenarios: exit $rc: $out"
[ "$(grep -c '^PASS' <<<"$out")" = 3 ] || fail "3 scenarios should pass: $out"

# run --trace-locks models the tool's transactions as check does: drizzle-kit runs every pending file in ONE
# transaction, so 0001's lock on a is still held while 0002 runs (listed there too, "transaction": "run");
# dbmate commits each file. Before, the trace committed after every file: no "transaction", 0002 held b only.
mkdir -p drz3/drizzle/meta drz4/drizzle/meta dbm2/db/migrations
printf 'CREATE TABLE "a" ("id" integer);--> statement-breakpoint\nCREATE TABLE "b" ("id" integer);\n' >drz3/drizzle/0000_ab.sql
printf '{"version":"7","dialect":"postgresql","entries":[%s]}\n' "$(entry 0 1700000000000 0000_ab)" >drz3/drizzle/meta/_journal.json
cp drz3/drizzle/0000_ab.sql drz4/drizzle/
printf 'ALTER TABLE "a" ADD COLUMN "note" text;' >drz4/drizzle/0001_a.sql
printf 'ALTER TABLE "b" ADD COLUMN "note" text;' >drz4/drizzle/0002_b.sql
printf '{"version":"7","dialect":"postgresql","entries":[%s,%s,%s]}\n' "$(entry 0 1700000000000 0000_ab)" \
    "$(entry 1 1700000100000 0001_a)" "$(entry 2 1700000200000 0002_b)" >drz4/drizzle/meta/_journal.json
printf -- '-- migrate:up\ncreate table a (id int);\ncreate table b (id int);\n-- migrate:down\n' >dbm2/db/migrations/20240101000000_ab.sql
printf -- '-- migrate:up\nalter table a add column note text;\n-- migrate:down\n' >dbm2/db/migrations/20240102000000_a.sql
printf -- '-- migrate:up\nalter table b add column note text;\n-- migrate:down\n' >dbm2/db/migrations/20240103000000_b.sql
printf 'tool drizzle\nmigrations drz3/drizzle\ndeploy\nmigrations drz4/drizzle\ndeploy\n' >trace_drizzle.scenario
printf 'tool dbmate\nmigrations dbm2/db/migrations\nsql "create table a (id int); create table b (id int); create table schema_migrations (version varchar primary key); insert into schema_migrations values (\x2720240101000000\x27)"\ndeploy\n' >trace_dbmate.scenario
"$bin" run --trace-locks --format json --output trace.json trace_drizzle.scenario trace_dbmate.scenario >trace.out 2>&1 ||
    fail "run --trace-locks of drizzle and dbmate: exit $?: $(cat trace.out)"
python3 - trace.json <<'PY' || fail "run --trace-locks JSON: $(cat trace.json)"
import json, sys
r = json.load(open(sys.argv[1]))
def traces(scenario):
    sc = next(s for s in r["scenarios"] if s["path"].endswith(scenario))
    return {t["migration"]: t for st in sc["steps"] for t in st.get("locks", [])}
def held(t):
    return {(l["relation"], l["mode"]) for l in t["held"]}
d = traces("trace_drizzle.scenario")
assert d["0001_a"]["transaction"] == "run" and d["0002_b"]["transaction"] == "run", d
assert held(d["0001_a"]) == {("a", "AccessExclusiveLock")}, d["0001_a"]
assert held(d["0002_b"]) == {("a", "AccessExclusiveLock"), ("b", "AccessExclusiveLock")}, d["0002_b"]
m = traces("trace_dbmate.scenario")
assert m["20240102000000_a.sql"]["transaction"] == "file", m
assert held(m["20240103000000_b.sql"]) == {("b", "AccessExclusiveLock")}, m["20240103000000_b.sql"]
PY
# the HTML page says it too (before: only the JSON's "transaction": "run"); not for dbmate's file transactions
"$bin" run --trace-locks --format html --output trace_drizzle.html trace_drizzle.scenario >trace.out 2>&1 ||
    fail "run --trace-locks --format html (drizzle): exit $?: $(cat trace.out)"
"$bin" run --trace-locks --format html --output trace_dbmate.html trace_dbmate.scenario >trace.out 2>&1 ||
    fail "run --trace-locks --format html (dbmate): exit $?: $(cat trace.out)"
n=$(grep -o 'held until the run commits (every pending migration runs in one transaction)' trace_drizzle.html | wc -l)
[ "$n" -ge 2 ] || fail "run --trace-locks HTML (drizzle): the run's transaction said $n time(s): $(cat trace_drizzle.html)"
if grep -F 'held until the run commits' trace_dbmate.html >/dev/null; then fail "run --trace-locks HTML (dbmate): a run transaction"; fi

# restore ledger under dbmate and drizzle: the header names the tool's columns, the tool writes the rows
cat >restore.scenario <<'EOF'
scenario "restore ledger: dbmate's and drizzle's rows"
migrations dbm/db/migrations
tool dbmate
restore ledger <<CSV
version
20240101000000_a.sql
CSV
expect ledger applied 20240101000000_a.sql
expect ledger rows 1
status
expect output contains "Pending: 1"
tool drizzle
migrations drz/drizzle
restore ledger <<CSV
hash,created_at
=,0000_init
CSV
expect ledger applied 0000_init
expect ledger checksum 0000_init matches
expect query "select created_at from drizzle.__drizzle_migrations" = "1700000000000"
EOF
out=$("$bin" run --no-color restore.scenario 2>&1); rc=$?
[ $rc = 0 ] || fail "restore ledger under dbmate/drizzle: exit $rc: $out"
printf 'migrations drz/drizzle\ntool drizzle\nrestore ledger <<CSV\nhash,created_at\n=,0009_nope\nCSV\n' >restore_bad.scenario
out=$("$bin" run --no-color restore_bad.scenario 2>&1); rc=$?
[ $rc = 2 ] && grep -qF "restore ledger restore_bad.scenario:5: record 2: created_at '0009_nope' is neither a journal \`when\` nor a tag at the current checkout" <<<"$out" ||
    fail "restore ledger with an unknown drizzle tag: exit $rc: $out"

# an assertion on the tool's ledger that does not hold fails the scenario (exit 1)
sed 's/^expect ledger rows 1$/expect ledger rows 2/' dbmate.scenario >wrong.scenario
out=$("$bin" run --no-color wrong.scenario 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'wrong.scenario:8' <<<"$out" && grep -q '1 ledger row(s), expected 2' <<<"$out" ||
    fail "a wrong ledger count should fail at line 8: $rc $out"
# a failure's tool output is labelled with the tool that printed it, in every format a person reads
# (before: "prisma output" over dbmate's and the command's text)
printf 'migrations dbm/db/migrations\ntool dbmate\ndeploy\n' >label_dbmate.scenario
printf 'migrations dbm/db/migrations\ntool command "echo broken >&2; exit 3"\ndeploy\n' >label_command.scenario
out=$("$bin" run --no-color label_dbmate.scenario label_command.scenario 2>&1); rc=$?
[ $rc = 1 ] && grep -qF "  dbmate output:" <<<"$out" && grep -qF "  the command's output:" <<<"$out" &&
  ! grep -qi "prisma output" <<<"$out" || fail "human report: the tool output's label: exit $rc: $out"
"$bin" run --format json --output label.json label_dbmate.scenario label_command.scenario >label.out 2>&1
for f in markdown html junit; do
    "$bin" report merge --format $f label.json >label.$f 2>&1; rc=$? # 1: the scenarios failed
    [ $rc = 1 ] || fail "report merge --format $f: exit $rc: $(cat label.$f)"
done
grep -qF "<summary>dbmate output</summary>" label.markdown && grep -qF "<summary>The command's output</summary>" label.markdown &&
  grep -qF "<h4>dbmate output</h4>" label.html && grep -qF "dbmate output:" label.junit &&
  ! grep -qi "prisma output" label.markdown label.html label.junit ||
    fail "markdown/HTML/JUnit: the tool output's label: $(cat label.markdown label.html label.junit)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert sorted(s["failure"]["output_tool"] for s in r["scenarios"]) == ["command", "dbmate"], r' label.json ||
    fail "JSON: output_tool: $(cat label.json)"
sed 's/^deploy => ok$/deploy => fails 0002_branch/' drizzle.scenario >wrong2.scenario
out=$("$bin" run --no-color wrong2.scenario 2>&1); rc=$?
[ $rc = 1 ] || fail "drizzle's skipped entry does not fail the deploy: $rc $out"

# what the tool cannot do: errors at FILE:LINE, exit 2, no cluster started
cat >cannot.scenario <<'EOF'
migrations dbm/db/migrations
tool dbmat
tool drizzle
status
repair rollback
tool dbmate
resolve --applied x
deploy => error P3009
tool command "true"
fault terminate at 1
deploy
expect ledger rows 0
tool dbmate 2.36
EOF
out=$("$bin" run --no-color cannot.scenario 2>&1); rc=$?
[ $rc = 2 ] || fail "cannot.scenario: exit $rc (want 2): $out"
for want in "cannot.scenario:2:1: error: no migration tool 'dbmat'" "known tools: prisma, dbmate, drizzle, command" \
            "cannot.scenario:4:1: error: tool drizzle has no command \`status\`" \
            "cannot.scenario:5:1: error: tool drizzle has no repair command \`rollback\`" \
            "it has no repair command: repair drizzle.__drizzle_migrations with sql" \
            "cannot.scenario:7:1: error: tool dbmate has no command \`resolve --applied\`" \
            "cannot.scenario:8:1: error: => error P3009 is a code of prisma, not of tool dbmate" \
            "cannot.scenario:10:1: error: tool command runs another program: rehearse cannot stop it at a migration" \
            "cannot.scenario:12:1: error: tool command keeps no ledger rehearse can read" \
            "cannot.scenario:13:1: error: tool dbmate takes no version"; do
    grep -qF -- "$want" <<<"$out" || fail "cannot.scenario: lacks '$want': $out"
done
printf 'migrations dbm/db/migrations\ntool dbmate\ndeploy => any\nexpect ledger checksum 20240101000000_a.sql matches\n' >cannot2.scenario
out=$("$bin" run --no-color cannot2.scenario 2>&1); rc=$?
[ $rc = 2 ] && grep -qF "cannot2.scenario:4:1: error: tool dbmate's ledger schema_migrations keeps no checksum" <<<"$out" ||
    fail "expect ledger checksum under dbmate: exit $rc: $out"
# (the `prisma VERSION` step is `tool prisma VERSION`: line 9's resolve is Prisma's again, not drizzle's)
printf 'migrations dbm/db/migrations\ntool dbmate\nexpect ledger failed 20240101000000_a.sql\nexpect ledger order 20240101000000_a.sql 20240102000000_idx.sql\ntool drizzle\nexpect ledger rolled-back 0\nexpect ledger order 0000_init 0001_name\nprisma 6.19\nresolve --applied 0000_init\n' >cannot4.scenario
out=$("$bin" run --no-color cannot4.scenario 2>&1); rc=$?
[ $rc = 2 ] && grep -qF "cannot4.scenario:3:1: error: tool dbmate's ledger schema_migrations keeps applied rows only, never a failed one" <<<"$out" &&
  grep -qF "cannot4.scenario:4:1: error: tool dbmate's ledger schema_migrations does not record the order files were applied in" <<<"$out" &&
  grep -qF "cannot4.scenario:6:1: error: tool drizzle's ledger drizzle.__drizzle_migrations keeps applied rows only, never a rolled-back one" <<<"$out" &&
  ! grep -q "cannot4.scenario:[79]" <<<"$out" || fail "ledger states and order a tool does not keep: exit $rc: $out"
printf 'migrations dbm/db/migrations\ntool command "true"\nrestore ledger <<CSV\nversion\nCSV\n' >cannot3.scenario
out=$("$bin" run --no-color cannot3.scenario 2>&1); rc=$?
[ $rc = 2 ] && grep -qF "cannot3.scenario:3:1: error: tool command keeps no ledger rehearse can write rows of" <<<"$out" ||
    fail "restore ledger in command mode without a ledger: exit $rc: $out"
# `prisma VERSION` is `tool prisma VERSION` written short: a version Prisma's profiles cannot read is refused
# before a cluster starts, at its line, in the words as written (before: a setup error after the cluster started)
printf 'migrations dbm/db/migrations\nprisma 6.19.3x\ndeploy\n' >short.scenario
out=$("$bin" run --no-color short.scenario 2>&1); rc=$?
[ $rc = 2 ] && grep -qF "short.scenario:2:1: error: prisma 6.19.3x: cannot read a Prisma version from '6.19.3x'" <<<"$out" ||
    fail "prisma VERSION with an unreadable version: exit $rc: $out"
# a scenario that names no tool, on another tool's folder: the default tool would find "No migration
# found" and pass with nothing deployed (as it did before); an error at the step naming the tool to put
# first. A `checkout` before the `tool` step is fine (it reads ahead only).
mkdir -p gr && cp -r dbm/db gr/ && git -C gr init -q && git -C gr add . &&
  git -C gr -c user.name=t -c user.email=t@t commit -qm one && git -C gr tag v1
mkdir -p fly && echo 'create table f (id int);' >fly/V1__init.sql
printf 'repo gr\ncheckout v1\ndeploy\n' >notool.scenario
printf 'migrations fly\ndeploy\n' >notool2.scenario
printf 'repo gr\ncheckout v1\ntool dbmate\ndeploy => fails 20240102000000_idx.sql sqlstate 25001\nexpect ledger rows 1\n' >later.scenario
out=$("$bin" run --no-color notool.scenario notool2.scenario later.scenario 2>&1); rc=$?
[ $rc = 2 ] && grep -qF "at notool.scenario:3: deploy" <<<"$out" &&
  grep -qF "db/migrations at v1 ($(git -C gr rev-parse --short=7 v1)) holds dbmate migrations (a VERSION_name.sql file with a -- migrate:up line): a scenario names its tool: put \`tool dbmate\` before this step" <<<"$out" &&
  grep -qF "at notool2.scenario:2: deploy" <<<"$out" && grep -qF "V1__init.sql is none of theirs" <<<"$out" &&
  grep -qF "(in a scenario: \`tool NAME\`, or \`tool command \"CMD\"\`)" <<<"$out" &&
  grep -q "^PASS .*later.scenario" <<<"$out" && grep -qF "1 passed, 0 failed, 2 errors" <<<"$out" ||
    fail "a scenario naming no tool on another tool's folder: exit $rc: $out"
[ -z "$(ls -A "$REHEARSE_RUN_DIR")" ] ||
    fail "a cluster folder is left in the run folder: $(ls -A "$REHEARSE_RUN_DIR")"

[ $failures = 0 ] && echo "ok: tool scenarios" || exit 1
