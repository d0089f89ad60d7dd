/*
 * registry.c — the registered migration tools: one line per tool in RH_TOOL_LIST, and the lookups
 * every command uses (by name, by folder).
 */
#include <stdio.h>
#include <string.h>

#include "tools/tool.h"

/* One line per tool: X(NAME) names the descriptor rh_tool_NAME defined in tools/NAME/. */
#define RH_TOOL_LIST \
    X(prisma)        \
    X(dbmate)        \
    X(drizzle)       \
    X(command)

#define X(n) extern const rh_tool rh_tool_##n;
RH_TOOL_LIST
#undef X

#define X(n) &rh_tool_##n,
const rh_tool *const rh_tools[] = {RH_TOOL_LIST NULL};
#undef X

const rh_tool *rh_tool_find(const char *name)
{
    for (size_t i = 0; name && rh_tools[i]; i++)
        if (strcmp(rh_tools[i]->name, name) == 0)
            return rh_tools[i];
    return NULL;
}

const rh_tool_verb *rh_tool_verb_find(const rh_tool *tool, const char *verb)
{
    for (const rh_tool_verb *v = tool->verbs; v && v->name; v++)
        if (strcmp(v->name, verb) == 0)
            return v;
    return NULL;
}

const rh_tool *rh_tool_detect_dir(const char *dir, rh_err *err)
{
    const rh_tool *found = NULL;
    for (size_t i = 0; rh_tools[i]; i++) {
        if (!rh_tools[i]->detect_dir(dir))
            continue;
        if (found) {
            rh_err_set(err, "%s: holds both %s and %s migrations; say which with --tool NAME", dir, found->name,
                       rh_tools[i]->name);
            return NULL;
        }
        found = rh_tools[i];
    }
    char names[256];
    if (!found)
        rh_err_set(err, "%s: no known migration tool's files here (known: %s); say which with --tool NAME", dir,
                   rh_tool_names(names, sizeof names));
    return found;
}

const char *rh_tool_names(char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; rh_tools[i] && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", rh_tools[i]->name);
    return out;
}
