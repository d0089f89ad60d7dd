#!/usr/bin/env bash
# manpages.test.sh — the man pages generated at build time (cmake/manpages.sh): rehearse(1) and one
# rehearse-COMMAND(1) for every command in main.c's table (read from the source, not from the
# binary's --help that the pages are made of), each with a SYNOPSIS and every long option its
# --help names, and none with a warning from man/groff (what lintian runs).
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}" "${REHEARSE_BUILD_DIR:?}"
man_dir=$REHEARSE_BUILD_DIR/generated/man
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v man >/dev/null || fail "man is not installed"

commands=$(grep -oE '^ *\{"[a-z]+", rh_cmd_[a-z]+,' "$REHEARSE_SOURCE_DIR/harness/cli/main.c" | grep -oE '"[a-z]+"' | tr -d '"')
[ "$(wc -w <<<"$commands")" -ge 13 ] || fail "read only these commands from main.c: $commands"

plain() { zcat "$1" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g'; }   # roff source, dashes and fonts undone
check_page() {   # check_page PAGE HELP-TEXT
  [ -s "$1" ] || fail "no man page $1"
  local text; text=$(plain "$1")
  # the usage became a SYNOPSIS (usage.awk in manpages.sh): `rehearse` in bold, then the command line
  grep -qx '\.B rehearse' <<<"$(sed -n '/^\.SH SYNOPSIS/,/^\.SH/p' <<<"$text")" || fail "$(basename "$1") has no SYNOPSIS"
  for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$2" | sort -u); do
    grep -qF -- "$opt" <<<"$text" || fail "$(basename "$1") lacks $opt"
  done
  local warnings
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$1" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$(basename "$1"): man warns: $warnings"
}

check_page "$man_dir/rehearse.1.gz" "$("$REHEARSE_BIN" --help)"
# dated by the commit the binary was built from (SOURCE_DATE_EPOCH, cmake/package.cmake), not the
# day of the build: two builds of one commit make the same pages
commit=$("$REHEARSE_BIN" --version | sed -n 's/^commit //p')
if git -C "$REHEARSE_SOURCE_DIR" cat-file -e "$commit^{commit}" 2>/dev/null; then
  month=$(LC_ALL=C TZ=UTC git -C "$REHEARSE_SOURCE_DIR" log -1 --format=%cd --date=format-local:'%B %Y' "$commit")
  grep -q "^\.TH REHEARSE \"1\" \"$month\"" <<<"$(zcat "$man_dir/rehearse.1.gz")" ||
    fail "rehearse(1) is not dated $month (the commit's): $(zcat "$man_dir/rehearse.1.gz" | grep '^\.TH')"
fi
for c in $commands; do
  check_page "$man_dir/rehearse-$c.1.gz" "$("$REHEARSE_BIN" "$c" --help)"
  grep -qF "rehearse-$c(1)" <<<"$(plain "$man_dir/rehearse.1.gz")" || fail "rehearse(1) does not refer to rehearse-$c(1)"
  grep -qE "^rehearse-$c - " <<<"$(plain "$man_dir/rehearse-$c.1.gz")" || fail "rehearse-$c(1) has no NAME line"
done
# the help texts (and so the pages) state the rules for the run and cache folders, not the folders of
# the machine that built them (clusters and cache printed /dev/shm/rehearse-0 and /root/.cache/rehearse)
marker=/nonexistent/rh-manpages-marker
for c in "" $commands; do
  out=$(REHEARSE_RUN_DIR=$marker/run REHEARSE_CACHE_DIR=$marker/cache XDG_CACHE_HOME=$marker/xdg HOME=$marker/home \
        "$REHEARSE_BIN" $c --help 2>&1)
  grep -qF "$marker" <<<"$out" && fail "rehearse $c --help prints this machine's folder: $(grep -F "$marker" <<<"$out")"
done
grep -qF 'rehearse-EUID' <<<"$(plain "$man_dir/rehearse-clusters.1.gz")" || fail "rehearse-clusters(1) does not name /dev/shm/rehearse-EUID"
zcat "$man_dir"/*.1.gz | grep -E '/dev/shm/rehearse-[0-9]|rehearse-cache-[0-9]' && fail "a page names a build machine's folder"
# no page for a command that does not exist
for page in "$man_dir"/rehearse-*.1.gz; do
  c=${page##*/rehearse-}; c=${c%.1.gz}
  grep -qxF "$c" <<<"$commands" || fail "a page for no command: $page"
done
echo ok
