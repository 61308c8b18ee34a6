"""HLS playlist parsing and the spec rules the tests check (RFC 8216 and
draft-pantos-hls-rfc8216bis, "8216bis")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Part:
    duration: float
    uri: str
    independent: bool


@dataclass
class Segment:
    msn: int
    duration: float | None = None  # None: open (parts only)
    uri: str | None = None
    parts: list[Part] = field(default_factory=list)
    discontinuity: bool = False
    program_date: str | None = None
    map_uri: str | None = None


@dataclass
class MediaPlaylist:
    text: str
    tags: dict[str, str]
    target_duration: int
    media_sequence: int
    discontinuity_sequence: int
    segments: list[Segment]
    part_target: float | None
    server_control: dict[str, str]
    preload_hint: str | None
    skipped: int
    ended: bool

    def complete(self) -> list[Segment]:
        return [s for s in self.segments if s.duration is not None]


ATTR_RE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def attributes(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in ATTR_RE.findall(text)}


def parse_media_playlist(text: str) -> MediaPlaylist:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines and lines[0] == "#EXTM3U", f"not a playlist:\n{text[:300]}"
    tags: dict[str, str] = {}
    segments: list[Segment] = []
    media_sequence = 0
    skipped = 0
    current: Segment | None = None
    pending_discontinuity = False
    pending_date = None
    current_map = None
    preload = None
    for line in lines[1:]:
        if line.startswith("#"):
            name, _, value = line[1:].partition(":")
            tags.setdefault(name, value)
            if name == "EXT-X-MEDIA-SEQUENCE":
                media_sequence = int(value)
            elif name == "EXT-X-SKIP":
                skipped = int(attributes(value)["SKIPPED-SEGMENTS"])
            elif name == "EXT-X-DISCONTINUITY":
                pending_discontinuity = True
            elif name == "EXT-X-PROGRAM-DATE-TIME":
                pending_date = value
            elif name == "EXT-X-MAP":
                current_map = attributes(value)["URI"]
            elif name in ("EXT-X-PART", "EXTINF"):
                if current is None:
                    msn = media_sequence + skipped + len(segments)
                    current = Segment(msn=msn, discontinuity=pending_discontinuity,
                                      program_date=pending_date, map_uri=current_map)
                    pending_discontinuity = False
                    pending_date = None
                if name == "EXT-X-PART":
                    a = attributes(value)
                    current.parts.append(Part(float(a["DURATION"]), a["URI"],
                                              a.get("INDEPENDENT") == "YES"))
                else:
                    current.duration = float(value.split(",")[0])
            elif name == "EXT-X-PRELOAD-HINT":
                preload = attributes(value)["URI"]
        else:
            assert current is not None and current.duration is not None, \
                f"URI line without EXTINF: {line}"
            current.uri = line
            segments.append(current)
            current = None
    if current is not None:
        segments.append(current)  # the open segment: parts only
    part_inf = tags.get("EXT-X-PART-INF")
    return MediaPlaylist(
        text=text, tags=tags, target_duration=int(tags["EXT-X-TARGETDURATION"]),
        media_sequence=media_sequence,
        discontinuity_sequence=int(tags.get("EXT-X-DISCONTINUITY-SEQUENCE", "0")),
        segments=segments,
        part_target=float(attributes(part_inf)["PART-TARGET"]) if part_inf else None,
        server_control=attributes(tags.get("EXT-X-SERVER-CONTROL", "")),
        preload_hint=preload, skipped=skipped, ended="EXT-X-ENDLIST" in tags)


def check_media_playlist(p: MediaPlaylist) -> None:
    """Asserts the rules a live media playlist must obey."""
    assert "EXT-X-VERSION" in p.tags
    for s in p.complete():
        # RFC 8216 4.3.3.1: EXTINF rounded to the nearest integer <= TARGETDURATION.
        assert round(s.duration) <= p.target_duration, \
            f"segment {s.msn}: EXTINF {s.duration} > target {p.target_duration}"
        assert s.duration > 0 and s.uri
        assert s.program_date, f"segment {s.msn} has no EXT-X-PROGRAM-DATE-TIME"
    msns = [s.msn for s in p.segments]
    assert msns == list(range(msns[0], msns[0] + len(msns))), f"sequence gaps: {msns}"
    if p.part_target is None:
        return
    sc = p.server_control
    assert sc.get("CAN-BLOCK-RELOAD") == "YES"
    # 8216bis 4.4.3.8.
    assert float(sc["PART-HOLD-BACK"]) >= 2 * p.part_target
    assert float(sc["CAN-SKIP-UNTIL"]) >= 6 * p.target_duration
    last_part_at = None
    for s in p.segments:
        for i, part in enumerate(s.parts):
            # 8216bis 4.4.4.9: part durations <= PART-TARGET, and >= 85% of it
            # except INDEPENDENT parts and the last part of a parent segment.
            assert part.duration <= p.part_target + 1e-9, \
                f"part {s.msn}.{i}: {part.duration} > PART-TARGET {p.part_target}"
            is_last = i == len(s.parts) - 1
            if not part.independent and not is_last:
                assert part.duration >= 0.85 * p.part_target - 0.001, \
                    f"part {s.msn}.{i}: {part.duration} < 85% of {p.part_target}"
            assert part.uri.endswith(f"p{s.msn}.{i}.m4s"), part.uri
            last_part_at = (s.msn, i, s.duration is not None)
        if s.parts and s.duration is not None:
            total = sum(part.duration for part in s.parts)
            assert abs(total - s.duration) < 0.01 * len(s.parts) + 0.002, \
                f"segment {s.msn}: parts sum to {total}, EXTINF {s.duration}"
        if s.parts:
            assert s.parts[0].independent, f"segment {s.msn} does not start with an independent part"
    if not p.ended:
        assert p.preload_hint, "no EXT-X-PRELOAD-HINT"
        msn, index, complete = last_part_at
        expected = f"p{msn + 1}.0.m4s" if complete else f"p{msn}.{index + 1}.m4s"
        assert p.preload_hint.endswith(expected), \
            f"preload hint {p.preload_hint} is not the next part {expected}"


def parse_master(text: str) -> list[tuple[dict[str, str], str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == "#EXTM3U"
    variants = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            variants.append((attributes(line.partition(":")[2]), lines[i + 1]))
    return variants
