"""TLS listeners ([tls]): RTMPS publish and play with ffmpeg, HTTPS for HLS
playlists and segments, HTTP-FLV and VOD files (byte-exact, ranges, MP4
seek: the sendfile-free path), TLS 1.2/1.3 only, a non-TLS client on a TLS
port closed without disturbing a TLS viewer, and certificate reload on
SIGHUP (new connections see the new certificate, existing ones keep
playing, a bad pair is rejected and the old one kept).

Certificates are made at test time with the openssl CLI (a test CA and
server certificates it signs)."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import HOST, Cascade, ffmpeg_play, ffmpeg_publish, probe, run_bounded, wait_for


# --- Certificates -----------------------------------------------------------------


@dataclass
class Pair:
    cert: Path
    key: Path


def openssl(*args: str) -> None:
    result = run_bounded(["openssl", *args], 30)
    assert result.returncode == 0, result.stderr.decode()


class CertAuthority:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pki"
        self.dir.mkdir(exist_ok=True)
        self.cert = self.dir / "ca.pem"
        self.key = self.dir / "ca.key"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(self.key), "-out", str(self.cert), "-days", "2",
                "-subj", "/CN=Cascade Test CA")

    def issue(self, name: str, serial: int) -> Pair:
        key, csr, cert = (self.dir / f"{name}.key", self.dir / f"{name}.csr",
                          self.dir / f"{name}.pem")
        ext = self.dir / f"{name}.ext"
        ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
        openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
                "-set_serial", str(serial), "-days", "2", "-extfile", str(ext), "-out", str(cert))
        return Pair(cert, key)


@pytest.fixture
def ca(procs) -> CertAuthority:
    return CertAuthority(procs.workdir)


# --- The server ---------------------------------------------------------------------


@dataclass
class TlsServer:
    server: Cascade
    rtmps_port: int
    https_port: int
    pair: Pair  # the files the server reads (reload replaces their contents)

    def rtmps_url(self, key: str) -> str:
        return f"rtmps://{HOST}:{self.rtmps_port}/live/{key}"

    def https_url(self, path: str) -> str:
        return f"https://{HOST}:{self.https_port}{path}"


def start_tls_server(cascade, procs, ca: CertAuthority, extra: dict | None = None) -> TlsServer:
    issued = ca.issue("cascade-one", 0x1001)
    # The server reads copies, so a reload test can replace them.
    live = Pair(procs.workdir / "server.pem", procs.workdir / "server.key")
    live.cert.write_bytes(issued.cert.read_bytes())
    live.key.write_bytes(issued.key.read_bytes())
    config = {"tls": {"cert_file": str(live.cert), "key_file": str(live.key),
                      "rtmps_listen": f"{HOST}:0", "https_listen": f"{HOST}:0"}}
    config.update(extra or {})
    server = cascade(workers=2, config=config)
    rtmps = server.wait_log(r"rtmps listening on 127\.0\.0\.1:(\d+)")
    https = server.wait_log(r"https listening on 127\.0\.0\.1:(\d+)")
    return TlsServer(server, int(rtmps.group(1)), int(https.group(1)), live)


def curl(ca: CertAuthority, url: str, *extra: str, timeout: float = 20) -> tuple[int, bytes]:
    """GET with certificate verification against the test CA; (status, body)."""
    result = run_bounded(["curl", "-sS", "--cacert", str(ca.cert), "-o", "-",
                          "-w", "\n%{http_code}", *extra, url], timeout)
    assert result.returncode == 0, f"curl {url}: {result.stderr.decode()}"
    body, _, code = result.stdout.rpartition(b"\n")
    return int(code), body


def peer_certificate(port: int, ca: CertAuthority) -> dict:
    context = ssl.create_default_context(cafile=str(ca.cert))
    with socket.create_connection((HOST, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            return tls.getpeercert()


def subject_cn(cert: dict) -> str:
    return dict(item for rdn in cert["subject"] for item in rdn)["commonName"]


def grows(path: Path, timeout: float = 10.0) -> None:
    start = path.stat().st_size if path.exists() else 0
    wait_for(lambda: path.exists() and path.stat().st_size > start + 10_000, timeout, 0.2,
             f"{path.name} to keep growing")


def wait_closed(sock: socket.socket, timeout: float = 5.0) -> None:
    """The server closes `sock`: recv returns EOF (or a reset) within timeout."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(4096):
                return
    except ConnectionResetError:
        return
    except socket.timeout:
        pass
    raise AssertionError("the server did not close the non-TLS connection")


