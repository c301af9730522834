#!/usr/bin/env python3
"""Embeds the PostgreSQL migrations (src/store/pg/migrations/NNNN_name.sql)
in a C source, in the order of their numbers.

usage: embed-pg-sql.py OUTPUT INPUT...
Defines `const char *const cu_pg_migrations[]` (migration n at index n - 1)
and `const int cu_pg_migration_count`. The numbers must run 1, 2, 3, ...
without a gap or a repeat, or the build fails: a migration can be neither
skipped nor applied twice.
"""
import os
import re
import sys


def c_string(text):
    out = []
    for line in text.splitlines(keepends=True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append('    "%s"' % esc)
    return "\n".join(out) if out else '    ""'


def main():
    dst, srcs = sys.argv[1], sys.argv[2:]
    numbered = []
    for src in srcs:
        m = re.match(r"^(\d{4})_[a-z0-9_]+\.sql$", os.path.basename(src))
        if not m:
            sys.exit("embed-pg-sql: %s: not named NNNN_name.sql" % src)
        numbered.append((int(m.group(1)), src))
    numbered.sort()
    for k, (n, src) in enumerate(numbered, start=1):
        if n != k:
            sys.exit("embed-pg-sql: migration %d expected, found %s" % (k, src))
    lines = [
        "/* Generated at build time by scripts/embed-pg-sql.py from",
        " * src/store/pg/migrations/: do not edit. */",
        "extern const char *const cu_pg_migrations[];",
        "extern const int cu_pg_migration_count;",
        "const char *const cu_pg_migrations[] = {",
    ]
    for n, src in numbered:
        with open(src, encoding="utf-8") as f:
            text = f.read()
        lines.append("    /* %s */" % os.path.basename(src))
        lines.append(c_string(text) + ",")
    lines.append("};")
    lines.append("const int cu_pg_migration_count = %d;" % len(numbered))
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
