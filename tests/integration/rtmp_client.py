"""A small raw RTMP client for the integration tests.

Just enough RTMP (Adobe RTMP spec 1.0, 2012) to drive the server by hand,
including on purpose in ways a real client never would:

- the simple handshake (RTMP 5.2: C0 version 3, C1 with a zero version field,
  C2 echoing S1);
- a chunk writer that uses a type 0 header for the first chunk of every
  message and type 3 for the rest (RTMP 5.3.1);
- a chunk reader for everything the server sends (types 0-3, extended
  timestamps, Set Chunk Size);
- an AMF0 encoder and decoder (AMF0 spec, 2.x markers) for commands;
- helpers for connect / createStream / publish / play and for reading the
  replies (_result, _error, onStatus).

Every socket operation is bounded by a timeout: a server that hangs fails the
test instead of blocking it.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

# --- AMF0 ---------------------------------------------------------------


class Undefined:
    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = Undefined()


class EcmaArray(dict):
    """A dict encoded as an AMF0 ECMA array (marker 0x08) instead of an object."""


def amf0_encode(value: Any) -> bytes:
    if value is None:
        return b"\x05"
    if value is UNDEFINED:
        return b"\x06"
    if isinstance(value, bool):
        return b"\x01" + (b"\x01" if value else b"\x00")
    if isinstance(value, (int, float)):
        return b"\x00" + struct.pack(">d", float(value))
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) > 0xFFFF:
            return b"\x0c" + struct.pack(">I", len(raw)) + raw
        return b"\x02" + struct.pack(">H", len(raw)) + raw
    if isinstance(value, EcmaArray):
        out = b"\x08" + struct.pack(">I", len(value))
        for k, v in value.items():
            out += _amf0_key(k) + amf0_encode(v)
        return out + b"\x00\x00\x09"
    if isinstance(value, dict):
        out = b"\x03"
        for k, v in value.items():
            out += _amf0_key(k) + amf0_encode(v)
        return out + b"\x00\x00\x09"
    if isinstance(value, (list, tuple)):
        out = b"\x0a" + struct.pack(">I", len(value))
        for v in value:
            out += amf0_encode(v)
        return out
    raise TypeError(f"cannot AMF0-encode {type(value)}")


def _amf0_key(key: str) -> bytes:
    raw = key.encode()
    return struct.pack(">H", len(raw)) + raw


def amf0_encode_all(values: Iterable[Any]) -> bytes:
    return b"".join(amf0_encode(v) for v in values)


class AmfError(ValueError):
    pass


def amf0_decode_all(data: bytes) -> list[Any]:
    values = []
    pos = 0
    while pos < len(data):
        value, pos = _amf0_decode(data, pos, 0)
        values.append(value)
    return values


def _need(data: bytes, pos: int, n: int) -> None:
    if pos + n > len(data):
        raise AmfError(f"truncated AMF0 at offset {pos}")


def _amf0_decode(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > 64:
        raise AmfError("AMF0 nesting too deep")
    _need(data, pos, 1)
    marker = data[pos]
    pos += 1
    if marker == 0x00:
        _need(data, pos, 8)
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    if marker == 0x01:
        _need(data, pos, 1)
        return data[pos] != 0, pos + 1
    if marker == 0x02:
        _need(data, pos, 2)
        (n,) = struct.unpack_from(">H", data, pos)
        _need(data, pos + 2, n)
        return data[pos + 2 : pos + 2 + n].decode(errors="replace"), pos + 2 + n
    if marker in (0x03, 0x08):
        if marker == 0x08:
            _need(data, pos, 4)
            pos += 4
        obj: dict[str, Any] = EcmaArray() if marker == 0x08 else {}
        while True:
            _need(data, pos, 2)
            (n,) = struct.unpack_from(">H", data, pos)
            pos += 2
            _need(data, pos, n)
            key = data[pos : pos + n].decode(errors="replace")
            pos += n
            _need(data, pos, 1)
            if n == 0 and data[pos] == 0x09:
                return obj, pos + 1
            obj[key], pos = _amf0_decode(data, pos, depth + 1)
    if marker == 0x05:
        return None, pos
    if marker == 0x06:
        return UNDEFINED, pos
    if marker == 0x0A:
        _need(data, pos, 4)
        (count,) = struct.unpack_from(">I", data, pos)
        pos += 4
        items = []
        for _ in range(count):
            item, pos = _amf0_decode(data, pos, depth + 1)
            items.append(item)
        return items, pos
    if marker == 0x0B:
        _need(data, pos, 10)
        return struct.unpack_from(">d", data, pos)[0], pos + 10
    if marker == 0x0C:
        _need(data, pos, 4)
        (n,) = struct.unpack_from(">I", data, pos)
        _need(data, pos + 4, n)
        return data[pos + 4 : pos + 4 + n].decode(errors="replace"), pos + 4 + n
    raise AmfError(f"unsupported AMF0 marker 0x{marker:02x} at offset {pos - 1}")


# --- RTMP messages --------------------------------------------------------

MSG_SET_CHUNK_SIZE = 1
MSG_ABORT = 2
MSG_ACK = 3
MSG_USER_CONTROL = 4
MSG_WINDOW_ACK_SIZE = 5
MSG_SET_PEER_BANDWIDTH = 6
MSG_AUDIO = 8
MSG_VIDEO = 9
MSG_DATA_AMF0 = 18
MSG_COMMAND_AMF0 = 20

CSID_CONTROL = 2
CSID_COMMAND = 3
CSID_DATA = 5
CSID_AUDIO = 6
CSID_VIDEO = 7


@dataclass
class Message:
    type_id: int
    timestamp: int
    stream_id: int
    csid: int
    payload: bytes

    def amf(self) -> list[Any]:
        if self.type_id in (MSG_COMMAND_AMF0, MSG_DATA_AMF0):
            return amf0_decode_all(self.payload)
        if self.type_id in (17, 15):  # AMF3 command/data: format byte, then AMF0
            return amf0_decode_all(self.payload[1:])
        raise AmfError(f"message type {self.type_id} carries no AMF")

    @property
    def name(self) -> str | None:
        if self.type_id not in (MSG_COMMAND_AMF0, MSG_DATA_AMF0):
            return None
        try:
            values = self.amf()
        except AmfError:
            return None
        return values[0] if values and isinstance(values[0], str) else None


def chunk_message(csid: int, type_id: int, stream_id: int, timestamp: int, payload: bytes,
                  chunk_size: int) -> bytes:
    """RTMP 5.3.1: a type 0 chunk, then type 3 chunks for the rest of the payload."""
    extended = timestamp >= 0xFFFFFF
    out = bytearray(_basic_header(0, csid))
    out += (0xFFFFFF if extended else timestamp).to_bytes(3, "big")
    out += len(payload).to_bytes(3, "big")
    out += bytes([type_id])
    out += struct.pack("<I", stream_id)
    if extended:
        out += struct.pack(">I", timestamp)
    offset = 0
    while True:
        n = min(chunk_size, len(payload) - offset)
        out += payload[offset : offset + n]
        offset += n
        if offset >= len(payload):
            break
        out += _basic_header(3, csid)
        if extended:
            out += struct.pack(">I", timestamp)
    return bytes(out)


def _basic_header(fmt: int, csid: int) -> bytes:
    if csid < 64:
        return bytes([(fmt << 6) | csid])
    if csid < 320:
        return bytes([fmt << 6, csid - 64])
    return bytes([(fmt << 6) | 1, (csid - 64) & 0xFF, (csid - 64) >> 8])


class ChunkReader:
    """RTMP 5.3: reassembles messages from the server's chunk stream."""

    def __init__(self) -> None:
        self.chunk_size = 128
        self.buffer = bytearray()
        self.streams: dict[int, dict[str, Any]] = {}

    def feed(self, data: bytes) -> list[Message]:
        self.buffer += data
        out: list[Message] = []
        while True:
            message, consumed = self._parse_one()
            if consumed == 0:
                break
            del self.buffer[:consumed]
            if message is not None:
                if message.type_id == MSG_SET_CHUNK_SIZE and len(message.payload) >= 4:
                    self.chunk_size = struct.unpack(">I", message.payload[:4])[0] & 0x7FFFFFFF
                out.append(message)
        return out

    def _parse_one(self) -> tuple[Message | None, int]:
        b = self.buffer
        if not b:
            return None, 0
        fmt = b[0] >> 6
        csid = b[0] & 0x3F
        pos = 1
        if csid == 0:
            if len(b) < 2:
                return None, 0
            csid = 64 + b[1]
            pos = 2
        elif csid == 1:
            if len(b) < 3:
                return None, 0
            csid = 64 + b[1] + b[2] * 256
            pos = 3
        header_size = (11, 7, 3, 0)[fmt]
        if len(b) < pos + header_size:
            return None, 0
        cs = self.streams.setdefault(
            csid, {"timestamp": 0, "delta": 0, "length": 0, "type": 0, "msid": 0,
                   "extended": False, "partial": None})
        ts_field = None
        length, type_id, msid = cs["length"], cs["type"], cs["msid"]
        if fmt <= 2:
            ts_field = int.from_bytes(b[pos : pos + 3], "big")
        if fmt <= 1:
            length = int.from_bytes(b[pos + 3 : pos + 6], "big")
            type_id = b[pos + 6]
        if fmt == 0:
            msid = struct.unpack_from("<I", b, pos + 7)[0]
        pos += header_size
        extended = (ts_field == 0xFFFFFF) if fmt <= 2 else cs["extended"]
        ext_value = None
        if extended:
            if len(b) < pos + 4:
                return None, 0
            ext_value = struct.unpack_from(">I", b, pos)[0]
            pos += 4
        starting = cs["partial"] is None
        remaining = length - (0 if starting else len(cs["partial"]))
        n = min(self.chunk_size, remaining)
        if len(b) < pos + n:
            return None, 0
        # Commit the header.
        if fmt <= 2:
            value = ext_value if extended else ts_field
            cs["timestamp"] = value if fmt == 0 else cs["timestamp"] + value
            cs["delta"] = value
            cs["extended"] = extended
            cs["length"], cs["type"], cs["msid"] = length, type_id, msid
        elif starting:
            cs["timestamp"] += cs["delta"]
        if starting:
            cs["partial"] = bytearray()
        cs["partial"] += b[pos : pos + n]
        pos += n
        if len(cs["partial"]) >= cs["length"]:
            message = Message(cs["type"], cs["timestamp"] & 0xFFFFFFFF, cs["msid"], csid,
                              bytes(cs["partial"]))
            cs["partial"] = None
            return message, pos
        return None, pos


