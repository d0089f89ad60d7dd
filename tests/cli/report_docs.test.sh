#!/usr/bin/env bash
# report_docs.test.sh — docs/reports.md and docs/examples/ are what scripts/report-examples.sh makes
# from real runs today: regenerated into a temporary folder and compared with the committed files,
# numbers (times, sizes, ids' digits, dates) masked. Server logs and Prisma's output (which vary from
# run to run) are compared only where they are deterministic: the verdict lines.
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
docs=$REHEARSE_SOURCE_DIR/docs

REHEARSE_BIN=$REHEARSE_BIN "$REHEARSE_SOURCE_DIR/scripts/report-examples.sh" "$work" >/dev/null 2>"$work/err" ||
  fail "report-examples.sh: $(cat "$work/err")"
mask() { sed -E 's/[0-9]+(\.[0-9]+)?/N/g' "$1"; }
for f in check.txt check.md check-annotations.txt check.sarif check.xml check.json plan.md history.md; do
  [ -f "$docs/examples/$f" ] || fail "docs/examples/$f is missing: run scripts/report-examples.sh"
  diff <(mask "$docs/examples/$f") <(mask "$work/examples/$f") >"$work/d" ||
    fail "docs/examples/$f drifted from what rehearse prints (run scripts/report-examples.sh): $(head -20 "$work/d")"
done
for f in run.txt run.tap run.md run.html run.json run.xml check.html; do
  [ -f "$docs/examples/$f" ] || fail "docs/examples/$f is missing"
  [ "$(mask "$docs/examples/$f" | head -1)" = "$(mask "$work/examples/$f" | head -1)" ] ||
    fail "docs/examples/$f: its first line drifted: $(head -1 "$work/examples/$f")"
done
grep '^#' "$work/reports.md" > "$work/h1"; grep '^#' "$docs/reports.md" > "$work/h2"
diff "$work/h2" "$work/h1" >/dev/null || fail "docs/reports.md's sections drifted from the script's"
# every example file the page links exists
grep -oE 'examples/[a-z-]+\.[a-z]+' "$docs/reports.md" | sort -u | while read -r f; do
  [ -f "$docs/$f" ] || { echo "FAIL: docs/reports.md links $f, which does not exist" >&2; exit 1; }
done || exit 1
echo ok
