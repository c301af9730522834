#include "http/server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <netdb.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "domain/jobs.h"
#include "domain/keysched.h"
#include "domain/erasure.h"
#include "domain/vault_impl.h"
#include "domain/requests.h"
#include "http/assets.h"
#include "http/conn.h"
#include "http/framing.h"
#include "http/log.h"
#include "http/metrics.h"
#include "http/websec.h"
#include "iface/link.h"
#include "util/buf.h"
#include "util/clock.h"

#define MAX_BATCH CU_SERVER_MAX_BATCH

typedef enum req_state {
    ST_BODY,         /* reading the body */
    ST_QUEUED,       /* waiting for the vault thread */
    ST_SIGNIN_CHECK, /* sign-in: password check due on the HTTP thread */
    ST_DONE,         /* response ready */
} req_state;

typedef struct server server;

/* ---- connections waiting on their clients (http/conn.h) ----
 * One record per open connection, from a fixed table: the phase and its
 * clock change on the HTTP threads without a lock (atomics); records are
 * taken and returned, and the sweep reads them, under the guard's lock, which
 * libmicrohttpd's "closed" notification also takes before it closes the
 * socket, so the sweep never touches a descriptor that was reused. */

typedef struct addr_slot {
    uint32_t addr; /* IPv4, network order */
    unsigned conns;
    atomic_uint incomplete;
} addr_slot;

typedef struct conn_rec {
    atomic_int phase; /* cu_conn_phase */
    atomic_llong since_ms;
    atomic_ullong received;
    int fd;
    bool used;
    addr_slot *addr;
    struct conn_rec *next_free;
} conn_rec;

typedef struct guard {
    pthread_mutex_t lock;
    conn_rec *recs, *free;
    addr_slot *addrs;
    unsigned n;
    atomic_uint incomplete;
    unsigned max_incomplete, per_ip;
    cu_conn_limits lim;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    char timeout[640]; /* the whole 408 response, written as it is */
    size_t timeout_len;
} guard;

typedef struct req_ctx {
    server *srv;
    struct MHD_Connection *conn;
    conn_rec *crec;
    int64_t start_us;
    req_state state;
    int signin_phase; /* 0: prepare, 1: finish */
    cu_buf body;
    bool too_large;
    bool close; /* answer with Connection: close */
    char client[64];
    cu_http_req req;
    cu_http_resp resp;
    cu_signin_state *signin;
    cu_http_prep prep; /* the body as the HTTP thread parsed it (cu_api_prepare) */
    char rid[CU_REQUEST_ID_MAX + 1]; /* the request id */
    const char *method;              /* for the log: a known method or "other" */
    uint64_t bytes_out;
    char actor_id[40], actor_role[96]; /* copied from resp before a commit can reset it */
    struct req_ctx *next;
} req_ctx;

struct server {
    cu_vault *vault;
    cu_api *api;
    cu_server_config cfg;
    struct MHD_Daemon *daemon;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    req_ctx *head, *tail; /* queue for the vault thread */
    bool stopping;
    atomic_int inflight;
    atomic_bool draining;
    /* The store's health: set by the vault thread after every commit that
     * wrote (or failed to), read by /healthz on the HTTP threads. */
    atomic_bool store_failing;
    atomic_llong last_probe_ms;
    pthread_mutex_t health_lock;
    char health_problem[200]; /* under health_lock */
    guard g;
};

void cu_server_config_default(cu_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cu_strlcpy(cfg->host, "127.0.0.1", sizeof cfg->host);
    cfg->port = 8080;
    cfg->max_body = 1 << 20;
    /* libmicrohttpd 0.9.75 zeroes a connection's whole memory before each
     * request on it: at 64 KiB that memset was the largest user-space cost of
     * an HTTP thread. 16 KiB leaves room for about 15.5 KiB of headers. */
    cfg->max_header = 16 << 10;
    cfg->threads = 4;
    cfg->max_connections = 1024;
    cfg->per_ip = 256;
    cfg->idle_timeout_s = 30;
    cfg->head_timeout_s = 10;
    cfg->body_rate = 4096;
    cfg->max_incomplete = 512;
    cfg->per_ip_incomplete = 64;
    cfg->api.session_idle_us = CU_SESSION_IDLE_DEFAULT_US;
    cfg->api.session_absolute_us = CU_SESSION_ABSOLUTE_DEFAULT_US;
}

int cu_server_parse_listen(cu_server_config *cfg, const char *s, cu_err *err)
{
    static const char usage[] = "--listen takes HOST:PORT: an IPv4 address, [IPv6] or a host "
                                "name, e.g. 127.0.0.1:8080, [::1]:8080, localhost:8080";
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return cu_err_set(err, CU_EINVAL, "%s", usage);
    const char *h = s;
    size_t hn = (size_t)(colon - s);
    bool v6 = s[0] == '[';
    if (v6) {
        if (hn < 3 || s[hn - 1] != ']')
            return cu_err_set(err, CU_EINVAL, "%s", usage);
        h = s + 1;
        hn -= 2;
    }
    if (hn >= sizeof cfg->host)
        return cu_err_set(err, CU_EINVAL, "%s", usage);
    char host[sizeof cfg->host];
    memcpy(host, h, hn);
    host[hn] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end || colon[1] < '0' || colon[1] > '9' || port < 0 || port > 65535)
        return cu_err_set(err, CU_EINVAL, "%s", usage);
    bool ok;
    if (v6) {
        struct in6_addr a6;
        ok = inet_pton(AF_INET6, host, &a6) == 1;
    } else {
        /* a host name: letters, digits, '-' and '.', in labels of at most 63 */
        ok = hn > 0 && host[0] != '-' && host[0] != '.';
        size_t label = 0;
        for (size_t i = 0; ok && i < hn; i++) {
            unsigned char ch = (unsigned char)host[i];
            label = ch == '.' ? 0 : label + 1;
            ok = (isalnum(ch) || ch == '-' || ch == '.') && label <= 63;
        }
    }
    if (!ok)
        return cu_err_set(err, CU_EINVAL, "%s", usage);
    cu_strlcpy(cfg->host, host, sizeof cfg->host);
    cfg->port = (uint16_t)port;
    return CU_OK;
}

/* "HOST:PORT" for messages, an IPv6 literal in brackets. */
static void host_port(const cu_server_config *cfg, unsigned port, char *out, size_t cap)
{
    bool v6 = strchr(cfg->host, ':') != NULL;
    snprintf(out, cap, "%s%s%s:%u", v6 ? "[" : "", cfg->host, v6 ? "]" : "", port);
}

/* Resolves cfg->host and binds a listening socket to the first of its
 * addresses that can be bound; *fd gets it. */
