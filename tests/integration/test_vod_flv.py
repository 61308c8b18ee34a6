"""FLV seek on on-demand files (GET/HEAD /vod/{path}.flv?start=...): byte offsets of
keyframe tags (vod.flv_start_unit = "bytes", what Flash players send) and seconds
("seconds", with end=). Each answer is an FLV header, the file's onMetaData and
sequence headers, then the file's own bytes from the seek point, byte-exact, and
decodes cleanly with FFmpeg; bad requests get 400/416 and broken files 422."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from helpers import Cascade, HOST, probe_packets, run_bounded
from rtmp_client import amf0_decode_all

FLV_HEADER_AV = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"


@dataclass
class TagAt:
    offset: int
    type: int
    timestamp: int
    body: bytes
    end: int  # after its PreviousTagSize

    @property
    def keyframe(self) -> bool:  # FLV spec E.4.3.1: FrameType 1, AVC NALU
        return self.type == 9 and len(self.body) > 1 and self.body[0] >> 4 == 1 and \
            self.body[1] == 1

    @property
    def config(self) -> bool:  # AVC sequence header or AAC AudioSpecificConfig
        return self.type in (8, 9) and len(self.body) > 1 and self.body[1] == 0 and \
            (self.type == 9 or self.body[0] >> 4 == 10)


def tags_of(data: bytes, start: int = 13) -> list[TagAt]:
    """The whole tags from `start` on (FLV spec E.4.1), checking each back pointer."""
    out, pos = [], start
    while pos + 15 <= len(data):
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        end = pos + 11 + size + 4
        if end > len(data):
            break
        assert int.from_bytes(data[end - 4:end], "big") == 11 + size, f"back pointer at {pos}"
        timestamp = int.from_bytes(data[pos + 4:pos + 7], "big") | data[pos + 7] << 24
        out.append(TagAt(pos, data[pos] & 0x1F, timestamp, data[pos + 11:pos + 11 + size], end))
        pos = end
    return out


def keyframe_index(data: bytes) -> tuple[list[float], list[int]]:
    """onMetaData keyframes.times / filepositions."""
    meta = tags_of(data)[0]
    assert meta.type == 18
    name, values = amf0_decode_all(meta.body)[:2]
    assert name == "onMetaData"
    return values["keyframes"]["times"], [int(p) for p in values["keyframes"]["filepositions"]]


@dataclass
class FlvRoot:
    root: Path
    files: dict[str, bytes]


@pytest.fixture(scope="module")
def flv_root(module_procs) -> FlvRoot:
    root = module_procs.workdir / "flv-root"
    root.mkdir()
    av = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
          "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
          "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-t", "10",
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-keyint_min", "25",
          "-sc_threshold", "0", "-bf", "2", "-c:a", "aac", "-b:a", "64k", "-f", "flv"]
    run_bounded([*av, "-flvflags", "add_keyframe_index", str(root / "indexed.flv")],
                120).check_returncode()
    run_bounded([*av, str(root / "plain.flv")], 120).check_returncode()
    run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                 "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-t", "10",
                 "-c:a", "aac", "-b:a", "64k", "-f", "flv", str(root / "audio.flv")],
                120).check_returncode()
    indexed = (root / "indexed.flv").read_bytes()
    _, positions = keyframe_index(indexed)
    # Hostile: cut inside a keyframe tag; random bytes after a valid header; not an FLV.
    (root / "truncated.flv").write_bytes(indexed[:positions[6] + 100])
    rng = random.Random(5)
    (root / "garbage.flv").write_bytes(indexed[:13] + bytes(rng.getrandbits(8)
                                                            for _ in range(200_000)))
    (root / "notflv.flv").write_bytes(b"<html>not a video</html>\n" * 100)
    files = {p.name: p.read_bytes() for p in root.iterdir()}
    return FlvRoot(root, files)


def start_server(module_cascade: Callable[..., Cascade], root: Path, unit: str) -> Cascade:
    # throttle off: these tests measure bytes, not pacing.
    return module_cascade(workers=2, config={"vod": {"root": str(root), "flv_start_unit": unit,
                                                     "throttle": False}})


@pytest.fixture(scope="module")
def bytes_server(module_cascade, flv_root: FlvRoot) -> Cascade:
    return start_server(module_cascade, flv_root.root, "bytes")


@pytest.fixture(scope="module")
def seconds_server(module_cascade, flv_root: FlvRoot) -> Cascade:
    return start_server(module_cascade, flv_root.root, "seconds")


def check_decodes(procs_dir: Path, name: str, body: bytes) -> list[dict[str, Any]]:
    """FFmpeg decodes the whole answer without an error; returns its video packets."""
    path = procs_dir / name
    path.write_bytes(body)
    result = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
                          "-f", "null", "-"], 60)
    assert result.returncode == 0 and result.stderr.decode().strip() == "", \
        (name, result.stderr.decode()[-1000:])
    return probe_packets(path, "v")


def check_prefix(answer: bytes, data: bytes, audio_only: bool = False) -> int:
    """The answer starts with an FLV header, then onMetaData and the sequence headers
    copied whole from the file; returns where the file's own tail begins."""
    assert answer[:13] == (b"FLV\x01\x04\x00\x00\x00\x09\x00\x00\x00\x00" if audio_only
                           else FLV_HEADER_AV)
    file_tags = tags_of(data)
    head = tags_of(answer)[:2 if audio_only else 3]
    assert head[0].type == 18 and head[0].body == file_tags[0].body
    configs = [t for t in file_tags if t.config]
    for got in head[1:]:
        assert got.config, got
        copied = next(t for t in configs if t.type == got.type)
        assert answer[got.offset:got.end] == data[copied.offset:copied.end]
    return head[-1].end


