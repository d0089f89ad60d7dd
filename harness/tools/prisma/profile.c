/*
 * profile.c — Prisma's version profiles (profile.h): what a version number says about the folder
 * order, how a file is sent and how sure rehearse is of it.
 */
#include "tools/prisma/profile.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ---- versions ---------------------------------------------------------------------------------- */

/* Read "N[.N[.N]]" with x, X or * wildcards as 0; returns the number of characters used, 0 if none. */
static size_t parse_triplet(const char *s, int v[3])
{
    const char *p = s;
    v[0] = v[1] = v[2] = 0;
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*p != '.')
                break;
            p++;
        }
        if (*p == 'x' || *p == 'X' || *p == '*') {
            p++;
            v[i] = 0;
            continue;
        }
        if (!isdigit((unsigned char)*p)) {
            if (i == 0)
                return 0;
            p--; /* leave the dot */
            break;
        }
        long n = 0;
        while (isdigit((unsigned char)*p)) {
            n = n * 10 + (*p - '0');
            if (n > 100000)
                return 0;
            p++;
        }
        v[i] = (int)n;
    }
    return (size_t)(p - s);
}

int rh_prisma_profile_from_version(rh_profile *out, const char *version, rh_err *err)
{
    memset(out, 0, sizeof *out);
    if (!version)
        return rh_err_set(err, "no Prisma version given");
    const char *p = version;
    while (isspace((unsigned char)*p))
        p++;
    /* npm aliases and protocol prefixes: "npm:prisma@6.1.0" */
    if (strncmp(p, "npm:", 4) == 0) {
        p += 4;
        const char *at = strrchr(p, '@');
        if (at && at != p)
            p = at + 1;
    }
    /* a range resolves to its minimum: skip the operator of the first comparator */
    while (*p == '^' || *p == '~' || *p == '>' || *p == '=' || *p == 'v' || *p == 'V' || isspace((unsigned char)*p))
        p++;
    int v[3];
    size_t used = parse_triplet(p, v);
    if (used == 0)
        return rh_err_set(err, "cannot read a Prisma version from '%s' (expected something like 6.19.3, ^5.22.0 or ~6.6)",
                          version);
    /* "x" and "*" parse as 0.0.0: a version no Prisma has, judged by byte order without a word. */
    if (*p == 'x' || *p == 'X' || *p == '*')
        return rh_err_set(err, "cannot read a Prisma version from '%s' (a wildcard major version names no Prisma "
                               "release; expected something like 6.19.3, ^5.22.0 or ~6.6)", version);
    /* After N[.N[.N]]: a pre-release or build suffix, then the end or more comparators of a range
       (">=6.1 <7", "^5 || ^6"); anything else ("6.19.3abc", "1.2.3.4", "6.") is not a version. */
    const char *rest = p + used;
    if (*rest == '-' || *rest == '+') {
        const char *q = rest + 1;
        while (isalnum((unsigned char)*q) || *q == '.' || *q == '-' || *q == '+')
            q++;
        if (q > rest + 1)
            rest = q;
    }
    if (*rest && !isspace((unsigned char)*rest))
        return rh_err_set(err, "cannot read a Prisma version from '%s' (unexpected '%s' after %.*s; expected "
                               "something like 6.19.3, ^5.22.0 or ~6.6)", version, rest, (int)(rest - p), p);
    out->major = v[0];
    out->minor = v[1];
    out->patch = v[2];
    snprintf(out->version, sizeof out->version, "%d.%d.%d", v[0], v[1], v[2]);
    /* Prisma 6.6 moved listing into the CLI (listMigrations.ts, localeCompare). */
    out->order = (out->major > 6 || (out->major == 6 && out->minor >= 6)) ? RH_ORDER_ICU : RH_ORDER_BYTES;
    /* prisma-engines PR #5767: the schema engine shipped in prisma 7.3.0 embeds sqlparser 0.32, the one
       in 7.4.0 sqlparser 0.61, the splitter's (strings of build/schema_engine_bg.wasm). */
    out->exec = (out->major > 7 || (out->major == 7 && out->minor >= 4)) ? RH_EXEC_SPLIT_STATEMENTS
                                                                          : RH_EXEC_WHOLE_SCRIPT;
    /* The two oracles' lines (6.19.x, 7.10.x) were observed against the real CLI here. */
    out->verified = (out->major == 6 && out->minor == 19) || (out->major == 7 && out->minor == 10);
    if (out->major == 7 && out->minor < 4)
        snprintf(out->note, sizeof out->note, "Prisma 7.0-7.3 send each file whole: their engine embeds "
                                              "sqlparser 0.32, not the 0.61 splitter of 7.4.0 (not run here)");
    else if (out->major == 7 && out->minor < 10)
        snprintf(out->note, sizeof out->note, "Prisma 7.4-7.9 split files as 7.10.1 does: the same sqlparser 0.61 "
                                              "splitter ships from 7.4.0 (not run here)");
    else if ((out->major == 7 && out->minor > 10) || out->major > 7)
        snprintf(out->note, sizeof out->note, "Prisma %d.%d is newer than any profile rehearse knows: behaving as "
                                              "Prisma 7.10.1", out->major, out->minor);
    return 0;
}

/* ---- for people ------------------------------------------------------------------------------- */

void rh_prisma_profile_describe(const rh_profile *p, rh_buf *out)
{
    rh_buf_puts(out, p->order == RH_ORDER_ICU ? "ICU collation order (Prisma >= 6.6)" : "byte order (Prisma < 6.6)");
    rh_buf_puts(out, p->exec == RH_EXEC_SPLIT_STATEMENTS
                         ? ", each migration.sql split into statements when sqlparser 0.61 parses all of it, "
                           "else sent as one query (prisma-engines PR #5767)"
                         : ", each migration.sql sent as one query");
    rh_buf_puts(out, p->verified ? ", verified against the real Prisma CLI"
                                 : ", unverified (not observed against the real Prisma CLI)");
    if (p->note[0])
        rh_buf_printf(out, " (%s)", p->note);
}
