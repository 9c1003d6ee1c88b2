"""A real 4-validator localnet on loopback: starts, every node produces the same blocks (same
app hash at a common height), a node killed with -9 restarts with --node I and catches up, and
stop leaves no process. The application is conftest.NODE_APP (kvstore until app.py lands)."""

from __future__ import annotations

import json
import os
import signal

import pytest

from pycontract.node import localnet
from pycontract.node.client import NodeClient
from node_support import height as node_height, poll

pytestmark = pytest.mark.network

N = 4




def _all_groups(manifest):
    return [e["pgid"] for e in manifest["nodes"] if e.get("pgid")]


def _same_block_everywhere(urls, height):
    """The block at ``height`` (hash and app hash) as every node has it."""
    blocks = [NodeClient(u).block(height) for u in urls]
    assert all(b == blocks[0] for b in blocks), blocks
    return blocks[0]


@pytest.fixture(scope="module")
def net(tmp_path_factory, cometbft_bin, node_cli, node_app):
    app, _ = node_app
    d = tmp_path_factory.mktemp("ln") / "net"
    try:
        r = node_cli("localnet", "start", "--nodes", N, "--dir", d, "--app", app, "--timeout", 180, timeout=300)
        assert r.returncode == 0, r.stderr
        yield d, r.stdout
    finally:
        if (d / localnet.MANIFEST).exists():
            m = localnet.load_manifest(d)
            localnet.stop(d)
            assert not any(localnet._group_members(g) for g in _all_groups(m))


def test_start_prints_every_rpc_url_and_writes_the_manifest(net):
    d, out = net
    m = json.loads((d / "localnet.json").read_text())
    assert len(m["nodes"]) == N and m["cometbft_version"] == "v0.38.26"
    lines = out.strip().splitlines()
    assert lines == [f"node{e['index']} {e['rpc_url']}" for e in m["nodes"]]
    ports = [p for e in m["nodes"] for p in (e["p2p_port"], e["rpc_port"])]
    assert len(set(ports)) == 2 * N
    for e in m["nodes"]:
        home = d / f"node{e['index']}"
        assert e["home"] == str(home)
        assert (home / "cometbft.log").is_file() and (home / "node.pid").is_file()
        assert localnet._group_members(e["pgid"]), "the node's process group is running"
    genesis = {(d / f"node{i}" / "config" / "genesis.json").read_bytes() for i in range(N)}
    assert len(genesis) == 1
    assert json.loads(genesis.pop())["consensus_params"]["block"]["max_gas"] == str(m["max_gas"])


def test_all_nodes_produce_blocks_with_the_same_app_hash(net, node_app):
    d, _ = net
    _, app_tx = node_app
    m = localnet.load_manifest(d)
    urls = [e["rpc_url"] for e in m["nodes"]]
    first = NodeClient(urls[0])
    before = first.status()["app_hash"]
    committed = [first.wait_for(app_tx(NodeClient(urls[i % N]), i))["height"] for i in range(4)]
    # the app hash of the last tx's block is in the next header: wait for every node to pass it
    target = max(committed) + 1
    poll(lambda: all((node_height(u) or 0) >= target for u in urls), 60, f"every node at height {target}")
    b = _same_block_everywhere(urls, target)
    assert b["app_hash"] != before, "the transactions changed the app hash"
    for h in range(1, target + 1):
        _same_block_everywhere(urls, h)


