"""HLS and LL-HLS from live streams: playlists obey the spec, ffprobe/ffmpeg
read both playlists and decode every segment, blocking reloads are answered
when the part exists, delta updates, cache headers, discontinuities."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

from hls import MediaPlaylist, check_media_playlist, parse_master, parse_media_playlist
from helpers import HOST, Cascade, ffmpeg_publish, probe, run_bounded, wait_for


def get(server: Cascade, path: str, timeout: float = 10.0,
        headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return server.http("GET", path, timeout=timeout, headers=headers)


def playlist(server: Cascade, path: str) -> MediaPlaylist:
    status, headers, body = get(server, path)
    assert status == 200, f"{path}: HTTP {status} {body[:200]!r}"
    assert headers["content-type"] == "application/vnd.apple.mpegurl"
    return parse_media_playlist(body.decode())


def wait_segments(server: Cascade, path: str, count: int, timeout: float = 30.0) -> MediaPlaylist:
    def enough() -> MediaPlaylist | None:
        status, _, body = get(server, path)
        if status != 200:
            return None
        p = parse_media_playlist(body.decode())
        return p if len(p.complete()) >= count else None
    return wait_for(enough, timeout, 0.2, f"{count} segments in {path}")


def base(key: str) -> str:
    return f"/live/{key}/"


def decode_errors(path: Path) -> str:
    # -fps_mode vfr: in passthrough mode the null muxer rescales frame times to
    # 1/fps from the earliest stream start; audio starting half a frame before
    # the first B-frame-delayed video picture makes two pictures round to one
    # tick, and it warns. Decoding itself is what is checked.
    result = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
                          "-fps_mode", "vfr", "-f", "null", "-"], 60)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stderr.decode().strip()


def test_playlists_obey_the_rules_and_every_segment_decodes(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2)
    key = "hls"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)
    ll = wait_segments(server, base(key) + "index.m3u8", 4)
    check_media_playlist(ll)
    assert ll.part_target == 0.333 and ll.target_duration == 2
    ts = playlist(server, base(key) + "ts.m3u8")
    check_media_playlist(ts)
    assert ts.part_target is None and "EXT-X-PART" not in ts.text

    # Master: one variant pointing at the fMP4 playlist, with what players need.
    status, headers, body = get(server, f"/live/{key}.m3u8")
    assert status == 200
    (attrs, uri), = parse_master(body.decode())
    assert uri == f"{key}/index.m3u8"
    assert attrs["CODECS"].startswith("avc1.") and attrs["CODECS"].endswith(",mp4a.40.2")
    assert attrs["RESOLUTION"] == f"{media.width}x{media.height}"
    assert abs(float(attrs["FRAME-RATE"]) - media.fps) < 0.6
    assert 300_000 < int(attrs["BANDWIDTH"]) < 3_000_000, attrs

    # Every listed segment decodes: fMP4 with its init section, TS on its own.
    for s in ll.complete():
        _, _, init = get(server, base(key) + s.map_uri)
        status, headers, data = get(server, base(key) + s.uri)
        assert status == 200 and headers["content-type"] == "video/iso.segment"
        f = procs.workdir / f"fmp4-{s.msn}.mp4"
        f.write_bytes(init + data)
        assert decode_errors(f) == ""
        info = probe(f)
        assert info["video"]["codec_name"] == "h264" and info["audio"]["codec_name"] == "aac"
    for s in ts.complete():
        status, headers, data = get(server, base(key) + s.uri)
        assert status == 200 and headers["content-type"] == "video/mp2t"
        assert data[0] == 0x47 and len(data) % 188 == 0
        f = procs.workdir / f"ts-{s.msn}.ts"
        f.write_bytes(data)
        assert decode_errors(f) == ""
        assert abs(float(probe(f)["format"]["duration"]) - s.duration) < 0.1
    # An independent part decodes alone with the init section.
    open_or_last = [s for s in ll.segments if s.parts][-1]
    _, _, init = get(server, base(key) + open_or_last.map_uri)
    _, _, part = get(server, base(key) + open_or_last.parts[0].uri)
    f = procs.workdir / "part.mp4"
    f.write_bytes(init + part)
    assert decode_errors(f) == ""

    # ffprobe/ffmpeg read both playlists as HLS over HTTP.
    for path in (f"/live/{key}.m3u8", base(key) + "ts.m3u8"):
        url = f"http://{HOST}:{server.http_port}{path}"
        out = procs.workdir / f"hls-{path.replace('/', '_')}.ts"
        result = run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", url,
                              "-t", "3", "-c", "copy", "-y", str(out)], 60)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        info = probe(out, count_frames=True)
        assert info["video"]["codec_name"] == "h264" and int(info["video"]["nb_read_frames"]) >= 60
    server.assert_alive()


def next_part(p: MediaPlaylist) -> tuple[int, int]:
    name = p.preload_hint.rsplit("/", 1)[1]  # p{msn}.{i}.m4s
    msn, index = name[1:-4].split(".")
    return int(msn), int(index)


def test_blocking_reload_and_waiting_part_requests(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2)
    key = "ll"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)
    p = wait_segments(server, base(key) + "index.m3u8", 2)
    delays = []
    for _ in range(6):
        msn, index = next_part(p)
        started = time.monotonic()
        status, headers, body = get(server, base(key) + f"index.m3u8?_HLS_msn={msn}&_HLS_part={index}")
        delays.append(time.monotonic() - started)
        assert status == 200, body
        assert headers["cache-control"] == "no-store"
        p = parse_media_playlist(body.decode())
        check_media_playlist(p)
        # 8216bis 6.2.5.2: the playlist now contains that part.
        assert any(s.msn == msn and len(s.parts) > index for s in p.segments) or \
            any(s.msn > msn and s.parts for s in p.segments), p.text
    # Each answer came when its part did: within one part duration (0.333 s) + slack.
    assert max(delays) < 0.9, delays
    assert sum(delays) > 0.5, f"blocking requests did not block: {delays}"

    # The preload-hinted part is requested before it exists: held, then served.
    msn, index = next_part(p)
    started = time.monotonic()
    status, headers, data = get(server, base(key) + p.preload_hint)
    assert status == 200 and data[4:8] == b"moof", (status, data[:16])
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert time.monotonic() - started < 0.9

    # Bad requests (8216bis 6.2.5.2): too far ahead, part without msn, junk.
    last = p.complete()[-1].msn
    for query, fragment in ((f"_HLS_msn={last + 10}", b"ahead"),
                            ("_HLS_part=1", b"without _HLS_msn"),
                            ("_HLS_msn=abc", b"decimal"),
                            (f"_HLS_msn={msn}&_HLS_part=100", b"ahead")):
        status, headers, body = get(server, base(key) + "index.m3u8?" + query)
        assert status == 400 and fragment in body, (query, status, body)
    # A segment far in the future is simply not there.
    status, headers, _ = get(server, base(key) + p.segments[0].uri.replace(
        f"s{p.segments[0].msn}.", f"s{last + 50}."))
    assert status == 404 and headers["cache-control"] == "max-age=1"
    server.assert_alive()


def test_delta_update_skips_old_segments(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=1, config={
        "hls": {"segment_target_ms": 1000, "part_target_ms": 250, "window_segments": 12}})
    key = "delta"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)
    full = wait_segments(server, base(key) + "index.m3u8", 9, timeout=40)
    check_media_playlist(full)
    assert full.target_duration == 1
    status, _, body = get(server, base(key) + "index.m3u8?_HLS_skip=YES")
    assert status == 200
    delta = parse_media_playlist(body.decode())
    assert "EXT-X-SKIP" in delta.tags, delta.text
    # The skipped run ends before CAN-SKIP-UNTIL (6 s) from the end.
    assert delta.skipped > 0 and delta.media_sequence >= full.media_sequence
    listed = sum(s.duration or 0 for s in delta.segments)
    assert listed >= float(delta.server_control["CAN-SKIP-UNTIL"]) - 1.0
    assert delta.segments[0].map_uri, "EXT-X-MAP must follow the skip"
    assert delta.segments[0].msn == delta.media_sequence + delta.skipped


def test_cache_headers_etags_and_not_found(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2)
    key = "cache"
    ffmpeg_publish(procs, media.av, server.rtmp_url(key))
    server.wait_publishing(key)
    ts = wait_segments(server, base(key) + "ts.m3u8", 2)
    status, headers, _ = get(server, base(key) + "ts.m3u8")
    assert headers["cache-control"] == "public, max-age=1"  # half a 2 s segment
    assert headers["access-control-allow-origin"] == "*"
    assert headers["etag"].startswith('"') and "last-modified" in headers
    status, headers, _ = get(server, base(key) + "index.m3u8")
    assert headers["cache-control"] == "no-cache"  # updates every part
    seg = base(key) + ts.complete()[0].uri
    status, headers, body = get(server, seg)
    assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
    assert int(headers["content-length"]) == len(body)
    status, h304, body304 = get(server, seg, headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body304 == b"" and h304["etag"] == headers["etag"]
    status, hhead, body304 = server.http("HEAD", seg)
    assert status == 200 and body304 == b"" and hhead["content-length"] == headers["content-length"]
    # Large segments are kept in a memory file and sent by sendfile; the
    # HTTP/1.0 answer (prepared head not usable) carries the same bytes.
    assert len(body) >= 32 * 1024
    fds = [os.readlink(f"/proc/{server.proc.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{server.proc.pid}/fd")]
    assert any(link.startswith("/memfd:cascade-hls live/cache") for link in fds), fds
    with socket.create_connection((HOST, server.http_port), timeout=10) as s:
        s.sendall(f"GET {seg} HTTP/1.0\r\n\r\n".encode())
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    assert raw.split(b"\r\n", 1)[0] == b"HTTP/1.0 200 OK" and raw.partition(b"\r\n\r\n")[2] == body
    for path in ("/live/nosuch.m3u8", "/live/nosuch/index.m3u8", base(key) + "zzz/s1.ts"):
        status, headers, _ = get(server, path)
        assert status == 404 and headers["cache-control"] == "max-age=1", path
    status, _, _ = server.http("POST", base(key) + "index.m3u8")
    assert status == 405


def test_reconnect_gives_a_discontinuity_and_players_continue(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2, config={"live": {"publish_grace_ms": 8000}})
    key = "again"
    pub = ffmpeg_publish(procs, media.av, server.rtmp_url(key), name="pub1")
    server.wait_publishing(key)
    wait_segments(server, base(key) + "ts.m3u8", 3)
    # A player reads the TS playlist live across the reconnect.
    out = procs.workdir / "across.ts"
    url = f"http://{HOST}:{server.http_port}{base(key)}ts.m3u8"
    player = procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", url,
                          "-c", "copy", "-y", str(out)], "hls-player")
    time.sleep(3)
    pub.kill()
    time.sleep(1.5)
    ffmpeg_publish(procs, media.av, server.rtmp_url(key), name="pub2")

    def discontinuity() -> MediaPlaylist | None:
        p = playlist(server, base(key) + "index.m3u8")
        after = [s for s in p.complete() if s.discontinuity]
        return p if after and p.complete()[-1].msn >= after[0].msn + 2 else None
    p = wait_for(discontinuity, 30, 0.3, "two segments after a discontinuity")
    check_media_playlist(p)
    first_new = next(s for s in p.complete() if s.discontinuity)
    before = next(s for s in p.complete() if s.msn == first_new.msn - 1)
    assert first_new.map_uri == before.map_uri  # same codec config: same init section
    # Timestamps stay monotonic across it (the stream's timeline continues).
    starts = []
    for s in (before, first_new):
        _, _, data = get(server, base(key) + s.uri.replace(".m4s", ".ts"))
        f = procs.workdir / f"d{s.msn}.ts"
        f.write_bytes(data)
        starts.append(float(probe(f)["format"]["start_time"]))
    assert starts[1] > starts[0] + before.duration - 0.2, starts
    ts = playlist(server, base(key) + "ts.m3u8")
    assert any(s.discontinuity for s in ts.segments)
    time.sleep(4)
    assert player.running(), player.log()[-2000:]
    player.interrupt()
    info = probe(out, count_frames=True)
    duration = float(info["format"]["duration"])
    assert duration > 7, f"the player stopped at the discontinuity: {duration} s"


def test_audio_only_video_only_and_mp3(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2)
    mp3 = procs.workdir / "av-mp3.flv"
    run_bounded(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i",
                 str(media.av), "-c:v", "copy", "-c:a", "libmp3lame", "-b:a", "128k",
                 "-ar", "44100", str(mp3)], 60).check_returncode()
    ffmpeg_publish(procs, media.audio, server.rtmp_url("radio"), name="radio")
    procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re",
                 "-stream_loop", "-1", "-i", str(media.av), "-an", "-c", "copy", "-f", "flv",
                 server.rtmp_url("silent")], "silent")
    ffmpeg_publish(procs, mp3, server.rtmp_url("mp3"), name="mp3")
    expect = {"radio": (None, "aac"), "silent": ("h264", None), "mp3": ("h264", "mp3")}
    for key, (video, audio) in expect.items():
        for name in ("index.m3u8", "ts.m3u8"):
            p = wait_segments(server, base(key) + name, 2)
            check_media_playlist(p)
            s = p.complete()[-1]
            _, _, data = get(server, base(key) + s.uri)
            if s.map_uri:
                _, _, init = get(server, base(key) + s.map_uri)
                data = init + data
            f = procs.workdir / f"{key}-{name}.bin"
            f.write_bytes(data)
            assert decode_errors(f) == ""
            info = probe(f)
            assert (info["video"] or {}).get("codec_name") == video, (key, name, info)
            assert (info["audio"] or {}).get("codec_name") == audio, (key, name, info)
        _, _, body = get(server, f"/live/{key}.m3u8")
        (attrs, _), = parse_master(body.decode())
        assert ("RESOLUTION" in attrs) == (video is not None), (key, attrs)
        codecs = attrs["CODECS"].split(",")
        assert len(codecs) == (video is not None) + (audio is not None), attrs


def test_stream_end_adds_endlist_and_dvr_window(cascade, procs, media) -> None:
    server: Cascade = cascade(workers=2, config={
        "live": {"publish_grace_ms": 200},
        "hls": {"segment_target_ms": 1000, "part_target_ms": 250, "window_segments": 3,
                "dvr_window_s": 60}})
    key = "ends"
    pub = ffmpeg_publish(procs, media.av, server.rtmp_url(key), loop=False)
    server.wait_publishing(key)
    live = wait_segments(server, base(key) + "index.m3u8", 3)
    assert len(live.complete()) <= 3
    assert pub.wait(40) == 0
    wait_for(lambda: playlist(server, base(key) + "index.m3u8").ended, 10, 0.2, "EXT-X-ENDLIST")
    dvr = playlist(server, base(key) + "dvr.m3u8")
    ts_dvr = playlist(server, base(key) + "ts-dvr.m3u8")
    assert dvr.ended and ts_dvr.ended
    # The DVR playlist keeps the whole (24 s) stream from segment 0.
    assert dvr.media_sequence == 0 and len(dvr.complete()) >= 20, dvr.text
    assert abs(sum(s.duration for s in dvr.complete()) - media.duration_s) < 1.5
    check_media_playlist(dvr)
    # A blocking request on an ended stream is answered at once.
    started = time.monotonic()
    status, _, _ = get(server, base(key) + f"index.m3u8?_HLS_msn={dvr.complete()[-1].msn + 1}")
    assert status == 200 and time.monotonic() - started < 0.5
