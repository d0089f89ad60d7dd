#!/usr/bin/env bash
# plan.test.sh — `rehearse plan`: per new migration, how the Prisma version (package.json, or
# --prisma-version) sends it, and what follows (issue 11.4). No database needed.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$work" && git init -q repo && cd repo
git config user.email t@example.invalid && git config user.name t
git commit -q --allow-empty -m v0 && git tag v0 # before the migrations folder
printf '{"devDependencies": {"prisma": "7.10.1"}}\n' > package.json
m=prisma/migrations
mkdir -p $m/20240101000000_init
printf 'CREATE TABLE "User" (id int primary key, email text);\n' > $m/20240101000000_init/migration.sql
git add -A && git commit -qm v1 && git tag v1
mkdir -p $m/20240102000000_cic $m/20240103000000_do
printf 'ALTER TABLE "User" ADD COLUMN nick text;\nCREATE INDEX CONCURRENTLY u_nick ON "User"(nick);\n' > $m/20240102000000_cic/migration.sql
printf 'ALTER TABLE "User" ADD COLUMN x int;\nDO $$ BEGIN PERFORM 1; END $$;\nCREATE INDEX CONCURRENTLY u_x ON "User"(x);\n' > $m/20240103000000_do/migration.sql
git add -A && git commit -qm v2 && git tag v2

# a base without the folder (the pull request that adds it): every migration is new, as check, history and
# another tool's plan take it (before: exit 2 "no migrations folder found at v0")
out=$("$REHEARSE_BIN" plan --repo . --rev v2 --base v0) || fail "plan --base v0 (no folder there) exited $?"
grep -q '^20240101000000_init' <<<"$out" || fail "--base v0: the first migration is not new: $out"

out=$("$REHEARSE_BIN" plan --repo . --rev v2 --base v1) || fail "plan exited $?"
grep -q '^Prisma 7.10.1 profile, from package.json' <<<"$out" || fail "no profile line: $out"
grep -q '^20240101000000_init' <<<"$out" && fail "--base v1: the old migration is listed: $out"
grep -qx '20240102000000_cic: 2 autocommit statements; NOT atomic: a failure leaves the statements before it applied; CONCURRENTLY allowed' <<<"$out" \
  || fail "the CONCURRENTLY file under 7.10.1: $out"
grep -qx '20240103000000_do: one implicit transaction (3 statements): sqlparser 0.61 rejects DO blocks at line 2; atomic; CONCURRENTLY fails with 25001 (inside the implicit transaction)' <<<"$out" \
  || fail "the DO-block file under 7.10.1: $out"

out=$("$REHEARSE_BIN" plan --repo . --rev v2 --base v1 --prisma-version 6.19.3 --format json) || fail "plan --format json exited $?"
node -e '
const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
const m = Object.fromEntries(r.migrations.map(x => [x.name, x]));
if (r.profile.version !== "6.19.3" || r.migrations.length !== 2) throw new Error("profile or count");
const c = m["20240102000000_cic"];
if (c.mode !== "whole" || !c.atomic || c.statements !== 2 || !c.concurrently_fails || c.fallback !== null) throw new Error("cic under 6.19.3");
' <<<"$out" || fail "JSON under 6.19.3: $out"

# the pull-request comment: verdict first (the DO file's CONCURRENTLY fails), a row per migration
# linking its file (the fallback's line), text escaped
out=$("$REHEARSE_BIN" plan --repo . --rev v2 --base v1 --format markdown) || fail "plan --format markdown exited $?"
[ "$(head -1 <<<"$out")" = '### ❌ rehearse plan: 1 migration(s) fail with 25001 (CONCURRENTLY inside the implicit transaction)' ] ||
  fail "markdown verdict: $out"
grep -qF '| [20240102000000\_cic](prisma/migrations/20240102000000_cic/migration.sql) | 2 autocommit statements | **no** | allowed |' <<<"$out" ||
  fail "markdown row of the CONCURRENTLY file: $out"
grep -qF '| [20240103000000\_do](prisma/migrations/20240103000000_do/migration.sql#L2) | one implicit transaction \(3 statements\)\: sqlparser 0\.61 rejects DO blocks at line 2 | yes | ❌ fails with 25001 |' <<<"$out" ||
  fail "markdown row of the DO-block file: $out"
out=$("$REHEARSE_BIN" plan --repo . --rev v1 --format markdown) || fail "plan v1 --format markdown exited $?"
[ "$(head -1 <<<"$out")" = '### ✅ rehearse plan: 1 migration(s), each atomic' ] || fail "markdown verdict at v1: $out"

out=$("$REHEARSE_BIN" plan --repo . --rev v2 --prisma-version 7.11.0 2>&1) || fail "plan 7.11.0 exited $?"
grep -q 'Prisma 7.11 is newer than any profile rehearse knows: behaving as Prisma 7.10.1' <<<"$out" || fail "no note for 7.11: $out"
"$REHEARSE_BIN" plan --repo . --format xml >/dev/null 2>&1; [ $? -eq 2 ] || fail "--format xml is not a usage error"

# COPY ... FROM STDIN with its data: sqlparser parses it, PostgreSQL's parser does not (the data is no SQL), so the
# engine sends the file whole and the server refuses it (42601, nothing runs). plan said "0 autocommit statements".
mkdir -p $m/20240104000000_copy
printf 'CREATE TABLE c (a int);\nCOPY c (a) FROM STDIN;\n1\n\\.\n;\n' > $m/20240104000000_copy/migration.sql
for v in 7.10.1 6.19.3; do
  out=$("$REHEARSE_BIN" plan --migrations-dir $m --prisma-version $v) || fail "plan of the COPY file ($v) exited $?"
  grep -qx "20240104000000_copy: one query, which PostgreSQL's parser rejects (syntax error at or near \"1\" (line 3, column 1)): nothing of it runs; atomic" <<<"$out" ||
    fail "the COPY FROM STDIN file under $v: $out"
done
out=$("$REHEARSE_BIN" plan --migrations-dir $m --format json) || fail "plan --format json of the COPY file exited $?"
node -e '
const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
const c = r.migrations.find(x => x.name === "20240104000000_copy");
if (c.mode !== "whole" || !c.atomic || !/syntax error/.test(c.rejected)) throw new Error(JSON.stringify(c));
if (r.migrations.find(x => x.name === "20240101000000_init").rejected !== null) throw new Error("rejected set for a good file");
' <<<"$out" || fail "JSON of the COPY file: $out"
echo PASS
