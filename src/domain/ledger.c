#include "domain/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/file.h"

static void chain_start(const char *store_id, unsigned char out[CU_HASH_BYTES])
{
    char s[80];
    int n = snprintf(s, sizeof s, "custos/v1/erasure-ledger/%s", store_id);
    cu_hash2(s, n > 0 ? (size_t)n : 0, NULL, 0, out);
}

/* A decimal of 1-18 digits without a leading zero. */
static bool parse_i64(const char *p, size_t n, int64_t *out)
{
    if (n == 0 || n > 18 || (n > 1 && p[0] == '0'))
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

static bool id_ok(const char *p, size_t n)
{
    char id[CU_ID_STRLEN];
    if (n != CU_ID_STRLEN - 1)
        return false;
    memcpy(id, p, n);
    id[n] = '\0';
    return cu_id_valid(id);
}

void cu_ledger_item(const cu_ledger_entry *e, size_t i, char out[CU_ID_STRLEN])
{
    memcpy(out, e->items + i * CU_ID_STRLEN, CU_ID_STRLEN - 1);
    out[CU_ID_STRLEN - 1] = '\0';
}

static int bad(cu_err *err, size_t line, const char *what)
{
    return cu_err_set(err, CU_ETAMPER, "the erasure ledger is damaged at line %zu: %s", line,
                      what);
}

int cu_ledger_parse(const void *text, size_t n, const char *store_id, const unsigned char *pk,
                    int64_t sigs_after, cu_ledger_cb cb, void *ctx, int64_t *last_seq,
                    unsigned char last_hash[CU_HASH_BYTES], cu_err *err)
{
    const char *p = text, *end = p + n;
    unsigned char prev[CU_HASH_BYTES];
    chain_start(store_id, prev);
    int64_t seq = 0;
    size_t line = 0;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return bad(err, line, "the last line is incomplete");
        /* Split into exactly 7 fields. */
        const char *f[7];
        size_t fl[7], nf = 0;
        const char *q = p;
        while (nf < 7) {
            const char *t = memchr(q, '\t', (size_t)(nl - q));
            const char *stop = t ? t : nl;
            f[nf] = q;
            fl[nf] = (size_t)(stop - q);
            nf++;
            if (!t)
                break;
            q = t + 1;
        }
        if (nf != 7 || f[6] + fl[6] != nl)
            return bad(err, line, "not seven tab-separated fields");
        cu_ledger_entry e = {0};
        if (fl[0] != 2 || memcmp(f[0], "E1", 2) != 0)
            return bad(err, line, "unknown entry format");
        if (!parse_i64(f[1], fl[1], &e.seq) || e.seq != seq + 1)
            return bad(err, line, "sequence number out of order");
        if (!parse_i64(f[2], fl[2], &e.at))
            return bad(err, line, "bad time");
        if (!id_ok(f[3], fl[3]))
            return bad(err, line, "bad subject id");
        memcpy(e.subject, f[3], CU_ID_STRLEN - 1);
        if (fl[4] == 1 && f[4][0] == '*') {
            e.whole = true;
        } else {
            if ((fl[4] + 1) % CU_ID_STRLEN != 0)
                return bad(err, line, "bad item list");
            e.nitems = (fl[4] + 1) / CU_ID_STRLEN;
            if (e.nitems > CU_LEDGER_MAX_ITEMS)
                return bad(err, line, "too many items");
            for (size_t i = 0; i < e.nitems; i++) {
                const char *it = f[4] + i * CU_ID_STRLEN;
                if (!id_ok(it, CU_ID_STRLEN - 1) ||
                    (i + 1 < e.nitems && it[CU_ID_STRLEN - 1] != ','))
                    return bad(err, line, "bad item list");
            }
            e.items = f[4];
            e.items_len = fl[4];
        }
        unsigned char want[CU_HASH_BYTES];
        if (fl[5] != 2 * CU_HASH_BYTES || !cu_unhex(f[5], fl[5], want, sizeof want) ||
            !cu_ct_equal(want, prev, CU_HASH_BYTES))
            return bad(err, line, "the hash chain is broken");
        size_t body = (size_t)(f[6] - 1 - p);
        unsigned char sig[CU_SIG_BYTES];
        if (fl[6] != 2 * CU_SIG_BYTES || !cu_unhex(f[6], fl[6], sig, sizeof sig))
            return bad(err, line, "bad signature field");
        if (pk && e.seq > sigs_after && !cu_sign_verify(pk, p, body, sig))
            return bad(err, line, "the signature does not verify");
        cu_hash2(p, body, NULL, 0, e.hash);
        if (cb) {
            int rc = cb(ctx, &e);
            if (rc)
                return rc;
        }
        memcpy(prev, e.hash, CU_HASH_BYTES);
        seq = e.seq;
        p = nl + 1;
    }
    if (last_seq)
        *last_seq = seq;
    if (last_hash)
        memcpy(last_hash, prev, CU_HASH_BYTES);
    return CU_OK;
}

