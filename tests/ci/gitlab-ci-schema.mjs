// gitlab-ci-schema.mjs — print the GitLab CI JSON schema (GitLab's app/assets/javascripts/editor/schema/
// ci.json, draft-07) that gitlab-ci-local bundles as an object literal in dist/index.js.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const bundle = require.resolve("gitlab-ci-local/package.json").replace(/package\.json$/, "dist/index.js");
const text = readFileSync(bundle, "utf8");
const start = text.indexOf('{$schema:"http://json-schema.org/draft-07/schema#",$id:"https://gitlab.com/.gitlab-ci.yml"');
if (start < 0) throw new Error("no GitLab CI schema in " + bundle);
let depth = 0, end = start, quote = null;
for (; end < text.length; end++) { // the literal's end: brackets outside strings
  const c = text[end];
  if (quote) {
    if (c === "\\") end++;
    else if (c === quote) quote = null;
  } else if (c === '"' || c === "'" || c === "`") quote = c;
  else if (c === "{" || c === "[") depth++;
  else if ((c === "}" || c === "]") && --depth === 0) break;
}
const schema = new Function("return (" + text.slice(start, end + 1) + ")")();
process.stdout.write(JSON.stringify(schema, null, 1) + "\n");
