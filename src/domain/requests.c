/* Data-subject rights requests and their statutory clocks: see requests.h. */
#include "domain/requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/integrity.h"
#include "domain/model.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

/* ---- names and the transition table ---- */

static const char *const state_names[CU_RQ_STATE_COUNT] = {
    [CU_RQ_RECEIVED] = "received",
    [CU_RQ_AWAITING_IDENTITY] = "awaiting_identity",
    [CU_RQ_AWAITING_CLARIFICATION] = "awaiting_clarification",
    [CU_RQ_IN_PROGRESS] = "in_progress",
    [CU_RQ_EXTENDED] = "extended",
    [CU_RQ_FULFILLED] = "fulfilled",
    [CU_RQ_REFUSED] = "refused",
    [CU_RQ_WITHDRAWN] = "withdrawn",
};

static const char *const transition_names[CU_RQ_TRANSITION_COUNT] = {
    [CU_RQ_ASK_IDENTITY] = "ask_identity", [CU_RQ_VERIFY] = "verify",
    [CU_RQ_CLARIFY] = "clarify",           [CU_RQ_RESUME] = "resume",
    [CU_RQ_EXTEND] = "extend",             [CU_RQ_FULFIL] = "fulfil",
    [CU_RQ_REFUSE] = "refuse",             [CU_RQ_WITHDRAW] = "withdraw",
};

const char *cu_rq_state_name(cu_rq_state s)
{
    return (unsigned)s < CU_RQ_STATE_COUNT ? state_names[s] : "unknown";
}

int cu_rq_state_parse(const char *s)
{
    for (int i = 0; s && i < CU_RQ_STATE_COUNT; i++)
        if (strcmp(s, state_names[i]) == 0)
            return i;
    return -1;
}

const char *cu_rq_transition_name(cu_rq_transition t)
{
    return (unsigned)t < CU_RQ_TRANSITION_COUNT ? transition_names[t] : "unknown";
}

int cu_rq_transition_parse(const char *s)
{
    for (int i = 0; s && i < CU_RQ_TRANSITION_COUNT; i++)
        if (strcmp(s, transition_names[i]) == 0)
            return i;
    return -1;
}

bool cu_rq_state_open(cu_rq_state s)
{
    return s < CU_RQ_FULFILLED;
}

#define X -1
#define R CU_RQ_RECEIVED
#define AI CU_RQ_AWAITING_IDENTITY
#define AC CU_RQ_AWAITING_CLARIFICATION
#define IP CU_RQ_IN_PROGRESS
#define EX CU_RQ_EXTENDED
#define FU CU_RQ_FULFILLED
#define RF CU_RQ_REFUSED
#define WD CU_RQ_WITHDRAWN
#define PRIOR -2 /* resume: back to the state clarification was asked from */
/* [from][transition]: ask_identity verify clarify resume extend fulfil refuse withdraw */
static const signed char table[CU_RQ_STATE_COUNT][CU_RQ_TRANSITION_COUNT] = {
    [R] = {AI, IP, AC, X, X, X, RF, WD},
    [AI] = {X, IP, X, X, X, X, RF, WD},
    [AC] = {X, X, X, PRIOR, X, X, RF, WD},
    [IP] = {X, X, AC, X, EX, FU, RF, WD},
    [EX] = {X, X, AC, X, X, FU, RF, WD},
    [FU] = {X, X, X, X, X, X, X, X},
    [RF] = {X, X, X, X, X, X, X, X},
    [WD] = {X, X, X, X, X, X, X, X},
};

int cu_rq_next(cu_rq_state from, cu_rq_transition t, cu_rq_state prior)
{
    if ((unsigned)from >= CU_RQ_STATE_COUNT || (unsigned)t >= CU_RQ_TRANSITION_COUNT)
        return -1;
    int to = table[from][t];
    if (to == PRIOR)
        return prior == R || prior == IP || prior == EX ? (int)prior : -1;
    return to;
}
#undef X
#undef R
#undef AI
#undef AC
#undef IP
#undef EX
#undef FU
#undef RF
#undef WD
#undef PRIOR

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static const char *const kinds[] = {"access",    "rectification",      "erasure",
                                    "restriction", "objection", "automated_decision",
                                    "portability", NULL};
static const char *const channels[] = {"email",     "letter", "phone", "web_form",
                                       "in_person", "portal", NULL};
static const char *const grounds[] = {"manifestly_unfounded", "manifestly_excessive",
                                      "exemption", "identity_not_verified", NULL};

bool cu_rq_kind_valid(const char *s) { return in_list(s, kinds); }
const char *cu_rq_kind_list(void)
{
    return "access, rectification, erasure, restriction, objection, automated_decision, "
           "portability";
}
bool cu_rq_channel_valid(const char *s) { return in_list(s, channels); }
const char *cu_rq_channel_list(void) { return "email, letter, phone, web_form, in_person, portal"; }
bool cu_rq_grounds_valid(const char *s) { return in_list(s, grounds); }
const char *cu_rq_grounds_list(void)
{
    return "manifestly_unfounded, manifestly_excessive, exemption, identity_not_verified";
}

/* ---- the calendar ---- */

