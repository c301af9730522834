"""docs/openapi.yaml against the router: `custos routes` prints the route table
(one "METHOD PATH" a line) and every route must be documented, every
documented operation routed. Also: every operation documents a 4xx problem
response, and every problem type of src/http/problem.c is in the spec.

Standard library only: the spec is read with a small line-based outline
parser, which relies on the shape docs/openapi.yaml keeps (block mappings
indented by two spaces; paths as keys indented two spaces under `paths:`,
methods as keys indented four)."""

import os
import re

from harness import registry, Fail, check, eq

CASES, case = registry()


ROOT = os.environ.get("CUSTOS_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(ROOT, "docs", "openapi.yaml")
PROBLEM_C = os.path.join(ROOT, "src", "http", "problem.c")
METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM_SCHEMA = "#/components/schemas/Problem"
URN_RE = re.compile(r"urn:custos:problem:[a-z0-9-]+")


# ---------------------------------------------------------------- the outline

class Node:
    """A key of a block mapping: its value on the key's line, the keys nested
    under it, and every raw line of its block (list items and text too)."""

    def __init__(self, indent, key="", value="", lineno=0):
        self.indent, self.key, self.value, self.lineno = indent, key, value, lineno
        self.children = {}
        self.items = []  # list items, each an anonymous Node
        self.lines = []

    def get(self, *keys):
        n = self
        for k in keys:
            if n is None:
                return None
            n = n.children.get(k)
        return n

    def text(self):
        return "\n".join(self.lines)


KEY_RE = re.compile(r"""^('(?:[^']|'')*'|"[^"]*"|[^\s'"#\-][^:#]*?)\s*:(?:\s+(.*))?$""")
BLOCK_SCALAR = ("|", "|-", "|+", ">", ">-", ">+")


def unquote(k):
    if len(k) >= 2 and k[0] == k[-1] == "'":
        return k[1:-1].replace("''", "'")
    if len(k) >= 2 and k[0] == k[-1] == '"':
        return k[1:-1]
    return k


def outline(text):
    """The tree of mapping keys of a YAML document in block style. A list
    item ("- ...") is an anonymous node whose keys are its own, so items do
    not mix their keys; block scalars are text. Duplicate keys in one mapping
    are an error (YAML forbids them)."""
    root = Node(-1)
    stack = [root]
    scalar_indent = None  # inside a block scalar opened by a key at this indent
    for lineno, raw in enumerate(text.split("\n"), 1):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if scalar_indent is not None:
            if not stripped or indent > scalar_indent:
                for n in stack[1:]:
                    n.lines.append(raw)
                continue
            scalar_indent = None
        if not stripped or stripped.startswith("#"):
            continue
        if "\t" in raw[:indent + 1]:
            raise Fail("%s:%d: a tab in the indentation" % (SPEC, lineno))
        while stack[-1].indent >= indent:
            stack.pop()
        for n in stack[1:]:
            n.lines.append(raw)
        rest = raw[indent:]
        while rest.startswith("- ") or rest == "-":
            item = Node(indent, "-", "", lineno)
            item.lines.append(raw)
            stack[-1].items.append(item)
            stack.append(item)
            after = rest[1:]
            indent += 1 + len(after) - len(after.lstrip(" "))
            rest = after.lstrip(" ")
        m = KEY_RE.match(rest)
        if not m:
            continue
        key, value = unquote(m.group(1)), (m.group(2) or "").strip()
        if value.startswith("#"):
            value = ""
        parent = stack[-1]
        if key in parent.children:
            raise Fail("%s:%d: duplicate key %r (first at line %d)" % (
                SPEC, lineno, key, parent.children[key].lineno))
        node = Node(indent, key, value, lineno)
        node.lines.append(raw)
        parent.children[key] = node
        stack.append(node)
        if value in BLOCK_SCALAR:
            scalar_indent = indent
    return root


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def load_spec():
    check(os.path.isfile(SPEC), "no spec at %s" % SPEC)
    return outline(read(SPEC))


def spec_operations(tree):
    """{(METHOD, path): operation node}, checking the shape the parser needs."""
    paths = tree.get("paths")
    check(paths is not None and paths.indent == 0, "docs/openapi.yaml has no top-level paths:")
    ops = {}
    for path, pnode in paths.children.items():
        check(pnode.indent == 2, "line %d: path %r is not indented two spaces under paths:" % (
            pnode.lineno, path))
        check(path.startswith("/"), "line %d: path %r does not start with /" % (
            pnode.lineno, path))
        check(pnode.children, "line %d: path %r has no operation" % (pnode.lineno, path))
        for method, onode in pnode.children.items():
            check(onode.indent == 4 and method in METHODS,
                  "line %d: %r under %s is not a method (%s) indented four spaces; keep only "
                  "operations at that level" % (onode.lineno, method, path, "/".join(METHODS)))
            ops[(method.upper(), path)] = onode
    check(ops, "docs/openapi.yaml documents no operation")
    return ops


def routes(ctx):
    """[(METHOD, path)] from `custos routes`, and {(METHOD, path): entry} from --json."""
    cx = ctx.custos()
    r = cx.ok("routes")
    table = []
    for line in r.out.splitlines():
        m = re.match(r"^(GET|POST|PUT|PATCH|DELETE) (/\S*)$", line)
        check(m, "custos routes printed a line that is not 'METHOD PATH': %r" % line)
        table.append((m.group(1), m.group(2)))
    check(table, "custos routes printed no route", r.describe())
    eq(len(set(table)), len(table), "distinct routes (duplicates in the table)")
    j = cx.okj("routes")
    eq([(e["method"], e["path"]) for e in j], table, "custos --json routes, in order")
    check(not os.path.exists(cx.store), "custos routes created a store")
    return table, {(e["method"], e["path"]): e for e in j}


def ref_target(tree, ref):
    """The node a local $ref names, or None."""
    if not ref.startswith("#/"):
        return None
    return tree.get(*ref[2:].split("/"))


REF_RE = re.compile(r"""\$ref:\s*['"]?([^'"\s]+)""")


# ---------------------------------------------------------------- the cases

@case("openapi: every route of `custos routes` is in docs/openapi.yaml, every operation routed")
def t_routes_match(ctx):
    table, _ = routes(ctx)
    ops = spec_operations(load_spec())
    routed, documented = set(table), set(ops)
    missing = sorted(routed - documented)
    extra = sorted(documented - routed)
    check(not missing and not extra,
          "docs/openapi.yaml and the router differ",
          "routed but not documented: %s" % (["%s %s" % r for r in missing] or "none"),
          "documented but not routed: %s" % (["%s %s" % r for r in extra] or "none"))


@case("openapi: operations name their route, declare their path parameters, and personal "
      "routes need a bearer token")
def t_operations_consistent(ctx):
    _, by_route = routes(ctx)
    tree = load_spec()
    ops = spec_operations(tree)
    check(tree.get("components", "securitySchemes", "bearerAuth") is not None,
          "no components.securitySchemes.bearerAuth")
    op_ids = {}
    for (method, path), op in sorted(ops.items()):
        where = "%s %s (line %d)" % (method, path, op.lineno)
        route = by_route.get((method, path))
        if route is None:
            continue  # reported by the case above
        name = op.get("x-custos-route")
        check(name is not None and unquote(name.value) == route["name"],
              "%s: x-custos-route is %r, the router calls it %r" % (
                  where, name.value if name else None, route["name"]))
        for key in ("summary", "description", "operationId", "responses"):
            check(op.get(key) is not None, "%s has no %s" % (where, key))
        oid = op.get("operationId").value
        check(oid not in op_ids, "%s: operationId %s is also used by %s" % (
            where, oid, op_ids.get(oid)))
        op_ids[oid] = where
        # path parameters: exactly the template's, each declared in: path
        want = set(re.findall(r"\{([a-z_]+)\}", path))
        declared = set()
        params = op.get("parameters")
        for ref in REF_RE.findall(params.text()) if params else []:
            target = ref_target(tree, ref)
            check(target is not None, "%s: parameter $ref %s names nothing" % (where, ref))
            if target.get("in") and target.get("in").value == "path":
                declared.add(unquote(target.get("name").value))
        if params:
            for name_, in_ in re.findall(r"-\s+name:\s*(\S+)\s*\n\s+in:\s*(\S+)", params.text()):
                if in_ == "path":
                    declared.add(unquote(name_))
        eq(declared, want, "%s: path parameters declared" % where)
        # security: a route that touches personal data is never open
        sec = op.get("security")
        open_ = sec is not None and sec.value.replace(" ", "") == "[]"
        if route["personal"]:
            check(not open_, "%s touches personal data but is documented with security: []" % where)
            check(sec is None or "bearerAuth" in sec.text() or "cookieAuth" in sec.text(),
                  "%s touches personal data but names neither bearerAuth nor cookieAuth" % where)


@case("openapi: every operation documents a 4xx response with the problem+json schema")
def t_problem_responses(ctx):
    tree = load_spec()
    ops = spec_operations(tree)
    for (method, path), op in sorted(ops.items()):
        where = "%s %s (line %d)" % (method, path, op.lineno)
        responses = op.get("responses")
        check(responses is not None and responses.children, "%s has no responses" % where)
        found = []
        for status, resp in responses.children.items():
            check(re.match(r"^([1-5][0-9][0-9]|[1-5]XX|default)$", status),
                  "%s: response key %r is not a status" % (where, status))
            if not status.startswith("4"):
                continue
            body = resp
            for ref in REF_RE.findall(resp.text()):
                if ref.startswith("#/components/responses/"):
                    body = ref_target(tree, ref)
                    check(body is not None, "%s %s: $ref %s names nothing" % (where, status, ref))
            if PROBLEM_SCHEMA in body.text() and "application/problem+json" in body.text():
                found.append(status)
        check(found, "%s has no 4xx response with application/problem+json and %s" % (
            where, PROBLEM_SCHEMA))
    problem = tree.get("components", "schemas", "Problem")
    check(problem is not None, "no components.schemas.Problem")
    for key in ("type", "title", "status", "detail"):
        check(problem.get("properties", key) is not None, "Problem has no property %s" % key)


@case("openapi: every urn:custos:problem type of src/http/problem.c is in the spec, and no other")
def t_problem_types(ctx):
    in_code = set(URN_RE.findall(read(PROBLEM_C)))
    check(len(in_code) >= 10, "found only %d problem types in %s" % (len(in_code), PROBLEM_C))
    tree = load_spec()
    ptype = tree.get("components", "schemas", "ProblemType")
    check(ptype is not None and ptype.get("enum") is not None,
          "no components.schemas.ProblemType with an enum")
    enum = set(re.findall(r"^\s*-\s*(urn:custos:problem:[a-z0-9-]+)\s*$", ptype.get("enum").text(),
                          re.M))
    eq(sorted(enum), sorted(in_code), "ProblemType enum against src/http/problem.c")
    stale = sorted(set(URN_RE.findall(read(SPEC))) - in_code)
    check(not stale, "docs/openapi.yaml names problem types the code does not have: %s" % stale)
