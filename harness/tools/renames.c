/*
 * renames.c — which of head's migrations are base's renamed (rh_tool_renames, tools/tool.h). Apart from
 * registry.c, which names every tool, so that a tool's own file (and its fuzzer) links without them all.
 */
#include <stddef.h>

#include "migrations/migset.h"
#include "source/history.h"
#include "tools/tool.h"

size_t *rh_tool_renames(const rh_tool *tool, const rh_git_history *h)
{
    size_t *from = rh_hist_renames(h);
    for (size_t j = 0; tool->same_entry && j < h->b.n; j++) {
        const rh_migration *mb = &h->b.items[j];
        if (from[j] || rh_migset_find(&h->a, mb->name))
            continue;
        for (size_t i = 0; i < h->a.n && !from[j]; i++) {
            const rh_migration *ma = &h->a.items[i];
            int taken = 0; /* one new name per old one */
            for (size_t k = 0; k < h->b.n && !taken; k++)
                taken = from[k] == i + 1;
            if (!taken && !rh_migset_find(&h->b, ma->name) && tool->same_entry(ma, mb))
                from[j] = i + 1;
        }
    }
    return from;
}
