#!/usr/bin/env bash
# manpages.sh REHEARSE VERSION OUTDIR — writes rehearse.1.gz and one rehearse-COMMAND.1.gz per
# command that `rehearse --help` lists, made by help2man from the binary's own help texts, so that
# the pages never drift from them. help2man runs a program: for a command that is a two-line script
# `rehearse-COMMAND` (help2man names the page after the program) calling `rehearse COMMAND`, its
# usage lines reshaped for help2man's SYNOPSIS (usage.awk below); the rest of the text as it is.
set -euo pipefail
bin=$(realpath "$1") version=$2 out=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v help2man >/dev/null || { echo "manpages.sh: help2man is not installed (scripts/bootstrap.sh installs it)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/man"

commands=$("$here/help-commands.sh" "$bin")
see_also=$(cut -f1 <<<"$commands" | sed 's/.*/.BR rehearse-&(1)/' | paste -sd, - | sed 's/,/,\n/g')

page() {   # page PROGRAM NAME-LINE SEE-ALSO
  printf '[SEE ALSO]\n%s\n.PP\nThe documentation in /usr/share/doc/rehearse/.\n' "$3" > "$work/see-also"
  help2man --no-info --version-string="$version" --name="$2" --section=1 \
           --include="$work/see-also" --output="$work/man/$(basename "$1").1" "$1"
}

# The usage block (the lines before the first blank one) as help2man reads a SYNOPSIS: "Usage: "
# first, a wrapped line joined to the one it continues, another form of the command as "  or: ".
cat > "$work/usage.awk" <<'AWK'
NR == 1 && sub(/^usage: +/, "Usage: ") { in_usage = 1; line = $0; next }
in_usage && /^$/ { print line; in_usage = 0; print; next }
in_usage {
  s = $0; sub(/^ +/, "", s)
  if (s ~ /^rehearse /) { print line; line = "  or: " s } else line = line " " s
  next
}
{ print }
END { if (in_usage) print line }
AWK
wrapper() {   # wrapper PATH ARGS: a program help2man can run, printing `rehearse ARGS --help` so
  printf '#!/bin/sh\n"%s" %s "$@" | awk -f "%s"\n' "$bin" "$2" "$work/usage.awk" > "$1"
  chmod +x "$1"
}

mkdir -p "$work/top"
wrapper "$work/top/rehearse" ""
page "$work/top/rehearse" "replay database migrations against throwaway PostgreSQL clusters" "$see_also"
while IFS=$'\t' read -r name summary; do
  wrapper "$work/bin/rehearse-$name" "$name"
  page "$work/bin/rehearse-$name" "$summary" ".BR rehearse (1)"
done <<<"$commands"

gzip -9n "$work"/man/*.1
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$work/man" "$out"
