"""The bug classes behind our peers' crashes and CVEs, as black-box tests
(issue 6, "Proof"). Each runs while healthy viewers (an ffmpeg RTMP viewer
and a raw HTTP-FLV viewer) play a live stream from the same server: only the
offending session is closed or refused, with a clear answer and a log line,
and the healthy viewers keep playing (test_hostile.Arena checks after each).

- nginx-rtmp: a chunk size changed in the middle of a message (the input
  buffer overrun) and a 0x7FFFFFFF chunk size (a 2 GB allocation; in
  test_hostile.py); AMF NULL where an object or a name belongs (a NULL
  dereference);
- SRS: a publisher that stops while two HTTP-FLV viewers watch (a crash);
- path traversal in VOD, HLS and other HTTP URLs (`..`, percent-encoded,
  symlinks leaving the root);
- the nginx mp4 module's CVE class: sample tables that contradict each other
  or their own box sizes.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest

from flv import FlvReader
from helpers import HOST, ffmpeg_publish, run_bounded, wait_for
from mp4_boxes import patch_u32, read_u32
from rtmp_client import CSID_COMMAND, MSG_COMMAND_AMF0, MSG_SET_CHUNK_SIZE, amf0_encode_all, \
    chunk_message
# `arena` (test_hostile's) wraps each test in the healthy-viewer checks, on
# this module's arena_module (with a VOD root).
from test_hostile import CONFIG, Arena, arena, assert_closed_with, handshaken  # noqa: F401

SECRET = b"TOP-SECRET-MARKER-7f3a"


@dataclass
class Files:
    root: Path
    good: bytes
    hostile: list[str]


def hostile_variants(good: bytes) -> dict[str, bytes]:
    """A real file with one sample-table field made to lie (ISO/IEC 14496-12
    8.6-8.7 layouts: a full box's payload starts with version+flags)."""
    stsz_count = read_u32(good, b"stsz", 8)
    return {
        # Counts that do not fit in their own box.
        "stsz-count-huge": patch_u32(good, b"stsz", 8, 0x7FFFFFFF),
        "stco-count-huge": patch_u32(good, b"stco", 4, 0x40000000),
        "stsc-count-huge": patch_u32(good, b"stsc", 4, 0x10000000),
        "ctts-count-huge": patch_u32(good, b"ctts", 4, 0x20000000),
        # Tables that disagree with each other.
        "stsz-count-differs-from-stts": patch_u32(good, b"stsz", 8, stsz_count - 1),
        "stts-sample-count-huge": patch_u32(good, b"stts", 8, 0xFFFFFFF0),
        "stts-no-entries": patch_u32(good, b"stts", 4, 0),
        "stss-sample-past-the-end": patch_u32(good, b"stss", 8, 0x7FFFFFF0),
        "stsc-first-chunk-zero": patch_u32(good, b"stsc", 8, 0),
        "stsc-samples-per-chunk-huge": patch_u32(good, b"stsc", 12, 0xFFFFFFF0),
        # Data the tables point at that is not in the file.
        "stco-offset-past-the-end": patch_u32(good, b"stco", 8, 0xFFFFFF00),
        # Box sizes that loop or overrun their parent.
        "trak-size-smaller-than-its-header": patch_u32(good, b"trak", -8, 4),
        "stbl-size-past-its-parent": patch_u32(good, b"stbl", -8, 0x7FFFFFFF),
        "mdhd-timescale-zero": patch_u32(good, b"mdhd", 12, 0),
    }


@pytest.fixture(scope="module")
def files(module_procs) -> Files:
    base = module_procs.workdir / "peer-bugs"
    root = base / "root"
    root.mkdir(parents=True)
    run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                 "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                 "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-t", "6",
                 "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-bf", "2",
                 "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart",
                 str(root / "good.mp4")], 120).check_returncode()
    good = (root / "good.mp4").read_bytes()
    variants = hostile_variants(good)
    for name, data in variants.items():
        (root / f"{name}.mp4").write_bytes(data)
    (base / "secret.txt").write_bytes(SECRET)
    (root / "escape.txt").symlink_to(base / "secret.txt")
    (root / "dirlink").symlink_to(base)
    return Files(root, good, sorted(variants))


@pytest.fixture(scope="module")
def arena_module(module_cascade, module_procs, media, files):
    config = {**CONFIG, "vod": {"root": str(files.root), "throttle": False}}
    a = Arena(module_cascade, module_procs, media, config)
    yield a
    a.reader.stop()


