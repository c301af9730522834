#include "http/metrics.h"

#include <stdatomic.h>
#include <stddef.h>

/* Statuses are kept per hundred-block offset: 100..599. */
#define NSTATUS 500
static atomic_uint_fast64_t requests[CU_R_COUNT][NSTATUS];

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NLAT (sizeof latency_bounds / sizeof latency_bounds[0])
static atomic_uint_fast64_t latency_buckets[NLAT + 1];
static atomic_uint_fast64_t latency_sum_us, latency_count;

static const unsigned batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
#define NBATCH (sizeof batch_bounds / sizeof batch_bounds[0])
static atomic_uint_fast64_t batch_buckets[NBATCH + 1];
static atomic_uint_fast64_t batch_sum, batch_count, audit_events;

#define NRQ_STATES 16
static const char *rq_names[NRQ_STATES];
static atomic_int_fast64_t rq_counts[NRQ_STATES], rq_overdue;
static atomic_uint rq_n;

void cu_metrics_requests(const int64_t *counts, const char *const *names, size_t n,
                         int64_t overdue)
{
    if (n > NRQ_STATES)
        n = NRQ_STATES;
    for (size_t i = 0; i < n; i++) {
        rq_names[i] = names[i]; /* static strings */
        atomic_store_explicit(&rq_counts[i], counts[i], memory_order_relaxed);
    }
    atomic_store_explicit(&rq_overdue, overdue, memory_order_relaxed);
    atomic_store_explicit(&rq_n, (unsigned)n, memory_order_release);
}

void cu_metrics_request(cu_route_id route, int status, int64_t micros)
{
    if ((unsigned)route < CU_R_COUNT && status >= 100 && status < 600)
        atomic_fetch_add_explicit(&requests[route][status - 100], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NLAT && (double)micros / 1e6 > latency_bounds[b])
        b++;
    atomic_fetch_add_explicit(&latency_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_us, (uint_fast64_t)(micros > 0 ? micros : 0),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
}

void cu_metrics_batch(unsigned size, int64_t events)
{
    size_t b = 0;
    while (b < NBATCH && size > batch_bounds[b])
        b++;
    atomic_fetch_add_explicit(&batch_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&batch_sum, size, memory_order_relaxed);
    atomic_fetch_add_explicit(&batch_count, 1, memory_order_relaxed);
    if (events > 0)
        atomic_fetch_add_explicit(&audit_events, (uint_fast64_t)events, memory_order_relaxed);
}

static unsigned long long get(atomic_uint_fast64_t *a)
{
    return (unsigned long long)atomic_load_explicit(a, memory_order_relaxed);
}

int cu_metrics_render(cu_buf *out)
{
    int rc = cu_buf_append_str(out,
                               "# HELP custos_http_requests_total HTTP requests by route and "
                               "status.\n# TYPE custos_http_requests_total counter\n");
    for (int r = 1; !rc && r < CU_R_COUNT; r++) {
        const cu_route_def *d = cu_route_get((cu_route_id)r);
        for (int s = 0; !rc && s < NSTATUS; s++) {
            unsigned long long n = get(&requests[r][s]);
            if (n)
                rc = cu_buf_printf(out,
                                   "custos_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                                   d ? d->name : "unknown", s + 100, n);
        }
    }
    if (!rc)
        rc = cu_buf_append_str(out, "# HELP custos_http_request_duration_seconds Time from "
                                    "request to response.\n"
                                    "# TYPE custos_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t b = 0; !rc && b <= NLAT; b++) {
        cum += get(&latency_buckets[b]);
        if (b < NLAT)
            rc = cu_buf_printf(out, "custos_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                               latency_bounds[b], cum);
        else
            rc = cu_buf_printf(out, "custos_http_request_duration_seconds_bucket{le=\"+Inf\"} "
                                    "%llu\n", cum);
    }
    if (!rc)
        rc = cu_buf_printf(out, "custos_http_request_duration_seconds_sum %.6f\n"
                                "custos_http_request_duration_seconds_count %llu\n",
                           (double)get(&latency_sum_us) / 1e6, get(&latency_count));
    if (!rc)
        rc = cu_buf_printf(out, "# HELP custos_audit_events_appended_total Audit events "
                                "appended by this process.\n"
                                "# TYPE custos_audit_events_appended_total counter\n"
                                "custos_audit_events_appended_total %llu\n",
                           get(&audit_events));
    if (!rc)
        rc = cu_buf_append_str(out, "# HELP custos_commit_batch_size Requests per durable "
                                    "group commit.\n# TYPE custos_commit_batch_size histogram\n");
    cum = 0;
    for (size_t b = 0; !rc && b <= NBATCH; b++) {
        cum += get(&batch_buckets[b]);
        if (b < NBATCH)
            rc = cu_buf_printf(out, "custos_commit_batch_size_bucket{le=\"%u\"} %llu\n",
                               batch_bounds[b], cum);
        else
            rc = cu_buf_printf(out, "custos_commit_batch_size_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    if (!rc)
        rc = cu_buf_printf(out, "custos_commit_batch_size_sum %llu\ncustos_commit_batch_size_count "
                                "%llu\n", get(&batch_sum), get(&batch_count));
    unsigned nrq = atomic_load_explicit(&rq_n, memory_order_acquire);
    if (!rc && nrq) {
        rc = cu_buf_append_str(out, "# HELP custos_requests Data-subject rights requests by "
                                    "state.\n# TYPE custos_requests gauge\n");
        for (unsigned i = 0; !rc && i < nrq; i++)
            rc = cu_buf_printf(out, "custos_requests{state=\"%s\"} %lld\n", rq_names[i],
                               (long long)atomic_load_explicit(&rq_counts[i],
                                                               memory_order_relaxed));
        if (!rc)
            rc = cu_buf_printf(out, "# HELP custos_requests_overdue Open rights requests past "
                                    "their statutory deadline.\n"
                                    "# TYPE custos_requests_overdue gauge\n"
                                    "custos_requests_overdue %lld\n",
                               (long long)atomic_load_explicit(&rq_overdue,
                                                               memory_order_relaxed));
    }
    return rc;
}
