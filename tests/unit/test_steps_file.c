/*
 * test_steps_file.c — the file of what a scenario's cached steps recorded (runner/steps_file.c):
 * what is written reads back field for field, and damaged or other text is refused (a miss).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runner/steps_file.h"
#include "util/buf.h"

static char *sample(void)
{
    rh_result_ledger_row rows[2] = {
        {.name = "20250101000000_init", .finished = 1, .applied_steps = 1, .started = "2026-11-30 13:00:00.1 UTC",
         .ms = 12.345678901234567},
        {.name = "a name\nwith a line break", .rolled_back = 1, .started = "", .ms = -1},
    };
    rh_result_step steps[3] = {
        {.ledger_changed = 0},
        {.ledger_changed = 1, .ledger = rows, .n_ledger = 2},
        {.ledger_gone = 1},
    };
    rh_finding findings[2] = {{.kind = RH_FINDING_FOLDER_GONE, .name = "0003_branch_invites", .detail = NULL},
                              {.kind = RH_FINDING_FOLDER_GONE, .name = NULL, .detail = "two\nlines"}};
    return rh_steps_file_format(steps, 3, "Applying migration `x`\nend 42\n", findings, 2);
}

static void test_what_is_written_reads_back(void **state)
{
    (void)state;
    char *text = sample();
    rh_steps_record rec;
    assert_int_equal(rh_steps_file_parse(text, &rec), 1);
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.have_output, 1);
    assert_string_equal(rec.output, "Applying migration `x`\nend 42\n");
    assert_int_equal(rec.steps[0].ledger_changed, 0);
    assert_int_equal(rec.steps[1].ledger_changed, 1);
    assert_int_equal(rec.steps[1].n_ledger, 2);
    assert_string_equal(rec.steps[1].ledger[0].name, "20250101000000_init");
    assert_string_equal(rec.steps[1].ledger[0].started, "2026-11-30 13:00:00.1 UTC");
    assert_true(rec.steps[1].ledger[0].ms == 12.345678901234567);
    assert_int_equal(rec.steps[1].ledger[0].finished, 1);
    assert_int_equal(rec.steps[1].ledger[0].applied_steps, 1);
    assert_string_equal(rec.steps[1].ledger[1].name, "a name\nwith a line break");
    assert_int_equal(rec.steps[1].ledger[1].rolled_back, 1);
    assert_true(rec.steps[1].ledger[1].ms == -1);
    assert_int_equal(rec.steps[2].ledger_gone, 1);
    assert_int_equal(rec.n_findings, 2);
    assert_int_equal(rec.findings[0].kind, RH_FINDING_FOLDER_GONE);
    assert_string_equal(rec.findings[0].name, "0003_branch_invites");
    assert_null(rec.findings[0].detail);
    assert_null(rec.findings[1].name);
    assert_string_equal(rec.findings[1].detail, "two\nlines");
    rh_steps_record_free(&rec);
    /* no output: none read back */
    rh_result_step one = {0};
    char *none = rh_steps_file_format(&one, 1, NULL, NULL, 0);
    assert_int_equal(rh_steps_file_parse(none, &rec), 1);
    assert_int_equal(rec.have_output, 0);
    rh_steps_record_free(&rec);
    free(none);
    free(text);
}

/* Every cut of the file, a changed byte in each line's numbers, another spelling: refused. */
static void test_damaged_or_other_text_is_refused(void **state)
{
    (void)state;
    char *text = sample();
    size_t len = strlen(text);
    rh_steps_record rec;
    for (size_t cut = 0; cut < len; cut++) {
        char *part = rh_xstrndup(text, cut);
        assert_int_equal(rh_steps_file_parse(part, &rec), 0);
        free(part);
    }
    const char *edits[][2] = {
        {"steps 3\n", "steps 4\n"},           /* more steps than written */
        {"steps 3\n", "steps 03\n"},          /* another spelling of the same number */
        {"output 1 30\n", "output 1 29\n"},   /* an output shorter than its bytes */
        {"row 1 0 1 12.", "row 1 0 1 +12."},  /* a sign format never writes */
        {"rehearse scenario steps 2", "rehearse scenario steps 1"},
        {"finding 1 19 -\n", "finding 1 20 -\n"},   /* a name longer than its bytes */
        {"end\n", "end\nmore\n"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *at = strstr(text, edits[i][0]);
        assert_non_null(at);
        char *bad = rh_xasprintf("%.*s%s%s", (int)(at - text), text, edits[i][1], at + strlen(edits[i][0]));
        assert_int_equal(rh_steps_file_parse(bad, &rec), 0);
        free(bad);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_is_written_reads_back),
        cmocka_unit_test(test_damaged_or_other_text_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
