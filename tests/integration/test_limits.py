"""Descriptor limit: at RLIMIT_NOFILE new connections are refused cleanly (the
server accepts and closes them at once instead of leaving them hanging in the
backlog), without a busy loop and without touching existing viewers; service
comes back by itself when descriptors free up."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from flv import FlvReader
from helpers import HOST, Cascade, ffmpeg_publish, wait_for


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_fd_limit_refuses_cleanly_and_recovers(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2, wrapper=["prlimit", "--nofile=48:48"])
    key = "limited"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)
    viewer = FlvReader(HOST, server.http_port, server.flv_path(key)).start()
    try:
        wait_for(lambda: len(viewer.video_tags()) > 10, 10, 0.1, "the healthy viewer playing")
        # Exhaust the descriptors with idle connections.
        held = [socket.create_connection((HOST, server.http_port), timeout=3) for _ in range(80)]
        refused = [s for s in held if closed_by_server(s, 0.5)]
        assert len(refused) >= 20, f"only {len(refused)} of 80 connections refused at the limit"
        server.wait_log(r"refusing new connections", timeout=5)
        # At the limit: no busy loop, and the viewer keeps playing.
        before_tags, before_cpu = len(viewer.video_tags()), cpu_seconds(server.proc.pid)
        time.sleep(2.0)
        assert cpu_seconds(server.proc.pid) - before_cpu < 0.5, "busy loop at the fd limit"
        assert len(viewer.video_tags()) >= before_tags + 40, "the viewer stalled at the fd limit"
        assert viewer.error is None
        # Descriptors free up: service comes back.
        for s in held:
            s.close()
        def serves() -> bool:
            try:
                with socket.create_connection((HOST, server.http_port), timeout=2) as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    return s.recv(64).startswith(b"HTTP/1.1 200")
            except OSError:
                return False
        wait_for(serves, 15, 0.2, "service to recover after descriptors were freed")
        assert server.metric(
            'cascade_connections_refused_total{listener="http",reason="fd_limit"}') >= 20
        assert len(viewer.video_tags()) > before_tags and viewer.error is None
    finally:
        viewer.stop()
