#!/usr/bin/env bash
# prisma_url.test.sh — schema= in a Prisma DATABASE_URL, decoded as the real Prisma 6.19.3 CLI decodes it
# (prisma-oracle, ../shared/oracle): `status` on the same database and the same URL, the schema of the
# "Datasource" line compared. '+' is a space, %XY a byte, any other '%' stays (tools/prisma/url.c). A %00: Prisma
# keeps the NUL byte in the name, which no PostgreSQL name can hold, so rehearse refuses it (exit 2, saying why).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${REHEARSE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
oracle=${REHEARSE_ORACLE:-}
for c in "$src/../shared/oracle/prisma-oracle" "/work/shared/oracle/prisma-oracle" "$here/oracle/prisma-oracle"; do
  [ -z "$oracle" ] && [ -x "$c" ] && oracle=$c
done
[ -n "$oracle" ] && [ -x "$oracle" ] || { echo "FAIL: prisma-oracle not found (set REHEARSE_ORACLE)"; exit 1; }

work=$(mktemp -d)
chmod 0711 "$work" # the server account reaches the run folder below it
export REHEARSE_RUN_DIR="$work/run"
mkdir -p "$REHEARSE_RUN_DIR" "$work/empty"
kept=
cleanup() { [ -n "$kept" ] && "$bin" clusters --stop "$kept" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
. "$here/../lib/tied_cluster.sh" # the kept cluster goes with this script, however it ends
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$bin" status --migrations-dir "$work/empty" --keep --superuser >/dev/null 2>"$work/keep.err"
kept=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' "$work/keep.err")
rh_tie_cluster "$kept"
sockdir=$(sed -n "s/^  PGPASSFILE='[^']*' psql -h '\([^']*\)' -p \([0-9]*\) .*/\1/p" "$work/keep.err")
port=$(sed -n "s/^  PGPASSFILE='[^']*' psql -h '\([^']*\)' -p \([0-9]*\) .*/\2/p" "$work/keep.err")
password=$(sed -n 's|^  postgresql://postgres:\([^@]*\)@.*|\1|p' "$work/keep.err")
[ -n "$kept" ] && [ -n "$sockdir" ] && [ -n "$password" ] || { echo "FAIL: could not start a cluster:"; cat "$work/keep.err"; exit 1; }
export PGPASSFILE="$sockdir.pgpass"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PSQL="$pgbin/psql"; [ -x "$PSQL" ] || PSQL=psql
sql() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U postgres -d "$1" -c "$2"; }
# the socket folder unescaped: node-pg's URL parser (the oracle's adapter) fails on a malformed escape anywhere
url="postgresql://postgres:$password@localhost/urls?host=$sockdir&port=$port"
sql postgres "CREATE DATABASE urls" || exit 1

# the schema of a "Datasource" line (created first: the decoding is what is compared); both exit 1 (a
# database without a ledger: "not managed by Prisma Migrate")
shown() { sed -n 's/^Datasource "db": PostgreSQL database "[^"]*", schema "\(.*\)" \(at\|using\) .*/\1/p' "$1"; }

# VALUE DECODED: both read schema=VALUE as DECODED
same() {
  local value=$1 decoded=$2
  sql urls "CREATE SCHEMA IF NOT EXISTS \"$decoded\"" || { fail "schema=$value: cannot create \"$decoded\""; return; }
  "$oracle" --url "$url&schema=$value" --migrations "$work/empty" status >"$work/o.out" 2>&1; local ro=$?
  "$bin" status --migrations-dir "$work/empty" --database-url "$url&schema=$value" >"$work/r.out" 2>"$work/r.err"; local rr=$?
  [ "$(shown "$work/o.out")" = "$decoded" ] ||
    fail "schema=$value: Prisma reads it as '$(shown "$work/o.out")' (exit $ro), this test says '$decoded': $(cat "$work/o.out")"
  [ "$rr" = "$ro" ] && [ "$(shown "$work/r.out")" = "$(shown "$work/o.out")" ] ||
    fail "schema=$value: rehearse reads it as '$(shown "$work/r.out")' (exit $rr), Prisma '$(shown "$work/o.out")': $(cat "$work/r.err")"
}
same 'c+d' 'c d'
same 'a%zzb' 'a%zzb'
same 'i%4' 'i%4'
same 'g%4x' 'g%4x'
same 'a%25b' 'a%b'
same 'h%C3%A9' 'hé'
# a schema that does not exist yet: Prisma names the URL's (before, rehearse said "public", current_schema()'s NULL)
"$oracle" --url "$url&schema=not+yet" --migrations "$work/empty" status >"$work/o.out" 2>&1
"$bin" status --migrations-dir "$work/empty" --database-url "$url&schema=not+yet" >"$work/r.out" 2>"$work/r.err"
[ "$(shown "$work/o.out")" = "not yet" ] && [ "$(shown "$work/r.out")" = "not yet" ] ||
  fail "schema=not+yet (no such schema): Prisma '$(shown "$work/o.out")', rehearse '$(shown "$work/r.out")'"
"$oracle" --url "$url&schema=later" --migrations "$work/empty" status >"$work/o.out" 2>&1
"$bin" status --migrations-dir "$work/empty" --database-url "$url&schema=later" >"$work/r.out" 2>"$work/r.err"
[ "$(shown "$work/o.out")" = later ] && [ "$(shown "$work/r.out")" = later ] ||
  fail "schema=later (no such schema): Prisma '$(shown "$work/o.out")', rehearse '$(shown "$work/r.out")'"

# %00: Prisma keeps the NUL byte (its line shows it); rehearse cannot, and says so instead of working in schema "x"
"$oracle" --url "$url&schema=x%00y" --migrations "$work/empty" status >"$work/o.out" 2>&1; ro=$?
printf 'schema "x\0y"' >"$work/nul"
python3 -c 'import sys; sys.exit(open(sys.argv[2], "rb").read() not in open(sys.argv[1], "rb").read())' "$work/o.out" "$work/nul" ||
  fail "schema=x%00y: Prisma no longer keeps the NUL byte (exit $ro): $(od -c "$work/o.out" | head -20)"
"$bin" status --migrations-dir "$work/empty" --database-url "$url&schema=x%00y" >"$work/r.out" 2>"$work/r.err"; rr=$?
[ "$rr" = 2 ] && grep -F -- '--database-url: schema=x%00y: %00 decodes to a NUL byte' "$work/r.err" >/dev/null &&
  ! grep -F "$password" "$work/r.err" >/dev/null ||
  fail "schema=x%00y: rehearse exit $rr: $(cat "$work/r.out" "$work/r.err")"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: schema= read as Prisma 6.19.3 reads it (6 values, and %00 refused)"
