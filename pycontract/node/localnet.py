"""A local N-validator network on loopback, for authors and tests.

``start(DIR, nodes=N)`` lays out ``cometbft testnet --v N --o DIR`` (one home per node, one
genesis for all), gives each node free loopback ports, fast block timeouts and its own app
socket, then starts every node as a detached ``pycontract node start --home DIR/node<I>``
process in its own process group and returns once every node is producing blocks.
``stop(DIR)`` stops every process group it started (SIGTERM, then SIGKILL after a bound) and
checks that none is left. ``start(DIR, node=I)`` restarts one node and waits until it caught up.

Everything a node has lives under DIR/node<I>/ (its CometBFT home, app.sock, app/ledger.db,
cometbft.log, app.log, node.log = the node process's own output, node.pid). DIR/localnet.json
records the chain id, the app and each node's ports, RPC URL and process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pycontract.node import cometbft

MANIFEST = "localnet.json"
DEFAULT_APP = "pycontract"
DEFAULT_START_TIMEOUT = 120.0  # 2 shared cores: N CometBFTs and N apps start together
DEFAULT_STOP_TIMEOUT = 10.0
MAX_NODES = 32

_children: dict[int, subprocess.Popen] = {}  # node processes started by this process (to reap)


class LocalnetError(Exception):
    """A localnet could not be created, started or stopped; one line."""


# --------------------------------------------------------------------------- layout


def node_home(dir, i: int) -> Path:
    return Path(dir).absolute() / f"node{i}"


def load_manifest(dir) -> dict:
    path = Path(dir) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise LocalnetError(f"{dir}: no localnet here (no {MANIFEST}); create one with --nodes N") from None
    except (OSError, ValueError) as e:
        raise LocalnetError(f"{path}: unreadable ({e})") from None


def _save_manifest(dir, manifest: dict) -> None:
    path = Path(dir) / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, path)


def create(dir, nodes: int, *, app: str = DEFAULT_APP, binary: str | None = None,
           max_gas: int = cometbft.DEFAULT_BLOCK_MAX_GAS, chain_id: str | None = None,
           fast: bool = True) -> dict:
    """Lay out an N-validator network in DIR (must be missing or empty); returns the manifest."""
    if not isinstance(nodes, int) or not 1 <= nodes <= MAX_NODES:
        raise LocalnetError(f"--nodes must be between 1 and {MAX_NODES}, not {nodes}")
    dir = Path(dir).absolute()
    if dir.exists() and (not dir.is_dir() or any(dir.iterdir())):
        raise LocalnetError(f"{dir}: exists and is not an empty directory")
    # check the socket path length before doing any work
    cometbft.socket_path(node_home(dir, nodes - 1))
    binary = binary or cometbft.ensure_installed()
    dir.mkdir(parents=True, exist_ok=True)
    cometbft.run_cometbft(binary, [
        "testnet", "--v", str(nodes), "--o", str(dir), "--starting-ip-address", "127.0.0.1",
        "--populate-persistent-peers=false",
    ])
    ports = cometbft.free_ports(2 * nodes)
    entries = []
    for i in range(nodes):
        home = node_home(dir, i)
        entries.append({
            "index": i, "home": str(home), "node_id": cometbft.node_id(home),
            "p2p_port": ports[2 * i], "rpc_port": ports[2 * i + 1],
            "rpc_url": f"http://127.0.0.1:{ports[2 * i + 1]}",
        })
    genesis = None
    for e in entries:
        home = Path(e["home"])
        peers = ",".join(f"{o['node_id']}@127.0.0.1:{o['p2p_port']}" for o in entries if o is not e)
        cometbft.configure_node(home, p2p_port=e["p2p_port"], rpc_port=e["rpc_port"],
                                persistent_peers=peers, fast=fast, moniker=f"node{e['index']}")
        cometbft.patch_genesis(home, max_gas=max_gas, chain_id=chain_id)
        (home / "app").mkdir(exist_ok=True)
        text = (home / "config" / "genesis.json").read_bytes()
        if genesis is None:
            genesis = text
        elif text != genesis:  # pragma: no cover - testnet writes one genesis for all
            raise LocalnetError(f"{home}: genesis differs from node0's")
    manifest = {
        "cometbft_version": cometbft.COMETBFT_VERSION,
        "chain_id": json.loads(genesis)["chain_id"],
        "app": app,
        "max_gas": max_gas,
        "nodes": entries,
    }
    _save_manifest(dir, manifest)
    return manifest


# --------------------------------------------------------------------------- processes


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rindex(b")") + 2:].split()
        state, pgrp = rest[0], int(rest[2])
        if pgrp == pgid and state not in (b"Z", b"X"):
            members.append(int(name))
    return members


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _node_members(pgid: int, home) -> list[int]:
    """The live processes of a node's process group, or [] when that group id now belongs to
    someone else (pids are reused): a node's processes all carry ``--home HOME``."""
    members = _group_members(pgid)
    needle = b"\0" + os.fsencode(str(home)) + b"\0"
    if members and not any(needle in _cmdline(p) + b"\0" for p in members):
        return []
    return members


