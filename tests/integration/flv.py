"""FLV parsing and a raw-socket HTTP-FLV client for the integration tests.

FLV layout (FLV spec v10.1, annex E): a 9-byte header ('FLV', version 1,
flags: 4 audio | 1 video, header size 9), PreviousTagSize0 = 0, then tags:
type (8 audio, 9 video, 18 script), 24-bit data size, 24-bit timestamp +
8-bit extension, 24-bit stream id 0, the body, and a 32-bit back pointer
equal to 11 + data size.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field


class FlvError(ValueError):
    pass


@dataclass
class Tag:
    type: int
    timestamp: int
    size: int
    body: bytes  # the whole body when keep_bodies, else its first 16 bytes

    @property
    def is_video(self) -> bool:
        return self.type == 9

    @property
    def is_audio(self) -> bool:
        return self.type == 8

    @property
    def video_keyframe(self) -> bool:
        return self.is_video and len(self.body) > 0 and (self.body[0] >> 4) & 0x07 == 1

    @property
    def video_config(self) -> bool:
        """AVC sequence header, or an Enhanced RTMP SequenceStart."""
        if not self.is_video or len(self.body) < 2:
            return False
        if self.body[0] & 0x80:  # Enhanced RTMP: IsExHeader, PacketType in the low nibble
            return self.body[0] & 0x0F == 0
        return self.body[1] == 0

    @property
    def audio_config(self) -> bool:
        return self.is_audio and len(self.body) >= 2 and self.body[0] >> 4 == 10 and \
            self.body[1] == 0


class FlvParser:
    """Incremental FLV parser; raises FlvError on anything malformed."""

    def __init__(self, keep_bodies: bool = False) -> None:
        self.buffer = bytearray()
        self.header: bytes | None = None
        self.flags = 0
        self.tags: list[Tag] = []
        self.keep_bodies = keep_bodies
        self.tag_count = 0
        self.bytes = 0

    def feed(self, data: bytes) -> list[Tag]:
        self.buffer += data
        self.bytes += len(data)
        new: list[Tag] = []
        if self.header is None:
            if len(self.buffer) < 13:
                return new
            if bytes(self.buffer[:3]) != b"FLV":
                raise FlvError(f"bad FLV signature {bytes(self.buffer[:3])!r}")
            if self.buffer[3] != 1:
                raise FlvError(f"FLV version {self.buffer[3]}")
            self.flags = self.buffer[4]
            if self.flags & ~0x05:
                raise FlvError(f"reserved FLV flags set: 0x{self.flags:02x}")
            (offset,) = struct.unpack_from(">I", self.buffer, 5)
            if offset != 9:
                raise FlvError(f"FLV header size {offset}")
            (prev0,) = struct.unpack_from(">I", self.buffer, 9)
            if prev0 != 0:
                raise FlvError(f"PreviousTagSize0 = {prev0}")
            self.header = bytes(self.buffer[:9])
            del self.buffer[:13]
        pos = 0
        b = self.buffer
        while len(b) - pos >= 11:
            tag_type = b[pos] & 0x1F
            if b[pos] & 0xE0:
                raise FlvError(f"reserved/filter bits set in tag type byte 0x{b[pos]:02x}")
            if tag_type not in (8, 9, 18):
                raise FlvError(f"unknown tag type {tag_type} at tag {self.tag_count}")
            size = int.from_bytes(b[pos + 1 : pos + 4], "big")
            ts = int.from_bytes(b[pos + 4 : pos + 7], "big") | (b[pos + 7] << 24)
            stream_id = int.from_bytes(b[pos + 8 : pos + 11], "big")
            if stream_id != 0:
                raise FlvError(f"tag stream id {stream_id}")
            if len(b) - pos < 11 + size + 4:
                break
            body_start = pos + 11
            body = bytes(b[body_start : body_start + (size if self.keep_bodies else min(size, 16))])
            (back,) = struct.unpack_from(">I", b, body_start + size)
            if back != 11 + size:
                raise FlvError(f"back pointer {back} != {11 + size} at tag {self.tag_count}")
            tag = Tag(tag_type, ts, size, body)
            new.append(tag)
            self.tag_count += 1
            pos = body_start + size + 4
        del b[:pos]
        self.tags += new
        return new


def parse_flv(data: bytes, keep_bodies: bool = False) -> FlvParser:
    parser = FlvParser(keep_bodies)
    parser.feed(data)
    return parser


class Dechunker:
    """RFC 9112 7.1: chunked transfer coding, incrementally."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.remaining = 0  # of the current chunk's data
        self.need_crlf = False
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        out = bytearray()
        while not self.done:
            if self.remaining:
                n = min(self.remaining, len(self.buffer))
                if n == 0:
                    break
                out += self.buffer[:n]
                del self.buffer[:n]
                self.remaining -= n
                if self.remaining == 0:
                    self.need_crlf = True
                continue
            if self.need_crlf:
                if len(self.buffer) < 2:
                    break
                if bytes(self.buffer[:2]) != b"\r\n":
                    raise FlvError("chunk data not followed by CRLF")
                del self.buffer[:2]
                self.need_crlf = False
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            line = bytes(self.buffer[:end]).split(b";")[0].strip()
            del self.buffer[: end + 2]
            size = int(line, 16)
            if size == 0:
                self.done = True
                break
            self.remaining = size
        return bytes(out)