static int listen_socket(const cu_server_config *cfg, int *fd, cu_err *err)
{
    char where[300], service[8];
    host_port(cfg, cfg->port, where, sizeof where);
    snprintf(service, sizeof service, "%u", (unsigned)cfg->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG}, *res = NULL;
    int g = getaddrinfo(cfg->host, service, &hints, &res);
    if (g == EAI_ADDRFAMILY || g == EAI_NONAME || g == EAI_NODATA) {
        hints.ai_flags = AI_NUMERICSERV; /* e.g. ::1 on a host with no IPv6 route */
        g = getaddrinfo(cfg->host, service, &hints, &res);
    }
    if (g)
        return cu_err_set(err, CU_EINVAL, "cannot listen on %s: %s", where,
                          g == EAI_NONAME || g == EAI_NODATA ? "the host name does not resolve"
                                                             : gai_strerror(g));
    int first = 0;
    *fd = -1;
    for (struct addrinfo *ai = res; ai && *fd < 0; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s < 0) {
            first = first ? first : errno;
            continue;
        }
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(s, ai->ai_addr, ai->ai_addrlen) || listen(s, 1024)) {
            first = first ? first : errno;
            close(s);
            continue;
        }
        *fd = s;
    }
    freeaddrinfo(res);
    if (*fd >= 0)
        return CU_OK;
    char why[128];
    cu_strlcpy(why, strerror(first ? first : EADDRNOTAVAIL), sizeof why);
    why[0] = (char)tolower((unsigned char)why[0]);
    return cu_err_set(err, first == ENOMEM || first == EMFILE || first == ENFILE ? CU_EIO
                                                                                 : CU_EINVAL,
                      "cannot listen on %s: %s", where, why);
}

int cu_server_parse_proxy(cu_server_config *cfg, const char *s, cu_err *err)
{
    /* kept in the form client_of() writes a peer's address, so one strcmp
     * recognises the proxy (an IPv6 address without brackets: ::1) */
    unsigned char a[16];
    if (inet_pton(AF_INET, s, a) == 1)
        inet_ntop(AF_INET, a, cfg->trusted_proxy, sizeof cfg->trusted_proxy);
    else if (inet_pton(AF_INET6, s, a) == 1)
        inet_ntop(AF_INET6, a, cfg->trusted_proxy, sizeof cfg->trusted_proxy);
    else
        return cu_err_set(err, CU_EINVAL,
                          "--trusted-proxy takes a numeric IPv4 or IPv6 address (127.0.0.1, ::1)");
    return CU_OK;
}

/* ---- the vault thread ---- */

