#!/usr/bin/env bash
# help-commands.sh REHEARSE — the commands `rehearse --help` lists, one "NAME<TAB>SUMMARY" a line.
# The one reader of that list for the generated man pages and bash completion (manpages.sh,
# completion.sh), so a new command gets its page and completion without an edit here.
set -euo pipefail
"$1" --help | awk '
  /^commands:/ { in_list = 1; next }
  in_list && /^$/ { exit }
  in_list && /^  [a-z]/ { name = $1; sub(/^  [a-z]+ +/, ""); print name "\t" $0 }'
