/*
 * finding.c — the findings of a check run: levels, adding, counting, freeing the result.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/check_int.h"
#include "util/buf.h"

static const char *const level_names[] = {"notice", "warning", "error"};

const char *rh_check_level_name(rh_check_level level)
{
    return level >= RH_CHECK_NOTICE && level <= RH_CHECK_ERROR ? level_names[level] : "?";
}

int rh_check_level_parse(const char *s, rh_check_level *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (rh_check_level)i;
            return 0;
        }
    return -1;
}

/* Findings are appended in the order the check finds them; formatters keep that order. */
rh_check_finding *rh_check_add(rh_check_result *r, rh_check_level level, char step, const char *code,
                               const char *migration, const char *file, int line, const char *detail,
                               const char *fmt, ...)
{
    r->findings = rh_xrealloc(r->findings, (r->n_findings + 1) * sizeof *r->findings);
    rh_check_finding *f = &r->findings[r->n_findings++];
    memset(f, 0, sizeof *f);
    f->level = level;
    f->step = step;
    f->code = rh_xstrdup(code);
    f->migration = migration ? rh_xstrdup(migration) : NULL;
    f->file = file ? rh_xstrdup(file) : NULL;
    f->line = line;
    f->detail = detail && *detail ? rh_xstrdup(detail) : NULL;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    f->message = rh_xstrdup(msg ? msg : "?");
    free(msg);
    return f;
}

void rh_check_keep_head_files(rh_check_result *r, const rh_migset *head)
{
    size_t dir = strlen(r->migrations ? r->migrations : "");
    for (size_t i = 0; i < r->n_findings; i++) {
        rh_check_finding *f = &r->findings[i];
        if (!f->file)
            continue;
        /* "<migrations>/<name>/migration.sql" of a head migration that has its migration.sql */
        const rh_migration *m = f->migration ? rh_migset_find(head, f->migration) : NULL;
        size_t name = m ? strlen(m->name) : 0;
        int at_head = m && m->sql && dir && strncmp(f->file, r->migrations, dir) == 0 && f->file[dir] == '/' &&
                      strncmp(f->file + dir + 1, m->name, name) == 0 &&
                      strcmp(f->file + dir + 1 + name, "/migration.sql") == 0;
        if (!at_head) {
            free(f->file);
            f->file = NULL;
            f->line = 0;
        }
    }
}

size_t rh_check_count(const rh_check_result *r, rh_check_level at_least)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_findings; i++)
        if (r->findings[i].level >= at_least)
            n++;
    return n;
}

void rh_check_result_free(rh_check_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_findings; i++) {
        rh_check_finding *f = &r->findings[i];
        free(f->code);
        free(f->migration);
        free(f->file);
        free(f->message);
        free(f->detail);
    }
    free(r->findings);
    for (size_t i = 0; i < r->n_traces; i++)
        rh_check_trace_free(&r->traces[i]);
    free(r->traces);
    for (size_t i = 0; i < r->n_added; i++) {
        free(r->added[i]);
        free(r->added_send ? r->added_send[i] : NULL);
    }
    free(r->added);
    free(r->added_send);
    for (size_t i = 0; i < r->n_pending; i++)
        free(r->pending[i]);
    free(r->pending);
    free(r->recovered_from);
    free(r->recovery);
    free(r->migrations);
    free(r->kept);
    free(r->postgres);
    for (size_t i = 0; i < r->n_pgs; i++) {
        free(r->pgs[i].asked);
        free(r->pgs[i].postgres);
    }
    free(r->pgs);
    rh_scale_fill_result_free(&r->fill);
    memset(r, 0, sizeof *r);
}
