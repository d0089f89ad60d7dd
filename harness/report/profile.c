/* profile.c — the default tool's version profile in reports (see profile.h). */
#include "report/profile.h"

#include <json-c/json.h>

#include "report/escape.h"
#include "tools/tool.h"

struct json_object *rh_report_profile_json(const rh_profile *p, rh_profile_from from, const char *source)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_string(p->version));
    json_object_object_add(o, "from", json_object_new_string(rh_profile_from_name(from)));
    json_object_object_add(o, "source", json_object_new_string(source ? source : ""));
    json_object_object_add(o, "order", json_object_new_string(rh_order_name(p->order)));
    json_object_object_add(o, "exec", json_object_new_string(rh_exec_name(p->exec)));
    json_object_object_add(o, "verified", json_object_new_boolean(p->verified));
    return o;
}

void rh_report_profile_line(const rh_profile *p, const char *source, rh_buf *out)
{
    /* the version and source come from the repository (package.json): a log line, so terminal-safe */
    rh_buf line;
    rh_buf_init(&line);
    const rh_tool *tool = RH_TOOL_DEFAULT;
    rh_buf_printf(&line, "%s %s profile, from %s: ", tool->title ? tool->title : tool->name, p->version,
                  source ? source : "?");
    RH_TOOL_DEFAULT->profile_describe(p, &line);
    rh_report_term_text(out, line.data);
    rh_buf_free(&line);
}
