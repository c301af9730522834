/*
 * disclosure.h — the disclosure log: every time a subject's data is sent to a
 * recipient (an export, a share, a transmission), who received it, under
 * which lawful basis, which items, when and by whom (UK GDPR Art 15(1)(c),
 * Art 19, Art 30(1)(d)).
 *
 * A recipient is either a recipient id of the controller's current policy
 * (a name, stored in clear: it is schema, not personal data) or a named
 * organisation outside the policy (a GP practice written to by letter),
 * whose name is sealed under the subject's data key like a value, since the
 * fact that a person is registered with a given practice is personal data.
 * An optional note is sealed the same way. Items are named by id and
 * category, never by value.
 *
 * Disclosures made by custos itself (portability transmission) are recorded
 * within the same audited operation as the export (cu_disclosure_add);
 * shares made outside custos are recorded with cu_disclosure_record. Both
 * are read back with cu_disclosure_list, and every access package lists
 * them. Other modules read the raw rows with cu_store_disclosure_each.
 */
#ifndef CUSTOS_DOMAIN_DISCLOSURE_H
#define CUSTOS_DOMAIN_DISCLOSURE_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/model.h"
#include "domain/vault.h"
#include "store/store.h"

#define CU_MAX_RECIPIENT_BYTES 200
#define CU_MAX_DISCLOSURE_NOTE 2000
#define CU_MAX_DISCLOSURE_ITEMS 1000

/* How the data went: letter, email, phone, portal, file, https, other. */
bool cu_disclosure_channel_valid(const char *s);
const char *cu_disclosure_channel_list(void);

typedef struct cu_disclosure_in {
    const char *recipient_id;   /* a recipient id of the policy, or NULL */
    const char *recipient_name; /* a named organisation (UTF-8), or NULL */
    char basis;                 /* 'a'..'f' (Art 6(1)) */
    const char *purpose;        /* NULL: the actor's purpose */
    const char *channel;        /* cu_disclosure_channel_valid */
    const char *const *items;   /* item ids of the subject; may be empty */
    size_t nitems;
    unsigned categories;        /* categories disclosed besides those of items */
    int64_t disclosed_at;       /* 0: now; never in the future */
    const char *note;           /* may be NULL */
} cu_disclosure_in;

typedef struct cu_disclosure_view {
    char id[CU_ID_STRLEN];
    char recipient_id[CU_MAX_NAME_BYTES + 1]; /* "" when a named organisation */
    cu_buf recipient_name;      /* decrypted; empty for a policy recipient */
    char basis;
    char purpose[CU_MAX_NAME_BYTES + 1];
    char channel[16];
    const char *items;          /* comma-separated item ids ("" when none) */
    const char *categories;     /* comma-separated category names */
    int64_t disclosed_at, recorded_at;
    char recorded_by[CU_MAX_NAME_BYTES + 1];
    cu_buf note;                /* decrypted; empty when none */
    bool unreadable;            /* the subject was erased: names and note are gone */
} cu_disclosure_view;
typedef int (*cu_disclosure_view_cb)(void *ctx, const cu_disclosure_view *d);

/* Records a disclosure made outside custos (an audited operation, action
 * "disclose"). Nothing is written when any input is invalid. */
CU_MUST_USE int cu_disclosure_record(cu_vault *v, const cu_actor *a, const char *subject_id,
                                     const cu_disclosure_in *in, char id_out[CU_ID_STRLEN],
                                     cu_err *err);
/* A subject's disclosures, oldest first (an audited read). */
CU_MUST_USE int cu_disclosure_list(cu_vault *v, const cu_actor *a, const char *subject_id,
                                   cu_disclosure_view_cb cb, void *ctx, cu_err *err);

/* Whether disclosure d included the item, or, for a disclosure recorded by
 * category alone (no items named), the category: who must be told when it
 * is rectified or erased (Art 19). */
bool cu_disclosure_has_item(const cu_disclosure_view *d, const char *item_id);
bool cu_disclosure_has_category(const cu_disclosure_view *d, cu_category c);

#endif