static void enqueue(server *srv, req_ctx *r)
{
    pthread_mutex_lock(&srv->lock);
    r->next = NULL;
    if (srv->tail)
        srv->tail->next = r;
    else
        srv->head = r;
    srv->tail = r;
    pthread_cond_signal(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
}

/* GET /metrics, on the store's thread: the rights-request gauges are counted
 * here (aggregates, no personal data, not audited), then everything is
 * rendered for the HTTP thread to send. */
static void run_metrics(server *srv, req_ctx *r)
{
    int64_t counts[CU_RQ_STATE_COUNT], overdue = 0;
    const char *names[CU_RQ_STATE_COUNT];
    cu_err err = {0};
    if (cu_request_counts(srv->vault, counts, &overdue, &err) == CU_OK) {
        for (int i = 0; i < CU_RQ_STATE_COUNT; i++)
            names[i] = cu_rq_state_name((cu_rq_state)i);
        cu_metrics_requests(counts, names, CU_RQ_STATE_COUNT, overdue);
    } else {
        cu_log_msg(CU_LOG_ERROR, "error", "counting requests for /metrics: %s", err.msg);
    }
    cu_buf_init(&r->resp.raw, 4 << 20);
    if (cu_metrics_render(&r->resp.raw)) {
        cu_buf_release(&r->resp.raw);
        cu_api_problem(&r->resp, CU_P_INTERNAL, NULL);
    } else {
        r->resp.status = 200;
        r->resp.content_type = "text/plain; version=0.0.4";
    }
    r->state = ST_DONE;
}

/* The sign-ins, whose password check runs off the store's thread, and the
 * portal's invitation page, whose password hash does. */
static bool is_signin(cu_route_id id)
{
    return id == CU_R_SESSION_CREATE || id == CU_R_STAFF_SIGNIN_POST ||
           id == CU_R_PORTAL_INVITATION_POST || id == CU_R_PORTAL_SIGNIN_POST;
}

/* Routes whose handler stores a new password: it asks for the hash, which
 * is made on an HTTP thread, and runs again (cu_signin_state.hash_due). */
static bool stores_password(cu_route_id id)
{
    return id == CU_R_STAFF_ACCOUNT_ADD || id == CU_R_STAFF_ACCOUNT_PASSWORD;
}

static void run_one(server *srv, req_ctx *r)
{
    if (r->req.route.id == CU_R_METRICS) {
        run_metrics(srv, r);
        return;
    }
    if (r->req.route.id == CU_R_PORTAL_INVITATION_POST) {
        if (r->signin_phase == 0)
            r->state = cu_pages_portal_prepare(srv->api, &r->req, r->signin, &r->resp)
                           ? ST_SIGNIN_CHECK
                           : ST_DONE;
        else {
            cu_pages_portal_finish(srv->api, &r->req, r->signin, &r->resp);
            r->state = ST_DONE;
        }
        return;
    }
    if (r->req.route.id == CU_R_PORTAL_SIGNIN_POST) {
        if (r->signin_phase == 0)
            r->state = cu_pages_portal_signin_prepare(srv->api, &r->req, r->signin, &r->resp)
                           ? ST_SIGNIN_CHECK
                           : ST_DONE;
        else {
            cu_pages_portal_signin_finish(srv->api, &r->req, r->signin, &r->resp);
            r->state = ST_DONE;
        }
        return;
    }
    if (is_signin(r->req.route.id)) {
        bool page = r->req.route.id == CU_R_STAFF_SIGNIN_POST;
        if (r->signin_phase == 0) {
            if (page ? cu_pages_signin_prepare(srv->api, &r->req, r->signin, &r->resp)
                     : cu_api_signin_prepare(srv->api, &r->req, r->signin, &r->resp))
                r->state = ST_SIGNIN_CHECK;
            else
                r->state = ST_DONE;
        } else {
            if (page)
                cu_pages_signin_finish(srv->api, &r->req, r->signin, &r->resp);
            else
                cu_api_signin_finish(srv->api, &r->req, r->signin, &r->resp);
            r->state = ST_DONE;
        }
        return;
    }
    cu_api_handle(srv->api, &r->req, &r->resp);
    r->state = r->signin && r->signin->hash_due ? ST_SIGNIN_CHECK : ST_DONE;
}

/* ---- the store's health ---- */

static int64_t mono_ms(void);

static void health_set(server *srv, bool failing, const char *what, const char *msg)
{
    pthread_mutex_lock(&srv->health_lock);
    if (failing) {
        /* "what: msg", a long message cut: /healthz says what failed, not all of it */
        char *p = srv->health_problem;
        size_t cap = sizeof srv->health_problem, n;
        (void)cu_strlcpy(p, what, cap);
        n = strlen(p);
        (void)cu_strlcpy(p + n, ": ", cap - n);
        n = strlen(p);
        (void)cu_strlcpy(p + n, msg, cap - n);
    } else
        srv->health_problem[0] = '\0';
    pthread_mutex_unlock(&srv->health_lock);
    bool was = atomic_exchange(&srv->store_failing, failing);
    if (was && !failing)
        cu_log_msg(CU_LOG_INFO, "health", "the store writes again");
}

/* While the store is failing, one /healthz a second goes to the vault thread
 * to probe it; the others are answered from what the last commit said. */
static bool health_probe_due(server *srv)
{
    if (!atomic_load(&srv->store_failing))
        return false;
    int64_t now = mono_ms(), last = atomic_load(&srv->last_probe_ms);
    return now - last >= 1000 && atomic_compare_exchange_strong(&srv->last_probe_ms, &last, now);
}

static void health_answer(server *srv, cu_http_resp *resp)
{
    cu_http_resp_release(resp);
    memset(resp, 0, sizeof *resp);
    if (!atomic_load(&srv->store_failing)) {
        resp->status = 200;
        resp->json = json_pack("{s:s, s:s}", "status", "ok", "store", "writable");
        return;
    }
    char detail[sizeof srv->health_problem];
    pthread_mutex_lock(&srv->health_lock);
    cu_strlcpy(detail, srv->health_problem, sizeof detail);
    pthread_mutex_unlock(&srv->health_lock);
    cu_api_problem(resp, CU_P_UNAVAILABLE, detail[0] ? detail : "the store cannot write");
    resp->retry_after = 5;
}

static int64_t mono_ms(void);

/* Once-per-cluster jobs (jobs.h), checked by the store's thread when it
 * starts and then every JOBS_EVERY_MS between batches. */
#define JOBS_EVERY_MS 60000

/* Once a day per node while the master key is older than the store's
 * rotation interval (keysched.h): a warning an operator's log monitoring
 * can pick up. No personal data. */
static void key_reminder(server *srv)
{
    static int64_t warned_day = -1;
    cu_err err = {0};
    cu_key_schedule ks;
    int64_t now = cu_now_us(), day = now / ((int64_t)86400 * 1000000);
    if (day == warned_day)
        return;
    if (cu_key_schedule_get(srv->vault, now, &ks, &err)) {
        cu_log_msg(CU_LOG_ERROR, "error", "reading the key rotation schedule: %s", err.msg);
    } else if (ks.overdue) {
        cu_log_msg(CU_LOG_WARNING, "key",
                   "the master key is %lld days old and the store's rotation interval is %d "
                   "days: run custos key rotate",
                   (long long)ks.age_days, ks.every_days);
    }
    warned_day = day;
}

static void run_jobs(server *srv)
{
    cu_err err = {0};
    cu_job_report rep;
    key_reminder(srv);
    if (cu_jobs_run_due(srv->vault, cu_now_us(), &rep, &err))
        cu_log_msg(CU_LOG_ERROR, "error", "periodic jobs: %s", err.msg);
    else if (rep.ran)
        cu_log_msg(CU_LOG_INFO, "job", "session purge ran on this node: %lld session(s) deleted",
                   (long long)rep.sessions);
}

/* An erasure whose transaction did not commit is in the erasure ledger:
 * re-applied at once, so that what the ledger says is erased is not served
 * until the next start. A no-op unless this process left one so; while the
 * store fails, tried again after every batch. */
static void ledger_catch_up(server *srv)
{
    int64_t n = 0;
    cu_err e = {0};
    if (cu_erasure_catch_up(srv->vault, &n, &e))
        cu_log_msg(CU_LOG_ERROR, "error", "re-applying the erasure ledger: %s", e.msg);
    else if (n)
        cu_log_msg(CU_LOG_INFO, "erasure", "re-applied %lld erasure(s) from the erasure ledger",
                   (long long)n);
}

/* Makes a request of a batch that is run again as it was before its first
 * run: no response, queued (its body and parsed request are kept). A
 * sign-in's first step starts its state afresh; its last step reads only
 * what the password check (on the HTTP thread) left there. */
static void req_rerun_reset(req_ctx *r)
{
    cu_http_resp_release(&r->resp);
    memset(&r->resp, 0, sizeof r->resp);
    r->state = ST_QUEUED;
    r->actor_id[0] = '\0';
    r->actor_role[0] = '\0';
}

/* Every request of the batch answers 503: nothing of it is stored. */
static void batch_unavailable(req_ctx **batch, unsigned n, const char *detail)
{
    for (unsigned i = 0; i < n; i++) {
        cu_http_resp_release(&batch[i]->resp);
        memset(&batch[i]->resp, 0, sizeof batch[i]->resp);
        cu_api_problem(&batch[i]->resp, CU_P_UNAVAILABLE, detail);
        batch[i]->resp.retry_after = 1;
        batch[i]->state = ST_DONE;
    }
}

/* Moves queued requests into batch (holding n) until it holds cap; the
 * caller holds srv->lock. Returns the new count. */
static unsigned take_queued_locked(server *srv, req_ctx **batch, unsigned n, unsigned cap)
{
    while (srv->head && n < cap) {
        batch[n++] = srv->head;
        srv->head = srv->head->next;
    }
    if (!srv->head)
        srv->tail = NULL;
    return n;
}

/* Runs the requests of one batch in one transaction and commits it. When the
 * database aborts the transaction to keep concurrent ones apart (CU_ERETRY:
 * at the begin, in any request, or at the commit), the whole batch is undone
 * and run again, at most CU_TX_ATTEMPTS times in all; after the last, every
 * request of it answers 503. Requests queued while the begin waited for the
 * writer lock (another node's batch holds it) join the batch, up to cap.
 * Returns how many requests the batch holds. */
static unsigned run_batch(server *srv, req_ctx **batch, unsigned n, unsigned cap)
{
    int64_t before = cu_vault_audit_seq(srv->vault);
    (void)cu_vault_take_retry(srv->vault); /* a note from outside any batch */
    for (unsigned attempts = 1;; attempts++) {
        cu_err err = {0};
        bool batched = cu_vault_batch_begin(srv->vault, &err) == CU_OK;
        bool probed = false, retry = false;
        cu_err perr = {0}; /* a probe's own failure says more than the commit's */
        if (!batched && cu_vault_rerun(srv->vault, err.code, attempts)) {
            cu_log_msg(CU_LOG_WARNING, "retry", "running the batch again (attempt %u of %d): %s",
                       attempts + 1, CU_TX_ATTEMPTS, err.msg);
            continue;
        }
        if (batched && n < cap) {
            pthread_mutex_lock(&srv->lock);
            n = take_queued_locked(srv, batch, n, cap);
            pthread_mutex_unlock(&srv->lock);
        }
        if (!batched) {
            cu_log_msg(CU_LOG_ERROR, "error", "%s", err.msg);
            /* contention (every attempt aborted) is not a store that fails */
            if (err.code != CU_ERETRY)
                health_set(srv, true, "the store cannot begin a transaction", err.msg);
        }
        for (unsigned i = 0; i < n && !retry; i++) {
            if (batched && batch[i]->req.route.id == CU_R_HEALTHZ) {
                /* answered from the health once the batch has committed */
                if (!probed && !perr.msg[0] && cu_vault_health_probe(srv->vault, &perr))
                    cu_log_msg(CU_LOG_ERROR, "error", "health probe: %s", perr.msg);
                probed = !perr.msg[0];
                batch[i]->state = ST_DONE;
            } else if (batched) {
                cu_log_set_request(batch[i]->rid);
                run_one(srv, batch[i]);
                cu_log_set_request(NULL);
                cu_strlcpy(batch[i]->actor_id, batch[i]->resp.actor_id,
                           sizeof batch[i]->actor_id);
                cu_strlcpy(batch[i]->actor_role, batch[i]->resp.actor_role,
                           sizeof batch[i]->actor_role);
            } else {
                /* e.g. the store names a master key this server cannot find
                 * yet: nothing was done, and a retry may succeed. */
                cu_api_problem(&batch[i]->resp, CU_P_UNAVAILABLE, NULL);
                batch[i]->resp.retry_after = 1;
                batch[i]->state = ST_DONE;
            }
            /* A request's store call that failed retryably has aborted the
             * transaction (on PostgreSQL every later command of it fails):
             * the batch stops here. */
            retry = batched && cu_vault_take_retry(srv->vault);
        }
        if (!batched)
            return n;
        bool wrote = cu_vault_audit_seq(srv->vault) != before || probed;
        int rc = CU_OK;
        if (retry) {
            cu_vault_batch_abort(srv->vault);
            rc = cu_err_set(&err, CU_ERETRY, "a store call of the batch failed retryably");
        } else {
            rc = cu_vault_batch_commit(srv->vault, &err);
        }
        if (rc && cu_vault_rerun(srv->vault, retry ? CU_ERETRY : rc, attempts)) {
            cu_log_msg(CU_LOG_WARNING, "retry", "running the batch again (attempt %u of %d): %s",
                       attempts + 1, CU_TX_ATTEMPTS, err.msg);
            for (unsigned i = 0; i < n; i++)
                req_rerun_reset(batch[i]);
            continue;
        }
        if (rc == CU_ERETRY || retry) {
            /* Every attempt collided with another writer (or an erasure of
             * it reached the erasure ledger, which completes it): nothing of
             * the batch is stored. */
            cu_log_msg(CU_LOG_ERROR, "error", "the database aborted the batch (attempt %u of %d), "
                       "not run again; nothing of it was stored: %s", attempts, CU_TX_ATTEMPTS,
                       err.msg);
            batch_unavailable(batch, n, "the change was not stored");
        } else if (rc) {
            /* Nothing of this batch is on disk: no request may report success. */
            cu_log_msg(CU_LOG_ERROR, "error", "commit failed: %s", err.msg);
            health_set(srv, true, "the store cannot write", perr.msg[0] ? perr.msg : err.msg);
            batch_unavailable(batch, n, "the change was not stored");
        } else if (perr.msg[0]) {
            health_set(srv, true, "the store cannot write", perr.msg);
        } else if (wrote) {
            health_set(srv, false, NULL, NULL); /* a durable write succeeded */
        }
        return n;
    }
}

static void *vault_thread(void *arg)
{
    server *srv = arg;
    pthread_setname_np(pthread_self(), "custos-store");
    int64_t jobs_at = 0;
    for (;;) {
        if (mono_ms() >= jobs_at) {
            run_jobs(srv);
            jobs_at = mono_ms() + JOBS_EVERY_MS;
        }
        pthread_mutex_lock(&srv->lock);
        while (!srv->head && !srv->stopping && mono_ms() < jobs_at) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&srv->wake, &srv->lock, &until);
        }
        if (!srv->head && !srv->stopping) {
            pthread_mutex_unlock(&srv->lock);
            continue; /* jobs are due */
        }
        if (!srv->head && srv->stopping) {
            pthread_mutex_unlock(&srv->lock);
            break;
        }
        req_ctx *batch[MAX_BATCH];
        unsigned cap = cu_server_batch_cap(cu_vault_batch_limit(srv->vault));
        unsigned n = take_queued_locked(srv, batch, 0, cap);
        pthread_mutex_unlock(&srv->lock);

        int64_t before = cu_vault_audit_seq(srv->vault);
        n = run_batch(srv, batch, n, cap);
        cu_metrics_batch(n, cu_vault_audit_seq(srv->vault) - before);
        ledger_catch_up(srv);
        for (unsigned i = 0; i < n; i++) {
            if (batch[i]->req.route.id == CU_R_HEALTHZ)
                health_answer(srv, &batch[i]->resp);
            MHD_resume_connection(batch[i]->conn);
        }
    }
    return NULL;
}

