#!/usr/bin/env bash
# tools_check.test.sh — `rehearse check` for dbmate and drizzle repositories in every report format: the
# same check result as Prisma's (one writer per format). dbmate: CONCURRENTLY beside another statement
# (25001 at the statement's line, its hazard, the lock trace of the up section only); drizzle: an entry
# merged with an older journal `when` (its hazard, and the catalog of the upgrade path differs from a
# clean deploy's, pointing at it). JSON read with python3's json, SARIF validated against SARIF 2.1.0
# (tests/unit/sarif-schema-2.1.0.json), JUnit, markdown, html, GitHub annotations by their text.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cli_test.sh" # bin, work, REHEARSE_RUN_DIR, fail
src=${REHEARSE_SOURCE_DIR:?REHEARSE_SOURCE_DIR must point at the source tree}
commit() { git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm "$2" && git -C "$1" tag "$2"; }

# dbmate: v2 adds a transaction:false file with CONCURRENTLY beside an ALTER (25001 at line 3); its down
# section would drop the table: the lock trace must run the up section only
cr="$work/dbmate"; mkdir -p "$cr/db/migrations"
printf -- '-- migrate:up\ncreate table t (id int, v int);\n-- migrate:down\ndrop table t;\n' >"$cr/db/migrations/20240101000000_t.sql"
git -C "$cr" init -q && commit "$cr" v1
printf -- '-- migrate:up transaction:false\nalter table t add column w int;\ncreate index concurrently t_v on t (v);\n-- migrate:down\ndrop table t;\n' \
  >"$cr/db/migrations/20240102000000_two.sql"
commit "$cr" v2

# one check, four writers: the JSON report (--output), the human report (stdout, as --format human writes it),
# GitHub annotations (stderr) and the markdown comment (appended to $GITHUB_STEP_SUMMARY, as --format
# markdown writes it); sarif, junit and html below
out=$(GITHUB_STEP_SUMMARY="$work/c.md" "$bin" check --repo "$cr" --base v1 --head v2 --format json --output "$work/c.json" \
  --github 2>"$work/err"); rc=$?
err=$(cat "$work/err")
[ $rc = 1 ] && grep -q '^rehearse: note: db/migrations at v2 (.*) holds dbmate migrations' <<<"$err" &&
  grep -q '^  tool dbmate: every path deployed as `dbmate migrate` deploys (a transaction per file)$' <<<"$out" &&
  grep -q '^  error   db/migrations/20240102000000_two.sql:3: \[e fails-in-production\] 20240102000000_two.sql fails when deployed after v1 (.*), as `dbmate migrate` runs it in production: SQLSTATE 25001' <<<"$out" &&
  grep -q '^  error   db/migrations/20240102000000_two.sql:1: \[d concurrently-with-other-statements\] ' <<<"$out" &&
  grep -q '^    line 3    create index concurrently t_v on t (v)   \[runs outside a transaction\]$' <<<"$out" &&
  ! grep -q 'drop table' <<<"$out$err" ||
  fail "check of a dbmate repository v1..v2 (human): exit $rc: $out $err"

[ $rc = 1 ] && python3 - "$work/c.json" <<'PY' || fail "check --format json (dbmate): exit $rc: $(cat "$work/c.json") $err"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"] == "dbmate" and d["prisma"] is None and d["profile"] is None, d
assert d["new"] == ["20240102000000_two.sql"], d["new"]
assert "as ONE query" in d["sent_as"]["20240102000000_two.sql"], d["sent_as"]
f = [x for x in d["findings"] if x["code"] == "fails-in-production"]
assert len(f) == 1 and f[0]["file"] == "db/migrations/20240102000000_two.sql" and f[0]["line"] == 3, f
assert "25001" in f[0]["message"] and f[0]["level"] == "error", f
assert d["steps"]["production"]["status"] == "failed" and d["steps"]["history"]["errors"] == 1, d["steps"]
assert d["locks"][0]["migration"] == "20240102000000_two.sql" and len(d["locks"][0]["statements"]) == 2, d["locks"]
PY

