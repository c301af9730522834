/*
 * pathway.h — follow-up pathways (docs/pathways.md): a questionnaire asked
 * at set times after a start event, for a set time, as data.
 *
 * pathway_doc.c is the strict parser of a pathway document (errors name the
 * JSON path, limits below) and the schedule it gives; pathway.c stores
 * definitions (versioned, store-wide, like questionnaires), enrols subjects,
 * discharges them, notes what the questionnaire-link code did for an
 * occurrence, and lists what is due. Every call but cu_pathway_note is one
 * operation through the choke point (op.h) and one audit event:
 * pathway.add, pathway.list, pathway.read, pathway.enrol, pathway.discharge,
 * pathway.due.
 *
 * Integrity: definitions carry a row code over id, version, the hash of the
 * canonical document, time and author; an enrolment's row code covers every
 * column including how many occurrences it has, and each occurrence's row
 * covers every column; each controller's number of enrolments is kept in an
 * authenticated head (meta "enrolments_head/<controller>"). A row edited or
 * deleted behind custos's back makes the calls that read it fail CU_ETAMPER
 * and is reported by `custos verify`.
 */
#ifndef CUSTOS_DOMAIN_PATHWAY_H
#define CUSTOS_DOMAIN_PATHWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/model.h"
#include "domain/questionnaire.h"
#include "domain/vault.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"

#define CU_PW_MAX_BYTES (32 * 1024) /* one document */
#define CU_PW_MAX_ID 64
#define CU_PW_MAX_VERSION 64
#define CU_PW_MAX_TITLE 200
#define CU_PW_MAX_START 100
#define CU_PW_MAX_OCCURRENCES 64 /* occurrences a schedule may give */
#define CU_PW_MAX_DAYS 3650      /* offsets, run length: ten years */
#define CU_PW_MAX_WINDOW 365
#define CU_PW_MAX_REVIEWS 8
#define CU_PW_MAX_SCORE 1000
#define CU_PW_MAX_PURPOSE CU_MAX_NAME_BYTES

/* Ending conditions (bit per code): custos ends a pathway itself after its
 * run ("duration") and on a discharge; the others are recorded reasons the
 * care team discharges for. */
typedef enum cu_pw_end {
    CU_PW_END_DURATION = 1u << 0,
    CU_PW_END_DISCHARGE = 1u << 1,
    CU_PW_END_RECURRENCE = 1u << 2,
    CU_PW_END_DEATH = 1u << 3,
    CU_PW_END_WITHDRAWN = 1u << 4,
} cu_pw_end;

/* A score that needs clinical review: score (a questionnaire's score code,
 * "total" for its total) at least at_least raises a task of level. */
typedef struct cu_pw_review {
    char id[CU_PW_MAX_ID + 1];
    char score[CU_PW_MAX_ID + 1];
    int64_t at_least;
    char level[8]; /* review | urgent */
} cu_pw_review;

typedef struct cu_pathway {
    char id[CU_PW_MAX_ID + 1];
    char version[CU_PW_MAX_VERSION + 1];
    char title[CU_PW_MAX_TITLE + 1];
    bool example;
    char questionnaire_url[CU_Q_MAX_URL + 1];
    char questionnaire_version[65]; /* "" when not given: the latest stored */
    char start_event[CU_PW_MAX_START + 1];
    /* The schedule, resolved: offsets in days after the start, strictly
     * increasing, each within runs_for. */
    int offsets[CU_PW_MAX_OCCURRENCES];
    size_t noffsets;
    int every, until; /* the "every N days until M" form, 0 for a list */
    int window;   /* days after a due date before it is overdue */
    int early;    /* days before a due date an answer counts for it (0: none) */
    int runs_for; /* days after the start the pathway runs */
    cu_pw_review reviews[CU_PW_MAX_REVIEWS];
    size_t nreviews;
    unsigned ends; /* cu_pw_end bits */
    char *canonical; /* compact, sorted-key JSON (owned) */
    size_t canonical_len;
} cu_pathway;

