/*
 * fuzz_catalog.c — a fuzz target for the catalog's text form (catalog/text.c): the golden files of
 * `rehearse snapshot` / `diff FILE` / `expect catalog = FILE`, which come from the repository under test.
 * scripts/fuzz.sh builds and runs it with libFuzzer.
 *
 * Also the text of a scenario's `expect KIND NAME [PROPERTY [VALUE]]` (catalog/assert.c), checked
 * against a catalog.
 *
 * Input: the first byte picks: even, the rest is a golden file; odd, the rest is an expectation's text, a
 * NUL, and a golden file to check it against. The properties: any bytes parse or are refused with a
 * message, never a crash or a read out of bounds; what parses prints (rh_catalog_text) as text that parses
 * again and prints the same bytes (a golden file written by rehearse reads back as itself); an expectation
 * that parses is described and checked without a crash, its verdict one of pass, fail and error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/assert.h"
#include "catalog/catalog.h"
#include "tools/tool.h"

#include "fuzz_text.h"

/* model.c's ledger filter (diff and snapshot: which tables are the tool's) asks the tool registry, which
   would bring every tool into this target; parsing and printing never ask it: these stand in and abort. */
const rh_tool *const rh_tools[] = {NULL};
const char *rh_tool_ledger_parts(const char *ledger_table, char *schema, size_t size)
{
    (void)ledger_table, (void)schema, (void)size;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A golden file: parsed or refused with a message; parsed, it prints as text that reads back as itself. */
static void golden(const char *text)
{
    rh_catalog *cat = NULL;
    rh_err err;
    rh_err_clear(&err);
    if (rh_catalog_parse(text, "golden.catalog", &cat, &err) < 0) {
        if (!err.msg[0]) /* a refusal says why */
            abort();
        return;
    }
    rh_buf once, twice;
    rh_buf_init(&once);
    rh_buf_init(&twice);
    rh_catalog_text(cat, &once);
    rh_catalog *again = NULL;
    if (rh_catalog_parse(once.data ? once.data : "", "printed", &again, &err) < 0)
        abort(); /* rehearse's own output must read back */
    rh_catalog_text(again, &twice);
    if (once.len != twice.len || (once.len && memcmp(once.data, twice.data, once.len) != 0))
        abort();
    rh_buf_free(&once);
    rh_buf_free(&twice);
    rh_catalog_free(again);
    rh_catalog_free(cat);
}

/* An expectation's text, checked against the golden file after it (when both parse). */
static void expectation(const char *text, const char *catalog)
{
    rh_catalog_expect e;
    rh_err err;
    rh_err_clear(&err);
    memset(&e, 0, sizeof e);
    if (rh_catalog_expect_parse(text, &e, &err) < 0) {
        if (!err.msg[0])
            abort();
        rh_catalog_expect_clear(&e);
        return;
    }
    rh_buf b;
    rh_buf_init(&b);
    rh_catalog_expect_describe(&e, &b);
    rh_catalog *cat = NULL;
    if (rh_catalog_parse(catalog, "golden.catalog", &cat, &err) == 0) {
        int verdict = rh_catalog_check(cat, &e, &b);
        if (verdict != RH_CATALOG_CHECK_PASS && verdict != RH_CATALOG_CHECK_FAIL && verdict != RH_CATALOG_CHECK_ERROR)
            abort();
        rh_catalog_free(cat);
    }
    rh_buf_free(&b);
    rh_catalog_expect_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *second;
    char *text = fuzz_text(data, size, &second);
    if (!text)
        return 0;
    if (data[0] & 1)
        expectation(text, second);
    else
        golden(text);
    free(text);
    return 0;
}
