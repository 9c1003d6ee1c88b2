"""An English auction paid in an example token, through cross-contract calls.

Deploy with ``{"token": "token", "duration": 5}``: bidding is open for ``duration`` blocks. A
bidder first ``approve``s this contract on the token, then calls ``bid``: the auction pulls the
tokens with ``call(token, "transfer_from", ...)`` (the token sees ``ctx.sender`` = this
auction). Outbid bidders ``withdraw`` their tokens; ``settle`` pays the seller after the end.
If the token call fails (no allowance, no balance), the whole bid reverts.
"""

from pycontract import Map, Value, call, constructor, ctx, emit, public, require, view

token = Value(default="")
seller = Value(default="")
end_height = Value(default=0)
highest_bidder = Value(default="")
highest_bid = Value(default=0)
refunds = Map(default=0)
settled = Value(default=False)


@constructor
def init(token_contract: str, duration: int) -> None:
    require(duration > 0, "duration must be positive")
    token.set(token_contract)
    seller.set(ctx.sender)
    end_height.set(ctx.block_height + duration)


@public
def bid(amount: int) -> int:
    require(ctx.block_height < end_height.get(), "the auction has ended")
    require(amount > highest_bid.get(), "a bid must beat the highest bid")
    call(token.get(), "transfer_from", owner=ctx.sender, to=ctx.this, amount=amount)
    previous = highest_bidder.get()
    if previous != "":
        refunds[previous] += highest_bid.get()
    highest_bidder.set(ctx.sender)
    highest_bid.set(amount)
    emit("Bid", bidder=ctx.sender, amount=amount)
    return amount


@public
def withdraw() -> int:
    amount = refunds[ctx.sender]
    require(amount > 0, "nothing to withdraw")
    refunds[ctx.sender] = 0
    call(token.get(), "transfer", to=ctx.sender, amount=amount)
    emit("Refund", bidder=ctx.sender, amount=amount)
    return amount


@public
def settle() -> str:
    require(ctx.block_height >= end_height.get(), "the auction is still running")
    require(not settled.get(), "already settled")
    settled.set(True)
    winner = highest_bidder.get()
    if winner != "":
        call(token.get(), "transfer", to=seller.get(), amount=highest_bid.get())
    emit("Settled", winner=winner, amount=highest_bid.get())
    return winner


@view
def status() -> dict:
    return {
        "seller": seller.get(),
        "ends_at": end_height.get(),
        "highest_bidder": highest_bidder.get(),
        "highest_bid": highest_bid.get(),
        "settled": settled.get(),
    }
