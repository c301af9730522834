#include "domain/audit.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/node.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

static const unsigned char magic[4] = {'C', 'U', 'A', '2'};
static const unsigned char magic_v1[4] = {'C', 'U', 'A', '1'};
static const unsigned char magic_v3[4] = {'C', 'U', 'A', '3'};

static int put(cu_buf *b, const char *s)
{
    return cu_buf_append_field(b, s ? s : "", s ? strlen(s) : 0);
}

int cu_audit_encode(const cu_audit_event *e, cu_buf *out)
{
    bool detail = e->detail && e->detail[0];
    int rc = cu_buf_append(out, detail ? magic_v3 : magic, sizeof magic);
    if (!rc)
        rc = cu_buf_append_u64be(out, (uint64_t)e->seq);
    if (!rc)
        rc = cu_buf_append_u64be(out, (uint64_t)e->ts);
    const char *fields[] = {e->actor,      e->role,    e->action,  e->controller, e->subject,
                            e->categories, e->purpose, e->outcome, e->rule,       e->via};
    for (size_t i = 0; !rc && i < sizeof fields / sizeof fields[0]; i++)
        rc = put(out, fields[i]);
    if (!rc && detail)
        rc = put(out, e->detail);
    if (!rc)
        rc = cu_buf_append_field(out, e->payload, e->payload_len);
    return rc;
}

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int cu_audit_decode(const void *body, size_t n, cu_audit_decoded *out)
{
    const unsigned char *p = body, *end = p + n;
    memset(out, 0, sizeof *out);
    if (n < 20)
        return CU_ECORRUPT;
    bool v1 = memcmp(p, magic_v1, sizeof magic_v1) == 0;
    bool v3 = memcmp(p, magic_v3, sizeof magic_v3) == 0;
    if (!v1 && !v3 && memcmp(p, magic, sizeof magic) != 0)
        return CU_ECORRUPT;
    out->seq = (int64_t)be64(p + 4);
    out->ts = (int64_t)be64(p + 12);
    p += 20;
    cu_view *views[] = {&out->actor,   &out->role,    &out->action,   &out->controller,
                        &out->subject, &out->categories, &out->purpose, &out->outcome,
                        &out->rule,    &out->via,     &out->detail,   &out->payload};
    static const char empty[] = "";
    out->rule.p = empty;
    out->detail.p = empty;
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        if (v1 && views[i] == &out->rule)
            continue; /* CUA1 bodies have no rule */
        if (!v3 && views[i] == &out->detail)
            continue; /* only CUA3 bodies have a detail */
        if (end - p < 4)
            return CU_ECORRUPT;
        uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        p += 4;
        if ((size_t)(end - p) < len)
            return CU_ECORRUPT;
        views[i]->p = (const char *)p;
        views[i]->n = len;
        p += len;
    }
    /* A CUA3 body exists only for a detail: an empty one is not canonical. */
    if (v3 && !out->detail.n)
        return CU_ECORRUPT;
    return p == end ? CU_OK : CU_ECORRUPT;
}

size_t cu_audit_detail_count(cu_view detail, const char *action)
{
    size_t alen = strlen(action);
    if (detail.n <= alen || memcmp(detail.p, action, alen) != 0 || detail.p[alen] != ' ')
        return 0;
    size_t n = 0;
    bool in_word = false;
    for (size_t i = alen; i < detail.n; i++) {
        bool sp = detail.p[i] == ' ';
        n += !sp && !in_word;
        in_word = !sp;
    }
    return n;
}

void cu_audit_genesis(const char *store_id, unsigned char out[CU_HASH_BYTES])
{
    static const char g[] = "custos audit genesis v1";
    cu_hash2(g, sizeof g - 1, store_id, strlen(store_id), out);
}

void cu_audit_chain(const unsigned char prev[CU_HASH_BYTES], const void *body, size_t n,
                    unsigned char out[CU_HASH_BYTES])
{
    cu_hash2(prev, CU_HASH_BYTES, body, n, out);
}

size_t cu_audit_sigmsg(const char *store_id, const cu_checkpoint *c,
                       unsigned char out[CU_AUDIT_SIGMSG_MAX])
{
    /* v1: signed with the store's key; v2: by a node, whose name it covers. */
    static const char tag[] = "custos audit head v1", tag2[] = "custos audit head v2";
    size_t n = 0, idlen = strlen(store_id), nodelen = strnlen(c->node, CU_NODE_MAX - 1);
    memcpy(out, nodelen ? tag2 : tag, sizeof tag - 1);
    n += sizeof tag - 1;
    memcpy(out + n, store_id, idlen);
    n += idlen;
    if (nodelen) {
        out[n++] = (unsigned char)nodelen;
        memcpy(out + n, c->node, nodelen);
        n += nodelen;
    }
    for (int i = 7; i >= 0; i--)
        out[n++] = (unsigned char)((uint64_t)c->seq >> (8 * i));
    for (int i = 7; i >= 0; i--)
        out[n++] = (unsigned char)((uint64_t)c->signed_at >> (8 * i));
    memcpy(out + n, c->hash, CU_HASH_BYTES);
    return n + CU_HASH_BYTES;
}

