"""Package discovery plus the one mapped package (pyproject.toml cannot express both).

Every ``pycontract.*`` and ``ledger_store.*`` package is found automatically; the top-level
``examples/`` folder ships as ``pycontract.examples`` (mapped in pyproject.toml) so
``pycontract demo`` works after any install.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["pycontract", "pycontract.*", "ledger_store", "ledger_store.*"])
    + ["pycontract.examples"],
)
