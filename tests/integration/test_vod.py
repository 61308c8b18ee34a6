"""On-demand files under vod.root: whole files and byte ranges byte-exact
against the file, 416, If-Range, ETag/Last-Modified/304, HEAD, content types,
and nothing outside the root (.., percent-encoded forms, symlinks leaving it,
directories) while other requests keep being served."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from helpers import HOST, Cascade, probe, run_bounded


@pytest.fixture
def vod(cascade, procs) -> tuple[Cascade, Path, bytes]:
    root = procs.workdir / "vod-root"
    (root / "films").mkdir(parents=True)
    data = os.urandom(3 * 1024 * 1024 + 17)
    (root / "films" / "movie.mp4").write_bytes(data)
    (root / "poster.JPG").write_bytes(b"\xff\xd8jpeg")
    (root / "notes.txt").write_text("hello\n")
    (root / "empty.flv").write_bytes(b"")
    secret = procs.workdir / "secret.txt"
    secret.write_text("do not serve")
    (root / "escape.txt").symlink_to(secret)
    (root / "inside.mp4").symlink_to("films/movie.mp4")
    server = cascade(workers=2, config={"vod": {"root": str(root)}})
    return server, root, data


def raw_get(server: Cascade, target: str) -> tuple[int, bytes]:
    """Sends the request line as is (http.client would normalize the path)."""
    with socket.create_connection((HOST, server.http_port), timeout=5) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := s.recv(65536):
            response += chunk
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


def test_whole_file_ranges_and_validators(vod) -> None:
    server, _, data = vod
    status, headers, body = server.http("GET", "/vod/films/movie.mp4")
    assert status == 200 and body == data
    assert headers["content-type"] == "video/mp4" and headers["accept-ranges"] == "bytes"
    etag, modified = headers["etag"], headers["last-modified"]
    # Ranges, byte-exact (RFC 9110 14).
    size = len(data)
    for spec, first, last in (("0-0", 0, 0), ("100-1099", 100, 1099), ("-500", size - 500, size - 1),
                              (f"{size - 10}-", size - 10, size - 1),
                              (f"5-{size + 100}", 5, size - 1)):
        status, h, body = server.http("GET", "/vod/films/movie.mp4", headers={"Range": f"bytes={spec}"})
        assert status == 206, spec
        assert body == data[first:last + 1], spec
        assert h["content-range"] == f"bytes {first}-{last}/{size}"
    status, h, body = server.http("GET", "/vod/films/movie.mp4", headers={"Range": f"bytes={size}-"})
    assert status == 416 and h["content-range"] == f"bytes */{size}" and body == b""
    # Several ranges, or junk: the whole file (a server may ignore Range).
    status, _, body = server.http("GET", "/vod/films/movie.mp4", headers={"Range": "bytes=0-1,4-5"})
    assert status == 200 and body == data
    # If-Range: the range only while the validator matches.
    status, _, body = server.http("GET", "/vod/films/movie.mp4",
                                  headers={"Range": "bytes=0-9", "If-Range": etag})
    assert status == 206 and body == data[:10]
    status, _, body = server.http("GET", "/vod/films/movie.mp4",
                                  headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert status == 200 and body == data
    # Conditional requests (RFC 9110 13).
    for cond in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        status, h, body = server.http("GET", "/vod/films/movie.mp4", headers=cond)
        assert status == 304 and body == b"" and h["etag"] == etag, cond
        assert "content-length" not in h
    status, h, body = server.http("HEAD", "/vod/films/movie.mp4")
    assert status == 200 and body == b"" and int(h["content-length"]) == size
    # Content types and the empty file.
    for path, mime in (("/vod/poster.JPG", "image/jpeg"), ("/vod/notes.txt", "text/plain; charset=utf-8"),
                       ("/vod/empty.flv", "video/x-flv"), ("/vod/inside.mp4", "video/mp4")):
        status, h, _ = server.http("GET", path)
        assert status == 200 and h["content-type"] == mime, path
    status, _, _ = server.http("POST", "/vod/notes.txt")
    assert status == 405


def test_nothing_outside_the_root(vod) -> None:
    server, root, data = vod
    attempts = {
        "/vod/../secret.txt": 400, "/vod/films/../../secret.txt": 400,
        "/vod/%2e%2e/secret.txt": 400, "/vod/%2E%2E%2Fsecret.txt": 400,
        "/vod/films/%2e%2e/%2e%2e/secret.txt": 400, "/vod/films%2F..%2F..%2Fsecret.txt": 400,
        "/vod/x%00.mp4": 400, "/vod/films//movie.mp4": 400, "/vod/films\\..\\secret.txt": 400,
        "/vod/escape.txt": 403,  # a symlink leaving the root
        "/vod/films": 404, "/vod/films/": 400, "/vod/": 400,  # no listings
        "/vod/nope.mp4": 404,
    }
    for target, expected in attempts.items():
        status, body = raw_get(server, target)
        assert status == expected, (target, status, body[:100])
        assert b"do not serve" not in body, target
    # Refusals are logged with the reason; the server keeps serving.
    server.wait_log(r"refused /vod/escape\.txt: path leaves the root")
    status, _, body = server.http("GET", "/vod/films/movie.mp4")
    assert status == 200 and body == data
    assert server.metric("cascade_vod_refused_total") >= 10


def test_mp4_time_seek(cascade, procs) -> None:
    root = procs.workdir / "seek-root"
    root.mkdir()
    ff = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
          "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
          "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-t", "10",
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-bf", "2",
          "-c:a", "aac", "-b:a", "64k"]
    run_bounded([*ff, "-movflags", "+faststart", str(root / "fast.mp4")], 120).check_returncode()
    run_bounded([*ff, str(root / "end.mp4")], 120).check_returncode()  # moov at the end
    run_bounded([*ff, "-movflags", "frag_keyframe+empty_moov", str(root / "frag.mp4")],
                120).check_returncode()
    good = (root / "fast.mp4").read_bytes()
    (root / "broken.mp4").write_bytes(good[:len(good) // 3])  # truncated, moov first
    server = cascade(workers=2, config={"vod": {"root": str(root)}})

    for name in ("fast.mp4", "end.mp4"):
        for query, start, end in (("start=3.5&end=6", 3.0, 6.0), ("start=7.2", 7.0, 10.0),
                                  ("start=4.5&end=5.5&exact=1", 4.5, 5.5)):
            status, headers, body = server.http("GET", f"/vod/{name}?{query}")
            assert status == 200, (name, query, body[:200])
            assert int(headers["content-length"]) == len(body)
            clip = procs.workdir / f"clip-{name}-{query.replace('&', '_')}.mp4"
            clip.write_bytes(body)
            result = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i",
                                  str(clip), "-f", "null", "-"], 60)
            assert result.returncode == 0 and result.stderr.decode().strip() == "", \
                (name, query, result.stderr.decode()[-1000:])
            info = probe(clip)
            duration = float(info["format"]["duration"])
            # Within one GOP (1 s) of what was asked.
            assert abs(duration - (end - start)) <= 1.05, (name, query, duration)
            first = run_bounded(["ffprobe", "-v", "error", "-select_streams", "v",
                                 "-show_entries", "packet=flags", "-of", "csv=p=0",
                                 "-read_intervals", "%+#1", str(clip)], 30)
            assert first.stdout.decode().startswith("K"), (name, query, "first frame not a keyframe")
    # Same seek, same bytes: the parsed index is cached.
    _, _, a = server.http("GET", "/vod/fast.mp4?start=2")
    _, _, b = server.http("GET", "/vod/fast.mp4?start=2")
    assert a == b and server.metric("cascade_vod_index_cache_hits_total") >= 1
    # Fragmented MP4 is served whole; bad requests and broken files get clear errors.
    status, _, body = server.http("GET", "/vod/frag.mp4?start=3")
    assert status == 200 and body == (root / "frag.mp4").read_bytes()
    for query, expected in (("start=abc", 400), ("start=-1", 400), ("start=5&end=2", 400),
                            ("start=500", 416)):
        status, _, body = server.http("GET", f"/vod/fast.mp4?{query}")
        assert status == expected, (query, status, body)
    status, _, body = server.http("GET", "/vod/broken.mp4?start=1")
    assert status == 422 and b"cannot seek" in body
    server.wait_log(r"broken\.mp4: cannot seek")
    status, _, body = server.http("GET", "/vod/fast.mp4")
    assert status == 200 and body == good


def test_clients_hanging_up_mid_body_end_only_their_response(vod) -> None:
    """sendfile(2) has no MSG_NOSIGNAL: unless SIGPIPE is ignored, a player
    that closes mid-download kills the server (it did, once)."""
    server, _, data = vod
    for _ in range(40):
        with socket.create_connection((HOST, server.http_port), timeout=10) as s:
            s.sendall(b"GET /vod/films/movie.mp4 HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(4096)
    status, _, body = server.http("GET", "/vod/films/movie.mp4")
    assert status == 200 and body == data


def test_mp4_seek_in_a_two_hour_file_two_audio_tracks_and_audio_only(cascade, procs) -> None:
    """The corpus the issue names beyond test_mp4_time_seek: a ~2 hour file (a
    low-bitrate one, made fast: tiny frames, 2 fps), several audio tracks, and
    an audio-only file. Every clip decodes, starts where asked and lasts as asked."""
    root = procs.workdir / "long-root"
    root.mkdir()
    quiet = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    run_bounded([*quiet, "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=2",
                 "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=8000", "-t", "7200",
                 "-c:v", "libx264", "-preset", "ultrafast", "-g", "4", "-c:a", "aac",
                 "-b:a", "8k", "-ac", "1", str(root / "long.mp4")], 300).check_returncode()
    run_bounded([*quiet, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
                 "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100",
                 "-f", "lavfi", "-i", "sine=frequency=900:sample_rate=48000", "-t", "10",
                 "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264",
                 "-preset", "ultrafast", "-g", "25", "-bf", "2", "-c:a", "aac",
                 "-movflags", "+faststart", str(root / "two-audio.mp4")], 120).check_returncode()
    run_bounded([*quiet, "-f", "lavfi", "-i", "sine=frequency=500:sample_rate=44100", "-t", "10",
                 "-c:a", "aac", str(root / "audio.m4a")], 120).check_returncode()
    server = cascade(workers=2, config={"vod": {"root": str(root), "throttle": False}})

    def clip(name: str, query: str) -> dict:
        status, headers, body = server.http("GET", f"/vod/{name}?{query}", timeout=60)
        assert status == 200, (name, query, body[:200])
        assert int(headers["content-length"]) == len(body)
        path = procs.workdir / f"clip-{name}-{query.replace('&', '_')}.mp4"
        path.write_bytes(body)
        decoded = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i",
                               str(path), "-map", "0", "-f", "null", "-"], 120)
        assert decoded.returncode == 0 and decoded.stderr.decode().strip() == "", \
            (name, query, decoded.stderr.decode()[-1000:])
        return probe(path)

    # Near the end of two hours (the moov holds ~14,400 video and ~56,000 audio samples).
    for query, length in (("start=7000.3&end=7060", 60.0), ("start=7190", 10.0),
                          ("start=3600&end=3601&exact=1", 1.0)):
        info = clip("long.mp4", query)
        assert abs(float(info["format"]["duration"]) - length) <= 2.1, (query, info["format"])
    # Two audio tracks: both kept, in sync with the video.
    info = clip("two-audio.mp4", "start=4.2&end=8")
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == ["audio", "audio", "video"], kinds
    for stream in info["streams"]:
        assert abs(float(stream["duration"]) - 4.0) <= 1.05, stream
    # Audio-only: every frame is a sync sample, so the clip starts where asked.
    info = clip("audio.m4a", "start=2.5&end=7.5")
    assert [s["codec_type"] for s in info["streams"]] == ["audio"]
    assert abs(float(info["format"]["duration"]) - 5.0) <= 0.1, info["format"]


def test_a_same_size_rewrite_within_one_second_is_a_new_version(vod) -> None:
    """Validators and cached indexes use the nanosecond mtime: a file rewritten
    in place within the same second (same inode, same size) is not served from
    a stale ETag (a 304 for bytes the client does not have)."""
    server, root, _ = vod
    path = root / "notes.txt"
    second = 1_700_000_000 * 1_000_000_000
    os.utime(path, ns=(second + 1, second + 1))
    status, headers, body = server.http("GET", "/vod/notes.txt")
    assert status == 200 and body == b"hello\n"
    path.write_bytes(b"HELLO\n")
    os.utime(path, ns=(second + 2, second + 2))
    status, _, body = server.http("GET", "/vod/notes.txt",
                                  headers={"If-None-Match": headers["etag"]})
    assert status == 200 and body == b"HELLO\n"
