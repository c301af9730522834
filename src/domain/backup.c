#include "domain/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keyfile.h"
#include "domain/recover.h"
#include "domain/vault_impl.h"
#include "util/file.h"

static void backup_key(const cu_key *master, cu_key *out)
{
    cu_key_derive(master, 1, "backup__", out);
}

static void prefix(const char *store_id, const unsigned char key_id[CU_KEYID_BYTES],
                   unsigned char out[CU_BACKUP_PREFIX_BYTES])
{
    memset(out, 0, CU_BACKUP_PREFIX_BYTES);
    memcpy(out, CU_BACKUP_MAGIC, 8);
    out[8] = 1;
    memcpy(out + 12, store_id, CU_ID_STRLEN - 1);
    memcpy(out + 48, key_id, CU_KEYID_BYTES);
}

int cu_backup_encode(const cu_key *master, const char *store_id, FILE *src, FILE *out,
                        cu_backup_info *info, cu_err *err)
{
    unsigned char pre[CU_BACKUP_PREFIX_BYTES], header[CU_STREAM_HEADER_BYTES];
    unsigned char kid[CU_KEYID_BYTES];
    cu_key_id(master, kid);
    prefix(store_id, kid, pre);
    cu_key k;
    backup_key(master, &k);
    cu_stream st;
    cu_stream_push_init(&st, &k, header);
    cu_key_wipe(&k);
    unsigned char *a = malloc(CU_BACKUP_CHUNK), *b = malloc(CU_BACKUP_CHUNK);
    unsigned char *c = malloc(CU_BACKUP_CHUNK + CU_STREAM_ABYTES);
    int rc = CU_OK;
    if (!a || !b || !c)
        rc = cu_err_set(err, CU_ENOMEM, "out of memory writing a backup");
    if (!rc && (fwrite(pre, 1, sizeof pre, out) != sizeof pre ||
                fwrite(header, 1, sizeof header, out) != sizeof header))
        rc = cu_err_set(err, CU_EIO, "cannot write the backup: %s", strerror(errno));
    size_t na = rc ? 0 : fread(a, 1, CU_BACKUP_CHUNK, src);
    bool first = true;
    int64_t total = 0;
    while (!rc) {
        size_t nb = na == CU_BACKUP_CHUNK ? fread(b, 1, CU_BACKUP_CHUNK, src) : 0;
        if (ferror(src)) {
            rc = cu_err_set(err, CU_EIO, "cannot read the store copy");
            break;
        }
        bool final = nb == 0;
        cu_stream_push(&st, a, na, first ? pre : NULL, first ? sizeof pre : 0, final, c);
        first = false;
        size_t n = na + CU_STREAM_ABYTES;
        unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                                (unsigned char)(n >> 8), (unsigned char)n};
        if (fwrite(len, 1, 4, out) != 4 || fwrite(c, 1, n, out) != n) {
            rc = cu_err_set(err, CU_EIO, "cannot write the backup: %s", strerror(errno));
            break;
        }
        total += (int64_t)na;
        if (final)
            break;
        unsigned char *t = a;
        a = b;
        b = t;
        na = nb;
    }
    cu_stream_wipe(&st);
    free(a);
    free(b);
    free(c);
    if (!rc && info) {
        cu_strlcpy(info->store_id, store_id, sizeof info->store_id);
        memcpy(info->key_id, kid, CU_KEYID_BYTES);
        info->bytes = total;
    }
    return rc;
}

