"""Codecs beyond H.264 + AAC: audio-only streams, and HEVC over Enhanced RTMP.

ffmpeg 5.1 and GStreamer 1.22 cannot put HEVC in FLV, so the HEVC stream is
published by the raw Python client (Enhanced RTMP: ExVideoTagHeader with
FourCC 'hvc1', SequenceStart / CodedFrames / CodedFramesX) from packets that
ffprobe reads out of an MP4 made by libx265. Viewers must receive the exact
bytes, start on a keyframe after the sequence start, and what they got must
decode (rebuilt as an Annex B stream for ffprobe).
"""

from __future__ import annotations

import json
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from flv import FlvReader
from hls import parse_media_playlist
from helpers import (HOST, Cascade, ffmpeg_play, ffmpeg_publish, find_run, framemd5_of,
                     parse_framemd5, probe, run_bounded, wait_for)
from rtmp_client import MSG_AUDIO, MSG_VIDEO, Player, amf0_encode_all, connected_client


def test_audio_only_stream(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2)
    key = "radio"
    ffmpeg_publish(procs, media.audio, server.rtmp_url(key), loop=False)
    server.wait_publishing(key)
    stats = server.stream(key)
    assert stats["video"] is None and stats["audio"]["codec"] == "aac", stats
    time.sleep(1.0)
    players = {proto: ffmpeg_play(procs, url, procs.workdir / f"{proto}.framemd5", 4,
                                  name=f"play-{proto}", fmt="framemd5")
               for proto, url in (("rtmp", server.rtmp_url(key)),
                                  ("http-flv", server.flv_url(key)))}
    reader = FlvReader(HOST, server.http_port, server.flv_path(key)).start()
    try:
        for proto, proc in players.items():
            assert proc.wait(25) == 0, f"{proto}: {proc.log()[-2000:]}"
        assert reader.parser.flags == 0x04, f"FLV flags 0x{reader.parser.flags:02x}: " \
                                            f"expected audio only"
        assert reader.error is None and reader.tag_count() > 100
    finally:
        reader.stop()
    source = [h for _, _, h in framemd5_of(str(media.audio)).audio]
    for proto in players:
        text = (procs.workdir / f"{proto}.framemd5").read_text()
        assert "#media_type 0: audio" in text and "#media_type 1" not in text
        assert "#codec_id 0: aac" in text
        got = [h for _, _, h in parse_framemd5(text).audio]
        assert len(got) >= 4 * 40, f"{proto}: only {len(got)} audio packets"
        starts = find_run(source, got)
        assert starts and starts[0] > 0, f"{proto}: audio is not a contiguous run of the source"


def test_video_only_stream(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2)
    key = "silent"
    procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re", "-i",
                 str(media.av), "-an", "-c", "copy", "-f", "flv", server.rtmp_url(key)], "pub")
    server.wait_publishing(key)
    stats = server.stream(key)
    assert stats["audio"] is None and stats["video"]["codec"] == "h264", stats
    time.sleep(1.2)
    reader = FlvReader(HOST, server.http_port, server.flv_path(key)).start()
    player = Player(HOST, server.rtmp_port, key).start()
    try:
        wait_for(lambda: len(reader.video_tags()) > 60 and len(player.video()) > 60, 10, 0.1,
                 "video frames")
        assert reader.parser.flags == 0x01, f"FLV flags 0x{reader.parser.flags:02x}: " \
                                            f"expected video only"
        tags = [t for _, t in reader.arrivals]
        assert not any(t.is_audio for t in tags) and not player.audio()
        video = [t for t in tags if t.is_video]
        assert video[0].video_config and video[1].video_keyframe
        assert player.video()[1][1].payload[0] >> 4 == 1
    finally:
        reader.stop()
        player.stop()


# --- HEVC over Enhanced RTMP -------------------------------------------------------------

FOURCC_HVC1 = b"hvc1"


@dataclass
class Packet:
    dts: int
    pts: int
    key: bool
    data: bytes


def hexdump_bytes(dump: str) -> bytes:
    """ffprobe -show_data: '00000000: 0101 6000 ...  ascii' lines."""
    out = bytearray()
    for line in dump.strip("\n").splitlines():
        out += bytes.fromhex(line[10:49].replace(" ", ""))
    return bytes(out)


def read_mp4(path: Path, stream: str) -> tuple[bytes, list[Packet]]:
    result = run_bounded(["ffprobe", "-v", "error", "-of", "json", "-show_data", "-show_streams",
                          "-show_packets", "-select_streams", stream, str(path)], 60)
    assert result.returncode == 0, result.stderr.decode()
    info = json.loads(result.stdout)
    extradata = hexdump_bytes(info["streams"][0]["extradata"])
    packets = [Packet(round(float(p["dts_time"]) * 1000), round(float(p["pts_time"]) * 1000),
                      "K" in p["flags"], hexdump_bytes(p["data"])) for p in info["packets"]]
    return extradata, packets