grep -q '^### ❌ rehearse check: these migrations would not deploy as they are' "$work/c.md" &&
  grep -q '^| \[20240102000000\\_two\\.sql\](db/migrations/20240102000000_two.sql) | the up section' "$work/c.md" &&
  grep -q 'db/migrations/20240102000000_two.sql#L3) `(e) fails-in-production`' "$work/c.md" ||
  fail "check --format markdown (dbmate): $(cat "$work/c.md")"

grep -q '^::error file=db/migrations/20240102000000_two.sql,line=3,title=rehearse check (e) fails-in-production::' <<<"$err" ||
  fail "check --github (dbmate): $err"

out=$("$bin" check --repo "$cr" --base v1 --head v2 --format sarif --output "$work/c.sarif" 2>&1); rc=$?
[ $rc = 1 ] && python3 - "$src/tests/unit/sarif-schema-2.1.0.json" "$work/c.sarif" <<'PY' || fail "check --format sarif (dbmate): exit $rc: $out $(cat "$work/c.sarif")"
import json, sys, jsonschema
doc = json.load(open(sys.argv[2]))
jsonschema.Draft4Validator(json.load(open(sys.argv[1]))).validate(doc)
res = doc["runs"][0]["results"]
r = [x for x in res if x["ruleId"] == "fails-in-production"][0]
loc = r["locations"][0]["physicalLocation"]
assert loc["artifactLocation"]["uri"] == "db/migrations/20240102000000_two.sql" and loc["region"]["startLine"] == 3, loc
assert any(x["ruleId"] == "concurrently-with-other-statements" for x in res), res
PY

out=$("$bin" check --repo "$cr" --base v1 --head v2 --format junit 2>&1); rc=$?
[ $rc = 1 ] && grep -q '<property name="tool" value="dbmate"/>' <<<"$out" && ! grep -q 'name="prisma\.' <<<"$out" &&
  grep -q '<failure type="error" message="20240102000000_two.sql fails when deployed' <<<"$out" ||
  fail "check --format junit (dbmate): exit $rc: $out"

out=$("$bin" check --repo "$cr" --base v1 --head v2 --format html --output "$work/c.html" 2>&1); rc=$?
[ $rc = 1 ] && grep -q 'fails-in-production' "$work/c.html" || fail "check --format html (dbmate): exit $rc: $out"

# v3: v1 and a file that deploys; v4 edits the file v3 applied (dbmate never runs it again:
# tests/conformance/dbmate "edited after apply") and drops the other: an edited error on its file, the
# catalog difference pointing at it, a removed warning
git -C "$cr" checkout -q v1 -- . && git -C "$cr" rm -q db/migrations/20240102000000_two.sql
printf -- '-- migrate:up\ncreate table ok (id int);\n-- migrate:down\n' >"$cr/db/migrations/20240104000000_ok.sql"
commit "$cr" v3
git -C "$cr" rm -q db/migrations/20240104000000_ok.sql
printf -- '-- migrate:up\ncreate table t (id int, v int, x int);\n-- migrate:down\ndrop table t;\n' >"$cr/db/migrations/20240101000000_t.sql"
commit "$cr" v4
out=$("$bin" check --repo "$cr" --base v3 --head v4 --tool dbmate --format json 2>&1); rc=$?
[ $rc = 1 ] && python3 - <<PY "$out" || fail "check --tool dbmate v3..v4 (edited, removed): exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
f = {x["code"]: x for x in d["findings"]}
assert f["edited"]["file"] == "db/migrations/20240101000000_t.sql" and f["edited"]["level"] == "error", f
assert "never runs the new version" in f["edited"]["message"], f["edited"]
assert f["catalog-differs"]["migration"] == "20240101000000_t.sql" and "edited after apply" in f["catalog-differs"]["message"], f
assert f["removed"]["migration"] == "20240104000000_ok.sql" and f["removed"]["level"] == "warning", f
PY

