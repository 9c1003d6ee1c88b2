"""The ``pycontract`` command (SPEC.md section 3).

    pycontract check CONTRACT.py
    pycontract deploy --db ledger.db NAME CONTRACT.py --sender alice [--args JSON] [--gas N]
    pycontract call   --db ledger.db CONTRACT FUNCTION [JSON_ARGS] --sender alice [--gas N]
    pycontract query  --db ledger.db CONTRACT FUNCTION [JSON_ARGS]
    pycontract demo
    pycontract replay --db ledger.db
    pycontract blocks|tx|storage|events --db ledger.db ...     (read-only ledger inspection)
    pycontract deploy|call ... --dry-run                        (execute, commit nothing)
    pycontract deploy|call|query ... --profile                  (gas per source line)
    pycontract deploy|call|query --node URL --key KEY.json ...   (a CometBFT node instead of --db)
    pycontract keys | localnet | node | status ...              (network commands: pycontract.node.cli)

Each prints for a person by default and JSON with ``--json``. Bad input is one clear line on
stderr (or the list of vetting problems) and a non-zero exit status, never a traceback:

* 0 success; 1 the contract said no (vetting problems, a transaction that was rejected,
  reverted or ran out of gas, a query that failed); 2 bad command-line input (missing file, bad
  JSON, unknown option); 3 the ledger or the node (locked or foreign database, a worker fault).
"""

from __future__ import annotations

import json
import os
import sys

import click

from pycontract.host.records import DEFAULT_CALL_GAS, DEFAULT_DEPLOY_GAS, DEFAULT_QUERY_GAS
from pycontract.node.cli import guard, node_options, register

EXIT_CONTRACT = 1
EXIT_USAGE = 2
EXIT_NODE = 3


class CliError(Exception):
    """A one-line error for stderr, with an exit status."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.message = message
        self.code = code


# ------------------------------------------------------------------------------- helpers


def _read_source(path: str) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a contract file") from None
    except OSError as e:
        raise CliError(f"{path}: cannot read: {e.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CliError(f"{path}: not UTF-8 text (byte {e.start})") from None


def _parse_json_args(text: str | None, what: str) -> dict:
    if text is None or text.strip() == "":
        return {}
    try:
        value = json.loads(text)
    except RecursionError:
        raise CliError(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as e:
        raise CliError(f"{what} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    if type(value) is not dict:
        raise CliError(f"{what} must be a JSON object like '{{\"name\": value}}', not {type(value).__name__}")
    _check_json_ints(value, what)
    return value


def _check_json_ints(value, what):
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is float:
            raise CliError(f"{what}: {v!r} is a float; contracts take int (use fixed point)")
        if type(v) is list:
            stack.extend(v)
        elif type(v) is dict:
            stack.extend(v.values())


def _hex_bytes(params: dict, args: dict, what: str) -> dict:
    """Arguments annotated ``bytes`` are given in JSON as "0x..." strings."""
    out = dict(args)
    for name, value in args.items():
        if params.get(name) == "bytes" and type(value) is str:
            text = value[2:] if value[:2] in ("0x", "0X") else None
            if text is None:
                raise CliError(f"{what}: argument {name!r} is bytes: write it as a \"0x...\" hex string")
            try:
                out[name] = bytes.fromhex(text)
            except ValueError:
                raise CliError(f"{what}: argument {name!r} is not valid hex: {value!r}") from None
    return out


def _params_of_record(rec, function: str) -> dict:
    ep = (rec.entry_points or {}).get(function) if rec is not None else None
    if not isinstance(ep, dict):
        return {}
    out = {}
    for p in ep.get("params") or []:
        if isinstance(p, list) and len(p) >= 2 and type(p[0]) is str:
            out[p[0]] = p[1]
    return out


def _fmt_value(v) -> str:
    """A value as the CLI shows it: codec.to_jsonable spaced and in insertion order (public
    text, so not codec.to_json, which is compact and sorted for the ledger's columns)."""
    from ledger_store import codec

    return json.dumps(codec.to_jsonable(v), ensure_ascii=False)


def _fmt_fields(fields: dict) -> str:
    return " ".join(f"{k}={_fmt_value(v)}" for k, v in fields.items())


def _print_receipt(r, out=None) -> None:
    echo = out or click.echo
    echo(f"status:   {r.status}")
    echo(f"gas used: {r.gas_used:,}")
    if r.status == "success":
        echo(f"result:   {_fmt_value(r.result)}")
    if r.error:
        lines = r.error.splitlines() or [""]
        echo(f"error:    {lines[0]}")
        for line in lines[1:]:
            echo(f"          {line}")
    where = f" (block {r.height}, index {r.index})" if r.height is not None else " (not included)"
    echo(f"tx:       {r.tx_hash}{where}")
    if r.events:
        echo("events:")
        for e in r.events:
            echo(f"  {e.contract}.{e.name} {_fmt_fields(e.fields)}".rstrip())


def _emit_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True))


