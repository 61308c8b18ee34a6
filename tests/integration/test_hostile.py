"""Hostile and broken input. Each case runs while a healthy ffmpeg viewer (and
a raw HTTP-FLV viewer) play a live stream from the same server: the
offending connection is closed with a logged reason, the server stays up, and
the healthy viewers keep playing.
"""

from __future__ import annotations

import os
import struct
import time
from typing import Callable

import pytest

from flv import FlvReader
from helpers import HOST, Cascade, Proc, ffmpeg_play, ffmpeg_publish, wait_for
from rtmp_client import (CSID_COMMAND, MSG_COMMAND_AMF0, MSG_VIDEO, MSG_AUDIO, RtmpClient,
                         amf0_encode, amf0_encode_all, chunk_message, connected_client)

MAX_MESSAGE = 1 << 20
CONFIG = {
    "rtmp": {"max_message_size": MAX_MESSAGE, "handshake_timeout_ms": 1000,
             "publisher_idle_timeout_ms": 1500},
    "live": {"publish_grace_ms": 500},
}


class Arena:
    """A server with a live stream and healthy viewers, shared by this module."""

    def __init__(self, launch: Callable[..., Cascade], procs, media,
                 config: dict | None = None) -> None:
        self.server = launch(workers=2, config=config or CONFIG)
        self.procs = procs
        self.publisher = ffmpeg_publish(procs, media.av, self.server.rtmp_url("main"))
        self.server.wait_publishing("main")
        self.out = procs.workdir / "healthy.flv"
        self.viewer: Proc = ffmpeg_play(procs, self.server.rtmp_url("main"), self.out,
                                        name="healthy-rtmp")
        self.reader = FlvReader(HOST, self.server.http_port, self.server.flv_path("main"),
                                http10=False).start()
        wait_for(lambda: self.server.stream("main")["viewers"] == 2, 10, 0.1, "healthy viewers")
        self.mark()

    def mark(self) -> None:
        self.size = self.out.stat().st_size if self.out.exists() else 0
        self.tags = self.reader.tag_count()

    def assert_healthy(self) -> None:
        self.server.assert_alive()
        assert self.publisher.running(), f"publisher died:\n{self.publisher.log()[-2000:]}"
        assert self.viewer.running(), f"healthy viewer died:\n{self.viewer.log()[-2000:]}"
        wait_for(lambda: self.out.stat().st_size > self.size + 50_000, 5, 0.1,
                 "the healthy RTMP viewer's file to keep growing")
        wait_for(lambda: self.reader.tag_count() > self.tags + 50, 5, 0.1,
                 "the healthy HTTP-FLV viewer to keep receiving")
        assert self.reader.error is None and not self.reader.closed_by_server
        # Clients of the test just left; the server may take a moment to notice.
        wait_for(lambda: self.server.stream("main")["viewers"] == 2, 5, 0.1,
                 "only the 2 healthy viewers to remain")
        assert self.server.stream("main")["publishing"]

    def raw(self) -> RtmpClient:
        return RtmpClient(HOST, self.server.rtmp_port, timeout=5)


@pytest.fixture(scope="module")
def arena_module(module_cascade, module_procs, media):
    a = Arena(module_cascade, module_procs, media)
    yield a
    a.reader.stop()


@pytest.fixture
def arena(arena_module: Arena):
    arena_module.mark()
    yield arena_module
    arena_module.assert_healthy()


def assert_closed_with(arena: Arena, client: RtmpClient, reason: str, timeout: float = 5) -> None:
    """The server closes `client`'s connection and logs `reason` (a regex) for it."""
    port = client.sock.getsockname()[1]
    client.wait_closed(timeout)
    arena.server.wait_log(rf"\[127\.0\.0\.1:{port}( [^\]]*)?\] closed: {reason}", 5)


# --- Handshake --------------------------------------------------------------------


@pytest.mark.parametrize("payload, reason", [
    (b"GET /live/main HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
     r"protocol error: unsupported RTMP version 0x47 \(not an RTMP client\?\)"),
    (b"\xa5" + os.urandom(3000), r"protocol error: unsupported RTMP version 0xa5"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(500),
     r"protocol error: unsupported RTMP version 0x16 \(a TLS handshake\?"),
    (b"\x06" + os.urandom(1536), r"protocol error: encrypted RTMP \(RTMPE\) is not supported"),
], ids=["http-request", "random-bytes", "tls-client-hello", "rtmpe"])
def test_garbage_handshake_is_closed(arena: Arena, payload: bytes, reason: str) -> None:
    with arena.raw() as client:
        client.send_raw(payload)
        assert_closed_with(arena, client, reason)


def test_silent_client_times_out_in_handshake(arena: Arena) -> None:
    with arena.raw() as client:
        client.send_raw(b"\x03" + os.urandom(700))  # C0 and half of C1, then nothing
        t0 = time.monotonic()
        assert_closed_with(arena, client, "handshake timeout", timeout=5)
        assert 0.9 <= time.monotonic() - t0 <= 4.0


