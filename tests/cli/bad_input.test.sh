#!/usr/bin/env bash
# bad_input.test.sh — what a user who gets things wrong sees: every broken scenario file is reported
# with file:line and what was expected (exit 2), an empty scenario is not a pass, a --filter that
# matches nothing is not a green run, an unwritable --output is refused before anything runs, and
# options may follow the operands of diff and snapshot.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d -p /dev/shm rh-bad.XXXXXX 2>/dev/null || mktemp -d /tmp/rh-bad.XXXXXX) # tmpfs: a data directory copied per cluster
chmod 755 "$work"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # the folder (RAM on /dev/shm) goes with this script, however it ends
rh_tie_folder "$work"
trap 'rm -rf "$work"' EXIT
# clusters of its own: rehearse reaps dead runs' leftovers at start, other tests may rely on seeing them
export REHEARSE_RUN_DIR="$work/run"
fail() { echo "FAIL: $*" >&2; exit 1; }
pass=0
cd "$work" || exit 1
mkdir -p migs/20250101000000_init
printf 'CREATE TABLE t (id int);\n' > migs/20250101000000_init/migration.sql

# expect_parse NAME TEXT WANT...: the scenario fails to parse (exit 2) and the report holds each WANT
expect_parse() {
    local name=$1 text=$2
    shift 2
    printf '%s' "$text" > "$name.scenario"
    local out rc
    out=$("$REHEARSE_BIN" run --no-color "$name.scenario" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "$name: exit $rc, expected 2: $out"
    for want in "$@"; do
        grep -qF -- "$want" <<<"$out" || fail "$name: the report lacks '$want': $out"
    done
    pass=$((pass + 1))
}
expect_parse heredoc $'migrations migs\nsql <<SQL\nselect 1;\n' \
    "heredoc.scenario:2:5: error: heredoc <<SQL is never closed"
expect_parse unknown $'migrations migs\ndeploi\n' "unknown.scenario:2:1: error: unknown step 'deploi'" \
    "did you mean 'deploy'?"
expect_parse quote $'migrations migs\nsql "select 1\n' "quote.scenario:2:5: error: unterminated double quote"
expect_parse include $'migrations migs\ninclude nope.inc\n' "include.scenario:2:9: error: cannot include 'nope.inc'"
printf 'include b.inc\n' > a.inc
printf 'include a.inc\n' > b.inc
expect_parse cycle $'include a.inc\n' "b.inc:1:9: error: include cycle" "(included from cycle.scenario:1:9)"
expect_parse expect $'migrations migs\ndeploy\nexpect ledger applied\n' \
    "expect.scenario:3:22: error: expected a migration name or a count"
expect_parse outcome $'migrations migs\ndeploy => fail x\n' "outcome.scenario:2:11: error: unknown outcome 'fail'"
expect_parse background $'migrations migs\ndeploy\nstatus &\nsql "select 1"\n' \
    "background.scenario:3:1: error: 'status &' is never waited for" "add \`wait status\` after it"
expect_parse empty $'# nothing but a comment\n\n' "empty.scenario: error: the scenario has no steps"

printf 'migrations migs\ndeploy\0\nexpect ledger applied 9\n' > nul.scenario
out=$("$REHEARSE_BIN" run --no-color nul.scenario 2>&1); rc=$?
[ $rc -eq 2 ] || fail "a NUL byte in a scenario: exit $rc, expected 2 (the rest of the file was dropped?): $out"
grep -q "nul.scenario:2:7: error: a NUL byte" <<<"$out" || fail "the NUL byte is not located: $out"
printf 'select 1;\0drop table t;\n' > nul.sql
printf 'migrations migs\ndeploy\nsql-file nul.sql\n' > nulsql.scenario
out=$("$REHEARSE_BIN" run --no-color nulsql.scenario 2>&1); rc=$?
[ $rc -eq 2 ] || fail "a NUL byte in a sql-file: exit $rc, expected 2: $out"
grep -q "nulsql.scenario:3: sql-file nul.sql" <<<"$out" && grep -q "a NUL byte at offset 9" <<<"$out" ||
    fail "the sql-file NUL byte is not reported with the step: $out"
pass=$((pass + 1))

# a symlink back up the tree (or a second name for a folder) does not run a scenario twice or more
mkdir -p tree/sub && printf 'migrations ../../migs\ndeploy\n' > tree/sub/a.scenario
ln -s .. tree/sub/up && ln -s sub tree/zz-alias
out=$("$REHEARSE_BIN" run --list tree 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = "tree/sub/a.scenario" ] || fail "a symlink cycle: exit $rc, listed: $out"
pass=$((pass + 1))

# restore ledger: a quoted field that never closes, a record with more fields than the header:
# errors at the CSV's line (they used to be swallowed or ignored, and the scenario passed)
printf 'migrations migs\nrestore ledger <<CSV\nmigration_name,checksum,finished_at\n20250101000000_init,=,"2025-01-01\nCSV\n' \
    > ledger1.scenario
printf 'migration_name,checksum\n20250101000000_init,=,extra\n' > ledger.csv
printf 'migrations migs\nrestore ledger ledger.csv\n' > ledger2.scenario
out=$("$REHEARSE_BIN" run --no-color ledger1.scenario ledger2.scenario 2>&1); rc=$?
[ $rc -eq 2 ] || fail "broken ledger CSVs: exit $rc, expected 2: $out"
grep -q "restore ledger ledger1.scenario:4: record 2: a quoted field is never closed" <<<"$out" ||
    fail "the unterminated quote is not located: $out"
grep -q "restore ledger ledger.csv:2: record 2 has 3 fields, the header 2" <<<"$out" ||
    fail "the extra field is not located: $out"
pass=$((pass + 1))

# a skipped empty scenario is fine
printf 'skip not written yet\n' > skipped.scenario
"$REHEARSE_BIN" run --no-color skipped.scenario >/dev/null 2>&1 || fail "a skipped scenario: exit $?"
pass=$((pass + 1))

# a --filter that matches nothing: exit 2, not a green run of nothing
printf 'migrations migs\ndeploy\n' > ok.scenario
err=$("$REHEARSE_BIN" run --filter no-such-thing ok.scenario 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "--filter matching nothing: exit $rc, expected 2"
grep -q "no-such-thing" <<<"$err" || fail "the error does not name the filter: $err"
pass=$((pass + 1))

# an --output that cannot be written: refused before any scenario runs
err=$("$REHEARSE_BIN" run --format tap --output "$work/no/such/dir/r.tap" ok.scenario 2>&1); rc=$?
[ $rc -eq 2 ] || fail "unwritable --output: exit $rc, expected 2"
grep -q -- "--output $work/no/such/dir/r.tap" <<<"$err" || fail "the error does not name the file: $err"
grep -q "^ok\|PASS" <<<"$err" && fail "the scenario ran before the --output error: $err"
pass=$((pass + 1))

# options after the operands of snapshot and diff (getopt permutes, as everywhere else)
git init -q repo && (cd repo && git config user.email t@example.invalid && git config user.name t &&
    mkdir -p prisma && cp -r ../migs prisma/migrations && git add -A && git commit -qm v1 && git tag v1)
"$REHEARSE_BIN" snapshot rev:v1 --repo repo --output v1.snap || fail "snapshot rev:v1 --repo repo: exit $?"
grep -q 'table public.t' v1.snap || fail "the snapshot lacks the table: $(cat v1.snap)"
"$REHEARSE_BIN" diff v1.snap rev:v1 --repo repo --quiet; rc=$?
[ $rc -eq 0 ] || fail "diff A B --repo R --quiet: exit $rc, expected 0"
pass=$((pass + 1))

# a package.json that is not JSON, or names Prisma as "latest": deploy goes on as the default Prisma
# but says so, naming the file and line (it used to pick the default without a word)
git init -q pj && (cd pj && git config user.email t@example.invalid && git config user.name t &&
    mkdir -p prisma && cp -r ../migs prisma/migrations &&
    printf '{\n  "devDependencies": { "prisma": \n' > package.json && git add -A && git commit -qm broken &&
    printf '{"devDependencies": {"prisma": "latest"}}\n' > package.json && git commit -qam latest)
err=$("$REHEARSE_BIN" deploy --repo pj --rev HEAD~1 2>&1 >/dev/null); rc=$?
[ $rc -eq 0 ] || fail "deploy with a broken package.json: exit $rc: $err"
grep -q "note: package.json:3: not valid JSON" <<<"$err" && grep -q "behaving as Prisma" <<<"$err" ||
    fail "a broken package.json is not reported: $err"
err=$("$REHEARSE_BIN" deploy --repo pj --rev HEAD 2>&1 >/dev/null); rc=$?
[ $rc -eq 0 ] && grep -q "names Prisma as 'latest'" <<<"$err" || fail "prisma 'latest' is not reported (exit $rc): $err"
pass=$((pass + 1))

# check: an unwritable --output is refused before the check runs
out=$("$REHEARSE_BIN" check --repo repo --base v1 --head v1 --format json --output "$work/no/dir/c.json" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "check with an unwritable --output: exit $rc, expected 2: $out"
grep -q -- "--output $work/no/dir/c.json" <<<"$out" || fail "the error does not name the file: $out"
grep -q "clean deploy" <<<"$out" && fail "the check ran before the --output error: $out"
pass=$((pass + 1))

# --database-url without a host: libpq would take PGHOST / PGHOSTADDR, so the remote guard does too
for var in PGHOST=db.example.invalid PGHOSTADDR=192.0.2.77; do
    err=$(env "$var" "$REHEARSE_BIN" deploy --migrations-dir migs --database-url "dbname=app" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "$var: exit $rc, expected 2: $err"
    # a name that does not resolve is refused too (issue 17.3: judged by addresses, before connecting)
    grep -qE "\(from ${var%%=*}\)(:| is not this machine)" <<<"$err" ||
        fail "$var: not refused as remote: $err"
    grep -q -- "--allow-remote" <<<"$err" || fail "$var: the way out is not named: $err"
done
pass=$((pass + 1))

# a run folder too long for the server's unix socket: said before any server is started
long="$work/$(printf 'r%.0s' $(seq 100))"
err=$(REHEARSE_RUN_DIR="$long" "$REHEARSE_BIN" deploy --migrations-dir migs 2>&1); rc=$?
[ $rc -eq 2 ] || fail "a too long REHEARSE_RUN_DIR: exit $rc: $err"
grep -q "too long for a unix socket path" <<<"$err" && grep -q "REHEARSE_RUN_DIR" <<<"$err" ||
    fail "a too long run folder is not explained: $err"
pass=$((pass + 1))

# clusters --stop with an id that is not one: a usage error (2), naming it
for id in no-such-cluster ../etc; do
    err=$("$REHEARSE_BIN" clusters --stop "$id" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "clusters --stop $id: exit $rc, expected 2: $err"
    grep -qF "'$id'" <<<"$err" || fail "clusters --stop $id: the error does not name it: $err"
done
pass=$((pass + 1))

echo "$pass passed, 0 failed"
