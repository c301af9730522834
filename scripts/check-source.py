#!/usr/bin/env python3
"""Checks the source conventions the compiler does not, and prints TAP.

    scripts/check-source.py [ROOT]        (ROOT defaults to the repository)

One TAP line per convention, with "# FILE:LINE: ..." diagnostics under a
failing one; exit status 1 when any fails:

  1. no unbounded or non-reentrant string function (strcpy, strcat, sprintf,
     vsprintf, gets, strtok, ...) in src/, tests/, fuzz/ or bench/;
  2. only src/store includes sqlite3.h or libpq-fe.h or calls sqlite3_*;
  3. only src/crypto includes sodium.h or calls crypto_*, sodium_* or
     randombytes*;
  4. every function that verifies something (a signature, a password, a code,
     a row's code, the audit trail, the choke point's decision) is declared
     CU_MUST_USE (warn_unused_result), so a caller cannot drop its answer;
  5. warnings are errors in every build the Makefile sets up (--werror) and
     never in meson.build's default_options (a packager's newer compiler must
     not break their build);
  6. nothing above src/store (src/domain, src/http, src/iface, src/cli) names
     a storage backend's specifics in code: no identifier containing
     "sqlite", "PRAGMA" or "data_version", nor a write-log checkpoint
     ("wal_checkpoint", "checkpoint_wal", any case). The audit trail's signed
     checkpoints (cu_checkpoint, cu_store_checkpoint_add, ...) are the
     domain's own term and are not matched;
  7. the store's core and table families (src/store/*.c, *.h, outside its
     backends' directories src/store/sqlite/ and src/store/pg/) hold no SQL:
     no sqlite3_* or PQ* call, no sqlite3.h or libpq-fe.h, and no string
     literal with an SQL keyword (SELECT, INSERT, UPDATE ... SET, DELETE FROM,
     CREATE, ALTER, DROP, PRAGMA, BEGIN, COMMIT, ROLLBACK, SAVEPOINT, FROM,
     WHERE, in capitals): they run statements by id.

Comments and string literals are blanked before matching, so prose that names
a banned function is not a violation; a call in a macro still is.
"""

import functools
import os
import re
import sys

BANNED = ("strcpy", "stpcpy", "strcat", "strncpy", "strncat", "sprintf", "vsprintf",
          "gets", "strtok", "wcscpy", "wcscat", "tmpnam", "tempnam", "mktemp", "alloca")

# The verifiers: a caller that ignores one of these has skipped a check.
VERIFIERS = (
    "cu_ct_equal", "cu_sign_verify", "cu_pwhash_verify", "cu_totp_verify",
    "cu_mac_check", "cu_aead_open", "cu_key_unwrap", "cu_keyfile_load",
    "cu_op_authorise", "cu_op_end",
    "cu_audit_verify", "cu_audit_check", "cu_audit_check_start",
    "cu_integrity_verify", "cu_ledger_parse", "cu_ledger_read", "cu_backup_decode",
    "cu_subject_row_check", "cu_subject_items_check", "cu_subject_consents_check",
    "cu_items_sum_check", "cu_break_glass_check", "cu_policy_row_check",
    "cu_consent_row_check", "cu_authenticate", "cu_password_check",
    "cu_break_glass_reason_check", "cu_csrf_verify",
)
MUST_USE = "CU_MUST_USE"


LEXEMES = re.compile(r"/\*.*?(?:\*/|\Z)|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"?|'(?:\\.|[^'\\\n])*'?",
                     re.S)


def blank(text):
    """text with comments and string/char literals replaced by spaces
    (newlines kept, so line numbers stay right)."""
    def spaces(m):
        t = m.group(0)
        if t[0] in "\"'":  # keep the quotes, so a literal stays an operand
            closed = len(t) > 1 and t[-1] == t[0]
            body = t[1:-1] if closed else t[1:]
            return t[0] + re.sub(r"[^\n]", " ", body) + (t[0] if closed else "")
        return re.sub(r"[^\n]", " ", t)
    return LEXEMES.sub(spaces, text)