# --- Chunk stream -----------------------------------------------------------------


def handshaken(arena: Arena) -> RtmpClient:
    client = arena.raw()
    client.handshake()
    return client


@pytest.mark.parametrize("size, reason", [
    (0x7FFFFFFF, rf"protocol error: chunk size 2147483647 exceeds the maximum message size "
                 rf"{MAX_MESSAGE}"),
    (0x80000000, r"protocol error: invalid chunk size 2147483648"),
    (0, r"protocol error: invalid chunk size 0"),
], ids=["0x7fffffff", "high-bit", "zero"])
def test_bad_set_chunk_size_is_closed(arena: Arena, size: int, reason: str) -> None:
    with handshaken(arena) as client:
        client.connect()
        client.send_message(1, struct.pack(">I", size), csid=2)
        assert_closed_with(arena, client, reason)


@pytest.mark.parametrize("length", [MAX_MESSAGE + 1, 0xFFFFFF])
def test_message_longer_than_the_limit_is_closed(arena: Arena, length: int) -> None:
    with handshaken(arena) as client:
        client.connect()
        # A type 0 header declaring the length; the payload never needs to follow.
        header = bytes([CSID_COMMAND]) + (0).to_bytes(3, "big") + length.to_bytes(3, "big") + \
            bytes([MSG_COMMAND_AMF0]) + struct.pack("<I", 0)
        client.send_raw(header + os.urandom(128))
        assert_closed_with(arena, client, rf"protocol error: message of {length} bytes on chunk "
                                          rf"stream 3 exceeds the limit of {MAX_MESSAGE} bytes")


def test_chunk_stream_starting_with_a_type1_header_is_closed(arena: Arena) -> None:
    with handshaken(arena) as client:
        client.send_raw(bytes([(1 << 6) | 9]) + b"\x00\x00\x00\x00\x00\x10\x14" + b"x" * 16)
        assert_closed_with(arena, client,
                           r"protocol error: chunk stream 9 starts with a type 1 header")


def test_too_many_partial_chunk_streams_is_closed(arena: Arena) -> None:
    with handshaken(arena) as client:
        # 100 messages of 4000 bytes, each left after its first 128-byte chunk.
        data = b""
        for csid in range(10, 110):
            basic = 1 if csid < 64 else 2
            data += chunk_message(csid, MSG_COMMAND_AMF0, 0, 0, b"\x00" * 4000, 4000)[
                :basic + 11 + 128]
        client.send_raw(data)
        assert_closed_with(arena, client, r"protocol error: too many chunk streams \(limit \d+\)")


# --- Commands ---------------------------------------------------------------------


def test_truncated_amf_in_a_command_is_closed(arena: Arena) -> None:
    with handshaken(arena) as client:
        payload = amf0_encode("connect") + b"\x00\x3f\xf0"  # a number cut after 2 of 8 bytes
        client.send_message(MSG_COMMAND_AMF0, payload)
        assert_closed_with(arena, client, r"protocol error: bad command message: truncated AMF0 "
                                          r"number")


def test_truncated_amf_string_in_a_command_is_closed(arena: Arena) -> None:
    with handshaken(arena) as client:
        client.connect()
        payload = amf0_encode("createStream") + amf0_encode(2) + b"\x02\xff\xf0abc"
        client.send_message(MSG_COMMAND_AMF0, payload)
        assert_closed_with(arena, client, r"protocol error: bad command message: truncated AMF0")


def test_deeply_nested_amf_is_closed(arena: Arena) -> None:
    with handshaken(arena) as client:
        nested: dict = {"app": "live"}
        for _ in range(40):
            nested = {"x": nested}
        client.send_message(MSG_COMMAND_AMF0, amf0_encode_all(["connect", 1, nested]))
        assert_closed_with(arena, client, r"protocol error: bad command message: AMF0 nesting "
                                          r"deeper than \d+")


@pytest.mark.parametrize("commands, reason", [
    ([["play", 0, None, "main"]], r"protocol error: command 'play' before connect"),
    ([["connect", 1, {"tcUrl": "rtmp://x/"}]], r"protocol error: connect without an app name"),
    ([["connect", 1, {"app": "live"}], ["connect", 2, {"app": "live"}]],
     r"protocol error: second connect on one connection"),
    ([[1.0, 2.0]], r"protocol error: command message without a name"),
], ids=["play-before-connect", "connect-without-app", "second-connect", "nameless"])
def test_out_of_order_commands_are_closed(arena: Arena, commands: list, reason: str) -> None:
    with handshaken(arena) as client:
        for command in commands:
            client.send_message(MSG_COMMAND_AMF0, amf0_encode_all(command))
        assert_closed_with(arena, client, reason)


