"""HTTP-FLV and API semantics over raw sockets: HEAD, HTTP/1.0 (close-delimited)
vs HTTP/1.1 (chunked), CORS, keep-alive, errors, timeouts, end of stream."""

from __future__ import annotations

import json
import socket
import time

import pytest

from flv import Dechunker, FlvReader, parse_flv, read_response_head
from helpers import HOST, Cascade, ffmpeg_publish, wait_for

ORIGIN = "https://player.example"
CONFIG = {"http": {"cors_origin": ORIGIN, "request_timeout_ms": 1000, "idle_timeout_ms": 1500},
          "live": {"publish_grace_ms": 0}}


@pytest.fixture(scope="module")
def live(module_cascade, module_procs, media) -> Cascade:
    server = module_cascade(workers=2, config=CONFIG)
    ffmpeg_publish(module_procs, media.av, server.rtmp_url("main"))
    server.wait_publishing("main")
    return server


def connect(server: Cascade) -> socket.socket:
    sock = socket.create_connection((HOST, server.http_port), timeout=5)
    return sock


def request(sock: socket.socket, method: str, path: str, version: str = "1.1",
            headers: str = "") -> None:
    sock.sendall(f"{method} {path} HTTP/{version}\r\nHost: {HOST}\r\n{headers}\r\n".encode())


def read_some(sock: socket.socket, rest: bytes, want: int, timeout: float = 5) -> bytes:
    data = bytearray(rest)
    deadline = time.monotonic() + timeout
    while len(data) < want:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def read_to_close(sock: socket.socket, rest: bytes, timeout: float = 5) -> bytes:
    data = bytearray(rest)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the server did not close the connection")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(data)
        if not chunk:
            return bytes(data)
        data += chunk


def test_head_flv_http11_no_body_and_keep_alive(live: Cascade) -> None:
    with connect(live) as sock:
        request(sock, "HEAD", "/live/main.flv")
        status, headers, line, rest = read_response_head(sock, time.monotonic() + 5)
        assert line.startswith("HTTP/1.1 200")
        assert headers["content-type"] == "video/x-flv"
        assert headers["access-control-allow-origin"] == ORIGIN
        assert rest == b"", f"HEAD response has a body: {rest[:64]!r}"
        # The connection stays usable: the next response follows at once (any
        # stray body byte would corrupt it).
        request(sock, "GET", "/healthz")
        status, headers, line, rest = read_response_head(sock, time.monotonic() + 5)
        assert status == 200 and read_some(sock, rest, 3) == b"ok\n"


def test_head_flv_http10_closes_without_body(live: Cascade) -> None:
    with connect(live) as sock:
        request(sock, "HEAD", "/live/main.flv", "1.0")
        status, headers, line, rest = read_response_head(sock, time.monotonic() + 5)
        assert line.startswith("HTTP/1.0 200") and headers["content-type"] == "video/x-flv"
        assert read_to_close(sock, rest) == b""


def test_get_flv_http10_is_close_delimited(live: Cascade) -> None:
    with connect(live) as sock:
        request(sock, "GET", "/live/main.flv", "1.0")
        status, headers, line, rest = read_response_head(sock, time.monotonic() + 5)
        assert line.startswith("HTTP/1.0 200"), line
        assert "transfer-encoding" not in headers and "content-length" not in headers, headers
        assert headers["connection"].lower() == "close"
        assert headers["content-type"] == "video/x-flv"
        assert headers["access-control-allow-origin"] == ORIGIN
        assert "no-cache" in headers["cache-control"]
        body = read_some(sock, rest, 200_000)
        assert body[:3] == b"FLV", body[:16]
        parsed = parse_flv(body)
        assert parsed.flags == 0x05 and len(parsed.tags) > 50


def test_get_flv_http11_is_chunked(live: Cascade) -> None:
    with connect(live) as sock:
        request(sock, "GET", "/live/main.flv")
        status, headers, line, rest = read_response_head(sock, time.monotonic() + 5)
        assert line.startswith("HTTP/1.1 200"), line
        assert headers["transfer-encoding"].lower() == "chunked", headers
        assert "content-length" not in headers
        assert headers["access-control-allow-origin"] == ORIGIN
        raw = read_some(sock, rest, 200_000)
        first_line = raw.split(b"\r\n", 1)[0]
        int(first_line, 16)  # a chunk-size line, not FLV bytes
        body = Dechunker().feed(raw)
        parsed = parse_flv(body)
        assert parsed.header is not None and parsed.flags == 0x05 and len(parsed.tags) > 50


@pytest.mark.parametrize("path", ["/live/main.flv?token=abc&x=1", "/live/ma%69n.flv"])
def test_query_and_percent_encoding(live: Cascade, path: str) -> None:
    reader = FlvReader(HOST, live.http_port, path).start()
    try:
        wait_for(lambda: reader.tag_count() > 20 or reader.error, 5, 0.05, "tags")
        assert reader.error is None and reader.status == 200
    finally:
        reader.stop()