static bool hash_eq_prev(const unsigned char a[CU_HASH_BYTES],
                         const unsigned char b[CU_HASH_BYTES])
{
    return memcmp(a, b, CU_HASH_BYTES) == 0;
}

/* ---- the pin ---- */

#define PIN_KEY "audit_pin"
#define PIN_BYTES (8 + 2 * CU_HASH_BYTES + 1 + CU_SIG_BYTES)

static void put64(unsigned char *p, int64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
}

/* What a pin's signature covers. */
static size_t pin_msg(const char *store_id, const cu_audit_pin *p, unsigned char out[160])
{
    static const char tag[] = "custos audit pin v1";
    size_t n = 0, idn = strlen(store_id);
    memcpy(out, tag, sizeof tag); /* with its NUL */
    n += sizeof tag;
    memcpy(out + n, store_id, idn);
    n += idn;
    put64(out + n, p->start);
    n += 8;
    memcpy(out + n, p->prev, CU_HASH_BYTES);
    n += CU_HASH_BYTES;
    memcpy(out + n, p->first, CU_HASH_BYTES);
    n += CU_HASH_BYTES;
    out[n++] = p->has_first ? 1 : 0;
    return n;
}

int cu_audit_pin_put(cu_store *s, const char *store_id, const cu_key *seed,
                     const cu_signer *signer, cu_audit_pin *pin, cu_err *err)
{
    unsigned char msg[160], row[PIN_BYTES];
    size_t n = pin_msg(store_id, pin, msg);
    if (signer)
        cu_signer_sign(signer, msg, n, pin->sig);
    else
        cu_sign(seed, msg, n, pin->sig);
    put64(row, pin->start);
    memcpy(row + 8, pin->prev, CU_HASH_BYTES);
    memcpy(row + 8 + CU_HASH_BYTES, pin->first, CU_HASH_BYTES);
    row[8 + 2 * CU_HASH_BYTES] = pin->has_first ? 1 : 0;
    memcpy(row + 9 + 2 * CU_HASH_BYTES, pin->sig, CU_SIG_BYTES);
    return cu_store_meta_put(s, PIN_KEY, row, sizeof row, err);
}

int cu_audit_pin_get(cu_vault *v, cu_audit_pin *out, cu_err *err)
{
    cu_buf b;
    cu_buf_init(&b, 1024);
    int rc = cu_store_meta_get(v->store, PIN_KEY, &b, err);
    if (rc == CU_ENOTFOUND) {
        cu_buf_release(&b);
        cu_err_clear(err);
        return CU_ENOTFOUND;
    }
    if (!rc && b.len != PIN_BYTES)
        rc = cu_err_set(err, CU_ETAMPER, "the audit trail's pin is malformed");
    if (!rc) {
        const unsigned char *p = b.data;
        out->start = (int64_t)be64(p);
        memcpy(out->prev, p + 8, CU_HASH_BYTES);
        memcpy(out->first, p + 8 + CU_HASH_BYTES, CU_HASH_BYTES);
        out->has_first = p[8 + 2 * CU_HASH_BYTES] == 1;
        memcpy(out->sig, p + 9 + 2 * CU_HASH_BYTES, CU_SIG_BYTES);
        unsigned char msg[160];
        size_t n = pin_msg(v->store_id, out, msg);
        if (p[8 + 2 * CU_HASH_BYTES] > 1 || out->start < 1 ||
            !cu_sign_verify(v->pubkey, msg, n, out->sig))
            rc = cu_err_set(err, CU_ETAMPER, "the audit trail's pin is not signed by this store");
    }
    cu_buf_release(&b);
    return rc;
}

/* (Re)loads the vault's pin; a missing or bad one leaves v->pin NULL. */
static int pin_reload(cu_vault *v, cu_err *err)
{
    cu_audit_pin p;
    int rc = cu_audit_pin_get(v, &p, err);
    if (rc == CU_ENOTFOUND || rc == CU_ETAMPER) {
        cu_err_clear(err);
        free(v->pin);
        v->pin = NULL;
        return CU_OK;
    }
    if (rc)
        return rc;
    if (!v->pin && !(v->pin = malloc(sizeof *v->pin)))
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    *v->pin = p;
    return CU_OK;
}

