/*
 * link.h — the address people reach custos at (`--public-url`,
 * CUSTOS_PUBLIC_URL, custos.conf's public_url), and the absolute links made
 * from it: every link custos gives a person (an unsubscribe link, a
 * questionnaire's link) is cu_public_link of a path, so it works from an
 * email or a letter, behind a reverse proxy that serves custos at a path of
 * its own.
 *
 * The URL is set once, before any thread starts (serve, or a CLI command),
 * and read-only after.
 */
#ifndef CUSTOS_IFACE_LINK_H
#define CUSTOS_IFACE_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* The longest public URL accepted. */
#define CU_PUBLIC_URL_MAX 200
/* Room for a public URL and a path of a link. */
#define CU_LINK_MAX 512
/* The public URL until one is set: serve's default listen address. */
#define CU_PUBLIC_URL_DEFAULT "http://localhost:8080"

/* Checks url and writes its normal form into out (CU_PUBLIC_URL_MAX + 1
 * bytes): http or https (scheme and host in lower case), a host name, IPv4
 * address or [IPv6] literal, an optional port (1 to 65535) and an optional
 * path of [A-Za-z0-9._~-] segments (%XX escapes allowed, no "." or ".."
 * segment, no empty one) whose trailing slash is dropped. No user name or
 * password, query or fragment, space or control character. CU_EINVAL with a
 * one-line reason otherwise ("--public-url has a query ('?'): ..."). */
CU_MUST_USE int cu_public_url_parse(const char *url, char *out, cu_err *err);

/* Sets the public URL (parsed as above); CU_EINVAL leaves it as it was. */
CU_MUST_USE int cu_public_url_set(const char *url, cu_err *err);
/* The public URL in its normal form (CU_PUBLIC_URL_DEFAULT until one is set). */
const char *cu_public_url(void);
/* Whether one was set. */
bool cu_public_url_is_set(void);

/* The absolute link to path ("/v1/unsubscribe/cuu_...": it starts with '/'
 * and holds only printable ASCII but space) into buf (cap bytes):
 * "https://care.example.org/custos/v1/unsubscribe/cuu_...". CU_EINVAL when
 * path is not such a path or the link does not fit (buf is then ""). */
CU_MUST_USE int cu_public_link(char *buf, size_t cap, const char *path);

#endif
