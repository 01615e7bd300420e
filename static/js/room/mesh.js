// The live meeting's WebRTC mesh (issue 11): a peer connection to each other socket of the
// session with which this page exchanges media (one of the two sends). Signalling goes over the
// room's socket (rooms/consumers.py relays it to the one peer named, meetings/signalling.py checks it).
//
// The one small interface a media server (SFU) would replace later:
//   const mesh = createMesh({ send, iceServers, onChange });
//   mesh.handle(message)      the socket's roster, peer_joined, peer_left, peer_state and signal events
//   mesh.setLocal(stream)     camera + microphone (the same stream the recorder records)
//   mesh.setScreen(stream)    a shared screen, or null
//   mesh.peers                Map peerId -> {id, info, streams: Map streamId -> MediaStream, connection}
//   onChange(mesh)            called whenever peers, their streams or their state change
//
// "Perfect negotiation" (W3C WebRTC 1.0, section 10.7): either side may (re)negotiate at any time;
// in a collision the polite side (the lower peer id) rolls back and takes the other's offer. ICE
// is restarted when a connection fails. A page that reconnects gets a new peer id and a new
// roster, and rebuilds every connection from it.

export const MESH_ID = "mesh";
// A connection not up this long after it was made (or last retried) is negotiated again: an offer
// or answer lost on the way (a peer that was briefly gone from the roster) must not leave a tile dark.
export const RETRY_MS = 8000;
// A newcomer waits this long for the offer of a peer that sends (those already there offer to it); if
// none came (the peer missed the arrival, say its own socket was reconnecting) it offers itself.
export const OFFER_WAIT_MS = 3000;
// A page that sends keeps one connection made ahead, its offer set, for the next newcomer (connect):
// made this long after the last was taken, so not during the join that took it, and not handed out
// older than AHEAD_MAX_AGE_MS (the network it gathered its candidates on may have changed).
export const AHEAD_AFTER_MS = 1500;
export const AHEAD_MAX_AGE_MS = 120000;

// Camera video sent to each peer: at most 360 lines, 24 frames a second and 800 kbit/s. A mesh
// encodes it once per peer and a tile is a few hundred pixels tall, while three 720p encodes per
// page in a meeting of four kept a 2-core machine busy (bench/present_bench.py). The recording is
// not affected: capture.js records the camera itself, at its own size. A shared screen is not limited.
export const CAMERA_SEND_LIMITS = { maxHeight: 360, maxFramerate: 24, maxBitrate: 800000 };

// The encoding parameters for a camera `height` lines tall (RTCRtpEncodingParameters).
export function cameraEncoding(height, limits = CAMERA_SEND_LIMITS) {
  return {
    scaleResolutionDownBy: height > limits.maxHeight ? height / limits.maxHeight : 1,
    maxFramerate: limits.maxFramerate,
    maxBitrate: limits.maxBitrate,
  };
}

async function limitCamera(sender, track) {
  if (track.kind !== "video" || typeof sender.getParameters !== "function") return;
  const params = sender.getParameters();
  const height = (track.getSettings && track.getSettings().height) || 720;
  const encodings = params.encodings && params.encodings.length ? params.encodings : [{}];
  params.encodings = encodings.map((encoding) => ({ ...encoding, ...cameraEncoding(height) }));
  try {
    await sender.setParameters(params);
  } catch (err) {
    console.warn("mesh: could not limit the camera video sent", err);
  }
}

