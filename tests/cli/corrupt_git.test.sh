#!/usr/bin/env bash
# corrupt_git.test.sh — a damaged git object is a setup error (exit 2) that names the object and
# `git fsck`, in deploy, check, history and diff, and it never hangs: libgit2 1.5.1 looped forever
# inflating a truncated loose object, and a bit-flipped blob came out as P3015 (exit 1). The
# `timeout 60` is only a guard so that a regression fails instead of hanging the suite. Under ASan
# a damaged commit behind a branch name also checks that libgit2's revparse does not leak.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$work" && git init -q -b main repo && cd repo
git config user.email t@example.invalid && git config user.name t
m=prisma/migrations
mkdir -p $m/20240101000000_init
printf 'CREATE TABLE "User" (id int primary key, email text);\n' > $m/20240101000000_init/migration.sql
git add -A && git commit -qm v1
mkdir -p $m/20240102000000_idx
printf 'CREATE INDEX "User_email_idx" ON "User"(email);\n' > $m/20240102000000_idx/migration.sql
git add -A && git commit -qm v2
short=$(git rev-parse --short HEAD)
cd "$work"

# damage one loose object of a copy: cut its end off, or flip one bit in its middle
damage() { # COPY OBJECT-ID truncate|flip
    rm -rf "$work/$1" && cp -a "$work/repo" "$work/$1"
    local f="$work/$1/.git/objects/${2:0:2}/${2:2}"
    chmod u+w "$f"
    if [ "$3" = truncate ]; then
        truncate -s $(( $(stat -c %s "$f") - 8 )) "$f"
    else
        python3 -c 'import sys; p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[len(d) // 2] ^= 0x10; open(p, "wb").write(d)' "$f"
    fi
}
tree=$(git -C repo rev-parse HEAD:$m)
blob=$(git -C repo rev-parse HEAD:$m/20240102000000_idx/migration.sql)
commit=$(git -C repo rev-parse HEAD)
parent=$(git -C repo rev-parse HEAD~1)
damage tree-cut "$tree" truncate
damage blob-flip "$blob" flip
damage commit-cut "$commit" truncate
damage parent-cut "$parent" truncate

expect_damage() { # WHAT OBJECT-ID COMMAND...
    local what=$1 id=$2; shift 2
    err=$(timeout 60 "$@" 2>&1 >/dev/null); rc=$?
    [ $rc -ne 124 ] || fail "$what: still running after 60 s (the inflate loop)"
    [ $rc -eq 2 ] || fail "$what: exit $rc, expected 2: $err"
    grep -q "damaged: git object $id" <<<"$err" || fail "$what: the object is not named: $err"
    grep -q 'git fsck' <<<"$err" || fail "$what: no 'git fsck' advice: $err"
}

R=$REHEARSE_BIN
expect_damage "truncated tree, deploy --rev" "$tree" "$R" deploy --repo tree-cut --rev HEAD
expect_damage "truncated tree, deploy --rev SHORT" "$tree" "$R" deploy --repo tree-cut --rev "$short"
expect_damage "truncated tree, history" "$tree" "$R" history --repo tree-cut --from HEAD~1 --to HEAD
expect_damage "truncated tree, check" "$tree" "$R" check --repo tree-cut --base HEAD~1 --head HEAD
expect_damage "truncated tree, diff" "$tree" "$R" diff --repo tree-cut rev:HEAD~1 rev:HEAD
expect_damage "bit-flipped blob, deploy" "$blob" "$R" deploy --repo blob-flip --rev HEAD
expect_damage "bit-flipped blob, check" "$blob" "$R" check --repo blob-flip --base HEAD~1 --head HEAD
expect_damage "bit-flipped blob, history" "$blob" "$R" history --repo blob-flip --from HEAD~1 --to HEAD
expect_damage "truncated commit, default check base" "$commit" "$R" check --repo commit-cut
expect_damage "truncated commit, deploy --rev SHORT" "$commit" "$R" deploy --repo commit-cut --rev "$short"
expect_damage "truncated parent, check --base HEAD~1" "$parent" "$R" check --repo parent-cut --base HEAD~1 --head HEAD

# the undamaged repository still works, packed too
"$R" deploy --repo repo --rev HEAD >/dev/null || fail "an intact repository no longer deploys"
git -C repo gc -q
"$R" history --repo repo --from HEAD~1 --to HEAD >/dev/null || fail "a packed repository no longer reads"

# a damaged pack (the guard reads loose objects only): the branch's commit cannot be read. Before:
# "unknown revision 'main'" (a cut pack) or "unknown libgit2 error" (bytes flipped), as if the name
# were not there; now the name, its object and `git fsck`
for how in cut flip; do
    rm -rf "pack-$how" && cp -a repo "pack-$how"
    pack=$(ls "pack-$how"/.git/objects/pack/*.pack) && chmod u+w "$pack"
    if [ $how = cut ]; then
        truncate -s $(( $(stat -c %s "$pack") / 2 )) "$pack"
    else
        python3 -c 'import sys; p = sys.argv[1]; d = bytearray(open(p, "rb").read())
for i in range(40, len(d) - 30, 7): d[i] ^= 0x55
open(p, "wb").write(d)' "$pack"
    fi
    err=$(timeout 60 "$R" deploy --repo "pack-$how" --rev main 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] || fail "pack-$how: exit $rc, expected 2: $err"
    grep -q "revision 'main' names object $commit, which cannot be read" <<<"$err" || fail "pack-$how: the object is not named: $err"
    grep -q 'git fsck' <<<"$err" || fail "pack-$how: no 'git fsck' advice: $err"
done
echo ok
