"""Metering: a vetted module in, a gas-metered code object out.

``compile_contract(source, filename)`` (:mod:`.compiler`, cached by code hash) runs vetting, then
:mod:`.rewriter` (which makes every block, loop iteration and call charge gas according to
:mod:`.schedule`), then ``compile()``. The helper names the rewriter emits are the runtime's
``_pc_*`` functions.
"""

from pycontract.metering.compiler import CompiledContract, compile_contract
from pycontract.metering.schedule import GAS_SCHEDULE_VERSION, SCHEDULE

__all__ = ["compile_contract", "CompiledContract", "GAS_SCHEDULE_VERSION", "SCHEDULE"]
