/*
 * keysched.h — how old the master key is, and how often it is to be
 * rotated.
 *
 * Crypto-shredding holds in copies custos cannot reach (a database's write-
 * ahead log, replicas, backups) only once the master key that wrapped an
 * erased subject's data key is retired: so the master key is rotated on a
 * schedule (docs/operations.md). The store records when the current master
 * key came into use ("master_key_since", written by init and by every
 * rotation) and the interval the operator chose ("key_rotation_days", one
 * setting for every node on the store). Neither is personal data.
 */
#ifndef CUSTOS_DOMAIN_KEYSCHED_H
#define CUSTOS_DOMAIN_KEYSCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/vault.h"

#define CU_KEY_ROTATION_MAX_DAYS 366

typedef struct cu_key_schedule {
    int64_t since_us;  /* when the master key in use came into use */
    bool since_known;  /* false: the store predates the record; since_us is
                        * the store's creation, so the key is at most that old */
    int every_days;    /* the chosen interval; 0: none chosen */
    int64_t due_us;    /* since_us + every_days (when every_days > 0) */
    int64_t age_days;  /* whole days from since_us to now */
    bool overdue;      /* every_days > 0 and now is past due_us */
} cu_key_schedule;

/* Reads the schedule as of now_us. CU_ECORRUPT for a stored value that does
 * not parse. */
CU_MUST_USE int cu_key_schedule_get(cu_vault *v, int64_t now_us, cu_key_schedule *out,
                                    cu_err *err);

/* Sets the rotation interval to days (1 to CU_KEY_ROTATION_MAX_DAYS; 0
 * clears it) as one audited operation ("key"): CU_EINVAL out of range, and
 * the refusals of cu_op_authorise for an actor who may not manage keys. */
CU_MUST_USE int cu_key_schedule_set(cu_vault *v, const cu_actor *a, int days, cu_err *err);

/* Records now as the time the master key in use came into use; inside the
 * transaction of an init or a rotation. */
CU_MUST_USE int cu_key_schedule_mark(cu_vault *v, int64_t now_us, cu_err *err);

#endif