def _target(db: str | None, node_url: str | None, sender: str | None, key_path: str | None,
            *, signs: bool):
    """Check the --db / --node choice; a NodeClient for --node (signing with --key), else None.

    On a network the sender is the address of the key that signs, so --sender goes with --db
    only (given with --node, it must be that address)."""
    from pycontract.node.cli import network_client

    if (db is None) == (node_url is None):
        raise CliError("give exactly one of --db FILE (an embedded ledger) and --node URL "
                       "(a CometBFT node)")
    if node_url is None:
        if signs and sender is None:
            raise CliError("--db needs --sender NAME (the account that sends the transaction)")
        if key_path is not None:
            raise CliError("--key signs network transactions: use it with --node, not --db")
        return None
    client = network_client(node_url, key_path, need_key=signs)
    if sender is not None and (client.key is None or sender != client.key.address):
        raise CliError("on a network the sender is the address of the key that signs: drop "
                       "--sender (or give the key's own address)")
    return client


def _open_chain(db: str, must_exist: bool):
    from pycontract.host import Chain

    if must_exist and not os.path.exists(db):
        raise CliError(f"{db}: no ledger here (deploy a contract first to create it)")
    if os.path.isdir(db):
        raise CliError(f"{db}: is a directory, not a ledger file")
    return Chain(db)


def _open_reader(db: str):
    """A Chain that only reads ``db`` (queries), usable while another process writes it."""
    from pycontract.host import Chain

    if not os.path.exists(db):
        raise CliError(f"{db}: no ledger here (deploy a contract first to create it)")
    if os.path.isdir(db):
        raise CliError(f"{db}: is a directory, not a ledger file")
    return Chain(db, readonly=True)



def _dry_run(chain, tx, profile: bool = False):
    """Execute ``tx`` in a block that is never committed; its receipt (a gas estimate)."""
    pending = chain.begin_block([tx], profile=profile)
    try:
        return pending.receipts[0]
    finally:
        pending.drop()


def _print_profile(r, sources: dict | None) -> None:
    """The receipt's gas per source line, heaviest first (``--profile``)."""
    from pycontract.profiler import format_table

    if sources is None or r.profile is None:
        return
    click.echo(f"gas per line (heaviest first; adds up to gas used {r.gas_used:,}):")
    click.echo(format_table(r.profile, sources, r.gas_used))


def _profile_sources(chain, r, own: dict | None = None) -> dict:
    """Source text of every contract in ``r.profile`` (``own``: sources not in the ledger yet,
    a deploy's)."""
    out = dict(own or {})
    for p in r.profile or ():
        if p.contract not in out:
            rec = chain.contract(p.contract)
            out[p.contract] = rec.source if rec is not None else None
    return out


def _no_profile_over_node(profile: bool) -> None:
    if profile:
        raise CliError("--profile runs on a local ledger (--db), not over --node")


def _finish_dry_run(r, as_json: bool, sources: dict | None = None) -> None:
    if as_json:
        _emit_json({**r.to_dict(), "dry_run": True})
    else:
        click.echo("dry run: executed, nothing committed")
        _print_receipt(r)
        click.echo(f"gas estimate: {r.gas_used:,} (this transaction on the current state)")
        _print_profile(r, sources)
    if r.status != "success":
        first = (r.error or r.status).splitlines()[0]
        raise CliError(f"transaction {r.status} (dry run): {first}", EXIT_CONTRACT)


def _finish_receipt(r, as_json: bool, sources: dict | None = None) -> None:
    if as_json:
        _emit_json(r.to_dict())
    else:
        _print_receipt(r)
        _print_profile(r, sources)
    if r.status != "success":
        first = (r.error or r.status).splitlines()[0]
        raise CliError(f"transaction {r.status}: {first}", EXIT_CONTRACT)


# ------------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pycontract", prog_name="pycontract")
def cli():
    """pycontract: deterministic, gas-metered smart contracts in a restricted Python."""


