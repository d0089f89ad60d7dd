#!/usr/bin/env bash
# deb_install.test.sh — the .deb from `cpack -G DEB` installed with apt into a fresh Debian 12 root
# (Depends and Recommends resolved by apt: libgit2, json-c, libpg_query and PostgreSQL come in
# through them), then `rehearse check` run there, chrooted, on a fixture repository: a real cluster
# of the installed PostgreSQL, the lock trace, the finding.
#
# The base root (mmdebstrap: minbase, postgresql-15 (the server, heavy to install each time; the
# `postgresql` package Recommends names still comes in through apt), apt's lists) is built once
# and kept in $REHEARSE_DEBIAN_ROOT_CACHE (default /var/cache/rehearse/debian12, rebuilt when a week
# old), with the .debs apt downloads (archives/), so a run is an untar into a tmpfs, a dpkg install
# from the cache and a check. Needs root (chroot, mounts): without it the test skips (77), except
# under CI (CI set), where it fails. The root is a tmpfs; /proc and a private tmpfs /dev/shm are
# mounted in it; all are unmounted always, on failure too, inner ones first.
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_BUILD_DIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
if grep -q '^REHEARSE_SANITIZE:BOOL=ON' "$REHEARSE_BUILD_DIR/CMakeCache.txt"; then
  echo "sanitizer build: the package is made and tested from the normal build"; exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
  [ -z "${CI:-}" ] || fail "needs root (chroot and mounts), and CI is set: run the CI job as root"
  echo "not root: skipped (chroot and mounts need root)"
  exit 77
fi
command -v mmdebstrap >/dev/null || fail "mmdebstrap is not installed (scripts/bootstrap.sh installs it)"

cache=${REHEARSE_DEBIAN_ROOT_CACHE:-/var/cache/rehearse/debian12}
mkdir -p "$cache/archives/partial" || fail "cannot create $cache"
work=$(mktemp -d)
root=$work/root
mounts=(proc dev/shm var/cache/apt/archives "")   # inner first; "" is the root's own tmpfs

# Processes still running in the root are this test's (nothing else is chrooted into a fresh
# mktemp folder): the /proc/PID/root link says so, checked for each before it is signalled.
cleanup() {
  local p m
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
  done
  for m in "${mounts[@]}"; do
    mountpoint -q "$root/$m" 2>/dev/null && { umount "$root/$m" || umount -l "$root/$m"; }
  done
  if grep -qE " $root(/| )" /proc/mounts; then
    echo "deb_install: still mounted under $root, left in place: $(grep -F " $root" /proc/mounts)" >&2
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT
exec 9>"$cache/lock"
flock 9    # one run at a time uses the cache (base root, archives)

# The base root.
base=$cache/bookworm-minbase-postgresql15.tar
if [ ! -s "$base" ] || [ -n "$(find "$base" -mtime +6)" ]; then
  sources=()   # mmdebstrap's default mirror, unless this host is a Debian 12 with its own sources
  if grep -q '^12\.' /etc/debian_version 2>/dev/null; then
    for s in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
      [ -s "$s" ] && { sources=("$s"); break; }
    done
  fi
  echo "deb_install: building the Debian 12 base root in $base (once a week)"
  mmdebstrap --quiet --format=tar --variant=minbase --include=postgresql-15 --skip=cleanup/apt/lists bookworm "$base.tmp" \
             "${sources[@]}" ||
    { rm -f "$base.tmp"; fail "mmdebstrap could not build a Debian 12 root"; }
  mv "$base.tmp" "$base"
fi
mkdir "$root" && mount -t tmpfs -o size=3g,mode=755 tmpfs "$root" || fail "cannot mount a tmpfs on $root"
tar -C "$root" -xf "$base" || { rm -f "$base"; fail "cannot unpack $base (deleted: the next run builds it again)"; }
echo "deb_install: base root unpacked at ${SECONDS}s"

cpack --config "$REHEARSE_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$work/deb" >"$work/cpack.log" 2>&1 ||
  fail "cpack: $(cat "$work/cpack.log")"
deb=$(ls "$work"/deb/rehearse_*.deb) || fail "no .deb"
echo "deb_install: package built at ${SECONDS}s"
cp "$deb" "$root/tmp/" && cp /etc/resolv.conf "$root/etc/resolv.conf" || fail "cannot copy into $root"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d"  # start no service

mount -t proc proc "$root/proc" || fail "cannot mount /proc in $root"
mount -t tmpfs -o size=2g,mode=1777 tmpfs "$root/dev/shm" || fail "cannot mount a tmpfs on $root/dev/shm"
mount --bind "$cache/archives" "$root/var/cache/apt/archives" || fail "cannot bind $cache/archives"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
                   DEBIAN_FRONTEND=noninteractive "$@"; }

install=(apt-get install -y -q -o Dpkg::Options::=--force-unsafe-io "/tmp/${deb##*/}")   # no fsync: a throwaway root
if ! in_root "${install[@]}" >"$work/apt.log" 2>&1; then
  # the root's lists are older than the mirror's files: refresh them once
  in_root apt-get update -q >>"$work/apt.log" 2>&1 && in_root "${install[@]}" >>"$work/apt.log" 2>&1 ||
    fail "apt-get install of the package in a Debian 12 root: $(tail -20 "$work/apt.log")"
fi
echo "deb_install: installed with $(grep -c '^Setting up' "$work/apt.log") packages at ${SECONDS}s"
for p in rehearse postgresql libgit2-1.5 libpg-query1504.0; do
  [ "$(in_root dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
    fail "$p is not installed in the root after apt-get install: $(tail -20 "$work/apt.log")"
done
[ -s "$root/usr/share/man/man1/rehearse-check.1.gz" ] || fail "no rehearse-check(1) in the root"
[ -s "$root/usr/share/bash-completion/completions/rehearse" ] || fail "no completion in the root"
installed=$(in_root rehearse --version) && grep -q "^commit $("$REHEARSE_BIN" --version | sed -n 's/^commit //p')$" <<<"$installed" ||
  fail "the installed rehearse is not this build: $(in_root rehearse --version)"

# The fixture: base has a table, the work tree adds SET NOT NULL (a full-scan AccessExclusiveLock).
app=$root/srv/app
git init -q -b main "$app" && git -C "$app" config user.email t@example.invalid && git -C "$app" config user.name t
m=$app/prisma/migrations
mkdir -p "$m/20250101000000_init" "$m/20250201000000_email_not_null"
printf 'CREATE TABLE "User" ("id" INTEGER PRIMARY KEY, "email" TEXT);\n' > "$m/20250101000000_init/migration.sql"
git -C "$app" add -A && git -C "$app" commit -qm init
printf 'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n' > "$m/20250201000000_email_not_null/migration.sql"

out=$(in_root rehearse check --repo /srv/app --base main --no-color 2>&1); rc=$?
[ $rc -eq 0 ] || fail "rehearse check in the root: exit $rc: $out"
grep -q '(b) upgrade path (base, then head) *ok' <<<"$out" || fail "no upgrade path deployed: $out"
grep -q 'AccessExclusiveLock *table "User"' <<<"$out" || fail "no lock traced: $out"
grep -q 'warning prisma/migrations/20250201000000_email_not_null/migration.sql:1: \[f access-exclusive\]' <<<"$out" ||
  fail "no finding: $out"
left=$(in_root rehearse clusters) && grep -q "^no clusters" <<<"$left" || fail "a cluster is left in the root: $left"
echo "deb_install: check run at ${SECONDS}s"
echo ok