static void describe_calendar(cu_vault *v, const char *what)
{
    char years[48];
    snprintf(years, sizeof years, ", England and Wales %d-%d", v->holidays.first_year,
             v->holidays.last_year);
    cu_strlcpy(v->holidays_source, what, sizeof v->holidays_source - sizeof years);
    size_t n = strlen(v->holidays_source);
    memcpy(v->holidays_source + n, years, strlen(years) + 1);
}

int cu_vault_use_holidays(cu_vault *v, const char *path, cu_err *err)
{
    cu_holidays h;
    int rc = path ? cu_holidays_load(path, &h, err)
                  : cu_holidays_parse(cu_bank_holidays_json, cu_bank_holidays_json_len, &h, err);
    if (rc) {
        if (path && rc == CU_EINVAL && err) {
            char msg[sizeof err->msg];
            memcpy(msg, err->msg, sizeof msg);
            cu_err_clear(err);
            return cu_err_set(err, CU_EINVAL, "bank-holiday calendar %s: %s", path, msg);
        }
        return rc;
    }
    cu_holidays_release(&v->holidays);
    v->holidays = h;
    v->holidays_loaded = true;
    char what[PATH_MAX + 8] = "built in";
    if (path) {
        memcpy(what, "file ", 6);
        cu_strlcpy(what + 5, path, sizeof what - 5);
    }
    describe_calendar(v, what);
    return CU_OK;
}

int cu_vault_holidays(cu_vault *v, const cu_holidays **out, const char **source, cu_err *err)
{
    if (!v->holidays_loaded) {
        int rc = cu_vault_use_holidays(v, NULL, err);
        if (rc)
            return rc;
    }
    *out = &v->holidays;
    if (source)
        *source = v->holidays_source;
    return CU_OK;
}

cu_date cu_rq_today(void)
{
    return cu_date_of_us(cu_now_us());
}

/* ---- dates ---- */

static void date_str(cu_date d, char out[11]);

void cu_rq_date_str(cu_date d, char out[11])
{
    if (cu_date_is_none(d)) {
        out[0] = '\0';
        return;
    }
    date_str(d, out);
}

static void date_str(cu_date d, char out[11])
{
    unsigned y = (unsigned)d.year % 10000u, m = (unsigned)d.month % 100u,
             dd = (unsigned)d.day % 100u;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + dd / 10);
    out[9] = (char)('0' + dd % 10);
    out[10] = '\0';
}

static cu_date date_of(const char *s)
{
    cu_date d = CU_DATE_NONE;
    if (s && *s && !cu_date_parse(s, strlen(s), &d))
        d = CU_DATE_NONE;
    return d;
}

/* Parses a date given by staff: a real date, not after today, not before
 * the request was received (when received is not NULL). */
static int parse_day(const char *what, const char *s, const char *received, cu_date *out,
                     cu_err *err)
{
    if (!s || !cu_date_parse(s, strlen(s), out))
        return cu_err_set(err, CU_EINVAL, "%s must be a date YYYY-MM-DD", what);
    if (cu_date_cmp(*out, cu_rq_today()) > 0)
        return cu_err_set(err, CU_EINVAL, "%s must not be in the future", what);
    if (received && cu_date_cmp(*out, date_of(received)) < 0)
        return cu_err_set(err, CU_EINVAL, "%s must not be before the request was received (%s)",
                          what, received);
    return CU_OK;
}

/* ---- the clock ---- */

typedef struct pauses {
    cu_pause *v;
    size_t n, cap;
} pauses;

static int add_pause(void *ctx, const char *paused_on, const char *resumed_on)
{
    pauses *p = ctx;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        cu_pause *nv = realloc(p->v, cap * sizeof *nv);
        if (!nv)
            return CU_ENOMEM;
        p->v = nv;
        p->cap = cap;
    }
    p->v[p->n++] = (cu_pause){.paused_on = date_of(paused_on), .resumed_on = date_of(resumed_on)};
    return CU_OK;
}

/* Where the clock of r stands on today (a closed request: on the day it
 * closed). extra, when set, is a pause about to be opened (clarify) or the
 * day the open one is about to close (resume). */
