"""Blocking VOD work runs on the I/O pool ([server] io_threads; net/io_pool.h):
a file's index (MP4 moov, FLV keyframes) is read and parsed there once, a
warm seek needs no pool job, HLS-from-MP4 segments are read there, and with
io_threads = 0 the same requests are answered with the work done inline."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_bounded

JOBS = "cascade_io_pool_jobs_total"


@pytest.fixture
def media_root(procs) -> Path:
    root = procs.workdir / "io-root"
    root.mkdir()
    ff = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
          "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
          "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-t", "6",
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
          "-c:a", "aac", "-b:a", "32k"]
    run_bounded([*ff, "-movflags", "+faststart", str(root / "clip.mp4")], 120).check_returncode()
    run_bounded([*ff, str(root / "clip.flv")], 120).check_returncode()
    return root


def test_indexes_and_segments_are_read_on_the_io_pool(cascade, media_root) -> None:
    server = cascade(workers=1, config={"vod": {"root": str(media_root), "throttle": False,
                                                "flv_start_unit": "seconds"}})
    before = server.metric(JOBS)

    status, _, body = server.http("GET", "/vod/clip.mp4?start=2")
    assert status == 200 and body[4:8] == b"ftyp"
    assert server.metric(JOBS) == before + 1  # the moov read and parsed on the pool
    status, _, _ = server.http("GET", "/vod/clip.mp4?start=3.5&end=5")
    assert status == 200
    assert server.metric(JOBS) == before + 1  # warm: the cached index, no pool job

    status, _, playlist = server.http("GET", "/vod/clip.mp4/index.m3u8")
    assert status == 200, playlist[:200]
    assert server.metric(JOBS) == before + 1  # the index is cached; the plan is cheap
    segment = next(line for line in playlist.decode().splitlines()  # index.m3u8: fMP4 media
                   if line and not line.startswith("#"))
    status, _, body = server.http("GET", f"/vod/clip.mp4/{segment}")
    assert status == 200 and len(body) > 1000
    assert server.metric(JOBS) == before + 2  # the segment's samples read on the pool

    status, _, body = server.http("GET", "/vod/clip.flv?start=2")
    assert status == 200 and body[:3] == b"FLV"
    assert server.metric(JOBS) == before + 3  # the FLV keyframe index


def test_io_threads_zero_does_the_same_work_inline(cascade, media_root) -> None:
    server = cascade(workers=1, config={"server": {"io_threads": 0},
                                        "vod": {"root": str(media_root)}})
    for target in ("/vod/clip.mp4?start=2", "/vod/clip.mp4?start=4&end=5",
                   "/vod/clip.flv"):  # paced (throttle on): the FLV index, inline
        status, _, body = server.http("GET", target)
        assert status == 200, (target, body[:200])
    assert server.metric(JOBS) == 0
