"""One-account-one-vote ballot over a fixed list of proposals.

Deploy with ``{"proposals": ["tea", "coffee"]}``; the deployer is the chair and closes the
ballot. Each account votes once; ``winner`` is the proposal with the most votes (ties go to the
proposal listed first).
"""

from pycontract import Map, Value, constructor, ctx, emit, public, require, revert, view

chair = Value(default="")
options = Value(default=[])
votes = Map(default=0)
has_voted = Map(default=False)
is_open = Value(default=False)


@constructor
def init(proposals: list) -> None:
    require(len(proposals) >= 2, "a ballot needs at least two proposals")
    seen = {}
    for p in proposals:
        require(isinstance(p, str) and p != "", "proposals are non-empty strings")
        require(p not in seen, "proposals must be distinct")
        seen[p] = True
    chair.set(ctx.sender)
    options.set(proposals)
    is_open.set(True)


@public
def vote(proposal: str) -> int:
    require(is_open.get(), "the ballot is closed")
    if proposal not in options.get():
        revert("no such proposal: " + proposal)
    require(not has_voted[ctx.sender], "already voted")
    has_voted[ctx.sender] = True
    votes[proposal] += 1
    emit("Voted", voter=ctx.sender, proposal=proposal)
    return votes[proposal]


@public
def close() -> str:
    require(ctx.sender == chair.get(), "only the chair can close the ballot")
    require(is_open.get(), "already closed")
    is_open.set(False)
    result = winner()
    emit("Closed", winner=result)
    return result


@view
def winner() -> str:
    best = ""
    best_votes = -1
    for p in options.get():
        if votes[p] > best_votes:
            best = p
            best_votes = votes[p]
    return best


@view
def tally() -> dict:
    out = {}
    for p in options.get():
        out[p] = votes[p]
    return out