def test_kill9_one_node_then_restart_catches_up(net, node_cli, node_app):
    d, _ = net
    _, app_tx = node_app
    m = localnet.load_manifest(d)
    victim = 2
    e = m["nodes"][victim]
    pgid = e["pgid"]
    os.killpg(pgid, signal.SIGKILL)
    poll(lambda: not localnet._group_members(pgid), 10, "the killed node to vanish")
    others = [o["rpc_url"] for o in m["nodes"] if o["index"] != victim]
    # 3 of 4 validators keep the chain going while the victim is down
    h0 = max(node_height(u) or 0 for u in others)
    tx = app_tx(NodeClient(others[0]), 100)
    poll(lambda: all((node_height(u) or 0) >= h0 + 3 for u in others), 60, "the network to go on")
    r = node_cli("localnet", "start", "--dir", d, "--node", victim, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"node{victim} {e['rpc_url']}"
    m2 = localnet.load_manifest(d)
    assert m2["nodes"][victim]["pgid"] != pgid and localnet._group_members(m2["nodes"][victim]["pgid"])
    restarted = NodeClient(e["rpc_url"])
    st = restarted.status()
    assert st["height"] >= h0 + 3 and not st["catching_up"]
    assert restarted.wait_for(tx, timeout=5)["height"] > 0  # it has the block it missed
    urls = [o["rpc_url"] for o in m2["nodes"]]
    common = min(node_height(u) for u in urls)
    _same_block_everywhere(urls, common)
    # restarting a running node is refused in one line
    r = node_cli("localnet", "start", "--dir", d, "--node", victim)
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "already running" in r.stderr


def test_bad_localnet_commands_are_one_line(net, node_cli, tmp_path):
    d, _ = net
    for args, needle in [
        (("localnet", "start", "--dir", d, "--nodes", 2), "already exists"),
        (("localnet", "start", "--dir", d, "--node", 9), "no node 9"),
        (("localnet", "start", "--dir", tmp_path / "none"), "no localnet here"),
        (("localnet", "stop", "--dir", tmp_path / "none"), "no localnet here"),
        (("localnet", "start", "--dir", d, "--nodes", 0), "--nodes"),
    ]:
        r = node_cli(*args)
        assert r.returncode in (2, 3), (args, r.stdout, r.stderr)
        assert r.stderr.count("\n") == 1 and needle in r.stderr, (args, r.stderr)


def test_stop_leaves_no_process(tmp_path, node_cli, node_app):
    """A fresh 2-node net so the module's network is not disturbed; stop twice is harmless."""
    app, _ = node_app
    d = tmp_path / "net2"
    try:
        r = node_cli("localnet", "start", "--nodes", 2, "--dir", d, "--app", app, timeout=300)
        assert r.returncode == 0, r.stderr
        m = localnet.load_manifest(d)
        groups = _all_groups(m)
        assert len(groups) == 2 and all(localnet._group_members(g) for g in groups)
        members = [p for g in groups for p in localnet._group_members(g)]
        assert len(members) == 4  # each node: the node process and its CometBFT
        last = max(node_height(e["rpc_url"]) for e in m["nodes"])
        r = node_cli("localnet", "stop", "--dir", d)
        assert r.returncode == 0 and r.stdout.strip() == "stopped 2 node(s): node0, node1", r.stdout
        assert not any(localnet._group_members(g) for g in groups)
        assert not any(os.path.exists(f"/proc/{p}") and localnet._group_members(p) for p in members)
        assert not (d / "node0" / "node.pid").exists()
        r = node_cli("localnet", "stop", "--dir", d)
        assert r.returncode == 0 and r.stdout.strip() == "stopped 0 node(s)"
        # the stopped network starts again from its stores (no --nodes) and moves on past the
        # height it had before the stop
        r = node_cli("localnet", "start", "--dir", d, timeout=300)
        assert r.returncode == 0, r.stderr
        poll(lambda: all((node_height(e["rpc_url"]) or 0) > last for e in m["nodes"]), 60, "new blocks")
    finally:
        if (d / localnet.MANIFEST).exists():
            localnet.stop(d)


# An in-memory Python app (the app hash counts transactions): a localnet of Python apps on unix
# sockets; after kill -9 its socket file is stale and its state gone, so the restart exercises
# the stale-socket path and CometBFT's replay of every block into a fresh app.
COUNTING_APP = '''
import struct
from pycontract.node.abci.server import Application
from pycontract.node.abci.tendermint.abci import types_pb2 as pb


class Counting(Application):
    def __init__(self):
        self.height, self.count, self.pending = 0, 0, None

    def info(self, req):
        return pb.ResponseInfo(last_block_height=self.height,
                               last_block_app_hash=struct.pack(">Q", self.count) if self.height else b"")

    def finalize_block(self, req):
        self.pending = (req.height, self.count + len(req.txs))
        return pb.ResponseFinalizeBlock(tx_results=[pb.ExecTxResult() for _ in req.txs],
                                        app_hash=struct.pack(">Q", self.pending[1]))

    def commit(self, req):
        self.height, self.count = self.pending
        return pb.ResponseCommit()


def create_app(*, home, ledger_path, chain_id):
    return Counting()
'''


def test_localnet_of_python_apps_restarts_from_a_stale_socket(tmp_path, node_cli):
    pytest.importorskip("pycontract.node.abci.server")
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "counting_test_app.py").write_text(COUNTING_APP)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(mods), os.environ.get("PYTHONPATH", "")]))
    d = tmp_path / "net3"
    try:
        r = node_cli("localnet", "start", "--nodes", 4, "--dir", d, "--app", "counting_test_app:create_app",
                     timeout=300, env=env)
        assert r.returncode == 0, r.stderr
        m = localnet.load_manifest(d)
        urls = [e["rpc_url"] for e in m["nodes"]]
        c = NodeClient(urls[0])
        for i in range(3):
            c.wait_for(c.broadcast(b"t%d" % i))
        victim = m["nodes"][1]  # 3 of 4 validators (> 2/3 of the power) go on without it
        os.killpg(victim["pgid"], signal.SIGKILL)
        poll(lambda: not localnet._group_members(victim["pgid"]), 10, "the killed node to vanish")
        assert (d / "node1" / "app.sock").exists(), "kill -9 leaves the socket file behind"
        c.wait_for(c.broadcast(b"while node1 is down"))
        r = node_cli("localnet", "start", "--dir", d, "--node", 1, timeout=300, env=env)
        assert r.returncode == 0, r.stderr
        target = max(node_height(u) for u in urls) + 1
        poll(lambda: all((node_height(u) or 0) >= target for u in urls), 60, f"every node at {target}")
        b = _same_block_everywhere(urls, target)
        assert b["app_hash"] == "0000000000000004"
    finally:
        if (d / localnet.MANIFEST).exists():
            localnet.stop(d)


def test_a_network_that_cannot_start_is_one_line_and_leaves_nothing(tmp_path, node_cli):
    pytest.importorskip("pycontract.node.abci.server")
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "broken_test_app.py").write_text(
        "def create_app(*, home, ledger_path, chain_id):\n    raise RuntimeError('no ledger for you')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(mods), os.environ.get("PYTHONPATH", "")]))
    d = tmp_path / "bad"
    try:
        r = node_cli("localnet", "start", "--nodes", 2, "--dir", d, "--app", "broken_test_app:create_app",
                     timeout=300, env=env)
        assert r.returncode == 3 and r.stderr.count("\n") == 1, r.stderr
        assert "stopped: error: the application did not start: no ledger for you" in r.stderr
        m = localnet.load_manifest(d)
        assert not any(localnet._group_members(g) for g in _all_groups(m))
    finally:
        if (d / localnet.MANIFEST).exists():
            localnet.stop(d)
