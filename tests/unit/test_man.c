/*
 * test_man.c — the manual page writer (cli/man.c): help text that looks like
 * roff (a leading . or ', backslashes, font escapes) stays text, hyphens are
 * \-, characters beyond ASCII are named, and a command whose --help prints
 * nothing, or prints twice, stops the page rather than leaving a gap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

/* Help text an attacker (or a careless edit) might write. */
static const char tricky[] = ".so /etc/passwd\n"
                             "'br\n"
                             "\\fBbold\\fR in C:\\path\n"
                             "--flag -x\n"
                             "na\xc3\xafve \xe2\x80\x94 ok\n"
                             "\n"
                             "tab\there, bell\x07 cut\xe2\x80\n";

static bool writing_seen;

static int cmd_tricky(cli *c, int argc, char **argv)
{
    (void)c;
    CHECK(argc == 2 && strcmp(argv[1], "--help") == 0, "called without --help");
    writing_seen = cli_writing_manual();
    cli_print_help(tricky);
    return -1;
}

static int cmd_silent(cli *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    return 0;
}

static int cmd_twice(cli *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    cli_print_help("one\n");
    cli_print_help("two\n");
    return -1;
}

static const subcmd tricky_cmds[] = {{"tricky", cmd_tricky}};
static const subcmd silent_cmds[] = {{"tricky", cmd_tricky}, {"silent", cmd_silent}};
static const subcmd twice_cmds[] = {{"twice", cmd_twice}};

static cli_manual manual(const subcmd *cmds, size_t n)
{
    return (cli_manual){
        .name = "a test",
        .synopsis = "custos [--opt] COMMAND",
        .about = "About.\n.ex\n",
        .commands = "  tricky           a command\n"
                    "                   .continued 'here\n"
                    "  alone|alt|other\n",
        .cmds = cmds,
        .ncmds = n,
        .options = "  --opt X   an option\n",
        .environment = "  CUSTOS_X  a variable\n",
        .exit_status = "  0  done\n",
        .files = "  DIR/f  a file\n",
        .see_also = "x(1)\n",
    };
}

/* Runs fn with stdout captured; returns what it wrote (malloc'd). */
static char *capture(const cli_manual *m, int *rc)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL, "tmpfile");
    int saved = dup(STDOUT_FILENO);
    CHECK(saved >= 0 && dup2(fileno(tmp), STDOUT_FILENO) >= 0, "dup");
    cli c = {0};
    *rc = cli_print_manual(&c, m);
    fflush(stdout);
    CHECK(dup2(saved, STDOUT_FILENO) >= 0, "restore stdout");
    close(saved);
    long n = ftell(tmp);
    CHECK(n >= 0, "ftell");
    char *out = calloc((size_t)n + 1, 1);
    CHECK(out != NULL, "calloc");
    rewind(tmp);
    CHECK(fread(out, 1, (size_t)n, tmp) == (size_t)n, "fread");
    fclose(tmp);
    return out;
}

static void test_text_stays_text(void **state)
{
    (void)state;
    cli_manual m = manual(tricky_cmds, 1);
    int rc = -1;
    writing_seen = false;
    char *out = capture(&m, &rc);
    CHECK(rc == EXIT_DONE, "rc %d", rc);
    CHECK(writing_seen && !cli_writing_manual(), "roff mode only during the command's --help");
    /* No line of the text becomes a request. */
    CHECK(strstr(out, "\n\\&.so /etc/passwd\n") != NULL, "leading . kept as text:\n%s", out);
    CHECK(strstr(out, "\n.so") == NULL, "a .so request got through");
    CHECK(strstr(out, "\n\\&'br\n") != NULL, "leading ' kept as text");
    CHECK(strstr(out, "\n'br") == NULL, "a 'br request got through");
    CHECK(strstr(out, "\n\\&.ex\n") != NULL, "leading . in a paragraph");
    CHECK(strstr(out, "\n\\&.continued 'here\n") != NULL, "leading . in a list continuation");
    /* Backslashes print as backslashes: no font change, no escape. */
    CHECK(strstr(out, "\\efBbold\\efR in C:\\epath\n") != NULL, "backslashes:\n%s", out);
    CHECK(strstr(out, "\\fBbold") == NULL, "a font escape got through");
    CHECK(strstr(out, "\n\\-\\-flag \\-x\n") != NULL, "hyphens as \\-");
    CHECK(strstr(out, "\\fB\\-\\-opt X\\fR\nan option\n") != NULL, "an option's term");
    CHECK(strstr(out, "na\\[u00EF]ve \\[u2014] ok\n") != NULL, "UTF-8 as \\[uXXXX]");
    /* A tab is spaces; a control character or a cut sequence is a ?. */
    CHECK(strstr(out, "tab        here, bell? cut?\n") != NULL, "control bytes:\n%s", out);
    CHECK(strstr(out, "\x07") == NULL && strstr(out, "\t") == NULL, "raw control bytes");
    /* The help is kept as laid out, a blank line as .sp. */
    CHECK(strstr(out, ".SS tricky\n.PP\n.nf\n") != NULL && strstr(out, "\n.sp\n") != NULL &&
              strstr(out, "\n.fi\n") != NULL,
          "verbatim block");
    /* A long term may break after each |. */
    CHECK(strstr(out, "\\fBalone|\\:alt|\\:other\\fR\n") != NULL, "breakable term");
    free(out);
}

static void test_missing_help_stops_the_page(void **state)
{
    (void)state;
    int rc = 0;
    cli_manual m = manual(silent_cmds, 2);
    free(capture(&m, &rc));
    CHECK(rc == EXIT_INTERNAL, "a command without help: rc %d", rc);
    m = manual(twice_cmds, 1);
    free(capture(&m, &rc));
    CHECK(rc == EXIT_INTERNAL, "a command printing help twice: rc %d", rc);
    CHECK(!cli_writing_manual(), "roff mode left on");
}

static void test_list_layout_is_checked(void **state)
{
    (void)state;
    int rc = 0;
    cli_manual m = manual(tricky_cmds, 1);
    m.options = "  --opt X   an option\nnot indented: not a list\n";
    free(capture(&m, &rc));
    CHECK(rc == EXIT_INTERNAL, "a list not in the help layout: rc %d", rc);
}

static void test_plain_help_outside_the_page(void **state)
{
    (void)state;
    fflush(stdout);
    FILE *tmp = tmpfile();
    int saved = dup(STDOUT_FILENO);
    CHECK(tmp && saved >= 0 && dup2(fileno(tmp), STDOUT_FILENO) >= 0, "dup");
    cli_print_help(tricky);
    fflush(stdout);
    CHECK(dup2(saved, STDOUT_FILENO) >= 0, "restore");
    close(saved);
    char buf[256] = {0};
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    fclose(tmp);
    CHECK(n == strlen(tricky) && memcmp(buf, tricky, n) == 0, "--help prints the text as is");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_stays_text),
        cmocka_unit_test(test_missing_help_stops_the_page),
        cmocka_unit_test(test_list_layout_is_checked),
        cmocka_unit_test(test_plain_help_outside_the_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
