#include "cli/transmit.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

int cu_https_post(const char *url, const char *ca_file, const char *content_type,
                  const void *body, size_t len, long *status_out, cu_err *err)
{
    *status_out = 0;
    if (strncmp(url, "https://", 8) != 0 || strlen(url) > 2000)
        return cu_err_set(err, CU_EINVAL, "the recipient's URL must be https:// (at most 2000 "
                                          "bytes)");
    if (curl_global_init(CURL_GLOBAL_DEFAULT))
        return cu_err_set(err, CU_EINTERNAL, "cannot initialise libcurl");
    CURL *h = curl_easy_init();
    if (!h) {
        curl_global_cleanup();
        return cu_err_set(err, CU_ENOMEM, "cannot start an HTTPS request");
    }
    char ctype[128];
    snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
    struct curl_slist *hdr = curl_slist_append(NULL, ctype);
    /* The body goes at once: no "Expect: 100-continue", so a status means
     * the recipient had the data. */
    hdr = curl_slist_append(hdr, "Expect:");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "custos/" CUSTOS_VERSION);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    int rc = CU_OK;
    if (cc != CURLE_OK) {
        /* One line: libcurl's message without line breaks. */
        for (char *p = errbuf; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        rc = cu_err_set(err, CU_EIO, "cannot deliver to the recipient: %s",
                        errbuf[0] ? errbuf : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        *status_out = status;
        if (status < 200 || status > 299)
            rc = cu_err_set(err, CU_EIO, "the recipient refused the delivery (HTTP %ld)",
                            status);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return rc;
}
