// Presenting from Media and Files (issue 11), the pure part: the server's clock as this page sees it,
// where a presented video should be now, and the presented files' URLs. No DOM, no globals; tested by
// tests/js/presentation.test.mjs.
//
// The clock: every server message that carries `server_time` (clock probes, the state, presentation
// events) is a sample of (server time - this page's time) minus the message's one-way delay, so the
// largest recent sample is the best estimate (off by the shortest delay seen: milliseconds on a LAN).

const SAMPLES_KEPT = 12; // recent ones only, so the estimate follows a clock that drifts

export function createServerClock(now = () => Date.now()) {
  const samples = [];
  return {
    // `serverTime`: seconds (the server's epoch clock); `receivedAt`: this page's ms when it arrived.
    sample(serverTime, receivedAt = now()) {
      if (typeof serverTime !== "number" || !Number.isFinite(serverTime)) return;
      samples.push(serverTime * 1000 - receivedAt);
      if (samples.length > SAMPLES_KEPT) samples.shift();
    },
    get offsetMs() {
      return samples.length ? Math.max(...samples) : 0;
    },
    // The server's clock now, in seconds.
    now() {
      return (now() + this.offsetMs) / 1000;
    },
  };
}

// A presented video's position at server time `serverNow` (seconds): `position` at `at`, advancing
// while `playing`, clamped to the video's duration when it is known.
export function videoPositionAt(presentation, serverNow, duration = NaN) {
  const base = Number(presentation.position) || 0;
  let position = presentation.playing ? base + Math.max(0, serverNow - presentation.at) : base;
  if (Number.isFinite(duration) && duration > 0) position = Math.min(position, duration);
  return Math.max(0, position);
}

// The page the presenter asks for by moving `delta` (or null when there is none that way).
export function stepPage(page, count, delta) {
  const next = page + delta;
  return next >= 1 && next <= count ? next : null;
}

export function presentedUrl(config, presentation, page = null) {
  const id = String(presentation.id);
  if (presentation.kind === "pdf") {
    return config.presentedPageUrl.replace("{id}", id).replace("{page}", String(page || presentation.page || 1));
  }
  return config.presentedFileUrl.replace("{id}", id);
}
