#!/usr/bin/env bash
# diff_rev.test.sh — `rehearse diff rev:A rev:B` and `snapshot --rev`: catalogs of clean deploys of
# git revisions, compared; a revision whose clean deploy fails is a setup error quoting Prisma.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$work" && git init -q repo && cd repo
git config user.email t@example.invalid && git config user.name t
git commit -q --allow-empty -m v0 && git tag v0 # before the migrations folder
m=prisma/migrations
mkdir -p $m/20240101000000_init
printf 'CREATE TABLE "User" (id int primary key, email text);\n' > $m/20240101000000_init/migration.sql
git add -A && git commit -qm v1 && git tag v1
mkdir -p $m/20240102000000_idx
printf 'CREATE INDEX "User_email_idx" ON "User"(email);\n' > $m/20240102000000_idx/migration.sql
git add -A && git commit -qm v2 && git tag v2
mkdir -p $m/20240103000000_bad
printf 'CREATE TABLE t(x int);\nCREATE INDEX CONCURRENTLY t_x ON t(x);\n' > $m/20240103000000_bad/migration.sql
git add -A && git commit -qm v3 && git tag v3

out=$("$REHEARSE_BIN" diff rev:v1 rev:v2); rc=$?
[ $rc -eq 1 ] || fail "v1 vs v2: exit $rc, expected 1"
grep -q '^+ index public."User_email_idx"' <<<"$out" || fail "the new index is not in the diff: $out"

# A (the base) without the folder: an empty database's schema, as check, plan and history take such a
# base (before: exit 2 "does not exist"); B must have it (a mistyped --migrations is not "no difference")
out=$("$REHEARSE_BIN" diff rev:v0 rev:v1 2>"$work/v0.err"); rc=$?
[ $rc -eq 1 ] || fail "a base without the folder: exit $rc, expected 1: $(cat "$work/v0.err")"
grep -q '^+ table public."User"' <<<"$out" || fail "the table is not added against an empty base: $out"
grep -q 'prisma/migrations at v0 (.*) (absent): rev:v0 is the schema of an empty database' "$work/v0.err" ||
    fail "no note saying the base is empty: $(cat "$work/v0.err")"
err=$("$REHEARSE_BIN" diff rev:v1 rev:v0 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "B without the folder: exit $rc, expected 2"
grep -q 'no migrations folder found at v0' <<<"$err" || fail "B's absence is not named: $err"

"$REHEARSE_BIN" diff --quiet rev:v2 rev:HEAD~1; rc=$?
[ $rc -eq 0 ] || fail "v2 vs HEAD~1: exit $rc, expected 0"

"$REHEARSE_BIN" snapshot --rev v2 --output "$work/v2.snap" || fail "snapshot --rev v2"
grep -q 'table public."User"' "$work/v2.snap" || fail "snapshot lacks the table"
"$REHEARSE_BIN" diff "$work/v2.snap" rev:v2; rc=$?
[ $rc -eq 0 ] || fail "a snapshot file vs the revision it came from: exit $rc"

err=$("$REHEARSE_BIN" diff rev:v2 rev:v3 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "a failing clean deploy: exit $rc, expected 2"
grep -q 'Database error code: 25001' <<<"$err" || fail "the error does not quote Prisma: $err"

err=$("$REHEARSE_BIN" diff rev:v1 rev:no-such-tag 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "unknown revision: exit $rc"
grep -q "no-such-tag" <<<"$err" || fail "the error does not name the revision: $err"

err=$(cd / && "$REHEARSE_BIN" diff --repo "$work/nothing-here" rev:v1 rev:v2 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "missing repository: exit $rc"
grep -q "nothing-here" <<<"$err" || fail "the error does not name the folder: $err"
echo "1 passed, 0 failed"
