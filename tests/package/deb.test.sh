#!/usr/bin/env bash
# deb.test.sh — `cpack -G DEB` from the build: the package's control fields (Depends computed from
# the libraries the binary links: each NEEDED library's Debian package is in it; Recommends:
# postgresql; the version is the project's plus the commit `rehearse --version` prints), its files
# (binary, a man page per command, bash completion, docs, copyright, changelog) and, when lintian is
# installed, no lintian error or warning. tests/package/deb_install.test.sh installs it.
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}" "${REHEARSE_BUILD_DIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
if grep -q '^REHEARSE_SANITIZE:BOOL=ON' "$REHEARSE_BUILD_DIR/CMakeCache.txt"; then
  echo "sanitizer build: the package is made and tested from the normal build"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cpack --config "$REHEARSE_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$work" >"$work/cpack.log" 2>&1 ||
  fail "cpack: $(cat "$work/cpack.log")"
deb=$(ls "$work"/rehearse_*.deb 2>/dev/null) || fail "no .deb in $work: $(ls "$work")"
field() { dpkg-deb -f "$deb" "$1"; }

version=$(sed -n 's/^rehearse \([0-9.]*\)$/\1/p' < <("$REHEARSE_BIN" --version))
commit=$(sed -n 's/^commit \([0-9a-f]\{40\}\)$/\1/p' < <("$REHEARSE_BIN" --version))
[ -n "$version" ] && [ -n "$commit" ] || fail "rehearse --version: $("$REHEARSE_BIN" --version)"
[ "$(field Version)" = "$version+g${commit:0:12}" ] || fail "Version $(field Version), expected $version+g${commit:0:12}"
[ "$(field Package)" = rehearse ] || fail "Package $(field Package)"
[ "$(field Recommends)" = postgresql ] || fail "Recommends: $(field Recommends)"

# Depends: the package of each library the binary needs (as dpkg knows it on this machine)
depends=$(field Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//')
for lib in $(readelf -d "$REHEARSE_BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x86_64|AArch64|aarch64/ { print $NF; exit }')
  [ -n "$path" ] || fail "$lib: not in ldconfig's cache"
  pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || fail "$lib ($path): no Debian package owns it"
  grep -qxF "$pkg" <<<"$depends" || fail "Depends lacks $pkg (for $lib): $(field Depends)"
done

# the changelog entry is dated by the commit (SOURCE_DATE_EPOCH): a rebuild of it is the same file
if git -C "$REHEARSE_SOURCE_DIR" cat-file -e "$commit^{commit}" 2>/dev/null; then
  when=$(LC_ALL=C TZ=UTC git -C "$REHEARSE_SOURCE_DIR" log -1 --date=format-local:'%a, %d %b %Y %H:%M:%S +0000' \
         --format=%cd "$commit")
  entry=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/rehearse/changelog.gz | zcat)
  grep -qxF " -- $(field Maintainer)  $when" <<<"$entry" || fail "changelog not dated $when: $entry"
fi

files=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|')
has() { grep -qxF "$1" <<<"$files" || fail "the package lacks $1"; }
has /usr/bin/rehearse
has /usr/share/man/man1/rehearse.1.gz
for c in $(grep -oE '^ *\{"[a-z]+", rh_cmd_[a-z]+,' "$REHEARSE_SOURCE_DIR/harness/cli/main.c" | grep -oE '"[a-z]+"' | tr -d '"'); do
  has "/usr/share/man/man1/rehearse-$c.1.gz"
done
has /usr/share/bash-completion/completions/rehearse
has /usr/share/doc/rehearse/copyright
has /usr/share/doc/rehearse/changelog.gz
has /usr/share/doc/rehearse/README.md
has /usr/share/doc/rehearse/docs/check.md

if command -v lintian >/dev/null; then
  tags=$(lintian --no-tag-display-limit "$deb" 2>&1 | grep -E '^[EW]: ')
  [ -z "$tags" ] || fail "lintian: $tags"
else
  echo "lintian is not installed: lintian not run (scripts/bootstrap.sh installs it)"
fi
echo ok
