#!/usr/bin/env bash
# scenario_steps_cache.test.sh — a scenario's steps before its first sql/session/fault come from the
# state cache (runner/cached.c, docs/state-cache.md): a warm run starts the cluster from the state
# after them and replays what each recorded; its report equals a --no-cache run's minus times:
#  - vina: two checkouts, two deploys, a status, expectations between them;
#  - a folder whose second migration fails: `deploy => fails`, P3009, `resolve --rolled-back`;
#  - dbmate (a failed deploy, its output after the sql) and drizzle (a skipped entry: `expect finding`
#    after the sql reads the findings kept with the state);
#  - a one-byte edit of a migration in the SECOND checkout's set is a miss (and a new state);
#    so is an edit of the failing migration; --no-cache, REHEARSE_NO_CACHE=1, --superuser and
#    --trace-locks neither use nor publish.
# ctest sets REHEARSE_NO_CACHE=1 for every test: this one unsets it and uses its own cache folder.
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}"
unset REHEARSE_NO_CACHE
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
chmod 755 "$work" # the server account (rehearse runs as root here) must reach the run folder
export REHEARSE_CACHE_DIR=$work/cache REHEARSE_RUN_DIR=$work/run
trap 'rm -rf "$work"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh"
rh_tie_folder "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
states() { ls "$REHEARSE_CACHE_DIR/states" 2>/dev/null | grep -vc '^\.'; }
note='steps come from the state cache'

"$REHEARSE_SOURCE_DIR/scripts/make-fixtures.sh" "$work/fx" vina shopdb teamapp >/dev/null 2>&1 || fail "make-fixtures.sh"
printf '%s\n' 'scenario "two deploys before the first sql"' 'repo fx/vina' 'checkout v1' 'deploy' \
    'expect ledger applied 1' 'checkout expand' 'deploy' 'status' 'expect output contains "Database schema is up to date"' \
    'expect column "Product"."productName" nullable' 'sql "CREATE TABLE scratch (x int)"' 'checkout backfill' 'deploy' \
    'expect ledger applied 3' >"$work/two.scenario"
m=$work/m
mkdir -p "$m/20250101000000_init" "$m/20250102000000_bad"
printf 'provider = "postgresql"\n' >"$m/migration_lock.toml"
printf 'CREATE TABLE "A" ("x" integer);\n' >"$m/20250101000000_init/migration.sql"
printf 'INSERT INTO "Nope" VALUES (1);\n' >"$m/20250102000000_bad/migration.sql"
printf '%s\n' 'scenario "a failed deploy and its resolve before the first sql"' 'migrations m' \
    'deploy => fails 20250102000000_bad sqlstate 42P01' 'expect ledger failed 20250102000000_bad' 'deploy => error P3009' \
    'resolve --rolled-back 20250102000000_bad' 'expect output contains "marked as rolled back"' 'sql "SELECT 1"' \
    'expect ledger rows 2' 'expect table "A" present' >"$work/failed.scenario"

printf '%s\n' 'scenario "dbmate before the first sql"' 'repo fx/shopdb' 'tool dbmate' 'checkout prod' 'deploy' \
    'expect ledger rows 3' 'checkout incident' 'deploy => fails 20250310120000_orders_shipping.sql sqlstate 25001' \
    'sql "SELECT 1"' 'expect output contains "cannot run inside a transaction block (25001)"' \
    'expect column orders.shipped_at absent' >"$work/shop.scenario"
printf '%s\n' 'scenario "drizzle before the first sql"' 'repo fx/teamapp' 'tool drizzle' 'checkout prod' 'deploy' \
    'expect ledger rows 3' 'checkout merged' 'deploy => ok' 'sql "SELECT 1"' 'expect finding skipped 0003_branch_invites' \
    'expect output contains "migrations applied successfully"' 'expect table invites absent' >"$work/team.scenario"

run_json() { "$REHEARSE_BIN" run --no-color --format json --output "$work/$1.json" "${@:2}" "$work/two.scenario" \
    "$work/failed.scenario" "$work/shop.scenario" "$work/team.scenario" >/dev/null 2>"$work/$1.err" || fail "run $1: $(cat "$work/$1.err")"; }
same() { # the reports, minus the run's own times
    python3 - "$@" <<'PY' || fail "a run from the cache reports otherwise: $*"
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("ms", "overhead_ms", "steps_ms", "setup_ms", "started", "wall_ms")}
    return [strip(x) for x in o] if isinstance(o, list) else o
runs = [json.load(open(p)) for p in sys.argv[1:]]
assert all(r["summary"]["passed"] == 4 for r in runs), [r["summary"] for r in runs]
failed = [x for x in runs[0]["scenarios"] if x["name"].startswith("a failed deploy")][0]
assert any(st.get("ledger") for st in failed["steps"]), "no ledger recorded"
for r in runs[1:]:
    assert strip(r["scenarios"]) == strip(runs[0]["scenarios"]), "differs"
PY
}
run_json fresh --no-cache
[ "$(states)" = 0 ] || fail "run --no-cache published a state"
run_json cold
! grep -q "$note" "$work/cold.err" || fail "the cold run says it used the cache"
# the first deploy of vina (as before) + the steps of each scenario
[ "$(states)" = 5 ] || fail "the cold run published $(states) states, expected 5"
run_json warm
[ "$(grep -c "$note" "$work/warm.err")" = 4 ] || fail "the warm run did not replay all four: $(cat "$work/warm.err")"
grep -q 'two.scenario: its first 9 steps' "$work/warm.err" || fail "not the 9 steps before the sql: $(cat "$work/warm.err")"
[ "$(states)" = 5 ] || fail "the warm run published another state"
same "$work/fresh.json" "$work/cold.json" "$work/warm.json"
REHEARSE_NO_CACHE=1 run_json off
! grep -q "$note" "$work/off.err" || fail "REHEARSE_NO_CACHE=1 used the cache"
same "$work/fresh.json" "$work/off.json"
# as the superuser (who owns what migrations create) and with --trace-locks (a copy before each deploy):
# neither uses nor publishes one
for opt in --superuser --trace-locks; do
    run_json "opt$opt" "$opt"
    ! grep -q "$note" "$work/opt$opt.err" || fail "run $opt used the cache"
    [ "$(states)" = 5 ] || fail "run $opt published a state"
done

# a one-byte edit of a migration only the second checkout deploys, and of the failing migration: misses
git -C "$work/fx/vina" checkout -q expand || fail "git checkout"
printf ' ' >>"$work/fx/vina/prisma/migrations/20240301100000_add_product_name_column/migration.sql"
git -C "$work/fx/vina" -c user.name=t -c user.email=t@t commit -qam "one byte" && git -C "$work/fx/vina" tag -f expand >/dev/null ||
    fail "git commit"
printf ' ' >>"$m/20250102000000_bad/migration.sql"
run_json edit-fresh --no-cache
run_json edit
! grep -E -q "(two|failed).scenario: .*$note" "$work/edit.err" ||
    fail "an edited migration was served from the cache: $(cat "$work/edit.err")"
[ "$(grep -c "$note" "$work/edit.err")" = 2 ] || fail "dbmate's and drizzle's steps, unchanged, missed: $(cat "$work/edit.err")"
[ "$(states)" = 7 ] || fail "the edited steps were not published as their own states ($(states))"
same "$work/edit-fresh.json" "$work/edit.json"
echo "ok"
