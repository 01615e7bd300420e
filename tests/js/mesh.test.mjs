// The mesh's negotiation decisions (static/js/room/mesh.js) under Node's test runner, with a
// stand-in RTCPeerConnection that records what the mesh asks of it. The real thing is exercised
// by tests/browser/test_meeting_browser.py; this pins who offers, who yields, and the roster rules.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import {
  AHEAD_AFTER_MS,
  cameraEncoding,
  CAMERA_SEND_LIMITS,
  createMesh,
  OFFER_WAIT_MS,
  peerStreams,
} from "../../static/js/room/mesh.js";

class FakePC {
  static all = [];
  constructor() {
    this.tracks = [];
    this.transceivers = [];
    this.signalingState = "stable";
    this.remote = [];
    this.closed = false;
    FakePC.all.push(this);
  }
  static sender(track, stream) {
    // As Chromium's RTCRtpSender: one encoding until told otherwise; what setParameters was given is kept.
    const sender = { track, streams: stream ? [stream] : [], params: { encodings: [{ active: true }] } };
    sender.getParameters = () => structuredClone(sender.params);
    sender.setParameters = async (params) => {
      sender.params = params;
    };
    sender.replaceTrack = async (replacement) => {
      sender.track = replacement;
    };
    sender.setStreams = (...streams) => {
      sender.streams = streams;
    };
    return sender;
  }
  addTrack(track, stream) {
    const sender = FakePC.sender(track, stream);
    this.tracks.push(sender);
    this.transceivers.push({ sender, receiver: { track: { kind: track.kind } }, direction: "sendrecv" });
    if (!this.queued) {
      // As browsers do: one negotiationneeded for the tracks added in one task, and none while an offer
      // is being answered (the answer takes the tracks added before the offer was set).
      this.queued = true;
      queueMicrotask(() => {
        this.queued = false;
        if (this.onnegotiationneeded && this.signalingState === "stable" && !this.remote.includes("offer")) {
          this.onnegotiationneeded();
        }
      });
    }
    return sender;
  }
  removeTrack(sender) {
    this.tracks = this.tracks.filter((s) => s !== sender);
    this.transceivers = this.transceivers.filter((t) => t.sender !== sender);
  }
  async setLocalDescription() {
    const type = this.signalingState === "have-remote-offer" ? "answer" : "offer";
    this.localDescription = { type, sdp: `v=0 ${type}` };
    this.signalingState = type === "offer" ? "have-local-offer" : "stable";
  }
  getTransceivers() {
    return this.transceivers;
  }
  async setRemoteDescription(description) {
    this.remote.push(description.type);
    if (description.type === "offer") {
      // The offers here send a sound and a picture: a transceiver for each, unless a track added before takes it.
      for (const kind of ["audio", "video"]) {
        if (this.transceivers.some((t) => t.receiver.track.kind === kind)) continue;
        this.transceivers.push({ sender: FakePC.sender(null), receiver: { track: { kind } }, direction: "recvonly" });
      }
    }
    this.signalingState = description.type === "offer" ? "have-remote-offer" : "stable";
  }
  async addIceCandidate() {}
  restartIce() {}
  close() {
    this.closed = true;
  }
}
globalThis.RTCPeerConnection = FakePC;
globalThis.MediaStream = class {
  id = "announced";
};

const track = (id, kind = "video") => ({ id, kind });
const stream = (id, ...tracks) => ({ id, getTracks: () => tracks });
const flush = () => new Promise((resolve) => setImmediate(resolve)); // not a timer: some tests mock those

// Every mesh is closed after its test: its timer for the connection made ahead must not fire in the next.
const meshes = [];
afterEach(() => meshes.splice(0).forEach((mesh) => mesh.close()));

function setup() {
  FakePC.all = [];
  const sent = [];
  const mesh = createMesh({ send: (m) => sent.push(m) });
  meshes.push(mesh);
  mesh.setLocal(stream("cam", track("v"), track("a")));
  return { mesh, sent };
}

const info = (peer, sends = true) => ({ peer, name: peer, role: "participant", sends, mic: true, cam: true });

test("those already there that send offer to a newcomer at once, with their camera and microphone", async () => {
  const { mesh, sent } = setup();
  mesh.handle({ type: "roster", peer_id: "a".repeat(16), sends: true, peers: [] });
  mesh.handle({ type: "peer_joined", peer: info("b".repeat(16)) });
  mesh.handle({ type: "peer_joined", peer: info("c".repeat(16), false) }); // a viewer too
  await flush();
  assert.deepEqual(FakePC.all.map((pc) => pc.tracks.length), [2, 2]);
  const offers = sent.filter((m) => m.kind === "offer");
  assert.deepEqual(offers.map((m) => m.to).sort(), ["b".repeat(16), "c".repeat(16)]);
  assert.ok(sent.every((m) => m.type === "signal" && m.id === "mesh"));
});

