"""Network acceptance tests (issue #10): pycontract as the ABCI 2.0 app of a real 4-validator
CometBFT localnet on loopback, with signed transactions.

One module-scoped localnet is shared by every test here (starting one costs ~20 s on 2 cores);
the tests run in file order and the destructive ones come last: kill -9 + restart of node 2,
then node 3 restarted with a diverging app (it stays halted; 3 of 4 validators go on). Every
wait polls with a deadline; teardown stops every process group and checks none is left.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pycontract.node import envelope, localnet
from pycontract.node.client import NodeClient, NodeError, TxRejected
from pycontract.node.keys import Key
from node_support import height as node_height, poll

pytestmark = pytest.mark.network

N = 4
REPO = Path(__file__).resolve().parents[2]
TOKEN = (REPO / "examples" / "token.py").read_text()
SUPPLY = 10**9
TRANSFER_GAS = 100_000


# --------------------------------------------------------------------------- helpers




def _wait_heights(urls, target, timeout=90):
    poll(lambda: all((node_height(u) or 0) >= target for u in urls), timeout,
          f"nodes {urls} at height {target}", interval=0.2)


def _cli(*args, timeout=120):
    """The real ``pycontract`` command line (the main group), as a subprocess."""
    return subprocess.run([sys.executable, "-m", "pycontract.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=str(REPO))


def _node_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "pycontract.node.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=str(REPO))


def _transfer(key, chain_id, nonce, to, amount, gas=TRANSFER_GAS):
    return envelope.sign(key, chain_id=chain_id, nonce=nonce, gas_limit=gas, kind="call",
                         contract="token", function="transfer", args={"to": to, "amount": amount})


def _commit_all(client, hashes, timeout=90):
    """Wait for every hash to be in a committed block; {hash: height}."""
    return {h: client.wait_for(h, timeout=timeout)["height"] for h in hashes}


def _receipt_on(url, h, timeout=30):
    """The receipt of a committed tx as node ``url``'s app reports it (its Commit may trail the
    block by a moment)."""
    c = NodeClient(url)
    return poll(lambda: c.receipt(h), timeout, f"receipt 0x{h} on {url}")


def _same_chain(urls, upto):
    """Every node has the same block hash and app hash at every height 1..upto."""
    clients = [NodeClient(u) for u in urls]
    for h in range(1, upto + 1):
        blocks = [c.block(h) for c in clients]
        assert all(b == blocks[0] for b in blocks), (h, blocks)


class Net:
    def __init__(self, dir):
        self.dir = dir
        self.manifest = localnet.load_manifest(dir)
        self.urls = [e["rpc_url"] for e in self.manifest["nodes"]]
        self.chain_id = self.manifest["chain_id"]
        self.alice = Key.generate()
        self.keys = [Key.generate() for _ in range(3)]
        self.balances: dict[str, int] = {}
        self.receipts: dict[str, dict] = {}  # tx hash -> receipt fields seen before any fault

    def client(self, i, key=None):
        return NodeClient(self.urls[i], key=key)


@pytest.fixture(scope="module")
def net(tmp_path_factory, cometbft_bin):
    d = tmp_path_factory.mktemp("nw") / "net"
    try:
        localnet.start(d, nodes=N, timeout=180)
        yield Net(d)
    finally:
        if (d / localnet.MANIFEST).exists():
            m = localnet.load_manifest(d)
            localnet.stop(d)
            groups = [e["pgid"] for e in m["nodes"] if e.get("pgid")]
            assert not any(localnet._group_members(g) for g in groups), "a node process survived"


# --------------------------------------------------------------------------- tests


def test_token_transfers_through_every_node_agree_and_replay(net):
    """Deploy through node0, fund three keys, then each key sends transfers through its own
    node (its nonces in order): every node has the same blocks, app hashes and balances, and
    every node's ledger replays."""
    alice, keys = net.alice, net.keys
    r = net.client(0, alice).deploy("token", TOKEN, args={"supply": SUPPLY})
    assert r.status == "success", r
    bal = net.balances
    bal[alice.address] = SUPPLY
    c0 = net.client(0)
    fund = [_transfer(alice, net.chain_id, 1 + j, k.address, 10_000) for j, k in enumerate(keys)]
    hashes = [c0.broadcast(raw) for raw in fund]
    for k in keys:
        bal[alice.address] -= 10_000
        bal[k.address] = 10_000
    _commit_all(c0, hashes)
    # each funded key sends 5 transfers through node 1..3, alice 5 more through node 0
    sent = []
    senders = [(alice, 0, 4)] + [(k, j + 1, 0) for j, k in enumerate(keys)]
    for n in range(5):
        for key, node, first_nonce in senders:
            to = f"user{n % 3}"
            raw = _transfer(key, net.chain_id, first_nonce + n, to, 7 + n)
            sent.append((node, net.client(node).broadcast(raw)))
            bal[key.address] -= 7 + n
            bal[to] = bal.get(to, 0) + 7 + n
    heights = _commit_all(c0, [h for _, h in sent])
    for _, h in sent:
        rec = _receipt_on(net.urls[0], h)
        assert rec.status == "success", rec
        net.receipts[h] = rec
    # the last block's app hash is in the next header: wait for every node to pass it
    target = max(heights.values()) + 1
    _wait_heights(net.urls, target)
    _same_chain(net.urls, target)
    for u in net.urls:
        c = NodeClient(u)
        got = {a: c.query("token", "balance_of", {"owner": a}) for a in bal}
        assert got == bal, u
        assert c.query("token", "info") == {"symbol": "TOK", "total_supply": SUPPLY}
        assert c.nonce(alice.address) == 9 and all(c.nonce(k.address) == 5 for k in keys)
    for i in range(N):
        db = net.dir / f"node{i}" / "app" / "ledger.db"
        p = _cli("replay", "--db", db)
        assert p.returncode == 0, (i, p.stdout, p.stderr)
        assert "every receipt, state root and block hash matches" in p.stdout, p.stdout


