"""The command line: --help, --version, config errors, startup and shutdown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import Cascade, HOST, run_bounded, wait_for


def run_cascade(binary: Path, *args: str, timeout: float = 10):
    return run_bounded([str(binary), *args], timeout)


def test_help_exits_zero(cascade_bin: Path) -> None:
    result = run_cascade(cascade_bin, "--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    for option in ("--config", "--rtmp", "--http", "--workers", "--log-level", "--version"):
        assert option in out, f"--help does not mention {option}:\n{out}"


def test_version_exits_zero(cascade_bin: Path) -> None:
    result = run_cascade(cascade_bin, "--version")
    assert result.returncode == 0
    assert re.search(r"cascade \d+\.\d+\.\d+", result.stdout.decode()), result.stdout


@pytest.mark.parametrize(
    "toml, key, problem",
    [
        ("[live]\nlag_skip_msec = 100\n", "live.lag_skip_msec", "unknown key"),
        ("[nosuchsection]\nfoo = 1\n", "nosuchsection.foo", "unknown key"),
        ("[live]\npublish_grace_ms = \"5s\"\n", "live.publish_grace_ms", "expected an integer"),
        ("[rtmp]\nenabled = 1\n", "rtmp.enabled", "expected true or false"),
        ("[rtmp]\nchunk_size = 1\n", "rtmp.chunk_size", "out of range"),
        ("[rtmp]\nlisten = \"not-an-address\"\n", "rtmp.listen", ""),
        ("[http]\nlisten = \"127.0.0.1:99999\"\n", "http.listen", ""),
        ("[server]\nlog_level = \"chatty\"\n", "server.log_level", "chatty"),
        ("[live]\nlag_skip_ms = 3000\nlag_close_ms = 2000\n", "live.lag_close_ms", "greater"),
        ("[live\n", "", ""),  # TOML syntax error
    ],
    ids=["unknown-key", "unknown-section", "wrong-type-int", "wrong-type-bool", "out-of-range",
         "bad-listen", "bad-port", "bad-log-level", "inconsistent", "syntax-error"])
def test_bad_config_exits_nonzero_naming_the_key(cascade_bin: Path, tmp_path: Path, toml: str,
                                                key: str, problem: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    result = run_cascade(cascade_bin, "--config", str(config), "--rtmp", f"{HOST}:0", "--http",
                         f"{HOST}:0")
    err = result.stderr.decode()
    assert result.returncode != 0, f"cascade accepted {toml!r}"
    assert str(config) in err, f"the error does not name the file: {err}"
    if key:
        assert key in err, f"the error does not name {key}: {err}"
    assert problem in err, f"the error does not say {problem!r}: {err}"
    assert "listening" not in err


def test_missing_config_file(cascade_bin: Path, tmp_path: Path) -> None:
    result = run_cascade(cascade_bin, "--config", str(tmp_path / "absent.toml"))
    assert result.returncode != 0
    assert "absent.toml" in result.stderr.decode()


@pytest.mark.parametrize("args, needle", [
    (["--rtmp", "localhost"], "rtmp.listen"),
    (["--http", "127.0.0.1:port"], "http.listen"),
    (["--workers", "0"], "--workers"),
])
def test_bad_command_line_values(cascade_bin: Path, args: list[str], needle: str) -> None:
    defaults = {"--rtmp": f"{HOST}:0", "--http": f"{HOST}:0"}
    defaults.pop(args[0], None)
    full = [*args, *(x for kv in defaults.items() for x in kv)]
    result = run_cascade(cascade_bin, *full)
    assert result.returncode != 0
    err = result.stderr.decode() + result.stdout.decode()
    assert needle in err, err


def test_listen_address_that_cannot_be_bound(cascade_bin: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is not a local address: bind() fails, nothing is contacted.
    result = run_cascade(cascade_bin, "--rtmp", "192.0.2.1:0", "--http", f"{HOST}:0")
    assert result.returncode != 0
    assert "rtmp" in result.stderr.decode() and "192.0.2.1" in result.stderr.decode()


def test_starts_on_ephemeral_ports_and_stops_on_sigterm(cascade) -> None:
    server: Cascade = cascade(workers=2)
    assert server.rtmp_port != server.http_port
    assert "started with 2 workers" in server.log()
    status, headers, body = server.http("GET", "/healthz")
    assert status == 200 and body == b"ok\n"
    assert server.streams() == []
    assert server.metric('cascade_connections_accepted_total{listener="http"}') >= 2
    assert server.stop(timeout=10) == 0
    assert "stopping" in server.log()


def test_sigterm_with_live_connections_exits_cleanly(cascade, procs, media) -> None:
    from flv import FlvReader
    from helpers import ffmpeg_play, ffmpeg_publish
    from rtmp_client import Player

    # SIGTERM drains: live sessions keep going until the drain deadline
    # (test_drain.py), here 1 s.
    server: Cascade = cascade(workers=2, config={"drain": {"timeout_s": 1}})
    publisher = ffmpeg_publish(procs, media.av, server.rtmp_url("busy"))
    server.wait_publishing("busy")
    viewer = ffmpeg_play(procs, server.rtmp_url("busy"), procs.workdir / "v.flv")
    reader = FlvReader(HOST, server.http_port, server.flv_path("busy")).start()
    player = Player(HOST, server.rtmp_port, "busy").start()
    try:
        wait_for(lambda: server.stream("busy")["viewers"] == 3, 10, 0.1, "3 viewers")
        assert server.stop(timeout=10) == 0, server.log()[-2000:]
        # Every client sees its connection end; none hangs.
        publisher.wait(10)  # fails the test if a client hangs
        viewer.wait(10)
        wait_for(lambda: reader.closed_by_server or reader.error, 5, 0.1, "the FLV viewer to end")
        wait_for(lambda: player.closed_by_server or player.error, 5, 0.1, "the RTMP viewer to end")
    finally:
        reader.stop()
        player.stop()