def test_byte_offsets_from_the_keyframe_index(bytes_server: Cascade, flv_root: FlvRoot,
                                              module_procs) -> None:
    data = flv_root.files["indexed.flv"]
    times, positions = keyframe_index(data)
    assert len(positions) == 10
    _, file_headers, _ = bytes_server.http("HEAD", "/vod/indexed.flv")
    etags = {file_headers["etag"]}
    for i in (0, 1, 4, 9):
        status, headers, body = bytes_server.http("GET", f"/vod/indexed.flv?start={positions[i]}")
        assert status == 200, (i, body[:200])
        assert headers["content-type"] == "video/x-flv"
        assert int(headers["content-length"]) == len(body)
        assert "accept-ranges" not in headers
        etags.add(headers["etag"])
        tail = check_prefix(body, data)
        assert body[tail:] == data[positions[i]:], i  # byte-exact from the keyframe on
        packets = check_decodes(module_procs.workdir, f"indexed-{i}.flv", body)
        assert packets[0]["flags"].startswith("K"), (i, packets[0])
        assert abs(float(packets[0]["dts_time"]) - times[i]) < 0.001, (i, packets[0])
        # HEAD: the same length, no body. A Range header is not applied to a seek.
        status, head, nothing = bytes_server.http("HEAD", f"/vod/indexed.flv?start={positions[i]}")
        assert status == 200 and nothing == b"" and head["content-length"] == str(len(body))
        status, _, ranged = bytes_server.http("GET", f"/vod/indexed.flv?start={positions[i]}",
                                              headers={"Range": "bytes=0-99"})
        assert status == 200 and ranged == body
    assert len(etags) == 5  # each seek is its own representation


def test_byte_offsets_in_a_file_without_an_index(bytes_server: Cascade, flv_root: FlvRoot,
                                                 module_procs) -> None:
    data = flv_root.files["plain.flv"]
    keyframes = [t for t in tags_of(data) if t.keyframe]
    assert len(keyframes) == 10
    for i in (2, 7):
        k = keyframes[i]
        status, _, body = bytes_server.http("GET", f"/vod/plain.flv?start={k.offset}")
        assert status == 200, body[:200]
        assert body[check_prefix(body, data):] == data[k.offset:]
        packets = check_decodes(module_procs.workdir, f"plain-{i}.flv", body)
        assert packets[0]["flags"].startswith("K")
        assert abs(float(packets[0]["dts_time"]) - k.timestamp / 1000) < 0.001


def test_byte_offset_refusals(bytes_server: Cascade, flv_root: FlvRoot) -> None:
    data = flv_root.files["indexed.flv"]
    _, positions = keyframe_index(data)
    # At or before the first tag: the whole file, as it is.
    for start in (0, 13):
        status, _, body = bytes_server.http("GET", f"/vod/indexed.flv?start={start}")
        assert status == 200 and body == data, start
    audio_tag = next(t for t in tags_of(data) if t.type == 8 and t.offset > positions[3])
    for query in (f"start={positions[3] + 1}", f"start={positions[3] - 4}",
                  f"start={audio_tag.offset}"):
        status, _, body = bytes_server.http("GET", f"/vod/indexed.flv?{query}")
        assert status == 400, (query, body)
        assert b"is not the byte offset of a video keyframe tag" in body, body
    for query in ("start=abc", "start=-5", "start=1.5", "start=", f"start={positions[2]}&end=5"):
        status, _, body = bytes_server.http("GET", f"/vod/indexed.flv?{query}")
        assert status == 400 and body.startswith(b"bad seek: "), (query, status, body)
    for start in (len(data), len(data) * 10):
        status, _, body = bytes_server.http("GET", f"/vod/indexed.flv?start={start}")
        assert status == 416 and b"past the end" in body, (start, status, body)
    # Other parameters (player ids) are ignored.
    status, _, body = bytes_server.http("GET", "/vod/indexed.flv?id=player1&width=640")
    assert status == 200 and body == data


