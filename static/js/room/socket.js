// The room's websocket: reconnects with exponential back-off, keeps presence alive with a
// heartbeat at the interval the server's `state` event gives, answers clock probes, and numbers
// the commands it sends. Close codes: 4403 not allowed (never retried), 4000 session ended.

import { takeSocket } from "./early-take.js";

export const CLOSE_NOT_ALLOWED = 4403;
export const CLOSE_SESSION_ENDED = 4000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15000;

export function createSocket({ path, onMessage, onStatus }) {
  let socket = null;
  let heartbeatTimer = null;
  let reconnectTimer = null;
  let reconnectDelay = FIRST_RETRY_MS;
  let stopped = false;
  let commandSeq = 0;

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function command(type, extra = {}) {
    const id = ++commandSeq;
    send({ type, id, ...extra });
    return id;
  }

  function startHeartbeat(seconds) {
    clearInterval(heartbeatTimer);
    if (seconds > 0) heartbeatTimer = setInterval(() => send({ type: "heartbeat" }), seconds * 1000);
  }

  function receive(message) {
    // The protocol's own chores first; then everything goes to the page, these included.
    // The state is a clock probe too: on joining, the server sends no probe of its own.
    if (message.type === "state") startHeartbeat(message.heartbeat_seconds);
    if ((message.type === "state" || message.type === "clock_probe") && typeof message.server_time === "number") {
      send({ type: "clock_reply", server_time: message.server_time, client_time: Date.now() });
    }
    if (message.type === "session_ended") stopped = true;
    onMessage(message);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The first time, the socket early.js opened while the modules loaded, if it is still good.
    const early = takeSocket();
    socket = early ? early.socket : new WebSocket(`${scheme}://${location.host}${path}`);
    socket.onopen = () => {
      reconnectDelay = FIRST_RETRY_MS;
      onStatus("open");
    };
    socket.onmessage = (e) => {
      let message;
      try {
        message = JSON.parse(e.data);
      } catch (err) {
        console.warn("not JSON from the room socket", e.data);
        return;
      }
      receive(message);
    };
    socket.onclose = (e) => {
      clearInterval(heartbeatTimer);
      if (stopped) return;
      if (e.code === CLOSE_NOT_ALLOWED) {
        stopped = true;
        onStatus("not_allowed");
        return;
      }
      if (e.code === CLOSE_SESSION_ENDED) {
        stopped = true;
        onStatus("ended");
        return;
      }
      onStatus("reconnecting");
      reconnectTimer = setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, MAX_RETRY_MS);
    };
    if (early) {
      // What happened before these handlers were set, in order: the opening, then what it said.
      if (socket.readyState === WebSocket.OPEN) socket.onopen();
      early.said.forEach((event) => socket.onmessage(event));
    }
  }

  function stop() {
    stopped = true;
    clearInterval(heartbeatTimer);
    clearTimeout(reconnectTimer);
  }

  return { connect, send, command, stop };
}
