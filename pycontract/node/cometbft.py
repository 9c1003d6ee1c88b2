"""The pinned CometBFT binary, node homes and CometBFT processes.

pycontract runs as the ABCI 2.0 application behind CometBFT; the version is pinned because the
ABCI wire schema, the config template and the genesis format are all per-release. This module

* finds or builds the pinned binary (:func:`ensure_installed`; ``python -m
  pycontract.node.cometbft`` does it on a fresh machine and prints the path),
* creates and patches node homes (``config/config.toml``, ``config/genesis.json``),
* starts and stops a CometBFT process whose log lives in the node directory.

A node home (``pycontract node init``) holds::

    HOME/config/          CometBFT's config.toml, genesis.json, keys
    HOME/data/            CometBFT's block store and state
    HOME/app/ledger.db    the pycontract ledger
    HOME/app.sock         the ABCI socket CometBFT connects to
    HOME/cometbft.log     CometBFT's output
    HOME/app.log          the application's log
    HOME/node.pid         pid of the ``pycontract node start`` process (its process group)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

COMETBFT_VERSION = "v0.38.26"
_PLAIN_VERSION = COMETBFT_VERSION.lstrip("v")
_MODULE = "github.com/cometbft/cometbft/cmd/cometbft"

#: consensus_params.block.max_gas written into every genesis (the same on every node).
DEFAULT_BLOCK_MAX_GAS = 100_000_000

#: Timeouts for test networks: blocks every ~0.3-1 s instead of every few seconds.
FAST_TIMEOUTS = {
    "timeout_propose": "500ms",
    "timeout_prevote": "100ms",
    "timeout_precommit": "100ms",
    "timeout_commit": "300ms",
}

#: rpc.max_body_bytes: a 1 MiB transaction (the mempool's and the app's limit) travels base64 in
#: a JSON body of ~1.4 MB; CometBFT's default (1,000,000) refused transactions above ~750 KB at
#: the HTTP layer before the mempool or the app could say why.
RPC_MAX_BODY_BYTES = 2_000_000

#: Unix socket paths longer than this do not fit sockaddr_un.sun_path (108 bytes with the NUL).
MAX_SOCKET_PATH = 107


class CometBFTError(Exception):
    """Getting, configuring or running CometBFT failed; the message is one line."""


# --------------------------------------------------------------------------- the binary


def cache_dir() -> Path:
    """Where the pinned build is cached: $XDG_CACHE_HOME or ~/.cache, per version."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pycontract" / f"cometbft-{COMETBFT_VERSION}"


def binary_version(path: str | os.PathLike) -> str | None:
    """What ``PATH version`` prints (stripped), or None when it does not run."""
    try:
        out = subprocess.run(
            [os.fspath(path), "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip()


def _is_pinned(path) -> bool:
    return path is not None and os.path.isfile(path) and binary_version(path) == _PLAIN_VERSION


def ensure_installed(*, build: bool = True) -> str:
    """The path of a CometBFT binary of the pinned version, building it if needed.

    Order: $PYCONTRACT_COMETBFT (used as given, but its version must match); the cached build;
    a ``cometbft`` on PATH or in ~/go/bin that prints exactly the pinned version; else
    ``go install`` into the cache directory.
    """
    env = os.environ.get("PYCONTRACT_COMETBFT")
    if env:
        if not os.path.isfile(env):
            raise CometBFTError(f"PYCONTRACT_COMETBFT={env}: no such file")
        got = binary_version(env)
        if got != _PLAIN_VERSION:
            raise CometBFTError(
                f"PYCONTRACT_COMETBFT={env} is CometBFT {got or '(does not run)'}, "
                f"pycontract needs {_PLAIN_VERSION}"
            )
        return env
    cached = cache_dir() / "cometbft"
    if _is_pinned(cached):
        return str(cached)
    candidates = [shutil.which("cometbft"), os.path.join(os.path.expanduser("~"), "go", "bin", "cometbft")]
    gopath = os.environ.get("GOPATH")
    if gopath:
        candidates.append(os.path.join(gopath.split(os.pathsep)[0], "bin", "cometbft"))
    for c in candidates:
        if _is_pinned(c):
            return os.path.abspath(c)
    if not build:
        raise CometBFTError(f"CometBFT {_PLAIN_VERSION} is not installed")
    return _build(cached.parent)


#: Where Go's official installer puts the toolchain when it is not on PATH.
_GO_FALLBACKS = ["/usr/local/go/bin/go"]


def _build(target: Path) -> str:
    go = shutil.which("go") or next((g for g in _GO_FALLBACKS if os.path.isfile(g)), None)
    if go is None:
        raise CometBFTError(
            f"CometBFT {_PLAIN_VERSION} is not installed and `go` is not on PATH: install Go >= 1.22 "
            f"or set PYCONTRACT_COMETBFT to a cometbft {_PLAIN_VERSION} binary"
        )
    target.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="0", GOBIN=str(target))
    cmd = [go, "install", f"{_MODULE}@{COMETBFT_VERSION}"]
    print(f"building CometBFT {COMETBFT_VERSION} into {target} (go install; a few minutes) ...", file=sys.stderr)
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
    except subprocess.TimeoutExpired:
        raise CometBFTError(f"`{' '.join(cmd)}` did not finish in 30 minutes") from None
    if out.returncode != 0:
        lines = [ln for ln in (out.stderr or out.stdout).strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit status {out.returncode}"
        raise CometBFTError(f"building CometBFT {COMETBFT_VERSION} failed: {last}")
    built = target / "cometbft"
    if not _is_pinned(built):
        raise CometBFTError(f"building CometBFT {COMETBFT_VERSION} did not produce a working {built}")
    return str(built)


# --------------------------------------------------------------------------- ports


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct free ports (held open together so the kernel cannot repeat one)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# --------------------------------------------------------------------------- config files


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))  # a TOML basic string is a JSON string for our (ASCII) values


