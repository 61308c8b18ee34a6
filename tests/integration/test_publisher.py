"""Publisher lifecycle: reconnect within the grace period, stream end after
it, and a second concurrent publish to a live key being refused."""

from __future__ import annotations

import time
from pathlib import Path

from flv import FlvReader
from helpers import (FFMPEG, HOST, Cascade, ffmpeg_play, ffmpeg_publish, probe_packets,
                     wait_for)
from rtmp_client import Player, connected_client

GRACE_MS = 3000


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def check_monotonic(path: Path) -> float:
    """Video dts strictly increasing, audio dts non-decreasing; returns the media
    duration (s) of the file's video."""
    video = [float(p["dts_time"]) for p in probe_packets(path, "v") if "dts_time" in p]
    audio = [float(p["dts_time"]) for p in probe_packets(path, "a") if "dts_time" in p]
    assert len(video) > 100 and len(audio) > 100, f"{path.name}: {len(video)}/{len(audio)} packets"
    assert all(a < b for a, b in zip(video, video[1:])), \
        f"{path.name}: video timestamps not increasing"
    assert all(a <= b for a, b in zip(audio, audio[1:])), \
        f"{path.name}: audio timestamps go backwards"
    return video[-1] - video[0]


def test_publisher_reconnects_within_grace_then_stream_ends(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2, config={"live": {"publish_grace_ms": GRACE_MS}})
    key = "reconnect"
    pub1 = ffmpeg_publish(procs, media.av, server.rtmp_url(key), name="pub1")
    server.wait_publishing(key)

    rtmp_out = procs.workdir / "viewer-rtmp.flv"
    flv_out = procs.workdir / "viewer-httpflv.flv"
    viewers = [ffmpeg_play(procs, server.rtmp_url(key), rtmp_out, name="viewer-rtmp"),
               ffmpeg_play(procs, server.flv_url(key), flv_out, name="viewer-httpflv")]
    reader = FlvReader(HOST, server.http_port, server.flv_path(key), http10=False).start()
    player = Player(HOST, server.rtmp_port, key).start()
    late = None
    try:
        wait_for(lambda: server.stream(key)["viewers"] == 4, 10, 0.1, "4 viewers")
        t_view = time.monotonic()
        time.sleep(3)

        # The publisher drops (killed: no unpublish, the TCP connection just ends).
        pub1.kill()
        t_kill = time.monotonic()
        server.wait_log(r"live/reconnect\] publisher disconnected", 5)
        time.sleep(1.0)
        stats = server.stream(key)
        assert stats is not None, "the stream vanished inside the grace period"
        assert not stats["publishing"] and stats["viewers"] == 4, stats
        assert all(v.running() for v in viewers), "a viewer left while the publisher was away"
        sizes_gap = [size(rtmp_out), size(flv_out)]
        last_ts_before = max(t.timestamp for _, t in reader.video_tags())
        # A viewer may even join while the publisher is away.
        late = FlvReader(HOST, server.http_port, server.flv_path(key)).start()
        wait_for(lambda: late.status is not None or late.error, 5, 0.05, "the late viewer")
        assert late.status == 200, late.error

        # A new publisher takes the stream over within the grace period.
        pub2 = ffmpeg_publish(procs, media.av, server.rtmp_url(key), name="pub2")
        t_pub2 = time.monotonic()
        assert t_pub2 - t_kill < GRACE_MS / 1000, "the test was too slow to republish in time"
        server.wait_log(r"live/reconnect\] publish started \(live, resuming the stream\)", 10)
        time.sleep(4)
        stats = server.stream(key)
        assert stats["publishing"] and stats["publisher_sessions"] == 2, stats
        assert stats["viewers"] == 5, stats  # with the one that joined in the gap
        assert all(v.running() for v in viewers), "a viewer was dropped by the reconnect"
        late_frames = [tag for t, tag in late.video_tags() if t > t_pub2 and not tag.video_config]
        assert len(late_frames) >= 60 and late_frames[0].video_keyframe, \
            "the viewer that joined in the gap gets nothing from the new publisher"
        late.stop()
        assert size(rtmp_out) > sizes_gap[0] + 100_000 and size(flv_out) > sizes_gap[1] + 100_000, \
            "the ffmpeg viewers' files stopped growing after the reconnect"

        # The Python viewers got the second publisher's frames, on one continuous timeline.
        for name, arrivals in (("http-flv", [(t, tag.timestamp, tag.video_keyframe, tag.video_config)
                                             for t, tag in reader.video_tags()]),
                               ("rtmp", [(t, m.timestamp, m.payload[0] >> 4 == 1,
                                          m.payload[1] == 0) for t, m in player.video()])):
            after = [a for a in arrivals if a[0] > t_pub2]
            assert len(after) >= 90, f"{name}: only {len(after)} video frames after the reconnect"
            frames = [a for a in after if not a[3]]
            assert frames[0][2], f"{name}: the first frame after the reconnect is not a keyframe"
            stamps = [ts for _, ts, _, config in arrivals if not config]
            assert all(a < b for a, b in zip(stamps, stamps[1:])), \
                f"{name}: video timestamps not increasing across the reconnect"
            assert frames[0][1] > last_ts_before, f"{name}: the timeline restarted"
            assert frames[0][1] - last_ts_before < 2000, \
                f"{name}: the timeline jumped {frames[0][1] - last_ts_before} ms"
        assert reader.error is None and player.error is None, (reader.error, player.error)

        # The publisher leaves for good: after the grace period the viewers are closed.
        pub2.kill()
        t_end = time.monotonic()
        server.wait_log(r"\[live/reconnect\] stream ended", GRACE_MS / 1000 + 5)
        for v in viewers:
            rc = v.wait(10)
            assert rc == 0, f"{v.name} exited with {rc}:\n{v.log()[-2000:]}"
        wait_for(lambda: reader.closed_by_server and player.closed_by_server, 5, 0.1,
                 "the Python viewers to be closed")
        assert reader.closed_at - t_end >= GRACE_MS / 1000 - 0.5, "closed before the grace period"
        assert server.stream(key) is None, "the ended stream is still listed"
        assert server.streams() == []
        codes = [v.get("code") for m in player.other if m.name == "onStatus"
                 for v in m.amf() if isinstance(v, dict)]
        assert "NetStream.Play.UnpublishNotify" in codes, \
            f"the RTMP viewer was not told the stream ended: {codes}"
        log = server.log()
        assert log.count("viewer closed: stream ended") >= 3, log[-3000:]
    finally:
        reader.stop()
        player.stop()
        if late:
            late.stop()

    # What the ffmpeg viewers recorded spans both publishers, monotonic throughout.
    watched = (t_kill - t_view) + (t_end - t_pub2)
    for out in (rtmp_out, flv_out):
        duration = check_monotonic(out)
        assert duration >= watched - 2.0, \
            f"{out.name}: {duration:.1f} s of media for {watched:.1f} s watched"


