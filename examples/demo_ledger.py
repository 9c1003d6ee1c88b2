"""The example ledger: deploys the example contracts and exercises them, printing what happened.

Run it as ``pycontract demo`` (a fresh temporary database), or as a plain script:

    python examples/demo_ledger.py [LEDGER.db]

It is ordinary Python using the host API (``Chain``, ``Tx``): a token with allowances, an
auction that pays in that token through cross-contract calls, and a ballot; a failed bid that
reverts, a transaction that runs out of gas, a rejected call, a block of several transactions,
queries, and the state root at the end.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder is first on sys.path, and its token.py would shadow the standard
# library's ``token`` module: import from the installed packages only.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from pathlib import Path  # noqa: E402

try:
    from importlib.resources import files as _files
except ImportError:  # pragma: no cover
    _files = None

from pycontract import Chain, Tx  # noqa: E402


def load_example(name: str) -> str:
    """Source text of an example contract shipped in ``pycontract.examples``."""
    try:
        return _files("pycontract.examples").joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, TypeError):
        return (Path(__file__).resolve().parent / name).read_text(encoding="utf-8")


def _value(v) -> str:
    import json

    from ledger_store import codec

    return json.dumps(codec.to_jsonable(v), ensure_ascii=False)


def run(chain: Chain, out=print) -> list[dict]:
    """Run the demo on ``chain`` (which should be fresh); print with ``out``; return the steps
    as JSON-able dicts."""
    steps: list[dict] = []

    def show(title: str, receipt) -> None:
        out(f"== {title}")
        line = f"   {receipt.status}, gas {receipt.gas_used:,}"
        if receipt.height is not None:
            line += f", block {receipt.height}"
        if receipt.status == "success" and receipt.result is not None:
            line += f", result {_value(receipt.result)}"
        out(line)
        if receipt.error:
            out(f"   error: {receipt.error.splitlines()[0]}")
        for e in receipt.events:
            fields = " ".join(f"{k}={_value(v)}" for k, v in e.fields.items())
            out(f"   event {e.contract}.{e.name} {fields}".rstrip())
        steps.append({"step": title, "receipt": receipt.to_dict()})

    def ask(title: str, contract: str, function: str, args=None):
        value = chain.query(contract, function, args)
        out(f"-> query {title}: {_value(value)}")
        steps.append({"step": title, "query": [contract, function, args or {}], "value": value})
        return value

    token_src = load_example("token.py")
    auction_src = load_example("auction.py")
    voting_src = load_example("voting.py")

    out("pycontract demo: a token, an auction paid in it, and a ballot")
    out("")
    show("alice deploys the token with a supply of 1,000,000",
         chain.deploy("token", token_src, sender="alice", args={"supply": 1_000_000, "ticker": "DEMO"}))
    receipts = chain.execute_block([
        Tx(sender="alice", contract="token", function="transfer", args={"to": "bob", "amount": 5_000}),
        Tx(sender="alice", contract="token", function="transfer", args={"to": "carol", "amount": 3_000}),
        Tx(sender="alice", contract="token", function="move", args={"sender": "bob", "to": "alice", "amount": 1}),
    ])
    show("block: alice pays bob 5,000", receipts[0])
    show("block: alice pays carol 3,000", receipts[1])
    show("block: alice tries to call the token's private function move (rejected, not in the block)",
         receipts[2])
    ask("bob's balance", "token", "balance_of", {"owner": "bob"})

    show("alice deploys an auction paid in the token, open until block 10",
         chain.deploy("auction", auction_src, sender="alice", args={"token_contract": "token", "duration": 7}))
    show("bob approves the auction to spend 2,000 of his tokens",
         chain.call("token", "approve", {"spender": "auction", "amount": 2_000}, sender="bob"))
    show("bob bids 1,500 (the auction pulls his tokens with a cross-contract call)",
         chain.call("auction", "bid", {"amount": 1_500}, sender="bob"))
    show("carol bids 1,600 without approving first: the token call fails, the whole bid reverts",
         chain.call("auction", "bid", {"amount": 1_600}, sender="carol"))
    show("carol approves, then bids 1,600",
         chain.call("token", "approve", {"spender": "auction", "amount": 1_600}, sender="carol"))
    show("carol's bid", chain.call("auction", "bid", {"amount": 1_600}, sender="carol"))
    show("bob withdraws his outbid 1,500", chain.call("auction", "withdraw", sender="bob"))
    show("bob calls transfer with too little gas: out of gas, nothing written",
         chain.call("token", "transfer", {"to": "carol", "amount": 10}, sender="bob", gas_limit=2_080))
    show("bob calls transfer with a wrong argument type: rejected before any code runs",
         chain.call("token", "transfer", {"to": "carol", "amount": "10"}, sender="bob"))
    show("the seller settles after the end", chain.call("auction", "settle", sender="alice"))
    ask("auction status", "auction", "status")
    ask("alice's balance (1,000,000 - 8,000 + 1,600)", "token", "balance_of", {"owner": "alice"})

    show("alice opens a ballot on tea or coffee",
         chain.deploy("ballot", voting_src, sender="alice", args={"proposals": ["tea", "coffee"]}))
    receipts = chain.execute_block([
        Tx(sender="bob", contract="ballot", function="vote", args={"proposal": "coffee"}),
        Tx(sender="carol", contract="ballot", function="vote", args={"proposal": "coffee"}),
        Tx(sender="dave", contract="ballot", function="vote", args={"proposal": "tea"}),
        Tx(sender="bob", contract="ballot", function="vote", args={"proposal": "tea"}),
    ])
    for who, r in zip(("bob votes coffee", "carol votes coffee", "dave votes tea",
                       "bob votes again (reverts: already voted)"), receipts):
        show(f"block: {who}", r)
    ask("tally", "ballot", "tally")
    show("alice closes the ballot", chain.call("ballot", "close", sender="alice"))

    out("")
    out(f"height {chain.height}, state root {chain.state_root()}")
    return steps


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else None
    if path is not None and Path(path).exists():
        print(f"{path} already exists; the demo needs a fresh database", file=sys.stderr)
        return 2
    with Chain(path) as chain:
        run(chain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