test("a newcomer waits for the offers of those who send and answers them with its own tracks", async () => {
  const { mesh, sent } = setup();
  mesh.handle({ type: "roster", peer_id: "b".repeat(16), sends: true, peers: [info("a".repeat(16)), info("c".repeat(16))] });
  await flush();
  assert.equal(FakePC.all.length, 0); // no connection (and no colliding offer) before theirs
  mesh.handle({ type: "signal", from_peer: "a".repeat(16), kind: "offer", sdp: "v=0 offer" });
  await flush();
  const [pc] = FakePC.all;
  assert.equal(pc.tracks.length, 2); // added before the offer was set: the answer sends them
  assert.deepEqual(sent.map((m) => [m.kind, m.to]), [["answer", "a".repeat(16)]]); // and no offer of its own
});

test("an offer that comes before the camera is answered at once; the camera then takes its place, with no new offer", async () => {
  FakePC.all = [];
  const sent = [];
  const mesh = createMesh({ send: (m) => sent.push(m) });
  mesh.handle({ type: "roster", peer_id: "b".repeat(16), sends: true, peers: [info("a".repeat(16))] });
  mesh.handle({ type: "signal", from_peer: "a".repeat(16), kind: "offer", sdp: "v=0 offer" });
  await flush();
  assert.deepEqual(sent.map((m) => m.kind), ["answer"]);
  const [pc] = FakePC.all;
  const places = () => pc.transceivers.map((t) => [t.receiver.track.kind, t.direction, t.sender.track && t.sender.track.id]);
  assert.deepEqual(places(), [["audio", "sendrecv", null], ["video", "sendrecv", null]]); // answered ready to send
  assert.ok(pc.transceivers.every((t) => t.sender.streams.length === 1 && t.sender.streams[0].id === "announced"));
  mesh.setLocal(stream("cam", track("v"), track("m", "audio")));
  await flush();
  assert.deepEqual(places(), [["audio", "sendrecv", "m"], ["video", "sendrecv", "v"]]);
  assert.equal(pc.tracks.length, 0); // no track added: nothing to negotiate again
  assert.deepEqual(sent.map((m) => m.kind), ["answer"]);
  mesh.close();
});

// A page in a meeting that sends, alone so far, AHEAD_AFTER_MS later (the timers mocked).
async function sendingForAWhile(t) {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
  const { mesh, sent } = setup();
  mesh.handle({ type: "roster", peer_id: "a".repeat(16), sends: true, peers: [] });
  t.mock.timers.tick(AHEAD_AFTER_MS);
  await flush();
  return { mesh, sent };
}

test("a page that sends makes its next connection ahead, and offers it to a newcomer at once", async (t) => {
  const { mesh, sent } = await sendingForAWhile(t);
  const [made] = FakePC.all;
  assert.equal(made.tracks.length, 2);
  assert.equal(made.signalingState, "have-local-offer"); // its offer set, nobody to send it to yet
  assert.deepEqual(sent, []);
  mesh.handle({ type: "peer_joined", peer: info("b".repeat(16)) });
  assert.deepEqual(sent.map((m) => [m.kind, m.to, m.sdp]), [["offer", "b".repeat(16), "v=0 offer"]]); // at once
  assert.equal(mesh.peers.get("b".repeat(16)).pc, made);
  t.mock.timers.tick(AHEAD_AFTER_MS);
  await flush();
  assert.equal(FakePC.all.length, 2); // the next one, made after the join
  mesh.handle({ type: "peer_joined", peer: info("c".repeat(16)) });
  assert.equal(mesh.peers.get("c".repeat(16)).pc, FakePC.all[1]);
  mesh.close();
  assert.ok(FakePC.all.every((pc) => pc.closed));
});

test("a connection made ahead is not offered with tracks of before (a screen shared since)", async (t) => {
  const { mesh, sent } = await sendingForAWhile(t);
  mesh.setScreen(stream("screen", track("s")));
  assert.ok(FakePC.all[0].closed);
  mesh.handle({ type: "peer_joined", peer: info("b".repeat(16)) });
  await flush();
  const pc = mesh.peers.get("b".repeat(16)).pc;
  assert.notEqual(pc, FakePC.all[0]);
  assert.deepEqual(pc.tracks.map((sender) => sender.track.id).sort(), ["a", "s", "v"]);
  assert.deepEqual(sent.map((m) => [m.kind, m.to]), [["offer", "b".repeat(16)]]);
  mesh.close();
});

test("a page taken off the air (a speaker back to watching) stops sending on every connection", async () => {
  const { mesh } = setup();
  mesh.handle({ type: "roster", peer_id: "a".repeat(16), sends: true, peers: [] });
  mesh.handle({ type: "peer_joined", peer: info("b".repeat(16)) });
  await flush();
  assert.equal(FakePC.all[0].tracks.length, 2);
  mesh.handle({ type: "roster", peer_id: "a".repeat(16), sends: false, peers: [info("b".repeat(16))] });
  assert.equal(FakePC.all[0].tracks.length, 0);
  assert.equal(FakePC.all.length, 1); // the same connection, still receiving
});

