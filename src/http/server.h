/*
 * server.h — `custos serve`: the HTTP API on libmicrohttpd.
 *
 * Threads: libmicrohttpd's pool (epoll) parses requests, routes them, reads
 * bodies (at most max_body bytes) and writes responses; one vault thread owns
 * the store and runs queued requests in group-commit batches: every request of
 * a batch shares one durable transaction, and each is answered only after its
 * batch has committed, so a success response means its change and its audit
 * event are on disk. Connections are suspended while they wait.
 *
 * Limits: body size, header size (connection memory), connections in total
 * and per source address, and for a client that is slow to send: a deadline
 * for each request head, a minimum rate for its body, a deadline for the next
 * request on a kept-alive connection, and caps on incomplete requests per
 * source address and in all (http/conn.h). A request past its deadline is
 * answered 408 and its connection closed; a connection beyond a cap is closed
 * as it is accepted. Framing is checked strictly (http/framing.h).
 * SIGTERM or SIGINT stops accepting, finishes the requests in flight, commits,
 * and returns.
 */
#ifndef CUSTOS_HTTP_SERVER_H
#define CUSTOS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "domain/vault.h"
#include "http/api.h"
#include "http/assets.h"

typedef struct cu_server_config {
    char host[256];             /* an IPv4 or IPv6 literal or a host name, default 127.0.0.1 */
    uint16_t port;              /* 0 picks a free port */
    size_t max_body;            /* default 1 MiB */
    size_t max_header;          /* connection memory, default 16 KiB */
    unsigned threads;           /* HTTP threads, default 4 */
    unsigned max_connections;   /* default 1024 */
    unsigned per_ip;            /* connections per source address, default 256 */
    unsigned idle_timeout_s;    /* between requests on a connection, default 30 */
    unsigned head_timeout_s;    /* a whole request head, default 10 */
    unsigned body_rate;         /* bytes/s a body must keep up after the head's time, default 4096 */
    unsigned max_incomplete;    /* incomplete requests in all, default 512 */
    unsigned per_ip_incomplete; /* incomplete requests per source address, default 64 */
    /* A reverse proxy (numeric IPv4 address) whose X-Forwarded-For is believed:
     * requests from it are throttled by the address it names last. "" none. */
    char trusted_proxy[64];
    const char *store_path; /* named in the start line; NULL none */
    /* The pages' static files, served under cu_assets_prefix() (assets.h);
     * NULL: every asset is 404. Owned by the caller. */
    const struct cu_assets *assets;
    cu_api_config api;
} cu_server_config;

void cu_server_config_default(cu_server_config *cfg);
/* How many queued requests the store's thread takes into one group commit:
 * the store's limit (cu_vault_batch_limit; 0: none), at most 256. */
#define CU_SERVER_MAX_BATCH 256
static inline unsigned cu_server_batch_cap(unsigned store_limit)
{
    return store_limit && store_limit < CU_SERVER_MAX_BATCH ? store_limit : CU_SERVER_MAX_BATCH;
}
/* Parses "HOST:PORT" into cfg: HOST is a numeric IPv4 address, an IPv6
 * literal in brackets ("[::1]:8080") or a host name, resolved (getaddrinfo)
 * when the server starts, which listens on the first address it can bind. */
CU_MUST_USE int cu_server_parse_listen(cu_server_config *cfg, const char *s, cu_err *err);

/* Parses the --trusted-proxy address into cfg. */
CU_MUST_USE int cu_server_parse_proxy(cu_server_config *cfg, const char *s, cu_err *err);

/* Serves until SIGTERM or SIGINT. Prints "listening on http://HOST:PORT" on
 * stdout once the socket is bound. An address that cannot be resolved or
 * bound (in use, not local, not permitted) is CU_EINVAL: "cannot listen on
 * HOST:PORT: address already in use". Logs through http/log.h (cu_log_open
 * first): a start line, one line per request, error lines, a stop line.
 * Each request gets an id (a safe X-Request-Id it came with, or a new one),
 * echoed in the X-Request-Id response header.
 *
 * Links given to people are made absolute with the public URL (iface/link.h):
 * when none was set, it becomes http://localhost:PORT once the port is bound.
 * Every text/html response carries a Content-Security-Policy with a nonce
 * of its own, Referrer-Policy: no-referrer and X-Content-Type-Options:
 * nosniff (http/websec.h); /assets/<version>/... is answered from memory
 * on the HTTP thread (http/assets.h).
 *
 * /healthz answers 200 while the store can write: the vault thread remembers
 * whether its last commit that wrote failed; while it did, /healthz probes
 * (a committed write of one meta row, at most once a second) and answers 503
 * with what failed until a commit succeeds again. */
CU_MUST_USE int cu_serve(cu_vault *v, const cu_server_config *cfg, cu_err *err);

#endif
