"""Loops, recursion and the limits: where exactly gas runs out."""

from pycontract import Map, emit, public, view

marks = Map(default=0)


@view
def count(n: int) -> int:
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        total += i
    return total


@view
def spin(n: int) -> int:
    i = 0
    while i < n:
        i += 1
    return i


@public
def write_then_spin(n: int) -> int:
    marks["a"] = 1
    emit("Started", n=n)
    i = 0
    while i < n:
        i += 1
    return i


def fact(k: int) -> int:
    if k <= 1:
        return 1
    return k * fact(k - 1)


@view
def factorial(n: int) -> int:
    return fact(n)


def down(k: int) -> int:
    return down(k + 1)


@view
def recurse_forever() -> int:
    return down(0)


@view
def comprehension(n: int) -> list:
    return [i * i for i in range(n) if i % 2 == 1]


@view
def nested(n: int) -> int:
    total = 0
    for i in range(n):
        for j in range(n):
            total += i * j
    return total


@view
def finally_after_oog() -> int:
    total = 0
    try:
        while True:
            total += 1
    finally:
        while True:
            total -= 1


@view
def catch_oog() -> int:
    try:
        while True:
            pass
    except Exception:
        return 7
    return 0
