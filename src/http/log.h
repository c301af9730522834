/*
 * log.h — the server's log: one line per request, plus start, stop and error
 * lines, as JSON lines on stderr, human text on stderr, or records sent to the
 * systemd journal over its native protocol.
 *
 * What is logged: times, request ids, methods, route templates (never the
 * concrete path, so no subject id or pseudonym), statuses, durations, byte
 * counts, the staff user id and roles of the caller, and error messages (which
 * by the contract of util/err.h name ids, fields and limits, never personal
 * values). Never: query strings, bodies, tokens, cookies, passwords, user
 * names.
 *
 * Threading: any thread may log at any time after cu_log_open. Every line is
 * built in a bounded buffer on the caller's stack (a longer message is cut)
 * and written with one write(2) to stderr or one send(2) to the journal, so
 * lines of different threads never interleave. No lock, no allocation.
 */
#ifndef CUSTOS_HTTP_LOG_H
#define CUSTOS_HTTP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef enum cu_log_format {
    CU_LOG_AUTO = 0, /* json when stderr is not a terminal, else text */
    CU_LOG_JSON,
    CU_LOG_TEXT,
    CU_LOG_JOURNAL,
} cu_log_format;

/* The longest line (or journal record) written; longer messages are cut. */
#define CU_LOG_LINE_MAX 2048
/* A request id: 1 to 64 characters of A-Z a-z 0-9 . _ - */
#define CU_REQUEST_ID_MAX 64

/* "json", "text", "journal". */
CU_MUST_USE int cu_log_parse_format(const char *s, cu_log_format *out, cu_err *err);
const char *cu_log_format_name(cu_log_format f);

/* Starts logging in format f (CU_LOG_AUTO decides now). The journal is
 * reached at CUSTOS_JOURNAL_SOCKET when set, else at
 * /run/systemd/journal/socket; when it cannot be reached, says so in a JSON
 * line on stderr and logs JSON lines to stderr instead. requests: whether to
 * write one line per request. Returns the format in use. */
cu_log_format cu_log_open(cu_log_format f, bool requests);
void cu_log_close(void);
bool cu_log_requests_on(void);

/* Whether s is a request id of a safe shape (see CU_REQUEST_ID_MAX). */
bool cu_request_id_valid(const char *s);
/* A fresh request id: a random prefix per process and a counter. */
void cu_request_id_new(char out[CU_REQUEST_ID_MAX + 1]);

/* The request the calling thread works on, named in its error lines; NULL
 * for none. The string must outlive the setting. */
void cu_log_set_request(const char *request_id);

typedef enum cu_log_level { CU_LOG_ERROR = 3, CU_LOG_WARNING = 4, CU_LOG_INFO = 6 } cu_log_level;

/* A message line: event is a fixed word ("error", "start", "stop" ...), the
 * message a printf format whose arguments carry no personal data. */
void cu_log_msg(cu_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct cu_log_start {
    const char *version, *listen, *store;
} cu_log_start;
void cu_log_started(const cu_log_start *s);

typedef struct cu_log_stop {
    const char *reason;  /* "SIGTERM", "SIGINT" */
    long long drained;   /* requests in flight when shutdown began */
    long long abandoned; /* of those, still unanswered when the server closed */
} cu_log_stop;
void cu_log_stopped(const cu_log_stop *s);

typedef struct cu_log_req {
    const char *request_id;
    const char *method; /* a known method, or "other" */
    const char *route;  /* a route template, or NULL for none matched */
    int status;
    int64_t duration_us;
    uint64_t bytes_out;
    const char *actor_id; /* staff user id or API token id, or NULL */
    const char *role;     /* their roles, or NULL */
    bool completed;       /* the response was sent in full */
} cu_log_req;
void cu_log_request(const cu_log_req *r);

#endif