def test_second_publisher_is_refused_while_the_first_continues(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2)
    key = "taken"
    pub1 = ffmpeg_publish(procs, media.av, server.rtmp_url(key), name="pub1")
    server.wait_publishing(key)
    reader = FlvReader(HOST, server.http_port, server.flv_path(key)).start()
    try:
        # ffmpeg as the intruder: refused, exits non-zero with the server's reason.
        rc, log = procs.run([*FFMPEG, "-loglevel", "info", "-re", "-i", str(media.av), "-c",
                             "copy", "-f", "flv", server.rtmp_url(key)], "pub2", timeout=15)
        assert rc != 0, "the second publisher was not refused"
        assert "Server error: stream live/taken is already being published" in log, log[-2000:]
        server.wait_log(r"closed: publish refused \(NetStream\.Publish\.BadName\): "
                        r"stream live/taken is already being published", 5)

        # The raw client sees the exact status code, then the server closes.
        client = connected_client(HOST, server.rtmp_port)
        with client:
            client.create_stream()
            status = client.publish(key)
            assert status.get("level") == "error", status
            assert status.get("code") == "NetStream.Publish.BadName", status
            client.wait_closed(5)

        # The first publisher was not disturbed.
        frames = server.stream(key)["frames_in"]
        tags = reader.tag_count()
        time.sleep(1.5)
        stats = server.stream(key)
        assert pub1.running(), pub1.log()
        assert stats["publishing"] and stats["publisher_sessions"] == 1, stats
        assert stats["frames_in"] > frames + 60, "the first publisher stopped"
        assert reader.tag_count() > tags + 60, "the viewer stopped receiving"
        assert reader.error is None and not reader.closed_by_server
        assert server.metric('cascade_rtmp_connections_closed_total{reason="publish_refused"}') \
            == 2
    finally:
        reader.stop()
