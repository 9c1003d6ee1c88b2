"""An ERC-20-like token with allowances.

Deploy with ``{"supply": 1000000}``: the deployer holds the whole supply. ``approve`` lets a
spender (an account or another contract) move up to an amount with ``transfer_from``; when a
contract calls ``transfer_from``, ``ctx.sender`` is that contract, so the allowance it spends is
the one granted to the contract.
"""

from pycontract import Map, Value, constructor, ctx, emit, public, require, view

balances = Map(default=0)
allowances = Map(default=0)  # keyed by (owner, spender)
total_supply = Value(default=0)
symbol = Value(default="TOK")


@constructor
def init(supply: int, ticker: str = "TOK") -> None:
    require(supply >= 0, "supply must not be negative")
    balances[ctx.sender] = supply
    total_supply.set(supply)
    symbol.set(ticker)
    emit("Transfer", sender="", to=ctx.sender, amount=supply)


@public
def transfer(to: str, amount: int) -> bool:
    move(ctx.sender, to, amount)
    return True


@public
def approve(spender: str, amount: int) -> bool:
    require(amount >= 0, "allowance must not be negative")
    allowances[ctx.sender, spender] = amount
    emit("Approval", owner=ctx.sender, spender=spender, amount=amount)
    return True


@public
def transfer_from(owner: str, to: str, amount: int) -> bool:
    allowed = allowances[owner, ctx.sender]
    require(allowed >= amount, "transfer exceeds the allowance")
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
    return {"symbol": symbol.get(), "total_supply": total_supply.get()}


def move(sender: str, to: str, amount: int) -> None:
    """Private: no transaction can call it directly."""
    require(amount > 0, "amount must be positive")
    require(balances[sender] >= amount, "insufficient balance")
    balances[sender] -= amount
    balances[to] += amount
    emit("Transfer", sender=sender, to=to, amount=amount)