# --- nginx-rtmp: chunk size changed mid-message ------------------------------------


@pytest.mark.parametrize("new_size", [4096, 1])
def test_a_chunk_size_change_in_the_middle_of_a_message_is_honoured(arena: Arena,
                                                                     new_size: int) -> None:
    """RTMP 5.4.1: Set Chunk Size applies to the chunks that follow it, also
    the rest of a message already begun on another chunk stream. nginx-rtmp
    overran its input buffer here. The message must come out whole: an
    unknown command with a 600-byte argument is answered with _error for its
    transaction, and the connection goes on to play."""
    with handshaken(arena) as client:
        client.connect()
        payload = amf0_encode_all(["fooBarBaz", 9.0, None, "x" * 600])
        first = chunk_message(CSID_COMMAND, MSG_COMMAND_AMF0, 0, 0, payload, 128)
        first = first[:1 + 11 + 128]  # basic header, type-0 header, first 128 bytes
        set_size = chunk_message(2, MSG_SET_CHUNK_SIZE, 0, 0, struct.pack(">I", new_size), 128)
        rest = payload[128:]
        continuation = b"".join(bytes([0xC0 | CSID_COMMAND]) + rest[i:i + new_size]
                                for i in range(0, len(rest), new_size))
        client.send_raw(first + set_size + continuation)
        client.out_chunk_size = new_size
        reply = client.wait_command("_error", "_result")
        assert reply[0] == "_error" and reply[1] == 9.0, reply
        assert "fooBarBaz" in reply[3]["description"]
        client.create_stream()
        assert client.play("main").get("code") == "NetStream.Play.Reset"


# --- nginx-rtmp: AMF NULL where an object or a name belongs -------------------------


@pytest.mark.parametrize("commands, reason", [
    ([["connect", 1.0, None]], r"protocol error: connect without an app name"),
    ([["connect", 1.0]], r"protocol error: connect without an app name"),
    ([["connect", 1.0, {"app": None}]], r"protocol error: connect without an app name"),
    ([["connect", 1.0, {"app": 5.0}]], r"protocol error: connect without an app name"),
], ids=["null-command-object", "no-command-object", "null-app", "number-app"])
def test_amf_null_in_connect_is_closed(arena: Arena, commands: list, reason: str) -> None:
    with handshaken(arena) as client:
        for command in commands:
            client.send_message(MSG_COMMAND_AMF0, amf0_encode_all(command))
        assert_closed_with(arena, client, reason)


@pytest.mark.parametrize("command, code, reason", [
    (["publish", 0.0, None, None, "live"], "NetStream.Publish.BadName",
     r"publish refused \(NetStream\.Publish\.BadName\): empty stream name"),
    (["publish", 0.0, None], "NetStream.Publish.BadName",
     r"publish refused \(NetStream\.Publish\.BadName\): empty stream name"),
    (["play", 0.0, None, None], "NetStream.Play.StreamNotFound",
     r"play refused \(NetStream\.Play\.StreamNotFound\): empty stream name"),
    (["play", 0.0, None, 5.0], "NetStream.Play.StreamNotFound",
     r"play refused \(NetStream\.Play\.StreamNotFound\): empty stream name"),
], ids=["publish-null-name", "publish-no-name", "play-null-name", "play-number-name"])
def test_amf_null_stream_names_are_refused(arena: Arena, command: list, code: str,
                                           reason: str) -> None:
    with handshaken(arena) as client:
        client.connect()
        stream_id = client.create_stream()
        client.send_message(MSG_COMMAND_AMF0, amf0_encode_all(command), csid=8,
                            stream_id=stream_id)
        status = client.wait_status()
        assert status.get("level") == "error" and status.get("code") == code, status
        assert_closed_with(arena, client, reason)


@pytest.mark.parametrize("command", [
    ["releaseStream", 50.0, None, None],
    ["FCPublish", 51.0, None, None],
    ["createStream", None, None],
    ["deleteStream", 0.0, None, None],
], ids=["releaseStream-null", "FCPublish-null", "null-transaction", "deleteStream-null"])
def test_amf_null_arguments_to_harmless_commands_keep_the_connection(arena: Arena,
                                                                     command: list) -> None:
    with handshaken(arena) as client:
        client.connect()
        client.send_message(MSG_COMMAND_AMF0, amf0_encode_all(command))
        # Still in service: it plays the live stream.
        client.create_stream()
        assert client.play("main").get("code") == "NetStream.Play.Reset"
        port = client.sock.getsockname()[1]
        assert f"127.0.0.1:{port}] closed" not in arena.server.log()


