/*
 * test_vault.c — the vault and the subject operations behind its choke point:
 * keys, encryption at rest bound to place, rectification, erasure, key
 * rotation, batches, one audit event per operation, and tamper detection on
 * the audit trail (tampering done with sqlite3 directly on custos.db).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"
#include "vault_fixture.h"

#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "domain/audit.h"
#include "domain/consent.h"
#include "domain/input.h"
#include "domain/integrity.h"
#include "domain/jobs.h"
#include "domain/ledger.h"
#include "domain/node.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "domain/recover.h"
#include "domain/vault.h"
#include "domain/vault_impl.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/file.h"

/* Subject A: every top-level field, and items including two of one field. */
static const char DOC_A[] =
    "{'name': 'Zebedee Quux', 'birth_date': '1980-05-17', 'address': '12 Acacia Avenue',"
    " 'postcode': 'SW1A 1AA', 'nhs_number': '943 476 5919', 'email': 'Zeb.Quux@Example.org',"
    " 'phone': '020 7946 0000', 'local_ref': 'MRN-0042',"
    " 'items': ["
    "  {'category': 'health', 'field': 'diagnosis', 'value': 'asthma, moderate',"
    "   'source': 'staff', 'collected_at': '2024-01-02'},"
    "  {'category': 'health', 'field': 'note', 'value': 'first note'},"
    "  {'category': 'health', 'field': 'note', 'value': 'second note'}]}";
/* Subject C: no unique identifier, so it can be added many times. */
static const char DOC_C[] =
    "{'name': 'Xan Wren', 'address': '9 Oak Lane',"
    " 'items': [{'category': 'health', 'field': 'note', 'value': 'first note'},"
    "           {'category': 'health', 'field': 'note', 'value': 'second note'}]}";
/* Subject B. */
static const char DOC_B[] =
    "{'name': 'Ysolde Vane', 'nhs_number': '401 023 2137', 'email': 'ysolde@example.org',"
    " 'address': '3 Elm Row',"
    " 'items': [{'category': 'health', 'field': 'diagnosis', 'value': 'eczema'}]}";

typedef struct fx {
    char root[64];
    char store[PATH_MAX];
    char db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN];
} fx;

/* ------------------------------------------------------------ helpers ---- */

static int count_subject_cb(void *ctx, const cu_subject_rec *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}


static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    return VAULT_FIXTURE_OPEN(f, "vault");
}

static int teardown(void **state)
{
    fx *f = *state;
    cu_vault_close(f->v);
    testdir_remove(f->root);
    free(f);
    return 0;
}

static void close_vault(fx *f)
{
    cu_vault_close(f->v);
    f->v = NULL;
}

static void reopen(fx *f)
{
    close_vault(f);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
}

/* JSON written with single quotes for readability: ' becomes ". */
static char *q(const char *s)
{
    char *out = strdup(s);
    assert_non_null(out);
    for (char *p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static void parse(const char *json_sq, cu_doc_kind kind, cu_doc *d)
{
    char *json = q(json_sq);
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_doc_parse(json, strlen(json), kind, d, &err);
    free(json);
    CHECK(rc == CU_OK, "parse: %s", err.msg);
}

static int add_subject_in(fx *f, const char *ctl, const char *json_sq, char id[CU_ID_STRLEN])
{
    cu_doc d;
    parse(json_sq, CU_DOC_SUBJECT, &d);
    cu_err_clear(&f->err);
    int rc = cu_subject_add(f->v, &OPERATOR, ctl, "patient", &d, id, &f->err);
    cu_doc_release(&d);
    return rc;
}

static void add_subject(fx *f, const char *json_sq, char id[CU_ID_STRLEN])
{
    int rc = add_subject_in(f, f->ctl, json_sq, id);
    CHECK(rc == CU_OK, "add: %s", f->err.msg);
    assert_true(cu_id_valid(id));
}

static int add_items(fx *f, const char *subject, const char *json_sq,
                     char (*ids)[CU_ID_STRLEN])
{
    cu_doc d;
    parse(json_sq, CU_DOC_SUBJECT, &d);
    cu_err_clear(&f->err);
    int rc = cu_subject_add_items(f->v, &OPERATOR, subject, &d, ids, &f->err);
    cu_doc_release(&d);
    return rc;
}

static int rectify(fx *f, const char *subject, const char *json_sq)
{
    cu_doc d;
    parse(json_sq, CU_DOC_RECTIFY, &d);
    cu_err_clear(&f->err);
    int rc = cu_subject_rectify(f->v, &OPERATOR, subject, &d, &f->err);
    cu_doc_release(&d);
    return rc;
}

static int get(fx *f, const char *id, cu_subject_view *sv)
{
    cu_err_clear(&f->err);
    return cu_subject_get(f->v, &OPERATOR, id, sv, &f->err);
}

static const cu_item_view *view_item(const cu_subject_view *sv, const char *field)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->items[i].field, field) == 0)
            return &sv->items[i];
    return NULL;
}

static bool view_has(const cu_subject_view *sv, const char *field, const char *value)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->items[i].field, field) == 0 && sv->items[i].value.len == strlen(value) &&
            memcmp(sv->items[i].value.data, value, strlen(value)) == 0)
            return true;
    return false;
}

typedef struct found {
    int n;
    char ids[8][CU_ID_STRLEN];
} found;

static int found_cb(void *ctx, const char *subject_id)
{
    found *fd = ctx;
    if (fd->n < 8)
        cu_strlcpy(fd->ids[fd->n], subject_id, CU_ID_STRLEN);
    fd->n++;
    return 0;
}

static int find(fx *f, const char *ctl, const char *field, const char *value, found *out)
{
    memset(out, 0, sizeof *out);
    cu_err_clear(&f->err);
    return cu_subject_find(f->v, &OPERATOR, ctl, field, value, strlen(value), found_cb, out,
                           &f->err);
}

static cu_store_counts counts(fx *f)
{
    cu_store_counts c;
    OK(f, cu_vault_counts(f->v, &c, &f->err));
    return c;
}

static int64_t audit_seq(fx *f)
{
    return counts(f).audit_events;
}

static cu_verify_report verify(fx *f)
{
    cu_verify_report rep;
    OK(f, cu_audit_verify(f->v, &rep, &f->err));
    return rep;
}

/* ----- audit events read straight from the store (no audited read) ----- */

typedef struct ev {
    int64_t seq;
    char actor[65], action[16], outcome[16], subject[40], controller[40], categories[256];
    size_t payload_len;
} ev;

typedef struct evs {
    int n;
    ev e[32];
} evs;

static void view_copy(char *dst, size_t n, cu_view v)
{
    size_t k = v.n < n - 1 ? v.n : n - 1;
    memcpy(dst, v.p, k);
    dst[k] = '\0';
}

static int ev_cb(void *ctx, const cu_audit_row *r)
{
    evs *s = ctx;
    cu_audit_decoded d;
    if (cu_audit_decode(r->body, r->body_len, &d) != CU_OK)
        return CU_ECORRUPT;
    if (s->n < 32) {
        ev *e = &s->e[s->n];
        e->seq = d.seq;
        view_copy(e->actor, sizeof e->actor, d.actor);
        view_copy(e->action, sizeof e->action, d.action);
        view_copy(e->outcome, sizeof e->outcome, d.outcome);
        view_copy(e->subject, sizeof e->subject, d.subject);
        view_copy(e->controller, sizeof e->controller, d.controller);
        view_copy(e->categories, sizeof e->categories, d.categories);
        e->payload_len = d.payload.n;
    }
    s->n++;
    return 0;
}

static void events_after(fx *f, int64_t after, evs *out)
{
    memset(out, 0, sizeof *out);
    cu_audit_filter flt = {.after_seq = after};
    OK(f, cu_store_audit_each(f->v->store, &flt, ev_cb, out, &f->err));
}

/* Exactly one new event since `before`, with this action and outcome. */
static ev expect_one_event(fx *f, int64_t before, const char *action, const char *outcome)
{
    evs s;
    events_after(f, before, &s);
    CHECK(s.n == 1, "%s/%s: %d events were recorded, want 1", action, outcome, s.n);
    CHECK(s.e[0].seq == before + 1, "seq %lld", (long long)s.e[0].seq);
    CHECK(strcmp(s.e[0].action, action) == 0, "action '%s', want '%s'", s.e[0].action, action);
    CHECK(strcmp(s.e[0].outcome, outcome) == 0, "%s: outcome '%s', want '%s'", action,
          s.e[0].outcome, outcome);
    CHECK(audit_seq(f) == before + 1, "audit seq %lld", (long long)audit_seq(f));
    return s.e[0];
}

/* ----- direct SQL on the store file ----- */

static sqlite3 *db_open(fx *f)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    return h;
}

/* Runs sql with up to two text parameters; returns the changes made. */
static int db_exec(fx *f, const char *sql, const char *a, const char *b)
{
    sqlite3 *h = db_open(f);
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
          sqlite3_errmsg(h));
    if (a)
        sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    CHECK(rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    int n = sqlite3_changes(h);
    sqlite3_close(h);
    return n;
}

static int64_t db_int(fx *f, const char *sql, const char *a)
{
    sqlite3 *h = db_open(f);
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
          sqlite3_errmsg(h));
    if (a)
        sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Reads one blob (the first column of the first row) into out. */
static size_t db_blob(fx *f, const char *sql, int64_t key, unsigned char *out, size_t cap)
{
    sqlite3 *h = db_open(f);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, key);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    assert_true(n <= cap);
    memcpy(out, sqlite3_column_blob(st, 0), n);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static void db_put_blob(fx *f, const char *sql, int64_t key, const unsigned char *v, size_t n)
{
    sqlite3 *h = db_open(f);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, v, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, key);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(h), 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* XORs one byte of an audit event's body or hash. */
static void flip_event_byte(fx *f, const char *col, int64_t seq, size_t off)
{
    char sel[96], upd[96];
    snprintf(sel, sizeof sel, "SELECT %s FROM audit_events WHERE seq = ?1", col);
    snprintf(upd, sizeof upd, "UPDATE audit_events SET %s = ?1 WHERE seq = ?2", col);
    unsigned char buf[4096];
    size_t n = db_blob(f, sel, seq, buf, sizeof buf);
    assert_true(off < n);
    buf[off] ^= 0x01;
    db_put_blob(f, upd, seq, buf, n);
}

/* True when the bytes occur in the file at path (absent file: false). */
static bool file_contains(const char *path, const void *needle, size_t n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    cu_buf b;
    cu_buf_init(&b, 256 << 20);
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_read_stream(fp, 256 << 20, &b, &err), CU_OK);
    fclose(fp);
    bool hit = b.len >= n && memmem(b.data, b.len, needle, n) != NULL;
    cu_buf_release(&b);
    return hit;
}

static bool store_files_contain(fx *f, const void *needle, size_t n)
{
    char wal[PATH_MAX + 32];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    return file_contains(f->db, needle, n) || file_contains(wal, needle, n);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(write(fd, buf, n), (ssize_t)n);
    fclose(in);
    close(fd);
}

/* ------------------------------------------------------ init and open ---- */

static void test_init_and_open(void **state)
{
    fx *f = *state;
    struct stat st;
    assert_int_equal(stat(f->store, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char key[PATH_MAX + 16];
    snprintf(key, sizeof key, "%s/master.key", f->store);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(f->db, &st), 0);
    assert_string_equal(cu_vault_key_path(f->v), key);
    assert_true(cu_id_valid(cu_vault_store_id(f->v)));
    char pk[2 * CU_PUBKEY_BYTES + 1];
    cu_vault_public_key(f->v, pk);
    assert_int_equal(strlen(pk), 64);
    assert_true(cu_id_valid(f->ctl));

    /* The controller add and its policy were the first audited operations,
     * each signed at commit. */
    cu_checkpoint head;
    OK(f, cu_vault_head(f->v, &head, &f->err));
    assert_int_equal(head.seq, 2);
    cu_verify_report rep = verify(f);
    assert_true(rep.ok);
    assert_int_equal(rep.events, 2);

    /* A second init of the same directory is refused and changes nothing. */
    FAILS(f, CU_ECONFLICT, cu_vault_init(f->store, NULL, &f->err));
    reopen(f);
    assert_int_equal(audit_seq(f), 2);

    /* The store id is stable across opens. */
    char sid[CU_ID_STRLEN];
    cu_strlcpy(sid, cu_vault_store_id(f->v), sizeof sid);
    reopen(f);
    assert_string_equal(cu_vault_store_id(f->v), sid);

    /* A store directory that cannot be created: refused, nothing left behind. */
    char file[PATH_MAX + 16], under[PATH_MAX + 32];
    snprintf(file, sizeof file, "%s/plain-file", f->root);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(under, sizeof under, "%s/store", file);
    FAILS(f, CU_EIO, cu_vault_init(under, NULL, &f->err));

    /* No store at all. */
    char none[PATH_MAX + 16];
    snprintf(none, sizeof none, "%s/nothing-here", f->root);
    cu_vault *v2 = NULL;
    FAILS(f, CU_ENOTFOUND, cu_vault_open(none, NULL, &v2, &f->err));
    assert_null(v2);
}

static void test_wrong_master_key(void **state)
{
    fx *f = *state;
    /* A second store has its own key; it does not open the first. */
    char other[PATH_MAX + 16], other_key[PATH_MAX + 32];
    snprintf(other, sizeof other, "%s/other", f->root);
    snprintf(other_key, sizeof other_key, "%s/master.key", other);
    OK(f, cu_vault_init(other, NULL, &f->err));
    close_vault(f);
    cu_vault *v = NULL;
    FAILS(f, CU_EKEY, cu_vault_open(f->store, other_key, &v, &f->err));
    assert_null(v);
    assert_int_equal(f->err.code, CU_EKEY);
    assert_non_null(strstr(f->err.msg, "does not match"));
    /* The message names key ids, not key material. */
    cu_key *k = NULL;
    OK(f, cu_keyfile_load(other_key, &k, &f->err));
    char hex[65];
    cu_hex(k->k, CU_KEY_BYTES, hex);
    cu_key_free(k);
    cu_err_clear(&f->err);
    assert_int_equal(cu_vault_open(f->store, other_key, &v, &f->err), CU_EKEY);
    assert_null(strstr(f->err.msg, hex));

    /* A missing key file, and a badly protected one. */
    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof missing, "%s/absent.key", f->root);
    FAILS(f, CU_EKEY, cu_vault_open(f->store, missing, &v, &f->err));
    char own_key[PATH_MAX + 32];
    snprintf(own_key, sizeof own_key, "%s/master.key", f->store);
    assert_int_equal(chmod(own_key, 0644), 0);
    FAILS(f, CU_EKEY, cu_vault_open(f->store, NULL, &v, &f->err));
    assert_non_null(strstr(f->err.msg, "chmod 600"));
    assert_int_equal(chmod(own_key, 0600), 0);
    /* The right key still opens it. */
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
}

static void test_operator_provided_key(void **state)
{
    fx *f = *state;
    char key[PATH_MAX + 16], s2[PATH_MAX + 16];
    snprintf(key, sizeof key, "%s/operator.key", f->root);
    snprintf(s2, sizeof s2, "%s/s2", f->root);
    cu_key *k = NULL;
    OK(f, cu_keyfile_create(key, &k, &f->err));
    unsigned char before[CU_KEY_BYTES];
    memcpy(before, k->k, CU_KEY_BYTES);
    cu_key_free(k);
    OK(f, cu_vault_init(s2, key, &f->err));
    /* The provided key was used, not replaced. */
    k = NULL;
    OK(f, cu_keyfile_load(key, &k, &f->err));
    assert_memory_equal(k->k, before, CU_KEY_BYTES);
    cu_key_free(k);
    cu_vault *v = NULL;
    OK(f, cu_vault_open(s2, key, &v, &f->err));
    cu_vault_close(v);
    v = NULL;
    /* Without it (s2/master.key does not exist) the store does not open. */
    FAILS(f, CU_EKEY, cu_vault_open(s2, NULL, &v, &f->err));
    assert_null(v);
}

/* ---------------------------------------------------------- add / get ---- */

static void test_add_and_get_round_trip(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);

    cu_doc d;
    parse(DOC_A, CU_DOC_SUBJECT, &d);
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_string_equal(sv.rec.id, a);
    assert_string_equal(sv.rec.controller_id, f->ctl);
    assert_string_equal(sv.rec.kind, "patient");
    assert_int_equal(sv.rec.erased_at, 0);
    assert_int_equal(sv.rec.key_version, 1);
    assert_true(sv.rec.created_at > 0);
    assert_int_equal(sv.n, d.n);
    /* Every value comes back byte for byte (as a multiset: two notes share a field). */
    bool used[16] = {false};
    assert_true(sv.n <= 16);
    for (size_t i = 0; i < d.n; i++) {
        const cu_value_in *in = &d.values[i];
        bool matched = false;
        for (size_t j = 0; j < sv.n && !matched; j++) {
            const cu_item_view *it = &sv.items[j];
            if (used[j] || strcmp(it->field, in->field) != 0 || it->value.len != in->value_len ||
                memcmp(it->value.data, in->value, in->value_len) != 0)
                continue;
            used[j] = matched = true;
            CHECK(it->category == in->category, "%s: category %d", in->field, it->category);
            CHECK(strcmp(it->source, in->source) == 0, "%s: source %s", in->field, it->source);
            CHECK(strcmp(it->recorded_by, "tester") == 0, "%s: recorded_by", in->field);
            CHECK(cu_id_valid(it->id), "%s: id", in->field);
            CHECK(it->value.data[it->value.len] == '\0', "%s: not terminated", in->field);
        }
        CHECK(matched, "value of %s did not come back", in->field);
    }
    cu_doc_release(&d);
    /* Normalised forms were stored. */
    assert_true(view_has(&sv, "email", "zeb.quux@example.org"));
    assert_true(view_has(&sv, "nhs_number", "9434765919"));
    assert_true(view_has(&sv, "phone", "02079460000"));
    const cu_item_view *dx = view_item(&sv, "diagnosis");
    assert_non_null(dx);
    assert_int_equal(dx->collected_at, 1704153600000000LL);
    assert_string_equal(dx->source, "staff");
    cu_subject_view_release(&sv);
    assert_null(sv.items);
    assert_int_equal(sv.n, 0);

    /* Items added later come back too, with their ids. */
    char ids[2][CU_ID_STRLEN];
    OK(f, add_items(f, a,
                    "{'items': [{'category': 'genetic', 'field': 'brca', 'value': 'negative'},"
                    " {'category': 'health', 'field': 'allergy', 'value': 'penicillin'}]}",
                    ids));
    assert_true(cu_id_valid(ids[0]) && cu_id_valid(ids[1]));
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 13);
    assert_true(view_has(&sv, "brca", "negative"));
    assert_string_equal(view_item(&sv, "brca")->id, ids[0]);
    assert_int_equal(view_item(&sv, "brca")->category, CU_CAT_GENETIC);
    cu_subject_view_release(&sv);

    /* The values survive a reopen. */
    reopen(f);
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 13);
    assert_true(view_has(&sv, "name", "Zebedee Quux"));
    assert_true(view_has(&sv, "allergy", "penicillin"));
    cu_subject_view_release(&sv);
}

