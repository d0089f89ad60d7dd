#!/usr/bin/env bash
# ci_examples.test.sh — ci/github-actions.yml and ci/gitlab-ci.yml: valid YAML (python3-yaml), the
# shape that matters (a package job the others use, a shard matrix with --shard K/N, a report job that
# merges the shards with `rehearse report merge`, ONE comment/note found by its marker and updated),
# the state cache kept per pull request and base (GitHub) / per target branch (GitLab) in the folder
# rehearse check uses, and per shard by the scenario jobs, every shell block parses (bash -n), and the shard and merge commands, run here as the CI would run
# them (4 shards of a small real suite, then the report step), give one report of the whole suite.
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ci=$REHEARSE_SOURCE_DIR/ci

# the blocks of shell each file runs, one file per block (${{ }} expressions filled in as the runner would)
python3 - "$ci" "$work/blocks" <<'PY' || fail "the CI files' shape"
import os, re, sys, yaml
ci, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
def put(name, text):
    open(os.path.join(out, name), "w").write(text)

gh = yaml.safe_load(open(os.path.join(ci, "github-actions.yml")))
jobs = gh["jobs"]
assert set(jobs) >= {"package", "check", "scenarios", "report"}, list(jobs)
for j in ("check", "scenarios"):
    assert "package" in (jobs[j]["needs"] if isinstance(jobs[j]["needs"], list) else [jobs[j]["needs"]]), j
shards = jobs["scenarios"]["strategy"]["matrix"]["shard"]
assert shards == list(range(1, len(shards) + 1)) and len(shards) > 1, shards
assert set(jobs["report"]["needs"]) >= {"scenarios", "check"}
comment_steps = [s for j in jobs.values() for s in j["steps"] if "updateComment" in str(s.get("with", {}).get("script", ""))]
assert len(comment_steps) == 1, "one comment step"
script = comment_steps[0]["with"]["script"]
assert "startsWith(marker)" in script and "createComment" in script
steps = [s for j in jobs.values() for s in j["steps"]]
assert any("cpack -G DEB" in s.get("run", "") for s in steps), "the package is built with cpack"
assert not any("cmake --build" in s.get("run", "") for j in ("check", "scenarios", "report") for s in jobs[j]["steps"]), \
    "only the package job compiles"
fill = lambda t, k: t.replace("${{ matrix.shard }}", str(k)).replace("${{ strategy.job-total }}", str(len(shards)))
for n, s in enumerate(steps):
    if "run" in s:
        put(f"gh-{n}.sh", re.sub(r"\$\{\{[^}]*\}\}", "X", s["run"]))
shard_step = [s for s in jobs["scenarios"]["steps"] if "--shard" in s.get("run", "")][0]
assert "${{ matrix.shard }}/${{ strategy.job-total }}" in shard_step["run"]
for k in shards:
    put(f"run-gh-shard-{k}.sh", fill(shard_step["run"], k))
report_step = [s for s in jobs["report"]["steps"] if "report merge" in s.get("run", "")][0]
put("run-gh-report.sh", "\n".join(l for l in report_step["run"].splitlines() if not re.match(r"\s*(apt-get|DEBIAN_FRONTEND)", l)))

# the state cache (issue 16) kept between runs: one folder for the cache step and rehearse check; the key per
# pull request on its base, restored for the next push (same key), another pull request on the same base
# (the key less the PR), then the base branch's latest (a moved base: its longest unchanged prefix)
sc = [s for s in jobs["check"]["steps"] if str(s.get("uses", "")).startswith("actions/cache@") and "rehearse-state" in str(s["with"]["key"])]
assert len(sc) == 1, "check keeps the state cache"
gate = [s for s in jobs["check"]["steps"] if "rehearse check" in s.get("run", "")][0]
assert gate["env"]["REHEARSE_CACHE_DIR"] == sc[0]["with"]["path"], (gate["env"], sc[0]["with"])
key = sc[0]["with"]["key"]
for part in ("${{ github.base_ref }}", "${{ steps.base.outputs.sha }}", "${{ github.event.pull_request.number }}"):
    assert part in key, (part, key)
restore = [r.strip() for r in sc[0]["with"]["restore-keys"].splitlines() if r.strip()]
assert len(restore) == 2 and all(key.startswith(r) for r in restore), restore
assert "${{ steps.base.outputs.sha }}" in restore[0] and "pull_request" not in restore[0], restore
assert "${{ steps.base.outputs.sha }}" not in restore[1] and "${{ github.base_ref }}" in restore[1], restore
# the scenario shards keep theirs too: per base branch and shard, restored for the next push and other PRs
ss = [s for s in jobs["scenarios"]["steps"] if str(s.get("uses", "")).startswith("actions/cache@")]
assert len(ss) == 1, "the scenario shards keep the state cache"
runner = [s for s in jobs["scenarios"]["steps"] if "--shard" in s.get("run", "")][0]
assert runner["env"]["REHEARSE_CACHE_DIR"] == ss[0]["with"]["path"], (runner.get("env"), ss[0]["with"])
skey = ss[0]["with"]["key"]
for part in ("${{ github.base_ref }}", "${{ matrix.shard }}", "${{ github.event.pull_request.number }}"):
    assert part in skey, (part, skey)
srestore = [r.strip() for r in ss[0]["with"]["restore-keys"].splitlines() if r.strip()]
assert len(srestore) == 1 and skey.startswith(srestore[0]) and "${{ matrix.shard }}" in srestore[0] and "pull_request" not in srestore[0], srestore

