/*
 * notice.h — documents generated from a controller's policy, so the published
 * words and the enforced rules come from one source:
 *   - the privacy notice (UK GDPR Articles 13 and 14), in Markdown or HTML;
 *   - the record of processing activities (Article 30(1) controller form and
 *     Article 30(2) processor form), in JSON or CSV.
 * The notice states the policy's version and the date it was applied (a policy
 * not yet applied, version 0, is marked as a draft). Output is deterministic:
 * the same policy gives the same bytes. HTML output escapes every string from
 * the policy and is a complete, self-contained page (no scripts, no external
 * resources).
 */
#ifndef CUSTOS_IFACE_NOTICE_H
#define CUSTOS_IFACE_NOTICE_H

#include <stddef.h>

#include "domain/policy.h"
#include "util/buf.h"
#include "util/err.h"

typedef enum cu_notice_format { CU_NOTICE_MD, CU_NOTICE_HTML } cu_notice_format;
typedef enum cu_ropa_format { CU_ROPA_JSON, CU_ROPA_CSV } cu_ropa_format;

/* Appends the privacy notice to out. The HTML form is a whole page in the
 * shared page shell (html.h), without a stylesheet; cu_notice_render_page
 * links the NHS.UK frontend's stylesheet under assets (html.h cu_page). */
CU_MUST_USE int cu_notice_render(const cu_policy *p, cu_notice_format f, cu_buf *out,
                                 cu_err *err);
CU_MUST_USE int cu_notice_render_page(const cu_policy *p, cu_notice_format f, const char *assets,
                                      cu_buf *out, cu_err *err);

/* Appends the record of processing of n controllers' current policies to out
 * (one entry per controller, controller form and, where the policy acts as a
 * processor, processor form). ids[i] is the store's id of the controller
 * whose policy is pols[i]. */
CU_MUST_USE int cu_ropa_render(const cu_policy *const *pols, const char *const *ids, size_t n,
                               cu_ropa_format f, cu_buf *out, cu_err *err);

#endif