/* What an analyst gets: the subject by pseudonym, items by item pseudonym
 * (stable, per controller, unlike the subject's), times to the month, no
 * recorded_by; a subject named by id refused alike whether it exists. */
static void test_pseudonymised_view(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    cu_subject_view real, sv, again;
    OK(f, get(f, a, &real));
    const cu_actor analyst = {.name = "ana", .role = "analyst", .purpose = "reporting",
                              .via = "unit test", .roles = CU_ROLE_ANALYST,
                              .user_id = "00000000-0000-4000-8000-000000000001",
                              .controller_id = f->ctl};
    OK(f, cu_subject_get(f->v, &analyst, real.rec.pseudonym, &sv, &f->err));
    OK(f, cu_subject_get(f->v, &analyst, real.rec.pseudonym, &again, &f->err));
    assert_true(sv.pseudonymised);
    assert_string_equal(sv.rec.id, real.rec.pseudonym);
    assert_int_equal(sv.rec.created_at, cu_time_month_start(real.rec.created_at));
    assert_int_equal(cu_date_of_us(sv.rec.created_at).day, 1);
    assert_true(sv.n > 0 && sv.n < real.n); /* clinical categories only */
    assert_int_equal(sv.n, again.n);
    /* the real view's clinical items, in the same order */
    const unsigned clinical = (1u << CU_CAT_HEALTH) | (1u << CU_CAT_GENETIC) |
                              (1u << CU_CAT_SPECIAL) | (1u << CU_CAT_FAMILY) |
                              (1u << CU_CAT_WORK_EDU_FIN);
    size_t j = 0;
    for (size_t i = 0; i < sv.n; i++, j++) {
        const cu_item_view *it = &sv.items[i];
        CHECK(strncmp(it->id, "psi_", 4) == 0 && strlen(it->id) == 36, "item id %s", it->id);
        assert_string_equal(it->id, again.items[i].id); /* stable */
        assert_string_equal(it->recorded_by, "");
        while (j < real.n && !(clinical & (1u << real.items[j].category)))
            j++;
        assert_true(j < real.n);
        const cu_item_view *r = &real.items[j];
        assert_string_equal(r->field, it->field);
        char want[CU_PSEUDONYM_STRLEN];
        cu_vault_item_pseudonym(f->v, f->ctl, r->id, want);
        assert_string_equal(it->id, want);
        assert_int_equal(it->recorded_at, cu_time_month_start(r->recorded_at));
        assert_int_equal(it->collected_at, cu_time_month_start(r->collected_at));
        assert_int_equal(it->updated_at, cu_time_month_start(r->updated_at));
        /* keyed per controller, and under a domain of its own */
        char other[CU_PSEUDONYM_STRLEN], subj[CU_PSEUDONYM_STRLEN];
        cu_vault_item_pseudonym(f->v, "00000000-0000-4000-8000-0000000000cc", r->id, other);
        cu_vault_pseudonym(f->v, f->ctl, r->id, subj);
        assert_string_not_equal(other + 4, it->id + 4);
        assert_string_not_equal(subj + 4, it->id + 4);
    }
    cu_subject_view_release(&again);
    cu_subject_view_release(&sv);
    /* named by id: refused, whether or not the id exists, naming neither */
    const char *ids[] = {a, "00000000-0000-4000-8000-0000000000dd"};
    for (size_t i = 0; i < 2; i++) {
        FAILS(f, CU_EDENIED, cu_subject_get(f->v, &analyst, ids[i], &sv, &f->err));
        assert_non_null(strstr(f->err.msg, "pseudonym-required"));
        assert_null(strstr(f->err.msg, ids[i]));
    }
    cu_subject_view_release(&real);
}

static void test_encrypted_at_rest(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    close_vault(f);
    static const char *const plain[] = {"Zebedee", "Acacia", "9434765919", "zeb.quux",
                                        "Example.org", "asthma", "second note", "MRN-0042",
                                        "02079460000", "1980-05-17"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        CHECK(!store_files_contain(f, plain[i], strlen(plain[i])), "'%s' stored in the clear",
              plain[i]);
    /* Sanity: the scan does find what is stored in the clear. */
    assert_true(store_files_contain(f, "Test NHS Trust", 14));
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
}

static void test_add_refusals(void **state)
{
    fx *f = *state;
    cu_doc d;
    parse("{'name': 'A'}", CU_DOC_SUBJECT, &d);
    char id[CU_ID_STRLEN];
    int64_t before = audit_seq(f);
    FAILS(f, CU_EINVAL, cu_subject_add(f->v, &OPERATOR, f->ctl, "robot", &d, id, &f->err));
    FAILS(f, CU_EINVAL, cu_subject_add(f->v, &OPERATOR, "not-a-controller", "patient", &d, id,
                                       &f->err));
    assert_int_equal(audit_seq(f), before);
    /* An unknown controller is a not-found access: recorded, nothing added. */
    FAILS(f, CU_ENOTFOUND, cu_subject_add(f->v, &OPERATOR,
                                          "99999999-9999-4999-8999-999999999999", "patient", &d,
                                          id, &f->err));
    ev e = expect_one_event(f, before, "create", "not_found");
    assert_string_equal(e.controller, "99999999-9999-4999-8999-999999999999");
    assert_int_equal(counts(f).subjects, 0);
    cu_doc_release(&d);

    /* Items of a rectification document (with ids) cannot create a subject. */
    parse("{'items': [{'id': '123e4567-e89b-42d3-a456-426614174000', 'value': 'v'}]}",
          CU_DOC_RECTIFY, &d);
    before = audit_seq(f);
    FAILS(f, CU_EINVAL, cu_subject_add(f->v, &OPERATOR, f->ctl, "patient", &d, id, &f->err));
    char sid[CU_ID_STRLEN];
    add_subject(f, "{'name': 'B'}", sid);
    FAILS(f, CU_EINVAL, cu_subject_add_items(f->v, &OPERATOR, sid, &d, NULL, &f->err));
    cu_doc_release(&d);
    assert_int_equal(audit_seq(f), before + 1);
}

/* -------------------------------------------------------------- find ---- */

static void test_find(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    add_subject(f, DOC_B, b);
    found fd;
    static const struct {
        const char *field, *value;
        int which; /* 0: A, 1: B */
    } hits[] = {
        {"nhs_number", "9434765919", 0},
        {"nhs_number", "943 476 5919", 0},
        {"nhs_number", "943-476-5919", 0},
        {"nhs_number", "4010232137", 1},
        {"email", "zeb.quux@example.org", 0},
        {"email", "ZEB.QUUX@EXAMPLE.ORG", 0},
        {"email", "  Zeb.Quux@Example.org ", 0},
        {"email", "Ysolde@Example.org", 1},
        {"phone", "020 7946 0000", 0},
        {"phone", "02079460000", 0},
        {"local_ref", "MRN-0042", 0},
    };
    for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++) {
        for (int scope = 0; scope < 2; scope++) {
            int rc = find(f, scope ? NULL : f->ctl, hits[i].field, hits[i].value, &fd);
            CHECK(rc == CU_OK, "find %s '%s' (scope %d): %s", hits[i].field, hits[i].value,
                  scope, f->err.msg);
            CHECK(fd.n == 1, "find %s '%s': %d hits", hits[i].field, hits[i].value, fd.n);
            CHECK(strcmp(fd.ids[0], hits[i].which ? b : a) == 0, "find %s '%s': wrong subject",
                  hits[i].field, hits[i].value);
        }
    }
    /* No match. */
    FAILS(f, CU_ENOTFOUND, find(f, f->ctl, "nhs_number", "9990000018", &fd));
    FAILS(f, CU_ENOTFOUND, find(f, NULL, "email", "nobody@example.org", &fd));
    FAILS(f, CU_ENOTFOUND, find(f, f->ctl, "local_ref", "mrn-0042", &fd)); /* exact */
    assert_int_equal(fd.n, 0);
    /* Only identifier fields, and only valid values, can be searched. */
    FAILS(f, CU_EINVAL, find(f, f->ctl, "name", "Zebedee Quux", &fd));
    assert_null(strstr(f->err.msg, "Zebedee"));
    FAILS(f, CU_EINVAL, find(f, f->ctl, "diagnosis", "asthma", &fd));
    FAILS(f, CU_EINVAL, find(f, f->ctl, "nhs_number", "9434765918", &fd));
    assert_null(strstr(f->err.msg, "9434765918"));
    FAILS(f, CU_EINVAL, find(f, "bad-controller", "email", "a@b.org", &fd));
    FAILS(f, CU_ENOTFOUND,
          find(f, "99999999-9999-4999-8999-999999999999", "email", "ysolde@example.org", &fd));

    /* A non-unique identifier finds every subject that has it. */
    char c[CU_ID_STRLEN];
    add_subject(f, "{'name': 'C', 'email': 'YSOLDE@example.org'}", c);
    OK(f, find(f, f->ctl, "email", "ysolde@example.org", &fd));
    assert_int_equal(fd.n, 2);
    assert_true((strcmp(fd.ids[0], b) == 0 && strcmp(fd.ids[1], c) == 0) ||
                (strcmp(fd.ids[0], c) == 0 && strcmp(fd.ids[1], b) == 0));

    /* Blind indexes are per controller: another controller's subject with the
     * same email is found only when searching there or everywhere. */
    char ctl2[CU_ID_STRLEN], d2[CU_ID_STRLEN];
    OK(f, cu_controller_add(f->v, &OPERATOR, "Other Practice", ctl2, &f->err));
    OK(f, test_policy_apply(f->v, &OPERATOR, ctl2, &f->err));
    OK(f, add_subject_in(f, ctl2, "{'name': 'D', 'email': 'ysolde@example.org'}", d2));
    OK(f, find(f, f->ctl, "email", "ysolde@example.org", &fd));
    assert_int_equal(fd.n, 2);
    OK(f, find(f, ctl2, "email", "ysolde@example.org", &fd));
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.ids[0], d2);
    OK(f, find(f, NULL, "email", "ysolde@example.org", &fd));
    assert_int_equal(fd.n, 3);
    /* The stored indexes differ across controllers for the same value: A's
     * email, B and C's shared one, and D's (the same text, another controller). */
    assert_int_equal(db_int(f, "SELECT count(*) FROM identifiers WHERE kind = 'email'", NULL),
                     4);
    assert_int_equal(db_int(f, "SELECT count(DISTINCT bidx) FROM identifiers WHERE kind = "
                               "'email'",
                            NULL),
                     3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM identifiers i JOIN identifiers j ON "
                               "i.bidx = j.bidx AND i.subject_id != j.subject_id WHERE "
                               "i.subject_id = ?1",
                            d2),
                     0);
}

/* ------------------------------------------------- duplicate NHS number ---- */

static void test_duplicate_nhs_number(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    cu_store_counts before = counts(f);
    int64_t idents = db_int(f, "SELECT count(*) FROM identifiers", NULL);
    int64_t keys = db_int(f, "SELECT count(*) FROM subject_keys", NULL);

    FAILS(f, CU_ECONFLICT,
          add_subject_in(f, f->ctl,
                         "{'name': 'Impostor', 'email': 'imp@example.org', "
                         "'nhs_number': '943-476-5919', 'items': [{'category': 'health', "
                         "'field': 'x', 'value': 'y'}]}",
                         b));
    assert_int_equal(f->err.code, CU_ECONFLICT);
    assert_null(strstr(f->err.msg, "9434765919"));
    assert_null(strstr(f->err.msg, "943"));
    /* Nothing was written: no subject, item, key, index or audit event. */
    cu_store_counts after = counts(f);
    assert_int_equal(after.subjects, before.subjects);
    assert_int_equal(after.items, before.items);
    assert_int_equal(after.audit_events, before.audit_events);
    assert_int_equal(db_int(f, "SELECT count(*) FROM identifiers", NULL), idents);
    assert_int_equal(db_int(f, "SELECT count(*) FROM subject_keys", NULL), keys);
    assert_true(verify(f).ok);

    /* Adding the number to another subject's items is refused the same way. */
    add_subject(f, DOC_B, b);
    before = counts(f);
    FAILS(f, CU_ECONFLICT, add_items(f, b, "{'nhs_number': '9434765919'}", NULL));
    assert_int_equal(counts(f).items, before.items);
    assert_int_equal(counts(f).audit_events, before.audit_events);
    /* And rectifying B's number to A's. */
    cu_subject_view sv;
    OK(f, get(f, b, &sv));
    char item[CU_ID_STRLEN];
    cu_strlcpy(item, view_item(&sv, "nhs_number")->id, sizeof item);
    cu_subject_view_release(&sv);
    char patch[256];
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': '943 476 5919'}]}", item);
    before = counts(f);
    FAILS(f, CU_ECONFLICT, rectify(f, b, patch));
    assert_int_equal(counts(f).audit_events, before.audit_events);
    OK(f, get(f, b, &sv));
    assert_true(view_has(&sv, "nhs_number", "4010232137"));
    cu_subject_view_release(&sv);

    /* The same number under another controller is a different patient record. */
    char ctl2[CU_ID_STRLEN], c[CU_ID_STRLEN];
    OK(f, cu_controller_add(f->v, &OPERATOR, "Other Trust", ctl2, &f->err));
    OK(f, test_policy_apply(f->v, &OPERATOR, ctl2, &f->err));
    OK(f, add_subject_in(f, ctl2, "{'nhs_number': '9434765919'}", c));
    /* Re-stating a subject's own number is not a conflict. */
    OK(f, add_items(f, a, "{'nhs_number': '9434765919'}", NULL));
}

/* ------------------------------------------------------ ciphertext swap ---- */

static void item_id_of(fx *f, const char *subject, const char *field, const char *value,
                       char out[CU_ID_STRLEN])
{
    cu_subject_view sv;
    OK(f, get(f, subject, &sv));
    out[0] = '\0';
    for (size_t i = 0; i < sv.n; i++)
        if (strcmp(sv.items[i].field, field) == 0 &&
            (!value || strcmp(cu_buf_str(&sv.items[i].value), value) == 0))
            cu_strlcpy(out, sv.items[i].id, CU_ID_STRLEN);
    cu_subject_view_release(&sv);
    CHECK(out[0], "no %s item", field);
}

