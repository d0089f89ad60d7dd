/*
 * parse_setup.c — the header settings (scenario, timeout, skip) and the steps that set the stage:
 * repo, migrations, prisma, checkout, restore and snapshot.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/parse_int.h"
#include "scale/scale.h"
#include "util/pgver.h"

/* restore schema|ledger FILE or heredoc: state loaded before the first command. */
int rh_scnp_st_restore(cur *c, rh_scn_step *st, const char *k)
{
    (void)k;
    st->kind = RH_STEP_RESTORE_SCHEMA;
    const rh_tok *w = rh_scnp_need(c, "'schema' or 'ledger'", "e.g. restore schema prod-schema.sql");
    if (!w)
        return -1;
    if (rh_scnp_is(w, "schema"))
        st->kind = RH_STEP_RESTORE_SCHEMA;
    else if (rh_scnp_is(w, "ledger"))
        st->kind = RH_STEP_RESTORE_LEDGER;
    else
        return rh_scnp_err(c, w, "restore schema FILE (a pg_dump --schema-only), restore ledger FILE (CSV)",
                           "expected 'schema' or 'ledger', got '%s'", w->text);
    if (c->l->heredoc) {
        st->text = rh_xstrdup(c->l->heredoc);
        st->text_line = c->l->heredoc_line;
    } else {
        const rh_tok *path = rh_scnp_need(c, "a file path or a heredoc", NULL);
        if (!path)
            return -1;
        st->arg = rh_scnp_path(c, path->text);
        if (rh_scnp_check_path(c, path, st->arg, st->kind == RH_STEP_RESTORE_SCHEMA ? "restore schema"
                                                                                    : "restore ledger") < 0)
            return -1;
    }
    return rh_scnp_need_end(c, NULL);
}

/*
 * scale FILE (the JSON `rehearse stats` prints, run on production) | scale TABLE ROWS (a guess, ROWS
 * with k/M/G): fill the existing tables to that size, as check --scale does (docs/scale.md).
 */
int rh_scnp_st_scale(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = RH_STEP_SCALE;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    const rh_tok *first = rh_scnp_need(c, "a stats file or a table", "e.g. scale prod-stats.json, scale User 1M");
    if (!first)
        return -1;
    const rh_tok *rows = rh_scnp_take(c);
    if (!rows) {
        st->arg = rh_scnp_path(c, first->text);
        return rh_scnp_check_path(c, first, st->arg, "scale") < 0 ? -1 : rh_scnp_need_end(c, NULL);
    }
    long long n;
    if (rh_scale_parse_count(rows->text, &n) < 0)
        return rh_scnp_err(c, rows, "a whole number, optionally with k, M or G: scale User 1M",
                           "'%s' is not a row count", rows->text);
    if (!*first->text || strchr(first->text, '='))
        return rh_scnp_err(c, first, "TABLE or SCHEMA.TABLE", "'%s' is not a table name", first->text);
    st->arg2 = rh_xasprintf("%s=%s", first->text, rows->text);
    return rh_scnp_need_end(c, "scale FILE, or scale TABLE ROWS");
}

/* repo / migrations / prisma / checkout: the repository, its migrations folder, the Prisma version and
   the revision the next command sees. */
int rh_scnp_st_setup(cur *c, rh_scn_step *st, const char *k)
{
    int rc;
    if (strcmp(k, "repo") == 0) {
        st->kind = RH_STEP_REPO;
        rc = rh_scnp_one_arg(c, st, "a repository path", "relative to this file, e.g. repo fixtures/breederhq");
        if (rc == 0) {
            char *r = rh_scnp_path(c, st->arg);
            free(st->arg);
            st->arg = r;
            rc = rh_scnp_check_path(c, &c->l->toks[1], st->arg, "repo");
        }
    } else if (strcmp(k, "migrations") == 0) {
        st->kind = RH_STEP_MIGRATIONS;
        rc = rh_scnp_one_arg(c, st, "the migrations folder", "inside the repo, e.g. migrations prisma/migrations");
        if (rc == 0)
            st->arg2 = rh_scnp_path(c, st->arg);
    } else if (strcmp(k, "prisma") == 0) { /* `tool prisma VERSION` written short: the tool is named by the keyword */
        st->kind = RH_STEP_TOOL;
        rc = rh_scnp_one_arg(c, st, "a Prisma version", "e.g. prisma 6.19");
        if (rc == 0 && !isdigit((unsigned char)st->arg[strspn(st->arg, "^~v")]))
            rc = rh_scnp_err(c, &c->l->toks[1], "e.g. prisma 6.19 or prisma 5.22.0", "'%s' is not a version", st->arg);
        if (rc == 0) {
            st->arg2 = st->arg;
            st->arg = rh_xstrdup(k);
            st->n = 1;
        }
    } else {
        st->kind = RH_STEP_CHECKOUT;
        rc = rh_scnp_one_arg(c, st, "a revision", "a tag, branch, sha, HEAD~1 or WORKTREE");
    }
    return rc;
}

/* snapshot NAME: remembered, so that `expect catalog = snapshot NAME` can be checked before running. */
int rh_scnp_st_snapshot(cur *c, rh_scn_step *st, const char *k)
{
    parser *p = c->p;
    st->kind = RH_STEP_SNAPSHOT;
    if (rh_scnp_no_heredoc(c, k) < 0 || rh_scnp_one_arg(c, st, "a snapshot name", "e.g. snapshot before") < 0)
        return -1;
    p->snapshots = rh_xrealloc(p->snapshots, (p->nsnapshots + 1) * sizeof *p->snapshots);
    p->snapshots[p->nsnapshots++] = rh_xstrdup(st->arg);
    return 0;
}

