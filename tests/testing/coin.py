"""A small token for the test-kit tests (deployed by file name, as an author would)."""

from pycontract import Map, Value, constructor, ctx, emit, public, require, view

balances = Map(default=0)
total = Value(default=0)
opened = Value(default=0)


@constructor
def init(supply: int) -> None:
    balances[ctx.sender] = supply
    total.set(supply)
    opened.set(ctx.block_height)


@public
def transfer(to: str, amount: int) -> bool:
    require(amount > 0, "amount must be positive")
    require(balances[ctx.sender] >= amount, "insufficient balance")
    balances[ctx.sender] -= amount
    balances[to] += amount
    emit("Transfer", sender=ctx.sender, to=to, amount=amount)
    return True


@public
def spin(n: int) -> int:
    i = 0
    while i < n:
        i += 1
    return i


@view
def balance_of(owner: str) -> int:
    return balances[owner]


@view
def must_be_late(height: int) -> bool:
    require(ctx.block_height >= height, "too early")
    return True


@view
def now() -> list:
    return [ctx.block_height, ctx.block_time]