int cu_audit_append(cu_vault *v, cu_audit_event *e, cu_err *err)
{
    e->seq = v->head_seq + 1;
    if (!e->ts)
        e->ts = cu_now_us();
    /* Heap-backed: cu_buf_reserve frees the old storage when it grows, so a
     * stack array must never be handed to a cu_buf. */
    cu_buf body;
    cu_buf_init(&body, 1 << 20);
    int rc = cu_audit_encode(e, &body);
    if (rc) {
        cu_buf_release(&body);
        return cu_err_set(err, CU_ENOMEM, "audit event too large");
    }
    unsigned char hash[CU_HASH_BYTES];
    cu_audit_chain(v->head_hash, body.data, body.len, hash);
    cu_audit_row row = {.seq = e->seq, .ts = e->ts, .actor = e->actor,
                        .subject_id = e->subject && *e->subject ? e->subject : NULL,
                        .body = body.data, .body_len = body.len, .hash = hash,
                        .hash_len = sizeof hash};
    rc = cu_store_audit_insert(v->store, &row, err);
    cu_buf_release(&body);
    /* The first event at the pinned start is pinned too, in the same
     * transaction (reloaded at the next transaction if this one is undone). */
    if (!rc && v->pin && !v->pin->has_first && e->seq == v->pin->start &&
        hash_eq_prev(v->pin->prev, v->head_hash)) {
        v->pin->has_first = true;
        memcpy(v->pin->first, hash, CU_HASH_BYTES);
        rc = cu_audit_pin_put(v->store, v->store_id, NULL, v->signer, v->pin, err);
    }
    if (rc)
        return rc;
    v->head_seq = e->seq;
    memcpy(v->head_hash, hash, sizeof hash);
    return CU_OK;
}

int cu_audit_load_head(cu_vault *v, cu_err *err)
{
    v->ckpt_known = false;
    int rc = cu_store_head_read_ahead(v->store, err);
    if (!rc)
        rc = cu_store_audit_last(v->store, &v->head_seq, v->head_hash, CU_HASH_BYTES, err);
    if (rc)
        return rc;
    if ((!v->pin || !v->pin->has_first) && (rc = pin_reload(v, err)))
        return rc;
    if (v->head_seq == 0)
        cu_audit_genesis(v->store_id, v->head_hash);
    /* New events are signed only onto a trail whose end is what the signed
     * head covers; otherwise a later commit would sign (and so hide) what was
     * done to the trail's end. A trail shorter than its head lost events: chain
     * on from the head, keeping the gap. A trail longer than its head, a last
     * event the head does not match, a bad or missing head: append unsigned,
     * so cu_audit_verify keeps naming the first event that is not covered. */
    cu_checkpoint head;
    rc = cu_store_head_get(v->store, &head, err);
    if (rc == CU_OK) {
        /* The head this process signed itself need not be verified again: it
         * is genuine when the stored row is byte for byte what was signed. */
        bool ours = head.seq == v->last_signed.seq && head.seq > 0 &&
                    head.signed_at == v->last_signed.signed_at &&
                    memcmp(head.hash, v->last_signed.hash, sizeof head.hash) == 0 &&
                    memcmp(head.sig, v->last_signed.sig, sizeof head.sig) == 0;
        bool genuine = ours;
        if (!ours) {
            /* signed by another node (or this one in another process):
             * checked against the recorded key of the node it names */
            cu_err why = {0};
            int crc = cu_node_checkpoint_check(v, &head, &why);
            /* A head that does not verify (CU_ETAMPER) is left for verify to
             * name; a failure to check it (the database, memory) fails the
             * transaction: taking it for a forged head would append events
             * no signed head covers. */
            if (crc && crc != CU_ETAMPER)
                return cu_err_set(err, crc, "%s", why.msg);
            genuine = crc == CU_OK;
        }
        if (head.seq > v->head_seq) {
            v->head_seq = head.seq;
            memcpy(v->head_hash, head.hash, CU_HASH_BYTES);
        }
        v->tail_signed = genuine && head.seq == v->head_seq &&
                         cu_ct_equal(head.hash, v->head_hash, CU_HASH_BYTES);
    } else if (rc == CU_ENOTFOUND || rc == CU_ETAMPER) {
        cu_err_clear(err);
        /* A new store: pinned at its genesis, no event yet. */
        v->tail_signed = rc == CU_ENOTFOUND && v->head_seq == 0 && v->pin &&
                         !v->pin->has_first && v->pin->start == 1;
    } else {
        return rc;
    }
    v->signed_seq = v->head_seq;
    return CU_OK;
}

int cu_audit_seal_head(cu_vault *v, cu_err *err)
{
    if (v->head_seq == v->signed_seq || !v->tail_signed)
        return CU_OK; /* nothing new, or a tampered end left for verify to name */
    cu_checkpoint c = {.seq = v->head_seq, .signed_at = cu_now_us()};
    memcpy(c.hash, v->head_hash, CU_HASH_BYTES);
    /* Signed by this process's node when it has one, else by the store. */
    if (v->node_signer)
        memcpy(c.node, v->node, sizeof c.node);
    unsigned char msg[CU_AUDIT_SIGMSG_MAX];
    size_t n = cu_audit_sigmsg(v->store_id, &c, msg);
    cu_signer_sign(v->node_signer ? v->node_signer : v->signer, msg, n, c.sig);
    int rc = cu_store_head_put(v->store, &c, err);
    if (rc)
        return rc;
    v->last_signed = c;
    /* The last checkpoint's seq, read once after each load of the head
     * (only this function adds checkpoints; another connection's commit
     * makes the next transaction load the head again). */
    int64_t last = v->ckpt_last;
    if (!v->ckpt_known && (rc = cu_store_checkpoint_last_seq(v->store, &last, err)))
        return rc;
    v->ckpt_last = last;
    v->ckpt_known = true;
    if (c.seq / CU_AUDIT_CHECKPOINT_EVERY > last / CU_AUDIT_CHECKPOINT_EVERY) {
        if ((rc = cu_store_checkpoint_add(v->store, &c, err))) {
            v->ckpt_known = false;
            return rc;
        }
        v->ckpt_last = c.seq;
    }
    return CU_OK;
}