def sources(root, dirs):
    for d in dirs:
        top = os.path.join(root, d)
        for base, subdirs, files in os.walk(top):
            subdirs.sort()
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    path = os.path.join(base, f)
                    yield os.path.relpath(path, root), path


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


@functools.lru_cache(maxsize=None)
def source(path):
    """(raw text, blanked text) of a source file, read once per run."""
    raw = read(path)
    return raw, blank(raw)


def matches(root, dirs, pattern, skip_prefix=None, raw_pattern=None):
    """(file:line: text) for each match of pattern in blanked sources, and of
    raw_pattern (for #include lines, whose <...> is not a literal) in the raw
    text."""
    found = []
    for rel, path in sources(root, dirs):
        if skip_prefix and rel.startswith(skip_prefix):
            continue
        raw, text = source(path)
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append("%s:%d: %s" % (rel, line, m.group(1)))
        if raw_pattern:
            # An #include is matched on the blanked text's line (so a
            # commented-out one does not count) but read from the raw line.
            blines, rlines = text.split("\n"), raw.split("\n")
            for k, bl in enumerate(blines):
                if bl.lstrip().startswith("#") and raw_pattern.search(rlines[k]):
                    found.append("%s:%d: %s" % (rel, k + 1, rlines[k].strip()))
    return found


def check_banned(root):
    pat = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(BANNED))
    return matches(root, ("src", "tests", "fuzz", "bench"), pat)


def check_sql(root):
    pat = re.compile(r"(?<![\w.>])(sqlite3_\w+|PQ\w+)\s*\(")
    inc = re.compile(r"#\s*include\s*[<\"](sqlite3\.h|libpq-fe\.h)[>\"]")
    return matches(root, ("src",), pat, skip_prefix="src/store/", raw_pattern=inc)


def check_sodium(root):
    pat = re.compile(r"(?<![\w.>])((?:crypto_|sodium_)\w+|randombytes\w*)\s*\(")
    inc = re.compile(r"#\s*include\s*[<\"]sodium(\.h|/[\w.]+)[>\"]")
    return matches(root, ("src",), pat, skip_prefix="src/crypto/", raw_pattern=inc)


def check_verifiers(root):
    problems = []
    err_h = os.path.join(root, "src", "util", "err.h")
    if not re.search(r"#\s*define\s+%s\s+__attribute__\s*\(\(\s*warn_unused_result\s*\)\)"
                     % MUST_USE, blank(read(err_h)) if os.path.exists(err_h) else ""):
        problems.append("src/util/err.h: %s is not defined as "
                        "__attribute__((warn_unused_result))" % MUST_USE)
    decls = {name: [] for name in VERIFIERS}
    for rel, path in sources(root, ("src",)):
        if not rel.endswith(".h"):
            continue
        text = source(path)[1]
        # A declaration starts at column 0 and runs to the ';' that ends it.
        for m in re.finditer(r"^[A-Za-z_][^;{}#]*?;", text, re.M):
            stmt = m.group(0)
            for name in VERIFIERS:
                k = re.search(r"\b%s\s*\(" % name, stmt)
                if k:
                    line = text.count("\n", 0, m.start()) + 1
                    decls[name].append((rel, line, MUST_USE in stmt[:k.start()]))
    for name in VERIFIERS:
        if not decls[name]:
            problems.append("%s: no declaration found in src/*/*.h" % name)
        for rel, line, ok in decls[name]:
            if not ok:
                problems.append("%s:%d: %s is declared without %s" % (rel, line, name, MUST_USE))
    return problems


def check_werror(root):
    problems = []
    meson = os.path.join(root, "meson.build")
    make = os.path.join(root, "Makefile")
    if not os.path.exists(meson) or not os.path.exists(make):
        return ["meson.build or Makefile missing"]
    text = read(meson)
    m = re.search(r"default_options\s*:\s*\[([^\]]*)\]", text)
    if m and re.search(r"werror", m.group(1)):
        line = text.count("\n", 0, m.start()) + 1
        problems.append("meson.build:%d: werror in default_options" % line)
    for k, line in enumerate(read(make).splitlines(), 1):
        if re.search(r"\bmeson setup\b", line) and "--werror" not in line:
            problems.append("Makefile:%d: meson setup without --werror" % k)
    return problems