# --- SRS: a publisher stops while two HTTP-FLV viewers watch -------------------------


@pytest.mark.parametrize("stop", ["kill", "interrupt"])
def test_publisher_stopping_under_two_http_flv_viewers(arena: Arena, media, stop: str) -> None:
    key = f"srs-{stop}"
    server = arena.server
    for round_ in range(2):  # and again on the same name: nothing was left behind
        publisher = ffmpeg_publish(arena.procs, media.av, server.rtmp_url(key),
                                   name=f"publish-{key}-{round_}")
        server.wait_publishing(key)
        viewers = [FlvReader(HOST, server.http_port, server.flv_path(key), http10=False).start()
                   for _ in range(2)]
        try:
            wait_for(lambda: all(v.tag_count() > 30 for v in viewers), 10, 0.1,
                     "both HTTP-FLV viewers to receive")
            if stop == "kill":
                publisher.kill()
            else:
                publisher.interrupt()
            # The stream ends (after publish_grace_ms) and both viewers get
            # a proper end of their response, not a crash or a hang.
            wait_for(lambda: all(v.closed_by_server for v in viewers), 10, 0.1,
                     "both viewers to see the stream end")
            assert all(v.error is None for v in viewers), [v.error for v in viewers]
            wait_for(lambda: server.stream(key) is None or not server.stream(key)["publishing"],
                     10, 0.1, "the stream to be gone")
        finally:
            for v in viewers:
                v.stop()
        server.assert_alive()


# --- Path traversal -------------------------------------------------------------------


def raw_request(port: int, target: str) -> tuple[int, bytes]:
    """One GET with `target` sent byte for byte (no client-side normalizing)."""
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("target", [
    "/vod/../secret.txt",
    "/vod/%2e%2e/secret.txt",
    "/vod/%2E%2E%2Fsecret.txt",
    "/vod/..%2fsecret.txt",
    "/vod/..%5csecret.txt",
    "/vod/%252e%252e/secret.txt",
    "/vod/./../secret.txt",
    "/vod/good.mp4/../../secret.txt",
    "/vod/%00/../secret.txt",
    "/vod/escape.txt",
    "/vod/dirlink/secret.txt",
    "/vod/dirlink/",
    "/vod/good.mp4/..%2f..%2fsecret.txt/index.m3u8",
    "/live/..%2f..%2fsecret.m3u8",
    "/live/%2e%2e/%2e%2e/secret.flv",
    "/live/main/..%2f..%2f..%2fsecret.txt",
    "/watch/../../secret.txt",
    "/..%2fpeer-bugs%2fsecret.txt",
    "http://x/vod/../secret.txt",
])
def test_path_traversal_never_leaves_the_root(arena: Arena, target: str) -> None:
    status, body = raw_request(arena.server.http_port, target)
    assert status in (400, 403, 404), (target, status, body[:200])
    assert SECRET not in body


# --- nginx mp4 module CVE class: sample tables that lie ------------------------------


def test_contradicting_sample_tables_get_422_and_nothing_else_is_hurt(arena: Arena,
                                                                      files: Files) -> None:
    server = arena.server
    for name in files.hostile:
        for suffix in ("?start=1", "/index.m3u8", "/s0.ts", "/s0.m4s"):
            status, body = raw_request(server.http_port, f"/vod/{name}.mp4{suffix}")
            assert status == 422, (name, suffix, status, body[:200])
        server.wait_log(rf"/vod/{name}\.mp4: cannot seek: ", 5)
        server.wait_log(rf"/vod/{name}\.mp4/index\.m3u8: cannot index this file: ", 5)
    # Failures are cached per file version: asking again parses nothing.
    misses = server.metric("cascade_vod_index_cache_misses_total")
    for name in files.hostile:
        status, _ = raw_request(server.http_port, f"/vod/{name}.mp4?start=2")
        assert status == 422
    assert server.metric("cascade_vod_index_cache_misses_total") == misses
    # The good file next to them still seeks.
    status, body = raw_request(server.http_port, "/vod/good.mp4?start=2")
    assert status == 200 and body[4:8] == b"ftyp"
    status, body = raw_request(server.http_port, "/vod/good.mp4")
    assert status == 200 and body == files.good
    server.assert_alive()
