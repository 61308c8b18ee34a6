"""RTMP conformance details checked with the raw client: the connect
sequence, ping, acknowledgements, pause/unpause, stopping and restarting play
on one connection, stream names, and republishing on one connection."""

from __future__ import annotations

import os
import struct
import time

import pytest

from helpers import HOST, Cascade, ffmpeg_publish, wait_for
from rtmp_client import (MSG_ACK, MSG_AUDIO, MSG_SET_CHUNK_SIZE, MSG_SET_PEER_BANDWIDTH,
                         MSG_USER_CONTROL, MSG_VIDEO, MSG_WINDOW_ACK_SIZE, Message, RtmpClient,
                         connected_client)


@pytest.fixture(scope="module")
def live(module_cascade, module_procs, media) -> Cascade:
    server = module_cascade(workers=2, config={"live": {"publish_grace_ms": 1000}})
    ffmpeg_publish(module_procs, media.av, server.rtmp_url("main"))
    server.wait_publishing("main")
    return server


def raw(server: Cascade) -> RtmpClient:
    client = RtmpClient(HOST, server.rtmp_port, timeout=5)
    client.handshake()
    return client


def collect(client: RtmpClient, seconds: float) -> list[Message]:
    out: list[Message] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            messages = client.read_messages(deadline)
        except (TimeoutError, OSError):
            break
        if not messages:
            break
        out += messages
    return out


def video_frames(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.type_id == MSG_VIDEO]


def test_connect_sequence(live: Cascade) -> None:
    with raw(live) as client:
        seen: list[Message] = []
        client.command("connect", {"app": "live", "tcUrl": f"rtmp://{HOST}/live",
                                   "objectEncoding": 0.0}, transaction=1)
        reply = client.wait_command("_result", "_error", seen=seen)
        # RTMP 7.2.1.1: Window Acknowledgement Size and Set Peer Bandwidth come
        # before the _result; Set Chunk Size too (it applies to everything after).
        types = [m.type_id for m in seen]
        for t in (MSG_WINDOW_ACK_SIZE, MSG_SET_PEER_BANDWIDTH, MSG_SET_CHUNK_SIZE):
            assert t in types, f"message type {t} missing before _result: {types}"
        assert client.reader.chunk_size == 4096
        assert reply[0] == "_result" and reply[1] == 1
        assert reply[3]["code"] == "NetConnection.Connect.Success", reply
        assert reply[2].get("fmsVer"), reply


def test_ping_request_is_answered(live: Cascade) -> None:
    with raw(live) as client:
        client.connect()
        client.send_message(MSG_USER_CONTROL, struct.pack(">HI", 6, 123456), csid=2)
        reply = client.wait_for(lambda m: m.type_id == MSG_USER_CONTROL and
                                m.payload[:2] == b"\x00\x07", timeout=5)
        assert struct.unpack(">I", reply.payload[2:6])[0] == 123456


def test_acknowledgements_follow_the_window(live: Cascade) -> None:
    with raw(live) as client:
        client.connect()
        client.send_message(MSG_WINDOW_ACK_SIZE, struct.pack(">I", 50_000), csid=2)
        client.create_stream()
        assert client.publish("acked").get("code") == "NetStream.Publish.Start"
        client.set_chunk_size(4096)
        for i in range(40):
            client.send_media(MSG_AUDIO, i * 23, b"\xaf\x01" + os.urandom(5000))
        acks = []
        deadline = time.monotonic() + 5
        while len(acks) < 3 and time.monotonic() < deadline:
            acks += [m for m in client.read_messages(deadline) if m.type_id == MSG_ACK]
        assert len(acks) >= 3, "no Acknowledgement after 200 KB with a 50 KB window"
        counts = [struct.unpack(">I", m.payload[:4])[0] for m in acks]
        assert counts == sorted(counts) and counts[0] >= 50_000, counts


def test_pause_and_unpause(live: Cascade) -> None:
    with connected_client(HOST, live.rtmp_port) as client:
        client.create_stream()
        client.play("main")
        assert video_frames(collect(client, 1.5)), "no video before pausing"
        client.command("pause", None, True, 0.0, stream_id=client.stream_id, transaction=0)
        messages = collect(client, 1.0)  # the reply; media already in flight may follow
        codes = [v.get("code") for m in messages if m.name == "onStatus"
                 for v in m.amf() if isinstance(v, dict)]
        assert "NetStream.Pause.Notify" in codes, codes
        assert len(video_frames(collect(client, 1.5))) <= 2, "media kept flowing while paused"
        client.command("pause", None, False, 0.0, stream_id=client.stream_id, transaction=0)
        messages = collect(client, 2.0)
        codes = [v.get("code") for m in messages if m.name == "onStatus"
                 for v in m.amf() if isinstance(v, dict)]
        assert "NetStream.Unpause.Notify" in codes, codes
        frames = [m for m in video_frames(messages) if m.payload[1] != 0]
        assert len(frames) >= 30, f"only {len(frames)} frames after unpausing"
        assert frames[0].payload[0] >> 4 == 1, "playback did not resume at a keyframe"


