"""Network commands of the ``pycontract`` CLI (SPEC.md section 5).

    pycontract keys new --out KEY.json            # prints the address
    pycontract keys show KEY.json                 # prints the address
    pycontract localnet start --nodes N --dir DIR # N validators on loopback; prints RPC URLs
    pycontract localnet start --dir DIR --node I  # restart one node of an existing localnet
    pycontract localnet stop --dir DIR
    pycontract node init --home DIR               # a single-validator home
    pycontract node start --home DIR              # the app and its CometBFT, until SIGTERM/SIGINT
    pycontract status --node URL [--json]         # height and app hash

``register(main_group)`` adds them to the main click group; ``python -m pycontract.node.cli``
runs them standalone (localnet starts its nodes that way, so it works whatever the main CLI
wires). Bad input is one line on stderr and a non-zero exit status, never a traceback:
1 the contract said no, 2 bad command-line input (missing key file, bad directory), 3 the node
(unreachable, stopped, failed to start).

For the lead's ``deploy/call/query --node URL --key KEY.json``: :func:`node_options` adds the
two options, :func:`network_client` / :func:`client_for` build a NodeClient (clear errors for a
missing or bad key file), and :func:`guard` turns node errors into one line + exit status::

    @cli.command() ... @node_options @guard
    def call(db, contract, function, json_args, sender, gas, as_json, node_url, key_path):
        if node_url:
            r = network_client(node_url, key_path, need_key=True).call(contract, function, args, gas_limit=gas)
            return _finish_receipt(r, as_json)
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

EXIT_CONTRACT = 1
EXIT_USAGE = 2
EXIT_NODE = 3


def _fail(message: str, code: int):
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def guard(fn):
    """Decorator for command callbacks: known errors become one line on stderr + exit status."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from pycontract.errors import QueryError
        from pycontract.node.client import NodeError
        from pycontract.node.cometbft import CometBFTError, NodeRunError
        from pycontract.node.localnet import LocalnetError

        try:
            return fn(*args, **kwargs)
        except _KeyProblem as e:
            _fail(str(e), EXIT_USAGE)
        except QueryError as e:
            _fail(str(e), EXIT_CONTRACT)
        except (NodeError, NodeRunError) as e:
            _fail(str(e), EXIT_NODE)
        except (LocalnetError, CometBFTError) as e:
            _fail(str(e), EXIT_NODE)
        except TimeoutError as e:
            _fail(str(e), EXIT_NODE)

    return wrapper


class _KeyProblem(Exception):
    pass


def load_key(path: str):
    """Key.load with every failure (missing file, bad JSON, not a key) as one clear line."""
    from pycontract.node.keys import Key

    try:
        return Key.load(path)
    except Exception as e:  # noqa: BLE001 - KeyFileError and anything odd in a bad file
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise _KeyProblem(text if path in text else f"{path}: {text}") from None


def client_for(node_url: str, key_path: str | None = None):
    """A NodeClient for ``--node URL`` (and ``--key KEY.json`` when given)."""
    from pycontract.node.client import NodeClient

    key = load_key(key_path) if key_path else None
    return NodeClient(node_url, key=key)


def network_client(node_url: str, key_path: str | None, *, need_key: bool):
    """client_for, refusing a transaction without ``--key`` in one line (exit 2)."""
    if need_key and not key_path:
        raise click.UsageError("--node needs --key KEY.json to sign the transaction")
    return client_for(node_url, key_path)


def node_options(fn):
    """Adds ``--node URL`` and ``--key KEY.json`` (both optional) to a command."""
    fn = click.option("--key", "key_path", default=None, metavar="KEY.json",
                      help="key file that signs the transaction (network mode)")(fn)
    fn = click.option("--node", "node_url", default=None, metavar="URL",
                      help="send to this CometBFT node's RPC (e.g. http://127.0.0.1:26657) instead of --db")(fn)
    return fn


# ------------------------------------------------------------------------------- app choice


def app_factory(spec: str):
    """The application for ``--app``: "pycontract" (the real app), "kvstore" (CometBFT's built-in
    app; None here), or "MODULE:CALLABLE" (a test app factory)."""
    if spec == "kvstore":
        return None
    if spec == "pycontract":
        from pycontract.node.app import create_app

        return create_app

    mod, sep, attr = spec.partition(":")
    if not sep or not mod or not attr:
        raise click.UsageError(f"--app must be pycontract, kvstore or MODULE:CALLABLE, not {spec!r}")
    import importlib

    try:
        return getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as e:
        raise click.UsageError(f"--app {spec}: {e}") from None


_APP_HELP = "application: pycontract (default), kvstore (CometBFT's built-in test app) or MODULE:CALLABLE"


# ------------------------------------------------------------------------------- commands


def register(main: click.Group) -> None:
    """Add keys, localnet, node and status to the main ``pycontract`` group."""
    for cmd in (keys, localnet, node, status):
        main.add_command(cmd)


