/*
 * steps_file.h — what a scenario's cached steps recorded, kept with their state (runner/cached.c):
 * for each step, the ledger the report shows after it (rh_result_step's ledger fields), and the
 * last command's output and findings (for an `expect output` or `expect finding` after them). A text file of the state's entry
 * (cluster.h rh_state_file, checksummed): format and parse are pure, and fuzzed
 * (tests/fuzz/fuzz_state_file.c).
 */
#ifndef RH_RUNNER_STEPS_FILE_H
#define RH_RUNNER_STEPS_FILE_H

#include <stddef.h>

#include "engine/engine.h"
#include "runner/runner.h"

#define RH_STEPS_FILE "steps"

/* What the file holds: steps[i] has only file/line/source unset (the scenario gives them). */
typedef struct rh_steps_record {
    rh_result_step *steps;
    size_t n;
    int have_output;
    char *output;        /* NUL-terminated; "" when none */
    rh_finding *findings; /* what the last command of a tool other than the default found */
    size_t n_findings;
} rh_steps_record;

/* The file's text for steps[0..n), the output (NULL: none) and the findings. */
char *rh_steps_file_format(const rh_result_step *steps, size_t n, const char *output, const rh_finding *findings,
                           size_t n_findings);

/* 1 and *rec (rh_steps_record_free) when text is such a file, exactly as format writes it; else 0. */
int rh_steps_file_parse(const char *text, rh_steps_record *rec);

void rh_steps_record_free(rh_steps_record *rec);

#endif
