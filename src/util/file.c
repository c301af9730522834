#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cu_read_stream(FILE *f, size_t limit, cu_buf *out, cu_err *err)
{
    unsigned char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > limit)
            return cu_err_set(err, CU_EINVAL, "input larger than %zu bytes", limit);
        if (cu_buf_append(out, chunk, n))
            return cu_err_set(err, CU_ENOMEM, "out of memory reading input");
    }
    if (ferror(f))
        return cu_err_set(err, CU_EIO, "cannot read input: %s", strerror(errno));
    return CU_OK;
}

int cu_fsync_parent(const char *path, cu_err *err)
{
    char tmp[PATH_MAX];
    if (cu_strlcpy(tmp, path, sizeof tmp))
        return cu_err_set(err, CU_EINVAL, "path too long");
    int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cu_err_set(err, CU_EIO, "cannot open directory of %s: %s", path, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc)
        return cu_err_set(err, CU_EIO, "cannot sync directory of %s: %s", path, strerror(errno));
    return CU_OK;
}

int cu_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
                         int replace, cu_err *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return cu_err_set(err, CU_EINVAL, "path too long");
    if (!replace && access(path, F_OK) == 0)
        return cu_err_set(err, CU_ECONFLICT, "%s already exists", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return cu_err_set(err, CU_EIO, "cannot create %s: %s", tmp, strerror(errno));
    const unsigned char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return cu_err_set(err, CU_EIO, "cannot write %s: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) || fsync(fd)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return cu_err_set(err, CU_EIO, "cannot sync %s: %s", tmp, strerror(e));
    }
    close(fd);
    if (replace ? rename(tmp, path) : link(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return cu_err_set(err, e == EEXIST ? CU_ECONFLICT : CU_EIO, "cannot create %s: %s",
                          path, strerror(e));
    }
    if (!replace)
        unlink(tmp);
    return cu_fsync_parent(path, err);
}

int cu_mkdir_p(const char *path, cu_err *err)
{
    char tmp[PATH_MAX];
    if (cu_strlcpy(tmp, path, sizeof tmp))
        return cu_err_set(err, CU_EINVAL, "path too long");
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST)
            return cu_err_set(err, CU_EIO, "cannot create %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0700) && errno != EEXIST)
        return cu_err_set(err, CU_EIO, "cannot create %s: %s", tmp, strerror(errno));
    return CU_OK;
}