def read_response_head(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], str,
                                                                       bytes]:
    """Reads an HTTP response head: (status, headers lower-cased, status line, rest)."""
    data = bytearray()
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no HTTP response head before the deadline")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before the response head: {bytes(data)!r}")
        data += chunk
        if len(data) > 65536:
            raise ValueError("response head too large")
    head, rest = bytes(data).split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0]
    status = int(status_line.split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, status_line, rest


@dataclass
class FlvReader:
    """An HTTP-FLV viewer on a raw socket, read on its own thread.

    rate_bytes_per_s throttles reading (a slow viewer); stall=True never reads
    after the request (a viewer that stopped reading). Records the arrival
    wall-clock time of every tag so tests can compare media time with wall time.
    """

    host: str
    port: int
    path: str
    http10: bool = True
    rcvbuf: int | None = None
    rate_bytes_per_s: float | None = None
    read_size: int = 65536
    stall: bool = False
    timeout: float = 10.0
    status: int | None = field(init=False, default=None)
    headers: dict[str, str] = field(init=False, default_factory=dict)
    parser: FlvParser = field(init=False, default_factory=FlvParser)
    arrivals: list[tuple[float, Tag]] = field(init=False, default_factory=list)
    error: str | None = field(init=False, default=None)
    closed_by_server: bool = field(init=False, default=False)
    closed_at: float | None = field(init=False, default=None)
    started_at: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "FlvReader":
        self.started_at = time.monotonic()
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))
        version = "1.0" if self.http10 else "1.1"
        self.sock.sendall(f"GET {self.path} HTTP/{version}\r\nHost: {self.host}:{self.port}\r\n"
                          f"User-Agent: cascade-tests\r\n\r\n".encode())
        if not self.stall:
            self.thread.start()
        return self

    def _run(self) -> None:
        try:
            deadline = time.monotonic() + self.timeout
            self.status, self.headers, _, rest = read_response_head(self.sock, deadline)
            if self.status != 200:
                self.error = f"HTTP {self.status}"
                return
            chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
            dechunker = Dechunker() if chunked else None
            self._consume(rest, dechunker)
            self.sock.settimeout(0.5)
            while not self.stop_event.is_set():
                t0 = time.monotonic()
                try:
                    data = self.sock.recv(self.read_size)
                except socket.timeout:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                if not data:
                    self.closed_by_server = True
                    self.closed_at = time.monotonic()
                    return
                self._consume(data, dechunker)
                if dechunker is not None and dechunker.done:
                    self.closed_by_server = True
                    self.closed_at = time.monotonic()
                    return
                if self.rate_bytes_per_s:
                    pause = len(data) / self.rate_bytes_per_s - (time.monotonic() - t0)
                    if pause > 0:
                        self.stop_event.wait(pause)
        except Exception as e:  # recorded for the test to assert on
            self.error = f"{type(e).__name__}: {e}"

    def _consume(self, data: bytes, dechunker: Dechunker | None) -> None:
        if dechunker is not None:
            data = dechunker.feed(data)
        now = time.monotonic()
        tags = self.parser.feed(data)
        with self.lock:
            self.arrivals += [(now, t) for t in tags]

    def video_tags(self) -> list[tuple[float, Tag]]:
        with self.lock:
            return [(t, tag) for t, tag in self.arrivals if tag.is_video]

    def tag_count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        try:
            self.sock.close()
        except OSError:
            pass

    def local_port(self) -> int:
        """The port the server logs as this viewer's peer."""
        return self.sock.getsockname()[1]
