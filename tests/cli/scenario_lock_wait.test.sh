#!/usr/bin/env bash
# scenario_lock_wait.test.sh — a Prisma lock wait whose end is known is not waited out (runner/lockwait.c,
# docs/scenarios.md "Lock waits not waited out"), and every case where the end is NOT known waits for real:
#  - decided: an idle session holds Prisma's advisory lock (a session lock; a transaction lock in an open
#    transaction; under `set rehearse.advisory_lock_timeout`): P1002 at once, the step says it did not wait;
#  - not decided, and the real wait ends otherwise than P1002, which a rule that looked at the holder alone
#    would have answered: the holder's statement is in flight and ends (lock_timeout) after the deploy began,
#    releasing the lock: deploy succeeds; the holder set idle_session_timeout itself, or got it when it
#    connected (PGOPTIONS): the server ends it, deploy succeeds. The deploys there wait up to 60 s, not
#    Prisma's 10 s, for a holder that lets go after 2 s: a busy machine cannot turn the release into a P1002
#    (60 s: below the 120 s scenario limit, so the lock-wait rule about the time limit stays out of it);
#  - not decided, the real wait ends in P1002 all the same (a 1 s limit): the holder is the scenario's own
#    `sql` connection, the deploy runs in the background, a fault is armed for it;
#  - a wait not waited out still counts against the scenario's time limit: 12 s skipped + a 9 s sleep pass
#    a 20 s limit, so the scenario times out (after ~8 s), as it would have for real (it would pass uncounted).
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
chmod 755 "$work" # the server account (rehearse runs as root here) must reach the run folder
export REHEARSE_RUN_DIR=$work/run
trap 'rm -rf "$work"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh"
rh_tie_folder "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/m/20250101000000_a"
printf 'provider = "postgresql"\n' >"$work/m/migration_lock.toml"
printf 'CREATE TABLE a (id int);\n' >"$work/m/20250101000000_a/migration.sql"
scn() { local f=$work/$1.scenario; shift; printf '%s\n' "$@" >"$f"; }

scn decided 'scenario "decided: idle holders"' 'migrations m' \
    'session stuck "SELECT pg_advisory_lock(72707369)"' \
    'deploy => error P1002' \
    'expect output contains "Timed out trying to acquire a postgres advisory lock (SELECT pg_advisory_lock(72707369)). Timeout: 10000ms."' \
    'expect table _prisma_migrations absent' \
    'release stuck' \
    'session tx "BEGIN; SELECT pg_advisory_xact_lock(72707369)"' \
    'set rehearse.advisory_lock_timeout 3s' \
    'deploy => error P1002' \
    'expect output contains "Timeout: 3000ms."' \
    'rollback tx' \
    'deploy' 'expect ledger applied 1'

scn busy 'scenario "not decided: the holder has a statement in flight, which ends after the deploy began"' 'migrations m' \
    'set rehearse.advisory_lock_timeout 60s' \
    'session other "SELECT pg_advisory_lock(5)"' \
    'env PGOPTIONS "-c lock_timeout=2s"' \
    'session holder "SELECT pg_advisory_xact_lock(72707369), pg_advisory_xact_lock(5)" => blocked' \
    'env PGOPTIONS ""' \
    'deploy' 'expect ledger applied 1' \
    'wait holder => error 55P03'

scn idle 'scenario "not decided: the server ends the idle holder"' 'migrations m' \
    'set rehearse.advisory_lock_timeout 60s' \
    'session h1 "SET idle_session_timeout = '"'2s'"'"' \
    'session h1 "SELECT pg_advisory_lock(72707369)"' \
    'deploy' 'expect ledger applied 1' \
    'env PGOPTIONS "-c idle_session_timeout=2s"' \
    'session h2 "SELECT pg_advisory_lock(72707369)"' \
    'env PGOPTIONS ""' \
    'deploy' 'expect output contains "No pending migrations to apply."'

scn real 'scenario "not decided: P1002 after the real wait"' 'migrations m' \
    'set rehearse.advisory_lock_timeout 1s' \
    'sql "SELECT pg_advisory_lock(72707369)"' \
    'deploy => error P1002' \
    'sql "SELECT pg_advisory_unlock(72707369)"' \
    'session stuck "SELECT pg_advisory_lock(72707369)"' \
    'deploy &' 'wait deploy => error P1002' \
    'fault cancel when blocked' \
    'deploy => any'

mkdir -p "$work/limit" && cp -r "$work/m" "$work/limit/m"
printf '%s\n' 'scenario "a skipped wait counts against the time limit"' 'migrations m' 'timeout 20s' \
    'set rehearse.advisory_lock_timeout 12s' 'session stuck "SELECT pg_advisory_lock(72707369)"' \
    'deploy => error P1002' 'sleep 9s' >"$work/limit/limit.scenario"
"$REHEARSE_BIN" run --no-color --format json --output "$work/limit.json" "$work/limit/limit.scenario" >/dev/null 2>&1 &
limit_pid=$!
"$REHEARSE_BIN" run -j2 --no-color --format json --output "$work/r.json" "$work"/*.scenario >/dev/null 2>"$work/err" ||
    fail "run: $(cat "$work/err"; jq -c '.scenarios[] | select(.status != "pass") | {name, message, output}' "$work/r.json" 2>/dev/null)"
# the steps whose wait was not waited out, as "scenario-file:line", and their skipped time
jq -r '.scenarios[] | (.path | split("/") | last) as $f | .steps[] | select(.wait_note) | "\($f):\(.line) \(.wait_skipped_ms > 0)"' \
    "$work/r.json" | sort >"$work/noted"
printf '%s\n' 'decided.scenario:4 true' 'decided.scenario:10 true' | sort >"$work/want"
diff "$work/want" "$work/noted" >"$work/d" || fail "the steps not waited out (< expected, > got): $(cat "$work/d")"
jq -r '.scenarios[].steps[] | select(.wait_note) | .wait_note' "$work/r.json" >"$work/notes"
grep -q "held by session stuck, idle" "$work/notes" || fail "the note does not name the holder: $(cat "$work/notes")"
grep -q "held by session tx, idle" "$work/notes" || fail "the note does not name the holder: $(cat "$work/notes")"
wait "$limit_pid"
limit=$(jq -r '.scenarios[0] | "\(.timed_out) \(.failure.line) \(.failure.message)"' "$work/limit.json")
case $limit in
  "true 7 timed out after 20.0 s, 12.0 s of them lock waits not waited out"*) ;;
  *) fail "the skipped wait did not count against the time limit: $limit" ;;
esac
echo "ok"
