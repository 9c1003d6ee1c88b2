"""Compute-heavy workloads for the metering-overhead benchmark.

Each is an ordinary contract: the engine runs it metered in the sandbox, and the benchmark also
imports this file as plain Python and calls the same functions, so the ratio is pure metering.
"""

from pycontract import view


@view
def loop_sum(n: int) -> int:
    total = 0
    i = 0
    while i < n:
        total += i & 7
        i += 1
    return total


def fib_rec(k: int) -> int:
    if k < 2:
        return k
    return fib_rec(k - 1) + fib_rec(k - 2)


@view
def fib(n: int) -> int:
    return fib_rec(n)


@view
def sieve(n: int) -> int:
    flags = [True] * (n + 1)
    flags[0] = False
    flags[1] = False
    p = 2
    while p * p <= n:
        if flags[p]:
            for m in range(p * p, n + 1, p):
                flags[m] = False
        p += 1
    count = 0
    for f in flags:
        if f:
            count += 1
    return count


@view
def transfers(n: int) -> int:
    balances = {}
    for i in range(100):
        balances["acct" + str(i)] = 1000
    for i in range(n):
        src = "acct" + str(i % 100)
        dst = "acct" + str((i * 7 + 3) % 100)
        amount = i % 13
        if balances[src] >= amount:
            balances[src] -= amount
            balances[dst] += amount
    return balances["acct0"]


@view
def sorting(n: int) -> int:
    data = [(i * 7919) % 10007 for i in range(n)]
    data.sort()
    words = sorted([str(x) for x in data])
    return data[n // 2] + len(words[0])


@view
def comprehensions(n: int) -> int:
    squares = [i * i for i in range(n)]
    evens = {i: s for i, s in enumerate(squares) if s % 2 == 0}
    return sum(evens.values()) % 1000003 + len([k for k in evens if k % 3 == 0])


@view
def strings(n: int) -> int:
    parts = []
    for i in range(n):
        parts.append(str(i).zfill(6))
    text = ",".join(parts)
    return len(text.split(",")) + text.count("00")


def collatz_len(x: int, depth: int) -> int:
    if x == 1 or depth == 0:
        return 0
    if x % 2 == 0:
        return 1 + collatz_len(x // 2, depth - 1)
    return 1 + collatz_len(3 * x + 1, depth - 1)


@view
def mixed(n: int) -> int:
    """Integer arithmetic, branches, dict updates and recursion together (issue 12)."""
    counts = {}
    acc = 0
    for i in range(1, n):
        steps = collatz_len(i, 40)
        if steps > 20:
            acc = (acc * 31 + steps) % 1000003
        elif steps % 3 == 0:
            acc = acc + i - steps
        else:
            acc -= 1
        k = steps % 16
        if k in counts:
            counts[k] += 1
        else:
            counts[k] = 1
    return acc + len(counts) + counts[0]