out=$("$bin" check --repo "$cr" --base v1 --head v1 --tool dbmate --format json 2>&1); rc=$?
[ $rc = 0 ] && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["counts"]=={"error":0,"warning":0,"notice":0} and d["steps"]["catalog"]["status"]=="passed", d' "$out" || fail "check --tool dbmate v1..v1 --format json: exit $rc: $out"

# drizzle: 0002_branch is merged with an older `when`: production passes over it, a clean deploy does not
dr="$work/drizzle"; mkdir -p "$dr/drizzle/meta"
entry() { printf '{"idx":0,"version":"7","when":%s,"tag":"%s","breakpoints":true}' "$2" "$1"; }
echo 'CREATE TABLE "a" ("id" integer);' >"$dr/drizzle/0000_a.sql"
echo 'CREATE TABLE "b" ("id" integer);' >"$dr/drizzle/0001_b.sql"
printf '{"entries":[%s,%s]}\n' "$(entry 0000_a 1700000000000)" "$(entry 0001_b 1700000100000)" >"$dr/drizzle/meta/_journal.json"
git -C "$dr" init -q && commit "$dr" v1
echo 'CREATE TABLE "branch" ("id" integer);' >"$dr/drizzle/0002_branch.sql"
printf 'CREATE TABLE "c" ("id" integer);--> statement-breakpoint\nCREATE INDEX "a_id" ON "a" ("id");\n' >"$dr/drizzle/0003_c.sql"
printf '{"entries":[%s,%s,%s,%s]}\n' "$(entry 0000_a 1700000000000)" "$(entry 0001_b 1700000100000)" \
  "$(entry 0002_branch 1700000050000)" "$(entry 0003_c 1700000200000)" >"$dr/drizzle/meta/_journal.json"
commit "$dr" v2
out=$("$bin" check --repo "$dr" --base v1 --head v2 --tool drizzle --format json 2>&1); rc=$?
[ $rc = 1 ] && python3 - <<PY "$out" || fail "check --tool drizzle --format json: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["tool"] == "drizzle", d
codes = {x["code"]: x for x in d["findings"]}
s = codes["skipped-in-production"]
assert s["file"] == "drizzle/0002_branch.sql" and s["step"] == "d", s
c = codes["catalog-differs"]
assert c["migration"] == "0002_branch" and "- table public.branch" in c["detail"] and "drizzle" not in c["detail"].replace("drizzle-kit", ""), c
assert codes["blocks-writes"]["file"] == "drizzle/0003_c.sql" and codes["blocks-writes"]["line"] == 2, codes["blocks-writes"]
assert "drizzle-kit migrate" in codes["blocks-writes"]["message"], codes["blocks-writes"]
assert [t["migration"] for t in d["locks"]] == ["0003_c"], d["locks"]
PY

# history --tool in every format (the history's writers; human only before): the hazard on its file
# the HTML report says how drizzle-kit runs the traced entries, as the human and Markdown ones do (before: not)
out=$("$bin" check --repo "$dr" --base v1 --head v2 --tool drizzle --format html --output "$work/dr.html" 2>&1); rc=$?
[ $rc = 1 ] && grep -F 'its locks held until the run commits (every pending migration runs in one transaction)' "$work/dr.html" >/dev/null ||
  fail "check --tool drizzle --format html: exit $rc: $out"
