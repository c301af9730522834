/*
 * replay.c — runs a fuzz harness once over every file of its corpus, for the
 * test suite (tests/run.sh) and for reproducing a crash without libFuzzer:
 *
 *   replay_NAME PATH...
 *
 * Directories are walked recursively; within each argument the files are taken
 * in byte order of their paths. Output is TAP: "1..N", then "ok K - PATH" or
 * "not ok K - PATH" per file, PATH relative to the directory argument it was
 * found under. Each file runs in a child process, so a harness that aborts (a
 * broken invariant), trips a sanitizer, leaks (LeakSanitizer checks at the
 * child's exit) or hangs (REPLAY_TIMEOUT seconds, default 60) fails that file
 * alone; what the child printed follows its "not ok" line as "# " comments.
 * The exit status is 0 only when every file passed.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* lstat */
#endif

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

typedef struct entry {
    char *path; /* to open */
    char *name; /* to print */
} entry;

typedef struct list {
    entry *v;
    size_t n, cap;
} list;

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 2);
    if (!s) {
        perror("replay");
        exit(2);
    }
    memcpy(s, a, na);
    s[na] = '/';
    memcpy(s + na + 1, b, nb + 1);
    return s;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) {
        perror("replay");
        exit(2);
    }
    memcpy(d, s, n);
    return d;
}

static void add(list *l, char *path, char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        entry *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            perror("replay");
            exit(2);
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (entry){.path = path, .name = name};
}

/* Adds the regular files under dir (name: their path relative to the walk's
 * root, rel; "" at the root). Unreadable directories become entries that fail. */
static void walk(list *l, const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    if (!d) {
        add(l, dup_str(dir), dup_str(*rel ? rel : dir));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *path = join(dir, de->d_name);
        char *name = *rel ? join(rel, de->d_name) : dup_str(de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(l, path, name);
            free(path);
            free(name);
        } else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
                   (stat(path, &st) != 0 || !S_ISREG(st.st_mode))) {
            free(path); /* a link to a directory or nowhere: not followed */
            free(name);
        } else {
            add(l, path, name);
        }
    }
    closedir(d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* Reads a whole file into a buffer of exactly its size, so that ASan catches a
 * harness reading one byte too far. */
static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    if (!buf)
        return NULL;
    unsigned char *exact = malloc(n ? n : 1);
    if (exact && n)
        memcpy(exact, buf, n);
    free(buf);
    *size = n;
    return exact;
}

/* Runs the harness on one file in a child; returns true when it passed. */
static bool run_one(const entry *e, size_t k, unsigned timeout)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("replay: pipe");
        exit(2);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("replay: fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        size_t size = 0;
        unsigned char *data = slurp(e->path, &size);
        if (!data) {
            fprintf(stderr, "cannot read %s: %s\n", e->path, strerror(errno));
            _exit(3);
        }
        alarm(timeout);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        exit(0); /* not _exit: LeakSanitizer runs at exit */
    }
    close(fds[1]);

    /* Collect what the child prints (a sanitizer report, say). */
    char *out = NULL;
    size_t outn = 0, outcap = 0;
    for (;;) {
        char chunk[4096];
        ssize_t got = read(fds[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (outn + (size_t)got + 1 > outcap) {
            size_t cap = outcap ? outcap * 2 : 8192;
            while (cap < outn + (size_t)got + 1)
                cap *= 2;
            char *bigger = realloc(out, cap);
            if (!bigger) {
                perror("replay");
                exit(2);
            }
            out = bigger;
            outcap = cap;
        }
        memcpy(out + outn, chunk, (size_t)got);
        outn += (size_t)got;
    }
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            perror("replay: waitpid");
            exit(2);
        }
    }
    if (out)
        out[outn] = '\0';

    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
              !(out && strstr(out, "runtime error:"));
    if (ok) {
        printf("ok %zu - %s\n", k, e->name);
    } else if (WIFSIGNALED(st)) {
        printf("not ok %zu - %s # killed by signal %d%s\n", k, e->name, WTERMSIG(st),
               WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
    } else {
        printf("not ok %zu - %s # exit status %d\n", k, e->name,
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    /* The child's output, as TAP comments. */
    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        printf("# %s\n", line);
        line = nl ? nl + 1 : line + strlen(line);
    }
    free(out);
    fflush(stdout);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    unsigned timeout = 60;
    const char *t = getenv("REPLAY_TIMEOUT");
    if (t && *t) {
        long v = strtol(t, NULL, 10);
        timeout = v > 0 && v < 86400 ? (unsigned)v : timeout;
    }
    list all = {0};
    for (int i = 1; i < argc; i++) {
        list one = {0};
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            walk(&one, argv[i], "");
        else
            add(&one, dup_str(argv[i]), dup_str(argv[i]));
        if (one.n)
            qsort(one.v, one.n, sizeof *one.v, by_name);
        for (size_t k = 0; k < one.n; k++)
            add(&all, one.v[k].path, one.v[k].name);
        free(one.v);
    }

    if (all.n == 0) {
        printf("1..1\nnot ok 1 - no corpus files\n");
        return 1;
    }

    printf("1..%zu\n", all.n);
    int failed = 0;
    for (size_t k = 0; k < all.n; k++) {
        if (!run_one(&all.v[k], k + 1, timeout))
            failed = 1;
        free(all.v[k].path);
        free(all.v[k].name);
    }
    free(all.v);
    return failed;
}
