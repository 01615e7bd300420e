// The room socket's heartbeat (static/js/room/socket.js) under Node's test runner: sockets that join
// together must not beat together.

import assert from "node:assert/strict";
import { test } from "node:test";

import { firstHeartbeatMs } from "../../static/js/room/socket.js";

test("the first heartbeat comes within the interval, at a point that differs from socket to socket", () => {
  assert.equal(firstHeartbeatMs(10, () => 0), 1000); // never at once: the state has just arrived
  assert.equal(firstHeartbeatMs(10, () => 1), 10000); // never later than the interval (presence TTL)
  const firsts = Array.from({ length: 1000 }, () => firstHeartbeatMs(10));
  assert.ok(firsts.every((ms) => ms >= 1000 && ms <= 10000));
  // A thousand sockets that joined in the same second spread over the interval: no second of it
  // holds more than a fifth of them (all of them, before).
  const perSecond = new Map();
  for (const ms of firsts) perSecond.set(Math.floor(ms / 1000), (perSecond.get(Math.floor(ms / 1000)) || 0) + 1);
  assert.ok(Math.max(...perSecond.values()) < 200, JSON.stringify([...perSecond]));
});