@cli.command()
@click.argument("contract_file", metavar="CONTRACT.py")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def check(contract_file, as_json):
    """Vet and rewrite a contract; print FILE:LINE:COL problems (exit 1) or its entry points."""
    from pycontract.metering.compiler import compile_contract
    from pycontract.errors import VetError

    source = _read_source(contract_file)
    try:
        cc = compile_contract(source, contract_file)
    except VetError as e:
        if as_json:
            _emit_json({"ok": False, "file": contract_file, "problems": [
                {"line": p.line, "col": p.col, "message": p.message, "text": p.headline()}
                for p in e.problems]})
        else:
            click.echo(str(e), err=True)
            n = len(e.problems)
            click.echo(f"{contract_file}: {n} problem{'s' if n != 1 else ''}", err=True)
        sys.exit(EXIT_CONTRACT)
    from pycontract.vetting.deviations import deviation_warnings
    from pycontract.vetting.entry_points import summary

    warnings = deviation_warnings(source, contract_file)
    if as_json:
        _emit_json({"ok": True, "file": contract_file, "code_hash": cc.code_hash,
                    "entry_points": {ep.name: {"kind": ep.kind, "params": [
                        [p.name, p.annotation] for p in ep.params]} for ep in cc.entry_points.values()},
                    "warnings": [{"line": w.line, "col": w.col, "message": w.message}
                                 for w in warnings]})
    else:
        for w in warnings:  # where the contract depends on a documented deviation (exit 0)
            click.echo(w.render(), err=True)
        click.echo(f"{contract_file}: ok: {summary(cc)}")


_profile_option = click.option(
    "--profile", "profile", is_flag=True,
    help="also show gas per source line (of every contract it ran), heaviest first; the "
         "lines add up to the gas used")


def _gas_option(default):
    return click.option("--gas", "gas", type=click.IntRange(min=1), default=default, show_default=True,
                        help="gas limit")


@cli.command()
@click.option("--db", default=None, help="ledger file (created if missing)")
@click.argument("name")
@click.argument("contract_file", metavar="CONTRACT.py")
@click.option("--sender", default=None, help="account that sends the transaction (with --db)")
@click.option("--args", "args_json", default=None, help="constructor arguments as a JSON object")
@_gas_option(DEFAULT_DEPLOY_GAS)
@click.option("--json", "as_json", is_flag=True, help="print the receipt as JSON")
@click.option("--dry-run", "dry_run", is_flag=True,
              help="execute without committing and print the receipt (a gas estimate)")
@_profile_option
@node_options
@guard
def deploy(db, name, contract_file, sender, args_json, gas, as_json, dry_run, profile, node_url,
           key_path):
    """Deploy CONTRACT.py as contract NAME (on --db FILE, or on --node URL signed by --key)."""
    from pycontract.metering.compiler import compile_contract
    from pycontract.errors import VetError

    source = _read_source(contract_file)
    args = _parse_json_args(args_json, "--args")
    # the author's own file: vet it here to report problems against its path
    try:
        cc = compile_contract(source, contract_file)
    except VetError as e:
        click.echo(str(e), err=True)
        raise CliError(f"{contract_file}: {len(e.problems)} problem(s); nothing deployed", EXIT_CONTRACT) from None
    ctor = [ep for ep in cc.entry_points.values() if ep.kind == "constructor"]
    if ctor:
        args = _hex_bytes({p.name: p.annotation for p in ctor[0].params}, args, "--args")
    client = _target(db, node_url, sender, key_path, signs=True)
    if client is not None:
        if dry_run:
            raise CliError("--dry-run runs on a local ledger (--db), not over --node")
        _no_profile_over_node(profile)
        return _finish_receipt(client.deploy(name, source, args=args, gas_limit=gas), as_json)
    sources = None
    if dry_run:
        from pycontract.host import Chain, Tx

        # a missing ledger is not created by a dry run: estimate on an empty temporary one
        with (_open_chain(db, must_exist=True) if os.path.exists(db) else Chain()) as chain:
            r = _dry_run(chain, Tx(sender=sender, contract=name, function="constructor",
                                   args=args, gas_limit=gas, source=source), profile)
            if profile:
                sources = _profile_sources(chain, r, {name: source})
        return _finish_dry_run(r, as_json, sources)
    with _open_chain(db, must_exist=False) as chain:
        r = chain.deploy(name, source, sender=sender, args=args, gas_limit=gas, profile=profile)
        if profile:
            sources = _profile_sources(chain, r, {name: source})
    _finish_receipt(r, as_json, sources)