def test_bad_transactions_over_rpc_are_refused_and_write_nothing(net):
    """A tampered tx, the same signed bytes again, the same nonce re-signed, another chain's
    tx and an oversized one: each refused by broadcast_tx_sync with a reason; nonce and
    balances unchanged."""
    if not net.balances:
        pytest.skip("needs the token deployed by the first test")
    alice = net.alice
    c1, c2 = net.client(1), net.client(2)
    victim = "mallory-aaaa"

    def state():
        return (c2.nonce(alice.address), c2.query("token", "balance_of", {"owner": victim}),
                c2.query("token", "balance_of", {"owner": alice.address}))

    nonce = c1.nonce(alice.address)
    before = state()
    root_before = c1.status()["app_hash"]  # empty blocks keep the state root
    refused = []

    def refuse(raw, needle, client=c1):
        with pytest.raises(NodeError) as e:
            client.broadcast(raw)
        msg = str(e.value)
        assert needle in msg and "\n" not in msg, msg
        refused.append(hashlib.sha256(raw).hexdigest())
        return e.value

    good = _transfer(alice, net.chain_id, nonce, victim, 5)
    # tampered: same length, still canonical CBOR, but the signed body changed
    assert good.count(victim.encode()) == 1
    tampered = good.replace(victim.encode(), b"mallory-aaab")
    e = refuse(tampered, "bad signature")
    assert isinstance(e, TxRejected) and e.code == 1
    # a flipped byte in the signature itself
    flipped = good[:-1] + bytes([good[-1] ^ 0x01])
    refuse(flipped, "bad signature")
    # signed for another chain
    other = envelope.sign(alice, chain_id=net.chain_id + "-other", nonce=nonce,
                          gas_limit=TRANSFER_GAS, kind="call", contract="token",
                          function="transfer", args={"to": victim, "amount": 5})
    refuse(other, "wrong chain id")
    # oversized: over the app's and the mempool's 1 MiB limit
    big = envelope.sign(alice, chain_id=net.chain_id, nonce=nonce, gas_limit=TRANSFER_GAS,
                        kind="call", contract="token", function="transfer",
                        args={"to": "x" * (1 << 20), "amount": 5})
    refuse(big, "Tx too large. Max size is 1048576")  # CometBFT's mempool, before the app
    # under 1 MiB but over RPC's default body limit (regression: refused at the HTTP layer as
    # "request body too large" until cometbft.configure_node raised rpc.max_body_bytes): it
    # reaches CheckTx, which gives the real reason
    large = envelope.sign(alice, chain_id=net.chain_id, nonce=nonce, gas_limit=TRANSFER_GAS,
                          kind="call", contract="token", function="transfer",
                          args={"to": "x" * 900_000, "amount": 5})
    e = refuse(large, "arguments are larger than")
    assert isinstance(e, TxRejected)
    # nonce too high
    refuse(_transfer(alice, net.chain_id, nonce + 5, victim, 5), "too high")
    assert state() == before, "a refused transaction changed the state"
    _wait_heights(net.urls, (node_height(net.urls[1]) or 0) + 1)
    assert c1.status()["app_hash"] == root_before, "a refused transaction changed the app hash"
    for h in refused:
        assert c2.receipt(h) is None
    # the good one commits; then the same bytes again and the same nonce re-signed are replays
    h = c1.broadcast(good)
    height = c1.wait_for(h)["height"]
    _wait_heights(net.urls, height + 1)
    after = (nonce + 1, before[1] + 5, before[2] - 5)
    poll(lambda: state() == after, 30, "the good transfer on node2")
    net.balances[victim] = after[1]
    net.balances[alice.address] = after[2]
    for client in (c1, c2):  # c1 saw it in its mempool, c2 only in a block
        e = refuse(good, "already", client=client)  # "tx already exists in cache" or "nonce ... already used"
    resigned = _transfer(alice, net.chain_id, nonce, victim, 6)
    e = refuse(resigned, f"nonce {nonce} is already used")
    assert isinstance(e, TxRejected)
    _wait_heights(net.urls, (node_height(net.urls[0]) or 0) + 1)
    assert state() == after


