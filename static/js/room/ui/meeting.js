// The meeting as people see it (issue 11): a tile per participant (name, microphone and camera
// state, a speaking indicator from the audio level), the participant list with roles, count and
// the leaders' "Mute" (and in a broadcast "Invite to speak"), and the stage's screen shares. Drawn
// from the mesh (mesh.js) and this page's own devices; names are shown live only (the recording
// never shows them).
//
// Layout (static/css/app.css): a gallery while the stage is empty (#tiles[data-count] sets the
// grid), the stage large with a strip of tiles when #stage[data-has-content="1"].
// The stage holds one item, the most recently started: a screen share (here) or a presentation
// (ui of the presentations, which sets data-stage-kind="presentation"); each side says when it
// starts or stops with a `room:stage` CustomEvent {kind, active} on document and yields to the other.

import { $ } from "../dom.js";
import { peerStreams } from "../mesh.js";
import { LABELS } from "./labels.js";

const ROLES = { host: "Host", moderator: "Moderator", participant: "Participant" };
// WebRTC's audio level (linear, 1 = full scale; 0.03 is about -30 dBov, quiet speech): above it, talking.
const SPEAKING_LEVEL = 0.03;
const METER_MS = 150;
const MIC_OFF_SVG =
  '<svg viewBox="0 0 24 24" width="14" height="14" fill="none" stroke="currentColor" stroke-width="2" ' +
  'stroke-linecap="round"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 ' +
  '14 0M12 18v3M4 4l16 16"/></svg>';

// Speaking levels (0..1, linear, as WebRTC reports them) without WebAudio: a remote person's from
// their audio receiver (the RFC 6464 level every packet carries), this page's own from what its
// sender measures. An AudioContext with an analyser per stream started an audio output of its own on
// the joining page's way to its first render, and ran for the whole meeting, for a ring on a tile
// (decision 0033: three pages used 86% of a core without it, 92% with, near the readings' noise).
function createLevels() {
  const sources = new Map(); // key -> {track, read: () => level or a promise of it}
  const levels = new Map();
  let sampling = false;

  function unwatch(key) {
    sources.delete(key);
    levels.delete(key);
  }

  function watch(key, track, read) {
    if (!track) return unwatch(key);
    const known = sources.get(key);
    if (!known || known.track !== track) sources.set(key, { track, read });
  }

  // Every source read once; a round still running when the next is due is not doubled.
  async function sample() {
    if (sampling) return;
    sampling = true;
    await Promise.all(
      [...sources].map(async ([key, { read }]) => {
        try {
          levels.set(key, (await read()) || 0);
        } catch (err) {
          levels.set(key, 0);
        }
      }),
    );
    sampling = false;
  }

  return { watch, unwatch, sample, level: (key) => levels.get(key) || 0 };
}

// A remote audio track's level: the newest of its receiver's synchronization sources.
function receivedLevel(peer, track) {
  return () => {
    const receiver = peer.pc ? peer.pc.getReceivers().find((r) => r.track === track) : null;
    const [source] = receiver ? receiver.getSynchronizationSources() : [];
    return source ? source.audioLevel : 0;
  };
}

// This page's microphone level, as measured by any connection that sends it (none while alone). The
// report's one entry is read by its id, found once: going through the whole report (candidates,
// transports, codecs) at every reading was most of a page's JavaScript time in a meeting of four.
function sentLevel(mesh, track) {
  let sourceId = null;
  return async () => {
    for (const peer of mesh ? mesh.peers.values() : []) {
      const sender = peer.pc ? peer.pc.getSenders().find((s) => s.track === track) : null;
      if (!sender) continue;
      const report = await sender.getStats();
      if (!sourceId || !report.has(sourceId)) {
        sourceId = null;
        report.forEach((stat) => {
          if (stat.type === "media-source" && stat.kind === "audio") sourceId = stat.id;
        });
      }
      const source = sourceId ? report.get(sourceId) : null;
      return (source && source.audioLevel) || 0;
    }
    return 0;
  };
}