/* ---- the guard ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Moves c from one phase to another if it is still in the first; keeps the
 * counts of incomplete requests. Only the winner of a race moves it. */
static bool conn_move(guard *g, conn_rec *c, cu_conn_phase from, cu_conn_phase to)
{
    int f = (int)from;
    if (!atomic_compare_exchange_strong(&c->phase, &f, (int)to))
        return false;
    bool was = cu_conn_incomplete(from), is = cu_conn_incomplete(to);
    if (was && !is) {
        atomic_fetch_sub(&c->addr->incomplete, 1);
        atomic_fetch_sub(&g->incomplete, 1);
    } else if (!was && is) {
        atomic_fetch_add(&c->addr->incomplete, 1);
        atomic_fetch_add(&g->incomplete, 1);
    }
    return true;
}

static uint32_t addr_key(const struct sockaddr *sa)
{
    if (sa && sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
    if (sa && sa->sa_family == AF_INET6) { /* the /64 a client holds, folded */
        const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        uint32_t k = 0x9e3779b9u;
        for (int i = 0; i < 8; i++)
            k = (k ^ b[i]) * 0x01000193u;
        return k;
    }
    return 0;
}

/* Under the lock. */
static addr_slot *addr_find(guard *g, uint32_t a, bool make)
{
    addr_slot *spare = NULL;
    for (unsigned i = 0; i < g->n; i++) {
        if (g->addrs[i].conns && g->addrs[i].addr == a)
            return &g->addrs[i];
        if (!spare && !g->addrs[i].conns)
            spare = &g->addrs[i];
    }
    if (make && spare) {
        spare->addr = a;
        atomic_store(&spare->incomplete, 0);
    }
    return make ? spare : NULL;
}

/* libmicrohttpd asks before it takes a connection: refuse it while its
 * address, or the server, has as many incomplete requests as allowed. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
    (void)len;
    server *srv = cls;
    guard *g = &srv->g;
    /* Draining at shutdown: new connections are closed at once. (Not
     * MHD_quiesce_daemon: with a thread pool on epoll it races a worker that
     * takes the listening socket out of its epoll set at the same moment,
     * and libmicrohttpd 0.9.75 then aborts the process.) */
    if (atomic_load(&srv->draining))
        return MHD_NO;
    bool ok = atomic_load(&g->incomplete) < g->max_incomplete;
    if (ok) {
        pthread_mutex_lock(&g->lock);
        addr_slot *s = addr_find(g, addr_key(sa), false);
        ok = g->free && (!s || atomic_load(&s->incomplete) < g->per_ip);
        pthread_mutex_unlock(&g->lock);
    }
    return ok ? MHD_YES : MHD_NO;
}

