"""The engine's own limits: each must end identically on every node."""

from pycontract import Map, emit, public, view

notes = Map(default="")


@view
def memory_bomb() -> int:
    parts = []
    while True:
        parts.append("x" * 1000000)


@view
def nested_maps(depth: int) -> int:
    m = [1]
    for i in range(depth):
        m = map(abs, m)
    return len(list(m))


@view
def nested_genexps(depth: int) -> int:
    m = [1]
    for i in range(depth):
        m = (x for x in m)
    return sum(m)


@view
def colliding_keys() -> int:
    d = {}
    for i in range(10):
        d[i * (2 ** 61 - 1)] = i
    return len(d)


@view
def tuple_key() -> int:
    d = {}
    d[1, 2] = 3
    return d[1, 2]


@public
def many_events(n: int) -> int:
    for i in range(n):
        emit("Tick", i=i)
    return n


@public
def big_value(n: int) -> int:
    notes["big"] = "n" * n
    return n


@view
def big_result(n: int) -> str:
    return "r" * n


@view
def nesting(depth: int) -> int:
    x = []
    for i in range(depth):
        x = [x]
    return len(str(x))