def test_cli_end_to_end_against_a_node(net, tmp_path):
    """keys new, deploy/call/query --node --key, status --node; an unreachable node is one line
    and exit 3."""
    url = net.urls[3]
    key = tmp_path / "k.json"
    p = _cli("keys", "new", "--out", key)
    assert p.returncode == 0, p.stderr
    address = p.stdout.strip()
    assert address == Key.load(str(key)).address
    p = _cli("deploy", "--node", url, "--key", key, "clitok", REPO / "examples" / "token.py",
             "--args", '{"supply": 1000}')
    assert p.returncode == 0, p.stderr
    assert "success" in p.stdout, p.stdout
    p = _cli("call", "--node", url, "--key", key, "clitok", "transfer", '{"to": "bob", "amount": 5}')
    assert p.returncode == 0, p.stderr
    assert "success" in p.stdout, p.stdout
    p = _cli("query", "--node", url, "clitok", "balance_of", '{"owner": "bob"}')
    assert (p.returncode, p.stdout.strip()) == (0, "5"), (p.stdout, p.stderr)
    p = _cli("query", "--node", net.urls[0], "clitok", "balance_of", f'{{"owner": "{address}"}}')
    assert p.returncode == 0 and p.stdout.strip() == "995", (p.stdout, p.stderr)
    # a contract refusal: exit 1, one line on stderr
    p = _cli("call", "--node", url, "--key", key, "clitok", "transfer", '{"to": "bob", "amount": 10000}')
    assert p.returncode == 1 and "insufficient balance" in p.stderr, (p.stdout, p.stderr)
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    p = _cli("status", "--node", url)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("height ") and int(lines[0].split()[1]) > 0
    assert lines[1].startswith("app_hash ") and len(lines[1].split()[1]) == 64
    assert lines[2] == f"chain_id {net.chain_id}"
    from pycontract.node.cometbft import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    p = _cli("status", "--node", dead)
    assert p.returncode == 3 and p.stdout == "", (p.stdout, p.stderr)
    assert p.stderr.count("\n") == 1 and dead in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_kill9_a_node_while_transactions_flow_then_it_catches_up(net):
    """kill -9 node 2's process group between broadcasts; restart it with the CLI; it has the
    same block and app hash at every height and every receipt seen before the kill."""
    if not net.balances:
        pytest.skip("needs the token deployed by the first test")
    key = net.keys[0]
    c0 = net.client(0)
    nonce = c0.nonce(key.address)
    raws = [_transfer(key, net.chain_id, nonce + n, f"flow{n % 4}", 1) for n in range(30)]
    # batch A: committed, receipts in hand before the kill
    before = [c0.broadcast(r) for r in raws[:10]]
    _commit_all(c0, before)
    for h in before:
        net.receipts[h] = _receipt_on(net.urls[0], h)
    # batch B in flight, then the kill, then batch C while node 2 is down
    flying = [c0.broadcast(r) for r in raws[10:20]]
    victim = net.manifest["nodes"][2]
    os.killpg(victim["pgid"], signal.SIGKILL)
    poll(lambda: not localnet._group_members(victim["pgid"]), 10, "node 2 to vanish")
    _commit_all(c0, flying)
    during = [c0.broadcast(r) for r in raws[20:]]
    heights = _commit_all(c0, during)
    p = _node_cli("localnet", "start", "--dir", net.dir, "--node", 2)
    assert p.returncode == 0, p.stderr
    net.manifest = localnet.load_manifest(net.dir)
    target = max(heights.values()) + 1
    _wait_heights(net.urls, target)
    _same_chain(net.urls, target)
    for h in flying + during:
        net.receipts[h] = _receipt_on(net.urls[0], h)
    for u in net.urls:
        for h, rec in net.receipts.items():
            assert _receipt_on(u, h) == rec, (u, h)
        assert NodeClient(u).nonce(key.address) == nonce + 30