/* Parses one pathway document: CU_EINVAL "PATH: what" (e.g.
 * "schedule.days[2]: must be greater than the one before"), CU_ENOMEM. On
 * success *out is the model (cu_pathway_free). */
CU_MUST_USE int cu_pathway_parse(const void *doc, size_t n, cu_pathway **out, cu_err *err);
void cu_pathway_free(cu_pathway *p);
/* "duration" -> CU_PW_END_DURATION; 0 when unknown. */
unsigned cu_pathway_end_code(const char *s);

/* The due date of occurrence i (0-based) for a start date. */
cu_date cu_pathway_due_date(const cu_pathway *p, cu_date start, size_t i);

/* ---- stored definitions (pathway.c) ----
 * CU_ACT_PATHWAY to add (dpo, admin, the operator); CU_ACT_PATHWAY_READ to
 * list and show (every role). */
typedef struct cu_pathway_info {
    char id[CU_PW_MAX_ID + 1];
    char version[CU_PW_MAX_VERSION + 1];
    char added_by[128];
    char hash[2 * 32 + 1];
    int64_t added_at;
} cu_pathway_info;
typedef int (*cu_pathway_info_cb)(void *ctx, const cu_pathway_info *i);

/* Parses doc and stores it; the questionnaire it names must be stored. The
 * same content again is success with *added false; other content under the
 * same id and version is CU_ECONFLICT. */
CU_MUST_USE int cu_pathway_add(cu_vault *v, const cu_actor *a, const void *doc, size_t n,
                               cu_pathway_info *out, bool *added, cu_err *err);
CU_MUST_USE int cu_pathway_list(cu_vault *v, const cu_actor *a, cu_pathway_info_cb cb,
                                void *ctx, cu_err *err);
/* The canonical document of one version (NULL: the one added last),
 * appended to out. */
CU_MUST_USE int cu_pathway_show(cu_vault *v, const cu_actor *a, const char *id,
                                const char *version, cu_buf *out, cu_pathway_info *info,
                                cu_err *err);

/* ---- enrolments ---- */
typedef struct cu_enrolment_info {
    char id[CU_ID_STRLEN];
    char subject_id[CU_ID_STRLEN];
    char pathway_id[CU_PW_MAX_ID + 1];
    char pathway_version[CU_PW_MAX_VERSION + 1];
    char start_date[11];
    char first_due[11];
    int occurrences;
} cu_enrolment_info;

/* Enrols a subject (id or pseudonym) on the latest version of a pathway
 * from start_date ("YYYY-MM-DD") for purpose (action pathway.enrol;
 * CU_ACT_PATHWAY_ENROL: a clinician with the subject on their care list, or
 * the operator). The purpose must be one of the controller's policy, and a
 * restriction or an objection to it refuses (CU_EDENIED). One enrolment per
 * subject and pathway at a time: CU_ECONFLICT while one is not discharged.
 * Writes the enrolment and one occurrence per scheduled date. */
CU_MUST_USE int cu_pathway_enrol(cu_vault *v, const cu_actor *a, const char *subject_id,
                                 const char *pathway_id, const char *start_date,
                                 const char *purpose, cu_enrolment_info *out, cu_err *err);
/* Discharges the subject from the pathway (action pathway.discharge): every
 * occurrence not yet answered or missed is stopped (one whose window has
 * ended becomes missed instead). *stopped counts those stopped.
 * CU_ENOTFOUND when the subject is not enrolled on it. */
CU_MUST_USE int cu_pathway_discharge(cu_vault *v, const cu_actor *a, const char *subject_id,
                                     const char *pathway_id, int *stopped, cu_err *err);

