"""Regression tests for the engine/CPython mismatches of issue #13 (reported by users, and the
ones this fuzzer found). Each is xfail(strict=True): the engineer who fixes one sees it XPASS,
removes the mark and deletes the matching entry in fuzz_gen.KNOWN_BUGS (so the generator
produces the construct again)."""

from __future__ import annotations

import pytest

import fuzz_gen
import fuzz_harness


def agree(chain, body: str):
    """Run ``body`` (a function body) both ways; assert value/type/exception class agree."""
    fn = "@public\ndef f0():\n" + "\n".join("    " + ln for ln in body.strip("\n").split("\n"))
    mism = fuzz_harness.check_batch(chain, [fn], fuzz_gen.module, tolerate=())
    assert not mism, mism[0].render()


def known(bug):
    return pytest.mark.xfail(strict=True, reason=f"issue #13 known mismatch: {fuzz_gen.KNOWN_BUGS[bug]}")


@pytest.mark.parametrize("body", ["return (1, 'x')", "return [(1, 2)]", "return {'a': (1, 2)}",
                                  "return divmod(7, 2)"])
def test_tuple_result(chain, body):
    agree(chain, body)


@pytest.mark.parametrize("body", [
    "s = 'ab'\nreturn f'{s:05}'",
    "s = 'ab'\nreturn f'{s:>08}'",
    "s = 'ab'\nreturn f'{s:0}'",
    "s = 'ab'\nw = 0\nreturn f'{s:>{w}}'",
])
def test_format_zero_flag(chain, body):
    agree(chain, body)


@pytest.mark.parametrize("body", [
    "n = []\ndef k(x):\n    n.append(x)\n    return x\nsorted([1], key=k)\nreturn n",
    "n = []\ndef k(x):\n    n.append(x)\n    return x\nxs = [1]\nxs.sort(key=k)\nreturn n",
    "def k(x):\n    return [][x]\nreturn sorted([1], key=k)",
])
def test_sort_key_one_element(chain, body):
    agree(chain, body)


@pytest.mark.parametrize("body", [
    "d = {}\nd[(1, 'x')] = 5\nreturn d[(1, 'x')]",
    "return len({(x, x): x for x in [1, 2]})",
    "return len(dict(zip([(1, 2)], [3])))",
    "d = {}\nreturn d.setdefault((1, 'x'), 4)",
])
def test_tuple_dict_keys(chain, body):
    agree(chain, body)


@pytest.mark.parametrize("body", ["return '%*s' % (0, 'ab')", "return '%-*s' % (0, 'ab')"])
def test_percent_star_zero_width(chain, body):
    """Found by the fuzzer (seeded corpus): the % operator's twin of the zero-width bug."""
    agree(chain, body)


@pytest.mark.parametrize("body", [
    "xs = [2, 1]\nseen = []\ndef k(x):\n    seen.append(len(xs))\n    return x\n"
    "xs.sort(key=k)\nreturn seen",
    "xs = [2, 1]\ndef k(x):\n    xs.append(1)\n    return x\nxs.sort(key=k)\nreturn xs",
    "xs = [10, -2]\ndef k(x):\n    return xs.index(x)\nxs.sort(key=k)\nreturn xs",
])
def test_sort_list_in_key(chain, body):
    """Found by the long seeded run (seeds 5000+): CPython empties the list while sorting it."""
    agree(chain, body)


def test_unbound_local_class(chain):
    """Found by the fuzzer (seeded corpus 10_000+, minimised by hand): only a chained
    comparison reads the unbound local as NameError; a plain read agrees (control below).
    A nested function reading its outer function's unbound variable is a NameError in both."""
    agree(chain, "if False:\n    y = 1\nreturn 0 <= y <= 1")
    agree(chain, "def g():\n    return 0 <= y <= 1\ng()\ny = 1\nreturn 0")


@pytest.mark.parametrize("body", [
    "return [1, 'a', b'z', None, True, {'a': 1}]",
    "return f'{7:05}' + f'{-7:=+6x}'",
    "return sorted([3, 1, 2], key=abs)",
    "d = {'b': 1, 'a': 2}\nreturn d",
    "return 1 // 0",
    "return [][0]",
    "if False:\n    y = 1\nreturn y",
    "if False:\n    y = 1\nreturn 0 <= y",
    "return '%*d' % (0, 5) + '%0s' % 'ab' + '%*s' % (3, 'ab')",
])
def test_the_harness_sees_agreement(chain, body):
    """Controls: constructs next to each known bug agree (so the xfails fail for the bug)."""
    agree(chain, body)


def test_the_harness_sees_a_difference(chain):
    """The comparison is not blind: a program whose plain and engine runs differ only in the
    engine's int cap is a limit, and a changed exception class is a mismatch."""
    fn = "@public\ndef f0():\n    return 1 // 0"
    names = ["f0"]
    src = fuzz_gen.module([fn])
    eng = fuzz_harness.run_engine(chain, src, names)
    plain = [(("raise", "IndexError"), [])]
    assert fuzz_harness.compare([fn], names, plain, eng)
    big = "@public\ndef f0():\n    return 2 ** 70000"
    eng = fuzz_harness.run_engine(chain, fuzz_gen.module([big]), names)
    assert eng.outcomes[0][0][0] == "limit"
    assert not fuzz_harness.compare([big], names, fuzz_harness.run_plain(fuzz_gen.module([big]), names), eng)