out=$("$bin" history --tool drizzle --repo "$dr" --from v1 --to v2 --format json 2>&1); rc=$?
[ $rc = 1 ] && python3 - <<PY "$out" || fail "history --tool drizzle --format json: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["tool"] == "drizzle" and d["prisma"] is None and d["counts"]["hazards"] == 1, d
f = [x for x in d["findings"] if x["hazard"]]
assert [(x["kind"], x["name"], x["file"]) for x in f] == [("skipped-in-production", "0002_branch", "drizzle/0002_branch.sql")], f
PY
"$bin" history --tool drizzle --repo "$dr" --from v1 --to v2 --format sarif >"$work/h.sarif" 2>/dev/null; rc=$?
[ $rc = 1 ] && python3 - "$src/tests/unit/sarif-schema-2.1.0.json" "$work/h.sarif" <<'PY' || fail "history --tool drizzle --format sarif: exit $rc: $(cat "$work/h.sarif")"
import json, sys, jsonschema
doc = json.load(open(sys.argv[2]))
jsonschema.Draft4Validator(json.load(open(sys.argv[1]))).validate(doc)
r = [x for x in doc["runs"][0]["results"] if x["ruleId"] == "skipped-in-production"][0]
assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "drizzle/0002_branch.sql", r
PY
out=$("$bin" history --tool dbmate --repo "$cr" --from v3 --to v4 --format markdown 2>&1); rc=$?
[ $rc = 1 ] && grep -q '^- \*\*hazard\*\* `edited` \[db\\/migrations\\/20240101000000\\_t\\.sql\](db/migrations/20240101000000_t.sql) ' <<<"$out" &&
  grep -q '^- \*\*hazard\*\* `removed` 20240104000000\\_ok\\.sql exists at v3' <<<"$out" ||
  fail "history --tool dbmate --format markdown (edited, removed): exit $rc: $out"

# --rows: the upgrade path filled after base (drizzle's ledger left alone, though named), the trace measured
out=$("$bin" check --repo "$dr" --base v1 --head v2 --tool drizzle --rows a=3000 --rows drizzle.__drizzle_migrations=50 \
  --format json 2>/dev/null); rc=$?
[ $rc = 1 ] && python3 - <<PY "$out" || fail "check --tool drizzle --rows: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
assert [(t["schema"], t["table"], t["rows_inserted"]) for t in d["scale"]["tables"]] == [("public", "a", 3000)], d["scale"]
assert [(t["migration"], t["measured"]) for t in d["locks"]] == [("0003_c", True)], d["locks"]
assert not any("--scale FILE" in (f["detail"] or "") for f in d["findings"]), d["findings"]
PY
# --rows with dbmate: one file's transaction locks 30 tables; the measuring cluster has connections for
# the probes of each (two per table: max_connections=200, as for Prisma); before, dbmate's check ran on
# the clusters' 50 connections and ~10 tables went unprobed ("not-probed")
mr="$work/dbmate-many"; mkdir -p "$mr/db/migrations"
{ echo '-- migrate:up'; for i in $(seq 1 30); do echo "create table t$i (id int);"; done; echo '-- migrate:down'; } \
  >"$mr/db/migrations/20240101000000_t.sql"
git -C "$mr" init -q && commit "$mr" v1
{ echo '-- migrate:up'; for i in $(seq 1 30); do echo "alter table t$i add column f int;"; done; echo '-- migrate:down'; } \
  >"$mr/db/migrations/20240102000000_f.sql"
commit "$mr" v2
out=$("$bin" check --repo "$mr" --base v1 --head v2 --tool dbmate --rows t1=100 --format json 2>/dev/null); rc=$?
[ $rc = 0 ] && python3 - <<PY "$out" || fail "check --tool dbmate --rows, 30 tables in one transaction: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
assert not [f for f in d["findings"] if f["code"] == "not-probed"], [f["message"] for f in d["findings"] if f["code"] == "not-probed"]
(t,) = d["locks"]
assert t["measured"], t
for i, s in enumerate(t["statements"], 1):
    ops = {(w["table"], w["operation"]) for w in s["waits"] if w["blocked"]}
    assert ops == {(f"t{i}", "read"), (f"t{i}", "write")}, (s["line"], s["waits"], s["unprobed"])
