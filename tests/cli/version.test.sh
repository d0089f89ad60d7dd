#!/usr/bin/env bash
# version.test.sh — `rehearse --version`: the version, the commit it was built from (a commit of this
# repository; from a `git archive` tarball without .git, the commit the archive was made of), and the
# libraries as they report themselves at run time (the same versions pkg-config names here).
set -uo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$REHEARSE_BIN" --version); rc=$?
[ $rc -eq 0 ] || fail "--version: exit $rc"
grep -qE '^rehearse [0-9]+\.[0-9]+\.[0-9]+$' <<<"$out" || fail "no version line: $out"
commit=$(sed -n 's/^commit //p' <<<"$out")
[[ $commit =~ ^[0-9a-f]{40}$ ]] || fail "no commit line: $out"
for lib in libpq libgit2 json-c libpg_query OpenSSL ICU zlib; do
  grep -qE "^$lib .*[0-9]+\.[0-9]+" <<<"$out" || fail "no $lib version: $out"
done
# run time versions: the libraries installed here
grep -qx "libgit2 $(pkg-config --modversion libgit2)" <<<"$out" || fail "libgit2 is not $(pkg-config --modversion libgit2): $out"
grep -qx "json-c $(pkg-config --modversion json-c)" <<<"$out" || fail "json-c is not $(pkg-config --modversion json-c): $out"
grep -qx "ICU $(pkg-config --modversion icu-uc)" <<<"$out" || fail "ICU is not $(pkg-config --modversion icu-uc): $out"

git -C "$REHEARSE_SOURCE_DIR" rev-parse HEAD >/dev/null 2>&1 || { echo "not a git checkout: commit checks skipped"; exit 77; }
git -C "$REHEARSE_SOURCE_DIR" cat-file -e "$commit^{commit}" || fail "commit $commit is not in the repository"

# a tarball (git archive, no .git): the commit it was made of
head=$(git -C "$REHEARSE_SOURCE_DIR" rev-parse HEAD)
mkdir "$work/tar" && git -C "$REHEARSE_SOURCE_DIR" archive HEAD .git-commit cmake/commit.cmake | tar -x -C "$work/tar" ||
  fail "git archive"
[ ! -e "$work/tar/.git" ] || fail "the archive has .git"
got=$(cmake -DSRC="$work/tar" -P "$work/tar/cmake/commit.cmake" 2>&1)
[ "$got" = "$head" ] || fail "from a tarball of $head: '$got'"
# a plain copy of the files (no .git, .git-commit not filled in): unknown, not a wrong commit
mkdir -p "$work/copy/cmake" && cp "$REHEARSE_SOURCE_DIR/.git-commit" "$work/copy/" &&
  cp "$REHEARSE_SOURCE_DIR/cmake/commit.cmake" "$work/copy/cmake/"
got=$(cmake -DSRC="$work/copy" -P "$work/copy/cmake/commit.cmake" 2>&1)
[ "$got" = unknown ] || fail "from a plain copy: '$got'"
echo "ok: $(head -2 <<<"$out" | tr '\n' ' ')"