static int read_fd(int fd, const char *path, cu_buf *out, cu_err *err)
{
    for (;;) {
        if (out->len > CU_LEDGER_MAX_BYTES)
            return cu_err_set(err, CU_EINVAL, "the erasure ledger %s is too large", path);
        if (cu_buf_reserve(out, 65536))
            return cu_err_set(err, CU_ENOMEM, "out of memory reading the erasure ledger");
        ssize_t r = read(fd, out->data + out->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return cu_err_set(err, CU_EIO, "cannot read the erasure ledger %s: %s", path,
                              strerror(errno));
        if (r == 0)
            return CU_OK;
        out->len += (size_t)r;
    }
}

int cu_ledger_read(const char *path, const char *store_id, const unsigned char *pk,
                   int64_t sigs_after, cu_ledger_cb cb, void *ctx, bool *exists,
                   int64_t *last_seq, unsigned char last_hash[CU_HASH_BYTES], cu_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *exists = fd >= 0;
    if (fd < 0 && errno != ENOENT)
        return cu_err_set(err, CU_EIO, "cannot open the erasure ledger %s: %s", path,
                          strerror(errno));
    cu_buf text;
    cu_buf_init(&text, CU_LEDGER_MAX_BYTES + 65536);
    int rc = CU_OK;
    if (fd >= 0) {
        (void)flock(fd, LOCK_SH);
        rc = read_fd(fd, path, &text, err);
        close(fd);
    }
    if (!rc)
        rc = cu_ledger_parse(text.data, text.len, store_id, pk, sigs_after, cb, ctx, last_seq,
                             last_hash, err);
    cu_buf_release(&text);
    return rc;
}

int cu_ledger_read_text(const char *path, cu_buf *out, cu_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return CU_OK;
    if (fd < 0)
        return cu_err_set(err, CU_EIO, "cannot open the erasure ledger %s: %s", path,
                          strerror(errno));
    (void)flock(fd, LOCK_SH);
    int rc = read_fd(fd, path, out, err);
    close(fd);
    return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int cu_ledger_append(const char *path, const char *store_id, const cu_key *seed, int64_t at,
                     const char *subject_id, const char (*items)[CU_ID_STRLEN], size_t nitems,
                     int64_t *seq, unsigned char hash[CU_HASH_BYTES], cu_err *err)
{
    return cu_ledger_append_line(path, store_id, seed, at, subject_id, items, nitems, seq, hash,
                                 NULL, err);
}

int cu_ledger_append_line(const char *path, const char *store_id, const cu_key *seed,
                          int64_t at, const char *subject_id,
                          const char (*items)[CU_ID_STRLEN], size_t nitems, int64_t *seq,
                          unsigned char hash[CU_HASH_BYTES], cu_buf *line_out, cu_err *err)
{
    if (items && (nitems == 0 || nitems > CU_LEDGER_MAX_ITEMS))
        return cu_err_set(err, CU_EINVAL, "an erasure names 1 to %d items",
                          CU_LEDGER_MAX_ITEMS);
    bool created = access(path, F_OK) != 0;
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return cu_err_set(err, CU_EIO, "cannot open the erasure ledger %s: %s", path,
                          strerror(errno));
    cu_buf text, line;
    cu_buf_init(&text, CU_LEDGER_MAX_BYTES + 65536);
    cu_buf_init(&line, (size_t)CU_LEDGER_MAX_ITEMS * CU_ID_STRLEN + 4096);
    int rc = CU_OK;
    if (flock(fd, LOCK_EX) != 0)
        rc = cu_err_set(err, CU_EIO, "cannot lock the erasure ledger: %s", strerror(errno));
    int64_t last = 0;
    unsigned char prev[CU_HASH_BYTES];
    if (!rc)
        rc = read_fd(fd, path, &text, err);
    if (!rc)
        rc = cu_ledger_parse(text.data, text.len, store_id, NULL, 0, NULL, NULL, &last, prev,
                             err);
    if (!rc) {
        char head[160], prevhex[2 * CU_HASH_BYTES + 1];
        cu_hex(prev, CU_HASH_BYTES, prevhex);
        int hn = snprintf(head, sizeof head, "E1\t%lld\t%lld\t%s\t", (long long)(last + 1),
                          (long long)at, subject_id);
        bool oom = hn < 0 || cu_buf_append(&line, head, (size_t)hn);
        if (!items)
            oom = oom || cu_buf_append(&line, "*", 1);
        for (size_t i = 0; items && i < nitems; i++)
            oom = oom || (i && cu_buf_append(&line, ",", 1)) ||
                  cu_buf_append(&line, items[i], CU_ID_STRLEN - 1);
        oom = oom || cu_buf_append(&line, "\t", 1) ||
              cu_buf_append(&line, prevhex, 2 * CU_HASH_BYTES);
        if (oom)
            rc = cu_err_set(err, CU_ENOMEM, "out of memory writing the erasure ledger");
    }
    if (!rc) {
        unsigned char sig[CU_SIG_BYTES];
        char sighex[2 * CU_SIG_BYTES + 1];
        cu_sign(seed, line.data, line.len, sig);
        cu_hash2(line.data, line.len, NULL, 0, hash);
        cu_hex(sig, sizeof sig, sighex);
        if (cu_buf_append(&line, "\t", 1) || cu_buf_append(&line, sighex, 2 * CU_SIG_BYTES) ||
            cu_buf_append(&line, "\n", 1))
            rc = cu_err_set(err, CU_ENOMEM, "out of memory writing the erasure ledger");
    }
    if (!rc && (write_all(fd, line.data, line.len) != 0 || fsync(fd) != 0)) {
        rc = cu_err_set(err, CU_EIO, "cannot write the erasure ledger %s: %s", path,
                        strerror(errno));
        /* Leave no partial line behind. */
        if (ftruncate(fd, (off_t)text.len) != 0 || fsync(fd) != 0)
            rc = cu_err_set(err, CU_EIO, "the erasure ledger %s may end in a partial line",
                            path);
    }
    if (!rc && created)
        rc = cu_fsync_parent(path, err);
    if (!rc)
        *seq = last + 1;
    if (!rc && line_out && cu_buf_append(line_out, line.data, line.len - 1))
        rc = cu_err_set(err, CU_ENOMEM, "out of memory writing the erasure ledger");
    close(fd);
    cu_buf_release(&text);
    cu_buf_release(&line);
    return rc;
}

int cu_ledger_mirror(const char *path, const void *text, size_t n, cu_buf *file_out,
                     cu_err *err)
{
    bool created = access(path, F_OK) != 0;
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return cu_err_set(err, CU_EIO, "cannot open the erasure ledger %s: %s", path,
                          strerror(errno));
    int rc = CU_OK;
    if (flock(fd, LOCK_EX) != 0)
        rc = cu_err_set(err, CU_EIO, "cannot lock the erasure ledger: %s", strerror(errno));
    if (!rc)
        rc = read_fd(fd, path, file_out, err);
    size_t common = file_out->len < n ? file_out->len : n;
    if (!rc && (common && memcmp(file_out->data, text, common) != 0))
        rc = cu_err_set(err, CU_ETAMPER, "the erasure ledger %s and the store's erasure table "
                                         "differ: one was altered or replaced",
                        path);
    if (!rc && file_out->len < n) {
        /* Entries the store has and this file lacks (another node erased). */
        const char *rest = (const char *)text + file_out->len;
        size_t more = n - file_out->len;
        if (write_all(fd, rest, more) != 0 || fsync(fd) != 0) {
            rc = cu_err_set(err, CU_EIO, "cannot write the erasure ledger %s: %s", path,
                            strerror(errno));
            if (ftruncate(fd, (off_t)file_out->len) != 0 || fsync(fd) != 0)
                rc = cu_err_set(err, CU_EIO, "the erasure ledger %s may end in a partial line",
                                path);
        } else if (cu_buf_append(file_out, rest, more)) {
            rc = cu_err_set(err, CU_ENOMEM, "out of memory reading the erasure ledger");
        }
        if (!rc && created)
            rc = cu_fsync_parent(path, err);
    }
    close(fd);
    return rc;
}
