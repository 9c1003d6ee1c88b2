"""Operations whose cost grows with their operands, each charged by size before the work."""

from pycontract import view


@view
def repeat(n: int) -> int:
    return len("ab" * n)


@view
def power(e: int) -> int:
    return (3 ** e) % 1000007


@view
def shift(n: int) -> int:
    return (1 << n) % 1000003


@view
def square_loop(rounds: int) -> int:
    x = 3
    for i in range(rounds):
        x = x * x
    return x % 1000003


@view
def double_list(rounds: int) -> int:
    items = [1, 2]
    for i in range(rounds):
        items = items + items
    return len(items)


@view
def sort_range(n: int) -> int:
    return sorted(range(n), reverse=True)[0]


@view
def sum_range(n: int) -> int:
    return sum(range(n))


@view
def join_words(n: int) -> int:
    return len("-".join(["word"] * n))


@view
def width(w: int) -> int:
    return len(f"{1:>{w}}")


@view
def ljust(w: int) -> int:
    return len("x".ljust(w))


@view
def big_str(e: int) -> int:
    return len(str(7 ** e))


@view
def modpow(e: int, m: int) -> int:
    return pow(3, e, m)


@view
def contains(n: int) -> bool:
    return -1 in list(range(n))


@view
def int_text(digits: int) -> int:
    return int("9" * digits) % 97
