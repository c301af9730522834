/*
 * fault.c — the counter behind CUSTOS_FAULT_AT (see fault.h). Compiled only
 * with -Dfault_injection=true.
 */
#include "store/fault.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_ullong calls;
static atomic_ullong commits;
static atomic_int ready;           /* 0 not read, 1 being read, 2 read */
static unsigned long long fault_at; /* 0: no fault */
static unsigned long long fault_times; /* how many in a row from fault_at (1 unless set) */
static bool fault_commit;           /* CUSTOS_FAULT_KIND=commit */
static int fault_code;              /* CUSTOS_FAULT_ERROR: CU_EIO, or CU_ERETRY for retry */

static void print_count(void)
{
    fprintf(stderr, "custos: store calls: %llu, commits: %llu\n",
            (unsigned long long)atomic_load(&calls), (unsigned long long)atomic_load(&commits));
}

/* A positive decimal count, else 0 (no fault). */
static unsigned long long parse_count(const char *v)
{
    if (!v || !*v)
        return 0;
    unsigned long long n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || n > 1000000000ULL)
            return 0;
        n = n * 10 + (unsigned long long)(*p - '0');
    }
    return n;
}

static void read_env(void)
{
    int expect = 0;
    if (atomic_compare_exchange_strong(&ready, &expect, 1)) {
        fault_at = parse_count(getenv("CUSTOS_FAULT_AT"));
        const char *kind = getenv("CUSTOS_FAULT_KIND");
        fault_commit = kind && strcmp(kind, "commit") == 0;
        const char *code = getenv("CUSTOS_FAULT_ERROR");
        fault_code = code && strcmp(code, "retry") == 0 ? CU_ERETRY : CU_EIO;
        fault_times = parse_count(getenv("CUSTOS_FAULT_TIMES"));
        if (!fault_times)
            fault_times = 1;
        const char *count = getenv("CUSTOS_FAULT_COUNT");
        if (count && strcmp(count, "1") == 0)
            (void)atexit(print_count);
        atomic_store(&ready, 2);
        return;
    }
    while (atomic_load(&ready) != 2)
        ;
}

/* Whether the nth call (or commit) is one of those that fail. */
static bool faulted(unsigned long long n)
{
    return fault_at && n >= fault_at && n - fault_at < fault_times;
}

int cu_store_fault(const char *what, cu_err *err)
{
    if (atomic_load(&ready) != 2)
        read_env();
    bool is_commit = what && strcmp(what, "commit") == 0;
    unsigned long long n;
    if (is_commit) {
        n = atomic_fetch_add(&commits, 1) + 1;
        if (fault_commit && faulted(n))
            return cu_err_set(err, fault_code, "injected fault at store commit %llu", n);
        return CU_OK;
    }
    n = atomic_fetch_add(&calls, 1) + 1;
    if (!fault_commit && faulted(n))
        return cu_err_set(err, fault_code, "injected fault at store call %llu", n);
    return CU_OK;
}

void cu_fault_hold(void)
{
    const char *path = getenv("CUSTOS_FAULT_HOLD");
    if (!path || !*path)
        return;
    char held[4096];
    if ((size_t)snprintf(held, sizeof held, "%s.held", path) >= sizeof held)
        return;
    FILE *f = fopen(held, "w");
    if (f)
        fclose(f);
    struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
    for (int i = 0; i < 6000 && access(path, F_OK) == 0; i++)
        nanosleep(&tick, NULL);
}
