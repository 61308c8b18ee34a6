"""Interop with real third-party clients: every publisher x every player.

Publishers (RTMP): ffmpeg (native RTMP), GStreamer rtmp2sink, GStreamer
flvmux ! rtmpsink (librtmp). Players: ffmpeg over RTMP and HTTP-FLV, rtmpdump
(librtmp) with its default simple handshake and with the FP9 digest handshake
(forced by SWF verification, -w/-x), GStreamer rtmp2src, and curl over HTTP-FLV.

For each publisher one fixture run publishes the test file and runs all the
players at once (concurrently, so the matrix costs one play time per
publisher); each test then checks one player's output: it must probe and
decode as H.264 640x360 + AAC, start on a keyframe and hold a minimum number
of frames. The matrix is printed at the end of the session (conftest.py).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from flv import parse_flv
from helpers import Cascade, Proc, Procs, ffmpeg_play, ffmpeg_publish, probe, probe_packets

PUBLISHERS = ["ffmpeg", "gst-rtmp2sink", "gst-rtmpsink"]
PLAYERS = ["ffmpeg-rtmp", "ffmpeg-httpflv", "rtmpdump-rtmp", "rtmpdump-digest-rtmp",
           "gst-rtmp2src-rtmp", "curl-httpflv"]
COMBOS = [(p, q) for p in PUBLISHERS for q in PLAYERS]

PLAY_SECONDS = 5.0
MIN_VIDEO_FRAMES = 90   # 3 s at 30 fps
MIN_AUDIO_FRAMES = 100  # 2.3 s of 1024-sample AAC frames at 44.1 kHz
SWF_HASH = "ab" * 32    # any 32-byte SWF hash makes librtmp use the digest handshake

TOOLS = {"gst-rtmp2sink": "gst-launch-1.0", "gst-rtmpsink": "gst-launch-1.0",
         "rtmpdump-rtmp": "rtmpdump", "rtmpdump-digest-rtmp": "rtmpdump",
         "gst-rtmp2src-rtmp": "gst-launch-1.0", "curl-httpflv": "curl"}


@dataclass
class Play:
    name: str
    out: Path
    proc: Proc
    rc: int | None = None
    elapsed: float = 0.0


@dataclass
class Session:
    publisher: str
    publisher_log: str
    plays: dict[str, Play] = field(default_factory=dict)
    error: str | None = None


def start_publisher(name: str, procs: Procs, media: Path, url: str) -> Proc:
    if name == "ffmpeg":
        return ffmpeg_publish(procs, media, url, loop=True, name="pub-ffmpeg")
    sink = {"gst-rtmp2sink": ["rtmp2sink", f"location={url}"],
            "gst-rtmpsink": ["rtmpsink", f"location={url}"]}[name]
    # The FLV file is demuxed, parsed and muxed again by GStreamer; the sink
    # syncs on the clock, so this publishes in real time.
    return procs.start(["gst-launch-1.0", "-q", "filesrc", f"location={media}", "!", "flvdemux",
                        "name=d", "d.video", "!", "queue", "!", "h264parse", "!", "flvmux",
                        "name=m", "streamable=true", "!", *sink, "d.audio", "!", "queue", "!",
                        "aacparse", "!", "m."], f"pub-{name}")


def start_player(name: str, procs: Procs, server: Cascade, key: str, out: Path) -> Proc:
    rtmp, flv = server.rtmp_url(key), server.flv_url(key)
    if name == "ffmpeg-rtmp":
        return ffmpeg_play(procs, rtmp, out, PLAY_SECONDS, name=name)
    if name == "ffmpeg-httpflv":
        return ffmpeg_play(procs, flv, out, PLAY_SECONDS, name=name)
    if name == "rtmpdump-rtmp":
        # -V: the debug log shows which handshake librtmp performed.
        return procs.start(["rtmpdump", "-V", "-v", "-m", "10", "-r", rtmp, "-o", out], name)
    if name == "rtmpdump-digest-rtmp":
        return procs.start(["rtmpdump", "-V", "-v", "-m", "10", "-r", rtmp, "-o", out,
                            "-w", SWF_HASH, "-x", "123456"], name)
    if name == "gst-rtmp2src-rtmp":
        # 400 FLV tags (video + audio) is about 5.5 s of media.
        return procs.start(["gst-launch-1.0", "-q", "rtmp2src", f"location={rtmp}",
                            "num-buffers=400", "timeout=10", "!", "filesink",
                            f"location={out}"], name)
    if name == "curl-httpflv":
        return procs.start(["curl", "-sS", "--max-time", str(PLAY_SECONDS), "-o", out, flv], name)
    raise ValueError(name)


class Interop:
    def __init__(self, launch: Callable[..., Cascade], procs: Procs, media) -> None:
        self.server = launch(workers=2)
        self.procs = procs
        self.media = media
        self.sessions: dict[str, Session] = {}

    def session(self, publisher: str) -> Session:
        if publisher not in self.sessions:
            self.sessions[publisher] = self._run(publisher)
        return self.sessions[publisher]

    def _run(self, publisher: str) -> Session:
        key = f"interop-{publisher}"
        pub = start_publisher(publisher, self.procs, self.media.av, self.server.rtmp_url(key))
        session = Session(publisher, "")
        try:
            try:
                self.server.wait_publishing(key, timeout=15)
            except AssertionError as e:
                session.error = f"{e}\npublisher log:\n{pub.log()[-3000:]}"
                return session
            workdir = self.procs.workdir
            for player in PLAYERS:
                if shutil.which(TOOLS.get(player, "ffmpeg")) is None:
                    continue
                out = workdir / f"{publisher}--{player}.flv"
                proc = start_player(player, self.procs, self.server, key, out)
                session.plays[player] = Play(player, out, proc)
            # rtmpdump runs until interrupted; everything else stops by itself.
            deadline = time.monotonic() + PLAY_SECONDS + 0.5
            for play in session.plays.values():
                if play.name.startswith("rtmpdump"):
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    play.rc = play.proc.interrupt()
                else:
                    play.rc = play.proc.wait(timeout=PLAY_SECONDS + 15)
                play.elapsed = time.monotonic() - play.proc.started
            session.publisher_log = pub.log()
            if not pub.running():
                session.error = f"publisher exited early ({pub.poll()}):\n{pub.log()[-3000:]}"
        finally:
            pub.kill()
        return session


@pytest.fixture(scope="module")
def interop(module_cascade, module_procs, media) -> Interop:
    return Interop(module_cascade, module_procs, media)


def check_flv_structure(path: Path) -> None:
    """What curl got is a well-formed FLV: header, back pointers, codec headers first,
    the first video frame a keyframe, per-track timestamps monotonic."""
    data = path.read_bytes()
    parsed = parse_flv(data, keep_bodies=False)
    assert parsed.header is not None, "no FLV header"
    assert parsed.flags == 0x05, f"FLV header flags 0x{parsed.flags:02x}, expected audio+video"
    tags = parsed.tags
    assert len(tags) > 100, f"only {len(tags)} tags"
    # The publisher's metadata comes first, without "@setDataFrame".
    assert tags[0].type == 18 and tags[0].body[:13] == b"\x02\x00\x0aonMetaData", tags[0]
    video = [t for t in tags if t.is_video]
    audio = [t for t in tags if t.is_audio]
    assert video and video[0].video_config, "the first video tag is not the AVC sequence header"
    assert audio and audio[0].audio_config, "the first audio tag is not the AAC sequence header"
    first_frame = next(t for t in video if not t.video_config)
    assert first_frame.video_keyframe, "the first video frame is not a keyframe"
    assert all(t.body[0] & 0x0F == 7 for t in video), "video codec id is not AVC (7)"
    assert all(t.body[0] >> 4 == 10 for t in audio), "audio format is not AAC (10)"
    for track in (video, audio):
        stamps = [t.timestamp for t in track if not (t.video_config or t.audio_config)]
        assert all(a <= b for a, b in zip(stamps, stamps[1:])), "timestamps go backwards"
        assert stamps[-1] - stamps[0] >= 3000, f"only {stamps[-1] - stamps[0]} ms of media"


@pytest.mark.parametrize("combo", COMBOS, ids=[f"{p}->{q}" for p, q in COMBOS])
def test_interop(combo: tuple[str, str], interop: Interop) -> None:
    publisher, player = combo
    for tool in {TOOLS.get(publisher, "ffmpeg"), TOOLS.get(player, "ffmpeg")}:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    session = interop.session(publisher)
    assert session.error is None, session.error
    play = session.plays[player]
    log = play.proc.log()
    assert play.out.exists() and play.out.stat().st_size > 0, \
        f"{player} wrote nothing (rc={play.rc}):\n{log[-3000:]}"

    # How each client ended: finished by itself, or stopped as planned.
    if player.startswith("ffmpeg") or player.startswith("gst"):
        assert play.rc == 0, f"{player} exited with {play.rc}:\n{log[-3000:]}"
    elif player.startswith("curl"):
        assert play.rc == 28, f"curl exited with {play.rc} (28 = stopped by --max-time):\n{log}"
        check_flv_structure(play.out)
    if player == "rtmpdump-rtmp":
        assert "Handshaking finished" in log and "Genuine Adobe" not in log, \
            "rtmpdump did not use the simple handshake"
    if player == "rtmpdump-digest-rtmp":
        assert "Genuine Adobe Flash Media Server" in log, \
            f"librtmp did not verify a digest handshake:\n{log[-3000:]}"

    info = probe(play.out, count_frames=True)
    video, audio = info["video"], info["audio"]
    assert video is not None and audio is not None, f"streams: {info['streams']}"
    assert video["codec_name"] == "h264"
    assert (video["width"], video["height"]) == (640, 360)
    assert audio["codec_name"] == "aac"
    assert int(audio["sample_rate"]) == 44100 and audio["channels"] == 2
    assert int(video["nb_read_frames"]) >= MIN_VIDEO_FRAMES, \
        f"{video['nb_read_frames']} video frames decoded"
    assert int(audio["nb_read_frames"]) >= MIN_AUDIO_FRAMES, \
        f"{audio['nb_read_frames']} audio frames decoded"
    packets = probe_packets(play.out, "v")
    assert packets and "K" in packets[0]["flags"], \
        f"the first video packet is not a keyframe: {packets[:1]}"
