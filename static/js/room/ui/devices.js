// This browser's camera, microphone and screen, and the toolbar buttons that switch them.
// Someone without a camera or microphone still joins (and is recorded with what they have).

import { $ } from "../dom.js";
import { LABELS } from "./labels.js";

const CAMERA_ATTEMPTS = [
  { video: { width: 1280, height: 720 }, audio: true },
  { video: false, audio: true },
  { video: { width: 1280, height: 720 }, audio: false },
];

export function createDevices({ texts, notify, onScreenChange = () => {} }) {
  let camStream = null;
  let screenStream = null;
  const mic = $("btn-mic");
  const cam = $("btn-cam");
  const share = $("btn-share");
  const shareLabel = share.querySelector(".tool-label");
  const stage = $("stage");
  const stageVideo = $("stage-video");
  const stageEmpty = $("stage-empty");

  async function open() {
    for (const constraints of CAMERA_ATTEMPTS) {
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
    cam.disabled = !hasVideo;
    mic.disabled = !camStream || camStream.getAudioTracks().length === 0;
    if (!camStream) notify(texts.no_devices, { level: "warning", code: "no_devices" });
  }

  function toggleTracks(kind, button) {
    if (!camStream) return;
    const tracks = kind === "audio" ? camStream.getAudioTracks() : camStream.getVideoTracks();
    const on = button.getAttribute("aria-pressed") !== "true";
    tracks.forEach((t) => (t.enabled = on));
    button.setAttribute("aria-pressed", String(on));
    button.classList.toggle("tool-off", !on);
  }

  function showShared(stream) {
    stageVideo.srcObject = stream;
    stageVideo.hidden = !stream;
    stageEmpty.hidden = !!stream;
    stage.dataset.hasContent = stream ? "1" : "0";
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
    get camStream() {
      return camStream;
    },
    get screenStream() {
      return screenStream;
    },
  };
}