PY
# --fill-max: a type change measured on 1000 rows, ESTIMATED past --max-block at production's 4000G: the
# max-block error alone on its line, no access-exclusive warning beside it (before, the tools' check made
# its lock findings before the estimates, so only a measured wait replaced the warning)
er="$work/dbmate-estimate"; mkdir -p "$er/db/migrations"
printf -- '-- migrate:up\ncreate table t (id int, v int);\n-- migrate:down\n' >"$er/db/migrations/20240101000000_t.sql"
git -C "$er" init -q && commit "$er" v1
printf -- '-- migrate:up\nalter table t alter column v type bigint;\n-- migrate:down\n' >"$er/db/migrations/20240102000000_v.sql"
commit "$er" v2
out=$("$bin" check --repo "$er" --base v1 --head v2 --tool dbmate --rows t=4000G --fill-max 1000 --max-block 60min \
  --format json 2>/dev/null); rc=$?
[ $rc = 1 ] && python3 - <<PY "$out" || fail "check --tool dbmate --fill-max, estimate past --max-block: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
at = [(f["code"], f["level"]) for f in d["findings"] if f["file"] == "db/migrations/20240102000000_v.sql" and f["line"] == 2]
assert ("max-block", "error") in at and ("access-exclusive", "warning") not in at, at
PY
# drizzle-kit runs every pending entry in ONE transaction: 0001's ADD COLUMN (catalog only) holds its lock
# while 0002's UPDATE scans a (a sleep in its initplan keeps it far the slower one). The wait on 0001's lock
# is spent on that scan: ESTIMATED (linear in rows: scan) at production's 4000G rows, past --max-block, and
# the finding says the time is 0002's line. Before, the estimate's basis and the detail stopped at 0001's end.
wr="$work/drizzle-run"; mkdir -p "$wr/drizzle/meta"
echo 'CREATE TABLE "a" ("id" integer, "v" integer);' >"$wr/drizzle/0000_a.sql"
printf '{"entries":[%s]}\n' "$(entry 0000_a 1700000000000)" >"$wr/drizzle/meta/_journal.json"
git -C "$wr" init -q && commit "$wr" v1
echo 'ALTER TABLE "a" ADD COLUMN "f" integer;' >"$wr/drizzle/0001_f.sql"
echo 'UPDATE "a" SET "v" = 1 WHERE (SELECT pg_sleep(0.3)) IS NOT NULL;' >"$wr/drizzle/0002_u.sql"
printf '{"entries":[%s,%s,%s]}\n' "$(entry 0000_a 1700000000000)" "$(entry 0001_f 1700000100000)" \
  "$(entry 0002_u 1700000200000)" >"$wr/drizzle/meta/_journal.json"
commit "$wr" v2
out=$("$bin" check --repo "$wr" --base v1 --head v2 --tool drizzle --rows a=4000G --fill-max 1000 --max-block 60min \
  --format json 2>/dev/null); rc=$?
