"""Access control (issue 6): publish stream keys, signed play URLs on RTMP,
HTTP-FLV and HLS (the token carried into every playlist URI, segment bytes
unchanged), and webhooks (allow, deny, timeout, cache, redirect, on_done).
A refused client never disturbs a healthy viewer."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helpers import HOST, REPO, ffmpeg_play, ffmpeg_publish, probe, run_bounded, wait_for
from rtmp_client import RtmpClient, connected_client

SECRET = "integration-test-secret-0123456789"


class Toml:
    """A raw TOML value for helpers.to_toml (an inline table)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def sign(stream: str, expires: int, ip: str = "", secret: str = SECRET) -> str:
    message = f"cascade-play\n{stream}\n{expires}\n{ip}".encode()
    sig = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"expires={expires}&ip=1&sig={sig}" if ip else f"expires={expires}&sig={sig}"


def fresh(stream: str = "live/demo", ttl: int = 600) -> str:
    return sign(stream, int(time.time()) + ttl)


def get(server: Any, path: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    return server.http("GET", path, timeout=timeout)


class Hooks:
    """A webhook target on 127.0.0.1: records every POST body per path and
    answers by the request's `mode` parameter (params.mode): allow (default),
    deny, redirect, slow (3 s, then allow)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                try:
                    self.handle_hook()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server gave up on a slow answer: expected

            def handle_hook(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with hooks.lock:
                    hooks.calls.append((self.path, body))
                mode = body.get("params", {}).get("mode", "allow")
                if self.path == "/always-deny":
                    mode = "deny"
                if mode == "slow":
                    time.sleep(3)
                if mode == "deny":
                    self.answer(403, json.dumps({"reason": "banned by the test"}).encode())
                elif mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://edge.example/live/demo.flv")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.answer(200, b"{}")

            def answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def count(self, path: str, action: str | None = None) -> int:
        with self.lock:
            return sum(1 for p, b in self.calls if p == path and (not action or b["action"] == action))

    def bodies(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [b for p, b in self.calls if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Any:
    h = Hooks()
    yield h
    h.close()


def flv_bytes(server: Any, path: str, seconds: float = 2.0) -> tuple[int, bytes]:
    """GETs an HTTP-FLV path for `seconds`: (status, body so far)."""
    conn = http.client.HTTPConnection(HOST, server.http_port, timeout=10)
    try:
        conn.request("GET", path)
        res = conn.getresponse()
        if res.status != 200:
            return res.status, res.read()
        data = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            chunk = res.read1(65536)
            if not chunk:
                break
            data += chunk
        return 200, data
    finally:
        conn.close()


def rtmp_status(server: Any, action: str, name: str, app: str = "live",
                tc_query: str = "") -> dict[str, Any]:
    """connect (tcUrl query optional), createStream, publish/play `name`: the first onStatus."""
    client = RtmpClient(HOST, server.rtmp_port, timeout=10)
    try:
        client.handshake()
        extra = {"tcUrl": f"rtmp://{HOST}:{server.rtmp_port}/{app}?{tc_query}"} if tc_query else None
        client.connect(app, extra)
        client.create_stream()
        status = client.publish(name) if action == "publish" else client.play(name)
        if status.get("level") == "error":
            client.wait_closed(5)
        return status
    finally:
        client.close()


# --- Publish stream keys ----------------------------------------------------------


def test_publish_keys(cascade: Any, procs: Any, media: Any, tmp_path: Path) -> None:
    server = cascade(config={"access": {"publish_keys": Toml('{ live = ["k1", "k2"] }')}})
    # ffmpeg with the key as a query on the stream name: accepted, and the hub
    # names the stream without the query.
    ffmpeg_publish(procs, media.av, server.rtmp_url("demo?key=k2"))
    server.wait_publishing("demo")
    assert [s["key"] for s in server.streams()] == ["live/demo"]
    # A healthy viewer stays through every refusal below.
    viewer = ffmpeg_play(procs, server.flv_url("demo"), tmp_path / "healthy.flv", name="healthy")
    wait_for(lambda: (tmp_path / "healthy.flv").exists()
             and (tmp_path / "healthy.flv").stat().st_size > 50_000, 15, message="healthy viewer")

    wrong = rtmp_status(server, "publish", "other?key=nope")
    assert wrong["code"] == "NetStream.Publish.Rejected"
    assert "wrong stream key" in wrong["description"]
    missing = rtmp_status(server, "publish", "other")
    assert missing["code"] == "NetStream.Publish.Rejected"
    assert "stream key is required" in missing["description"]
    server.wait_log(r"\[127\.0\.0\.1:\d+ live/other\] publish refused: wrong stream key")
    # The key on the tcUrl (rtmp://host/live?key=k1) instead.
    assert rtmp_status(server, "publish", "tc", tc_query="key=k1")["code"] == \
        "NetStream.Publish.Start"
    # ffmpeg with a wrong key gives up; nothing is published.
    rejected = ffmpeg_publish(procs, media.av, server.rtmp_url("bad?key=k3"), name="rejected")
    assert rejected.wait(20) != 0
    assert server.stream("bad") is None
    # An app without keys stays open.
    assert rtmp_status(server, "publish", "free", app="open")["code"] == "NetStream.Publish.Start"

    size = (tmp_path / "healthy.flv").stat().st_size
    wait_for(lambda: (tmp_path / "healthy.flv").stat().st_size > size + 20_000, 10,
             message="the healthy viewer to keep receiving")
    assert viewer.running()
    server.assert_alive()


# --- Signed play URLs ---------------------------------------------------------------


def test_signed_play_rtmp_and_http_flv(cascade: Any, procs: Any, media: Any,
                                        tmp_path: Path) -> None:
    server = cascade(config={"access": {"play_secret": SECRET}})
    ffmpeg_publish(procs, media.av, server.rtmp_url("demo"))  # publish stays open
    server.wait_publishing("demo")

    # HTTP-FLV.
    status, body = flv_bytes(server, "/live/demo.flv?" + fresh())
    assert status == 200 and body[:3] == b"FLV" and len(body) > 10_000
    for query, reason in [("", b"signed URL is required"),
                          (sign("live/demo", int(time.time()) - 5), b"expired"),
                          (fresh("live/other"), b"bad signature"),
                          (sign("live/demo", int(time.time()) + 60, secret="x" * 20),
                           b"bad signature"),
                          (sign("live/demo", int(time.time()) + 60, ip="10.9.8.7"),
                           b"another client address")]:
        status, body = flv_bytes(server, "/live/demo.flv?" + query)
        assert status == 403, (query, body)
        assert reason in body, body
    # Bound to this client's address.
    status, body = flv_bytes(server, "/live/demo.flv?" +
                             sign("live/demo", int(time.time()) + 60, ip="127.0.0.1"))
    assert status == 200 and body[:3] == b"FLV"
    # The documented minting tool and openssl one-liner give accepted URLs.
    base = f"http://{HOST}:{server.http_port}/live/demo.flv"
    minted = run_bounded([sys.executable, str(REPO / "tools/sign_url.py"), "--secret", SECRET,
                          "--stream", "live/demo", "--ttl", "60", "--base", base], 20)
    assert minted.returncode == 0, minted.stderr
    url = minted.stdout.decode().strip()
    assert url.startswith(base + "?expires=")
    assert flv_bytes(server, url[len(f"http://{HOST}:{server.http_port}"):], 0.5)[0] == 200
    expires = int(time.time()) + 60
    one_liner = run_bounded(["sh", "-c", f"printf 'cascade-play\\nlive/demo\\n%s\\n' {expires} | "
                             f"openssl dgst -sha256 -hmac '{SECRET}'"], 20)
    sig = one_liner.stdout.decode().split()[-1]
    assert flv_bytes(server, f"/live/demo.flv?expires={expires}&sig={sig}", 0.5)[0] == 200
    # Refused before the liveness check: an unsigned probe learns nothing.
    assert flv_bytes(server, "/live/nothing.flv")[0] == 403

    # RTMP: ffmpeg plays with the token as a query on the play path.
    out = tmp_path / "rtmp.flv"
    player = ffmpeg_play(procs, server.rtmp_url("demo?" + fresh()), out, duration=3,
                         name="signed-rtmp")
    assert player.wait(30) == 0, player.log()
    info = probe(out)
    assert info["video"] is not None and info["audio"] is not None
    # Unsigned and expired plays: NetStream.Play.Failed, then closed.
    unsigned = rtmp_status(server, "play", "demo")
    assert unsigned["code"] == "NetStream.Play.Failed"
    assert "signed URL is required" in unsigned["description"]
    expired = rtmp_status(server, "play", "demo?" + sign("live/demo", int(time.time()) - 1))
    assert expired["code"] == "NetStream.Play.Failed" and "expired" in expired["description"]
    # The token on the tcUrl instead of the play name.
    assert rtmp_status(server, "play", "demo", tc_query=fresh())["code"] == "NetStream.Play.Reset"
    server.wait_log(r"live/demo\] play refused: the signed URL expired")
    server.assert_alive()


def test_signed_hls_carries_the_token(cascade: Any, procs: Any, media: Any,
                                      tmp_path: Path) -> None:
    server = cascade(config={"access": {"play_secret": SECRET}})
    ffmpeg_publish(procs, media.av, server.rtmp_url("demo"))
    server.wait_publishing("demo")
    token = fresh()

    def playlist(path: str, query: str) -> bytes:
        status, _, body = get(server, f"{path}?{query}")
        assert status == 200, (path, body)
        return body

    wait_for(lambda: get(server, "/live/demo/index.m3u8?" + token)[0] == 200 and
             b"#EXTINF" in get(server, "/live/demo/index.m3u8?" + token)[2], 20,
             message="an HLS segment")
    master = playlist("/live/demo.m3u8", token).decode()
    uris = [line for line in master.splitlines() if line and not line.startswith("#")]
    assert uris and all(uri.endswith("?" + token) for uri in uris), master
    media_playlist = playlist("/live/demo/index.m3u8", token).decode()
    tagged = re.findall(r'URI="([^"]+)"', media_playlist)
    lines = [line for line in media_playlist.splitlines() if line and not line.startswith("#")]
    assert tagged and lines
    assert all(("?" + token) in uri or ("&" + token) in uri for uri in tagged + lines), \
        media_playlist
    assert "#EXT-X-MAP:URI=" in media_playlist
    # Unsigned: every resource is 403, the segment included.
    segment = lines[-1].split("?")[0]
    for path in ("/live/demo.m3u8", "/live/demo/index.m3u8", "/live/demo/ts.m3u8",
                 f"/live/demo/{segment}"):
        assert get(server, path)[0] == 403, path
    # Two tokens, one segment: the same bytes (segments stay shared).
    other = sign("live/demo", int(time.time()) + 900)
    a = get(server, f"/live/demo/{segment}?{token}")
    b = get(server, f"/live/demo/{segment}?{other}")
    assert a[0] == b[0] == 200 and len(a[2]) > 1000
    assert a[2] == b[2]
    assert a[1].get("etag") == b[1].get("etag")
    # An expired token is refused for segments too.
    assert get(server, f"/live/demo/{segment}?" + sign("live/demo", int(time.time()) - 1))[0] == 403

    # ffmpeg reads the signed master playlist and every segment it names (a
    # URI without the token would be a 403 and fail the read).
    refused_before = server.metric("cascade_hls_refused_total")
    for name in ("demo.m3u8",):
        out = tmp_path / "hls.ts"
        url = f"http://{HOST}:{server.http_port}/live/{name}?{token}"
        result = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                              "-i", url, "-t", "5", "-c", "copy", str(out)], 60)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        info = probe(out)
        assert info["video"] is not None and int(info["video"]["nb_read_packets"]) > 60
    # The MPEG-TS playlist too, through ffprobe.
    ts_url = f"http://{HOST}:{server.http_port}/live/demo/ts.m3u8?{token}"
    result = run_bounded(["ffprobe", "-v", "error", "-of", "json", "-show_streams", ts_url], 60)
    assert result.returncode == 0, result.stderr.decode()
    assert server.metric("cascade_hls_refused_total") == refused_before
    server.assert_alive()


def test_signed_play_not_required(cascade: Any, procs: Any, media: Any) -> None:
    server = cascade(config={"access": {"play_secret": SECRET, "play_require_signature": False}})
    ffmpeg_publish(procs, media.av, server.rtmp_url("demo"))
    server.wait_publishing("demo")
    assert flv_bytes(server, "/live/demo.flv", 0.5)[0] == 200
    assert flv_bytes(server, "/live/demo.flv?expires=1&sig=" + "0" * 64, 0.5)[0] == 403
    # Unsigned playlists stay exactly as served to everyone.
    status, _, body = get(server, "/live/demo.m3u8")
    assert status == 200 and b"expires=" not in body


# --- Webhooks ------------------------------------------------------------------------


def test_webhooks_publish_play_done(cascade: Any, procs: Any, media: Any, hooks: Hooks,
                                    tmp_path: Path) -> None:
    server = cascade(config={"access": {
        "on_publish": hooks.url("/publish"), "on_play": hooks.url("/play"),
        "on_done": hooks.url("/done"), "webhook_timeout_ms": 800,
        "webhook_cache_ttl_ms": 1500}})
    publisher = ffmpeg_publish(procs, media.av, server.rtmp_url("demo?mode=allow&token=abc"))
    server.wait_publishing("demo")
    body = hooks.bodies("/publish")[0]
    assert body["action"] == "publish" and body["app"] == "live" and body["stream"] == "demo"
    assert body["protocol"] == "rtmp" and body["client_ip"] == "127.0.0.1"
    assert body["params"] == {"mode": "allow", "token": "abc"} and body["session_id"]
    # Publish denied by the hook.
    denied = rtmp_status(server, "publish", "nope?mode=deny")
    assert denied["code"] == "NetStream.Publish.Rejected"
    assert "banned by the test" in denied["description"]
    moved = rtmp_status(server, "publish", "moved?mode=redirect")
    assert moved["code"] == "NetStream.Publish.Rejected"
    assert moved["ex"] == {"code": 302, "redirect": "http://edge.example/live/demo.flv"}
    assert moved["redirect"] == "http://edge.example/live/demo.flv"

    # A healthy viewer (allowed) keeps playing through everything below.
    viewer = ffmpeg_play(procs, server.flv_url("demo") + "?mode=allow", tmp_path / "ok.flv",
                         name="healthy")
    wait_for(lambda: (tmp_path / "ok.flv").exists() and (tmp_path / "ok.flv").stat().st_size
             > 50_000, 15, message="healthy viewer")

    # Deny: 403 with the hook's reason; cached for the TTL (one call), asked again after.
    calls = hooks.count("/play")
    status, body_bytes = flv_bytes(server, "/live/demo.flv?mode=deny&u=1", 0.5)
    assert status == 403 and b"banned by the test" in body_bytes
    for _ in range(5):
        assert flv_bytes(server, "/live/demo.flv?mode=deny&u=1", 0.5)[0] == 403
    # Requests may land on either worker (one cache each): at most one call per worker.
    assert hooks.count("/play") - calls <= server.workers
    time.sleep(1.7)
    before = hooks.count("/play")
    assert flv_bytes(server, "/live/demo.flv?mode=deny&u=1", 0.5)[0] == 403
    assert hooks.count("/play") == before + 1

    # Redirect: 302 Location for HTTP; RTMP gets the URL in ex.redirect.
    status, headers, _ = get(server, "/live/demo.flv?mode=redirect")
    assert status == 302 and headers["location"] == "http://edge.example/live/demo.flv"
    redirected = rtmp_status(server, "play", "demo?mode=redirect")
    assert redirected["code"] == "NetStream.Play.Rejected"
    assert redirected["ex"]["redirect"] == "http://edge.example/live/demo.flv"
    assert redirected["ex"]["code"] == 302

    # Timeout (the hook answers after 3 s, the limit is 0.8 s): denied, promptly.
    started = time.monotonic()
    status, body_bytes = flv_bytes(server, "/live/demo.flv?mode=slow", 0.5)
    assert status == 403 and b"did not answer" in body_bytes
    assert time.monotonic() - started < 2.5
    server.wait_log(r"play webhook failed: .* did not answer within 800 ms")
    # Identical requests while a call is in flight wait for its answer: six
    # at once cost at most one call per worker.
    before = hooks.count("/play")
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(
        flv_bytes(server, "/live/demo.flv?mode=slow&together=1", 0.5)[0])) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert results == [403] * 6
    assert hooks.count("/play") - before <= server.workers

    # on_done once an allowed HTTP-FLV play ends.
    done_before = hooks.count("/done")
    assert flv_bytes(server, "/live/demo.flv?mode=allow&who=short", 1.0)[0] == 200
    wait_for(lambda: any(b["params"].get("who") == "short" for b in hooks.bodies("/done")), 10,
             message="on_done for the short play")
    done = [b for b in hooks.bodies("/done") if b["params"].get("who") == "short"][0]
    assert done["action"] == "done" and done["protocol"] == "http-flv"
    assert hooks.count("/done") > done_before

    size = (tmp_path / "ok.flv").stat().st_size
    wait_for(lambda: (tmp_path / "ok.flv").stat().st_size > size + 20_000, 10,
             message="the healthy viewer to keep receiving")
    assert viewer.running()

    # on_done when the RTMP publisher leaves.
    publisher.interrupt()
    wait_for(lambda: any(b["protocol"] == "rtmp" and b["params"].get("token") == "abc"
                         for b in hooks.bodies("/done")), 10, message="on_done for the publisher")
    server.assert_alive()


def test_webhook_failure_denies_and_hls_is_cached(cascade: Any, procs: Any, media: Any,
                                                  hooks: Hooks, tmp_path: Path) -> None:
    server = cascade(config={"access": {
        "on_play": hooks.url("/hls"), "on_connect": hooks.url("/connect"),
        "webhook_cache_ttl_ms": 60000}})
    ffmpeg_publish(procs, media.av, server.rtmp_url("demo"))
    server.wait_publishing("demo")
    wait_for(lambda: b"#EXTINF" in get(server, "/live/demo/index.m3u8")[2], 20,
             message="an HLS segment")
    # HLS: every request is checked through the per-worker cache: many
    # requests (LL-HLS directives vary) cost at most one call per worker.
    calls = hooks.count("/hls")
    for msn in range(10):
        directive = "&_HLS_msn=0" if msn % 2 else ""
        status, _, _ = get(server, f"/live/demo/index.m3u8?v=1{directive}")
        assert status == 200
    assert hooks.count("/hls") - calls <= server.workers
    # HLS refusals: 403 with the hook's reason, 302 for a redirect.
    status, _, body = get(server, "/live/demo/index.m3u8?mode=deny")
    assert status == 403 and b"banned by the test" in body
    status, headers, _ = get(server, "/live/demo.m3u8?mode=redirect")
    assert status == 302 and headers["location"] == "http://edge.example/live/demo.flv"
    calls = hooks.count("/hls")
    # The playlists carry the client's parameters into every URI, so a
    # player's segment requests show the hook the same ones (and hit the cache).
    status, _, master = get(server, "/live/demo.m3u8?v=1&_HLS_msn=0")
    assert status == 200
    uris = [u for u in master.decode().splitlines() if u and not u.startswith("#")]
    assert uris and all(u.endswith("?v=1") for u in uris), master
    out = tmp_path / "hook-hls.ts"
    result = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i",
                          f"http://{HOST}:{server.http_port}/live/demo.m3u8?v=1", "-t", "3",
                          "-c", "copy", str(out)], 60)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert probe(out)["video"] is not None
    assert all(b["params"] == {"v": "1"} for b in hooks.bodies("/hls")[calls:])
    assert hooks.count("/hls") - calls <= server.workers
    # on_connect (the publisher above was allowed: no mode on its tcUrl)
    # denies this one: the connection is closed once the answer comes.
    assert any(b["action"] == "connect" for b in hooks.bodies("/connect"))
    client = RtmpClient(HOST, server.rtmp_port, timeout=10)
    try:
        client.handshake()
        client.connect("live", {"tcUrl": f"rtmp://{HOST}:{server.rtmp_port}/live?mode=deny"})
        status = client.wait_status(timeout=5)
        assert status["code"] == "NetConnection.Connect.Rejected"
        client.wait_closed(5)
    finally:
        client.close()
    server.wait_log(r"connect refused by on_connect: denied by webhook \(HTTP 403\)")


def test_webhook_unreachable_denies(cascade: Any, procs: Any, media: Any) -> None:
    server = cascade(config={"access": {"on_play": "http://127.0.0.1:9/nothing-listens"}})
    ffmpeg_publish(procs, media.av, server.rtmp_url("demo"))
    server.wait_publishing("demo")
    status, body = flv_bytes(server, "/live/demo.flv", 0.5)
    assert status == 403 and b"webhook failed" in body
    assert rtmp_status(server, "play", "demo")["code"] == "NetStream.Play.Failed"
    server.assert_alive()
