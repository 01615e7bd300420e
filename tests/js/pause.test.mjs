// Pause and resume in the room's pure views (decision 0022), under Node's test runner.

import assert from "node:assert/strict";
import { test } from "node:test";

import { captureView, initialState, recordingView, reduce } from "../../static/js/room/state.js";

const UID = "6f1c2a9e-0000-4000-8000-0000000000aa";

function recording(paused, elapsed = 42) {
  return { uid: UID, state: "recording", active: true, capturing: true, paused, elapsed, segment_seconds: 10 };
}

function stateWith(isLeader, rec) {
  const joined = reduce(initialState({}), { type: "state", role: isLeader ? "host" : "participant",
    is_leader: isLeader, user_id: 1, session: { id: 1, state: "live" }, recording: null });
  return reduce(joined, { type: "recording", recording: rec });
}

test("paused: the indicator says so, the counter stays, the leader is offered Resume", () => {
  const view = recordingView(stateWith(true, recording(true)));
  assert.equal(view.indicator, true);
  assert.equal(view.paused, true);
  assert.equal(view.counter, true);
  assert.equal(view.elapsed, 42);
  assert.equal(view.pauseButton, true);
  assert.equal(view.menuPause, false);
  assert.equal(view.menuResume, true);
});

test("running: the leader is offered Pause; a participant is offered nothing", () => {
  const leader = recordingView(stateWith(true, recording(false)));
  assert.equal(leader.paused, false);
  assert.equal(leader.menuPause, true);
  assert.equal(leader.menuResume, false);
  const participant = recordingView(stateWith(false, recording(true)));
  assert.equal(participant.paused, true);
  assert.equal(participant.pauseButton, false);
  assert.equal(participant.menuResume, false);
});

test("capture follows the pause: same recording, told to pause", () => {
  assert.deepEqual(captureView(stateWith(false, recording(true))), { uid: UID, segmentSeconds: 10, paused: true });
  assert.deepEqual(captureView(stateWith(false, recording(false))), { uid: UID, segmentSeconds: 10 });
});
