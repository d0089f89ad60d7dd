#!/usr/bin/env bash
# tools_bad_input.test.sh — bad migration folders of other tools (issue 12, Bad input): two tools in one
# folder, a drizzle journal that is not JSON or names a missing file, a file the journal does not list,
# a dbmate file with a malformed marker. Each: exit 2 with the file named (or, where the tool itself
# passes over it, a note naming it); nothing left running.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cli_test.sh" # bin, work, REHEARSE_RUN_DIR, fail
journal() { printf '{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1700000000000,"tag":"%s","breakpoints":true}]}\n' "$2" >"$1/meta/_journal.json"; }

# two tools claim one folder: exit 2 naming both
both="$work/both"; mkdir -p "$both/meta"
printf -- '-- migrate:up\ncreate table a (id int);\n-- migrate:down\n' >"$both/20240101000000_a.sql"
echo 'CREATE TABLE "b" ("id" integer);' >"$both/0000_b.sql"; journal "$both" 0000_b
out=$("$bin" deploy --migrations-dir "$both" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "$both: holds both dbmate and drizzle migrations; say which with --tool NAME" <<<"$out" ||
  fail "two tools in one folder: exit $rc: $out"

# a journal that names a missing file: exit 2 naming the journal and the entry
miss="$work/miss"; mkdir -p "$miss/meta"; journal "$miss" 0000_gone
out=$("$bin" deploy --tool drizzle --migrations-dir "$miss" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "$miss/meta/_journal.json: entry 0 names 0000_gone.sql, which cannot be read" <<<"$out" ||
  fail "journal naming a missing file: exit $rc: $out"

# a journal that is not JSON: exit 2 naming it
bad="$work/bad"; mkdir -p "$bad/meta"; echo '{"entries": [' >"$bad/meta/_journal.json"
out=$("$bin" deploy --migrations-dir "$bad" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "$bad/meta/_journal.json: not JSON" <<<"$out" || fail "journal not JSON: exit $rc: $out"

# a .sql file the journal does not list: drizzle-kit passes over it; rehearse names it (a note) and goes on
unl="$work/unl"; mkdir -p "$unl/meta"; echo 'CREATE TABLE "a" ("id" integer);' >"$unl/0000_a.sql"; journal "$unl" 0000_a
echo 'CREATE TABLE "x" ("id" integer);' >"$unl/0001_handwritten.sql"
out=$("$bin" deploy --tool drizzle --migrations-dir "$unl" 2>&1); rc=$?
[ $rc = 0 ] && grep -q "$unl/0001_handwritten.sql is not in meta/_journal.json: drizzle-kit never applies it" <<<"$out" ||
  fail "a file missing from the journal: exit $rc: $out"

# a malformed dbmate marker: dbmate's own error after the file's Applying line, exit 2 (as dbmate)
mk="$work/mk"; mkdir -p "$mk"
printf -- '-- migrate:up\ncreate table a (id int);\n-- migrate:down\n' >"$mk/20240101000000_a.sql"
printf -- '--migrate:upp\ncreate table b (id int);\n' >"$mk/20240102000000_b.sql"
out=$("$bin" deploy --tool dbmate --migrations-dir "$mk" 2>&1); rc=$?
[ $rc = 2 ] && grep -q '^Applying: 20240102000000_b.sql$' <<<"$out" &&
  grep -q "^Error: dbmate requires each migration to define an up block with '-- migrate:up'$" <<<"$out" ||
  fail "a malformed marker: exit $rc: $out"

# an unknown tool: exit 2 listing the known ones
out=$("$bin" deploy --tool flyway --migrations-dir "$mk" 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'known: prisma, dbmate, drizzle, command' <<<"$out" || fail "unknown tool: exit $rc: $out"

[ -z "$(ls -A "$REHEARSE_RUN_DIR")" ] || fail "left in the run folder: $(ls -A "$REHEARSE_RUN_DIR")"
[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: bad input of other tools"
