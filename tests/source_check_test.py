#!/usr/bin/env python3
"""Tests scripts/check-source.py: each convention it checks, broken on purpose
in a copy of the tree, must turn its line into "not ok" and leave the others
"ok"; prose that only names a banned function must not. Prints TAP.

    python3 tests/source_check_test.py
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CHECK = os.path.join(ROOT, "scripts", "check-source.py")


def run_check(root):
    p = subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True,
                       timeout=120)
    verdicts = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^(ok|not ok) (\d+) - ", line)
        if m:
            verdicts[int(m.group(2))] = m.group(1)
    return p.returncode, verdicts, p.stdout


def edit(root, rel, fn):
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    new = fn(text)
    if new == text:
        raise AssertionError("planting in %s changed nothing" % rel)
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


def append(code):
    return lambda text: text + "\n" + code + "\n"


def sub(old, new):
    def fn(text):
        if old not in text:
            raise AssertionError("%r not found" % old)
        return text.replace(old, new, 1)
    return fn


# (name, file, edit, the check that must fail or None, a diagnostic it must print)
CASES = [
    ("strcpy in src is refused", "src/util/buf.c",
     append("void planted(char *d, const char *s);\n"
            "void planted(char *d, const char *s) { strcpy(d, s); }"), 1,
     "src/util/buf.c:"),
    ("sprintf in a unit test is refused", "tests/unit/test_util.c",
     append("static void planted(char *d) { sprintf(d, \"%d\", 1); }"), 1, "sprintf"),
    ("strtok (not strtok_r) in the CLI is refused", "src/cli/cmd_sar.c",
     append("static char *planted(char *s) { return strtok (s, \",\"); }"), 1, "strtok"),
    ("gets in a fuzz harness is refused", "fuzz/replay.c",
     append("static char *planted(char *s) { return gets(s); }"), 1, "gets"),
    ("a banned name only in comments and strings passes", "src/util/buf.c",
     append("/* never strcpy(d, s) here */\n"
            "// nor sprintf(d, s)\n"
            "static const char planted[] = \"strcat(a, b)\";"), None, None),
    ("sqlite3.h included in the domain is refused", "src/domain/vault.c",
     sub("#include", "#include <sqlite3.h>\n#include"), 2, "sqlite3.h"),
    ("libpq-fe.h included in http is refused", "src/http/api.c",
     sub("#include", "#include \"libpq-fe.h\"\n#include"), 2, "libpq-fe.h"),
    ("a sqlite3_ call outside the store is refused", "src/domain/audit.c",
     append("int planted(void *db);\n"
            "int planted(void *db) { return sqlite3_exec(db, \"\", 0, 0, 0); }"), 2,
     "sqlite3_exec"),
    ("sodium.h included outside crypto is refused", "src/util/file.c",
     sub("#include", "#include <sodium.h>\n#include"), 3, "sodium.h"),
    ("randombytes_buf outside crypto is refused", "src/domain/staff.c",
     append("void planted(void *p);\nvoid planted(void *p) { randombytes_buf(p, 8); }"), 3,
     "randombytes_buf"),
    ("crypto_generichash outside crypto is refused", "src/http/server.c",
     append("void planted(void *p);\n"
            "void planted(void *p) { crypto_generichash(p, 32, p, 8, NULL, 0); }"), 3,
     "crypto_generichash"),
    ("cu_sign_verify without CU_MUST_USE is refused", "src/crypto/crypto.h",
     sub("CU_MUST_USE bool cu_sign_verify(", "bool cu_sign_verify("), 4, "cu_sign_verify"),
    ("cu_op_end without CU_MUST_USE is refused", "src/domain/op.h",
     sub("CU_MUST_USE int cu_op_end(", "int cu_op_end("), 4, "cu_op_end"),
    ("a second declaration without CU_MUST_USE is refused", "src/domain/audit.h",
     sub("#endif", "bool cu_ct_equal(const void *a, const void *b, size_t n);\n#endif"), 4,
     "cu_ct_equal"),
    ("CU_MUST_USE defined as nothing is refused", "src/util/err.h",
     sub("#define CU_MUST_USE __attribute__((warn_unused_result))", "#define CU_MUST_USE"),
     4, "CU_MUST_USE"),
    ("a verifier whose declaration vanished is refused", "src/crypto/secrets.h",
     sub("cu_totp_verify(", "cu_totp_check_code("), 4, "cu_totp_verify"),
    ("werror in meson's default_options is refused", "meson.build",
     sub("default_options: [", "default_options: ['werror=true', "), 5, "meson.build:"),
    ("a Makefile build without --werror is refused", "Makefile",
     sub("--buildtype=debug --werror", "--buildtype=debug"), 5, "Makefile:"),
    ("data_version read in the domain is refused", "src/domain/vault.c",
     append("int64_t planted_dv(cu_vault *v);\n"
            "int64_t planted_dv(cu_vault *v) { return cu_store_data_version(v->store); }"), 6,
     "src/domain/vault.c:"),
    ("a WAL checkpoint called from the domain is refused", "src/domain/erasure.c",
     append("void planted(cu_vault *v);\n"
            "void planted(cu_vault *v) { (void)cu_store_checkpoint_wal(v->store, NULL); }"), 6,
     "cu_store_checkpoint_wal"),
    ("a sqlite name in the CLI is refused", "src/cli/out.c",
     append("static const int sqlite_busy_ms = 5000;\n"
            "int planted(void);\nint planted(void) { return sqlite_busy_ms; }"), 6,
     "sqlite_busy_ms"),
    ("a PRAGMA in http is refused", "src/http/api_util.c",
     append("#define PRAGMA_SYNC 2\nint planted(void);\nint planted(void) { return PRAGMA_SYNC; }"),
     6, "PRAGMA_SYNC"),
    ("a SQLite type in iface is refused", "src/iface/render.c",
     append("struct Sqlite3Handle;\nvoid planted(struct Sqlite3Handle *h);"), 6,
     "Sqlite3Handle"),
    ("SQLite words only in comments and strings pass, as do audit checkpoints",
     "src/domain/audit.c",
     append("/* the sqlite data_version, a PRAGMA, a WAL checkpoint */\n"
            "static const char planted[] = \"PRAGMA data_version; sqlite wal_checkpoint\";\n"
            "const char *planted_words(void);\n"
            "const char *planted_words(void) { return planted; }\n"
            "int planted_checkpoint(int checkpoints);\n"
            "int planted_checkpoint(int checkpoints) { return checkpoints; }"), None, None),
    ("a sqlite3_ call in a store family is refused", "src/store/items.c",
     append("int planted(void *db);\n"
            "int planted(void *db) { return sqlite3_changes(db); }"), 7,
     "src/store/items.c:"),
    ("sqlite3.h included in the store's core is refused", "src/store/store.c",
     sub("#include", "#include <sqlite3.h>\n#include"), 7, "sqlite3.h"),
    ("SQL text in a store family is refused", "src/store/subjects.c",
     append("static const char planted[] =\n"
            "    \"UPDATE subjects SET kind = ?2 \"\n    \"WHERE id = ?1\";\n"
            "const char *planted_sql(void);\n"
            "const char *planted_sql(void) { return planted; }"), 7, "src/store/subjects.c:"),
    ("a PQ call in a store family is refused", "src/store/audit.c",
     append("int planted(void *c);\nint planted(void *c) { return PQstatus(c); }"), 7,
     "PQstatus"),
    ("SQL in a backend's own files, and SQL words in a family's comments and "
     "lower-case messages pass", "src/store/sqlite/sql_items.c",
     append("static const char planted[] = \"SELECT 1 FROM items WHERE 0\";\n"
            "const char *planted_sql(void);\n"
            "const char *planted_sql(void) { return planted; }"), None, None),
    ("a family's comments and messages may name what they do", "src/store/items.c",
     append("/* SELECT id FROM items WHERE ... runs as ST_ITEM_GET */\n"
            "static const char planted[] = \"selecting from the items, updating where "
            "needed\";\n"
            "const char *planted_msg(void);\n"
            "const char *planted_msg(void) { return planted; }"), None, None),
]


def main():
    print("1..%d" % (len(CASES) + 1))
    failed = 0
    base = tempfile.mkdtemp(prefix="custos-check-source-")
    try:
        tree = os.path.join(base, "tree")
        for d in ("src", "tests", "fuzz", "bench"):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(tree, d),
                            ignore=shutil.ignore_patterns("__pycache__", "corpus"))
        for f in ("meson.build", "Makefile"):
            shutil.copy(os.path.join(ROOT, f), os.path.join(tree, f))
        rc, verdicts, out = run_check(tree)
        n = 1
        if rc == 0 and verdicts and all(v == "ok" for v in verdicts.values()):
            print("ok %d - the tree as it is passes every check" % n)
        else:
            failed += 1
            print("not ok %d - the tree as it is passes every check" % n)
            print("\n".join("# " + line for line in out.splitlines()))
        for name, rel, fn, expect, diag in CASES:
            n += 1
            path = os.path.join(tree, rel)
            with open(path, encoding="utf-8") as f:
                original = f.read()
            problem = None
            try:
                edit(tree, rel, fn)
                rc, verdicts, out = run_check(tree)
                if len(verdicts) < 7:
                    problem = "the check printed %d verdicts" % len(verdicts)
                for k, v in sorted(verdicts.items()):
                    want = "not ok" if k == expect else "ok"
                    if v != want:
                        problem = "check %d said %r, expected %r" % (k, v, want)
                if not problem and (rc != 0) != (expect is not None):
                    problem = "exit status %d" % rc
                if not problem and diag and diag not in out:
                    problem = "no diagnostic naming %r" % diag
            except AssertionError as e:
                problem = str(e)
            finally:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(original)  # the next case starts from the clean tree
            if problem:
                failed += 1
                print("not ok %d - %s" % (n, name))
                print("# " + problem)
                print("\n".join("# " + line for line in out.splitlines()))
            else:
                print("ok %d - %s" % (n, name))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