static void expect_corrupt(fx *f, const char *subject, const char *what)
{
    cu_subject_view sv;
    int rc = get(f, subject, &sv);
    CHECK(rc == CU_ECORRUPT, "%s: get returned %s (%s)", what, cu_status_name((cu_status)rc),
          f->err.msg);
    assert_int_equal(f->err.code, CU_ECORRUPT);
    CHECK(sv.n == 0 && sv.items == NULL, "%s: items returned", what);
    /* The message names ids, never the values involved. */
    static const char *const values[] = {"Zebedee", "Ysolde", "asthma", "eczema", "note",
                                         "Acacia", "Elm"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        CHECK(strstr(f->err.msg, values[i]) == NULL, "%s: message shows '%s'", what,
              values[i]);
}

/* A read refused with code, returning nothing and naming ids only. */
static void expect_refused(fx *f, const char *subject, int code, const char *what)
{
    cu_subject_view sv;
    cu_err_clear(&f->err);
    int rc = get(f, subject, &sv);
    CHECK(rc == code, "%s: get returned %s (%s)", what, cu_status_name((cu_status)rc),
          f->err.msg);
    CHECK(sv.n == 0 && sv.items == NULL, "%s: items returned", what);
    static const char *const values[] = {"Zebedee", "Ysolde", "asthma", "eczema", "note",
                                         "Acacia", "Elm"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        CHECK(strstr(f->err.msg, values[i]) == NULL, "%s: message shows '%s'", what,
              values[i]);
    cu_err_clear(&f->err);
}

static void test_ciphertext_swap_between_subjects(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    add_subject(f, DOC_B, b);
    char a_diag[CU_ID_STRLEN], b_diag[CU_ID_STRLEN], a_name[CU_ID_STRLEN], b_name[CU_ID_STRLEN];
    item_id_of(f, a, "diagnosis", NULL, a_diag);
    item_id_of(f, b, "diagnosis", NULL, b_diag);
    item_id_of(f, a, "name", NULL, a_name);
    item_id_of(f, b, "name", NULL, b_name);
    close_vault(f);
    static const char copy[] = "UPDATE items SET value = (SELECT value FROM items WHERE id = ?1)"
                               " WHERE id = ?2";

    /* A's diagnosis ciphertext over B's diagnosis. */
    assert_int_equal(db_exec(f, copy, a_diag, b_diag), 1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    expect_corrupt(f, b, "A.diagnosis -> B.diagnosis");
    /* A itself is intact. */
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "diagnosis", "asthma, moderate"));
    cu_subject_view_release(&sv);

    /* B's name ciphertext over A's name (same field, other subject). */
    close_vault(f);
    assert_int_equal(db_exec(f, copy, b_name, a_name), 1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    expect_corrupt(f, a, "B.name -> A.name");

    /* Failed reads were undone entirely; the trail still verifies. */
    assert_true(verify(f).ok);
}

static void test_ciphertext_swap_within_subject(void **state)
{
    fx *f = *state;
    enum { N = 7 };
    char s[N][CU_ID_STRLEN], control[CU_ID_STRLEN];
    for (int i = 0; i < N; i++)
        add_subject(f, DOC_C, s[i]);
    add_subject(f, DOC_C, control);
    char name0[CU_ID_STRLEN], addr0[CU_ID_STRLEN], note1a[CU_ID_STRLEN], note1b[CU_ID_STRLEN];
    char name2[CU_ID_STRLEN], note3[CU_ID_STRLEN], name5[CU_ID_STRLEN];
    item_id_of(f, s[0], "name", NULL, name0);
    item_id_of(f, s[0], "address", NULL, addr0);
    item_id_of(f, s[1], "note", "first note", note1a);
    item_id_of(f, s[1], "note", "second note", note1b);
    item_id_of(f, s[2], "name", NULL, name2);
    item_id_of(f, s[3], "note", "first note", note3);
    item_id_of(f, s[5], "name", NULL, name5);
    close_vault(f);
    static const char copy[] = "UPDATE items SET value = (SELECT value FROM items WHERE id = ?1)"
                               " WHERE id = ?2";
    /* 0: one field's ciphertext over another field of the same subject. */
    assert_int_equal(db_exec(f, copy, name0, addr0), 1);
    /* 1: one item over another item of the same field and subject. */
    assert_int_equal(db_exec(f, copy, note1a, note1b), 1);
    /* 2: relabelling an item's field. */
    assert_int_equal(db_exec(f, "UPDATE items SET field = 'address' WHERE id = ?1", name2, NULL),
                     1);
    /* 3: moving an item row to another subject (s4). */
    assert_int_equal(db_exec(f, "UPDATE items SET subject_id = ?2 WHERE id = ?1", note3, s[4]), 1);
    /* 5: flipping a ciphertext byte. */
    assert_int_equal(db_exec(f, "UPDATE items SET value = substr(value, 1, 30) || "
                                "x'00' || substr(value, 32) WHERE id = ?1 AND "
                                "substr(value, 31, 1) != x'00'",
                             name5, NULL) +
                         db_exec(f, "UPDATE items SET value = substr(value, 1, 30) || "
                                    "x'01' || substr(value, 32) WHERE id = ?1 AND "
                                    "substr(value, 31, 1) = x'00'",
                                 name5, NULL),
                     1);
    /* 6: the subject's key version relabelled. */
    assert_int_equal(db_exec(f, "UPDATE subjects SET key_version = 2 WHERE id = ?1", s[6], NULL),
                     1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    expect_corrupt(f, s[0], "name over address");
    expect_corrupt(f, s[1], "note over note");
    expect_corrupt(f, s[2], "field relabelled");
    expect_corrupt(f, s[4], "row moved to another subject");
    expect_corrupt(f, s[5], "flipped byte");
    /* The key version is covered by the subject row's code. */
    expect_refused(f, s[6], CU_ETAMPER, "key version relabelled");
    /* s3 lost an item: what remains is authentic, but not all it had. */
    expect_refused(f, s[3], CU_ETAMPER, "item moved away");
    /* The control is intact. */
    cu_subject_view sv;
    OK(f, get(f, control, &sv));
    assert_int_equal(sv.n, 4);
    assert_true(view_has(&sv, "note", "first note") && view_has(&sv, "note", "second note"));
    cu_subject_view_release(&sv);
}

/* ------------------------------------------------------ row authentication ---- */

typedef struct bad_rows {
    int n;
    char first[160];
} bad_rows;

static int note_bad(void *ctx, const char *table, const char *row, const char *problem)
{
    bad_rows *b = ctx;
    if (b->n++ == 0)
        snprintf(b->first, sizeof b->first, "%s %s: %s", table, row, problem);
    return 0;
}

/* Verifies the whole store; returns the bad rows (first one in b->first). */
static bad_rows rows_verify(fx *f)
{
    bad_rows b = {0};
    int64_t rows = 0, bad = 0;
    cu_err_clear(&f->err);
    int rc = cu_integrity_verify(f->v, note_bad, &b, &rows, &bad, &f->err);
    CHECK(rc == (b.n ? CU_ETAMPER : CU_OK), "verify: %s", f->err.msg);
    CHECK(bad == b.n, "bad %lld, reported %d", (long long)bad, b.n);
    assert_true(rows > 0);
    cu_err_clear(&f->err);
    return b;
}

/* Each alteration of a subject, its items or its controller is refused at
 * use and named by verification; the other subjects are untouched. */
static void test_row_tampering(void **state)
{
    fx *f = *state;
    enum { N = 7 };
    char s[N][CU_ID_STRLEN], control[CU_ID_STRLEN];
    for (int i = 0; i < N; i++)
        add_subject(f, DOC_C, s[i]);
    add_subject(f, DOC_C, control);
    OK(f, cu_subject_restrict(f->v, &OPERATOR, s[4], true, &f->err));
    char note0[CU_ID_STRLEN], note1[CU_ID_STRLEN], note2[CU_ID_STRLEN];
    item_id_of(f, s[0], "note", "first note", note0);
    item_id_of(f, s[1], "note", "first note", note1);
    item_id_of(f, s[2], "note", "first note", note2);
    assert_int_equal(rows_verify(f).n, 0);
    /* s[1]'s note as it was, then rectified. */
    close_vault(f);
    db_exec(f, "CREATE TABLE old AS SELECT value, version FROM items WHERE id = ?1", note1, NULL);
    assert_int_equal(db_int(f, "SELECT count(*) FROM old", NULL), 1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    char patch[160];
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': 'amended'}]}", note1);
    OK(f, rectify(f, s[1], patch));
    close_vault(f);
    /* 0: a health item relabelled as contact (which a care administrator reads). */
    assert_int_equal(db_exec(f, "UPDATE items SET category = 'contact' WHERE id = ?1", note0,
                             NULL),
                     1);
    /* 1: the old value put back, with its old version. */
    assert_int_equal(db_exec(f, "UPDATE items SET (value, version) = (SELECT value, version "
                                "FROM old) WHERE id = ?1", note1, NULL),
                     1);
    /* 2: an item deleted. */
    assert_int_equal(db_exec(f, "DELETE FROM items WHERE id = ?1", note2, NULL), 1);
    /* 3: the subject's kind changed. */
    assert_int_equal(db_exec(f, "UPDATE subjects SET kind = 'employee' WHERE id = ?1", s[3],
                             NULL),
                     1);
    /* 4: a restriction lifted. */
    assert_int_equal(db_exec(f, "UPDATE subjects SET restricted_at = NULL WHERE id = ?1", s[4],
                             NULL),
                     1);
    /* 5: an objection count changed. */
    assert_int_equal(db_exec(f, "UPDATE subjects SET objecting = 3 WHERE id = ?1", s[5], NULL),
                     1);
    /* 6: the row code removed. */
    assert_int_equal(db_exec(f, "UPDATE subjects SET mac = NULL WHERE id = ?1", s[6], NULL), 1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    cu_subject_view sv;
    int rc = get(f, s[0], &sv);
    CHECK(rc == CU_ETAMPER || rc == CU_ECORRUPT, "relabelled: %s", cu_status_name((cu_status)rc));
    CHECK(sv.n == 0, "relabelled: items returned");
    expect_refused(f, s[1], CU_ETAMPER, "rolled back");
    expect_refused(f, s[2], CU_ETAMPER, "item deleted");
    expect_refused(f, s[3], CU_ETAMPER, "kind changed");
    expect_refused(f, s[4], CU_ETAMPER, "restriction lifted");
    expect_refused(f, s[5], CU_ETAMPER, "objections changed");
    expect_refused(f, s[6], CU_ETAMPER, "no row code");
    /* A rectification of a rolled-back subject is refused too. */
    FAILS(f, CU_ETAMPER, rectify(f, s[1], patch));
    OK(f, get(f, control, &sv));
    assert_int_equal(sv.n, 4);
    cu_subject_view_release(&sv);
    /* A listing refuses rather than skipping (or showing) an altered row. */
    /* Seven subjects, the relabelled value under its new label, and the
     * subject whose objection count no longer matches its objection rows. */
    bad_rows b = rows_verify(f);
    assert_int_equal(b.n, 9);
    assert_non_null(strstr(b.first, "subjects "));

    /* A controller renamed. */
    close_vault(f);
    assert_int_equal(db_exec(f, "UPDATE controllers SET name = 'Elsewhere' WHERE id = ?1",
                             f->ctl, NULL),
                     1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    char id[CU_ID_STRLEN];
    cu_err_clear(&f->err);
    FAILS(f, CU_ETAMPER, add_subject_in(f, f->ctl, DOC_C, id));
    assert_non_null(strstr(f->err.msg, "controllers"));
    assert_int_equal(rows_verify(f).n, 10);
}

/* A later page of a subject is checked against its item digest without
 * reading every item row again only while nothing else has written the
 * database: an item deleted by another connection between two pages of
 * the same open vault is caught at the next page. */
static void test_page_check_after_outside_write(void **state)
{
    fx *f = *state;
    char sid[CU_ID_STRLEN], gone[CU_ID_STRLEN];
    add_subject(f, DOC_C, sid);
    item_id_of(f, sid, "note", "first note", gone);
    cu_subject_view sv;
    OK(f, cu_subject_get_page(f->v, &OPERATOR, sid, NULL, 1, false, &sv, &f->err));
    assert_true(sv.next[0] != '\0');
    char next[CU_CURSOR_STRLEN];
    cu_strlcpy(next, sv.next, sizeof next);
    cu_subject_view_release(&sv);
    /* the second page, from the cache of checked subjects */
    OK(f, cu_subject_get_page(f->v, &OPERATOR, sid, next, 1, false, &sv, &f->err));
    cu_subject_view_release(&sv);
    /* another connection deletes an item while the vault stays open */
    assert_int_equal(db_exec(f, "DELETE FROM items WHERE id = ?1", gone, NULL), 1);
    cu_err_clear(&f->err);
    int rc = cu_subject_get_page(f->v, &OPERATOR, sid, next, 1, false, &sv, &f->err);
    assert_int_equal(rc, CU_ETAMPER);
    assert_non_null(strstr(f->err.msg, "do not match its record"));
}

/* An identifier row pointed at another subject does not make a search
 * answer with that subject. */
static void test_identifier_redirect(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN], b_email[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    add_subject(f, DOC_B, b);
    item_id_of(f, b, "email", NULL, b_email);
    close_vault(f);
    /* A's NHS number index now names B and B's email item. */
    assert_int_equal(db_exec(f, "UPDATE identifiers SET subject_id = ?2, item_id = ?1 "
                                "WHERE kind = 'nhs_number' AND subject_id = (SELECT id FROM "
                                "subjects WHERE id != ?2 LIMIT 1)", b_email, b),
                     1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    found fd = {0};
    cu_err_clear(&f->err);
    int rc = cu_subject_find(f->v, &OPERATOR, f->ctl, "nhs_number", "9434765919", 10,
                             found_cb, &fd, &f->err);
    CHECK(rc == CU_ETAMPER, "search returned %s", cu_status_name((cu_status)rc));
    assert_int_equal(fd.n, 0);
    /* B's own index still finds B. */
    fd.n = 0;
    OK(f, cu_subject_find(f->v, &OPERATOR, f->ctl, "nhs_number", "4010232137", 10, found_cb,
                          &fd, &f->err));
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.ids[0], b);
}

/* A subject's data key comes only through an authorised operation: not
 * without one, not through an operation begun but not (or not yet)
 * authorised, nor through the integrity check's path outside its walk. */
static void test_subject_key_needs_authorised_op(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    cu_key dek;
    FAILS(f, CU_EINTERNAL, cu_op_subject_key(f->v, NULL, a, &dek, NULL, &f->err));
    FAILS(f, CU_EINTERNAL, cu_op_check_subject_key(f->v, a, &dek, &f->err));
    cu_op op;
    OK(f, cu_op_begin(f->v, &op, &OPERATOR, CU_ACT_SUBJECT_READ, "read", &f->err));
    FAILS(f, CU_EINTERNAL, cu_op_subject_key(f->v, &op, a, &dek, NULL, &f->err));
    cu_subject_rec rec;
    OK(f, cu_op_open_subject(f->v, &op, a, &rec, &f->err));
    int64_t version = 0;
    OK(f, cu_op_subject_key(f->v, &op, a, &dek, &version, &f->err));
    assert_int_equal(version, rec.key_version);
    cu_key_wipe(&dek);
    OK(f, cu_op_end(f->v, &op, CU_OK, NULL, NULL, &f->err));
    /* A refused operation gets no key either. */
    cu_actor nobody = OPERATOR;
    nobody.role = "clinician";
    nobody.roles = 0;
    nobody.purpose = "direct_care";
    OK(f, cu_op_begin(f->v, &op, &nobody, CU_ACT_SUBJECT_READ, "read", &f->err));
    assert_int_not_equal(cu_op_open_subject(f->v, &op, a, &rec, &f->err), CU_OK);
    FAILS(f, CU_EINTERNAL, cu_op_subject_key(f->v, &op, a, &dek, NULL, &f->err));
    assert_int_equal(cu_op_end(f->v, &op, CU_EDENIED, NULL, NULL, &f->err), CU_EDENIED);
}

/* A store without an integrity key opens only for checking; sealing it
 * authenticates the rows, reseals values stored under the associated data
 * of unversioned items, and is audited. */
static void test_seal_legacy_store(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], note[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    item_id_of(f, a, "note", "first note", note);
    /* The note as a store made before item versions held it. */
    cu_subject_rec rec;
    OK(f, cu_store_subject_get(f->v->store, a, &rec, &f->err));
    cu_key dek;
    cu_op op = {.authorised = true}; /* as an authorised operation holds it */
    OK(f, cu_op_subject_key(f->v, &op, a, &dek, NULL, &f->err));
    unsigned char ad[CU_AD_MAX];
    size_t n = cu_ad_item(ad, rec.controller_id, a, note, "note", rec.key_version);
    cu_buf sealed;
    cu_buf_init(&sealed, 4096);
    assert_int_equal(cu_aead_seal(&dek, ad, n, "first note", 10, &sealed), CU_OK);
    cu_key_wipe(&dek);
    OK(f, cu_store_begin(f->v->store, &f->err));
    OK(f, cu_store_item_reseal(f->v->store, a, note, sealed.data, sealed.len, 1, &f->err));
    OK(f, cu_store_commit(f->v->store, &f->err));
    cu_buf_release(&sealed);
    int64_t events = cu_vault_audit_seq(f->v);
    close_vault(f);
    assert_int_equal(db_exec(f, "DELETE FROM keyring WHERE name = 'integrity'", NULL, NULL), 1);
    assert_int_equal(db_exec(f, "UPDATE subjects SET mac = NULL, item_digest = NULL", NULL,
                             NULL),
                     1);
    cu_err_clear(&f->err);
    FAILS(f, CU_ETAMPER, cu_vault_open(f->store, NULL, &f->v, &f->err));
    OK(f, cu_vault_open_unsealed(f->store, NULL, &f->v, &f->err));
    int64_t rows = 0;
    OK(f, cu_integrity_seal(f->v, &OPERATOR, &rows, &f->err));
    assert_true(rows >= 5);
    assert_int_equal(cu_vault_audit_seq(f->v), events + 1);
    reopen(f);
    assert_int_equal(rows_verify(f).n, 0);
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "note", "first note"));
    assert_int_equal(sv.n, 4);
    cu_subject_view_release(&sv);
}

static void test_wrapped_key_swap(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    add_subject(f, DOC_C, b);
    close_vault(f);
    /* B's wrapped data key put in A's place: bound to B, it does not unwrap for A. */
    assert_int_equal(db_exec(f, "UPDATE subject_keys SET wrapped = (SELECT wrapped FROM "
                                "subject_keys WHERE subject_id = ?2) WHERE subject_id = ?1",
                             a, b),
                     1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    expect_corrupt(f, a, "wrapped key swapped");
    cu_subject_view sv;
    OK(f, get(f, b, &sv));
    cu_subject_view_release(&sv);
}

static cu_verify_report reopen_and_verify(fx *f)
{
    if (f->v)
        close_vault(f);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    return verify(f);
}

static void expect_bad(const cu_verify_report *rep, int64_t first_bad, const char *reason)
{
    CHECK(!rep->ok, "tampering not detected (%s)", reason);
    CHECK(rep->first_bad == first_bad, "first_bad %lld, want %lld (%s)",
          (long long)rep->first_bad, (long long)first_bad, rep->reason);
    CHECK(strstr(rep->reason, reason) != NULL, "reason '%s' lacks '%s'", rep->reason, reason);
}

/* Damage to the store's keys and metadata is refused with a message. */
static void test_store_key_damage(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    add_subject(f, DOC_C, b);
    close_vault(f);
    cu_vault *v = NULL;

    /* A live subject whose data key is gone is damage, not "not found". */
    assert_int_equal(db_exec(f, "DELETE FROM subject_keys WHERE subject_id = ?1", a, NULL), 1);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    cu_subject_view sv;
    FAILS(f, CU_ECORRUPT, get(f, a, &sv));
    FAILS(f, CU_ECORRUPT, add_items(f, a, "{'name': 'x'}", NULL));
    OK(f, get(f, b, &sv));
    cu_subject_view_release(&sv);
    close_vault(f);

    /* A damaged store-wide key. */
    unsigned char w[128];
    sqlite3 *h = db_open(f);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT wrapped FROM keyring WHERE name = "
                                           "'index_root'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    assert_true(n <= sizeof w);
    memcpy(w, sqlite3_column_blob(st, 0), n);
    sqlite3_finalize(st);
    sqlite3_close(h);
    unsigned char bad[128];
    memcpy(bad, w, n);
    bad[n - 1] ^= 1;
    h = db_open(f);
    assert_int_equal(sqlite3_prepare_v2(h, "UPDATE keyring SET wrapped = ?1 WHERE name = "
                                           "'index_root'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, bad, (int)n, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
    FAILS(f, CU_ECORRUPT, cu_vault_open(f->store, NULL, &v, &f->err));
    assert_null(v);
    /* The index key swapped for the signing key: bound by name, refused too. */
    db_exec(f, "UPDATE keyring SET wrapped = (SELECT wrapped FROM keyring WHERE name = "
               "'audit_signing') WHERE name = 'index_root'",
            NULL, NULL);
    FAILS(f, CU_ECORRUPT, cu_vault_open(f->store, NULL, &v, &f->err));
    h = db_open(f);
    assert_int_equal(sqlite3_prepare_v2(h, "UPDATE keyring SET wrapped = ?1 WHERE name = "
                                           "'index_root'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, w, (int)n, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
    OK(f, cu_vault_open(f->store, NULL, &v, &f->err));
    cu_vault_close(v);
    v = NULL;

    /* A replaced audit public key. */
    db_exec(f, "UPDATE meta SET value = zeroblob(32) WHERE key = 'audit_public_key'", NULL,
            NULL);
    FAILS(f, CU_ETAMPER, cu_vault_open(f->store, NULL, &v, &f->err));
    assert_null(v);
    db_exec(f, "DELETE FROM meta WHERE key = 'audit_public_key'", NULL, NULL);
    FAILS(f, CU_ETAMPER, cu_vault_open(f->store, NULL, &v, &f->err));
}

static void test_store_identity_damage(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    close_vault(f);
    cu_vault *v = NULL;
    /* Another recorded master key id: the key file no longer matches. */
    db_exec(f, "UPDATE meta SET value = 'ffffffffffffffffffffffffffffffff' WHERE key = "
               "'master_key_id'",
            NULL, NULL);
    FAILS(f, CU_EKEY, cu_vault_open(f->store, NULL, &v, &f->err));
    assert_null(v);
    db_exec(f, "DELETE FROM meta WHERE key = 'master_key_id'", NULL, NULL);
    FAILS(f, CU_ECORRUPT, cu_vault_open(f->store, NULL, &v, &f->err));
    close_vault(f);
}

static void test_store_id_changed(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    close_vault(f);
    /* The chain and its pin start from the store id: a trail moved to (or
     * relabelled as) another store does not verify; the pin, signed over the
     * store id, is the first thing that fails. */
    db_exec(f, "UPDATE meta SET value = '123e4567-e89b-42d3-a456-426614174000' WHERE key = "
               "'store_id'",
            NULL, NULL);
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, 0, "pin is not signed by this store");
    close_vault(f);
    db_exec(f, "UPDATE meta SET value = 'short' WHERE key = 'store_id'", NULL, NULL);
    cu_vault *v = NULL;
    FAILS(f, CU_ECORRUPT, cu_vault_open(f->store, NULL, &v, &f->err));
}

/* ----------------------------------------------------------- rectify ---- */

typedef struct payloads {
    int events, with_payload;
    char text[4][2048];
    char actions[32][16];
} payloads;

static int payload_cb(void *ctx, const cu_audit_decoded *e, const cu_buf *payload)
{
    payloads *p = ctx;
    if (p->events < 32)
        view_copy(p->actions[p->events], sizeof p->actions[0], e->action);
    p->events++;
    if (payload) {
        if (p->with_payload < 4)
            cu_strlcpy(p->text[p->with_payload], cu_buf_str(payload), sizeof p->text[0]);
        p->with_payload++;
    }
    return 0;
}

static payloads list_subject_events(fx *f, const char *subject, bool with_values)
{
    payloads p;
    memset(&p, 0, sizeof p);
    cu_audit_filter flt = {.subject_id = subject};
    OK(f, cu_audit_list(f->v, &OPERATOR, &flt, with_values, payload_cb, &p, &f->err));
    return p;
}

/* ------------------------------------ family name and date of birth ---- */

static int find_nb(fx *f, const char *ctl, const char *family, const char *birth, found *out)
{
    memset(out, 0, sizeof *out);
    cu_err_clear(&f->err);
    return cu_subject_find_name_birth(f->v, &OPERATOR, ctl, family, strlen(family), birth,
                                      found_cb, out, &f->err);
}

static int64_t nb_rows(fx *f, const char *subject)
{
    return db_int(f, "SELECT count(*) FROM identifiers WHERE kind = 'name_birth' AND "
                     "subject_id = ?1",
                  subject);
}

static void test_name_birth_index(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN], c[CU_ID_STRLEN];
    /* U+00E1 and U+2019 in the stored name */
    add_subject(f, "{'name': 'Siobh\xc3\xa1n O\xe2\x80\x99" "Brien-Smith', "
                   "'birth_date': '1971-03-14'}", a);
    add_subject(f, "{'name': 'Bertram Smith', 'birth_date': '1980-01-02'}", b);
    add_subject(f, "{'name': 'Carys Lovelace'}", c);
    /* "smith", "obrien smith" (the name has three words) */
    assert_int_equal(nb_rows(f, a), 2);
    assert_int_equal(nb_rows(f, b), 1);
    assert_int_equal(nb_rows(f, c), 0); /* no date of birth, no row */
    /* the key is blind: neither the name nor the date is in the row */
    assert_int_equal(db_int(f, "SELECT count(*) FROM identifiers WHERE kind = 'name_birth' "
                               "AND (instr(bidx, 'smith') > 0 OR instr(bidx, '1971') > 0)",
                            NULL),
                     0);

    found fd;
    int64_t before = audit_seq(f);
    OK(f, find_nb(f, f->ctl, "O'Brien-Smith", "1971-03-14", &fd));
    expect_one_event(f, before, "search", "ok");
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.ids[0], a);
    OK(f, find_nb(f, NULL, "  o\xe2\x80\x99" "brien   SMITH ", "1971-03-14", &fd));
    assert_int_equal(fd.n, 1);
    OK(f, find_nb(f, f->ctl, "Smith", "1971-03-14", &fd));
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.ids[0], a);
    OK(f, find_nb(f, f->ctl, "SMITH", "1980-01-02", &fd));
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.ids[0], b);
    /* a misspelt name, a wrong date, a whole name, another's name: nothing */
    before = audit_seq(f);
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "Smyth", "1971-03-14", &fd));
    expect_one_event(f, before, "search", "not_found");
    assert_null(strstr(f->err.msg, "myth"));
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "Smith", "1971-03-15", &fd));
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "Siobhan OBrien Smith", "1971-03-14", &fd));
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "Lovelace", "1971-03-14", &fd));
    /* not a family name or not a date: refused before anything is read */
    before = audit_seq(f);
    FAILS(f, CU_EINVAL, find_nb(f, f->ctl, "", "1971-03-14", &fd));
    FAILS(f, CU_EINVAL, find_nb(f, f->ctl, "1234", "1971-03-14", &fd));
    FAILS(f, CU_EINVAL, find_nb(f, f->ctl, "Smith", "1971-02-30", &fd));
    FAILS(f, CU_EINVAL, find_nb(f, f->ctl, "Smith", "14/03/1971", &fd));
    FAILS(f, CU_EINVAL, find_nb(f, f->ctl, "Smith", "1971-03-1", &fd));
    assert_int_equal(audit_seq(f), before);

    /* rectified: the index follows the name and the date */
    char name[CU_ID_STRLEN], patch[256];
    item_id_of(f, a, "name", NULL, name);
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': 'Ada Lovelace'}]}", name);
    OK(f, rectify(f, a, patch));
    assert_int_equal(nb_rows(f, a), 1);
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "Smith", "1971-03-14", &fd));
    OK(f, find_nb(f, f->ctl, "Lovelace", "1971-03-14", &fd));
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.ids[0], a);
    OK(f, rectify(f, a, "{'birth_date': '1935-12-10'}"));
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "Lovelace", "1971-03-14", &fd));
    OK(f, find_nb(f, f->ctl, "Lovelace", "1935-12-10", &fd));
    assert_int_equal(fd.n, 1);
    assert_int_equal(nb_rows(f, a), 1);

    /* a date of birth added later: now indexed */
    OK(f, add_items(f, c, "{'birth_date': '1990-05-05'}", NULL));
    assert_int_equal(nb_rows(f, c), 1);
    OK(f, find_nb(f, f->ctl, "lovelace", "1990-05-05", &fd));
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.ids[0], c);

    /* a row pointed at another subject answers nothing */
    assert_int_equal(db_exec(f, "UPDATE identifiers SET subject_id = ?1 WHERE kind = "
                                "'name_birth' AND subject_id = ?2",
                             b, c),
                     1);
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "lovelace", "1990-05-05", &fd));

    /* subjects from before the index: rebuilt by reindex, one event each */
    assert_int_equal(db_exec(f, "DELETE FROM identifiers WHERE kind = 'name_birth'", NULL,
                             NULL),
                     3);
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "Lovelace", "1935-12-10", &fd));
    size_t done = 0;
    before = audit_seq(f);
    OK(f, cu_subject_reindex(f->v, &OPERATOR, f->ctl, &done, &f->err));
    assert_int_equal(done, 3);
    assert_int_equal(audit_seq(f), before + 4); /* the listing and three updates */
    assert_int_equal(nb_rows(f, a), 1);
    assert_int_equal(nb_rows(f, b), 1);
    assert_int_equal(nb_rows(f, c), 1);
    OK(f, find_nb(f, f->ctl, "Lovelace", "1935-12-10", &fd));
    assert_int_equal(fd.n, 1);
    OK(f, find_nb(f, f->ctl, "lovelace", "1990-05-05", &fd));
    assert_string_equal(fd.ids[0], c);

    /* erased: the rows go, the search finds nothing */
    int64_t at = 0;
    OK(f, cu_subject_erase(f->v, &OPERATOR, a, &at, &f->err));
    assert_int_equal(nb_rows(f, a), 0);
    FAILS(f, CU_ENOTFOUND, find_nb(f, f->ctl, "Lovelace", "1935-12-10", &fd));
    assert_true(verify(f).ok);
}

