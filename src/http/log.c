#include "http/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"

#define DEFAULT_JOURNAL "/run/systemd/journal/socket"

static cu_log_format g_format = CU_LOG_TEXT;
static bool g_requests = true;
static int g_journal = -1;
static char g_prefix[16];
static atomic_ullong g_counter;
static _Thread_local const char *t_request;

int cu_log_parse_format(const char *s, cu_log_format *out, cu_err *err)
{
    if (strcmp(s, "json") == 0)
        *out = CU_LOG_JSON;
    else if (strcmp(s, "text") == 0)
        *out = CU_LOG_TEXT;
    else if (strcmp(s, "journal") == 0)
        *out = CU_LOG_JOURNAL;
    else
        return cu_err_set(err, CU_EINVAL, "the log format is json, text or journal");
    return CU_OK;
}

const char *cu_log_format_name(cu_log_format f)
{
    switch (f) {
    case CU_LOG_JSON: return "json";
    case CU_LOG_TEXT: return "text";
    case CU_LOG_JOURNAL: return "journal";
    default: return "auto";
    }
}

bool cu_log_requests_on(void)
{
    return g_requests;
}

bool cu_request_id_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok || n >= CU_REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}

void cu_request_id_new(char out[CU_REQUEST_ID_MAX + 1])
{
    unsigned long long n = atomic_fetch_add_explicit(&g_counter, 1, memory_order_relaxed) + 1;
    snprintf(out, CU_REQUEST_ID_MAX + 1, "%s-%llx", g_prefix, n);
}

void cu_log_set_request(const char *request_id)
{
    t_request = request_id;
}

/* ---- one line, bounded ---- */

typedef struct line {
    char b[CU_LOG_LINE_MAX];
    size_t n;
} line;

/* The longest field value logged (a store path, say), so that the fields,
 * all ASCII and short, always fit with room for the message after them. */
#define FIELD_MAX 160

/* Room kept for what closes a line (quotes, braces, newline). */
#define LINE_RESERVE 8

