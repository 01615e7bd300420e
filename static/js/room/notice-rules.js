// Which live notice replaces which, and how each is announced: pure rules, no DOM (tests/js/notices.test.mjs).
//
// A recording's progress is told in steps (recording_starting, then recording_started, then
// recording_ended, then file_available; texts in recordings/notices.py, written once there); each
// step makes the ones before it stale, so a newer step replaces them instead of stacking under
// them. Warnings and errors (a stop reason, a failure) are never replaced by a later step: they
// stay until dismissed. The same notice twice is shown once.

// code -> its step in a recording's life. Codes are the server's (recordings/notices.py,
// recordings/events.py); "file_available" is the FileAvailable event's.
const STEP = {
  recording_starting: 0,
  recording_in_progress: 1, // a late joiner's "starting" or "being recorded"
  recording_started: 1,
  recording_paused: 1, // pausing and resuming replace each other and "being recorded"
  recording_resumed: 1,
  recording_stop_reason: 2,
  recording_ended: 2,
  recording_completed: 2,
  recording_publish_retry: 3,
  recording_held: 3,
  recording_failed: 3,
  file_available: 3,
  file_available_owner_only: 3,
};

// The notices that only say where a recording is: a later (or the same) step makes them stale.
const PROGRESS = new Set([
  "recording_starting",
  "recording_in_progress",
  "recording_started",
  "recording_paused",
  "recording_resumed",
  "recording_ended",
  "recording_completed",
  "recording_publish_retry",
]);

// Where the person stands in a broadcast (meetings/notices.py): each says it all, so the newest replaces
// the others ("you are watching" is stale once invited to speak, and the invitation once taken back).
const STANDING = new Set(["mesh_viewer", "speaker_invited", "speaker_ended"]);

// Does `incoming` ({code, text}) replace `shown` ({code, text})?
export function replaces(incoming, shown) {
  if (!incoming || !shown || !incoming.code || !shown.code) return false;
  if (incoming.code === shown.code && incoming.text === shown.text) return true;
  if (STANDING.has(incoming.code) && STANDING.has(shown.code)) return true;
  if (!PROGRESS.has(shown.code) || !(incoming.code in STEP)) return false;
  return STEP[shown.code] <= STEP[incoming.code];
}

// The shown notices that `incoming` replaces, in their order.
export function superseded(shown, incoming) {
  return shown.filter((notice) => replaces(incoming, notice));
}

// How a notice is announced: errors interrupt (role=alert, assertive); everything else is said
// politely by the #notices live region (role=status) it is added to.
export function announceRole(level) {
  return level === "error" ? "alert" : null;
}