export function createMesh({ send, iceServers = [], onChange = () => {} }) {
  const peers = new Map();
  let selfId = null;
  let sends = false;
  let local = null;
  let screen = null;
  let localSet = false; // setLocal was called: this page's camera and microphone are known (or known absent)
  let announced = null; // the stream an answer made before them names as this page's (a=msid)
  let ahead = null; // {pc, senders, tracks, made, ready}: the connection made ahead (makeAhead)
  let aheadTimer = null;
  let changeQueued = false;

  const mesh = {
    get selfId() {
      return selfId;
    },
    get sends() {
      return sends;
    },
    peers,
    handle,
    setLocal,
    setScreen,
    close,
  };

  function changed() {
    // Many events come at once (a roster, a burst of tracks): one redraw for them.
    if (changeQueued) return;
    changeQueued = true;
    queueMicrotask(() => {
      changeQueued = false;
      onChange(mesh);
    });
  }

  // id "mesh": an error the server answers (a peer that left while its candidates were on their
  // way) is the mesh's business, not a notice for the person (main.js).
  function signal(peer, kind, extra) {
    send({ type: "signal", id: MESH_ID, to: peer.id, kind, ...extra });
  }

  function ensure(id, info) {
    let peer = peers.get(id);
    if (!peer) {
      peer = { id, info: info || null, pc: null, streams: new Map(), senders: new Map(), connection: "new" };
      peer.unfilled = new Map(); // kind -> sender answered for before the camera was ready (sendLater)
      peers.set(id, peer);
    } else if (info) {
      peer.info = { ...peer.info, ...info };
    }
    return peer;
  }

  function drop(id) {
    const peer = peers.get(id);
    if (!peer) return;
    peers.delete(id);
    if (peer.pc) peer.pc.close();
    changed();
  }

  // What this page sends: track id -> {track, stream}.
  function wantedTracks() {
    const wanted = new Map();
    for (const stream of sends ? [local, screen] : []) {
      if (stream) stream.getTracks().forEach((track) => wanted.set(track.id, { track, stream }));
    }
    return wanted;
  }

  // Which tracks a connection made ahead offers, to tell whether it still offers what this page sends.
  const trackKey = (wanted) => [...wanted.keys()].join();

  // Local tracks go to every connection while this page sends; a track already sent is not added twice.
  function attach(peer) {
    if (!peer.pc) return;
    const wanted = wantedTracks();
    for (const [trackId, sender] of peer.senders) {
      if (!wanted.has(trackId)) {
        peer.pc.removeTrack(sender);
        peer.senders.delete(trackId);
      }
    }
    for (const [trackId, { track, stream }] of wanted) {
      if (peer.senders.has(trackId)) continue;
      const unfilled = stream === local ? peer.unfilled.get(track.kind) : undefined;
      if (unfilled) {
        // Answered before the camera was ready: its place is there, negotiated (sendLater).
        peer.unfilled.delete(track.kind);
        peer.senders.set(trackId, unfilled);
        unfilled.replaceTrack(track).then(
          () => limitCamera(unfilled, track),
          (err) => console.warn("mesh: could not send a track", err),
        );
        continue;
      }
      addTo(peer.pc, peer.senders, trackId, track, stream);
    }
  }

  function addTo(pc, senders, trackId, track, stream) {
    const sender = pc.addTrack(track, stream);
    senders.set(trackId, sender);
    if (stream === local) limitCamera(sender, track);
  }

  // The connection made ahead (AHEAD_AFTER_MS): its tracks added, its offer set and its candidates
  // gathering while nobody waits. Those already in a meeting took 0.05-0.5 s after hearing of a
  // newcomer to send their offers, each on a page busy with the meeting's video (docs/decisions/0033).
  async function makeAhead() {
    aheadTimer = null;
    const wanted = wantedTracks();
    if (ahead || wanted.size === 0) return;
    const made = { pc: newConnection(), senders: new Map(), tracks: trackKey(wanted), made: Date.now(), ready: false };
    ahead = made;
    for (const [trackId, { track, stream }] of wanted) addTo(made.pc, made.senders, trackId, track, stream);
    try {
      await made.pc.setLocalDescription();
      made.ready = true;
    } catch (err) {
      if (ahead === made) {
        console.warn("mesh: could not make a connection ahead", err); // not one dropped meanwhile
        ahead = null;
      }
      made.pc.close();
    }
  }

  function dropAhead() {
    clearTimeout(aheadTimer);
    aheadTimer = null;
    if (ahead) ahead.pc.close();
    ahead = null;
  }

  function makeAheadSoon() {
    if (!ahead && !aheadTimer && sends && localSet) {
      aheadTimer = setTimeout(makeAhead, AHEAD_AFTER_MS);
      if (aheadTimer.unref) aheadTimer.unref(); // Node (tests/js)
    }
  }

  // The connection made ahead, if it still sends what this page sends; another is made soon.
  function takeAhead() {
    const taken = ahead;
    ahead = null;
    makeAheadSoon();
    if (!taken) return null;
    const current = taken.tracks === trackKey(wantedTracks());
    if (taken.ready && current && Date.now() - taken.made < AHEAD_MAX_AGE_MS) return taken;
    taken.pc.close();
    return null;
  }

  // An offer that comes before this page's camera and microphone are ready (they take 0.1 s to seconds
  // to start) is answered at once, ready to send a sound and a picture; attach puts the tracks in their
  // places when they come, with no second round of negotiation. Holding the answer until then held every
  // join by as long (docs/decisions/0033). The stream named is a stand-in: the camera's is not known yet,
  // and the others only need one id to keep this page's sound and picture together.
  function sendLater(peer) {
    announced = announced || new MediaStream();
    for (const transceiver of peer.pc.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      if (transceiver.sender.track || transceiver.direction !== "recvonly" || peer.unfilled.has(kind)) continue;
      transceiver.direction = "sendrecv";
      transceiver.sender.setStreams(announced);
      peer.unfilled.set(kind, transceiver.sender);
    }
  }

  // max-bundle: sound, picture and screen share one transport, gathered and checked once. With the
  // default ("balanced") an offer gathers one for sound and one for picture until the answer bundles
  // them: twice the candidates to relay (bench/meeting_bench.py: 37 messages sent per join without it, 25 with).
  function newConnection() {
    return new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
  }

  // The connection to `peer`. `offer`: this page offers (to a newcomer, or to one that does not send):
  // the connection made ahead is taken, and its offer sent at once.
  function connect(peer, { offer = false } = {}) {
    if (peer.pc) return peer.pc;
    const taken = offer ? takeAhead() : null;
    const pc = taken ? taken.pc : newConnection();
    Object.assign(peer, { pc, polite: selfId < peer.id, makingOffer: false, ignoreOffer: false, tried: Date.now() });
    pc.onnegotiationneeded = async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        signal(peer, "offer", { sdp: pc.localDescription.sdp });
      } catch (err) {
        console.warn("mesh: offer failed", err);
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) signal(peer, "candidate", { candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] || new MediaStream([track]);
      peer.streams.set(stream.id, stream);
      stream.onremovetrack = () => {
        if (stream.getTracks().length === 0) peer.streams.delete(stream.id);
        changed();
      };
      track.onunmute = changed;
      changed();
    };
    pc.onconnectionstatechange = () => {
      peer.connection = pc.connectionState;
      if (pc.connectionState === "failed") pc.restartIce();
      changed();
    };
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === "failed") pc.restartIce();
    };
    if (taken) {
      // Its candidates gathered so far are in the offer; those still to come trickle (onicecandidate).
      peer.senders = taken.senders;
      signal(peer, "offer", { sdp: pc.localDescription.sdp });
    }
    attach(peer);
    return pc;
  }

  async function onSignal(message) {
    const peer = ensure(message.from_peer);
    const pc = connect(peer);
    try {
      if (message.kind === "candidate") {
        try {
          await pc.addIceCandidate(message.candidate);
        } catch (err) {
          if (!peer.ignoreOffer) throw err;
        }
        return;
      }
      const offer = message.kind === "offer";
      const collision = offer && (peer.makingOffer || pc.signalingState !== "stable");
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) return;
      await pc.setRemoteDescription({ type: message.kind, sdp: message.sdp });
      if (offer) {
        if (sends && !localSet) sendLater(peer);
        await pc.setLocalDescription();
        signal(peer, "answer", { sdp: pc.localDescription.sdp });
      }
    } catch (err) {
      console.warn("mesh: signalling failed", err);
    }
  }

  // Who offers first, to spare a collision on every join: those already there that send offer to the
  // newcomer as soon as they hear of it, while the newcomer's page is still starting (its camera, its
  // modules); the newcomer answers. It offers itself only to those that do not send (a broadcast's
  // viewers), who have nothing to offer. Four alternating runs of bench/meeting_bench.py: all remote
  // videos at p50 1.20-1.43 s against 1.30-1.81 s with the newcomer offering (docs/decisions/0033).
  function onRoster(message) {
    if (selfId !== message.peer_id) [...peers.keys()].forEach(drop);
    selfId = message.peer_id;
    sends = !!message.sends;
    const present = new Set(message.peers.map((info) => info.peer));
    [...peers.keys()].filter((id) => !present.has(id)).forEach(drop);
    peers.forEach(attach); // invited to speak, or taken back: the tracks follow
    if (sends) makeAheadSoon();
    else dropAhead();
    for (const info of message.peers) {
      const peer = ensure(info.peer, info);
      if (peer.pc) continue;
      if (sends && !info.sends) connect(peer, { offer: true });
      else if (sends && info.sends) peer.awaiting = Date.now(); // its offer is on the way
    }
    changed();
  }

  function onJoined(info) {
    if (!selfId || info.peer === selfId) return;
    const peer = ensure(info.peer, info);
    if (sends) connect(peer, { offer: true });
    changed();
  }

  function handle(message) {
    switch (message.type) {
      case "roster":
        onRoster(message);
        break;
      case "peer_joined":
        onJoined(message.peer);
        break;
      case "peer_left":
        drop(message.peer_id);
        break;
      case "peer_state": {
        const peer = peers.get(message.peer_id);
        if (peer && peer.info) {
          peer.info = { ...peer.info, mic: message.mic, cam: message.cam, screen: message.screen };
          changed();
        }
        break;
      }
      case "signal":
        onSignal(message);
        break;
      default:
        break;
    }
  }

  async function retry(peer) {
    const pc = peer.pc;
    peer.tried = Date.now();
    try {
      if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({ type: "rollback" });
      pc.restartIce(); // a new offer (negotiationneeded), with fresh ICE credentials
    } catch (err) {
      console.warn("mesh: retry failed", err);
    }
  }

  const watchdog = setInterval(() => {
    for (const peer of peers.values()) {
      if (!peer.pc) {
        // None came: ours.
        if (peer.awaiting !== undefined && Date.now() - peer.awaiting >= OFFER_WAIT_MS) connect(peer, { offer: true });
        continue;
      }
      if (peer.pc.connectionState === "connected" || peer.pc.connectionState === "closed") continue;
      if (Date.now() - peer.tried >= RETRY_MS) retry(peer);
    }
  }, OFFER_WAIT_MS / 3);
  if (watchdog.unref) watchdog.unref(); // Node (tests/js): the timer must not keep the process alive

  function setLocal(stream) {
    local = stream;
    localSet = true;
    dropAhead(); // it would offer the tracks of before
    makeAheadSoon();
    peers.forEach(attach);
  }

  function setScreen(stream) {
    screen = stream;
    dropAhead();
    makeAheadSoon();
    peers.forEach(attach);
  }

  function close() {
    dropAhead();
    [...peers.keys()].forEach(drop);
  }

  return mesh;
}

// A peer's streams, told apart by the screen's stream id the peer announced (peer_state.screen).
export function peerStreams(peer) {
  const screenId = peer.info ? peer.info.screen : null;
  let camera = null;
  let screen = null;
  for (const stream of peer.streams.values()) {
    if (screenId && stream.id === screenId) screen = stream;
    else if (!camera) camera = stream;
  }
  return { camera, screen };
}
