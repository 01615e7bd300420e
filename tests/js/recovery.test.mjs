// What is uploaded of a page's journaled chunks once the page is gone (static/js/room/recovery.js),
// under Node's own test runner: node --test tests/js/

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  STALE_MS,
  TIMESLICE_MS,
  chunkKey,
  chunkKeyRange,
  chunkRecord,
  parseSegmentKey,
  planRecovery,
  segmentKey,
  stalePages,
} from "../../static/js/room/recovery.js";
import { segmentKey as queueKey } from "../../static/js/room/uploads.js";

const UID = "6f1c2a9e-0000-4000-8000-000000000001";
const T0 = 1_700_000_000_000;

function piece(seq, extra = {}) {
  return { roomId: 4, recUid: UID, clientId: "camera-aa", kind: "camera", seq, start: T0 + seq * 10_000, ...extra };
}

// `count` chunks of a segment, as the journal writes them: one each TIMESLICE_MS.
function chunks(p, count, { pageId = "page-old", skip = [] } = {}) {
  const out = [];
  for (let index = 0; index < count; index++) {
    if (skip.includes(index)) continue;
    const blob = `${p.clientId}:${p.seq}:${index}`; // stands for the chunk's Blob
    out.push(chunkRecord({ pageId, piece: p, index, blob, at: p.start + (index + 1) * TIMESLICE_MS }));
  }
  return out;
}

describe("keys", () => {
  test("a chunk's key is its segment's queue key and a fixed-width index, so a segment's chunks sort in order", () => {
    const p = piece(12);
    assert.equal(segmentKey(p), `${UID}/camera-aa/000012`);
    assert.equal(segmentKey(p), queueKey(p), "the upload queue's key format is the same");
    const keys = [10, 2, 1, 0].map((index) => chunkKey({ ...p, index }));
    const expected = [0, 1, 2, 10].map((index) => `${UID}/camera-aa/000012/${String(index).padStart(6, "0")}`);
    assert.deepEqual(keys.slice().sort(), expected);
  });

  test("the key range of a segment holds its chunks and no other segment's", () => {
    const [lower, upper] = chunkKeyRange(piece(1));
    const inside = (key) => key >= lower && key <= upper;
    assert.ok(chunks(piece(1), 30).every((c) => inside(c.key)));
    assert.ok(![piece(0), piece(2), piece(10), piece(100)].some((p) => chunks(p, 3).some((c) => inside(c.key))));
    assert.ok(!inside(segmentKey(piece(1))), "nor the queued segment's own key");
  });

  test("a queue key parses back", () => {
    assert.deepEqual(parseSegmentKey(segmentKey(piece(7))), { recUid: UID, clientId: "camera-aa", seq: 7 });
    assert.equal(parseSegmentKey("garbage"), null);
  });

  test("a chunk record carries what an upload needs", () => {
    const [first] = chunks(piece(3), 1, { pageId: "page-x" });
    assert.deepEqual(
      { ...first },
      {
        pageId: "page-x",
        roomId: 4,
        recUid: UID,
        clientId: "camera-aa",
        kind: "camera",
        seq: 3,
        start: T0 + 30_000,
        index: 0,
        at: T0 + 30_000 + TIMESLICE_MS,
        blob: "camera-aa:3:0",
        key: `${UID}/camera-aa/000003/000000`,
      },
    );
  });
});

