#!/usr/bin/env bash
# split_decision.test.sh — rehearse's model of sqlparser 0.61 (harness/tools/prisma/sqlparser_model.c) against the
# real sqlparser 0.61 (npm @guanmingchiu/sqlparser-ts 0.61.1, the build the Prisma 7.10.1 oracle uses).
#
# Prisma >= 7.4 sends a migration file statement by statement only when sqlparser parses the whole file; else it
# sends it whole. Over every SQL file of the fixtures (scripts/fixtures, examples) and the generated corpus
# (corpus.mjs: one file per statement, plus multi-statement files), both decide split/whole; every disagreement
# must be listed in known-disagreements.txt (each also named in docs/engine.md), and every listed one must still
# disagree. Prints the agreement figure. Needs node and npm (installs the pinned package once into a cache).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${REHEARSE_SOURCE_DIR:-$(cd "$here/../../.." && pwd)}
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
home=${REHEARSE_SQLPARSER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/rehearse-sqlparser-oracle}
command -v node >/dev/null && command -v npm >/dev/null || { echo "FAIL: needs node and npm"; exit 1; }

if ! cmp -s "$here/package-lock.json" "$home/package-lock.json" || [ ! -d "$home/node_modules/@guanmingchiu/sqlparser-ts" ]; then
  mkdir -p "$home"
  cp "$here/package.json" "$here/package-lock.json" "$home/"
  (cd "$home" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null 2>&1) \
    || { echo "FAIL: npm ci of the pinned sqlparser failed in $home"; exit 1; }
fi
cp "$here/sqlparser-oracle.mjs" "$home/"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node "$here/corpus.mjs" | node "$here/split-records.mjs" "$work/corpus" || { echo "FAIL: corpus generation"; exit 1; }
{ find "$src/scripts/fixtures" "$src/examples" -name '*.sql' | sort; ls "$work"/corpus/*.sql; } > "$work/files"
nfiles=$(wc -l < "$work/files"); ncorpus=$(ls "$work"/corpus/*.sql | wc -l)
[ "$ncorpus" -ge 1000 ] || { echo "FAIL: the corpus has $ncorpus statements (want >= 1000)"; exit 1; }

node "$home/sqlparser-oracle.mjs" < "$work/files" > "$work/oracle" || { echo "FAIL: the sqlparser oracle did not run"; exit 1; }
"$bin" plan --sql-from "$work/files" > "$work/model" || { echo "FAIL: rehearse plan --sql-from failed"; exit 1; }
[ "$(wc -l < "$work/oracle")" -eq "$nfiles" ] && [ "$(wc -l < "$work/model")" -eq "$nfiles" ] \
  || { echo "FAIL: not one decision per file (files $nfiles, oracle $(wc -l < "$work/oracle"), rehearse $(wc -l < "$work/model"))"; exit 1; }

# the statement text of a file on one line (newlines as \n): how known-disagreements.txt names it
flat() { awk 'BEGIN{ORS=""} NR>1{print "\\n"} {print}' "$1"; }
failures=0 agree=0 known_seen=0
declare -A seen=()
while IFS=$'\t' read -r o_dec o_file o_err <&3 && IFS=$'\t' read -r m_dec _ m_file m_reason <&4; do
  [ "$o_file" = "$m_file" ] || { echo "FAIL: output order differs ($o_file vs $m_file)"; exit 1; }
  if [ "$o_dec" = "$m_dec" ]; then agree=$((agree + 1)); continue; fi
  text=$(flat "$o_file")
  if grep -qxF -- "$text" <(grep -v '^#' "$here/known-disagreements.txt"); then
    known_seen=$((known_seen + 1)); seen[$text]=1
  else
    echo "  FAIL: sqlparser 0.61 says $o_dec, rehearse says $m_dec${m_reason:+ ($m_reason)}: $text"
    [ -n "$o_err" ] && echo "        sqlparser: $o_err"
    failures=$((failures + 1))
  fi
done 3<"$work/oracle" 4<"$work/model"
while IFS= read -r line; do
  case "$line" in '#'*|'') continue ;; esac
  [ -n "${seen[$line]:-}" ] || { echo "  FAIL: listed as a known disagreement but no longer one (or not in the corpus): $line"; failures=$((failures + 1)); }
done < "$here/known-disagreements.txt"

nsplit=$(grep -c '^split' "$work/oracle")
echo "split decision: rehearse agrees with sqlparser 0.61 on $agree of $nfiles files" \
     "($ncorpus generated, $((nfiles - ncorpus)) from the fixtures; sqlparser splits $nsplit);" \
     "$known_seen known disagreements (docs/engine.md)"
[ "$failures" -eq 0 ] || { echo "FAIL: $failures unexplained disagreement(s)"; exit 1; }
echo "PASS"