def _reap(pgid: int) -> None:
    p = _children.get(pgid)
    if p is not None and p.poll() is not None:
        _children.pop(pgid, None)


def node_running(dir, i: int) -> bool:
    """Whether node I's process group has any live process."""
    e = load_manifest(dir)["nodes"][i]
    pgid = e.get("pgid")
    if pgid:
        _reap(pgid)
        return bool(_node_members(pgid, e["home"]))
    return False


def spawn_node(dir, i: int, *, app: str | None = None, env: dict | None = None) -> int:
    """Start ``pycontract node start --home DIR/node<I>`` detached, in its own process group
    (its CometBFT child joins that group). Returns the pid (= the group id). ``env`` adds
    variables to this one node's environment (tests: PYCONTRACT_TEST_FAULT)."""
    dir = Path(dir).absolute()
    manifest = load_manifest(dir)
    if not 0 <= i < len(manifest["nodes"]):
        raise LocalnetError(f"{dir}: no node {i} (the network has nodes 0..{len(manifest['nodes']) - 1})")
    entry = manifest["nodes"][i]
    home = Path(entry["home"])
    if node_running(dir, i):
        raise LocalnetError(f"node {i} is already running (process group {entry['pgid']})")
    app = app or manifest.get("app", DEFAULT_APP)
    cmd = [sys.executable, "-m", "pycontract.node.cli", "node", "start", "--home", str(home), "--app", app]
    with open(home / "node.log", "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True, cwd=str(home),
                                env=dict(os.environ, **env) if env else None)
    _children[proc.pid] = proc
    (home / "node.pid").write_text(f"{proc.pid}\n")
    entry["pgid"] = proc.pid
    _save_manifest(dir, manifest)
    return proc.pid


def _height(url: str) -> int | None:
    from pycontract.node.client import NodeClient, NodeError

    try:
        return NodeClient(url, timeout=2.0).status()["height"]
    except NodeError:
        return None


def _fail_line(dir, i: int) -> str:
    home = node_home(dir, i)
    tail = cometbft.log_tail(home / "node.log") or cometbft.log_tail(home / "cometbft.log")
    return f"node {i} stopped: {tail or 'no output'} (see {home})"


def wait_producing(dir, indices, *, min_height: dict | int = 2, timeout: float = DEFAULT_START_TIMEOUT) -> dict:
    """Poll each node's RPC until it reaches its target height and has made a block since it
    first answered (so a restarted network counts only once it moves again); {index: height}.
    Fails early (LocalnetError) when a node's processes are gone."""
    manifest = load_manifest(dir)
    targets = {i: (min_height[i] if isinstance(min_height, dict) else min_height) for i in indices}
    heights: dict[int, int] = {}
    first: dict[int, int] = {}

    def done(i):
        return i in heights and heights[i] >= targets[i] and heights[i] > first[i]

    deadline = time.monotonic() + timeout
    while True:
        for i in indices:
            if done(i):
                continue
            h = _height(manifest["nodes"][i]["rpc_url"])
            if h is not None:
                heights[i] = h
                first.setdefault(i, h)
            elif not node_running(dir, i):
                raise LocalnetError(_fail_line(dir, i))
        if all(done(i) for i in indices):
            return heights
        if time.monotonic() >= deadline:
            slow = [i for i in indices if not done(i)]
            raise LocalnetError(
                f"node(s) {', '.join(map(str, slow))} did not reach their height within {timeout:g} s "
                f"(heights {heights}); logs under {Path(dir).absolute()}/node<I>/"
            )
        time.sleep(0.2)