# --- Tests --------------------------------------------------------------------------


def test_rtmps_publish_and_play_https_hls_and_http_flv(cascade, procs, media, ca) -> None:
    t = start_tls_server(cascade, procs, ca, {"hls": {"segment_target_ms": 1000,
                                                      "part_target_ms": 200}})
    key = "secure"
    ffmpeg_publish(procs, media.av, t.rtmps_url(key), name="publish-rtmps")
    t.server.wait_publishing(key)
    assert re.search(r"\[127\.0\.0\.1:\d+ live/secure\] publish started", t.server.log())

    # Play over RTMPS (ffmpeg's TLS client; -tls_verify with the test CA).
    rtmps_out = procs.workdir / "rtmps.flv"
    play = ffmpeg_play(procs, t.rtmps_url(key), rtmps_out, duration=3, name="play-rtmps")
    assert play.wait(30) == 0, play.log()
    info = probe(rtmps_out, count_frames=True)
    assert info["video"]["codec_name"] == "h264" and info["audio"]["codec_name"] == "aac"
    assert int(info["video"]["nb_read_frames"]) >= 60

    # HTTP-FLV over HTTPS.
    flv_out = procs.workdir / "https.flv"
    play = ffmpeg_play(procs, t.https_url(f"/live/{key}.flv"), flv_out, duration=3,
                       name="play-https-flv")
    assert play.wait(30) == 0, play.log()
    info = probe(flv_out, count_frames=True)
    assert info["video"]["codec_name"] == "h264" and int(info["video"]["nb_read_frames"]) >= 60

    # HLS over HTTPS, verified against the CA: master, media playlist, and a
    # segment (a memory-file body: no sendfile through TLS) byte-exact
    # against the same segment over plain HTTP.
    status, master = curl(ca, t.https_url(f"/live/{key}.m3u8"))
    assert status == 200 and b"#EXTM3U" in master and f"{key}/index.m3u8".encode() in master

    def segments() -> list[str] | None:
        code, body = curl(ca, t.https_url(f"/live/{key}/ts.m3u8"))
        uris = [line for line in body.decode().splitlines() if line and not line.startswith("#")]
        return uris if code == 200 and len(uris) >= 2 else None
    uris = wait_for(segments, 30, 0.3, "two segments in ts.m3u8 over https")
    segment = f"/live/{key}/{uris[0]}"
    status, over_tls = curl(ca, t.https_url(segment))
    plain_status, _, plain = t.server.http("GET", segment)
    assert status == 200 and plain_status == 200
    assert len(over_tls) > 10_000 and over_tls == plain
    status, playlist = curl(ca, t.https_url(f"/live/{key}/index.m3u8"))
    assert status == 200 and b"#EXT-X-PART" in playlist
    t.server.assert_alive()


