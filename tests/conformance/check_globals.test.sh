#!/usr/bin/env bash
# check_globals.test.sh — a new migration that only creates a database deploys fine in production, as the real
# Prisma 6.19.3 (../shared/oracle) shows: a clean deploy of head, and base then head (the upgrade path), each
# on a server of its own (the database is dropped between the two, as a second server would not have it).
# `rehearse check` must agree: exit 0, no fails-in-production, every path passing. Before check/isolate.c the
# paths shared one cluster and the second CREATE DATABASE failed with 42P04 (a wrong fails-in-production).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${REHEARSE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
o6=
for c in "$src/../shared/oracle/prisma-oracle" "/work/shared/oracle/prisma-oracle" "$here/oracle/prisma-oracle"; do
  [ -x "$c" ] && { o6=$c; break; }
done
[ -n "$o6" ] || { echo "FAIL: prisma-oracle not found"; exit 1; }

work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
chmod 755 "$work"
export REHEARSE_RUN_DIR=$work/run
cluster_id=
. "$here/../lib/tied_cluster.sh"
rh_tie_folder "$work"
cleanup() {
  [ -n "$cluster_id" ] && "$bin" clusters --stop "$cluster_id" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }

# the repository: base holds a table; head adds a migration that only creates a database
repo=$work/repo m=$work/repo/prisma/migrations
mkdir -p "$m/20250101000000_init" "$work/empty"
printf 'provider = "postgresql"\n' >"$m/migration_lock.toml"
printf 'CREATE TABLE "t" ("id" SERIAL NOT NULL, CONSTRAINT "t_pkey" PRIMARY KEY ("id"));\n' >"$m/20250101000000_init/migration.sql"
git -C "$repo" init -q -b main && git -C "$repo" add -A &&
  git -C "$repo" -c user.name=t -c user.email=t@t commit -q -m base && git -C "$repo" tag base || { echo "FAIL: git"; exit 1; }
mkdir -p "$m/20250201000000_side_db"
printf 'CREATE DATABASE side_db;\n' >"$m/20250201000000_side_db/migration.sql"
git -C "$repo" add -A && git -C "$repo" -c user.name=t -c user.email=t@t commit -q -m head || { echo "FAIL: git"; exit 1; }

# the oracle's server: rehearse's own, kept until the end
"$bin" status --migrations-dir "$work/empty" --keep --superuser >/dev/null 2>"$work/keep.err"
cluster_id=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' "$work/keep.err")
sockdir=$(sed -n "s/^  PGPASSFILE='[^']*' psql -h '\([^']*\)' -p \([0-9]*\) .*/\1/p" "$work/keep.err")
port=$(sed -n "s/^  PGPASSFILE='[^']*' psql -h '\([^']*\)' -p \([0-9]*\) .*/\2/p" "$work/keep.err")
password=$(sed -n 's|^  postgresql://postgres:\([^@]*\)@.*|\1|p' "$work/keep.err")
rh_tie_cluster "$cluster_id"
[ -n "$cluster_id" ] && [ -n "$sockdir" ] && [ -n "$password" ] || { echo "FAIL: could not start a cluster:"; cat "$work/keep.err"; exit 1; }
export PGPASSFILE="$sockdir.pgpass"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PSQL="$pgbin/psql"; [ -x "$PSQL" ] || PSQL=psql
url() { echo "postgresql://postgres:$password@localhost/$1?host=$sockdir&port=$port"; }
sql() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U postgres -d "$1" -c "$2"; }
deploy() { "$o6" --url "$(url "$1")" --migrations "$2" deploy >"$work/$3.out" 2>&1; }

# the oracle: a clean deploy of head
sql postgres "CREATE DATABASE clean" >/dev/null || { echo "FAIL: CREATE DATABASE clean"; exit 1; }
deploy clean "$m" clean || fail "Prisma's clean deploy of head failed: $(cat "$work/clean.out")"
# ... and, on a server without side_db, base then head
sql postgres "DROP DATABASE side_db" >/dev/null || fail "the clean deploy left no side_db"
sql postgres "CREATE DATABASE upgrade" >/dev/null || { echo "FAIL: CREATE DATABASE upgrade"; exit 1; }
git -C "$repo" worktree add -q "$work/base" base || { echo "FAIL: git worktree"; exit 1; }
deploy upgrade "$work/base/prisma/migrations" base || fail "Prisma's deploy of base failed: $(cat "$work/base.out")"
deploy upgrade "$m" head || fail "Prisma's deploy of head after base failed: $(cat "$work/head.out")"
[ "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname = 'side_db'")" = 1 ] || fail "no side_db after the upgrade"

# rehearse: the same verdict, cold (--no-cache) and with the cache (twice: cold, then warm)
export REHEARSE_CACHE_DIR=$work/cache
for how in --no-cache "" ""; do
  (cd "$repo" && "$bin" check --base base --head main --format json $how) >"$work/check.json" 2>"$work/check.err"
  rc=$?
  [ $rc = 0 ] || fail "check $how: exit $rc, Prisma deploys it: $(cat "$work/check.err") $(head -c 3000 "$work/check.json")"
  python3 - "$work/check.json" <<'PY' || fail "check $how: $(head -c 3000 "$work/check.json")"
import json, sys
r = json.load(open(sys.argv[1]))
codes = [f["code"] for f in r["findings"]]
assert "fails-in-production" not in codes and "clean-deploy-failed" not in codes and "trace-stopped" not in codes, codes
assert "isolated-paths" in codes, codes
PY
done

[ "$failures" = 0 ] && echo "ok: check says what Prisma does for a migration that creates a database"
exit $((failures > 0))
