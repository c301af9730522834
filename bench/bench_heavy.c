/*
 * bench_heavy — does one heavy subject starve the others? HTTP load against a
 * running `custos serve` (scripts/bench-heavy.sh sets it up): reader threads
 * GET a normal subject as fast as they can and record each latency, while
 * other clients read a subject with thousands of items in full (the subject
 * read, then every page its `next` cursor leads to) and add items to it.
 * Prints the normal reads per second with their median and 99th-percentile
 * latency, and how many full heavy reads and heavy writes were done.
 *
 *   bench_heavy --port P --token T --subject ID --heavy ID [--seconds S]
 *               [--readers N] [--heavy-readers N] [--heavy-writers N]
 *
 * Not a test: it asserts nothing about time; any non-2xx answer is an error.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct cfg {
    long port;
    const char *token, *subject, *heavy;
    double seconds;
    long readers, heavy_readers, heavy_writers;
} cfg;

typedef struct body {
    char *p;
    size_t n, cap;
} body;

typedef struct worker {
    const cfg *c;
    int kind; /* 0 normal reader, 1 heavy reader, 2 heavy writer */
    double *lat;
    size_t nlat, cap;
    long ops, pages, errors;
    pthread_t t;
} worker;

static atomic_bool stop;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    body *b = ctx;
    size_t len = size * n;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return 0;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, len);
    b->n += len;
    b->p[b->n] = '\0';
    return len;
}

/* One request on the worker's connection; the HTTP status, or -1. */
static long request(CURL *h, const cfg *c, const char *path, const char *post, body *b)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%ld%s", c->port, path);
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (post) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (curl_easy_perform(h) != CURLE_OK)
        return -1;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* The "next" cursor of a page, or 0 when it has none. */
static int next_cursor(const body *b, char out[80])
{
    const char *p = b->p ? strstr(b->p, "\"next\":\"") : NULL;
    if (!p)
        return 0;
    p += 8;
    size_t n = strcspn(p, "\"");
    if (n == 0 || n >= 80)
        return 0;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

static void note(worker *w, double dt)
{
    if (w->nlat == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4096;
        double *l = realloc(w->lat, cap * sizeof *l);
        if (!l)
            return;
        w->lat = l;
        w->cap = cap;
    }
    w->lat[w->nlat++] = dt;
}

static void *run(void *arg)
{
    worker *w = arg;
    const cfg *c = w->c;
    CURL *h = curl_easy_init();
    struct curl_slist *hd = NULL;
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
    hd = curl_slist_append(hd, auth);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    body b = {0};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    char path[256], cursor[80];
    static const char item[] = "{\"items\": [{\"category\": \"health\", \"field\": \"obs\", "
                               "\"value\": \"heavy subject observation\"}]}";
    while (!atomic_load(&stop)) {
        double t0 = now_s();
        long st;
        if (w->kind == 0) {
            snprintf(path, sizeof path, "/v1/subjects/%s", c->subject);
            st = request(h, c, path, NULL, &b);
            if (st == 200)
                note(w, now_s() - t0);
        } else if (w->kind == 1) {
            snprintf(path, sizeof path, "/v1/subjects/%s", c->heavy);
            st = request(h, c, path, NULL, &b);
            w->pages++;
            while (st == 200 && !atomic_load(&stop) && next_cursor(&b, cursor)) {
                snprintf(path, sizeof path, "/v1/subjects/%s/items?cursor=%s", c->heavy, cursor);
                st = request(h, c, path, NULL, &b);
                w->pages++;
            }
        } else {
            snprintf(path, sizeof path, "/v1/subjects/%s/items", c->heavy);
            st = request(h, c, path, item, &b);
            if (st == 201)
                st = 200;
        }
        if (st == 200)
            w->ops++;
        else if (!atomic_load(&stop))
            w->errors++;
    }
    free(b.p);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long count(const char *opt, const char *arg, long min, long max)
{
    char *end = NULL;
    long v = strtol(arg, &end, 10);
    if (!end || *end || v < min || v > max) {
        fprintf(stderr, "bench_heavy: %s takes %ld to %ld\n", opt, min, max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    cfg c = {.seconds = 10, .readers = 8, .heavy_readers = 1, .heavy_writers = 1};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *a = argv[i + 1];
        if (!strcmp(o, "--port"))
            c.port = count(o, a, 1, 65535);
        else if (!strcmp(o, "--token"))
            c.token = a;
        else if (!strcmp(o, "--subject"))
            c.subject = a;
        else if (!strcmp(o, "--heavy"))
            c.heavy = a;
        else if (!strcmp(o, "--seconds"))
            c.seconds = (double)count(o, a, 1, 3600);
        else if (!strcmp(o, "--readers"))
            c.readers = count(o, a, 1, 256);
        else if (!strcmp(o, "--heavy-readers"))
            c.heavy_readers = count(o, a, 0, 64);
        else if (!strcmp(o, "--heavy-writers"))
            c.heavy_writers = count(o, a, 0, 64);
        else {
            fprintf(stderr, "bench_heavy: unknown option %s\n", o);
            return 2;
        }
    }
    if (!c.port || !c.token || !c.subject || !c.heavy) {
        fprintf(stderr, "usage: bench_heavy --port P --token T --subject ID --heavy ID "
                        "[--seconds S] [--readers N] [--heavy-readers N] [--heavy-writers N]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    size_t n = (size_t)(c.readers + c.heavy_readers + c.heavy_writers);
    worker *w = calloc(n, sizeof *w);
    if (!w)
        return 1;
    for (size_t i = 0; i < n; i++) {
        w[i].c = &c;
        w[i].kind = i < (size_t)c.readers                      ? 0
                    : i < (size_t)(c.readers + c.heavy_readers) ? 1
                                                                : 2;
    }
    double t0 = now_s();
    for (size_t i = 0; i < n; i++)
        pthread_create(&w[i].t, NULL, run, &w[i]);
    struct timespec ts = {(time_t)c.seconds, 0};
    nanosleep(&ts, NULL);
    atomic_store(&stop, true);
    for (size_t i = 0; i < n; i++)
        pthread_join(w[i].t, NULL);
    double dt = now_s() - t0;
    size_t total = 0;
    long ops[3] = {0}, errors = 0, pages = 0;
    for (size_t i = 0; i < n; i++) {
        total += w[i].nlat;
        ops[w[i].kind] += w[i].ops;
        errors += w[i].errors;
        pages += w[i].pages;
    }
    double *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i].nlat)
            memcpy(all + k, w[i].lat, w[i].nlat * sizeof *all);
        k += w[i].nlat;
        free(w[i].lat);
    }
    qsort(all, total, sizeof *all, cmp);
    double p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)((double)total * 0.99)] : 0;
    printf("normal reads: %.0f/s  p50 %.2f ms  p99 %.2f ms  (%zu in %.1f s, %ld readers)\n",
           (double)total / dt, p50 * 1e3, p99 * 1e3, total, dt, c.readers);
    printf("heavy subject: %.2f full reads/s (%ld requests), %.0f writes/s  "
           "(%ld readers, %ld writers)\n",
           (double)ops[1] / dt, pages, (double)ops[2] / dt, c.heavy_readers, c.heavy_writers);
    printf("errors (non-2xx or failed requests): %ld\n", errors);
    free(all);
    free(w);
    curl_global_cleanup();
    return errors ? 1 : 0;
}
