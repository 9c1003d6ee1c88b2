"""A vault that holds token balances: cross-contract calls, ctx.sender and origin, reverts."""

from pycontract import Map, call, ctx, emit, public, require, view

deposits = Map(default=0)


@public
def deposit(token: str, amount: int) -> int:
    ok = call(token, "transfer_from", owner=ctx.sender, to=ctx.this, amount=amount)
    require(ok, "transfer failed")
    deposits[ctx.sender] += amount
    emit("Deposit", who=ctx.sender, amount=amount)
    return deposits[ctx.sender]


@public
def withdraw(token: str, amount: int) -> int:
    require(deposits[ctx.sender] >= amount, "not enough deposited")
    deposits[ctx.sender] -= amount
    call(token, "transfer", to=ctx.sender, amount=amount)
    return deposits[ctx.sender]


@public
def withdraw_then_fail(token: str, amount: int) -> int:
    deposits[ctx.sender] -= amount
    call(token, "transfer", to=ctx.sender, amount=amount)
    require(False, "changed my mind")
    return 0


@public
def swallow_callee_revert(token: str) -> int:
    try:
        call(token, "transfer", to="nobody", amount=10 ** 30)
    except Exception:
        return 1
    return 0


@view
def who() -> dict:
    return {"sender": ctx.sender, "origin": ctx.origin, "this": ctx.this}


@view
def ask_token(token: str, owner: str) -> int:
    return call(token, "balance_of", owner=owner)


@view
def relay_who(other: str) -> dict:
    return call(other, "who")
