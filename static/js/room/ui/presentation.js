// Presenting from Media and Files (issue 11): the stage's #stage-presentation. Everyone shows what the
// server's `presentation` events (and the `state` snapshot a late joiner gets) say: an image, a PDF's
// page, or a video at the position the server clock gives. Only the presenter gets controls (next /
// previous / go to page, the video's own controls, stop); what they do goes to the server, which tells
// everyone, the presenter included.
//
// Stage contract with ui/meeting.js (docs/decisions/0025): while presenting, #stage has
// data-has-content="1" and data-stage-kind="presentation"; a `room:stage` CustomEvent {kind, active}
// on document says when a presentation starts or stops; a newer screen share makes this yield.
// Test markers on #stage-presentation: data-presentation-id, data-kind, data-page (asked for) and
// data-shown-page (loaded and on screen).

import { $ } from "../dom.js";
import { createServerClock, presentedUrl, stepPage, videoPositionAt } from "../presentation-sync.js";

// The promise is "within 0.5 s on every page" (SPEC): each page aims well inside it, so two pages off in
// opposite directions, or a page that stalls for a moment under load, still meet it.
const SEEK_S = 0.25; // a viewer's video further off than this jumps to where it should be
const PRESENTER_SEEK_S = 0.6; // the presenter's own page jumps only when far off (it sets the timeline)
const PRESENTER_HANDS_OFF_MS = 2000; // ... and not while their own scrubbing is on its way to the server
const NUDGE_S = 0.04; // off by more than this, it plays a little faster or slower until it is there
const SYNC_EVERY_MS = 250;
const SEND_VIDEO_AFTER_MS = 150; // a presenter's scrubbing is sent as one command when it settles