/* The hook the questionnaire-link and response code calls, inside its own
 * operation and transaction (no operation, no audit event of its own): a
 * link was sent ("sent") or a response stored ("answered") for subject_id
 * and questionnaire_url. It moves the earliest open occurrence of the
 * subject's enrolments whose pathway asks that questionnaire: "sent" moves a
 * scheduled one to sent; "answered" moves a scheduled or sent one to
 * answered. ref is the link or response id (1-64 printable ASCII), at the
 * time (microseconds). *moved says whether one was moved (none open, or no
 * such enrolment: CU_OK with *moved false). CU_ETAMPER for an altered row.
 * On the date of at, an occurrence whose window has ended unanswered is
 * moved to missed first and never answered afterwards; "answered" moves only
 * an occurrence that was sent or whose due date has come (or comes within
 * the pathway's early days), so an answer after a window ended does not
 * answer a later occurrence that is not due yet. */
CU_MUST_USE int cu_pathway_note(cu_vault *v, const char *subject_id,
                                const char *questionnaire_url, const char *event,
                                const char *ref, int64_t at, bool *moved, cu_err *err);

/* The review rules of the pathways subject_id is enrolled on (and not
 * discharged from) that ask questionnaire_url, for the code that stores a
 * response (inside its operation, like cu_pathway_note): at most max into
 * out, *n how many. CU_ETAMPER for an altered row. */
CU_MUST_USE int cu_pathway_reviews(cu_vault *v, const char *subject_id,
                                   const char *questionnaire_url, cu_pw_review *out, size_t max,
                                   size_t *n, cu_err *err);

/* ---- what is due ---- */
typedef struct cu_due_item {
    const char *kind; /* "missed", "overdue", "due", "held" or "flagged" */
    const char *subject_id;
    /* occurrences */
    const char *enrolment_id;
    const char *pathway_id;
    const char *pathway_version;
    const char *questionnaire_url;
    int n;                 /* 1-based */
    const char *due_date;  /* YYYY-MM-DD */
    const char *window_ends;
    const char *state;     /* scheduled | sent | missed */
    /* held: why nothing may be sent now ("restricted", "objection" or
     * "policy") and the same in words; NULL otherwise */
    const char *held;
    const char *held_reason;
    /* flagged tasks */
    const char *task_id;
    const char *task_kind;   /* urgent | review */
    const char *task_reason; /* code */
    const char *task_state;  /* open | acknowledged */
    int64_t task_created_at;
} cu_due_item;
typedef int (*cu_due_cb)(void *ctx, const cu_due_item *d);

/* What needs doing on the date of at (microseconds; 0: now), one listing
 * (action pathway.due; CU_ACT_TASK_LIST), in this order:
 *   missed:  the window ended without an answer (the occurrence is moved to
 *            missed here, in the listing's transaction, if it was not yet);
 *   overdue: nothing sent yet, the due date has passed, the window still
 *            open (the invitation is late);
 *   due:     due today, nothing sent yet;
 * (a link sent and not answered while the window is open is not listed);
 *   held:    what would be due or overdue for a subject whose restriction,
 *            or objection to the enrolment's purpose, means nothing may be
 *            sent now (follow-up paused; held names why);
 *   flagged: every task not done.
 * A staff member's controller (controller_id then ignored) or controller_id
 * for the operator; a clinician sees the subjects on their care list only. */
CU_MUST_USE int cu_pathway_due(cu_vault *v, const cu_actor *a, const char *controller_id,
                               int64_t at, cu_due_cb cb, void *ctx, cu_err *err);

/* For an erasure of the whole subject, inside its operation and transaction
 * (no operation of its own, like cu_pathway_note): discharges every running
 * enrolment of subject_id (discharged by "erasure" at at), stopping each
 * occurrence not answered, missed or stopped. *discharged counts the
 * enrolments (may be NULL). CU_ETAMPER for an altered row. */
CU_MUST_USE int cu_pathway_erased(cu_vault *v, const char *subject_id, int64_t at,
                                  int *discharged, cu_err *err);

#endif
