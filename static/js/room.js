// The live room: realtime state over one websocket, and capture of this browser's media while a
// recording runs. Segments are self-contained WebM files (one MediaRecorder per segment), kept in
// IndexedDB until the server acknowledges them, so a reload or a dropped network loses nothing.

const root = document.getElementById("room");
const ROOM_ID = Number(root.dataset.roomId);
const IS_LEADER = root.dataset.leader === "1";
const FIRST_SEGMENT_MS = 3000; // a short first piece tells everyone "being recorded" quickly
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------- notices
const noticeBox = document.getElementById("notices");

function showNotice(text, { level = "info", link = null, sticky = false } = {}) {
  const el = document.createElement("div");
  el.className = `notice notice-${level}`;
  el.dataset.text = text;
  el.textContent = text;
  if (link) {
    const a = document.createElement("a");
    a.href = link;
    a.textContent = "Open";
    a.className = "notice-link";
    el.append(" ", a);
  }
  noticeBox.append(el);
  if (!sticky) setTimeout(() => el.remove(), 9000);
  return el;
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

// ---------------------------------------------------------------------------------- media devices
let camStream = null;
let screenStream = null;

async function openDevices() {
  // Ask for camera and microphone; someone without them can still join (and be recorded with what they have).
  const attempts = [
    { video: { width: 1280, height: 720 }, audio: true },
    { video: false, audio: true },
    { video: { width: 1280, height: 720 }, audio: false },
  ];
  for (const constraints of attempts) {
    try {
      camStream = await navigator.mediaDevices.getUserMedia(constraints);
      break;
    } catch (err) {
      camStream = null;
    }
  }
  const hasVideo = !!camStream && camStream.getVideoTracks().length > 0;
  $("self-video").hidden = !hasVideo;
  $("self-nocam").hidden = hasVideo;
  if (hasVideo) $("self-video").srcObject = camStream;
  $("btn-cam").disabled = !hasVideo;
  $("btn-mic").disabled = !camStream || camStream.getAudioTracks().length === 0;
  if (!camStream) showNotice("No camera or microphone: you joined without them.", { level: "warning" });
}

function toggleTracks(kind, button) {
  if (!camStream) return;
  const tracks = kind === "audio" ? camStream.getAudioTracks() : camStream.getVideoTracks();
  const on = !(button.getAttribute("aria-pressed") === "true");
  tracks.forEach((t) => (t.enabled = on));
  button.setAttribute("aria-pressed", String(on));
  button.classList.toggle("tool-off", !on);
}

$("btn-mic").addEventListener("click", (e) => toggleTracks("audio", e.currentTarget));
$("btn-cam").addEventListener("click", (e) => toggleTracks("video", e.currentTarget));

$("btn-share").addEventListener("click", async () => {
  if (screenStream) return stopSharing();
  try {
    screenStream = await navigator.mediaDevices.getDisplayMedia({ video: { width: 1920, height: 1080 }, audio: false });
  } catch (err) {
    showNotice("Screen sharing was not started.", { level: "warning" });
    return;
  }
  const video = $("stage-video");
  video.srcObject = screenStream;
  video.hidden = false;
  $("stage-empty").hidden = true;
  $("stage").dataset.hasContent = "1";
  $("btn-share").setAttribute("aria-pressed", "true");
  $("btn-share").querySelector(".tool-label").textContent = "Stop sharing";
  screenStream.getVideoTracks()[0].addEventListener("ended", stopSharing);
  capture.syncScreen();
});

function stopSharing() {
  if (!screenStream) return;
  screenStream.getTracks().forEach((t) => t.stop());
  screenStream = null;
  $("stage-video").hidden = true;
  $("stage-video").srcObject = null;
  $("stage-empty").hidden = false;
  $("stage").dataset.hasContent = "0";
  $("btn-share").setAttribute("aria-pressed", "false");
  $("btn-share").querySelector(".tool-label").textContent = "Share screen";
  capture.syncScreen();
}

// ---------------------------------------------------------------------------------- durable upload queue
const DB_NAME = "liverec-segments";

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore("segments", { keyPath: "key" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function idb(mode, fn) {
  return dbPromise.then(
    (db) =>
      new Promise((resolve, reject) => {
        const tx = db.transaction("segments", mode);
        const result = fn(tx.objectStore("segments"));
        tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
      }),
  );
}

const dbPromise = openDb();

const uploader = {
  busy: false,
  backoff: 1000,
  async enqueue(item) {
    item.key = `${item.recUid}/${item.clientId}/${String(item.seq).padStart(6, "0")}`;
    await idb("readwrite", (store) => store.put(item));
    this.pump();
  },
  async pending() {
    return (await idb("readonly", (store) => store.getAll())) || [];
  },
  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        const items = (await this.pending()).filter((i) => i.roomId === ROOM_ID);
        if (!items.length) break;
        items.sort((a, b) => a.createdAt - b.createdAt);
        const outcome = await this.send(items[0]);
        if (outcome === "retry") {
          await new Promise((r) => setTimeout(r, this.backoff));
          this.backoff = Math.min(this.backoff * 2, 30000);
          continue;
        }
        this.backoff = 1000;
        await idb("readwrite", (store) => store.delete(items[0].key));
      }
    } finally {
      this.busy = false;
    }
  },
  async send(item) {
    const url = `/rooms/${item.roomId}/recordings/${item.recUid}/tracks/${item.clientId}/segments/${item.seq}`;
    let response;
    try {
      response = await fetch(url, {
        method: "PUT",
        body: item.blob,
        credentials: "same-origin",
        headers: {
          "Content-Type": "video/webm",
          "X-CSRFToken": csrfToken(),
          "X-Track-Kind": item.kind,
          "X-Segment-Start": String(item.start),
          "X-Segment-Duration": String(item.duration),
          "X-Final": item.final ? "1" : "0",
        },
      });
    } catch (err) {
      return "retry"; // network down: keep it and try again
    }
    if (response.ok) {
      root.dataset.segmentsAcked = String(Number(root.dataset.segmentsAcked || 0) + 1);
      return "done";
    }
    if (response.status >= 500 || response.status === 429 || response.status === 403) return "retry";
    // 4xx: the server will never take it (recording ended long ago, bad piece): drop it, say why.
    let message = `Upload refused (${response.status})`;
    try {
      message = (await response.json()).error || message;
    } catch (err) {}
    console.warn("segment dropped:", item.key, message);
    return "drop";
  },
};
window.addEventListener("online", () => uploader.pump());

