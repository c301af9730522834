/*
 * fuzz_audit.c — cu_audit_decode (src/domain/audit.h), the strict decoder of
 * audit bodies read back from the store, on arbitrary bytes.
 *
 * Whatever it accepts must be exactly the canonical encoding of what it
 * decoded: re-encoding the decoded event with cu_audit_encode gives the same
 * bytes (skipped when a text field holds a NUL byte, which the C-string event
 * cannot carry), and no strict prefix or extension of an accepted body is
 * accepted too. Bodies of the first layout ("CUA1", without the rule field)
 * still decode; the current layouts ("CUA2", and "CUA3" with a non-empty
 * detail after via) are written, so only they are re-encoded.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "fuzz.h"
#include "util/buf.h"

#define NTEXT 11

/* The text fields in body order for layout 1, 2 or 3 (CUA1-3); returns how
 * many the layout has. */
static size_t text_views(const cu_audit_decoded *d, int layout, cu_view out[NTEXT])
{
    const cu_view v[NTEXT] = {d->actor,   d->role,    d->action,  d->controller,
                              d->subject, d->categories, d->purpose, d->outcome,
                              d->rule,    d->via,     d->detail};
    memcpy(out, v, sizeof v);
    if (layout != 3)
        CHECK(d->detail.n == 0);
    else
        CHECK(d->detail.n > 0);
    if (layout == 1) {
        CHECK(d->rule.n == 0);
        out[8] = out[9]; /* no rule field */
        return NTEXT - 2;
    }
    return layout == 3 ? NTEXT : NTEXT - 1;
}

static bool view_eq(cu_view a, cu_view b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static char *dup_view(cu_view v)
{
    char *s = malloc(v.n + 1);
    CHECK(s != NULL);
    if (v.n)
        memcpy(s, v.p, v.n);
    s[v.n] = '\0';
    return s;
}

/* The views of an accepted body tile it exactly, in field order. */
static void check_layout(const uint8_t *data, size_t size, int layout,
                         const cu_audit_decoded *d)
{
    cu_view v[NTEXT];
    size_t nt = text_views(d, layout, v);
    const char *p = (const char *)data + 20;
    size_t total = 20;
    for (size_t i = 0; i <= nt; i++) {
        cu_view x = i < nt ? v[i] : d->payload;
        CHECK(size - total >= 4 && x.p == p + 4);
        CHECK(x.n <= size - total - 4);
        p = x.p + x.n;
        total += 4 + x.n;
    }
    CHECK(total == size);
}

static void check_roundtrip(const uint8_t *data, size_t size, int layout,
                            const cu_audit_decoded *d)
{
    cu_view v[NTEXT];
    text_views(d, layout, v);
    for (size_t i = 0; i < NTEXT; i++)
        if (v[i].n && memchr(v[i].p, '\0', v[i].n))
            return; /* not representable as a C-string event */
    char *s[NTEXT];
    for (size_t i = 0; i < NTEXT; i++)
        s[i] = dup_view(v[i]);
    cu_audit_event e = {.seq = d->seq, .ts = d->ts,
                        .actor = s[0], .role = s[1], .action = s[2], .controller = s[3],
                        .subject = s[4], .categories = s[5], .purpose = s[6],
                        .outcome = s[7], .rule = s[8], .via = s[9], .detail = s[10],
                        .payload = (const unsigned char *)d->payload.p,
                        .payload_len = d->payload.n};
    cu_buf b;
    cu_buf_init(&b, size + 1);
    CHECK(cu_audit_encode(&e, &b) == CU_OK);
    CHECK(b.len == size && memcmp(b.data, data, size) == 0);

    /* And the re-encoded body decodes to the same event. */
    cu_audit_decoded d2;
    CHECK(cu_audit_decode(b.data, b.len, &d2) == CU_OK);
    cu_view v2[NTEXT];
    text_views(&d2, layout, v2);
    CHECK(d2.seq == d->seq && d2.ts == d->ts && view_eq(d2.payload, d->payload));
    for (size_t i = 0; i < NTEXT; i++)
        CHECK(view_eq(v2[i], v[i]));
    cu_buf_release(&b);
    for (size_t i = 0; i < NTEXT; i++)
        free(s[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cu_audit_decoded d;
    int rc = cu_audit_decode(data, size, &d);
    if (rc != CU_OK) {
        CHECK(rc == CU_ECORRUPT);
        return 0;
    }
    int layout = memcmp(data, "CUA1", 4) == 0   ? 1
                 : memcmp(data, "CUA2", 4) == 0 ? 2
                 : memcmp(data, "CUA3", 4) == 0 ? 3
                                                : 0;
    CHECK(layout != 0);
    size_t nfields = layout == 1 ? NTEXT - 2 : layout == 2 ? NTEXT - 1 : NTEXT;
    CHECK(size >= 20 + 4 * (nfields + 1));
    check_layout(data, size, layout, &d);
    if (layout != 1)
        check_roundtrip(data, size, layout, &d);

    /* Strictness: the encoding is self-delimiting, so neither the body minus
     * its last byte nor the body plus one more byte can decode. */
    cu_audit_decoded tmp;
    CHECK(cu_audit_decode(data, size - 1, &tmp) == CU_ECORRUPT);
    unsigned char *longer = malloc(size + 1);
    CHECK(longer != NULL);
    memcpy(longer, data, size);
    longer[size] = 0;
    CHECK(cu_audit_decode(longer, size + 1, &tmp) == CU_ECORRUPT);
    free(longer);
    return 0;
}
