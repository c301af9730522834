#include "http/assets.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/pages_util.h"
#include "util/buf.h"
#include "util/file.h"

#ifndef CUSTOS_ASSETS_DIR
#define CUSTOS_ASSETS_DIR "/usr/local/share/custos/assets"
#endif

#define ASSET_DEPTH_MAX 3

struct cu_assets {
    cu_asset *v;
    size_t n, cap;
    size_t bytes;
};

const char *cu_assets_version(void)
{
    return CUSTOS_ASSETS_VERSION;
}

const char *cu_assets_prefix(void)
{
    return "/assets/" CUSTOS_ASSETS_VERSION;
}

const char *cu_assets_relative(const char *page_path, char *out, size_t cap)
{
    if (out && page_path && cu_path_relative(page_path, cu_assets_prefix(), out, cap))
        return out;
    if (out && cap)
        out[0] = '\0';
    return cu_assets_prefix();
}

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".webmanifest", "application/manifest+json"},
};

static const char *type_of(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(name + n - e, types[i].ext) == 0)
            return types[i].type;
    }
    return NULL;
}

static bool name_ok(const char *s)
{
    if (!*s || *s == '.')
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

void cu_assets_free(cu_assets *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].data);
    free(a->v);
    free(a);
}

size_t cu_assets_count(const cu_assets *a)
{
    return a ? a->n : 0;
}

static int read_whole(const char *path, size_t limit, unsigned char **data, size_t *len,
                      cu_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cu_err_set(err, CU_EIO, "cannot read %s: %s", path, strerror(errno));
    cu_buf b;
    cu_buf_init(&b, limit + 1);
    int rc = cu_read_stream(f, limit, &b, err);
    fclose(f);
    if (rc) {
        cu_buf_release(&b);
        return rc == CU_EINVAL ? cu_err_set(err, CU_ENOMEM, "%s: the assets are limited to "
                                                            "%zu bytes in all",
                                            path, CU_ASSETS_MAX_BYTES)
                               : rc;
    }
    if (!b.data && cu_buf_reserve(&b, 1)) {
        cu_buf_release(&b);
        return cu_err_set(err, CU_ENOMEM, "out of memory reading %s", path);
    }
    *data = b.data; /* handed over: static files, nothing to wipe */
    *len = b.len;
    return CU_OK;
}

static int add_file(cu_assets *a, const char *path, const char *rel, const char *type,
                    cu_err *err)
{
    if (a->n == CU_ASSETS_MAX_FILES)
        return cu_err_set(err, CU_ENOMEM, "more than %d asset files", CU_ASSETS_MAX_FILES);
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        cu_asset *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return cu_err_set(err, CU_ENOMEM, "out of memory loading the assets");
        a->v = v;
        a->cap = cap;
    }
    cu_asset *e = &a->v[a->n];
    memset(e, 0, sizeof *e);
    if (cu_strlcpy(e->path, rel, sizeof e->path))
        return cu_err_set(err, CU_EINVAL, "asset name longer than %d bytes", CU_ASSET_PATH_MAX - 1);
    e->content_type = type;
    int rc = read_whole(path, CU_ASSETS_MAX_BYTES - a->bytes, &e->data, &e->len, err);
    if (rc)
        return rc;
    a->bytes += e->len;
    a->n++;
    return CU_OK;
}

static int walk(cu_assets *a, const char *dir, const char *rel, int depth, cu_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return cu_err_set(err, CU_EIO, "cannot read the asset directory %s: %s", dir,
                          strerror(errno));
    int rc = CU_OK;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (!name_ok(de->d_name))
            continue; /* ".", "..", hidden files and odd names are never served */
        char path[PATH_MAX], sub[CU_ASSET_PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) {
            rc = cu_err_set(err, CU_EINVAL, "asset path too long in %s", dir);
            break;
        }
        int sn = snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        struct stat st;
        if (stat(path, &st)) {
            rc = cu_err_set(err, CU_EIO, "cannot read %s: %s", path, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            if (depth < ASSET_DEPTH_MAX && sn < (int)sizeof sub)
                rc = walk(a, path, sub, depth + 1, err);
        } else if (S_ISREG(st.st_mode) && type_of(de->d_name)) {
            if (sn >= (int)sizeof sub)
                continue;
            rc = add_file(a, path, sub, type_of(de->d_name), err);
        }
    }
    closedir(d);
    return rc;
}

