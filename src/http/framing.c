#include "http/framing.h"

#include <stddef.h>
#include <strings.h>

static bool tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
    }
}

/* name starts with prefix (case-insensitive) and goes on after it */
static bool extends(const char *name, const char *prefix, size_t n)
{
    return strncasecmp(name, prefix, n) == 0 && name[n] != '\0';
}

void cu_framing_add(cu_framing *f, const char *name, const char *value)
{
    if (!name || !*name) {
        f->bad_name = true;
        return;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!tchar(*p)) {
            f->bad_name = true;
            break;
        }
    if (!value)
        value = "";
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            f->control = true;
            break;
        }
    if (strcasecmp(name, "Content-Length") == 0) {
        f->content_length++;
        size_t n = 0;
        while (value[n] >= '0' && value[n] <= '9')
            n++;
        if (n == 0 || n > 19 || value[n] != '\0')
            f->bad_length = true;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        if (strcasecmp(value, "chunked") != 0)
            f->bad_coding = true;
    } else if (strcasecmp(name, "Host") == 0) {
        f->host++;
    } else if (extends(name, "Content-Length", 14) || extends(name, "Transfer-Encoding", 17) ||
               extends(name, "Host", 4)) {
        f->folded_framing = true;
    }
}

int cu_framing_verdict(const cu_framing *f, const char **detail)
{
    if (f->bad_name) {
        *detail = "a header field name is not a token (whitespace before the colon, "
                  "or a folded line)";
        return 400;
    }
    if (f->folded_framing) {
        *detail = "a header field name extends Content-Length, Transfer-Encoding or Host "
                  "(a folded line)";
        return 400;
    }
    if (f->control) {
        *detail = "a header field value contains a control character";
        return 400;
    }
    if (f->transfer_encoding && f->content_length) {
        *detail = "both Transfer-Encoding and Content-Length";
        return 400;
    }
    if (f->content_length > 1) {
        *detail = "more than one Content-Length";
        return 400;
    }
    if (f->bad_length) {
        *detail = "Content-Length is not a number of bytes";
        return 400;
    }
    if (f->host > 1) {
        *detail = "more than one Host";
        return 400;
    }
    if (f->transfer_encoding > 1 || f->bad_coding) {
        *detail = "the only transfer coding accepted is chunked";
        return 501;
    }
    return 0;
}