static void conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    guard *g = &((server *)cls)->g;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn,
                                                                     MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        *socket_context = NULL;
        pthread_mutex_lock(&g->lock);
        conn_rec *c = g->free;
        addr_slot *s = c ? addr_find(g, addr_key(ad ? ad->client_addr : NULL), true) : NULL;
        if (!c || !s || !fd) {
            pthread_mutex_unlock(&g->lock);
            if (fd)
                shutdown(fd->connect_fd, SHUT_RDWR);
            return;
        }
        g->free = c->next_free;
        c->used = true;
        c->fd = fd->connect_fd;
        c->addr = s;
        s->conns++;
        atomic_store(&c->received, 0);
        atomic_store(&c->since_ms, mono_ms());
        /* Accepted on two threads at once, both under a cap, one may now be
         * over it: close that one at once. */
        bool over = atomic_load(&g->incomplete) >= g->max_incomplete ||
                    atomic_load(&s->incomplete) >= g->per_ip;
        atomic_store(&c->phase, (int)CU_CONN_DEAD);
        if (over)
            shutdown(c->fd, SHUT_RDWR);
        else
            conn_move(g, c, CU_CONN_DEAD, CU_CONN_NEW);
        pthread_mutex_unlock(&g->lock);
        *socket_context = c;
        return;
    }
    conn_rec *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    int ph = atomic_load(&c->phase);
    while (!conn_move(g, c, (cu_conn_phase)ph, CU_CONN_DEAD))
        ph = atomic_load(&c->phase);
    c->addr->conns--;
    c->used = false;
    c->next_free = g->free;
    g->free = c;
    pthread_mutex_unlock(&g->lock);
    *socket_context = NULL;
}

static conn_rec *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The request line of a kept-alive connection's next request: its head's
 * clock starts. (For a new connection it started at accept.) */
static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)uri;
    guard *g = &((server *)cls)->g;
    conn_rec *c = conn_of(conn);
    if (c && atomic_load(&c->phase) == CU_CONN_IDLE) {
        atomic_store(&c->since_ms, mono_ms());
        conn_move(g, c, CU_CONN_IDLE, CU_CONN_HEAD);
    }
    return NULL;
}

/* The head is complete: the body's clock starts. false: the connection
 * already timed out. */
static bool conn_head_done(guard *g, conn_rec *c)
{
    if (!c)
        return true;
    atomic_store(&c->received, 0);
    atomic_store(&c->since_ms, mono_ms());
    for (;;) {
        int ph = atomic_load(&c->phase);
        if (ph == CU_CONN_DEAD)
            return false;
        if (ph == CU_CONN_BODY || conn_move(g, c, (cu_conn_phase)ph, CU_CONN_BODY))
            return true;
    }
}

/* The request is complete (or answered early): no more deadline until its
 * response is sent. false: the connection already timed out. */
static bool conn_busy(guard *g, conn_rec *c)
{
    if (!c)
        return true;
    for (;;) {
        int ph = atomic_load(&c->phase);
        if (ph == CU_CONN_DEAD)
            return false;
        if (ph == CU_CONN_BUSY || conn_move(g, c, (cu_conn_phase)ph, CU_CONN_BUSY))
            return true;
    }
}

static void *sweep_thread(void *arg)
{
    guard *g = arg;
    pthread_setname_np(pthread_self(), "custos-sweep");
    while (!atomic_load(&g->stop)) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        nanosleep(&tick, NULL);
        int64_t now = mono_ms();
        pthread_mutex_lock(&g->lock);
        for (unsigned i = 0; i < g->n; i++) {
            conn_rec *c = &g->recs[i];
            if (!c->used)
                continue;
            int ph = atomic_load(&c->phase);
            cu_conn_verdict v = cu_conn_check(&g->lim, (cu_conn_phase)ph,
                                              atomic_load(&c->since_ms),
                                              atomic_load(&c->received), now);
            if (v == CU_CONN_KEEP || !conn_move(g, c, (cu_conn_phase)ph, CU_CONN_DEAD))
                continue;
            /* libmicrohttpd is only reading this connection: the answer goes
             * straight to the socket, and shutting it down makes the library's
             * next read end and close it. */
            if (v == CU_CONN_TIMEOUT)
                (void)!send(c->fd, g->timeout, g->timeout_len, MSG_NOSIGNAL | MSG_DONTWAIT);
            shutdown(c->fd, SHUT_RDWR);
        }
        pthread_mutex_unlock(&g->lock);
    }
    return NULL;
}

static int guard_start(server *srv, cu_err *err)
{
    guard *g = &srv->g;
    const cu_server_config *cfg = &srv->cfg;
    g->n = cfg->max_connections + 8;
    g->recs = calloc(g->n, sizeof *g->recs);
    g->addrs = calloc(g->n, sizeof *g->addrs);
    if (!g->recs || !g->addrs) {
        free(g->recs);
        free(g->addrs);
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    }
    for (unsigned i = g->n; i-- > 0;) {
        atomic_init(&g->recs[i].phase, (int)CU_CONN_DEAD);
        g->recs[i].next_free = g->free;
        g->free = &g->recs[i];
    }
    g->max_incomplete = cfg->max_incomplete;
    g->per_ip = cfg->per_ip_incomplete;
    g->lim.head_ms = (int64_t)cfg->head_timeout_s * 1000;
    g->lim.idle_ms = (int64_t)cfg->idle_timeout_s * 1000;
    g->lim.body_rate = cfg->body_rate;
    char detail[160];
    snprintf(detail, sizeof detail,
             "a request's headers must arrive within %u s, and its body at %u bytes/s "
             "after that",
             cfg->head_timeout_s, cfg->body_rate);
    json_t *j = cu_problem_json(CU_P_TIMEOUT, detail);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    int n = body ? snprintf(g->timeout, sizeof g->timeout,
                            "HTTP/1.1 408 Request Timeout\r\n"
                            "Connection: close\r\n"
                            "Content-Type: application/problem+json\r\n"
                            "Cache-Control: no-store\r\n"
                            "X-Content-Type-Options: nosniff\r\n"
                            "Content-Length: %zu\r\n\r\n%s",
                            strlen(body), body)
                 : -1;
    free(body);
    if (n < 0 || (size_t)n >= sizeof g->timeout) {
        free(g->recs);
        free(g->addrs);
        return cu_err_set(err, CU_EINTERNAL, "cannot prepare the 408 response");
    }
    g->timeout_len = (size_t)n;
    pthread_mutex_init(&g->lock, NULL);
    if (pthread_create(&g->thread, NULL, sweep_thread, g)) {
        pthread_mutex_destroy(&g->lock);
        free(g->recs);
        free(g->addrs);
        return cu_err_set(err, CU_EINTERNAL, "cannot start the connection sweep thread");
    }
    g->running = true;
    return CU_OK;
}

static void guard_stop(guard *g)
{
    if (!g->running)
        return;
    atomic_store(&g->stop, true);
    pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->lock);
    free(g->recs);
    free(g->addrs);
    g->running = false;
}

/* ---- responses ---- */

static void free_wiped(void *p)
{
    if (p) {
        cu_wipe(p, strlen(p));
        free(p);
    }
}

