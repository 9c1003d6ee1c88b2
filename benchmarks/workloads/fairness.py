"""Gas-fairness workloads: each public function runs until it is out of gas.

The benchmark runs every one at the same gas limit and reports nanoseconds per gas and the
worker's peak memory: if gas really bounds work, no workload is much slower per gas than the
median one. Ordinary work and every size-charged operation of the language are here.
"""

from pycontract import Map, Value, emit, public

store = Map(default=0)
blob = Value(default="")


@public
def noop() -> int:
    return 0  # the empty-transaction baseline the benchmark subtracts (not a workload)


@public
def tight_loop() -> int:
    i = 0
    while True:
        i += 1


def rec(k: int) -> int:
    if k < 2:
        return 1
    return rec(k - 1) + rec(k - 2)


@public
def recursion() -> int:
    while True:
        rec(25)


@public
def deep_calls() -> int:
    while True:
        rec(150)


def down(k: int) -> int:
    if k == 0:
        return 0
    return down(k - 1)


@public
def self_calls() -> int:
    # a recursion doing nothing else: (schedule 7) each frame's entry is prepaid by its
    # caller's block, one charge and one counter test per frame
    while True:
        down(190)


@public
def str_concat() -> int:
    s = "x"
    while True:
        s = s + s


@public
def str_append() -> int:
    s = "x" * 100000
    while True:
        s = s + "y"


@public
def list_double() -> int:
    items = [1]
    while True:
        items = items + items


@public
def int_square() -> int:
    x = 7 ** 11000
    while True:
        y = x * x


@public
def int_pow() -> int:
    while True:
        x = 7 ** 20000


@public
def int_shift() -> int:
    while True:
        x = 1 << 65000


@public
def int_to_str() -> int:
    x = 7 ** 4000
    while True:
        s = str(x)


@public
def int_divmod() -> int:
    x = 7 ** 5000
    y = 3 ** 2000
    while True:
        q, r = divmod(x, y)


@public
def seq_repeat() -> int:
    n = 1
    while True:
        n = n * 2
        s = "a" * n


@public
def sorted_range() -> int:
    while True:
        x = sorted(range(10 ** 9))


@public
def sum_range() -> int:
    return sum(range(10 ** 12))


@public
def sort_strings() -> int:
    words = [str(i) * 50 for i in range(2000)]
    while True:
        words.sort(reverse=True)
        words.sort()


@public
def join_big() -> int:
    parts = ["abcdefgh"] * 10000
    while True:
        s = ",".join(parts)


@public
def fstring_width() -> int:
    w = 100000
    while True:
        s = f"{1:>{w}}"


@public
def ljust_grow() -> int:
    w = 10
    while True:
        w = w * 2
        s = "x".ljust(w)


@public
def replace_big() -> int:
    s = "ab" * 100000
    while True:
        t = s.replace("a", "xyz")


@public
def contains_list() -> int:
    items = list(range(100000))
    while True:
        found = -1 in items


@public
def compare_strings() -> int:
    a = "q" * 1000000
    b = "q" * 999999 + "r"
    while True:
        same = a == b


@public
def dict_inserts() -> int:
    d = {}
    i = 0
    while True:
        d[i] = i
        i += 1


@public
def dict_collisions() -> int:
    d = {}
    i = 0
    while True:
        d[i << 32] = i  # same low 32 bits: the most colliding keys a contract may insert
        i += 1


@public
def comprehension() -> int:
    while True:
        x = [i * 2 for i in range(1000) if i % 3]


@public
def storage_writes() -> int:
    i = 0
    while True:
        store[i] = i
        i += 1


@public
def storage_reads() -> int:
    i = 0
    total = 0
    while True:
        total += store[i % 100]
        i += 1


@public
def storage_big_values() -> int:
    s = "z" * 10000
    while True:
        blob.set(s)


@public
def events() -> int:
    i = 0
    while True:
        emit("Tick", i=i, note="event payload")
        i += 1


@public
def bytes_hex() -> int:
    b = b"\x01" * 100000
    while True:
        h = b.hex()


@public
def sub_double() -> int:
    x = 1
    while True:
        x -= -x  # doubles x; charged like + since schedule 2