describe("planRecovery", () => {
  test("nothing journaled: nothing to do", () => {
    assert.deepEqual(planRecovery([], []), { uploads: [], discard: [] });
  });

  test("the segment in progress at a reload is uploaded as the track's last piece, with its seq and start", () => {
    // 5.6 s into segment 1: eleven chunks were written, the twelfth was lost with the page.
    const p = piece(1);
    const journaled = chunks(p, 11);
    const plan = planRecovery(journaled, [segmentKey(piece(0))]);
    assert.deepEqual(plan.discard, []);
    assert.equal(plan.uploads.length, 1);
    const [{ item, parts, keys }] = plan.uploads;
    assert.deepEqual(item, {
      roomId: 4,
      recUid: UID,
      clientId: "camera-aa",
      kind: "camera",
      seq: 1,
      start: p.start, // the timeline position it was recorded at, not when it is sent
      duration: 11 * TIMESLICE_MS, // up to the last chunk written
      final: true,
      createdAt: p.start + 11 * TIMESLICE_MS, // queued after the track's earlier segments
    });
    assert.deepEqual(parts, journaled.map((c) => c.blob));
    assert.deepEqual(keys, journaled.map((c) => c.key));
  });

  test("chunks are assembled in index order, whatever order they are read in", () => {
    const journaled = chunks(piece(2), 4);
    const plan = planRecovery(journaled.slice().reverse(), []);
    assert.deepEqual(plan.uploads[0].parts, ["camera-aa:2:0", "camera-aa:2:1", "camera-aa:2:2", "camera-aa:2:3"]);
  });

  test("a segment already queued whole is not uploaded again: its chunks are discarded", () => {
    // The page died between queueing segment 3 and dropping its chunks; segment 4 had begun.
    const done = chunks(piece(3), 20);
    const current = chunks(piece(4), 2);
    const plan = planRecovery([...done, ...current], [segmentKey(piece(3))]);
    assert.deepEqual(plan.discard, done.map((c) => c.key));
    assert.deepEqual(plan.uploads.map((u) => [u.item.seq, u.item.final]), [[4, true]]);
  });

  test("two unfinished segments of a track (the finished one not queued yet): both go, the later is final", () => {
    const plan = planRecovery([...chunks(piece(5), 20), ...chunks(piece(6), 1)], []);
    assert.deepEqual(plan.uploads.map((u) => [u.item.seq, u.item.final]), [[5, false], [6, true]]);
    assert.equal(plan.uploads[0].item.duration, 20 * TIMESLICE_MS);
  });

  test("a later segment of the track already queued: the unfinished one is not final", () => {
    const plan = planRecovery(chunks(piece(5), 3), [segmentKey(piece(6))]);
    assert.equal(plan.uploads[0].item.final, false);
  });

  test("each track of the page gets its own final piece (camera and screen)", () => {
    const screen = piece(2, { clientId: "screen-bb", kind: "screen" });
    const queued = [segmentKey(piece(6)), segmentKey(piece(1, { clientId: "screen-bb" }))];
    const plan = planRecovery([...chunks(piece(7), 4), ...chunks(screen, 6)], queued);
    assert.deepEqual(
      plan.uploads.map((u) => [u.item.clientId, u.item.kind, u.item.seq, u.item.final]),
      [["camera-aa", "camera", 7, true], ["screen-bb", "screen", 2, true]],
    );
  });

  test("only the chunks from the first without a gap are assembled (a later one alone does not decode)", () => {
    const journaled = chunks(piece(1), 8, { skip: [5] });
    const [{ item, parts, keys }] = planRecovery(journaled, []).uploads;
    assert.deepEqual(parts, ["camera-aa:1:0", "camera-aa:1:1", "camera-aa:1:2", "camera-aa:1:3", "camera-aa:1:4"]);
    assert.equal(item.duration, 5 * TIMESLICE_MS);
    assert.deepEqual(keys, journaled.map((c) => c.key), "the chunks after the gap are deleted with the rest");
  });

  test("without its first chunk (the WebM header) a segment is discarded", () => {
    const journaled = chunks(piece(1), 4, { skip: [0] });
    assert.deepEqual(planRecovery(journaled, []), { uploads: [], discard: journaled.map((c) => c.key) });
  });

  test("pieces of several recordings and rooms are each planned under their own room", () => {
    const other = piece(0, { roomId: 9, recUid: "6f1c2a9e-0000-4000-8000-000000000002", clientId: "camera-cc" });
    const plan = planRecovery([...chunks(piece(3), 2), ...chunks(other, 2)], []);
    const planned = plan.uploads.map((u) => [u.item.roomId, u.item.seq, u.item.final]).sort();
    assert.deepEqual(planned, [[4, 3, true], [9, 0, true]]);
  });

  test("a duration is never zero or negative (a clock stepped back)", () => {
    const p = piece(0);
    const record = chunkRecord({ pageId: "p", piece: p, index: 0, blob: "b", at: p.start - 50 });
    assert.equal(planRecovery([record], []).uploads[0].item.duration, 1);
  });
});

describe("stalePages (no Web Locks)", () => {
  const now = T0 + 100_000;
  const at = (pageId, ago) => ({ pageId, at: now - ago });

  test("a page silent for STALE_MS is gone; one that wrote recently, and this page, are not", () => {
    const journaled = [
      at("page-old", STALE_MS + 10),
      at("page-old", STALE_MS + 600),
      at("page-live", 300),
      at("page-live", 9000),
      at("me", 60_000),
    ];
    assert.deepEqual(stalePages(journaled, { ownPageId: "me", now }), ["page-old"]);
  });
});
