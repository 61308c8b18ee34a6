"""Backpressure: a viewer that stops reading, or reads too slowly, never
delays anyone else; the stalled one is closed with a recorded reason and the
slow one skips whole GOPs to the newest keyframe (ARCHITECTURE.md).

The server runs one worker so every viewer shares the publisher's and each
other's event loop: the harshest case for "does not delay others".
"""

from __future__ import annotations

import socket
import time

from flv import FlvReader
from helpers import HOST, Cascade, ffmpeg_publish, wait_for
from rtmp_client import Player, RtmpClient

LAG = {"live": {"lag_skip_ms": 1000, "lag_close_ms": 2000}}
STREAM_BYTES_PER_S = 105_000  # the test media: ~700 kbit/s video + 96 kbit/s audio + FLV
# A slow viewer: too slow to keep up (it must skip), fast enough to play the
# GOPs it gets within lag_close_ms (so it must not be closed). Much slower
# viewers are rightly closed: whatever they skip, they fall past the hard bound.
SLOW_BYTES_PER_S = 0.62 * STREAM_BYTES_PER_S


def check_real_time(name: str, arrivals: list[tuple[float, int]], since: float,
                    until: float) -> None:
    """Between `since` and `until` (wall clock), media time advanced with wall
    time and no video frame arrived more than 0.5 s after the previous one."""
    window = [(t, ts) for t, ts in arrivals if since <= t <= until]
    assert len(window) >= 30 * (until - since) * 0.8, \
        f"{name}: {len(window)} video frames in {until - since:.1f} s"
    wall = window[-1][0] - window[0][0]
    media = (window[-1][1] - window[0][1]) / 1000
    assert 0.9 <= media / wall <= 1.15, f"{name}: {media:.2f} s of media in {wall:.2f} s"
    gaps = [b[0] - a[0] for a, b in zip(window, window[1:])]
    assert max(gaps) < 0.5, f"{name}: a {max(gaps):.2f} s pause in delivery"


