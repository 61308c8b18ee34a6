"""HLS from on-demand MP4 files (/vod/{file}/master.m3u8, index.m3u8 for fMP4,
ts.m3u8 for MPEG-TS), cut at keyframes and muxed per request: FFmpeg plays both
media playlists over HTTP end to end with every frame, segments decode alone
and start with a keyframe, timestamps continue across segments (A/V sync),
EXTINF adds up to the file's duration, the two playlists align; H.264 with
B-frames (faststart and moov at the end), HEVC ('hev1'), audio-only m4a;
validators, caching and content types; 404/422 for what cannot be served.

The rule checker in hls.py (check_media_playlist) is written for live
playlists (it requires EXT-X-PROGRAM-DATE-TIME, which a VOD playlist has no
use for); the rules it checks that apply to VOD are checked here."""

from __future__ import annotations

import json
import math
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import DIE_WITH_PARENT, HOST, Cascade, probe, run_bounded
from hls import MediaPlaylist, parse_master, parse_media_playlist

SEGMENT_S = 6


@dataclass
class VodFiles:
    root: Path
    server: Cascade
    hevc: bool


def _encode(jobs: list[list[str]]) -> None:
    running = [(job, subprocess.Popen([*DIE_WITH_PARENT, *job], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      start_new_session=True)) for job in jobs]
    for job, p in running:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"{' '.join(job)}\n{err.decode()}"


def _has_encoder(name: str) -> bool:
    result = run_bounded(["ffmpeg", "-hide_banner", "-encoders"], 30)
    return any(line.split()[1:2] == [name] for line in result.stdout.decode().splitlines()
               if len(line.split()) > 1)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, version_flags: int, payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", version_flags) + payload)


# A real libx264 avcC (1280x720 High@3.1).
AVCC = bytes.fromhex("0164001fffe1001a6764001facd9405005bb011000000300"
                     "1000000303c0f183196001000668ebe3cb22c0fdf8f800")


def write_huge_sample_mp4(path: Path) -> None:
    """A hostile but valid file: one H.264 track whose only sample is 65 MiB
    (the file is sparse, so it costs no disk)."""
    sample = (65 << 20) + 16
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isom")
    mdat_at = len(ftyp)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = full_box(b"mvhd", 0, struct.pack(">IIIIIH", 0, 0, 1000, 100, 0x10000, 0x100)
                    + bytes(10) + matrix + bytes(24) + struct.pack(">I", 2))
    tkhd = full_box(b"tkhd", 3, struct.pack(">IIIII", 0, 0, 1, 0, 100) + bytes(16) + matrix
                    + struct.pack(">II", 1280 << 16, 720 << 16))
    mdhd = full_box(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, 90000, 3000, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, struct.pack(">I", 0) + b"vide" + bytes(12) + b"\0")
    vmhd = full_box(b"vmhd", 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, struct.pack(">I", 1) + full_box(b"url ", 1, b"")))
    avc1 = box(b"avc1", bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", 1280, 720)
               + struct.pack(">III", 0x480000, 0x480000, 0) + struct.pack(">H", 1) + bytes(32)
               + struct.pack(">Hh", 0x18, -1) + box(b"avcC", AVCC))
    stbl = box(b"stbl", full_box(b"stsd", 0, struct.pack(">I", 1) + avc1)
               + full_box(b"stts", 0, struct.pack(">III", 1, 1, 3000))
               + full_box(b"stsc", 0, struct.pack(">IIII", 1, 1, 1, 1))
               + full_box(b"stsz", 0, struct.pack(">III", 0, 1, sample))
               + full_box(b"stco", 0, struct.pack(">II", 1, mdat_at + 8)))
    trak = box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + box(b"minf", vmhd + dinf + stbl)))
    moov = box(b"moov", mvhd + trak)
    with open(path, "wb") as f:
        f.write(ftyp)
        f.write(struct.pack(">I", 8 + sample) + b"mdat")
        f.seek(mdat_at + 8 + sample)
        f.write(moov)


