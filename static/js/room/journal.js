// The journal of the segments being recorded (thin I/O; the decisions are recovery.js's): every
// chunk a MediaRecorder hands over (each TIMESLICE_MS) is written to IndexedDB as it comes, so a
// reload, a closed tab or a crashed one loses at most the last chunk of the segment in progress
// (docs/decisions/0014). A segment that ends normally is queued whole (uploads.js) and its chunks
// dropped; the chunks of a page that is gone are assembled and queued by the next page of this
// origin, as their track's last (final) piece.
//
// Which page is gone: each page holds a Web Lock named after it for as long as it lives; the
// browser releases it when the page goes (reload, close, crash). A page asks for the lock of every
// other page it finds chunks of: the browser grants it once that page is gone (at once if it
// already is), and the chunks are recovered while it is held, so two pages never both recover
// them. The database is its own ("liverec-chunks"), beside the upload queue's, whose name, store
// and version must not change.

import { openStore } from "./idb.js";
import { STALE_MS, chunkKeyRange, chunkRecord, planRecovery, stalePages } from "./recovery.js";

const DB_NAME = "liverec-chunks";
const STORE = "chunks";
const LOCK_PREFIX = "liverec-page:";

// enqueue(item): put a segment in the upload queue (resolves once it is stored);
// queuedKeys(): the keys of the segments in the queue.
export function createJournal({ pageId, enqueue, queuedKeys }) {
  const idb = openStore(DB_NAME, STORE);
  const locks = navigator.locks;
  // This page's lock, held until the page is gone. No chunk is written before it is held, so no
  // other page can take these chunks for orphans; without it (refused), none is written at all.
  let journaling = true;
  const held = new Promise((resolve) => {
    if (!locks) return resolve();
    locks
      .request(LOCK_PREFIX + pageId, () => {
        resolve();
        return new Promise(() => {});
      })
      .catch((err) => {
        journaling = false;
        console.warn("recording journal: off, no page lock:", err);
        resolve();
      });
  });
  // Writes and drops, in the order they were asked for, once the lock is held and the store open.
  let chain = Promise.all([held, idb("readonly", () => undefined)]);
  let warned = false; // once a page (IndexedDB unavailable would say so every chunk)

  function later(fn) {
    chain = chain.then(() => journaling && fn()).catch((err) => {
      if (!warned) console.warn("recording journal:", err);
      warned = true;
    });
    return chain;
  }

  const all = async () => (await idb("readonly", (store) => store.getAll())) || [];
  const remove = (keys) => idb("readwrite", (store) => keys.forEach((key) => store.delete(key)));

  // One chunk of a segment (piece: {roomId, recUid, clientId, kind, seq, start}).
  function append(piece, index, blob, at) {
    return later(() => idb("readwrite", (store) => store.put(chunkRecord({ pageId, piece, index, blob, at }))));
  }

  // The segment is queued whole: its chunks are no longer needed.
  function drop(piece) {
    const [lower, upper] = chunkKeyRange(piece);
    return later(() => idb("readwrite", (store) => store.delete(IDBKeyRange.bound(lower, upper))));
  }

  async function recoverPage(gonePageId) {
    const chunks = (await all()).filter((c) => c.pageId === gonePageId);
    if (!chunks.length) return;
    const plan = planRecovery(chunks, await queuedKeys());
    for (const { item, parts, keys } of plan.uploads) {
      await enqueue({ ...item, blob: new Blob(parts, { type: "video/webm" }) });
      await remove(keys);
    }
    if (plan.discard.length) await remove(plan.discard);
  }

  const failed = (err) => console.warn("recording journal: recovery failed:", err);

  // Recover the chunks of every other page, as soon as each is gone.
  async function recoverOrphans() {
    try {
      await held;
      const chunks = await all();
      if (locks) {
        const pages = new Set(chunks.map((c) => c.pageId).filter((id) => id !== pageId));
        pages.forEach((id) => locks.request(LOCK_PREFIX + id, () => recoverPage(id)).catch(failed));
        return;
      }
      for (const id of stalePages(chunks, { ownPageId: pageId, now: Date.now() })) await recoverPage(id);
      if (chunks.some((c) => c.pageId !== pageId)) setTimeout(recoverOrphans, STALE_MS);
    } catch (err) {
      failed(err);
    }
  }

  return { append, drop, recoverOrphans };
}
