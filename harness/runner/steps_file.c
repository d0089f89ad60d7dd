/* steps_file.c — the file of what a scenario's cached steps recorded (see steps_file.h). */
#include "runner/steps_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define FORMAT_LINE "rehearse scenario steps 2\n"

/* A string that may be NULL: "-" or its length and bytes (after the line). */
static void put_opt(rh_buf *line, rh_buf *bytes, const char *s)
{
    if (!s) {
        rh_buf_puts(line, " -");
        return;
    }
    rh_buf_printf(line, " %zu", strlen(s));
    rh_buf_puts(bytes, s);
}

char *rh_steps_file_format(const rh_result_step *steps, size_t n, const char *output, const rh_finding *findings,
                           size_t n_findings)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_buf_puts(&b, FORMAT_LINE);
    rh_buf_printf(&b, "steps %zu\n", n);
    size_t olen = output ? strlen(output) : 0;
    rh_buf_printf(&b, "output %d %zu\n", output != NULL, olen);
    rh_buf_append(&b, output ? output : "", olen);
    rh_buf_putc(&b, '\n');
    rh_buf_printf(&b, "findings %zu\n", n_findings);
    for (size_t i = 0; i < n_findings; i++) {
        rh_buf bytes;
        rh_buf_init(&bytes);
        rh_buf_printf(&b, "finding %d", (int)findings[i].kind);
        put_opt(&b, &bytes, findings[i].name);
        put_opt(&b, &bytes, findings[i].detail);
        rh_buf_putc(&b, '\n');
        rh_buf_append(&b, bytes.data, bytes.len);
        rh_buf_putc(&b, '\n');
        rh_buf_free(&bytes);
    }
    for (size_t i = 0; i < n; i++) {
        const rh_result_step *s = &steps[i];
        size_t nrows = s->ledger_changed ? s->n_ledger : 0;
        rh_buf_printf(&b, "step %d %d %zu\n", s->ledger_changed != 0, s->ledger_gone != 0, nrows);
        for (size_t r = 0; r < nrows; r++) {
            const rh_result_ledger_row *l = &s->ledger[r];
            rh_buf_printf(&b, "row %d %d %d %.17g %zu %zu\n", l->finished != 0, l->rolled_back != 0, l->applied_steps,
                          l->ms, strlen(l->started), strlen(l->name));
            rh_buf_puts(&b, l->started);
            rh_buf_puts(&b, l->name);
            rh_buf_putc(&b, '\n');
        }
    }
    rh_buf_puts(&b, "end\n");
    return rh_buf_steal(&b);
}

void rh_steps_record_free(rh_steps_record *rec)
{
    for (size_t i = 0; i < rec->n; i++) {
        for (size_t r = 0; r < rec->steps[i].n_ledger; r++)
            free(rec->steps[i].ledger[r].name);
        free(rec->steps[i].ledger);
    }
    free(rec->steps);
    free(rec->output);
    for (size_t i = 0; i < rec->n_findings; i++) {
        free(rec->findings[i].name);
        free(rec->findings[i].detail);
    }
    free(rec->findings);
    memset(rec, 0, sizeof *rec);
}

/* A line "WORD N N ...\n" at *p of exactly `count` numbers (decimal, or for the one at index
   `real_at` a %.17g double): moves *p past it. Canonical forms are checked by the round trip. */
static int line(const char **p, const char *word, size_t count, unsigned long long *nums, int real_at, double *real)
{
    size_t wl = strlen(word);
    if (strncmp(*p, word, wl) != 0)
        return 0;
    const char *q = *p + wl;
    for (size_t i = 0; i < count; i++) {
        if (*q != ' ')
            return 0;
        q++;
        char *end;
        if ((int)i == real_at) {
            if (!*q || *q == ' ' || *q == '\n')
                return 0;
            *real = strtod(q, &end);
        } else {
            if (*q < '0' || *q > '9')
                return 0;
            nums[i] = strtoull(q, &end, 10);
        }
        q = end;
    }
    if (*q != '\n')
        return 0;
    *p = q + 1;
    return 1;
}

/* len bytes of text at *p (none of them NUL), into a new string. */
static int bytes(const char **p, size_t len, char **out)
{
    if (memchr(*p, '\0', len)) /* the text ends (its NUL) before len bytes */
        return 0;
    *out = rh_xstrndup(*p, len);
    *p += len;
    return 1;
}

