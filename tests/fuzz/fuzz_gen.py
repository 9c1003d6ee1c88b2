"""A grammar-based generator of valid contract programs in the pycontract subset.

Each program is one contract function (no arguments) whose body is built from a typed grammar:
expressions know their type (int, bool, str, bytes, list of int, list of str, dict str->int,
tuple), so most programs run to a value and the rest fail with an ordinary Python exception,
which is just as useful to compare. The generator draws every choice from a ``Source``: one
backed by hypothesis (so a failing batch shrinks to a minimal program) and one backed by a
seeded ``random.Random`` (a fixed corpus, independent of hypothesis, for the cross-version file).

Two tables steer it, each entry with the construct it avoids, so that deleting the entry turns
the construct on again:

* ``DOCUMENTED_DEVIATIONS``: behaviour documented to differ from CPython (docs/language.md,
  docs/gas.md). Delete the entry when the deviation is removed from the engine.
* ``KNOWN_BUGS``: the user-reported mismatches of issue #13. Delete the entry when the bug is
  fixed (and flip its xfail in test_known_mismatches.py).
"""

from __future__ import annotations

import random

from pycontract.language import ALLOWED_BUILTINS, ALLOWED_EXCEPTIONS, ALLOWED_METHODS

#: documented deviations from CPython the generator avoids (name -> where documented, and how
#: the generator keeps clear of it). Delete an entry when the engine stops deviating.
DOCUMENTED_DEVIATIONS = {
    "dict_views_are_lists": "dict.keys()/values()/items() return lists; always wrapped in list()",
    "caught_exception_str": "str(e) of an exception the interpreter raised is the engine's "
                            "(key, attribute or type name), not CPython's version-dependent "
                            "text; never str(e)",
    "dict_args_canonical_order": "dict args arrive in canonical key order; programs take no args",
    "str_container_non_ascii": "str() of a container escapes non-ASCII; containers rendered by "
                               "str()/f-strings hold ASCII strings only",
    "unicode_ascii_only": "gas.md: case mapping, is*(), int() of text, whitespace split() and "
                          "strip() accept ASCII only; generated strings are ASCII",
    "no_floats": "language.md: no floats; int ** negative int (a float in CPython) is never "
                 "generated",
    "dict_result_key_order": "a returned dict crosses as canonical bytes (keys sorted), not in "
                             "insertion order; results compare dicts by their items (harness)",
}

#: user-reported mismatches (issue #13) the generator avoids in the normal profile so that it
#: looks for new ones; ``avoid=()`` in ``Gen`` turns them all back on (the fuzzer finds them).
KNOWN_BUGS: dict[str, str] = {}

ASCII_WORDS = ["", "a", "ab", "abc", "Hello", "x y", " pad ", "a,b,c", "0", "12", "-7", "ff",
               "AbC", "a-b", "10", "  ", "aXa", "\t1\n"]
UNI_WORDS = ["é", "ß", "Ǆ", "ﬁ", "ǅx", "İ", "Σσ", "٣"]  # case/digit edge cases of CPython
BYTES_LITS = ["b''", "b'a'", "b'ab'", "b'\\x00\\xff'", "b'a b'", "b'ff'", "b'\\xc3\\xa9'",
              "b'\\xff'"]
INT_LITS = [0, 1, 2, 3, -1, -2, 7, 10, 16, 255, 256, -128, 1000, 2**31, -(2**40), 2**63]
EXC_NAMES = sorted(ALLOWED_EXCEPTIONS)

T_INT, T_BOOL, T_STR, T_BYTES, T_LINT, T_LSTR, T_DICT, T_TUP = (
    "int", "bool", "str", "bytes", "lint", "lstr", "dict", "tup")
TYPES = [T_INT, T_BOOL, T_STR, T_BYTES, T_LINT, T_LSTR, T_DICT, T_TUP]
#: types whose values are storable as they are (a function may return them)
RETURNABLE = [T_INT, T_BOOL, T_STR, T_BYTES, T_LINT, T_LSTR, T_DICT]


class Source:
    """Where the generator's choices come from."""

    def int(self, lo: int, hi: int) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def choice(self, seq):
        return seq[self.int(0, len(seq) - 1)]

    def bool(self) -> bool:
        return self.int(0, 1) == 1