/* ---- verification ---- */

typedef struct verify_ctx {
    cu_vault *v;
    const cu_audit_pin *pin;
    cu_verify_report *rep;
    unsigned char prev[CU_HASH_BYTES];
    int64_t expect;
    cu_checkpoint *ckpts;
    size_t nckpts, next_ckpt;
    char sig_problem[120]; /* why the last signature checked failed */
} verify_ctx;

static int fail(cu_verify_report *rep, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(cu_verify_report *rep, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->reason, sizeof rep->reason, fmt, ap);
    va_end(ap);
    rep->ok = false;
    rep->first_bad = seq;
    return -1; /* stops the walk */
}

static bool view_eq(cu_view a, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return a.n == n && (n == 0 || memcmp(a.p, s, n) == 0);
}

/* Chain hashes are public, so this need not be constant-time, but it is; it is
 * inlined for the once-per-event comparison, where a call to cu_ct_equal cost
 * about a sixth as much as the hashing itself (callgrind). */
static inline bool hash_eq(const unsigned char a[CU_HASH_BYTES],
                           const unsigned char b[CU_HASH_BYTES])
{
    unsigned char d = 0;
    for (size_t i = 0; i < CU_HASH_BYTES; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static bool check_signature(verify_ctx *c, const cu_checkpoint *k)
{
    c->rep->checkpoints++;
    cu_err e = {0};
    if (cu_node_checkpoint_check(c->v, k, &e) == CU_OK)
        return true;
    cu_strlcpy(c->sig_problem, e.msg, sizeof c->sig_problem);
    return false;
}

static int verify_row(void *ctx, const cu_audit_row *r)
{
    verify_ctx *c = ctx;
    cu_verify_report *rep = c->rep;
    if (r->seq != c->expect)
        return fail(rep, c->expect,
                    r->seq > c->expect
                        ? "event %lld is missing: the trail jumps to a later event"
                        : "event %lld is out of order",
                    (long long)c->expect);
    cu_audit_decoded d;
    if (cu_audit_decode(r->body, r->body_len, &d) != CU_OK)
        return fail(rep, r->seq, "event %lld is malformed", (long long)r->seq);
    if (d.seq != r->seq || d.ts != r->ts || !view_eq(d.actor, r->actor) ||
        !view_eq(d.subject, r->subject_id))
        return fail(rep, r->seq, "event %lld does not match its recorded position, time, actor "
                                 "or subject", (long long)r->seq);
    unsigned char h[CU_HASH_BYTES];
    cu_audit_chain(c->prev, r->body, r->body_len, h);
    if (r->hash_len != CU_HASH_BYTES || !hash_eq(h, r->hash))
        return fail(rep, r->seq, "event %lld has been altered: its hash does not match the "
                                 "chain", (long long)r->seq);
    if (r->seq == c->pin->start && c->pin->has_first && !hash_eq(h, c->pin->first))
        return fail(rep, r->seq, "event %lld is not the event the trail is pinned to begin with",
                    (long long)r->seq);
    memcpy(c->prev, h, sizeof h);
    while (c->next_ckpt < c->nckpts && c->ckpts[c->next_ckpt].seq == r->seq) {
        cu_checkpoint *k = &c->ckpts[c->next_ckpt++];
        if (!cu_ct_equal(k->hash, h, CU_HASH_BYTES))
            return fail(rep, r->seq, "the signed checkpoint at event %lld does not match the "
                                     "chain", (long long)r->seq);
        if (!check_signature(c, k))
            return fail(rep, r->seq, "the signed checkpoint at event %lld does not match the "
                                     "chain (%s)", (long long)r->seq, c->sig_problem);
    }
    if (c->next_ckpt < c->nckpts && c->ckpts[c->next_ckpt].seq < r->seq)
        return fail(rep, c->ckpts[c->next_ckpt].seq,
                    "a signed checkpoint names event %lld, which is missing",
                    (long long)c->ckpts[c->next_ckpt].seq);
    rep->events++;
    c->expect++;
    return 0;
}

static int collect_ckpt(void *ctx, const cu_checkpoint *k)
{
    verify_ctx *c = ctx;
    cu_checkpoint *n = realloc(c->ckpts, (c->nckpts + 1) * sizeof *n);
    if (!n)
        return CU_ENOMEM;
    c->ckpts = n;
    c->ckpts[c->nckpts++] = *k;
    return 0;
}

/* ---- reading ahead ----
 * Reading the trail out of SQLite costs more than hashing it (see
 * docs/benchmarks.md), so verification overlaps the two: a reader thread copies the rows, in seq order,
 * into a small ring of chunks while this thread checks them with verify_row,
 * every row, in order, exactly as when cu_store_audit_each calls it directly.
 * A failed check stops the reader. The store connection is used by the reader
 * alone until it is joined. Where no thread can be started, the walk runs on
 * this thread. */

#define RA_CHUNKS 4
#define RA_ROWS 1024
#define RA_BYTES ((size_t)256 << 10)
#define RA_STOPPED (-2)

typedef struct ra_row {
    int64_t seq, ts;
    size_t actor, subject, body, hash; /* offsets into the chunk's bytes */
    size_t body_len, hash_len;
    bool has_subject;
} ra_row;

typedef struct ra_chunk {
    ra_row rows[RA_ROWS];
    size_t n;
    unsigned char *bytes;
    size_t len, cap;
} ra_chunk;

typedef struct ra_queue {
    cu_store *store;
    cu_audit_filter f; /* from the pinned start */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ra_chunk chunks[RA_CHUNKS];
    uint64_t produced, consumed; /* chunks handed over, and handed back */
    bool done, stop;
    int rc;     /* the reader's result */
    cu_err err; /* and its error */
} ra_queue;

static int ra_put(ra_chunk *ch, const void *p, size_t n, size_t *off)
{
    if (ch->cap - ch->len < n) {
        size_t cap = ch->cap ? ch->cap : RA_BYTES;
        while (cap - ch->len < n) {
            if (cap > SIZE_MAX / 2)
                return CU_ENOMEM;
            cap *= 2;
        }
        unsigned char *b = realloc(ch->bytes, cap);
        if (!b)
            return CU_ENOMEM;
        ch->bytes = b;
        ch->cap = cap;
    }
    *off = ch->len;
    if (n)
        memcpy(ch->bytes + ch->len, p, n);
    ch->len += n;
    return CU_OK;
}

/* Hands the filled chunk over and waits for a free one; true when told to stop. */
static bool ra_publish(ra_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->produced++;
    pthread_cond_broadcast(&q->cv);
    while (!q->stop && q->produced - q->consumed >= RA_CHUNKS)
        pthread_cond_wait(&q->cv, &q->mu);
    bool stop = q->stop;
    pthread_mutex_unlock(&q->mu);
    if (!stop) {
        ra_chunk *ch = &q->chunks[q->produced % RA_CHUNKS];
        ch->n = 0;
        ch->len = 0;
    }
    return stop;
}

static int ra_copy_row(void *ctx, const cu_audit_row *r)
{
    ra_queue *q = ctx;
    ra_chunk *ch = &q->chunks[q->produced % RA_CHUNKS];
    const char *actor = r->actor ? r->actor : "";
    size_t alen = strlen(actor) + 1;
    size_t slen = r->subject_id ? strlen(r->subject_id) + 1 : 0;
    size_t need = alen + slen + r->body_len + r->hash_len;
    if (ch->n == RA_ROWS || (ch->n && ch->len + need > RA_BYTES)) {
        if (ra_publish(q))
            return RA_STOPPED;
        ch = &q->chunks[q->produced % RA_CHUNKS];
    }
    ra_row *w = &ch->rows[ch->n];
    w->seq = r->seq;
    w->ts = r->ts;
    w->has_subject = r->subject_id != NULL;
    w->body_len = r->body_len;
    w->hash_len = r->hash_len;
    if (ra_put(ch, actor, alen, &w->actor) || ra_put(ch, r->subject_id, slen, &w->subject) ||
        ra_put(ch, r->body, r->body_len, &w->body) ||
        ra_put(ch, r->hash, r->hash_len, &w->hash))
        return cu_err_set(&q->err, CU_ENOMEM, "out of memory verifying");
    ch->n++;
    return 0;
}

static void *ra_main(void *arg)
{
    ra_queue *q = arg;
    int rc = cu_store_audit_each(q->store, &q->f, ra_copy_row, q, &q->err);
    pthread_mutex_lock(&q->mu);
    q->rc = rc == RA_STOPPED ? CU_OK : rc;
    if (rc == CU_OK && q->chunks[q->produced % RA_CHUNKS].n)
        q->produced++; /* the last, partly filled chunk */
    q->done = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* verify_row over one chunk's rows; its first non-zero result. */
static int ra_check(verify_ctx *c, const ra_chunk *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        const ra_row *w = &ch->rows[i];
        cu_audit_row r = {
            .seq = w->seq,
            .ts = w->ts,
            .actor = (const char *)ch->bytes + w->actor,
            .subject_id = w->has_subject ? (const char *)ch->bytes + w->subject : NULL,
            .body = ch->bytes + w->body,
            .body_len = w->body_len,
            .hash = ch->bytes + w->hash,
            .hash_len = w->hash_len,
        };
        int rc = verify_row(c, &r);
        if (rc)
            return rc;
    }
    return 0;
}

/* verify_row over the whole trail, as cu_store_audit_each(store, NULL,
 * verify_row, c, err) does: its result, -1 when a check failed. */
static int verify_rows(cu_vault *v, verify_ctx *c, cu_err *err)
{
    cu_audit_filter f = {.after_seq = c->expect - 1};
    ra_queue *q = calloc(1, sizeof *q);
    if (!q)
        return cu_store_audit_each(v->store, &f, verify_row, c, err);
    q->store = v->store;
    q->f = f;
    pthread_t reader;
    bool mu = pthread_mutex_init(&q->mu, NULL) == 0;
    bool cv = mu && pthread_cond_init(&q->cv, NULL) == 0;
    if (!cv || pthread_create(&reader, NULL, ra_main, q) != 0) {
        if (cv)
            pthread_cond_destroy(&q->cv);
        if (mu)
            pthread_mutex_destroy(&q->mu);
        free(q);
        return cu_store_audit_each(v->store, &f, verify_row, c, err);
    }
    int checked = 0;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->consumed == q->produced && !q->done)
            pthread_cond_wait(&q->cv, &q->mu);
        bool more = q->consumed != q->produced;
        pthread_mutex_unlock(&q->mu);
        if (!more)
            break;
        if (!checked)
            checked = ra_check(c, &q->chunks[q->consumed % RA_CHUNKS]);
        pthread_mutex_lock(&q->mu);
        q->consumed++;
        q->stop = checked != 0;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
    pthread_join(reader, NULL);
    int rc = checked ? checked : q->rc;
    if (!checked && q->rc)
        cu_err_set(err, q->err.code ? q->err.code : CU_EIO, "%s", q->err.msg);
    for (int i = 0; i < RA_CHUNKS; i++)
        free(q->chunks[i].bytes);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
    return rc;
}

int cu_audit_verify(cu_vault *v, cu_verify_report *rep, cu_err *err)
{
    memset(rep, 0, sizeof *rep);
    rep->ok = true;
    cu_audit_pin pin;
    int rc = cu_audit_pin_get(v, &pin, err);
    if (rc == CU_ENOTFOUND) {
        fail(rep, 0, "the audit trail is not pinned to its start (a store made before trails "
                     "were pinned, or the pin was removed)");
        return CU_OK;
    }
    if (rc == CU_ETAMPER) {
        fail(rep, 0, "%s", err ? err->msg : "the audit trail's pin is not genuine");
        cu_err_clear(err);
        return CU_OK;
    }
    if (rc)
        return rc;
    verify_ctx c = {.v = v, .pin = &pin, .rep = rep, .expect = pin.start};
    memcpy(c.prev, pin.prev, CU_HASH_BYTES);
    rep->start = pin.start;
    rep->before_start = pin.start - 1;
    rc = cu_store_checkpoint_each(v->store, collect_ckpt, &c, err);
    if (rc == CU_ETAMPER) {
        fail(rep, 0, "%s", err ? err->msg : "a checkpoint is malformed");
        cu_err_clear(err);
        free(c.ckpts);
        return CU_OK;
    }
    if (rc) {
        free(c.ckpts);
        return rc == CU_ENOMEM ? cu_err_set(err, rc, "out of memory verifying") : rc;
    }
    /* Checkpoints before a restart name events that are not verified. */
    while (c.next_ckpt < c.nckpts && c.ckpts[c.next_ckpt].seq < pin.start)
        c.next_ckpt++;
    rc = verify_rows(v, &c, err);
    if (rc == -1)
        rc = CU_OK;
    if (rc || !rep->ok) {
        free(c.ckpts);
        return rc;
    }
    int64_t last = c.expect - 1;
    if (last < pin.start) {
        cu_store_counts n;
        if (pin.has_first) {
            fail(rep, pin.start, "the trail does not begin at its pinned first event %lld: it "
                                 "was emptied or cut at its start", (long long)pin.start);
        } else if ((rc = cu_store_counts_get(v->store, &n, err))) {
            free(c.ckpts);
            return rc;
        } else if (n.controllers > 0 || n.subjects > 0) {
            fail(rep, pin.start, "the store holds controllers or subjects but its audit trail "
                                 "is empty");
        }
    } else if (!pin.has_first) {
        fail(rep, pin.start, "the audit trail's pin does not name its first event %lld",
             (long long)pin.start);
    }
    if (!rep->ok) {
        free(c.ckpts);
        return CU_OK;
    }
    if (c.next_ckpt < c.nckpts)
        fail(rep, c.ckpts[c.next_ckpt].seq,
             "the trail is truncated: a signed checkpoint names event %lld but the trail ends "
             "at %lld", (long long)c.ckpts[c.next_ckpt].seq, (long long)last);
    free(c.ckpts);
    if (!rep->ok)
        return CU_OK;
    cu_checkpoint head;
    rc = cu_store_head_get(v->store, &head, err);
    if (rc == CU_ENOTFOUND) {
        if (last >= pin.start)
            fail(rep, pin.start, "the signed head is missing: no event is covered by a signature");
        return CU_OK;
    }
    if (rc == CU_ETAMPER) {
        fail(rep, last, "the signed head is malformed");
        cu_err_clear(err);
        return CU_OK;
    }
    if (rc)
        return rc;
    if (head.seq > last)
        fail(rep, last + 1, "the trail is truncated: the signed head covers %lld events but "
                            "the trail ends at %lld", (long long)head.seq, (long long)last);
    else if (head.seq < last)
        fail(rep, head.seq + 1, "events after %lld are not covered by the signed head",
             (long long)head.seq);
    else if (!cu_ct_equal(head.hash, c.prev, CU_HASH_BYTES))
        fail(rep, last, "the signed head does not match the chain at event %lld",
             (long long)last);
    else if (!check_signature(&c, &head))
        fail(rep, last, "the signed head does not match the chain at event %lld (%s)",
             (long long)last, c.sig_problem);
    return CU_OK;
}

/* ---- the trail's start: checked at serve, restarted by the operator ---- */

static int copy_first_hash(void *ctx, const cu_audit_row *r)
{
    unsigned char *out = ctx;
    if (r->hash_len == CU_HASH_BYTES)
        memcpy(out, r->hash, CU_HASH_BYTES);
    return 1;
}

typedef struct first_ctx {
    const cu_audit_pin *pin;
    bool found, ok;
} first_ctx;

static int check_first(void *ctx, const cu_audit_row *r)
{
    first_ctx *f = ctx;
    f->found = true;
    unsigned char h[CU_HASH_BYTES];
    cu_audit_chain(f->pin->prev, r->body, r->body_len, h);
    f->ok = r->seq == f->pin->start && r->hash_len == CU_HASH_BYTES && hash_eq(h, r->hash) &&
            (!f->pin->has_first || hash_eq(h, f->pin->first));
    return 1; /* the first row is enough */
}

static const char restart_hint[] =
    "run `custos audit verify`; to start a new trail once the loss is investigated, "
    "`custos audit restart`";

int cu_audit_check_start(cu_vault *v, cu_err *err)
{
    cu_audit_pin pin;
    int rc = cu_audit_pin_get(v, &pin, err);
    if (rc == CU_ENOTFOUND)
        return cu_err_set(err, CU_ETAMPER, "the audit trail is not pinned to its start: %s",
                          restart_hint);
    if (rc == CU_ETAMPER) {
        cu_err_clear(err);
        return cu_err_set(err, CU_ETAMPER, "the audit trail's pin is not genuine: %s",
                          restart_hint);
    }
    if (rc)
        return rc;
    first_ctx f = {.pin = &pin};
    cu_audit_filter flt = {.after_seq = pin.start - 1, .limit = 1};
    rc = cu_store_audit_each(v->store, &flt, check_first, &f, err);
    if (rc && rc != 1)
        return rc;
    if (f.found && !f.ok)
        return cu_err_set(err, CU_ETAMPER,
                          "the audit trail does not begin with its pinned first event %lld: %s",
                          (long long)pin.start, restart_hint);
    if (!f.found && pin.has_first)
        return cu_err_set(err, CU_ETAMPER,
                          "the audit trail's pinned first event %lld is missing: the trail was "
                          "emptied or cut at its start; %s",
                          (long long)pin.start, restart_hint);
    if (!f.found) {
        cu_store_counts n;
        if ((rc = cu_store_counts_get(v->store, &n, err)))
            return rc;
        if (n.controllers > 0 || n.subjects > 0)
            return cu_err_set(err, CU_ETAMPER,
                              "the store holds controllers or subjects but its audit trail is "
                              "empty: %s", restart_hint);
        return CU_OK;
    }
    cu_checkpoint head;
    rc = cu_store_head_get(v->store, &head, err);
    if (rc == CU_ENOTFOUND || rc == CU_ETAMPER) {
        cu_err_clear(err);
        return cu_err_set(err, CU_ETAMPER, "the audit trail's signed head is %s: %s",
                          rc == CU_ENOTFOUND ? "missing" : "malformed", restart_hint);
    }
    if (rc)
        return rc;
    cu_err why = {0};
    if (cu_node_checkpoint_check(v, &head, &why))
        return cu_err_set(err, CU_ETAMPER, "the audit trail's signed head is not genuine (%s): %s",
                          why.msg, restart_hint);
    return CU_OK;
}

int cu_audit_pin_legacy(cu_vault *v, cu_err *err)
{
    cu_audit_pin pin;
    int rc = cu_audit_pin_get(v, &pin, err);
    if (rc != CU_ENOTFOUND)
        return rc; /* pinned already (or a bad pin: verification names it) */
    /* Verify from the genesis as if pinned there, then pin it. */
    pin = (cu_audit_pin){.start = 1};
    cu_audit_genesis(v->store_id, pin.prev);
    int64_t last = 0;
    unsigned char hash1[CU_HASH_BYTES];
    first_ctx f = {.pin = &pin};
    cu_audit_filter flt = {.limit = 1};
    rc = cu_store_audit_each(v->store, &flt, check_first, &f, err);
    if (rc && rc != 1)
        return rc;
    if (f.found && !f.ok)
        return cu_err_set(err, CU_ETAMPER, "the audit trail does not begin at its genesis: %s",
                          restart_hint);
    if ((rc = cu_store_audit_last(v->store, &last, hash1, sizeof hash1, err)))
        return rc;
    if (f.found) {
        /* the first event's hash, as check_first accepted it */
        cu_audit_filter one = {.limit = 1};
        struct {
            unsigned char h[CU_HASH_BYTES];
        } got;
        rc = cu_store_audit_each(v->store, &one, copy_first_hash, &got, err);
        if (rc && rc != 1)
            return rc;
        memcpy(pin.first, got.h, CU_HASH_BYTES);
        pin.has_first = true;
    }
    /* Write it, then verify the whole trail under it: a trail that does
     * not verify is not pinned (the caller's transaction is undone). */
    if ((rc = cu_audit_pin_put(v->store, v->store_id, NULL, v->signer, &pin, err)))
        return rc;
    cu_verify_report rep;
    if ((rc = cu_audit_verify(v, &rep, err)))
        return rc;
    if (!rep.ok)
        return cu_err_set(err, CU_ETAMPER, "the audit trail fails verification (%s): %s",
                          rep.reason, restart_hint);
    return pin_reload(v, err);
}

int cu_audit_restart(cu_vault *v, const cu_actor *a, int64_t *restart_seq, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "audit", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    cu_verify_report rep;
    if (!rc)
        rc = cu_audit_verify(v, &rep, err);
    if (!rc && rep.ok)
        rc = cu_err_set(err, CU_EINVAL, "the audit trail verifies: there is nothing to restart");
    cu_audit_pin pin = {.start = v->head_seq + 1};
    memcpy(pin.prev, v->head_hash, CU_HASH_BYTES);
    if (!rc)
        rc = cu_audit_pin_put(v->store, v->store_id, NULL, v->signer, &pin, err);
    if (!rc && !v->pin && !(v->pin = malloc(sizeof *v->pin)))
        rc = cu_err_set(err, CU_ENOMEM, "out of memory");
    if (!rc) {
        *v->pin = pin;       /* the decision's event is pinned as the first */
        v->tail_signed = true; /* and the head signed over it */
        *restart_seq = pin.start;
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (rc) {
        cu_err saved = err ? *err : (cu_err){0};
        (void)pin_reload(v, NULL);
        if (err)
            *err = saved;
    }
    return rc;
}

/* ---- vocabulary ---- */

/* Sorted (strcmp order) for bsearch. */
static const char *const actions[] = {
    "audit",           "authenticate",         "backup",          "break_glass",
    "care_list.add",   "care_list.remove",     "consent.give",    "consent.link",
    "consent.read",    "consent.withdraw",     "create",          "disclose",
    "erase",           "erase.plan",           "export",          "key",
    "object",          "object.lift",          "pathway.add",     "pathway.discharge",
    "pathway.due",     "pathway.enrol",        "pathway.list",    "pathway.read",
    "policy.apply",    "portal.access",        "portal.account",  "portal.cookies",
    "portal.data",     "portal.download",      "portal.invite",   "portal.questionnaires",
    "portal.requests", "portal.signin",        "portal.signout",
    "questionnaire.add", "questionnaire.enter", "questionnaire.list", "questionnaire.read",
    "questionnaire.responses", "questionnaire.send", "questionnaire.submit", "read",
    "request.ask_identity", "request.clarify", "request.due",     "request.extend",
    "request.fulfil",  "request.list",         "request.read",    "request.receive",
    "request.refuse",  "request.resume",       "request.verify",  "request.withdraw",
    "restrict",        "restrict.lift",        "rights.read",     "search",
    "session.purge",
    "signin", "signout", "signout.everywhere", "task.ack",
    "task.done", "task.list", "task.raise", "token.create",
    "token.list", "token.revoke", "update", "user.add",
    "user.disable", "user.list", "user.reset_password", "user.signout",
};
#define NACTIONS (sizeof actions / sizeof actions[0])

static const char *const rules[] = {
    "refused",
    /* access.c */
    "role-not-permitted", "not-on-care-list", "break-glass-not-permitted", "no-role",
    "no-controller", "other-controller",
    /* policy_decide.c */
    "no-policy", "purpose-not-in-policy", "subject-kind-not-covered", "category-not-covered",
    "restricted", "objection", "no-consent",
    /* vault.c, subject.c */
    "pseudonym-required", "rights-purpose-not-permitted", "category-not-permitted",
    /* sar.c */
    "withholding-needs-clinician",
    /* erasure.c */
    "retention-period", "health-approval-required", "plan-changed",
    /* tasks.c */
    "not-task-owner",
};

static const char *const outcomes[] = {"ok", "denied", "not_found", "erased"};

const char *cu_audit_action_at(size_t i)
{
    return i < NACTIONS ? actions[i] : NULL;
}

static int name_cmp(const void *k, const void *e)
{
    return strcmp(k, *(const char *const *)e);
}

bool cu_audit_action_known(const char *action)
{
    return action && bsearch(action, actions, NACTIONS, sizeof actions[0], name_cmp) != NULL;
}

const char *cu_audit_rule_at(size_t i)
{
    return i < sizeof rules / sizeof rules[0] ? rules[i] : NULL;
}

const char *cu_audit_outcome_at(size_t i)
{
    return i < sizeof outcomes / sizeof outcomes[0] ? outcomes[i] : NULL;
}
