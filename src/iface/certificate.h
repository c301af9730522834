/*
 * certificate.h — an erasure decision (custos-erasure-plan/1) and the
 * certificate of erasure (custos-erasure-certificate/1), as JSON and as
 * Markdown. They hold ids, field names, categories, rules and dates, never a
 * personal value. docs/cli.md describes the fields; "recipients_to_notify"
 * (Art 19) is always an empty list until the disclosure log exists, and
 * "recipients_to_notify_source" says so.
 */
#ifndef CUSTOS_IFACE_CERTIFICATE_H
#define CUSTOS_IFACE_CERTIFICATE_H

#include <jansson.h>
#include <stdio.h>

#include "domain/erasure.h"

json_t *cu_erasure_json(const cu_erasure_result *r);
void cu_erasure_md(FILE *f, const cu_erasure_result *r);

#endif
