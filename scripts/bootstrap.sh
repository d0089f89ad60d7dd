#!/usr/bin/env bash
# bootstrap.sh — install what rehearse needs to build and test, from Debian packages.
# Idempotent and fast when everything is present (one dpkg-query). Needs root (or sudo) to install.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libpq-dev libgit2-dev zlib1g-dev libcmocka-dev libssl-dev libjson-c-dev libicu-dev libpg-query-dev
  postgresql postgresql-contrib
  nodejs npm                 # the Prisma oracle (real Prisma CLI) used by the conformance tests
  libxml2-utils perl         # xmllint checks JUnit XML against its XSD; prove consumes TAP
  python3-jsonschema         # validates SARIF against the SARIF 2.1.0 schema (tests)
  python3-yaml               # parses the CI examples in ci/ (tests/cli/ci_examples.test.sh)
  chromium                   # headless browser: loads check's HTML report in tests/cli/check_html.test.sh
  valgrind clang libclang-rt-14-dev   # clang + its runtime: the scenario parser's libFuzzer target
  help2man man-db lintian file mmdebstrap   # the package: man pages from the help texts, their
                             # check, lintian, cpack's ELF scan, the Debian 12 root it is installed in
)

installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' 2>/dev/null | awk '$2=="installed"{print $1}')
missing=()
for p in "${packages[@]}"; do
  grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

# node may come from elsewhere than Debian (it does on these machines): accept a working one.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]-}"; do
    case "$p" in nodejs|npm|"") ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]-}")
fi
[ -z "${missing[*]-}" ] && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package starts a system cluster; rehearse never uses it.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
    $sudo pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
  done
fi
