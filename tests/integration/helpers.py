"""Helpers for the integration tests: processes, the server under test,
ffmpeg/ffprobe wrappers, HTTP stats and waiting with a deadline.

Everything talks to 127.0.0.1 only, and every subprocess and wait is bounded
in time: a hang fails the test, it never blocks the run.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"

# Children die with the test run even if pytest itself is killed (a CI
# timeout): util-linux setpriv sets PR_SET_PDEATHSIG, then execs the command.
_SETPRIV = shutil.which("setpriv")
DIE_WITH_PARENT = [_SETPRIV, "--pdeathsig", "KILL", "--"] if _SETPRIV else []


def cascade_binary() -> Path | None:
    env = os.environ.get("CASCADE_BIN")
    if env:
        return Path(env)
    for candidate in (REPO / "build/release/src/app/cascade", REPO / "build/dev/src/app/cascade"):
        if candidate.exists():
            return candidate
    return None


def wait_for(condition: Callable[[], Any], timeout: float, interval: float = 0.1,
             message: str = "condition") -> Any:
    """Polls `condition` until it returns something truthy; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
            last_error = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {message}{detail}")
        time.sleep(interval)


# --- Processes --------------------------------------------------------------


@dataclass
class Proc:
    name: str
    args: list[str]
    popen: subprocess.Popen
    log_path: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def running(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait(self, timeout: float) -> int:
        """Waits for exit; kills the process group and fails on timeout."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not exit within {timeout} s; log tail:\n"
                                 f"{self.log()[-2000:]}")

    def signal(self, sig: int) -> None:
        if self.running():
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def interrupt(self, timeout: float = 5.0) -> int:
        """SIGINT (clients finish their files cleanly), then SIGKILL if needed."""
        self.signal(signal.SIGINT)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.popen.returncode

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class Procs:
    """Starts processes in their own process groups and kills them all at cleanup."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[Proc] = []
        self.counter = 0

    def start(self, args: Sequence[str], name: str, stdout: Path | None = None,
              env: dict[str, str] | None = None) -> Proc:
        self.counter += 1
        log_path = self.workdir / f"{self.counter:03d}-{name}.log"
        log = open(log_path, "wb")
        out = open(stdout, "wb") if stdout else log
        try:
            popen = subprocess.Popen(
                [*DIE_WITH_PARENT, *(str(a) for a in args)], stdin=subprocess.DEVNULL,
                stdout=out, stderr=log,
                start_new_session=True, cwd=self.workdir,
                env={**os.environ, **(env or {})})
        finally:
            log.close()
            if stdout:
                out.close()
        proc = Proc(name, [str(a) for a in args], popen, log_path)
        self.procs.append(proc)
        return proc

    def run(self, args: Sequence[str], name: str, timeout: float,
            stdout: Path | None = None) -> tuple[int, str]:
        """Runs to completion within `timeout` s: (exit code, stderr log)."""
        proc = self.start(args, name, stdout)
        rc = proc.wait(timeout)
        return rc, proc.log()

    def cleanup(self) -> None:
        for proc in self.procs:
            proc.kill()


def run_bounded(args: Sequence[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess:
    """subprocess.run with a timeout, in its own process group (killed on timeout)."""
    with subprocess.Popen([*DIE_WITH_PARENT, *(str(a) for a in args)], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True, **kwargs) as popen:
        try:
            out, err = popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.communicate()
            raise AssertionError(f"{args[0]} did not finish within {timeout} s: {args}")
        return subprocess.CompletedProcess(popen.args, popen.returncode, out, err)


# --- The server under test ----------------------------------------------------


def to_toml(config: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if isinstance(value, bool):
                rendered = "true" if value else "false"
            elif isinstance(value, str):
                rendered = json.dumps(value)
            else:
                rendered = str(value)
            lines.append(f"{key} = {rendered}")
        lines.append("")
    return "\n".join(lines)


class Cascade:
    """One running cascade process on 127.0.0.1 with ephemeral ports."""

    LISTEN_RE = {
        "rtmp": re.compile(r"rtmp listening on 127\.0\.0\.1:(\d+)"),
        "http": re.compile(r"http listening on 127\.0\.0\.1:(\d+)"),
    }

    def __init__(self, procs: Procs, binary: Path, workers: int = 2,
                 config: dict[str, dict[str, Any]] | None = None, log_level: str = "info",
                 name: str = "cascade", wrapper: list[str] | None = None) -> None:
        self.procs = procs
        # wrapper: a command that runs cascade, e.g. ["prlimit", "--nofile=64:64"].
        args = [*(wrapper or []), str(binary), "--rtmp", f"{HOST}:0", "--http", f"{HOST}:0",
                "--workers", str(workers), "--log-level", log_level]
        self.config_path = None
        if config:
            self.config_path = procs.workdir / f"{name}-{procs.counter + 1:03d}.toml"
            self.config_path.write_text(to_toml(config))
            args += ["--config", str(self.config_path)]
        self.proc = procs.start(args, name, stdout=procs.workdir / f"{name}.stdout")
        self.workers = workers
        self.stopped = False
        ports: dict[str, int] = {}

        def listening() -> bool:
            if not self.proc.running():
                raise AssertionError(f"cascade exited with {self.proc.poll()}:\n{self.log()}")
            text = self.log()
            for proto, pattern in self.LISTEN_RE.items():
                m = pattern.search(text)
                if m:
                    ports[proto] = int(m.group(1))
            return len(ports) == 2

        wait_for(listening, 10, 0.05, "cascade to log its listening ports")
        self.rtmp_port = ports["rtmp"]
        self.http_port = ports["http"]

    # Addresses.

    def rtmp_url(self, key: str, app: str = "live") -> str:
        return f"rtmp://{HOST}:{self.rtmp_port}/{app}/{key}"

    def flv_path(self, key: str, app: str = "live") -> str:
        return f"/{app}/{key}.flv"

    def flv_url(self, key: str, app: str = "live") -> str:
        return f"http://{HOST}:{self.http_port}{self.flv_path(key, app)}"

    # Logs.

    def log(self) -> str:
        return self.proc.log()

    def wait_log(self, pattern: str, timeout: float = 10.0, flags: int = 0) -> re.Match:
        regex = re.compile(pattern, flags)
        return wait_for(lambda: regex.search(self.log()), timeout, 0.05,
                        f"log line /{pattern}/")

    def assert_alive(self) -> None:
        rc = self.proc.poll()
        assert rc is None, f"cascade exited with {rc}; log tail:\n{self.log()[-4000:]}"

    # HTTP API.

    def http(self, method: str, path: str, timeout: float = 5.0,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(HOST, self.http_port, timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            res = conn.getresponse()
            body = res.read()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, body
        finally:
            conn.close()

    def streams(self) -> list[dict[str, Any]]:
        status, _, body = self.http("GET", "/api/v1/streams")
        assert status == 200, f"/api/v1/streams: HTTP {status}"
        return json.loads(body)["streams"]

    def stream(self, key: str, app: str = "live") -> dict[str, Any] | None:
        for s in self.streams():
            if s["key"] == f"{app}/{key}":
                return s
        return None

    def metrics(self) -> dict[str, float]:
        status, _, body = self.http("GET", "/metrics")
        assert status == 200, f"/metrics: HTTP {status}"
        out: dict[str, float] = {}
        for line in body.decode().splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
        return out

    def metric(self, name: str) -> float:
        return self.metrics().get(name, 0.0)

    def wait_publishing(self, key: str, timeout: float = 15.0, app: str = "live",
                        min_frames: int = 30) -> dict[str, Any]:
        def live() -> dict[str, Any] | None:
            s = self.stream(key, app)
            if s and s["publishing"] and s["frames_in"] >= min_frames:
                return s
            return None
        return wait_for(live, timeout, 0.1, f"{app}/{key} to be published")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, as an operator would; returns the exit code."""
        self.stopped = True
        self.proc.signal(signal.SIGTERM)
        return self.proc.wait(timeout)


# --- Media tools ---------------------------------------------------------------

FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-nostats"]


def ffmpeg_publish(procs: Procs, media: Path, url: str, loop: bool = True, name: str = "publish",
                   realtime: bool = True) -> Proc:
    args = [*FFMPEG, "-loglevel", "warning"]
    if realtime:
        args.append("-re")
    if loop:
        args += ["-stream_loop", "-1"]
    args += ["-i", str(media), "-c", "copy", "-f", "flv", url]
    return procs.start(args, name)


def ffmpeg_play(procs: Procs, url: str, out: Path, duration: float | None = None,
                name: str = "play", fmt: str | None = None, loglevel: str = "warning") -> Proc:
    args = [*FFMPEG, "-loglevel", loglevel, "-y", "-rw_timeout", "10000000", "-i", url]
    if duration:
        args += ["-t", str(duration)]
    # Flush every packet: tests watch the output file grow.
    args += ["-c", "copy", "-flush_packets", "1"]
    if fmt:
        args += ["-f", fmt]
    args.append(str(out))
    return procs.start(args, name)


def probe(path: Path, count_frames: bool = False, timeout: float = 30) -> dict[str, Any]:
    """ffprobe: {'video': stream, 'audio': stream, 'streams': [...]}; frames decoded when
    count_frames (nb_read_frames), else packets counted (nb_read_packets)."""
    args = ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format"]
    args.append("-count_frames" if count_frames else "-count_packets")
    args.append(str(path))
    result = run_bounded(args, timeout)
    if result.returncode != 0:
        raise AssertionError(f"ffprobe failed on {path}: {result.stderr.decode()[-2000:]}")
    info = json.loads(result.stdout)
    out: dict[str, Any] = {"streams": info.get("streams", []), "format": info.get("format", {}),
                           "video": None, "audio": None, "errors": result.stderr.decode()}
    for s in out["streams"]:
        kind = s.get("codec_type")
        if kind in ("video", "audio") and out[kind] is None:
            out[kind] = s
    return out


def probe_packets(path: Path, stream: str = "v", timeout: float = 30) -> list[dict[str, Any]]:
    """Packets of the first video ('v') or audio ('a') stream: dts_time, pts_time, flags, size."""
    result = run_bounded(["ffprobe", "-v", "error", "-of", "json", "-select_streams",
                          f"{stream}:0", "-show_entries", "packet=dts,pts,dts_time,flags,size",
                          str(path)], timeout)
    if result.returncode != 0:
        raise AssertionError(f"ffprobe failed on {path}: {result.stderr.decode()[-2000:]}")
    return json.loads(result.stdout).get("packets", [])


@dataclass
class FrameHashes:
    video: list[tuple[int, int, str]]  # (dts, size, md5) per packet
    audio: list[tuple[int, int, str]]


def parse_framemd5(text: str) -> FrameHashes:
    """ffmpeg -f framemd5 output: '#media_type N: video' lines, then
    'stream, dts, pts, duration, size, hash' per packet."""
    kinds: dict[int, str] = {}
    video: list[tuple[int, int, str]] = []
    audio: list[tuple[int, int, str]] = []
    for line in text.splitlines():
        m = re.match(r"#media_type (\d+): (\w+)", line)
        if m:
            kinds[int(m.group(1))] = m.group(2)
            continue
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 6:
            continue
        index, dts, size, digest = int(parts[0]), int(parts[1]), int(parts[4]), parts[5]
        kind = kinds.get(index)
        if kind == "video":
            video.append((dts, size, digest))
        elif kind == "audio":
            audio.append((dts, size, digest))
    return FrameHashes(video, audio)


def framemd5_of(path_or_url: str, timeout: float = 60) -> FrameHashes:
    result = run_bounded([*FFMPEG, "-loglevel", "error", "-i", str(path_or_url), "-map", "0:v?",
                          "-map", "0:a?", "-c", "copy", "-f", "framemd5", "-"], timeout)
    if result.returncode != 0:
        raise AssertionError(f"framemd5 failed: {result.stderr.decode()[-2000:]}")
    return parse_framemd5(result.stdout.decode())


def find_run(haystack: list[str], needle: list[str]) -> list[int]:
    """Every index i with haystack[i:i+len(needle)] == needle."""
    n = len(needle)
    if n == 0:
        return []
    return [i for i in range(len(haystack) - n + 1)
            if haystack[i] == needle[0] and haystack[i:i + n] == needle]
