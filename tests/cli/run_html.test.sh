#!/usr/bin/env bash
# run_html.test.sh — `rehearse run --format html --output FILE`: one self-contained page (no http(s)
# reference, no script) loaded by a real browser (headless Chromium). The test asserts on the DOM's
# text: the verdict, the ledger table after the deploy step, the migrations' timeline, a failure with
# the server's message and the scenario's lines around the failing step (marked), the catalog diff
# side by side, and a scenario title holding markup shown as text. A screenshot is taken. With
# --trace-locks, each migration's locks on tables that existed before its deploy, in the timeline.
set -uo pipefail
: "${REHEARSE_BIN:?}"
browser=$(command -v chromium || command -v chromium-browser) || { echo "no chromium: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

s=$work/scenarios
mkdir -p "$s/mig/20250101000000_init" "$s/mig/20250102000000_email" "$s/bad/20250101000000_init" "$s/bad/20250102000000_boom"
printf 'CREATE TABLE "User" ("id" INTEGER PRIMARY KEY);\n' > "$s/mig/20250101000000_init/migration.sql"
printf 'ALTER TABLE "User" ADD COLUMN "email" TEXT;\n' > "$s/mig/20250102000000_email/migration.sql"
cp "$s/mig/20250101000000_init/migration.sql" "$s/bad/20250101000000_init/"
printf 'ALTER TABLE "User" ADD COLUMN "n" INTEGER;\nALTER TABLE "Nope" ADD COLUMN "x" INTEGER;\n' > "$s/bad/20250102000000_boom/migration.sql"
cat > "$s/a-pass.scenario" <<'SCN'
scenario "deploys both <b>migrations</b>"
migrations mig
deploy
expect ledger applied 2
SCN
cat > "$s/b-drift.scenario" <<'SCN'
scenario "a hand-made column: the catalog differs from a clean deploy"
migrations mig
deploy
sql "ALTER TABLE \"User\" ADD COLUMN \"hotfix\" TEXT"
# the failing step:
expect catalog = clean
SCN
cat > "$s/c-boom.scenario" <<'SCN'
scenario "the second migration names a table that does not exist"
migrations bad
deploy
SCN

"$REHEARSE_BIN" run --format html --output "$work/report.html" "$s" 2>"$work/err"; rc=$?
[ $rc -eq 1 ] || fail "run: exit $rc (expected 1) $(cat "$work/err")"
# nothing loaded from elsewhere (Prisma's output quotes a URL as text: that is fine)
grep -qiE '(src|href)=|<script|<link|<iframe|@import|url\(' "$work/report.html" &&
  fail "not self-contained: $(grep -oiE '(src|href)=[^ ]*|<script|<link|<iframe|@import|url\(' "$work/report.html" | head -3)"
grep -q '<b>migrations</b>' "$work/report.html" && fail "a scenario title's markup went through"

run_browser() { timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" "$@" 2>/dev/null; }
dom=$(run_browser --dump-dom "file://$work/report.html") || fail "chromium could not load the page"
text=$(sed -e 's/<[^>]*>//g' <<<"$dom" | python3 -c 'import html, sys; sys.stdout.write(html.unescape(sys.stdin.read()))')
has() { grep -qF -- "$1" <<<"$text" || fail "the page has no '$1': $text"; }
has 'rehearse run: 2 failed, 0 error(s)'
has '3 scenario(s): 1 passed, 2 failed'
has 'deploys both <b>migrations</b>'   # the title's markup shown as text
# the ledger after the deploy step of the passing scenario: both rows applied
grep -q '20250102000000_emailapplied1' <<<"$(tr -d ' \n' <<<"$text")" || fail "no ledger row after deploy: $text"
has 'Migrations (the ledger at the end: started_at to finished_at)'
# the drift: the failing step marked among its file's lines, the diff side by side
grep -q '<mark>&gt;   6 | expect catalog = clean</mark>' <<<"$dom" || fail "the failing line is not marked: $dom"
has '5 | # the failing step:'
grep -q '<table class="diff"><tbody><tr><th>[^<]*clean[^<]*</th><th>' <<<"$dom" || fail "no side-by-side diff: $dom"
grep -q '<td class="add">[^<]*hotfix' <<<"$dom" || fail "the hand-made column is not in the right-hand column: $dom"
# the deploy failure: the server's message
has 'relation "Nope" does not exist'
has '← failed here'
run_browser --screenshot="$work/report.png" --window-size=1280,900 "file://$work/report.html" >/dev/null
[ -s "$work/report.png" ] || fail "no screenshot"
# without --trace-locks nothing claims to know the locks
has 'Migrations (the ledger at the end'
grep -qF 'locks held on existing tables' <<<"$text" && fail "locks shown without --trace-locks"

# --trace-locks: each migration's locks on the tables that existed before its deploy, in the timeline;
# a deploy that cannot be copied (a session is connected) says why
t=$work/traced
mkdir -p "$t/one/20250101000000_init" "$t/all"
printf 'CREATE TABLE "Acct" ("id" INTEGER PRIMARY KEY, "name" TEXT);\n' > "$t/one/20250101000000_init/migration.sql"
cp -r "$t/one/20250101000000_init" "$t/all/"
mkdir -p "$t/all/20250102000000_idx" "$t/all/20250103000000_col"
printf 'CREATE INDEX "Acct_name" ON "Acct"("name");\n' > "$t/all/20250102000000_idx/migration.sql"
printf 'ALTER TABLE "Acct" ADD COLUMN "n" INTEGER NOT NULL DEFAULT 0;\nCREATE TABLE "Log" ("id" INTEGER);\nALTER TABLE "Log" ADD COLUMN "at" TEXT;\n' \
  > "$t/all/20250103000000_col/migration.sql"
cat > "$t/a-locks.scenario" <<'SCN'
scenario "the locks of each migration"
migrations one
deploy
migrations all
deploy
expect ledger applied 3
SCN
cat > "$t/b-session.scenario" <<'SCN'
scenario "a session stays connected"
migrations all
session s "SELECT 1"
deploy
SCN
# dbmate: only the up section is sent (its down section would drop "keep"); no Prisma ledger, so the
# locks go under the deploy step
mkdir -p "$t/dbm1" "$t/dbm"
printf -- '-- migrate:up\nCREATE TABLE acct (id INTEGER PRIMARY KEY);\nCREATE TABLE keep (id INTEGER);\n\n-- migrate:down\nDROP TABLE acct;\n' \
  > "$t/dbm1/20240101000000_init.sql"
cp "$t/dbm1/20240101000000_init.sql" "$t/dbm/"
printf -- '-- migrate:up\nALTER TABLE acct ADD COLUMN n INTEGER NOT NULL DEFAULT 0;\n\n-- migrate:down\nDROP TABLE keep;\n' \
  > "$t/dbm/20240102000000_col.sql"
cat > "$t/c-dbmate.scenario" <<'SCN'
scenario "dbmate: the locks of the up section"
tool dbmate
migrations dbm1
deploy
migrations dbm
deploy
expect ledger rows 2
SCN
"$REHEARSE_BIN" run --trace-locks --format html --output "$work/traced.html" "$t" 2>"$work/err"; rc=$?
[ $rc -eq 0 ] || fail "run --trace-locks: exit $rc $(cat "$work/err")"
dom=$(run_browser --dump-dom "file://$work/traced.html") || fail "chromium could not load the traced page"
text=$(sed -e 's/<[^>]*>/ /g' <<<"$dom" | python3 -c 'import html, sys; sys.stdout.write(html.unescape(sys.stdin.read()))' | tr -s ' \n' ' ')
has 'locks held on existing tables (--trace-locks: replayed on a copy made before its deploy)'
# the first deploy ran before "Acct" existed; the index takes a ShareLock, the NOT NULL column an
# AccessExclusiveLock on it; "Log" is new in the same migration: not an existing table
grep -qE '20250101000000_init [0-9.]+ ms none on a table that existed before' <<<"$text" || fail "init's row: $text"
grep -qE '20250102000000_idx [0-9.]+ ms ShareLock "Acct" ' <<<"$text" || fail "idx's lock: $text"
grep -qE '20250103000000_col [0-9.]+ ms AccessExclusiveLock "Acct" Steps' <<<"$text" || fail "col's lock: $text"
grep -q '<span class="lock-ae">AccessExclusiveLock</span>' <<<"$dom" || fail "the AccessExclusiveLock is not marked"
has 'locks not traced: a session or a background command is connected to the database (a copy needs none)'
grep -qE '20250103000000_col [0-9.]+ ms not traced' <<<"$text" || fail "b-session's rows should say not traced: $text"
grep -qE 'migration locks held on existing tables \(--trace-locks\) 20240102000000_col.sql AccessExclusiveLock acct 7 ' <<<"$text" ||
  fail "dbmate's deploy: the up section's lock under its step, and nothing on keep: $text"
run_browser --screenshot="$work/traced.png" --window-size=1280,900 "file://$work/traced.html" >/dev/null
[ -s "$work/traced.png" ] || fail "no screenshot of the traced page"
echo ok
