// The room's two slow starts, begun before its modules have arrived and run (0.2-0.3 s after the
// page): the camera and microphone, and the room's socket. A classic script in the head, so it runs
// as soon as it is here (the browser holds async module scripts until the page is parsed): it reads
// #room-config, also in the head, and leaves what it started in window.roomEarly, which devices.js
// and socket.js take over. A broadcast's viewer is asked for no devices (main.js opens them if they
// are invited to speak).
(() => {
  const config = JSON.parse(document.getElementById("room-config").textContent);
  // The first camera and microphone asked for; devices.js falls back to less if refused.
  const first = { video: { width: 1280, height: 720 }, audio: true };
  const early = { first, camera: null, socket: null, said: [] };
  if (!(config.broadcast && !config.isLeader) && navigator.mediaDevices) {
    early.camera = navigator.mediaDevices.getUserMedia(first);
    early.camera.catch(() => {}); // refused: devices.js asks again, for less
  }
  try {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    early.socket = new WebSocket(`${scheme}://${location.host}${config.wsPath}`);
    early.socket.onmessage = (e) => early.said.push(e); // kept, in order, for socket.js
  } catch (err) {
    early.socket = null; // socket.js opens its own
  }
  window.roomEarly = early;
})();
