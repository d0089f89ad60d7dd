/*
 * fuzz_scenario.c — a fuzz target for the scenario parser (lexer, heredocs, quoting, every step).
 *
 * With clang's libFuzzer (the usual way):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I harness \
 *         tests/fuzz/fuzz_scenario.c harness/scenario/lex.c harness/scenario/parse.c \
 *         harness/scenario/model.c harness/util/buf.c harness/util/err.c harness/util/fs.c -o fuzz_scenario
 *   ./fuzz_scenario -max_total_time=60 -max_len=4096 tests/fuzz/corpus_scenario
 * Without libFuzzer, build with -DRH_FUZZ_STANDALONE (any C compiler, ideally with ASan): the
 * program parses each file given on the command line, then N random mutations of them.
 *
 * The property: any bytes either parse or fail with a message; nothing crashes, leaks or reads
 * out of bounds, and a parse error always names the (fake) file with a line and a column.
 * Includes are disabled (RH_SCN_NO_INCLUDE): the fuzzer must not read the file system.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A tool's answer without linking one (the parser's hook, scenario.h): a capital letter and four digits. */
static int fuzz_error_code(const char *code)
{
    return strlen(code) == 5 && code[0] >= 'A' && code[0] <= 'Z' && strspn(code + 1, "0123456789") == 4;
}

static const rh_scn_tools fuzz_tools = {fuzz_error_code, "X1234", "a fuzzing tool's error code", "X and four digits"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rh_scenario *s = NULL;
    rh_err err;
    int rc = rh_scn_parse_string(&s, "fuzz.scenario", (const char *)data, size, RH_SCN_NO_INCLUDE, &fuzz_tools, &err);
    if (rc == 0) {
        /* walk the model: every step has a position and a source line */
        for (size_t i = 0; i < s->nsteps; i++) {
            if (s->steps[i].line < 1 || s->steps[i].col < 1 || !s->steps[i].file || !s->steps[i].source)
                abort();
            char *o = rh_scn_outcome_text(&s->steps[i].outcome);
            free(o);
        }
        rh_scn_free(s);
    } else {
        if (s != NULL || strncmp(err.msg, "fuzz.scenario:", 14) != 0)
            abort();
    }
    return 0;
}

#ifdef RH_FUZZ_STANDALONE
/* A small mutation loop for machines without libFuzzer: byte flips, inserts of syntax characters. */
int main(int argc, char **argv)
{
    static const char alphabet[] = "\"'\\#<>=&\n \t.-EOFdeploy";
    long iterations = getenv("FUZZ_ITERATIONS") ? atol(getenv("FUZZ_ITERATIONS")) : 20000;
    unsigned seed = 12345;
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f)
            continue;
        static char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 64, f);
        fclose(f);
        LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
        for (long it = 0; it < iterations / (argc - 1); it++) {
            char m[65536];
            size_t len = n;
            memcpy(m, buf, n);
            int edits = 1 + (int)(rand_r(&seed) % 8);
            for (int e = 0; e < edits && len > 0; e++) {
                size_t at = (size_t)rand_r(&seed) % len;
                switch (rand_r(&seed) % 3) {
                case 0: m[at] = (char)rand_r(&seed); break;
                case 1:
                    if (len < sizeof m - 1) {
                        memmove(m + at + 1, m + at, len - at);
                        m[at] = alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
                        len++;
                    }
                    break;
                default:
                    memmove(m + at, m + at + 1, len - at - 1);
                    len--;
                }
            }
            LLVMFuzzerTestOneInput((const uint8_t *)m, len);
        }
    }
    printf("fuzz_scenario: %ld iterations without a crash\n", iterations);
    return 0;
}
#endif
