#!/usr/bin/env python3
"""Embeds numbered SQL migrations into a C source.

usage: embed-migrations.py PREFIX OUTPUT NNNN_name.sql...
Defines `const char *const PREFIX[]` (migration n at index n-1) and
`const int PREFIX_count`. The files must be numbered 0001, 0002, ... with no
gap or repeat; anything else fails the build.
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
    prefix, dst = sys.argv[1:3]
    files = sys.argv[3:]
    numbered = {}
    for f in files:
        m = re.match(r"^(\d{4})_[a-z0-9_]+\.sql$", os.path.basename(f))
        if not m:
            sys.exit("embed-migrations: %s is not named NNNN_name.sql" % f)
        n = int(m.group(1))
        if n in numbered:
            sys.exit("embed-migrations: two migrations numbered %d" % n)
        numbered[n] = f
    if sorted(numbered) != list(range(1, len(numbered) + 1)):
        sys.exit("embed-migrations: migrations must be numbered 1..N without gaps")
    lines = [
        "/* Generated at build time by scripts/embed-migrations.py: do not edit. */",
        "extern const char *const %s[];" % prefix,
        "extern const int %s_count;" % prefix,
        "const char *const %s[] = {" % prefix,
    ]
    for n in sorted(numbered):
        with open(numbered[n], encoding="utf-8") as fh:
            text = fh.read()
        lines.append("    /* %s */" % os.path.basename(numbered[n]))
        lines.append(c_string(text) + ",")
    lines.append("};")
    lines.append("const int %s_count = %d;" % (prefix, len(numbered)))
    with open(dst, "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
