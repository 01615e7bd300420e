// This browser's camera, microphone and screen, and the toolbar buttons that switch them.
// Someone without a camera or microphone still joins (and is recorded with what they have).
// The one camera+microphone stream feeds both the recorder (capture.js) and the meeting's mesh
// (mesh.js); switching the mic or camera off disables its track for both, and `onToggle` tells
// the others. The stage itself is drawn by ui/meeting.js (newest share or presentation wins).

import { $ } from "../dom.js";
import { FIRST_DEVICES, takeCamera } from "../early-take.js";
import { LABELS } from "./labels.js";

const CAMERA_ATTEMPTS = [
  FIRST_DEVICES, // asked for by early.js as the page starts
  { video: false, audio: true },
  { video: { width: 1280, height: 720 }, audio: false },
];

export function createDevices({ texts, notify, onScreenChange = () => {}, onToggle = () => {} }) {
  let camStream = null;
  let screenStream = null;
  const mic = $("btn-mic");
  const cam = $("btn-cam");
  const share = $("btn-share");
  const shareLabel = share.querySelector(".tool-label");

  // `off`: the camera and microphone start switched off (a broadcast's viewer invited to speak turns
  // them on when ready: nobody is put on air unawares).
  async function open({ off = false } = {}) {
    const early = takeCamera();
    for (const constraints of CAMERA_ATTEMPTS) {
      try {
        const asked = constraints === FIRST_DEVICES && early;
        camStream = await (asked || navigator.mediaDevices.getUserMedia(constraints));
        break;
      } catch (err) {
        camStream = null;
      }
    }
    const hasVideo = !!camStream && camStream.getVideoTracks().length > 0;
    $("self-video").hidden = !hasVideo;
    $("self-nocam").hidden = hasVideo;
    if (hasVideo) $("self-video").srcObject = camStream;
    cam.disabled = !hasVideo;
    mic.disabled = !camStream || camStream.getAudioTracks().length === 0;
    share.disabled = false;
    share.classList.remove("tool-off"); // not sharing is its resting state, not "off"
    const audio = camStream ? camStream.getAudioTracks() : [];
    const video = camStream ? camStream.getVideoTracks() : [];
    for (const [button, tracks] of [[mic, audio], [cam, video]]) {
      tracks.forEach((t) => (t.enabled = !off));
      button.setAttribute("aria-pressed", String(tracks.length > 0 && !off));
      button.classList.toggle("tool-off", tracks.length === 0 || off);
    }
    if (!camStream) notify(texts.no_devices, { level: "warning", code: "no_devices" });
  }

  function setTracks(kind, on) {
    if (!camStream) return;
    const button = kind === "audio" ? mic : cam;
    const tracks = kind === "audio" ? camStream.getAudioTracks() : camStream.getVideoTracks();
    if (tracks.length === 0) return;
    tracks.forEach((t) => (t.enabled = on));
    button.setAttribute("aria-pressed", String(on));
    button.classList.toggle("tool-off", !on);
    onToggle();
  }

  function toggleTracks(kind, button) {
    setTracks(kind, button.getAttribute("aria-pressed") !== "true");
  }

  const isOn = (tracks) => tracks.length > 0 && tracks.some((t) => t.enabled && t.readyState === "live");

  // Camera and microphone off for good on this page (a broadcast's viewer, a full mesh): nothing
  // is sent or recorded, and the buttons say so.
  function release() {
    if (camStream) camStream.getTracks().forEach((t) => t.stop());
    camStream = null;
    $("self-video").srcObject = null;
    for (const button of [mic, cam, share]) {
      button.disabled = true;
      button.setAttribute("aria-pressed", "false");
      button.classList.add("tool-off");
    }
    stopSharing();
    onToggle();
  }

  function showShared(stream) {
    share.setAttribute("aria-pressed", String(!!stream));
    shareLabel.textContent = stream ? LABELS.stopSharing : LABELS.shareScreen;
  }

  async function startSharing() {
    try {
      screenStream = await navigator.mediaDevices.getDisplayMedia({ video: { width: 1920, height: 1080 }, audio: false });
    } catch (err) {
      notify(texts.screen_share_not_started, { level: "warning", code: "screen_share_not_started" });
      return;
    }
    showShared(screenStream);
    screenStream.getVideoTracks()[0].addEventListener("ended", stopSharing);
    onScreenChange();
  }

  function stopSharing() {
    if (!screenStream) return;
    screenStream.getTracks().forEach((t) => t.stop());
    screenStream = null;
    showShared(null);
    onScreenChange();
  }

  mic.addEventListener("click", () => toggleTracks("audio", mic));
  cam.addEventListener("click", () => toggleTracks("video", cam));
  share.addEventListener("click", () => (screenStream ? stopSharing() : startSharing()));

  return {
    open,
    release,
    setMic: (on) => setTracks("audio", on),
    get micOn() {
      return !!camStream && isOn(camStream.getAudioTracks());
    },
    get camOn() {
      return !!camStream && isOn(camStream.getVideoTracks());
    },
    get camStream() {
      return camStream;
    },
    get screenStream() {
      return screenStream;
    },
  };
}
