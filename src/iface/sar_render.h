/*
 * sar_render.h — the three forms of a subject access package (or of a
 * portability export) gathered by cu_sar_run (domain/sar.h):
 *   JSON  "custos-access-package/1" or "custos-portability/1": every value
 *         held, decrypted, with its metadata; withheld items, consents,
 *         disclosures, the access log and the processing (docs/api.md);
 *   HTML  a letter to the subject: a complete, self-contained page, every
 *         string escaped, no scripts and no external resources;
 *   FHIR  an R4 Bundle of type "collection" (Patient, Observation, Consent,
 *         AuditEvent, Provenance) that validates against the official FHIR R4
 *         JSON schema (tests/e2e/cases_sar.py).
 * Output holds personal data: the buffers wipe themselves when released.
 */
#ifndef CUSTOS_IFACE_SAR_RENDER_H
#define CUSTOS_IFACE_SAR_RENDER_H

#include "domain/sar.h"
#include "util/buf.h"
#include "util/err.h"

typedef enum cu_sar_format { CU_SAR_JSON, CU_SAR_HTML, CU_SAR_FHIR } cu_sar_format;

/* "json", "html", "fhir" -> format; -1 when unknown. */
int cu_sar_format_from_name(const char *s);
const char *cu_sar_content_type(cu_sar_format f);

/* Sections of the HTML letter written into a page of the patient portal
 * (NHS.UK frontend tables): the items held, and the access log with its
 * refused attempts explained. */
#include "iface/html.h"
void cu_sar_html_held(cu_html *h, const cu_sar *s);
void cu_sar_html_access_log(cu_html *h, const cu_sar *s);
CU_MUST_USE int cu_sar_render(const cu_sar *s, cu_sar_format f, cu_buf *out, cu_err *err);

#endif
