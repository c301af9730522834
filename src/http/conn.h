/*
 * conn.h — deadlines for a connection that is waiting on its client.
 *
 * A connection is in one phase at a time:
 *   NEW   accepted, its first request head not yet complete;
 *   HEAD  kept alive, the request line of its next request received, the rest
 *         of the head not yet;
 *   BODY  head complete, the body being received;
 *   BUSY  the request is complete and being answered (no deadline here);
 *   IDLE  kept alive between requests;
 *   DEAD  timed out or refused, being closed.
 * NEW, HEAD and BODY are "incomplete" requests, which the server caps per
 * source address and in all. cu_conn_check is the pure decision the server's
 * sweep applies to each connection: `since_ms` is when the phase's clock
 * started (accept for NEW, the request line for HEAD, the complete head for
 * BODY, the end of the previous response for IDLE), all on a monotonic clock.
 */
#ifndef CUSTOS_HTTP_CONN_H
#define CUSTOS_HTTP_CONN_H

#include <stdbool.h>
#include <stdint.h>

typedef enum cu_conn_phase {
    CU_CONN_NEW,
    CU_CONN_HEAD,
    CU_CONN_BODY,
    CU_CONN_BUSY,
    CU_CONN_IDLE,
    CU_CONN_DEAD,
} cu_conn_phase;

typedef struct cu_conn_limits {
    int64_t head_ms;    /* a whole head within this; also the grace before a body's rate counts */
    int64_t idle_ms;    /* a kept-alive connection's next request line within this */
    uint64_t body_rate; /* bytes per second, on average, once the grace is over */
} cu_conn_limits;

typedef enum cu_conn_verdict {
    CU_CONN_KEEP,    /* within its deadline */
    CU_CONN_TIMEOUT, /* answer 408, then close */
    CU_CONN_CLOSE,   /* close without an answer (an idle kept-alive connection) */
} cu_conn_verdict;

static inline bool cu_conn_incomplete(cu_conn_phase p)
{
    return p == CU_CONN_NEW || p == CU_CONN_HEAD || p == CU_CONN_BODY;
}

/* received: body bytes received so far (BODY only). */
cu_conn_verdict cu_conn_check(const cu_conn_limits *l, cu_conn_phase phase, int64_t since_ms,
                              uint64_t received, int64_t now_ms);

#endif
