/*
 * url.c — a DATABASE_URL as Prisma takes it, made acceptable to libpq (prisma.h:
 * rh_prisma_database_url; others reach it as rh_tool.database_url).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prisma/prisma.h"
#include "util/buf.h"

char *rh_prisma_database_url(const char *url, char **schema)
{
    static const char *prisma_only[] = {"schema=", "connection_limit=", "pool_timeout=", "pgbouncer=",
                                        "socket_timeout=", "statement_cache_size=", "sslaccept=", "sslidentity=",
                                        "sslpassword=", NULL};
    *schema = NULL;
    const char *q = strchr(url, '?');
    if (!q || strncmp(url, "postgres", 8) != 0)
        return rh_xstrdup(url);
    rh_buf b;
    rh_buf_init(&b);
    rh_buf_append(&b, url, (size_t)(q - url));
    char sep = '?';
    for (const char *p = q + 1; *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        int drop = 0;
        for (int i = 0; prisma_only[i] && !drop; i++)
            drop = strncmp(p, prisma_only[i], strlen(prisma_only[i])) == 0;
        if (drop && strncmp(p, "schema=", 7) == 0) {
            free(*schema);
            char *v = rh_xstrndup(p + 7, n - 7), *w = v;
            for (char *r = v; *r; r++) {
                unsigned hi, lo;
                if (r[0] == '%' && r[1] && r[2] && sscanf(r + 1, "%1x%1x", &hi, &lo) == 2) {
                    *w++ = (char)(hi * 16 + lo);
                    r += 2;
                } else {
                    *w++ = *r;
                }
            }
            *w = '\0';
            *schema = v;
        } else if (!drop && n > 0) {
            rh_buf_putc(&b, sep);
            rh_buf_append(&b, p, n);
            sep = '&';
        }
        p += n + (amp ? 1 : 0);
    }
    return rh_buf_steal(&b);
}
