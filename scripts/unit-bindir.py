#!/usr/bin/env python3
"""Writes the systemd unit deploy/custos.service with its ExecStart naming
the installed binary (the shipped file names /usr/local/bin/custos).

    scripts/unit-bindir.py UNIT BINARY OUT

Fails, rather than installing a unit that starts the wrong binary, when the
unit has no ExecStart=/usr/local/bin/custos line.
"""

import re
import sys

SHIPPED = "/usr/local/bin/custos"


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: unit-bindir.py UNIT BINARY OUT")
    unit, binary, out = sys.argv[1:]
    with open(unit, encoding="utf-8") as f:
        text = f.read()
    pattern = re.compile(r"^ExecStart=" + re.escape(SHIPPED) + r"(?= |$)", re.M)
    if len(pattern.findall(text)) != 1:
        sys.exit("%s: expected one ExecStart=%s line" % (unit, SHIPPED))
    if not binary.startswith("/") or any(c.isspace() or c in "%$\\" for c in binary):
        sys.exit("%s: the binary's path must be absolute, without spaces, %%, $ or \\" % binary)
    text = pattern.sub(lambda m: "ExecStart=" + binary, text)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