# --- The client -----------------------------------------------------------


class RtmpError(Exception):
    pass


class ConnectionClosed(RtmpError):
    pass


@dataclass
class RtmpClient:
    host: str
    port: int
    timeout: float = 5.0
    rcvbuf: int | None = None
    recv_size: int = 65536
    sock: socket.socket = field(init=False)
    reader: ChunkReader = field(init=False, default_factory=ChunkReader)
    out_chunk_size: int = field(init=False, default=128)
    transaction: int = field(init=False, default=1)
    stream_id: int = field(init=False, default=0)
    inbox: list[Message] = field(init=False, default_factory=list)
    bytes_received: int = field(init=False, default=0)
    closed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # Raw I/O.

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_raw(self, deadline: float) -> bytes:
        """Returns the next bytes; b'' when the server closed the connection."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data before the deadline")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(self.recv_size)
        except ConnectionResetError:
            data = b""
        finally:
            self.sock.settimeout(self.timeout)
        if not data:
            self.closed = True
        self.bytes_received += len(data)
        return data

    def wait_closed(self, timeout: float = 5.0) -> bytes:
        """Reads (and returns) everything until the server closes; raises on timeout."""
        deadline = time.monotonic() + timeout
        got = bytearray()
        while True:
            data = self.recv_raw(deadline)
            if not data:
                return bytes(got)
            got += data

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RtmpClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # Handshake (RTMP 5.2, simple form).

    def handshake(self) -> None:
        c1 = struct.pack(">II", 0, 0) + os.urandom(1528)
        self.send_raw(b"\x03" + c1)
        deadline = time.monotonic() + self.timeout
        s = bytearray()
        while len(s) < 1 + 1536 + 1536:
            data = self.recv_raw(deadline)
            if not data:
                raise ConnectionClosed("closed during the handshake")
            s += data
        if s[0] != 3:
            raise RtmpError(f"S0 version {s[0]}")
        s1 = bytes(s[1:1537])
        s2 = bytes(s[1537:3073])
        if s2[8:] != c1[8:]:
            raise RtmpError("S2 does not echo C1")
        self.send_raw(s1)  # C2 echoes S1
        extra = bytes(s[3073:])
        if extra:
            self.inbox += self.reader.feed(extra)

    # Messages.

    def send_message(self, type_id: int, payload: bytes, csid: int = CSID_COMMAND,
                     stream_id: int = 0, timestamp: int = 0) -> None:
        self.send_raw(chunk_message(csid, type_id, stream_id, timestamp, payload,
                                    self.out_chunk_size))

    def set_chunk_size(self, size: int) -> None:
        self.send_message(MSG_SET_CHUNK_SIZE, struct.pack(">I", size), csid=CSID_CONTROL)
        self.out_chunk_size = size

    def command(self, name: str, *args: Any, stream_id: int = 0,
                transaction: int | None = None) -> int:
        if transaction is None:
            transaction = self.next_transaction()
        payload = amf0_encode_all([name, transaction, *args])
        csid = CSID_COMMAND if stream_id == 0 else 8
        self.send_message(MSG_COMMAND_AMF0, payload, csid=csid, stream_id=stream_id)
        return transaction

    def next_transaction(self) -> int:
        self.transaction += 1
        return self.transaction

    def read_messages(self, deadline: float) -> list[Message]:
        """Blocks until at least one message arrives; [] once the server closed."""
        while True:
            if self.inbox:
                out, self.inbox = self.inbox, []
                return out
            data = self.recv_raw(deadline)
            if not data:
                return []
            self.inbox += self.reader.feed(data)

    def wait_for(self, predicate: Callable[[Message], bool], timeout: float | None = None,
                 seen: list[Message] | None = None) -> Message:
        """Returns the first message matching `predicate`; messages before it go to `seen`."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            messages = self.read_messages(deadline)
            if not messages:
                raise ConnectionClosed("the server closed the connection")
            for i, message in enumerate(messages):
                if predicate(message):
                    self.inbox = messages[i + 1 :] + self.inbox
                    return message
                if seen is not None:
                    seen.append(message)

    def wait_command(self, *names: str, timeout: float | None = None,
                     seen: list[Message] | None = None) -> list[Any]:
        message = self.wait_for(lambda m: m.name in names, timeout, seen)
        return message.amf()

    def wait_status(self, timeout: float | None = None) -> dict[str, Any]:
        """The info object of the next onStatus command."""
        values = self.wait_command("onStatus", timeout=timeout)
        return values[3] if len(values) > 3 and isinstance(values[3], dict) else {}

    # NetConnection / NetStream.

    def connect(self, app: str = "live", extra: dict[str, Any] | None = None) -> list[Any]:
        props: dict[str, Any] = {
            "app": app,
            "flashVer": "FMLE/3.0 (compatible; cascade-tests)",
            "tcUrl": f"rtmp://{self.host}:{self.port}/{app}",
            "fpad": False,
            "capabilities": 15.0,
            "audioCodecs": 4071.0,
            "videoCodecs": 252.0,
            "videoFunction": 1.0,
        }
        if extra:
            props.update(extra)
        transaction = self.command("connect", props, transaction=1)
        reply = self.wait_command("_result", "_error")
        if reply[0] != "_result" or reply[1] != transaction:
            raise RtmpError(f"connect failed: {reply}")
        return reply

    def create_stream(self) -> int:
        transaction = self.command("createStream", None)
        reply = self.wait_for(lambda m: m.name in ("_result", "_error")
                              and m.amf()[1] == transaction).amf()
        if reply[0] != "_result":
            raise RtmpError(f"createStream failed: {reply}")
        self.stream_id = int(reply[3])
        return self.stream_id

    def publish(self, name: str, kind: str = "live") -> dict[str, Any]:
        self.command("publish", None, name, kind, stream_id=self.stream_id, transaction=0)
        return self.wait_status()

    def play(self, name: str) -> dict[str, Any]:
        self.command("play", None, name, -2000.0, stream_id=self.stream_id, transaction=0)
        return self.wait_status()

    def send_media(self, type_id: int, timestamp: int, payload: bytes) -> None:
        csid = CSID_VIDEO if type_id == MSG_VIDEO else CSID_AUDIO if type_id == MSG_AUDIO \
            else CSID_DATA
        self.send_message(type_id, payload, csid=csid, stream_id=self.stream_id,
                          timestamp=timestamp)


