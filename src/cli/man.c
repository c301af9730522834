/*
 * custos --help-man: the manual page custos.1, as roff, made of the same
 * strings `custos --help` and `custos COMMAND --help` print, so the two
 * cannot drift apart. The build runs it once the binary is linked.
 *
 * Each command's help is obtained by calling the command with --help while
 * roff mode is on: cli_print_help() then writes roff instead of plain text,
 * and the store is never opened (cli_open refuses in roff mode).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static bool roff_mode;    /* set while the manual page is written */
static int helps_printed; /* cli_print_help calls in roff mode */

/* Writes n bytes of text as roff: backslashes as \e, hyphens as \- (so
 * options can be copied from the rendered page), anything beyond ASCII as
 * \[uXXXX], and a \& before a leading . or ' (which would start a request). */
static void roff_text_at(const char *s, size_t n, bool break_after_bar)
{
    bool line_start = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (line_start && (ch == '.' || ch == '\''))
            fputs("\\&", stdout);
        line_start = ch == '\n';
        if (ch == '|' && break_after_bar)
            fputs("|\\:", stdout); /* a long list of alternatives may break there */
        else if (ch == '\\')
            fputs("\\e", stdout);
        else if (ch == '-')
            fputs("\\-", stdout);
        else if (ch < 0x80 && (ch >= 0x20 || ch == '\n'))
            putchar(ch);
        else if (ch == '\t')
            fputs("        ", stdout);
        else if (ch >= 0xc0 && ch < 0xf8) {
            /* A UTF-8 sequence: its code point as a groff escape. */
            int extra = ch >= 0xf0 ? 3 : ch >= 0xe0 ? 2 : 1;
            unsigned long cp = ch & (0x3fu >> extra);
            int k = 0;
            for (; k < extra && i + 1 < n && ((unsigned char)s[i + 1] & 0xc0) == 0x80; k++)
                cp = (cp << 6) | ((unsigned char)s[++i] & 0x3f);
            if (k == extra)
                printf("\\[u%04lX]", cp);
            else
                putchar('?');
        } else
            putchar('?'); /* a control character or a stray byte */
    }
}

static void roff_text(const char *s, size_t n)
{
    roff_text_at(s, n, false);
}

static void roff_str(const char *s)
{
    roff_text(s, strlen(s));
}

/* Text kept as laid out (a command's help): no filling, no adjusting. */
static void roff_verbatim(const char *text)
{
    fputs(".PP\n.nf\n", stdout);
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n == 0)
            fputs(".sp\n", stdout); /* a blank line in the text */
        else {
            roff_text(p, n);
            putchar('\n');
        }
        p += n + (nl ? 1 : 0);
    }
    fputs(".fi\n", stdout);
}

/* A list in the layout of `custos --help`: an entry's line is indented two
 * spaces, its term runs to the first run of two spaces and its description
 * follows; a line indented further continues the description. Written as
 * .TP paragraphs, the term in bold. */
static int roff_list(const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t indent = strspn(p, " ");
        if (indent > n)
            indent = n;
        const char *body = p + indent;
        size_t len = n - indent;
        if (indent == 2 && len > 0) {
            const char *gap = NULL;
            for (size_t i = 0; i + 1 < len; i++)
                if (body[i] == ' ' && body[i + 1] == ' ') {
                    gap = body + i;
                    break;
                }
            size_t tlen = gap ? (size_t)(gap - body) : len;
            fputs(".TP\n\\fB", stdout);
            roff_text_at(body, tlen, true);
            fputs("\\fR\n", stdout);
            if (gap) {
                const char *d = gap + strspn(gap, " ");
                roff_text(d, (size_t)(body + len - d));
                putchar('\n');
            }
        } else if (indent > 2 && len > 0) {
            roff_text(body, len);
            putchar('\n');
        } else if (len > 0) {
            /* Not the layout this expects: stop the build, say where. */
            fprintf(stderr, "custos: manual page: a list line is not \"  TERM  text\": %.*s\n",
                    (int)(n > 60 ? 60 : n), p);
            return -1;
        }
        p += n + (nl ? 1 : 0);
    }
    return 0;
}

void cli_print_help(const char *help)
{
    if (!roff_mode) {
        fputs(help, stdout);
        return;
    }
    helps_printed++;
    roff_verbatim(help);
}

bool cli_writing_manual(void)
{
    return roff_mode;
}

/* A paragraph of filled text: the lines of s joined. */
static void roff_paragraph(const char *s)
{
    fputs(".PP\n", stdout);
    const char *p = s;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t indent = strspn(p, " ");
        if (indent < n) {
            roff_text(p + indent, n - indent);
            putchar('\n');
        }
        p += n + (nl ? 1 : 0);
    }
}

int cli_print_manual(cli *c, const cli_manual *m)
{
    printf(".\\\" custos.1: generated by `custos --help-man` from the text of\n"
           ".\\\" `custos --help` and each `custos COMMAND --help`; do not edit.\n");
    printf(".TH CUSTOS 1 \"\" \"custos %s\" \"User Commands\"\n", CUSTOS_VERSION);
    /* No hyphenation (an option split at a hyphen cannot be copied) and a
     * ragged right margin, as the help text has. */
    fputs(".nh\n.ad l\n", stdout);
    fputs(".SH NAME\ncustos \\- ", stdout);
    roff_str(m->name);
    fputs("\n.SH SYNOPSIS\n.B custos\n", stdout);
    /* The synopsis after "custos ": options and operands, as text. */
    const char *syn = m->synopsis;
    if (strncmp(syn, "custos ", 7) == 0)
        syn += 7;
    roff_str(syn);
    fputs("\n.SH DESCRIPTION\n", stdout);
    roff_paragraph(m->about);
    fputs(".SH COMMANDS\n", stdout);
    if (roff_list(m->commands))
        return EXIT_INTERNAL;
    for (size_t i = 0; i < m->ncmds; i++) {
        fputs(".SS ", stdout);
        roff_str(m->cmds[i].name);
        putchar('\n');
        char name[64];
        char help[] = "--help";
        snprintf(name, sizeof name, "%s", m->cmds[i].name);
        char *argv[] = {name, help, NULL};
        int before = helps_printed;
        roff_mode = true;
        int rc = m->cmds[i].fn(c, 2, argv);
        roff_mode = false;
        /* Every command prints its help for --help and does nothing else. */
        if (rc != -1 || helps_printed != before + 1) {
            fprintf(stderr, "custos: %s --help did not print its help once\n", m->cmds[i].name);
            return EXIT_INTERNAL;
        }
    }
    fputs(".SH OPTIONS\n", stdout);
    if (roff_list(m->options))
        return EXIT_INTERNAL;
    fputs(".SH ENVIRONMENT\n", stdout);
    if (roff_list(m->environment))
        return EXIT_INTERNAL;
    fputs(".SH EXIT STATUS\n", stdout);
    if (roff_list(m->exit_status))
        return EXIT_INTERNAL;
    fputs(".SH FILES\n", stdout);
    if (roff_list(m->files))
        return EXIT_INTERNAL;
    fputs(".SH SEE ALSO\n", stdout);
    roff_paragraph(m->see_also);
    if (fflush(stdout) || ferror(stdout)) {
        fputs("custos: cannot write the manual page\n", stderr);
        return EXIT_INTERNAL;
    }
    return EXIT_DONE;
}