@cli.command()
@click.option("--db", default=None, help="ledger file")
@click.argument("contract")
@click.argument("function")
@click.argument("json_args", required=False, metavar="[JSON_ARGS]")
@click.option("--sender", default=None, help="account that sends the transaction (with --db)")
@_gas_option(DEFAULT_CALL_GAS)
@click.option("--json", "as_json", is_flag=True, help="print the receipt as JSON")
@click.option("--dry-run", "dry_run", is_flag=True,
              help="execute without committing and print the receipt (a gas estimate)")
@_profile_option
@node_options
@guard
def call(db, contract, function, json_args, sender, gas, as_json, dry_run, profile, node_url,
         key_path):
    """Call FUNCTION of CONTRACT in a transaction (on --db FILE, or --node URL with --key)."""
    args = _parse_json_args(json_args, "JSON_ARGS")
    client = _target(db, node_url, sender, key_path, signs=True)
    if client is not None:
        if dry_run:
            raise CliError("--dry-run runs on a local ledger (--db), not over --node")
        _no_profile_over_node(profile)
        return _finish_receipt(client.call(contract, function, args, gas_limit=gas), as_json)
    sources = None
    with _open_chain(db, must_exist=True) as chain:
        args = _hex_bytes(_params_of_record(chain.contract(contract), function), args, "JSON_ARGS")
        if dry_run:
            from pycontract.host import Tx

            r = _dry_run(chain, Tx(sender=sender, contract=contract, function=function,
                                   args=args, gas_limit=gas), profile)
            if profile:
                sources = _profile_sources(chain, r)
            return _finish_dry_run(r, as_json, sources)
        r = chain.call(contract, function, args, sender=sender, gas_limit=gas, profile=profile)
        if profile:
            sources = _profile_sources(chain, r)
    _finish_receipt(r, as_json, sources)


@cli.command()
@click.option("--db", default=None, help="ledger file")
@click.argument("contract")
@click.argument("function")
@click.argument("json_args", required=False, metavar="[JSON_ARGS]")
@_gas_option(DEFAULT_QUERY_GAS)
@click.option("--json", "as_json", is_flag=True, help="print the value as JSON")
@_profile_option
@node_options
@guard
def query(db, contract, function, json_args, gas, as_json, profile, node_url, key_path):
    """Run view FUNCTION of CONTRACT against the committed state and print its value."""
    from ledger_store import codec

    args = _parse_json_args(json_args, "JSON_ARGS")
    client = _target(db, node_url, None, key_path, signs=False)
    if client is not None:
        _no_profile_over_node(profile)
        value = client.query(contract, function, args, gas_limit=gas)
    elif profile:
        return _profiled_query(db, contract, function, args, gas, as_json)
    else:
        # read-only: a query works while another process (a node, a script) writes the ledger
        with _open_reader(db) as chain:
            args = _hex_bytes(_params_of_record(chain.contract(contract), function), args,
                              "JSON_ARGS")
            value = chain.query(contract, function, args, gas_limit=gas)
    if as_json:
        _emit_json({"result": codec.to_jsonable(value)})
    else:
        click.echo(_fmt_value(value))


def _profiled_query(db, contract, function, args, gas, as_json) -> None:
    """``query --profile``: the value (or the failure), gas used and gas per source line."""
    from ledger_store import codec

    with _open_reader(db) as chain:
        args = _hex_bytes(_params_of_record(chain.contract(contract), function), args,
                          "JSON_ARGS")
        r = chain.query(contract, function, args, gas_limit=gas, profile=True)
        sources = _profile_sources(chain, r)
    if as_json:
        _emit_json({"status": r.status, "gas_used": r.gas_used, "error": r.error,
                    "result": codec.to_jsonable(r.result),
                    "profile": [p.to_dict() for p in r.profile]})
    else:
        if r.status == "success":
            click.echo(_fmt_value(r.result))
        else:
            click.echo(f"status:   {r.status}")
            click.echo(f"error:    {(r.error or r.status).splitlines()[0]}")
        click.echo(f"gas used: {r.gas_used:,}")
        _print_profile(r, sources)
    if r.status != "success":
        first = (r.error or r.status).splitlines()[0]
        raise CliError(f"query {r.status}: {first}", EXIT_CONTRACT)