static int clock_of(cu_vault *v, const cu_request_rec *r, const cu_pause *open_new,
                    const cu_date *close_on, cu_date today, cu_request_view *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    out->rec = *r;
    const cu_holidays *h;
    int rc = cu_vault_holidays(v, &h, NULL, err);
    if (rc)
        return rc;
    pauses p = {0};
    rc = cu_store_request_pauses(v->store, r->id, add_pause, &p, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory");
    if (!rc && open_new && add_pause(&p, "", "") == CU_OK)
        p.v[p.n - 1] = *open_new;
    else if (!rc && open_new)
        rc = cu_err_set(err, CU_ENOMEM, "out of memory");
    if (!rc && close_on && p.n && cu_date_is_none(p.v[p.n - 1].resumed_on))
        p.v[p.n - 1].resumed_on = *close_on;
    int st = cu_rq_state_parse(r->state);
    bool closed = st >= 0 && !cu_rq_state_open((cu_rq_state)st);
    if (closed && r->closed_on[0])
        today = date_of(r->closed_on);
    cu_clock c = {.received_on = date_of(r->received_on), .evidence_on = date_of(r->evidence_on),
                  .pauses = p.v, .npauses = p.n, .extended = r->extended};
    out->clock_started = st != CU_RQ_AWAITING_IDENTITY;
    /* Still awaiting identity: the clock starts when the evidence arrives,
     * taken to be today. */
    if (!out->clock_started && cu_date_cmp(today, c.received_on) > 0)
        c.evidence_on = today;
    if (!rc && !(closed && !out->clock_started)) {
        rc = cu_deadline_compute(&c, h, today, &out->dl, err);
        if (!rc)
            rc = cu_extension_notice_by(&c, h, today, &out->notice_by, err);
        out->has_clock = rc == CU_OK;
        if (closed && out->has_clock)
            out->on_time = cu_date_cmp(today, out->dl.due) <= 0;
    }
    free(p.v);
    return rc;
}

/* ---- sealing ---- */

static size_t note_ad(unsigned char out[CU_AD_MAX], const char *request_id, const char *event_id)
{
    int n = snprintf((char *)out, CU_AD_MAX, "custos/v1/request/%s/%s", request_id, event_id);
    return n > 0 && n < CU_AD_MAX ? (size_t)n : CU_AD_MAX - 1;
}

/* The key a request's notes are sealed under: the subject's once linked.
 * After the subject is erased (an erasure request is typically marked
 * fulfilled after the erasure) there is no subject key left: later notes go
 * under the store's requests key, so the record of how the request was
 * answered survives it. */
static int note_key(cu_vault *v, const cu_op *op, const cu_request_rec *r, cu_key *dek,
                    bool *subject, cu_err *err)
{
    *subject = r->subject_id[0] != '\0';
    if (*subject) {
        cu_subject_rec s;
        int rc = cu_subject_load(v, r->subject_id, &s, err);
        if (rc)
            return rc;
        *subject = !s.erased_at;
    }
    if (*subject)
        return cu_op_subject_key(v, op, r->subject_id, dek, NULL, err);
    *dek = *v->requests_key;
    return CU_OK;
}

static int add_event(cu_vault *v, const cu_op *op, const cu_actor *a, const cu_request_rec *r,
                     const char *action, const char *from, const char *on, const char *why,
                     size_t why_len, cu_err *err)
{
    cu_key dek;
    bool subject;
    int rc = note_key(v, op, r, &dek, &subject, err);
    if (rc)
        return rc;
    char eid[CU_ID_STRLEN];
    cu_random_id(eid);
    unsigned char ad[CU_AD_MAX];
    size_t adlen = note_ad(ad, r->id, eid);
    cu_buf sealed;
    cu_buf_init(&sealed, 0);
    rc = cu_aead_seal(&dek, ad, adlen, why, why_len, &sealed);
    cu_key_wipe(&dek);
    if (rc)
        rc = cu_err_set(err, rc, "cannot seal the note");
    if (!rc) {
        cu_request_event_row e = {.id = eid, .request_id = r->id, .at = cu_now_us(),
                                  .on_date = on, .actor = a->name, .action = action,
                                  .from_state = from, .to_state = r->state,
                                  .sealed_by = subject ? "subject" : "store",
                                  .why = sealed.data, .why_len = sealed.len};
        rc = cu_store_request_event_insert(v->store, &e, err);
    }
    cu_buf_release(&sealed);
    return rc;
}

/* Reseals a request's notes from the store key under the subject's key. */
typedef struct reseal_ctx {
    char (*ids)[CU_ID_STRLEN];
    cu_buf *notes;
    size_t n, cap;
    int rc;
} reseal_ctx;

static int collect_store_sealed(void *ctx, const cu_request_event_row *e)
{
    reseal_ctx *c = ctx;
    if (strcmp(e->sealed_by, "store") != 0)
        return CU_OK;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        void *ids = realloc(c->ids, cap * sizeof *c->ids);
        if (!ids)
            return CU_ENOMEM;
        c->ids = ids;
        void *notes = realloc(c->notes, cap * sizeof *c->notes);
        if (!notes)
            return CU_ENOMEM;
        c->notes = notes;
        c->cap = cap;
    }
    cu_buf_init(&c->notes[c->n], 0);
    memcpy(c->ids[c->n], e->id, strnlen(e->id, CU_ID_STRLEN - 1));
    c->ids[c->n][strnlen(e->id, CU_ID_STRLEN - 1)] = '\0';
    size_t i = c->n++;
    if (cu_buf_append(&c->notes[i], e->why, e->why_len))
        return CU_ENOMEM;
    return CU_OK;
}

