#!/usr/bin/env bash
# scenario_clean_cache.test.sh — `expect catalog = clean REV` among a scenario's cached steps
# (runner/cached.c, docs/state-cache.md), and a scenario whose every step comes from the cache starts
# no server at all:
#  - all.scenario (checkouts, deploys, `expect catalog = clean expand`, `!= clean REV`) and rev.scenario
#    (one deploy, then `!= clean expand`) are replayed whole when warm, and all.scenario passes with a
#    run folder where no server can start (the old code needed one);
#  - its report equals a --no-cache run's minus times (and so do the others');
#  - a deployed migration that changed the cluster's globals (ALTER ROLE ... SET), REV's set touching
#    none: the clean step deploys into a clean_N database of the scenario's own cluster; that state is
#    not published (a hit would start without clean_N known, and the later clean step's clean_1 would
#    collide);
#  - REV's set is in the key: moving the tag REV names (the scenario's own checkouts unchanged) misses.
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
note='steps come from the state cache'

"$REHEARSE_SOURCE_DIR/scripts/make-fixtures.sh" "$work/fx" vina >/dev/null 2>&1 || fail "make-fixtures.sh"
printf '%s\n' 'scenario "clean comparisons among the cached steps"' 'repo fx/vina' 'checkout v1' 'deploy' \
    'expect catalog != clean expand' 'checkout expand' 'deploy' 'expect catalog = clean expand' \
    'expect ledger applied 2' >"$work/all.scenario"
printf '%s\n' 'scenario "one deploy, then a clean comparison"' 'repo fx/vina' 'checkout v1' 'deploy' \
    'expect catalog != clean expand' >"$work/rev.scenario"
# a repository whose tag b adds a migration that changes the cluster's globals (a role setting); the
# scenario deploys b and compares with a clean deploy of a (which touches no global, so the globals
# detector gives it no cluster of its own): the scenario cluster's globals differ from a fresh one's,
# so the clean step deploys into a clean_N database of the scenario's own cluster
g=$work/g
mkdir -p "$g/prisma/migrations/20250101000000_init" "$g/prisma/migrations/20250102000000_role"
printf 'provider = "postgresql"\n' >"$g/prisma/migrations/migration_lock.toml"
printf 'CREATE TABLE "A" ("x" integer);\n' >"$g/prisma/migrations/20250101000000_init/migration.sql"
commit() { git -C "$g" add -A && git -C "$g" -c user.name=t -c user.email=t@t commit -qm "$1" && git -C "$g" tag "$1"; }
git -C "$g" init -q && commit a || fail "git"
printf 'ALTER ROLE CURRENT_USER SET work_mem = '"'"'8MB'"'"';\n' >"$g/prisma/migrations/20250102000000_role/migration.sql"
commit b || fail "git"
printf '%s\n' 'scenario "a clean step in the scenario cluster, then another after the sql"' 'repo g' 'checkout b' 'deploy' \
    'expect catalog = clean a' 'deploy' 'sql "SELECT 1"' 'expect catalog = clean a' >"$work/globals.scenario"

run_json() { "$REHEARSE_BIN" run --no-color --format json --output "$work/$1.json" "${@:2}" "$work/all.scenario" \
    "$work/rev.scenario" "$work/globals.scenario" >/dev/null 2>"$work/$1.err" || fail "run $1: $(cat "$work/$1.err")"; }
same() { # the reports, minus the run's own times
    python3 - "$@" <<'PY' || fail "a run from the cache reports otherwise: $*"
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("ms", "overhead_ms", "steps_ms", "setup_ms", "started", "wall_ms")}
    return [strip(x) for x in o] if isinstance(o, list) else o
runs = [json.load(open(p)) for p in sys.argv[1:]]
assert all(r["summary"]["passed"] == 3 for r in runs), [r["summary"] for r in runs]
for r in runs[1:]:
    assert strip(r["scenarios"]) == strip(runs[0]["scenarios"]), "differs"
PY
}
run_json fresh --no-cache
run_json cold
run_json warm
grep -q 'all.scenario: its first 8 steps' "$work/warm.err" || fail "all.scenario not replayed whole: $(cat "$work/warm.err")"
grep -q 'rev.scenario: its first 4 steps' "$work/warm.err" || fail "rev.scenario not replayed whole: $(cat "$work/warm.err")"
! grep -q "globals.scenario: .*$note" "$work/warm.err" ||
    fail "steps whose clean deploy went into the scenario's cluster were cached: $(cat "$work/warm.err")"
same "$work/fresh.json" "$work/cold.json" "$work/warm.json"

# every step from the cache: no server starts (a run folder that is a file: any start fails)
: >"$work/nofolder"
REHEARSE_RUN_DIR=$work/nofolder "$REHEARSE_BIN" run --no-color --format json --output "$work/noserver.json" \
    "$work/all.scenario" >/dev/null 2>"$work/noserver.err" || fail "a replayed scenario needed a server: $(cat "$work/noserver.err")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["scenarios"][0]; assert r["postgres"], r' "$work/noserver.json" ||
    fail "the report names no server"

# the tag `expand` moved to a commit with a one-byte edit of its migration: rev.scenario's checkout
# (v1) and deploy are the same, but the set `clean expand` deploys is not: a miss
git -C "$work/fx/vina" checkout -q expand || fail "git checkout"
printf ' ' >>"$work/fx/vina/prisma/migrations/20240301100000_add_product_name_column/migration.sql"
git -C "$work/fx/vina" -c user.name=t -c user.email=t@t commit -qam "one byte" && git -C "$work/fx/vina" tag -f expand >/dev/null ||
    fail "git commit"
"$REHEARSE_BIN" run --no-color --format json --output "$work/moved.json" "$work/rev.scenario" >/dev/null 2>"$work/moved.err" ||
    fail "run after the tag moved: $(cat "$work/moved.err")"
! grep -q "$note" "$work/moved.err" || fail "a moved tag was served from the cache: $(cat "$work/moved.err")"
echo "ok"