// Browsers may refuse to play sound before the person has used the page: play muted, and unmute
// at their first click or key.
const silenced = new Set();
function play(video) {
  const attempt = video.play();
  if (attempt && attempt.catch) {
    attempt.catch(() => {
      video.muted = true;
      silenced.add(video);
      video.play().catch(() => {});
    });
  }
}
function unsilence() {
  silenced.forEach((video) => (video.muted = false));
  silenced.clear();
}
if (typeof document !== "undefined") {
  document.addEventListener("click", unsilence, true);
  document.addEventListener("keydown", unsilence, true);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function initial(name) {
  return (name || "?").trim().slice(0, 1).toUpperCase() || "?";
}

function remoteTile(id) {
  const figure = el("figure", "tile tile-remote");
  figure.dataset.peer = id;
  const video = el("video");
  video.autoplay = true;
  video.playsInline = true;
  const nocam = el("div", "tile-nocam");
  nocam.hidden = true;
  const avatar = el("span", "avatar avatar-lg");
  avatar.setAttribute("aria-hidden", "true");
  nocam.append(avatar, el("span", "", LABELS.cameraOff));
  const caption = el("figcaption");
  const micOff = el("span", "tile-mic-off");
  micOff.innerHTML = MIC_OFF_SVG;
  micOff.setAttribute("role", "img");
  micOff.setAttribute("aria-label", LABELS.micOff);
  micOff.hidden = true;
  caption.append(micOff, el("span", "tile-name"));
  figure.append(video, nocam, caption);
  return figure;
}

export function createMeeting({ isLeader, broadcast, devices, onMute, onSpeaker = () => {} }) {
  const tiles = $("tiles");
  const selfTile = tiles.querySelector(".tile-self");
  const stage = $("stage");
  const stageVideo = $("stage-video");
  const stageEmpty = $("stage-empty");
  const peopleButton = $("btn-people");
  const peopleCount = $("people-count");
  const panel = $("people-panel");
  const panelTitle = $("people-panel-title");
  const list = $("people-list");
  const levels = createLevels();
  const shareSeen = new Map(); // share key -> when this page first saw it (newest wins the stage)
  let mesh = null;
  let presentationSince = 0; // the presentations' stage item, while active
  let stageShown = null; // the share key on the stage
  let returnTo = null;

  // --- the participant list -------------------------------------------------------------------
  function openPanel(opener = document.activeElement) {
    returnTo = opener;
    panel.hidden = false;
    peopleButton.setAttribute("aria-expanded", "true");
    panelTitle.focus();
  }
  function closePanel() {
    if (panel.hidden) return;
    panel.hidden = true;
    peopleButton.setAttribute("aria-expanded", "false");
    if (returnTo && returnTo.isConnected) returnTo.focus();
    returnTo = null;
  }
  peopleButton.addEventListener("click", (e) => (panel.hidden ? openPanel(e.currentTarget) : closePanel()));
  $("people-panel-close").addEventListener("click", closePanel);
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      closePanel();
    }
  });
  list.addEventListener("click", (e) => {
    const mute = e.target.closest("button[data-mute]");
    if (mute) onMute(mute.dataset.mute);
    const speaker = e.target.closest("button[data-speaker]");
    if (speaker) onSpeaker(speaker.dataset.speaker, speaker.dataset.speak === "1");
  });

  function personButton(label, ariaLabel, data) {
    const button = el("button", "btn btn-ghost person-action", label);
    button.type = "button";
    Object.assign(button.dataset, data);
    button.setAttribute("aria-label", ariaLabel);
    return button;
  }

  function person(info, self) {
    const item = el("li", "person");
    item.dataset.peer = info.peer || "self";
    item.dataset.role = info.role;
    const name = el("span", "person-name", info.name);
    if (self) name.append(el("span", "muted", ` ${LABELS.you}`));
    const facts = [info.speaker ? LABELS.speaker : ROLES[info.role] || info.role];
    if (info.sends) {
      facts.push(info.mic ? LABELS.micOn : LABELS.micOff, info.cam ? LABELS.cameraOn : LABELS.cameraOff);
    } else {
      facts.push(broadcast ? LABELS.viewer : LABELS.notSending);
    }
    const details = el("span", "person-facts", facts.join(" · "));
    const text = el("div", "person-text");
    text.append(name, details);
    item.append(el("span", "avatar", initial(info.name)), text);
    item.firstChild.setAttribute("aria-hidden", "true");
    const actions = el("div", "person-actions"); // beside the name, or below it when they do not fit
    if (isLeader && !self && info.sends && info.mic) {
      actions.append(personButton(LABELS.mute, `${LABELS.mute} ${info.name}`, { mute: info.peer }));
    }
    if (isLeader && !self && broadcast && info.role === "participant") {
      // A broadcast's viewer is invited to speak, or goes back to watching (rooms.consumers "speaker").
      const [label, aria] = info.speaker
        ? [LABELS.stopSpeaking, LABELS.stopSpeakingOf(info.name)]
        : [LABELS.inviteToSpeak, LABELS.inviteToSpeakOf(info.name)];
      actions.append(personButton(label, aria, { speaker: info.peer, speak: info.speaker ? "0" : "1" }));
    }
    if (actions.childElementCount) item.append(actions);
    return item;
  }

  // --- the stage: screen shares ---------------------------------------------------------------
  function shares() {
    const found = [];
    if (devices.screenStream) found.push({ key: `self:${devices.screenStream.id}`, stream: devices.screenStream });
    if (mesh) {
      for (const peer of mesh.peers.values()) {
        const { screen } = peerStreams(peer);
        if (screen && peer.info && peer.info.screen) found.push({ key: `${peer.id}:${screen.id}`, stream: screen, peer });
      }
    }
    const now = performance.now();
    found.forEach((share) => shareSeen.has(share.key) || shareSeen.set(share.key, now));
    const live = new Set(found.map((share) => share.key));
    [...shareSeen.keys()].filter((key) => !live.has(key)).forEach((key) => shareSeen.delete(key));
    return found.sort((a, b) => shareSeen.get(b.key) - shareSeen.get(a.key));
  }

  function renderStage() {
    const newest = shares()[0] || null;
    const screenWins = newest && (!presentationSince || shareSeen.get(newest.key) > presentationSince);
    const shown = screenWins ? newest.key : null;
    if (screenWins) {
      if (stageVideo.srcObject !== newest.stream) stageVideo.srcObject = newest.stream;
      stageVideo.setAttribute(
        "aria-label",
        newest.peer ? LABELS.screenOf(newest.peer.info.name) : LABELS.yourScreen,
      );
      stageVideo.hidden = false;
      stage.dataset.hasContent = "1";
      stage.dataset.stageKind = "screen";
    } else {
      stageVideo.hidden = true;
      stageVideo.srcObject = null;
      if (presentationSince) {
        stage.dataset.hasContent = "1";
        stage.dataset.stageKind = "presentation";
      } else {
        stage.dataset.hasContent = "0";
        delete stage.dataset.stageKind;
      }
    }
    stageEmpty.hidden = stage.dataset.hasContent === "1";
    if (shown !== stageShown) {
      stageShown = shown;
      document.dispatchEvent(new CustomEvent("room:stage", { detail: { kind: "screen", active: !!shown } }));
    }
  }

  document.addEventListener("room:stage", (e) => {
    const detail = e.detail || {};
    if (detail.kind !== "presentation") return;
    presentationSince = detail.active ? performance.now() : 0;
    renderStage();
    layout();
  });

  // --- tiles ------------------------------------------------------------------------------------
  function layout() {
    const count = tiles.querySelectorAll(".tile:not([hidden])").length;
    const cols = count <= 1 ? 1 : count <= 4 ? 2 : count <= 9 ? 3 : 4;
    tiles.dataset.count = String(count);
    tiles.style.setProperty("--cols", String(cols));
    tiles.style.setProperty("--rows", String(Math.max(1, Math.ceil(count / cols))));
  }

  function renderSelf(selfInfo) {
    selfTile.dataset.mic = selfInfo.mic ? "1" : "0";
    selfTile.dataset.cam = selfInfo.cam ? "1" : "0";
    selfTile.hidden = broadcast && !selfInfo.sends;
    let micOff = selfTile.querySelector(".tile-mic-off");
    if (!micOff) {
      micOff = el("span", "tile-mic-off");
      micOff.innerHTML = MIC_OFF_SVG;
      micOff.setAttribute("role", "img");
      micOff.setAttribute("aria-label", LABELS.micOff);
      selfTile.querySelector("figcaption").prepend(micOff);
    }
    micOff.hidden = selfInfo.mic;
    const video = $("self-video");
    const hasVideo = !!devices.camStream && devices.camStream.getVideoTracks().length > 0;
    video.hidden = !hasVideo || !selfInfo.cam;
    $("self-nocam").hidden = !video.hidden;
    const mic = selfInfo.mic && devices.camStream ? devices.camStream.getAudioTracks()[0] : null;
    levels.watch("self", mic, sentLevel(mesh, mic));
  }

  function renderPeer(peer) {
    let figure = tiles.querySelector(`.tile-remote[data-peer="${peer.id}"]`);
    if (!figure) {
      figure = remoteTile(peer.id);
      tiles.append(figure);
    }
    const info = peer.info || { name: "", mic: false, cam: false, sends: true };
    const { camera } = peerStreams(peer);
    const video = figure.querySelector("video");
    if (video.srcObject !== camera) {
      video.srcObject = camera;
      if (camera) play(video);
    }
    const camOn = !!camera && info.cam && camera.getVideoTracks().length > 0;
    video.classList.toggle("tile-video-off", !camOn); // still playing: its sound is heard
    figure.querySelector(".tile-nocam").hidden = camOn;
    figure.querySelector(".avatar").textContent = initial(info.name);
    figure.querySelector(".tile-name").textContent = info.name;
    figure.querySelector(".tile-mic-off").hidden = !!info.mic;
    video.setAttribute("aria-label", LABELS.cameraOf(info.name));
    figure.dataset.mic = info.mic ? "1" : "0";
    figure.dataset.cam = info.cam ? "1" : "0";
    figure.dataset.connection = peer.connection;
    figure.hidden = broadcast && !info.sends;
    const sound = info.mic && camera ? camera.getAudioTracks()[0] : null;
    levels.watch(peer.id, sound, receivedLevel(peer, sound));
  }

  function render(selfInfo) {
    const peers = mesh ? [...mesh.peers.values()].filter((peer) => peer.info) : [];
    const ids = new Set(peers.map((peer) => peer.id));
    tiles.querySelectorAll(".tile-remote").forEach((figure) => {
      if (!ids.has(figure.dataset.peer)) {
        levels.unwatch(figure.dataset.peer);
        figure.remove();
      }
    });
    renderSelf(selfInfo);
    peers.forEach(renderPeer);
    const everyone = [{ ...selfInfo, peer: mesh ? mesh.selfId : null }, ...peers.map((peer) => peer.info)];
    list.replaceChildren(...everyone.map((info, i) => person(info, i === 0)));
    peopleCount.textContent = String(everyone.length);
    panelTitle.textContent = LABELS.people(everyone.length);
    renderStage();
    layout();
  }

  // The speaking indicator: a ring on the tile while its sound is above the threshold.
  setInterval(async () => {
    await levels.sample();
    for (const figure of [selfTile, ...tiles.querySelectorAll(".tile-remote")]) {
      const key = figure === selfTile ? "self" : figure.dataset.peer;
      const speaking = levels.level(key) > SPEAKING_LEVEL ? "1" : "0";
      if (figure.dataset.speaking !== speaking) figure.dataset.speaking = speaking; // unchanged: no restyle
    }
  }, METER_MS);

  return {
    render,
    setMesh: (value) => (mesh = value),
    renderStage,
  };
}
