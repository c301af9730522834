/*
 * qresponse.h — a FHIR R4 QuestionnaireResponse document (the subset custos
 * takes, docs/questionnaires.md "Responses"), parsed strictly into the
 * answers cu_questionnaire_score takes.
 *
 * Accepted: resourceType "QuestionnaireResponse"; questionnaire "url|version"
 * or "url"; status "completed" or "in-progress"; optional id and authored
 * (ignored: custos records when it received the answers); item[] with linkId,
 * optional text and either answer[] (at most one answer, holding one of
 * valueCoding {system?, code, display?}, valueInteger, valueDecimal,
 * valueBoolean, valueString, valueDate) or nested item[] (a group); and an
 * optional extension urn:custos:questionnaire:total (valueInteger), the
 * total the submitter computed, which is only compared. Anything else is
 * refused with one error naming its JSON path ("item[2].answer[0]: only one
 * answer is taken"), never a value.
 *
 * Ownership: the answers' strings live in the parsed JSON tree the
 * cu_qresponse keeps; free it with cu_qresponse_free().
 */
#ifndef CUSTOS_DOMAIN_QRESPONSE_H
#define CUSTOS_DOMAIN_QRESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/questionnaire.h"
#include "util/err.h"

#define CU_QR_MAX_BYTES (256 * 1024)
#define CU_QR_EXT_TOTAL CU_Q_NS "total"

typedef struct cu_qresponse {
    void *owner;                 /* the JSON tree */
    char url[CU_Q_MAX_URL + 1];
    char version[65];            /* "" when the document names none */
    bool in_progress;            /* status "in-progress" */
    cu_q_answer *answers;        /* in document order */
    size_t n;
    bool has_total;              /* the submitter's total was given */
    int64_t total;
} cu_qresponse;

/* Parses len bytes. CU_EINVAL with the path of the first problem in err. */
CU_MUST_USE int cu_qresponse_parse(const void *json, size_t len, cu_qresponse **out,
                                   cu_err *err);
void cu_qresponse_free(cu_qresponse *r);

#endif
