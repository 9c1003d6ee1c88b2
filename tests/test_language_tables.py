"""The shared whitelists must be consistent, or vetting and runtime would disagree."""

import builtins

from pycontract import language


def test_allowed_and_forbidden_builtins_are_disjoint():
    assert not (language.ALLOWED_BUILTINS & set(language.FORBIDDEN_BUILTINS))
    assert not (language.ALLOWED_EXCEPTIONS & set(language.FORBIDDEN_BUILTINS))


def test_every_allowed_builtin_exists_in_python():
    for name in language.ALLOWED_BUILTINS | language.ALLOWED_EXCEPTIONS:
        assert hasattr(builtins, name), name


def test_no_allowed_attribute_reaches_dunders_or_formatting():
    for name in language.ALLOWED_ATTRIBUTE_NAMES:
        assert not name.startswith("_"), name
    assert "format" not in language.ALLOWED_ATTRIBUTE_NAMES
    assert "format_map" not in language.ALLOWED_ATTRIBUTE_NAMES


def test_allowed_exceptions_are_catchable_exceptions_only():
    for name in language.ALLOWED_EXCEPTIONS:
        exc = getattr(builtins, name)
        assert issubclass(exc, Exception), name
