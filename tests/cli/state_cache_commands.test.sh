#!/usr/bin/env bash
# state_cache_commands.test.sh — every command that deploys a known set on a fresh cluster uses the
# deployed-state cache (docs/state-cache.md) and prints what a fresh deploy prints:
#  - `snapshot --rev` (breederhq, recipe): --no-cache, cold (publishes), warm (hit): the same bytes; the
#    warm one reads the catalog kept with the state and starts no server;
#  - `deploy --rev` resuming a cached prefix: Prisma's stdout and stderr, the ledger minus ids/times the same;
#  - `diff rev:A rev:B` warm == --no-cache;
#  - `run`: a scenario's first deploy starts from a state; the report equals a --no-cache run's;
#  - dbmate's `deploy --rev` resuming a cached prefix, drizzle's only a whole run's (one transaction per
#    run: a prefix is not part of it): stdout (dbmate's durations aside) as --no-cache's;
#  - `bench check-cache --tool dbmate|drizzle` runs (the warm check took base from the cache), command: exit 2;
#  - a one-byte edit of a migration is a miss; --no-cache, REHEARSE_NO_CACHE=1, --superuser and a tool
#    whose deploy cannot be resumed (command mode) never use or publish a state.
# ctest sets REHEARSE_NO_CACHE=1 for every test: this one unsets it and uses its own cache folder.
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}"
unset REHEARSE_NO_CACHE
# on tmpfs where there is one: the test copies data directories into and out of the cache (~30 MB each),
# which takes seconds a copy on a loaded machine's disk
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
chmod 755 "$work" # the server account (rehearse runs as root here) must reach the run folder
export REHEARSE_CACHE_DIR=$work/cache REHEARSE_RUN_DIR=$work/run
trap 'rm -rf "$work"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # a kept cluster and the work folder go with this script, however it ends
rh_tie_folder "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
states() { ls "$REHEARSE_CACHE_DIR/states" 2>/dev/null | grep -vc '^\.'; }
note='come from the state cache'

"$REHEARSE_SOURCE_DIR/scripts/make-fixtures.sh" "$work/fx" breederhq recipe vina shopdb teamapp >/dev/null 2>&1 || fail "make-fixtures.sh"

# snapshot --rev: --no-cache (publishes nothing), cold (publishes), warm (hit): the same catalog
for f in breederhq recipe; do # usasset and vina: test_state_cache compares them at the engine level
    cd "$work/fx/$f" || fail "no fixture $f"
    before=$(states)
    "$REHEARSE_BIN" snapshot --rev HEAD --no-cache >"$work/$f.fresh" 2>"$work/$f.fresh.err" || fail "$f: --no-cache"
    [ "$(states)" = "$before" ] || fail "$f: --no-cache published a state"
    "$REHEARSE_BIN" snapshot --rev HEAD >"$work/$f.cold" 2>"$work/$f.cold.err" || fail "$f: cold: $(cat "$work/$f.cold.err")"
    [ "$(states)" = $((before + 1)) ] || fail "$f: the cold run published no state"
    ! grep -q "$note" "$work/$f.cold.err" || fail "$f: the cold run says it used the cache"
    # warm: the catalog kept with the state, no server (a run folder where none can start)
    REHEARSE_RUN_DIR=/dev/null/no-server "$REHEARSE_BIN" snapshot --rev HEAD >"$work/$f.warm" 2>"$work/$f.warm.err" ||
        fail "$f: warm: $(cat "$work/$f.warm.err")"
    grep -q "$note" "$work/$f.warm.err" || fail "$f: the warm run did not use the cache: $(cat "$work/$f.warm.err")"
    [ "$(states)" = $((before + 1)) ] || fail "$f: the warm run published another state"
    cmp -s "$work/$f.fresh" "$work/$f.cold" || fail "$f: cold catalog differs from --no-cache"
    cmp -s "$work/$f.fresh" "$work/$f.warm" || fail "$f: warm catalog differs from --no-cache: $(diff "$work/$f.fresh" "$work/$f.warm" | head)"
done

