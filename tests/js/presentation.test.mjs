import assert from "node:assert/strict";
import test from "node:test";

import {
  createServerClock,
  presentedUrl,
  stepPage,
  videoPositionAt,
} from "../../static/js/room/presentation-sync.js";

test("the server clock is the largest recent sample of server minus local time", () => {
  let local = 10_000;
  const clock = createServerClock(() => local);
  assert.equal(clock.offsetMs, 0);
  clock.sample(20.0, 10_050); // arrived 50 ms after sending, as measured against a server 10 s ahead
  clock.sample(20.2, 10_210); // a faster message: 10 ms
  assert.equal(clock.offsetMs, 9_990);
  local = 11_000;
  assert.equal(clock.now(), 20.99);
  clock.sample("soon", 11_000);
  clock.sample(Number.NaN, 11_000);
  assert.equal(clock.offsetMs, 9_990);
  for (let i = 0; i < 20; i++) clock.sample(30 + i, 20_000 + i * 1000); // an older fast sample drops out
  assert.equal(clock.offsetMs, 10_000);
});

test("a video's position follows its last event", () => {
  const paused = { position: 12, playing: false, at: 100 };
  assert.equal(videoPositionAt(paused, 160), 12);
  const playing = { position: 12, playing: true, at: 100 };
  assert.equal(videoPositionAt(playing, 103.5), 15.5);
  assert.equal(videoPositionAt(playing, 200, 30), 30); // clamped to the duration
  assert.equal(videoPositionAt(playing, 99), 12); // a clock a little behind never goes back
});

test("pages step within the document", () => {
  assert.equal(stepPage(1, 3, 1), 2);
  assert.equal(stepPage(3, 3, 1), null);
  assert.equal(stepPage(1, 3, -1), null);
  assert.equal(stepPage(3, 3, -2), 1);
});

test("the presented files' URLs come from the room's config", () => {
  const config = {
    presentedFileUrl: "/rooms/4/presented/{id}/file/",
    presentedPageUrl: "/rooms/4/presented/{id}/pages/{page}/",
  };
  assert.equal(presentedUrl(config, { id: 7, kind: "pdf", page: 2 }), "/rooms/4/presented/7/pages/2/");
  assert.equal(presentedUrl(config, { id: 7, kind: "pdf", page: 2 }, 3), "/rooms/4/presented/7/pages/3/");
  assert.equal(presentedUrl(config, { id: 8, kind: "video" }), "/rooms/4/presented/8/file/");
});
