"""ABCI framing (varint length prefixes) and golden protobuf bytes of the generated classes.

The golden bytes are derived by hand from the protobuf wire rules (tag = field << 3 | wire type;
varints little-endian base 128) and the field numbers in CometBFT v0.38's
proto/tendermint/abci/types.proto, so they check the generated classes, not themselves.
"""

import itertools

import pytest

from pycontract.node.abci import types_pb2 as pb
from pycontract.node.abci.wire import (
    FrameDecoder,
    FrameError,
    decode_uvarint,
    encode_frame,
    encode_frames,
    encode_uvarint,
)


@pytest.mark.parametrize("n, enc", [
    (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (16384, "808001"),
    (2**64 - 1, "ffffffffffffffffff01"),
])
def test_uvarint_vectors(n, enc):
    assert encode_uvarint(n).hex() == enc
    assert decode_uvarint(bytes.fromhex(enc) + b"\x99") == (n, len(enc) // 2)


def test_uvarint_bounds():
    for bad in (-1, 2**64, True, 1.0):
        with pytest.raises(ValueError):
            encode_uvarint(bad)
    assert decode_uvarint(b"\x80\x80") is None  # incomplete, not an error yet
    with pytest.raises(FrameError, match="malformed"):
        decode_uvarint(b"\xff" * 9 + b"\x02")  # 10th byte may only carry bit 63
    with pytest.raises(FrameError, match="malformed"):
        decode_uvarint(b"\xff" * 10 + b"\x01")  # 11 bytes


# Request{info: RequestInfo{version: "0.38.26", block_version: 11, p2p_version: 8,
#                           abci_version: "2.0.0"}}
#   RequestInfo: 0a 07 "0.38.26" | 10 0b | 18 08 | 22 05 "2.0.0"    = 20 bytes (0x14)
#   Request.info is field 3, length-delimited: tag 0x1a, length 0x14
GOLDEN_REQUEST_INFO = (bytes.fromhex("1a14") + bytes.fromhex("0a07") + b"0.38.26"
                       + bytes.fromhex("100b" "1808" "2205") + b"2.0.0")

# Response{finalize_block: ResponseFinalizeBlock{tx_results: [ExecTxResult{code: 2,
#          data: aabb, gas_used: 300}], app_hash: 32 x 0x11}}
#   ExecTxResult: 08 02 | 12 02 aa bb | 30 ac 02 (gas_used is field 6, varint 300 = ac 02) = 9
#   ResponseFinalizeBlock: 12 09 <9 bytes> | 2a 20 <32 bytes>                   = 45 (0x2d)
#   Response.finalize_block is field 21: tag 21 << 3 | 2 = 170 = varint aa 01, length 2d
GOLDEN_FINALIZE = (bytes.fromhex("aa012d" "1209" "0802" "1202aabb" "30ac02" "2a20")
                   + b"\x11" * 32)


def test_golden_request_info():
    req = pb.Request(info=pb.RequestInfo(version="0.38.26", block_version=11, p2p_version=8,
                                         abci_version="2.0.0"))
    assert req.SerializeToString() == GOLDEN_REQUEST_INFO
    parsed = pb.Request.FromString(GOLDEN_REQUEST_INFO)
    assert parsed.WhichOneof("value") == "info" and parsed.info.block_version == 11
    assert encode_frame(GOLDEN_REQUEST_INFO) == b"\x16" + GOLDEN_REQUEST_INFO


def test_golden_response_finalize_block():
    resp = pb.Response(finalize_block=pb.ResponseFinalizeBlock(
        tx_results=[pb.ExecTxResult(code=2, data=b"\xaa\xbb", gas_used=300)],
        app_hash=b"\x11" * 32))
    assert resp.SerializeToString() == GOLDEN_FINALIZE
    assert len(GOLDEN_FINALIZE) == 48
    assert encode_frame(GOLDEN_FINALIZE)[:1] == b"\x30"


def test_golden_small_messages():
    assert pb.Request(flush=pb.RequestFlush()).SerializeToString() == bytes.fromhex("1200")
    assert pb.Response(flush=pb.ResponseFlush()).SerializeToString() == bytes.fromhex("1a00")
    assert pb.Request(echo=pb.RequestEcho(message="hi")).SerializeToString() == \
        bytes.fromhex("0a040a02") + b"hi"
    # ResponseProcessProposal{status: ACCEPT}: Response field 18 -> tag 92 01, inner 08 01
    assert pb.Response(process_proposal=pb.ResponseProcessProposal(
        status=pb.ResponseProcessProposal.ACCEPT)).SerializeToString() == bytes.fromhex("92010208" "01")
    # ResponseException{error: "x"}: Response field 1 -> 0a, inner 0a 01 78
    assert pb.Response(exception=pb.ResponseException(error="x")).SerializeToString() == \
        bytes.fromhex("0a030a0178")
    # the timestamp (google.protobuf.Timestamp, field 6 of RequestFinalizeBlock) and height
    req = pb.RequestFinalizeBlock(height=5)
    req.time.seconds = 1
    assert req.SerializeToString() == bytes.fromhex("2805" "3202" "0801")


def stream_messages():
    big = b"x" * 300  # a 2-byte length prefix (ac 02)
    return [GOLDEN_REQUEST_INFO, b"", bytes.fromhex("1200"), big, GOLDEN_FINALIZE, b"\x00"]


def test_frame_decoder_whole_stream():
    msgs = stream_messages()
    stream = encode_frames(msgs)
    assert stream[len(encode_frames(msgs[:3])):][:2] == b"\xac\x02"
    dec = FrameDecoder()
    assert dec.feed(stream) == msgs
    assert dec.pending == 0


def test_frame_decoder_split_at_every_position():
    msgs = stream_messages()
    stream = encode_frames(msgs)
    for i in range(len(stream) + 1):
        dec = FrameDecoder()
        got = dec.feed(stream[:i]) + dec.feed(stream[i:])
        assert got == msgs, f"split at {i}"
        assert dec.pending == 0


def test_frame_decoder_two_splits_and_byte_by_byte():
    msgs = stream_messages()[:3] + [b"y" * 130]
    stream = encode_frames(msgs)
    for i, j in itertools.combinations(range(len(stream) + 1), 2):
        dec = FrameDecoder()
        assert dec.feed(stream[:i]) + dec.feed(stream[i:j]) + dec.feed(stream[j:]) == msgs
    dec = FrameDecoder()
    got = []
    for b in stream:
        got += dec.feed(bytes([b]))
    assert got == msgs


def test_frame_decoder_partial_frame_is_pending_not_yielded():
    frame = encode_frame(b"abcdef")
    dec = FrameDecoder()
    assert dec.feed(frame[:-1]) == []
    assert dec.pending == len(frame) - 1
    assert dec.feed(frame[-1:]) == [b"abcdef"]


def test_frame_decoder_oversize_refused_from_the_header_alone():
    dec = FrameDecoder(max_frame=10)
    assert dec.feed(encode_frame(b"a" * 10)) == [b"a" * 10]
    with pytest.raises(FrameError, match="11 bytes exceeds the 10-byte limit"):
        dec.feed(encode_uvarint(11))  # no payload needed to refuse it
    with pytest.raises(FrameError, match="exceeds"):
        FrameDecoder().feed(encode_uvarint(2**40))


def test_frame_decoder_malformed_varint():
    with pytest.raises(FrameError, match="malformed"):
        FrameDecoder().feed(b"\xff" * 11)


def test_committed_generated_code_matches_the_generator():
    """The committed classes are exactly what scripts/gen_abci_proto.py makes from v0.38.26."""
    import importlib.util
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    if importlib.util.find_spec("grpc_tools") is None:
        pytest.skip("grpcio-tools not installed (pip install -e '.[proto]')")
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists():
        pytest.skip("no Go toolchain: the generator reads CometBFT's .proto from the module cache")
    modcache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True).stdout
    if not Path(modcache.strip(), "github.com/cometbft/cometbft@v0.38.26").is_dir():
        pytest.skip("cometbft@v0.38.26 not in the Go module cache (tests do not download it)")
    script = Path(__file__).resolve().parents[2] / "scripts" / "gen_abci_proto.py"
    r = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def _go_descriptor(go_file):
    """The FileDescriptorProto CometBFT's own Go code embeds (gzipped bytes in the .pb.go)."""
    import gzip
    import re

    from google.protobuf import descriptor_pb2

    text = go_file.read_text()
    m = re.search(r"var fileDescriptor_\w+ = \[\]byte\{(.*?)\n\}", text, re.S)
    body = re.sub(r"//[^\n]*", "", m.group(1))
    raw = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{2})", body))
    return descriptor_pb2.FileDescriptorProto.FromString(gzip.decompress(raw))


