#!/usr/bin/env bash
# migrate_cmds.test.sh — `rehearse deploy | status | resolve` share one driver (rh_migrate_main):
# each must still print its own --help with the shared options, run its own engine call on a fresh
# cluster and exit as Prisma does, and refuse bad usage with exit 2. Prisma's texts in detail are
# the conformance tests' job; this one is quick enough for every ctest run.
set -uo pipefail
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
work=$(mktemp -d -p /dev/shm rh-mc.XXXXXX 2>/dev/null || mktemp -d /tmp/rh-mc.XXXXXX) # tmpfs: a data directory copied per cluster
chmod 755 "$work"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # the folder (RAM on /dev/shm) goes with this script, however it ends
rh_tie_folder "$work"
trap 'rm -rf "$work"' EXIT
# clusters of its own: rehearse reaps dead runs' leftovers at start, other tests may rely on seeing them
export REHEARSE_RUN_DIR="$work/run"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
run() { "$bin" "$@" >"$work/out" 2>"$work/err"; echo $?; }

mkdir -p "$work/m/20250101_a"
echo 'CREATE TABLE a (id int);' >"$work/m/20250101_a/migration.sql"

# --help: the command's own usage line and text, then the shared options
for cmd in deploy status resolve; do
  rc=$(run "$cmd" --help)
  [ "$rc" = 0 ] || fail "$cmd --help exited $rc"
  grep -q "^usage: rehearse $cmd " <<<"$(head -1 "$work/out")" || fail "$cmd --help: not its usage: $(head -1 "$work/out")"
  grep -q -- '--migrations-dir' "$work/out" || fail "$cmd --help lacks the shared options"
done
grep -q 'migrate resolve' "$work/out" || fail "resolve --help is not resolve's text"

# each command's own engine call, on its own fresh cluster
rc=$(run deploy --migrations-dir "$work/m")
[ "$rc" = 0 ] || fail "deploy exited $rc: $(cat "$work/err")"
grep -q '^Applying migration `20250101_a`$' "$work/out" || fail "deploy did not apply: $(cat "$work/out")"
rc=$(run status --migrations-dir "$work/m")
[ "$rc" = 1 ] || fail "status of a fresh database exited $rc, not 1 (pending)"
grep -q '^Following migration have not yet been applied:$' "$work/out" || fail "status: $(cat "$work/out")"
rc=$(run resolve --applied 20250101_a --migrations-dir "$work/m")
[ "$rc" = 0 ] || fail "resolve --applied exited $rc: $(cat "$work/err")"
grep -q 'Migration 20250101_a marked as applied.' "$work/out" || fail "resolve --applied: $(cat "$work/out")"
rc=$(run resolve --rolled-back nope --migrations-dir "$work/m")
[ "$rc" = 1 ] || fail "resolve --rolled-back on a database without a ledger exited $rc"
grep -q 'markMigrationRolledBack' "$work/out" "$work/err" || fail "resolve --rolled-back: $(cat "$work/out" "$work/err")"

# usage and setup errors: exit 2, nothing run
rc=$(run resolve --migrations-dir "$work/m")
[ "$rc" = 2 ] && grep -q -- '--applied NAME or --rolled-back NAME' "$work/err" || fail "resolve without a mode: rc $rc"
rc=$(run deploy --applied x --migrations-dir "$work/m")
[ "$rc" = 2 ] || fail "deploy --applied (resolve's option) exited $rc"
rc=$(run status --migrations-dir "$work/none")
[ "$rc" = 2 ] || fail "status of a missing folder exited $rc"

[ $failures -eq 0 ] && echo "all passed"
exit $((failures > 0))
