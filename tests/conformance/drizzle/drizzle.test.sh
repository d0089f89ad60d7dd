#!/usr/bin/env bash
# drizzle.test.sh — `rehearse deploy --tool drizzle` against the real drizzle-kit migrate (drizzle-oracle)
# on the same folders and starting databases: exit codes, the success line (drizzle-kit's last spinner
# frame), silence on failure, ledger rows (hash, created_at) and schema (rehearse snapshot). Cases: a
# clean deploy of a realistic history, a failing migration (one transaction: nothing stays) and its
# repair, CONCURRENTLY (fails inside the run's transaction), the older-`when` skip, an edited and a renamed
# entry; and the facts on drizzle-kit's own side (hash = the file's SHA-256, created_at = `when`,
# one transaction, 25001 in the server log). Skips (77) when
# drizzle-kit cannot be installed.
set -uo pipefail
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
here=$(cd "$(dirname "$0")" && pwd)
oracle="$here/drizzle-oracle"
work=$(mktemp -d)
chmod 0711 "$work" # the server account reaches the run folder below it
mkdir -p "$work/empty/meta" && echo '{"entries":[]}' >"$work/empty/meta/_journal.json"
DATABASE_URL=postgres://nobody@127.0.0.1:1/x "$oracle" "$work/empty" >/dev/null 2>&1
[ $? = 77 ] && { rm -rf "$work"; exit 77; }
export REHEARSE_RUN_DIR="$work/run"
mkdir -p "$REHEARSE_RUN_DIR"
kept=
cleanup() { [ -n "$kept" ] && "$bin" clusters --stop "$kept" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
. "$here/../../lib/tied_cluster.sh" # the kept cluster goes with this script, however it ends
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mkdir -p "$work/none"
"$bin" deploy --migrations-dir "$work/none" --keep --superuser >/dev/null 2>"$work/keep.err" || { cat "$work/keep.err"; exit 1; }
kept=$(sed -n 's/.*clusters --stop \([^`]*\)`.*/\1/p' "$work/keep.err")
rh_tie_cluster "$kept"
url=$(sed -n 's/^ *\(postgresql:\/\/.*\)$/\1/p' "$work/keep.err")
command -v psql >/dev/null || PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
psql() { local db=$1; shift; command psql -X -q -v ON_ERROR_STOP=1 -d "${url/\/postgres\?//$db?}" "$@"; }

# drizzle-kit's last spinner frame, as a line, when it is the success frame; "" otherwise
last_frame() { local f; f=$(sed 's/.*\x1b\[1G//' "$1" | tail -n 1); [[ $f == *"applied successfully!" ]] && printf '%s\n' "$f"; }
ledger() { psql "$1" -At -c "SELECT string_agg(hash || ':' || created_at, ',' ORDER BY id) FROM drizzle.__drizzle_migrations"; }

n=0
# compare NAME DIR [A B]: deploy DIR with rehearse on database A and drizzle-kit on B (fresh ones by default)
compare() {
    local name=$1 dir=$2 a=${3:-} b=${4:-}
    if [ -z "$a" ]; then
        n=$((n + 1)); a="r_$n" b="o_$n"
        psql postgres -c "CREATE DATABASE $a" -c "CREATE DATABASE $b" || return
    fi
    "$bin" deploy --tool drizzle --migrations-dir "$dir" --database-url "${url/\/postgres\?//$a?}" >"$work/r.out" 2>"$work/r.err"; local rr=$?
    DATABASE_URL="${url/\/postgres\?//$b?}" "$oracle" "$dir" >"$work/o.out" 2>"$work/o.err"; local ro=$?
    [ "$rr" = "$ro" ] || fail "$name: exit $rr, drizzle-kit exits $ro ($(cat "$work/r.err"))"
    [ "$(cat "$work/r.out")" = "$(last_frame "$work/o.out")" ] || fail "$name: stdout '$(cat "$work/r.out")', drizzle-kit's '$(last_frame "$work/o.out")'"
    [ -s "$work/o.err" ] && fail "$name: drizzle-kit wrote to stderr: $(cat "$work/o.err")"
    [ "$(ledger "$a")" = "$(ledger "$b")" ] || fail "$name: ledger $(ledger "$a"), drizzle-kit's $(ledger "$b")"
    "$bin" snapshot --database-url "${url/\/postgres\?//$a?}" >"$work/a.snap" 2>&1
    "$bin" snapshot --database-url "${url/\/postgres\?//$b?}" >"$work/b.snap" 2>&1
    cmp -s "$work/a.snap" "$work/b.snap" || fail "$name: schema differs: $(diff "$work/a.snap" "$work/b.snap" | head -20)"
    LAST_A=$a LAST_B=$b
}
# journal DIR TAG:WHEN ...
journal() {
    local dir=$1; shift; mkdir -p "$dir/meta"
    local e="" i=0
    for tw in "$@"; do
        e="$e${e:+,}{\"idx\":$i,\"version\":\"7\",\"when\":${tw#*:},\"tag\":\"${tw%%:*}\",\"breakpoints\":true}"; i=$((i + 1))
    done
    printf '{"version":"7","dialect":"postgresql","entries":[%s]}\n' "$e" >"$dir/meta/_journal.json"
}
bp=$'\n--> statement-breakpoint\n'

# 1. a realistic history (as drizzle-kit generate writes it)
h="$work/h"; mkdir -p "$h"
printf '%s' "CREATE TYPE \"public\".\"status\" AS ENUM('draft', 'published');${bp}CREATE TABLE \"users\" (
	\"id\" serial PRIMARY KEY NOT NULL,
	\"email\" text NOT NULL,
	CONSTRAINT \"users_email_unique\" UNIQUE(\"email\")
);${bp}CREATE TABLE \"posts\" (
	\"id\" serial PRIMARY KEY NOT NULL,
	\"user_id\" integer NOT NULL,
	\"title\" text NOT NULL,
	\"status\" \"status\" DEFAULT 'draft' NOT NULL
);${bp}ALTER TABLE \"posts\" ADD CONSTRAINT \"posts_user_id_users_id_fk\" FOREIGN KEY (\"user_id\") REFERENCES \"public\".\"users\"(\"id\") ON DELETE no action ON UPDATE no action;" >"$h/0000_init.sql"
printf '%s' "ALTER TABLE \"users\" ADD COLUMN \"name\" text;${bp}CREATE INDEX \"posts_title_idx\" ON \"posts\" USING btree (\"title\");" >"$h/0001_name.sql"
journal "$h" 0000_init:1700000000000 0001_name:1700000100000
compare "clean deploy" "$h"
# drizzle-kit's own rows: hash = the SHA-256 of the file's bytes, created_at = the entry's journal `when`
want="$(sha256sum <"$h/0000_init.sql" | cut -d' ' -f1):1700000000000,$(sha256sum <"$h/0001_name.sql" | cut -d' ' -f1):1700000100000"
[ "$(ledger "$LAST_B")" = "$want" ] || fail "drizzle-kit's ledger $(ledger "$LAST_B"), not the files' SHA-256 and whens $want"