// ---------------------------------------------------------------------------------- capture
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

function randomId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

class TrackRecorder {
  // Restarts MediaRecorder for every segment so each one decodes on its own.
  constructor(stream, kind, recUid, segmentMs) {
    this.stream = stream;
    this.kind = kind;
    this.recUid = recUid;
    this.segmentMs = segmentMs;
    this.clientId = randomId(kind);
    this.seq = 0;
    this.stopping = false;
    this.mime = pickMime(stream);
  }
  start() {
    this.next(FIRST_SEGMENT_MS);
  }
  next(ms) {
    const chunks = [];
    const recorder = new MediaRecorder(this.stream, this.mime ? { mimeType: this.mime } : undefined);
    const startedAt = Date.now();
    const seq = this.seq++;
    recorder.ondataavailable = (e) => e.data && e.data.size && chunks.push(e.data);
    recorder.onstop = () => {
      const final = this.stopping;
      if (!final) this.next(this.segmentMs);
      const blob = new Blob(chunks, { type: "video/webm" });
      if (blob.size > 0) {
        uploader.enqueue({
          roomId: ROOM_ID, recUid: this.recUid, clientId: this.clientId, kind: this.kind, seq, blob,
          start: startedAt, duration: Date.now() - startedAt, final, createdAt: Date.now(),
        });
      }
    };
    this.recorder = recorder;
    recorder.start();
    this.timer = setTimeout(() => recorder.state !== "inactive" && recorder.stop(), ms);
  }
  stop() {
    this.stopping = true;
    clearTimeout(this.timer);
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
  }
}

