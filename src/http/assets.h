/*
 * assets.h — the static files of the pages (the NHS.UK frontend's compiled
 * stylesheet and script, its favicons, icons and logos), served under
 * /assets/<version>/<path> with the version of the frontend in the URL, so a
 * response may be cached for a year and never revalidated.
 *
 * The directory (`custos serve --assets DIR`; by default the build
 * directory's assets/ beside the binary when there is one, else the
 * installed DATADIR/custos/assets) is read whole into memory when the server
 * starts: a request is answered from that table by exact name, never by
 * opening a file, so no path a client sends can reach the file system.
 * Names are [A-Za-z0-9._-] segments (none starting with '.'), at most
 * CU_ASSET_PATH_MAX long, at most three directories deep; a file of an
 * extension custos has no content type for is not loaded.
 */
#ifndef CUSTOS_HTTP_ASSETS_H
#define CUSTOS_HTTP_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#ifndef CUSTOS_ASSETS_VERSION
#define CUSTOS_ASSETS_VERSION "0"
#endif

/* The version of the NHS.UK frontend this build serves ("9.6.4"). */
const char *cu_assets_version(void);
/* The URL path prefix of the assets, without a trailing slash:
 * "/assets/9.6.4". A page links "/assets/9.6.4/nhsuk.min.css" as
 * cu_assets_prefix() followed by "/nhsuk.min.css". */
const char *cu_assets_prefix(void);
/* The same prefix relative to a page at page_path ("/q/cuq_x" gives
 * "../assets/9.6.4"; pages_util.h cu_path_relative), so a page's stylesheet
 * is found on the same origin whatever path a proxy puts custos under.
 * Written into out (cap bytes, CU_ASSETS_REL_MAX is enough);
 * cu_assets_prefix() when it does not fit or page_path is not a path. */
#define CU_ASSETS_REL_MAX 96
const char *cu_assets_relative(const char *page_path, char *out, size_t cap);

#define CU_ASSET_PATH_MAX 128
typedef struct cu_asset {
    char path[CU_ASSET_PATH_MAX]; /* relative: "nhsuk.min.css", "icons/icon-tick.svg" */
    const char *content_type;     /* static string */
    unsigned char *data;
    size_t len;
} cu_asset;

typedef struct cu_assets cu_assets;

/* Limits on what is loaded. */
#define CU_ASSETS_MAX_FILES 512
#define CU_ASSETS_MAX_BYTES ((size_t)32 << 20)

/* Reads dir into memory. dir must hold a file VERSION naming
 * cu_assets_version() (the build's web-assets step writes it), nhsuk.min.css
 * and nhsuk.min.js; CU_EINVAL otherwise ("DIR holds the assets of 9.5.0, not
 * 9.6.4"), CU_EIO when it cannot be read, CU_ENOMEM past the limits. */
CU_MUST_USE int cu_assets_load(const char *dir, cu_assets **out, cu_err *err);
void cu_assets_free(cu_assets *a);
size_t cu_assets_count(const cu_assets *a);

/* The asset at the URL path below "/assets/" ("9.6.4/nhsuk.min.css"), or
 * NULL: another version, an unknown name, or a NULL set. */
const cu_asset *cu_assets_find(const cu_assets *a, const char *url_path);

/* The directory used when --assets is not given: "<directory of the running
 * binary>/assets" when it holds a VERSION file (a build directory), else
 * CUSTOS_ASSETS_DIR (DATADIR/custos/assets). */
void cu_assets_default_dir(char *out, size_t cap);

/* The Cache-Control of every asset response. */
#define CU_ASSET_CACHE_CONTROL "public, max-age=31536000, immutable"

#endif
