#!/usr/bin/env bash
# manpages.sh REHEARSE VERSION OUTDIR — writes rehearse.1.gz and one rehearse-COMMAND.1.gz per
# command that `rehearse --help` lists, made by help2man from the binary's own help texts, so that
# the pages never drift from them. help2man runs a program: for a command that is a two-line script
# `rehearse-COMMAND` (help2man names the page after the program) calling `rehearse COMMAND`.
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

page "$bin" "replay database migrations against throwaway PostgreSQL clusters" "$see_also"
while IFS=$'\t' read -r name summary; do
  printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$bin" "$name" > "$work/bin/rehearse-$name"
  chmod +x "$work/bin/rehearse-$name"
  page "$work/bin/rehearse-$name" "$summary" ".BR rehearse (1)"
done <<<"$commands"

gzip -9n "$work"/man/*.1
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$work/man" "$out"