static void test_rectify(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    add_subject(f, DOC_B, b);
    char name[CU_ID_STRLEN], email[CU_ID_STRLEN], b_name[CU_ID_STRLEN];
    item_id_of(f, a, "name", NULL, name);
    item_id_of(f, a, "email", NULL, email);
    item_id_of(f, b, "name", NULL, b_name);

    /* By item id. */
    char patch[512];
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': 'Zebedee Q. Quux-Smith'}]}",
             name);
    int64_t before = audit_seq(f);
    OK(f, rectify(f, a, patch));
    ev e = expect_one_event(f, before, "update", "ok");
    assert_true(e.payload_len > 0);
    assert_string_equal(e.subject, a);
    assert_string_equal(e.controller, f->ctl);
    assert_non_null(strstr(e.categories, "contact"));
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "name", "Zebedee Q. Quux-Smith"));
    assert_false(view_has(&sv, "name", "Zebedee Quux"));
    assert_int_equal(sv.n, 11);
    assert_true(view_item(&sv, "name")->updated_at >= view_item(&sv, "name")->recorded_at);
    cu_subject_view_release(&sv);

    /* The old and the new value are kept, sealed, in the audit event. */
    payloads p = list_subject_events(f, a, true);
    assert_int_equal(p.with_payload, 1);
    assert_non_null(strstr(p.text[0], "\"old\":\"Zebedee Quux\""));
    assert_non_null(strstr(p.text[0], "\"new\":\"Zebedee Q. Quux-Smith\""));
    assert_non_null(strstr(p.text[0], "\"field\":\"name\""));
    assert_non_null(strstr(p.text[0], name));
    p = list_subject_events(f, a, false);
    assert_int_equal(p.with_payload, 0);
    assert_true(p.events >= 4); /* create, reads, update, audit reads of it */

    /* A top-level field: the newest such item is changed and re-indexed. */
    OK(f, rectify(f, a, "{'email': 'New.Address@Example.org'}"));
    found fd;
    FAILS(f, CU_ENOTFOUND, find(f, f->ctl, "email", "zeb.quux@example.org", &fd));
    OK(f, find(f, f->ctl, "email", "NEW.ADDRESS@example.org", &fd));
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.ids[0], a);
    p = list_subject_events(f, a, true);
    assert_int_equal(p.with_payload, 2);
    assert_non_null(strstr(p.text[1], "\"old\":\"zeb.quux@example.org\""));

    /* A known field by item id is normalised like new input. */
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': ' UPPER@EXAMPLE.ORG '}]}",
             email);
    OK(f, rectify(f, a, patch));
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "email", "upper@example.org"));
    cu_subject_view_release(&sv);
    OK(f, find(f, NULL, "email", "upper@example.org", &fd));
    assert_int_equal(fd.n, 1);
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': 'zebedee@@x'}]}", email);
    FAILS(f, CU_EINVAL, rectify(f, a, patch));
    assert_null(strstr(f->err.msg, "zebedee"));

    /* A field the subject did not have is added. */
    OK(f, rectify(f, b, "{'phone': '07700 900123'}"));
    OK(f, find(f, f->ctl, "phone", "07700900123", &fd));
    assert_string_equal(fd.ids[0], b);

    /* Unknown items, and another subject's items, are refused; nothing changes. */
    before = audit_seq(f);
    FAILS(f, CU_EINVAL,
          rectify(f, a, "{'items': [{'id': '99999999-9999-4999-8999-999999999999', "
                        "'value': 'x'}]}"));
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': 'Hijack'}]}", b_name);
    FAILS(f, CU_EINVAL, rectify(f, a, patch));
    /* A patch that fails half-way leaves the first change undone too. */
    snprintf(patch, sizeof patch,
             "{'items': [{'id': '%s', 'value': 'Partial'}, {'id': '%s', 'value': 'x'}]}", name,
             "99999999-9999-4999-8999-999999999999");
    FAILS(f, CU_EINVAL, rectify(f, a, patch));
    assert_int_equal(audit_seq(f), before);
    OK(f, get(f, b, &sv));
    assert_true(view_has(&sv, "name", "Ysolde Vane"));
    cu_subject_view_release(&sv);
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "name", "Zebedee Q. Quux-Smith"));
    cu_subject_view_release(&sv);
    FAILS(f, CU_ENOTFOUND, rectify(f, "99999999-9999-4999-8999-999999999999",
                                   "{'name': 'Nobody'}"));

    /* The old values are not readable in the store files. */
    close_vault(f);
    assert_false(store_files_contain(f, "Zebedee Quux", 12));
    assert_false(store_files_contain(f, "zeb.quux", 8));
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    assert_true(verify(f).ok);
}

/* ------------------------------------------------------------- erase ---- */

static size_t db_blob_s(fx *f, const char *sql, const char *key, unsigned char *out,
                        size_t cap)
{
    sqlite3 *h = db_open(f);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    assert_true(n <= cap);
    memcpy(out, sqlite3_column_blob(st, 0), n);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static void test_erase(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    add_subject(f, DOC_B, b);
    char name[CU_ID_STRLEN], patch[256];
    item_id_of(f, a, "name", NULL, name);
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': 'Z. Quux'}]}", name);
    OK(f, rectify(f, a, patch));
    assert_int_equal(list_subject_events(f, a, true).with_payload, 1);

    unsigned char wrapped[128], sealed[256];
    size_t wn = db_blob_s(f, "SELECT wrapped FROM subject_keys WHERE subject_id = ?1", a,
                          wrapped, sizeof wrapped);
    assert_int_equal(wn, CU_WRAPPED_KEY_BYTES);
    size_t sn = db_blob_s(f, "SELECT value FROM items WHERE id = ?1", name, sealed,
                          sizeof sealed);

    int64_t before = audit_seq(f), erased_at = 0;
    OK(f, cu_subject_erase(f->v, &OPERATOR, a, &erased_at, &f->err));
    assert_true(erased_at > 0);
    ev e = expect_one_event(f, before, "erase", "ok");
    assert_string_equal(e.subject, a);
    assert_non_null(strstr(e.categories, "health"));
    assert_non_null(strstr(e.categories, "identifying"));

    /* Reading it says erased, with when. */
    cu_subject_view sv;
    before = audit_seq(f);
    FAILS(f, CU_EERASED, get(f, a, &sv));
    expect_one_event(f, before, "read", "erased");
    assert_int_equal(sv.rec.erased_at, erased_at);
    assert_string_equal(sv.rec.id, a);
    assert_int_equal(sv.n, 0);
    assert_null(sv.items);
    cu_subject_view_release(&sv);

    /* Items, indexes and the data key are gone; the subject row remains. */
    assert_int_equal(db_int(f, "SELECT count(*) FROM items WHERE subject_id = ?1", a), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM identifiers WHERE subject_id = ?1", a), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM subject_keys WHERE subject_id = ?1", a), 0);
    assert_int_equal(db_int(f, "SELECT erased_at FROM subjects WHERE id = ?1", a), erased_at);
    cu_store_counts c = counts(f);
    assert_int_equal(c.subjects, 1);
    assert_int_equal(c.erased, 1);

    /* Search no longer finds it; B is untouched. */
    found fd;
    FAILS(f, CU_ENOTFOUND, find(f, f->ctl, "nhs_number", "9434765919", &fd));
    FAILS(f, CU_ENOTFOUND, find(f, NULL, "email", "zeb.quux@example.org", &fd));
    OK(f, find(f, f->ctl, "nhs_number", "4010232137", &fd));
    assert_string_equal(fd.ids[0], b);
    OK(f, get(f, b, &sv));
    assert_true(view_has(&sv, "name", "Ysolde Vane"));
    cu_subject_view_release(&sv);

    /* The trail verifies; the old value in it is unreadable now. */
    assert_true(verify(f).ok);
    payloads p = list_subject_events(f, a, true);
    assert_int_equal(p.with_payload, 0);
    assert_true(p.events >= 5);

    /* Everything else on the erased subject is refused as erased. */
    int64_t again = 0;
    FAILS(f, CU_EERASED, cu_subject_erase(f->v, &OPERATOR, a, &again, &f->err));
    assert_int_equal(again, erased_at);
    FAILS(f, CU_EERASED, add_items(f, a, "{'name': 'Back'}", NULL));
    FAILS(f, CU_EERASED, rectify(f, a, "{'name': 'Back'}"));
    FAILS(f, CU_ENOTFOUND, cu_subject_erase(f->v, &OPERATOR,
                                            "99999999-9999-4999-8999-999999999999", NULL,
                                            &f->err));
    /* The NHS number is free again for a new record. */
    char a2[CU_ID_STRLEN];
    add_subject(f, "{'nhs_number': '9434765919'}", a2);

    /* Crypto-shredding reaches the files: neither the wrapped key nor the old
     * ciphertexts remain in the database or its WAL. */
    close_vault(f);
    assert_false(store_files_contain(f, wrapped, wn));
    assert_false(store_files_contain(f, sealed + CU_AEAD_NONCE_BYTES, sn - CU_AEAD_NONCE_BYTES));
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    assert_true(verify(f).ok);
}

/* Erasure reaches the files while the vault stays open, in a batch or not. */
static void test_erase_shreds_files_while_open(void **state)
{
    fx *f = *state;
    for (int batch = 0; batch < 2; batch++) {
        char a[CU_ID_STRLEN];
        add_subject(f, DOC_C, a);
        unsigned char wrapped[128];
        size_t wn = db_blob_s(f, "SELECT wrapped FROM subject_keys WHERE subject_id = ?1", a,
                              wrapped, sizeof wrapped);
        assert_true(store_files_contain(f, wrapped, wn));
        if (batch)
            OK(f, cu_vault_batch_begin(f->v, &f->err));
        OK(f, cu_subject_erase(f->v, &OPERATOR, a, NULL, &f->err));
        if (batch)
            OK(f, cu_vault_batch_commit(f->v, &f->err));
        CHECK(!store_files_contain(f, wrapped, wn),
              "%s: the erased data key is still in the store files",
              batch ? "batch" : "single");
    }
}

/* ---------------------------------------------------- key rotation ---- */

