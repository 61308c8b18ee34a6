"""The browser front end in a real browser (headless chromium over CDP): the
stream list, the watch page playing HTTP-FLV (mpegts.js) and LL-HLS (hls.js)
with the live latency it measures, switching modes, and the static files
(types, ETag/304, nothing fetched from anywhere but the server)."""

from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from browser import Browser, Page
from helpers import HOST, REPO, Cascade, ffmpeg_publish

STREAM = "watch"
KEY = f"live/{STREAM}"
READY_TIMEOUT_S = 20.0
# Playback must advance at least this much media time over the wall-time window.
WINDOW_S = 4.0
MIN_ADVANCE_S = 2.0
MAX_LATENCY_S = 5.0


@pytest.fixture(scope="module")
def live(module_cascade, module_procs, media) -> Cascade:
    server = module_cascade(workers=2)
    ffmpeg_publish(module_procs, media.av, server.rtmp_url(STREAM))
    server.wait_publishing(STREAM)
    return server


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with Browser(log_dir=tmp_path) as b:
        yield b


def base(server: Cascade) -> str:
    return f"http://{HOST}:{server.http_port}"


def watch_state(page: Page) -> dict[str, Any]:
    return page.evaluate("JSON.parse(JSON.stringify(window.cascadeWatch || null))")


def describe(page: Page) -> str:
    requests = [(r.url, r.status) for r in page.requests.values() if r.url.startswith("http")]
    return (f"cascadeWatch={json.dumps(watch_state(page))}\n"
            f"console errors={page.console_errors[-10:]}\n"
            f"requests={requests[-15:]}")


def wait_ready(page: Page, mode: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        state = watch_state(page)
        if state and state["mode"] == mode and state["ready"] and state["currentTime"] > 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{mode}: playback did not start within {READY_TIMEOUT_S} s\n"
                                 f"{describe(page)}")
        page.browser.pump(0.1)


def measure(page: Page, seconds: float) -> list[dict[str, Any]]:
    """window.cascadeWatch sampled every 0.25 s for `seconds` of wall time."""
    samples = []
    deadline = time.monotonic() + seconds
    while True:
        state = watch_state(page)
        state["wall"] = time.monotonic()
        samples.append(state)
        if state["wall"] >= deadline:
            return samples
        page.browser.pump(min(0.25, max(0.0, deadline - time.monotonic())))


def assert_plays(page: Page, mode: str, record_property: Any) -> None:
    """Playback in `mode` advances, without errors, at a finite, small latency."""
    wait_ready(page, mode)
    samples = measure(page, WINDOW_S)
    first, last = samples[0], samples[-1]
    retried = ""
    if last["currentTime"] - first["currentTime"] < MIN_ADVANCE_S:
        # One stall in a shared CI machine's headless browser is tolerated
        # once, and reported: playback must then advance over a fresh window.
        retried = (f" (first window advanced only "
                   f"{last['currentTime'] - first['currentTime']:.2f} s; measured again)")
        samples = measure(page, WINDOW_S)
        first, last = samples[0], samples[-1]
    wall = last["wall"] - first["wall"]
    advanced = last["currentTime"] - first["currentTime"]
    latencies = [s["latencySeconds"] for s in samples if s["latencySeconds"] is not None]
    sources = sorted({s["latencySource"] for s in samples if s["latencySource"]})
    summary = (f"{mode}: media advanced {advanced:.2f} s in {wall:.2f} s of wall time{retried}; "
               f"stalls {last['stalls']}; latency ({', '.join(sources) or 'none'}) ")
    if latencies:
        summary += (f"median {statistics.median(latencies):.3f} s, min {min(latencies):.3f} s, "
                    f"max {max(latencies):.3f} s over {len(latencies)} samples")
    print(summary)
    record_property(f"{mode}_summary", summary)
    assert all(s["mode"] == mode for s in samples), describe(page)
    assert all(s["error"] is None for s in samples), f"{summary}\n{describe(page)}"
    assert advanced >= MIN_ADVANCE_S, f"{summary}\n{describe(page)}"
    assert latencies, f"{mode}: the page reported no latency\n{describe(page)}"
    assert all(math.isfinite(x) and x < MAX_LATENCY_S for x in latencies), \
        f"{summary}\n{describe(page)}"


