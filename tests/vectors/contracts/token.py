"""A token with allowances: the conformance history of ordinary contract use."""

from pycontract import Map, Value, constructor, ctx, emit, public, require, view

balances = Map(default=0)
allowances = Map(default=0)
total_supply = Value(default=0)
NAME = "Vector Token"


@constructor
def init(supply: int) -> None:
    balances[ctx.sender] = supply
    total_supply.set(supply)
    emit("Mint", to=ctx.sender, amount=supply)


def move(src: str, dst: str, amount: int) -> None:
    require(amount > 0, "amount must be positive")
    require(balances[src] >= amount, "insufficient balance")
    balances[src] -= amount
    balances[dst] += amount
    emit("Transfer", sender=src, to=dst, amount=amount)


@public
def transfer(to: str, amount: int) -> bool:
    move(ctx.sender, to, amount)
    return True


@public
def approve(spender: str, amount: int) -> bool:
    allowances[ctx.sender, spender] = amount
    emit("Approval", owner=ctx.sender, spender=spender, amount=amount)
    return True


@public
def transfer_from(owner: str, to: str, amount: int) -> bool:
    allowed = allowances[owner, ctx.sender]
    require(allowed >= amount, "allowance exceeded")
    allowances[owner, ctx.sender] = allowed - amount
    move(owner, to, amount)
    return True


@view
def balance_of(owner: str) -> int:
    return balances[owner]


@view
def allowance(owner: str, spender: str) -> int:
    return allowances[owner, spender]


@view
def info() -> dict:
    return {"name": NAME, "supply": total_supply.get(), "caller": ctx.sender,
            "height": ctx.block_height, "time": ctx.block_time, "this": ctx.this}


@view
def sneaky_write() -> int:
    total_supply.set(0)
    return 1
