// The live room's entry point: wires the socket, the pure state reducer, capture, the upload queue
// and the view modules together. Everything the page needs from the server comes in
// #room-config (json_script): roomId, role, isLeader, broadcast, wsPath, mediaPanelUrl, homeUrl, iceServers, userName
// and texts (each app's notices.py, gathered in rooms/notices.py). State markers for tests and styles live on #room as data-*:
// data-ready, data-recording, data-progress, data-capturing, data-segments-acked, data-consent.

import { createCapture, randomId } from "./capture.js";
import { $, csrfToken } from "./dom.js";
import { createJournal } from "./journal.js";
import { MESH_ID, createMesh } from "./mesh.js";
import { createSocket } from "./socket.js";
import { captureView, initialState, reduce } from "./state.js";
import { createBroadcastBadge } from "./ui/broadcast.js";
import { createConnectionStatus } from "./ui/connection.js";
import { createConsent } from "./ui/consent.js";
import { createDevices } from "./ui/devices.js";
import { wireDialog, wireMenu } from "./ui/dialogs.js";
import { createMeeting } from "./ui/meeting.js";
import { createMediaPanel } from "./ui/media-panel.js";
import { createPresentation } from "./ui/presentation.js";
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
const devices = createDevices({
  texts,
  notify: showNotice,
  onScreenChange: () => {
    capture.sync();
    mesh.setScreen(devices.screenStream);
    mediaChanged();
  },
  onToggle: () => mediaChanged(),
});
const capture = createCapture({
  roomId: config.roomId,
  devices,
  enqueue: (item) => uploader.enqueue(item),
  journal,
  onChange: (capturing) => (root.dataset.capturing = capturing ? "1" : "0"),
});

// --- the meeting: everyone's camera and microphone over the mesh, the participant list ----------
const meeting = createMeeting({
  isLeader: config.isLeader,
  broadcast: !!config.broadcast,
  devices,
  onMute: (peer) => socket.command("mute", { peer }),
  onSpeaker: (peer, speaker) => socket.command("speaker", { peer, speaker }),
});
const mesh = createMesh({
  send: (message) => socket.send(message),
  iceServers: config.iceServers || [],
  onChange: () => drawMeeting(),
});
meeting.setMesh(mesh);
let myRole = config.role;

function drawMeeting() {
  meeting.render({
    name: config.userName || "",
    role: myRole,
    sends: mesh.sends,
    mic: devices.micOn,
    cam: devices.camOn,
  });
}

// This page's microphone, camera or screen changed: the others are told, the tiles redrawn.
function mediaChanged() {
  if (mesh.selfId && mesh.sends) {
    const screen = devices.screenStream ? devices.screenStream.id : null;
    socket.send({ type: "media_state", id: MESH_ID, mic: devices.micOn, cam: devices.camOn, screen });
  }
  drawMeeting();
}

let released = false; // the devices were let go because this page may not send (yet)
let reopening = false;

function onRoster(message) {
  if (!message.sends && devices.camStream) {
    // A broadcast's viewer, or past the mesh's sender limit (a notice says which): nothing is sent.
    devices.release();
    released = true;
    mesh.setLocal(null);
    capture.sync();
  }
  mediaChanged();
  if (message.sends && released && !reopening) {
    // A viewer invited to speak: camera and microphone open switched off, the person turns them on.
    reopening = true;
    devices.open({ off: true }).finally(() => {
      reopening = false;
      if (!mesh.sends) return devices.release(); // taken back meanwhile
      released = false;
      mesh.setLocal(devices.camStream);
      capture.sync();
      mediaChanged();
    });
  }
}

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
  if (state.role !== prev.role) myRole = state.role;
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
      mesh.close();
      break;
    case "consent":
      // The person's own sockets in every room hear it; only this room's recording concerns this page.
      if (!state.recording || state.recording.uid !== message.recording_uid) break;
      showNotice(message.text, { level: message.answer === "agree" ? "success" : "info", code: "consent" });
      break;
    case "error":
      if (message.id === MESH_ID) console.warn("mesh:", message.error);
      else showNotice(message.error, { level: "error", code: "error" });
      break;
    case "roster":
      onRoster(message); // the mesh has had it (MESH_EVENTS)
      break;
    case "mute_request":
      // A host or moderator muted us; the button stays ours to unmute.
      devices.setMic(false);
      showNotice(message.text, { level: "info", code: "mesh_muted" });
      break;
    default:
      break;
  }
}

// --- what is presented from Media and Files (issue 11) ------------------------------------------
const presentation = createPresentation({
  config,
  command: (type, extra) => socket.command(type, extra),
  notify: showNotice,
});
window.roomPresentation = presentation; // the browser tests and bench/present_bench.py read its clock

// The socket opens while the camera and microphone start (0.1 s to seconds): its handshake and the
// server's join overlap them. What it says is handled once they are ready, in order, as if it had
// opened after them: the recording's capture needs this page's tracks. The mesh takes its part at
// once: it answers the offers of those already there before the tracks are ready (mesh.js sendLater).
let devicesReady = false;
const early = [];
const whenReady = (handler) => (arg) => (devicesReady ? handler(arg) : early.push(() => handler(arg)));
const MESH_EVENTS = new Set(["roster", "peer_joined", "peer_left", "peer_state", "signal"]);
const later = whenReady((message) => {
  dispatch(message);
  effects(message);
  presentation.handle(message); // "state", "presentation", "clock_probe": the stage's presented item
});

const socket = createSocket({
  path: config.wsPath,
  onMessage: (message) => {
    if (MESH_EVENTS.has(message.type)) mesh.handle(message);
    later(message);
  },
  onStatus: whenReady((status) => {
    dispatch({ type: "connection", status });
    if (status === "not_allowed") showNotice(texts.not_allowed, { level: "error", code: "not_allowed", sticky: true });
  }),
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
    onPresent: (entry) => socket.command("present_start", { entry }),
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
socket.connect();
// A broadcast's viewer is asked for no camera or microphone (nobody who only watches sees a device
// prompt); invited to speak, onRoster opens them.
const watching = !!config.broadcast && !config.isLeader;
if (watching) {
  devices.release();
  released = true;
}
(watching ? Promise.resolve() : devices.open()).finally(() => {
  mesh.setLocal(devices.camStream);
  drawMeeting();
  devicesReady = true;
  early.splice(0).forEach((handle) => handle());
  uploader.pump(); // anything left from before a reload or a crash goes up now
});
