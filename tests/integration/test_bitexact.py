"""Bit-exactness: what a viewer receives is the publisher's packets, unchanged.

The known file is published with `ffmpeg -re -i file -c copy -f flv`; viewers
join mid-stream over RTMP and HTTP-FLV and hash every packet they receive
(`ffmpeg -i URL -c copy -f framemd5 -`). Per track, the viewer's hashes must
equal a contiguous run of the source file's hashes that starts, for video, at
a keyframe: every frame from the join keyframe on arrives bit-exact, in
order, with no gap, and the tracks keep their relative timing.
"""

from __future__ import annotations

import time

import pytest

from flv import FlvReader
from rtmp_client import FlvFilePublisher
from helpers import (HOST, Cascade, ffmpeg_play, ffmpeg_publish, find_run, framemd5_of,
                     parse_framemd5, probe_packets)

PLAY_SECONDS = 6


@pytest.fixture(scope="module")
def source(media):
    hashes = framemd5_of(str(media.av))
    packets = probe_packets(media.av, "v")
    keyframes = {i for i, p in enumerate(packets) if "K" in p["flags"]}
    assert len(packets) == len(hashes.video) and len(keyframes) >= 20
    return hashes, keyframes


VARIANTS = {
    # name: (workers, config, publisher's timestamp offset in seconds)
    "1-worker": (1, None, 0),
    "2-workers": (2, None, 0),
    # The publisher's timestamps cross 0xFFFFFF ms at ~2 s: extended
    # timestamps in RTMP chunks both ways (RTMP 5.3.1.3) and the FLV
    # TimestampExtended byte.
    "extended-timestamps": (2, None, 0xFFFFFF - 2000),
    # ... or wrap around 2^32 ms (RTMP 5.3.1.2.1: timestamps wrap).
    "timestamp-wrap": (2, None, 0xFFFFFFFF - 2000),
    "no-gop-cache": (2, {"live": {"gop_cache": False}}, 0),
    "coalesced-writes": (2, {"live": {"coalesce_ms": 50}}, 0),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_viewers_receive_the_source_bit_exact(cascade, procs, media, source, variant) -> None:
    workers, config, ts_offset = VARIANTS[variant]
    server: Cascade = cascade(workers=workers, config=config)
    src, keyframes = source
    url = server.rtmp_url("exact")
    publisher = None
    if ts_offset:
        publisher = FlvFilePublisher(HOST, server.rtmp_port, "exact", str(media.av),
                                     ts_offset).start()
    else:
        ffmpeg_publish(procs, media.av, url, loop=False)
    try:
        server.wait_publishing("exact")
        check_variant(server, procs, src, keyframes, ts_offset)
    finally:
        if publisher:
            publisher.stop()
            assert publisher.error is None, publisher.error


def check_variant(server: Cascade, procs, src, keyframes, ts_offset: int) -> None:
    time.sleep(1.5)  # join mid-GOP, so the viewer starts from the GOP cache
    viewers = {
        proto: ffmpeg_play(procs, url, procs.workdir / f"{proto}.framemd5", PLAY_SECONDS,
                           name=f"framemd5-{proto}", fmt="framemd5")
        for proto, url in (("rtmp", server.rtmp_url("exact")),
                           ("http-flv", server.flv_url("exact")))
    }
    reader = FlvReader(HOST, server.http_port, server.flv_path("exact")).start()
    # framemd5 goes to the output file; ffmpeg's log to the proc log.
    for proto, proc in viewers.items():
        assert proc.wait(PLAY_SECONDS + 20) == 0, f"{proto} viewer failed:\n{proc.log()}"
    reader.stop()
    stamps = [tag.timestamp for _, tag in reader.video_tags() if not tag.video_config]
    assert stamps and reader.error is None, reader.error
    assert all(0 < (b - a) & 0xFFFFFFFF <= 100 for a, b in zip(stamps, stamps[1:])), \
        "video timestamps jump"
    if ts_offset:
        boundary = (ts_offset + 2000) & 0xFFFFFFFF  # the file's 2 s mark
        assert stamps[0] < boundary < stamps[-1] or stamps[-1] < stamps[0], \
            f"the stream did not cross {boundary} ms: {stamps[0]}..{stamps[-1]}"

    src_video = [h for _, _, h in src.video]
    src_audio = [h for _, _, h in src.audio]
    for proto in viewers:
        got = parse_framemd5((procs.workdir / f"{proto}.framemd5").read_text())
        video = [h for _, _, h in got.video]
        audio = [h for _, _, h in got.audio]
        assert len(video) >= (PLAY_SECONDS - 1) * 30, f"{proto}: only {len(video)} video packets"
        assert len(audio) >= (PLAY_SECONDS - 1) * 40, f"{proto}: only {len(audio)} audio packets"

        starts = find_run(src_video, video)
        assert starts, (f"{proto}: the viewer's {len(video)} video packets are not a contiguous "
                        f"run of the source's (first mismatch at "
                        f"{first_mismatch(src_video, video)})")
        v0 = starts[0]
        assert v0 in keyframes, f"{proto}: the viewer's first video packet (source #{v0}) " \
                                f"is not a keyframe"
        assert v0 > 0, f"{proto}: the viewer joined at the very start, not mid-stream"

        a_starts = find_run(src_audio, audio)
        assert a_starts, (f"{proto}: the viewer's {len(audio)} audio packets are not a "
                          f"contiguous run of the source's")
        a0 = a_starts[0]

        # Timing is preserved: one offset maps source to viewer timestamps, the
        # same for both tracks, and audio starts where the join keyframe is.
        v_offsets = {got.video[i][0] - src.video[v0 + i][0] for i in range(len(video))}
        a_offsets = {got.audio[i][0] - src.audio[a0 + i][0] for i in range(len(audio))}
        assert len(v_offsets) == 1, f"{proto}: video timestamps shifted unevenly {v_offsets}"
        assert len(a_offsets) == 1, f"{proto}: audio timestamps shifted unevenly {a_offsets}"
        assert abs(v_offsets.pop() - a_offsets.pop()) <= 1, f"{proto}: A/V offset changed"
        gap_ms = src.audio[a0][0] - src.video[v0][0]
        assert -100 <= gap_ms <= 100, f"{proto}: audio starts {gap_ms} ms from the keyframe"


def first_mismatch(source: list[str], got: list[str]) -> str:
    """For the failure message: where the best alignment of `got` breaks."""
    if not got or got[0] not in source:
        return "the first packet is not in the source at all"
    start = source.index(got[0])
    for i, h in enumerate(got):
        if start + i >= len(source) or source[start + i] != h:
            return f"viewer packet {i} (source #{start + i})"
    return "none"