def test_vod_over_https_byte_exact_ranges_and_mp4_seek(cascade, procs, media, ca) -> None:
    root = procs.workdir / "vod-root"
    root.mkdir()
    data = os.urandom(5 * 1024 * 1024 + 17)  # more than one 64 KiB chunk, odd tail
    (root / "blob.bin").write_bytes(data)
    run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i",
                 str(media.av), "-c", "copy", "-movflags", "+faststart", str(root / "av.mp4")],
                60).check_returncode()
    t = start_tls_server(cascade, procs, ca, {"vod": {"root": str(root), "throttle": False}})

    status, body = curl(ca, t.https_url("/vod/blob.bin"))
    assert status == 200 and body == data
    status, body = curl(ca, t.https_url("/vod/blob.bin"), "-H", "Range: bytes=100000-1299999")
    assert status == 206 and body == data[100000:1300000]
    status, body = curl(ca, t.https_url("/vod/blob.bin"), "-H", f"Range: bytes=-{70_000}")
    assert status == 206 and body == data[-70_000:]
    # Keep-alive: two responses on one TLS connection (curl reuses it).
    result = run_bounded(["curl", "-sS", "--cacert", str(ca.cert), "-o", "/dev/null", "-o",
                          "/dev/null", "-w", "%{http_code} %{num_connects}\n",
                          t.https_url("/vod/blob.bin"), t.https_url("/vod/blob.bin")], 30)
    assert result.stdout.decode().split() == ["200", "1", "200", "0"], result.stdout

    # An MP4 seek: the rewritten head plus file ranges, the same bytes as over
    # plain HTTP, and a valid file.
    status, seek = curl(ca, t.https_url("/vod/av.mp4?start=5"))
    plain_status, _, plain = t.server.http("GET", "/vod/av.mp4?start=5", timeout=20)
    assert status == 200 and plain_status == 200 and seek == plain and len(seek) > 100_000
    clip = procs.workdir / "clip.mp4"
    clip.write_bytes(seek)
    info = probe(clip)
    assert info["video"]["codec_name"] == "h264"
    assert 15 <= float(info["video"]["duration"]) <= 20


def s_client(port: int, *version: str) -> subprocess.CompletedProcess:
    return run_bounded(["openssl", "s_client", "-connect", f"{HOST}:{port}", *version,
                        "-brief"], 15)