test("a newcomer offers to those who do not send, and to a sender whose offer never came", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval", "Date"] });
  const { mesh, sent } = setup();
  mesh.handle({ type: "roster", peer_id: "b".repeat(16), sends: true, peers: [info("a".repeat(16)), info("c".repeat(16), false)] });
  await flush();
  assert.deepEqual(sent.filter((m) => m.kind === "offer").map((m) => m.to), ["c".repeat(16)]);
  t.mock.timers.tick(OFFER_WAIT_MS - 1000);
  await flush();
  assert.equal(sent.filter((m) => m.kind === "offer").length, 1); // still waiting for a's
  t.mock.timers.tick(1000);
  await flush();
  assert.deepEqual(sent.filter((m) => m.kind === "offer").map((m) => m.to), ["c".repeat(16), "a".repeat(16)]);
  mesh.close();
});

test("a viewer who does not send is offered to by those who send", async () => {
  const { mesh, sent } = setup();
  mesh.handle({ type: "roster", peer_id: "a".repeat(16), sends: true, peers: [] });
  mesh.handle({ type: "peer_joined", peer: info("b".repeat(16), false) });
  await flush();
  assert.ok(sent.some((m) => m.kind === "offer" && m.to === "b".repeat(16)));
});

test("in a collision the impolite side (higher id) ignores the offer, the polite one takes it", async () => {
  for (const [self, other, takes] of [["b".repeat(16), "a".repeat(16), false], ["a".repeat(16), "b".repeat(16), true]]) {
    const { mesh, sent } = setup();
    mesh.handle({ type: "roster", peer_id: self, sends: true, peers: [] });
    mesh.handle({ type: "peer_joined", peer: info(other) });
    await flush(); // our own offer is out: have-local-offer
    mesh.handle({ type: "signal", from_peer: other, kind: "offer", sdp: "v=0 offer" });
    await flush();
    const [pc] = FakePC.all;
    assert.equal(pc.remote.includes("offer"), takes, self);
    assert.equal(sent.some((m) => m.kind === "answer"), takes, self);
  }
});

test("a peer that leaves is closed and forgotten; a new own id rebuilds everything", async () => {
  const { mesh } = setup();
  mesh.handle({ type: "roster", peer_id: "b".repeat(16), sends: true, peers: [] });
  mesh.handle({ type: "peer_joined", peer: info("a".repeat(16)) });
  await flush();
  mesh.handle({ type: "peer_left", peer_id: "a".repeat(16) });
  assert.equal(mesh.peers.size, 0);
  assert.ok(FakePC.all[0].closed);
  mesh.handle({ type: "roster", peer_id: "c".repeat(16), sends: true, peers: [info("d".repeat(16))] });
  mesh.handle({ type: "roster", peer_id: "e".repeat(16), sends: true, peers: [info("f".repeat(16))] });
  assert.deepEqual([...mesh.peers.keys()], ["f".repeat(16)]);
});

test("the screen is told apart from the camera by the stream id the peer announced", () => {
  const peer = { info: { screen: "S" }, streams: new Map([["C", { id: "C" }], ["S", { id: "S" }]]) };
  assert.deepEqual(peerStreams(peer), { camera: { id: "C" }, screen: { id: "S" } });
  peer.info.screen = null;
  assert.deepEqual(peerStreams(peer), { camera: { id: "C" }, screen: null });
});

test("the camera is sent to each peer at most 360 lines tall, at a capped rate; a shared screen as it is", async () => {
  assert.deepEqual(cameraEncoding(720), { scaleResolutionDownBy: 2, maxFramerate: 24, maxBitrate: 800000 });
  assert.equal(cameraEncoding(1080).scaleResolutionDownBy, 3);
  assert.equal(cameraEncoding(CAMERA_SEND_LIMITS.maxHeight).scaleResolutionDownBy, 1);
  assert.equal(cameraEncoding(180).scaleResolutionDownBy, 1); // never scaled up

  FakePC.all = [];
  const mesh = createMesh({ send: () => {} });
  const hd = (id, kind) => ({ id, kind, getSettings: () => ({ height: 720 }) });
  mesh.setLocal(stream("cam", hd("v", "video"), { id: "a", kind: "audio" }));
  mesh.setScreen(stream("screen", hd("s", "video")));
  mesh.handle({ type: "roster", peer_id: "b".repeat(16), sends: true, peers: [] });
  mesh.handle({ type: "peer_joined", peer: info("a".repeat(16)) });
  await flush();
  const byTrack = Object.fromEntries(FakePC.all[0].tracks.map((sender) => [sender.track.id, sender.params.encodings]));
  assert.deepEqual(byTrack.v, [{ active: true, scaleResolutionDownBy: 2, maxFramerate: 24, maxBitrate: 800000 }]);
  assert.deepEqual(byTrack.a, [{ active: true }]); // sound as it is
  assert.deepEqual(byTrack.s, [{ active: true }]); // a screen's text must stay readable
});
