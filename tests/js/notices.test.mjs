// The live notices' rules (static/js/room/notice-rules.js): which one replaces which.
//   node --test tests/js/

import assert from "node:assert/strict";
import { test } from "node:test";

import { announceRole, replaces, superseded } from "../../static/js/room/notice-rules.js";

const n = (code, text = code) => ({ code, text });
const STARTING = n("recording_starting", "Recording will start momentarily, please wait");
const STARTED = n("recording_started", "This session is being recorded");
const LATE_JOINER = n("recording_in_progress", "Recording will start momentarily, please wait");
const ENDED = n("recording_ended", "Recording ended, starting upload");
const COMPLETED = n("recording_completed", "The recording has completed");
const RETRY = n("recording_publish_retry");
const AVAILABLE = n("file_available", "Your recording file is available");
const FAILED = n("recording_failed", "The recording could not start: no camera, microphone or screen media reached the server in time.");
const REASON = n("recording_stop_reason", "The recording reached its 24-hour limit and was stopped automatically.");

test("each step of a recording replaces the steps before it", () => {
  assert.ok(replaces(STARTED, STARTING));
  assert.ok(replaces(STARTED, LATE_JOINER)); // a late joiner told "starting" then hears it began
  assert.ok(replaces(ENDED, STARTED));
  assert.ok(replaces(ENDED, STARTING)); // stopped before it began
  assert.ok(replaces(COMPLETED, STARTED));
  assert.ok(replaces(AVAILABLE, ENDED));
  assert.ok(replaces(AVAILABLE, RETRY));
  assert.ok(replaces(RETRY, ENDED));
  assert.ok(replaces(FAILED, ENDED));
  assert.ok(replaces(FAILED, STARTING));
  assert.ok(replaces(REASON, STARTED));
});

test("a later step is not replaced by an earlier one, and warnings and errors stay", () => {
  assert.ok(!replaces(STARTING, STARTED));
  assert.ok(!replaces(STARTING, ENDED)); // a new recording starting: the upload goes on
  assert.ok(!replaces(STARTED, ENDED));
  assert.ok(!replaces(ENDED, REASON)); // why it stopped stays beside "Recording ended"
  assert.ok(!replaces(AVAILABLE, FAILED));
  assert.ok(!replaces(STARTING, FAILED));
});

test("the same notice twice is shown once; different texts of one code both stay", () => {
  assert.ok(replaces(STARTED, { ...STARTED }));
  assert.ok(replaces(n("error", "Only hosts and moderators can do that."), n("error", "Only hosts and moderators can do that.")));
  assert.ok(!replaces(n("error", "One thing."), n("error", "Another thing.")));
  assert.ok(!replaces(n("broadcast_live"), STARTED));
  assert.ok(!replaces(STARTED, n("no_devices")));
});

test("notices without a code (the page's own, older markup) are never replaced", () => {
  assert.ok(!replaces(STARTED, { text: "Saved." }));
  assert.ok(!replaces({ text: "x" }, STARTING));
  assert.ok(!replaces(null, STARTING));
});

test("superseded keeps the shown order and leaves the rest", () => {
  const shown = [n("no_devices"), STARTING, REASON, LATE_JOINER];
  assert.deepEqual(superseded(shown, STARTED), [STARTING, LATE_JOINER]);
  assert.deepEqual(superseded(shown, n("broadcast_live")), []);
});

test("errors are announced at once, everything else politely", () => {
  assert.equal(announceRole("error"), "alert");
  for (const level of ["info", "warning", "success", undefined]) assert.equal(announceRole(level), null);
});

test("pausing and resuming replace each other and the recording's progress, never a warning", () => {
  const PAUSED = n("recording_paused", "Recording paused");
  const RESUMED = n("recording_resumed", "Recording resumed");
  assert.ok(replaces(PAUSED, STARTED)); // "being recorded" then "paused": one notice
  assert.ok(replaces(RESUMED, PAUSED));
  assert.ok(replaces(PAUSED, RESUMED)); // paused again
  assert.ok(replaces(ENDED, PAUSED)); // stopped while paused
  assert.ok(!replaces(PAUSED, REASON));
  assert.ok(!replaces(STARTING, PAUSED));
});

test("where a person stands in a broadcast: the newest of watching, invited and back to watching replaces the others", () => {
  const watching = n("mesh_viewer", "You are watching a broadcast.");
  const invited = n("speaker_invited", "A host invited you to speak.");
  const back = n("speaker_ended", "You are watching again.");
  assert.ok(replaces(invited, watching));
  assert.ok(replaces(back, invited));
  assert.ok(replaces(invited, back)); // invited again
  assert.ok(!replaces(invited, n("recording_started", "This session is being recorded")));
  assert.ok(!replaces(n("recording_started", "This session is being recorded"), invited));
});
