// The durable upload queue: every finished segment waits in IndexedDB until the server
// acknowledges it, so a dropped network, a reload or a crash loses none of them. The segment still
// being recorded at a reload or a crash is not here: it is journaled chunk by chunk (journal.js)
// and the next page queues what was written of it, so at most its last chunk (recovery.js
// TIMESLICE_MS) is lost. One request at a time, oldest first; network errors, 5xx, 429 and 403
// are retried with back-off, any other refusal drops the piece.
// The database name, store and key format must not change: segments queued by an older page
// are sent by this one.

import { csrfToken } from "./dom.js";
import { openStore } from "./idb.js";
import { segmentKey } from "./recovery.js";

export { segmentKey };

export const DB_NAME = "liverec-segments";
const STORE = "segments";
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;

export function segmentUrl(item) {
  return `/rooms/${item.roomId}/recordings/${item.recUid}/tracks/${item.clientId}/segments/${item.seq}`;
}

export function createUploader({ roomId, onAcked = () => {} }) {
  const idb = openStore(DB_NAME, STORE);
  let busy = false;
  let backoff = FIRST_BACKOFF_MS;

  async function pending() {
    return (await idb("readonly", (store) => store.getAll())) || [];
  }

  async function send(item) {
    let response;
    try {
      response = await fetch(segmentUrl(item), {
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
      onAcked(item);
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
  }

  async function pump() {
    if (busy) return;
    busy = true;
    try {
      for (;;) {
        const items = (await pending()).filter((i) => i.roomId === roomId);
        if (!items.length) break;
        items.sort((a, b) => a.createdAt - b.createdAt);
        const outcome = await send(items[0]);
        if (outcome === "retry") {
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        backoff = FIRST_BACKOFF_MS;
        await idb("readwrite", (store) => store.delete(items[0].key));
      }
    } finally {
      busy = false;
    }
  }

  // The keys of every queued segment (of any room): recovery does not queue a segment twice.
  async function keys() {
    return (await idb("readonly", (store) => store.getAllKeys())) || [];
  }

  async function enqueue(item) {
    item.key = segmentKey(item);
    await idb("readwrite", (store) => store.put(item));
    pump();
  }

  window.addEventListener("online", () => pump());
  return { enqueue, pump, keys };
}
