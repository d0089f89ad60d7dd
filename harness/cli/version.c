/*
 * version.c — `rehearse --version`: the version, the commit it was built from (REHEARSE_COMMIT, set by
 * CMake: cmake/commit.cmake), and the libraries it uses, each as it reports itself at run time
 * (libpg_query only says the PostgreSQL parser it was compiled with).
 */
#include <git2.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <pg_query.h>
#include <stdio.h>
#include <unicode/uversion.h>
#include <zlib.h>

#include "cli/cli.h"

#ifndef REHEARSE_VERSION
#define REHEARSE_VERSION "0.0.0"
#endif
#ifndef REHEARSE_COMMIT
#define REHEARSE_COMMIT "unknown"
#endif

void rh_cli_version(FILE *f)
{
    fprintf(f, "rehearse %s\ncommit %s\n", REHEARSE_VERSION, REHEARSE_COMMIT);
    int pq = PQlibVersion();
    fprintf(f, "libpq %d.%d\n", pq / 10000, pq % 10000);
    int maj = 0, min = 0, rev = 0;
    git_libgit2_version(&maj, &min, &rev);
    fprintf(f, "libgit2 %d.%d.%d\n", maj, min, rev);
    fprintf(f, "json-c %s\n", json_c_version());
    fprintf(f, "libpg_query (PostgreSQL %s parser, compiled in)\n", PG_VERSION);
    fprintf(f, "%s\n", OpenSSL_version(OPENSSL_VERSION));
    UVersionInfo uv;
    char icu[U_MAX_VERSION_STRING_LENGTH];
    u_getVersion(uv);
    u_versionToString(uv, icu);
    fprintf(f, "ICU %s\n", icu);
    fprintf(f, "zlib %s\n", zlibVersion());
}