gl = yaml.safe_load(open(os.path.join(ci, "gitlab-ci.yml")))
pkg, chk, scn, rep = (gl[k] for k in ("rehearse-package", "rehearse-check", "rehearse-scenarios", "rehearse-report"))
assert "cpack -G DEB" in str(pkg["script"]) and "rehearse-deb/" in pkg["cache"]["paths"]
for j in (chk, scn):
    assert j["needs"] == ["rehearse-package"]
# the state cache: one per target branch (every push and every merge request on it), the folder rehearse uses
glc = [c for c in chk["cache"] if "rehearse-state" in c["key"]]
assert len(glc) == 1 and glc[0]["key"].endswith("$CI_MERGE_REQUEST_TARGET_BRANCH_NAME") and glc[0].get("when") == "always", chk["cache"]
assert chk["variables"]["REHEARSE_CACHE_DIR"] == "$CI_PROJECT_DIR/" + glc[0]["paths"][0].rstrip("/"), (chk["variables"], glc)
gls = [c for c in scn["cache"] if "rehearse-scenarios" in c["key"]]
assert len(gls) == 1 and gls[0]["key"].endswith("$CI_MERGE_REQUEST_TARGET_BRANCH_NAME-$CI_NODE_INDEX") and gls[0].get("when") == "always", scn["cache"]
assert scn["variables"]["REHEARSE_CACHE_DIR"] == "$CI_PROJECT_DIR/" + gls[0]["paths"][0].rstrip("/"), (scn["variables"], gls)
n = scn["parallel"]
assert isinstance(n, int) and n > 1
assert {d["job"] for d in rep["needs"]} >= {"rehearse-check", "rehearse-scenarios"} and rep["when"] == "always"
assert "$CI_NODE_INDEX/$CI_NODE_TOTAL" in str(scn["script"])
note = [s for s in rep["script"] if "PUT" in s][0]
assert "startswith($m)" in note and "POST" in note
for name, job in gl.items():
    if isinstance(job, dict):
        for part in ("before_script", "script"):
            if part in job:
                put(f"gl-{name}-{part}.sh", "\n".join(job[part]))
put("run-gl-shard.sh", "\n".join(scn["script"]))
put("run-gl-report.sh", "\n".join(s for s in rep["script"] if "report merge" in s))
open(os.path.join(out, "shards"), "w").write(f"{len(shards)} {n}\n")
PY

for f in "$work"/blocks/*.sh; do
  bash -n "$f" 2>"$work/syntax" || fail "$(basename "$f") does not parse: $(cat "$work/syntax")"
done

# the commands themselves, on a real suite of 6 scenarios (one failing), rehearse on PATH
mkdir -p "$work/bin" && ln -s "$REHEARSE_BIN" "$work/bin/rehearse"
export PATH=$work/bin:$PATH SCENARIOS=$work/suite
mkdir -p "$SCENARIOS/mig/20250101000000_init"
printf 'CREATE TABLE "T" ("id" INTEGER PRIMARY KEY);\n' > "$SCENARIOS/mig/20250101000000_init/migration.sql"
for i in 1 2 3 4 5; do
  printf 'scenario "deploy %s"\nmigrations mig\ndeploy\nexpect ledger applied 1\n' "$i" > "$SCENARIOS/s$i.scenario"
done
printf 'scenario "fails"\nmigrations mig\ndeploy\nexpect ledger applied 2\n' > "$SCENARIOS/s6.scenario"
read -r gh_n gl_n < "$work/blocks/shards"

mkdir "$work/gh" "$work/gh/reports" && cd "$work/gh" || exit 1
for k in $(seq 1 "$gh_n"); do
  bash "$work/blocks/run-gh-shard-$k.sh" >/dev/null 2>&1
  [ -s "rehearse-shard-$k.json" ] || fail "GitHub shard $k wrote no report"
  cp "rehearse-shard-$k.json" reports/
done
GITHUB_STEP_SUMMARY=$work/gh/summary.md bash "$work/blocks/run-gh-report.sh" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "GitHub report step: exit $rc (expected 1: a scenario fails)"
[ "$(grep -c '<testcase' rehearse-scenarios.xml)" = 6 ] || fail "GitHub: the merged JUnit has not 6 test cases"
grep -q '^### ❌ rehearse run' rehearse-scenarios.md || fail "GitHub: no merged comment"
grep -q 'rehearse check did not report' rehearse-comment.md || fail "GitHub: the comment does not say check is missing"
[ -s rehearse-scenarios.html ] || fail "GitHub: no HTML"

mkdir "$work/gl" && cd "$work/gl" || exit 1
for k in $(seq 1 "$gl_n"); do
  CI_NODE_INDEX=$k CI_NODE_TOTAL=$gl_n bash "$work/blocks/run-gl-shard.sh" >/dev/null 2>&1
  [ -s "rehearse-shard-$k.json" ] || fail "GitLab shard $k wrote no report"
done
status=0
. "$work/blocks/run-gl-report.sh" >/dev/null 2>&1
[ "$status" -eq 1 ] || fail "GitLab report: status $status (expected 1)"
[ "$(grep -c '<testcase' rehearse-scenarios.xml)" = 6 ] || fail "GitLab: the merged JUnit has not 6 test cases"
xmllint --noout --schema "$REHEARSE_SOURCE_DIR/tests/unit/junit.xsd" rehearse-scenarios.xml 2>/dev/null || fail "GitLab: JUnit not valid"
echo ok
