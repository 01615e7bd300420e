// Consent in the room's pure reducer (static/js/room/state.js): a recording that asks starts
// unanswered, nothing is captured until "agree", and another tab's answer is followed.
//   node --test tests/js/

import assert from "node:assert/strict";
import { test } from "node:test";

import { captureView, consentView, initialState, reduce } from "../../static/js/room/state.js";

const UID = "6f1c2a9e-0000-4000-8000-00000000000a";
const rec = (state, extra = {}) => ({
  uid: UID, state, active: true, capturing: ["starting", "recording"].includes(state), elapsed: 0,
  started_by: 1, stop_reason: "", progress: 0, segment_seconds: 4, consent_required: true, ...extra,
});
const joined = (recording, consent = null) =>
  reduce(initialState({}), {
    type: "state", role: "participant", is_leader: false, user_id: 3, session: { id: 1, state: "live" },
    recording, server_time: 0, heartbeat_seconds: 10, consent,
  });

test("a recording that asks is not captured until the person agrees", () => {
  let s = reduce(joined(null), { type: "recording", recording: rec("starting") });
  assert.deepEqual(consentView(s), { uid: UID, ask: true, answer: null, recorded: false, notRecorded: true });
  assert.equal(captureView(s), null);
  s = reduce(s, { type: "consent", recording_uid: UID, answer: "decline", text: "" });
  assert.equal(consentView(s).ask, false);
  assert.equal(consentView(s).notRecorded, true);
  assert.equal(captureView(s), null);
  s = reduce(s, { type: "consent", recording_uid: UID, answer: "agree", text: "" });
  assert.deepEqual(captureView(s), { uid: UID, segmentSeconds: 4 });
  // The next state snapshot keeps the answer for the same recording.
  s = reduce(s, { type: "recording", recording: rec("recording") });
  assert.equal(consentView(s).answer, "agree");
});

test("an answer for another recording changes nothing; a room that does not ask records", () => {
  const s = joined(rec("recording"), { uid: UID, answer: null });
  assert.equal(reduce(s, { type: "consent", recording_uid: "other", answer: "agree", text: "" }), s);
  const open = joined(rec("recording", { consent_required: false }));
  assert.deepEqual(consentView(open), { uid: null, ask: false, answer: null, recorded: true, notRecorded: false });
  assert.deepEqual(captureView(open), { uid: UID, segmentSeconds: 4 });
});

test("a rejoining person who agreed is not asked again", () => {
  const s = joined(rec("recording"), { uid: UID, answer: "agree" });
  assert.equal(consentView(s).ask, false);
  assert.notEqual(captureView(s), null);
});
