// What static/js/room/early.js started as the page began, taken over once by devices.js and socket.js.
const early = typeof window !== "undefined" ? window.roomEarly : undefined;

// The first camera and microphone asked for (early.js's), for devices.js's first attempt.
export const FIRST_DEVICES = (early && early.first) || { video: { width: 1280, height: 720 }, audio: true };

// The camera request begun early, once (null afterwards, or if none was made).
export function takeCamera() {
  const taken = early ? early.camera : null;
  if (early) early.camera = null;
  return taken;
}

// The socket opened early, once, while it is still connecting or open, with what it said meanwhile.
export function takeSocket() {
  const taken = early ? early.socket : null;
  if (early) early.socket = null;
  if (!taken || taken.readyState > WebSocket.OPEN) return null;
  taken.onmessage = null;
  return { socket: taken, said: early.said.splice(0) };
}
