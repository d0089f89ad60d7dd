#!/usr/bin/env bash
# engine_cli.test.sh — `rehearse deploy | status | resolve` as a user runs them: a fresh throwaway
# cluster by default, --keep, a git revision with the Prisma version detected from package.json
# (which decides the folder order), --prisma-version, Prisma DATABASE_URLs, the remote-host
# refusal and usage errors (exit 2). Prisma's texts themselves are checked in engine.test.sh.
set -uo pipefail
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # the kept cluster goes with this script, however it ends
work=$(mktemp -d)
kept=
cleanup() { [ -n "$kept" ] && "$bin" clusters --stop "$kept" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
run() { "$bin" "$@" >"$work/out" 2>"$work/err"; echo $?; }

# a repository whose two migrations sort differently by bytes (Prisma < 6.6) and by ICU (>= 6.6)
repo="$work/repo"
mkdir -p "$repo/prisma/migrations/20251225_step6_x" "$repo/prisma/migrations/20251225061321_y"
echo 'CREATE TABLE x (id INT);' >"$repo/prisma/migrations/20251225_step6_x/migration.sql"
echo 'CREATE TABLE y (id INT);' >"$repo/prisma/migrations/20251225061321_y/migration.sql"
echo '{"devDependencies": {"prisma": "^6.5.0"}}' >"$repo/package.json"
git -C "$repo" init -q && git -C "$repo" add -A &&
  git -C "$repo" -c user.email=t@example.com -c user.name=t commit -qm v1 && git -C "$repo" tag v1

# 1. deploy of a revision on a fresh cluster: Prisma 6.5 detected, byte order
rc=$(run deploy --repo "$repo" --rev v1)
[ "$rc" = 0 ] || fail "deploy --repo exited $rc: $(cat "$work/err")"
order=$(grep '^Applying migration' "$work/out" | tr '\n' ' ')
[ "$order" = 'Applying migration `20251225061321_y` Applying migration `20251225_step6_x` ' ] ||
  fail "Prisma 6.5 (bytes) order expected, got: $order"
grep -q 'Prisma 6.5.0 profile, from package.json' "$work/err" || fail "the detected version is not named: $(cat "$work/err")"
grep -q '^All migrations have been successfully applied.$' "$work/out" || fail "no success line: $(cat "$work/out")"

# 2. --prisma-version 6.19.3 overrides the detection: ICU order
rc=$(run deploy --repo "$repo" --rev v1 --prisma-version 6.19.3)
order=$(grep '^Applying migration' "$work/out" | tr '\n' ' ')
[ "$rc" = 0 ] && [ "$order" = 'Applying migration `20251225_step6_x` Applying migration `20251225061321_y` ' ] ||
  fail "--prisma-version 6.19.3: ICU order expected (rc $rc): $order"

# 3. --keep leaves a reachable cluster; status / resolve against it through a Prisma-style URL
rc=$(run deploy --migrations-dir "$repo/prisma/migrations" --keep)
kept=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' "$work/err")
rh_tie_cluster "$kept"
url=$(grep '^  postgresql://' "$work/err" | sed 's/^  //')
[ "$rc" = 0 ] && [ -n "$kept" ] && [ -n "$url" ] || fail "--keep: rc $rc, no cluster id or URL: $(cat "$work/err")"
# the printed psql line gets in as printed (its password is in the pgpass file it names)
psql_line=$(grep "^  PGPASSFILE='[^']*' psql -h " "$work/err" | sed 's/^  //')
[ -n "$psql_line" ] || fail "--keep prints no psql command"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
who=$(PATH="$pgbin:$PATH" PGCONNECT_TIMEOUT=5 bash -c "$psql_line -X -A -t -w -c 'select current_user'" 2>&1)
[ "$who" = migrator ] || fail "the printed psql command does not connect as the migration role: $who"
rc=$(run status --migrations-dir "$repo/prisma/migrations" --database-url "$url&schema=public&connection_limit=5")
[ "$rc" = 0 ] && grep -q '^Database schema is up to date!$' "$work/out" ||
  fail "status on the kept cluster: rc $rc: $(cat "$work/out" "$work/err")"
rc=$(run resolve --rolled-back 20251225_step6_x --migrations-dir "$repo/prisma/migrations" --database-url "$url")
[ "$rc" = 1 ] && grep -q '^Error: P3012$' "$work/err" || fail "resolve --rolled-back of a finished row: rc $rc"
"$bin" clusters --stop "$kept" >/dev/null 2>&1 && kept=

# 4. refusals and usage errors exit 2 and say why
rc=$(run deploy --migrations-dir "$repo/prisma/migrations" --database-url 'postgresql://u@db.example.com/app')
[ "$rc" = 2 ] && grep -q "refuses to change a remote database unless --allow-remote" "$work/err" ||
  fail "a remote URL must be refused (rc $rc): $(cat "$work/err")"
rc=$(run deploy)
[ "$rc" = 2 ] && grep -q -- "--migrations-dir DIR or --repo DIR --rev REV" "$work/err" || fail "no migrations: rc $rc"
rc=$(run resolve --migrations-dir "$repo/prisma/migrations")
[ "$rc" = 2 ] || fail "resolve without --applied/--rolled-back: rc $rc"
rc=$(run deploy --repo "$repo" --rev no-such-rev)
[ "$rc" = 2 ] && grep -q "no-such-rev" "$work/err" || fail "unknown revision: rc $rc: $(cat "$work/err")"
rc=$(run deploy --migrations-dir "$work/absent")
[ "$rc" = 2 ] && grep -q "absent" "$work/err" || fail "missing folder: rc $rc: $(cat "$work/err")"
rc=$(run deploy --help)
[ "$rc" = 0 ] && grep -q "prisma migrate deploy" "$work/out" || fail "--help: rc $rc"

[ "$failures" = 0 ] && echo "engine CLI: all checks passed" || { echo "$failures failure(s)"; exit 1; }