def test_tls_versions_12_and_13_only(cascade, procs, ca) -> None:
    t = start_tls_server(cascade, procs, ca)
    for port in (t.https_port, t.rtmps_port):
        for flag, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            result = s_client(port, flag)
            text = result.stdout.decode() + result.stderr.decode()
            assert f"Protocol version: {name}" in text, text
        # The client is allowed TLS 1.1 (SECLEVEL=0): the server must refuse it.
        result = s_client(port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        text = result.stdout.decode() + result.stderr.decode()
        assert result.returncode != 0, text
        assert "Protocol version: TLSv1.1" not in text
        assert "protocol version" in text or "unsupported protocol" in text, text
    t.server.wait_log(r"\[127\.0\.0\.1:\d+\] closed: TLS handshake failed")
    t.server.wait_log(r"TLS handshake failed")
    t.server.assert_alive()


def test_non_tls_clients_are_closed_without_affecting_a_tls_viewer(cascade, procs, media,
                                                                     ca) -> None:
    t = start_tls_server(cascade, procs, ca, {"rtmp": {"handshake_timeout_ms": 1000},
                                              "http": {"request_timeout_ms": 1000}})
    key = "mixed"
    ffmpeg_publish(procs, media.av, t.server.rtmp_url(key))
    t.server.wait_publishing(key)
    out = procs.workdir / "viewer.flv"
    ffmpeg_play(procs, t.rtmps_url(key), out, name="tls-viewer")
    grows(out, 20)

    # A plain RTMP handshake on the RTMPS port, plain HTTP on the HTTPS port,
    # and random bytes on both: each is closed.
    for port, payload in ((t.rtmps_port, b"\x03" + os.urandom(1536)),
                          (t.https_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                          (t.rtmps_port, os.urandom(3000)),
                          (t.https_port, b"\x16\x03\x01\x00\x05garbage-record" * 40)):
        with socket.create_connection((HOST, port), timeout=5) as s:
            s.sendall(payload)
            wait_closed(s)
    t.server.wait_log(r"\[127\.0\.0\.1:\d+\] closed: TLS handshake failed: wrong version number")
    t.server.wait_log(r"\[127\.0\.0\.1:\d+\] TLS handshake failed: http request")
    # Clients that connect and send nothing: closed by the handshake
    # timeouts (rtmp.handshake_timeout_ms, http.request_timeout_ms).
    for port in (t.rtmps_port, t.https_port):
        with socket.create_connection((HOST, port), timeout=5) as s:
            started = time.monotonic()
            wait_closed(s, 5)
            assert 0.8 <= time.monotonic() - started <= 4
    t.server.wait_log(r"closed: TLS handshake failed: handshake timeout")
    t.server.wait_log(r"\] TLS handshake failed: timeout")
    grows(out)
    t.server.assert_alive()


def test_tls_client_that_stops_reading_a_file_is_cut_off(cascade, procs, ca) -> None:
    root = procs.workdir / "vod-root"
    root.mkdir()
    with open(root / "big.bin", "wb") as f:
        f.truncate(256 * 1024 * 1024)  # sparse: reads as zeros
    (root / "small.bin").write_bytes(os.urandom(200_000))
    t = start_tls_server(cascade, procs, ca, {"vod": {"root": str(root),
                                                      "stall_timeout_ms": 1000}})
    context = ssl.create_default_context(cafile=str(ca.cert))
    with socket.create_connection((HOST, t.https_port), timeout=10) as raw:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            tls.sendall(b"GET /vod/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            assert tls.recv(100).startswith(b"HTTP/1.1 200")
            # Reads nothing more: the server gives up after the stall timeout
            # while another TLS client is served.
            status, body = curl(ca, t.https_url("/vod/small.bin"))
            assert status == 200 and body == (root / "small.bin").read_bytes()
            t.server.wait_log(r"/vod/big\.bin: the client stopped reading", 15)
    t.server.assert_alive()


def test_certificate_reload_on_sighup(cascade, procs, media, ca) -> None:
    t = start_tls_server(cascade, procs, ca)
    assert subject_cn(peer_certificate(t.https_port, ca)) == "cascade-one"
    first = peer_certificate(t.rtmps_port, ca)
    assert first["serialNumber"] == "1001" and subject_cn(first) == "cascade-one"

    key = "reload"
    ffmpeg_publish(procs, media.av, t.rtmps_url(key))
    t.server.wait_publishing(key)
    out = procs.workdir / "viewer.flv"
    ffmpeg_play(procs, t.rtmps_url(key), out, name="tls-viewer")
    grows(out, 20)

    # A new pair in place of the files, then SIGHUP.
    second = ca.issue("cascade-two", 0x2002)
    t.pair.key.write_bytes(second.key.read_bytes())
    t.pair.cert.write_bytes(second.cert.read_bytes())
    t.server.proc.signal(signal.SIGHUP)
    t.server.wait_log(r"TLS certificate reloaded: subject=CN=cascade-two, serial=2002")
    for port in (t.rtmps_port, t.https_port):
        cert = peer_certificate(port, ca)
        assert cert["serialNumber"] == "2002" and subject_cn(cert) == "cascade-two"
    grows(out)  # the viewer that started under the old certificate keeps playing

    # A bad new pair (the key of another certificate): rejected, old kept.
    third = ca.issue("cascade-three", 0x3003)
    t.pair.key.write_bytes(third.key.read_bytes())
    t.server.proc.signal(signal.SIGHUP)
    t.server.wait_log(r"reload rejected, keeping the running config: .*does not match")
    cert = peer_certificate(t.https_port, ca)
    assert cert["serialNumber"] == "2002" and subject_cn(cert) == "cascade-two"
    grows(out)
    t.server.assert_alive()


def test_bad_tls_config_is_refused_at_startup(procs, cascade_bin, ca) -> None:
    one, two = ca.issue("one", 1), ca.issue("two", 2)
    cases = [
        ({"cert_file": str(one.cert), "key_file": str(two.key), "https_listen": f"{HOST}:0"},
         "does not match"),
        ({"cert_file": str(procs.workdir / "missing.pem"), "key_file": str(one.key),
          "https_listen": f"{HOST}:0"}, "cannot be read"),
        ({"https_listen": f"{HOST}:0"}, "needs both tls.cert_file and tls.key_file"),
    ]
    for i, (tls, expected) in enumerate(cases):
        config = procs.workdir / f"bad-{i}.toml"
        config.write_text("[tls]\n" + "".join(f'{k} = "{v}"\n' for k, v in tls.items()))
        result = run_bounded([str(cascade_bin), "--config", str(config), "--rtmp", f"{HOST}:0",
                              "--http", f"{HOST}:0"], 20)
        assert result.returncode != 0
        assert expected in (result.stdout + result.stderr).decode(), result.stderr.decode()
