/*
 * metrics.h — counters for GET /metrics, in the Prometheus text format:
 * requests by route and status, request latency, audit events appended, and
 * the sizes of group-commit batches, and rights requests by state and overdue
 * (gauges refreshed on the store's thread at each scrape). Lock-free (C11 atomics): any thread may
 * record, any thread may render.
 */
#ifndef CUSTOS_HTTP_METRICS_H
#define CUSTOS_HTTP_METRICS_H

#include <stdint.h>

#include "http/router.h"
#include "util/buf.h"

void cu_metrics_request(cu_route_id route, int status, int64_t micros);
void cu_metrics_batch(unsigned size, int64_t audit_events);
/* The rights-request gauges, as counted on the store's thread at scrape
 * time: counts[i] requests in state names[i], overdue open ones. */
void cu_metrics_requests(const int64_t *counts, const char *const *names, size_t n,
                         int64_t overdue);
/* Renders every metric into out. */
CU_MUST_USE int cu_metrics_render(cu_buf *out);

#endif