def patch_config(path: str | os.PathLike, changes: dict[str, dict]) -> None:
    """Set keys in CometBFT's config.toml, keeping its comments and layout.

    ``changes`` maps a section name ("" for the top level) to {key: value}. Every key must
    already exist in that section (CometBFT writes them all): a typo is an error, not a new key.
    """
    path = Path(path)
    lines = path.read_text().splitlines(keepends=True)
    pending = {sec: dict(kv) for sec, kv in changes.items()}
    section = ""
    key_re = re.compile(r"^([A-Za-z0-9_\-]+)\s*=")
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            section = s[1:-1].strip()
            continue
        m = key_re.match(s)
        if m and section in pending and m.group(1) in pending[section]:
            key = m.group(1)
            lines[i] = f"{key} = {_toml_value(pending[section].pop(key))}\n"
    missing = [f"[{sec}] {k}" if sec else k for sec, kv in pending.items() for k in kv]
    if missing:
        raise CometBFTError(f"{path}: no setting {', '.join(missing)} to patch")
    text = "".join(lines)
    tomllib.loads(text)  # still valid TOML
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_config(home) -> dict:
    return tomllib.loads((Path(home) / "config" / "config.toml").read_text())


def read_genesis(home) -> dict:
    return json.loads((Path(home) / "config" / "genesis.json").read_text())


def patch_genesis(home, *, max_gas: int = DEFAULT_BLOCK_MAX_GAS, chain_id: str | None = None) -> None:
    """Set consensus_params.block.max_gas (and optionally the chain id) in a node's genesis."""
    path = Path(home) / "config" / "genesis.json"
    g = json.loads(path.read_text())
    g["consensus_params"]["block"]["max_gas"] = str(int(max_gas))  # int64 is a JSON string
    if chain_id is not None:
        g["chain_id"] = chain_id
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(g, indent=2) + "\n")
    os.replace(tmp, path)


def node_id(home) -> str:
    """The P2P node ID: hex of sha256(ed25519 public key)[:20] from config/node_key.json."""
    nk = json.loads((Path(home) / "config" / "node_key.json").read_text())
    priv = base64.b64decode(nk["priv_key"]["value"])
    return hashlib.sha256(priv[32:]).digest()[:20].hex()


def socket_path(home) -> str:
    """The unix socket the app listens on (under the node dir); refused when too long."""
    p = os.path.join(os.path.abspath(home), "app.sock")
    if len(p.encode()) > MAX_SOCKET_PATH:
        raise CometBFTError(
            f"{p}: {len(p.encode())} bytes is too long for a unix socket (max {MAX_SOCKET_PATH}); "
            "use a shorter directory"
        )
    return p