def check_backend_words(root):
    # sqlite3.h and sqlite3_* calls are check 2's; an #include line is not
    # code here.
    pat = re.compile(r"(?<![\w])(\w*(?:[Ss][Qq][Ll][Ii][Tt][Ee]|PRAGMA|data_version|"
                     r"[Ww][Aa][Ll]_?[Cc][Hh][Ee][Cc][Kk][Pp][Oo][Ii][Nn][Tt]|"
                     r"[Cc][Hh][Ee][Cc][Kk][Pp][Oo][Ii][Nn][Tt]_?[Ww][Aa][Ll])\w*)(\s*\()?")
    found = []
    for rel, path in sources(root, ("src/domain", "src/http", "src/iface", "src/cli")):
        text = source(path)[1]
        for m in pat.finditer(text):
            if m.group(1).startswith("sqlite3_") and m.group(2):
                continue
            bol = text.rfind("\n", 0, m.start()) + 1
            if re.match(r"\s*#\s*include\b", text[bol:m.start()]):
                continue
            line = text.count("\n", 0, m.start()) + 1
            found.append("%s:%d: %s" % (rel, line, m.group(1)))
    return found


SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE|ALTER|DROP|"
                       r"PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|FROM|WHERE)\b")
STRING = re.compile(r"/\*.*?(?:\*/|\Z)|//[^\n]*|(\"(?:\\.|[^\"\\\n])*\"?)", re.S)


def check_store_families(root):
    found = []
    call = re.compile(r"(?<![\w.>])(sqlite3_\w+|PQ\w+)\s*\(")
    inc = re.compile(r"#\s*include\s*[<\"](sqlite3\.h|libpq-fe\.h)[>\"]")
    top = os.path.join(root, "src", "store")
    if not os.path.isdir(top):
        return found
    for f in sorted(os.listdir(top)):
        path = os.path.join(top, f)
        if not f.endswith((".c", ".h")) or not os.path.isfile(path):
            continue
        rel = os.path.relpath(path, root)
        raw, text = source(path)
        for m in call.finditer(text):
            found.append("%s:%d: %s" % (rel, text.count("\n", 0, m.start()) + 1, m.group(1)))
        for k, line in enumerate(raw.split("\n")):
            if inc.search(line) and text.split("\n")[k].lstrip().startswith("#"):
                found.append("%s:%d: %s" % (rel, k + 1, line.strip()))
        for m in STRING.finditer(raw):
            lit = m.group(1)
            if lit and SQL_WORDS.search(lit):
                found.append("%s:%d: SQL in %s" % (rel, raw.count("\n", 0, m.start()) + 1,
                                                    lit[:40]))
    return found


CHECKS = (
    ("no unbounded or non-reentrant string functions in src, tests, fuzz, bench",
     check_banned),
    ("only src/store speaks SQL (sqlite3.h, libpq-fe.h, sqlite3_*)", check_sql),
    ("only src/crypto calls libsodium (sodium.h, crypto_*, sodium_*, randombytes*)",
     check_sodium),
    ("every verifier is declared CU_MUST_USE (warn_unused_result)", check_verifiers),
    ("--werror in every Makefile build, never in meson's default_options", check_werror),
    ("nothing above src/store names SQLite specifics (sqlite, PRAGMA, data_version, "
     "WAL checkpoint)", check_backend_words),
    ("the store's families hold no SQL: statements by id (src/store/*.c outside its "
     "backends)", check_store_families),
)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if not os.path.isdir(os.path.join(root, "src")):
        print("1..0 # no src/ under %s" % root)
        return 2
    print("1..%d" % len(CHECKS))
    failed = 0
    for n, (name, fn) in enumerate(CHECKS, 1):
        problems = fn(root)
        if problems:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for p in problems:
                print("# " + p)
        else:
            print("ok %d - %s" % (n, name))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
