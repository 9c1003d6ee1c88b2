"""The one node-kind table (pycontract.vetting.nodes) is complete: every allowed node has its
policy rule, a gas weight and child fields, so a new node cannot be half-added."""

from __future__ import annotations

import ast

from pycontract.metering import rewriter, schedule
from pycontract.vetting import nodes
from pycontract.vetting.policy import _Policy

#: weighed by hand in rewriter.weight() (f-string parts, the first iterable of a comprehension)
SPECIAL = {"JoinedStr", "ListComp", "DictComp", "GeneratorExp", "comprehension"}
#: never reach metered code: stripped by the transform, or the module itself
UNWEIGHED = {"Module", "ImportFrom", "alias"}


def test_every_rule_exists_and_every_rule_method_is_used():
    rules = {k.rule for k in nodes.NODE_KINDS.values() if k.rule is not None}
    methods = {name[len("rule_"):] for name in dir(_Policy) if name.startswith("rule_")}
    assert rules == methods


def test_every_allowed_node_has_a_weight_and_child_fields():
    for t, kind in nodes.NODE_KINDS.items():
        name = t.__name__
        if kind is nodes._PART or name in UNWEIGHED:
            assert kind.weight is None and kind.children is None, name
            continue
        assert type(kind.weight) is int and kind.weight >= 0, name
        if name in SPECIAL:
            assert kind.children is None, name
        else:
            assert type(kind.children) is tuple, name
            for field in kind.children:
                assert field in t._fields, (name, field)


def test_the_stages_read_the_same_table():
    assert schedule.NODE_WEIGHTS is nodes.NODE_WEIGHTS
    assert rewriter.CHILD_FIELDS is nodes.CHILD_FIELDS
    assert set(nodes._ALLOWED_NODES) == set(nodes.NODE_KINDS)


def test_parts_are_contexts_and_operators_only():
    for t, kind in nodes.NODE_KINDS.items():
        if kind is nodes._PART:
            assert issubclass(t, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop,
                                  ast.boolop)), t


def test_allowed_and_refused_are_disjoint():
    assert not set(nodes.NODE_KINDS) & set(nodes._REFUSED_NODES)


def test_the_rewriter_handles_every_allowed_statement():
    """A statement kind in the table is either simple (its expressions are rewritten in place)
    or has its own visit_<Kind> method in the rewriter."""
    for t in nodes.NODE_KINDS:
        if issubclass(t, ast.stmt) and t is not ast.ImportFrom:  # imports are stripped
            assert t in rewriter.SIMPLE or hasattr(rewriter.GasRewriter, f"visit_{t.__name__}"), t
