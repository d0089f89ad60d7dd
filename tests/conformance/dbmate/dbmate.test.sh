#!/usr/bin/env bash
# dbmate.test.sh — `rehearse deploy --tool dbmate` against the real dbmate 2.36.0 (dbmate-oracle) on
# the same folders and the same starting databases: exit codes, stdout (durations masked), stderr,
# ledger rows and schema (rehearse snapshot). Cases: a clean deploy of a realistic history, a failing
# migration, CONCURRENTLY (alone with transaction:false; with a second statement: 25001), the repair
# (fix the file, migrate again), marker errors, two files of one version, out of order, a renamed file. Skips (77)
# when dbmate cannot be installed.
set -uo pipefail
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
here=$(cd "$(dirname "$0")" && pwd)
oracle="$here/dbmate-oracle"
"$oracle" --version >/dev/null || exit 77
work=$(mktemp -d)
chmod 0711 "$work" # the server account reaches the run folder below it
export REHEARSE_RUN_DIR="$work/run"
mkdir -p "$REHEARSE_RUN_DIR"
kept=
cleanup() { [ -n "$kept" ] && "$bin" clusters --stop "$kept" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
. "$here/../../lib/tied_cluster.sh" # the kept cluster goes with this script, however it ends
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# a kept cluster; psql and URLs for its superuser
mkdir -p "$work/empty"
"$bin" deploy --migrations-dir "$work/empty" --keep --superuser >/dev/null 2>"$work/keep.err" || { cat "$work/keep.err"; exit 1; }
kept=$(sed -n 's/.*clusters --stop \([^`]*\)`.*/\1/p' "$work/keep.err")
rh_tie_cluster "$kept"
url=$(sed -n 's/^ *\(postgresql:\/\/.*\)$/\1/p' "$work/keep.err")
sock=$(sed -n 's/.*host=\([^&]*\).*/\1/p' <<<"$url" | sed 's/%2F/\//g')
command -v psql >/dev/null || PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
# psql DB ARGS...: as the cluster's superuser, in database DB
psql() { local db=$1; shift; command psql -X -q -v ON_ERROR_STOP=1 -d "${url/\/postgres\?//$db?}" "$@"; }
# dbmate's driver (lib/pq) refuses the cluster's 1-iteration SCRAM verifiers: a role with 4096 iterations
verifier=$(python3 -c '
import hashlib,hmac,base64,os
s=os.urandom(16); k=hashlib.pbkdf2_hmac("sha256",b"dbmate",s,4096)
c=hmac.new(k,b"Client Key","sha256").digest(); sk=hmac.new(k,b"Server Key","sha256").digest()
b=lambda x: base64.b64encode(x).decode()
print("SCRAM-SHA-256$4096:%s$%s:%s" % (b(s), b(hashlib.sha256(c).digest()), b(sk)))')
psql postgres -c "CREATE ROLE dbm LOGIN SUPERUSER PASSWORD '$verifier'" || exit 1

n=0
# case NAME FOLDER: a fresh database each for rehearse and dbmate; compare everything
compare() {
    local name=$1 dir=$2
    n=$((n + 1))
    local a="r_$n" b="o_$n"
    psql postgres -c "CREATE DATABASE $a OWNER dbm" -c "CREATE DATABASE $b OWNER dbm" || return
    local ua="${url/\/postgres\?//$a?}" ub="postgres://dbm:dbmate@localhost:5432/$b?host=$sock&sslmode=disable"
    "$bin" deploy --tool dbmate --migrations-dir "$dir" --database-url "$ua" >"$work/r.out" 2>"$work/r.err"; local rr=$?
    "$oracle" --url "$ub" --migrations-dir "$dir" --no-dump-schema migrate >"$work/o.out" 2>"$work/o.err"; local ro=$?
    [ "$rr" = "$ro" ] || fail "$name: exit $rr, dbmate exits $ro"
    # rehearse's own line beside dbmate's error for a malformed marker (FILE:LINE: what was expected) is not
    # dbmate's: kept aside for the marker cases, left out of the comparison
    cp "$work/r.err" "$work/r.err.full"
    sed -E -i '/^rehearse: [0-9][^ ]*\.sql:[0-9]+: /d' "$work/r.err"
    sed -E 's/ in [0-9.]+(µs|ms|s)$/ in D/' -i "$work/r.out" "$work/o.out"
    cmp -s "$work/r.out" "$work/o.out" || fail "$name: stdout differs: $(diff "$work/r.out" "$work/o.out")"
    cmp -s "$work/r.err" "$work/o.err" || fail "$name: stderr differs: $(diff "$work/r.err" "$work/o.err")"
    local la lb
    la=$(psql "$a" -At -c "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations")
    lb=$(psql "$b" -At -c "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations")
    [ "$la" = "$lb" ] || fail "$name: ledger $la, dbmate's $lb"
    "$bin" snapshot --database-url "$ua" >"$work/ra.snap" 2>&1
    "$bin" snapshot --database-url "${url/\/postgres\?//$b?}" >"$work/ob.snap" 2>&1
    cmp -s "$work/ra.snap" "$work/ob.snap" || fail "$name: schema differs: $(diff "$work/ra.snap" "$work/ob.snap" | head -20)"
    LAST_R=$ua LAST_O=$ub
}
up() { printf -- '-- migrate:up%s\n%s\n\n-- migrate:down\n' "${3:-}" "$2" >"$1"; }

# 1. a realistic history applies cleanly, CONCURRENTLY alone in a transaction:false file
h="$work/h/db/migrations"; mkdir -p "$h"
up "$h/20240101000000_create_users.sql" "create table users (id bigserial primary key, email text not null unique, created_at timestamptz not null default now());"
up "$h/20240102000000_create_posts.sql" "create table posts (id bigserial primary key, user_id bigint not null references users(id), title text not null, body text);
create index posts_user_id on posts (user_id);"
up "$h/20240103000000_status_enum.sql" "create type post_status as enum ('draft', 'published');
alter table posts add column status post_status not null default 'draft';"
up "$h/20240104000000_posts_title_idx.sql" "create index concurrently posts_title on posts (title);" " transaction:false"
up "$h/20240105000000_view.sql" "create view published_posts as select * from posts where status = 'published';"
echo "not a migration" >"$h/README.md"
compare "clean deploy" "$h"
[ "$(grep -c '^Applied: ' "$work/o.out")" = 5 ] || fail "clean deploy: dbmate applied $(grep -c '^Applied: ' "$work/o.out") of 5"

# 2. a failing migration: Applied line printed, then the error; exit 2; the file's transaction rolled back
f="$work/f/db/migrations"; mkdir -p "$f"; cp "$h"/2024010[12]* "$f"/
up "$f/20240106000000_bad.sql" "alter table users add column age int;
alter table nosuch add column x int;"
compare "failing migration" "$f"
grep -q '^Error: pq: relation "nosuch" does not exist (42P01)$' "$work/o.err" || fail "dbmate's error text changed: $(cat "$work/o.err")"
# on dbmate's own side: its "Applied" line for the failing file comes before the error (stdout's last line),
# and one transaction per file: the earlier files' rows stay, the failing file's first statement is gone
[ "$(tail -n 1 "$work/o.out")" = "Applied: 20240106000000_bad.sql in D" ] ||
  fail "dbmate's last line before the error is not the failing file's Applied line: $(cat "$work/o.out")"
[ "$(psql "o_$n" -At -c "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations")|$(psql "o_$n" -At -c "select count(*) from pg_attribute where attrelid = 'users'::regclass and attname = 'age'")" = "20240101000000,20240102000000|0" ] ||
  fail "failing migration: dbmate did not keep the earlier files and roll back the failing one's"
# 5. the repair: fix the file, migrate again on the same databases
ra=$LAST_R rb=$LAST_O
up "$f/20240106000000_bad.sql" "alter table users add column age int;"
"$bin" deploy --tool dbmate --migrations-dir "$f" --database-url "$ra" >"$work/r.out" 2>"$work/r.err"; rr=$?
"$oracle" --url "$rb" --migrations-dir "$f" --no-dump-schema migrate >"$work/o.out" 2>"$work/o.err"; ro=$?
sed -E 's/ in [0-9.]+(µs|ms|s)$/ in D/' -i "$work/r.out" "$work/o.out"
[ "$rr" = 0 ] && [ "$ro" = 0 ] || fail "repair: exit $rr, dbmate $ro"
cmp -s "$work/r.out" "$work/o.out" || fail "repair: stdout differs: $(diff "$work/r.out" "$work/o.out")"

# status after the repair, and on an empty database (no ledger is created)
"$bin" status --tool dbmate --migrations-dir "$f" --database-url "$ra" >"$work/r.out" 2>"$work/r.err"; rr=$?
"$oracle" --url "$rb" --migrations-dir "$f" --no-dump-schema status >"$work/o.out" 2>"$work/o.err"; ro=$?
[ "$rr" = "$ro" ] && cmp -s "$work/r.out" "$work/o.out" && cmp -s "$work/r.err" "$work/o.err" ||
  fail "status: exit $rr/$ro: $(diff "$work/r.out" "$work/o.out")$(cat "$work/r.err")"
psql postgres -c "CREATE DATABASE s_r OWNER dbm" -c "CREATE DATABASE s_o OWNER dbm"
"$bin" status --tool dbmate --migrations-dir "$h" --database-url "${url/\/postgres\?//s_r?}" >"$work/r.out" 2>"$work/r.err"; rr=$?
"$oracle" --url "${rb/\/o_[0-9]*\?//s_o?}" --migrations-dir "$h" --no-dump-schema status >"$work/o.out" 2>"$work/o.err"; ro=$?
[ "$rr" = "$ro" ] && cmp -s "$work/r.out" "$work/o.out" || fail "status on an empty database: exit $rr/$ro: $(diff "$work/r.out" "$work/o.out")"
[ "$(psql s_r -At -c "select to_regclass('schema_migrations') is null")" = t ] || fail "status created the ledger"

# 3. CONCURRENTLY with a second statement, even with transaction:false: 25001
c="$work/c/db/migrations"; mkdir -p "$c"; cp "$h"/2024010[12]* "$c"/
up "$c/20240107000000_two.sql" "create index concurrently posts_title2 on posts (title);
select 1;" " transaction:false"
compare "CONCURRENTLY with a second statement" "$c"
grep -q '(25001)$' "$work/o.err" || fail "dbmate did not fail with 25001: $(cat "$work/o.err")"
c2="$work/c2/db/migrations"; mkdir -p "$c2"; cp "$h"/2024010[12]* "$c2"/
up "$c2/20240107000000_tx.sql" "create index concurrently posts_title2 on posts (title);"
compare "CONCURRENTLY in a transaction" "$c2"

# 4. marker errors
m="$work/m/db/migrations"; mkdir -p "$m"; cp "$h"/20240101* "$m"/
echo "create table x ();" >"$m/20240108000000_nomarker.sql"
compare "no up marker" "$m"
grep -qF 'rehearse: 20240108000000_nomarker.sql:1: expected `-- migrate:up` before the first statement; the file has no such line' "$work/r.err.full" ||
  fail "no up marker: rehearse names no line: $(cat "$work/r.err.full")"
m2="$work/m2/db/migrations"; mkdir -p "$m2"
printf -- '-- migrate:down\ndrop table x;\n-- migrate:up\ncreate table x ();\n' >"$m2/20240108000000_order.sql"
compare "down before up" "$m2"
grep -qF 'rehearse: 20240108000000_order.sql:1: expected nothing but blank lines before `-- migrate:up` (line 3)' "$work/r.err.full" ||
  fail "down before up: rehearse names no line: $(cat "$work/r.err.full")"
m3="$work/m3/db/migrations"; mkdir -p "$m3"
printf -- '-- migrate:up\ncreate table x ();\n' >"$m3/20240108000000_nodown.sql"
compare "no down marker (2.36 refuses it in migrate too)" "$m3"
grep -qF 'rehearse: 20240108000000_nodown.sql:1: `-- migrate:up` here, but no `-- migrate:down` line after it' "$work/r.err.full" ||
  fail "no down marker: rehearse names no line: $(cat "$work/r.err.full")"

# 5. the real dbmate run BY rehearse (--migrate-command) on a throwaway cluster, through the
# DATABASE_URL rehearse gives it: Go's lib/pq refuses fewer than 4096 SCRAM iterations, so rehearse
# must hand such a program the standard secrets (it failed with "invalid SCRAM-SHA-256 iteration count")
"$bin" deploy --migrations-dir "$h" --migrate-command "'$oracle' --migrations-dir . --no-dump-schema migrate" \
    >"$work/cmd.out" 2>"$work/cmd.err"; rc=$?
[ "$rc" = 0 ] || fail "--migrate-command dbmate: exit $rc: $(cat "$work/cmd.err")"
[ "$(grep -c '^Applied: ' "$work/cmd.out")" = 5 ] || fail "--migrate-command dbmate applied: $(cat "$work/cmd.out")"

# 6. rollback (rehearse rollback --tool dbmate vs dbmate rollback) on the same states: the newest applied
# file's down section, its row deleted; a failing down section; nothing applied
# rollback_cmp NAME DIR: one rollback on each of the last compare's two databases
rollback_cmp() {
    local name=$1 dir=$2
    "$bin" rollback --tool dbmate --migrations-dir "$dir" --database-url "$LAST_R" >"$work/r.out" 2>"$work/r.err"; local rr=$?
    "$oracle" --url "$LAST_O" --migrations-dir "$dir" --no-dump-schema rollback >"$work/o.out" 2>"$work/o.err"; local ro=$?
    [ "$rr" = "$ro" ] || fail "$name: exit $rr, dbmate exits $ro ($(cat "$work/r.err") / $(cat "$work/o.err"))"
    sed -E 's/ in [0-9.]+(µs|ms|s)$/ in D/' -i "$work/r.out" "$work/o.out"
    cmp -s "$work/r.out" "$work/o.out" || fail "$name: stdout differs: $(diff "$work/r.out" "$work/o.out")"
    cmp -s "$work/r.err" "$work/o.err" || fail "$name: stderr differs: $(diff "$work/r.err" "$work/o.err")"
    local da="r_$n" db="o_$n" # the last compare's databases
    [ "$(psql "$da" -At -c "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations")" = \
      "$(psql "$db" -At -c "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations")" ] || fail "$name: ledgers differ"
    "$bin" snapshot --database-url "$LAST_R" >"$work/ra.snap" 2>&1
    "$bin" snapshot --database-url "${url/\/postgres\?//$db?}" >"$work/ob.snap" 2>&1
    cmp -s "$work/ra.snap" "$work/ob.snap" || fail "$name: schema differs: $(diff "$work/ra.snap" "$work/ob.snap" | head -20)"
}
rb="$work/rb/db/migrations"; mkdir -p "$rb"; cp "$h"/20240101* "$h"/20240102* "$rb"/
printf -- '-- migrate:up\ncreate table t3 (id int);\n-- migrate:down\ndrop table nosuch;\n' >"$rb/20240109000000_bad_down.sql"
printf -- '-- migrate:up transaction:false\ncreate index concurrently users_email2 on users (email);\n-- migrate:down transaction:false\ndrop index concurrently users_email2;\n' >"$rb/20240108000000_conc.sql"
compare "rollback: the history applied" "$rb"
rollback_cmp "rollback: a failing down section (row stays, exit 2)" "$rb"
grep -q '^Rolled back: 20240109000000_bad_down.sql in D$' "$work/o.out" || fail "dbmate did not print Rolled back for the failing down: $(cat "$work/o.out")"
rm "$rb/20240109000000_bad_down.sql"  # the file gone, its row stays: dbmate passes over it
rollback_cmp "rollback: CONCURRENTLY down with transaction:false" "$rb"
rollback_cmp "rollback: the next one" "$rb"
rollback_cmp "rollback: the first one" "$rb"
rollback_cmp "rollback: nothing left (the row without a file is passed over)" "$rb"

# 7. a file edited after it was applied: migrate does not run it again and says nothing (exit 0); what
# `rehearse check` reports as edited-after-apply
e="$work/e/db/migrations"; mkdir -p "$e"; cp "$h"/20240101* "$h"/20240102* "$e"/
compare "edited after apply: the history applied" "$e"
ea=$LAST_R eb=$LAST_O edb="o_$n"
up "$e/20240102000000_create_posts.sql" "create table posts (id bigserial primary key, user_id bigint not null references users(id), title text not null, body text);
create index posts_user_id on posts (user_id);
create table edited (id int);"
"$bin" deploy --tool dbmate --migrations-dir "$e" --database-url "$ea" >"$work/r.out" 2>"$work/r.err"; rr=$?
"$oracle" --url "$eb" --migrations-dir "$e" --no-dump-schema migrate >"$work/o.out" 2>"$work/o.err"; ro=$?
[ "$rr" = 0 ] && [ "$ro" = 0 ] || fail "edited after apply: exit $rr, dbmate exits $ro"
cmp -s "$work/r.out" "$work/o.out" && cmp -s "$work/r.err" "$work/o.err" ||
  fail "edited after apply: output differs: $(cat "$work/r.out" "$work/r.err") vs $(cat "$work/o.out" "$work/o.err")"
[ "$(psql "$edb" -At -c "select to_regclass('edited') is null")" = t ] || fail "edited after apply: dbmate ran the edited file"

# 8. two files of one version (rehearse refuses the folder, exit 2; its message states these two facts):
# on an empty database dbmate applies the first, then the second fails on the ledger's key (23505, exit 2,
# the second's table rolled back); where the version is applied it passes over the other, exit 0
dv="$work/dv"; mkdir -p "$dv/one"
up "$dv/20240101000000_a.sql" "create table dv_a (id int);"
up "$dv/20240101000000_b.sql" "create table dv_b (id int);"
cp "$dv/20240101000000_a.sql" "$dv/one/"
psql postgres -c "CREATE DATABASE dv_empty OWNER dbm" -c "CREATE DATABASE dv_applied OWNER dbm" || exit 1
ue="postgres://dbm:dbmate@localhost:5432/dv_empty?host=$sock&sslmode=disable"
ua="postgres://dbm:dbmate@localhost:5432/dv_applied?host=$sock&sslmode=disable"
"$oracle" --url "$ue" --migrations-dir "$dv" --no-dump-schema migrate >"$work/o.out" 2>"$work/o.err"; ro=$?
[ "$ro" = 2 ] && grep -q '^Applied: 20240101000000_b.sql' "$work/o.out" &&
  grep -q 'duplicate key value violates unique constraint "schema_migrations_pkey" (23505)' "$work/o.err" &&
  [ "$(psql dv_empty -At -c "select to_regclass('dv_a') is not null and to_regclass('dv_b') is null")" = t ] ||
  fail "duplicate version, empty database: dbmate exit $ro: $(cat "$work/o.out" "$work/o.err")"
"$oracle" --url "$ua" --migrations-dir "$dv/one" --no-dump-schema migrate >/dev/null 2>&1 || fail "duplicate version: first deploy"
"$oracle" --url "$ua" --migrations-dir "$dv" --no-dump-schema migrate >"$work/o.out" 2>"$work/o.err"; ro=$?
[ "$ro" = 0 ] && [ ! -s "$work/o.out" ] && [ ! -s "$work/o.err" ] &&
  [ "$(psql dv_applied -At -c "select to_regclass('dv_b') is null")" = t ] ||
  fail "duplicate version, applied: dbmate exit $ro: $(cat "$work/o.out" "$work/o.err")"
"$bin" deploy --tool dbmate --migrations-dir "$dv" --database-url "${url/\/postgres\?//dv_applied?}" >"$work/r.out" 2>&1; rr=$?
[ "$rr" = 2 ] && grep -q "20240101000000_b.sql: version 20240101000000 is also 20240101000000_a.sql's: dbmate keeps one ledger row per version" "$work/r.out" ||
  fail "duplicate version: rehearse exit $rr: $(cat "$work/r.out")"

# 9. a file merged with a version older than the newest applied one: migrate applies it after that one, exit 0,
# no word but its Applying/Applied lines (what `rehearse check` and `history --tool dbmate` report as
# out-of-order); `migrate --strict` refuses it
oo="$work/oo"; mkdir -p "$oo"
up "$oo/20240101000000_a.sql" "create table oo_a (id int);"
up "$oo/20240103000000_c.sql" "create table oo_c (id int);"
compare "out of order: before the merge" "$oo"
oa=$LAST_R ob=$LAST_O
up "$oo/20240102000000_b.sql" "create table oo_b (id int);"
"$bin" deploy --tool dbmate --migrations-dir "$oo" --database-url "$oa" >"$work/r.out" 2>"$work/r.err"; rr=$?
"$oracle" --url "$ob" --migrations-dir "$oo" --no-dump-schema migrate >"$work/o.out" 2>"$work/o.err"; ro=$?
sed -E 's/ in [0-9.]+(µs|ms|s)$/ in D/' -i "$work/r.out" "$work/o.out"
[ "$rr" = 0 ] && [ "$ro" = 0 ] && cmp -s "$work/r.out" "$work/o.out" && cmp -s "$work/r.err" "$work/o.err" &&
  grep -q '^Applied: 20240102000000_b.sql' "$work/o.out" ||
  fail "out of order: exit $rr, dbmate $ro: $(cat "$work/r.out" "$work/r.err") vs $(cat "$work/o.out" "$work/o.err")"

# 10. a file renamed (same bytes, new name): with the same version dbmate finds it applied and runs nothing
# (exit 0, no output); with a new version it runs the same SQL again (Applying/Applied, exit 0; the old
# version's row stays). What `history --tool dbmate` and check report as `renamed`: a note; a hazard
rn="$work/rn"; mkdir -p "$rn"
up "$rn/20240101000000_t.sql" "create table rn_t (v int);"
up "$rn/20240102000000_one.sql" "insert into rn_t values (1);"
compare "renamed: before" "$rn"
rna=$LAST_R rnb=$LAST_O rnr="r_$n" rno="o_$n"
rename_cmp() { # NAME ROWS: one migrate each on the two databases, same texts, ROWS rows in rn_t on both
    "$bin" deploy --tool dbmate --migrations-dir "$rn" --database-url "$rna" >"$work/r.out" 2>"$work/r.err"; rr=$?
    "$oracle" --url "$rnb" --migrations-dir "$rn" --no-dump-schema migrate >"$work/o.out" 2>"$work/o.err"; ro=$?
    sed -E 's/ in [0-9.]+(µs|ms|s)$/ in D/' -i "$work/r.out" "$work/o.out"
    [ "$rr" = 0 ] && [ "$ro" = 0 ] && cmp -s "$work/r.out" "$work/o.out" && cmp -s "$work/r.err" "$work/o.err" &&
      [ "$(psql "$rno" -At -c "select count(*) from rn_t")" = "$2" ] && [ "$(psql "$rnr" -At -c "select count(*) from rn_t")" = "$2" ] ||
      fail "$1: exit $rr, dbmate $ro: $(cat "$work/r.out" "$work/r.err") vs $(cat "$work/o.out" "$work/o.err")"
}
mv "$rn/20240102000000_one.sql" "$rn/20240102000000_insert_one.sql"
rename_cmp "renamed, same version" 1
[ ! -s "$work/o.out" ] && [ ! -s "$work/o.err" ] || fail "renamed, same version: dbmate says $(cat "$work/o.out" "$work/o.err")"
mv "$rn/20240102000000_insert_one.sql" "$rn/20240103000000_insert_one.sql"
rename_cmp "renamed, new version" 2
grep -q '^Applied: 20240103000000_insert_one.sql in D$' "$work/o.out" &&
  [ "$(psql "$rno" -At -c "select string_agg(version, ',' order by version) from schema_migrations")" = 20240101000000,20240102000000,20240103000000 ] ||
  fail "renamed, new version: dbmate did not run it again: $(cat "$work/o.out")"
# renamed and edited with its version kept: dbmate finds the version applied and never runs the new bytes (exit 0,
# no output): history --tool dbmate and check report it as a `renamed` hazard
rm "$rn/20240103000000_insert_one.sql"
up "$rn/20240103000000_insert_more.sql" "insert into rn_t values (1); insert into rn_t values (2);"
rename_cmp "renamed and edited, same version" 2
[ ! -s "$work/o.out" ] && [ ! -s "$work/o.err" ] || fail "renamed and edited, same version: dbmate says $(cat "$work/o.out" "$work/o.err")"

# The help goes to a file first: under pipefail, `grep -q` quitting at its match can kill the writer with SIGPIPE.
"$oracle" migrate --help >"$work/help.out" 2>&1
grep -q -- '--strict .*out of order' "$work/help.out" ||
  fail "out of order: dbmate migrate has no --strict"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: dbmate conformance ($n cases + repair + rollback + edited + duplicate versions + out of order + renamed)"
