/*
 * fuzz.h — the libFuzzer entry point every harness in fuzz/ defines.
 *
 * Each fuzz_NAME.c is linked two ways:
 *   - with libFuzzer (-Dfuzzing=true, clang): the fuzz_NAME campaign binaries
 *     run by scripts/fuzz.sh;
 *   - with replay.c (the default build): replay_NAME, which feeds every file of
 *     fuzz/corpus/NAME/ through the harness once and prints TAP, so the test
 *     suite re-checks the committed corpus under ASan/UBSan.
 * A harness signals a violated invariant with CHECK (abort()).
 */
#ifndef CUSTOS_FUZZ_FUZZ_H
#define CUSTOS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts, naming the broken invariant, when cond is false. */
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

#endif
