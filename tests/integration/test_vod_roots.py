"""VOD roots ([vod] root and [[vod.roots]]), each with its own settings;
directory listings (off by default, 301 to the slash form, names escaped,
nothing hidden or outside the root shown); throttling (a burst, then the
file's bitrate x factor) and its signed per-request overrides; config errors
at startup."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shlex
import socket
import time
from pathlib import Path

import pytest

from helpers import HOST, Cascade, run_bounded

SECRET = "a-long-test-secret-0123456789"


def start_with_toml(cascade, procs, toml: str) -> Cascade:
    """A server with a raw TOML config (helpers.to_toml has no arrays of
    tables): the file is appended to the launcher's command line."""
    path = procs.workdir / f"roots-{procs.counter + 1:03d}.toml"
    path.write_text(toml)
    wrapper = ["sh", "-c", f'exec "$0" "$@" --config {shlex.quote(str(path))}']
    return cascade(workers=2, wrapper=wrapper)


def sign(path: str, rate: str, expires: int, secret: str = SECRET) -> str:
    """The signed override query (README, "On-demand files")."""
    message = f"cascade-vod-rate\n{path}\n{rate}\n{expires}".encode()
    sig = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"rate={rate}&expires={expires}&sig={sig}"


def raw_get(server: Cascade, target: str) -> tuple[int, dict[str, str], bytes]:
    """Sends the request line as is (http.client would normalize the path)."""
    with socket.create_connection((HOST, server.http_port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := s.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ", 2)[1]), headers, body


class Download:
    """A GET read as it arrives: bytes received by each moment since the
    request went out."""

    def __init__(self, server: Cascade, target: str, headers: str = "") -> None:
        self.sock = socket.create_connection((HOST, server.http_port), timeout=10)
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n{headers}"
                          "Connection: close\r\n\r\n".encode())
        self.start = time.monotonic()
        self.head = b""
        self.body = 0
        self.status = 0
        self.length = 0

    def read_until(self, seconds: float) -> int:
        """Reads until `seconds` after the start (or the end); the body bytes so far."""
        while self.body < self.length or not self.status:
            left = self.start + seconds - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                break
            if not chunk:
                break
            if not self.status:
                self.head += chunk
                if b"\r\n\r\n" not in self.head:
                    continue
                head, _, rest = self.head.partition(b"\r\n\r\n")
                self.status = int(head.split(b" ", 2)[1])
                self.length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                chunk = rest
            self.body += len(chunk)
        return self.body

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def roots(procs) -> tuple[Path, Path, Path]:
    """Two roots and a secret outside both."""
    base = procs.workdir
    one, two = base / "root-one", base / "root-two"
    (one / "films").mkdir(parents=True)
    (two / "sub dir" / "deeper").mkdir(parents=True)
    (one / "films" / "a.txt").write_text("one\n")
    (two / "b.txt").write_text("two\n")
    (two / "a&b <c>.txt").write_text("escaped\n")
    (two / 'q"uote\'.txt').write_text("q\n")
    (two / "sub dir" / "inner.txt").write_text("inner\n")
    (two / ".hidden").write_text("dot-file\n")
    (base / "secret.txt").write_text("do not list")
    (two / "escape.txt").symlink_to(base / "secret.txt")
    (two / "inside.txt").symlink_to("b.txt")
    return base, one, two


def test_two_roots_with_their_own_settings(cascade, procs, roots) -> None:
    _, one, two = roots
    server = start_with_toml(cascade, procs, f"""
[vod]
root = "{one}"
[[vod.roots]]
prefix = "/archive/"
path = "{two}"
list_directories = true
cache_max_age_s = 60
""")
    status, headers, body = server.http("GET", "/vod/films/a.txt")
    assert status == 200 and body == b"one\n"
    assert headers["cache-control"] == "public, max-age=3600"
    status, headers, body = server.http("GET", "/archive/b.txt")
    assert status == 200 and body == b"two\n"
    assert headers["cache-control"] == "public, max-age=60"
    # Each root serves only its own directory.
    assert server.http("GET", "/vod/b.txt")[0] == 404
    assert server.http("GET", "/archive/films/a.txt")[0] == 404
    # Listings are off for /vod/ (the default): as before, no listing.
    assert raw_get(server, "/vod/")[0] == 400
    assert raw_get(server, "/vod/films/")[0] == 400
    assert raw_get(server, "/vod/films")[0] == 404

    # /archive/ lists: sorted, directories first with '/', escaped, hidden
    # and escaping entries left out.
    status, headers, body = server.http("GET", "/archive/")
    page = body.decode()
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8", page
    assert headers["cache-control"] == "no-cache"
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', page)
    assert links == [("sub%20dir/", "sub dir/"), ("a%26b%20%3Cc%3E.txt", "a&amp;b &lt;c&gt;.txt"),
                     ("b.txt", "b.txt"), ("inside.txt", "inside.txt"),
                     ("q%22uote%27.txt", "q&quot;uote&#39;.txt")], page
    assert ".hidden" not in page and "escape.txt" not in page and "do not list" not in page
    assert "../" not in page  # the top of the root has no parent link
    # Every link resolves to what it names.
    for href, _ in links:
        if not href.endswith("/"):
            status, _, body = raw_get(server, f"/archive/{href}")
            assert status == 200, href
    status, _, body = raw_get(server, "/archive/a%26b%20%3Cc%3E.txt")
    assert body == b"escaped\n"
    # A directory without its slash: 301 to the slash form, which lists it.
    status, headers, _ = raw_get(server, "/archive/sub%20dir")
    assert status == 301 and headers["location"] == "/archive/sub%20dir/"
    status, _, body = raw_get(server, "/archive/sub%20dir/")
    assert status == 200
    assert re.findall(r'<a href="([^"]*)">', body.decode()) == ["../", "deeper/", "inner.txt"]
    assert "<title>Index of /archive/sub dir/</title>" in body.decode()
    status, headers, body = server.http("HEAD", "/archive/sub%20dir/")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    # Nothing outside the root, missing directories, files with a slash.
    for target, expected in (("/archive/%2e%2e/", 400), ("/archive/../", 400),
                             ("/archive/sub%20dir//", 400), ("/archive/nope/", 404),
                             ("/archive/b.txt/", 404), ("/archive/escape.txt/", 403)):
        status, _, body = raw_get(server, target)
        assert status == expected, (target, status, body[:200])
        assert b"do not list" not in body
    server.assert_alive()


def mp4_at_known_bitrate(path: Path) -> float:
    """10 s of constant-bitrate H.264 (1.6 Mbit/s, filler NALs) + AAC; its
    bitrate in bytes per second."""
    run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                 "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                 "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-t", "10",
                 "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-b:v", "1600k",
                 "-minrate", "1600k", "-maxrate", "1600k", "-bufsize", "800k",
                 "-x264-params", "nal-hrd=cbr", "-c:a", "aac", "-b:a", "64k",
                 "-movflags", "+faststart", str(path)], 120).check_returncode()
    return path.stat().st_size / 10.0