static void test_key_rotation(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    char key[PATH_MAX + 32], next[PATH_MAX + 40], old[PATH_MAX + 16], older[PATH_MAX + 16];
    snprintf(key, sizeof key, "%s/master.key", f->store);
    snprintf(next, sizeof next, "%s.next", key);
    snprintf(old, sizeof old, "%s/old.key", f->root);
    snprintf(older, sizeof older, "%s/older.key", f->root);
    copy_file(key, old);
    char name[CU_ID_STRLEN];
    item_id_of(f, a, "name", NULL, name);
    unsigned char sealed_before[256], sealed_after[256];
    size_t n_before = db_blob_s(f, "SELECT value FROM items WHERE id = ?1", name, sealed_before,
                                sizeof sealed_before);

    char kid[2 * CU_KEYID_BYTES + 1];
    int64_t before = audit_seq(f);
    OK(f, cu_vault_rotate_master(f->v, &OPERATOR, kid, &f->err));
    expect_one_event(f, before, "key", "ok");
    assert_int_equal(strlen(kid), 32);
    assert_int_equal(db_int(f, "SELECT value = CAST(?1 AS BLOB) FROM meta WHERE key = "
                               "'master_key_id'",
                            kid),
                     1);
    assert_int_not_equal(access(next, F_OK), 0);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* Item ciphertexts are not touched by a rotation. */
    size_t n_after = db_blob_s(f, "SELECT value FROM items WHERE id = ?1", name, sealed_after,
                               sizeof sealed_after);
    assert_int_equal(n_before, n_after);
    assert_memory_equal(sealed_before, sealed_after, n_before);

    /* Same session: reads and writes work. */
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "name", "Zebedee Quux"));
    cu_subject_view_release(&sv);
    char b[CU_ID_STRLEN];
    add_subject(f, DOC_B, b);

    /* Reopened with the new key file: values, indexes and signatures work. */
    reopen(f);
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 11);
    assert_true(view_has(&sv, "name", "Zebedee Quux"));
    assert_true(view_has(&sv, "diagnosis", "asthma, moderate"));
    cu_subject_view_release(&sv);
    OK(f, get(f, b, &sv));
    assert_true(view_has(&sv, "name", "Ysolde Vane"));
    cu_subject_view_release(&sv);
    found fd;
    OK(f, find(f, f->ctl, "nhs_number", "9434765919", &fd));
    assert_string_equal(fd.ids[0], a);
    assert_true(verify(f).ok);

    /* The pre-rotation key no longer opens the store. */
    cu_vault *v = NULL;
    FAILS(f, CU_EKEY, cu_vault_open(f->store, old, &v, &f->err));
    assert_null(v);

    /* A second rotation: the first rotation's key is refused in turn. */
    copy_file(key, older);
    char kid2[2 * CU_KEYID_BYTES + 1];
    OK(f, cu_vault_rotate_master(f->v, &OPERATOR, kid2, &f->err));
    assert_string_not_equal(kid, kid2);
    reopen(f);
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "name", "Zebedee Quux"));
    cu_subject_view_release(&sv);
    FAILS(f, CU_EKEY, cu_vault_open(f->store, older, &v, &f->err));
    FAILS(f, CU_EKEY, cu_vault_open(f->store, old, &v, &f->err));
    assert_true(verify(f).ok);
}

/* A rotation interrupted after the store committed but before the key file
 * was replaced: the next open completes it from <key>.next. */
static void test_key_rotation_recovery(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    char key[PATH_MAX + 32], next[PATH_MAX + 40], old[PATH_MAX + 16];
    snprintf(key, sizeof key, "%s/master.key", f->store);
    snprintf(next, sizeof next, "%s.next", key);
    snprintf(old, sizeof old, "%s/old.key", f->root);
    copy_file(key, old);
    char kid[2 * CU_KEYID_BYTES + 1];
    OK(f, cu_vault_rotate_master(f->v, &OPERATOR, kid, &f->err));
    close_vault(f);
    /* Put the files back as they were at the crash. */
    assert_int_equal(rename(key, next), 0);
    copy_file(old, key);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    assert_int_not_equal(access(next, F_OK), 0);
    cu_key *k = NULL;
    OK(f, cu_keyfile_load(key, &k, &f->err));
    unsigned char id[CU_KEYID_BYTES];
    char hex[2 * CU_KEYID_BYTES + 1];
    cu_key_id(k, id);
    cu_hex(id, sizeof id, hex);
    cu_key_free(k);
    assert_string_equal(hex, kid);
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "name", "Zebedee Quux"));
    cu_subject_view_release(&sv);

    /* A stale <key>.next that the store does not name is ignored. */
    close_vault(f);
    copy_file(old, next);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    assert_int_equal(access(next, F_OK), 0);
    assert_true(verify(f).ok);
}

/* Rotation inside a batch would replace the key file before the batch is
 * durable: an abort or a crash would leave a store whose key is gone. */
static void test_key_rotation_in_batch(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    char kid[2 * CU_KEYID_BYTES + 1];
    cu_err_clear(&f->err);
    int rc = cu_vault_rotate_master(f->v, &OPERATOR, kid, &f->err);
    cu_vault_batch_abort(f->v);
    CHECK(rc != CU_OK, "rotation inside a batch was accepted");
    assert_int_not_equal(f->err.code, CU_OK);
    /* Whatever happened, the store still opens with its key file. */
    close_vault(f);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    cu_subject_view_release(&sv);
    /* And a rotation outside a batch works. */
    OK(f, cu_vault_rotate_master(f->v, &OPERATOR, kid, &f->err));
    reopen(f);
    assert_true(verify(f).ok);
}

/* Two processes on one store: one rotates the master key; the other, opened
 * before, notices at the start of its next transaction (the store's
 * master_key_id) and loads the new key before it wraps or unwraps anything,
 * whether the new key is still in <key>.next or already renamed. */
static void test_key_rotation_by_another_process(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN], c[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    cu_vault *other = NULL;
    OK(f, cu_vault_open(f->store, NULL, &other, &f->err));
    char kid[2 * CU_KEYID_BYTES + 1];
    OK(f, cu_vault_rotate_master(other, &OPERATOR, kid, &f->err));
    /* f->v still holds the old key in memory: a new subject must be wrapped
     * under the new one, and reads must work. */
    add_subject(f, DOC_B, b);
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_true(view_has(&sv, "name", "Zebedee Quux"));
    cu_subject_view_release(&sv);
    /* The other process (the one with the new key) reads what this one made. */
    cu_vault *mine = f->v;
    f->v = other;
    OK(f, get(f, b, &sv));
    assert_true(view_has(&sv, "name", "Ysolde Vane"));
    cu_subject_view_release(&sv);

    /* Between commit and rename: the new key is only in <key>.next. */
    char key[PATH_MAX + 32], next[PATH_MAX + 40], kid2[2 * CU_KEYID_BYTES + 1];
    snprintf(key, sizeof key, "%s/master.key", f->store);
    snprintf(next, sizeof next, "%s.next", key);
    OK(f, cu_vault_rotate_master(other, &OPERATOR, kid2, &f->err));
    assert_int_equal(rename(key, next), 0);
    f->v = mine;
    add_subject(f, DOC_C, c);
    OK(f, get(f, c, &sv));
    cu_subject_view_release(&sv);
    assert_int_equal(access(next, F_OK), 0); /* the rename is the rotation's, or an open's */
    /* A rotation by this process completes the pending rename first, then
     * makes its own. */
    char kid3[2 * CU_KEYID_BYTES + 1];
    OK(f, cu_vault_rotate_master(f->v, &OPERATOR, kid3, &f->err));
    assert_int_not_equal(access(next, F_OK), 0);
    f->v = other;
    OK(f, get(f, c, &sv));
    assert_true(view_has(&sv, "name", "Xan Wren"));
    cu_subject_view_release(&sv);

    /* A key that is nowhere: refused, nothing wrapped under a stale key. */
    char aside[PATH_MAX + 40];
    snprintf(aside, sizeof aside, "%s.aside", key);
    f->v = mine;
    OK(f, cu_vault_rotate_master(f->v, &OPERATOR, kid, &f->err));
    assert_int_equal(rename(key, aside), 0);
    f->v = other;
    int64_t nsubj = db_int(f, "SELECT count(*) FROM subjects", NULL);
    char d[CU_ID_STRLEN];
    cu_err_clear(&f->err);
    assert_int_equal(add_subject_in(f, f->ctl, DOC_B, d), CU_EKEY);
    CHECK(strstr(f->err.msg, "has been rotated") != NULL, "unclear error: %s", f->err.msg);
    FAILS(f, CU_EKEY, get(f, a, &sv));
    assert_int_equal(db_int(f, "SELECT count(*) FROM subjects", NULL), nsubj);
    assert_int_equal(rename(aside, key), 0);
    OK(f, get(f, a, &sv));
    cu_subject_view_release(&sv);
    cu_vault_close(other);
    f->v = mine;
    reopen(f);
    OK(f, get(f, b, &sv));
    cu_subject_view_release(&sv);
    assert_true(verify(f).ok);
}

/* Many items in one subject, many subjects sharing one identifier. */
static void test_many_items_and_matches(void **state)
{
    fx *f = *state;
    cu_buf json;
    cu_buf_init(&json, 0);
    assert_int_equal(cu_buf_append_str(&json, "{\"items\": ["), CU_OK);
    for (int i = 0; i < CU_MAX_VALUES; i++)
        assert_int_equal(cu_buf_printf(&json, "%s{\"category\": \"health\", \"field\": "
                                              "\"obs%d\", \"value\": \"value %d\"}",
                                       i ? "," : "", i, i),
                         CU_OK);
    assert_int_equal(cu_buf_append_str(&json, "]}"), CU_OK);
    cu_doc d;
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_doc_parse(json.data, json.len, CU_DOC_SUBJECT, &d, &err);
    cu_buf_release(&json);
    CHECK(rc == CU_OK, "parse: %s", err.msg);
    char a[CU_ID_STRLEN];
    OK(f, cu_subject_add(f->v, &OPERATOR, f->ctl, "patient", &d, a, &f->err));
    cu_doc_release(&d);
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, CU_MAX_VALUES);
    bool seen[CU_MAX_VALUES] = {false};
    for (size_t i = 0; i < sv.n; i++) {
        int k = -1;
        CHECK(sscanf(sv.items[i].field, "obs%d", &k) == 1 && k >= 0 && k < CU_MAX_VALUES,
              "field %s", sv.items[i].field);
        char want[32];
        snprintf(want, sizeof want, "value %d", k);
        CHECK(strcmp(cu_buf_str(&sv.items[i].value), want) == 0, "obs%d", k);
        CHECK(!seen[k], "obs%d twice", k);
        seen[k] = true;
    }
    cu_subject_view_release(&sv);

    enum { SHARED = 20 };
    char ids[SHARED][CU_ID_STRLEN];
    for (int i = 0; i < SHARED; i++)
        add_subject(f, "{'email': 'family@example.org'}", ids[i]);
    found fd;
    OK(f, find(f, f->ctl, "email", "family@example.org", &fd));
    assert_int_equal(fd.n, SHARED);
    int n = 0;
    OK(f, cu_subject_list(f->v, &OPERATOR, f->ctl, count_subject_cb, &n, &f->err));
    assert_int_equal(n, SHARED + 1);
}

/* ----------------------------------------------- one event per operation ---- */

static int ignore_event_cb(void *ctx, const cu_audit_decoded *e, const cu_buf *payload)
{
    (void)e;
    (void)payload;
    (*(int *)ctx)++;
    return 0;
}

static void test_one_event_per_operation(void **state)
{
    fx *f = *state;
    int64_t before = audit_seq(f);
    char ctl2[CU_ID_STRLEN];
    OK(f, cu_controller_add(f->v, &OPERATOR, "Second Trust", ctl2, &f->err));
    ev e = expect_one_event(f, before, "create", "ok");
    assert_string_equal(e.controller, ctl2);
    assert_string_equal(e.actor, "tester");
    before = audit_seq(f);
    OK(f, test_policy_apply(f->v, &OPERATOR, ctl2, &f->err));
    e = expect_one_event(f, before, "policy.apply", "ok");
    assert_string_equal(e.controller, ctl2);

    char a[CU_ID_STRLEN];
    before = audit_seq(f);
    add_subject(f, DOC_A, a);
    e = expect_one_event(f, before, "create", "ok");
    assert_string_equal(e.subject, a);
    assert_string_equal(e.controller, f->ctl);

    before = audit_seq(f);
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'x', 'value': '1'}, "
                          "{'category': 'health', 'field': 'y', 'value': '2'}]}",
                    NULL));
    expect_one_event(f, before, "create", "ok");

    cu_subject_view sv;
    before = audit_seq(f);
    OK(f, get(f, a, &sv));
    cu_subject_view_release(&sv);
    e = expect_one_event(f, before, "read", "ok");
    assert_string_equal(e.subject, a);
    assert_non_null(strstr(e.categories, "health"));

    before = audit_seq(f);
    FAILS(f, CU_ENOTFOUND, get(f, "99999999-9999-4999-8999-999999999999", &sv));
    e = expect_one_event(f, before, "read", "not_found");
    assert_string_equal(e.subject, "99999999-9999-4999-8999-999999999999");

    found fd;
    before = audit_seq(f);
    OK(f, find(f, f->ctl, "nhs_number", "9434765919", &fd));
    e = expect_one_event(f, before, "search", "ok");
    assert_string_equal(e.subject, a);
    before = audit_seq(f);
    FAILS(f, CU_ENOTFOUND, find(f, NULL, "email", "nobody@example.org", &fd));
    expect_one_event(f, before, "search", "not_found");

    before = audit_seq(f);
    OK(f, rectify(f, a, "{'name': 'Renamed'}"));
    expect_one_event(f, before, "update", "ok");

    int n = 0;
    before = audit_seq(f);
    OK(f, cu_subject_list(f->v, &OPERATOR, f->ctl, count_subject_cb, &n, &f->err));
    assert_int_equal(n, 1);
    expect_one_event(f, before, "search", "ok");
    n = 0;
    OK(f, cu_subject_list(f->v, &OPERATOR, ctl2, count_subject_cb, &n, &f->err));
    assert_int_equal(n, 0);

    before = audit_seq(f);
    n = 0;
    OK(f, cu_audit_list(f->v, &OPERATOR, NULL, false, ignore_event_cb, &n, &f->err));
    assert_int_equal(n, before); /* it lists the events before its own */
    expect_one_event(f, before, "audit", "ok");

    cu_verify_report rep;
    before = audit_seq(f);
    OK(f, cu_audit_check(f->v, &OPERATOR, &rep, &f->err));
    assert_true(rep.ok);
    assert_int_equal(rep.events, before);
    expect_one_event(f, before, "audit", "ok");

    before = audit_seq(f);
    OK(f, cu_subject_erase(f->v, &OPERATOR, a, NULL, &f->err));
    expect_one_event(f, before, "erase", "ok");

    before = audit_seq(f);
    FAILS(f, CU_EERASED, get(f, a, &sv));
    expect_one_event(f, before, "read", "erased");

    char kid[2 * CU_KEYID_BYTES + 1];
    before = audit_seq(f);
    OK(f, cu_vault_rotate_master(f->v, &OPERATOR, kid, &f->err));
    expect_one_event(f, before, "key", "ok");

    /* Input refused before any data is touched leaves no event. */
    before = audit_seq(f);
    FAILS(f, CU_EINVAL, get(f, "not-an-id", &sv));
    FAILS(f, CU_EINVAL, find(f, f->ctl, "nhs_number", "12", &fd));
    FAILS(f, CU_EINVAL, cu_subject_list(f->v, &OPERATOR, "bad", count_subject_cb, &n, &f->err));
    assert_int_equal(audit_seq(f), before);

    /* Every event is signed into a chain that verifies. */
    reopen(f);
    rep = verify(f);
    assert_true(rep.ok);
    assert_int_equal(rep.events, audit_seq(f));
}

static void test_denied(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    const cu_actor analyst = {.name = "ann", .role = "analyst", .purpose = "reporting",
                              .via = "unit test"};
    cu_subject_view sv;
    int64_t before = audit_seq(f);
    cu_err_clear(&f->err);
    assert_int_equal(cu_subject_get(f->v, &analyst, a, &sv, &f->err), CU_EDENIED);
    assert_int_equal(sv.n, 0);
    ev e = expect_one_event(f, before, "read", "denied");
    assert_string_equal(e.actor, "ann");
    assert_string_equal(e.subject, a);

    /* A denied change is undone but recorded. */
    cu_doc d;
    parse(DOC_C, CU_DOC_SUBJECT, &d);
    char id[CU_ID_STRLEN];
    before = audit_seq(f);
    cu_err_clear(&f->err);
    assert_int_equal(cu_subject_add(f->v, &analyst, f->ctl, "patient", &d, id, &f->err),
                     CU_EDENIED);
    expect_one_event(f, before, "create", "denied");
    assert_int_equal(counts(f).subjects, 1);
    before = audit_seq(f);
    cu_err_clear(&f->err);
    assert_int_equal(cu_subject_erase(f->v, &analyst, a, NULL, &f->err), CU_EDENIED);
    expect_one_event(f, before, "erase", "denied");
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 4);
    cu_subject_view_release(&sv);

    /* No authenticated actor, or no purpose: refused. */
    const cu_actor nobody = {.name = "has space", .role = "operator",
                             .purpose = "administration"};
    const cu_actor no_purpose = {.name = "tester", .role = "operator", .purpose = NULL};
    const cu_actor no_role = {.name = "tester", .role = NULL, .purpose = "administration"};
    FAILS(f, CU_EDENIED, cu_subject_get(f->v, &nobody, a, &sv, &f->err));
    FAILS(f, CU_EDENIED, cu_subject_get(f->v, NULL, a, &sv, &f->err));
    FAILS(f, CU_EINVAL, cu_subject_get(f->v, &no_purpose, a, &sv, &f->err));
    FAILS(f, CU_EDENIED, cu_subject_get(f->v, &no_role, a, &sv, &f->err));
    cu_doc_release(&d);
    assert_true(verify(f).ok);
}