# deploy --rev: a cached prefix (constraints) continued to reviews, vs a fresh deploy (the states of
# the snapshots above cleared: reviews is vina's HEAD)
cd "$work/fx/vina"
"$REHEARSE_BIN" cache clear >/dev/null || fail "cache clear"
"$REHEARSE_BIN" deploy --repo . --rev constraints >/dev/null 2>&1 || fail "deploy --rev constraints"
ledger() { # deploy --keep ...: the ledger's rows minus ids and times, in order; the cluster stopped after
    local out id url
    out=$("$REHEARSE_BIN" deploy --keep "$@" 2>&1) || fail "deploy --keep $*: $out"
    id=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' <<<"$out")
    url=$(grep -o 'postgresql://[^ ]*' <<<"$out" | head -1)
    [ -n "$id" ] && [ -n "$url" ] || fail "no kept cluster in: $out"
    rh_tie_cluster "$id"
    psql "$url" -XAt -c 'SELECT migration_name, checksum, logs IS NULL, applied_steps_count, finished_at IS NOT NULL,
        rolled_back_at IS NULL FROM _prisma_migrations ORDER BY started_at, migration_name' || fail "psql"
    grep -c "$note" <<<"$out" >"$work/kept-note"
    "$REHEARSE_BIN" clusters --stop "$id" >/dev/null 2>&1
}
fresh_ledger=$(ledger --repo . --rev reviews --no-cache)
[ "$(cat "$work/kept-note")" = 0 ] || fail "deploy --no-cache used the cache"
warm_ledger=$(ledger --repo . --rev reviews)
[ "$(cat "$work/kept-note")" = 1 ] || fail "deploy --keep did not start from the cached prefix"
[ "$fresh_ledger" = "$warm_ledger" ] || fail "ledger differs: fresh
$fresh_ledger
warm
$warm_ledger"
[ "$(wc -l <<<"$warm_ledger")" = 8 ] || fail "expected 8 ledger rows: $warm_ledger"
before=$(states)
"$REHEARSE_BIN" deploy --repo . --rev reviews --no-cache >"$work/d.fresh" 2>"$work/d.fresh.err"; rc0=$?
"$REHEARSE_BIN" deploy --repo . --rev reviews >"$work/d.warm" 2>"$work/d.warm.err"; rc1=$?
[ $rc0 = 0 ] && [ $rc1 = 0 ] || fail "deploy exits $rc0 / $rc1"
grep -q "the first 7 of 8 migrations $note" "$work/d.warm.err" || fail "deploy did not resume 7 of 8: $(cat "$work/d.warm.err")"
[ "$(states)" = $((before + 1)) ] || fail "deploy published no state for reviews"
cmp -s "$work/d.fresh" "$work/d.warm" || fail "deploy stdout differs: $(diff "$work/d.fresh" "$work/d.warm")"
diff <(grep -v "$note" "$work/d.warm.err") "$work/d.fresh.err" >/dev/null || fail "deploy stderr differs (besides the note)"
grep -q 'Applying migration `20' "$work/d.warm" || fail "the warm deploy does not print the resumed migrations"

# diff rev:A rev:B, both cached now: the same as without the cache
"$REHEARSE_BIN" diff rev:constraints rev:reviews >"$work/diff.warm" 2>"$work/diff.warm.err"; rc1=$?
"$REHEARSE_BIN" diff --no-cache rev:constraints rev:reviews >"$work/diff.fresh" 2>/dev/null; rc0=$?
[ $rc0 = 1 ] && [ $rc1 = 1 ] || fail "diff exits $rc0 / $rc1, expected 1"
[ "$(grep -c "$note" "$work/diff.warm.err")" = 2 ] || fail "diff did not use both states: $(cat "$work/diff.warm.err")"
cmp -s "$work/diff.fresh" "$work/diff.warm" || fail "diff output differs"

