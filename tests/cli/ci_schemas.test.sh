#!/usr/bin/env bash
# ci_schemas.test.sh — ci/github-actions.yml and ci/gitlab-ci.yml against their services' own rules:
# the workflow through GitHub's parser (@actions/workflow-parser: GitHub's workflow schema, `${{ }}`
# expressions, the `needs` graph), the GitLab file against the GitLab CI JSON schema (GitLab's
# editor/schema/ci.json, draft-07, taken from gitlab-ci-local's bundle; python3-jsonschema). Pinned
# in tests/ci/package-lock.json and installed once into the cache folder (npm ci, a few seconds).
# Each validator is first shown a broken copy and must reject it. What this does not check: that the
# jobs run on the hosted services (runners, actions, tokens, the notes API) — ci_examples.test.sh runs
# their shell steps here.
set -uo pipefail
: "${REHEARSE_SOURCE_DIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "no node/npm: skipped"; exit 77; }
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || { echo "node < 20: skipped"; exit 77; }
src=$REHEARSE_SOURCE_DIR/tests/ci
ci=$REHEARSE_SOURCE_DIR/ci
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# install once per lock file (a new pin installs afresh), atomically: a killed install leaves no half
key=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/rehearse-ci-validators/$key
if [ ! -d "$cache/node_modules" ]; then
  mkdir -p "${cache%/*}"
  tmp=$(mktemp -d "${cache%/*}/.install.XXXXXX")
  cp "$src/package.json" "$src/package-lock.json" "$tmp/"
  (cd "$tmp" && npm ci --no-audit --no-fund --ignore-scripts >"$work/npm.log" 2>&1) ||
    { rm -rf "$tmp"; fail "npm ci of tests/ci/package-lock.json: $(tail -5 "$work/npm.log")"; }
  mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp" # another test run got there first: use its copy
fi
# the helpers resolve the packages from their own folder
mkdir "$work/v" && cp "$src"/*.mjs "$work/v/" && ln -s "$cache/node_modules" "$work/v/node_modules"

# GitHub: broken copies are rejected with the parser's words (it is live), then the real file passes
sed -e '0,/runs-on:/s//runs_on:/' -e 's/\${{ matrix.shard }}/${{ matrix.shard }/' "$ci/github-actions.yml" > "$work/bad.yml"
out=$(node "$work/v/github-workflow-check.mjs" "$work/bad.yml" 2>&1) && fail "GitHub's parser accepts a broken workflow: $out"
grep -q "Unexpected value 'runs_on'" <<<"$out" && grep -q "Required property is missing: runs-on" <<<"$out" &&
  grep -q "Unexpected symbol: '}'" <<<"$out" || fail "GitHub's parser did not name the errors: $out"
sed -e '0,/needs: package/s//needs: packge/' "$ci/github-actions.yml" > "$work/bad.yml"
out=$(node "$work/v/github-workflow-check.mjs" "$work/bad.yml" 2>&1) && fail "GitHub's parser accepts an unknown need: $out"
grep -q "depends on unknown job 'packge'" <<<"$out" || fail "GitHub's parser did not name the unknown job: $out"
out=$(node "$work/v/github-workflow-check.mjs" "$ci/github-actions.yml" 2>&1) ||
  fail "ci/github-actions.yml: GitHub's workflow parser: $out"
grep -qx 'jobs: package check scenarios report' <<<"$out" || fail "GitHub's parser read other jobs: $out"

# GitLab: the schema, then a broken copy is rejected and the real file passes
node "$work/v/gitlab-ci-schema.mjs" > "$work/gitlab-ci.schema.json" || fail "could not read the GitLab CI schema"
python3 - "$work/gitlab-ci.schema.json" "$ci/gitlab-ci.yml" <<'PY' || fail "ci/gitlab-ci.yml against the GitLab CI schema"
import copy, json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
assert schema.get("$id") == "https://gitlab.com/.gitlab-ci.yml", schema.get("$id")
validator = jsonschema.Draft7Validator(schema)
doc = yaml.safe_load(open(sys.argv[2]))
bad = copy.deepcopy(doc)
bad["rehearse-report"]["when"] = "sometimes"
bad["rehearse-scenarios"]["parallel"] = "four"
errors = sorted(e.message for e in validator.iter_errors(bad))
assert len(errors) == 2 and any("'sometimes' is not one of" in e for e in errors), errors
errors = ["/".join(map(str, e.path)) + ": " + e.message for e in validator.iter_errors(doc)]
if errors:
    sys.exit("\n".join(errors))
PY
echo ok
