"""A minimal PostgreSQL client for the end-to-end tests (standard library only).

It speaks the frontend/backend protocol version 3 over TCP to the tests' own
throw-away cluster, which trusts local connections (no password, no TLS).
Queries use the extended protocol with real parameters: `?` placeholders (as
sqlite3 takes them) become $1, $2...; bytes go as binary bytea, None as NULL,
everything else as text. Rows come back as tuples the way sqlite3 gives them:
integers as int, bytea as bytes, NULL as None, text as str."""

import socket
import struct
from urllib.parse import urlsplit, unquote


class PgError(Exception):
    """An error the server reported (its SQLSTATE is .code) or a protocol error."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


INT_OIDS = {20, 21, 23, 26}          # int8, int2, int4, oid
FLOAT_OIDS = {700, 701}
BOOL_OID = 16
BYTEA_OID = 17
NUMERIC_OID = 1700


def parse_url(url):
    """(host, port, user, dbname) of a postgresql:// URL."""
    u = urlsplit(url)
    if u.scheme not in ("postgresql", "postgres"):
        raise ValueError("not a postgresql:// URL: %r" % url)
    db = unquote(u.path.lstrip("/")) or "postgres"
    return u.hostname or "127.0.0.1", u.port or 5432, unquote(u.username or "postgres"), db


def with_database(url, name):
    """The same server and user, another database."""
    host, port, user, _ = parse_url(url)
    return "postgresql://%s@%s:%d/%s" % (user, host, port, name)


def translate(query):
    """sqlite3's `?` placeholders as $1, $2...; string literals, quoted
    identifiers and comments are left alone."""
    out = []
    n = 0
    i = 0
    while i < len(query):
        ch = query[i]
        if ch in ("'", '"'):
            j = i + 1
            while j < len(query):
                if query[j] == ch:
                    if j + 1 < len(query) and query[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            out.append(query[i:j + 1])
            i = j + 1
        elif query.startswith("--", i):
            j = query.find("\n", i)
            j = len(query) if j < 0 else j
            out.append(query[i:j])
            i = j
        elif ch == "?":
            n += 1
            out.append("$%d" % n)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), n


def decode(oid, raw):
    if raw is None:
        return None
    if oid == BYTEA_OID:
        s = raw.decode("ascii")
        if not s.startswith("\\x"):
            raise PgError("bytea not in hex output format")
        return bytes.fromhex(s[2:])
    s = raw.decode("utf-8")
    if oid in INT_OIDS:
        return int(s)
    if oid in FLOAT_OIDS:
        return float(s)
    if oid == NUMERIC_OID:
        return int(s) if s.lstrip("-").isdigit() else float(s)
    if oid == BOOL_OID:
        return s == "t"
    return s


def encode_param(v):
    """(format, bytes or None): bytes as binary, the rest as text."""
    if v is None:
        return 0, None
    if isinstance(v, (bytes, bytearray, memoryview)):
        return 1, bytes(v)
    if isinstance(v, bool):
        return 0, b"1" if v else b"0"
    if isinstance(v, (int, float)):
        return 0, str(v).encode("ascii")
    if isinstance(v, str):
        if "\x00" in v:
            raise PgError("PostgreSQL text cannot hold a NUL character")
        return 0, v.encode("utf-8")
    raise PgError("cannot send a parameter of type %s" % type(v).__name__)


def cstr(s):
    return s.encode("utf-8") + b"\x00"


class Cursor:
    def __init__(self, rows, rowcount):
        self._rows = rows
        self.rowcount = rowcount

    def fetchall(self):
        return list(self._rows)

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def __iter__(self):
        return iter(self._rows)


class Connection:
    """One session; execute(query, params) as sqlite3's, in autocommit."""

    def __init__(self, url, timeout=30):
        host, port, user, db = parse_url(url)
        self.url = url
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        body = struct.pack("!i", 196608) + cstr("user") + cstr(user) + cstr("database") + \
            cstr(db) + cstr("client_encoding") + cstr("UTF8") + cstr("application_name") + \
            cstr("custos-e2e") + b"\x00"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        while True:
            t, payload = self._read()
            if t == b"R":
                (code,) = struct.unpack("!i", payload[:4])
                if code != 0:
                    self.close()
                    raise PgError("the server asks for authentication method %d; the test "
                                  "cluster must trust local connections" % code)
            elif t == b"E":
                self.close()
                raise self._error(payload)
            elif t == b"Z":
                break
            # S (parameter status), K (backend key), N (notice): nothing to do

    # -- wire

    def _recv(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PgError("the server closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read(self):
        head = self._recv(5)
        (length,) = struct.unpack("!i", head[1:])
        return head[:1], self._recv(length - 4)

    @staticmethod
    def _msg(t, body):
        return t + struct.pack("!i", len(body) + 4) + body

    @staticmethod
    def _error(payload):
        fields = {}
        for part in payload.split(b"\x00"):
            if part:
                fields[part[:1]] = part[1:].decode("utf-8", "replace")
        msg = fields.get(b"M", "error")
        if b"D" in fields:
            msg += " (" + fields[b"D"] + ")"
        return PgError("%s: %s" % (fields.get(b"C", "?????"), msg), fields.get(b"C"))

    # -- queries

    def execute(self, query, params=()):
        q, n = translate(query)
        params = tuple(params)
        if n != len(params):
            raise PgError("%d placeholders, %d parameters in %r" % (n, len(params), query))
        fmts, vals = zip(*[encode_param(p) for p in params]) if params else ((), ())
        bind = b"\x00\x00" + struct.pack("!h", len(fmts)) + \
            b"".join(struct.pack("!h", f) for f in fmts) + struct.pack("!h", len(vals))
        for v in vals:
            bind += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
        bind += struct.pack("!h", 0)   # every result column in text format
        self.sock.sendall(
            self._msg(b"P", b"\x00" + cstr(q) + struct.pack("!h", 0)) +
            self._msg(b"B", bind) +
            self._msg(b"D", b"P\x00") +
            self._msg(b"E", b"\x00" + struct.pack("!i", 0)) +
            self._msg(b"S", b""))
        oids, rows, err, rowcount = [], [], None, -1
        while True:
            t, payload = self._read()
            if t == b"T":
                (ncol,) = struct.unpack("!h", payload[:2])
                pos, oids = 2, []
                for _ in range(ncol):
                    end = payload.index(b"\x00", pos)
                    oid = struct.unpack("!i", payload[end + 7:end + 11])[0]
                    oids.append(oid)
                    pos = end + 19
            elif t == b"D":
                (ncol,) = struct.unpack("!h", payload[:2])
                pos, row = 2, []
                for i in range(ncol):
                    (ln,) = struct.unpack("!i", payload[pos:pos + 4])
                    pos += 4
                    raw = None if ln < 0 else payload[pos:pos + ln]
                    pos += max(ln, 0)
                    row.append(decode(oids[i], raw))
                rows.append(tuple(row))
            elif t == b"C":
                tag = payload.rstrip(b"\x00").split()
                if tag and tag[-1].isdigit():
                    rowcount = int(tag[-1])
            elif t == b"E":
                err = self._error(payload)
            elif t == b"Z":
                break
        if err:
            raise err
        return Cursor(rows, rowcount)

    def close(self):
        try:
            self.sock.sendall(self._msg(b"X", b""))
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
