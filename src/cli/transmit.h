/*
 * transmit.h — delivery of a portability export to another controller by
 * HTTPS POST (libcurl). HTTPS only, the peer's certificate and host name
 * verified (against the system's CAs, or ca_file when given), no redirects,
 * a 30-second limit; any answer other than 2xx is a failure. Messages name
 * the failure, never the body. *status is the recipient's HTTP status, or 0
 * when no answer came (the body may then not have been sent at all).
 */
#ifndef CUSTOS_CLI_TRANSMIT_H
#define CUSTOS_CLI_TRANSMIT_H

#include <stddef.h>

#include "util/err.h"

CU_MUST_USE int cu_https_post(const char *url, const char *ca_file, const char *content_type,
                              const void *body, size_t len, long *status, cu_err *err);

#endif
