/*
 * pgurl.c — the remote-host guard: where a connection string really leads, decided before any
 * connection (see pgurl.h).
 */
#include "util/pgurl.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/buf.h"
#include "util/pgenv.h"

/* ---- the remote-host guard ------------------------------------------------------------------------ */

/* A loopback address: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x. */
static int addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}

static void numeric(const struct sockaddr *sa, socklen_t len, char *out, size_t n)
{
    if (getnameinfo(sa, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(out, n, "?");
}

/* Element i of a comma-separated list (libpq's rule: no quoting), or "" past its end. */
static char *list_item(const char *list, size_t i)
{
    const char *p = list ? list : "";
    for (size_t k = 0; k < i; k++) {
        p = strchr(p, ',');
        if (!p)
            return rh_xstrdup("");
        p++;
    }
    return rh_xstrndup(p, strcspn(p, ","));
}

static size_t list_len(const char *list)
{
    size_t n = 1;
    for (const char *p = list ? list : ""; (p = strchr(p, ',')) != NULL; p++)
        n++;
    return n;
}

/*
 * The host, hostaddr and port libpq would use for conninfo — its own parser, with the environment
 * (PGHOST, PGHOSTADDR, PGPORT ...) and the service file (service=, PGSERVICE, PGSERVICEFILE) applied —
 * without connecting: an invalid target_session_attrs added last makes PQconnectStartParams stop
 * after it has filled the options and before it opens any socket.
 */
static int effective_hosts(const char *conninfo, char **host, char **hostaddr, char **port, rh_err *err)
{
    static const char probe[] = "rehearse-no-connection";
    const char *kw[] = {"service", "dbname", "target_session_attrs", NULL};
    const char *val[] = {rh_pgenv_user_service(), conninfo, probe, NULL};
    PGconn *c = PQconnectStartParams(kw, val, 1);
    if (!c)
        return rh_err_set(err, "out of memory");
    int stopped = PQstatus(c) == CONNECTION_BAD && PQsocket(c) < 0 && strstr(PQerrorMessage(c), probe);
    if (!stopped) {
        /* an invalid URL, a missing service, too few hostaddrs ... — or a libpq that went further: refuse */
        rh_err_set(err, "%s", PQstatus(c) == CONNECTION_BAD ? PQerrorMessage(c) : "libpq did not stop before connecting");
        PQfinish(c);
        size_t n = strlen(err->msg);
        while (n && err->msg[n - 1] == '\n')
            err->msg[--n] = '\0';
        return -1;
    }
    *host = *hostaddr = *port = NULL;
    PQconninfoOption *opts = PQconninfo(c);
    for (PQconninfoOption *p = opts; p && p->keyword; p++) {
        char **dst = strcmp(p->keyword, "host") == 0       ? host
                   : strcmp(p->keyword, "hostaddr") == 0 ? hostaddr
                   : strcmp(p->keyword, "port") == 0     ? port
                                                          : NULL;
        if (dst && p->val && *p->val)
            *dst = rh_xstrdup(p->val);
    }
    PQconninfoFree(opts);
    PQfinish(c);
    return 0;
}

/* Where a host or hostaddr came from, for the refusal: the text, a service definition or the environment. */
static const char *source_of(const char *conninfo, const char *keyword)
{
    char *e = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &e);
    PQfreemem(e);
    const char *env_service = getenv("PGSERVICE"); /* still set when rh_pgenv_isolate did not run (a library use) */
    int in_text = 0, service = rh_pgenv_user_service() != NULL || (env_service && *env_service);
    for (PQconninfoOption *p = opts; p && p->keyword; p++) {
        if (!p->val || !*p->val)
            continue;
        in_text |= strcmp(p->keyword, keyword) == 0;
        service |= strcmp(p->keyword, "service") == 0;
    }
    PQconninfoFree(opts);
    const char *env = strcmp(keyword, "host") == 0 ? "PGHOST" : "PGHOSTADDR";
    if (in_text)
        return "";
    if (getenv(env) && *getenv(env))
        return strcmp(env, "PGHOST") == 0 ? " (from PGHOST)" : " (from PGHOSTADDR)";
    return service ? " (from the service definition)" : "";
}

/* Append one pinned entry (host name, address, port) to the three comma-separated lists. */
static void add_entry(rh_buf *h, rh_buf *a, rh_buf *p, int first, const char *host, const char *addr, const char *port)
{
    rh_buf_printf(h, "%s%s", first ? "" : ",", host);
    rh_buf_printf(a, "%s%s", first ? "" : ",", addr);
    rh_buf_printf(p, "%s%s", first ? "" : ",", port);
}

int rh_pgurl_targets(const char *conninfo, rh_pgurl_target **out, size_t *n, rh_err *err)
{
    *out = NULL;
    *n = 0;
    char *host = NULL, *hostaddr = NULL, *port = NULL;
    if (effective_hosts(conninfo, &host, &hostaddr, &port, err) < 0)
        return -1;
    size_t count = list_len(host), nports = list_len(port);
    if (hostaddr && list_len(hostaddr) > count)
        count = list_len(hostaddr);
    rh_pgurl_target *t = rh_xcalloc(count, sizeof *t);
    for (size_t i = 0; i < count; i++) {
        t[i].host = list_item(host, i);
        t[i].hostaddr = list_item(hostaddr, i);
        t[i].port = list_item(port, nports == 1 ? 0 : i);
        t[i].socket = !*t[i].hostaddr && (!*t[i].host || t[i].host[0] == '/' || t[i].host[0] == '@');
    }
    free(host);
    free(hostaddr);
    free(port);
    *out = t;
    *n = count;
    return 0;
}

void rh_pgurl_targets_free(rh_pgurl_target *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].host);
        free(t[i].hostaddr);
        free(t[i].port);
    }
    free(t);
}