def test_index_lists_live_stream_and_links_to_watch(live: Cascade, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(base(live) + "/")
    href = page.wait_for(
        f"document.querySelector('tr[data-key=\"{KEY}\"] a')?.getAttribute('href')", 10,
        f"{KEY} in the stream list")
    assert href == f"/watch/{KEY}"
    row = page.evaluate(f"[...document.querySelectorAll('tr[data-key=\"{KEY}\"] td')]"
                        ".map(td => td.textContent)")
    assert row[0] == KEY and row[1] == "live", row
    assert row[3].startswith("h264 640"), row
    assert row[4].startswith("aac"), row
    # The list refreshes by itself.
    refreshes = page.evaluate("window.cascadeIndex.refreshes")
    page.wait_for(f"window.cascadeIndex.refreshes > {refreshes}", 10, "a refresh of the list")
    assert page.console_errors == [], page.console_errors
    # The link leads to the watch page (its playback is the other tests' business).
    page.evaluate(f"document.querySelector('tr[data-key=\"{KEY}\"] a').click()")
    page.wait_for(f"location.pathname === '/watch/{KEY}' && !!window.cascadeWatch", 10,
                  "the watch page")
    assert page.evaluate("window.cascadeWatch.key") == KEY


def test_watch_flv_plays(live: Cascade, browser: Browser, record_property: Any) -> None:
    page = browser.new_page()
    page.goto(f"{base(live)}/watch/{KEY}?mode=flv")
    assert_plays(page, "flv", record_property)
    assert page.evaluate("document.getElementById('stat-latency').textContent").endswith(" s")
    assert page.console_errors == [], page.console_errors


def test_watch_hls_plays(live: Cascade, browser: Browser, record_property: Any) -> None:
    page = browser.new_page()
    page.goto(f"{base(live)}/watch/{KEY}?mode=hls")
    assert_plays(page, "hls", record_property)
    requested = [urlsplit(r.url).path for r in page.requests.values()]
    assert f"/{KEY}.m3u8" in requested, requested
    assert page.console_errors == [], page.console_errors


def switch(page: Page, mode: str) -> None:
    page.evaluate(f"document.getElementById('mode-{mode}').click()")
    assert page.evaluate(
        f"document.getElementById('mode-{mode}').getAttribute('aria-pressed')") == "true"
    assert page.evaluate("new URLSearchParams(location.search).get('mode')") == mode


def test_switch_hls_to_flv(live: Cascade, browser: Browser, record_property: Any) -> None:
    page = browser.new_page()
    page.goto(f"{base(live)}/watch/{KEY}")  # LL-HLS by default
    assert page.evaluate("window.cascadeWatch.mode") == "hls"
    page.evaluate("window.sameLoad = true")
    browser.pump(1.0)
    switch(page, "flv")
    assert_plays(page, "flv", record_property)
    assert page.evaluate("window.sameLoad") is True, "the page was reloaded"


def test_switch_flv_to_hls(live: Cascade, browser: Browser, record_property: Any) -> None:
    page = browser.new_page()
    page.goto(f"{base(live)}/watch/{KEY}?mode=flv")
    wait_ready(page, "flv")
    page.evaluate("window.sameLoad = true")
    switch(page, "hls")
    assert_plays(page, "hls", record_property)
    assert page.evaluate("window.sameLoad") is True, "the page was reloaded"


STATIC = {
    "/": ("pages/index.html", "text/html; charset=utf-8", "no-cache"),
    f"/watch/{KEY}": ("pages/watch.html", "text/html; charset=utf-8", "no-cache"),
    "/static/watch.js": ("pages/watch.js", "text/javascript", "public, max-age=86400"),
    "/static/style.css": ("pages/style.css", "text/css", "public, max-age=86400"),
    "/static/hls.min.js": ("vendor/hls.min.js", "text/javascript", "public, max-age=86400"),
    "/static/mpegts.js": ("vendor/mpegts.js", "text/javascript", "public, max-age=86400"),
}


def test_static_files_types_etag_and_methods(live: Cascade) -> None:
    etags = set()
    for path, (file, content_type, cache_control) in STATIC.items():
        status, headers, body = live.http("GET", path)
        assert status == 200, path
        assert headers["content-type"] == content_type, path
        assert headers["cache-control"] == cache_control, path
        assert body == (REPO / "web" / file).read_bytes(), path
        etag = headers["etag"]
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2, etag
        etags.add(etag)
        # Conditional requests: the same tag (also among others, or weak) is a 304.
        for value in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
            status, h304, body = live.http("GET", path, headers={"If-None-Match": value})
            assert status == 304 and body == b"", (path, value)
            assert h304["etag"] == etag and h304["cache-control"] == cache_control, path
        status, _, body = live.http("GET", path, headers={"If-None-Match": '"other"'})
        assert status == 200 and len(body) > 0, path
        status, hhead, body = live.http("HEAD", path)
        assert status == 200 and body == b"", path
        assert int(hhead["content-length"]) == len((REPO / "web" / file).read_bytes()), path
        assert hhead["etag"] == etag, path
        status, hpost, _ = live.http("POST", path)
        assert status == 405 and hpost["allow"] == "GET, HEAD", path
    assert len(etags) == len(STATIC)  # six different files, six tags
    # Paths that are not the web route's fall through to the others (or 404).
    for path in ("/static/nope.js", "/static/index.html", "/watch/live", "/watch/live/a/b",
                 "/index.html", "/live/nope.m3u8"):
        status, headers, _ = live.http("GET", path)
        assert status == 404 or not headers.get("content-type", "").startswith("text/html"), \
            (path, status, headers)
    status, headers, _ = live.http("HEAD", f"/{KEY}.flv")
    assert status == 200 and headers["content-type"] == "video/x-flv"


def test_pages_fetch_only_from_the_server(live: Cascade, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(base(live) + "/")
    page.wait_for(f"!!document.querySelector('tr[data-key=\"{KEY}\"]')", 10, "the stream list")
    page.goto(f"{base(live)}/watch/{KEY}?mode=flv")
    wait_ready(page, "flv")
    switch(page, "hls")
    browser.pump(3.0)  # whatever LL-HLS fetches, it fetches from the server
    requests = list(page.requests.values())
    urls = [r.url for r in requests]
    assert any(urlsplit(u).path == "/static/hls.min.js" for u in urls), urls
    assert any(urlsplit(u).path == f"/{KEY}.flv" for u in urls), urls
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            continue
        assert parts.scheme in ("http", "ws") and parts.hostname == HOST and \
            parts.port == live.http_port, f"a request left the server: {url}"
    # The page's own files came back with the right types.
    types = {urlsplit(r.url).path: r.headers.get("content-type") for r in requests
             if r.status == 200}
    assert types.get("/static/watch.js") == "text/javascript", types
    assert types.get("/static/style.css") == "text/css", types