@cli.command()
@click.option("--db", default=None, help="keep the demo ledger in this (new) file instead of a temporary one")
@click.option("--json", "as_json", is_flag=True, help="print the steps as JSON")
def demo(db, as_json):
    """Run the example ledger end to end on a fresh database: deploys, calls, receipts, events."""
    from pycontract.host import Chain
    from pycontract.examples import demo_ledger

    if db is not None and os.path.exists(db):
        raise CliError(f"{db}: already exists; the demo needs a fresh database")
    lines = []
    out = (lambda s="": None) if as_json else click.echo
    with Chain(db) as chain:
        steps = demo_ledger.run(chain, out=out)
        lines.append(chain.state_root())
    if as_json:
        _emit_json({"steps": steps, "state_root": lines[0]})


# ------------------------------------------------------------------------------- inspection
# Read-only (Ledger(readonly=True)): usable while a node or another process writes the ledger.


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    from tabulate import tabulate

    if not rows:
        click.echo("(none)")
        return
    body = [[_cell(r.get(key)) for key, _ in columns] for r in rows]
    click.echo(tabulate(body, headers=[title for _, title in columns], tablefmt="simple",
                        disable_numparse=True))


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def _reader_ledger(db: str):
    from pycontract import inspect as pci

    if os.path.isdir(db):
        raise CliError(f"{db}: is a directory, not a ledger file")
    if not os.path.exists(db):
        raise CliError(f"{db}: no ledger here")
    return pci.open_readonly(db)


@cli.command()
@click.option("--db", required=True, help="ledger file")
@click.option("--last", type=click.IntRange(min=1), default=None, help="only the last N blocks")
@click.option("--from", "start", type=click.IntRange(min=1), default=None, help="first height")
@click.option("--to", "end", type=click.IntRange(min=1), default=None, help="last height")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def blocks(db, last, start, end, as_json):
    """List blocks: height, time, transaction count, hash, state root."""
    from pycontract import inspect as pci

    with _reader_ledger(db) as led:
        rows = pci.blocks(led, start, end, last=last if start is None and end is None else None)
    if as_json:
        return _emit_json({"blocks": rows})
    for r in rows:
        r["hash16"], r["root16"] = r["hash"][:16], r["state_root"][:16]
    _table(rows, [("height", "height"), ("time", "time"), ("txs", "txs"),
                  ("hash16", "hash"), ("root16", "state root")])


@cli.command()
@click.option("--db", required=True, help="ledger file")
@click.argument("tx_hash")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def tx(db, tx_hash, as_json):
    """Show a committed transaction (by hash or a unique prefix of 8+ digits) with its receipt
    and events."""
    from pycontract import inspect as pci

    with _reader_ledger(db) as led:
        try:
            t = pci.transaction(led, tx_hash)
        except LookupError as e:
            raise CliError(str(e)) from None
    if t is None:
        raise CliError(f"{tx_hash}: no committed transaction with this hash in {db}", EXIT_CONTRACT)
    if as_json:
        return _emit_json(t)
    what = (f"deploy {t['contract']}" if t["kind"] == "deploy"
            else f"call {t['contract']}.{t['function']}")
    click.echo(f"tx:       {t['tx_hash']} (block {t['height']}, index {t['index']})")
    click.echo(f"what:     {what} {_cell(t['args'])}")
    click.echo(f"sender:   {t['sender']}" + (f" (nonce {t['nonce']})" if t["nonce"] is not None else ""))
    click.echo(f"status:   {t['status']}")
    click.echo(f"gas used: {t['gas_used']:,} of {t['gas_limit']:,}")
    if t["status"] == "success":
        click.echo(f"result:   {_cell(t['result']) or 'null'}")
    if t["error"]:
        click.echo(f"error:    {t['error']}")
    if t["events"]:
        click.echo("events:")
        for e in t["events"]:
            click.echo(f"  {e['contract']}.{e['name']} {_fmt_fields(e['fields'])}".rstrip())


@cli.command()
@click.option("--db", required=True, help="ledger file")
@click.argument("contract")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def storage(db, contract, as_json):
    """Show CONTRACT's committed storage, decoded (Maps by key, Values)."""
    from pycontract import inspect as pci

    with _reader_ledger(db) as led:
        try:
            data = pci.storage(led, contract)
        except LookupError as e:
            raise CliError(str(e), EXIT_CONTRACT) from None
        items = pci.storage_items(led, contract)
    if as_json:
        return _emit_json({"contract": contract, "storage": data})
    rows = [{"slot": slot, "key": "" if key is None else (key if isinstance(key, str) else _fmt_value(key)),
             "value": _fmt_value(value)} for slot, key, value in items]
    rows.sort(key=lambda r: (r["slot"], r["key"]))  # for people: by declaration, then key
    _table(rows, [("slot", "storage"), ("key", "key"), ("value", "value")])


