"""Network throughput: signed token transfers committed by a 4-validator CometBFT localnet on
this machine, beside the same transfers through ``Chain.execute_block`` in one process.

Pre-signs transfers from several keys with sequential nonces, broadcasts them with
``broadcast_tx_async`` (or ``_sync``: see BROADCAST; each key always through the same node, so its nonces reach that
node's mempool in order; the keys spread over all four nodes), and measures from the first
broadcast to the commit of the last. Then the very same envelopes, decoded to ``Tx`` objects,
are executed in one process in the same blocks the network made. CPU seconds per process kind
(the node's Python process = ABCI app + engine host, its engine worker, CometBFT, this client)
show what bounds the figure.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import HERE, table

NODES = 4
KEYS_PER_NODE = 4
TRANSFER_GAS = 50_000
#: broadcast_tx_async: the client does not wait for each CheckTx (a throughput run; every refusal
#: still shows in the final checks: every nonce used, every transfer held). Set
#: PYCONTRACT_BENCH_BROADCAST=broadcast_tx_sync to wait for each CheckTx instead.
BROADCAST = os.environ.get("PYCONTRACT_BENCH_BROADCAST", "broadcast_tx_async")
SUPPLY = 10**12


def _tx_objects(raws, chain_id):
    """The engine Tx of each envelope, exactly as the ABCI app makes them."""
    from pycontract.node import envelope
    from pycontract.node.app import engine_tx

    return [engine_tx(envelope.decode(raw, chain_id=chain_id, max_bytes=1 << 20)) for raw in raws]


class _Rpc:
    """A keep-alive JSON-RPC connection (urllib opens one TCP connection per request)."""

    def __init__(self, url: str):
        host, port = url.split("://", 1)[1].rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.n = 0

    def call(self, method, **params):
        self.n += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method, "params": params})
        self.conn.request("POST", "/", body, {"Content-Type": "application/json"})
        doc = json.loads(self.conn.getresponse().read())
        if doc.get("error"):
            raise RuntimeError(f"{method}: {doc['error']}")
        return doc["result"]


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            rest = f.read().rsplit(b")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def _node_processes(manifest) -> dict[str, list[int]]:
    """pids by kind: node app (python), engine worker, cometbft."""
    from pycontract.node import localnet

    kinds: dict[str, list[int]] = {"app": [], "worker": [], "cometbft": []}
    for e in manifest["nodes"]:
        for pid in localnet._group_members(e["pgid"]):
            cmd = localnet._cmdline(pid)
            if b"cometbft" in cmd.split(b"\0")[0]:
                kinds["cometbft"].append(pid)
            elif b"node.cli" in cmd:
                kinds["app"].append(pid)
            else:
                kinds["worker"].append(pid)
    return kinds


def bench_network(quick: bool, repeats: int) -> dict:
    from pycontract.node import cometbft, envelope, localnet
    from pycontract.node.client import NodeClient
    from pycontract.node.keys import Key

    per_key = 60 if quick else 400
    token = (HERE.parent / "examples" / "token.py").read_text()
    binary = cometbft.ensure_installed()
    with tempfile.TemporaryDirectory(prefix="pcnb") as tmp:
        d = Path(tmp) / "net"
        manifest = localnet.create(d, NODES, binary=binary, max_gas=-1)
        for e in manifest["nodes"]:  # let the mempool hold the whole load; big blocks
            cometbft.patch_config(Path(e["home"]) / "config" / "config.toml", {
                "mempool": {"size": 100_000, "cache_size": 200_000},
                "rpc": {"max_open_connections": 0},
            })
        try:
            localnet.start(d, timeout=240)
            m = localnet.load_manifest(d)
            urls = [e["rpc_url"] for e in m["nodes"]]
            chain_id = m["chain_id"]
            alice = Key.generate()
            keys = [Key.generate() for _ in range(NODES * KEYS_PER_NODE)]
            c0 = NodeClient(urls[0])
            setup = [envelope.sign(alice, chain_id=chain_id, nonce=0, gas_limit=5_000_000,
                                   kind="deploy", contract="token", function="constructor",
                                   args={"supply": SUPPLY}, source=token)]
            setup += [envelope.sign(alice, chain_id=chain_id, nonce=1 + j, gas_limit=TRANSFER_GAS,
                                    kind="call", contract="token", function="transfer",
                                    args={"to": k.address, "amount": 10**6}) for j, k in enumerate(keys)]
            for h in [c0.broadcast(raw) for raw in setup]:
                c0.wait_for(h, timeout=120)
            start_height = c0.status()["height"]
            # pre-sign: key k sends per_key transfers, nonces 0.., to a spread of recipients
            signed = {k.address: [envelope.sign(
                k, chain_id=chain_id, nonce=n, gas_limit=TRANSFER_GAS, kind="call",
                contract="token", function="transfer",
                args={"to": f"user{(j * per_key + n) % 997}", "amount": 1})
                for n in range(per_key)] for j, k in enumerate(keys)}
            total = len(keys) * per_key
            procs = _node_processes(m)
            cpu0 = {kind: sum(_cpu_seconds(p) for p in pids) for kind, pids in procs.items()}
            client_cpu0 = time.process_time()
            errors: list[str] = []

            def send(j: int):
                """One thread per key: its nonces in order, always to the same node."""
                rpc = _Rpc(urls[j % NODES])
                try:
                    for raw in signed[keys[j].address]:
                        r = rpc.call(BROADCAST, tx=base64.b64encode(raw).decode())
                        if int(r.get("code", 0)):
                            errors.append(r.get("log", ""))
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(f"key {j}: {e}")

            t0 = time.perf_counter()
            threads = [threading.Thread(target=send, args=(j,)) for j in range(len(keys))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            t_sent = time.perf_counter() - t0
            if errors:
                raise RuntimeError(f"{len(errors)} broadcast(s) refused, first: {errors[0]}")
            last_hashes = [hashlib.sha256(txs[-1]).hexdigest() for txs in signed.values()]
            last_height = max(c0.wait_for(h, timeout=600)["height"] for h in last_hashes)
            elapsed = time.perf_counter() - t0
            cpu = {kind: sum(_cpu_seconds(p) for p in pids) - cpu0[kind]
                   for kind, pids in procs.items()}
            cpu["client"] = time.process_time() - client_cpu0
            # every transfer succeeded: every nonce used, and the recipients hold them all
            assert all(c0.nonce(k.address) == per_key for k in keys)
            held = sum(c0.query("token", "balance_of", {"owner": f"user{i}"}) for i in range(997))
            assert held == total, (held, total)
            # the blocks the network made, to run the same ones in one process
            rpc = _Rpc(urls[0])
            blocks, where = [], {}
            for h in range(start_height + 1, last_height + 1):
                txs = rpc.call("block", height=str(h))["block"]["data"]["txs"] or []
                raws = [base64.b64decode(t) for t in txs]
                if raws:
                    blocks.append(raws)
                    for raw in raws:
                        where[hashlib.sha256(raw).hexdigest()] = h
        finally:
            localnet.stop(d)
        sizes = [len(b) for b in blocks]
        assert sum(sizes) == total, (sum(sizes), total)
        # single process: the same envelopes as Tx objects, the same blocks
        from pycontract import Chain

        with Chain(os.path.join(tmp, "single.db"), chain_id=chain_id) as chain:
            for r in chain.execute_block(_tx_objects(setup, chain_id)):
                assert r.status == "success", r
            tx_blocks = [_tx_objects(b, chain_id) for b in blocks]
            t1 = time.perf_counter()
            for txs in tx_blocks:
                assert all(r.status == "success" for r in chain.execute_block(txs))
            single = time.perf_counter() - t1
    net_tps = total / elapsed
    single_tps = total / single
    rows = [
        [f"4-validator localnet, {BROADCAST}, {len(keys)} keys (1 thread each) over 4 nodes",
         net_tps, total, len(blocks), sum(sizes) / len(blocks), elapsed],
        ["single process: same txs, same blocks, Chain.execute_block", single_tps, total,
         len(blocks), sum(sizes) / len(blocks), single],
    ]
    print(table("Network throughput (signed token transfers, committed)",
                ["setup", "transfers/s", "txs", "blocks", "txs/block", "seconds"], rows))
    cores = os.cpu_count() or 1
    cpu_rows = [[kind, secs, secs / elapsed, secs / total * 1e3] for kind, secs in cpu.items()]
    cpu_rows.append(["all", sum(cpu.values()), sum(cpu.values()) / elapsed,
                     sum(cpu.values()) / total * 1e3])
    print(table(f"Where the CPU went during the network run ({cores} cores, {elapsed:.1f} s; "
                f"broadcasts done after {t_sent:.1f} s)",
                ["process kind (all 4 nodes)", "CPU s", "cores busy", "CPU ms per tx"], cpu_rows))
    return {"network_tps": net_tps, "single_process_tps": single_tps, "transfers": total,
            "blocks": len(blocks), "block_sizes": sizes, "seconds": elapsed,
            "broadcast_seconds": t_sent, "cpu_seconds": cpu}