@public
def int_add_big() -> int:
    a = 7 ** 23000
    b = 3 ** 40000
    while True:
        c = a + b


@public
def str_split() -> int:
    s = "ab," * 20000
    while True:
        parts = s.split(",")


@public
def min_max() -> int:
    items = list(range(10000))
    while True:
        x = min(items) + max(items)


@public
def dict_copy() -> int:
    d = {str(i): i for i in range(2000)}
    while True:
        e = d.copy()


@public
def sort_ints() -> int:
    items = [(i * 7919) % 10007 for i in range(5000)]
    while True:
        x = sorted(items)


@public
def sort_equal_big_ints() -> int:
    """Keys the size fast path of sort must not compare before charging (issue 12, round 2):
    2,000 identical ints of 65,000 bits, so every comparison walks all their digits."""
    x = (1 << 65000) - 1
    items = [x] * 2000
    while True:
        items.sort()


@public
def sort_short_strings() -> int:
    """Short keys whose sizes are counted in C (all str below 16 characters)."""
    words = [str((i * 7919) % 10007) for i in range(5000)]
    while True:
        x = sorted(words)


@public
def dict_items() -> int:
    d = {str(i): i for i in range(2000)}
    while True:
        x = d.items()


@public
def int_mod_big() -> int:
    x = 7 ** 22000
    while True:
        r = x % 1000003


@public
def small_mulmod() -> int:
    # schedule 5: * of ints below 2**31 and % below 2**64 are free and inline (proven ints)
    x = 1
    i = 0
    while True:
        x = x * 48271 % 2147483647
        i = (i * 3 // 2 + x % 7 - i // 5) % 1000003


@public
def proven_int_adds() -> int:
    # + and - of two proven ints inline (no helper call, no type test)
    a = 0
    b = 1
    while True:
        # (schedule 6) an inner range loop is paid up front, 1,000 iterations at a time: a
        # single range(10**12) would now be refused at once as unaffordable
        for i in range(1000):
            a += i
            a -= i
            b = a + b
            b = b - a


@public
def temp_operands() -> list:
    # operands through temporaries (type-tested inline): list items and call results
    v = [3, 5]
    while True:
        v[0] = (v[0] * v[1] + len(v)) % 1000003
        v[1] = v[0] // 7 + v[1] % 11


@public
def dict_long_str_key() -> int:
    # schedule 6: a str key longer than 1,024 characters pays 1 + len/16 per dict lookup,
    # membership test or store: a lookup hashes it (once per object) and compares it with an
    # equal stored key byte by byte (a different object with the same text). Until schedule
    # 5 these lookups were free: 10M gas of this loop ran for minutes
    a = "k" * 1000000
    b = "k" * 1000000
    d = {a: 0}
    while True:
        d[b] += 1
        if b in d:
            x = d[b]


@public
def dict_str_key_at_limit() -> int:
    # the longest str key that is still looked up for free: 1,024 characters of 4 bytes each
    a = "\U0001F600" * 1024
    b = "\U0001F600" * 1024
    d = {a: 0}
    while True:
        d[b] += 1
        if b in d:
            x = d[b]


@public
def dict_membership() -> int:
    # schedule 6: k in d with an int/str key is free (inline), as d[k] is
    d = {}
    for i in range(2000):
        d["acct" + str(i)] = i
        d[i] = i
    n = 0
    while True:
        for i in range(2000):
            k = "acct" + str(i)
            if k in d and i in d:
                d[k] += 1


@public
def list_comprehension() -> int:
    # schedule 6: a list comprehension over a list that runs no contract code is charged
    # for every item up front (no per-item generator); so is one over enumerate(list)
    src = list(range(1000))
    while True:
        x = [str(v) + "x" for v in src if v % 3]
        y = {i: v for i, v in enumerate(src)}


@public
def range_loop_prepaid() -> int:
    # (schedule 6) for over range() without break/return: every iteration paid before the
    # first, no charge or test per iteration (the cheapest loop body there is: a list store)
    flags = [True] * 1000
    while True:
        for m in range(1000):
            flags[m] = False
