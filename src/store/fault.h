/*
 * fault.h — fault injection at the store, for test builds only.
 *
 * Built with -Dfault_injection=true (make test's build), the store asks
 * cu_store_fault before each statement it runs and before each commit:
 *   CUSTOS_FAULT_AT=N         the Nth store call (or commit) of the process fails
 *                             as a database error would: CU_EIO, "injected fault
 *                             at store call N" (or "at store commit N")
 *   CUSTOS_FAULT_KIND=call|commit   what N counts (default call)
 *   CUSTOS_FAULT_ERROR=retry  the failure is CU_ERETRY instead, as when the
 *                             database aborts a transaction to keep concurrent
 *                             ones apart (a PostgreSQL serialisation failure
 *                             or deadlock): the transaction is run again
 *   CUSTOS_FAULT_TIMES=K      the K calls (or commits) from the Nth on fail,
 *                             not only the Nth (default 1): with K at least
 *                             the number of attempts, every attempt of a
 *                             re-run transaction fails (each one's first call
 *                             or commit after the failure is the next one)
 *   CUSTOS_FAULT_COUNT=1      at exit, print to stderr one line with how many
 *                             store calls and commits the process made
 *   CUSTOS_FAULT_HOLD=PATH    at a hold point (cu_fault_hold: the hash of a
 *                             new password, on an HTTP thread), the thread
 *                             creates PATH.held and waits while PATH exists
 *                             (at most 60 s), so a test can see what else is
 *                             served while that work is under way
 * Every store call counts, commits included; only a statement run for the
 * undoing of a failed transaction (whose error nobody sees) is not asked.
 * Without the build option none of this is compiled in and the variables mean
 * nothing: cu_store_fault is an inline that always returns CU_OK.
 */
#ifndef CUSTOS_STORE_FAULT_H
#define CUSTOS_STORE_FAULT_H

#include "util/err.h"

#ifdef CUSTOS_FAULT_INJECTION
/* Counts one store call (what = "commit" counts a commit instead) and returns
 * CU_OK, or CU_EIO (CU_ERETRY) with err set when it is one CUSTOS_FAULT_AT
 * and CUSTOS_FAULT_TIMES name. */
int cu_store_fault(const char *what, cu_err *err);
/* Waits at a hold point while CUSTOS_FAULT_HOLD's file exists. */
void cu_fault_hold(void);
#else
static inline void cu_fault_hold(void)
{
}
static inline int cu_store_fault(const char *what, cu_err *err)
{
    (void)what;
    (void)err;
    return CU_OK;
}
#endif

#endif