def connected_client(host: str, port: int, app: str = "live", timeout: float = 5.0,
                     rcvbuf: int | None = None, recv_size: int = 65536) -> RtmpClient:
    client = RtmpClient(host, port, timeout=timeout, rcvbuf=rcvbuf, recv_size=recv_size)
    client.handshake()
    client.connect(app)
    return client


class Player:
    """An RTMP viewer on its own thread: connect, createStream, play, then count
    and check what arrives. Records (arrival time, message) for media messages
    (bodies kept only when keep_bodies)."""

    def __init__(self, host: str, port: int, stream: str, app: str = "live",
                 keep_bodies: bool = False, timeout: float = 10.0,
                 rate_bytes_per_s: float | None = None, rcvbuf: int | None = None) -> None:
        import threading

        self.rate_bytes_per_s = rate_bytes_per_s
        self.rcvbuf = rcvbuf
        self.host, self.port, self.stream, self.app = host, port, stream, app
        self.keep_bodies = keep_bodies
        self.timeout = timeout
        self.status: dict[str, Any] | None = None
        self.media: list[tuple[float, Message]] = []
        self.other: list[Message] = []
        self.error: str | None = None
        self.closed_by_server = False
        self.client: RtmpClient | None = None
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Player":
        self.thread.start()
        return self

    def _run(self) -> None:
        rate_limited = self.rate_bytes_per_s is not None
        try:
            self.client = connected_client(self.host, self.port, self.app, self.timeout,
                                           self.rcvbuf, 4096 if rate_limited else 65536)
            self.client.create_stream()
            self.status = self.client.play(self.stream)
            while not self.stop_event.is_set():
                t0 = time.monotonic()
                received = self.client.bytes_received
                try:
                    messages = self.client.read_messages(time.monotonic() + 0.5)
                except (TimeoutError, socket.timeout):
                    continue
                if not messages:
                    self.closed_by_server = True
                    return
                now = time.monotonic()
                if self.rate_bytes_per_s:
                    pause = (self.client.bytes_received - received) / self.rate_bytes_per_s - \
                        (now - t0)
                    if pause > 0:
                        self.stop_event.wait(pause)
                with self.lock:
                    for m in messages:
                        if m.type_id in (MSG_AUDIO, MSG_VIDEO):
                            if not self.keep_bodies:
                                m.payload = m.payload[:16]
                            self.media.append((now, m))
                        else:
                            self.other.append(m)
        except Exception as e:  # recorded for the test to assert on
            if not self.stop_event.is_set():
                self.error = f"{type(e).__name__}: {e}"

    def video(self) -> list[tuple[float, Message]]:
        with self.lock:
            return [(t, m) for t, m in self.media if m.type_id == MSG_VIDEO]

    def audio(self) -> list[tuple[float, Message]]:
        with self.lock:
            return [(t, m) for t, m in self.media if m.type_id == MSG_AUDIO]

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)
        if self.client is not None:
            self.client.close()


