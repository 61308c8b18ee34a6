"""Drain on SIGTERM/SIGINT ([drain] timeout_s): listeners close at once (new
connections are refused), HTTP keep-alive connections close when idle, a
file download in flight finishes byte-exact, live publishers and viewers
keep going until the deadline, the process exits 0 as soon as everything has
ended (or at the deadline); a second signal exits at once (128 + signal)."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from helpers import HOST, Cascade, ffmpeg_publish, wait_for
from rtmp_client import Player
from test_vod_roots import mp4_at_known_bitrate, start_with_toml


def refused(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


class KeepAliveGet:
    """One HTTP/1.1 keep-alive GET on its own thread: the whole response
    (head and body) and whether the server closed the connection after it."""

    def __init__(self, port: int, target: str) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=20)
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.head = b""
        self.body = bytearray()
        self.length = -1
        self.done_at: float | None = None
        self.closed_after = False
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed before the head")
                data += chunk
            self.head, _, rest = data.partition(b"\r\n\r\n")
            for line in self.head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.length = int(value)
            self.body += rest
            while len(self.body) < self.length:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise ConnectionError(f"closed after {len(self.body)} of {self.length}")
                self.body += chunk
            self.done_at = time.monotonic()
            # The server closes the connection after this response (draining).
            self.closed_after = self.sock.recv(1) == b""
        except Exception as e:  # recorded for the test
            self.error = repr(e)
        finally:
            self.sock.close()


def test_sigterm_lets_a_download_finish_and_refuses_new_connections(cascade, procs) -> None:
    root = procs.workdir / "media"
    root.mkdir()
    mp4_at_known_bitrate(root / "film.mp4")
    data = (root / "film.mp4").read_bytes()
    server: Cascade = start_with_toml(cascade, procs, f"""
[vod]
root = "{root}"
throttle_burst_s = 1
throttle_factor = 2.0
""")
    # An idle keep-alive connection: drained (closed) at once.
    idle = socket.create_connection((HOST, server.http_port), timeout=5)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 200")
    # A connection whose first request is still arriving: answered, then closed.
    partial = socket.create_connection((HOST, server.http_port), timeout=5)
    partial.sendall(b"GET /healthz HTTP/1.1\r\n")
    download = KeepAliveGet(server.http_port, "/vod/film.mp4")
    wait_for(lambda: len(download.body) > 0, 5, 0.05, "the download to start")
    assert download.length == len(data)

    sent = time.monotonic()
    server.proc.signal(signal.SIGTERM)
    server.stopped = True
    server.wait_log(r"draining \(signal 15\): listeners closed")
    # New connections are refused, on both listeners.
    assert refused(server.http_port) and refused(server.rtmp_port)
    idle.settimeout(3)
    assert idle.recv(4096) == b"", "an idle keep-alive connection stays open during a drain"
    idle.close()
    # /healthz answers 503 while draining, with Connection: close.
    partial.sendall(b"Host: x\r\n\r\n")
    partial.settimeout(5)
    answer = b""
    while chunk := partial.recv(4096):
        answer += chunk
    partial.close()
    assert answer.startswith(b"HTTP/1.1 503"), answer
    assert b"Connection: close" in answer and answer.endswith(b"draining\n")

    # The download goes on at its paced rate and completes byte-exact.
    assert server.proc.running(), "exited with a download in flight"
    download.thread.join(20)
    assert download.error is None, download.error
    assert bytes(download.body) == data
    assert download.closed_after, "the connection stayed open after its last response"
    assert download.done_at - sent > 1.0, "the download was not in flight during the drain"
    # Everything has ended: the process exits at once, 0.
    assert server.proc.wait(5) == 0
    log = server.log()
    assert "drained: every session ended" in log
    assert "draining: 1 session left (http 1)" in log  # progress, once a second


def live_server(cascade, procs, media: object, timeout_s: int) -> tuple[Cascade, object, Player]:
    server: Cascade = cascade(workers=2, config={"drain": {"timeout_s": timeout_s}})
    publisher = ffmpeg_publish(procs, media.av, server.rtmp_url("drain"))
    server.wait_publishing("drain")
    player = Player(HOST, server.rtmp_port, "drain").start()
    wait_for(lambda: len(player.media) > 30, 10, 0.1, "the viewer to receive frames")
    return server, publisher, player


def test_sigterm_with_live_sessions_exits_at_the_deadline(cascade, procs, media) -> None:
    from flv import FlvReader

    server, publisher, player = live_server(cascade, procs, media, timeout_s=3)
    reader = FlvReader(HOST, server.http_port, server.flv_path("drain"), http10=False).start()
    try:
        wait_for(lambda: len(reader.video_tags()) > 10, 10, 0.1, "the HTTP-FLV viewer")
        sent = time.monotonic()
        server.proc.signal(signal.SIGTERM)
        server.stopped = True
        server.wait_log(r"draining \(signal 15\)")
        assert refused(server.http_port) and refused(server.rtmp_port)
        # Live sessions keep going during the drain.
        before, before_flv = len(player.media), len(reader.video_tags())
        time.sleep(1.5)
        assert server.proc.running()
        assert len(player.media) > before + 20, "the viewer stopped receiving during the drain"
        assert len(reader.video_tags()) > before_flv + 10, "the HTTP-FLV viewer stopped"
        assert player.error is None and not player.closed_by_server
        assert server.proc.wait(10) == 0
        elapsed = time.monotonic() - sent
        assert 2.5 <= elapsed <= 6, elapsed
        log = server.log()
        assert "drain deadline (3 s) reached; closing 3 sessions left " \
               "(rtmp_publisher 1, rtmp_viewer 1, http_flv_viewer 1)" in log, log[-2000:]
        assert "draining: 3 sessions left (rtmp_publisher 1, rtmp_viewer 1, http_flv_viewer 1)" \
            in log
        # The clients see their connections end.
        publisher.wait(10)
        wait_for(lambda: player.closed_by_server or player.error, 5, 0.1, "the viewer to end")
        wait_for(lambda: reader.closed_by_server or reader.error, 5, 0.1, "the FLV viewer to end")
    finally:
        player.stop()
        reader.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_exits_at_once(cascade, procs, media, sig: int) -> None:
    server, publisher, player = live_server(cascade, procs, media, timeout_s=60)
    try:
        server.proc.signal(sig)
        server.stopped = True
        server.wait_log(rf"draining \(signal {int(sig)}\)")
        time.sleep(0.3)
        assert server.proc.running()
        sent = time.monotonic()
        server.proc.signal(sig)
        assert server.proc.wait(5) == 128 + int(sig)
        assert time.monotonic() - sent < 3
        assert f"received while draining; exiting at once with status {128 + int(sig)}" \
            in server.log()
    finally:
        player.stop()
