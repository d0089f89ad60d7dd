/*
 * test_scenario_docs.c — docs/scenarios.md and the parser agree: every ```scenario block of the
 * reference parses, and every step keyword the parser knows is documented there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"
#include "scenario/scenario.h"
#include "testlib.h"
#include "util/fs.h"

static char *read_docs(void)
{
    char *text;
    size_t len;
    rh_err err;
    if (rh_fs_read(REHEARSE_SOURCE_DIR "/docs/scenarios.md", &text, &len, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    return text;
}

static void test_examples_parse(void **state)
{
    (void)state;
    char *docs = read_docs();
    rh_scn_tools tools;
    rh_runner_scn_tools(&tools);
    int blocks = 0;
    const char *p = docs;
    while ((p = strstr(p, "\n```scenario\n"))) {
        p += strlen("\n```scenario\n");
        const char *end = strstr(p, "\n```");
        assert_non_null(end);
        /* the block's line in the docs, for the message */
        int line = 1;
        for (const char *q = docs; q < p; q++)
            line += *q == '\n';
        char name[64];
        snprintf(name, sizeof name, "docs/scenarios.md@%d", line);
        rh_scenario *s = NULL;
        rh_err err;
        if (rh_scn_parse_string(&s, name, p, (size_t)(end - p) + 1, RH_SCN_NO_INCLUDE, &tools, &err) < 0) {
            fprintf(stderr, "the example at docs/scenarios.md line %d does not parse:\n%s\n", line, err.msg);
            fail();
        }
        assert_true(s->nsteps > 0 || s->skip);
        rh_scn_free(s);
        blocks++;
        p = end;
    }
    assert_true(blocks >= 10);
    free(docs);
}

static void test_every_step_documented(void **state)
{
    (void)state;
    char *docs = read_docs();
    for (int k = 0; k < RH_STEP__COUNT; k++) {
        char want[64];
        snprintf(want, sizeof want, "`%s", rh_scn_kind_name((rh_scn_kind)k));
        if (!strstr(docs, want)) {
            fprintf(stderr, "docs/scenarios.md does not document `%s`\n", rh_scn_kind_name((rh_scn_kind)k));
            fail();
        }
    }
    static const char *const more[] = {"`include", "`scenario", "`timeout", "`skip", "`wait NAME blocked",
                                       "`fault ACTION when blocked", "`expect ledger checksum", "=> blocked",
                                       "`expect catalog != ...`", "`restore ledger", "rehearse.advisory_lock_timeout",
                                       NULL};
    for (int i = 0; more[i]; i++)
        if (!strstr(docs, more[i])) {
            fprintf(stderr, "docs/scenarios.md does not mention %s\n", more[i]);
            fail();
        }
    free(docs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_parse),
        cmocka_unit_test(test_every_step_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