def test_stop_and_play_again_on_one_connection(live: Cascade) -> None:
    """closeStream stops playback; a new play on the same connection starts a
    complete, well-formed stream again (codec headers, then a keyframe)."""
    baseline = live.stream("main")["viewers"]
    with connected_client(HOST, live.rtmp_port) as client:
        for round_ in range(3):
            stream_id = client.create_stream()
            status = client.play("main")
            assert status.get("code") == "NetStream.Play.Reset", (round_, status)
            messages = collect(client, 1.5)
            video = video_frames(messages)
            headers = [m for m in video if m.payload[1] == 0]
            frames = [m for m in video if m.payload[1] != 0]
            assert headers and video.index(headers[0]) == 0, \
                f"round {round_}: the AVC sequence header did not come first"
            assert frames and frames[0].payload[0] >> 4 == 1, \
                f"round {round_}: the first frame is not a keyframe"
            stamps = [m.timestamp for m in frames]
            assert all(a < b for a, b in zip(stamps, stamps[1:])), \
                f"round {round_}: frames out of order (a gap or a repeat)"
            assert len(frames) >= 30, f"round {round_}: only {len(frames)} frames"
            assert live.stream("main")["viewers"] == baseline + 1
            client.command("closeStream", None, stream_id=stream_id, transaction=0)
            collect(client, 0.5)
            wait_for(lambda: live.stream("main")["viewers"] == baseline, 5, 0.1,
                     "closeStream to release the viewer")
    live.assert_alive()


@pytest.mark.parametrize("name", ["a b", "..", "x" * 200, "bad\x01name"],
                         ids=["space", "dotdot", "too-long", "control-char"])
def test_publish_with_a_bad_stream_name_is_refused(live: Cascade, name: str) -> None:
    with connected_client(HOST, live.rtmp_port) as client:
        client.create_stream()
        port = client.sock.getsockname()[1]
        status = client.publish(name)
        assert status.get("code") == "NetStream.Publish.BadName", status
        client.wait_closed(5)
    live.wait_log(rf"\[127\.0\.0\.1:{port}\] closed: publish refused "
                  rf"\(NetStream\.Publish\.BadName\): .*stream name", 5)
    assert all(s["key"].split("/", 1)[1] != name for s in live.streams())


def test_play_with_a_bad_stream_name_is_refused(live: Cascade) -> None:
    with connected_client(HOST, live.rtmp_port) as client:
        client.create_stream()
        assert client.play("../main").get("code") == "NetStream.Play.StreamNotFound"
        client.wait_closed(5)


def test_unpublish_and_publish_again_on_one_connection(live: Cascade) -> None:
    with connected_client(HOST, live.rtmp_port) as client:
        client.set_chunk_size(4096)
        for round_ in range(2):
            client.command("releaseStream", None, "again")
            client.command("FCPublish", None, "again")
            stream_id = client.create_stream()
            status = client.publish("again")
            assert status.get("code") == "NetStream.Publish.Start", (round_, status)
            client.send_media(MSG_VIDEO, 0, b"\x17\x00\x00\x00\x00\x01\x42\xc0\x1e\xff\xe1\x00"
                                            b"\x00\x01\x00\x00")
            for i in range(40):
                client.send_media(MSG_VIDEO, i * 33, (b"\x17" if i % 30 == 0 else b"\x27") +
                                  b"\x01\x00\x00\x00" + os.urandom(300))
            wait_for(lambda: (live.stream("again") or {}).get("frames_in", 0) >= 40 * (round_ + 1),
                     5, 0.1, "frames of the republished stream")
            stats = live.stream("again")
            assert stats["publishing"] and stats["publisher_sessions"] == round_ + 1, stats
            client.command("FCUnpublish", None, "again")
            client.command("deleteStream", None, float(stream_id))
            wait_for(lambda: not live.stream("again")["publishing"], 5, 0.1, "the unpublish")
    wait_for(lambda: live.stream("again") is None, 5, 0.1, "the stream to end after the grace")


@pytest.mark.parametrize("command, name", [("play", "main?token=abc&x=1"), ("play2", "main")])
def test_play_variants(live: Cascade, command: str, name: str) -> None:
    """A query string after the stream name is not part of the key; play2
    (RTMP 7.2.2.1 play2, streamName in an object) plays the same stream."""
    with connected_client(HOST, live.rtmp_port) as client:
        client.create_stream()
        arg = name if command == "play" else {"streamName": name, "start": -2.0}
        client.command(command, None, arg, stream_id=client.stream_id, transaction=0)
        assert client.wait_status().get("code") == "NetStream.Play.Reset"
        frames = video_frames(collect(client, 1.5))
        assert len(frames) > 20 and frames[0].payload[:2] == b"\x17\x00"