@pytest.fixture(scope="module")
def vod(module_procs, module_cascade) -> VodFiles:
    root = module_procs.workdir / "hls-root"
    (root / "films").mkdir(parents=True)
    ff = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    video_in = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"]
    audio_in = ["-f", "lavfi", "-i", "sine=frequency=440:beep_factor=4:sample_rate=44100"]
    # 12 s, 2 s GOPs, B-frames, AAC: cuts at 6 s.
    h264 = [*video_in, *audio_in, "-t", "12", "-c:v", "libx264", "-preset", "veryfast",
            "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "2",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ac", "2"]
    jobs = [
        [*ff, *h264, "-movflags", "+faststart", str(root / "films" / "fast.mp4")],
        [*ff, *h264, str(root / "end.MOV")],  # moov at the end, QuickTime
        [*ff, *audio_in, "-t", "10", "-c:a", "aac", "-b:a", "96k", str(root / "song.m4a")],
        [*ff, *h264, "-movflags", "frag_keyframe+empty_moov", str(root / "frag.mp4")],
        [*ff, *video_in, "-t", "2", "-c:v", "mpeg4", str(root / "mpeg4.mp4")],
        [*ff, *video_in, *audio_in, "-t", "8", "-c:v", "libx264", "-preset", "veryfast",
         "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "libmp3lame", "-b:a", "96k",
         str(root / "mp3.mp4")],
    ]
    hevc = _has_encoder("libx265")
    if hevc:
        # FFmpeg's default HEVC sample entry is 'hev1'; x265 uses B-frames.
        jobs.append([*ff, *video_in, *audio_in, "-t", "8", "-c:v", "libx265", "-preset",
                     "ultrafast", "-x265-params", "keyint=60:min-keyint=60:scenecut=0:"
                     "log-level=error", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
                     str(root / "hevc.mp4")])
    _encode(jobs)
    good = (root / "films" / "fast.mp4").read_bytes()
    (root / "broken.mp4").write_bytes(good[:len(good) // 3])  # moov first, media cut
    (root / "notes.txt").write_text("hello\n")
    write_huge_sample_mp4(root / "huge.mp4")
    server = module_cascade(workers=2, config={"vod": {"root": str(root)}})
    return VodFiles(root=root, server=server, hevc=hevc)


def url(server: Cascade, path: str) -> str:
    return f"http://{HOST}:{server.http_port}{path}"


def get_playlist(server: Cascade, path: str) -> MediaPlaylist:
    status, headers, body = server.http("GET", path)
    assert status == 200, (path, status, body[:300])
    assert headers["content-type"] == "application/vnd.apple.mpegurl"
    return parse_media_playlist(body.decode())


def check_vod_playlist(p: MediaPlaylist) -> None:
    """RFC 8216 rules for a VOD media playlist (those of hls.check_media_playlist
    that apply, and the VOD ones)."""
    assert p.tags["EXT-X-PLAYLIST-TYPE"] == "VOD" and p.ended
    assert p.media_sequence == 0 and p.segments
    durations = [s.duration for s in p.segments]
    # 4.3.3.1: EXTINF rounded to the nearest integer <= TARGETDURATION;
    # here TARGETDURATION is the longest EXTINF rounded up.
    assert p.target_duration == math.ceil(max(durations) - 1e-9), (p.target_duration, durations)
    for s in p.segments:
        assert 0 < s.duration and round(s.duration) <= p.target_duration and s.uri
    msns = [s.msn for s in p.segments]
    assert msns == list(range(len(msns)))


def file_duration(path: Path) -> float:
    return float(probe(path)["format"]["duration"])


def packets(path: Path, stream: str) -> list[dict[str, str]]:
    """pts_time and flags of the first video ('v') or audio ('a') stream's packets."""
    result = run_bounded(["ffprobe", "-v", "error", "-of", "json", "-select_streams", f"{stream}:0",
                          "-show_entries", "packet=pts_time,flags", str(path)], 30)
    assert result.returncode == 0, result.stderr.decode()[-1000:]
    return json.loads(result.stdout).get("packets", [])


def fetch_segments(server: Cascade, base: str, p: MediaPlaylist) -> list[bytes]:
    out = []
    for s in p.segments:
        status, headers, body = server.http("GET", f"{base}/{s.uri}")
        assert status == 200, (s.uri, status, body[:200])
        assert int(headers["content-length"]) == len(body)
        out.append(body)
    return out


def media_files(vod: VodFiles) -> list[str]:
    return ["films/fast.mp4", "end.MOV", "mp3.mp4"] + (["hevc.mp4"] if vod.hevc else [])


# The CODECS each file's master playlist names.
CODECS = {"films/fast.mp4": ("avc1.", "mp4a.40.2"), "end.MOV": ("avc1.", "mp4a.40.2"),
          "mp3.mp4": ("avc1.", "mp4a.40.34"), "hevc.mp4": ("hvc1.", "mp4a.40.2")}


def test_playlists_align_and_add_up_to_the_file(vod) -> None:
    server = vod.server
    for name in media_files(vod) + ["song.m4a"]:
        base = f"/vod/{name}"
        status, headers, body = server.http("GET", f"{base}/master.m3u8")
        assert status == 200, (name, body[:200])
        assert headers["content-type"] == "application/vnd.apple.mpegurl"
        variants = parse_master(body.decode())
        # Both containers, identical attributes (the second is a fallback).
        assert [uri for _, uri in variants] == ["index.m3u8", "ts.m3u8"], body
        assert variants[0][0] == variants[1][0]
        attrs = variants[0][0]
        assert int(attrs["BANDWIDTH"]) >= int(attrs["AVERAGE-BANDWIDTH"]) > 0
        codecs = attrs["CODECS"].split(",")
        if name == "song.m4a":
            assert codecs == ["mp4a.40.2"] and "RESOLUTION" not in attrs
        else:
            video_codec, audio_codec = CODECS[name]
            assert codecs[0].startswith(video_codec) and codecs[1] == audio_codec, codecs
            assert attrs["RESOLUTION"] == "640x360" and attrs["FRAME-RATE"] == "30.000"

        fmp4 = get_playlist(server, f"{base}/index.m3u8")
        ts = get_playlist(server, f"{base}/ts.m3u8")
        for p in (fmp4, ts):
            check_vod_playlist(p)
            assert "EXT-X-INDEPENDENT-SEGMENTS" in p.tags
        assert fmp4.segments[0].map_uri.startswith("init.mp4?v=")
        assert [s.duration for s in fmp4.segments] == [s.duration for s in ts.segments]
        assert [s.uri.replace(".m4s", ".ts") for s in fmp4.segments] == [s.uri for s in ts.segments]
        # EXTINF sums to the file's duration (ffprobe: the longest track).
        total = sum(s.duration for s in ts.segments)
        assert abs(total - file_duration(vod.root / name)) <= 0.1, (name, total)
        # Keyframes every 2 s (audio: any frame) against a 6 s target.
        assert all(abs(s.duration - SEGMENT_S) <= 0.1 for s in ts.segments[:-1]), \
            (name, [s.duration for s in ts.segments])


@pytest.mark.parametrize("playlist", ["ts.m3u8", "index.m3u8"])
def test_ffmpeg_plays_every_frame_over_http(vod, playlist, tmp_path) -> None:
    server = vod.server
    for name in media_files(vod) + ["song.m4a"]:
        source = url(server, f"/vod/{name}/{playlist}")
        played = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", source,
                              "-f", "null", "-"], 120)
        assert played.returncode == 0 and played.stderr.decode().strip() == "", \
            (name, playlist, played.stderr.decode()[-2000:])
        # Every packet arrives, and the whole duration.
        copy = tmp_path / f"{name.replace('/', '_')}-{playlist}.mkv"
        copied = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i",
                              source, "-map", "0", "-c", "copy", str(copy)], 120)
        assert copied.returncode == 0, copied.stderr.decode()[-2000:]
        original, served = probe(vod.root / name), probe(copy)
        for kind in ("video", "audio"):
            if original[kind] is None:
                assert served[kind] is None
                continue
            assert served[kind]["nb_read_packets"] == original[kind]["nb_read_packets"], \
                (name, playlist, kind)
        assert abs(float(served["format"]["duration"]) -
                   float(original["format"]["duration"])) <= 0.1, (name, playlist)


