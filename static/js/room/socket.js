// The room's websocket: reconnects with exponential back-off, keeps presence alive with a
// heartbeat at the interval the server's `state` event gives, answers clock probes, and numbers
// the commands it sends. Close codes: 4403 not allowed (never retried), 4000 session ended.

export const CLOSE_NOT_ALLOWED = 4403;
export const CLOSE_SESSION_ENDED = 4000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15000;

// The first heartbeat comes after a random part of the interval, the rest at the interval: sockets
// that joined together (a webinar's start) would otherwise beat together, a thousand messages for
// the server in the same second of every interval, for as long as the meeting lasts.
export function firstHeartbeatMs(seconds, random = Math.random) {
  return seconds * 1000 * (0.1 + 0.9 * random());
}

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

  function stopHeartbeat() {
    clearTimeout(heartbeatTimer); // the first beat's timeout, or (same id pool) the interval after it
    clearInterval(heartbeatTimer);
  }

  function startHeartbeat(seconds) {
    stopHeartbeat();
    if (!(seconds > 0)) return;
    const beat = () => send({ type: "heartbeat" });
    heartbeatTimer = setTimeout(() => {
      beat();
      heartbeatTimer = setInterval(beat, seconds * 1000);
    }, firstHeartbeatMs(seconds));
  }

  function receive(message) {
    // The protocol's own chores first; then everything goes to the page, these included.
    if (message.type === "state") startHeartbeat(message.heartbeat_seconds);
    else if (message.type === "clock_probe") {
      send({ type: "clock_reply", server_time: message.server_time, client_time: Date.now() });
    } else if (message.type === "session_ended") stopped = true;
    onMessage(message);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${path}`);
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
      stopHeartbeat();
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
  }

  function stop() {
    stopped = true;
    stopHeartbeat();
    clearTimeout(reconnectTimer);
  }

  return { connect, send, command, stop };
}