def configure_node(
    home,
    *,
    p2p_port: int,
    rpc_port: int,
    persistent_peers: str = "",
    fast: bool = False,
    moniker: str | None = None,
    p2p_host: str = "127.0.0.1",
) -> None:
    """Patch a node's config.toml for loopback use: ports, the app socket, peers, indexer.
    RPC always listens on loopback (it can broadcast and is not meant for the open network)."""
    top = {"proxy_app": "unix://" + socket_path(home)}
    if moniker is not None:
        top["moniker"] = moniker
    changes = {
        "": top,
        "rpc": {"laddr": f"tcp://127.0.0.1:{rpc_port}", "max_body_bytes": RPC_MAX_BODY_BYTES},
        "p2p": {
            "laddr": f"tcp://{p2p_host}:{p2p_port}",
            "persistent_peers": persistent_peers,
            "allow_duplicate_ip": True,
            "addr_book_strict": False,
        },
        "tx_index": {"indexer": "kv"},
        "instrumentation": {"prometheus": False},
    }
    if fast:
        changes["consensus"] = dict(FAST_TIMEOUTS)
    patch_config(Path(home) / "config" / "config.toml", changes)


def init_home(
    home,
    *,
    binary: str | None = None,
    chain_id: str | None = None,
    max_gas: int = DEFAULT_BLOCK_MAX_GAS,
    p2p_port: int = 26656,
    rpc_port: int = 26657,
    p2p_host: str = "127.0.0.1",
    fast: bool = False,
) -> Path:
    """Create a single-validator node home (``cometbft init`` plus our layout and patches)."""
    home = Path(home).absolute()
    if (home / "config" / "genesis.json").exists():
        raise CometBFTError(f"{home}: already a node home (config/genesis.json exists)")
    binary = binary or ensure_installed()
    home.mkdir(parents=True, exist_ok=True)
    run_cometbft(binary, ["init", "--home", str(home)])
    (home / "app").mkdir(exist_ok=True)
    patch_genesis(home, max_gas=max_gas, chain_id=chain_id)
    configure_node(home, p2p_port=p2p_port, rpc_port=rpc_port, fast=fast, p2p_host=p2p_host)
    return home


def run_cometbft(binary: str, args: list[str], *, timeout: float = 60) -> str:
    """Run a short cometbft command (init, testnet, show-node-id); its stdout, or a clear error."""
    try:
        out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CometBFTError(f"cometbft {args[0]} did not finish in {timeout:g} s") from None
    if out.returncode != 0:
        lines = [ln for ln in (out.stderr + out.stdout).strip().splitlines() if ln.strip()]
        raise CometBFTError(f"cometbft {args[0]} failed: {lines[-1] if lines else out.returncode}")
    return out.stdout


# --------------------------------------------------------------------------- processes


def _pdeathsig():
    """preexec_fn: have the kernel send SIGTERM to CometBFT if its parent (the node) dies,
    so kill -9 of a node never leaves an orphan CometBFT behind. Linux only; else a no-op.
    (The signal follows the *thread* that forked: start CometBFT from the main thread.)"""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return None

    def set_it():
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return set_it


def start_process(binary: str, home, *, proxy_app: str | None = None, log_path=None,
                  extra_args=()) -> subprocess.Popen:
    """Start ``cometbft start --home HOME`` with its output appended to HOME/cometbft.log.

    The child stays in the caller's process group (stopping the group stops it) and gets
    SIGTERM if the caller dies."""
    home = Path(home).absolute()
    log_path = Path(log_path) if log_path else home / "cometbft.log"
    args = [binary, "start", "--home", str(home)]
    if proxy_app:
        args += ["--proxy_app", proxy_app]
    args += list(extra_args)
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_pdeathsig(), close_fds=True,
        )
    finally:
        log.close()


def stop_process(proc: subprocess.Popen, *, timeout: float = 10.0) -> int | None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; reaps it. Returns its exit status."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    return proc.returncode


def log_tail(path, n: int = 1) -> str:
    """The last ``n`` non-empty lines of a log (for one-line error messages)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [ln.strip() for ln in data.splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def main(argv=None) -> int:
    """``python -m pycontract.node.cometbft``: install the pinned CometBFT, print its path."""
    try:
        print(ensure_installed())
    except CometBFTError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --------------------------------------------------------------------------- one node, for real


class NodeRunError(CometBFTError):
    """The node (its app or its CometBFT) stopped on its own; the message says which and why."""


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X")
    except (OSError, ValueError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def read_pid(path) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


class _AppThread:
    """Serves the ABCI application on the node's unix socket from one thread: the application
    is created in that thread too, so its SQLite connections stay with the thread that uses
    them (N1's server calls the application from a single thread)."""

    def __init__(self, factory, address: str, kwargs: dict):
        import threading

        self.factory = factory
        self.address = address
        self.kwargs = kwargs
        self.server = None
        self.error: BaseException | None = None
        self.ready = threading.Event()  # listening: CometBFT may connect
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name="abci-server", daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        try:
            from pycontract.node.abci import server as abci_server

            app = self.factory(**self.kwargs)
            try:
                srv = abci_server.make_server(app, self.address)  # bound and listening
                with self._lock:
                    if self._stopping:
                        srv.close()
                        return
                    self.server = srv
                self.ready.set()
                srv.serve()
            finally:
                close = getattr(app, "close", None)
                if close is not None:  # drops a pending block, stops the engine's worker
                    close()
        except BaseException as e:  # noqa: BLE001 - reported by the supervisor as one line
            self.error = e
        finally:
            self.done.set()

    def stop(self, timeout: float = 10.0):
        with self._lock:
            self._stopping = True
            srv = self.server
        if srv is not None:
            srv.shutdown(timeout)
        self.done.wait(timeout)


def _one_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]