static int reseal_notes(cu_vault *v, const cu_op *op, const cu_request_rec *r, cu_err *err)
{
    reseal_ctx c = {0};
    int rc = cu_store_request_event_each(v->store, r->id, collect_store_sealed, &c, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory");
    cu_key dek;
    bool subject, have_dek = false;
    if (!rc && c.n && !(rc = note_key(v, op, r, &dek, &subject, err)))
        have_dek = true;
    for (size_t i = 0; !rc && i < c.n; i++) {
        unsigned char ad[CU_AD_MAX];
        size_t adlen = note_ad(ad, r->id, c.ids[i]);
        cu_buf plain, sealed;
        cu_buf_init(&plain, 0);
        cu_buf_init(&sealed, 0);
        if (cu_aead_open(v->requests_key, ad, adlen, c.notes[i].data, c.notes[i].len, &plain))
            rc = cu_err_set(err, CU_ECORRUPT, "a note of request %s does not open", r->id);
        else if (cu_aead_seal(&dek, ad, adlen, plain.data, plain.len, &sealed))
            rc = cu_err_set(err, CU_EINTERNAL, "cannot seal the note");
        else
            rc = cu_store_request_event_reseal(v->store, c.ids[i], "subject", sealed.data,
                                               sealed.len, err);
        cu_buf_release(&plain);
        cu_buf_release(&sealed);
    }
    if (have_dek)
        cu_key_wipe(&dek);
    for (size_t i = 0; i < c.n; i++)
        cu_buf_release(&c.notes[i]);
    free(c.ids);
    free(c.notes);
    return rc;
}

/* ---- operations ---- */

/* ---- row authentication (integrity.h) ----
 * A request's code covers every column: its id, controller, kind, channel,
 * state and the state it paused from, subject, purpose, every date, the
 * extension, refusal grounds and complaint route, and its times. */

static void request_mac(cu_vault *v, const cu_request_rec *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "requests");
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->controller_id);
    cu_mac_str(m, r->kind);
    cu_mac_str(m, r->channel);
    cu_mac_str(m, r->state);
    cu_mac_str(m, r->paused_from);
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->purpose);
    cu_mac_str(m, r->received_on);
    cu_mac_str(m, r->evidence_on);
    cu_mac_i64(m, r->extended ? 1 : 0);
    cu_mac_str(m, r->told_on);
    cu_mac_str(m, r->grounds);
    cu_mac_str(m, r->complaint_route);
    cu_mac_str(m, r->closed_on);
    cu_mac_i64(m, r->created_at);
    cu_mac_i64(m, r->updated_at);
}

static void request_sign(cu_vault *v, cu_request_rec *r)
{
    cu_mac m;
    request_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static int request_check(cu_vault *v, const cu_request_rec *r, cu_err *err)
{
    cu_mac m;
    request_mac(v, r, &m);
    if (cu_mac_check(&m, r->mac, r->mac_len))
        return CU_OK;
    return cu_err_set(err, CU_ETAMPER, "requests %s has been altered", r->id);
}

typedef struct request_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    struct request_note {
        char id[CU_ID_STRLEN];
        unsigned char mac[CU_HASH_BYTES];
    } *p;
    size_t n, cap;
} request_walk;

static int request_walk_row(void *ctx, const cu_request_rec *r)
{
    request_walk *w = ctx;
    w->rows++;
    if (!w->seal) {
        cu_err e = {0};
        return request_check(w->v, r, &e) == CU_OK
                   ? CU_OK
                   : w->report(w->rctx, "requests", r->id,
                               r->mac_len ? "altered" : "forged (no row code)");
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct request_note *np = realloc(w->p, cap * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->p = np;
        w->cap = cap;
    }
    cu_request_rec copy = *r;
    request_sign(w->v, &copy);
    cu_strlcpy(w->p[w->n].id, r->id, sizeof w->p[w->n].id);
    memcpy(w->p[w->n].mac, copy.mac, CU_HASH_BYTES);
    w->n++;
    return CU_OK;
}

static int request_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                               int64_t *rows, cu_err *err)
{
    request_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_request_each(v->store, NULL, false, request_walk_row, &w, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the requests");
    for (size_t i = 0; !rc && i < w.n; i++)
        rc = cu_store_row_mac_set(v->store, CU_MT_REQUESTS, w.p[i].id, 0, NULL, 0, w.p[i].mac,
                                  CU_HASH_BYTES, err);
    free(w.p);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_request_rows = {.name = "requests", .walk = request_family_walk};

static int check_text(const char *what, const char *s, size_t n, cu_err *err)
{
    if (!s || n == 0)
        return cu_err_set(err, CU_EINVAL, "%s is required", what);
    if (n > CU_RQ_MAX_TEXT)
        return cu_err_set(err, CU_EINVAL, "%s must be at most %d bytes", what, CU_RQ_MAX_TEXT);
    if (memchr(s, '\0', n))
        return cu_err_set(err, CU_EINVAL, "%s must not contain NUL bytes", what);
    return CU_OK;
}

/* The purpose an objection names (*purpose; "all" becomes "*", every
 * purpose): refused for a request of another kind, or when it is neither a
 * purpose id nor all. */
static int check_purpose(const char *kind, const char **purpose, cu_err *err)
{
    const char *p = *purpose;
    if (p && strcmp(kind, "objection") != 0)
        return cu_err_set(err, CU_EINVAL, "purpose applies to objection requests only");
    if (p && strcmp(p, "all") == 0)
        *purpose = p = "*";
    if (p && strcmp(p, "*") != 0 && !cu_name_valid(p))
        return cu_err_set(err, CU_EINVAL, "purpose must be a purpose id, or all");
    return CU_OK;
}

int cu_request_receive(cu_vault *v, const cu_actor *a, const cu_rq_receive_in *in,
                       char id_out[CU_ID_STRLEN], cu_err *err)
{
    const char *ctl = in->controller_id ? in->controller_id : a ? a->controller_id : NULL;
    cu_date received;
    int rc = CU_OK;
    if (!ctl || !cu_id_valid(ctl))
        rc = cu_err_set(err, CU_EINVAL, "a controller id is required");
    else if (!cu_rq_kind_valid(in->kind))
        rc = cu_err_set(err, CU_EINVAL, "kind must be one of: %s", cu_rq_kind_list());
    else if (!cu_rq_channel_valid(in->channel))
        rc = cu_err_set(err, CU_EINVAL, "channel must be one of: %s", cu_rq_channel_list());
    else if (!(rc = parse_day("received_on", in->received_on, NULL, &received, err)))
        rc = check_text("details", in->details, in->details_len, err);
    const char *purpose = in->purpose;
    if (!rc)
        rc = check_purpose(in->kind, &purpose, err);
    if (rc)
        return rc;
    cu_op op;
    if ((rc = cu_op_begin(v, &op, a, CU_ACT_REQUEST_RECEIVE, "request.receive", err)))
        return rc;
    cu_strlcpy(op.controller_id, ctl, sizeof op.controller_id);
    rc = cu_controller_load(v, ctl, NULL, err);
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, CU_EINVAL, "no controller %s", ctl);
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    cu_request_rec r = {0};
    if (!rc) {
        cu_random_id(r.id);
        cu_strlcpy(r.controller_id, ctl, sizeof r.controller_id);
        cu_strlcpy(r.kind, in->kind, sizeof r.kind);
        cu_strlcpy(r.channel, in->channel, sizeof r.channel);
        cu_strlcpy(r.state, "received", sizeof r.state);
        if (strcmp(in->kind, "objection") == 0)
            cu_strlcpy(r.purpose, purpose ? purpose : "*", sizeof r.purpose);
        date_str(received, r.received_on);
        r.created_at = r.updated_at = cu_now_us();
        request_sign(v, &r);
        rc = cu_store_request_insert(v->store, &r, err);
    }
    if (!rc)
        rc = add_event(v, &op, a, &r, "receive", NULL, r.received_on, in->details,
                       in->details_len, err);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc)
        memcpy(id_out, r.id, CU_ID_STRLEN);
    return rc;
}