int rh_pgurl_pin_local(const char *conninfo, rh_pgurl_pinned *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    rh_pgurl_target *t = NULL;
    size_t n = 0;
    if (rh_pgurl_targets(conninfo, &t, &n, err) < 0)
        return -1;
    rh_buf h, a, p;
    rh_buf_init(&h);
    rh_buf_init(&a);
    rh_buf_init(&p);
    int rc = 0, entries = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *hi = t[i].host, *ai = t[i].hostaddr, *pi = t[i].port;
        const char *name = *ai ? ai : hi;
        if (t[i].socket) {
            /* a unix socket (no host at all: libpq's default socket folder) */
            add_entry(&h, &a, &p, entries++ == 0, hi, "", pi);
        } else {
            struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
            if (*ai)
                hints.ai_flags = AI_NUMERICHOST;   /* hostaddr is an address, never a name */
            int g = getaddrinfo(name, NULL, &hints, &res);
            if (g != 0)
                rc = rh_err_set(err, "cannot resolve host '%s'%s: %s", name, source_of(conninfo, *ai ? "hostaddr" : "host"),
                                gai_strerror(g));
            /* libpq tries every address of a name: each must be this machine, and each is pinned */
            for (struct addrinfo *r = g == 0 ? res : NULL; r && rc == 0; r = r->ai_next) {
                char num[NI_MAXHOST];
                numeric(r->ai_addr, r->ai_addrlen, num, sizeof num);
                if (!addr_is_loopback(r->ai_addr) && *ai)
                    rc = rh_err_set(err, "hostaddr '%s'%s is not this machine", name, source_of(conninfo, "hostaddr"));
                else if (!addr_is_loopback(r->ai_addr))
                    rc = rh_err_set(err, "host '%s'%s resolves to %s, which is not this machine", name,
                                    source_of(conninfo, "host"), num);
                else
                    add_entry(&h, &a, &p, entries++ == 0, hi, num, pi);
            }
            if (g == 0)
                freeaddrinfo(res);
        }
    }
    rh_pgurl_targets_free(t, n);
    if (rc == 0) {
        out->host = rh_buf_steal(&h);
        out->hostaddr = rh_buf_steal(&a);
        out->port = rh_buf_steal(&p);
    }
    rh_buf_free(&h);
    rh_buf_free(&a);
    rh_buf_free(&p);
    return rc;
}

void rh_pgurl_pinned_free(rh_pgurl_pinned *p)
{
    free(p->host);
    free(p->hostaddr);
    free(p->port);
    memset(p, 0, sizeof *p);
}

/* The user's PGSERVICE (rh_pgenv_isolate took it out of the environment) comes first: a service= in
   conninfo, expanded after it, wins, as it does over the variable in libpq. */
PGconn *rh_pgurl_connect_pinned(const char *conninfo, const rh_pgurl_pinned *p)
{
    const char *kw[] = {"service", "dbname", "host", "hostaddr", "port", NULL};
    const char *val[] = {rh_pgenv_user_service(), conninfo, p->host, p->hostaddr, p->port, NULL};
    return PQconnectdbParams(kw, val, 1);
}

PGconn *rh_pgurl_connect(const char *conninfo)
{
    const char *kw[] = {"service", "dbname", NULL};
    const char *val[] = {rh_pgenv_user_service(), conninfo, NULL};
    return PQconnectdbParams(kw, val, 1);
}
