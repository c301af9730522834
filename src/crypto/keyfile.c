#include "crypto/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

static const char header[] = "custos-master-key-v1\n";
#define KEYFILE_LEN (sizeof header - 1 + 2 * CU_KEY_BYTES + 1)

static int keyfile_encode(const cu_key *key, const char *path, int replace, cu_err *err)
{
    char text[KEYFILE_LEN + 1];
    memcpy(text, header, sizeof header - 1);
    cu_hex(key->k, CU_KEY_BYTES, text + sizeof header - 1);
    text[KEYFILE_LEN - 1] = '\n';
    text[KEYFILE_LEN] = '\0';
    int rc = cu_write_file_atomic(path, text, KEYFILE_LEN, 0600, replace, err);
    cu_wipe(text, sizeof text);
    return rc;
}

int cu_keyfile_create(const char *path, cu_key **out, cu_err *err)
{
    cu_key *k = cu_key_new_locked(NULL);
    if (!k)
        return cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory for the master key");
    int rc = keyfile_encode(k, path, 0, err);
    if (rc) {
        cu_key_free(k);
        return rc;
    }
    *out = k;
    return CU_OK;
}

int cu_keyfile_write(const char *path, const cu_key *key, cu_err *err)
{
    return keyfile_encode(key, path, 1, err);
}

int cu_keyfile_load(const char *path, cu_key **out, cu_err *err)
{
    /* O_NONBLOCK: a FIFO at path must be refused below, not waited on. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return cu_err_set(err, CU_EKEY,
                              "master key file %s not found (set CUSTOS_MASTER_KEY_FILE or "
                              "restore the key)", path);
        return cu_err_set(err, CU_EKEY, "cannot open master key file %s: %s", path,
                          strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return cu_err_set(err, CU_EKEY, "master key file %s is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return cu_err_set(err, CU_EKEY,
                          "master key file %s is accessible to group or others (mode %04o); "
                          "run: chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
    }
    char text[KEYFILE_LEN + 2];
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    int rc = CU_OK;
    cu_key tmp;
    if (n < (ssize_t)KEYFILE_LEN - 1 || n > (ssize_t)KEYFILE_LEN ||
        memcmp(text, header, sizeof header - 1) != 0 ||
        !cu_unhex(text + sizeof header - 1, 2 * CU_KEY_BYTES, tmp.k, CU_KEY_BYTES) ||
        (n == (ssize_t)KEYFILE_LEN && text[KEYFILE_LEN - 1] != '\n')) {
        rc = cu_err_set(err, CU_EKEY, "master key file %s is not a custos master key", path);
    } else {
        *out = cu_key_new_locked(&tmp);
        if (!*out)
            rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory for the master key");
    }
    cu_wipe(text, sizeof text);
    cu_key_wipe(&tmp);
    return rc;
}
