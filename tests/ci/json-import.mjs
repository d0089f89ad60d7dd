// Node < 22 wants `with { type: "json" }` on a JSON import; @actions/workflow-parser's build has none.
export async function load(url, context, nextLoad) {
  if (url.endsWith(".json")) return nextLoad(url, { ...context, importAttributes: { type: "json" } });
  return nextLoad(url, context);
}