static int by_path(const void *x, const void *y)
{
    return strcmp(((const cu_asset *)x)->path, ((const cu_asset *)y)->path);
}

int cu_assets_load(const char *dir, cu_assets **out, cu_err *err)
{
    *out = NULL;
    char vpath[PATH_MAX];
    if (!dir || !*dir || snprintf(vpath, sizeof vpath, "%s/VERSION", dir) >= (int)sizeof vpath)
        return cu_err_set(err, CU_EINVAL, "no asset directory");
    unsigned char *ver = NULL;
    size_t vlen = 0;
    FILE *f = fopen(vpath, "rb");
    if (!f)
        return cu_err_set(err, errno == ENOENT ? CU_EINVAL : CU_EIO,
                          "%s is not an asset directory (no VERSION file: build it with "
                          "ninja, or give --assets)",
                          dir);
    fclose(f);
    cu_err e2 = {0};
    if (read_whole(vpath, 64, &ver, &vlen, &e2))
        return cu_err_set(err, CU_EINVAL, "%s/VERSION cannot be read", dir);
    while (vlen && (ver[vlen - 1] == '\n' || ver[vlen - 1] == '\r' || ver[vlen - 1] == ' '))
        ver[--vlen] = '\0';
    if (vlen != strlen(CUSTOS_ASSETS_VERSION) || memcmp(ver, CUSTOS_ASSETS_VERSION, vlen)) {
        char shown[24];
        size_t i = 0;
        for (; i < vlen && i < sizeof shown - 1; i++)
            shown[i] = (ver[i] >= 0x20 && ver[i] < 0x7f) ? (char)ver[i] : '?';
        shown[i] = '\0';
        free(ver);
        return cu_err_set(err, CU_EINVAL, "%s holds the assets of %s, not %s", dir, shown,
                          CUSTOS_ASSETS_VERSION);
    }
    free(ver);
    cu_assets *a = calloc(1, sizeof *a);
    if (!a)
        return cu_err_set(err, CU_ENOMEM, "out of memory loading the assets");
    int rc = walk(a, dir, "", 0, err);
    if (!rc && a->n)
        qsort(a->v, a->n, sizeof *a->v, by_path);
    static const char *const needed[] = {"nhsuk.min.css", "nhsuk.min.js"};
    for (size_t i = 0; !rc && i < sizeof needed / sizeof needed[0]; i++) {
        char path[CU_ASSET_PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", CUSTOS_ASSETS_VERSION, needed[i]);
        if (!cu_assets_find(a, path))
            rc = cu_err_set(err, CU_EINVAL, "%s has no %s", dir, needed[i]);
    }
    if (rc) {
        cu_assets_free(a);
        return rc;
    }
    *out = a;
    return CU_OK;
}

const cu_asset *cu_assets_find(const cu_assets *a, const char *url_path)
{
    if (!a || !a->n || !url_path)
        return NULL;
    size_t vn = strlen(CUSTOS_ASSETS_VERSION);
    if (strncmp(url_path, CUSTOS_ASSETS_VERSION, vn) != 0 || url_path[vn] != '/')
        return NULL;
    cu_asset key;
    if (cu_strlcpy(key.path, url_path + vn + 1, sizeof key.path))
        return NULL;
    return bsearch(&key, a->v, a->n, sizeof *a->v, by_path);
}

void cu_assets_default_dir(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        char probe[PATH_MAX + 32];
        if (slash) {
            *slash = '\0';
            snprintf(probe, sizeof probe, "%s/assets/VERSION", exe);
            if (access(probe, R_OK) == 0 &&
                snprintf(out, cap, "%s/assets", exe) < (int)cap)
                return;
        }
    }
    cu_strlcpy(out, CUSTOS_ASSETS_DIR, cap);
}