# a one-byte edit of the first migration (work tree): a miss, published as another state
first=$(ls -d prisma/migrations/*/ | head -1)
printf ' ' >>"$first/migration.sql"
before=$(states)
"$REHEARSE_BIN" snapshot --rev WORKTREE >"$work/edit.warm" 2>"$work/edit.err" || fail "snapshot of the edited tree"
! grep -q "$note" "$work/edit.err" || fail "an edited migration was served from the cache"
[ "$(states)" = $((before + 1)) ] || fail "the edited set was not published as its own state"
git checkout -q -- .

# a scenario's first deploy: its cluster starts from the state (a partial hit: constraints' 7 of
# reviews' 8 after the clear below), the report (steps, outputs, ledger after each step) is that of a
# --no-cache run minus times; the first deploy's set is published, and the later scenario's steps before
# its sql (two deploys: runner/cached.c, tests/cli/scenario_steps_cache.test.sh)
"$REHEARSE_BIN" cache clear >/dev/null || fail "cache clear"
printf '%s\n' 'scenario "the first deploy from the state cache"' 'repo fx/vina' 'checkout reviews' 'deploy' \
    'expect output contains "Applying migration `20"' 'expect ledger applied 8' 'sql "CREATE TABLE scratch (x int)"' \
    'expect catalog != clean reviews' >"$work/first.scenario"
sed -e 's/^scenario .*/scenario "a later deploy"/' -e 's/^checkout reviews$/checkout v1\ndeploy\ncheckout reviews/' \
    "$work/first.scenario" >"$work/later.scenario"
"$REHEARSE_BIN" deploy --repo . --rev constraints >/dev/null 2>&1 || fail "deploy --rev constraints"
before=$(states)
run_json() { "$REHEARSE_BIN" run --no-color --format json --output "$work/$1.json" "${@:2}" "$work/first.scenario" \
    "$work/later.scenario" >/dev/null 2>"$work/$1.err" || fail "run $1: $(cat "$work/$1.err")"; }
run_json fresh --no-cache
[ "$(states)" = "$before" ] || fail "run --no-cache published a state"
run_json cold
[ "$(states)" = $((before + 3)) ] || fail "run published $(($(states) - before)) states, expected 3 (reviews, v1, later's steps)"
run_json warm
[ "$(states)" = $((before + 3)) ] || fail "the warm run published another state"
python3 - "$work/fresh.json" "$work/cold.json" "$work/warm.json" <<'PY' || fail "a run from the cache reports otherwise"
import json, sys
def strip(o):  # times are the run's own
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("ms", "overhead_ms", "steps_ms", "setup_ms", "started", "wall_ms")}
    return [strip(x) for x in o] if isinstance(o, list) else o
runs = [json.load(open(p)) for p in sys.argv[1:]]
assert all(r["summary"]["passed"] == 2 for r in runs), [r["summary"] for r in runs]
ledgers = [st for st in runs[0]["scenarios"][0]["steps"] if st.get("ledger")]
assert len(ledgers[0]["ledger"]) == 8, ledgers
for r in runs[1:]:
    assert strip(r["scenarios"]) == strip(runs[0]["scenarios"]), "differs"
PY

# a setup step that fails before the first deploy: the same error report with and without the cache
printf '%s\n' 'scenario "a checkout that fails"' 'repo fx/vina' 'checkout no-such-tag' 'deploy' >"$work/bad.scenario"
for m in fresh cached; do
    "$REHEARSE_BIN" run --format json --output "$work/bad-$m.json" $([ $m = fresh ] && echo --no-cache) \
        "$work/bad.scenario" >/dev/null 2>&1; rc=$?
    [ $rc = 2 ] || fail "a failing checkout ($m): exit $rc, expected 2"
done
python3 - "$work/bad-fresh.json" "$work/bad-cached.json" <<'PY' || fail "a failing checkout reports otherwise with the cache"
import json, sys
def strip(o):  # times and the server log's lines (pids, times) are the run's own
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("ms", "overhead_ms", "steps_ms", "setup_ms", "started", "wall_ms", "log_tail")}
    return [strip(x) for x in o] if isinstance(o, list) else o
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["scenarios"][0]["status"] == "error" and "no-such-tag" in json.dumps(a["scenarios"][0]["failure"]), a
assert strip(a["scenarios"]) == strip(b["scenarios"]), (a, b)
PY

# never: REHEARSE_NO_CACHE=1, --superuser, a tool whose deploy is not resumable
before=$(states)
REHEARSE_NO_CACHE=1 "$REHEARSE_BIN" snapshot --rev reviews >/dev/null 2>"$work/off.err" || fail "REHEARSE_NO_CACHE=1 snapshot"
! grep -q "$note" "$work/off.err" || fail "REHEARSE_NO_CACHE=1 used the cache"
REHEARSE_NO_CACHE=1 "$REHEARSE_BIN" deploy --repo . --rev v1 >/dev/null 2>&1 || fail "REHEARSE_NO_CACHE=1 deploy"
"$REHEARSE_BIN" deploy --superuser --repo . --rev reviews >/dev/null 2>"$work/su.err" || fail "deploy --superuser"
! grep -q "$note" "$work/su.err" || fail "--superuser used the cache"
cd "$work/fx/shopdb"
for i in 1 2; do
    "$REHEARSE_BIN" deploy --repo . --rev HEAD --migrations db/migrations --migrate-command true >/dev/null 2>"$work/cmd.err" || fail "command mode: $(cat "$work/cmd.err")"
