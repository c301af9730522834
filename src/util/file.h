/*
 * file.h — bounded file reads and crash-safe writes.
 */
#ifndef CUSTOS_UTIL_FILE_H
#define CUSTOS_UTIL_FILE_H

#include <stdio.h>

#include "util/buf.h"
#include "util/err.h"

/* Reads all of stream into out, refusing input longer than limit bytes with
 * CU_EINVAL ("input larger than N bytes"). */
CU_MUST_USE int cu_read_stream(FILE *f, size_t limit, cu_buf *out, cu_err *err);

/* Writes data to path atomically with the given mode: a temporary file beside
 * it, fsync, rename, fsync of the directory. An existing file is replaced only
 * if replace is non-zero. */
CU_MUST_USE int cu_write_file_atomic(const char *path, const void *data, size_t len,
                                     unsigned mode, int replace, cu_err *err);

/* Creates a directory (and its parents) with mode 0700 when missing. */
CU_MUST_USE int cu_mkdir_p(const char *path, cu_err *err);

/* fsyncs the directory holding path. */
CU_MUST_USE int cu_fsync_parent(const char *path, cu_err *err);

#endif