[ $rc = 1 ] && python3 - <<PY "$out" || fail "check --tool drizzle, a lock held across files: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
(f0001,) = [t for t in d["locks"] if t["migration"] == "0001_f"]
ws = f0001["statements"][0]["waits"]
assert any(w["blocked"] and w["estimate"] and w["estimate"]["linear_in_rows"] == "scan" for w in ws), ws
(mb,) = [f for f in d["findings"] if f["code"] == "max-block" and f["migration"] == "0001_f"]
assert "the wait is mostly line 1 of drizzle/0002_u.sql (UPDATE)" in mb["detail"], mb
PY
# --pg LIST for other tools: tests/cli/pg_versions_check.test.sh (dbmate)
# the pull request that adds the tool: its folder does not exist at base, everything is new (exit 2 before)
nr="$work/new"; mkdir -p "$nr"; echo hi >"$nr/README"; git -C "$nr" init -q && commit "$nr" v1
mkdir -p "$nr/db/migrations"; printf -- '-- migrate:up\ncreate table a (id int);\n-- migrate:down\n' >"$nr/db/migrations/20240101000000_a.sql"
commit "$nr" v2
out=$("$bin" check --repo "$nr" --base v1 --head v2 --no-color 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^  0 migration(s) at base, 1 at head, 1 new$' <<<"$out" || fail "check when base has no folder: exit $rc: $out"
out=$("$bin" plan --repo "$nr" --rev v2 --base v1 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^20240101000000_a.sql: the up section' <<<"$out" || fail "plan --base without the folder: exit $rc: $out"
out=$("$bin" history --repo "$nr" --from v1 --to v2 --tool dbmate 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^  the folder does not exist at v1 (.*): every migration counts as added$' <<<"$out" || fail "history --from without the folder: exit $rc: $out"
out=$("$bin" check --repo "$nr" --base v1 --head v2 --migrations db/nosuch --tool dbmate 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'db/nosuch' <<<"$out" || fail "check of a folder absent at head too: exit $rc: $out"

# a dbmate file renamed with its applied version runs nothing in production (dbmate keys its ledger by the
# version): the lock trace leaves it out and traces the really new file only (before: both traced, and a
# lock finding for the renamed file production never runs)
rr="$work/renamed"; mkdir -p "$rr/db/migrations"
printf -- '-- migrate:up\ncreate table a (id int);\n-- migrate:down\n' >"$rr/db/migrations/20240101000000_a.sql"
printf -- '-- migrate:up\nalter table a alter column id set not null;\n-- migrate:down\n' >"$rr/db/migrations/20240102000000_nn.sql"
git -C "$rr" init -q && commit "$rr" v1
git -C "$rr" mv db/migrations/20240102000000_nn.sql db/migrations/20240102000000_not_null.sql
printf -- '-- migrate:up\nalter table a add column b int;\n-- migrate:down\n' >"$rr/db/migrations/20240103000000_b.sql"
commit "$rr" v2
out=$("$bin" check --repo "$rr" --base v1 --head v2 --tool dbmate --format json 2>/dev/null); rc=$?
[ $rc = 0 ] && python3 - "$out" <<'PY' || fail "check of a dbmate file renamed with its version: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
assert [t["migration"] for t in d["locks"]] == ["20240103000000_b.sql"], d["locks"]
assert not [f for f in d["findings"] if f.get("migration") == "20240102000000_not_null.sql" and f["step"] == "f"], d["findings"]
# not new to production (before: "3 at head, 2 new"), and (d) says why (before: nothing)
assert d["new"] == ["20240103000000_b.sql"], d["new"]
assert [(f["level"], f["code"]) for f in d["findings"] if f["step"] == "d"] == [("notice", "renamed")], d["findings"]
PY
# renamed AND edited with its version kept: dbmate finds the version applied and never runs the new bytes
# (tests/conformance/dbmate case 10). A hazard `renamed`; before: the old name `removed`, the new one `added`
# and counted new
git -C "$rr" rm -q db/migrations/20240102000000_not_null.sql
printf -- '-- migrate:up\nalter table a alter column id set not null;\ncreate index on a (id);\n-- migrate:down\n' >"$rr/db/migrations/20240102000000_nn_idx.sql"
commit "$rr" v3
out=$("$bin" history --repo "$rr" --from v2 --to v3 --tool dbmate --format json 2>&1); rc=$?
[ $rc = 1 ] && python3 - "$out" <<'PY' || fail "history of a dbmate file renamed and edited with its version: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
got = [(f["kind"], f["hazard"], f["name"], f.get("other")) for f in d["findings"]]
assert got == [("renamed", True, "20240102000000_nn_idx.sql", "20240102000000_not_null.sql")], got
assert "never runs the new bytes" in d["findings"][0]["message"], d["findings"][0]
PY
out=$("$bin" check --repo "$rr" --base v2 --head v3 --tool dbmate --format json 2>/dev/null); rc=$?
[ $rc = 1 ] && python3 - "$out" <<'PY' || fail "check of a dbmate file renamed and edited with its version: exit $rc: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["new"] == [], d["new"]
assert [(f["level"], f["code"]) for f in d["findings"] if f["step"] == "d"] == [("error", "renamed")], d["findings"]
PY
[ -z "$(ls "$REHEARSE_RUN_DIR")" ] || fail "a cluster was left in the run folder: $(ls "$REHEARSE_RUN_DIR")"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: check of other tools in every format"