@cli.command()
@click.option("--db", required=True, help="ledger file")
@click.option("--contract", default=None, help="only this contract's events")
@click.option("--name", default=None, help="only events with this name")
@click.option("--last", type=click.IntRange(min=1), default=None, help="only the last N")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def events(db, contract, name, last, as_json):
    """List events in chain order, optionally filtered by contract and name."""
    from pycontract import inspect as pci

    with _reader_ledger(db) as led:
        rows = pci.events(led, contract, name, limit=last)
    if as_json:
        return _emit_json({"events": rows})
    for r in rows:
        r["where"] = f"{r['height']}:{r['tx_index']}"
        r["fields_text"] = _fmt_fields(r["fields"])
    _table(rows, [("where", "block:tx"), ("contract", "contract"), ("name", "event"),
                  ("fields_text", "fields")])


@cli.command()
@click.option("--db", required=True, help="ledger file to re-execute")
@click.option("--json", "as_json", is_flag=True, help="print the outcome as JSON")
def replay(db, as_json):
    """Re-execute a ledger's whole history on this interpreter and check every receipt and root.

    Exit 0 on a full match, 1 with the first divergence (block, transaction, field, expected,
    actual) otherwise.
    """
    from pycontract import replay as replaying

    if not os.path.exists(db):
        raise CliError(f"{db}: no such ledger file")
    total = replaying.count_blocks(db)
    show_bar = not as_json and sys.stderr.isatty() and total > 0
    with click.progressbar(length=total, label="replaying", file=sys.stderr,
                           show_pos=True) if show_bar else _NoBar() as bar:
        result = replaying.replay(db, on_block=lambda height: bar.update(1))
    if as_json:
        d = result.divergence
        _emit_json({"ok": result.ok, "blocks": result.blocks, "transactions": result.transactions,
                    "divergence": None if d is None else {
                        "height": d.height, "tx_index": d.tx_index, "tx_hash": d.tx_hash,
                        "field": d.field, "expected": repr(d.expected), "actual": repr(d.actual)}})
    elif result.ok:
        click.echo(f"replayed {result.blocks} blocks, {result.transactions} transactions: "
                   "every receipt, state root and block hash matches")
    else:
        click.echo(result.divergence.describe())
    if not result.ok:
        raise CliError(f"replay diverged at block {result.divergence.height}", EXIT_CONTRACT)


class _NoBar:
    """Stands in for click's progress bar when stderr is not a terminal."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


register(cli)  # keys, localnet, node, status (pycontract.node.cli)


# ------------------------------------------------------------------------------- entry point


def _check_utf8(argv) -> None:
    """Refuse command-line words that are not valid UTF-8 (Python keeps such bytes as lone
    surrogates, which no ledger field can hold)."""
    for i, word in enumerate(argv, start=1):
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raise CliError(f"argument {i} is not valid UTF-8 text") from None


def _one_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0] if "\n" in text else text


def main(argv=None) -> int:
    """Console-script entry point: runs the click group and turns every error into one line."""
    from ledger_store.errors import LedgerError, LedgerLockedError
    from pycontract.errors import InvalidTransaction, NodeFault, PycontractError, QueryError

    try:
        _check_utf8(sys.argv[1:] if argv is None else argv)
        cli.main(args=argv, prog_name="pycontract", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return EXIT_USAGE
    except click.ClickException as e:
        click.echo(f"error: {e.format_message()}", err=True)
        if isinstance(e, click.UsageError) and e.ctx is not None:
            click.echo(f"try: {e.ctx.command_path} --help", err=True)
        return EXIT_USAGE
    except CliError as e:
        click.echo(f"error: {e.message}", err=True)
        return e.code
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 0
    except (InvalidTransaction, QueryError) as e:
        click.echo(f"error: {_one_line(e)}", err=True)
        return EXIT_CONTRACT
    except LedgerLockedError as e:
        click.echo(f"error: {_one_line(e)}", err=True)
        return EXIT_NODE
    except (NodeFault, LedgerError, PycontractError) as e:
        click.echo(f"error: {_one_line(e)}", err=True)
        return EXIT_NODE
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - never a traceback on the user's terminal
        click.echo(f"error: internal error: {type(e).__name__}: {_one_line(e)}", err=True)
        return EXIT_NODE
    return 0


if __name__ == "__main__":
    sys.exit(main())
