"""The language's builtins, methods and statements, each returning a deterministic value."""

from pycontract import revert, require, view


def helper(a: int, b: int = 2, *, scale: int = 1) -> int:
    return (a + b) * scale


@view
def builtins_tour() -> list:
    xs = [5, 3, 9, 1]
    pairs = list(zip(["a", "b", "c"], [1, 2, 3]))
    return [
        abs(-4), all(xs), any([0, 0, 1]), bool(0), len(xs), max(xs), min(xs),
        sorted(xs), sorted(xs, reverse=True), sum(xs), list(reversed(xs)),
        [list(p) for p in enumerate("ab")], [list(p) for p in pairs], dict(pairs),
        list(map(str, xs)), list(filter(None, [0, 1, 2])), divmod(17, 5)[0],
        pow(2, 10), pow(3, 4, 5), chr(65), ord("a"), hex(255), bin(5), oct(8),
        isinstance(3, int), isinstance(True, int), isinstance("x", (int, str)),
        int("42"), int("-7"), str(12345), bytes([1, 2]), tuple(xs)[0], list(range(2, 10, 3)),
        max(["aa", "b"], key=len), min([3, 1, 2], default=0), int("ff", 16),
    ]


@view
def methods_tour() -> list:
    s = "Hello, World"
    d = {"b": 2, "a": 1}
    items = [3, 1, 2]
    items.sort()
    items.append(4)
    items.insert(0, 0)
    popped = items.pop()
    d.setdefault("c", 3)
    d.update({"d": 4})
    return [
        s.upper(), s.lower(), s.split(", "), s.replace("l", "L"), s.find("o"), s.count("l"),
        s.startswith("He"), s.endswith("x"), s.strip("Hd"), "-".join(["a", "b"]),
        "7".zfill(3), "ab".center(6, "*"), list(s.partition(",")), s.isascii(), "abc".isalpha(),
        s.encode(), b"abc".hex(), b"a,b".split(b","), items, popped, list(d.keys()),
        list(d.values()), [list(kv) for kv in d.items()], d.get("zz", -1), d.pop("a"),
        (255).to_bytes(2, "big"), int.from_bytes(b"\x01\x00", "big"), (1024).bit_length(),
        bytes.fromhex("ff00"), "a b  c".split(), s[1:5], s[::-1], items[-1], [1, 2, 3, 4][::2],
    ]


@view
def statements_tour(n: int) -> dict:
    out = {}
    a, b, *rest = [1, 2, 3, 4, 5]
    out["unpack"] = [a, b, rest]
    out["ternary"] = "big" if n > 10 else "small"
    out["bool_ops"] = [n > 0 and n < 100, n < 0 or n == 5, not n]
    out["chain"] = 0 < n < 10
    out["fstring"] = f"n={n:>4}|{n:<3}|{n:x}|{'s'}"
    out["percent"] = "%s-%d-%05d" % ("x", n, n)
    out["helper"] = helper(n, scale=3) + helper(1)
    out["dictcomp"] = {str(i): i * i for i in range(4)}
    out["genexp"] = sum(i for i in range(n))
    out["floordiv"] = [n // 3, -n // 3, n % 3, -n % 3]
    out["bits"] = [n & 3, n | 8, n ^ 1, n << 3, n >> 1, ~n]
    k = 0
    while True:
        k += 1
        if k >= 5:
            break
    else:
        k = -1
    out["while_break"] = k
    for i in range(3):
        pass
    else:
        out["for_else"] = i
    return out


@view
def exceptions_tour(n: int) -> list:
    out = []
    try:
        out.append(10 // n)
    except ZeroDivisionError:
        out.append("div0")
    try:
        out.append({"a": 1}["b"])
    except KeyError:
        out.append("keyerror")
    try:
        out.append([1][5])
    except IndexError:
        out.append("indexerror")
    try:
        raise ValueError("custom message")
    except ValueError as e:
        out.append(str(e))
    try:
        int("nope")
    except ValueError:
        out.append("badint")
    finally:
        out.append("finally")
    return out


@view
def uncaught(kind: str) -> int:
    if kind == "zero":
        return 1 // 0
    if kind == "key":
        return {"a": 1}["missing"]
    if kind == "type":
        return "a" + 1
    if kind == "assert":
        assert kind == "other", "assertion with message"
    if kind == "require":
        require(False, "required condition failed")
    if kind == "revert":
        revert("explicit revert")
    if kind == "raise":
        raise ValueError("raised by the contract")
    if kind == "min":
        return min([])
    return 0


@view
def non_ascii_case() -> str:
    return "straße".upper()


@view
def bad_result() -> int:
    return helper
