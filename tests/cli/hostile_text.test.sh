#!/usr/bin/env bash
# hostile_text.test.sh — a pull request's text must not act on the reader: a migration folder named
# with terminal escapes (clear screen, window title, bell), a statement whose server error quotes an
# escape sequence, a folder name with Markdown/HTML in it. check/plan/history's human output and the
# error messages on stderr (a CI log, a terminal) show the controls as pictures; check's Markdown
# comment keeps the HTML as text. The notes modules print themselves (a dbmate folder "detected") too, and
# the cluster module's (a damaged cached template in a cache folder named with escapes).
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# a raw C0 control but tab/newline, DEL, or a C1 control (UTF-8 C2 80..9F) in the file
raw_controls() { LC_ALL=C grep -caP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1"; }

cd "$work" && git init -q -b main repo && cd repo
git config user.email t@example.invalid && git config user.name t
m=prisma/migrations
mkdir -p $m/20250101000000_init
printf 'CREATE TABLE "User" ("id" INTEGER PRIMARY KEY, "email" TEXT);\n' > $m/20250101000000_init/migration.sql
git add -A && git commit -qm init
esc=$'\e[2J\e]0;owned\a'
evil="$m/20250201000000_x${esc}y"
mkdir -p "$evil"
# the server's error quotes the literal: the escape sequence comes back in a message
printf 'ALTER TABLE "User" ADD COLUMN "n" INTEGER;\nSELECT %s::int;\n' "'"$'\e[31m'"red'" > "$evil/migration.sql"
html="$m/20250301000000_a<img src=x onerror=alert(1)>|\`b\`<details>"
mkdir -p "$html"
printf 'SELECT 1;\n' > "$html/migration.sql"
# a dbmate folder whose name is an escape sequence: the "detected" note names it
dbm="db${esc}"
mkdir -p "$dbm"
printf -- '-- migrate:up\nCREATE TABLE d (id INTEGER);\n\n-- migrate:down\nDROP TABLE d;\n' > "$dbm/20240101000000_one.sql"
git add -A && git commit -qm evil

"$REHEARSE_BIN" check --base HEAD~1 > "$work/check.txt" 2>"$work/check.err"; rc=$?
[ $rc -eq 1 ] || fail "check: exit $rc (expected 1: the new migration fails) $(cat "$work/check.err")"
[ "$(raw_controls "$work/check.txt")" = 0 ] || fail "check's human output holds raw controls: $(cat -v "$work/check.txt")"
grep -q $'20250201000000_x\u241b\[2J\u241b\]0;owned\u2407y' "$work/check.txt" || fail "the folder name is not shown: $(cat -v "$work/check.txt")"
grep -q $'\u241b\[31mred' "$work/check.txt" || fail "the server message's escape is not shown: $(cat -v "$work/check.txt")"

"$REHEARSE_BIN" check --base HEAD~1 --format markdown > "$work/check.md" 2>/dev/null
[ "$(raw_controls "$work/check.md")" = 0 ] || fail "markdown holds raw controls"
grep -qP '(?<!\\)<img|_a<details>' "$work/check.md" && fail "markdown lets HTML through: $(grep -n img "$work/check.md")"
grep -qF '\<img src\=x onerror\=alert\(1\)\>\|\`b\`\<details\>](prisma/migrations/20250301000000_a%3Cimg%20' "$work/check.md" ||
  fail "the HTML folder name is not escaped text in its table row: $(cat "$work/check.md")"

"$REHEARSE_BIN" plan --repo . > "$work/plan.txt" 2>&1 || fail "plan: exit $? $(cat "$work/plan.txt")"
[ "$(raw_controls "$work/plan.txt")" = 0 ] || fail "plan's output holds raw controls: $(cat -v "$work/plan.txt")"
grep -q $'x\u241b\[2J' "$work/plan.txt" || fail "plan does not show the name: $(cat -v "$work/plan.txt")"

"$REHEARSE_BIN" history --from HEAD~1 --to HEAD > "$work/history.txt" 2>&1
[ "$(raw_controls "$work/history.txt")" = 0 ] || fail "history's output holds raw controls: $(cat -v "$work/history.txt")"
# error messages quote what they could not use (a revision, a folder): stderr is terminal-safe too
"$REHEARSE_BIN" check --base "main${esc}" > /dev/null 2> "$work/err.txt"; rc=$?
[ $rc -eq 2 ] || fail "check --base with escapes: exit $rc"
[ "$(raw_controls "$work/err.txt")" = 0 ] || fail "the error message holds raw controls: $(cat -v "$work/err.txt")"
grep -q $'main\u241b\[2J' "$work/err.txt" || fail "the error does not show the revision: $(cat -v "$work/err.txt")"
"$REHEARSE_BIN" plan --repo . --migrations "x${esc}" > /dev/null 2> "$work/err.txt"
[ "$(raw_controls "$work/err.txt")" = 0 ] || fail "plan's error holds raw controls: $(cat -v "$work/err.txt")"
# notes modules print themselves (check's and the clean deploy's "detected" note) name the folder
"$REHEARSE_BIN" check --base HEAD~1 --migrations "$dbm" > /dev/null 2> "$work/err.txt"
[ "$(raw_controls "$work/err.txt")" = 0 ] || fail "check's detection note holds raw controls: $(cat -v "$work/err.txt")"
grep -q $'^rehearse: note: db\u241b\[2J\u241b\]0;owned\u2407 at .* holds dbmate migrations' "$work/err.txt" ||
  fail "check's note does not show the folder: $(cat -v "$work/err.txt")"
"$REHEARSE_BIN" diff --migrations "$dbm" rev:HEAD rev:HEAD > /dev/null 2> "$work/err.txt"
[ "$(raw_controls "$work/err.txt")" = 0 ] || fail "diff's detection note holds raw controls: $(cat -v "$work/err.txt")"
grep -q $'^rehearse: note: db\u241b\[2J\u241b\]0;owned\u2407 at .* holds dbmate migrations' "$work/err.txt" ||
  fail "diff's note does not show the folder: $(cat -v "$work/err.txt")"
# the cluster module's messages name the user's paths: a damaged cached template in a cache folder whose
# name is an escape sequence (built by one deploy, pg_hba.conf changed, the next deploy rebuilds it)
cache="$work/cache${esc}"
mkdir -p "$cache" "$work/one" && chmod 755 "$work" "$cache" # initdb runs as the server account (rehearse runs as root here)
cp -r "$m/20250101000000_init" "$work/one/"
REHEARSE_CACHE_DIR=$cache "$REHEARSE_BIN" deploy --migrations-dir "$work/one" > /dev/null 2> "$work/err.txt" ||
  fail "deploy with a new template cache: $(cat -v "$work/err.txt")"
hba=$(ls "$cache"/templates/*/data/pg_hba.conf | head -1)
[ -f "$hba" ] || fail "no template was built in $cache"
echo '# edited' >> "$hba"
REHEARSE_CACHE_DIR=$cache "$REHEARSE_BIN" deploy --migrations-dir "$work/one" > /dev/null 2> "$work/err.txt" ||
  fail "deploy with a damaged template: $(cat -v "$work/err.txt")"
[ "$(raw_controls "$work/err.txt")" = 0 ] || fail "the damaged-template message holds raw controls: $(cat -v "$work/err.txt")"
grep -q $'^rehearse: the cached template .*/cache\u241b\[2J\u241b\]0;owned\u2407/templates/.* is damaged' "$work/err.txt" ||
  fail "the damaged-template message does not show the cache folder: $(cat -v "$work/err.txt")"
echo ok