def test_each_segment_decodes_alone_and_timestamps_continue(vod, tmp_path) -> None:
    server = vod.server
    for name in media_files(vod) + ["song.m4a"]:
        base = f"/vod/{name}"
        for container in ("ts", "fmp4"):
            p = get_playlist(server, f"{base}/{'ts' if container == 'ts' else 'index'}.m3u8")
            init = b""
            if container == "fmp4":
                status, headers, init = server.http("GET", f"{base}/{p.segments[0].map_uri}")
                assert status == 200 and headers["content-type"] == "video/mp4"
            bodies = fetch_segments(server, base, p)
            start = None
            elapsed = 0.0
            for n, body in enumerate(bodies):
                extension = "ts" if container == "ts" else "mp4"
                segment = tmp_path / f"{name.replace('/', '_')}-{n}.{extension}"
                segment.write_bytes(init + body)
                decoded = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i",
                                       str(segment), "-f", "null", "-"], 60)
                assert decoded.returncode == 0 and decoded.stderr.decode().strip() == "", \
                    (name, container, n, decoded.stderr.decode()[-1000:])
                audio = packets(segment, "a")
                if name == "song.m4a":
                    first = min(float(a["pts_time"]) for a in audio[:4])
                else:
                    video = packets(segment, "v")
                    assert video and video[0]["flags"].startswith("K"), (name, container, n)
                    # The keyframe's time (open-GOP HEVC has leading
                    # pictures after it that are shown before it).
                    first = float(video[0]["pts_time"])
                    # Audio starts with the video (no reset, no drift).
                    assert abs(float(audio[0]["pts_time"]) - first) < 0.05, (name, container, n)
                # Each segment starts where the EXTINFs before it end.
                if start is None:
                    start = first
                assert abs(first - start - elapsed) < 0.05, (name, container, n, first, elapsed)
                elapsed += p.segments[n].duration