def hvcc_nal_units(hvcc: bytes) -> list[bytes]:
    """ISO/IEC 14496-15 8.3.3.1: the parameter-set NAL units in an hvcC."""
    assert hvcc[0] == 1 and hvcc[21] & 0x03 == 3, "expected hvcC with 4-byte NAL lengths"
    pos = 23
    nals = []
    for _ in range(hvcc[22]):
        (count,) = struct.unpack_from(">H", hvcc, pos + 1)
        pos += 3
        for _ in range(count):
            (n,) = struct.unpack_from(">H", hvcc, pos)
            nals.append(hvcc[pos + 2:pos + 2 + n])
            pos += 2 + n
    return nals


def annexb(hvcc: bytes, frames: list[bytes]) -> bytes:
    out = bytearray()
    for nal in hvcc_nal_units(hvcc):
        out += b"\x00\x00\x00\x01" + nal
    for frame in frames:
        pos = 0
        while pos < len(frame):
            (n,) = struct.unpack_from(">I", frame, pos)
            out += b"\x00\x00\x00\x01" + frame[pos + 4:pos + 4 + n]
            pos += 4 + n
    return bytes(out)


def video_body(packet: Packet) -> bytes:
    frame_type = 1 if packet.key else 2
    cts = packet.pts - packet.dts
    if cts == 0 and not packet.key:  # CodedFramesX: no composition time field
        return bytes([0x80 | frame_type << 4 | 3]) + FOURCC_HVC1 + packet.data
    return bytes([0x80 | frame_type << 4 | 1]) + FOURCC_HVC1 + \
        (cts & 0xFFFFFF).to_bytes(3, "big") + packet.data


class HevcPublisher(threading.Thread):
    def __init__(self, server: Cascade, key: str, hvcc: bytes, video: list[Packet], asc: bytes,
                 audio: list[Packet]) -> None:
        super().__init__(daemon=True)
        self.server, self.key = server, key
        self.hvcc, self.video, self.asc, self.audio = hvcc, video, asc, audio
        self.sent_video: list[bytes] = []
        self.sent_audio: list[bytes] = []
        self.error: str | None = None
        self.stop_event = threading.Event()

    def run(self) -> None:
        try:
            with connected_client(HOST, self.server.rtmp_port) as client:
                client.set_chunk_size(4096)
                client.create_stream()
                status = client.publish(self.key)
                assert status.get("code") == "NetStream.Publish.Start", status
                client.send_media(18, 0, amf0_encode_all([
                    "@setDataFrame", "onMetaData",
                    {"width": 640.0, "height": 360.0, "framerate": 30.0,
                     "videocodecid": float(int.from_bytes(FOURCC_HVC1, "big")),
                     "audiocodecid": 10.0}]))
                client.send_media(MSG_VIDEO, 0, bytes([0x90]) + FOURCC_HVC1 + self.hvcc)
                client.send_media(MSG_AUDIO, 0, b"\xaf\x00" + self.asc)
                queue = sorted([(p.dts, 1, p) for p in self.video] +
                               [(p.dts, 0, p) for p in self.audio], key=lambda x: (x[0], x[1]))
                t0 = time.monotonic()
                for dts, is_video, packet in queue:
                    if self.stop_event.is_set():
                        return
                    delay = t0 + dts / 1000 - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    if is_video:
                        body = video_body(packet)
                        self.sent_video.append(body)
                        client.send_media(MSG_VIDEO, dts, body)
                    else:
                        body = b"\xaf\x01" + packet.data
                        self.sent_audio.append(body)
                        client.send_media(MSG_AUDIO, dts, body)
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"