/* One length or "-" (none) after a space at *q. */
static int opt_len(const char **q, int *has, size_t *len)
{
    if (**q != ' ')
        return 0;
    (*q)++;
    if (**q == '-') {
        (*q)++;
        *has = 0;
        *len = 0;
        return 1;
    }
    if (**q < '0' || **q > '9')
        return 0;
    char *end;
    unsigned long long n = strtoull(*q, &end, 10);
    if (n > 1u << 30)
        return 0;
    *q = end;
    *has = 1;
    *len = (size_t)n;
    return 1;
}

/* "finding KIND NAME DETAIL\n" (each a length or "-") and then the name's and the detail's bytes. */
static int finding_line(const char **p, rh_finding *f)
{
    const char *q = *p;
    if (strncmp(q, "finding ", 8) != 0)
        return 0;
    q += 8;
    if (*q < '0' || *q > '9')
        return 0;
    char *end;
    long kind = strtol(q, &end, 10);
    if (kind > 1000)
        return 0;
    q = end;
    int has_name, has_detail;
    size_t nl, dl;
    if (!opt_len(&q, &has_name, &nl) || !opt_len(&q, &has_detail, &dl) || *q != '\n')
        return 0;
    q++;
    if (nl > strlen(q) || dl > strlen(q) - nl)
        return 0;
    f->kind = (rh_finding_kind)kind;
    if ((has_name && !bytes(&q, nl, &f->name)) || (has_detail && !bytes(&q, dl, &f->detail)))
        return 0;
    *p = q;
    return 1;
}

int rh_steps_file_parse(const char *text, rh_steps_record *rec)
{
    memset(rec, 0, sizeof *rec);
    const char *p = text;
    unsigned long long v[6];
    double ms = 0;
    size_t fl = strlen(FORMAT_LINE);
    if (strncmp(p, FORMAT_LINE, fl) != 0)
        return 0;
    p += fl;
    if (!line(&p, "steps", 1, v, -1, NULL) || v[0] > 100000)
        goto bad;
    size_t n = (size_t)v[0];
    if (!line(&p, "output", 2, v, -1, NULL) || v[0] > 1 || v[1] > strlen(p))
        goto bad;
    rec->have_output = (int)v[0];
    if (!bytes(&p, (size_t)v[1], &rec->output) || *p++ != '\n')
        goto bad;
    if (!line(&p, "findings", 1, v, -1, NULL) || v[0] > strlen(p))
        goto bad;
    size_t nf = (size_t)v[0];
    rec->findings = rh_xcalloc(nf ? nf : 1, sizeof *rec->findings);
    while (rec->n_findings < nf) {
        rh_finding *f = &rec->findings[rec->n_findings++];
        if (!finding_line(&p, f) || *p++ != '\n')
            goto bad;
    }
    rec->steps = rh_xcalloc(n ? n : 1, sizeof *rec->steps);
    while (rec->n < n) {
        rh_result_step *s = &rec->steps[rec->n];
        if (!line(&p, "step", 3, v, -1, NULL) || v[0] > 1 || v[1] > 1 || v[2] > strlen(p))
            goto bad;
        rec->n++;
        s->ledger_changed = (int)v[0];
        s->ledger_gone = (int)v[1];
        size_t nrows = (size_t)v[2];
        s->ledger = rh_xcalloc(nrows ? nrows : 1, sizeof *s->ledger);
        while (s->n_ledger < nrows) {
            rh_result_ledger_row *l = &s->ledger[s->n_ledger];
            char *started = NULL;
            if (!line(&p, "row", 6, v, 3, &ms) || v[0] > 1 || v[1] > 1 || v[2] > 1000000 ||
                v[4] >= sizeof l->started || v[5] > strlen(p) || !bytes(&p, (size_t)v[4], &started))
                goto bad;
            snprintf(l->started, sizeof l->started, "%s", started);
            free(started);
            if (!bytes(&p, (size_t)v[5], &l->name))
                goto bad;
            s->n_ledger++;
            if (*p++ != '\n')
                goto bad;
            l->finished = (int)v[0];
            l->rolled_back = (int)v[1];
            l->applied_steps = (int)v[2];
            l->ms = ms;
        }
    }
    if (strcmp(p, "end\n") != 0)
        goto bad;
    /* only what format writes: any other spelling of the same numbers is refused */
    char *again = rh_steps_file_format(rec->steps, rec->n, rec->have_output ? rec->output : NULL, rec->findings,
                                       rec->n_findings);
    int same = strcmp(again, text) == 0;
    free(again);
    if (same)
        return 1;
bad:
    rh_steps_record_free(rec);
    return 0;
}
