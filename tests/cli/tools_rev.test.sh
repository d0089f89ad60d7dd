#!/usr/bin/env bash
# tools_rev.test.sh — `rehearse deploy --tool NAME --repo DIR --rev REV` and `--migrate-command` with a
# revision: the folder comes from git's object database (the checkout's later edits are not used and
# not touched), WORKTREE reads the files on disk; usage errors exit 2; `history --tool drizzle` reports
# an entry merged with an older journal `when`.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cli_test.sh" # bin, work, REHEARSE_RUN_DIR, fail

repo="$work/repo"
mkdir -p "$repo/db/migrations"
printf -- '-- migrate:up\ncreate table a (id int);\n-- migrate:down\n' >"$repo/db/migrations/20240101000000_a.sql"
git -C "$repo" init -q && git -C "$repo" add -A &&
  git -C "$repo" -c user.email=t@example.com -c user.name=t commit -qm v1 && git -C "$repo" tag v1
# the checkout moves on: a broken edit and a new file that v1 does not have
printf -- '-- migrate:up\nthis is not sql;\n-- migrate:down\n' >"$repo/db/migrations/20240101000000_a.sql"
printf -- '-- migrate:up\ncreate table b (id int);\n-- migrate:down\n' >"$repo/db/migrations/20240102000000_b.sql"
before=$(cd "$repo" && git status --porcelain && sha256sum db/migrations/*)

out=$("$bin" deploy --tool dbmate --repo "$repo" --rev v1 2>&1); rc=$?
[ $rc = 0 ] || fail "deploy --tool dbmate --rev v1: exit $rc: $out"
grep -q '^Applying: 20240101000000_a.sql$' <<<"$out" || fail "v1's file not applied: $out"
grep -q '20240102000000_b' <<<"$out" && fail "the checkout's new file was used for v1: $out"

out=$("$bin" deploy --tool dbmate --repo "$repo" --rev WORKTREE 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'Error: pq: syntax error' <<<"$out" || fail "WORKTREE should apply the files on disk (exit 2, dbmate's error): $rc $out"

out=$("$bin" deploy --repo "$repo" --rev v1 --migrations db/migrations --migrate-command 'ls; cat 20240101000000_a.sql' 2>&1); rc=$?
[ $rc = 0 ] || fail "--migrate-command at v1: exit $rc: $out"
[ "$(head -1 <<<"$out")" = 20240101000000_a.sql ] && grep -q '^create table a' <<<"$out" ||
  fail "--migrate-command did not see v1's folder: $out"

[ "$(cd "$repo" && git status --porcelain && sha256sum db/migrations/*)" = "$before" ] || fail "the checkout was changed"

out=$("$bin" deploy --repo "$repo" --rev v1 --migrate-command 'true' 2>&1); rc=$?
[ $rc = 2 ] && grep -q -- '--migrations PATH' <<<"$out" || fail "--migrate-command --repo without --migrations: $rc $out"
out=$("$bin" status --migrations-dir "$repo/db/migrations" --migrate-command 'true' 2>&1); rc=$?
[ $rc = 2 ] || fail "status --migrate-command: exit $rc, expected 2: $out"
out=$("$bin" deploy --tool nosuch --migrations-dir "$repo/db/migrations" 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'known: prisma, dbmate, drizzle, command' <<<"$out" || fail "--tool nosuch: $rc $out"

# history --tool drizzle: an entry merged with an older `when` is reported (exit 1)
dr="$work/drepo"
mkdir -p "$dr/drizzle/meta"
entry() { printf '{"idx":0,"version":"7","when":%s,"tag":"%s","breakpoints":true}' "$2" "$1"; }
echo 'CREATE TABLE "a" ("id" integer);' >"$dr/drizzle/0000_a.sql"
echo 'CREATE TABLE "b" ("id" integer);' >"$dr/drizzle/0001_b.sql"
printf '{"entries":[%s,%s]}\n' "$(entry 0000_a 1700000000000)" "$(entry 0001_b 1700000100000)" >"$dr/drizzle/meta/_journal.json"
git -C "$dr" init -q && git -C "$dr" add -A && git -C "$dr" -c user.email=t@example.com -c user.name=t commit -qm v1 && git -C "$dr" tag v1
echo 'CREATE TABLE "branch" ("id" integer);' >"$dr/drizzle/0002_branch.sql"
echo 'CREATE TABLE "c" ("id" integer);' >"$dr/drizzle/0003_c.sql"
printf '{"entries":[%s,%s,%s,%s]}\n' "$(entry 0000_a 1700000000000)" "$(entry 0001_b 1700000100000)" \
    "$(entry 0002_branch 1700000050000)" "$(entry 0003_c 1700000200000)" >"$dr/drizzle/meta/_journal.json"
git -C "$dr" add -A && git -C "$dr" -c user.email=t@example.com -c user.name=t commit -qm v2 && git -C "$dr" tag v2
out=$("$bin" history --tool drizzle --repo "$dr" --from v1 --to v2 2>&1); rc=$?
[ $rc = 1 ] && grep -q '^hazard skipped-in-production drizzle/0002_branch.sql$' <<<"$out" &&
  grep -q '^1 hazard(s), 2 note(s)$' <<<"$out" && ! grep -q '^hazard .*0003_c' <<<"$out" ||
  fail "history --tool drizzle v1..v2: exit $rc: $out"
out=$("$bin" history --tool drizzle --repo "$dr" --from v1 --to v1 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^no hazards (0 note(s))$' <<<"$out" || fail "history --tool drizzle v1..v1: exit $rc: $out"

# snapshot --rev / diff rev: detect the tool at the revision (said on stderr), deploy with it, leave its
# ledger out; --tool names it; two tools at one revision: exit 2 naming both
out=$("$bin" snapshot --repo "$dr" --rev v1 2>"$work/snap.err"); rc=$?
[ $rc = 0 ] && grep -q '^table public.b$' <<<"$out" && ! grep -q '^table drizzle.__drizzle_migrations' <<<"$out" &&
  ! grep -q '^schema drizzle$' <<<"$out" && ! grep -q '^sequence drizzle\.' <<<"$out" ||
  fail "snapshot --rev v1 of a drizzle repository: exit $rc: $out $(cat "$work/snap.err")"
grep -q '^rehearse: note: drizzle at v1 (.*) holds drizzle migrations (meta/_journal.json) (detected; give --tool NAME' "$work/snap.err" ||
  fail "snapshot --rev: the detection is not said: $(cat "$work/snap.err")"
out=$("$bin" diff --repo "$dr" --tool drizzle rev:v1 rev:v2 2>&1); rc=$?
[ $rc = 1 ] && grep -q '^+ table public.branch$' <<<"$out" && grep -q '^+ table public.c$' <<<"$out" ||
  fail "diff --tool drizzle rev:v1 rev:v2 (a clean deploy applies the branch entry): exit $rc: $out"
out=$("$bin" snapshot --repo "$repo" --rev v1 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^table public.a$' <<<"$out" && ! grep -q 'schema_migrations' <<<"$out" ||
  fail "snapshot --rev v1 of a dbmate repository: exit $rc: $out"
out=$("$bin" snapshot --repo "$repo" --rev v1 --tool nosuch 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'known: prisma, dbmate, drizzle, command' <<<"$out" || fail "snapshot --tool nosuch: $rc $out"
mkdir -p "$dr/db/migrations" && printf -- '-- migrate:up\ncreate table d (id int);\n-- migrate:down\n' >"$dr/db/migrations/20240101000000_d.sql"
git -C "$dr" add -A && git -C "$dr" -c user.email=t@example.com -c user.name=t commit -qm both && git -C "$dr" tag both
out=$("$bin" snapshot --repo "$dr" --rev both 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'db/migrations holds dbmate migrations and drizzle holds drizzle migrations; say which with --tool NAME' <<<"$out" ||
  fail "two tools at a revision: exit $rc: $out"
out=$("$bin" snapshot --repo "$dr" --rev both --tool dbmate 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^table public.d$' <<<"$out" || fail "--tool dbmate at a revision with two tools: $rc $out"

# a dbmate repository for plan (check of it: tools_check.test.sh)
cr="$work/crepo"; mkdir -p "$cr/db/migrations"
printf -- '-- migrate:up\ncreate table t (id int, v int);\n-- migrate:down\ndrop table t;\n' >"$cr/db/migrations/20240101000000_t.sql"
git -C "$cr" init -q && git -C "$cr" add -A && git -C "$cr" -c user.email=t@example.com -c user.name=t commit -qm v1 && git -C "$cr" tag v1
printf -- '-- migrate:up transaction:false\nalter table t add column w int;\ncreate index concurrently t_v on t (v);\n-- migrate:down\n' >"$cr/db/migrations/20240102000000_two.sql"
printf -- '-- migrate:up\ncreate index concurrently t_w on t (w);\n-- migrate:down\n' >"$cr/db/migrations/20240103000000_tx.sql"
git -C "$cr" add -A && git -C "$cr" -c user.email=t@example.com -c user.name=t commit -qm v2 && git -C "$cr" tag v2

# bench deploy --tool NAME: rehearse's deploy next to the floor (a tiny history; figures are in the notes)
out=$("$bin" bench deploy --tool dbmate --generate 5 --runs 1 --format json 2>&1); rc=$?
[ $rc = 0 ] && grep -q '"tool":"dbmate","migrations":5,"runs":1,"rehearse_s":' <<<"$out" && grep -q '"rehearse_over_floor":' <<<"$out" ||
  fail "bench deploy --tool dbmate: exit $rc: $out"
out=$("$bin" bench deploy --tool drizzle --generate 5 --runs 1 2>&1); rc=$?
[ $rc = 0 ] && grep -q 'rehearse / floor: ' <<<"$out" || fail "bench deploy --tool drizzle: exit $rc: $out"
out=$("$bin" bench deploy --tool command --generate 5 --runs 1 2>&1); rc=$?
[ $rc = 2 ] || fail "bench deploy --tool command: exit $rc (want 2): $out"

# plan detects the tool at the revision and says how it sends each new migration (no cluster)
out=$("$bin" plan --repo "$cr" --rev v2 --base v1 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^20240102000000_two.sql: the up section.s 2 statement(s) as ONE query, .*; atomic; fails with 25001: CONCURRENTLY beside another statement' <<<"$out" &&
  grep -q '^20240103000000_tx.sql: .*; fails with 25001: CONCURRENTLY inside dbmate.s transaction' <<<"$out" &&
  grep -q '^2 migration(s) fail as written$' <<<"$out" && ! grep -q '20240101000000_t.sql' <<<"$out" ||
  fail "plan of a dbmate repository v1..v2: exit $rc: $out"
out=$("$bin" plan --repo "$dr" --rev v2 --tool drizzle 2>&1); rc=$?
[ $rc = 0 ] && grep -q '^0002_branch: 1 chunk(s) split at' <<<"$out" || fail "plan --tool drizzle: exit $rc: $out"
# json and markdown through the plan's one writer per format (human only before: exit 2)
out=$("$bin" plan --repo "$dr" --rev v2 --tool drizzle --format json 2>/dev/null); rc=$?
[ $rc = 0 ] && python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["tool"] == "drizzle" and d["profile"] is None, d
m = {x["name"]: x for x in d["migrations"]}
assert m["0002_branch"]["how"].startswith("1 chunk(s) split at") and m["0002_branch"]["atomic"] and m["0002_branch"]["fails"] is None, m' "$out" ||
  fail "plan --tool drizzle --format json: exit $rc: $out"
out=$("$bin" plan --repo "$cr" --rev v2 --base v1 --format markdown 2>/dev/null); rc=$?
[ $rc = 0 ] && grep -q '^### ❌ rehearse plan: 2 migration(s) fail as dbmate migrate runs them$' <<<"$out" &&
  grep -q '^| \[20240103000000\\_tx\\.sql\](db/migrations/20240103000000_tx.sql) | the up section.* | yes | ❌ fails with 25001' <<<"$out" ||
  fail "plan --format markdown of a dbmate repository: exit $rc: $out"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: tools at a revision"
