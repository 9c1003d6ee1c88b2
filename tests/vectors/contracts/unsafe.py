from pycontract import view
import os


@view
def run(cmd: str) -> int:
    x = 1 / 2
    return eval(cmd)
