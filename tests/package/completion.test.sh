#!/usr/bin/env bash
# completion.test.sh — the bash completion generated at build time (cmake/completion.sh), run in
# bash the way readline runs it (COMP_WORDS/COMP_CWORD, then the function `complete -p` names):
# every command of main.c's table, a command's options, an option's listed values, directories
# after a DIR option, no option of another command, sub-commands (pg, bench).
set -uo pipefail
: "${REHEARSE_SOURCE_DIR:?}" "${REHEARSE_BUILD_DIR:?}"
script=$REHEARSE_BUILD_DIR/generated/completion/rehearse
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -s "$script" ] || fail "no completion script $script"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/migrations-dir" && touch "$work/migrations-file"

# complete WORD... : what completing the last word offers, sorted, on one line
complete_words() {
  (cd "$work" && bash --norc --noprofile -c '
    source "$1"; shift
    fn=$(complete -p rehearse | grep -oE -- "-F [^ ]+" | cut -d" " -f2) || exit 3
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    "$fn" rehearse "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd" " -' _ "$script" "$@")
}
expect() {   # expect "OFFERED" rehearse WORD...
  local want=$1; shift
  local got; got=$(complete_words "$@" 2>&1 | head -5)
  [ "$got" = "$want" ] || fail "${*}<TAB>: offered '$got', expected '$want'"
}

commands=$(grep -oE '^ *\{"[a-z]+", rh_cmd_[a-z]+,' "$REHEARSE_SOURCE_DIR/harness/cli/main.c" | grep -oE '"[a-z]+"' | tr -d '"')
all=$(complete_words rehearse "")
for c in $commands; do
  [[ " $all " == *" $c "* ]] || fail "rehearse <TAB> does not offer $c: $all"
done
expect "cache check clusters" rehearse c
expect "check" rehearse ch
expect "--fail-on" rehearse check --fa
expect "--pg --pg-bin" rehearse run --pg
expect "sarif" rehearse history --format s
expect "human" rehearse plan --format h
expect "--help --reap --stop" rehearse clusters --   # not run's --keep-failed that its help mentions
expect "migrations-dir" rehearse deploy --migrations-dir migr
expect "migrations-dir migrations-file" rehearse check --seed migr
expect "migrations-dir migrations-file" rehearse run migr
expect "" rehearse stats --x
expect "catalog check cluster" rehearse bench c
expect "install list" rehearse pg ""
expect "clear list prune" rehearse cache ""
expect "--force --help" rehearse pg install --
echo ok