@pytest.fixture
def throttled(cascade, procs) -> tuple[Cascade, int, float]:
    """A server whose /vod/ throttles (2 s burst, factor 1.5) and accepts
    signed overrides; /fast/ serves the same files unthrottled; /nosecret/
    throttles without a secret."""
    root = procs.workdir / "media"
    root.mkdir()
    rate = mp4_at_known_bitrate(root / "film.mp4")
    (root / "blob.bin").write_bytes(os.urandom(3 << 20))
    server = start_with_toml(cascade, procs, f"""
[vod]
root = "{root}"
throttle_burst_s = 2
throttle_secret = "{SECRET}"
[[vod.roots]]
prefix = "/fast/"
path = "{root}"
throttle = false
[[vod.roots]]
prefix = "/nosecret/"
path = "{root}"
throttle_secret = ""
""")
    return server, (root / "film.mp4").stat().st_size, rate


def test_throttled_download_is_a_burst_then_the_bitrate_times_the_factor(throttled) -> None:
    server, size, media_rate = throttled
    burst, paced = 2 * media_rate, 1.5 * media_rate
    download = Download(server, "/vod/film.mp4")
    try:
        at_1s = download.read_until(1.0)
        assert download.status == 200 and download.length == size
        # The burst arrives at once, and not much more than burst + 1 s of pace.
        assert 0.5 * burst <= at_1s <= 2 * (burst + paced), (at_1s, burst)
        at_4s = download.read_until(4.0)
        window = at_4s - at_1s
        # A 3 s window: bitrate x 1.5, within generous bounds for a noisy machine.
        assert 0.5 * 3 * paced <= window <= 2 * 3 * paced, (window, 3 * paced)
        assert at_4s < size, "the whole file came within 4 s: not throttled"
    finally:
        download.close()
    assert server.metric("cascade_vod_paced_responses_total") >= 1
    # Ranges and MP4 clips are paced too: well short of the whole within 1 s.
    for target, headers in (("/vod/film.mp4", "Range: bytes=1000-\r\n"),
                            ("/vod/film.mp4?start=0", "")):
        download = Download(server, target, headers)
        try:
            got = download.read_until(1.0)
            assert download.status in (200, 206), target
            assert got < 0.75 * download.length, (target, got, download.length)
        finally:
            download.close()
    # Unthrottled: a root with throttle = false, and a file with no bitrate.
    for target, length in (("/fast/film.mp4", size), ("/vod/blob.bin", 3 << 20)):
        started = time.monotonic()
        status, _, body = server.http("GET", target, timeout=10)
        elapsed = time.monotonic() - started
        assert status == 200 and len(body) == length, target
        assert elapsed < 2.0, (target, elapsed)


