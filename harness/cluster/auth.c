/*
 * auth.c — each cluster's own credentials.
 *
 * Every cluster of this machine's account runs as the same OS user, so what keeps a migration of
 * one cluster (COPY ... TO PROGRAM 'psql -h OTHER_SOCKET') out of another is authentication:
 * scram-sha-256 only (no trust), and passwords no other cluster knows. A copy of the template
 * starts with the template's bootstrap password for its superuser; rehearse logs in with it once
 * and sets two fresh random passwords: the superuser's (rehearse's own connection) and the
 * migration role's. Only SCRAM verifiers are sent, never the passwords.
 *
 * The verifiers use one PBKDF2 iteration, not libpq's 4096: iterations slow down guessing a weak
 * password from a stolen verifier, and these passwords are 128 random bits. 4096 iterations cost
 * every connection (client and verifier side) a few ms, tens of ms on a loaded CI machine. Some
 * clients (Go's lib/pq) refuse fewer than 4096, so a cluster handed to the user (--keep) gets
 * libpq's standard secrets for the same passwords (rh_auth_standard_verifiers).
 *
 * The migration role is shaped like a managed service's migration user: it owns the database it
 * migrates (and, through pg_database_owner, its public schema), may create databases, schemas and
 * trusted extensions, and has no superuser, CREATEROLE (in PostgreSQL 15 that could grant it
 * pg_execute_server_program) or pg_*_server_* membership: no COPY TO/FROM PROGRAM, no server files.
 */
#include "cluster/internal.h"

#include <assert.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rh_random_password(char out[RH_PASSWORD_LEN + 1])
{
    unsigned char raw[RH_PASSWORD_LEN / 2];
    if (RAND_bytes(raw, (int)sizeof raw) != 1) {
        fprintf(stderr, "rehearse: the OpenSSL random generator failed\n");
        abort(); /* never fall back to a guessable password */
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static void base64(rh_buf *out, const unsigned char *data, int len)
{
    char enc[4 * ((64 + 2) / 3) + 1];
    assert(len <= 64);
    EVP_EncodeBlock((unsigned char *)enc, data, len);
    rh_buf_puts(out, enc);
}

/*
 * The SCRAM-SHA-256 secret PostgreSQL stores for a password (RFC 5802, 7677):
 * SCRAM-SHA-256$ITER:SALT$STOREDKEY:SERVERKEY. The password is ASCII hex, which SASLprep keeps as is.
 */
char *rh_scram_secret(const char *password)
{
    enum { ITERATIONS = 1 };
    unsigned char salt[16], salted[32], client_key[32], stored_key[32], server_key[32];
    unsigned len = 0;
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, ITERATIONS, EVP_sha256(),
                          sizeof salted, salted) != 1 ||
        !HMAC(EVP_sha256(), salted, sizeof salted, (const unsigned char *)"Client Key", 10, client_key, &len) ||
        !SHA256(client_key, sizeof client_key, stored_key) ||
        !HMAC(EVP_sha256(), salted, sizeof salted, (const unsigned char *)"Server Key", 10, server_key, &len)) {
        fprintf(stderr, "rehearse: OpenSSL failed computing a SCRAM secret\n");
        abort();
    }
    rh_buf b;
    rh_buf_init(&b);
    rh_buf_printf(&b, "SCRAM-SHA-256$%d:", ITERATIONS);
    base64(&b, salt, sizeof salt);
    rh_buf_putc(&b, '$');
    base64(&b, stored_key, sizeof stored_key);
    rh_buf_putc(&b, ':');
    base64(&b, server_key, sizeof server_key);
    char *s = rh_buf_steal(&b);
    rh_buf_free(&b);
    return s;
}

/* "ALTER/CREATE ROLE name ... PASSWORD 'secret'" (the SCRAM secret, never the password). */
static int add_password(PGconn *conn, rh_buf *sql, const char *password, rh_err *err)
{
    char *verifier = rh_scram_secret(password);
    char *lit = PQescapeLiteral(conn, verifier, strlen(verifier));
    free(verifier);
    if (!lit)
        return rh_err_set(err, "cannot quote a SCRAM verifier: %s", PQerrorMessage(conn));
    rh_buf_printf(sql, " PASSWORD %s;\n", lit);
    PQfreemem(lit);
    return 0;
}

int rh_auth_setup(const char *bootstrap_conninfo, const char *admin, const char *admin_pw, const char *user,
                  const char *user_pw, int user_exists, rh_err *err)
{
    PGconn *conn = PQconnectdb(bootstrap_conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        rh_err_set(err, "cannot log in with the template's bootstrap password: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return -1;
    }
    rh_buf sql;
    rh_buf_init(&sql);
    char *a = PQescapeIdentifier(conn, admin, strlen(admin));
    rh_buf_printf(&sql, "ALTER ROLE %s", a);
    int rc = add_password(conn, &sql, admin_pw, err);
    if (rc == 0 && user) {
        char *u = PQescapeIdentifier(conn, user, strlen(user));
        if (user_exists) /* a deployed state's: the same role, which owns what its migrations made */
            rh_buf_printf(&sql, "ALTER ROLE %s", u);
        else
            rh_buf_printf(&sql, "CREATE ROLE %s LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS", u);
        rc = add_password(conn, &sql, user_pw, err);
        /* the database a migration tool's commands connect to by default belongs to the migration role */
        rh_buf_printf(&sql, "ALTER DATABASE postgres OWNER TO %s;\n", u);
        PQfreemem(u);
    }
    PQfreemem(a);
    if (rc == 0) {
        PGresult *r = PQexec(conn, sql.data);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = rh_err_set(err, "cannot set the cluster's passwords: %s", PQresultErrorMessage(r));
        PQclear(r);
    }
    rh_buf_free(&sql);
    PQfinish(conn);
    return rc;
}

int rh_auth_standard_verifiers(PGconn *admin, const char *const roles[], const char *const passwords[], int n,
                               rh_err *err)
{
    for (int i = 0; i < n; i++) {
        /* libpq's own secret: 4096 iterations, which every client accepts */
        char *verifier = PQencryptPasswordConn(admin, passwords[i], roles[i], "scram-sha-256");
        if (!verifier)
            return rh_err_set(err, "cannot compute a SCRAM verifier: %s", PQerrorMessage(admin));
        char *lit = PQescapeLiteral(admin, verifier, strlen(verifier));
        char *ident = PQescapeIdentifier(admin, roles[i], strlen(roles[i]));
        PQfreemem(verifier);
        char *sql = rh_xasprintf("ALTER ROLE %s PASSWORD %s", ident ? ident : "", lit ? lit : "''");
        PQfreemem(lit);
        PQfreemem(ident);
        PGresult *r = PQexec(admin, sql);
        free(sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            rh_err_set(err, "cannot set %s's password: %s", roles[i], PQresultErrorMessage(r));
        PQclear(r);
        if (!ok)
            return -1;
    }
    return 0;
}