/* scenario / timeout / superuser / postgres / skip: settings of the whole scenario, not steps. Returns 1 if kw is none. */
int rh_scnp_header(cur *c, const rh_tok *kw)
{
    parser *p = c->p;
    const char *k = kw->text;
    if (strcmp(k, "scenario") == 0) {
        if (p->depth > 0)
            return rh_scnp_err(c, kw, "name the scenario in the scenario file itself",
                               "'scenario' inside an included file");
        const rh_tok *t = rh_scnp_need(c, "the scenario's title",
                                       "e.g. scenario \"deploy stops at a CONCURRENTLY index\"");
        if (!t || rh_scnp_need_end(c, "quote a title with spaces") < 0)
            return -1;
        if (p->s->name_line)
            return rh_scnp_err(c, kw, NULL, "the scenario is already named on line %d", p->s->name_line);
        free(p->s->name);
        p->s->name = rh_xstrdup(t->text);
        p->s->name_line = kw->line;
        return rh_scnp_no_heredoc(c, k);
    }
    if (strcmp(k, "timeout") == 0) {
        const rh_tok *t = rh_scnp_need(c, "a duration", "e.g. timeout 30s");
        if (!t || rh_scnp_need_end(c, NULL) < 0)
            return -1;
        long ms = rh_scn_parse_duration(t->text);
        if (ms <= 0)
            return rh_scnp_err(c, t, "durations look like 500ms, 30s, 2m", "'%s' is not a duration", t->text);
        p->s->timeout_ms = ms;
        return rh_scnp_no_heredoc(c, k);
    }
    if (strcmp(k, "superuser") == 0) {
        if (p->depth > 0)
            return rh_scnp_err(c, kw, "say it in the scenario file itself", "'superuser' inside an included file");
        if (rh_scnp_need_end(c, "superuser takes no argument") < 0)
            return -1;
        p->s->superuser = 1;
        return rh_scnp_no_heredoc(c, k);
    }
    if (strcmp(k, "postgres") == 0) {
        if (p->depth > 0)
            return rh_scnp_err(c, kw, "say it in the scenario file itself", "'postgres' inside an included file");
        const rh_tok *t = rh_scnp_need(c, "a PostgreSQL version", "e.g. postgres 14 or postgres 17.10");
        if (!t || rh_scnp_need_end(c, NULL) < 0)
            return -1;
        int major, minor;
        if (!rh_pgver_parse(t->text, &major, &minor))
            return rh_scnp_err(c, t, "a major like 14 or a major.minor like 17.10", "'%s' is not a PostgreSQL version",
                               t->text);
        if (p->s->postgres)
            return rh_scnp_err(c, kw, NULL, "the PostgreSQL version is already given on line %d", p->s->postgres_line);
        p->s->postgres = rh_xstrdup(t->text);
        p->s->postgres_line = kw->line;
        return rh_scnp_no_heredoc(c, k);
    }
    if (strcmp(k, "skip") == 0) {
        rh_buf b;
        rh_buf_init(&b);
        const rh_tok *t;
        while ((t = rh_scnp_take(c))) {
            if (b.len)
                rh_buf_putc(&b, ' ');
            rh_buf_puts(&b, t->text);
        }
        free(p->s->skip);
        p->s->skip = b.len ? rh_buf_steal(&b) : rh_xstrdup("skipped");
        rh_buf_free(&b);
        return rh_scnp_no_heredoc(c, k);
    }
    return 1;
}

/*
 * tool NAME [VERSION] | tool command "CMD" [ledger NAME]: the migration tool whose commands the
 * deploy/status/repair steps that follow run. Which names exist is the tools registry's to say: the
 * runner checks them (and what the tool can do) before a cluster starts.
 */
int rh_scnp_st_tool(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = RH_STEP_TOOL;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    const rh_tok *name = rh_scnp_need(c, "a tool name", "e.g. tool dbmate, tool drizzle, tool prisma 7.10, "
                                                        "tool command \"npm run migrate\"");
    if (!name)
        return -1;
    if (name->quoted || !rh_scnp_is_ident(name->text))
        return rh_scnp_err(c, name, "e.g. tool dbmate", "'%s' is not a tool name", name->text);
    st->arg = rh_xstrdup(name->text);
    if (strcmp(name->text, "command") == 0) {
        const rh_tok *cmd = rh_scnp_need(c, "the command line to run, quoted",
                                         "e.g. tool command \"npm run migrate\"");
        if (!cmd)
            return -1;
        if (!cmd->text[0])
            return rh_scnp_err(c, cmd, "e.g. tool command \"npm run migrate\"", "the command line is empty");
        st->arg2 = rh_xstrdup(cmd->text);
        const rh_tok *w = rh_scnp_take(c);
        if (w) {
            if (!rh_scnp_is(w, "ledger"))
                return rh_scnp_err(c, w, "quote the whole command line: tool command \"CMD ARGS\" [ledger TOOL]",
                                   "unexpected '%s' after the command line", w->text);
            const rh_tok *lt = rh_scnp_need(c, "the tool whose ledger the command writes", "e.g. ledger dbmate");
            if (!lt)
                return -1;
            if (lt->quoted || !rh_scnp_is_ident(lt->text))
                return rh_scnp_err(c, lt, "e.g. ledger dbmate", "'%s' is not a tool name", lt->text);
            st->value = rh_xstrdup(lt->text);
        }
        return rh_scnp_need_end(c, NULL);
    }
    const rh_tok *ver = rh_scnp_take(c);
    if (ver) {
        if (!isdigit((unsigned char)ver->text[strspn(ver->text, "^~v")]))
            return rh_scnp_err(c, ver, "e.g. tool prisma 7.10", "'%s' is not a version", ver->text);
        st->arg2 = rh_xstrdup(ver->text);
    }
    return rh_scnp_need_end(c, NULL);
}
