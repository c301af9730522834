#!/usr/bin/env python3
"""Turns a data file into a C source defining it as a NUL-terminated byte array.

usage: embed-data.py SYMBOL INPUT OUTPUT
Defines `const char SYMBOL[]` (the bytes, then a NUL) and
`const size_t SYMBOL_len` (the byte count, without the NUL). Used by the build
to embed data/bank-holidays.json; nothing is copied by hand.
"""
import sys


def main():
    symbol, src, dst = sys.argv[1:4]
    data = open(src, "rb").read()
    lines = [
        "/* Generated at build time by scripts/embed-data.py from %s: do not edit. */"
        % src.split("/")[-1],
        "#include <stddef.h>",
        "extern const char %s[];" % symbol,
        "extern const size_t %s_len;" % symbol,
        "const char %s[] = {" % symbol,
    ]
    for i in range(0, len(data), 16):
        lines.append("    " + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",")
    lines.append("    0x00};")
    lines.append("const size_t %s_len = %d;" % (symbol, len(data)))
    with open(dst, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