def test_a_diverging_node_halts_and_never_forks_the_chain(net):
    """Node 3 restarted with PYCONTRACT_TEST_FAULT=app_hash@H reports a wrong app hash from
    height H: its CometBFT refuses block H+1 (wrong Block.Header.AppHash), while the other three
    validators go on. Runs last: node 3 stays halted until teardown."""
    localnet.stop_node(net.dir, 3)
    others = net.urls[:3]
    h_now = max(node_height(u) or 0 for u in others)
    fault_at = h_now + 12  # past the height the restarted node catches up to
    localnet.start(net.dir, node=3, env={"PYCONTRACT_TEST_FAULT": f"app_hash@{fault_at}"},
                   timeout=180)
    log = net.dir / "node3" / "cometbft.log"
    poll(lambda: "wrong Block.Header.AppHash" in log.read_text(errors="replace"), 120,
          "node 3's app-hash error")
    # the others go on well past the fault height
    _wait_heights(others, fault_at + 4)
    bad_height = node_height(net.urls[3])
    if bad_height is not None:  # its RPC may still answer: it is stuck at the fault height
        assert bad_height <= fault_at
        _wait_heights(others, max(node_height(u) for u in others) + 2)
        assert (node_height(net.urls[3]) or 0) <= fault_at
        # whatever it committed is the others' chain: no fork
        good, bad = NodeClient(others[0]), NodeClient(net.urls[3])
        for h in range(max(1, bad_height - 3), bad_height + 1):
            assert bad.block(h) == good.block(h), h
    text = log.read_text(errors="replace")
    assert "wrong Block.Header.AppHash" in text
    _same_chain(others, fault_at + 4)
