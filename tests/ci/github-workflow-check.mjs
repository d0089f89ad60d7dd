// github-workflow-check.mjs FILE — parse a GitHub Actions workflow with GitHub's own parser
// (@actions/workflow-parser: its workflow schema, expressions, job graph); print each error with its
// line and the job ids; exit 1 on any error.
import { register } from "node:module";
import { readFileSync } from "node:fs";
register("./json-import.mjs", import.meta.url);
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import("@actions/workflow-parser");
const file = process.argv[2];
const result = parseWorkflow({ name: file, content: readFileSync(file, "utf8") }, new NoOperationTraceWriter());
const errors = new Set(result.context.errors.getErrors().map((e) => e.message));
let jobs = [];
if (result.value) {
  const template = await convertWorkflowTemplate(result.context, result.value);
  for (const e of template.errors || []) errors.add(e.Message ?? e.message);
  jobs = (template.jobs || []).map((j) => j.id?.value ?? String(j.id));
}
for (const e of errors) console.log("error: " + e);
console.log("jobs: " + jobs.join(" "));
process.exit(errors.size ? 1 : 0);
