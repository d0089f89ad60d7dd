#!/usr/bin/env bash
# help-options.sh REHEARSE [COMMAND] — the long options a command's `--help` text documents, one a
# line: "--name" or "--name ARG" when it takes a value (ARG as the help writes it: DIR, FILE, N ...,
# or a list of its values: human|json).
# Read from the usage synopsis (the lines before the first blank line) and from option lines (a line
# that starts with spaces and a dash: its first column, up to two spaces). Options named only in
# prose are left out on purpose: `clusters --help` mentions run's --keep-failed, which clusters
# does not take.
set -euo pipefail
if [ $# -ge 2 ]; then help=$("$1" "$2" --help); else help=$("$1" --help); fi
awk '
  NR == 1 { in_usage = 1 }
  in_usage && /^$/ { in_usage = 0 }
  in_usage { print; next }
  /^ +-/ { line = $0; sub(/^ +/, "", line); sub(/  .*/, "", line); print line }' <<<"$help" |
  grep -oE -- '--[a-z][a-z0-9-]*( [A-Z][A-Za-z0-9_=/|.]*| [a-z]+(\|[a-z]+)+)?' |
  sed -E 's/[|.]+$//' | sort -r | awk '!seen[$1]++' | sort
