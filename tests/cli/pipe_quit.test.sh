#!/usr/bin/env bash
# pipe_quit.test.sh — no test or script under `set -o pipefail` judges a pipe into `grep -q`.
# grep -q quits at its first match; a writer still writing then dies of SIGPIPE, and under pipefail
# the pipeline fails although the text was there (dbmate's conformance case 9 failed CI so once).
# Read the text from a variable or a file instead: `out=$(cmd) && grep -q X <<<"$out"`.
# Continued lines (`|` or `\` at the end) are joined before the check; comments are skipped.
set -uo pipefail
root=${REHEARSE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root" || exit 2

mapfile -t files < <(grep -rlE --include='*.sh' --include='*-oracle' 'set -[a-z]*o pipefail|set -o pipefail' \
    tests scripts .ci 2>/dev/null | sort)
[ "${#files[@]}" -gt 10 ] || { echo "FAIL: found only ${#files[@]} scripts under pipefail: is the tree here?"; exit 1; }

hits=$(awk '
    FNR == 1 { joined = ""; start = 0 }
    /^[ \t]*#/ { next }
    {
        if (joined == "") start = FNR
        joined = joined " " $0
        if ($0 ~ /(\||\\)[ \t]*$/) next
        # a pipe into grep whose options hold q (-q, -qx, -qF, -Eq …) or --quiet
        if (joined ~ /(^|[^|])\|[ \t]*grep([ \t]+-[^ \t]*)*[ \t]+(-[a-zA-Z]*q[a-zA-Z]*|--quiet|--silent)([ \t]|$)/)
            print FILENAME ":" start ":" joined
        joined = ""
    }' "${files[@]}")

if [ -n "$hits" ]; then
    echo "FAIL: a pipe into grep -q under pipefail (SIGPIPE can fail it); read from a variable or a file:"
    printf '%s\n' "$hits" | cut -c1-200
    exit 1
fi
echo "ok: ${#files[@]} scripts under pipefail, none judges a pipe into grep -q"