def test_validators_caching_and_content_types(vod) -> None:
    server = vod.server
    base = "/vod/films/fast.mp4"
    p = get_playlist(server, f"{base}/ts.m3u8")
    version = p.segments[0].uri.split("?v=")[1]
    status, headers, body = server.http("GET", f"{base}/ts.m3u8")
    assert headers["etag"] == f'"{version}"' and "last-modified" in headers
    assert headers["cache-control"] == "public, max-age=3600" and "accept-ranges" not in headers
    for path, mime in ((f"{base}/s1.ts?v={version}", "video/mp2t"),
                       (f"{base}/s1.m4s?v={version}", "video/iso.segment"),
                       (f"{base}/init.mp4?v={version}", "video/mp4")):
        status, headers, body = server.http("GET", path)
        assert status == 200 and headers["content-type"] == mime, path
        assert headers["cache-control"] == "public, max-age=31536000, immutable", path
        # Same request, same bytes (segments are immutable per file version).
        _, _, again = server.http("GET", path)
        assert again == body, path
        status, h, head_body = server.http("HEAD", path)
        assert status == 200 and head_body == b"" and int(h["content-length"]) == len(body)
        status, h, not_modified = server.http("GET", path,
                                              headers={"If-None-Match": headers["etag"]})
        assert status == 304 and not_modified == b"" and h["etag"] == headers["etag"], path
        status, _, _ = server.http("GET", path,
                                   headers={"If-Modified-Since": headers["last-modified"]})
        assert status == 304
    # Without ?v= a segment is served with the root's Cache-Control.
    status, headers, _ = server.http("GET", f"{base}/s0.ts")
    assert status == 200 and headers["cache-control"] == "public, max-age=3600"
    # A version the file no longer has: gone, not someone else's bytes.
    status, _, body = server.http("GET", f"{base}/s0.ts?v=1-2-3-6000")
    assert status == 404 and b"changed" in body
    # The plan is made once per file and reused.
    assert server.metric("cascade_vod_hls_plan_cache_hits_total") >= 5
    # The MP4 itself is still a file.
    status, headers, body = server.http("GET", "/vod/films/fast.mp4")
    assert status == 200 and body == (vod.root / "films" / "fast.mp4").read_bytes()


def test_errors(vod) -> None:
    server = vod.server
    for path, expected in {
        "/vod/films/fast.mp4/s2.ts": 404,         # past the last segment
        "/vod/films/fast.mp4/s999999999.m4s": 404,
        "/vod/films/fast.mp4/s01.ts": 404,        # one spelling per number
        "/vod/films/fast.mp4/s1000000000.ts": 404,
        "/vod/films/fast.mp4/other.m3u8": 404,    # no such resource
        "/vod/films/fast.mp4/": 400,              # as any path ending in '/'
        "/vod/nope.mp4/index.m3u8": 404,
        "/vod/notes.txt/index.m3u8": 404,          # not an MP4 name: a path under a file
        "/vod/../films/fast.mp4/index.m3u8": 400,  # traversal is refused as for files
        "/vod/films/%2e%2e/films/fast.mp4/master.m3u8": 400,
    }.items():
        status, _, body = server.http("GET", path)
        assert status == expected, (path, status, body[:200])
    for path, message, log in (
        ("/vod/frag.mp4/index.m3u8", b"fragmented MP4", r"frag\.mp4/index\.m3u8: a fragmented MP4"),
        ("/vod/broken.mp4/master.m3u8", b"cannot index this file",
         r"broken\.mp4/master\.m3u8: cannot index"),
        ("/vod/mpeg4.mp4/ts.m3u8", b"video codec 'mp4v' is not supported",
         r"mpeg4\.mp4/ts\.m3u8: cannot serve this file as HLS"),
    ):
        status, _, body = server.http("GET", path)
        assert status == 422 and message in body, (path, status, body)
        server.wait_log(log)
    # A segment too large to read into memory: refused, the playlists still fine.
    status, _, body = server.http("GET", "/vod/huge.mp4/index.m3u8")
    assert status == 200 and b"s0.m4s" in body, body
    for resource in ("s0.ts", "s0.m4s"):
        status, _, body = server.http("GET", f"/vod/huge.mp4/{resource}")
        assert status == 422 and b"over the limit" in body, (resource, status, body)
    server.wait_log(r"huge\.mp4/s0\.ts: segment 0 holds 68157456 bytes of samples")
    status, _, _ = server.http("POST", "/vod/films/fast.mp4/index.m3u8")
    assert status == 405
    assert server.metric("cascade_vod_hls_refused_total") >= 5
    server.assert_alive()
