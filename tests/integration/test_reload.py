"""SIGHUP reloads --config: new settings apply to new connections and
requests (VOD roots, HTTP headers, RTMP timeouts) while an RTMP publisher and
viewer connected before keep streaming; settings that need a restart are
logged and keep their values; an invalid file changes nothing."""

from __future__ import annotations

import shlex
import signal
import socket
import time
from pathlib import Path

from helpers import HOST, Cascade, ffmpeg_publish, wait_for
from rtmp_client import Player


def start_with_file(cascade, procs, path: Path, text: str) -> Cascade:
    """A server reading `path` as its --config (rewritten by the test)."""
    path.write_text(text)
    wrapper = ["sh", "-c", f'exec "$0" "$@" --config {shlex.quote(str(path))}']
    return cascade(workers=2, wrapper=wrapper)


def reload(server: Cascade, count: int) -> str:
    """SIGHUP; waits for the count-th reload outcome line and returns it."""
    server.proc.signal(signal.SIGHUP)
    pattern = r"(config reloaded: [^\n]*|reload rejected[^\n]*)"

    def outcome() -> str | None:
        import re
        lines = re.findall(pattern, server.log())
        return lines[count - 1] if len(lines) >= count else None
    return wait_for(outcome, 10, 0.05, f"reload #{count} to be logged")


def idle_close_s(server: Cascade, limit: float = 15.0) -> float:
    """Seconds until the server closes an RTMP connection that never handshakes."""
    started = time.monotonic()
    with socket.create_connection((HOST, server.rtmp_port), timeout=limit) as s:
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
    return time.monotonic() - started


def test_sighup_applies_to_new_sessions_while_live_sessions_keep_playing(cascade, procs,
                                                                        media) -> None:
    old_root, new_root = procs.workdir / "old", procs.workdir / "new"
    old_root.mkdir()
    new_root.mkdir()
    (old_root / "a.txt").write_text("old root\n")
    (new_root / "b.txt").write_text("new root\n")
    config = procs.workdir / "reload.toml"
    base = f"""
[rtmp]
handshake_timeout_ms = 3000
[http]
cors_origin = "*"
[vod]
root = "{old_root}"
"""
    server = start_with_file(cascade, procs, config, base)
    publisher = ffmpeg_publish(procs, media.av, server.rtmp_url("keep"))
    server.wait_publishing("keep")
    player = Player(HOST, server.rtmp_port, "keep").start()
    try:
        wait_for(lambda: len(player.media) > 30, 10, 0.1, "the viewer to receive frames")
        status, headers, _ = server.http("GET", "/vod/a.txt")
        assert status == 200 and headers["access-control-allow-origin"] == "*"
        assert server.http("GET", "/extra/b.txt")[0] == 404
        assert 2.5 < idle_close_s(server) < 6

        config.write_text(base.replace('cors_origin = "*"', 'cors_origin = "https://example.test"')
                          .replace("handshake_timeout_ms = 3000", "handshake_timeout_ms = 500")
                          + f"""
[[vod.roots]]
prefix = "/extra/"
path = "{new_root}"
[live]
gop_cache = false
""")
        frames_before = len(player.media)
        line = reload(server, 1)
        assert line.startswith("config reloaded: changed rtmp.handshake_timeout_ms, "
                               "http.cors_origin, live.gop_cache, vod.roots"), line
        assert "live.gop_cache need a restart to change; keeping their running values" \
            in server.log()
        # New requests and connections see the new settings.
        status, headers, body = server.http("GET", "/extra/b.txt")
        assert status == 200 and body == b"new root\n"
        assert headers["access-control-allow-origin"] == "https://example.test"
        assert server.http("GET", "/vod/a.txt")[2] == b"old root\n"
        assert idle_close_s(server) < 1.5
        # The publisher and viewer from before never noticed.
        wait_for(lambda: len(player.media) > frames_before + 60, 10, 0.1,
                 "frames after the reload")
        assert player.error is None and not player.closed_by_server
        stream = server.stream("keep")
        assert stream["publishing"] and stream["viewers"] == 1
        assert stream["publisher_sessions"] == 1
        assert publisher.running()
        assert "publisher disconnected" not in server.log()
        assert "viewer closed" not in server.log()
        server.assert_alive()
    finally:
        player.stop()