def test_seconds(seconds_server: Cascade, flv_root: FlvRoot, module_procs) -> None:
    for name in ("indexed.flv", "plain.flv"):
        data = flv_root.files[name]
        tags = tags_of(data)
        keyframes = [t for t in tags if t.keyframe]
        for start, end in ((3.5, None), (3.0, None), (7.2, 9.5), (0.5, 4), (4.2, 4.3)):
            query = f"start={start}" + (f"&end={end}" if end is not None else "")
            status, _, body = seconds_server.http("GET", f"/vod/{name}?{query}")
            assert status == 200, (name, query, body[:200])
            expected = max((k for k in keyframes if k.timestamp <= start * 1000),
                           key=lambda k: k.timestamp)
            cut = len(data)
            if end is not None:
                walk_from = max((k for k in keyframes if k.timestamp < end * 1000),
                                key=lambda k: k.timestamp)
                cut = next((t.offset for t in tags
                            if t.offset >= walk_from.offset and t.timestamp >= end * 1000),
                           len(data))
            tail = check_prefix(body, data)
            assert body[tail:] == data[expected.offset:cut], (name, query)
            if end is not None:
                assert all(t.timestamp < end * 1000 for t in tags_of(body, tail)), (name, query)
            packets = check_decodes(module_procs.workdir, f"s-{name}-{query}.flv", body)
            assert packets[0]["flags"].startswith("K"), (name, query)
            assert abs(float(packets[0]["dts_time"]) - expected.timestamp / 1000) < 0.001
        status, _, body = seconds_server.http("GET", f"/vod/{name}?start=0")
        assert status == 200 and body == data
        for query, expected_status in (("start=100", 416), ("start=5&end=2", 400),
                                       ("start=abc", 400), ("start=-1", 400), ("end=x", 400)):
            status, _, body = seconds_server.http("GET", f"/vod/{name}?{query}")
            assert status == expected_status, (name, query, status, body)


def test_seconds_in_an_audio_only_file(seconds_server: Cascade, flv_root: FlvRoot,
                                       module_procs) -> None:
    data = flv_root.files["audio.flv"]
    audio = [t for t in tags_of(data) if t.type == 8 and not t.config]
    status, _, body = seconds_server.http("GET", "/vod/audio.flv?start=2.5&end=6")
    assert status == 200, body[:200]
    first = next(t for t in audio if t.timestamp >= 2500)  # at or after start
    tail = check_prefix(body, data, audio_only=True)
    copied = tags_of(body, tail)
    assert copied[0].body == first.body and copied[0].timestamp == first.timestamp
    assert all(t.timestamp < 6000 for t in copied)
    check_decodes(module_procs.workdir, "audio-seek.flv", body)


def test_hostile_files_are_refused_and_the_server_keeps_serving(
        bytes_server: Cascade, flv_root: FlvRoot) -> None:
    _, positions = keyframe_index(flv_root.files["indexed.flv"])
    for name, start, reason in (("truncated.flv", positions[2], b"runs past the end"),
                                ("garbage.flv", 1000, b""),
                                ("notflv.flv", 100, b"not an FLV file")):
        status, _, body = bytes_server.http("GET", f"/vod/{name}?start={start}")
        assert status == 422, (name, status, body)
        assert body.startswith(b"cannot seek in this file: ") and reason in body, body
        bytes_server.wait_log(rf"{name.replace('.', '[.]')}: cannot seek")
        # The file itself is still served whole.
        status, _, whole = bytes_server.http("GET", f"/vod/{name}")
        assert status == 200 and whole == flv_root.files[name]
    bytes_server.assert_alive()
    status, _, body = bytes_server.http("GET", f"/vod/indexed.flv?start={positions[1]}")
    assert status == 200 and body.startswith(FLV_HEADER_AV)


def test_the_index_is_cached(bytes_server: Cascade, flv_root: FlvRoot) -> None:
    _, positions = keyframe_index(flv_root.files["indexed.flv"])
    before = bytes_server.metric("cascade_vod_flv_index_cache_hits_total")
    _, _, a = bytes_server.http("GET", f"/vod/indexed.flv?start={positions[5]}")
    _, _, b = bytes_server.http("GET", f"/vod/indexed.flv?start={positions[5]}")
    assert a == b
    assert bytes_server.metric("cascade_vod_flv_index_cache_hits_total") >= before + 1
    assert bytes_server.metric("cascade_vod_flv_index_cache_misses_total") >= 1


def test_the_start_unit_is_validated(cascade_bin: Path, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[vod]\nroot = "/tmp"\nflv_start_unit = "minutes"\n')
    result = run_bounded([str(cascade_bin), "--config", str(config), "--rtmp", f"{HOST}:0",
                          "--http", f"{HOST}:0"], 10)
    err = result.stderr.decode()
    assert result.returncode != 0
    assert "vod.flv_start_unit" in err and "minutes" in err, err