done
! grep -q "$note" "$work/cmd.err" || fail "a command-mode deploy was served from the cache"
[ "$(states)" = "$before" ] || fail "REHEARSE_NO_CACHE, --superuser or command mode published a state"

# dbmate: prod's 3 files cached, fixed's 5 deployed from them; what dbmate prints, its durations aside
# (a resumed file took no time in this run: "in 0s")
durations() { sed 's/^\(Applied: .* in \).*/\1D/' "$1"; }
"$REHEARSE_BIN" deploy --repo . --rev prod >/dev/null 2>&1 || fail "dbmate deploy --rev prod"
"$REHEARSE_BIN" deploy --repo . --rev fixed --no-cache >"$work/dbmate.fresh" 2>"$work/dbmate.fresh.err"; rc0=$?
"$REHEARSE_BIN" deploy --repo . --rev fixed >"$work/dbmate.warm" 2>"$work/dbmate.warm.err"; rc1=$?
[ $rc0 = 0 ] && [ $rc1 = 0 ] || fail "dbmate deploy exits $rc0 / $rc1"
grep -q "the first 3 of 5 migrations $note" "$work/dbmate.warm.err" || fail "dbmate did not resume 3 of 5: $(cat "$work/dbmate.warm.err")"
diff <(durations "$work/dbmate.fresh") <(durations "$work/dbmate.warm") >/dev/null ||
    fail "dbmate stdout differs: $(diff "$work/dbmate.fresh" "$work/dbmate.warm")"
[ "$(grep -c '^Applied: ' "$work/dbmate.warm")" = 5 ] || fail "the warm dbmate deploy does not print the resumed files"
diff <(grep -v "$note" "$work/dbmate.warm.err") "$work/dbmate.fresh.err" >/dev/null || fail "dbmate stderr differs (besides the note)"

# drizzle-kit: one transaction per run, so prod's cached state is no part of a run of fixed's 4 entries
# (a miss); fixed's own state, once published, is (the whole run: nothing left to send)
cd "$work/fx/teamapp"
"$REHEARSE_BIN" deploy --repo . --rev prod >/dev/null 2>&1 || fail "drizzle deploy --rev prod"
"$REHEARSE_BIN" deploy --repo . --rev fixed --no-cache >"$work/drizzle.fresh" 2>"$work/drizzle.fresh.err" || fail "drizzle --no-cache"
before=$(states)
"$REHEARSE_BIN" deploy --repo . --rev fixed >"$work/drizzle.cold" 2>"$work/drizzle.cold.err" || fail "drizzle cold"
! grep -q "$note" "$work/drizzle.cold.err" || fail "drizzle continued a prefix of its run: $(cat "$work/drizzle.cold.err")"
[ "$(states)" = $((before + 1)) ] || fail "drizzle published no state for fixed"
"$REHEARSE_BIN" deploy --repo . --rev fixed >"$work/drizzle.warm" 2>"$work/drizzle.warm.err" || fail "drizzle warm"
grep -q "the first 4 of 4 migrations $note" "$work/drizzle.warm.err" || fail "drizzle: fixed's state not used: $(cat "$work/drizzle.warm.err")"
cmp -s "$work/drizzle.fresh" "$work/drizzle.warm" || fail "drizzle stdout differs"
diff <(grep -v "$note" "$work/drizzle.warm.err") "$work/drizzle.fresh.err" >/dev/null || fail "drizzle stderr differs (besides the note)"
# bench check-cache --tool: another tool's check on the generated history, its base taken from the cache
for t in dbmate drizzle; do
    "$REHEARSE_BIN" bench check-cache --tool $t --history 5 --added 3 --runs 1 --format json >"$work/bench.$t" 2>&1 ||
        fail "bench check-cache --tool $t: $(cat "$work/bench.$t")"
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["tool"] == sys.argv[2] and j["history"] == 5, j' \
        "$work/bench.$t" $t || fail "bench check-cache --tool $t: $(cat "$work/bench.$t")"
done
"$REHEARSE_BIN" bench check-cache --tool command --runs 1 >/dev/null 2>"$work/bench.err"; rc=$?
[ $rc = 2 ] && grep -q "takes a tool whose deploys are cached" "$work/bench.err" || fail "bench check-cache --tool command: exit $rc"
echo "1 passed, 0 failed"
