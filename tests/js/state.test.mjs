// The room's pure reducer (static/js/room/state.js), under Node's own test runner:
//   node --test tests/js/
// Events are the exact JSON the server sends (core/events.py).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  captureView,
  initialState,
  progressView,
  recordingView,
  reduce,
  sessionView,
} from "../../static/js/room/state.js";
import { formatElapsed } from "../../static/js/room/ui/recording.js";

const UID = "6f1c2a9e-0000-4000-8000-000000000001";
const OTHER_UID = "6f1c2a9e-0000-4000-8000-000000000002";

function snapshot(state, extra = {}) {
  return {
    uid: UID,
    state,
    active: ["starting", "recording", "stopping"].includes(state),
    capturing: ["starting", "recording"].includes(state),
    elapsed: 0,
    started_by: 1,
    stop_reason: "",
    progress: 0,
    segment_seconds: 4,
    ...extra,
  };
}

function stateEvent({ leader = true, recording = null, session = "open" } = {}) {
  return {
    type: "state",
    role: leader ? "host" : "participant",
    is_leader: leader,
    user_id: leader ? 1 : 2,
    session: { id: 7, state: session, broadcast: false },
    recording,
    server_time: 1700000000.5,
    heartbeat_seconds: 15,
  };
}

const recordingEvent = (recording) => ({ type: "recording", recording });
const progressEvent = (progress, state = "processing", uid = UID) => ({ type: "progress", uid, progress, state });
const fileAvailable = {
  type: "file_available",
  recording_id: 3,
  entry_id: 9,
  url: "/media/9/",
  text: "Your recording file is available",
  notice_id: 4,
  seen_url: "/media/notices/4/seen/",
};

const run = (state, ...events) => events.reduce(reduce, state);
const host = () => reduce(initialState({ role: "host", isLeader: true }), stateEvent());
const participant = () => reduce(initialState({ role: "participant", isLeader: false }), stateEvent({ leader: false }));

function deepFreeze(value) {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    Object.values(value).forEach(deepFreeze);
  }
  return value;
}

describe("initial state and the state event", () => {
  test("before the server speaks: not ready, no recording, role from the page's config", () => {
    const state = initialState({ role: "moderator", isLeader: true, broadcast: true });
    assert.equal(state.ready, false);
    assert.equal(state.connection, "connecting");
    assert.equal(state.isLeader, true);
    assert.equal(state.session.broadcast, true);
    assert.equal(recordingView(state).indicator, false);
    assert.equal(recordingView(state).menuRecord, true);
    assert.equal(progressView(state).visible, false);
  });

  test("the state event makes the room ready and takes the server's word for who you are", () => {
    const state = reduce(initialState({ isLeader: false }), stateEvent({ leader: true }));
    assert.equal(state.ready, true);
    assert.equal(state.connection, "open");
    assert.equal(state.isLeader, true);
    assert.equal(state.role, "host");
    assert.equal(state.userId, 1);
    assert.equal(state.heartbeatSeconds, 15);
    assert.deepEqual(state.session, { id: 7, state: "open", broadcast: false });
  });

  test("a host joining late sees the indicator, the counter at the right time and the stop button", () => {
    const state = reduce(initialState({ isLeader: true }), stateEvent({ recording: snapshot("recording", { elapsed: 42.5 }) }));
    const view = recordingView(state);
    assert.equal(view.indicator, true);
    assert.equal(view.starting, false);
    assert.equal(view.counter, true);
    assert.equal(view.elapsed, 42.5);
    assert.equal(view.stopButton, true);
    assert.equal(view.menuRecord, false);
    assert.equal(view.menuStop, true);
    assert.deepEqual(captureView(state), { uid: UID, segmentSeconds: 4 });
  });

  test("a participant joining late sees the indicator only, and captures", () => {
    const state = reduce(initialState(), stateEvent({ leader: false, recording: snapshot("recording", { elapsed: 5 }) }));
    const view = recordingView(state);
    assert.equal(view.indicator, true);
    assert.equal(view.counter, false);
    assert.equal(view.stopButton, false);
    assert.equal(view.menuRecord, false);
    assert.notEqual(captureView(state), null);
  });

  test("a reconnect's state event replaces what was drawn before", () => {
    const before = run(host(), recordingEvent(snapshot("recording", { elapsed: 10 })));
    const after = reduce(before, stateEvent());
    assert.equal(after.recording, null);
    assert.equal(recordingView(after).indicator, false);
    assert.equal(captureView(after), null);
  });
});

describe("recording transitions", () => {
  test("starting, recording, stopping, processing", () => {
    let state = host();

    state = reduce(state, recordingEvent(snapshot("starting")));
    let view = recordingView(state);
    assert.equal(view.state, "starting");
    assert.equal(view.indicator, true);
    assert.equal(view.starting, true);
    assert.equal(view.counter, false, "no counter before capture has begun");
    assert.equal(view.stopButton, true);
    assert.equal(view.menuRecord, false);
    assert.equal(view.menuStop, true);
    assert.deepEqual(captureView(state), { uid: UID, segmentSeconds: 4 });

    state = reduce(state, recordingEvent(snapshot("recording", { elapsed: 1.2 })));
    view = recordingView(state);
    assert.equal(view.state, "recording");
    assert.equal(view.starting, false);
    assert.equal(view.counter, true);
    assert.equal(view.elapsed, 1.2);

    state = reduce(state, recordingEvent(snapshot("stopping", { elapsed: 20 })));
    view = recordingView(state);
    assert.equal(view.indicator, false);
    assert.equal(view.counter, false);
    assert.equal(view.stopButton, false);
    assert.equal(view.menuStop, false);
    assert.equal(view.menuRecord, false, "still active: no second Record yet");
    assert.equal(captureView(state), null, "capture stops once the server stops capturing");
    assert.equal(progressView(state).visible, false);

    state = reduce(state, recordingEvent(snapshot("processing", { progress: 10 })));
    view = recordingView(state);
    assert.equal(view.indicator, false);
    assert.equal(view.menuRecord, true, "a new recording may start while this one is processed");
    assert.deepEqual(progressView(state), { visible: true, value: 10 });
  });

  test("participants never get the processing bar from a recording event", () => {
    const state = run(participant(), recordingEvent(snapshot("processing", { progress: 30 })));
    assert.equal(progressView(state).visible, false);
    assert.equal(recordingView(state).indicator, false);
  });

  test("a recording event of null clears the indicator", () => {
    const state = run(host(), recordingEvent(snapshot("recording")), recordingEvent(null));
    assert.equal(recordingView(state).state, "none");
    assert.equal(recordingView(state).indicator, false);
    assert.equal(captureView(state), null);
  });
});