export function createPresentation({ config, command, notify }) {
  const stage = $("stage");
  const el = $("stage-presentation");
  const img = $("presentation-image");
  const video = $("presentation-video");
  const title = $("presentation-title");
  const by = $("presentation-by");
  const unmute = $("presentation-unmute");
  const controls = $("presentation-controls"); // hosts' and moderators' pages only
  const pageControls = $("presentation-pages");
  const pageInput = $("presentation-page");
  const pageCount = $("presentation-count");
  const clock = createServerClock();
  let current = null;
  let myUserId = null;
  let screenSince = 0; // a screen share shown since (performance.now()), 0: none
  let shownSince = 0;
  // Events this page's own sync will cause (play, pause, seeked): they are not the presenter's doing and
  // must not be sent back. Counted per type and cleared on the event (a timer alone misses a seek that
  // takes longer under load); a count whose event never comes is dropped after EXPECT_MS.
  const expected = { play: 0, pause: 0, seeked: 0 };
  const EXPECT_MS = 3000;
  function ownEvent(type) {
    expected[type] += 1;
    setTimeout(() => (expected[type] = Math.max(0, expected[type] - 1)), EXPECT_MS);
  }
  let ownActionAt = -Infinity; // performance.now() of the presenter's last own play/pause/seek
  let sendTimer = null;
  const arrivals = []; // (page, Date.now()) of the last presentation events: bench/present_bench.py reads them

  const presenting = () => current && current.presenter_id === myUserId;

  // --- the stage ------------------------------------------------------------------------------------
  function renderStage() {
    const visible = !!current && !(screenSince && screenSince > shownSince);
    el.hidden = !visible;
    if (visible) {
      stage.dataset.hasContent = "1";
      stage.dataset.stageKind = "presentation";
      const empty = $("stage-empty");
      if (empty) empty.hidden = true;
    } else if (stage.dataset.stageKind === "presentation") {
      stage.dataset.hasContent = "0";
      delete stage.dataset.stageKind;
      const empty = $("stage-empty");
      if (empty) empty.hidden = false;
    }
  }

  document.addEventListener("room:stage", (e) => {
    const detail = e.detail || {};
    if (detail.kind === "presentation") return;
    screenSince = detail.active ? performance.now() : 0;
    renderStage();
  });

  function announce(active) {
    document.dispatchEvent(new CustomEvent("room:stage", { detail: { kind: "presentation", active } }));
  }

  // --- what is shown --------------------------------------------------------------------------------
  function showImage(src, page) {
    video.hidden = true;
    if (!video.paused) video.pause();
    video.removeAttribute("src");
    img.hidden = false;
    el.dataset.page = page ? String(page) : "";
    if (img.getAttribute("src") !== src) {
      img.dataset.page = page ? String(page) : "";
      img.src = src;
    }
    // A preloaded page is complete as soon as its src is set (HTML's list of available images): it
    // is shown now, not when the load event's task gets its turn on a page busy with video.
    if (img.complete && img.naturalWidth) el.dataset.shownPage = page ? String(page) : "1";
  }

  img.addEventListener("load", () => {
    el.dataset.shownPage = img.dataset.page || "1";
  });
  img.addEventListener("error", () => {
    if (current) notify(config.texts.presentation_not_loaded, { level: "error", code: "presentation_not_loaded" });
  });

  // The neighbours of the page shown, fetched and decoded ahead, so the next turn is drawn from the
  // cache: a 1080p PNG decoded only when shown took 100-300 ms of a turn on a busy machine. Kept
  // referenced (the decoded picture lives as long as its image) and dropped once out of reach.
  const preloaded = new Map(); // url -> Image
  function preload(presentation) {
    const wanted = new Set();
    // Two ahead: a presenter who clicks through quickly turns again before one page has loaded.
    for (const page of [presentation.page + 1, presentation.page + 2, presentation.page - 1, presentation.page]) {
      if (page < 1 || page > presentation.page_count) continue;
      const url = presentedUrl(config, presentation, page);
      wanted.add(url);
      if (preloaded.has(url)) continue;
      const image = new Image();
      image.decoding = "async";
      image.src = url;
      image.decode().catch(() => preloaded.delete(url));
      preloaded.set(url, image);
    }
    for (const url of [...preloaded.keys()]) if (!wanted.has(url)) preloaded.delete(url);
  }

  function showPdf(presentation) {
    showImage(presentedUrl(config, presentation), presentation.page);
    img.alt = `${presentation.title}, page ${presentation.page} of ${presentation.page_count}`;
    preload(presentation);
  }

  function playVideo() {
    ownEvent("play");
    video.play().catch(() => {
      // No sound allowed before this page was interacted with: play it muted and offer the sound.
      if (video.muted) return;
      video.muted = true;
      unmute.hidden = false;
      video.play().catch(() => {});
      notify(config.texts.presentation_sound_off, { level: "info", code: "presentation_sound_off" });
    });
  }

  function seekTo(target) {
    ownEvent("seeked");
    video.currentTime = target;
  }

  // Keep this page's video where the server's timeline says: far off, jump there (viewers); a little
  // off, play slightly faster or slower until it is there (which fires no seek, so the presenter's page
  // follows the server's stamps too without echoing commands back).
  function syncVideo(force = false) {
    if (!current || current.kind !== "video" || video.readyState < 1) return;
    const mine = presenting();
    const target = videoPositionAt(current, clock.now(), video.duration);
    const drift = target - video.currentTime; // > 0: behind
    el.dataset.position = String(target);
    if (!current.playing) {
      video.playbackRate = 1;
      if (!video.paused && (!mine || force)) {
        ownEvent("pause");
        video.pause();
      }
      if ((force || !mine) && Math.abs(drift) > 0.05) seekTo(target);
      return;
    }
    if (video.paused && (!mine || force)) playVideo();
    const handsOff = mine && performance.now() - ownActionAt < PRESENTER_HANDS_OFF_MS;
    if (force || Math.abs(drift) > (mine ? PRESENTER_SEEK_S : SEEK_S)) {
      if (handsOff && !force) return;
      video.playbackRate = 1;
      seekTo(target);
    } else if (Math.abs(drift) > NUDGE_S) {
      video.playbackRate = 1 + Math.max(-0.3, Math.min(0.3, drift * 0.6));
    } else {
      video.playbackRate = 1;
    }
  }

  function showVideo(presentation, isNew) {
    img.hidden = true;
    img.removeAttribute("src");
    video.hidden = false;
    video.controls = presenting();
    video.setAttribute("aria-label", presentation.title);
    const src = presentedUrl(config, presentation);
    if (isNew || video.getAttribute("src") !== src) {
      video.src = src;
      video.addEventListener("loadedmetadata", () => syncVideo(true), { once: true });
    } else {
      syncVideo();
    }
  }

  function show(presentation) {
    if (!presentation) {
      if (current) {
        current = null;
        img.hidden = video.hidden = true;
        if (!video.paused) video.pause();
        video.removeAttribute("src");
        img.removeAttribute("src");
        unmute.hidden = true;
        delete el.dataset.presentationId;
        delete el.dataset.page;
        delete el.dataset.shownPage;
        if (controls) controls.hidden = true;
        renderStage();
        announce(false);
      }
      return;
    }
    const isNew = !current || current.id !== presentation.id;
    current = presentation;
    el.dataset.presentationId = String(presentation.id);
    el.dataset.kind = presentation.kind;
    title.textContent = presentation.title;
    by.textContent = presentation.presenter ? `${config.texts.presentation_by} ${presentation.presenter}` : "";
    if (presentation.kind === "video") showVideo(presentation, isNew);
    else if (presentation.kind === "pdf") showPdf(presentation);
    else showImage(presentedUrl(config, presentation), null);
    if (controls) {
      controls.hidden = !presenting();
      pageControls.hidden = presentation.kind !== "pdf";
      if (presentation.kind === "pdf") {
        pageInput.max = String(presentation.page_count);
        if (document.activeElement !== pageInput) pageInput.value = String(presentation.page);
        pageCount.textContent = `of ${presentation.page_count}`;
        $("presentation-prev").disabled = presentation.page <= 1;
        $("presentation-next").disabled = presentation.page >= presentation.page_count;
      }
    }
    if (isNew) {
      shownSince = performance.now();
      renderStage();
      announce(true);
    } else renderStage();
  }

  // --- the presenter's controls ---------------------------------------------------------------------
  function turn(delta) {
    if (!presenting() || current.kind !== "pdf") return;
    const page = stepPage(current.page, current.page_count, delta);
    if (page !== null) command("present_page", { page });
  }

  if (controls) {
    $("presentation-prev").addEventListener("click", () => turn(-1));
    $("presentation-next").addEventListener("click", () => turn(1));
    $("presentation-stop").addEventListener("click", () => command("present_stop"));
    pageInput.addEventListener("change", () => {
      const page = Number(pageInput.value);
      if (presenting() && Number.isInteger(page) && page >= 1 && page <= current.page_count && page !== current.page) {
        command("present_page", { page });
      }
    });
    // Arrow keys and Page Up / Down turn pages while the focus is on the stage or its controls.
    el.addEventListener("keydown", (e) => {
      if (e.target === pageInput) return;
      if (e.key === "ArrowRight" || e.key === "PageDown") turn(1);
      else if (e.key === "ArrowLeft" || e.key === "PageUp") turn(-1);
      else return;
      e.preventDefault();
    });
  }

  function videoChanged(event) {
    if (expected[event.type] > 0) {
      expected[event.type] -= 1; // this page's own sync caused it
      return;
    }
    if (!current || !presenting() || current.kind !== "video") return;
    ownActionAt = performance.now();
    clearTimeout(sendTimer);
    sendTimer = setTimeout(() => {
      // Stamped with this page's estimate of the server clock as the position is read: the server's own
      // stamp would add the time the command takes to reach it, and the presenter would run ahead.
      const playing = !video.paused && !video.ended;
      command("present_video", { playing, position: video.currentTime, at: clock.now() });
    }, SEND_VIDEO_AFTER_MS);
  }
  for (const type of ["play", "pause", "seeked"]) video.addEventListener(type, videoChanged);
  unmute.addEventListener("click", () => {
    video.muted = false;
    unmute.hidden = true;
  });
  setInterval(() => syncVideo(), SYNC_EVERY_MS);

  return {
    handle(message) {
      const receivedAt = Date.now();
      switch (message.type) {
        case "clock_probe":
          clock.sample(message.server_time, receivedAt);
          break;
        case "state":
          myUserId = message.user_id;
          clock.sample(message.server_time, receivedAt);
          show(message.presentation || null);
          break;
        case "presentation":
          arrivals.push({ page: message.presentation ? message.presentation.page : null, at: receivedAt });
          if (arrivals.length > 50) arrivals.shift();
          if (message.presentation) clock.sample(message.presentation.server_time, receivedAt);
          show(message.presentation);
          break;
        case "session_ended":
          show(null);
          break;
        default:
          break;
      }
    },
    // For tests and the benchmark: the server's clock as this page estimates it (seconds).
    serverNow: () => clock.now(),
    arrivals: () => arrivals.slice(),
  };
}