def run_node(
    home,
    *,
    app_factory=None,
    proxy_app: str | None = None,
    binary: str | None = None,
    ready_timeout: float = 30.0,
    stop_timeout: float = 10.0,
    on_ready=None,
) -> None:
    """Run one node until SIGTERM/SIGINT (returns) or until its app or CometBFT stops on its
    own (NodeRunError: the other one is stopped first).

    With ``app_factory``, the application ``app_factory(home=Path, ledger_path=Path,
    chain_id=str)`` is served in this process on HOME/app.sock and CometBFT connects to it;
    with ``proxy_app`` (e.g. "kvstore", CometBFT's built-in app) no Python app is served.
    """
    import logging
    import threading

    home = Path(home).absolute()
    if not (home / "config" / "genesis.json").is_file():
        raise CometBFTError(f"{home}: not a node home (no config/genesis.json); run `pycontract node init` first")
    if (app_factory is None) == (proxy_app is None):
        raise ValueError("give exactly one of app_factory and proxy_app")
    binary = binary or ensure_installed()
    pid_file = home / "node.pid"
    old = read_pid(pid_file)
    if old is not None and old != os.getpid() and _pid_alive(old):
        raise CometBFTError(f"{home}: a node is already running here (pid {old})")
    pid_file.write_text(f"{os.getpid()}\n")

    stop = threading.Event()
    previous = {}

    def on_signal(signum, _frame):
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, on_signal)

    app_thread = None
    cmt = None
    handler = None
    failure = None
    try:
        if app_factory is not None:
            handler = logging.FileHandler(home / "app.log")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logging.getLogger().addHandler(handler)
            logging.getLogger().setLevel(logging.INFO)
            sock = socket_path(home)
            if os.path.exists(sock):  # left by a killed node; we hold node.pid, so it is stale
                os.unlink(sock)
            (home / "app").mkdir(exist_ok=True)
            app_thread = _AppThread(app_factory, "unix://" + sock, {
                "home": home, "ledger_path": home / "app" / "ledger.db",
                "chain_id": read_genesis(home)["chain_id"],
            })
            app_thread.start()
            deadline = time.monotonic() + ready_timeout
            while not app_thread.ready.wait(0.02):
                if app_thread.done.is_set():
                    raise NodeRunError(f"the application did not start: {_one_line(app_thread.error or RuntimeError('it stopped'))}")
                if stop.is_set():
                    return
                if time.monotonic() >= deadline:
                    raise NodeRunError(f"the application did not listen on {sock} within {ready_timeout:g} s")
        log_path = home / "cometbft.log"
        cmt = start_process(binary, home, proxy_app=proxy_app, log_path=log_path)
        if on_ready is not None:
            on_ready()
        while not stop.is_set():
            rc = cmt.poll()
            if rc is not None:
                if stop.wait(0.5):  # Ctrl-C reaches the whole foreground group: ours is a stop too
                    break
                failure = f"cometbft exited with status {rc}: {log_tail(log_path) or 'no output'} (see {log_path})"
                break
            if app_thread is not None and app_thread.done.wait(0.2):
                why = _one_line(app_thread.error) if app_thread.error else "its server stopped"
                failure = f"the application stopped: {why} (see {home / 'app.log'})"
                break
            if app_thread is None:
                stop.wait(0.2)
    finally:
        if cmt is not None:
            stop_process(cmt, timeout=stop_timeout)
        if app_thread is not None:
            app_thread.stop(stop_timeout)
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
        for sig, h in previous.items():
            signal.signal(sig, h)
        if read_pid(pid_file) == os.getpid():
            pid_file.unlink(missing_ok=True)
    if failure:
        raise NodeRunError(failure)
