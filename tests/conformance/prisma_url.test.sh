#!/usr/bin/env bash
# prisma_url.test.sh — schema= in a Prisma DATABASE_URL, decoded as the real Prisma 6.19.3 CLI decodes it
# (prisma-oracle, ../shared/oracle): `status` on the same database and the same URL, the schema of the
# "Datasource" line compared. '+' is a space, %XY a byte, any other '%' stays (tools/prisma/url.c). A %00: Prisma
# keeps the NUL byte in the name, which no PostgreSQL name can hold, so rehearse refuses it (exit 2, saying why).
# Without schema=, Prisma 6.19.3 and 7.10.1 (prisma7-oracle) print "public" whatever search_path the role or the
# database sets.
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

# no schema=: the line names "public" whatever the role's or the database's search_path puts first (Prisma's CLI
# reads the URL, not the connection), with 6.19.3 and 7.10.1; before, rehearse printed current_schema()
oracle7=${REHEARSE_ORACLE7:-}
for c in "$src/../shared/oracle7/prisma7-oracle" "/work/shared/oracle7/prisma7-oracle"; do
  [ -z "$oracle7" ] && [ -x "$c" ] && oracle7=$c
done
[ -n "$oracle7" ] && [ -x "$oracle7" ] || { echo "FAIL: prisma7-oracle not found (set REHEARSE_ORACLE7)"; exit 1; }
# DATABASE|SETTING (DB: the database)|SCHEMAS to create|Prisma versions (each oracle run costs a node start)
# (a first schema that does not exist: "public" from both oracles and rehearse, checked by hand, not here)
for case in 'sp_role|ALTER ROLE postgres IN DATABASE DB SET search_path = first, public|CREATE SCHEMA first|6.19.3 7.10.1' \
            'sp_db|ALTER DATABASE DB SET search_path = "Y z", public|CREATE SCHEMA "Y z"|6.19.3' \
            'sp_user|ALTER DATABASE DB SET search_path = "$user", public|CREATE SCHEMA postgres|7.10.1'; do
  IFS='|' read -r db setting create versions <<<"$case"
  sql postgres "CREATE DATABASE $db" >/dev/null && sql "$db" "${setting//DB/$db}" >/dev/null &&
    sql "$db" "$create" >/dev/null || { fail "$db: cannot set up"; continue; }
  dburl="postgresql://postgres:$password@localhost/$db?host=$sockdir&port=$port"
  for v in $versions; do
    o=$oracle; [ "$v" = 7.10.1 ] && o=$oracle7
    "$o" --url "$dburl" --migrations "$work/empty" status >"$work/o.out" 2>&1
    "$bin" status --prisma-version "$v" --migrations-dir "$work/empty" --database-url "$dburl" >"$work/r.out" 2>"$work/r.err"
    [ "$(shown "$work/o.out")" = public ] && [ "$(shown "$work/r.out")" = public ] ||
      fail "$db ($setting), Prisma $v: Prisma '$(shown "$work/o.out")', rehearse '$(shown "$work/r.out")' (public expected): $(cat "$work/o.out" "$work/r.err")"
  done
done

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
echo "ok: schema= read as Prisma 6.19.3 reads it (6 values, and %00 refused); no schema=: \"public\" (6.19.3, 7.10.1)"
