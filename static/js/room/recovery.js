// What becomes of the media a page wrote down while it recorded, once that page is gone (pure: no
// IndexedDB, no clock, no DOM, no Blob; journal.js does the I/O, tests/js/recovery.test.mjs the tests).
//
// Each segment's MediaRecorder runs with a timeslice (TIMESLICE_MS): every chunk it hands over is
// written to IndexedDB as it comes (a "chunk record", keyed by recording uid, track client id,
// segment seq and chunk index). A segment that ends normally is queued whole for upload (uploads.js)
// and its chunks are dropped. The chunks of a page that died (reload, closed tab, crash) are what
// was recorded of its unfinished segment: concatenated from the first chunk (the one carrying the
// WebM header) they are a playable WebM up to the last chunk written, so at most TIMESLICE_MS of
// media (plus one IndexedDB write) is lost. planRecovery decides what is uploaded from them.

export const TIMESLICE_MS = 500;
// Without the Web Locks API (no secure context) a page is taken to be gone once its newest chunk
// is this old: a recording page writes one every TIMESLICE_MS.
export const STALE_MS = 5000;

const pad = (n) => String(n).padStart(6, "0");

// The upload queue's key of a segment (uploads.js): it must not change, an older page's queued
// segments are sent by a newer one.
export function segmentKey(item) {
  return `${item.recUid}/${item.clientId}/${pad(item.seq)}`;
}

export function parseSegmentKey(key) {
  const m = /^([^/]+)\/([^/]+)\/([0-9]+)$/.exec(key);
  return m ? { recUid: m[1], clientId: m[2], seq: Number(m[3]) } : null;
}

// Chunks of one segment sort together and in order (fixed-width index).
export function chunkKey(chunk) {
  return `${segmentKey(chunk)}/${pad(chunk.index)}`;
}

// The bounds of one segment's chunk keys, for an IDBKeyRange.
export function chunkKeyRange(piece) {
  const prefix = segmentKey(piece) + "/";
  return [prefix, prefix + "\uffff"];
}

// piece: {roomId, recUid, clientId, kind, seq, start} (start: the segment's start, epoch ms, as the
// upload's X-Segment-Start); at: when the chunk arrived (epoch ms), i.e. how far the media in it goes.
export function chunkRecord({ pageId, piece, index, blob, at }) {
  const { roomId, recUid, clientId, kind, seq, start } = piece;
  const record = { pageId, roomId, recUid, clientId, kind, seq, start, index, at, blob };
  record.key = chunkKey(record);
  return record;
}

// Pages whose chunks may be recovered without the Web Locks API: not this one, and silent for
// STALE_MS. Returns [pageId].
export function stalePages(chunks, { ownPageId, now, staleMs = STALE_MS }) {
  const newest = new Map();
  for (const c of chunks) {
    if (c.pageId === ownPageId) continue;
    newest.set(c.pageId, Math.max(newest.get(c.pageId) ?? -Infinity, c.at));
  }
  return [...newest].filter(([, at]) => now - at >= staleMs).map(([pageId]) => pageId);
}

// The chunks of pages that are gone -> what to queue for upload and what to delete.
//
// chunks: chunk records (chunkRecord) of pages known to be gone; queuedKeys: the keys of the
// segments waiting in the upload queue. Returns {uploads: [{item, parts, keys}], discard: [key]}:
// - item is a queue item without its blob (uploads.js adds the key): the segment under its own
//   seq and original start, its duration up to the last chunk kept, and final (the track's last
//   piece: its page is gone, nothing more will come from that track) when no later segment of
//   the track is known; parts are the chunks' blobs to concatenate, in order; keys are the
//   chunk records to delete once the item is queued.
// - a segment already queued whole (its page died between queueing it and dropping its chunks)
//   is not uploaded again: its chunks are discarded;
// - only the run of chunks from index 0 without a gap is kept (a later chunk alone does not
//   decode: the header is in the first one); a segment without its first chunk is discarded.
export function planRecovery(chunks, queuedKeys = []) {
  const queued = new Set(queuedKeys);
  const pieces = new Map();
  for (const c of chunks) {
    const key = segmentKey(c);
    if (!pieces.has(key)) pieces.set(key, []);
    pieces.get(key).push(c);
  }

  const trackKey = (p) => `${p.recUid}/${p.clientId}`;
  const lastSeq = new Map();
  const note = (p) => {
    const track = trackKey(p);
    if (!(lastSeq.get(track) >= p.seq)) lastSeq.set(track, p.seq);
  };
  queued.forEach((key) => {
    const parsed = parseSegmentKey(key);
    if (parsed) note(parsed);
  });
  pieces.forEach((list) => note(list[0]));

  const uploads = [];
  const discard = [];
  const ordered = [...pieces.keys()].sort();
  for (const key of ordered) {
    const list = pieces.get(key).slice().sort((a, b) => a.index - b.index);
    const keys = list.map((c) => c.key);
    if (queued.has(key)) {
      discard.push(...keys);
      continue;
    }
    const kept = [];
    for (const c of list) {
      if (c.index !== kept.length) break;
      kept.push(c);
    }
    if (!kept.length) {
      discard.push(...keys);
      continue;
    }
    const first = kept[0];
    const last = kept[kept.length - 1];
    uploads.push({
      item: {
        roomId: first.roomId,
        recUid: first.recUid,
        clientId: first.clientId,
        kind: first.kind,
        seq: first.seq,
        start: first.start,
        duration: Math.max(1, last.at - first.start),
        final: lastSeq.get(trackKey(first)) === first.seq,
        createdAt: last.at,
      },
      parts: kept.map((c) => c.blob),
      keys,
    });
  }
  return { uploads, discard };
}