static void test_audit_list_filters(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    add_subject(f, DOC_C, b);
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    cu_subject_view_release(&sv);
    OK(f, get(f, b, &sv));
    cu_subject_view_release(&sv);
    OK(f, get(f, a, &sv));
    cu_subject_view_release(&sv);
    payloads p = list_subject_events(f, a, false);
    assert_int_equal(p.events, 3); /* create, read, read */
    assert_string_equal(p.actions[0], "create");
    assert_string_equal(p.actions[1], "read");
    assert_string_equal(p.actions[2], "read");
    int n = 0;
    cu_audit_filter by_actor = {.actor = "someone-else"};
    OK(f, cu_audit_list(f->v, &OPERATOR, &by_actor, false, ignore_event_cb, &n, &f->err));
    assert_int_equal(n, 0);
    cu_audit_filter lim = {.limit = 2, .after_seq = 1};
    OK(f, cu_audit_list(f->v, &OPERATOR, &lim, false, ignore_event_cb, &n, &f->err));
    assert_int_equal(n, 2);
    cu_audit_filter bad = {.subject_id = "nope"};
    FAILS(f, CU_EINVAL, cu_audit_list(f->v, &OPERATOR, &bad, false, ignore_event_cb, &n,
                                      &f->err));
}

/* Two connections to one store (two custos processes): each transaction
 * chains on the other's events. */
/* A purpose removed by a new policy version is refused at once, also by
 * another connection that had the old version cached. */
static void test_policy_change_seen_by_other_connection(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    cu_vault *w = NULL;
    OK(f, cu_vault_open(f->store, NULL, &w, &f->err));
    const cu_actor reporting = {.name = "tester", .role = "operator", .purpose = "reporting",
                                .via = "unit test"};
    cu_subject_view sv;
    OK(f, cu_subject_get(w, &reporting, a, &sv, &f->err));
    cu_subject_view_release(&sv);
    /* version 2 without the reporting purpose, applied through the first connection */
    FILE *pf = fopen(CUSTOS_SOURCE_ROOT "/tests/data/test-policy.json", "rb");
    assert_non_null(pf);
    cu_buf doc;
    cu_buf_init(&doc, CU_POLICY_MAX_BYTES + 1);
    OK(f, cu_read_stream(pf, CU_POLICY_MAX_BYTES, &doc, &f->err));
    fclose(pf);
    const char *cut = strstr((const char *)doc.data, "{\"id\": \"reporting\"");
    assert_non_null(cut);
    const char *end = strstr(cut, "}\n  ],");
    assert_non_null(end);
    /* drop ",\n    {reporting ...}" : from the comma before it to its closing brace */
    const char *comma = cut;
    while (comma > (const char *)doc.data && *comma != ',')
        comma--;
    cu_buf v2;
    cu_buf_init(&v2, CU_POLICY_MAX_BYTES + 1);
    OK(f, cu_buf_append(&v2, doc.data, (size_t)(comma - (const char *)doc.data)));
    OK(f, cu_buf_append(&v2, end + 1, strlen(end + 1)));
    int64_t version = 0;
    bool changed = false;
    OK(f, cu_policy_apply(f->v, &OPERATOR, f->ctl, v2.data, v2.len, NULL, &version, &changed,
                          &f->err));
    assert_int_equal(version, 2);
    assert_true(changed);
    FAILS(f, CU_EDENIED, cu_subject_get(w, &reporting, a, &sv, &f->err));
    assert_non_null(strstr(f->err.msg, "purpose-not-in-policy"));
    FAILS(f, CU_EDENIED, cu_subject_get(f->v, &reporting, a, &sv, &f->err));
    /* the purposes still declared work on both */
    OK(f, cu_subject_get(w, &OPERATOR, a, &sv, &f->err));
    cu_subject_view_release(&sv);
    cu_vault_close(w);
    cu_buf_release(&doc);
    cu_buf_release(&v2);
}

static void test_two_connections(void **state)
{
    fx *f = *state;
    cu_vault *w = NULL;
    OK(f, cu_vault_open(f->store, NULL, &w, &f->err));
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    cu_doc d;
    parse(DOC_B, CU_DOC_SUBJECT, &d);
    OK(f, cu_subject_add(w, &OPERATOR, f->ctl, "patient", &d, b, &f->err));
    cu_doc_release(&d);
    cu_subject_view sv;
    OK(f, cu_subject_get(w, &OPERATOR, a, &sv, &f->err));
    assert_true(view_has(&sv, "name", "Zebedee Quux"));
    cu_subject_view_release(&sv);
    OK(f, get(f, b, &sv));
    assert_true(view_has(&sv, "name", "Ysolde Vane"));
    cu_subject_view_release(&sv);
    /* The second connection sees the first's NHS numbers too. */
    parse("{'nhs_number': '9434765919'}", CU_DOC_SUBJECT, &d);
    char c[CU_ID_STRLEN];
    FAILS(f, CU_ECONFLICT, cu_subject_add(w, &OPERATOR, f->ctl, "patient", &d, c, &f->err));
    cu_doc_release(&d);
    OK(f, cu_subject_erase(w, &OPERATOR, a, NULL, &f->err));
    FAILS(f, CU_EERASED, get(f, a, &sv));
    cu_verify_report rep;
    OK(f, cu_audit_verify(w, &rep, &f->err));
    assert_true(rep.ok);
    cu_vault_close(w);
    rep = verify(f);
    assert_true(rep.ok);
    assert_int_equal(rep.events, audit_seq(f));
    assert_int_equal(rep.events, 8);
}

/* A vault keeps its audit head across its own commits, and loads it again
 * after another connection's: two vaults on one store taking turns, each
 * also running several transactions in a row and one that fails, leave one
 * chain with every event in it. */
static void test_two_connections_take_turns(void **state)
{
    fx *f = *state;
    cu_vault *w = NULL;
    OK(f, cu_vault_open(f->store, NULL, &w, &f->err));
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    int64_t before = audit_seq(f);
    int events = 0;
    cu_subject_view sv;
    for (int round = 0; round < 4; round++) {
        OK(f, get(f, a, &sv)); /* f->v, after w's commits (none in round 0) */
        cu_subject_view_release(&sv);
        OK(f, get(f, a, &sv)); /* f->v again: its own commit was the last */
        cu_subject_view_release(&sv);
        OK(f, cu_subject_get(w, &OPERATOR, a, &sv, &f->err)); /* w, after f->v's */
        cu_subject_view_release(&sv);
        OK(f, cu_subject_get(w, &OPERATOR, a, &sv, &f->err));
        cu_subject_view_release(&sv);
        events += 4;
        assert_int_equal(audit_seq(f), before + events);
        /* a refused add on w (a taken NHS number): its subject is not
         * written, and at most its refusal is recorded */
        cu_doc d;
        parse(DOC_A, CU_DOC_SUBJECT, &d);
        char c[CU_ID_STRLEN];
        FAILS(f, CU_ECONFLICT, cu_subject_add(w, &OPERATOR, f->ctl, "patient", &d, c, &f->err));
        cu_doc_release(&d);
        int64_t now = audit_seq(f);
        assert_true(now == before + events || now == before + events + 1);
        events = (int)(now - before);
    }
    cu_verify_report rep;
    OK(f, cu_audit_verify(w, &rep, &f->err));
    assert_true(rep.ok);
    cu_vault_close(w);
    rep = verify(f);
    assert_true(rep.ok);
    assert_int_equal(rep.events, audit_seq(f));
    assert_int_equal(rep.events, before + events);
}

/* ----------------------------------------------------------- sessions ---- */

static const char STAFF_PW[] = "correct horse battery staple";

/* Adds a clinician and signs them in: the session token in token. */
static void staff_session(fx *f, const char *username, char token[CU_TOKEN_STRLEN])
{
    char id[CU_ID_STRLEN], b32[CU_TOTP_B32_LEN];
    OK(f, cu_user_add(f->v, &OPERATOR, f->ctl, username, "clinician", STAFF_PW,
                      strlen(STAFF_PW), false, id, b32, &f->err));
    cu_signin s;
    OK(f, cu_signin_prepare(f->v, username, &s, &f->err));
    cu_signin_result res;
    cu_principal p;
    OK(f, cu_signin_finish(f->v, &s, true, NULL, "unit test", &res, token, &p, &f->err));
    assert_int_equal(res, CU_SIGNIN_OK);
    cu_wipe(&s, sizeof s);
}

#define IDLE_US (30LL * 60 * 1000000)
#define MAX_US (12LL * 3600 * 1000000)

/* One batch that authenticates token: its status, and the principal in p. */
static int auth_batch(fx *f, const char *token, cu_principal *p)
{
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    cu_err_clear(&f->err);
    int rc = cu_authenticate(f->v, token, strlen(token), IDLE_US, MAX_US, p, &f->err);
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    return rc;
}

/* Credentials accepted earlier are remembered between batches, but a change
 * to accounts, sessions or tokens, by this connection or another, is seen by
 * the next request (the next batch, for another connection). */
static void test_session_cache(void **state)
{
    fx *f = *state;
    char nurse[CU_TOKEN_STRLEN], porter[CU_TOKEN_STRLEN], locum[CU_TOKEN_STRLEN];
    staff_session(f, "nurse", nurse);
    staff_session(f, "porter", porter);
    staff_session(f, "locum", locum);
    cu_principal p;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(auth_batch(f, nurse, &p), CU_OK);
        assert_string_equal(p.name, "nurse");
        assert_int_equal(p.roles, CU_ROLE_CLINICIAN);
        assert_int_equal(auth_batch(f, porter, &p), CU_OK);
        assert_string_equal(p.name, "porter");
    }

    /* Another connection (the CLI) disables an account between batches. */
    cu_vault *w = NULL;
    OK(f, cu_vault_open(f->store, NULL, &w, &f->err));
    OK(f, cu_user_disable(w, &OPERATOR, "nurse", &f->err));
    assert_int_equal(auth_batch(f, nurse, &p), CU_EDENIED);
    assert_int_equal(auth_batch(f, porter, &p), CU_OK);

    /* Sign-out through this connection, in the middle of a batch. */
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    OK(f, cu_authenticate(f->v, porter, strlen(porter), IDLE_US, MAX_US, &p, &f->err));
    OK(f, cu_signout(f->v, &p, "unit test", &f->err));
    FAILS(f, CU_EDENIED, cu_authenticate(f->v, porter, strlen(porter), IDLE_US, MAX_US, &p,
                                         &f->err));
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    assert_int_equal(auth_batch(f, porter, &p), CU_EDENIED);

    /* A password reset by this connection ends the account's sessions. */
    assert_int_equal(auth_batch(f, locum, &p), CU_OK);
    OK(f, cu_user_reset_password(f->v, &OPERATOR, "locum", "a new passphrase 42", 19,
                                 &f->err));
    assert_int_equal(auth_batch(f, locum, &p), CU_EDENIED);

    /* An API token revoked by another connection. */
    char tok[CU_TOKEN_STRLEN], tok_id[CU_ID_STRLEN];
    OK(f, cu_api_token_create(f->v, &OPERATOR, f->ctl, "clinician", "feed", tok, tok_id,
                              &f->err));
    assert_int_equal(auth_batch(f, tok, &p), CU_OK);
    assert_true(p.token);
    assert_int_equal(auth_batch(f, tok, &p), CU_OK);
    /* An administrator of another controller cannot revoke it: refused as
     * if there were no such token, and it keeps working. */
    char ctl2[CU_ID_STRLEN];
    OK(f, cu_controller_add(f->v, &OPERATOR, "Other Trust", ctl2, &f->err));
    const cu_actor other_admin = {.name = "oadmin", .role = "admin", .purpose = "administration",
                                  .via = "unit test", .roles = CU_ROLE_ADMIN,
                                  .user_id = "00000000-0000-4000-8000-000000000009",
                                  .controller_id = ctl2};
    assert_int_equal(cu_api_token_revoke(f->v, &other_admin, tok_id, &f->err), CU_ENOTFOUND);
    assert_null(strstr(f->err.msg, f->ctl));
    f->err = (cu_err){0};
    assert_int_equal(auth_batch(f, tok, &p), CU_OK);
    OK(f, cu_api_token_revoke(w, &OPERATOR, tok_id, &f->err));
    assert_int_equal(auth_batch(f, tok, &p), CU_EDENIED);

    /* Idle and absolute expiry hold for a remembered session. */
    char sister[CU_TOKEN_STRLEN];
    staff_session(f, "sister", sister);
    assert_int_equal(auth_batch(f, sister, &p), CU_OK);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    FAILS(f, CU_EDENIED, cu_authenticate(f->v, sister, strlen(sister), -1, MAX_US, &p,
                                         &f->err));
    assert_non_null(strstr(f->err.msg, "inactivity"));
    FAILS(f, CU_EDENIED, cu_authenticate(f->v, sister, strlen(sister), IDLE_US, -1, &p,
                                         &f->err));
    assert_non_null(strstr(f->err.msg, "maximum age"));
    OK(f, cu_authenticate(f->v, sister, strlen(sister), IDLE_US, MAX_US, &p, &f->err));
    OK(f, cu_vault_batch_commit(f->v, &f->err));

    /* An aborted batch that revoked a session leaves it valid, and known. */
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    OK(f, cu_authenticate(f->v, sister, strlen(sister), IDLE_US, MAX_US, &p, &f->err));
    OK(f, cu_signout(f->v, &p, "unit test", &f->err));
    FAILS(f, CU_EDENIED, cu_authenticate(f->v, sister, strlen(sister), IDLE_US, MAX_US, &p,
                                         &f->err));
    cu_vault_batch_abort(f->v);
    assert_int_equal(auth_batch(f, sister, &p), CU_OK);
    cu_vault_close(w);
    assert_true(verify(f).ok);
}

/* -------------------------------------------------------------- batch ---- */

/* The password hash a sign-in renews lands in the server's group commit (a
 * savepoint of its own, not a transaction inside the batch's), and goes with
 * the batch when it is undone. */
static void test_rehash_in_batch(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN], b32[CU_TOTP_B32_LEN];
    OK(f, cu_user_add(f->v, &OPERATOR, f->ctl, "rehash.me", "clinician", STAFF_PW,
                      strlen(STAFF_PW), false, id, b32, &f->err));
    char first[CU_PWHASH_STRBYTES], second[CU_PWHASH_STRBYTES];
    assert_int_equal(cu_pwhash("a first pass phrase", 19, first), 0);
    assert_int_equal(cu_pwhash("a second pass phrase", 20, second), 0);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    OK(f, cu_user_rehash(f->v, id, first, &f->err));
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    cu_signin s;
    OK(f, cu_signin_prepare(f->v, "rehash.me", &s, &f->err));
    assert_true(s.found && !s.tampered);
    assert_string_equal(s.user.pwhash, first);
    /* undone with its batch */
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    OK(f, cu_user_rehash(f->v, id, second, &f->err));
    cu_vault_batch_abort(f->v);
    OK(f, cu_signin_prepare(f->v, "rehash.me", &s, &f->err));
    assert_string_equal(s.user.pwhash, first);
    /* and outside any batch, in a transaction of its own */
    OK(f, cu_user_rehash(f->v, id, second, &f->err));
    OK(f, cu_signin_prepare(f->v, "rehash.me", &s, &f->err));
    assert_true(s.found && !s.tampered);
    assert_string_equal(s.user.pwhash, second);
    cu_wipe(&s, sizeof s);
}

static void test_batch_commit(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    int64_t before = audit_seq(f);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    FAILS(f, CU_EINTERNAL, cu_vault_batch_begin(f->v, &f->err));
    char ids[3][1][CU_ID_STRLEN];
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'b1', 'value': 'one'}]}",
                    ids[0]));
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'b2', 'value': 'two'}]}",
                    ids[1]));
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'b3', 'value': 'three'}]}",
                    ids[2]));
    /* Reads inside the batch see its writes. */
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 7);
    cu_subject_view_release(&sv);
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    FAILS(f, CU_EINTERNAL, cu_vault_batch_commit(f->v, &f->err));
    assert_int_equal(audit_seq(f), before + 4);

    /* Durable after reopen, and signed. */
    reopen(f);
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 7);
    assert_true(view_has(&sv, "b1", "one") && view_has(&sv, "b2", "two") &&
                view_has(&sv, "b3", "three"));
    assert_string_equal(view_item(&sv, "b2")->id, ids[1][0]);
    cu_subject_view_release(&sv);
    cu_verify_report rep = verify(f);
    assert_true(rep.ok);
    assert_int_equal(rep.events, before + 5);
}

static void test_batch_abort(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    cu_store_counts c0 = counts(f);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'x1', 'value': 'one'}]}",
                    NULL));
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'x2', 'value': 'two'}]}",
                    NULL));
    char b[CU_ID_STRLEN];
    add_subject(f, DOC_C, b);
    cu_vault_batch_abort(f->v);
    cu_store_counts c1 = counts(f);
    assert_int_equal(c1.items, c0.items);
    assert_int_equal(c1.subjects, c0.subjects);
    assert_int_equal(c1.audit_events, c0.audit_events);
    assert_true(verify(f).ok);

    /* Later operations chain on correctly, in and out of batches. */
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 4);
    assert_null(view_item(&sv, "x1"));
    cu_subject_view_release(&sv);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'x3', 'value': 'three'}]}",
                    NULL));
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    reopen(f);
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 5);
    assert_true(view_has(&sv, "x3", "three"));
    cu_subject_view_release(&sv);
    cu_verify_report rep = verify(f);
    assert_true(rep.ok);
    assert_int_equal(rep.events, audit_seq(f));
    /* Closing with a batch open aborts it. */
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'x4', 'value': 'four'}]}",
                    NULL));
    reopen(f);
    OK(f, get(f, a, &sv));
    assert_null(view_item(&sv, "x4"));
    cu_subject_view_release(&sv);
    assert_true(verify(f).ok);
}

static void test_batch_with_failing_operations(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN], dup[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    add_subject(f, DOC_C, b);
    cu_store_counts c0 = counts(f);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    OK(f, add_items(f, a, "{'items': [{'category': 'health', 'field': 'k1', 'value': 'v'}]}",
                    NULL));
    /* not found: recorded, nothing else */
    cu_subject_view sv;
    FAILS(f, CU_ENOTFOUND, get(f, "99999999-9999-4999-8999-999999999999", &sv));
    /* conflict: undone on its own */
    FAILS(f, CU_ECONFLICT, add_subject_in(f, f->ctl, "{'name': 'X', 'nhs_number': '9434765919'}",
                                          dup));
    OK(f, add_items(f, b, "{'items': [{'category': 'health', 'field': 'k2', 'value': 'w'}]}",
                    NULL));
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    cu_store_counts c1 = counts(f);
    assert_int_equal(c1.subjects, c0.subjects);
    assert_int_equal(c1.items, c0.items + 2);
    assert_int_equal(c1.audit_events, c0.audit_events + 3);
    evs s;
    events_after(f, c0.audit_events, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.e[0].outcome, "ok");
    assert_string_equal(s.e[1].outcome, "not_found");
    assert_string_equal(s.e[2].outcome, "ok");
    reopen(f);
    assert_true(verify(f).ok);
}