const capture = {
  recUid: null,
  segmentMs: 10000,
  cam: null,
  screen: null,
  begin(recUid, segmentSeconds) {
    if (this.recUid === recUid) return;
    this.end();
    this.recUid = recUid;
    this.segmentMs = Math.max(1000, segmentSeconds * 1000);
    if (camStream) {
      this.cam = new TrackRecorder(camStream, "camera", recUid, this.segmentMs);
      this.cam.start();
    }
    this.syncScreen();
    root.dataset.capturing = "1";
  },
  syncScreen() {
    if (!this.recUid) return;
    if (screenStream && !this.screen) {
      this.screen = new TrackRecorder(screenStream, "screen", this.recUid, this.segmentMs);
      this.screen.start();
    } else if (!screenStream && this.screen) {
      this.screen.stop();
      this.screen = null;
    }
  },
  end() {
    if (this.cam) this.cam.stop();
    if (this.screen) this.screen.stop();
    this.cam = this.screen = null;
    this.recUid = null;
    root.dataset.capturing = "0";
  },
};

// ---------------------------------------------------------------------------------- recording UI
let counterBase = null; // performance.now() at elapsed 0
let counterTimer = null;

function formatElapsed(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function renderRecording(rec) {
  const status = $("rec-status");
  const recording = !!rec && rec.state === "recording";
  const starting = !!rec && rec.state === "starting";
  status.hidden = !(recording || starting);
  status.dataset.state = rec ? rec.state : "none";
  $("rec-label").textContent = recording ? "Recording" : "Starting recording…";
  root.dataset.recording = rec ? rec.state : "none";
  if (IS_LEADER) {
    $("menu-record").hidden = !!rec && rec.active;
    $("menu-stop").hidden = !(rec && (recording || starting));
    const counter = $("rec-counter");
    counter.hidden = !recording;
    $("rec-stop").hidden = !(recording || starting);
    clearInterval(counterTimer);
    if (recording) {
      counterBase = performance.now() - rec.elapsed * 1000;
      const tick = () => (counter.textContent = formatElapsed((performance.now() - counterBase) / 1000));
      tick();
      counterTimer = setInterval(tick, 500);
    }
  }
  if (IS_LEADER && rec && rec.state === "processing") showProgress({ state: "processing", progress: rec.progress });
  if (rec && rec.capturing) capture.begin(rec.uid, rec.segment_seconds);
  else if (capture.recUid) capture.end();
}

function showProgress(msg) {
  root.dataset.progress = String(msg.progress);
  if (!IS_LEADER) return;
  const box = $("rec-progress");
  const done = msg.state !== "processing" || msg.progress >= 100;
  box.hidden = done;
  $("rec-progress-bar").value = msg.progress;
  $("rec-progress-label").textContent = `Processing recording… ${msg.progress}%`;
}

// ---------------------------------------------------------------------------------- websocket
let socket = null;
let heartbeatTimer = null;
let reconnectDelay = 1000;
let sessionEnded = false;
let commandSeq = 0;

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function command(type, extra = {}) {
  send({ type, id: ++commandSeq, ...extra });
}

function setConn(state, label) {
  const el = $("conn-status");
  el.dataset.state = state;
  el.textContent = label;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${root.dataset.wsPath}`);
  socket.onopen = () => {
    reconnectDelay = 1000;
    setConn("open", "Connected");
  };
  socket.onmessage = (e) => handle(JSON.parse(e.data));
  socket.onclose = (e) => {
    clearInterval(heartbeatTimer);
    if (sessionEnded) return;
    if (e.code === 4403) {
      setConn("closed", "Not allowed");
      showNotice("You can no longer join this room.", { level: "error", sticky: true });
      return;
    }
    setConn("reconnecting", "Reconnecting…");
    setTimeout(connect, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, 15000);
  };
}

function handle(msg) {
  switch (msg.type) {
    case "state":
      root.dataset.ready = "1";
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(() => send({ type: "heartbeat" }), msg.heartbeat_seconds * 1000);
      renderRecording(msg.recording);
      renderSession(msg.session.state);
      break;
    case "session":
      renderSession(msg.state);
      break;
    case "recording":
      renderRecording(msg.recording);
      break;
    case "notice":
      showNotice(msg.text, { level: msg.level === "error" ? "error" : msg.level === "warning" ? "warning" : "info" });
      break;
    case "clock_probe":
      send({ type: "clock_reply", server_time: msg.server_time, client_time: Date.now() });
      break;
    case "file_available":
      showNotice(msg.text, { level: "success", link: msg.url, sticky: true });
      if (msg.seen_url) {
        // Seen here, live: it must not be shown again on the next page load.
        fetch(msg.seen_url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } });
      }
      break;
    case "progress":
      showProgress(msg);
      break;
    case "session_ended":
      sessionEnded = true;
      capture.end();
      renderRecording(null);
      $("ended-text").textContent = msg.text;
      $("ended-card").hidden = false;
      root.classList.add("room-ended");
      showNotice(msg.text, { level: "warning", sticky: true });
      setConn("closed", "Session ended");
      break;
    case "error":
      showNotice(msg.error, { level: "error" });
      break;
    case "ack":
      break;
    default:
      console.debug("unhandled message", msg);
  }
}

// A broadcast starts in preview: hosts see "Go live", everyone sees which it is.
function renderSession(state) {
  const badge = $("broadcast-state");
  if (!badge) return;
  const live = state === "live";
  badge.textContent = live ? "Live" : "Preview";
  badge.dataset.state = live ? "live" : "preview";
  const goLive = $("btn-go-live");
  if (goLive) goLive.hidden = live;
}

// ---------------------------------------------------------------------------------- controls
function wireDialog(dialogId, confirmId, onConfirm) {
  const dialog = $(dialogId);
  dialog.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => dialog.close()));
  $(confirmId).addEventListener("click", () => {
    dialog.close();
    onConfirm();
  });
  return dialog;
}

if (IS_LEADER) {
  const menu = $("more-menu");
  const more = $("btn-more");
  const closeMenu = () => {
    menu.hidden = true;
    more.setAttribute("aria-expanded", "false");
  };
  more.addEventListener("click", (e) => {
    e.stopPropagation();
    menu.hidden = !menu.hidden;
    more.setAttribute("aria-expanded", String(!menu.hidden));
  });
  document.addEventListener("click", closeMenu);
  document.addEventListener("keydown", (e) => e.key === "Escape" && closeMenu());

  const startDlg = wireDialog("dlg-start", "dlg-start-confirm", () => command("start_recording"));
  const stopDlg = wireDialog("dlg-stop", "dlg-stop-confirm", () => command("stop_recording"));
  const endDlg = wireDialog("dlg-end", "dlg-end-confirm", () => command("end_session"));
  if ($("dlg-end-close")) {
    // Broadcast rooms: closing the room completely is what lets the recording appear.
    $("dlg-end-close").addEventListener("click", () => (endDlg.close(), command("end_session", { close_room: true })));
  }
  if ($("btn-go-live")) $("btn-go-live").addEventListener("click", () => command("go_live"));
  $("menu-record").addEventListener("click", () => (closeMenu(), startDlg.showModal()));
  $("menu-stop").addEventListener("click", () => (closeMenu(), stopDlg.showModal()));
  $("rec-stop").addEventListener("click", () => stopDlg.showModal());
  $("btn-end").addEventListener("click", () => endDlg.showModal());

  // Media and Files opens in a side panel, so hosts never leave the room: links marked
  // data-panel-href load into it and forms marked data-panel-form submit into it (the
  // fragment's contract, templates/media_library/_room_media_panel.html).
  const panel = $("media-panel");
  const body = $("media-panel-body");
  const loadPanel = async (url, init = {}) => {
    try {
      const response = await fetch(url, { credentials: "same-origin", ...init });
      body.innerHTML = response.status < 500 ? await response.text() : "<p class='muted'>Media and Files could not be opened.</p>";
    } catch (err) {
      body.innerHTML = "<p class='muted'>Media and Files could not be opened.</p>";
    }
  };
  $("menu-media").addEventListener("click", () => {
    closeMenu();
    panel.hidden = false;
    loadPanel(root.dataset.mediaPanelUrl);
  });
  body.addEventListener("click", (e) => {
    const link = e.target.closest("[data-panel-href]");
    if (!link) return;
    e.preventDefault();
    loadPanel(link.dataset.panelHref);
  });
  body.addEventListener("submit", (e) => {
    const form = e.target.closest("[data-panel-form]");
    if (!form) return;
    e.preventDefault();
    const action = form.getAttribute("action") || location.pathname;
    loadPanel(action + (action.includes("?") ? "&" : "?") + "panel=1", {
      method: "POST", body: new FormData(form), headers: { "X-CSRFToken": csrfToken() },
    });
  });
  $("media-panel-close").addEventListener("click", () => (panel.hidden = true));
}

// ---------------------------------------------------------------------------------- start
openDevices().finally(() => {
  connect();
  uploader.pump(); // anything left from before a reload goes up now
});
