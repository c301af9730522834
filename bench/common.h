/*
 * common.h — helpers shared by the benchmark programs (bench_writes,
 * bench_verify): clocks, a private temporary store directory, the fixed data
 * the benchmarks write, and small statistics. Not part of custos itself.
 */
#ifndef CUSTOS_BENCH_COMMON_H
#define CUSTOS_BENCH_COMMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/input.h"
#include "domain/subject.h"
#include "domain/recover.h"
#include "domain/vault.h"

/* Default parent of the temporary store: on the same disk as /work here. */
#define BENCH_DEFAULT_PARENT "/var/tmp"

/* Wall-clock (monotonic) and process CPU time, in seconds. */
double bench_wall(void);
double bench_cpu(void);

/* Creates PARENT/custos-bench-XXXXXX (mkdtemp) and writes its path to out. */
int bench_tmpdir(const char *parent, char out[PATH_MAX]);
/* Removes the directory made by bench_tmpdir and everything below it. */
void bench_rmtree(const char *dir);

/* Parses a positive count option; exits with a usage message when invalid. */
long bench_count(const char *opt, const char *arg, long min, long max);

/* The actor every benchmark operation runs as. */
extern const cu_actor bench_actor;

/* Fixed input documents. */
#define BENCH_ITEM_DOCS 16
typedef struct bench_data {
    cu_doc item_doc[BENCH_ITEM_DOCS]; /* one item each: category health */
    size_t value_bytes;
    char (*subject)[CU_ID_STRLEN];   /* subject ids */
    size_t nsubjects;
    char controller[CU_ID_STRLEN];
} bench_data;

/* Audit events bench_setup appends before its subjects: adding the controller
 * and applying its policy. */
#define BENCH_SETUP_EVENTS 2

/* Initialises libsodium and the JSON allocators; exits on failure. */
void bench_init_libs(void);
/* Creates a vault in dir/store, opens it, adds one controller with the test
 * policy and nsubjects subjects (one batch), and parses the item documents.
 * Exits on failure. */
void bench_setup(const char *dir, size_t nsubjects, size_t value_bytes, cu_vault **v,
                 bench_data *d);
void bench_data_release(bench_data *d);
/* The store directory inside a bench_tmpdir. */
void bench_store_dir(const char *dir, char out[PATH_MAX]);

/* Adds one item (one encrypted value, one audit event) to subject i % nsubjects
 * using item document i % BENCH_ITEM_DOCS. Exits on failure. */
void bench_add_item(cu_vault *v, const bench_data *d, uint64_t i);

/* Dies with a message built from err. */
_Noreturn void bench_die(const char *what, const cu_err *err);

double bench_median(const double *x, size_t n);
double bench_min(const double *x, size_t n);
double bench_max(const double *x, size_t n);

#endif
