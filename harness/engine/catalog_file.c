/*
 * catalog_file.c — the text of the catalog kept with a deployed state (engine/cached.h, "the catalog
 * of a state"): a format line, the origin (what decides the text beyond the state: the catalog
 * code, the snapshot's options), "globals N" and the N lines of the cluster's globals, then the
 * catalog's text form. Its format alone, fuzzed by tests/fuzz/fuzz_state_file.c.
 */
#include "engine/cached.h"

#include <stdlib.h>
#include <string.h>

#define CATALOG_FORMAT "rehearse state catalog 1\n"

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

char *rh_state_catalog_format(const char *origin, const char *globals, const char *catalog)
{
    return rh_xasprintf(CATALOG_FORMAT "%sglobals %zu\n%s\n%s", origin, count_lines(globals) + 1, globals, catalog);
}

int rh_state_catalog_parse(const char *file, const char *origin, char **catalog, char **globals)
{
    *catalog = *globals = NULL;
    size_t flen = strlen(CATALOG_FORMAT), olen = strlen(origin);
    if (strncmp(file, CATALOG_FORMAT, flen) != 0 || strncmp(file + flen, origin, olen) != 0)
        return 0;
    const char *p = file + flen + olen;
    if (strncmp(p, "globals ", 8) != 0 || p[8] < '1' || p[8] > '9')
        return 0;
    char *end = NULL;
    unsigned long long n = strtoull(p + 8, &end, 10); /* "globals N\n", exactly */
    if (!end || *end != '\n')
        return 0;
    const char *g = end + 1, *q = g;
    for (unsigned long long i = 0; i < n; i++) { /* N lines of globals, the first may be empty */
        q = strchr(q, '\n');
        if (!q)
            return 0;
        q++;
    }
    *globals = rh_xstrndup(g, (size_t)(q - 1 - g));
    *catalog = rh_xstrdup(q);
    return 1;
}
