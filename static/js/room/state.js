// The room's state as a pure function of what the server said: reduce(state, event) -> newState.
//
// No DOM, no clock, no globals: the view is derived from server snapshots (core/events.py is the
// catalogue of events), so a late joiner, a reconnect and a live change all draw the same way.
// Besides the server's events the reducer takes one event of the page's own,
// {type: "connection", status: "open" | "reconnecting" | "not_allowed"}, from the socket.

const PROCESSING = "processing";

export function initialState(config = {}) {
  return {
    ready: false, // the first `state` event arrived
    connection: "connecting", // connecting | open | reconnecting | not_allowed | ended
    role: config.role ?? null,
    isLeader: !!config.isLeader,
    userId: null,
    session: { id: null, state: null, broadcast: !!config.broadcast },
    recording: null, // the server's recording snapshot, as sent
    progress: null, // {uid, progress, state, visible}: the hosts' "Processing recording… n%" bar
    ended: null, // {reason, text} once the session ended
    heartbeatSeconds: null,
    serverTime: null,
    consent: null, // {uid, answer: "agree" | "decline" | null}: this person's, for a recording that asks
  };
}

// Consent follows the recording it belongs to: a new recording that asks starts unanswered
// (null counts as declining), a recording that does not ask needs none.
function consentAfterRecording(consent, recording) {
  if (!recording || !recording.consent_required) return null;
  if (consent && consent.uid === recording.uid) return consent;
  return { uid: recording.uid, answer: null };
}

// The processing bar follows the recording it belongs to: shown while that recording is
// processing, hidden as soon as the server says it is anything else (or the file is available).
function progressAfterRecording(progress, recording, isLeader) {
  if (!isLeader || !recording) return progress;
  if (recording.state === PROCESSING) {
    return { uid: recording.uid, progress: recording.progress, state: PROCESSING, visible: recording.progress < 100 };
  }
  if (progress && progress.uid === recording.uid) return { ...progress, state: recording.state, visible: false };
  return progress;
}

function hidden(progress) {
  return progress && progress.visible ? { ...progress, visible: false } : progress;
}

export function reduce(state, event) {
  if (!event || typeof event.type !== "string") return state;
  switch (event.type) {
    case "state": {
      const recording = event.recording ?? null;
      const isLeader = !!event.is_leader;
      return {
        ...state,
        ready: true,
        connection: state.ended ? state.connection : "open",
        role: event.role,
        isLeader,
        userId: event.user_id,
        session: { ...state.session, ...event.session },
        recording,
        progress: progressAfterRecording(state.progress, recording, isLeader),
        consent: consentAfterRecording(event.consent ?? state.consent, recording),
        heartbeatSeconds: event.heartbeat_seconds,
        serverTime: event.server_time,
      };
    }
    case "session":
      return { ...state, session: { ...state.session, state: event.state } };
    case "session_ended":
      // Nothing more will arrive (the socket closes), so nothing may stay drawn as in progress.
      return {
        ...state,
        ended: { reason: event.reason, text: event.text },
        connection: "ended",
        recording: null,
        progress: hidden(state.progress),
      };
    case "recording": {
      const recording = event.recording ?? null;
      return {
        ...state,
        recording,
        progress: progressAfterRecording(state.progress, recording, state.isLeader),
        consent: consentAfterRecording(state.consent, recording),
      };
    }
    case "consent": {
      // Another tab of this person may have answered: only the current recording's answer counts.
      const uid = state.recording ? state.recording.uid : null;
      if (event.recording_uid !== uid) return state;
      return { ...state, consent: { uid, answer: event.answer } };
    }
    case "progress":
      return {
        ...state,
        progress: {
          uid: event.uid,
          progress: event.progress,
          state: event.state,
          visible: event.state === PROCESSING && event.progress < 100,
        },
      };
    case "file_available":
      return { ...state, progress: hidden(state.progress) };
    case "connection":
      if (state.ended) return state; // the socket closing after the end says nothing new
      return { ...state, connection: event.status };
    default:
      // notice, clock_probe, ack, error: things to do or say, not state.
      return state;
  }
}

// --- Views derived from the state (pure too) -------------------------------------------------

export function recordingView(state) {
  const rec = state.recording;
  const phase = rec ? rec.state : "none";
  const recording = phase === "recording";
  const starting = phase === "starting";
  const leader = state.isLeader;
  // Paused (decision 0022): still "recording" on the server; the counter stands still.
  const paused = recording && !!rec.paused;
  return {
    state: phase,
    indicator: recording || starting,
    starting,
    paused,
    counter: leader && recording,
    stopButton: leader && (recording || starting),
    pauseButton: leader && recording,
    menuRecord: leader && !(rec && rec.active),
    menuStop: leader && (recording || starting),
    menuPause: leader && recording && !paused,
    menuResume: leader && paused,
    elapsed: rec && typeof rec.elapsed === "number" ? rec.elapsed : 0,
  };
}

export function captureView(state) {
  const rec = state.recording;
  if (state.ended || !rec || !rec.capturing) return null;
  if (!consentView(state).recorded) return null; // not agreed (yet): nothing is recorded or uploaded
  const target = { uid: rec.uid, segmentSeconds: rec.segment_seconds };
  return rec.paused ? { ...target, paused: true } : target; // paused: recorders hold (capture.js)
}

export function progressView(state) {
  const p = state.progress;
  return { visible: !!p && p.visible, value: p ? p.progress : null };
}

export function sessionView(state) {
  return { live: state.session.state === "live", ended: !!state.ended, endedText: state.ended ? state.ended.text : "" };
}

// Consent to be recorded (ui/consent.js): `ask` the person (a running recording that asks, no
// answer yet); `recorded`: their media is taken; `notRecorded`: show "Not recorded — Change".
export function consentView(state) {
  const rec = state.recording;
  const asks = !!rec && !!rec.consent_required && !!rec.capturing && !state.ended;
  const answer = state.consent && rec && state.consent.uid === rec.uid ? state.consent.answer : null;
  return {
    uid: asks ? rec.uid : null,
    ask: asks && answer === null,
    answer,
    recorded: !asks || answer === "agree",
    notRecorded: asks && answer !== "agree",
  };
}
