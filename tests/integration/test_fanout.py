"""Fan-out: ~40 concurrent viewers, RTMP and HTTP-FLV, on a 3-worker server.

Viewers: ffmpeg processes (RTMP and HTTP-FLV, to files) plus light Python
clients on raw sockets (RTMP players counting messages, HTTP-FLV readers
counting FLV tags over HTTP/1.0 and HTTP/1.1). All must receive the stream
at real-time rate, starting on a keyframe; the API must count every viewer
(and none once they leave); nobody is skipped or closed for lag.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time

from flv import FlvReader
from helpers import HOST, Cascade, ffmpeg_play, ffmpeg_publish, probe, wait_for
from rtmp_client import Player, RtmpClient

FFMPEG_VIEWERS = 4      # per protocol
PY_RTMP_VIEWERS = 16
PY_FLV_VIEWERS = 16
TOTAL = 2 * FFMPEG_VIEWERS + PY_RTMP_VIEWERS + PY_FLV_VIEWERS
WATCH_SECONDS = 6.0


def test_forty_viewers_on_three_workers(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=3)
    key = "fanout"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)

    ff = []
    for i in range(FFMPEG_VIEWERS):
        for proto, url in (("rtmp", server.rtmp_url(key)), ("flv", server.flv_url(key))):
            out = procs.workdir / f"ff-{proto}-{i}.flv"
            ff.append((out, ffmpeg_play(procs, url, out, WATCH_SECONDS + 2, name=f"ff-{proto}")))
    players = [Player(HOST, server.rtmp_port, key).start() for _ in range(PY_RTMP_VIEWERS)]
    readers = [FlvReader(HOST, server.http_port, server.flv_path(key), http10=i % 2 == 0).start()
               for i in range(PY_FLV_VIEWERS)]
    try:
        wait_for(lambda: server.stream(key)["viewers"] == TOTAL, 15, 0.2,
                 f"the API to count {TOTAL} viewers")
        t0 = time.monotonic()
        counts0 = [len(p.video()) for p in players] + [len(r.video_tags()) for r in readers]
        time.sleep(WATCH_SECONDS - 1)
        elapsed = time.monotonic() - t0
        counts1 = [len(p.video()) for p in players] + [len(r.video_tags()) for r in readers]
        stats = server.stream(key)
        assert stats["viewers"] == TOTAL, stats

        # Every Python viewer keeps receiving at (close to) 30 fps.
        for i, (a, b) in enumerate(zip(counts0, counts1)):
            rate = (b - a) / elapsed
            assert rate >= 24, f"viewer {i} received {rate:.1f} video frames/s"
        for p in players:
            assert p.error is None, p.error
            assert p.status and p.status.get("code") == "NetStream.Play.Reset", p.status
            video = [m for _, m in p.video()]
            assert video[0].payload[:2] == b"\x17\x00", "first video message is not the AVC " \
                                                         "sequence header"
            assert video[1].payload[0] >> 4 == 1, "first video frame is not a keyframe"
        for r in readers:
            assert r.error is None, r.error
            assert r.status == 200
            tags = [t for _, t in r.video_tags()]
            assert tags[0].video_config and tags[1].video_keyframe
            chunked = r.headers.get("transfer-encoding") == "chunked"
            assert chunked == (not r.http10), r.headers

        for out, proc in ff:
            assert proc.wait(WATCH_SECONDS + 20) == 0, proc.log()
            info = probe(out)
            assert info["video"]["codec_name"] == "h264"
            assert int(info["video"]["nb_read_packets"]) >= (WATCH_SECONDS + 1) * 30
            assert int(info["audio"]["nb_read_packets"]) >= (WATCH_SECONDS + 1) * 40
    finally:
        for p in players:
            p.stop()
        for r in readers:
            r.stop()

    # Everybody left: the count drops to zero; nobody was skipped or closed for lag.
    wait_for(lambda: server.stream(key)["viewers"] == 0, 10, 0.2, "the viewer count to drop to 0")
    metrics = server.metrics()
    assert metrics.get("cascade_viewer_skips_total", 0) == 0, metrics
    assert metrics.get('cascade_viewer_closed_total{reason="lag"}', 0) == 0
    assert metrics.get('cascade_viewer_closed_total{reason="write_stalled"}', 0) == 0
    assert metrics['cascade_connections_accepted_total{listener="rtmp"}'] >= \
        1 + FFMPEG_VIEWERS + PY_RTMP_VIEWERS
    assert server.stream(key)["publishing"]


def _abort(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashed client would."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_viewer_churn_leaves_nothing_behind(cascade, procs, media) -> None:
    """Hundreds of viewers that come and go (read a little or nothing, close
    cleanly or with a reset, mid-handshake or mid-stream) on 2 workers: the
    server stays up, the count returns to zero, a new viewer still works."""
    server: Cascade = cascade(workers=2)
    key = "churn"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)
    errors: list[str] = []

    def churn(worker: int) -> None:
        rng = random.Random(worker)
        try:
            for i in range(25):
                kind = rng.choice(["flv", "flv10", "rtmp", "rtmp-handshake", "head"])
                if kind.startswith("flv") or kind == "head":
                    sock = socket.create_connection((HOST, server.http_port), timeout=5)
                    method = "HEAD" if kind == "head" else "GET"
                    version = "1.0" if kind == "flv10" else "1.1"
                    sock.sendall(f"{method} /live/{key}.flv HTTP/{version}\r\nHost: x\r\n\r\n"
                                 .encode())
                    if rng.random() < 0.7:
                        sock.recv(rng.choice([1, 100, 65536]))
                else:
                    client = RtmpClient(HOST, server.rtmp_port, timeout=5)
                    sock = client.sock
                    if kind == "rtmp":
                        client.handshake()
                        client.connect()
                        client.create_stream()
                        client.play(key)
                        if rng.random() < 0.7:
                            sock.recv(rng.choice([1, 100, 65536]))
                    else:
                        client.send_raw(b"\x03" + bytes(rng.randrange(1, 1536)))
                if rng.random() < 0.5:
                    _abort(sock)
                else:
                    sock.close()
        except Exception as e:  # reported by the test
            errors.append(f"worker {worker}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=churn, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "churn clients hung"
    assert not errors, errors
    server.assert_alive()
    wait_for(lambda: server.stream(key)["viewers"] == 0, 10, 0.2, "the viewer count to drop to 0")
    assert server.metric("cascade_rtmp_connections") == 1  # the publisher
    reader = FlvReader(HOST, server.http_port, server.flv_path(key)).start()
    try:
        wait_for(lambda: reader.tag_count() > 50, 5, 0.1, "a new viewer to play")
    finally:
        reader.stop()