int cu_backup_decode(const cu_key *master, FILE *in, FILE *out, cu_backup_info *info,
                     cu_err *err)
{
    unsigned char pre[CU_BACKUP_PREFIX_BYTES], header[CU_STREAM_HEADER_BYTES];
    if (fread(pre, 1, sizeof pre, in) != sizeof pre || memcmp(pre, CU_BACKUP_MAGIC, 8) != 0)
        return cu_err_set(err, CU_ECORRUPT, "not a custos backup");
    if (pre[8] != 1 || pre[9] || pre[10] || pre[11])
        return cu_err_set(err, CU_ECORRUPT, "a backup format this custos does not read");
    char sid[CU_ID_STRLEN];
    memcpy(sid, pre + 12, CU_ID_STRLEN - 1);
    sid[CU_ID_STRLEN - 1] = '\0';
    if (!cu_id_valid(sid))
        return cu_err_set(err, CU_ECORRUPT, "the backup's store id is malformed");
    unsigned char kid[CU_KEYID_BYTES];
    cu_key_id(master, kid);
    if (!cu_ct_equal(kid, pre + 48, CU_KEYID_BYTES))
        return cu_err_set(err, CU_EKEY, "the backup was made under another master key");
    if (fread(header, 1, sizeof header, in) != sizeof header)
        return cu_err_set(err, CU_ECORRUPT, "the backup is truncated");
    cu_key k;
    backup_key(master, &k);
    cu_stream st;
    int rc = cu_stream_pull_init(&st, &k, header);
    cu_key_wipe(&k);
    if (rc)
        return cu_err_set(err, CU_ECORRUPT, "the backup's stream header is invalid");
    unsigned char *c = malloc(CU_BACKUP_CHUNK + CU_STREAM_ABYTES);
    unsigned char *m = malloc(CU_BACKUP_CHUNK);
    if (!c || !m)
        rc = cu_err_set(err, CU_ENOMEM, "out of memory reading a backup");
    bool first = true, final = false;
    int64_t total = 0;
    while (!rc && !final) {
        unsigned char len[4];
        if (fread(len, 1, 4, in) != 4) {
            rc = cu_err_set(err, CU_ECORRUPT, "the backup is truncated");
            break;
        }
        size_t n = (size_t)len[0] << 24 | (size_t)len[1] << 16 | (size_t)len[2] << 8 | len[3];
        if (n < CU_STREAM_ABYTES || n > CU_BACKUP_CHUNK + CU_STREAM_ABYTES) {
            rc = cu_err_set(err, CU_ECORRUPT, "the backup has a malformed chunk");
            break;
        }
        if (fread(c, 1, n, in) != n) {
            rc = cu_err_set(err, CU_ECORRUPT, "the backup is truncated");
            break;
        }
        if (cu_stream_pull(&st, c, n, first ? pre : NULL, first ? sizeof pre : 0, m, &final)) {
            rc = cu_err_set(err, CU_ECORRUPT, "the backup fails authentication (damaged or "
                                              "altered)");
            break;
        }
        first = false;
        size_t pn = n - CU_STREAM_ABYTES;
        if (pn && out && fwrite(m, 1, pn, out) != pn)
            rc = cu_err_set(err, CU_EIO, "cannot write the restored store: %s",
                            strerror(errno));
        total += (int64_t)pn;
    }
    if (!rc && fgetc(in) != EOF)
        rc = cu_err_set(err, CU_ECORRUPT, "the backup has data after its end");
    cu_stream_wipe(&st);
    if (m)
        cu_wipe(m, CU_BACKUP_CHUNK);
    free(m);
    free(c);
    if (!rc && info) {
        memcpy(info->store_id, sid, sizeof info->store_id);
        memcpy(info->key_id, kid, CU_KEYID_BYTES);
        info->bytes = total;
    }
    return rc;
}

static int sync_close(FILE *f, const char *what, cu_err *err)
{
    int rc = CU_OK;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = cu_err_set(err, CU_EIO, "cannot write %s: %s", what, strerror(errno));
    if (fclose(f) != 0 && !rc)
        rc = cu_err_set(err, CU_EIO, "cannot write %s: %s", what, strerror(errno));
    return rc;
}

static FILE *create_private(const char *path, cu_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        cu_err_set(err, errno == EEXIST ? CU_ECONFLICT : CU_EIO, "cannot create %s: %s", path,
                   strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        cu_err_set(err, CU_EIO, "cannot create %s", path);
    }
    return f;
}

int cu_vault_backup(cu_vault *v, const cu_actor *a, const char *path, cu_backup_info *info,
                    cu_err *err)
{
    if (access(path, F_OK) == 0)
        return cu_err_set(err, CU_ECONFLICT, "%s exists: a backup never overwrites a file",
                          path);
    char copy[PATH_MAX + 32], tmp[PATH_MAX + 16];
    snprintf(copy, sizeof copy, "%s/.backup-%d%s", v->dir, (int)getpid(),
             cu_store_copy_suffix());
    int n = snprintf(tmp, sizeof tmp, "%s.partial", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return cu_err_set(err, CU_EINVAL, "backup path too long");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "backup", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    /* The plain copy holds only what the store holds (sealed values), and
     * lives beside it, for its user only, until it is encrypted. */
    (void)unlink(copy);
    if (!rc)
        rc = cu_store_backup(v->store, copy, err);
    FILE *src = NULL, *out = NULL;
    if (!rc && !(src = fopen(copy, "rb")))
        rc = cu_err_set(err, CU_EIO, "cannot read the store copy");
    if (!rc && !(out = create_private(tmp, err)))
        rc = err ? err->code : CU_EIO;
    if (!rc)
        rc = cu_backup_encode(v->master, v->store_id, src, out, info, err);
    if (src)
        fclose(src);
    if (out) {
        int src2 = sync_close(out, "the backup", err);
        if (!rc)
            rc = src2;
    }
    if (!rc && rename(tmp, path) != 0)
        rc = cu_err_set(err, CU_EIO, "cannot rename the backup into place: %s",
                        strerror(errno));
    if (!rc)
        rc = cu_fsync_parent(path, err);
    if (rc)
        (void)unlink(tmp);
    (void)unlink(copy);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

void cu_backup_cleanup(const char *store_dir)
{
    /* A backup interrupted by a crash leaves its plain copy behind: an old
     * snapshot that later erasures would not reach. */
    DIR *d = opendir(store_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, ".backup-", 8) == 0) {
            size_t n = strlen(e->d_name), ns = strlen(cu_store_copy_suffix());
            if (n > ns && strcmp(e->d_name + n - ns, cu_store_copy_suffix()) == 0)
                (void)unlinkat(dirfd(d), e->d_name, 0);
        }
    closedir(d);
}

static int copy_file(const char *from, const char *to, cu_err *err)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return cu_err_set(err, CU_EINVAL, "cannot read %s: %s", from, strerror(errno));
    FILE *out = create_private(to, err);
    int rc = out ? CU_OK : (err ? err->code : CU_EIO);
    char buf[65536];
    size_t n;
    while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = cu_err_set(err, CU_EIO, "cannot write %s: %s", to, strerror(errno));
    if (!rc && ferror(in))
        rc = cu_err_set(err, CU_EIO, "cannot read %s", from);
    fclose(in);
    if (out) {
        int r2 = sync_close(out, to, err);
        if (!rc)
            rc = r2;
    }
    cu_wipe(buf, sizeof buf);
    return rc;
}

