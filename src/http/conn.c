#include "http/conn.h"

cu_conn_verdict cu_conn_check(const cu_conn_limits *l, cu_conn_phase phase, int64_t since_ms,
                              uint64_t received, int64_t now_ms)
{
    int64_t elapsed = now_ms - since_ms;
    switch (phase) {
    case CU_CONN_NEW:
    case CU_CONN_HEAD: return elapsed >= l->head_ms ? CU_CONN_TIMEOUT : CU_CONN_KEEP;
    case CU_CONN_BODY: {
        if (elapsed < l->head_ms)
            return CU_CONN_KEEP;
        /* at least body_rate bytes a second since the grace ended */
        uint64_t due = (uint64_t)(elapsed - l->head_ms) * l->body_rate / 1000;
        return received < due ? CU_CONN_TIMEOUT : CU_CONN_KEEP;
    }
    case CU_CONN_IDLE: return elapsed >= l->idle_ms ? CU_CONN_CLOSE : CU_CONN_KEEP;
    case CU_CONN_BUSY:
    case CU_CONN_DEAD: return CU_CONN_KEEP;
    }
    return CU_CONN_KEEP;
}
