/*
 * pcache.c — SQLite's own page cache, with one commit-time scan skipped.
 *
 * When a B-tree page splits, SQLite puts the new pages in ascending order by
 * swapping their numbers through a spare number: the page that holds the
 * lock bytes at 1 GiB (262,145 with 4 KiB pages), which is never a real page
 * and so far beyond the end of any smaller database. The default page cache
 * remembers the largest page number it has held; from then on every commit,
 * which asks the cache to drop pages beyond the database's end, finds that
 * number beyond the end and walks every page of the cache (up to 64 MiB of
 * them, see the store's cache_size) to drop none: a tenth of the store
 * thread's time in a stream of small writes.
 *
 * This wrapper hands every call to the default cache and keeps its own
 * largest page number, counting the spare number only while a page is
 * parked on it. A truncation with nothing beyond its limit is then skipped;
 * any other goes to the default cache unchanged.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "sqlite_impl.h"

static sqlite3_pcache_methods2 base;
static bool installed;
static atomic_ullong skipped, passed, renumbered;

typedef struct {
    sqlite3_pcache *inner;
    unsigned max;    /* no page lies beyond it (may overestimate) */
    unsigned spare;  /* the lock-byte page's number at this page size */
    unsigned parked; /* pages renumbered onto it and not yet off it */
} wrap;

/* SQLite's PENDING_BYTE: the first byte of the locking range. */
#define LOCK_BYTE 0x40000000u

static int w_init(void *arg)
{
    (void)arg;
    return base.xInit ? base.xInit(base.pArg) : SQLITE_OK;
}

static void w_shutdown(void *arg)
{
    (void)arg;
    if (base.xShutdown)
        base.xShutdown(base.pArg);
}

static sqlite3_pcache *w_create(int page_size, int extra, int purgeable)
{
    wrap *w = sqlite3_malloc(sizeof *w);
    if (!w)
        return NULL;
    if (!(w->inner = base.xCreate(page_size, extra, purgeable))) {
        sqlite3_free(w);
        return NULL;
    }
    w->max = 0;
    w->spare = page_size > 0 ? LOCK_BYTE / (unsigned)page_size + 1 : 0;
    w->parked = 0;
    return (sqlite3_pcache *)w;
}

static void w_cachesize(sqlite3_pcache *p, int n)
{
    base.xCachesize(((wrap *)p)->inner, n);
}

static int w_pagecount(sqlite3_pcache *p)
{
    return base.xPagecount(((wrap *)p)->inner);
}

static sqlite3_pcache_page *w_fetch(sqlite3_pcache *p, unsigned key, int create)
{
    wrap *w = (wrap *)p;
    sqlite3_pcache_page *pg = base.xFetch(w->inner, key, create);
    if (pg && key > w->max)
        w->max = key;
    return pg;
}

static void w_unpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard)
{
    base.xUnpin(((wrap *)p)->inner, pg, discard);
}

static void w_rekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned old, unsigned key)
{
    wrap *w = (wrap *)p;
    base.xRekey(w->inner, pg, old, key);
    if (old == w->spare && w->parked)
        w->parked--;
    if (key == w->spare) {
        w->parked++;
        atomic_fetch_add_explicit(&renumbered, 1, memory_order_relaxed);
    }
    else if (key > w->max)
        w->max = key;
}

static void w_truncate(sqlite3_pcache *p, unsigned limit)
{
    wrap *w = (wrap *)p;
    bool beyond = limit <= w->max || (w->parked && limit <= w->spare);
    atomic_fetch_add_explicit(beyond ? &passed : &skipped, 1, memory_order_relaxed);
    if (!beyond)
        return;
    base.xTruncate(w->inner, limit);
    if (limit > 0 && w->max >= limit)
        w->max = limit - 1;
    if (limit <= w->spare)
        w->parked = 0;
}

static void w_destroy(sqlite3_pcache *p)
{
    wrap *w = (wrap *)p;
    base.xDestroy(w->inner);
    sqlite3_free(w);
}

static void w_shrink(sqlite3_pcache *p)
{
    if (base.xShrink)
        base.xShrink(((wrap *)p)->inner);
}

static const sqlite3_pcache_methods2 methods = {
    .iVersion = 1,
    .xInit = w_init,
    .xShutdown = w_shutdown,
    .xCreate = w_create,
    .xCachesize = w_cachesize,
    .xPagecount = w_pagecount,
    .xFetch = w_fetch,
    .xUnpin = w_unpin,
    .xRekey = w_rekey,
    .xTruncate = w_truncate,
    .xDestroy = w_destroy,
    .xShrink = w_shrink,
};

static void install(void)
{
    /* Only before SQLite initialises: if something in the process already
     * used it, the default cache stays, which is merely slower. */
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base) != SQLITE_OK || !base.xCreate)
        return;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods) == SQLITE_OK)
        installed = true;
}

void cu_sq_pcache_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}

bool cu_sq_pcache_stats(cu_sq_pcache_counts *out)
{
    out->skipped = atomic_load_explicit(&skipped, memory_order_relaxed);
    out->passed = atomic_load_explicit(&passed, memory_order_relaxed);
    out->parked = atomic_load_explicit(&renumbered, memory_order_relaxed);
    return installed;
}
