/*
 * result.c — the common result of a tool's command (texts, exit code, findings) and the common
 * ledger model (engine.h): built and freed here for every tool.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

void rh_engine_result_init(rh_engine_result *res)
{
    memset(res, 0, sizeof *res);
    rh_buf_init(&res->out);
    rh_buf_init(&res->errout);
}

void rh_engine_result_free(rh_engine_result *res)
{
    free(res->failed_migration);
    free(res->db_message);
    rh_buf_free(&res->out);
    rh_buf_free(&res->errout);
    for (size_t i = 0; i < res->n_applied && res->applied; i++)
        free(res->applied[i]);
    free(res->applied);
    for (size_t i = 0; i < res->n_findings; i++) {
        free(res->findings[i].name);
        free(res->findings[i].detail);
    }
    free(res->findings);
    memset(res, 0, sizeof *res);
}

const char *rh_finding_kind_name(rh_finding_kind kind)
{
    switch (kind) {
    case RH_FINDING_EDITED_AFTER_APPLY: return "edited-after-apply";
    case RH_FINDING_FOLDER_GONE: return "folder-gone";
    case RH_FINDING_WILL_REAPPLY: return "will-reapply";
    case RH_FINDING_FAILED_ROW: return "failed";
    case RH_FINDING_HIDDEN_LEDGER: return "hidden-ledger";
    case RH_FINDING_SKIPPED: return "skipped";
    }
    return "?";
}

void rh_ledger_free(rh_ledger *ledger)
{
    for (size_t i = 0; i < ledger->n; i++) {
        free(ledger->rows[i].id);
        free(ledger->rows[i].checksum);
        free(ledger->rows[i].migration_name);
        free(ledger->rows[i].logs);
    }
    free(ledger->rows);
    memset(ledger, 0, sizeof *ledger);
}