class RandomSource(Source):
    """A seeded source: the same seed gives the same programs on every interpreter."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def int(self, lo, hi):
        return self.r.randint(lo, hi)


class DataSource(Source):
    """A hypothesis ``data`` source: draws shrink toward the first alternative (lo)."""

    def __init__(self, data):
        import hypothesis.strategies as st

        self.data, self.st = data, st

    def int(self, lo, hi):
        return self.data.draw(self.st.integers(lo, hi))


class Gen:
    """Generates one function body at a time; ``avoid`` is the set of KNOWN_BUGS keys kept clear."""

    def __init__(self, src: Source, avoid=None, max_stmts: int = 6):
        self.s = src
        self.avoid = set(KNOWN_BUGS) if avoid is None else set(avoid)
        self.max_stmts = max_stmts
        self.used: set[str] = set()  # coverage: builtins, methods and node kinds produced

    # ------------------------------------------------------------------ helpers
    def _fresh(self, env, t):
        self.n += 1
        name = f"v{self.n}"
        env[name] = t
        return name

    def _var(self, env, t):
        names = [n for n, ty in env.items() if ty == t]
        return self.s.choice(names) if names else None

    def _u(self, *tags):
        self.used.update(tags)

    def _word(self, ascii_only=False):
        uni = "unicode_ascii_only" not in DOCUMENTED_DEVIATIONS and not ascii_only
        pool = UNI_WORDS if uni and self.s.int(0, 4) == 0 else ASCII_WORDS
        return repr(self.s.choice(pool))

    def lit(self, t, ascii_only=False):
        s = self.s
        if t == T_INT:
            return repr(s.choice(INT_LITS))
        if t == T_BOOL:
            return s.choice(["True", "False"])
        if t == T_STR:
            return self._word(ascii_only)
        if t == T_BYTES:  # b'\xc3\xa9' decodes to non-ASCII text
            return s.choice(BYTES_LITS if "unicode_ascii_only" not in DOCUMENTED_DEVIATIONS
                            else [b for b in BYTES_LITS if b != "b'\\xc3\\xa9'"])
        if t == T_LINT:
            return "[" + ", ".join(repr(s.choice(INT_LITS[:10])) for _ in range(s.int(0, 4))) + "]"
        if t == T_LSTR:
            return "[" + ", ".join(self._word(ascii_only) for _ in range(s.int(0, 3))) + "]"
        if t == T_DICT:
            return "{" + ", ".join(f"{self._word(True)}: {s.choice(INT_LITS[:8])}"
                                   for _ in range(s.int(0, 3))) + "}"
        if t == T_TUP:
            return f"({self.lit(T_INT)}, {self.lit(T_STR)})"
        raise AssertionError(t)

    # ------------------------------------------------------------------ expressions
    def expr(self, t, env, d):
        s = self.s
        if d <= 0 or s.int(0, 3) == 0:
            v = self._var(env, t)
            if v is not None and s.bool():
                return v
            return self.lit(t)
        prods = getattr(self, "e_" + t)(env, d - 1)
        return s.choice(prods)()

    def e_int(self, env, d):
        s, E = self.s, self.expr

        def binop():
            op = s.choice(["+", "-", "*", "//", "%", "&", "|", "^"])
            self._u("BinOp" + op)
            return f"({E(T_INT, env, d)} {op} {E(T_INT, env, d)})"

        def small_rhs():
            op = s.choice(["**", "<<", ">>"])
            self._u("BinOp" + op)
            # no negative exponent: DOCUMENTED_DEVIATIONS["no_floats"]
            lo = 0 if op == "**" and "no_floats" in DOCUMENTED_DEVIATIONS else -1
            return f"({E(T_INT, env, d)} {op} {s.int(lo, 5)})"

        def unary():
            op = s.choice(["-", "+", "~"])
            self._u("UnaryOp" + op)
            return f"({op}{E(T_INT, env, d)})"

        def length():
            t = s.choice([T_STR, T_BYTES, T_LINT, T_LSTR, T_DICT, T_TUP])
            self._u("len")
            return f"len({E(t, env, d)})"

        def builtin1():
            f = s.choice(["abs", "int", "sum", "max", "min"])
            self._u(f)
            if f == "abs":
                return f"abs({E(T_INT, env, d)})"
            if f == "int":
                k = s.int(0, 3)
                if k == 0:
                    return f"int({E(T_STR, env, d)})"
                if k == 1:
                    return f"int({E(T_BOOL, env, d)})"
                if k == 2:
                    return f"int({E(T_STR, env, d)}, {s.choice([0, 2, 8, 16, 36])})"
                return f"int({E(T_INT, env, d)})"
            if f == "sum":
                return f"sum({E(T_LINT, env, d)})" if s.bool() else \
                    f"sum({E(T_LINT, env, d)}, {E(T_INT, env, d)})"
            k = s.int(0, 2)
            if k == 0:
                return f"{f}({E(T_LINT, env, d)})"
            if k == 1:
                return f"{f}({E(T_INT, env, d)}, {E(T_INT, env, d)})"
            return f"{f}({E(T_LINT, env, d)}, default={E(T_INT, env, d)})"

        def powdiv():
            k = s.int(0, 2)
            if k == 0:
                self._u("pow")
                return f"pow({E(T_INT, env, d)}, {s.int(0, 4)})"
            if k == 1:
                self._u("pow")
                return f"pow({E(T_INT, env, d)}, {s.int(-1, 9)}, {E(T_INT, env, d)})"
            self._u("divmod")
            return f"divmod({E(T_INT, env, d)}, {E(T_INT, env, d)})[{s.int(0, 1)}]"

        def ordchr():
            self._u("ord")
            return f"ord({E(T_STR, env, d)})" if s.bool() else f"ord({E(T_STR, env, d)}[0])"

        def str_meth():
            m = s.choice(["count", "find", "index", "rfind", "rindex"])
            self._u("str." + m)
            return f"{E(T_STR, env, d)}.{m}({E(T_STR, env, d)})"

        def bytes_meth():
            m = s.choice(["count", "find", "index", "rfind", "rindex"])
            self._u("bytes." + m)
            return f"{E(T_BYTES, env, d)}.{m}({E(T_BYTES, env, d)})"

        def int_meth():
            if s.bool():
                self._u("int.bit_length")
                return f"({E(T_INT, env, d)}).bit_length()"
            self._u("int.from_bytes")
            return (f"int.from_bytes({E(T_BYTES, env, d)}, {s.choice(['big', 'little'])!r}, "
                    f"signed={s.choice(['True', 'False'])})")

        def list_meth():
            m = s.choice(["count", "index", "pop"])
            self._u("list." + m)
            xs = self._var(env, T_LINT) or E(T_LINT, env, d)
            if m == "pop":
                return f"{xs}.pop()" if s.bool() else f"{xs}.pop({E(T_INT, env, d)})"
            return f"{xs}.{m}({E(T_INT, env, d)})"

        def tuple_meth():
            m = s.choice(["count", "index"])
            self._u("tuple." + m, "tuple")
            return f"tuple({E(T_LINT, env, d)}).{m}({E(T_INT, env, d)})"

        def dict_meth():
            m = s.choice(["get", "pop", "setdefault"])
            self._u("dict." + m)
            dv = self._var(env, T_DICT) or E(T_DICT, env, d)
            if m == "get" and s.bool():
                return f"({dv}.get({E(T_STR, env, d)}) or 0)"
            return f"{dv}.{m}({E(T_STR, env, d)}, {E(T_INT, env, d)})"

        def subscript():
            k = s.int(0, 3)
            self._u("Subscript")
            if k == 0:
                return f"{E(T_LINT, env, d)}[{E(T_INT, env, d)}]"
            if k == 1:
                return f"{E(T_DICT, env, d)}[{E(T_STR, env, d)}]"
            if k == 2:
                return f"{E(T_TUP, env, d)}[0]"
            return f"{E(T_BYTES, env, d)}[{E(T_INT, env, d)}]"

        def ifexp():
            self._u("IfExp")
            return f"({E(T_INT, env, d)} if {E(T_BOOL, env, d)} else {E(T_INT, env, d)})"

        def genexp():
            self._u("GeneratorExp", "sum")
            x = f"g{self.s.int(0, 9)}"
            inner = dict(env)
            inner[x] = T_INT
            return (f"sum({E(T_INT, inner, d)} for {x} in {E(T_LINT, env, d)} "
                    f"if {E(T_BOOL, inner, d)})")

        def storage():
            self._u("Map.get", "Map[]")
            key = f"({self.fid!r}, {self._word(True)})"
            return f"m[{key}]" if s.bool() else f"m.get({key}, {E(T_INT, env, d)})"

        def value_get():
            self._u("Value.get")
            return f"(box_{self.fid}.get() or 0)"

        def keyed_extreme():
            f = s.choice(["max", "min"])
            self._u(f, "key=")
            xs = E(T_LINT, env, d)
            if "sort_key_one_element" in self.avoid:
                xs = f"({xs} + [0, 1])"
            return f"{f}({xs}, key={self.keyfunc(env, d)})"

        def recursion():
            self._u("FunctionDef-recursive")
            self.n += 1
            r = f"r{self.n}"
            self.pre.append(f"def {r}(n):\n    return 0 if n <= 0 else n % 7 + {r}(n - 1)")
            return f"{r}({s.choice([0, 3, 40, 200])})"

        def tuple_key():
            self._u("Tuple-key")
            k = f"({E(T_INT, env, d)}, {E(T_STR, env, d)})"
            if s.bool():
                return f"{{{k}: {E(T_INT, env, d)}}}[{k}]"
            return f"len({{(x, x): x for x in {E(T_LINT, env, d)}}})"

        prods = [binop, small_rhs, unary, length, builtin1, powdiv, ordchr, str_meth, bytes_meth,
                 int_meth, list_meth, tuple_meth, dict_meth, subscript, ifexp, genexp, storage,
                 value_get, keyed_extreme, recursion]
        return prods + ([tuple_key] if "tuple_dict_keys" not in self.avoid else [])

    def e_bool(self, env, d):
        s, E = self.s, self.expr

        def compare():
            t = s.choice([T_INT, T_INT, T_STR, T_BYTES, T_LINT, T_BOOL])
            ops = ["==", "!=", "<", "<=", ">", ">="]
            op = s.choice(ops)
            self._u("Compare" + op)
            if t == T_INT and s.int(0, 3) == 0:  # a chain
                return f"({E(t, env, d)} {op} {E(t, env, d)} {s.choice(ops)} {E(t, env, d)})"
            return f"({E(t, env, d)} {op} {E(t, env, d)})"

        def boolop():
            op = s.choice(["and", "or"])
            self._u("BoolOp" + op)
            return f"({E(T_BOOL, env, d)} {op} {E(T_BOOL, env, d)})"

        def notop():
            self._u("UnaryOp not")
            return f"(not {E(s.choice([T_BOOL, T_INT, T_STR, T_LINT]), env, d)})"

        def contains():
            k = s.int(0, 4)
            neg = s.choice(["in", "not in"])
            self._u("Compare " + neg)
            if k == 0:
                return f"({E(T_INT, env, d)} {neg} {E(T_LINT, env, d)})"
            if k == 1:
                return f"({E(T_STR, env, d)} {neg} {E(T_DICT, env, d)})"
            if k == 2:
                return f"({E(T_STR, env, d)} {neg} {E(T_STR, env, d)})"
            if k == 3:
                return f"({E(T_BYTES, env, d)} {neg} {E(T_BYTES, env, d)})"
            self._u("range")
            if "range_contains_int" not in DOCUMENTED_DEVIATIONS and s.int(0, 3) == 0:
                # a small range: CPython scans it for a non-int (the engine does not)
                return f"({E(T_STR, env, d)} {neg} range({s.int(-1, 5)}))"
            return f"({E(T_INT, env, d)} {neg} range({E(T_INT, env, d)}))"

        def builtin():
            f = s.choice(["all", "any", "bool", "isinstance"])
            self._u(f)
            if f in ("all", "any"):
                return f"{f}({E(s.choice([T_LINT, T_LSTR]), env, d)})"
            if f == "bool":
                return f"bool({E(s.choice(TYPES), env, d)})"
            t = s.choice(TYPES)
            cls = s.choice(["int", "str", "bytes", "bool", "list", "dict", "tuple",
                            "(int, str)"])
            return f"isinstance({E(t, env, d)}, {cls})"

        def str_pred():
            m = s.choice(["isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower",
                          "isspace", "isupper", "startswith", "endswith"])
            self._u("str." + m)
            if m in ("startswith", "endswith"):
                return f"{E(T_STR, env, d)}.{m}({E(T_STR, env, d)})"
            return f"{E(T_STR, env, d)}.{m}()"

        def bytes_pred():
            m = s.choice(["startswith", "endswith"])
            self._u("bytes." + m)
            return f"{E(T_BYTES, env, d)}.{m}({E(T_BYTES, env, d)})"

        def is_none():
            self._u("Compare is")
            return f"({E(T_DICT, env, d)}.get({E(T_STR, env, d)}) is {s.choice(['None', 'not None'])})"

        def storage():
            self._u("Map.contains")
            return f"m.contains(({self.fid!r}, {self._word(True)}))"

        return [compare, boolop, notop, contains, builtin, str_pred, bytes_pred, is_none,
                storage]

    def e_str(self, env, d):
        s, E = self.s, self.expr

        def concat():
            self._u("BinOp+str")
            return f"({E(T_STR, env, d)} + {E(T_STR, env, d)})"

        def repeat():
            self._u("BinOp*str")
            return f"({E(T_STR, env, d)} * {s.int(-1, 3)})"

        def sl():
            self._u("Slice")
            a, b = s.choice(["", "1", "-1", "2"]), s.choice(["", "3", "-2", "0"])
            step = s.choice(["", "", ":-1", ":2"])
            return f"{E(T_STR, env, d)}[{a}:{b}{step}]"

        def index():
            self._u("Subscript")
            return f"{E(T_STR, env, d)}[{E(T_INT, env, d)}]"

        def conv():
            f = s.choice(["str", "chr", "hex", "bin", "oct"])
            self._u(f)
            if f == "chr" and "unicode_ascii_only" in DOCUMENTED_DEVIATIONS:
                return f"chr({E(T_INT, env, d)} % 128)"
            if f == "str":
                t = s.choice([T_INT, T_BOOL, T_STR, T_LINT, T_DICT])
                # containers: ASCII only (DOCUMENTED_DEVIATIONS["str_container_non_ascii"])
                return f"str({self.ascii_expr(t, env, d)})"
            return f"{f}({E(T_INT, env, d)})"

        def fstring():
            self._u("JoinedStr")
            parts = []
            for _ in range(s.int(1, 3)):
                k = s.int(0, 3)
                if k == 0:
                    parts.append(s.choice(["x", "=", " ", "{{", "}}", "-"]))
                elif k == 1:
                    t = s.choice(TYPES[:2] + [T_LINT])
                    parts.append("{" + self.field(self.ascii_expr(t, env, d), t) + "}")
                elif k == 2:
                    t = s.choice([T_INT, T_STR])
                    parts.append("{" + self.field(E(t, env, d), t) + ":" + self.fmt_spec(t)
                                 + "}")
                else:  # a nested width
                    self._u("JoinedStr-nested")
                    t = s.choice([T_INT, T_STR])
                    w = s.int(0, 6)
                    if w == 0 and t == T_STR and "format_zero_flag" in self.avoid:
                        w = 3
                    parts.append("{" + self.field(E(t, env, d), t) + ":" + s.choice(["<", ">", "^", ""])
                                 + "{" + str(w) + "}}")
            return "f'" + "".join(parts) + "'"

        def meth0():
            m = s.choice(["capitalize", "lower", "upper", "title", "strip", "lstrip", "rstrip",
                          "casefold", "swapcase", "expandtabs"])
            self._u("str." + m)
            if m == "expandtabs" and s.bool():
                return f"{E(T_STR, env, d)}.expandtabs({s.int(-1, 9)})"
            if m.endswith("strip") and s.bool():
                return f"{E(T_STR, env, d)}.{m}({E(T_STR, env, d)})"
            return f"{E(T_STR, env, d)}.{m}()"

        def meth_pad():
            m = s.choice(["center", "ljust", "rjust", "zfill"])
            self._u("str." + m)
            w = s.int(-2, 12)
            if m == "zfill" or s.bool():
                return f"{E(T_STR, env, d)}.{m}({w})"
            return f"{E(T_STR, env, d)}.{m}({w}, {s.choice(['*', '-', ' ', 'ab'])!r})"

        def meth2():
            m = s.choice(["replace", "removeprefix", "removesuffix", "join"])
            self._u("str." + m)
            if m == "replace":
                extra = f", {s.int(-1, 2)}" if s.bool() else ""
                return f"{E(T_STR, env, d)}.replace({E(T_STR, env, d)}, {E(T_STR, env, d)}{extra})"
            if m == "join":
                return f"{E(T_STR, env, d)}.join({E(T_LSTR, env, d)})"
            return f"{E(T_STR, env, d)}.{m}({E(T_STR, env, d)})"

        def parts():
            m = s.choice(["partition", "rpartition"])
            self._u("str." + m)
            return f"{E(T_STR, env, d)}.{m}({E(T_STR, env, d)})[{s.int(0, 2)}]"

        def decode():
            self._u("bytes.decode", "bytes.hex")
            if s.bool():
                return f"{E(T_BYTES, env, d)}.hex()"
            return f"{E(T_BYTES, env, d)}.decode()"

        def ifexp():
            self._u("IfExp")
            return f"({E(T_STR, env, d)} if {E(T_BOOL, env, d)} else {E(T_STR, env, d)})"

        def percent():
            self._u("BinOp%str")
            k = s.int(0, 3)
            if k == 0:
                return f"({s.choice(['%s-%d', '%5s|%-4d', '%-3s%x', '%s%X%%'])!r} % ({E(T_STR, env, d)}, {E(T_INT, env, d)}))"
            if k == 1:
                return f"({s.choice(['%(a)s', '%(a)d!', '%(b)05d'])!r} % {E(T_DICT, env, d)})"
            if k == 2:
                w = s.int(-3, 6)
                if w == 0 and "percent_star_zero_width" in self.avoid:
                    w = 1
                return f"({s.choice(['%*d', '%-*s', '%*s'])!r} % ({w}, {E(s.choice([T_INT, T_STR]), env, d)}))"
            return f"({s.choice(['%i', '%o', '%u', '%s'])!r} % {E(T_INT, env, d)})"

        def context():
            self._u("ctx.sender")
            return "ctx.sender"

        return [concat, repeat, sl, index, conv, fstring, meth0, meth_pad, meth2, parts, decode,
                ifexp, percent, context]

    def field(self, e, t):
        """An f-string field in the 3.11 grammar: no backslash, no quote, no nested f-string
        (``'`` becomes ``"``); otherwise a literal of the same type."""
        if "\\" in e or '"' in e or "f'" in e or "#" in e:
            return {T_INT: "7", T_BOOL: "True", T_LINT: "[1, 2]", T_STR: '"ab"'}[t]
        e = e.replace("'", '"')
        return " " + e if e.startswith("{") else e  # '{{' would be a literal brace

    def fmt_spec(self, t):
        s = self.s
        zero_ok = "format_zero_flag" not in self.avoid
        align = s.choice(["", "<", ">", "^"] + (["=" if t == T_INT else ">"]))
        fill = s.choice(["", "*", "-"]) if align else ""
        sign = s.choice(["", "+", " ", "-"]) if t == T_INT else ""
        zero = "0" if (zero_ok or t == T_INT) and s.int(0, 3) == 0 else ""
        width = str(s.int(1, 9)) if s.bool() else ""
        if zero and not width and t == T_STR:
            width = "0" if s.bool() else "5"
        if t == T_STR and zero and not zero_ok:
            zero = ""
        typ = s.choice(["", "d", "x", "X", "b", "o", ","]) if t == T_INT else s.choice(["", "s"])
        alt = "#" if t == T_INT and typ in "xXbo" and typ and s.bool() else ""
        prec = f".{s.int(0, 3)}" if t == T_STR and s.int(0, 3) == 0 else ""
        if typ == "," and t == T_INT:
            return f"{fill}{align}{sign}{width},"
        return f"{fill}{align}{sign}{alt}{zero}{width}{prec}{typ}"

    def ascii_expr(self, t, env, d):
        """An expression whose str() is the same in both worlds (ASCII strings only)."""
        if t in (T_LINT, T_INT, T_BOOL):
            return self.expr(t, env, d)
        return self.lit(t, ascii_only=True)

    def e_bytes(self, env, d):
        s, E = self.s, self.expr

        def concat():
            self._u("BinOp+bytes")
            return f"({E(T_BYTES, env, d)} + {E(T_BYTES, env, d)})"

        def sl():
            self._u("Slice")
            return f"{E(T_BYTES, env, d)}[{s.choice(['', '1', '-1'])}:{s.choice(['', '2', '-1'])}]"

        def conv():
            k = s.int(0, 4)
            if k == 0:
                self._u("bytes")
                return f"bytes({E(T_LINT, env, d)})"
            if k == 1:
                self._u("bytes")
                return f"bytes({s.int(-1, 4)})"
            if k == 2:
                self._u("str.encode")
                return f"{E(T_STR, env, d)}.encode()"
            if k == 3:
                self._u("int.to_bytes")
                return (f"({E(T_INT, env, d)}).to_bytes({s.int(0, 9)}, "
                        f"{s.choice(['big', 'little'])!r}, signed={s.choice(['True', 'False'])})")
            self._u("bytes.fromhex")
            return f"bytes.fromhex({E(T_STR, env, d)})"

        def meth():
            m = s.choice(["replace", "strip", "lstrip", "rstrip", "removeprefix",
                          "removesuffix", "join"])
            self._u("bytes." + m)
            if m == "replace":
                return f"{E(T_BYTES, env, d)}.replace({E(T_BYTES, env, d)}, {E(T_BYTES, env, d)})"
            if m == "join":
                return f"{E(T_BYTES, env, d)}.join([{E(T_BYTES, env, d)}, {E(T_BYTES, env, d)}])"
            if m.endswith("strip") and s.bool():
                return f"{E(T_BYTES, env, d)}.{m}()"
            return f"{E(T_BYTES, env, d)}.{m}({E(T_BYTES, env, d)})"

        def split():
            self._u("bytes.split")
            return f"{E(T_BYTES, env, d)}.split({E(T_BYTES, env, d)})[{s.int(-1, 1)}]"

        return [concat, sl, conv, meth, split]

    def keyfunc(self, env, d, exclude=None):
        """An inner def used as a key / map / filter function (it may raise); ``exclude``: a
        name it must not read."""
        self.n += 1
        name = f"k{self.n}"
        inner = {k: v for k, v in env.items() if k != exclude}
        inner["x"] = T_INT
        self._u("FunctionDef", "Return")
        body = self.expr(T_INT, inner, min(d, 2))
        self.pre.append(f"def {name}(x):\n    return {body}")
        return name

    def e_lint(self, env, d):
        s, E = self.s, self.expr

        def comp():
            self._u("ListComp", "range")
            x = f"c{self.s.int(0, 9)}"
            inner = dict(env)
            inner[x] = T_INT
            cond = f" if {E(T_BOOL, inner, d)}" if s.bool() else ""
            rng = f"range({s.int(-1, 4)})" if s.bool() else \
                f"range({s.int(-2, 2)}, {s.int(-2, 5)}, {s.choice([1, 2, -1, 0])})"
            return f"[{E(T_INT, inner, d)} for {x} in {rng}{cond}]"

        def rng():
            self._u("range", "list")
            return f"list(range({s.int(-3, 3)}, {s.int(-3, 6)}))"

        def srt():
            self._u("sorted")
            extra = ""
            if s.bool():
                extra += f", key={self.keyfunc(env, d)}"
            if s.bool():
                extra += f", reverse={s.choice(['True', 'False'])}"
            xs = E(T_LINT, env, d)
            if "sort_key_one_element" in self.avoid and "key=" in extra:
                xs = f"({xs} + [0, 1])"  # never one element (KNOWN_BUGS)
            return f"sorted({xs}{extra})"

        def rev():
            self._u("reversed", "list")
            return f"list(reversed({E(T_LINT, env, d)}))"

        def arith():
            if s.bool():
                self._u("BinOp+list")
                return f"({E(T_LINT, env, d)} + {E(T_LINT, env, d)})"
            self._u("BinOp*list")
            return f"({E(T_LINT, env, d)} * {s.int(-1, 3)})"

        def sl():
            self._u("Slice")
            step = s.choice(["", "", ":-1", ":2", ":0"])
            return f"{E(T_LINT, env, d)}[{s.choice(['', '1', '-2'])}:{s.choice(['', '3', '-1'])}{step}]"

        def mapfilter():
            if s.bool():
                self._u("map", "list")
                return f"list(map({self.keyfunc(env, d)}, {E(T_LINT, env, d)}))"
            self._u("filter", "list")
            f = "None" if s.bool() else self.keyfunc(env, d)
            return f"list(filter({f}, {E(T_LINT, env, d)}))"

        def zipenum():
            if s.bool():
                self._u("zip", "ListComp", "Tuple-unpack")
                return (f"[a - b for a, b in zip({E(T_LINT, env, d)}, {E(T_LINT, env, d)})]")
            self._u("enumerate", "ListComp")
            start = f", {s.int(-1, 3)}" if s.bool() else ""
            return f"[i * x for i, x in enumerate({E(T_LINT, env, d)}{start})]"

        def misc():
            k = s.int(0, 4)
            if k == 0:
                self._u("dict.values", "list")
                return f"list({E(T_DICT, env, d)}.values())"
            if k == 1:
                self._u("list")
                return f"list({E(T_BYTES, env, d)})"
            if k == 2:
                self._u("list.copy")
                return f"{E(T_LINT, env, d)}.copy()"
            if k == 3:
                self._u("divmod", "list")
                return f"list(divmod({E(T_INT, env, d)}, {E(T_INT, env, d)}))"
            self._u("Starred")
            return f"[*{E(T_LINT, env, d)}, {E(T_INT, env, d)}]"

        return [comp, rng, srt, rev, arith, sl, mapfilter, zipenum, misc]

    def e_lstr(self, env, d):
        s, E = self.s, self.expr

        def split():
            m = s.choice(["split", "rsplit", "splitlines"])
            self._u("str." + m)
            if m == "splitlines":
                return f"{E(T_STR, env, d)}.splitlines({s.choice(['', 'True', 'False'])})"
            k = s.int(0, 2)
            if k == 0:
                return f"{E(T_STR, env, d)}.{m}()"
            if k == 1:
                return f"{E(T_STR, env, d)}.{m}({E(T_STR, env, d)})"
            return f"{E(T_STR, env, d)}.{m}({E(T_STR, env, d)}, {s.int(-1, 2)})"

        def keys():
            self._u("dict.keys", "list")
            return f"list({E(T_DICT, env, d)}.keys())"

        def srt():
            self._u("sorted")
            return f"sorted({E(T_LSTR, env, d)}, reverse={s.choice(['True', 'False'])})"

        def conv():
            if s.bool():
                self._u("map", "str", "list")
                return f"list(map(str, {E(T_LINT, env, d)}))"
            self._u("list")
            return f"list({E(T_STR, env, d)})"

        def items():
            self._u("dict.items", "list", "Tuple-unpack")
            return f"[k + str(v) for k, v in list({E(T_DICT, env, d)}.items())]"

        return [split, keys, srt, conv, items]

    def e_dict(self, env, d):
        s, E = self.s, self.expr

        def comp():
            self._u("DictComp", "zip")
            return f"{{k: v for k, v in zip({E(T_LSTR, env, d)}, {E(T_LINT, env, d)})}}"

        def dzip():
            self._u("dict", "zip")
            return f"dict(zip({E(T_LSTR, env, d)}, {E(T_LINT, env, d)}))"

        def kw():
            self._u("dict")
            return f"dict(a={E(T_INT, env, d)}, b={E(T_INT, env, d)})"

        def copy():
            self._u("dict.copy")
            return f"{E(T_DICT, env, d)}.copy()"

        def merge():
            self._u("Dict-unpack")
            return f"{{**{E(T_DICT, env, d)}, {self._word(True)}: {E(T_INT, env, d)}}}"

        return [comp, dzip, kw, copy, merge]

    def e_tup(self, env, d):
        s, E = self.s, self.expr

        def pair():
            self._u("Tuple")
            return f"({E(T_INT, env, d)}, {E(T_STR, env, d)})"

        def part():
            self._u("str.partition", "tuple")
            return f"(len({E(T_STR, env, d)}), {E(T_STR, env, d)}.partition('a')[2])"

        return [pair, part]

    # ------------------------------------------------------------------ statements
    def block(self, env, depth, n):
        out = []
        for _ in range(n):
            out.extend(self.stmt(env, depth))
        return out or ["pass"]

    def stmt(self, env, depth):
        s, E = self.s, self.expr
        if "sort_list_in_key" not in self.avoid and self._var(env, T_LINT) and s.int(0, 5) == 0:
            v = self._var(env, T_LINT)  # finder mode: a sort key that reads the sorted list
            self.n += 1
            self.pre.append(f"def k{self.n}(x):\n    return x * len({v})")
            return [f"{v}.sort(key=k{self.n})"]
        k = s.int(0, 17 if depth < 2 else 11)
        d = 3
        ind = lambda lines: ["    " + ln for ln in lines]  # noqa: E731
        if k <= 2:  # new variable
            t = s.choice(TYPES)
            e = E(t, env, d)
            self._u("Assign")
            return [f"{self._fresh(env, t)} = {e}"]
        if k == 3:
            v = self._var(env, T_INT)
            if v is None:
                e = E(T_INT, env, d)
                return [f"{self._fresh(env, T_INT)} = {e}"]
            op = s.choice(["+=", "-=", "*=", "//=", "%=", "|=", "&=", "^=", ">>="])
            self._u("AugAssign" + op)
            return [f"{v} {op} {E(T_INT, env, d)}"]
        if k == 4:  # list mutation
            v = self._var(env, T_LINT)
            if v is None:
                e = E(T_LINT, env, d)
                return [f"{self._fresh(env, T_LINT)} = {e}"]
            m = s.choice(["append", "extend", "insert", "remove", "reverse", "sort", "clear",
                          "setitem", "del", "augitem", "slice_del"])
            self._u("list." + m)
            if m == "append":
                return [f"{v}.append({E(T_INT, env, d)})"]
            if m == "extend":
                return [f"{v}.extend({E(T_LINT, env, d)})"]
            if m == "insert":
                return [f"{v}.insert({E(T_INT, env, d)}, {E(T_INT, env, d)})"]
            if m == "remove":
                return [f"{v}.remove({E(T_INT, env, d)})"]
            if m == "sort":
                if s.bool():
                    guard = (["if len(" + v + ") == 1:", f"    {v}.append(0)"]
                             if "sort_key_one_element" in self.avoid else [])
                    ex = v if "sort_list_in_key" in self.avoid else None
                    kf = self.keyfunc(env, d, exclude=ex)
                    if ex is None and s.bool():  # a key that reads the list being sorted
                        self.pre[-1] = f"def {kf}(x):\n    return x * len({v})"
                    return guard + [f"{v}.sort(key={kf}, "
                                    f"reverse={s.choice(['True', 'False'])})"]
                return [f"{v}.sort()"]
            if m in ("reverse", "clear"):
                return [f"{v}.{m}()"]
            if m == "setitem" and s.bool():
                self._u("Slice-store")
                return [f"{v}[{s.int(-2, 1)}:{s.int(-1, 3)}] = {E(T_LINT, env, d)}"]
            if m == "setitem":
                self._u("Subscript-store")
                return [f"{v}[{E(T_INT, env, d)}] = {E(T_INT, env, d)}"]
            if m == "del":
                self._u("Delete")
                return [f"del {v}[{E(T_INT, env, d)}]"]
            if m == "slice_del":
                self._u("Delete", "Slice")
                return [f"del {v}[{s.int(-2, 1)}:{s.int(-1, 3)}]"]
            val = (self.lit(T_INT) if "augassign_subscript_order" in DOCUMENTED_DEVIATIONS
                   else E(T_INT, env, d))
            return [f"{v}[{E(T_INT, env, d)}] {s.choice(['+=', '-=', '*='])} {val}"]
        if k == 5:  # dict mutation
            v = self._var(env, T_DICT)
            if v is None:
                e = E(T_DICT, env, d)
                return [f"{self._fresh(env, T_DICT)} = {e}"]
            m = s.choice(["set", "del", "update", "clear", "popitem", "aug", "tuplekey"])
            self._u("dict." + m)
            if m == "set":
                return [f"{v}[{E(T_STR, env, d)}] = {E(T_INT, env, d)}"]
            if m == "del":
                return [f"del {v}[{E(T_STR, env, d)}]"]
            if m == "update":
                return [f"{v}.update({E(T_DICT, env, d)})"]
            if m == "clear":
                return [f"{v}.clear()"]
            if m == "popitem":
                return [f"{self._fresh(env, T_TUP)} = ({v}.popitem()[1], 'p')"]  # noqa
            if m == "tuplekey" and "tuple_dict_keys" not in self.avoid:
                e = f"len({{({E(T_INT, env, d)}, {E(T_STR, env, d)}): 1}})"
                return [f"{self._fresh(env, T_INT)} = {e}"]
            return [f"{v}[{E(T_STR, env, d)}] += {self.lit(T_INT)}"]
        if k == 6:
            c = s.choice(["assert", "require", "raise", "emit", "store", "unpack", "revert",
                          "annassign", "dictiter"])
            self._u(c)
            if c == "revert":
                return [f"if {E(T_BOOL, env, d)}:", "    revert('reverted here')"]
            if c == "annassign":
                e = E(T_INT, env, d)
                return [f"{self._fresh(env, T_INT)}: int = {e}"]
            if c == "dictiter":
                it = E(T_DICT, env, d)
                acc = self._fresh(env, T_LSTR)
                return [f"{acc} = []", f"for k in {it}:", f"    {acc}.append(k)"]
            if c == "assert":
                return [f"assert {E(T_BOOL, env, d)}, 'assert failed'"]
            if c == "require":
                return [f"require({E(T_BOOL, env, d)}, 'require failed')"]
            if c == "raise":
                return [f"if {E(T_BOOL, env, d)}:",
                        f"    raise {s.choice(EXC_NAMES)}('boom')"]
            if c == "emit":
                return [f"emit('Ev', a={E(T_INT, env, d)}, b={E(T_STR, env, d)})"]
            if c == "store":
                key = f"({self.fid!r}, {self._word(True)})"
                if s.bool():
                    self._u("Value.set")
                    return [f"box_{self.fid}.set({E(T_INT, env, d)})"]
                op = s.choice(["=", "+="])
                return [f"m[{key}] {op} {E(T_INT, env, d)}"]
            e = f"divmod({E(T_INT, env, d)}, {E(T_INT, env, d)})"
            a, b = self._fresh(env, T_INT), self._fresh(env, T_INT)
            return [f"{a}, {b} = {e}"]
        if k <= 11:
            t = s.choice(TYPES)
            self._u("Assign")
            e = E(t, env, d)
            return [f"{self._fresh(env, t)} = {e}"]
        # compound statements (nesting depth < 2)
        if k <= 13:
            self._u("If")
            out = [f"if {E(T_BOOL, env, d)}:"] + ind(self.block(dict(env), depth + 1, s.int(1, 2)))
            if s.bool():
                out += ["else:"] + ind(self.block(dict(env), depth + 1, s.int(1, 2)))
            return out
        if k == 14:
            self._u("For")
            it = E(T_LINT, env, d)
            x = self._fresh(env, T_INT)
            inner = dict(env)
            before = dict(env)
            body = self.block(inner, depth + 1, s.int(1, 2))
            if s.bool():
                self._u("Break" if s.bool() else "Continue")
                # the guard runs first: with the body's names it may read one before it is
                # bound (on the first iteration)
                names = before if "unbound_local_class" in self.avoid else inner
                body = [f"if {E(T_BOOL, names, 2)}:", f"    {s.choice(['break', 'continue'])}"] + body
            out = [f"for {x} in {it}[:3]:"] + ind(body)
            if s.bool():
                self._u("For-else")
                out += ["else:"] + ind(self.block(dict(env), depth + 1, 1))
            return out
        if k == 15:
            self._u("While")
            self.n += 1
            i = f"w{self.n}"  # not in env: the body cannot change the loop counter
            body = [f"{i} += 1"] + self.block(dict(env), depth + 1, s.int(1, 2))
            out = [f"{i} = 0", f"while {i} < {s.int(0, 3)}:"] + ind(body)
            if s.bool():
                out += ["else:"] + ind(self.block(dict(env), depth + 1, 1))
            return out
        # try
        self._u("Try")
        excs = s.choice(EXC_NAMES)
        if s.bool():
            excs = f"({excs}, {s.choice(EXC_NAMES)})"
        out = ["try:"] + ind(self.block(dict(env), depth + 1, s.int(1, 3)))
        marker = self._fresh(env, T_INT)
        out = [f"{marker} = 0"] + out
        if s.bool():
            # never str(e): DOCUMENTED_DEVIATIONS["caught_exception_str"]
            out += [f"except {excs} as e:", f"    {marker} = 1 + int(isinstance(e, ValueError))"]
        else:
            out += [f"except {excs}:", f"    {marker} = 2"]
        if s.bool():
            self._u("Try-else")
            out += ["else:", f"    {marker} = 3"]
        if s.bool():
            self._u("Try-finally")
            out += ["finally:", f"    {marker} += 10"]
        return out

    # ------------------------------------------------------------------ programs
    def function(self, fid: str) -> str:
        """One contract function ``fid`` (public, no arguments) as source text."""
        self.n, self.fid, self.pre = 0, fid, []
        env: dict[str, str] = {}
        body = self.block(env, 0, self.s.int(1, self.max_stmts))
        rt = self.s.choice(RETURNABLE + ([T_TUP] if "tuple_result" not in self.avoid else []))
        ret = self.expr(rt, env, 3)
        if rt in (T_LINT, T_DICT) and "tuple_result" not in self.avoid and self.s.int(0, 3) == 0:
            ret = f"[{ret}, {self.expr(T_TUP, env, 2)}]"
        lines = [f"@public", f"def {fid}():"]
        lines += ["    " + ln for blk in self.pre for ln in blk.split("\n")]
        lines += ["    " + ln for ln in body] + [f"    return {ret}"]
        return "\n".join(lines)


HEADER = ("from pycontract import public, view, Map, Value, ctx, require, revert, emit\n\n"
          "m = Map(default=0)\n")


def module(functions: list[str]) -> str:
    """A contract module holding the given function sources (each ``@public\ndef NAME():``);
    every function has its own ``box_NAME`` Value and its own Map keys, so a call that reverts
    in the engine (writes undone) but not in plain Python cannot change what another reads."""
    names = [f.split("def ", 1)[1].split("(", 1)[0] for f in functions]
    boxes = "".join(f"box_{n} = Value(default=None)\n" for n in names)
    return HEADER + boxes + "\n" + "\n\n".join(functions) + "\n"


def corpus(seed: int, n: int, avoid=None) -> list[str]:
    """``n`` function sources named f0..f{n-1}, the same for the same seed everywhere."""
    g = Gen(RandomSource(seed), avoid=avoid)
    return [g.function(f"f{i}") for i in range(n)]


def coverage_targets() -> set[str]:
    """What the grammar must reach: every allowed builtin (bar the constants) and method."""
    want = {b for b in ALLOWED_BUILTINS if b not in ("True", "False", "None")}
    for typ, ms in ALLOWED_METHODS.items():
        if typ in ("str", "bytes", "int", "list", "tuple", "dict"):
            want |= {f"{typ}.{m}" for m in ms}
    want |= {"int.from_bytes", "bytes.fromhex", "Map.get", "Map.contains", "Value.get",
             "Value.set"}
    return want