@click.group(help="Ed25519 key files (the sender of network transactions).")
def keys():
    pass


@keys.command("new")
@click.option("--out", required=True, metavar="KEY.json", help="key file to create (never overwritten)")
@guard
def keys_new(out):
    from pycontract.node.keys import Key

    key = Key.generate()
    try:
        key.save(out)
    except Exception as e:  # noqa: BLE001 - KeyFileError: exists, cannot create
        raise _KeyProblem(str(e).splitlines()[0]) from None
    click.echo(key.address)


@keys.command("show")
@click.argument("key_file", metavar="KEY.json")
@guard
def keys_show(key_file):
    click.echo(load_key(key_file).address)


@click.group(help="A local N-validator network on loopback.")
def localnet():
    pass


@localnet.command("start")
@click.option("--dir", "dir_", required=True, type=click.Path(file_okay=False), help="network directory")
@click.option("--nodes", type=click.IntRange(1, 32), default=None, help="create a new network of N validators")
@click.option("--node", "index", type=click.IntRange(0), default=None, help="restart node I of an existing network")
@click.option("--app", "app", default=None, help=_APP_HELP)
@click.option("--timeout", type=click.FloatRange(1), default=120.0, show_default=True,
              help="seconds to wait for the nodes to produce blocks")
@click.option("--json", "as_json", is_flag=True, help="print the network as JSON")
@guard
def localnet_start(dir_, nodes, index, app, timeout, as_json):
    from pycontract.node import localnet as ln

    if app is not None:
        app_factory(app)  # a bad --app is a usage error here, not a dead node later
    if nodes is None and index is None and not (Path(dir_) / ln.MANIFEST).is_file():
        raise click.UsageError(f"{dir_}: no localnet here; create one with --nodes N")
    m = ln.start(dir_, nodes=nodes, node=index, app=app, timeout=timeout)
    shown = m["nodes"] if index is None else [m["nodes"][index]]
    if as_json:
        click.echo(json.dumps({"chain_id": m["chain_id"], "nodes": shown}, indent=2))
        return
    for e in shown:
        click.echo(f"node{e['index']} {e['rpc_url']}")


@localnet.command("stop")
@click.option("--dir", "dir_", required=True, type=click.Path(file_okay=False), help="network directory")
@guard
def localnet_stop(dir_):
    from pycontract.node import localnet as ln

    stopped = ln.stop(dir_)
    click.echo(f"stopped {len(stopped)} node(s)" + (f": {', '.join(f'node{i}' for i in stopped)}" if stopped else ""))


@click.group(help="One node (the pycontract app and its CometBFT) for real use.")
def node():
    pass


@node.command("init")
@click.option("--home", required=True, type=click.Path(file_okay=False), help="node directory to create")
@click.option("--chain-id", default=None, help="chain id (default: CometBFT's generated one)")
@click.option("--rpc-port", type=click.IntRange(1, 65535), default=26657, show_default=True)
@click.option("--p2p-port", type=click.IntRange(1, 65535), default=26656, show_default=True)
@click.option("--p2p-host", default="127.0.0.1", show_default=True,
              help="address to accept peers on (0.0.0.0 to join other machines)")
@guard
def node_init(home, chain_id, rpc_port, p2p_port, p2p_host):
    from pycontract.node import cometbft

    h = cometbft.init_home(home, chain_id=chain_id, rpc_port=rpc_port, p2p_port=p2p_port, p2p_host=p2p_host)
    g = cometbft.read_genesis(h)
    click.echo(f"initialized {h} (chain {g['chain_id']}, RPC http://127.0.0.1:{rpc_port})")


@node.command("start")
@click.option("--home", required=True, type=click.Path(file_okay=False), help="node directory (pycontract node init)")
@click.option("--app", "app", default="pycontract", show_default=True, help=_APP_HELP)
@guard
def node_start(home, app):
    from pycontract.node import cometbft

    factory = app_factory(app)
    if factory is None:
        cometbft.run_node(home, proxy_app=app)
    else:
        cometbft.run_node(home, app_factory=factory)


@click.command(help="Height and app hash of a node.")
@click.option("--node", "node_url", required=True, metavar="URL", help="the node's RPC URL")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@guard
def status(node_url, as_json):
    st = client_for(node_url).status()
    if as_json:
        click.echo(json.dumps({"height": st["height"], "app_hash": st["app_hash"], "chain_id": st["chain_id"]}))
    else:
        click.echo(f"height {st['height']}\napp_hash {st['app_hash'] or '(empty)'}\nchain_id {st['chain_id']}")


# ------------------------------------------------------------------------------- standalone


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def standalone():
    """pycontract network commands."""


register(standalone)


def main(argv=None) -> int:
    try:
        standalone.main(args=argv, prog_name="pycontract", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        click.echo(f"error: {e.format_message()}", err=True)
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return EXIT_USAGE
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