int cu_request_receive_own(cu_vault *v, const cu_actor *a, const char *kind,
                           const char *purpose, const char *details, size_t details_len,
                           char id_out[CU_ID_STRLEN], cu_err *err)
{
    if (!a || !a->subject_id || !cu_id_valid(a->subject_id))
        return cu_err_set(err, CU_EINVAL, "only a signed-in subject makes their own request");
    int rc = CU_OK;
    if (!kind || !cu_rq_kind_valid(kind))
        rc = cu_err_set(err, CU_EINVAL, "kind must be one of: %s", cu_rq_kind_list());
    else
        rc = check_text("details", details, details_len, err);
    if (!rc)
        rc = check_purpose(kind, &purpose, err);
    if (rc)
        return rc;
    cu_op op;
    if ((rc = cu_op_begin(v, &op, a, CU_ACT_REQUEST_RECEIVE, "request.receive", err)))
        return rc;
    /* The subject is the one signed in, authorised as any operation on it. */
    cu_subject_rec s;
    rc = cu_op_open_subject(v, &op, a->subject_id, &s, err);
    cu_request_rec r = {0};
    char today[11];
    date_str(cu_rq_today(), today);
    if (!rc) {
        cu_random_id(r.id);
        cu_strlcpy(r.controller_id, s.controller_id, sizeof r.controller_id);
        cu_strlcpy(r.subject_id, s.id, sizeof r.subject_id);
        cu_strlcpy(r.kind, kind, sizeof r.kind);
        cu_strlcpy(r.channel, "portal", sizeof r.channel);
        cu_strlcpy(r.state, "received", sizeof r.state);
        if (strcmp(kind, "objection") == 0)
            cu_strlcpy(r.purpose, purpose ? purpose : "*", sizeof r.purpose);
        memcpy(r.received_on, today, sizeof r.received_on);
        r.created_at = r.updated_at = cu_now_us();
        request_sign(v, &r);
        rc = cu_store_request_insert(v->store, &r, err);
    }
    if (!rc)
        rc = add_event(v, &op, a, &r, "receive", NULL, r.received_on, details, details_len,
                       err);
    /* Signing in established who asks: verified at once, the clock running
     * from the day of receipt (no evidence was asked for). */
    if (!rc) {
        cu_strlcpy(r.state, cu_rq_state_name(CU_RQ_IN_PROGRESS), sizeof r.state);
        r.updated_at = cu_now_us();
        request_sign(v, &r);
        rc = cu_store_request_update(v->store, &r, err);
    }
    static const char why[] = "identity verified by the subject's sign-in to the patient portal";
    if (!rc)
        rc = add_event(v, &op, a, &r, "verify", "received", today, why, sizeof why - 1, err);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc)
        memcpy(id_out, r.id, CU_ID_STRLEN);
    return rc;
}

/* Loads a request and authorises op on it (its controller, and its subject
 * once linked). Another controller's request is "not found". */
