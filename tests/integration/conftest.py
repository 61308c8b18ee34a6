"""Fixtures for Cascade's integration tests: the real binary on 127.0.0.1 with
ephemeral ports, test media generated once per session, process cleanup, a
per-test time limit, and the interop matrix printed at the end of the run.

Run: CASCADE_BIN=build/dev/src/app/cascade /usr/bin/python3 -m pytest tests/integration
"""

from __future__ import annotations

import faulthandler
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import (DIE_WITH_PARENT, Cascade, Procs, cascade_binary, probe,  # noqa: E402
                     run_bounded)

# A test (setup, call and teardown together) that runs longer than this fails.
TEST_TIME_LIMIT_S = int(os.environ.get("CASCADE_TEST_TIME_LIMIT_S", "150"))


# --- Time limits ----------------------------------------------------------------


class TimeLimitExceeded(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise TimeLimitExceeded(f"test exceeded {TEST_TIME_LIMIT_S} s")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(TEST_TIME_LIMIT_S)
    # Last resort if even the alarm cannot interrupt (e.g. a blocked C call):
    # dump every thread's stack and exit instead of hanging CI.
    faulthandler.dump_traceback_later(TEST_TIME_LIMIT_S + 60, exit=True)
    try:
        yield
    finally:
        signal.alarm(0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    record_interop(item, report)


# --- The binary and processes -----------------------------------------------------


@pytest.fixture(scope="session")
def cascade_bin() -> Path:
    binary = cascade_binary()
    if binary is None or not binary.exists():
        pytest.fail("cascade binary not found: build it (cmake --build build/dev --target "
                    "cascade) or set CASCADE_BIN", pytrace=False)
    return binary.resolve()


def _failed(request: pytest.FixtureRequest) -> bool:
    node = request.node
    return any(getattr(getattr(node, f"rep_{w}", None), "failed", False)
               for w in ("setup", "call"))


SANITIZER_REPORT = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                              r"WARNING: ThreadSanitizer|runtime error: ).*")


class Launcher:
    """Starts cascade servers; at close, checks that none crashed and kills
    every process started through it (servers and clients)."""

    def __init__(self, procs: Procs, binary: Path) -> None:
        self.procs = procs
        self.binary = binary
        self.servers: list[Cascade] = []

    def __call__(self, workers: int = 2, config: dict[str, dict[str, Any]] | None = None,
                 log_level: str = "info", wrapper: list[str] | None = None) -> Cascade:
        server = Cascade(self.procs, self.binary, workers=workers, config=config,
                         log_level=log_level, name=f"cascade{len(self.servers) + 1}",
                         wrapper=wrapper)
        self.servers.append(server)
        return server

    def close(self, show_logs: bool) -> None:
        crashed = [s for s in self.servers if not s.stopped and not s.proc.running()]
        if show_logs or crashed:
            for s in self.servers:
                print(f"\n--- {s.proc.name} log tail ({s.proc.log_path}) ---\n{s.log()[-6000:]}")
        self.procs.cleanup()
        if crashed:
            pytest.fail("cascade exited during the test: " +
                        ", ".join(f"{s.proc.name} rc={s.proc.poll()}" for s in crashed),
                        pytrace=False)
        # Under the sanitizer builds (scripts/test-sanitizers) a report may
        # come from a server the test stopped on purpose.
        reports = [(s.proc.name, m.group(0)) for s in self.servers
                   if (m := SANITIZER_REPORT.search(s.log()))]
        if reports:
            pytest.fail("sanitizer report: " + "; ".join(f"{n}: {r}" for n, r in reports),
                        pytrace=False)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    yield p
    p.cleanup()


@pytest.fixture
def cascade(procs: Procs, cascade_bin: Path,
            request: pytest.FixtureRequest) -> Iterator[Callable[..., Cascade]]:
    """Factory: cascade(workers=2, config={...}) starts a server for this test."""
    launcher = Launcher(procs, cascade_bin)
    yield launcher
    launcher.close(show_logs=_failed(request))


@pytest.fixture(scope="module")
def module_procs(tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> Iterator[Procs]:
    p = Procs(tmp_path_factory.mktemp(request.module.__name__.split(".")[-1]))
    yield p
    p.cleanup()


@pytest.fixture(scope="module")
def module_cascade(module_procs: Procs, cascade_bin: Path) -> Iterator[Callable[..., Cascade]]:
    """Factory for servers shared by the tests of one module."""
    launcher = Launcher(module_procs, cascade_bin)
    yield launcher
    launcher.close(show_logs=False)


# --- Test media ---------------------------------------------------------------------


@dataclass
class Media:
    av: Path          # H.264 640x360 30 fps, 1 s GOP, B-frames + AAC stereo 44.1 kHz, FLV
    audio: Path       # AAC only, FLV
    hevc: Path | None  # HEVC (libx265) 640x360 + AAC in MP4, if the encoder exists
    width: int = 640
    height: int = 360
    fps: int = 30
    duration_s: float = 24.0


def _encoder_available(name: str) -> bool:
    result = run_bounded(["ffmpeg", "-hide_banner", "-encoders"], 30)
    return any(line.split()[1:2] == [name] for line in result.stdout.decode().splitlines()
               if len(line.split()) > 1)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required", pytrace=False)
    d = tmp_path_factory.mktemp("media")
    ff = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    video_in = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"]
    audio_in = ["-f", "lavfi", "-i", "sine=frequency=440:beep_factor=4:sample_rate=44100"]
    h264 = ["-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-keyint_min", "30",
            "-sc_threshold", "0", "-bf", "2", "-pix_fmt", "yuv420p", "-b:v", "700k"]
    aac = ["-c:a", "aac", "-b:a", "96k", "-ac", "2"]
    av = d / "av.flv"
    audio = d / "audio.flv"
    jobs = [
        [*ff, *video_in, *audio_in, "-t", "24", *h264, *aac, str(av)],
        [*ff, *audio_in, "-t", "20", *aac, str(audio)],
    ]
    hevc = None
    if _encoder_available("libx265"):
        hevc = d / "hevc.mp4"
        jobs.append([*ff, *video_in, *audio_in, "-t", "8", "-c:v", "libx265", "-preset",
                     "ultrafast", "-x265-params", "keyint=30:min-keyint=30:scenecut=0:bframes=0:"
                     "log-level=error", "-pix_fmt", "yuv420p", "-tag:v", "hvc1", *aac,
                     str(hevc)])
    # The encodes run in parallel; each is bounded.
    running = [(job, subprocess.Popen([*DIE_WITH_PARENT, *job], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, start_new_session=True))
               for job in jobs]
    for job, p in running:
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            for _, other in running:
                other.kill()
            pytest.fail(f"media generation timed out: {' '.join(job)}", pytrace=False)
        if p.returncode != 0:
            pytest.fail(f"media generation failed: {' '.join(job)}\n{err.decode()}",
                        pytrace=False)
    info = probe(av)
    assert info["video"]["codec_name"] == "h264" and info["audio"]["codec_name"] == "aac"
    return Media(av=av, audio=audio, hevc=hevc)


# --- The interop matrix -----------------------------------------------------------------

# (publisher, player id) -> outcome; filled from the reports of test_interop.
INTEROP: dict[tuple[str, str], str] = {}


def record_interop(item: pytest.Item, report: pytest.TestReport) -> None:
    callspec = getattr(item, "callspec", None)
    if callspec is None or "combo" not in callspec.params:
        return
    publisher, player = callspec.params["combo"]
    key = (publisher, player)
    if report.when == "call":
        INTEROP[key] = "pass" if report.passed else "skip" if report.skipped else "FAIL"
    elif report.when == "setup" and not report.passed:
        INTEROP[key] = "skip" if report.skipped else "FAIL"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not INTEROP:
        return
    tr = terminalreporter
    publishers = list(dict.fromkeys(p for p, _ in INTEROP))
    players = list(dict.fromkeys(q for _, q in INTEROP))
    width = max(len(p) for p in publishers) + 2
    cols = [max(len(q), 4) + 2 for q in players]
    tr.section("interop matrix (publisher over RTMP  x  player / protocol)")
    tr.write_line("".ljust(width) + "".join(q.ljust(c) for q, c in zip(players, cols)))
    for p in publishers:
        tr.write_line(p.ljust(width) + "".join(INTEROP.get((p, q), "-").ljust(c)
                                                for q, c in zip(players, cols)))
    # Per client and protocol: a client passes a protocol if every combination using it passed.
    summary: dict[tuple[str, str], list[str]] = {}
    for (p, q), outcome in INTEROP.items():
        summary.setdefault((p, "rtmp publish"), []).append(outcome)
        client, _, proto = q.rpartition("-")
        summary.setdefault((client, f"{proto} play"), []).append(outcome)
    tr.write_line("")
    name_width = max(len(c) for c, _ in summary) + 2
    for (client, proto), outcomes in summary.items():
        verdict = "FAIL" if "FAIL" in outcomes else "skip" if "skip" in outcomes else "pass"
        tr.write_line(f"  {client:<{name_width}} {proto:<14} {verdict} "
                      f"({outcomes.count('pass')}/{len(outcomes)})")