describe("the processing bar", () => {
  test("follows progress events while processing", () => {
    const state = run(host(), progressEvent(40), progressEvent(97));
    assert.deepEqual(progressView(state), { visible: true, value: 97 });
  });

  test("is hidden when the file is available (it used to stay at 97%)", () => {
    const before = run(host(), recordingEvent(snapshot("processing")), progressEvent(97));
    assert.equal(progressView(before).visible, true);
    const after = reduce(before, fileAvailable);
    assert.deepEqual(progressView(after), { visible: false, value: 97 });
  });

  test("is hidden when a recording event says that recording is no longer processing", () => {
    const before = run(host(), progressEvent(97));
    for (const phase of ["available", "failed", "held"]) {
      const after = reduce(before, recordingEvent(snapshot(phase, { progress: 97 })));
      assert.equal(progressView(after).visible, false, phase);
    }
  });

  test("is hidden when a progress event says the state is no longer processing, or at 100%", () => {
    assert.equal(progressView(run(host(), progressEvent(60), progressEvent(60, "failed"))).visible, false);
    assert.equal(progressView(run(host(), progressEvent(60), progressEvent(97, "held"))).visible, false);
    assert.equal(progressView(run(host(), progressEvent(60), progressEvent(100))).visible, false);
  });

  test("is not hidden by another recording starting meanwhile", () => {
    const state = run(
      host(),
      progressEvent(50),
      recordingEvent(snapshot("starting", { uid: OTHER_UID })),
      recordingEvent(snapshot("recording", { uid: OTHER_UID })),
    );
    assert.deepEqual(progressView(state), { visible: true, value: 50 });
    assert.equal(recordingView(state).indicator, true);
  });

  test("is hidden when the session ends (no more events can come)", () => {
    const state = run(host(), progressEvent(70), { type: "session_ended", reason: "ended_by_host", text: "Bye." });
    assert.equal(progressView(state).visible, false);
  });
});

describe("sessions and the connection", () => {
  test("a broadcast goes live", () => {
    let state = reduce(initialState({ broadcast: true }), stateEvent({ session: "preview" }));
    assert.equal(sessionView(state).live, false);
    state = reduce(state, { type: "session", state: "live" });
    assert.equal(sessionView(state).live, true);
  });

  test("the session ends: card text, no recording, no capture, and later socket news is ignored", () => {
    let state = run(host(), recordingEvent(snapshot("recording")));
    state = reduce(state, { type: "session_ended", reason: "room_closed", text: "The host closed the room." });
    assert.deepEqual(sessionView(state), { live: false, ended: true, endedText: "The host closed the room." });
    assert.equal(state.recording, null);
    assert.equal(captureView(state), null);
    assert.equal(state.connection, "ended");
    assert.equal(reduce(state, { type: "connection", status: "reconnecting" }).connection, "ended");
  });

  test("connection news from the socket", () => {
    let state = initialState();
    state = reduce(state, { type: "connection", status: "open" });
    assert.equal(state.connection, "open");
    state = reduce(state, { type: "connection", status: "reconnecting" });
    assert.equal(state.connection, "reconnecting");
    state = reduce(state, { type: "connection", status: "not_allowed" });
    assert.equal(state.connection, "not_allowed");
  });
});

describe("purity", () => {
  test("events never mutate the state they are given", () => {
    const events = [
      stateEvent({ recording: snapshot("recording") }),
      recordingEvent(snapshot("processing", { progress: 5 })),
      progressEvent(50),
      recordingEvent(snapshot("available", { progress: 100 })),
      progressEvent(97),
      fileAvailable,
      { type: "session", state: "live" },
      { type: "connection", status: "reconnecting" },
      { type: "session_ended", reason: "ended_by_host", text: "Bye." },
    ];
    let state = deepFreeze(initialState({ isLeader: true }));
    for (const event of events) state = deepFreeze(reduce(state, deepFreeze(event)));
    assert.equal(state.ended.text, "Bye.");
  });

  test("events that are only things to say or do leave the state as it is", () => {
    const state = host();
    for (const event of [
      { type: "notice", code: "recording_started", text: "This session is being recorded", level: "info" },
      { type: "clock_probe", server_time: 1700000001 },
      { type: "ack", id: 1, command: "start_recording", created: true, uid: UID },
      { type: "error", error: "Only hosts and moderators can do that.", id: 2 },
      { type: "something_new" },
      null,
      {},
    ]) {
      assert.equal(reduce(state, event), state);
    }
  });
});

test("the counter's format", () => {
  assert.equal(formatElapsed(0), "00:00");
  assert.equal(formatElapsed(5.9), "00:05");
  assert.equal(formatElapsed(61), "01:01");
  assert.equal(formatElapsed(3600 + 62), "1:01:02");
  assert.equal(formatElapsed(-3), "00:00");
});
