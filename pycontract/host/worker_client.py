"""The host's side of the sandbox worker: start it (scrubbed environment, two pipes), stop it,
and describe how it died. The frames themselves are :mod:`pycontract.worker.protocol`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from pycontract.worker import protocol

#: wall-clock allowance for one worker request: base + gas / floor rate (generous: the gas
#: limit already bounds the work; this only catches a wedged worker)
WORKER_TIMEOUT_BASE = 60.0
WORKER_MIN_GAS_PER_SECOND = 1_000_000
WORKER_START_TIMEOUT = 60.0
# ------------------------------------------------------------------------------- worker


def _signal_name(n: int) -> str:
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


class _Worker:
    """One sandbox worker process and its two pipes."""

    #: the worker's ``compiler.engine_tag`` (from its hello): whose compiled code it loads
    engine = ""

    def __init__(self, ledger_path: str, chain_id: str, limits: dict, hash_seed: int = 0):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        _widen_pipe(resp_w)
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": str(int(hash_seed)),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONINTMAXSTRDIGITS": "4300",
            "PYTHONPATH": os.pathsep.join(_package_roots()),
        }
        if os.environ.get("PYCONTRACT_WORKER_TEST_PROBES") == "1":
            env["PYCONTRACT_WORKER_TEST_PROBES"] = "1"
        debug = os.environ.get("PYCONTRACT_WORKER_STDERR") == "1"
        argv = [sys.executable, "-s", "-m", "pycontract.worker", str(req_r), str(resp_w),
                ledger_path, chain_id, json.dumps(limits)]
        try:
            self.proc = subprocess.Popen(
                argv, env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=None if debug else subprocess.DEVNULL, close_fds=True,
                pass_fds=(req_r, resp_w),
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.req = req_w
        self.resp = resp_r
        self.pid = self.proc.pid
        self.sandbox: dict = {}

    def close(self, graceful: bool = True) -> None:
        if graceful and self.proc.poll() is None:
            try:
                protocol.write_frame(self.req, {"op": "exit"})
            except protocol.ProtocolError:
                pass
        for fd in (self.req, self.resp):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5 if graceful else 0.001)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.close(graceful=False)

    def describe_exit(self) -> str:
        try:
            rc = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if rc < 0:
            name = _signal_name(-rc)
            why = {"SIGKILL": " (killed, e.g. by an operator or the OOM killer)",
                   "SIGXCPU": " (CPU-time limit)", "SIGSEGV": " (crashed)",
                   "SIGXFSZ": " (file-size limit)"}.get(name, "")
            return f"was killed by {name}{why}"
        return f"exited with status {rc}"


#: F_SETPIPE_SZ (Linux): the reply pipe holds up to 1 MiB (the unprivileged maximum by
#: default), so the worker keeps running a block while the host commits the one before
#: (Chain.execute_blocks) instead of stalling on a full 64 KiB pipe
_F_SETPIPE_SZ = 1031
REPLY_PIPE_BYTES = 1 << 20


def _widen_pipe(fd: int) -> None:
    import fcntl

    try:
        fcntl.fcntl(fd, _F_SETPIPE_SZ, REPLY_PIPE_BYTES)
    except OSError:  # not Linux, or a lower pipe-max-size: only slower
        pass


def _package_roots() -> list[str]:
    import ledger_store
    import pycontract

    roots = []
    for mod in (pycontract, ledger_store):
        root = os.path.dirname(os.path.dirname(os.path.abspath(mod.__file__)))
        if root not in roots:
            roots.append(root)
    return roots


