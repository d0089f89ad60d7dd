#!/usr/bin/env bash
# tools_bad_input.test.sh — bad migration folders of other tools (issue 12, Bad input): two tools in one
# folder, a drizzle journal that is not JSON or names a missing file, a file the journal does not list,
# a dbmate file with a malformed marker, duplicate dbmate versions, a folder of no known tool. Each: exit 2
# with the file named (or, where the tool itself passes over it, a note naming it); nothing left running,
# no temporary folder left. At a revision, through every command that loads a set (deploy, status,
# history, check, plan, snapshot --rev, diff rev:), each detecting the tool itself, and `run` (a scenario
# names its tool).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cli_test.sh" # bin, work, REHEARSE_RUN_DIR, fail
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp" # rehearse's temporary folders: none may be left
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
  grep -q "^Error: dbmate requires each migration to define an up block with '-- migrate:up'$" <<<"$out" &&
  grep -qF "rehearse: 20240102000000_b.sql:1: \`--migrate:upp\` is not dbmate's marker: expected \`-- migrate:up\` (in $mk)" <<<"$out" ||
  fail "a malformed marker: exit $rc: $out"

# an unknown tool: exit 2 listing the known ones
out=$("$bin" deploy --tool flyway --migrations-dir "$mk" 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'known: prisma, dbmate, drizzle, command' <<<"$out" || fail "unknown tool: exit $rc: $out"

# duplicate dbmate versions: dbmate would apply one and count the other as applied; rehearse refuses, naming both
dup="$work/dup"; mkdir -p "$dup"
printf -- '-- migrate:up\ncreate table a (id int);\n-- migrate:down\n' >"$dup/20240101000000_a.sql"
printf -- '-- migrate:up\ncreate table b (id int);\n-- migrate:down\n' >"$dup/20240101000000_b.sql"
out=$("$bin" deploy --migrations-dir "$dup" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "$dup/20240101000000_b.sql: version 20240101000000 is also 20240101000000_a.sql's" <<<"$out" &&
  grep -qF "rehearse: note: $dup holds dbmate migrations (a VERSION_name.sql file with a -- migrate:up line) (detected; give --tool NAME to say otherwise)" <<<"$out" ||
  fail "duplicate dbmate versions: exit $rc: $out"
# plan of a folder says what it detected and why, as deploy does
out=$("$bin" plan --migrations-dir "$unl" 2>&1); rc=$?
[ $rc = 0 ] && grep -qF "rehearse: note: $unl holds drizzle migrations (meta/_journal.json) (detected; give --tool NAME to say otherwise)" <<<"$out" ||
  fail "plan of a drizzle folder: exit $rc: $out"

# a folder of no known tool (Flyway's files): exit 2 naming a file, not Prisma's "No migration found"
fly="$work/fly"; mkdir -p "$fly"; echo 'create table a (id int);' >"$fly/V1__init.sql"
for cmd in deploy plan; do
  out=$("$bin" $cmd --migrations-dir "$fly" 2>&1); rc=$?
  [ $rc = 2 ] && grep -q "$fly: no known migration tool's files here (known: prisma, dbmate, drizzle, command): V1__init.sql is none of theirs" <<<"$out" ||
    fail "$cmd of a folder of no known tool: exit $rc: $out"
done

# the same bad folders at revisions of one repository, through every command that loads a set
repo="$work/repo"; mkdir -p "$repo"
commit() { git -C "$repo" add -A && git -C "$repo" -c user.email=t@example.com -c user.name=t commit -qm "$1" && git -C "$repo" tag "$1"; }
git -C "$repo" init -q; echo readme >"$repo/README"; commit empty
mkdir -p "$repo/m/meta"; cp "$both"/*.sql "$repo/m/"; cp "$both/meta/_journal.json" "$repo/m/meta/"; commit both
rm -rf "$repo/m"; mkdir -p "$repo/m/meta"; journal "$repo/m" 0000_gone; commit journal-missing
rm -rf "$repo/m"; mkdir -p "$repo/m"; cp "$dup"/*.sql "$repo/m/"; commit dup
rm -rf "$repo/m"; mkdir -p "$repo/m"; cp "$fly"/*.sql "$repo/m/"; commit flyway
rm -rf "$repo/m"; cp -r "$mk" "$repo/m"; commit marker
rm -rf "$repo/m"; cp -r "$unl" "$repo/m"; commit unlisted
scn="$work/scn"; mkdir -p "$scn"
expect_everywhere() { # TAG RC TEXT [TOOL]: every command exits RC and says TEXT (run: a scenario of TOOL)
  local tag=$1 want=$2 text=$3 tool=${4:-} cmd run=
  if [ -n "$tool" ]; then
    printf 'scenario "bad %s"\nrepo %s\ntool %s\nmigrations m\ncheckout %s\ndeploy\n' "$tag" "$repo" "$tool" "$tag" >"$scn/$tag.scenario"
    run="run --allow-path $repo $scn/$tag.scenario"
  fi
  local status="status --repo $repo --rev $tag --migrations m"
  [ "$tool" = drizzle ] && status= # rehearse plays no drizzle status (drizzle-kit has none)
  for cmd in "deploy --repo $repo --rev $tag --migrations m" ${status:+"$status"} \
             "history --repo $repo --from empty --to $tag --migrations m" \
             "check --repo $repo --base empty --head $tag --migrations m" "plan --repo $repo --rev $tag --migrations m" \
             "snapshot --repo $repo --rev $tag --migrations m" "diff --repo $repo --migrations m rev:$tag rev:$tag" \
             ${run:+"$run"}; do
    out=$("$bin" $cmd 2>&1); rc=$?
    [ $rc = "$want" ] && grep -qF -- "$text" <<<"$out" || fail "$tag: $cmd: exit $rc (want $want, '$text'): $out"
  done
}
expect_everywhere both 2 "holds dbmate migrations and m holds drizzle migrations; say which with --tool NAME"
expect_everywhere journal-missing 2 "m/meta/_journal.json at " drizzle
expect_everywhere journal-missing 2 "entry 0 names 0000_gone.sql, which cannot be read: no such file" drizzle
expect_everywhere dup 2 "m/20240101000000_b.sql at " dbmate
expect_everywhere dup 2 "version 20240101000000 is also 20240101000000_a.sql's" dbmate
expect_everywhere flyway 2 "no known migration tool's files here (known: prisma, dbmate, drizzle, command): V1__init.sql is none of theirs"
# a file missing from the journal: drizzle-kit passes over it; every command goes on and names it
out=$("$bin" deploy --repo "$repo" --rev unlisted --migrations m 2>&1); rc=$?
[ $rc = 0 ] && grep -q "rehearse: note: m at unlisted (.*) holds drizzle migrations (meta/_journal.json) (detected" <<<"$out" &&
  grep -q "m/0001_handwritten.sql at unlisted (.*) is not in meta/_journal.json: drizzle-kit never applies it" <<<"$out" ||
  fail "deploy --rev unlisted: exit $rc: $out"
# check: an error when head brings the file (production would never run it), a warning when base had it
out=$("$bin" check --repo "$repo" --base empty --head unlisted --migrations m --format json 2>&1); rc=$?
flat=$(tr -d '\n' <<<"$out")
[ $rc = 1 ] && grep -Eq '"level": *"error", *"step": *"d", *"code": *"not-applied",[^}]*0001_handwritten.sql[^}]*it is new at head, so production would never run it' <<<"$flat" ||
  fail "check --head unlisted: exit $rc: $out"
out=$("$bin" check --repo "$repo" --base unlisted --head unlisted --migrations m --format json 2>&1); rc=$?
flat=$(tr -d '\n' <<<"$out")
[ $rc = 0 ] && grep -Eq '"level": *"warning", *"step": *"d", *"code": *"not-applied",[^}]*0001_handwritten.sql' <<<"$flat" &&
  ! grep -q 'new at head' <<<"$out" || fail "check --base unlisted --head unlisted: exit $rc: $out"
# a malformed marker at a revision: deploy as dbmate (its error, exit 2); plan and check name the file
out=$("$bin" deploy --repo "$repo" --rev marker --migrations m 2>&1); rc=$?
[ $rc = 2 ] && grep -q '^Applying: 20240102000000_b.sql$' <<<"$out" &&
  grep -q "^Error: dbmate requires each migration to define an up block with '-- migrate:up'$" <<<"$out" ||
  fail "deploy --rev marker: exit $rc: $out"
out=$("$bin" plan --repo "$repo" --rev marker --migrations m 2>&1); rc=$?
[ $rc = 0 ] && grep -q "^20240102000000_b.sql: not sent: .*; dbmate refuses it there: dbmate requires each migration to define an up block" <<<"$out" &&
  grep -q '^1 migration(s) fail as written$' <<<"$out" || fail "plan --rev marker: exit $rc: $out"
# ... and every command names the file, its line and what was expected there (deploy, snapshot, diff and run
# beside dbmate's own error, which names no line; history and check as a hazard; plan in its fails line)
printf 'scenario "bad marker"\nrepo %s\ntool dbmate\nmigrations m\ncheckout marker\ndeploy\n' "$repo" >"$scn/marker.scenario"
while IFS='|' read -r want cmd where; do
  out=$("$bin" $cmd 2>&1); rc=$?
  [ $rc = "$want" ] && grep -q -- "$where" <<<"$out" &&
    grep -qF "\`--migrate:upp\` is not dbmate's marker: expected \`-- migrate:up\`" <<<"$out" ||
    fail "marker: $cmd: exit $rc (want $want, '$where'): $out"
done <<EOF
2|deploy --repo $repo --rev marker --migrations m|^rehearse: 20240102000000_b.sql:1: 
1|history --repo $repo --from empty --to marker --migrations m|20240102000000_b.sql: new at marker (.*): line 1: 
1|check --repo $repo --base empty --head marker --migrations m|malformed-marker\] 20240102000000_b.sql: new at marker (.*): line 1: 
0|plan --repo $repo --rev marker --migrations m|^20240102000000_b.sql: .*; line 1: 
2|snapshot --repo $repo --rev marker --migrations m|^rehearse: 20240102000000_b.sql:1: 
2|diff --repo $repo --migrations m rev:marker rev:marker|^rehearse: 20240102000000_b.sql:1: 
1|run --allow-path $repo $scn/marker.scenario|rehearse: 20240102000000_b.sql:1: 
EOF

[ -z "$(ls -A "$REHEARSE_RUN_DIR")" ] || fail "left in the run folder: $(ls -A "$REHEARSE_RUN_DIR")"
[ -z "$(ls -A "$work/tmp")" ] || fail "left in TMPDIR: $(ls -A "$work/tmp")"
[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: bad input of other tools"