/* ------------------------------------------------------ tamper tests ---- */

/* A trail of a dozen events of several kinds; returns its length. */
static int64_t build_trail(fx *f)
{
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    add_subject(f, DOC_B, b);
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    cu_subject_view_release(&sv);
    OK(f, get(f, b, &sv));
    cu_subject_view_release(&sv);
    found fd;
    OK(f, find(f, f->ctl, "email", "ysolde@example.org", &fd));
    OK(f, rectify(f, a, "{'name': 'Zed Quux'}"));
    FAILS(f, CU_ENOTFOUND, get(f, "99999999-9999-4999-8999-999999999999", &sv));
    int n = 0;
    OK(f, cu_subject_list(f->v, &OPERATOR, NULL, count_subject_cb, &n, &f->err));
    OK(f, get(f, a, &sv));
    cu_subject_view_release(&sv);
    OK(f, add_items(f, b, "{'items': [{'category': 'family', 'field': 'kin', 'value': 'Q'}]}",
                    NULL));
    OK(f, get(f, b, &sv));
    cu_subject_view_release(&sv);
    int64_t last = audit_seq(f);
    assert_int_equal(last, 13);
    assert_true(verify(f).ok);
    close_vault(f);
    return last;
}

static void test_audit_untouched_verifies(void **state)
{
    fx *f = *state;
    int64_t last = build_trail(f);
    cu_verify_report rep = reopen_and_verify(f);
    assert_true(rep.ok);
    assert_int_equal(rep.events, last);
    assert_int_equal(rep.first_bad, 0);
    assert_true(rep.checkpoints >= 1); /* the head's signature */
    assert_int_equal(db_int(f, "SELECT max(seq) FROM audit_events", NULL), last);
    /* The audited form of the check agrees and records itself. */
    OK(f, cu_audit_check(f->v, &OPERATOR, &rep, &f->err));
    assert_true(rep.ok);
    assert_int_equal(rep.events, last);
    assert_int_equal(audit_seq(f), last + 1);
    cu_checkpoint head;
    OK(f, cu_vault_head(f->v, &head, &f->err));
    assert_int_equal(head.seq, last + 1);
}

static void test_tamper_body_byte(void **state)
{
    fx *f = *state;
    int64_t last = build_trail(f);
    unsigned char body[4096];
    size_t n = db_blob(f, "SELECT body FROM audit_events WHERE seq = ?1", 6, body, sizeof body);
    /* magic, seq, time, a length prefix, the actor, the role, the last byte */
    const size_t offsets[] = {0, 11, 19, 23, 25, 34, n - 1};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        flip_event_byte(f, "body", 6, offsets[i]);
        cu_verify_report rep = reopen_and_verify(f);
        CHECK(!rep.ok && rep.first_bad == 6, "body byte %zu: ok %d first_bad %lld (%s)",
              offsets[i], rep.ok, (long long)rep.first_bad, rep.reason);
        close_vault(f);
        flip_event_byte(f, "body", 6, offsets[i]); /* restore */
    }
    /* The first and the last event too. */
    flip_event_byte(f, "body", 1, 30);
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, 1, "event 1");
    close_vault(f);
    flip_event_byte(f, "body", 1, 30);
    flip_event_byte(f, "body", last, 40);
    rep = reopen_and_verify(f);
    CHECK(!rep.ok && rep.first_bad == last, "last event: first_bad %lld (%s)",
          (long long)rep.first_bad, rep.reason);
    close_vault(f);
    flip_event_byte(f, "body", last, 40);
    rep = reopen_and_verify(f);
    assert_true(rep.ok);
}

static void test_tamper_hash_byte(void **state)
{
    fx *f = *state;
    int64_t last = build_trail(f);
    static const size_t offsets[] = {0, 17, 31};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        flip_event_byte(f, "hash", 4, offsets[i]);
        cu_verify_report rep = reopen_and_verify(f);
        expect_bad(&rep, 4, "event 4 has been altered");
        close_vault(f);
        flip_event_byte(f, "hash", 4, offsets[i]);
    }
    flip_event_byte(f, "hash", last, 5);
    cu_verify_report rep = reopen_and_verify(f);
    CHECK(!rep.ok && rep.first_bad == last, "last hash: first_bad %lld", (long long)rep.first_bad);
    close_vault(f);
    /* A hash of the wrong length. */
    flip_event_byte(f, "hash", last, 5);
    assert_int_equal(db_exec(f, "UPDATE audit_events SET hash = substr(hash, 1, 16) "
                                "WHERE seq = 3", NULL, NULL),
                     1);
    rep = reopen_and_verify(f);
    expect_bad(&rep, 3, "event 3");
}

static void test_tamper_delete_middle(void **state)
{
    fx *f = *state;
    build_trail(f);
    assert_int_equal(db_exec(f, "DELETE FROM audit_events WHERE seq = 7", NULL, NULL), 1);
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, 7, "event 7 is missing");
    assert_int_equal(rep.events, 6);
}

static void test_tamper_swap_events(void **state)
{
    fx *f = *state;
    build_trail(f);
    unsigned char b3[4096], b8[4096], h3[64], h8[64];
    size_t nb3 = db_blob(f, "SELECT body FROM audit_events WHERE seq = ?1", 3, b3, sizeof b3);
    size_t nb8 = db_blob(f, "SELECT body FROM audit_events WHERE seq = ?1", 8, b8, sizeof b8);
    size_t nh3 = db_blob(f, "SELECT hash FROM audit_events WHERE seq = ?1", 3, h3, sizeof h3);
    size_t nh8 = db_blob(f, "SELECT hash FROM audit_events WHERE seq = ?1", 8, h8, sizeof h8);
    db_put_blob(f, "UPDATE audit_events SET body = ?1 WHERE seq = ?2", 3, b8, nb8);
    db_put_blob(f, "UPDATE audit_events SET body = ?1 WHERE seq = ?2", 8, b3, nb3);
    db_put_blob(f, "UPDATE audit_events SET hash = ?1 WHERE seq = ?2", 3, h8, nh8);
    db_put_blob(f, "UPDATE audit_events SET hash = ?1 WHERE seq = ?2", 8, h3, nh3);
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, 3, "event 3");
    close_vault(f);

    /* Swapping whole rows (every column but seq) is caught the same way. */
    db_put_blob(f, "UPDATE audit_events SET body = ?1 WHERE seq = ?2", 3, b3, nb3);
    db_put_blob(f, "UPDATE audit_events SET body = ?1 WHERE seq = ?2", 8, b8, nb8);
    db_put_blob(f, "UPDATE audit_events SET hash = ?1 WHERE seq = ?2", 3, h3, nh3);
    db_put_blob(f, "UPDATE audit_events SET hash = ?1 WHERE seq = ?2", 8, h8, nh8);
    assert_true(reopen_and_verify(f).ok);
    close_vault(f);
    db_exec(f, "UPDATE audit_events SET seq = -8 WHERE seq = 8", NULL, NULL);
    db_exec(f, "UPDATE audit_events SET seq = 8 WHERE seq = 3", NULL, NULL);
    db_exec(f, "UPDATE audit_events SET seq = 3 WHERE seq = -8", NULL, NULL);
    rep = reopen_and_verify(f);
    expect_bad(&rep, 3, "event 3");
}

static void test_tamper_truncate(void **state)
{
    fx *f = *state;
    int64_t last = build_trail(f);
    assert_int_equal(db_exec(f, "DELETE FROM audit_events WHERE seq > 10", NULL, NULL), 3);
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, last - 2, "truncated");
    assert_int_equal(rep.events, last - 3);
}

static void test_tamper_delete_head(void **state)
{
    fx *f = *state;
    build_trail(f);
    assert_int_equal(db_exec(f, "DELETE FROM audit_head", NULL, NULL), 1);
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, 1, "head is missing");
}

static void test_tamper_head_signature(void **state)
{
    fx *f = *state;
    int64_t last = build_trail(f);
    unsigned char sig[64];
    size_t n = db_blob(f, "SELECT sig FROM audit_head WHERE one = ?1", 1, sig, sizeof sig);
    assert_int_equal(n, 64);
    sig[20] ^= 0x08;
    db_put_blob(f, "UPDATE audit_head SET sig = ?1 WHERE one = ?2", 1, sig, n);
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, last, "signed head does not match");
    close_vault(f);
    sig[20] ^= 0x08;
    db_put_blob(f, "UPDATE audit_head SET sig = ?1 WHERE one = ?2", 1, sig, n);
    assert_true(reopen_and_verify(f).ok);
    close_vault(f);
    /* A head claiming fewer events than the trail holds. */
    db_exec(f, "UPDATE audit_head SET seq = seq - 1", NULL, NULL);
    rep = reopen_and_verify(f);
    expect_bad(&rep, last, "not covered by the signed head");
}

/* An attacker with write access but without the signing key rewrites one
 * event and recomputes the whole chain after it: only the signature catches it. */
static void test_tamper_rewrite_chain(void **state)
{
    fx *f = *state;
    int64_t last = build_trail(f);
    unsigned char prev[CU_HASH_BYTES], body[4096];
    assert_int_equal(db_blob(f, "SELECT hash FROM audit_events WHERE seq = ?1", 4, prev,
                             sizeof prev),
                     CU_HASH_BYTES);
    for (int64_t seq = 5; seq <= last; seq++) {
        size_t n = db_blob(f, "SELECT body FROM audit_events WHERE seq = ?1", seq, body,
                           sizeof body);
        if (seq == 5) {
            cu_audit_decoded d;
            assert_int_equal(cu_audit_decode(body, n, &d), CU_OK);
            /* change the purpose, keeping the length */
            size_t off = (size_t)((const unsigned char *)d.purpose.p - body);
            assert_true(d.purpose.n > 0);
            body[off] = body[off] == 'x' ? 'y' : 'x';
            db_put_blob(f, "UPDATE audit_events SET body = ?1 WHERE seq = ?2", seq, body, n);
        }
        unsigned char h[CU_HASH_BYTES];
        cu_audit_chain(prev, body, n, h);
        db_put_blob(f, "UPDATE audit_events SET hash = ?1 WHERE seq = ?2", seq, h, sizeof h);
        memcpy(prev, h, sizeof h);
    }
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, last, "signed head does not match");
    assert_int_equal(rep.events, last);
}

static void test_tamper_row_columns(void **state)
{
    fx *f = *state;
    build_trail(f);
    /* The row's actor, subject or time disagreeing with the hashed body. */
    static const struct {
        const char *set, *undo;
        int64_t seq;
    } cases[] = {
        {"UPDATE audit_events SET actor = 'mallory' WHERE seq = 5",
         "UPDATE audit_events SET actor = 'tester' WHERE seq = 5", 5},
        {"UPDATE audit_events SET subject_id = NULL WHERE seq = 3",
         "UPDATE audit_events SET subject_id = (SELECT subject_id FROM audit_events WHERE "
         "seq = 5) WHERE seq = 3", 3},
        {"UPDATE audit_events SET ts = ts + 1 WHERE seq = 9",
         "UPDATE audit_events SET ts = ts - 1 WHERE seq = 9", 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(db_exec(f, cases[i].set, NULL, NULL), 1);
        cu_verify_report rep = reopen_and_verify(f);
        CHECK(!rep.ok && rep.first_bad == cases[i].seq, "case %zu: ok %d first_bad %lld (%s)",
              i, rep.ok, (long long)rep.first_bad, rep.reason);
        close_vault(f);
        assert_int_equal(db_exec(f, cases[i].undo, NULL, NULL), 1);
        rep = reopen_and_verify(f);
        CHECK(rep.ok, "case %zu: not restored (%s)", i, rep.reason);
        close_vault(f);
    }
}

/* An appended event that chains correctly but was never signed. */
static void test_tamper_forged_append(void **state)
{
    fx *f = *state;
    int64_t last = build_trail(f);
    unsigned char prev[CU_HASH_BYTES];
    db_blob(f, "SELECT hash FROM audit_events WHERE seq = ?1", last, prev, sizeof prev);
    cu_audit_event e = {.seq = last + 1, .ts = cu_now_us(), .actor = "mallory",
                        .role = "operator", .action = "read", .outcome = "ok",
                        .purpose = "administration", .via = "sqlite3"};
    cu_buf body;
    cu_buf_init(&body, 0);
    assert_int_equal(cu_audit_encode(&e, &body), CU_OK);
    unsigned char h[CU_HASH_BYTES];
    cu_audit_chain(prev, body.data, body.len, h);
    sqlite3 *db = db_open(f);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO audit_events(seq, ts, actor, "
                                            "subject_id, body, hash) VALUES (?1, ?2, ?3, NULL, "
                                            "?4, ?5)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, e.seq);
    sqlite3_bind_int64(st, 2, e.ts);
    sqlite3_bind_text(st, 3, "mallory", -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, body.data, (int)body.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, h, sizeof h, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    cu_buf_release(&body);
    cu_verify_report rep = reopen_and_verify(f);
    expect_bad(&rep, last + 1, "not covered by the signed head");
    assert_int_equal(rep.events, last + 1);
}

/* Operations after tampering must not hide it (by signing over it). */
static void test_tamper_then_operate(void **state)
{
    fx *f = *state;
    static const struct {
        const char *sql;
        int64_t first_bad; /* after further operations; 0: any */
    } cases[] = {
        {"UPDATE audit_events SET body = body || x'00' WHERE seq = 6", 6},
        {"DELETE FROM audit_events WHERE seq = 7", 7},
        {"DELETE FROM audit_events WHERE seq > 9", 10},
        {"DELETE FROM audit_head", 1},
        {"UPDATE audit_events SET hash = zeroblob(32) WHERE seq = 12", 12},
        {"UPDATE audit_head SET sig = zeroblob(64)", 0},
        {"UPDATE audit_head SET seq = 11", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i > 0) {
            /* a fresh store for each case */
            teardown(state);
            assert_int_equal(setup(state), 0);
            f = *state;
        }
        build_trail(f);
        assert_true(db_exec(f, cases[i].sql, NULL, NULL) >= 1);
        OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
        cu_subject_view sv;
        found fd;
        int n = 0;
        (void)get(f, "99999999-9999-4999-8999-999999999999", &sv);
        OK(f, cu_subject_list(f->v, &OPERATOR, NULL, count_subject_cb, &n, &f->err));
        OK(f, find(f, NULL, "email", "ysolde@example.org", &fd));
        reopen(f);
        OK(f, cu_subject_list(f->v, &OPERATOR, NULL, count_subject_cb, &n, &f->err));
        cu_verify_report rep = verify(f);
        CHECK(!rep.ok, "case %zu (%s): hidden by later operations", i, cases[i].sql);
        CHECK(cases[i].first_bad == 0 || rep.first_bad == cases[i].first_bad,
              "case %zu (%s): first_bad %lld (%s)", i, cases[i].sql, (long long)rep.first_bad,
              rep.reason);
    }
}

/* The audit payload of a rectification is JSON that holds the old values
 * exactly, whatever characters they contain. */
static void test_rectify_payload_escaping(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    /* quotes, backslashes, control characters, DEL, non-ASCII */
    static const char old_value[] = "He said \\\"hi\\\" \\\\ C:\\\\path\\n\\ttab "
                                    "\\u0001\\u001f\\u007f caf\\u00e9 \\u2603";
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"items\": [{\"category\": \"health\", \"field\": \"odd\", \"value\": \"%s\"}]}",
             old_value);
    cu_doc d;
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_doc_parse(doc, strlen(doc), CU_DOC_SUBJECT, &d, &err), CU_OK);
    char want[256];
    assert_int_equal(d.n, 1);
    assert_true(d.values[0].value_len < sizeof want);
    memcpy(want, d.values[0].value, d.values[0].value_len);
    size_t want_len = d.values[0].value_len;
    char ids[1][CU_ID_STRLEN];
    OK(f, cu_subject_add_items(f->v, &OPERATOR, a, &d, ids, &f->err));
    cu_doc_release(&d);
    char patch[256];
    snprintf(patch, sizeof patch, "{'items': [{'id': '%s', 'value': 'plain'}]}", ids[0]);
    OK(f, rectify(f, a, patch));
    payloads p = list_subject_events(f, a, true);
    assert_int_equal(p.with_payload, 1);
    json_error_t je;
    json_t *arr = json_loads(p.text[0], 0, &je);
    CHECK(arr != NULL, "payload is not JSON: %s (%s)", je.text, p.text[0]);
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 1);
    json_t *o = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(o, "item")), ids[0]);
    assert_string_equal(json_string_value(json_object_get(o, "field")), "odd");
    json_t *old = json_object_get(o, "old");
    assert_true(json_is_string(old));
    assert_int_equal(json_string_length(old), want_len);
    assert_memory_equal(json_string_value(old), want, want_len);
    json_decref(arr);
}

/* Values up to the limit, well beyond any small internal buffer, round-trip
 * through add, get, rectify and the audit payload. */
static void test_large_values(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN];
    add_subject(f, DOC_C, a);
    size_t sizes[] = {511, 512, 513, 1000, 4096, CU_MAX_VALUE_BYTES};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cu_buf json;
        cu_buf_init(&json, 0);
        assert_int_equal(cu_buf_printf(&json, "{\"items\": [{\"category\": \"health\", "
                                              "\"field\": \"big%zu\", \"value\": \"",
                                       i),
                         CU_OK);
        for (size_t j = 0; j < sizes[i]; j++)
            assert_int_equal(cu_buf_append(&json, &"abcdefghij"[j % 10], 1), CU_OK);
        assert_int_equal(cu_buf_append_str(&json, "\"}]}"), CU_OK);
        cu_doc d;
        cu_err err;
        cu_err_clear(&err);
        assert_int_equal(cu_doc_parse(json.data, json.len, CU_DOC_SUBJECT, &d, &err), CU_OK);
        char ids[1][CU_ID_STRLEN];
        OK(f, cu_subject_add_items(f->v, &OPERATOR, a, &d, ids, &f->err));
        cu_doc_release(&d);
        cu_buf_release(&json);

        /* Rectify it to another value of the same size. */
        cu_buf_init(&json, 0);
        assert_int_equal(cu_buf_printf(&json, "{\"items\": [{\"id\": \"%s\", \"value\": \"",
                                       ids[0]),
                         CU_OK);
        for (size_t j = 0; j < sizes[i]; j++)
            assert_int_equal(cu_buf_append(&json, "Z", 1), CU_OK);
        assert_int_equal(cu_buf_append_str(&json, "\"}]}"), CU_OK);
        assert_int_equal(cu_doc_parse(json.data, json.len, CU_DOC_RECTIFY, &d, &err), CU_OK);
        OK(f, cu_subject_rectify(f->v, &OPERATOR, a, &d, &f->err));
        cu_doc_release(&d);
        cu_buf_release(&json);
    }
    reopen(f);
    cu_subject_view sv;
    OK(f, get(f, a, &sv));
    assert_int_equal(sv.n, 4 + sizeof sizes / sizeof sizes[0]);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char field[16];
        snprintf(field, sizeof field, "big%zu", i);
        const cu_item_view *it = view_item(&sv, field);
        CHECK(it != NULL, "%s missing", field);
        CHECK(it->value.len == sizes[i], "%s: %zu bytes", field, it->value.len);
        for (size_t j = 0; j < sizes[i]; j++)
            if (it->value.data[j] != 'Z')
                fail_msg("%s: byte %zu", field, j);
    }
    cu_subject_view_release(&sv);
    /* Every old value is in its event's sealed payload. */
    payloads p = list_subject_events(f, a, true);
    assert_int_equal(p.with_payload, sizeof sizes / sizeof sizes[0]);
    assert_true(verify(f).ok);
}

