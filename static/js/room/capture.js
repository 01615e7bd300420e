// Capture of this browser's media while the room's recording is capturing: one recorder for
// camera+microphone, one for the shared screen. Each segment is a self-contained WebM file (a new
// MediaRecorder per segment, so every piece decodes on its own); the first is short so everyone
// is told "being recorded" quickly, the last one is flagged final. Each recorder hands its data
// over every TIMESLICE_MS, and each chunk goes to the journal (journal.js) as it comes, so a
// reload or a crash loses at most the last chunk of the segment in progress, not the segment.
// Paused (decision 0022), each recorder ends its segment (not its track) and records nothing until
// resumed: nothing of the pause is captured or uploaded; the same track continues afterwards.

import { TIMESLICE_MS } from "./recovery.js";

export const FIRST_SEGMENT_MS = 3000;

const NO_JOURNAL = { append: () => {}, drop: () => {} };

function pickMime(stream) {
  const video = stream.getVideoTracks().length > 0;
  const audio = stream.getAudioTracks().length > 0;
  const candidates = video
    ? audio
      ? ["video/webm;codecs=vp8,opus", "video/webm"]
      : ["video/webm;codecs=vp8", "video/webm"]
    : ["audio/webm;codecs=opus", "audio/webm"];
  return candidates.find((m) => MediaRecorder.isTypeSupported(m)) || "";
}

export function randomId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

class TrackRecorder {
  constructor({ stream, kind, roomId, recUid, segmentMs, enqueue, journal }) {
    this.stream = stream;
    this.kind = kind;
    this.roomId = roomId;
    this.recUid = recUid;
    this.segmentMs = segmentMs;
    this.enqueue = enqueue;
    this.journal = journal;
    this.clientId = randomId(kind);
    this.seq = 0;
    this.stopping = false;
    this.paused = false;
    this.mime = pickMime(stream);
  }

  start() {
    if (!this.paused) this.next(FIRST_SEGMENT_MS);
  }

  pause() {
    if (this.paused) return;
    this.paused = true;
    clearTimeout(this.timer);
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop(); // its piece is queued
  }

  resume() {
    if (!this.paused || this.stopping) return;
    this.paused = false;
    this.next(this.segmentMs);
  }

  next(ms) {
    const chunks = [];
    const recorder = new MediaRecorder(this.stream, this.mime ? { mimeType: this.mime } : undefined);
    const piece = {
      roomId: this.roomId,
      recUid: this.recUid,
      clientId: this.clientId,
      kind: this.kind,
      seq: this.seq++,
      start: Date.now(),
    };
    recorder.ondataavailable = (e) => {
      if (!e.data || !e.data.size) return;
      this.journal.append(piece, chunks.length, e.data, Date.now());
      chunks.push(e.data);
    };
    recorder.onstop = () => {
      const final = this.stopping;
      if (!final && !this.paused) this.next(this.segmentMs);
      const blob = new Blob(chunks, { type: "video/webm" });
      if (blob.size === 0) return this.journal.drop(piece);
      const item = { ...piece, blob, duration: Date.now() - piece.start, final, createdAt: Date.now() };
      // Queued whole, its chunks are dropped (if queueing failed they stay, for the next page to recover).
      Promise.resolve(this.enqueue(item)).then(
        () => this.journal.drop(piece),
        (err) => console.warn("segment not queued:", err),
      );
    };
    this.recorder = recorder;
    recorder.start(TIMESLICE_MS);
    this.timer = setTimeout(() => recorder.state !== "inactive" && recorder.stop(), ms);
  }

  stop() {
    this.stopping = true;
    clearTimeout(this.timer);
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
  }
}

// devices: {camStream, screenStream} read when capture begins and at sync() (a screen share begun or
// ended; a broadcast's viewer invited to speak, or back to watching).
export function createCapture({ roomId, devices, enqueue, journal = NO_JOURNAL, onChange = () => {} }) {
  let recUid = null;
  let segmentMs = 10000;
  let cam = null;
  let screen = null;
  let paused = false;

  const recorder = (stream, kind) => {
    const track = new TrackRecorder({ stream, kind, roomId, recUid, segmentMs, enqueue, journal });
    track.paused = paused; // a share begun during a pause starts recording on resume
    track.start();
    return track;
  };

  function setPaused(value) {
    if (value === paused) return;
    paused = value;
    for (const track of [cam, screen]) if (track) (paused ? track.pause() : track.resume());
    onChange(!!recUid && !paused);
  }

  // A recorder per stream the devices have now: one started for a new stream, stopped for a gone one.
  function follows(track, stream, kind) {
    if (track && track.stream === stream) return track;
    if (track) track.stop();
    return stream ? recorder(stream, kind) : null;
  }

  function sync() {
    if (!recUid) return;
    cam = follows(cam, devices.camStream, "camera");
    screen = follows(screen, devices.screenStream, "screen");
  }

  function end() {
    if (cam) cam.stop();
    if (screen) screen.stop();
    cam = screen = null;
    recUid = null;
    onChange(false);
  }

  function begin(uid, segmentSeconds, pausedNow = false) {
    if (recUid === uid) return setPaused(pausedNow);
    end();
    paused = pausedNow;
    recUid = uid;
    segmentMs = Math.max(1000, segmentSeconds * 1000);
    sync();
    onChange(!paused);
  }

  // Capture follows the derived view: {uid, segmentSeconds} to capture, null not to.
  function follow(target) {
    if (target) begin(target.uid, target.segmentSeconds, !!target.paused);
    else if (recUid) end();
  }

  return { begin, end, follow, sync, get recUid() { return recUid; } };
}