@pytest.mark.parametrize("go_path, module", [
    ("abci/types/types.pb.go", "pycontract.node.abci.tendermint.abci.types_pb2"),
    ("proto/tendermint/crypto/keys.pb.go", "pycontract.node.abci.tendermint.crypto.keys_pb2"),
    ("proto/tendermint/crypto/proof.pb.go", "pycontract.node.abci.tendermint.crypto.proof_pb2"),
    ("proto/tendermint/types/params.pb.go", "pycontract.node.abci.tendermint.types.params_pb2"),
    ("proto/tendermint/types/validator.pb.go",
     "pycontract.node.abci.tendermint.types.validator_pb2"),
])
def test_wire_schema_equals_cometbft_go_code(go_path, module):
    """Stripping gogoproto changed no field: every message's (name, number, type, label,
    type_name, oneof) equals the descriptor compiled into CometBFT v0.38.26 itself."""
    import importlib
    import shutil
    import subprocess
    from pathlib import Path

    from google.protobuf import descriptor_pb2

    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists():
        pytest.skip("no Go toolchain to locate the module cache")
    modcache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True).stdout
    src = Path(modcache.strip(), "github.com/cometbft/cometbft@v0.38.26", go_path)
    if not src.exists():
        pytest.skip("cometbft@v0.38.26 not in the Go module cache")
    theirs = _go_descriptor(src)
    ours = descriptor_pb2.FileDescriptorProto()
    importlib.import_module(module).DESCRIPTOR.CopyToProto(ours)

    def shape(fd):
        out = {}

        def walk(prefix, msgs):
            for m in msgs:
                name = f"{prefix}.{m.name}"
                out[name] = sorted(
                    (f.name, f.number, f.type, f.label, f.type_name,
                     f.oneof_index if f.HasField("oneof_index") else -1) for f in m.field)
                walk(name, m.nested_type)
                for e in m.enum_type:
                    out[f"{name}.{e.name}"] = sorted((v.name, v.number) for v in e.value)
        walk(fd.package, fd.message_type)
        for e in fd.enum_type:
            out[f"{fd.package}.{e.name}"] = sorted((v.name, v.number) for v in e.value)
        return out

    assert theirs.package == ours.package
    assert shape(ours) == shape(theirs)
    assert len(shape(ours)) > 0
