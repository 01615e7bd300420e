// The live room's entry point: wires the socket, the pure state reducer, capture, the upload queue
// and the view modules together. Everything the page needs from the server comes in
// #room-config (json_script): roomId, role, isLeader, broadcast, wsPath, mediaPanelUrl, homeUrl
// and texts (each app's notices.py, gathered in rooms/notices.py). State markers for tests and styles live on #room as data-*:
// data-ready, data-recording, data-progress, data-capturing, data-segments-acked, data-consent.

import { createCapture, randomId } from "./capture.js";
import { $, csrfToken } from "./dom.js";
import { createJournal } from "./journal.js";
import { createSocket } from "./socket.js";
import { captureView, initialState, reduce } from "./state.js";
import { createBroadcastBadge } from "./ui/broadcast.js";
import { createConnectionStatus } from "./ui/connection.js";
import { createConsent } from "./ui/consent.js";
import { createDevices } from "./ui/devices.js";
import { wireDialog, wireMenu } from "./ui/dialogs.js";
import { createMediaPanel } from "./ui/media-panel.js";
import { enhanceShownNotices, noticeLevel, showNotice } from "./ui/notices.js";
import { createProgressBar } from "./ui/progress.js";
import { createRecordingIndicator } from "./ui/recording.js";
import { createUploader } from "./uploads.js";

const config = JSON.parse($("room-config").textContent);
const texts = config.texts;
const root = $("room");

// --- media: devices, capture, uploads ---------------------------------------------------------
const uploader = createUploader({
  roomId: config.roomId,
  onAcked: () => (root.dataset.segmentsAcked = String(Number(root.dataset.segmentsAcked || 0) + 1)),
});
// What this page records is journaled as it comes; what a page before it (a reload, a crash) left
// unfinished is queued from the journal as soon as that page is gone.
const journal = createJournal({
  pageId: randomId("page"),
  enqueue: (item) => uploader.enqueue(item),
  queuedKeys: () => uploader.keys(),
});
const devices = createDevices({ texts, notify: showNotice, onScreenChange: () => capture.syncScreen() });
const capture = createCapture({
  roomId: config.roomId,
  devices,
  enqueue: (item) => uploader.enqueue(item),
  journal,
  onChange: (capturing) => (root.dataset.capturing = capturing ? "1" : "0"),
});

// --- state and its views ----------------------------------------------------------------------
const views = [
  createConnectionStatus({ root }),
  createRecordingIndicator({ root }),
  createProgressBar({ root }),
  createBroadcastBadge({ onGoLive: () => socket.command("go_live") }),
  createConsent({ root, onAnswer: (answer, uid) => socket.command("consent", { answer, recording: uid }) }),
];
let state = initialState(config);

function dispatch(event) {
  const prev = state;
  state = reduce(state, event);
  if (state === prev) return;
  if (state.ready) root.dataset.ready = "1";
  views.forEach((view) => view.render(state, prev));
  capture.follow(captureView(state));
}

// Things to say or do that are not state.
function effects(message) {
  switch (message.type) {
    case "notice":
      showNotice(message.text, { level: noticeLevel(message.level), code: message.code });
      break;
    case "file_available":
      showNotice(message.text, { level: "success", code: "file_available", link: message.url, sticky: true });
      if (message.seen_url) {
        // Seen here, live: it must not be shown again on the next page load.
        fetch(message.seen_url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } });
      }
      break;
    case "session_ended":
      showNotice(message.text, { level: "warning", code: "session_ended", sticky: true });
      break;
    case "consent":
      // The person's own sockets in every room hear it; only this room's recording concerns this page.
      if (!state.recording || state.recording.uid !== message.recording_uid) break;
      showNotice(message.text, { level: message.answer === "agree" ? "success" : "info", code: "consent" });
      break;
    case "error":
      showNotice(message.error, { level: "error", code: "error" });
      break;
    default:
      break;
  }
}

const socket = createSocket({
  path: config.wsPath,
  onMessage: (message) => {
    dispatch(message);
    effects(message);
  },
  onStatus: (status) => {
    dispatch({ type: "connection", status });
    if (status === "not_allowed") showNotice(texts.not_allowed, { level: "error", code: "not_allowed", sticky: true });
  },
});

// --- controls of hosts and moderators ---------------------------------------------------------
if (config.isLeader) {
  const menu = wireMenu($("btn-more"), $("more-menu"));
  // Where the focus goes when what opened a dialog is gone (the square stop button, once stopped).
  const fallback = { fallback: () => menu.button };
  const startDlg = wireDialog($("dlg-start"), $("dlg-start-confirm"), () => socket.command("start_recording"), fallback);
  const stopDlg = wireDialog($("dlg-stop"), $("dlg-stop-confirm"), () => socket.command("stop_recording"), fallback);
  const endDlg = wireDialog($("dlg-end"), $("dlg-end-confirm"), () => socket.command("end_session"), fallback);
  const closeRoom = $("dlg-end-close");
  if (closeRoom) {
    // Broadcast rooms: closing the room completely is what lets the recording appear.
    closeRoom.addEventListener("click", () => {
      endDlg.close();
      socket.command("end_session", { close_room: true });
    });
  }
  const mediaPanel = createMediaPanel({
    panel: $("media-panel"),
    body: $("media-panel-body"),
    closeButton: $("media-panel-close"),
    title: $("media-panel-title"),
    url: config.mediaPanelUrl,
  });
  menu.item($("menu-record"), (opener) => startDlg.open(opener));
  menu.item($("menu-stop"), (opener) => stopDlg.open(opener));
  // Pause and resume need no confirmation: each undoes the other (decision 0022).
  menu.item($("menu-pause"), () => socket.command("pause_recording"));
  menu.item($("menu-resume"), () => socket.command("resume_recording"));
  $("rec-pause").addEventListener("click", (e) =>
    socket.command(e.currentTarget.dataset.paused === "1" ? "resume_recording" : "pause_recording"),
  );
  menu.item($("menu-media"), (opener) => mediaPanel.open(opener));
  $("rec-stop").addEventListener("click", (e) => stopDlg.open(e.currentTarget));
  $("btn-end").addEventListener("click", (e) => endDlg.open(e.currentTarget));
}

// --- start ------------------------------------------------------------------------------------
enhanceShownNotices();
views.forEach((view) => view.render(state, null));
journal.recoverOrphans(); // the unfinished segments of pages gone before this one are queued
devices.open().finally(() => {
  socket.connect();
  uploader.pump(); // anything left from before a reload or a crash goes up now
});