def drain_until_closed(sock: socket.socket, timeout: float) -> bool:
    """Reads (discarding) until the server closes the connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not sock.recv(1 << 20):
                return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
    return False


def test_stalled_viewers_are_closed_and_do_not_delay_others(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=1, config=LAG)
    key = "stall"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)
    healthy_flv = FlvReader(HOST, server.http_port, server.flv_path(key), http10=False).start()
    healthy_rtmp = Player(HOST, server.rtmp_port, key).start()
    stalled_flv = FlvReader(HOST, server.http_port, server.flv_path(key), stall=True,
                            rcvbuf=4096).start()
    stalled_rtmp = RtmpClient(HOST, server.rtmp_port, rcvbuf=4096)
    # Reads, but at a fifth of the stream's rate: it can never keep up.
    hopeless = FlvReader(HOST, server.http_port, server.flv_path(key), rcvbuf=8192,
                         rate_bytes_per_s=0.2 * STREAM_BYTES_PER_S, read_size=4096).start()
    try:
        stalled_rtmp.handshake()
        stalled_rtmp.connect()
        stalled_rtmp.create_stream()
        assert stalled_rtmp.play(key).get("code") == "NetStream.Play.Reset"
        # ...and from here on it never reads again.
        t0 = time.monotonic()
        frames0 = server.stream(key)["frames_in"]
        flv_port = stalled_flv.local_port()
        rtmp_port = stalled_rtmp.sock.getsockname()[1]
        reason = r"(write stalled for \d+ ms|\d+ ms behind the live edge)"
        server.wait_log(rf"\[127\.0\.0\.1:{flv_port} live/stall\] viewer closed: {reason}", 12)
        server.wait_log(rf"\[127\.0\.0\.1:{rtmp_port} live/stall\] viewer dropped: {reason}", 12)
        server.wait_log(rf"\[127\.0\.0\.1:{rtmp_port} live/stall\] viewer closed: {reason}", 5)
        server.wait_log(rf"\[127\.0\.0\.1:{hopeless.local_port()} live/stall\] viewer closed: "
                        rf"{reason}", 12)
        t_closed = time.monotonic()
        assert t_closed - t0 < 10, f"stalled viewers closed only after {t_closed - t0:.1f} s"
        time.sleep(2)
        t1 = time.monotonic()

        # The healthy viewers and the publisher never slowed down.
        stats = server.stream(key)
        assert stats["viewers"] == 2, stats  # the healthy ones
        frame_rate = (stats["frames_in"] - frames0) / (t1 - t0)
        assert frame_rate >= 0.9 * (30 + 44100 / 1024), f"publisher ingest at {frame_rate:.0f}/s"
        check_real_time("http-flv", [(t, tag.timestamp) for t, tag in healthy_flv.video_tags()
                                     if not tag.video_config], t0 + 1.0, t1)
        check_real_time("rtmp", [(t, m.timestamp) for t, m in healthy_rtmp.video()
                                 if m.payload[1] != 0], t0 + 1.0, t1)
        assert healthy_flv.error is None and not healthy_flv.closed_by_server
        assert healthy_rtmp.error is None and not healthy_rtmp.closed_by_server

        # The close is counted with its reason, and the sockets really are closed.
        metrics = server.metrics()
        closed = metrics.get('cascade_viewer_closed_total{reason="lag"}', 0) + \
            metrics.get('cascade_viewer_closed_total{reason="write_stalled"}', 0)
        assert closed == 3, metrics
        assert metrics.get("cascade_http_flv_viewers_dropped_total") == 2
        hopeless.rate_bytes_per_s = None  # read what is left at full speed: then EOF
        wait_for(lambda: hopeless.closed_by_server, 5, 0.1, "the hopeless viewer to see EOF")
        assert hopeless.error is None, hopeless.error
        assert metrics.get('cascade_rtmp_connections_closed_total{reason="viewer_dropped"}') == 1
        assert drain_until_closed(stalled_flv.sock, 5), "the stalled HTTP-FLV socket is open"
        assert drain_until_closed(stalled_rtmp.sock, 5), "the stalled RTMP socket is open"
    finally:
        healthy_flv.stop()
        healthy_rtmp.stop()
        stalled_flv.stop()
        stalled_rtmp.close()
        hopeless.stop()


def check_skips_land_on_keyframes(name: str, video: list[tuple[int, bool]]) -> int:
    """`video`: (timestamp, keyframe) of frames in arrival order. Every jump in
    time larger than a few frames must land on a keyframe. Returns the jumps."""
    jumps = 0
    for (a, _), (b, key) in zip(video, video[1:]):
        assert b >= a, f"{name}: timestamps go backwards ({a} -> {b})"
        if b - a > 200:
            jumps += 1
            assert key, f"{name}: skipped from {a} ms to {b} ms onto a non-keyframe"
    return jumps


def test_slow_viewers_skip_to_keyframes_and_stay_healthy(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=1, config=LAG)
    key = "slow"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)
    healthy = FlvReader(HOST, server.http_port, server.flv_path(key)).start()
    # Both read 4 KiB at a time at ~60% of the stream's rate.
    slow_flv = FlvReader(HOST, server.http_port, server.flv_path(key), http10=False,
                         rate_bytes_per_s=SLOW_BYTES_PER_S, read_size=4096, rcvbuf=8192).start()
    slow_rtmp = Player(HOST, server.rtmp_port, key, rate_bytes_per_s=SLOW_BYTES_PER_S,
                       rcvbuf=8192).start()
    try:
        t0 = time.monotonic()
        wait_for(lambda: server.metric("cascade_viewer_skips_total") >= 2, 20, 0.2,
                 "both slow viewers to skip")
        time.sleep(3)
        t1 = time.monotonic()
        for name, viewer in (("http-flv", slow_flv), ("rtmp", slow_rtmp)):
            assert viewer.error is None, f"{name}: {viewer.error}"
            assert not viewer.closed_by_server, f"slow {name} viewer was closed"
        # Still receiving, and every skip lands on a keyframe (a resync point:
        # the RTMP chunk stream and the FLV tags stay parseable, or the readers
        # above would have failed).
        flv_video = [(tag.timestamp, tag.video_keyframe) for _, tag in slow_flv.video_tags()
                     if not tag.video_config]
        rtmp_video = [(m.timestamp, m.payload[0] >> 4 == 1) for _, m in slow_rtmp.video()
                      if m.payload[1] != 0]
        assert check_skips_land_on_keyframes("http-flv", flv_video) >= 1
        assert check_skips_land_on_keyframes("rtmp", rtmp_video) >= 1
        assert any(t > t1 - 1.5 for t, _ in slow_flv.video_tags()), "slow http-flv starved"
        assert any(t > t1 - 1.5 for t, _ in slow_rtmp.video()), "slow rtmp starved"
        # The healthy viewer is unaffected.
        check_real_time("healthy", [(t, tag.timestamp) for t, tag in healthy.video_tags()
                                    if not tag.video_config], t0 + 1.0, t1)
        metrics = server.metrics()
        assert metrics.get('cascade_viewer_closed_total{reason="lag"}', 0) == 0
        assert metrics.get('cascade_viewer_closed_total{reason="write_stalled"}', 0) == 0
        assert server.stream(key)["viewers"] == 3
    finally:
        healthy.stop()
        slow_flv.stop()
        slow_rtmp.stop()
    # Skips are counted per viewer in the close log line.
    line = server.wait_log(r"\[127\.0\.0\.1:\d+ live/slow\] viewer closed: .*\((\d+) bytes "
                           r"sent, ([1-9]\d*) skips\)", 5)
    assert int(line.group(2)) >= 1