# 2. a failing migration: nothing of the run stays, no text, exit 1; then the repair on the same databases
f="$work/f"; mkdir -p "$f"; cp "$h"/*.sql "$f"/
printf '%s' "CREATE TABLE \"t3\" (\"id\" integer);${bp}ALTER TABLE \"nosuch\" ADD COLUMN \"x\" integer;" >"$f/0002_bad.sql"
journal "$f" 0000_init:1700000000000 0001_name:1700000100000 0002_bad:1700000200000
compare "failing migration" "$f"
# drizzle-kit ran the three pending entries in ONE transaction: nothing of the first two stayed either
[ "$(psql "$LAST_B" -At -c "select count(*) from drizzle.__drizzle_migrations")|$(psql "$LAST_B" -At -c "select to_regclass('users') is null and to_regclass('t3') is null")" = "0|t" ] ||
  fail "failing migration: drizzle-kit kept part of the run"
printf '%s' "CREATE TABLE \"t3\" (\"id\" integer);" >"$f/0002_bad.sql"
compare "repair" "$f" "$LAST_A" "$LAST_B"

# 3. CONCURRENTLY cannot run in the run's transaction
c="$work/c"; mkdir -p "$c"; cp "$h"/*.sql "$c"/
printf '%s' "CREATE INDEX CONCURRENTLY \"users_name_idx\" ON \"users\" (\"name\");" >"$c/0002_conc.sql"
journal "$c" 0000_init:1700000000000 0001_name:1700000100000 0002_conc:1700000200000
compare "CONCURRENTLY" "$c"
grep -q 'SQLSTATE 25001' "$work/r.err" || fail "CONCURRENTLY: rehearse does not say 25001: $(cat "$work/r.err")"
# drizzle-kit prints no error: its 25001 is in the server's log (the SQLSTATE shown with verbose errors)
log="$(sed 's/.*host=//; s/&.*//; s/%2F/\//g' <<<"$url")/server.log"
psql postgres -c "CREATE DATABASE c_log" -c "ALTER DATABASE c_log SET log_error_verbosity = verbose"
before=$(grep -c 'ERROR:  25001: CREATE INDEX CONCURRENTLY cannot run inside a transaction block' "$log")
DATABASE_URL="${url/\/postgres\?//c_log?}" "$oracle" "$c" >/dev/null 2>&1
[ "$(grep -c 'ERROR:  25001: CREATE INDEX CONCURRENTLY cannot run inside a transaction block' "$log")" = $((before + 1)) ] ||
  fail "CONCURRENTLY: drizzle-kit's run did not fail with 25001 in $log: $(tail -5 "$log")"

