"""Admin endpoints (/api/v1/admin/...) behind [admin] token: denied (403)
without a configured token, 401 for a missing or wrong bearer token; with
the right one: stats, reload, kick and drain work, on the public listener or
on their own ([admin] listen). Public endpoints stay as they are."""

from __future__ import annotations

import json
import re
import socket
import time

from helpers import HOST, Cascade, ffmpeg_publish, to_toml, wait_for
from rtmp_client import Player

TOKEN = "admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENDPOINTS = [("GET", "/api/v1/admin/stats"), ("GET", "/api/v1/admin/drain"),
             ("POST", "/api/v1/admin/reload"), ("POST", "/api/v1/admin/drain"),
             ("POST", "/api/v1/admin/kick?stream=live/x")]


def call(server: Cascade, method: str, path: str, headers: dict[str, str] | None = None,
         port: int | None = None) -> tuple[int, dict[str, str], bytes]:
    if port is None:
        return server.http(method, path, headers=headers)
    import http.client
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


def test_without_a_token_admin_endpoints_are_denied(cascade) -> None:
    server: Cascade = cascade(workers=2)
    for method, path in ENDPOINTS:
        for headers in ({}, AUTH, {"Authorization": "Bearer "}):
            status, _, body = server.http(method, path, headers=headers)
            assert status == 403, (method, path, headers, status)
            assert b"disabled" in body
    # Nothing happened: not draining, still serving.
    assert server.http("GET", "/healthz")[:3:2] == (200, b"ok\n")
    assert server.streams() == []
    assert server.http("GET", "/metrics")[0] == 200
    assert "admin endpoints are disabled" in server.log()
    server.assert_alive()


def test_with_a_token_stats_reload_kick_and_drain_work(cascade, procs, media) -> None:
    config = {"admin": {"token": TOKEN}, "live": {"publish_grace_ms": 300},
              "drain": {"timeout_s": 20}}
    server: Cascade = cascade(workers=2, config=config)
    # Missing or wrong credentials: 401, and nothing is done.
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": TOKEN}):
        for method, path in ENDPOINTS:
            status, h, _ = server.http(method, path, headers=headers)
            assert status == 401, (method, path, headers, status)
            assert h["www-authenticate"].startswith("Bearer")
    assert server.http("GET", "/healthz")[0] == 200

    publisher = ffmpeg_publish(procs, media.av, server.rtmp_url("kick"))
    server.wait_publishing("kick")
    player = Player(HOST, server.rtmp_port, "kick").start()
    try:
        wait_for(lambda: server.stream("kick")["viewers"] == 1, 10, 0.1, "the viewer")
        # Stats: sessions by kind, streams with viewers, drain state.
        status, headers, body = server.http("GET", "/api/v1/admin/stats", headers=AUTH)
        assert status == 200 and headers["content-type"] == "application/json"
        stats = json.loads(body)
        assert stats["sessions"]["rtmp_publisher"] == 1 and stats["sessions"]["rtmp_viewer"] == 1
        assert stats["sessions"]["http"] >= 1  # this request
        assert [(s["key"], s["viewers"], s["publishing"]) for s in stats["streams"]] == \
            [("live/kick", 1, True)]
        assert stats["drain"]["draining"] is False
        # Public endpoints unchanged.
        assert server.stream("kick")["viewers"] == 1

        # Reload: applied, with what changed; an invalid file is refused (422).
        text = server.config_path.read_text()
        server.config_path.write_text(text + '\n[http]\ncors_origin = "https://admin.test"\n')
        status, _, body = server.http("POST", "/api/v1/admin/reload", headers=AUTH)
        assert status == 200, body
        assert json.loads(body) == {"applied": True, "changed": ["http.cors_origin"],
                                    "needs_restart": []}
        assert server.http("GET", "/healthz")[1]["access-control-allow-origin"] == \
            "https://admin.test"
        server.config_path.write_text(text + "\n[http]\nidle_timeout_ms = -1\n")
        status, _, body = server.http("POST", "/api/v1/admin/reload", headers=AUTH)
        answer = json.loads(body)
        assert status == 422 and answer["applied"] is False
        assert "http.idle_timeout_ms" in answer["error"]
        assert server.http("GET", "/healthz")[1]["access-control-allow-origin"] == \
            "https://admin.test"
        assert server.http("GET", "/api/v1/admin/reload", headers=AUTH)[0] == 405

        # Kick: unknown stream 404, missing parameter 400, then the publisher.
        assert server.http("POST", "/api/v1/admin/kick?stream=live/none", headers=AUTH)[0] == 404
        assert server.http("POST", "/api/v1/admin/kick", headers=AUTH)[0] == 400
        status, _, body = server.http("POST", "/api/v1/admin/kick?stream=live%2Fkick",
                                      headers=AUTH)
        assert status == 200 and json.loads(body) == {"kicked": True, "stream": "live/kick"}
        server.wait_log(r"live/kick\] publisher disconnected: kicked by an operator")
        publisher.wait(10)  # ffmpeg sees its connection end
        wait_for(lambda: player.closed_by_server or player.error, 10, 0.1,
                 "the viewer to see the end")
        wait_for(lambda: server.stream("kick") is None, 10, 0.1, "the stream to end")

        # Drain: the answer reports it; the process exits 0 once drained.
        status, _, body = server.http("POST", "/api/v1/admin/drain", headers=AUTH)
        answer = json.loads(body)
        assert status == 200 and answer["draining"] is True
        assert answer["reason"] == "admin API" and answer["timeout_s"] == 20
        server.stopped = True
        assert server.proc.wait(10) == 0
        assert "drained: every session ended" in server.log()
    finally:
        player.stop()


