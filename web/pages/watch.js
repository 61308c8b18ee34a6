// The watch page: plays /watch/{app}/{stream} as LL-HLS (hls.js, from
// /{app}/{stream}.m3u8) or HTTP-FLV (mpegts.js, from /{app}/{stream}.flv),
// switchable on the page or with ?mode=hls|flv, and shows the live latency.
//
// window.cascadeWatch is kept up to date for the browser tests:
//   {mode, ready, currentTime, latencySeconds, latencySource, error, stalls, state, key}
// Plain script, no build step; hls.min.js and mpegts.js are loaded before it.
'use strict';

(function () {
  const MODES = ['hls', 'flv'];
  const TICK_MS = 250;
  const RETRY_MS = 3000;

  const $ = (id) => document.getElementById(id);
  const video = $('video');

  // "/watch/live/abc" -> "live/abc", kept percent-encoded for the media URLs.
  const path = location.pathname.replace(/^\/watch\//, '').replace(/\/+$/, '');
  let key = path;
  try {
    key = decodeURIComponent(path);
  } catch (e) {
    // A malformed escape: show the path as it is.
  }

  const watch = (window.cascadeWatch = {
    key: key,
    mode: null,
    ready: false,
    get currentTime() {
      return video.currentTime; // always the video element's own, never stale
    },
    // Live latency, measured when read; null until playback has started.
    get latencySeconds() {
      const latency = measureLatency();
      return latency ? latency.seconds : null;
    },
    get latencySource() {
      const latency = measureLatency();
      return latency ? latency.source : null;
    },
    error: null,
    stalls: 0,
    state: 'idle',
  });

  let player = null; // {url, latency(), destroy()} of the current mode
  let generation = 0; // bumped per start: callbacks of older players are ignored
  let retryTimer = 0;

  function setState(state) {
    watch.state = state;
    $('stat-state').textContent = state;
  }

  function showError(message) {
    watch.error = message;
    $('error').textContent = message || '';
    $('error').hidden = !message;
  }

  // A failure of the current player: show it, and try again a little later
  // (the stream may not be live yet, or may come back).
  function fail(gen, message) {
    if (gen !== generation) return;
    watch.ready = false;
    showError(message);
    setState('error: retrying');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => start(watch.mode, true), RETRY_MS);
  }

  function stop() {
    clearTimeout(retryTimer);
    generation += 1;
    if (player) {
      const old = player;
      player = null;
      try {
        old.destroy();
      } catch (e) {
        console.warn('destroying the player failed', e);
      }
    }
    video.removeAttribute('src');
    video.load();
  }

  function play() {
    const promise = video.play();
    if (promise) promise.catch(() => {}); // autoplay refusals show as "paused"
  }

  function startHls(gen) {
    if (!window.Hls) throw new Error('hls.js did not load');
    if (!Hls.isSupported()) throw new Error('no Media Source Extensions: hls.js cannot play here');
    // ?playlist=ts: classic HLS from the MPEG-TS playlist (no parts).
    const classic = new URLSearchParams(location.search).get('playlist') === 'ts';
    const url = classic ? `/${path}/ts.m3u8` : `/${path}.m3u8`;
    const hls = new Hls({
      lowLatencyMode: !classic,
      liveDurationInfinity: true,
      backBufferLength: 30,
      // Catch up on the live edge by playing up to 1.5x faster, not by seeking.
      maxLiveSyncPlaybackRate: 1.5,
    });
    let mediaRecoveries = 0;
    hls.on(Hls.Events.ERROR, (event, data) => {
      if (gen !== generation || !data.fatal) return; // hls.js handles the others
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
        mediaRecoveries += 1;
        hls.recoverMediaError();
        return;
      }
      const status = data.response && data.response.code ? ` (HTTP ${data.response.code})` : '';
      fail(gen, `hls.js: ${data.details}${status}`);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      if (gen === generation) play();
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    return {
      url: url,
      // Ingest to screen from EXT-X-PROGRAM-DATE-TIME when the playlist has
      // it, else hls.js's estimate of the distance to the live edge.
      latency() {
        const date = hls.playingDate;
        if (date && Number.isFinite(date.getTime())) {
          return {seconds: (Date.now() - date.getTime()) / 1000, source: 'program-date-time'};
        }
        if (Number.isFinite(hls.latency) && hls.latency > 0) {
          return {seconds: hls.latency, source: 'hls.js latency'};
        }
        return null;
      },
      destroy() {
        hls.destroy();
      },
    };
  }

  function startFlv(gen) {
    if (!window.mpegts) throw new Error('mpegts.js did not load');
    if (!mpegts.getFeatureList().mseLivePlayback) {
      throw new Error('no Media Source Extensions: mpegts.js cannot play here');
    }
    const url = `/${path}.flv`;
    const flv = mpegts.createPlayer(
      {type: 'flv', isLive: true, url: new URL(url, location.href).href},
      {
        isLive: true,
        enableStashBuffer: false, // hand data to the decoder at once
        lazyLoad: false,
        // Keep near the live edge: play up to 1.2x faster past 1.2 s of buffer,
        // and jump ahead if the buffer still grows past 2 s.
        liveSync: true,
        liveSyncMaxLatency: 1.2,
        liveSyncTargetLatency: 0.8,
        liveSyncPlaybackRate: 1.2,
        liveBufferLatencyChasing: true,
        liveBufferLatencyMaxLatency: 2.0,
        liveBufferLatencyMinRemain: 0.5,
      },
    );
    flv.on(mpegts.Events.ERROR, (type, detail, info) => {
      const message = info && info.msg ? `: ${info.msg}` : '';
      fail(gen, `mpegts.js: ${type} ${detail}${message}`);
    });
    flv.on(mpegts.Events.LOADING_COMPLETE, () => fail(gen, 'the stream ended'));
    flv.attachMediaElement(video);
    flv.load();
    play();
    return {
      url: url,
      // The media buffered ahead of the playhead (network and server delay
      // not included).
      latency() {
        const buffered = video.buffered;
        if (buffered.length === 0) return null;
        return {seconds: buffered.end(buffered.length - 1) - video.currentTime, source: 'buffer'};
      },
      destroy() {
        flv.pause();
        flv.unload();
        flv.detachMediaElement();
        flv.destroy();
      },
    };
  }

  // Starts playing in `mode`; `retry` keeps the last error on screen until
  // playback resumes.
  function start(mode, retry) {
    stop();
    const gen = generation;
    watch.mode = mode;
    watch.ready = false;
    if (!retry) showError(null);
    setState('loading');
    $('stat-mode').textContent = mode === 'hls' ? 'LL-HLS (hls.js)' : 'HTTP-FLV (mpegts.js)';
    for (const button of document.querySelectorAll('.modes button')) {
      button.setAttribute('aria-pressed', String(button.dataset.mode === mode));
    }
    const query = new URLSearchParams(location.search);
    query.set('mode', mode);
    history.replaceState(null, '', `${location.pathname}?${query}`);
    try {
      player = mode === 'hls' ? startHls(gen) : startFlv(gen);
      $('stat-url').textContent = player.url;
    } catch (e) {
      // Not supported here: retrying will not help.
      watch.ready = false;
      showError(e.message);
      setState('error');
    }
  }

  video.addEventListener('playing', () => {
    if (!player) return;
    watch.ready = true;
    showError(null);
    setState('playing');
  });
  video.addEventListener('waiting', () => {
    if (!player || !watch.ready || video.seeking) return;
    watch.stalls += 1;
    setState('buffering');
  });
  video.addEventListener('pause', () => {
    if (player && watch.ready) setState('paused');
  });
  video.addEventListener('error', () => {
    if (!player || !video.error) return;
    fail(generation, `video element: ${video.error.message || `error ${video.error.code}`}`);
  });

  function measureLatency() {
    if (!player || !watch.ready) return null;
    const latency = player.latency();
    return latency && Number.isFinite(latency.seconds) ? latency : null;
  }

  function tick() {
    const latency = measureLatency();
    $('stat-latency').textContent = latency ? `${latency.seconds.toFixed(2)} s` : '–';
    $('stat-latency').title = latency ? `measured from: ${latency.source}` : '';
    $('stat-time').textContent = `${video.currentTime.toFixed(1)} s`;
    $('stat-stalls').textContent = String(watch.stalls);
  }

  for (const button of document.querySelectorAll('.modes button')) {
    button.addEventListener('click', () => {
      if (button.dataset.mode !== watch.mode) start(button.dataset.mode, false);
    });
  }

  document.title = `${key} · Cascade`;
  $('title').textContent = key;
  setInterval(tick, TICK_MS);
  if (!/^[^/]+\/[^/]+$/.test(path)) {
    showError('No stream in the address: expected /watch/{app}/{stream}.');
    setState('error');
    return;
  }
  const requested = new URLSearchParams(location.search).get('mode');
  start(MODES.includes(requested) ? requested : 'hls', false);
})();
