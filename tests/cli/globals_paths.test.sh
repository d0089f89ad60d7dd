#!/usr/bin/env bash
# globals_paths.test.sh — two deploys of one set must not meet in a cluster's global objects (docs/check.md,
# "Isolation of the paths"). A set whose migration creates a database:
# - a scenario's `expect catalog = clean` after the scenario deployed it: the clean deploy used to run in a
#   new database of the scenario's cluster, where side_db already existed (42P04, the step an ERROR); it now
#   gets a fresh cluster (runner/checks.c);
# - `diff rev:A rev:B`, both sides holding it: a fresh cluster per side already (check/clean.c), kept so.
set -uo pipefail
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
chmod 755 "$work"
. "$here/../lib/tied_cluster.sh"
rh_tie_folder "$work"
trap 'rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR=$work/run REHEARSE_CACHE_DIR=$work/cache
failures=0
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }

repo=$work/repo m=$work/repo/prisma/migrations
mkdir -p "$m/1_init" "$m/2_db"
printf 'provider = "postgresql"\n' >"$m/migration_lock.toml"
echo 'CREATE TABLE t (id int);' >"$m/1_init/migration.sql"
echo 'CREATE DATABASE side_db;' >"$m/2_db/migration.sql"
git -C "$repo" init -q -b main && git -C "$repo" add -A && git -C "$repo" -c user.name=t -c user.email=t@t commit -q -m a &&
  git -C "$repo" tag base || { echo "FAIL: git"; exit 1; }
mkdir -p "$m/3_idx" && echo 'CREATE INDEX t_id ON t (id);' >"$m/3_idx/migration.sql"
git -C "$repo" add -A && git -C "$repo" -c user.name=t -c user.email=t@t commit -q -m b || { echo "FAIL: git"; exit 1; }

cat >"$work/g.scenario" <<SCN
scenario "a migration that creates a database, then the catalog against a clean deploy"
repo $repo
checkout main
deploy
expect catalog = clean
expect catalog = clean main
SCN
for how in --no-cache "" ""; do # cold without the cache, cold with it, then warm
  "$bin" run $how "$work/g.scenario" >"$work/run.out" 2>&1
  rc=$?
  [ $rc = 0 ] || fail "run $how: exit $rc: $(tail -20 "$work/run.out")"
done

# diff: each side on a cluster of its own; the sets differ by the index only
"$bin" diff --repo "$repo" rev:base rev:main >"$work/diff.out" 2>&1
rc=$?
[ $rc = 1 ] || fail "diff rev:base rev:main: exit $rc (expected 1: the index): $(tail -5 "$work/diff.out")"
grep -q 'already exists' "$work/diff.out" && fail "diff: $(cat "$work/diff.out")"
"$bin" diff --repo "$repo" rev:main rev:main >"$work/diff.out" 2>&1 || fail "diff rev:main rev:main: exit $?: $(tail -5 "$work/diff.out")"

[ "$failures" = 0 ] && echo "ok: a set that creates a database deploys clean beside itself"
exit $((failures > 0))
