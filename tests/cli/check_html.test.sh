#!/usr/bin/env bash
# check_html.test.sh — `rehearse check --format html --output FILE`: one self-contained page (no
# http(s) reference, no script), loaded by a real browser (headless Chromium): the test asserts on
# the DOM's text (verdict, the new migration, its lock, the finding) and takes a screenshot.
set -uo pipefail
: "${REHEARSE_BIN:?}"
browser=$(command -v chromium || command -v chromium-browser) || { echo "no chromium: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$work" && git init -q -b main repo && cd repo
git config user.email t@example.invalid && git config user.name t
m=prisma/migrations
mkdir -p $m/20250101000000_init
printf 'CREATE TABLE "User" ("id" INTEGER PRIMARY KEY, "email" TEXT);\n' > $m/20250101000000_init/migration.sql
git add -A && git commit -qm init
mkdir -p $m/20250201000000_email_not_null
printf 'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n' > $m/20250201000000_email_not_null/migration.sql

"$REHEARSE_BIN" check --base main --format html --output "$work/report.html" >/dev/null; rc=$?
[ $rc -eq 0 ] || fail "check: exit $rc"
grep -qiE 'https?:|<script|<link' "$work/report.html" && fail "not self-contained: $(grep -oiE 'https?:[^"]*|<script|<link' "$work/report.html" | head -3)"

run_browser() { timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" "$@" 2>/dev/null; }
dom=$(run_browser --dump-dom "file://$work/report.html") || fail "chromium could not load the page"
text=$(sed -e 's/<[^>]*>//g' <<<"$dom")
grep -q 'rehearse check: these migrations deploy' <<<"$text" || fail "no verdict in the DOM: $dom"
grep -q '20250201000000_email_not_null' <<<"$text" || fail "no new migration: $dom"
grep -q 'worst lock on an existing table: AccessExclusiveLock' <<<"$text" || fail "no worst lock: $dom"
grep -q 'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL' <<<"$text" || fail "no statement: $dom"
grep -q 'warning prisma/migrations/20250201000000_email_not_null/migration.sql:1 \[f access-exclusive\]' <<<"$text" ||
  fail "no finding: $dom"
run_browser --screenshot="$work/report.png" --window-size=1280,900 "file://$work/report.html" >/dev/null
[ -s "$work/report.png" ] || fail "no screenshot"
echo ok