static int open_request(cu_vault *v, cu_op *op, const char *id, cu_request_rec *r,
                        cu_err *err)
{
    int rc = id && cu_id_valid(id) ? cu_store_request_get(v->store, id, r, err) : CU_ENOTFOUND;
    if (!rc)
        rc = request_check(v, r, err);
    /* The answer does not repeat the id: it may be any id (a subject's, named
     * by someone who may see subjects only by pseudonym). */
    if (rc == CU_ENOTFOUND)
        return cu_err_set(err, CU_ENOTFOUND, "no request has that id");
    if (rc)
        return rc;
    cu_strlcpy(op->controller_id, r->controller_id, sizeof op->controller_id);
    cu_strlcpy(op->subject_id, r->subject_id, sizeof op->subject_id);
    rc = cu_op_authorise(v, op, err);
    if (rc == CU_ECONCEALED) {
        cu_err_clear(err);
        rc = cu_err_set(err, CU_ECONCEALED, "no request has that id");
    }
    return rc;
}

/* A restriction or objection request, fulfilled: the flag the policy engine
 * enforces, set within the same operation (no second audit event). */
static int apply_flag(cu_vault *v, const cu_actor *a, const cu_request_rec *r, cu_err *err)
{
    bool restriction = strcmp(r->kind, "restriction") == 0;
    if (!restriction && strcmp(r->kind, "objection") != 0)
        return CU_OK;
    cu_subject_rec s;
    int rc = cu_subject_load(v, r->subject_id, &s, err);
    if (!rc && s.erased_at)
        rc = cu_err_set(err, CU_EERASED, "subject %s was erased", s.id);
    if (rc)
        return rc;
    if (restriction) {
        if (s.restricted_at)
            return CU_OK;
        s.restricted_at = cu_now_us();
        return cu_subject_save(v, &s, false, err);
    }
    if (strcmp(r->kind, "objection") == 0) {
        bool active = false;
        rc = cu_objection_active(v, &s, r->purpose, &active, err);
        if (!rc && !active)
            rc = cu_objection_add(v, s.id, r->purpose, cu_now_us(), a->name, err);
        if (!rc && !active)
            rc = cu_subject_save_objections(v, &s, err);
        return rc;
    }
    return CU_OK;
}

/* The day identity evidence was last asked for (the latest ask_identity). */
static int asked_on(void *ctx, const cu_request_event_row *e)
{
    char *day = ctx;
    if (strcmp(e->action, "ask_identity") == 0 && e->on_date)
        cu_strlcpy(day, e->on_date, 11);
    return CU_OK;
}

