"""Cross-contract attacks: writing another contract's storage, re-entrancy, swallowing a
callee's failure, views writing through calls, depth-limit games and gas stealing."""

from __future__ import annotations

from attack_support import attack, deploy

VICTIM = """
    owner_only = Value(default="untouched")
    log = Map(default=0)

    @public
    def touch(by: str) -> int:
        log[by] += 1
        return log[by]

    @public
    def fail_after_write() -> None:
        owner_only.set("partial write")
        revert("victim refuses")

    @public
    def burn() -> None:
        i = 0
        while True:
            i += 1

    def private_set() -> None:
        owner_only.set("pwned")

    @view
    def read() -> str:
        return owner_only.get()

    @view
    def peek(by: str) -> int:
        return log[by]
"""


def _victim(chain):
    return deploy(chain, VICTIM, name="victim")


def test_private_function_of_another_contract_is_unreachable(chain):
    _victim(chain)
    r = attack(chain, """
        @public
        def f():
            return call("victim", "private_set")
    """)
    assert r.status == "reverted", r.status
    assert chain.query("victim", "read") == "untouched"


def test_constructor_of_another_contract_is_unreachable(chain):
    deploy(chain, """
        v = Value(default=0)
        @constructor
        def init() -> None:
            v.set(1)
    """, name="ctor")
    r = attack(chain, """
        @public
        def f():
            return call("ctor", "init")
    """)
    assert r.status == "reverted", r.status


def test_proxy_cannot_be_passed_to_another_contract(chain):
    _victim(chain)
    r = attack(chain, """
        m = Map()
        @public
        def f():
            return call("victim", "touch", by=m)
    """)
    assert r.status == "reverted", r.status
    assert chain.query("victim", "peek", {"by": "x"}) == 0


def test_catching_callee_revert_does_not_keep_partial_writes(chain):
    _victim(chain)
    r = attack(chain, """
        mine = Value(default=0)
        @public
        def f():
            mine.set(1)
            try:
                call("victim", "fail_after_write")
            except Exception:
                mine.set(2)
            return mine.get()
    """)
    assert r.status == "reverted" and "victim refuses" in r.error, (r.status, r.error)
    assert chain.query("victim", "read") == "untouched"


def test_gas_stealing_callee_out_of_gas_cannot_be_caught(chain):
    _victim(chain)
    r = attack(chain, """
        @public
        def f():
            try:
                call("victim", "burn")
            except Exception:
                return "survived"
            return "done"
    """, gas=100_000)
    assert (r.status, r.gas_used) == ("out_of_gas", 100_000), (r.status, r.error)


def test_view_cannot_write_through_a_call_to_a_public_function(chain):
    _victim(chain)
    name = deploy(chain, """
        @view
        def sneaky() -> int:
            return call("victim", "touch", by="view")
    """)
    r = chain.call(name, "sneaky", {}, sender="alice", gas_limit=200_000)
    assert r.status == "reverted", (r.status, r.result)
    assert chain.query("victim", "peek", {"by": "view"}) == 0


def test_view_cannot_write_through_map_callback(chain):
    r = attack(chain, """
        v = Value(default=0)
        @view
        def f():
            return list(map(v.set, [5]))
    """)
    assert r.status == "reverted", (r.status, r.result)


def test_reentrancy_sees_committed_writes_of_the_same_tx(chain):
    r = attack(chain, """
        n = Value(default=0)
        @public
        def again(k: int) -> int:
            n.set(n.get() + 1)
            if k > 0:
                call(ctx.this, "again", k=k - 1)
            return n.get()
        @public
        def f() -> int:
            return call(ctx.this, "again", k=5)
    """)
    assert (r.status, r.result) == ("success", 6), (r.status, r.error)


def test_cross_contract_ping_pong_hits_the_depth_limit(chain):
    deploy(chain, """
        @public
        def ping(k: int) -> int:
            return call("pong", "pong", k=k + 1)
    """, name="ping")
    deploy(chain, """
        @public
        def pong(k: int) -> int:
            return call("ping", "ping", k=k + 1)
    """, name="pong")
    r = chain.call("ping", "ping", {"k": 0}, sender="alice", gas_limit=5_000_000)
    assert r.status == "reverted" and "call depth limit of 200 exceeded" in r.error, r.error


def test_depth_limit_cannot_be_caught_to_continue(chain):
    deploy(chain, """
        @public
        def deep(k: int) -> int:
            return call(ctx.this, "deep", k=k + 1)
    """, name="deep")
    r = attack(chain, """
        w = Value(default=0)
        @public
        def f():
            w.set(1)
            try:
                call("deep", "deep", k=0)
            except RuntimeError:
                pass
            except Exception:
                pass
            return "survived"
    """, gas=5_000_000)
    assert r.status == "reverted", (r.status, r.result)


def test_call_to_unknown_contract_or_function_reverts(chain):
    r = attack(chain, """
        @public
        def f():
            return call("nobody_here", "x")
    """)
    assert r.status == "reverted" and "Traceback" not in r.error, r.error
    r = attack(chain, """
        @public
        def f():
            return call("../victim", "x")
    """)
    assert r.status == "reverted" and "Traceback" not in r.error, r.error


def test_sender_is_the_calling_contract(chain):
    _victim(chain)
    name = deploy(chain, """
        @public
        def f() -> int:
            return call("victim", "touch", by=ctx.this)
    """)
    r = chain.call(name, "f", {}, sender="alice", gas_limit=500_000)
    assert (r.status, r.result) == ("success", 1)
    assert chain.query("victim", "peek", {"by": name}) == 1


def test_callee_argument_types_are_enforced(chain):
    _victim(chain)
    r = attack(chain, """
        @public
        def f():
            return call("victim", "touch", by=5)
    """)
    assert r.status == "reverted", (r.status, r.result)


def test_call_with_unencodable_arguments(chain):
    _victim(chain)
    r = attack(chain, """
        @public
        def f():
            return call("victim", "touch", by=(1, 2))
    """)
    assert r.status == "reverted", (r.status, r.result)
