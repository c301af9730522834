/*
 * questionnaire.h — questionnaires as data: a FHIR R4 Questionnaire document
 * (the subset custos needs, docs/questionnaires.md), parsed strictly, and a
 * pure scoring function over a response's answers.
 *
 * Parsing refuses anything outside the subset with one error naming the JSON
 * path ("item[3].answerOption[1].valueCoding.code: required"). What custos
 * needs beyond FHIR core (the scored total, its bands, review rules) lives in
 * extensions under CU_Q_NS.
 *
 * Scoring uses the questionnaire's weights only (never a total the submitter
 * states, which is compared and flagged, never used). A response missing a
 * required, enabled, scored item is incomplete: no total, no band, no
 * prorating. Review rules on single answers are raised whatever else is
 * answered; rules on the total only when there is one.
 *
 * Ownership: a cu_questionnaire owns every string it points to (they live in
 * the parsed JSON tree it keeps); free it with cu_questionnaire_free().
 */
#ifndef CUSTOS_DOMAIN_QUESTIONNAIRE_H
#define CUSTOS_DOMAIN_QUESTIONNAIRE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define CU_Q_NS "urn:custos:questionnaire:"
#define CU_Q_EXT_SCORE CU_Q_NS "score"
#define CU_Q_EXT_REVIEW CU_Q_NS "review"
#define CU_Q_ITEM_WEIGHT "http://hl7.org/fhir/StructureDefinition/itemWeight"
#define CU_Q_ORDINAL_VALUE "http://hl7.org/fhir/StructureDefinition/ordinalValue"

/* Limits (docs/questionnaires.md). */
#define CU_Q_MAX_BYTES (256 * 1024)
#define CU_Q_MAX_ITEMS 200       /* in all, nested included */
#define CU_Q_MAX_DEPTH 4         /* levels of items, groups included */
#define CU_Q_MAX_OPTIONS 50      /* per item */
#define CU_Q_MAX_WHEN 16         /* enableWhen conditions per item */
#define CU_Q_MAX_CODES 8         /* code[] entries */
#define CU_Q_MAX_BANDS 16
#define CU_Q_MAX_RULES 16
#define CU_Q_MAX_RULE_ANSWERS 16
#define CU_Q_MAX_LINKID 64       /* [A-Za-z0-9._-] */
#define CU_Q_MAX_URL 255
#define CU_Q_MAX_SHORT 128       /* version, name, codes, systems */
#define CU_Q_MAX_TEXT 2048       /* titles, texts, displays, descriptions */
#define CU_Q_MAX_WEIGHT 1000     /* weights are whole numbers 0..1000 */

typedef enum cu_q_type {
    CU_QT_GROUP, CU_QT_DISPLAY, CU_QT_CHOICE, CU_QT_INTEGER, CU_QT_DECIMAL,
    CU_QT_STRING, CU_QT_TEXT, CU_QT_BOOLEAN, CU_QT_DATE
} cu_q_type;

typedef enum cu_q_op { CU_QO_EXISTS, CU_QO_EQ, CU_QO_NE, CU_QO_GT, CU_QO_LT, CU_QO_GE, CU_QO_LE } cu_q_op;

/* What an answer or a condition holds. */
typedef enum cu_q_kind { CU_QV_NONE, CU_QV_CODE, CU_QV_INT, CU_QV_BOOL, CU_QV_STRING, CU_QV_DECIMAL } cu_q_kind;

typedef struct cu_q_option {
    const char *system, *code, *display;
    bool weighted;
    int64_t weight;
} cu_q_option;

typedef struct cu_q_when {
    size_t question;    /* index of an earlier item */
    cu_q_op op;
    cu_q_kind kind;     /* of the value compared (CU_QV_BOOL for exists) */
    const char *code;   /* CU_QV_CODE, CU_QV_STRING */
    int64_t i;          /* CU_QV_INT */
    double d;           /* CU_QV_DECIMAL */
    bool b;             /* CU_QV_BOOL */
} cu_q_when;

typedef struct cu_q_item {
    const char *link_id, *text;
    cu_q_type type;
    bool required;
    size_t parent;      /* index of the enclosing group, or SIZE_MAX */
    cu_q_option *options;
    size_t noptions;
    cu_q_when *when;
    size_t nwhen;
    bool when_all;      /* enableBehavior all (default) or any */
    bool scored;        /* named by the score extension */
} cu_q_item;

typedef struct cu_q_band {
    int64_t low, high;  /* inclusive */
    const char *code, *display;
} cu_q_band;

typedef enum cu_q_rule_kind { CU_QR_ANSWER_IN, CU_QR_WEIGHT_ABOVE, CU_QR_SCORE_AT_LEAST } cu_q_rule_kind;

typedef struct cu_q_rule {
    const char *id;            /* names the flag raised */
    const char *level;         /* "urgent" or "review" */
    const char *reason;        /* words for the clinician; may be NULL */
    cu_q_rule_kind kind;
    size_t item;               /* CU_QR_ANSWER_IN, CU_QR_WEIGHT_ABOVE */
    const char *answers[CU_Q_MAX_RULE_ANSWERS];
    size_t nanswers;
    int64_t n;                 /* the weight or the score */
} cu_q_rule;

typedef struct cu_questionnaire {
    void *owner;               /* the JSON tree */
    _Atomic unsigned refs;     /* cu_questionnaire_ref / cu_questionnaire_free */
    const char *url, *version, *name, *title, *status;
    cu_q_item *items;          /* every item, nested ones too, in document order */
    size_t nitems;
    bool scored;               /* has the score extension */
    const char *score_system, *score_code, *score_display;
    int64_t score_min, score_max;
    cu_q_band bands[CU_Q_MAX_BANDS];
    size_t nbands;
    cu_q_rule rules[CU_Q_MAX_RULES];
    size_t nrules;
} cu_questionnaire;