static int list_noop_cb(void *ctx, const cu_subject_rec *r)
{
    (void)ctx;
    (void)r;
    return 0;
}

/* Past CU_AUDIT_CHECKPOINT_EVERY events a checkpoint is kept; cutting the
 * trail back before it is caught by that checkpoint even with the head gone. */
static void test_tamper_checkpoint_truncation(void **state)
{
    fx *f = *state;
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    for (int i = 0; i < CU_AUDIT_CHECKPOINT_EVERY + 10; i++) {
        cu_err_clear(&f->err);
        int rc = cu_subject_list(f->v, &OPERATOR, f->ctl, list_noop_cb, NULL, &f->err);
        if (rc != CU_OK)
            fail_msg("list %d: %s", i, f->err.msg);
    }
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    for (int i = 0; i < 3; i++)
        OK(f, cu_subject_list(f->v, &OPERATOR, NULL, list_noop_cb, NULL, &f->err));
    int64_t last = audit_seq(f);
    cu_verify_report rep = verify(f);
    assert_true(rep.ok);
    assert_int_equal(rep.events, last);
    assert_int_equal(rep.checkpoints, 2); /* one kept checkpoint and the head */
    assert_int_equal(counts(f).checkpoints, 1);
    close_vault(f);
    int64_t ck = db_int(f, "SELECT seq FROM audit_checkpoints", NULL);
    assert_true(ck >= CU_AUDIT_CHECKPOINT_EVERY && ck < last);

    assert_int_equal(db_exec(f, "DELETE FROM audit_head", NULL, NULL), 1);
    db_exec(f, "DELETE FROM audit_events WHERE seq > 4000", NULL, NULL);
    rep = reopen_and_verify(f);
    expect_bad(&rep, ck, "truncated");
    close_vault(f);

    /* A forged checkpoint signature is caught as well. */
    db_exec(f, "UPDATE audit_checkpoints SET sig = zeroblob(64)", NULL, NULL);
    rep = reopen_and_verify(f);
    assert_false(rep.ok);
}

/* A ledger entry whose erasure never committed (a crash between the ledger
 * write and the commit) is applied at the next open, audited, and only once;
 * an item entry erases those items and re-keys, never the whole subject. */
static void test_ledger_replay_uncommitted(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    add_subject(f, DOC_A, a);
    add_subject(f, DOC_B, b);
    char items[1][CU_ID_STRLEN];
    item_id_of(f, b, "name", NULL, items[0]);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/erasure.ledger", f->store);
    int64_t seq;
    unsigned char h[CU_HASH_BYTES];
    OK(f, cu_ledger_append(path, f->v->store_id, f->v->signing_seed, cu_now_us(), a, NULL, 0,
                           &seq, h, &f->err));
    OK(f, cu_ledger_append(path, f->v->store_id, f->v->signing_seed, cu_now_us(), b,
                           (const char(*)[CU_ID_STRLEN])items, 1, &seq, h, &f->err));
    assert_int_equal(seq, 2);
    cu_vault_close(f->v);
    f->v = NULL;
    /* Loading alone recovers nothing: the ledger is re-applied, and what an
     * interrupted backup left is removed, only by cu_vault_open. */
    char left[PATH_MAX + 32];
    snprintf(left, sizeof left, "%s/.backup-999999.db", f->store);
    FILE *lf0 = fopen(left, "w");
    assert_non_null(lf0);
    fclose(lf0);
    cu_subject_view sv;
    OK(f, cu_vault_load(f->store, NULL, false, &f->v, &f->err));
    OK(f, get(f, a, &sv));
    cu_subject_view_release(&sv);
    assert_int_equal(access(left, F_OK), 0);
    cu_vault_close(f->v);
    f->v = NULL;
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    assert_int_equal(cu_vault_replayed(f->v), 2);
    assert_int_not_equal(access(left, F_OK), 0);
    FAILS(f, CU_EERASED, get(f, a, &sv));
    OK(f, get(f, b, &sv));
    assert_int_equal(sv.rec.erased_at, 0);
    assert_int_equal(sv.rec.key_version, 2);
    assert_true(sv.n > 0);
    for (size_t i = 0; i < sv.n; i++)
        assert_string_not_equal(sv.items[i].id, items[0]);
    cu_subject_view_release(&sv);
    cu_verify_report rep;
    OK(f, cu_audit_verify(f->v, &rep, &f->err));
    cu_vault_close(f->v);
    f->v = NULL;
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    assert_int_equal(cu_vault_replayed(f->v), 0);
    /* The store's table took both entries: a file cut short, or emptied,
     * is made whole again from it (it mirrors the table)... */
    cu_vault_close(f->v);
    f->v = NULL;
    char whole[8192];
    FILE *lf = fopen(path, "r");
    assert_non_null(lf);
    size_t wn = fread(whole, 1, sizeof whole, lf);
    fclose(lf);
    assert_true(wn > 0 && wn < sizeof whole);
    lf = fopen(path, "r+");
    assert_non_null(lf);
    char line[8192];
    assert_non_null(fgets(line, sizeof line, lf));
    assert_int_equal(ftruncate(fileno(lf), (off_t)strlen(line)), 0);
    fclose(lf);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    assert_int_equal(cu_vault_replayed(f->v), 0);
    cu_vault_close(f->v);
    f->v = NULL;
    assert_int_equal(truncate(path, 0), 0);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    cu_vault_close(f->v);
    f->v = NULL;
    char again[8192];
    lf = fopen(path, "r");
    assert_non_null(lf);
    size_t an = fread(again, 1, sizeof again, lf);
    fclose(lf);
    assert_int_equal(an, wn);
    assert_memory_equal(again, whole, wn);
    /* ...but a file whose entry differs from the table's is refused. */
    lf = fopen(path, "r+");
    assert_non_null(lf);
    assert_int_equal(fseek(lf, 3, SEEK_SET), 0);
    assert_int_equal(fputc(whole[3] == '1' ? '2' : '1', lf), whole[3] == '1' ? '2' : '1');
    fclose(lf);
    FAILS(f, CU_ETAMPER, cu_vault_open(f->store, NULL, &f->v, &f->err));
    f->v = NULL;
}


/* ------------------------------------------------- row authentication ---- */

typedef struct staff_bad_rows {
    int n;
    char table[32], row[96], problem[64];
} staff_bad_rows;

static int staff_note_bad(void *ctx, const char *table, const char *row, const char *problem)
{
    staff_bad_rows *b = ctx;
    if (b->n++ == 0) {
        cu_strlcpy(b->table, table, sizeof b->table);
        cu_strlcpy(b->row, row, sizeof b->row);
        cu_strlcpy(b->problem, problem, sizeof b->problem);
    }
    return 0;
}

/* Stored token hashes are keyed (not what anyone can compute from a token),
 * and differ between kinds of token. */
static void test_rows_keyed_token_hash(void **state)
{
    fx *f = *state;
    const char tok[] = "cus_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    unsigned char plain[CU_HASH_BYTES], sess[CU_HASH_BYTES], api[CU_HASH_BYTES],
        again[CU_HASH_BYTES];
    cu_token_hash(tok, strlen(tok), plain);
    cu_token_keyed_hash(f->v, "session", tok, strlen(tok), sess);
    cu_token_keyed_hash(f->v, "api", tok, strlen(tok), api);
    cu_token_keyed_hash(f->v, "session", tok, strlen(tok), again);
    assert_memory_not_equal(plain, sess, CU_HASH_BYTES);
    assert_memory_not_equal(sess, api, CU_HASH_BYTES);
    assert_memory_equal(sess, again, CU_HASH_BYTES);
    /* The session row holds the keyed hash. */
    char token[CU_TOKEN_STRLEN];
    staff_session(f, "nurse", token);
    cu_token_keyed_hash(f->v, "session", token, strlen(token), sess);
    cu_token_hash(token, strlen(token), plain);
    unsigned char stored[CU_HASH_BYTES];
    assert_int_equal(db_blob_s(f, "SELECT token_hash FROM sessions", NULL, stored,
                               sizeof stored), CU_HASH_BYTES);
    assert_memory_equal(stored, sess, CU_HASH_BYTES);
    assert_memory_not_equal(stored, plain, CU_HASH_BYTES);
}

/* A user row altered in the database (roles raised): the session is refused
 * with CU_ETAMPER naming the row, a sign-in finds no account, and the check
 * of the whole store names the row; nothing else is reported. */
static void test_rows_user_altered(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    staff_session(f, "nurse", token);
    int64_t rows = 0, bad = 0;
    staff_bad_rows b = {0};
    OK(f, cu_integrity_verify(f->v, staff_note_bad, &b, &rows, &bad, &f->err));
    assert_int_equal(bad, 0);
    assert_true(rows >= 3); /* the user, the session, the policy */
    cu_principal p;
    assert_int_equal(auth_batch(f, token, &p), CU_OK); /* and now remembered */

    assert_int_equal(db_exec(f, "UPDATE users SET roles = 'dpo' WHERE username = ?1", "nurse",
                             NULL), 1);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    FAILS(f, CU_ETAMPER, cu_authenticate(f->v, token, strlen(token), IDLE_US, MAX_US, &p,
                                         &f->err));
    assert_non_null(strstr(f->err.msg, "users "));
    assert_non_null(strstr(f->err.msg, "has been altered"));
    assert_null(strstr(f->err.msg, "dpo"));
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    cu_signin s;
    OK(f, cu_signin_prepare(f->v, "nurse", &s, &f->err));
    assert_false(s.found);
    assert_true(s.tampered);

    FAILS(f, CU_ETAMPER, cu_integrity_verify(f->v, staff_note_bad, &b, &rows, &bad, &f->err));
    assert_int_equal(bad, 1);
    assert_string_equal(b.table, "users");
    assert_string_equal(b.problem, "altered");

    /* A NULL code is a forged row too. */
    assert_int_equal(db_exec(f, "UPDATE sessions SET mac = NULL", NULL, NULL), 1);
    b = (staff_bad_rows){0};
    FAILS(f, CU_ETAMPER, cu_integrity_verify(f->v, staff_note_bad, &b, &rows, &bad, &f->err));
    assert_int_equal(bad, 2);
}

/* Sealing authenticates rows as they stand (one audited event); a session
 * hashed without the key is then still unusable. */
static void test_rows_seal(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    staff_session(f, "nurse", token);
    assert_int_equal(db_exec(f, "UPDATE users SET failures = 3 WHERE username = ?1", "nurse",
                             NULL), 1);
    int64_t rows = 0, bad = 0, events = audit_seq(f);
    FAILS(f, CU_ETAMPER, cu_integrity_verify(f->v, NULL, NULL, &rows, &bad, &f->err));
    OK(f, cu_integrity_seal(f->v, &OPERATOR, &rows, &f->err));
    assert_true(rows >= 3);
    assert_int_equal(audit_seq(f), events + 1);
    OK(f, cu_integrity_verify(f->v, NULL, NULL, &rows, &bad, &f->err));
    assert_int_equal(bad, 0);
    cu_principal p;
    assert_int_equal(auth_batch(f, token, &p), CU_OK);
}

/* ------------------------------------------------------------ nodes ---- */

/* A once-per-cluster job runs once per period whichever of two vaults on one
 * store (two nodes) looks first; a new store's first run waits a period; each
 * run is one audit event. */
static void test_jobs_once_per_cluster(void **state)
{
    fx *f = *state;
    cu_vault *other = NULL;
    OK(f, cu_vault_open(f->store, NULL, &other, &f->err));
    OK(f, cu_vault_set_node(f->v, "node-a", &f->err));
    OK(f, cu_vault_set_node(other, "node-b", &f->err));
    int64_t now = cu_now_us();
    cu_job_report r;
    OK(f, cu_jobs_run_due(f->v, now, &r, &f->err));
    assert_int_equal(r.ran, 0); /* a new store: nothing due for a period */
    int64_t seq0 = cu_vault_audit_seq(f->v);
    int64_t later = now + CU_JOB_PERIOD_US + 1000000;
    OK(f, cu_jobs_run_due(other, later, &r, &f->err));
    assert_int_equal(r.ran, 1);
    OK(f, cu_jobs_run_due(f->v, later, &r, &f->err));
    assert_int_equal(r.ran, 0);
    OK(f, cu_jobs_run_due(f->v, later + CU_JOB_PERIOD_US - 2000000, &r, &f->err));
    assert_int_equal(r.ran, 0);
    OK(f, cu_jobs_run_due(f->v, later + CU_JOB_PERIOD_US, &r, &f->err));
    assert_int_equal(r.ran, 1);
    OK(f, cu_jobs_run_due(other, later + CU_JOB_PERIOD_US, &r, &f->err));
    assert_int_equal(r.ran, 0);
    /* two runs, two events, by the two nodes, and the chain verifies */
    cu_verify_report rep;
    OK(f, cu_audit_verify(f->v, &rep, &f->err));
    assert_true(rep.ok);
    assert_int_equal(rep.events, seq0 + 2);
    cu_vault_close(other);
}

/* A node's key is made once and recorded; set again (a restart) it is the
 * same key; a bad name is refused. */
static void test_node_keys(void **state)
{
    fx *f = *state;
    OK(f, cu_vault_set_node(f->v, "alpha", &f->err));
    unsigned char pk1[CU_PUBKEY_BYTES], pk2[CU_PUBKEY_BYTES], spk[CU_PUBKEY_BYTES];
    OK(f, cu_node_public_key(f->v, "alpha", pk1, &f->err));
    OK(f, cu_node_public_key(f->v, "", spk, &f->err));
    assert_memory_not_equal(pk1, spk, sizeof pk1);
    cu_vault_close(f->v);
    OK(f, cu_vault_open(f->store, NULL, &f->v, &f->err));
    OK(f, cu_vault_set_node(f->v, "alpha", &f->err));
    OK(f, cu_node_public_key(f->v, "alpha", pk2, &f->err));
    assert_memory_equal(pk1, pk2, sizeof pk1);
    FAILS(f, CU_ETAMPER, cu_node_public_key(f->v, "nobody", pk2, &f->err));
    FAILS(f, CU_EINVAL, cu_vault_set_node(f->v, "", &f->err));
    FAILS(f, CU_EINVAL, cu_vault_set_node(f->v, "-x", &f->err));
    FAILS(f, CU_EINVAL, cu_vault_set_node(f->v, "a b", &f->err));
    FAILS(f, CU_EINVAL,
          cu_vault_set_node(f->v, "a23456789012345678901234567890123456789012", &f->err));
    assert_string_equal(cu_vault_node(f->v), "alpha");
    /* the head an event is sealed under names the node */
    cu_verify_report rep;
    OK(f, cu_audit_check(f->v, &OPERATOR, &rep, &f->err));
    assert_true(rep.ok);
    cu_checkpoint head;
    OK(f, cu_vault_head(f->v, &head, &f->err));
    assert_string_equal(head.node, "alpha");
    OK(f, cu_node_checkpoint_check(f->v, &head, &f->err));
    memcpy(head.node, "beta", 5);
    FAILS(f, CU_ETAMPER, cu_node_checkpoint_check(f->v, &head, &f->err));
}

int main(void)
{
    if (cu_crypto_init() != CU_OK)
        return 1;
    cu_input_init();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_init_and_open),
        T(test_jobs_once_per_cluster),
        T(test_node_keys),
        T(test_wrong_master_key),
        T(test_operator_provided_key),
        T(test_add_and_get_round_trip),
        T(test_pseudonymised_view),
        T(test_encrypted_at_rest),
        T(test_add_refusals),
        T(test_find),
        T(test_duplicate_nhs_number),
        T(test_name_birth_index),
        T(test_ciphertext_swap_between_subjects),
        T(test_ciphertext_swap_within_subject),
        T(test_row_tampering),
        T(test_page_check_after_outside_write),
        T(test_identifier_redirect),
        T(test_seal_legacy_store),
        T(test_wrapped_key_swap),
        T(test_store_key_damage),
        T(test_store_identity_damage),
        T(test_store_id_changed),
        T(test_rectify),
        T(test_large_values),
        T(test_rectify_payload_escaping),
        T(test_erase),
        T(test_ledger_replay_uncommitted),
        T(test_subject_key_needs_authorised_op),
        T(test_erase_shreds_files_while_open),
        T(test_key_rotation),
        T(test_key_rotation_recovery),
        T(test_key_rotation_in_batch),
        T(test_key_rotation_by_another_process),
        T(test_many_items_and_matches),
        T(test_one_event_per_operation),
        T(test_denied),
        T(test_audit_list_filters),
        T(test_two_connections),
        T(test_two_connections_take_turns),
        T(test_policy_change_seen_by_other_connection),
        T(test_batch_commit),
        T(test_rehash_in_batch),
        T(test_batch_abort),
        T(test_batch_with_failing_operations),
        T(test_session_cache),
        T(test_rows_keyed_token_hash),
        T(test_rows_user_altered),
        T(test_rows_seal),
        T(test_audit_untouched_verifies),
        T(test_tamper_body_byte),
        T(test_tamper_hash_byte),
        T(test_tamper_delete_middle),
        T(test_tamper_swap_events),
        T(test_tamper_truncate),
        T(test_tamper_delete_head),
        T(test_tamper_head_signature),
        T(test_tamper_rewrite_chain),
        T(test_tamper_row_columns),
        T(test_tamper_forged_append),
        T(test_tamper_then_operate),
        T(test_tamper_checkpoint_truncation),
    };
#undef T
    return cmocka_run_group_tests_name("vault", tests, NULL, NULL);
}