def test_unknown_command_gets_an_error_and_the_connection_stays(arena: Arena) -> None:
    with handshaken(arena) as client:
        client.connect()
        transaction = client.command("fooBarBaz", None, "arg", transaction=7)
        reply = client.wait_command("_error", "_result")
        assert reply[0] == "_error" and reply[1] == transaction, reply
        info = reply[3]
        assert info["level"] == "error" and info["code"] == "NetConnection.Call.Failed", info
        assert "fooBarBaz" in info["description"]
        port = client.sock.getsockname()[1]
        arena.server.wait_log(rf"\[127\.0\.0\.1:{port}\] unknown command 'fooBarBaz' answered "
                              rf"with _error", 5)
        # Not closed: the same connection goes on to play the live stream.
        client.create_stream()
        assert client.play("main").get("code") == "NetStream.Play.Reset"
        video = client.wait_for(lambda m: m.type_id == MSG_VIDEO, timeout=5)
        assert video.payload[:2] == b"\x17\x00"  # the AVC sequence header first
        assert f"127.0.0.1:{port}] closed" not in arena.server.log()


def test_play_of_an_unknown_stream_is_refused_then_closed(arena: Arena) -> None:
    before = arena.server.metric('cascade_rtmp_connections_closed_total{reason="stream_not_found"}')
    with handshaken(arena) as client:
        client.connect()
        client.create_stream()
        status = client.play("no-such-stream")
        assert status.get("level") == "error", status
        assert status.get("code") == "NetStream.Play.StreamNotFound", status
        assert_closed_with(arena, client, r"play refused \(NetStream\.Play\.StreamNotFound\): "
                                          r"live/no-such-stream is not live")
    after = arena.server.metric('cascade_rtmp_connections_closed_total{reason="stream_not_found"}')
    assert after == before + 1


def test_http_flv_of_an_unknown_stream_is_404(arena: Arena) -> None:
    status, headers, body = arena.server.http("GET", "/live/no-such-stream.flv")
    assert status == 404
    assert b"live/no-such-stream is not live" in body
    assert "video/x-flv" not in headers.get("content-type", "")


# --- Publishers -----------------------------------------------------------------------


def test_idle_publisher_is_closed(arena: Arena) -> None:
    with connected_client(HOST, arena.server.rtmp_port) as client:
        client.create_stream()
        assert client.publish("idle").get("code") == "NetStream.Publish.Start"
        t0 = time.monotonic()
        port = client.sock.getsockname()[1]
        client.wait_closed(6)
        assert time.monotonic() - t0 >= 1.0
        arena.server.wait_log(rf"\[127\.0\.0\.1:{port} live/idle\] publisher disconnected: "
                              rf"publisher idle timeout", 5)
    wait_for(lambda: arena.server.stream("idle") is None, 5, 0.1, "the idle stream to end")


def test_garbage_media_from_a_publisher_does_not_hurt(arena: Arena) -> None:
    """Random bodies, bogus AVC/HEVC/AAC sequence headers and truncated tags on a
    published stream: the server must survive and keep serving others."""
    with connected_client(HOST, arena.server.rtmp_port) as client:
        client.create_stream()
        assert client.publish("junk").get("code") == "NetStream.Publish.Start"
        bodies = [b"", b"\x17", b"\x17\x00", b"\x17\x00\x00\x00\x00" + os.urandom(40),
                  b"\x17\x00\x00\x00\x00\x01\x64\x00\x1f\xff\xe1\xff\xff" + os.urandom(8),
                  b"\x90hvc1" + os.urandom(60), b"\x9chvc1", b"\x17\x01\x00\x00\x00" +
                  os.urandom(500), b"\x27\x01\x00\x00\x00\x00\x00\x00\x01\xff"]
        audio = [b"", b"\xaf", b"\xaf\x00", b"\xaf\x00\xff\xff\xff", b"\xaf\x01" + os.urandom(99),
                 b"\x9fOpus" + os.urandom(10)]
        ts = 0
        for i in range(200):
            ts += 20
            client.send_media(MSG_VIDEO, ts, bodies[i % len(bodies)] if i % 3 else os.urandom(i))
            client.send_media(MSG_AUDIO, ts, audio[i % len(audio)])
        client.send_media(18, ts, amf0_encode_all(["@setDataFrame", "onMetaData",
                                                   {"width": -1.0, "height": 1e300}]))
        time.sleep(0.5)
        arena.server.assert_alive()
        status, _, _ = arena.server.http("GET", "/api/v1/streams")
        assert status == 200
        # A viewer of the junk stream gets a well-formed FLV, whatever the content.
        reader = FlvReader(HOST, arena.server.http_port, "/live/junk.flv").start()
        for i in range(100):
            ts += 20
            client.send_media(MSG_VIDEO, ts, b"\x17\x01\x00\x00\x00" + os.urandom(200))
        time.sleep(0.5)
        reader.stop()
        assert reader.error is None, reader.error