def start(dir, *, nodes: int | None = None, node: int | None = None, app: str | None = None,
          timeout: float = DEFAULT_START_TIMEOUT, env: dict | None = None,
          **create_kwargs) -> dict:
    """Create (with ``nodes``) and/or start a localnet; with ``node``, restart that one node.
    ``env`` adds variables to the environment of the nodes this call starts (test-only faults).

    Returns the manifest. On failure every process this call started is stopped.
    """
    dir = Path(dir).absolute()
    exists = (dir / MANIFEST).is_file()
    if node is not None and nodes is not None:
        raise LocalnetError("give --nodes N to create a network or --node I to restart one node, not both")
    if nodes is not None:
        if exists:
            raise LocalnetError(f"{dir}: a localnet already exists here; start it without --nodes or stop it")
        create(dir, nodes, app=app or DEFAULT_APP, **create_kwargs)
    elif not exists:
        raise LocalnetError(f"{dir}: no localnet here; create one with --nodes N")
    manifest = load_manifest(dir)
    n = len(manifest["nodes"])
    if node is not None:
        if not 0 <= node < n:
            raise LocalnetError(f"{dir}: no node {node} (the network has nodes 0..{n - 1})")
        todo = [node]
    else:
        todo = [i for i in range(n) if not node_running(dir, i)]
    started = []
    try:
        # the height the restarted node must reach: what the others have now
        others = [i for i in range(n) if i not in todo and node_running(dir, i)]
        target = 2
        for i in others:
            h = _height(manifest["nodes"][i]["rpc_url"])
            if h is not None:
                target = max(target, h)
        for i in todo:
            spawn_node(dir, i, app=app, env=env)
            started.append(i)
        wait_producing(dir, todo, min_height=target, timeout=timeout)
    except BaseException:
        for i in started:
            stop_node(dir, i)
        raise
    return load_manifest(dir)


def stop_node(dir, i: int, *, timeout: float = DEFAULT_STOP_TIMEOUT) -> bool:
    """Stop node I's process group: SIGTERM, SIGKILL after ``timeout``; True if it was running.
    Raises LocalnetError if a process survives SIGKILL."""
    manifest = load_manifest(dir)
    entry = manifest["nodes"][i]
    pgid = entry.get("pgid")
    if not pgid or not _node_members(pgid, entry["home"]):
        return False
    was = True
    for sig, bound in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        if not _group_members(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + bound
        while _group_members(pgid) and time.monotonic() < deadline:
            _reap(pgid)
            time.sleep(0.05)
    _reap(pgid)
    left = _group_members(pgid)
    if left:
        raise LocalnetError(f"node {i}: processes {left} survived SIGKILL")
    home = Path(entry["home"])
    if cometbft.read_pid(home / "node.pid") == pgid:
        (home / "node.pid").unlink(missing_ok=True)
    return was


def stop(dir, *, timeout: float = DEFAULT_STOP_TIMEOUT) -> list[int]:
    """Stop every node of the localnet in DIR; the indices that were running."""
    manifest = load_manifest(dir)
    running = [e["index"] for e in manifest["nodes"] if e.get("pgid") and _node_members(e["pgid"], e["home"])]
    # signal every node first so they stop in parallel, then wait for each
    for i in running:
        try:
            os.killpg(manifest["nodes"][i]["pgid"], signal.SIGTERM)
        except ProcessLookupError:
            pass
    for e in manifest["nodes"]:
        stop_node(dir, e["index"], timeout=timeout)
    return running