int cu_request_change(cu_vault *v, const cu_actor *a, const char *id, const cu_rq_change *c,
                      cu_request_view *out, cu_err *err)
{
    if ((unsigned)c->t >= CU_RQ_TRANSITION_COUNT)
        return cu_err_set(err, CU_EINVAL, "unknown transition");
    int rc = check_text("why", c->why, c->why_len, err);
    if (rc)
        return rc;
    char action[48];
    snprintf(action, sizeof action, "request.%s", cu_rq_transition_name(c->t));
    cu_op op;
    if ((rc = cu_op_begin(v, &op, a, CU_ACT_REQUESTS, action, err)))
        return rc;
    cu_request_rec r;
    rc = open_request(v, &op, id, &r, err);
    int from = rc ? -1 : cu_rq_state_parse(r.state);
    int prior = rc ? -1 : cu_rq_state_parse(r.paused_from);
    if (!rc && from < 0)
        rc = cu_err_set(err, CU_ECORRUPT, "request %s has an unknown state", r.id);
    int to = rc ? -1
                : cu_rq_next((cu_rq_state)from, c->t, prior < 0 ? CU_RQ_RECEIVED
                                                                : (cu_rq_state)prior);
    if (!rc && to < 0)
        rc = cu_err_set(err, CU_ECONFLICT, "request %s is %s: it cannot %s", r.id, r.state,
                        cu_rq_transition_name(c->t));
    cu_date on = cu_rq_today();
    if (!rc && c->on)
        rc = parse_day("the date", c->on, r.received_on, &on, err);
    char on_s[11];
    date_str(on, on_s);
    cu_request_view cv;
    if (!rc) {
        switch (c->t) {
        case CU_RQ_VERIFY: {
            cu_subject_rec s;
            if (!c->subject_id || !cu_id_valid(c->subject_id)) {
                rc = cu_err_set(err, CU_EINVAL, "verify needs the subject id whose identity was "
                                                "established");
                break;
            }
            rc = cu_subject_load(v, c->subject_id, &s, err);
            if (rc == CU_ENOTFOUND || (!rc && strcmp(s.controller_id, r.controller_id) != 0))
                rc = cu_err_set(err, CU_EINVAL, "no subject %s at the request's controller",
                                c->subject_id);
            else if (!rc && s.erased_at)
                rc = cu_err_set(err, CU_EERASED, "subject %s was erased", s.id);
            if (rc)
                break;
            if (from == CU_RQ_AWAITING_IDENTITY) {
                /* Evidence answers the request for it: it cannot predate it. */
                char asked[11] = "";
                rc = cu_store_request_event_each(v->store, r.id, asked_on, asked, err);
                if (!rc && asked[0] && strcmp(on_s, asked) < 0)
                    rc = cu_err_set(err, CU_EINVAL, "identity evidence must not be dated "
                                                    "before it was asked for (%s)", asked);
                if (rc)
                    break;
                memcpy(r.evidence_on, on_s, sizeof r.evidence_on);
            }
            cu_strlcpy(r.subject_id, s.id, sizeof r.subject_id);
            cu_strlcpy(op.subject_id, s.id, sizeof op.subject_id);
            break;
        }
        case CU_RQ_CLARIFY: {
            cu_pause np = {.paused_on = on, .resumed_on = CU_DATE_NONE};
            rc = clock_of(v, &r, &np, NULL, cu_rq_today(), &cv, err);
            if (!rc)
                rc = cu_store_request_pause_open(v->store, r.id, on_s, err);
            cu_strlcpy(r.paused_from, r.state, sizeof r.paused_from);
            break;
        }
        case CU_RQ_RESUME:
            rc = clock_of(v, &r, NULL, &on, cu_rq_today(), &cv, err);
            if (!rc)
                rc = cu_store_request_pause_close(v->store, r.id, on_s, err);
            r.paused_from[0] = '\0';
            break;
        case CU_RQ_EXTEND: {
            cu_date told;
            if (!c->told_on) {
                rc = cu_err_set(err, CU_EINVAL, "an extension needs the date the subject was "
                                                "told (told_on)");
                break;
            }
            if ((rc = parse_day("told_on", c->told_on, r.received_on, &told, err)))
                break;
            if ((rc = clock_of(v, &r, NULL, NULL, cu_rq_today(), &cv, err)))
                break;
            if (cu_date_cmp(told, cv.notice_by) > 0) {
                char by[11];
                date_str(cv.notice_by, by);
                rc = cu_err_set(err, CU_EINVAL, "extension refused: the subject must be told "
                                                "within the first month, by %s (told %s)",
                                by, c->told_on);
                break;
            }
            r.extended = true;
            date_str(told, r.told_on);
            break;
        }
        case CU_RQ_FULFIL:
            rc = apply_flag(v, a, &r, err);
            break;
        case CU_RQ_REFUSE:
            if (!cu_rq_grounds_valid(c->grounds))
                rc = cu_err_set(err, CU_EINVAL, "a refusal needs grounds: one of %s",
                                cu_rq_grounds_list());
            else if (!c->ico_route_stated)
                rc = cu_err_set(err, CU_EINVAL, "a refusal must tell the subject of their right "
                                                "to complain to the ICO (ico_route_stated)");
            else {
                cu_strlcpy(r.grounds, c->grounds, sizeof r.grounds);
                cu_strlcpy(r.complaint_route, CU_RQ_ICO_ROUTE, sizeof r.complaint_route);
            }
            break;
        default:
            break;
        }
    }
    char from_s[32] = "";
    if (!rc) {
        cu_strlcpy(from_s, r.state, sizeof from_s);
        cu_strlcpy(r.state, cu_rq_state_name((cu_rq_state)to), sizeof r.state);
        if (!cu_rq_state_open((cu_rq_state)to))
            memcpy(r.closed_on, on_s, sizeof r.closed_on);
        r.updated_at = cu_now_us();
        /* The clock must still make sense (dates in order). */
        if (cu_rq_state_open((cu_rq_state)to))
            rc = clock_of(v, &r, NULL, NULL, cu_rq_today(), &cv, err);
        if (!rc) {
            request_sign(v, &r);
            rc = cu_store_request_update(v->store, &r, err);
        }
    }
    if (!rc && c->t == CU_RQ_VERIFY)
        rc = reseal_notes(v, &op, &r, err);
    if (!rc)
        rc = add_event(v, &op, a, &r, cu_rq_transition_name(c->t), from_s, on_s, c->why,
                       c->why_len, err);
    if (!rc && out)
        rc = clock_of(v, &r, NULL, NULL, cu_rq_today(), out, err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* ---- reading ---- */

typedef struct show_ctx {
    const cu_request_rec *r;
    const cu_key *subject_key; /* NULL: the subject was erased */
    const cu_key *store_key;
    cu_request_event_view_cb cb;
    void *ctx;
    cu_err *err;
} show_ctx;

static int show_event(void *ctx, const cu_request_event_row *e)
{
    show_ctx *s = ctx;
    const cu_key *k = strcmp(e->sealed_by, "subject") == 0 ? s->subject_key : s->store_key;
    cu_buf plain;
    cu_buf_init(&plain, 0);
    int rc = CU_OK;
    if (k) {
        unsigned char ad[CU_AD_MAX];
        size_t adlen = note_ad(ad, s->r->id, e->id);
        if (cu_aead_open(k, ad, adlen, e->why, e->why_len, &plain))
            rc = cu_err_set(s->err, CU_ECORRUPT, "a note of request %s does not open",
                            s->r->id);
    }
    if (!rc && s->cb) {
        cu_request_event_view ev = {
            .seq = e->seq, .at = e->at, .on_date = e->on_date, .actor = e->actor,
            .action = e->action, .from_state = e->from_state, .to_state = e->to_state,
            .why = k ? cu_buf_str(&plain) : NULL, .why_len = plain.len};
        rc = s->cb(s->ctx, &ev);
    }
    cu_buf_release(&plain);
    return rc;
}

int cu_request_show(cu_vault *v, const cu_actor *a, const char *id, cu_request_view *out,
                    cu_request_event_view_cb cb, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_REQUESTS, "request.read", err);
    if (rc)
        return rc;
    cu_request_rec r;
    rc = open_request(v, &op, id, &r, err);
    if (!rc)
        rc = clock_of(v, &r, NULL, NULL, cu_rq_today(), out, err);
    cu_key dek;
    bool have_dek = false;
    if (!rc && r.subject_id[0]) {
        cu_subject_rec s;
        rc = cu_subject_load(v, r.subject_id, &s, err);
        if (!rc && !s.erased_at && !(rc = cu_op_subject_key(v, &op, s.id, &dek, NULL, err)))
            have_dek = true;
    }
    if (!rc) {
        show_ctx s = {.r = &r, .subject_key = have_dek ? &dek : NULL,
                      .store_key = v->requests_key, .cb = cb, .ctx = ctx, .err = err};
        rc = cu_store_request_event_each(v->store, r.id, show_event, &s, err);
    }
    if (have_dek)
        cu_key_wipe(&dek);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct recs {
    cu_request_rec *v;
    size_t n, cap;
    cu_vault *vault;
    cu_err *err;
    bool open_only;
} recs;

static int collect_rec(void *ctx, const cu_request_rec *r)
{
    recs *l = ctx;
    int checked = request_check(l->vault, r, l->err);
    if (checked)
        return checked;
    /* Closed ones are left out here, after every row was authenticated, so
     * that an open request marked closed in the database cannot vanish. */
    if (l->open_only && (strcmp(r->state, "fulfilled") == 0 ||
                         strcmp(r->state, "refused") == 0 || strcmp(r->state, "withdrawn") == 0))
        return CU_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        cu_request_rec *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return CU_ENOMEM;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
    return CU_OK;
}

static int by_due(const void *pa, const void *pb)
{
    const cu_request_view *a = pa, *b = pb;
    if (a->clock_started != b->clock_started)
        return a->clock_started ? -1 : 1;
    if (a->has_clock != b->has_clock)
        return a->has_clock ? -1 : 1;
    int c = a->has_clock ? cu_date_cmp(a->dl.due, b->dl.due) : 0;
    return c ? c : strcmp(a->rec.received_on, b->rec.received_on);
}

static int all_views(cu_vault *v, const char *controller_id, bool open_only,
                     cu_request_view **out, size_t *n, cu_err *err)
{
    recs l = {.vault = v, .err = err, .open_only = open_only};
    *out = NULL;
    *n = 0;
    int rc = cu_store_request_each(v->store, controller_id, false, collect_rec, &l, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory");
    cu_request_view *views = rc || !l.n ? NULL : calloc(l.n, sizeof *views);
    if (!rc && l.n && !views)
        rc = cu_err_set(err, CU_ENOMEM, "out of memory");
    cu_date today = cu_rq_today();
    for (size_t i = 0; !rc && i < l.n; i++)
        rc = clock_of(v, &l.v[i], NULL, NULL, today, &views[i], err);
    free(l.v);
    if (rc) {
        free(views);
        return rc;
    }
    *out = views;
    *n = l.n;
    return CU_OK;
}

int cu_request_list(cu_vault *v, const cu_actor *a, const char *controller_id, bool open_only,
                    cu_request_view_cb cb, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_REQUESTS, open_only ? "request.due" : "request.list",
                         err);
    if (rc)
        return rc;
    const char *ctl = a->controller_id ? a->controller_id : controller_id;
    if (ctl && !cu_id_valid(ctl))
        rc = cu_err_set(err, CU_EINVAL, "a controller id is required");
    if (!rc && ctl)
        cu_strlcpy(op.controller_id, ctl, sizeof op.controller_id);
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    cu_request_view *views = NULL;
    size_t n = 0;
    if (!rc)
        rc = all_views(v, ctl, open_only, &views, &n, err);
    if (!rc && open_only && n > 1)
        qsort(views, n, sizeof *views, by_due);
    for (size_t i = 0; !rc && i < n; i++)
        rc = cb(ctx, &views[i]);
    free(views);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_request_list_own(cu_vault *v, const cu_actor *a, cu_request_view_cb cb, void *ctx,
                        cu_err *err)
{
    if (!a || !a->subject_id || !cu_id_valid(a->subject_id))
        return cu_err_set(err, CU_EINVAL, "only a signed-in subject lists their own requests");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_PORTAL_VIEW, "portal.requests", err);
    if (rc)
        return rc;
    cu_subject_rec s;
    rc = cu_op_open_subject(v, &op, a->subject_id, &s, err);
    cu_request_view *views = NULL;
    size_t n = 0;
    if (!rc)
        rc = all_views(v, s.controller_id, false, &views, &n, err);
    /* Newest first: the store gives them oldest receipt first. */
    for (size_t i = n; !rc && i-- > 0;)
        if (strcmp(views[i].rec.subject_id, s.id) == 0)
            rc = cb(ctx, &views[i]);
    free(views);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_request_counts(cu_vault *v, int64_t counts[CU_RQ_STATE_COUNT], int64_t *overdue,
                      cu_err *err)
{
    memset(counts, 0, sizeof(int64_t) * CU_RQ_STATE_COUNT);
    *overdue = 0;
    cu_request_view *views = NULL;
    size_t n = 0;
    int rc = all_views(v, NULL, false, &views, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        int st = cu_rq_state_parse(views[i].rec.state);
        if (st >= 0)
            counts[st]++;
        if (st >= 0 && cu_rq_state_open((cu_rq_state)st) && views[i].clock_started &&
            views[i].has_clock && views[i].dl.days_left < 0)
            (*overdue)++;
    }
    free(views);
    return rc;
}