def test_sighup_with_an_invalid_file_keeps_the_running_config(cascade, procs) -> None:
    root = procs.workdir / "files"
    root.mkdir()
    (root / "a.txt").write_text("served\n")
    config = procs.workdir / "reload.toml"
    good = f"""
[http]
cors_origin = "https://first.test"
[vod]
root = "{root}"
"""
    server = start_with_file(cascade, procs, config, good)
    for n, bad in enumerate((
            good.replace("https://first.test", "https://second.test") + "[hls]\npart_target_ms = 1500\n",
            good + "[vod\n",                                  # not TOML
            good.replace("[http]", "[http]\nno_such_key = 1"),  # unknown key
            good.replace(str(root), str(root / "missing")),     # a root that cannot be opened
    ), start=1):
        config.write_text(bad)
        line = reload(server, n)
        assert line.startswith("reload rejected, keeping the running config:"), line
        status, headers, body = server.http("GET", "/vod/a.txt")
        assert status == 200 and body == b"served\n"
        assert headers["access-control-allow-origin"] == "https://first.test"
    log = server.log()
    assert "hls.part_target_ms (1500) must be at most half" in log
    assert "unknown key 'http.no_such_key'" in log
    # Fixed again: applies.
    config.write_text(good.replace("https://first.test", "https://third.test"))
    assert reload(server, 5) == "config reloaded: changed http.cors_origin"
    assert server.http("GET", "/vod/a.txt")[1]["access-control-allow-origin"] == \
        "https://third.test"
    server.assert_alive()


def test_sighup_hls_settings_apply_to_streams_published_after_it(cascade, procs, media) -> None:
    from test_hls import base, wait_segments

    config = procs.workdir / "hls.toml"
    server = start_with_file(cascade, procs, config, "[hls]\nsegment_target_ms = 2000\n")
    ffmpeg_publish(procs, media.av, server.rtmp_url("before"))
    server.wait_publishing("before")
    config.write_text("[hls]\nsegment_target_ms = 4000\n")
    assert reload(server, 1) == "config reloaded: changed hls.segment_target_ms"
    ffmpeg_publish(procs, media.av, server.rtmp_url("after"), name="publish2")
    server.wait_publishing("after")
    before = wait_segments(server, base("before") + "index.m3u8", 2)
    after = wait_segments(server, base("after") + "index.m3u8", 2)
    # RFC 8216 4.3.3.1: the target duration follows each stream's segment target.
    assert before.tags["EXT-X-TARGETDURATION"] == "2", before.tags
    assert after.tags["EXT-X-TARGETDURATION"] == "4", after.tags
    assert server.stream("before")["publisher_sessions"] == 1
    server.assert_alive()


def test_sighup_without_a_config_file_changes_nothing(cascade) -> None:
    server: Cascade = cascade(workers=2)
    line = reload(server, 1)
    assert line == "reload rejected: no config file to reload (started without --config)"
    assert server.http("GET", "/healthz")[0] == 200
    server.assert_alive()


def test_sighup_rotates_publish_keys_and_play_signing(cascade, procs, media) -> None:
    """[access] reloads: new publishers and viewers are checked against the
    new keys and secret; a publisher admitted under the old key keeps going."""
    from test_access import rtmp_status

    config = procs.workdir / "access.toml"
    server = start_with_file(cascade, procs, config,
                             '[access]\npublish_keys = { live = ["old-key"] }\n')
    ffmpeg_publish(procs, media.av, server.rtmp_url("kept?key=old-key"))
    server.wait_publishing("kept")
    frames_before = server.stream("kept")["frames_in"]

    config.write_text('[access]\npublish_keys = { live = ["new-key"] }\n'
                      'play_secret = "a-secret-of-16-chars-or-more"\n')
    assert reload(server, 1) == \
        "config reloaded: changed access.publish_keys, access.play_secret"
    assert rtmp_status(server, "publish", "other?key=old-key")["code"] == \
        "NetStream.Publish.Rejected"
    assert rtmp_status(server, "publish", "other?key=new-key")["code"] == \
        "NetStream.Publish.Start"
    # Play now needs a signature, on every protocol.
    assert server.http("GET", server.flv_path("kept"))[0] == 403
    assert rtmp_status(server, "play", "kept")["code"] == "NetStream.Play.Failed"
    # The publisher admitted before the reload is still live.
    wait_for(lambda: server.stream("kept")["frames_in"] > frames_before + 60, 10, 0.1,
             "the earlier publisher to keep sending")
    server.assert_alive()