int cu_backup_restore(const char *file, const char *store_dir, const char *key_path,
                      bool keep_key_copy, const char *ledger_path, bool without_ledger, cu_backup_info *info,
                      int64_t *replayed, cu_err *err)
{
    char db[PATH_MAX], part[PATH_MAX], key[PATH_MAX], ledger[PATH_MAX];
    /* A backup holds a SQLite store, restored as the file in store_dir. */
    if (cu_vault_database())
        return cu_err_set(err, CU_EINVAL, "restore writes a SQLite store into the directory: "
                                          "run it without --database or CUSTOS_DATABASE");
    if (cu_store_location(store_dir, NULL, db, sizeof db, NULL) != CU_OK ||
        snprintf(part, sizeof part, "%s.restoring", db) >= (int)sizeof part ||
        snprintf(key, sizeof key, "%s/master.key", store_dir) >= (int)sizeof key ||
        snprintf(ledger, sizeof ledger, "%s/%s", store_dir, "erasure.ledger") >=
            (int)sizeof ledger)
        return cu_err_set(err, CU_EINVAL, "store path too long");
    if (cu_store_exists(db))
        return cu_err_set(err, CU_ECONFLICT, "%s already holds a store: restore into a new "
                                             "directory",
                          store_dir);
    bool have_ledger = access(ledger, F_OK) == 0;
    if (ledger_path && have_ledger)
        return cu_err_set(err, CU_ECONFLICT, "%s already holds an erasure ledger; drop "
                                             "--ledger or restore into a new directory",
                          store_dir);
    if (!ledger_path && !have_ledger && !without_ledger)
        return cu_err_set(err, CU_EINVAL,
                          "a restore needs the current erasure ledger, to erase again what "
                          "was erased after the backup: --ledger FILE (or --without-ledger "
                          "to accept that those erasures are lost)");
    if (ledger_path && access(ledger_path, R_OK) != 0)
        return cu_err_set(err, CU_EINVAL, "cannot read the erasure ledger %s: %s", ledger_path,
                          strerror(errno));
    bool copy_key = key_path && keep_key_copy && access(key, F_OK) != 0;
    if (!key_path)
        key_path = key;
    cu_key *master = NULL;
    int rc = cu_keyfile_load(key_path, &master, err);
    FILE *in = NULL;
    if (!rc && !(in = fopen(file, "rb")))
        rc = cu_err_set(err, CU_EINVAL, "cannot read %s: %s", file, strerror(errno));
    if (!rc)
        rc = cu_mkdir_p(store_dir, err);
    FILE *out = NULL;
    bool made_part = false, made_db = false, made_key = false, made_ledger = false;
    if (!rc && (out = create_private(part, err)))
        made_part = true;
    else if (!rc)
        rc = err ? err->code : CU_EIO;
    if (!rc) {
        rc = cu_backup_decode(master, in, out, info, err);
        /* A bad backup file is bad input, not a damaged store. */
        if (rc == CU_ECORRUPT) {
            rc = CU_EINVAL;
            if (err)
                err->code = CU_EINVAL;
        }
    }
    if (out) {
        int r2 = sync_close(out, part, err);
        if (!rc)
            rc = r2;
    }
    if (in)
        fclose(in);
    cu_key_free(master);
    if (!rc && copy_key && !(rc = copy_file(key_path, key, err)))
        made_key = true;
    if (!rc && ledger_path && !(rc = copy_file(ledger_path, ledger, err)))
        made_ledger = true;
    if (!rc && rename(part, db) != 0)
        rc = cu_err_set(err, CU_EIO, "cannot move the restored store into place: %s",
                        strerror(errno));
    if (!rc) {
        made_part = false;
        made_db = true;
        rc = cu_fsync_parent(db, err);
    }
    /* Opening re-applies the ledger's erasures before anything is served. */
    if (!rc) {
        cu_vault *v;
        rc = cu_vault_open(store_dir, copy_key ? key : key_path, &v, err);
        if (!rc) {
            if (replayed)
                *replayed = cu_vault_replayed(v);
            cu_vault_close(v);
        }
    }
    if (rc) {
        if (made_part)
            (void)unlink(part);
        if (made_db)
            cu_store_remove(db);
        if (made_key)
            (void)unlink(key);
        if (made_ledger)
            (void)unlink(ledger);
    }
    return rc;
}