# 4. the older-`when` skip: deploy h, then a branch entry with an older when and a newer one
compare "before the merge" "$h"
s="$work/s"; mkdir -p "$s"; cp "$h"/*.sql "$s"/
printf '%s' "CREATE TABLE \"branch\" (\"id\" integer);" >"$s/0002_branch.sql"
printf '%s' "CREATE TABLE \"t4\" (\"id\" integer);" >"$s/0003_t4.sql"
journal "$s" 0000_init:1700000000000 0001_name:1700000100000 0002_branch:1700000050000 0003_t4:1700000200000
compare "older when skipped" "$s" "$LAST_A" "$LAST_B"
grep -q '^rehearse: skipped: 0002_branch: ' "$work/r.err" || fail "the skip is not reported: $(cat "$work/r.err")"
[ "$(psql "$LAST_B" -At -c "select to_regclass('branch') is null")" = t ] || fail "drizzle-kit applied the older entry"

# 5. an entry edited after it was applied: migrate does not run it again and says nothing but its success
# line (exit 0); the ledger keeps the old hash. What `rehearse check` reports as edited-after-apply
compare "edited after apply: the history applied" "$h"
e="$work/e"; mkdir -p "$e"; cp -r "$h"/. "$e"/
printf '%s' "ALTER TABLE \"users\" ADD COLUMN \"nick\" text;" >"$e/0001_name.sql"
compare "edited after apply" "$e" "$LAST_A" "$LAST_B"
[ "$(psql "$LAST_B" -At -c "select count(*) from pg_attribute where attrelid = 'users'::regclass and attname = 'nick'")" = 0 ] ||
  fail "edited after apply: drizzle-kit ran the edited entry again"

# 6. an entry renamed (same bytes, new tag): the ledger keeps the hash and the `when`, never the tag. With
# its `when` unchanged migrate runs nothing again (success line, exit 0); with a `when` later than the
# newest row it runs the same SQL again. What `history --tool drizzle` and check report as `renamed`: a
# note; a hazard
compare "renamed: the history applied" "$h"
rn="$work/rn"; mkdir -p "$rn"; cp "$h"/0000_init.sql "$rn"/
printf '%s' "INSERT INTO \"users\" (\"email\") SELECT 'u' || count(*) || '@example.com' FROM \"users\";" >"$rn/0001_one.sql"
journal "$rn" 0000_init:1700000000000 0001_one:1700000100000
compare "renamed: before" "$rn"
rnr=$LAST_A rno=$LAST_B
mv "$rn/0001_one.sql" "$rn/0001_insert_one.sql"
journal "$rn" 0000_init:1700000000000 0001_insert_one:1700000100000
compare "renamed, same when" "$rn" "$rnr" "$rno"
[ "$(psql "$rno" -At -c "select count(*) from users")" = 1 ] || fail "renamed, same when: drizzle-kit ran it again"
journal "$rn" 0000_init:1700000000000 0001_insert_one:1700000300000
compare "renamed, later when" "$rn" "$rnr" "$rno"
[ "$(psql "$rno" -At -c "select count(*) from users")" = 2 ] &&
  [ "$(psql "$rno" -At -c "select count(*) from drizzle.__drizzle_migrations")" = 3 ] ||
  fail "renamed, later when: drizzle-kit did not run it again: users $(psql "$rno" -At -c "select count(*) from users"), ledger $(ledger "$rno")"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: drizzle conformance ($n databases, 11 comparisons)"
