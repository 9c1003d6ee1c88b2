"""Values nested just under the codec's depth limit must not break the receipt around them.

Event fields, results and arguments sit a few containers deep inside a receipt, whose
canonical encoding (for its digest and the block hash) allows MAX_DEPTH levels in all. A value
that passed on its own but not inside the receipt made execute_block raise EncodingError: the
block could never commit (a halted chain). Such values now end as a revert or a rejection."""

from attack_support import assert_host_works, attack, deploy

from pycontract import Chain


def test_event_fields_nested_62_deep_revert_cleanly(chain):
    r = attack(chain, """
        @public
        def f() -> int:
            x = 0
            for i in range(61):
                x = [x]
            emit("Deep", x=x)
            return 1
    """, gas=1_000_000)
    assert r.status == "reverted" and "nested more than 60 levels" in r.error, r.error
    assert_host_works(chain)


def test_result_nested_63_deep_reverts_cleanly(chain):
    r = attack(chain, """
        @public
        def f() -> list:
            x = 0
            for i in range(62):
                x = [x]
            return x
    """, gas=1_000_000)
    assert r.status == "reverted" and "nested more than 60 levels" in r.error, r.error
    assert_host_works(chain)


def test_result_nested_60_deep_is_returned(chain):
    r = attack(chain, """
        @public
        def f() -> list:
            x = 0
            for i in range(59):
                x = [x]
            return x
    """, gas=1_000_000)
    assert r.status == "success", r.error


def test_arguments_nested_62_deep_are_rejected(tmp_path):
    with Chain(tmp_path / "l.db") as chain:
        name = deploy(chain, """
            @public
            def f(x: list) -> int:
                return 1
        """)
        x = 0
        for _ in range(61):
            x = [x]
        r = chain.call(name, "f", {"x": x}, sender="a")
        assert (r.status, r.gas_used) == ("rejected", 0)
        assert "nested more than 60 levels" in r.error