static enum MHD_Result send_resp(req_ctx *r)
{
    cu_http_resp *resp = &r->resp;
    struct MHD_Response *mr;
    char *text = NULL;
    if (!conn_busy(&r->srv->g, r->crec))
        return MHD_NO; /* answered 408 already */
    cu_http_resp_render(resp);
    if (resp->raw.len && !resp->json) {
        /* Hand the rendered body over as it is; it is wiped when freed. */
        text = (char *)resp->raw.data;
        resp->raw.data = NULL;
        resp->raw.len = resp->raw.cap_alloc = 0;
    } else if (resp->json) {
        text = json_dumps(resp->json, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (!text) {
            cu_http_resp_release(resp);
            cu_api_problem(resp, CU_P_INTERNAL, NULL);
            text = json_dumps(resp->json, JSON_COMPACT);
        }
    }
    /* An HTML document gets a policy of its own: a fresh nonce, which its
     * own <style> elements carry (websec.h). */
    char csp[CU_CSP_MAX] = "";
    if (text && !resp->problem && resp->content_type &&
        strncmp(resp->content_type, "text/html", 9) == 0) {
        char nonce[CU_CSP_NONCE_LEN];
        cu_csp_nonce(nonce);
        cu_buf doc = {.data = (unsigned char *)text,
                      .len = strlen(text),
                      .cap_alloc = strlen(text) + 1,
                      .limit = CU_BUF_DEFAULT_LIMIT * 4};
        int marked = cu_html_style_nonce(&doc, nonce);
        if (marked < 0 || cu_csp_header(nonce, marked > 0, csp, sizeof csp)) {
            cu_buf_release(&doc);
            cu_api_problem(resp, CU_P_INTERNAL, NULL);
            text = json_dumps(resp->json, JSON_COMPACT);
            csp[0] = '\0';
        } else {
            text = (char *)doc.data;
        }
    }
    r->bytes_out = text ? strlen(text) : 0;
    if (text)
        mr = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free_wiped);
    else
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free_wiped(text);
        return MHD_NO;
    }
    if (text)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->problem        ? "application/problem+json"
                                : resp->content_type ? resp->content_type
                                                     : "application/json");
    if (csp[0]) {
        MHD_add_response_header(mr, "Content-Security-Policy", csp);
        MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(mr, "X-Request-Id", r->rid);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    if (resp->location[0])
        MHD_add_response_header(mr, MHD_HTTP_HEADER_LOCATION, resp->location);
    if (resp->set_cookie[0])
        MHD_add_response_header(mr, MHD_HTTP_HEADER_SET_COOKIE, resp->set_cookie);
    if (resp->allow[0])
        MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->attachment[0]) {
        char cd[sizeof resp->attachment + 32];
        snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", resp->attachment);
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd);
    }
    if (resp->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", resp->retry_after);
        MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (resp->bearer_challenge)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (atomic_load(&r->srv->draining) || r->too_large || r->close)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result respond_problem(req_ctx *r, cu_problem p, const char *detail)
{
    cu_api_problem(&r->resp, p, detail);
    r->state = ST_DONE;
    return send_resp(r);
}

/* A static file of the pages (assets.h), from memory, on the HTTP thread:
 * no sign-in, no store. */
static enum MHD_Result send_asset(req_ctx *r)
{
    const cu_asset *a = cu_assets_find(r->srv->cfg.assets, r->req.route.asset);
    if (!a)
        return respond_problem(r, CU_P_NOT_FOUND, NULL);
    if (!conn_busy(&r->srv->g, r->crec))
        return MHD_NO; /* answered 408 already */
    r->state = ST_DONE;
    r->resp.status = 200;
    r->bytes_out = a->len;
    struct MHD_Response *mr =
        MHD_create_response_from_buffer(a->len, a->data, MHD_RESPMEM_PERSISTENT);
    if (!mr)
        return MHD_NO;
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, CU_ASSET_CACHE_CONTROL);
    MHD_add_response_header(mr, "X-Request-Id", r->rid);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    /* An SVG opened on its own is a document: it may run nothing. */
    MHD_add_response_header(mr, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                            "sandbox");
    MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
    if (atomic_load(&r->srv->draining) || r->close)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(r->conn, MHD_HTTP_OK, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result too_large(req_ctx *r)
{
    char msg[64];
    snprintf(msg, sizeof msg, "the body limit is %zu bytes", r->srv->cfg.max_body);
    r->too_large = true;
    return respond_problem(r, CU_P_TOO_LARGE, msg);
}

/* ---- the access handler ---- */

/* The method as the log names it: only the methods HTTP defines, so a
 * client's made-up token never reaches the log. */
static const char *method_name(const char *m)
{
    static const char *const known[] = {"GET",     "HEAD",    "POST",  "PUT",    "PATCH",
                                        "DELETE",  "OPTIONS", "TRACE", "CONNECT"};
    for (size_t i = 0; m && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return "other";
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static const char *query(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Unescapes the path and query parameters as libmicrohttpd does, except that
 * %00 becomes DEL (0x7f), which no route and no parameter accepts: a NUL must
 * not cut a path or a value short ("/v1/audit%00x" is not "/v1/audit"). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    size_t n = MHD_http_unescape(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0')
            s[i] = 0x7f;
    return n;
}

static bool has_control(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* Every query parameter must be one the route knows, free of control bytes. */
typedef struct qcheck {
    const char *const *allowed;
    bool bad;
    bool control;
    char name[48]; /* the first unknown parameter's name, bounded and printable */
} qcheck;

/* Copies an attacker-supplied parameter name for a problem detail: at most 40
 * characters, anything but [A-Za-z0-9._~-] shown as '?', "..." when cut. */
static void query_name(char *out, size_t cap, const char *key)
{
    size_t n = 0, i = 0;
    for (; key[i] && n < 40 && n + 4 < cap; i++) {
        unsigned char ch = (unsigned char)key[i];
        out[n++] = (isalnum(ch) || ch == '.' || ch == '_' || ch == '~' || ch == '-') ? (char)ch
                                                                                     : '?';
    }
    if (key[i] && n + 4 <= cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static enum MHD_Result check_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    qcheck *q = cls;
    bool ok = false;
    for (const char *const *a = q->allowed; a && *a; a++)
        ok = ok || strcmp(key, *a) == 0;
    if (!ok && !q->bad) {
        q->bad = true;
        query_name(q->name, sizeof q->name, key);
    }
    if (has_control(key) || has_control(value))
        q->control = true;
    return MHD_YES;
}

/* What a search is by (POST /v1/subjects/search), which never goes in a URL. */
static bool identifier_param(const char *name)
{
    static const char *const names[] = {"nhs_number", "email", "phone", "local_ref",
                                        "family_name", "birth_date"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static void fill_request(req_ctx *r, const char *method, const char *url)
{
    struct MHD_Connection *c = r->conn;
    cu_http_req *q = &r->req;
    q->method = method;
    q->path = url;
    q->authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    q->purpose = header(c, "Custos-Purpose");
    q->cookie = header(c, MHD_HTTP_HEADER_COOKIE);
    q->fetch_site = header(c, "Sec-Fetch-Site");
    q->content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    q->body = r->body.data;
    q->body_len = r->body.len;
    q->q_subject = query(c, "subject");
    q->q_actor = query(c, "actor");
    q->q_since = query(c, "since");
    q->q_until = query(c, "until");
    q->q_limit = query(c, "limit");
    q->q_format = query(c, "format");
    q->q_cursor = query(c, "cursor");
    q->q_state = query(c, "state");
    q->q_page = query(c, "page");
    q->q_family = query(c, "family");
    q->q_birth_day = query(c, "birth_day");
    q->q_birth_month = query(c, "birth_month");
    q->q_birth_year = query(c, "birth_year");
    q->q_action = query(c, "action");
    q->q_outcome = query(c, "outcome");
    q->client = r->client;
}

static const char *const *allowed_query(cu_route_id id)
{
    /* no identifier: a search is posted (POST /v1/subjects/search) */
    static const char *const list[] = {"limit", "cursor", NULL};
    static const char *const audit[] = {"subject", "actor", "since", "until", "limit",
                                        "cursor",  NULL};
    static const char *const since[] = {"since", "limit", "cursor", NULL};
    static const char *const format[] = {"format", NULL};
    static const char *const page[] = {"limit", "cursor", NULL};
    static const char *const first_page[] = {"limit", NULL};
    static const char *const state[] = {"state", NULL};
    static const char *const patients[] = {"page", NULL};
    static const char *const requests[] = {"state", "page", NULL};
    static const char *const staff_audit[] = {"since", "until", "actor", "subject", "action",
                                              "outcome", "page", NULL};
    static const char *const staff_page[] = {"page", NULL};
    switch (id) {
    case CU_R_NOTICE:
    case CU_R_ROPA:
    case CU_R_SAR_GET:
    case CU_R_PORTABILITY_GET:
    case CU_R_STAFF_ACCESS_PACKAGE:
    case CU_R_STAFF_PORTABLE_COPY:
    case CU_R_PORTAL_DOWNLOAD: return format;
    case CU_R_SUBJECT_LIST: return list;
    case CU_R_SUBJECT_GET: return first_page;
    case CU_R_ITEMS_LIST:
    case CU_R_ACCESS_LOG:
    case CU_R_POLICY_VERSIONS:
    case CU_R_CONSENT_LIST:
    case CU_R_REQUEST_LIST:
    case CU_R_REQUEST_DUE:
    case CU_R_DISCLOSURE_LIST: return page;
    case CU_R_AUDIT_LIST: return audit;
    case CU_R_BREAK_GLASS_LIST: return since;
    case CU_R_TASK_LIST: return state;
    case CU_R_STAFF_PATIENTS: return patients;
    case CU_R_STAFF_REQUESTS: return requests;
    case CU_R_STAFF_AUDIT: return staff_audit;
    case CU_R_STAFF_ACCOUNTS:
    case CU_R_PORTAL_QUESTIONNAIRES:
    case CU_R_PORTAL_REQUESTS: return staff_page;
    default: return NULL;
    }
}

static void client_of(struct MHD_Connection *c, char out[64])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
        inet_ntop(AF_INET, &in->sin_addr, out, 64);
    } else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ci->client_addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, out, 64);
    }
}

/* Behind the trusted proxy the client is the last address of X-Forwarded-For
 * (the one the proxy itself appended); without a well-formed one the proxy's
 * own address stays. */
static void client_behind_proxy(server *srv, req_ctx *r)
{
    if (!srv->cfg.trusted_proxy[0] || strcmp(r->client, srv->cfg.trusted_proxy) != 0)
        return;
    const char *xff = header(r->conn, "X-Forwarded-For");
    if (!xff)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    char addr[64];
    size_t n = strcspn(last, " \t");
    if (n == 0 || n >= sizeof addr || last[n + strspn(last + n, " \t")] != '\0')
        return;
    memcpy(addr, last, n);
    addr[n] = '\0';
    unsigned char bin[16];
    if (inet_pton(AF_INET, addr, bin) == 1)
        inet_ntop(AF_INET, bin, r->client, sizeof r->client);
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        inet_ntop(AF_INET6, bin, r->client, sizeof r->client);
}

static enum MHD_Result framing_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    cu_framing_add(cls, key, value);
    return MHD_YES;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    server *srv = cls;
    req_ctx *r = *con_cls;
    if (!r) {
        conn_rec *crec = conn_of(conn);
        if (!conn_head_done(&srv->g, crec))
            return MHD_NO; /* answered 408 already */
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->srv = srv;
        r->conn = conn;
        r->crec = crec;
        r->start_us = cu_now_us();
        r->state = ST_BODY;
        r->method = method_name(method);
        const char *xrid = header(conn, "X-Request-Id");
        if (cu_request_id_valid(xrid))
            cu_strlcpy(r->rid, xrid, sizeof r->rid);
        else
            cu_request_id_new(r->rid);
        cu_buf_init(&r->body, srv->cfg.max_body);
        client_of(conn, r->client);
        client_behind_proxy(srv, r);
        cu_route(method, url, &r->req.route);
        *con_cls = r;
        atomic_fetch_add(&srv->inflight, 1);
        cu_framing f = {0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_field, &f);
        const char *detail = NULL;
        int bad = cu_framing_verdict(&f, &detail);
        if (bad) {
            r->close = true; /* what follows the head cannot be trusted */
            return respond_problem(r, bad == 501 ? CU_P_NOT_IMPLEMENTED : CU_P_INVALID, detail);
        }
        if (atomic_load(&srv->draining))
            return respond_problem(r, CU_P_UNAVAILABLE, "the server is shutting down");
        if (r->req.route.id == CU_R_NONE) {
            if (r->req.route.method_mismatch) {
                cu_strlcpy(r->resp.allow, r->req.route.allow, sizeof r->resp.allow);
                return respond_problem(r, CU_P_METHOD, NULL);
            }
            return respond_problem(r, CU_P_NOT_FOUND, NULL);
        }
        const char *cl = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end = NULL;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end && *end == '\0' && n > srv->cfg.max_body) {
                r->too_large = true;
                return too_large(r);
            }
        }
        return MHD_YES;
    }
    if (r->state == ST_BODY) {
        if (*upload_size) {
            if (r->crec)
                atomic_fetch_add_explicit(&r->crec->received, *upload_size,
                                          memory_order_relaxed);
            if (!r->too_large && cu_buf_append(&r->body, upload, *upload_size))
                r->too_large = true;
            *upload_size = 0;
            return MHD_YES;
        }
        if (r->too_large)
            return too_large(r);
        if (memchr(r->body.data ? (const void *)r->body.data : "", '\0', r->body.len))
            return respond_problem(r, CU_P_INVALID, "the body contains a NUL byte");
        qcheck qc = {.allowed = allowed_query(r->req.route.id)};
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_query, &qc);
        if (qc.control)
            return respond_problem(r, CU_P_INVALID, "a query parameter contains a control "
                                                    "character");
        if (qc.bad) {
            char msg[96];
            if (r->req.route.id == CU_R_SUBJECT_LIST && identifier_param(qc.name))
                cu_strlcpy(msg, "an identifier never goes in a URL: search with POST "
                                "/v1/subjects/search", sizeof msg);
            else
                snprintf(msg, sizeof msg, "unknown query parameter \"%s\"", qc.name);
            return respond_problem(r, CU_P_INVALID, msg);
        }
        if (r->req.route.id == CU_R_ASSET)
            return send_asset(r);
        if (r->req.route.id == CU_R_HEALTHZ && !health_probe_due(srv)) {
            health_answer(srv, &r->resp);
            r->state = ST_DONE;
            return send_resp(r);
        }
        fill_request(r, method, url);
        /* parsing that needs no store data, here rather than on the store's thread */
        cu_api_prepare(&r->req, &r->prep);
        r->req.prep = &r->prep;
        if (is_signin(r->req.route.id) || stores_password(r->req.route.id)) {
            r->signin = calloc(1, sizeof *r->signin);
            if (!r->signin)
                return respond_problem(r, CU_P_UNAVAILABLE, NULL);
            if (stores_password(r->req.route.id))
                r->req.pw = r->signin;
        }
        if (!conn_busy(&srv->g, r->crec))
            return MHD_NO; /* answered 408 already */
        r->state = ST_QUEUED;
        MHD_suspend_connection(conn);
        enqueue(srv, r);
        return MHD_YES;
    }
    if (r->state == ST_SIGNIN_CHECK) {
        /* the slow hash, off the vault thread */
        if (r->req.route.id == CU_R_PORTAL_INVITATION_POST || stores_password(r->req.route.id))
            cu_signin_hash(r->signin);
        else
            cu_api_signin_check(r->signin);
        r->signin_phase = 1;
        r->state = ST_QUEUED;
        MHD_suspend_connection(conn);
        enqueue(srv, r);
        return MHD_YES;
    }
    if (r->state == ST_DONE)
        return send_resp(r);
    return MHD_YES; /* still queued */
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    server *srv = cls;
    req_ctx *r = *con_cls;
    conn_rec *c = r ? r->crec : conn_of(conn);
    if (c && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        /* answered: the next request line's clock starts now */
        atomic_store(&c->since_ms, mono_ms());
        conn_move(&srv->g, c, CU_CONN_BUSY, CU_CONN_IDLE);
    }
    if (!r)
        return;
    int status = r->resp.status ? r->resp.status : 500;
    int64_t took = cu_now_us() - r->start_us;
    cu_metrics_request(r->req.route.id, status, took);
    if (cu_log_requests_on()) {
        const cu_route_def *d = cu_route_get(r->req.route.id);
        cu_log_req lr = {.request_id = r->rid,
                         .method = r->method,
                         .route = r->req.route.id != CU_R_NONE && d ? d->path : NULL,
                         .status = status,
                         .duration_us = took,
                         .bytes_out = r->bytes_out,
                         .actor_id = r->actor_id[0] ? r->actor_id : NULL,
                         .role = r->actor_id[0] ? r->actor_role : NULL,
                         .completed = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK};
        cu_log_request(&lr);
    }
    cu_http_resp_release(&r->resp);
    cu_http_prep_release(&r->prep);
    cu_buf_release(&r->body);
    if (r->signin) {
        cu_signin_state_clear(r->signin);
        free(r->signin);
    }
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

int cu_serve(cu_vault *v, const cu_server_config *cfg, cu_err *err)
{
    server srv = {.vault = v, .cfg = *cfg};
    srv.api = cu_api_new(v, &cfg->api);
    if (!srv.api)
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    /* Keep freed memory instead of returning it to the kernel after every
     * batch: the threads' heaps otherwise grow and shrink (mprotect) in turn. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.wake, NULL);
    pthread_mutex_init(&srv.health_lock, NULL);

    /* Signals are taken by sigwait below, never by a worker thread. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = guard_start(&srv, err);
    if (rc) {
        cu_api_free(srv.api);
        return rc;
    }
    if (pthread_create(&srv.thread, NULL, vault_thread, &srv)) {
        guard_stop(&srv.g);
        cu_api_free(srv.api);
        return cu_err_set(err, CU_EINTERNAL, "cannot start the vault thread");
    }
    int lfd = -1;
    rc = listen_socket(cfg, &lfd, err);
    if (!rc && !cu_public_url_is_set()) {
        /* The links custos gives people: http://localhost:PORT unless
         * --public-url says otherwise. */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        unsigned port = cfg->port;
        if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0)
            port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                  : ((struct sockaddr_in *)&ss)->sin_port);
        char url[64];
        snprintf(url, sizeof url, "http://localhost:%u", port);
        cu_err ignored = {0};
        if (cu_public_url_set(url, &ignored))
            cu_log_msg(CU_LOG_ERROR, "error", "cannot set the public URL: %s", ignored.msg);
    }
    srv.daemon = rc ? NULL : MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
            MHD_USE_TURBO,
        0, accept_policy, &srv, access_handler, &srv, MHD_OPTION_LISTEN_SOCKET, lfd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg->per_ip, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_header,
        MHD_OPTION_NOTIFY_COMPLETED, completed, &srv, MHD_OPTION_NOTIFY_CONNECTION,
        conn_notify, &srv, MHD_OPTION_URI_LOG_CALLBACK, uri_seen, &srv,
        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_END);
    if (rc) {
        /* the address was refused: said in err */
    } else if (!srv.daemon) {
        char where[300];
        host_port(cfg, cfg->port, where, sizeof where);
        rc = cu_err_set(err, CU_EIO, "cannot serve on %s (%s)", where, strerror(errno));
        close(lfd);
    } else {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_BIND_PORT);
        char listen[300];
        host_port(cfg, di ? (unsigned)di->port : cfg->port, listen, sizeof listen);
        cu_log_start st = {.version = CUSTOS_VERSION, .listen = listen,
                           .store = cfg->store_path ? cfg->store_path : "-"};
        cu_log_started(&st);
        printf("listening on http://%s\n", listen);
        fflush(stdout);
        int sig = 0;
        sigwait(&sigs, &sig);
        const char *why = sig == SIGTERM ? "SIGTERM" : "SIGINT";
        cu_log_msg(CU_LOG_INFO, "stopping", "%s: finishing requests in flight", why);
        /* Stop accepting; answer what is in flight; then close. */
        atomic_store(&srv.draining, true);
        long long drained = atomic_load(&srv.inflight);
        for (int i = 0; i < 3000 && atomic_load(&srv.inflight) > 0; i++) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        long long left = atomic_load(&srv.inflight);
        MHD_stop_daemon(srv.daemon);
        cu_log_stop sp = {.reason = why, .drained = drained, .abandoned = left};
        cu_log_stopped(&sp);
    }
    pthread_mutex_lock(&srv.lock);
    srv.stopping = true;
    pthread_cond_signal(&srv.wake);
    pthread_mutex_unlock(&srv.lock);
    pthread_join(srv.thread, NULL);
    guard_stop(&srv.g);
    pthread_mutex_destroy(&srv.lock);
    pthread_cond_destroy(&srv.wake);
    pthread_mutex_destroy(&srv.health_lock);
    cu_api_free(srv.api);
    return rc;
}