def test_admin_on_its_own_listener_reports_drain_progress(cascade, procs, media) -> None:
    config = {"admin": {"token": TOKEN, "listen": f"{HOST}:0"}, "drain": {"timeout_s": 3}}
    server: Cascade = cascade(workers=2, config=config)
    admin_port = int(server.wait_log(r"admin listening on 127\.0\.0\.1:(\d+)").group(1))
    # Off the public listener; on its own, only the admin endpoints.
    assert server.http("GET", "/api/v1/admin/stats", headers=AUTH)[0] == 404
    assert call(server, "GET", "/api/v1/admin/stats", port=admin_port)[0] == 401
    assert call(server, "GET", "/healthz", port=admin_port)[0] == 404
    status, _, body = call(server, "GET", "/api/v1/admin/stats", AUTH, admin_port)
    assert status == 200 and json.loads(body)["drain"] == {
        "draining": False, "sessions": json.loads(body)["sessions"]}

    publisher = ffmpeg_publish(procs, media.av, server.rtmp_url("live1"))
    server.wait_publishing("live1")
    sent = time.monotonic()
    status, _, body = call(server, "POST", "/api/v1/admin/drain", AUTH, admin_port)
    assert status == 200 and json.loads(body)["draining"] is True
    server.stopped = True
    server.wait_log(r"draining \(admin API\): listeners closed")
    # The public listeners are closed; the admin one still answers.
    with socket.socket() as s:
        assert s.connect_ex((HOST, server.http_port)) != 0
    status, _, body = call(server, "GET", "/api/v1/admin/drain", AUTH, admin_port)
    progress = json.loads(body)
    assert status == 200 and progress["draining"] is True, progress
    assert 0 < progress["remaining_s"] <= 3 and progress["elapsed_s"] >= 0
    assert progress["sessions"]["rtmp_publisher"] == 1
    # A second drain request changes nothing (the first deadline stands).
    status, _, body = call(server, "POST", "/api/v1/admin/drain", AUTH, admin_port)
    assert json.loads(body)["timeout_s"] == 3
    assert server.proc.wait(10) == 0
    assert 2.5 <= time.monotonic() - sent <= 7
    assert re.search(r"drain deadline \(3 s\) reached; closing 1 session left "
                     r"\(rtmp_publisher 1\)", server.log())
    publisher.wait(10)