class FlvFilePublisher:
    """Publishes an FLV file's tags over RTMP on its own thread, in real time,
    with `offset_ms` added to every timestamp (modulo 2^32, as RTMP wraps)."""

    def __init__(self, host: str, port: int, stream: str, path: str, offset_ms: int = 0,
                 app: str = "live") -> None:
        import threading

        from flv import parse_flv

        self.tags = parse_flv(open(path, "rb").read(), keep_bodies=True).tags
        self.host, self.port, self.stream, self.app = host, port, stream, app
        self.offset_ms = offset_ms
        self.error: str | None = None
        self.sent = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "FlvFilePublisher":
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            with connected_client(self.host, self.port, self.app, timeout=10) as client:
                client.set_chunk_size(4096)
                client.create_stream()
                status = client.publish(self.stream)
                if status.get("code") != "NetStream.Publish.Start":
                    raise RtmpError(f"publish refused: {status}")
                t0 = time.monotonic()
                for tag in self.tags:
                    if self.stop_event.is_set():
                        return
                    delay = t0 + tag.timestamp / 1000 - time.monotonic()
                    if delay > 0:
                        self.stop_event.wait(delay)
                    payload = tag.body
                    if tag.type == MSG_DATA_AMF0:
                        payload = amf0_encode("@setDataFrame") + payload
                    client.send_media(tag.type, (tag.timestamp + self.offset_ms) & 0xFFFFFFFF,
                                      payload)
                    self.sent += 1
        except Exception as e:  # recorded for the test to assert on
            if not self.stop_event.is_set():
                self.error = f"{type(e).__name__}: {e}"

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)