def test_hevc_over_enhanced_rtmp(cascade, procs, media, tmp_path) -> None:
    if media.hevc is None:
        pytest.skip("ffmpeg has no libx265 encoder")
    hvcc, video = read_mp4(media.hevc, "v:0")
    asc, audio = read_mp4(media.hevc, "a:0")
    base = min(p.dts for p in video + audio)  # AAC priming makes the first audio dts negative
    for p in video + audio:
        p.dts, p.pts = p.dts - base, p.pts - base
    assert video[0].key and len(video) >= 200
    server: Cascade = cascade(workers=2)
    publisher = HevcPublisher(server, "hevc", hvcc, video, asc, audio)
    publisher.start()
    try:
        wait_for(lambda: publisher.error or server.stream("hevc") and
                 server.stream("hevc")["frames_in"] > 30, 10, 0.1, "the HEVC stream")
        assert publisher.error is None, publisher.error
        stats = server.stream("hevc")
        assert stats["video"] == {"codec": "hevc", "width": 640, "height": 360}, stats
        time.sleep(1.2)  # join mid-GOP: viewers start from the GOP cache
        reader = FlvReader(HOST, server.http_port, server.flv_path("hevc"), http10=False)
        reader.parser.keep_bodies = True
        reader.start()
        player = Player(HOST, server.rtmp_port, "hevc", keep_bodies=True).start()
        time.sleep(4)
        reader.stop()
        player.stop()
        assert publisher.error is None, publisher.error
        # HLS: the newest segment of both playlists is HEVC and decodes.
        for name in ("index.m3u8", "ts.m3u8"):
            status, _, body = server.http("GET", f"/live/hevc/{name}")
            assert status == 200, name
            segment = parse_media_playlist(body.decode()).complete()[-1]
            _, _, data = server.http("GET", f"/live/hevc/{segment.uri}")
            if segment.map_uri:
                _, _, init = server.http("GET", f"/live/hevc/{segment.map_uri}")
                data = init + data
            hls_file = tmp_path / f"hls-{name}.bin"
            hls_file.write_bytes(data)
            info = probe(hls_file, count_frames=True)
            assert info["video"]["codec_name"] == "hevc", (name, info)
            assert int(info["video"]["nb_read_frames"]) >= 30, (name, info)
    finally:
        publisher.stop_event.set()
        publisher.join(timeout=10)

    sequence_start = bytes([0x90]) + FOURCC_HVC1 + hvcc
    for name, bodies, audio_bodies in (
            ("http-flv", [t.body for _, t in reader.video_tags()],
             [t.body for _, t in reader.arrivals if t.is_audio]),
            ("rtmp", [m.payload for _, m in player.video()],
             [m.payload for _, m in player.audio()])):
        assert bodies[0] == sequence_start, f"{name}: the first video tag is not the HEVC " \
                                            f"sequence start"
        assert audio_bodies[0] == b"\xaf\x00" + asc, f"{name}: no AAC config first"
        frames = bodies[1:]
        assert len(frames) >= 90, f"{name}: only {len(frames)} HEVC frames"
        starts = find_run(publisher.sent_video, frames)
        assert starts, f"{name}: HEVC frames are not a contiguous, byte-exact run of the " \
                       f"published ones"
        assert starts[0] > 0 and video[starts[0]].key, \
            f"{name}: the first HEVC frame (#{starts[0]}) is not a keyframe"
        assert find_run(publisher.sent_audio, audio_bodies[1:]), f"{name}: audio differs"
        # What the viewer got decodes: rebuild Annex B from the hvcC and the frames.
        raw = tmp_path / f"{name}.hevc"
        payloads = [b[5:] if b[0] & 0x0F == 3 else b[8:] for b in frames]
        raw.write_bytes(annexb(hvcc, payloads))
        info = probe(raw, count_frames=True)
        assert info["video"]["codec_name"] == "hevc"
        assert (info["video"]["width"], info["video"]["height"]) == (640, 360)
        assert int(info["video"]["nb_read_frames"]) == len(frames), \
            f"{name}: decoded {info['video']['nb_read_frames']} of {len(frames)} frames"


def test_h264_with_mp3_audio(cascade, procs, media) -> None:
    """MP3 audio (FLV SoundFormat 2) is passed through bit-exact next to H.264."""
    server: Cascade = cascade(workers=2)
    source = procs.workdir / "av-mp3.flv"
    run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i",
                 str(media.av), "-c:v", "copy", "-c:a", "libmp3lame", "-b:a", "128k",
                 "-ar", "44100", str(source)], 60).check_returncode()
    key = "mp3"
    ffmpeg_publish(procs, source, server.rtmp_url(key), loop=False)
    server.wait_publishing(key)
    wait_for(lambda: (server.stream(key) or {}).get("audio"), 10, 0.1, "audio in the stats")
    stats = server.stream(key)
    assert stats["audio"]["codec"] == "mp3" and stats["video"]["codec"] == "h264", stats
    time.sleep(1.0)
    players = {proto: ffmpeg_play(procs, url, procs.workdir / f"mp3-{proto}.framemd5", 4,
                                  name=f"play-{proto}", fmt="framemd5")
               for proto, url in (("rtmp", server.rtmp_url(key)),
                                  ("http-flv", server.flv_url(key)))}
    for proto, proc in players.items():
        assert proc.wait(25) == 0, f"{proto}: {proc.log()[-2000:]}"
    expected = [h for _, _, h in framemd5_of(str(source)).audio]
    for proto in players:
        text = (procs.workdir / f"mp3-{proto}.framemd5").read_text()
        assert "mp3" in text, f"{proto}: no mp3 stream in\n{text[:400]}"
        got = [h for _, _, h in parse_framemd5(text).audio]
        assert len(got) >= 4 * 30, f"{proto}: only {len(got)} mp3 packets"
        assert find_run(expected, got), f"{proto}: mp3 is not a contiguous run of the source"
