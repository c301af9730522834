/*
 * render.h — the JSON shapes shared by the interfaces (CLI --json and the HTTP
 * API), so a subject or an audit event looks the same wherever it is shown.
 * Values placed in these objects may be personal data: the JSON library's
 * allocator wipes what it frees (cu_input_init).
 */
#ifndef CUSTOS_IFACE_RENDER_H
#define CUSTOS_IFACE_RENDER_H

#include <jansson.h>
#include <stdint.h>

#include "domain/audit.h"
#include "domain/requests.h"
#include "domain/subject.h"

/* "2026-11-22T10:41:26.123456Z", or null for 0. */
json_t *cu_json_time(int64_t us);
/* "2026-11", or null for 0: a time shown to the month, in pseudonymised
 * views and listings. */
json_t *cu_json_month(int64_t us);
/* The same shapes written straight into a buffer (no tree): for hot paths.
 * A pseudonymised view shows its times to the month ("2026-11") and no
 * item's recorded_by. */
CU_MUST_USE int cu_render_subject(cu_buf *out, const cu_subject_view *sv);
/* {"items": [...]} */
CU_MUST_USE int cu_render_items(cu_buf *out, const cu_subject_view *sv);
/* A subject with its fields and items (ids replaced by the pseudonym when the
 * view is pseudonymised). */
json_t *cu_json_subject(const cu_subject_view *sv);
/* Just the items of a view. */
json_t *cu_json_items(const cu_subject_view *sv);
/* Collects recipients to tell of a rectification (a cu_notify_cb whose ctx
 * is a JSON array): {"recipient_id"|"organisation", "channel", "disclosed_at"}. */
int cu_json_collect_recipient(void *ctx, const cu_notify_recipient *r);
/* One audit event; payload (decrypted previous values) may be NULL. */
json_t *cu_json_event(const cu_audit_decoded *e, const cu_buf *payload);
/* A rights request with its clock (and, when refused, the ICO complaint
 * route stated); one entry of its history (the note decrypted, or null when
 * shredded with the subject). */
json_t *cu_json_request(const cu_request_view *v);
json_t *cu_json_request_event(const cu_request_event_view *e);

#endif