def test_signed_overrides(throttled) -> None:
    server, size, media_rate = throttled
    now = int(time.time())
    # rate=0: unthrottled, whole and fast.
    started = time.monotonic()
    status, _, body = server.http("GET", "/vod/film.mp4?" + sign("/vod/film.mp4", "0", now + 60),
                                  timeout=10)
    assert status == 200 and len(body) == size
    assert time.monotonic() - started < 2.0
    # A larger factor: the whole file within 4 s (about 2 s at 4x; the
    # default 1.5x would have sent about 80% of it by then).
    download = Download(server, "/vod/film.mp4?" + sign("/vod/film.mp4", "4", now + 60))
    try:
        assert download.read_until(4.0) == size and download.status == 200
    finally:
        download.close()
    # Refused, with a clear message: 403.
    good = sign("/vod/film.mp4", "0", now + 60)
    cases = {
        "/vod/film.mp4?rate=0": "needs rate, expires and sig",
        f"/vod/film.mp4?rate=0&expires={now + 60}": "needs rate, expires and sig",
        "/vod/film.mp4?" + sign("/vod/film.mp4", "0", now - 10): "expired",
        "/vod/film.mp4?" + sign("/vod/film.mp4", "0", now + 60, "another secret, long enough"):
            "bad signature",
        "/vod/film.mp4?" + sign("/vod/other.mp4", "0", now + 60): "bad signature",
        "/vod/film.mp4?" + good.replace("rate=0", "rate=1"): "bad signature",
        "/vod/film.mp4?" + good + "&rate=0": "given twice",
        "/nosecret/film.mp4?" + sign("/nosecret/film.mp4", "0", now + 60): "not enabled",
    }
    for target, message in cases.items():
        status, _, body = raw_get(server, target)
        assert status == 403 and message.encode() in body, (target, status, body)
    server.wait_log(r"refused /vod/film\.mp4: the signed URL has expired")
    server.assert_alive()


@pytest.mark.parametrize("entry, needle, code", [
    ('prefix = "/a/"\npath = "{root}"\nthrotle = true\n',
     "vod.roots[0] (/a/): unknown key 'throtle'", 2),
    ('prefix = "/a/"\npath = "{root}"\n[[vod.roots]]\nprefix = "/a/"\npath = "{root}"\n',
     "vod.roots[1] (/a/): duplicate prefix /a/", 2),
    ('prefix = "/a"\npath = "{root}"\n', "must start and end with '/'", 2),
    ('prefix = "/a/"\n', "vod.roots[0] (/a/): missing key 'path'", 2),
    ('prefix = "/a/"\npath = "{root}/nope"\n', "vod.roots[0] (/a/): cannot open", 1),
], ids=["unknown-key", "duplicate-prefix", "bad-prefix", "missing-path", "missing-directory"])
def test_config_errors_stop_startup(cascade_bin: Path, tmp_path: Path, entry: str, needle: str,
                                    code: int) -> None:
    config = tmp_path / "roots.toml"
    config.write_text("[[vod.roots]]\n" + entry.format(root=tmp_path))
    result = run_bounded([str(cascade_bin), "--config", str(config), "--rtmp", f"{HOST}:0",
                          "--http", f"{HOST}:0"], 10)
    err = result.stderr.decode()
    assert result.returncode == code, (result.returncode, err)
    assert needle in err, err
    assert "listening" not in err