static void put(line *l, const char *s, size_t n)
{
    size_t room = sizeof l->b - LINE_RESERVE - l->n;
    if (n > room)
        n = room;
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void puts_(line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* The closing bytes always fit: LINE_RESERVE was kept for them. */
static void close_with(line *l, const char *s)
{
    size_t n = strlen(s);
    if (l->n + n > sizeof l->b)
        n = sizeof l->b - l->n;
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

/* A JSON string's contents, at most max bytes of s: quotes, backslashes and
 * control bytes escaped; bytes outside ASCII become '?' (every value logged
 * is ASCII by contract; a line must stay valid UTF-8 whatever a message
 * holds). A cut never splits an escape. */
static void put_json_str(line *l, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; s && *s && i < max;) {
        /* a run of bytes that need no escape goes in one copy */
        size_t run = 0;
        while (i + run < max && s[run] && (unsigned char)s[run] >= 0x20 &&
               (unsigned char)s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
            run++;
        if (run) {
            if (l->n + run > sizeof l->b - LINE_RESERVE)
                run = sizeof l->b - LINE_RESERVE - l->n;
            put(l, s, run);
            s += run;
            i += run;
            if (l->n >= sizeof l->b - LINE_RESERVE)
                return;
            continue;
        }
        unsigned char c = (unsigned char)*s++;
        i++;
        char e[8];
        size_t n = 0;
        if (c == '"' || c == '\\') {
            e[n++] = '\\';
            e[n++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(e, "\\u00", 4);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            n = 6;
        } else {
            e[n++] = c >= 0x80 ? '?' : (char)c;
        }
        if (l->n + n > sizeof l->b - LINE_RESERVE)
            return;
        put(l, e, n);
    }
}

/* A text or journal value: control bytes and non-ASCII become '?', so a value
 * can never start a new line or a new journal field. */
static void put_plain(line *l, const char *s, size_t max)
{
    for (size_t i = 0; s && *s && i < max; s++, i++) {
        unsigned char c = (unsigned char)*s;
        char o = c < 0x20 || c >= 0x7f ? '?' : (char)c;
        put(l, &o, 1);
    }
}

/* "2026-12-06T22:32:48.123Z". The calendar part is worked out once a second
 * per thread. */
static void now_text(char out[64])
{
    static _Thread_local time_t t_sec = -1;
    static _Thread_local char t_text[80];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != t_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(t_text, sizeof t_text, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        t_sec = ts.tv_sec;
    }
    size_t n = strlen(t_text);
    int ms = (int)(ts.tv_nsec / 1000000);
    memcpy(out, t_text, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

/* Decimal digits of v, without printf (the request line's hot path). */
static void put_u64(line *l, unsigned long long v)
{
    char d[24];
    size_t n = sizeof d;
    do
        d[--n] = (char)('0' + v % 10);
    while ((v /= 10));
    put(l, d + n, sizeof d - n);
}

static void put_int(line *l, long long v)
{
    if (v < 0) {
        put(l, "-", 1);
        put_u64(l, 0ULL - (unsigned long long)v);
    } else {
        put_u64(l, (unsigned long long)v);
    }
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* ---- fields, rendered in each format ---- */

typedef enum kind { F_STR, F_INT, F_RAW } kind;

typedef struct field {
    const char *key; /* JSON name; the journal's is CUSTOS_ + upper case */
    kind k;
    const char *s; /* F_STR (NULL: null), F_RAW (a JSON number as text) */
    long long i;
} field;

static const char *level_name(cu_log_level lv)
{
    return lv == CU_LOG_ERROR ? "error" : lv == CU_LOG_WARNING ? "warning" : "info";
}

static void render_json(line *l, cu_log_level lv, const char *event, const char *msg,
                        const field *f, size_t nf)
{
    char t[64];
    now_text(t);
    puts_(l, "{\"time\":\"");
    puts_(l, t);
    puts_(l, "\",\"level\":\"");
    puts_(l, level_name(lv));
    puts_(l, "\",\"event\":\"");
    put_json_str(l, event, FIELD_MAX);
    puts_(l, "\"");
    for (size_t i = 0; i < nf; i++) {
        puts_(l, ",\"");
        puts_(l, f[i].key);
        puts_(l, "\":");
        if (f[i].k == F_INT) {
            put_int(l, f[i].i);
        } else if (f[i].k == F_RAW) {
            puts_(l, f[i].s);
        } else if (!f[i].s) {
            puts_(l, "null");
        } else {
            puts_(l, "\"");
            put_json_str(l, f[i].s, FIELD_MAX);
            puts_(l, "\"");
        }
    }
    if (msg) {
        puts_(l, ",\"msg\":\"");
        put_json_str(l, msg, CU_LOG_LINE_MAX);
        close_with(l, "\"");
    }
    close_with(l, "}\n");
}

static void render_journal(line *l, cu_log_level lv, const char *event, const char *msg,
                           const field *f, size_t nf)
{
    char p[4];
    snprintf(p, sizeof p, "%d", (int)lv);
    puts_(l, "PRIORITY=");
    puts_(l, p);
    puts_(l, "\nSYSLOG_IDENTIFIER=custos\nCUSTOS_EVENT=");
    put_plain(l, event, FIELD_MAX);
    for (size_t i = 0; i < nf; i++) {
        if (f[i].k == F_STR && !f[i].s)
            continue;
        puts_(l, "\nCUSTOS_");
        for (const char *k = f[i].key; *k; k++) {
            char u = *k >= 'a' && *k <= 'z' ? (char)(*k - 32) : *k;
            put(l, &u, 1);
        }
        puts_(l, "=");
        if (f[i].k == F_INT) {
            put_int(l, f[i].i);
        } else {
            put_plain(l, f[i].s, FIELD_MAX);
        }
    }
    puts_(l, "\nMESSAGE=");
    put_plain(l, msg, CU_LOG_LINE_MAX);
    close_with(l, "\n");
}

static void emit(cu_log_level lv, const char *event, const char *msg, const char *text,
                 const field *f, size_t nf)
{
    line l;
    l.n = 0;
    if (g_format == CU_LOG_JOURNAL && g_journal >= 0) {
        render_journal(&l, lv, event, msg, f, nf);
        if (send(g_journal, l.b, l.n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)l.n)
            return;
        l.n = 0; /* the journal did not take it: stderr has it instead */
    }
    if (g_format == CU_LOG_TEXT) {
        put_plain(&l, text, CU_LOG_LINE_MAX);
        close_with(&l, "\n");
    } else {
        render_json(&l, lv, event, msg, f, nf);
    }
    write_all(STDERR_FILENO, l.b, l.n);
}

/* ---- opening ---- */

static int journal_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

cu_log_format cu_log_open(cu_log_format f, bool requests)
{
    unsigned char r[6];
    cu_random(r, sizeof r);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(g_prefix + 2 * i, 3, "%02x", r[i]);
    g_requests = requests;
    if (f == CU_LOG_AUTO)
        f = isatty(STDERR_FILENO) ? CU_LOG_TEXT : CU_LOG_JSON;
    g_format = f;
    if (f == CU_LOG_JOURNAL) {
        const char *path = getenv("CUSTOS_JOURNAL_SOCKET");
        if (!path || !*path)
            path = DEFAULT_JOURNAL;
        g_journal = journal_connect(path);
        if (g_journal < 0) {
            int e = errno;
            g_format = CU_LOG_JSON;
            cu_log_msg(CU_LOG_WARNING, "log", "the systemd journal is not reachable at %s (%s): "
                       "logging JSON lines to stderr instead", path, strerror(e));
        }
    }
    return g_format;
}

void cu_log_close(void)
{
    if (g_journal >= 0)
        close(g_journal);
    g_journal = -1;
}

/* ---- lines ---- */

void cu_log_msg(cu_log_level level, const char *event, const char *fmt, ...)
{
    char msg[CU_LOG_LINE_MAX / 2], text[CU_LOG_LINE_MAX / 2 + 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(text, sizeof text, "custos: %s", msg);
    field f[] = {{"request_id", F_STR, t_request, 0}};
    emit(level, event, msg, text, f, t_request ? 1 : 0);
}

void cu_log_started(const cu_log_start *s)
{
    char msg[512];
    snprintf(msg, sizeof msg, "custos %s listening on %s, store %s, log format %s", s->version,
             s->listen, s->store, cu_log_format_name(g_format));
    char text[560];
    snprintf(text, sizeof text, "custos: %s", msg);
    field f[] = {{"version", F_STR, s->version, 0},
                 {"listen", F_STR, s->listen, 0},
                 {"store", F_STR, s->store, 0},
                 {"log_format", F_STR, cu_log_format_name(g_format), 0},
                 {"request_lines", F_STR, g_requests ? "on" : "off", 0}};
    emit(CU_LOG_INFO, "start", msg, text, f, sizeof f / sizeof f[0]);
}

void cu_log_stopped(const cu_log_stop *s)
{
    char msg[256];
    snprintf(msg, sizeof msg, "stopped on %s: %lld requests in flight drained, %lld unanswered",
             s->reason, s->drained, s->abandoned);
    char text[300];
    snprintf(text, sizeof text, "custos: %s", msg);
    field f[] = {{"reason", F_STR, s->reason, 0},
                 {"drained", F_INT, NULL, s->drained},
                 {"abandoned", F_INT, NULL, s->abandoned}};
    emit(CU_LOG_INFO, "stop", msg, text, f, sizeof f / sizeof f[0]);
}

void cu_log_request(const cu_log_req *r)
{
    if (!g_requests)
        return;
    char dur[32], msg[384] = "", text[512] = "", t[64];
    long long us = r->duration_us < 0 ? 0 : (long long)r->duration_us;
    line d;
    d.n = 0;
    put_u64(&d, (unsigned long long)(us / 1000));
    int frac = (int)(us % 1000);
    char f3[4] = {'.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
                  (char)('0' + frac % 10)};
    put(&d, f3, sizeof f3);
    memcpy(dur, d.b, d.n);
    dur[d.n] = '\0';
    /* JSON lines carry the fields alone: the message is for people and the
     * journal */
    if (g_format != CU_LOG_JSON) {
        snprintf(msg, sizeof msg, "%s %s %d %sms %lluB actor=%s role=%s%s", r->method,
                 r->route ? r->route : "-", r->status, dur, (unsigned long long)r->bytes_out,
                 r->actor_id ? r->actor_id : "-", r->role ? r->role : "-",
                 r->completed ? "" : " (not sent in full)");
        now_text(t);
        snprintf(text, sizeof text, "%s %s %s", t, r->request_id, msg);
    }
    field f[] = {{"request_id", F_STR, r->request_id, 0},
                 {"method", F_STR, r->method, 0},
                 {"route", F_STR, r->route, 0},
                 {"status", F_INT, NULL, r->status},
                 {"duration_ms", F_RAW, dur, 0},
                 {"bytes", F_INT, NULL, (long long)r->bytes_out},
                 {"actor", F_STR, r->actor_id, 0},
                 {"role", F_STR, r->role, 0},
                 {"completed", F_RAW, r->completed ? "true" : "false", 0}};
    emit(r->status >= 500 ? CU_LOG_WARNING : CU_LOG_INFO, "request",
         g_format == CU_LOG_JSON ? NULL : msg, text, f, sizeof f / sizeof f[0]);
}
