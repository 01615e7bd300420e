// The recording indicator (everyone), and for hosts and moderators the elapsed-time counter, the
// pause/resume button beside the square stop button, and the Record / Pause / Resume / Stop recording
// items of the three-dots menu. Paused, the indicator says so and the counter stands still.

import { $ } from "../dom.js";
import { recordingView } from "../state.js";
import { LABELS } from "./labels.js";

export function formatElapsed(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function createRecordingIndicator({ root }) {
  const status = $("rec-status");
  const label = $("rec-label");
  const counter = $("rec-counter"); // hosts and moderators only
  const counterLabel = $("rec-counter-label"); // its name, hidden with it
  const stop = $("rec-stop");
  const pause = $("rec-pause");
  const menuRecord = $("menu-record");
  const menuStop = $("menu-stop");
  const menuPause = $("menu-pause");
  const menuResume = $("menu-resume");
  let counterTimer = null;

  function runCounter(elapsed, paused) {
    clearInterval(counterTimer);
    counterTimer = null;
    if (elapsed === null || !counter) return;
    if (paused) {
      counter.textContent = formatElapsed(elapsed); // the server's recorded time, standing still
      return;
    }
    // Counted locally from the server's elapsed time at the moment the snapshot arrived.
    const base = performance.now() - elapsed * 1000;
    const tick = () => (counter.textContent = formatElapsed((performance.now() - base) / 1000));
    tick();
    counterTimer = setInterval(tick, 500);
  }

  function render(state, prev) {
    if (prev && state.recording === prev.recording && state.isLeader === prev.isLeader) return;
    const view = recordingView(state);
    status.hidden = !view.indicator;
    status.dataset.state = view.state;
    status.dataset.paused = view.paused ? "1" : "0";
    label.textContent = view.starting ? LABELS.startingRecording : view.paused ? LABELS.paused : LABELS.recording;
    root.dataset.recording = view.state;
    root.dataset.paused = view.paused ? "1" : "0";
    if (pause) {
      pause.hidden = !view.pauseButton;
      pause.dataset.paused = view.paused ? "1" : "0";
      const name = view.paused ? LABELS.resumeRecording : LABELS.pauseRecording;
      pause.setAttribute("aria-label", name);
      pause.title = name;
    }
    if (menuPause) menuPause.hidden = !view.menuPause;
    if (menuResume) menuResume.hidden = !view.menuResume;
    if (counter) counter.hidden = counterLabel.hidden = !view.counter;
    if (stop) stop.hidden = !view.stopButton;
    if (menuRecord) menuRecord.hidden = !view.menuRecord;
    if (menuStop) menuStop.hidden = !view.menuStop;
    runCounter(view.counter ? view.elapsed : null, view.paused);
  }

  return { render };
}
