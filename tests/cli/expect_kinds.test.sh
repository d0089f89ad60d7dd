#!/usr/bin/env bash
# expect_kinds.test.sh — scenario assertions on the catalog kinds added late (composite and range
# types, rules, extended statistics, foreign servers and tables, publications): present passes,
# a typo fails with the nearest name.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/m/20240101000000_init"
cat > "$work/m/20240101000000_init/migration.sql" <<'SQL'
CREATE TYPE "Address" AS (street text, city text);
CREATE TYPE "Span" AS RANGE (subtype = int4);
CREATE TABLE "Item" (id int PRIMARY KEY, a int, b int);
CREATE TABLE "ItemLog" (id int);
CREATE RULE "Item_log" AS ON INSERT TO "Item" DO ALSO INSERT INTO "ItemLog" VALUES (NEW.id);
CREATE STATISTICS "Item_ab" ON a, b FROM "Item";
CREATE EXTENSION file_fdw;
CREATE SERVER "files" FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE "Ext" (x text) SERVER "files" OPTIONS (filename '/dev/null');
CREATE PUBLICATION "pub" FOR TABLE "Item";
SQL
cat > "$work/kinds.scenario" <<'EOF2'
scenario "late catalog kinds"
# file_fdw is not a trusted extension: the migration role may not create it
superuser
migrations m
deploy
expect composite "Address" present
expect range "Span" present
expect rule "Item"."Item_log" present
expect statistics "Item_ab" present
expect server "files" present
expect foreign-table "Ext" present
expect publication "pub" present
expect composite "Adress" absent
expect rule "Item"."Item_gone" absent
EOF2
"$REHEARSE_BIN" run --no-color "$work/kinds.scenario" >"$work/out" 2>&1 || { cat "$work/out"; fail "the kinds scenario failed"; }

sed 's/^expect composite "Adress" absent/expect composite "Adress" present/' "$work/kinds.scenario" > "$work/typo.scenario"
"$REHEARSE_BIN" run --no-color "$work/typo.scenario" >"$work/out" 2>&1; rc=$?
[ $rc -eq 1 ] || { cat "$work/out"; fail "a missing composite type: exit $rc, expected 1"; }
grep -q 'did you mean "Address"' "$work/out" || { cat "$work/out"; fail "no did-you-mean"; }

printf 'scenario "x"\nmigrations m\ndeploy\nexpect publicaton "pub" present\n' > "$work/bad.scenario"
"$REHEARSE_BIN" run --no-color "$work/bad.scenario" >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; fail "an unknown kind: exit $rc, expected 2"; }
grep -q 'publication' "$work/out" || { cat "$work/out"; fail "the hint does not suggest publication"; }
echo "1 passed, 0 failed"