/* Parses and validates a document of len bytes. CU_EINVAL with the path of
 * the first problem in err. */
CU_MUST_USE int cu_questionnaire_parse(const void *json, size_t len, cu_questionnaire **out,
                                       cu_err *err);
/* Drops one reference; the last frees the model. */
void cu_questionnaire_free(cu_questionnaire *q);
/* One more reference to q (a parsed model is never changed): returns q. */
cu_questionnaire *cu_questionnaire_ref(cu_questionnaire *q);
/* The canonical form (compact JSON, sorted keys): what is stored and hashed,
 * so layout and key order make no new content. Appends to out. */
CU_MUST_USE int cu_questionnaire_canonical(const cu_questionnaire *q, cu_buf *out, cu_err *err);
/* The index of the item with this linkId, or SIZE_MAX. */
size_t cu_questionnaire_find(const cu_questionnaire *q, const char *link_id);

/* One answer of a response. */
typedef struct cu_q_answer {
    const char *link_id;
    cu_q_kind kind;
    const char *s;    /* CU_QV_CODE (the coding's code), CU_QV_STRING */
    int64_t i;
    double d;
    bool b;
} cu_q_answer;

typedef struct cu_q_flag {
    const char *rule;   /* cu_q_rule.id */
    const char *level;  /* urgent, review */
    const char *reason;
} cu_q_flag;

typedef struct cu_q_result {
    bool complete;
    const char *missing;       /* the first required item missing, when incomplete */
    bool has_total;            /* complete and scored */
    int64_t total;
    const cu_q_band *band;     /* NULL without a total */
    cu_q_flag flags[CU_Q_MAX_RULES];
    size_t nflags;
    bool urgent;               /* a flag of level urgent was raised */
    bool total_disagrees;      /* a submitted total differs from the computed one
                                * (or was given when none can be computed) */
} cu_q_result;

/* Scores n answers against q. submitted_total (may be NULL) is only compared.
 * CU_EINVAL naming the linkId for an unknown item, an item answered twice, an
 * answer to a group, display or not-enabled item, an answer of the wrong kind,
 * or a code not among the item's options. */
CU_MUST_USE int cu_questionnaire_score(const cu_questionnaire *q, const cu_q_answer *a, size_t n,
                                       const int64_t *submitted_total, cu_q_result *out,
                                       cu_err *err);

/* Which of q's items are enabled given these answers (their enableWhen
 * conditions and their groups'), in enabled[k] for item k. Answers to
 * unknown items are ignored, and an item's later answers after its first.
 * A form shown without script shows every item, then drops the answers to
 * the items this finds disabled before scoring. */
void cu_questionnaire_enabled(const cu_questionnaire *q, const cu_q_answer *a, size_t n,
                              bool enabled[CU_Q_MAX_ITEMS]);

/* ---- stored, versioned (questionnaires.c) ----
 * Store-wide definitions, url + version unique, each an audited operation
 * (CU_ACT_QUESTIONNAIRE to add: dpo, admin, the operator;
 * CU_ACT_QUESTIONNAIRE_READ to list and show: every role). The stored
 * document is the canonical JSON, bound by its hash; the row's code covers
 * url, version, hash, status, time and author, so a definition changed in
 * the database (its weights, say) is refused (CU_ETAMPER) wherever it is
 * read. */
struct cu_vault;
struct cu_actor;

typedef struct cu_questionnaire_info {
    char url[CU_Q_MAX_URL + 1];
    char version[65];
    char status[16];
    char added_by[128];
    char hash[2 * 32 + 1];   /* hex BLAKE2b-256 of the canonical document */
    int64_t added_at;
} cu_questionnaire_info;
typedef int (*cu_questionnaire_info_cb)(void *ctx, const cu_questionnaire_info *i);

/* Parses doc and stores it. The same content under the same url and version
 * again is success with *added false; other content under them is
 * CU_ECONFLICT ("... already exists with different content; give it a new
 * version"), storing nothing. */
CU_MUST_USE int cu_questionnaire_add(struct cu_vault *v, const struct cu_actor *a, const void *doc,
                                     size_t n, cu_questionnaire_info *out, bool *added,
                                     cu_err *err);
/* Every stored version, checked, by url then time added. */
CU_MUST_USE int cu_questionnaire_list(struct cu_vault *v, const struct cu_actor *a,
                                      cu_questionnaire_info_cb cb, void *ctx, cu_err *err);
/* The stored document of one version (NULL: the one added last), checked,
 * appended to out. */
CU_MUST_USE int cu_questionnaire_show(struct cu_vault *v, const struct cu_actor *a,
                                      const char *url, const char *version, cu_buf *out,
                                      cu_questionnaire_info *info, cu_err *err);
/* The stored definition, checked and parsed, for scoring. The row and the
 * document's hash are checked on every call; the parsed model of a document
 * (by its hash) is kept by the vault for the next call, so answering a
 * questionnaire does not parse it again. Free the result with
 * cu_questionnaire_free. */
CU_MUST_USE int cu_questionnaire_load(struct cu_vault *v, const char *url, const char *version,
                                      cu_questionnaire **out, cu_err *err);

/* A questionnaire version's title for a page (out, cap): "A questionnaire"
 * when it has none or cannot be read; version NULL: the latest's. Titles of
 * versions named are remembered, a version never changing, until another connection or program commits (the store's
 * change counter, as for the cached policies). On the store's thread. */
void cu_questionnaire_title(struct cu_vault *v, const char *url, const char *version, char *out,
                            size_t cap);
/* Forgets the titles remembered (vault.c, when another commit is seen). */
void cu_questionnaire_titles_forget(struct cu_vault *v);

#endif
