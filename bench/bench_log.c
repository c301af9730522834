/*
 * bench_log — what one request line of the server's log costs: formatting it
 * and its one write(2), to a file and to /dev/null, in each format.
 *   bench_log [--lines N] [--file PATH]
 * Prints nanoseconds per line, and a bare write(2) of a line's length to
 * /dev/null for the floor. Writes N lines to PATH (default
 * /var/tmp/custos-bench-log.XXXXXX, removed afterwards).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "http/log.h"

static double run(const char *path, cu_log_format f, long n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    cu_log_open(f, true);
    cu_log_req r = {.request_id = "5f3a9c1e2b7d-1a2b", .method = "GET",
                    .route = "/v1/subjects/{id}", .status = 200, .duration_us = 3456,
                    .bytes_out = 1234, .actor_id = "0b6f8a3e-4c1d-4e2f-9a7b-1c2d3e4f5a6b",
                    .role = "clinician", .completed = true};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        cu_log_request(&r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    cu_log_close();
    dup2(saved, STDERR_FILENO);
    close(saved);
    return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
}

int main(int argc, char **argv)
{
    long n = 500000;
    char path[256] = "";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--lines") == 0)
            n = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--file") == 0)
            snprintf(path, sizeof path, "%s", argv[i + 1]);
    }
    if (n < 1 || cu_crypto_init())
        return 2;
    bool temp = !path[0];
    if (temp) {
        snprintf(path, sizeof path, "/var/tmp/custos-bench-log.XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0)
            return 1;
        close(fd);
    }
    printf("bench_log: %ld request lines per measurement\n", n);
    for (int f = CU_LOG_JSON; f <= CU_LOG_TEXT; f++) {
        double file = run(path, (cu_log_format)f, n);
        double null = run("/dev/null", (cu_log_format)f, n);
        printf("%-5s  to a file %6.0f ns/line   to /dev/null %6.0f ns/line\n",
               cu_log_format_name((cu_log_format)f), file, null);
    }
    /* the floor: the same number of bare write(2)s of a line's length */
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char line[300];
    memset(line, 'x', sizeof line);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        if (write(fd, line, sizeof line) < 0)
            return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    close(fd);
    printf("bare write(2) of 300 bytes to /dev/null: %.0f ns\n",
           ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n);
    if (temp)
        unlink(path);
    return 0;
}
