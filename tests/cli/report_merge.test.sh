#!/usr/bin/env bash
# report_merge.test.sh — `rehearse report merge`: a suite run as two shards (`--shard 1/2`, `2/2`,
# JSON each) merged gives the report one run of the whole suite gives (same scenarios, order,
# statuses, totals, exit code), in every format (JUnit valid against the schema, TAP read by prove,
# the HTML page with the failure); a scenario in two reports, a report that is not JSON, and JSON that
# is not a report are usage errors naming the file (and the line).
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

s=$work/suite
mkdir -p "$s/mig/20250101000000_init"
printf 'CREATE TABLE "T" ("id" INTEGER PRIMARY KEY);\n' > "$s/mig/20250101000000_init/migration.sql"
for i in 1 2 3 4 5; do
  printf 'scenario "deploy %s"\nmigrations mig\ndeploy\nexpect ledger applied 1\n' "$i" > "$s/s$i.scenario"
done
printf 'scenario "expects two rows"\nmigrations mig\ndeploy\nexpect ledger applied 2\n' > "$s/s6-fails.scenario"
printf 'scenario "later"\nskip "not yet"\n' > "$s/s7-skip.scenario"

"$REHEARSE_BIN" run --format json --output "$work/all.json" "$s" 2>/dev/null; all_rc=$?
"$REHEARSE_BIN" run --shard 1/2 --format json --output "$work/shard1.json" "$s" 2>/dev/null
"$REHEARSE_BIN" run --shard 2/2 --format json --output "$work/shard2.json" "$s" 2>/dev/null
[ $all_rc -eq 1 ] || fail "the whole suite: exit $all_rc (expected 1)"

"$REHEARSE_BIN" report merge --format json --output "$work/merged.json" "$work/shard2.json" "$work/shard1.json"; rc=$?
[ $rc -eq $all_rc ] || fail "merge: exit $rc, the whole suite's run: $all_rc"
python3 - "$work/all.json" "$work/merged.json" "$work/shard1.json" <<'PY' || fail "merged report differs from the whole run"
import json, sys
a, m, s1 = (json.load(open(p)) for p in sys.argv[1:])
key = lambda d: [(x["path"], x["status"], (x.get("failure") or {}).get("message")) for x in d["scenarios"]]
assert 0 < len(s1["scenarios"]) < len(a["scenarios"]), "the shard split nothing"
assert key(a) == key(m), (key(a), key(m))
for k in ("total", "passed", "failed", "errors", "skipped", "exit_code"):
    assert a["summary"][k] == m["summary"][k], k
assert all("steps" in x for x in m["scenarios"] if x["status"] != "skip")
PY

# every format from the merge
"$REHEARSE_BIN" report merge --format junit --output "$work/merged.xml" "$work/shard1.json" "$work/shard2.json"
xmllint --noout --schema "$REHEARSE_SOURCE_DIR/tests/unit/junit.xsd" "$work/merged.xml" 2>/dev/null || fail "JUnit not valid"
[ "$(grep -c '<testcase' "$work/merged.xml")" = 7 ] || fail "JUnit: not 7 test cases"
"$REHEARSE_BIN" report merge --format tap "$work/shard1.json" "$work/shard2.json" > "$work/merged.tap"
prove --exec cat "$work/merged.tap" >/dev/null 2>&1; [ $? -ne 0 ] || fail "prove passed a suite with a failure"
grep -q '^not ok 6 - expects two rows' "$work/merged.tap" || fail "TAP: $(cat "$work/merged.tap")"
"$REHEARSE_BIN" report merge --format html --output "$work/merged.html" "$work/shard1.json" "$work/shard2.json"
grep -q 'rehearse run: 1 failed, 0 error(s)' "$work/merged.html" || fail "HTML verdict"
grep -q 'expect ledger applied 2' "$work/merged.html" || fail "HTML: no failing step"
summary=$work/summary.md
GITHUB_STEP_SUMMARY=$summary "$REHEARSE_BIN" report merge --format markdown "$work/shard1.json" "$work/shard2.json" > "$work/merged.md"
grep -q '^### ❌ rehearse run' <<<"$(head -1 "$work/merged.md")" || fail "markdown: $(head -3 "$work/merged.md")"
cmp -s "$work/merged.md" "$summary" || fail "the step summary is not the comment"
human=$("$REHEARSE_BIN" report merge "$work/shard1.json" "$work/shard2.json") # exit 1: the suite has a failure
grep -q '^7 scenarios: 5 passed, 1 failed, 0 errors, 1 skipped' <<<"$human" || fail "human summary line: $human"

# bad input: usage errors (exit 2) that name the file and what was expected
out=$("$REHEARSE_BIN" report merge "$work/shard1.json" "$work/shard1.json" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'is in two reports' <<<"$out" || fail "a shard given twice: exit $rc: $out"
printf '{"summary": {},\n "scenarios": [\n  {"path": "a", ]}\n' > "$work/broken.json"
out=$("$REHEARSE_BIN" report merge "$work/broken.json" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "broken.json:3: not JSON" <<<"$out" || fail "broken JSON: exit $rc: $out"
printf '{"summary": {}, "scenarios": [{"path": "x.scenario", "status": "passed"}]}\n' > "$work/wrong.json"
out=$("$REHEARSE_BIN" report merge "$work/wrong.json" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'wrong.json: scenario 1: x.scenario: expected "status": "pass"' <<<"$out" || fail "bad status: exit $rc: $out"
# numbers no rehearse writes (converting them to an integer was undefined behaviour, found by fuzz_report_json)
printf '{"summary": {"jobs": 1e30}, "scenarios": []}\n' > "$work/jobs.json"
out=$("$REHEARSE_BIN" report merge "$work/jobs.json" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'jobs.json: summary: "jobs" must be a whole number' <<<"$out" || fail "jobs 1e30: exit $rc: $out"
printf '{"summary": {}, "scenarios": [{"path": "x.scenario", "status": "fail", "failure": {"line": -3}}]}\n' > "$work/line.json"
out=$("$REHEARSE_BIN" report merge "$work/line.json" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'x.scenario: "signal", "steps_run", "steps_total" and the failure' <<<"$out" || fail "line -3: exit $rc: $out"
"$REHEARSE_BIN" report merge --format yaml "$work/shard1.json" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--format yaml"
"$REHEARSE_BIN" report merge >/dev/null 2>&1; [ $? -eq 2 ] || fail "no reports"
echo ok
