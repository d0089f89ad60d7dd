#!/usr/bin/env bash
# scenario_env_reach.test.sh — a scenario's `env PG...` reaches the connections its steps stand for (its
# sessions, the Prisma commands) and none of rehearse's own (docs/scenarios.md, `env`). Before, the step
# set the variable in the process, so `env PGOPTIONS "-c default_transaction_read_only=on"` made the clean
# deploy behind `expect catalog = clean` fail ("cannot execute CREATE DATABASE in a read-only transaction").
#  - own connections untouched: expect catalog = clean, snapshot, restart + ledger/table checks, sql;
#  - reached: a session (read-only: 25006; PGTZ and PGAPPNAME too), a deploy (read-only: fails), and
#    `env PGOPTIONS ""` takes it back;
#  - a variable saying where or as whom is a setup error at its line.
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

scn own 'scenario "env PG... stays out of rehearse'"'"'s own connections"' 'migrations m' \
    'deploy' \
    'env PGOPTIONS "-c default_transaction_read_only=on"' 'env PGTZ Asia/Tokyo' 'env PGAPPNAME from-env' \
    'expect catalog = clean' \
    'snapshot one' \
    'session ro "CREATE TABLE c (id int)" => error 25006' \
    'session tz "SELECT 1 / (current_setting($$TimeZone$$) = $$Asia/Tokyo$$)::int"' \
    'expect query "SELECT count(*) FROM pg_stat_activity WHERE application_name = $$from-env$$" = 2' \
    'restart' \
    'expect ledger applied 1' 'expect table a present' \
    'sql "CREATE TABLE b (id int)"' \
    'expect catalog != snapshot one'

scn deploy 'scenario "a deploy gets it, and an empty value takes it back"' 'migrations m' \
    'env PGOPTIONS "-c default_transaction_read_only=on"' \
    'deploy => any' \
    'expect output contains "read-only transaction"' \
    'expect table _prisma_migrations absent' \
    'env PGOPTIONS ""' \
    'deploy' 'expect ledger applied 1'

"$REHEARSE_BIN" run --no-color --format json --output "$work/r.json" "$work/own.scenario" "$work/deploy.scenario" \
    >/dev/null 2>"$work/err" ||
    fail "run: $(cat "$work/err"; jq -c '.scenarios[] | select(.status != "pass") | {name, failure}' "$work/r.json" 2>/dev/null)"

scn where 'scenario "where"' 'migrations m' 'env PGHOST /tmp' 'deploy'
"$REHEARSE_BIN" run --no-color "$work/where.scenario" >"$work/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "env PGHOST: exit $rc, not 2: $(cat "$work/out")"
grep -F 'where.scenario:3: env PGHOST' "$work/out" >/dev/null && grep -F 'where or as whom' "$work/out" >/dev/null ||
    fail "env PGHOST: no error naming the line and why: $(cat "$work/out")"
echo "ok"
