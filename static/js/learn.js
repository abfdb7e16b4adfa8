// The lecture player page's own controls, on top of player.js (which plays the HLS video):
// speed, quality (hls.js renditions; hidden where the browser plays HLS itself), keyboard
// shortcuts, and the heartbeats that record watching (students only: the video carries
// data-heartbeat-url). Without JavaScript none of this shows; the page still works.
(() => {
  "use strict";

  const video = document.querySelector("video#lecture-video[data-lecture-id]");
  if (!video) return;
  const controls = document.querySelector("[data-player-controls]");
  const RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
  const HEARTBEAT_MS = 15000;
  const MAX_STEP_S = 3; // a timeupdate step longer than this (per 1× of speed) is a jump

  // -- speed ----------------------------------------------------------------------------------
  const speed = controls && controls.querySelector("[data-speed]");

  function setRate(rate) {
    const value = Math.min(2, Math.max(0.5, rate));
    video.defaultPlaybackRate = value; // a reload of the source resets playbackRate to this
    video.playbackRate = value;
  }

  function stepRate(direction) {
    const index = RATES.indexOf(video.playbackRate);
    const from = index === -1 ? RATES.indexOf(1) : index;
    setRate(RATES[Math.min(RATES.length - 1, Math.max(0, from + direction))]);
  }

  if (speed) {
    speed.addEventListener("change", () => setRate(Number(speed.value)));
    video.addEventListener("ratechange", () => {
      const value = String(video.playbackRate);
      if ([...speed.options].some((o) => o.value === value)) speed.value = value;
    });
  }

  // -- quality --------------------------------------------------------------------------------
  const qualityField = controls && controls.querySelector("[data-quality-field]");
  const quality = controls && controls.querySelector("[data-quality]");
  let hls = null;

  function autoLabel() {
    const level = hls && hls.autoLevelEnabled && hls.levels[hls.currentLevel];
    return level && level.height ? `Auto (${level.height}p)` : "Auto";
  }

  function fillQuality() {
    if (!quality || !hls) return;
    const levels = hls.levels || [];
    quality.replaceChildren(new Option(autoLabel(), "-1"));
    levels.forEach((level, index) => {
      const label = level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbps`;
      quality.add(new Option(label, String(index)));
    });
    quality.value = hls.autoLevelEnabled ? "-1" : String(hls.currentLevel);
    qualityField.hidden = levels.length < 2;
  }

  if (quality) {
    quality.addEventListener("change", () => {
      if (hls) hls.currentLevel = Number(quality.value); // -1: back to automatic
    });
  }

  function useEngine(engine) {
    hls = engine;
    if (!qualityField) return;
    qualityField.hidden = true; // native HLS picks the quality itself: nothing to offer
    if (!hls || !window.Hls) return;
    const events = window.Hls.Events;
    hls.on(events.MANIFEST_PARSED, fillQuality);
    hls.on(events.LEVEL_SWITCHED, () => {
      if (quality && quality.options.length) quality.options[0].text = autoLabel();
    });
    if (hls.levels && hls.levels.length) fillQuality();
  }

  video.addEventListener("player:attached", (event) => useEngine(event.detail && event.detail.hls));
  // player.js may have attached before this script ran (both are deferred).
  if (window.coursefrontPlayer) useEngine(window.coursefrontPlayer.engineOf(video));

  // -- keyboard -------------------------------------------------------------------------------
  function typing(target) {
    return target instanceof Element && Boolean(target.closest("input, textarea, select, [contenteditable]"));
  }

  function seekBy(seconds) {
    const end = Number.isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.min(end, Math.max(0, video.currentTime + seconds));
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    } else if (video.requestFullscreen) {
      video.requestFullscreen().catch(() => {});
    }
  }

  function togglePlay() {
    if (video.paused) video.play().catch(() => {});
    else video.pause();
  }

  const KEYS = {
    " ": togglePlay,
    k: togglePlay,
    j: () => seekBy(-10),
    l: () => seekBy(10),
    ArrowLeft: () => seekBy(-5),
    ArrowRight: () => seekBy(5),
    f: toggleFullscreen,
    m: () => { video.muted = !video.muted; },
    ">": () => stepRate(1),
    "<": () => stepRate(-1),
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    const key = event.key.length === 1 && event.key !== " " ? event.key.toLowerCase() : event.key;
    const action = KEYS[event.key] || KEYS[key];
    if (!action) return;
    // Space on a link or button activates it, as everywhere else.
    if (event.key === " " && event.target instanceof Element && event.target.closest("a, button, summary")) return;
    event.preventDefault(); // no page scroll, and the native controls do not act twice
    action();
  });

  if (controls) controls.hidden = false;

  // -- heartbeats -----------------------------------------------------------------------------
  const heartbeatUrl = video.dataset.heartbeatUrl;
  if (!heartbeatUrl) return; // a teacher or admin watching: nothing is recorded
  const csrf = video.dataset.csrf || "";
  let watched = 0; // seconds really played since the last heartbeat
  let last = null; // the position at the previous timeupdate while playing
  let sentPosition = -1;
  let done = video.dataset.done === "true";
  let stopped = false;
  let seekTimer = 0;
  let started = false; // playback has begun on this page (the first heartbeat went out)

  video.addEventListener("timeupdate", () => {
    const now = video.currentTime;
    if (!video.paused && !video.seeking && last !== null) {
      const step = now - last;
      if (step > 0 && step <= MAX_STEP_S * Math.max(1, video.playbackRate)) watched += step;
    }
    last = video.paused ? null : now;
  });
  video.addEventListener("playing", () => {
    last = video.currentTime;
    // The server credits a heartbeat with the time since the lecture's previous one: the
    // first one only starts that clock, so it goes out as soon as playback starts.
    if (!started) {
      started = true;
      send();
    }
  });
  video.addEventListener("seeking", () => { last = null; });

  function fields() {
    return new URLSearchParams({
      csrf_token: csrf,
      position: video.currentTime.toFixed(2),
      watched: watched.toFixed(2),
      rate: String(video.playbackRate || 1),
    });
  }

  function due() {
    // Nothing before playback starts: a page opened and left must not move the saved place
    // (currentTime is still 0 then, not the resume position).
    if (!started || stopped) return false;
    return watched >= 0.05 || Math.abs(video.currentTime - sentPosition) >= 1;
  }

  async function send() {
    if (!due()) return;
    const body = fields();
    const claimed = watched;
    watched = 0;
    sentPosition = video.currentTime;
    try {
      const response = await fetch(heartbeatUrl, { method: "POST", body, credentials: "same-origin", keepalive: true });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 403 || response.status === 404) {
        stopped = true; // access ended (or the lecture went): the player says so on its next load
        return;
      }
      if (!response.ok || !answer.success) throw new Error("heartbeat refused");
      onProgress(answer.data || {});
    } catch (_error) {
      watched += claimed; // sent again with the next heartbeat
    }
  }

  function beacon() {
    if (!due() || !navigator.sendBeacon) return;
    if (navigator.sendBeacon(heartbeatUrl, fields())) {
      watched = 0;
      sentPosition = video.currentTime;
    }
  }

  const completedBefore = video.dataset.completed === "true";
  function onProgress(data) {
    const flipped = Boolean(data.lectureDone) && !done;
    done = done || Boolean(data.lectureDone);
    const finished = Boolean(data.courseCompleted) && flipped && !completedBefore;
    if (finished) {
      const banner = document.getElementById("course-complete");
      if (banner) banner.hidden = false;
    }
    if (flipped || finished) document.body.dispatchEvent(new CustomEvent("progress-changed", { bubbles: true }));
  }

  video.addEventListener("pause", send);
  video.addEventListener("ended", send);
  video.addEventListener("seeked", () => {
    clearTimeout(seekTimer); // dragging the bar seeks many times: one heartbeat at the end
    seekTimer = setTimeout(send, 1000);
  });
  setInterval(() => {
    if (!video.paused && !video.ended) send();
  }, HEARTBEAT_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") beacon();
  });
  window.addEventListener("pagehide", beacon);
})();