def test_api_and_metrics(live: Cascade) -> None:
    status, headers, body = live.http("GET", "/api/v1/streams")
    assert status == 200 and headers["content-type"] == "application/json"
    assert headers["access-control-allow-origin"] == ORIGIN
    stream = next(s for s in json.loads(body)["streams"] if s["key"] == "live/main")
    assert stream["publishing"] is True and stream["publisher_sessions"] == 1
    assert stream["video"] == {"codec": "h264", "width": 640, "height": 360}
    assert stream["audio"] == {"codec": "aac", "sample_rate": 44100, "channels": 2}
    assert stream["frames_in"] > 0 and stream["bytes_in"] > 0
    status, headers, body = live.http("GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    text = body.decode()
    assert "# TYPE cascade_viewer_skips_total counter" in text
    assert 'cascade_connections_accepted_total{listener="rtmp"}' in text
    status, headers, body = live.http("HEAD", "/api/v1/streams")
    assert status == 200 and body == b""


def test_keep_alive_serves_several_requests(live: Cascade) -> None:
    with connect(live) as sock:
        for path in ("/healthz", "/api/v1/streams", "/metrics", "/nope"):
            request(sock, "GET", path)
            status, headers, _, rest = read_response_head(sock, time.monotonic() + 5)
            assert status == (404 if path == "/nope" else 200)
            body = read_some(sock, rest, int(headers["content-length"]))
            assert len(body) == int(headers["content-length"])


@pytest.mark.parametrize("raw, status", [
    (b"POST /live/main.flv HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
    (b"GET /live/main.mp4 HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"GET /live/no-such.flv HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"GET /live/%zz.flv HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"BLAH\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 400),
], ids=["post-flv", "not-flv", "unknown-stream", "bad-escape", "garbage", "huge-header"])
def test_http_errors(live: Cascade, raw: bytes, status: int) -> None:
    with connect(live) as sock:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        got, headers, _, rest = read_response_head(sock, time.monotonic() + 5)
        assert got == status, (got, headers)
        if status == 405:
            assert "GET" in headers.get("allow", "")
        if status == 404 and b"no-such" in raw:
            assert b"live/no-such is not live" in read_some(sock, rest, 1)
    live.assert_alive()


def test_incomplete_request_times_out(live: Cascade) -> None:
    with connect(live) as sock:
        sock.sendall(b"GET /live/main.flv HTTP/1.1\r\nHost: x\r\n")  # never finished
        t0 = time.monotonic()
        read_to_close(sock, b"", timeout=5)
        assert 0.8 <= time.monotonic() - t0 <= 4


def test_stream_end_finishes_both_framings(cascade, procs, media) -> None:
    """When the stream ends, HTTP/1.1 viewers get the last chunk (0 CRLF CRLF),
    HTTP/1.0 viewers get the connection closed."""
    server: Cascade = cascade(workers=2, config={"live": {"publish_grace_ms": 0}})
    pub = ffmpeg_publish(procs, media.av, server.rtmp_url("ending"))
    server.wait_publishing("ending")
    socks = {}
    for version in ("1.0", "1.1"):
        sock = connect(server)
        request(sock, "GET", "/live/ending.flv", version)
        socks[version] = (sock, read_response_head(sock, time.monotonic() + 5))
    try:
        time.sleep(1)
        pub.kill()
        for version, (sock, (status, headers, _, rest)) in socks.items():
            body = read_to_close(sock, rest, timeout=5)
            if version == "1.1":
                assert body.endswith(b"\r\n0\r\n\r\n"), body[-32:]
                parse_flv(Dechunker().feed(body))
            else:
                assert parse_flv(body).tags
        wait_for(lambda: server.stream("ending") is None, 5, 0.1, "the stream to end")
        server.wait_log(r"\[live/ending\] stream ended", 5)
    finally:
        for sock, _ in socks.values():
            sock.close()


@pytest.mark.parametrize("path", ["/live/no-such.flv", "/nope", "/api/v1/streams", "/healthz"])
def test_head_responses_have_no_body(live: Cascade, path: str) -> None:
    """RFC 9110 9.3.2: whatever the status, a HEAD response carries no content;
    the next response on the kept-alive connection follows the head directly."""
    with connect(live) as sock:
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n"
                     f"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, _, rest = read_response_head(sock, time.monotonic() + 5)
        assert status in (200, 404)
        rest = read_some(sock, rest, 12)
        assert rest.startswith(b"HTTP/1.1 200 OK"), f"HEAD {path} sent a body: {rest[:60]!r}"
        assert int(headers["content-length"]) > 0, "HEAD must report the GET's length"


def test_flv_after_other_requests_on_a_kept_alive_connection(live: Cascade) -> None:
    with connect(live) as sock:
        request(sock, "GET", "/healthz")
        status, headers, _, rest = read_response_head(sock, time.monotonic() + 5)
        assert status == 200 and read_some(sock, rest, 3) == b"ok\n"
        request(sock, "GET", "/live/main.flv")
        status, headers, _, rest = read_response_head(sock, time.monotonic() + 5)
        assert status == 200 and headers["transfer-encoding"] == "chunked"
        parsed = parse_flv(Dechunker().feed(read_some(sock, rest, 100_000)))
        assert parsed.header is not None and len(parsed.tags) > 20
