// The lecture player: every <video data-lecture-id="..."> plays that lecture's HLS video.
//
// It asks /lectures/<id>/play (access is checked there and on every playlist), then plays the
// master playlist with hls.js where Media Source Extensions exist, else natively (Safari on
// iPhone). Segment URLs are signed for a few minutes only, so a long session meets a 403 at
// some point: the player then asks /play again and reloads the source where it was.
// Without JavaScript the element shows its poster (the thumbnail) and a <noscript> note.
(() => {
  "use strict";

  const HLS_SRC = document.currentScript && document.currentScript.dataset.hls;
  const REFRESH_GAP_MS = 5000; // two 403s closer than this: the access itself is gone
  const RESUME_TAIL_S = 5; // a lecture left this close to its end starts again from the top
  const players = new WeakMap();
  const playing = new Set(); // players fed by hls.js, in case the page's CSP refuses blob: media
  let hlsLoading = null;
  let mseBlocked = false;

  function loadHls() {
    if (window.Hls) return Promise.resolve(window.Hls);
    if (!HLS_SRC) return Promise.reject(new Error("The video player could not be loaded."));
    hlsLoading ??= new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = HLS_SRC;
      tag.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error("The video player could not be loaded.")));
      tag.onerror = () => reject(new Error("The video player could not be loaded."));
      document.head.appendChild(tag);
    });
    return hlsLoading;
  }

  function hasMse() {
    return !mseBlocked && Boolean(window.MediaSource || window.ManagedMediaSource);
  }

  function playsHlsNatively(video) {
    return video.canPlayType("application/vnd.apple.mpegurl") !== "";
  }

  // Where to start: the saved position (data-resume), unless the lecture was left at its end.
  function resumeAt(video, duration) {
    const at = Number(video.dataset.resume || 0);
    if (!Number.isFinite(at) || at <= 0) return 0;
    // The tail is 5 s, or a tenth of a short clip (an 8 s clip left at 4 s resumes there).
    if (duration > 0 && at >= duration - Math.min(RESUME_TAIL_S, duration / 10)) return 0;
    return at;
  }

  // Tells the page's own controls (learn.js) which engine plays the video: hls.js or native.
  function announce(video, hls) {
    video.dispatchEvent(new CustomEvent("player:attached", { bubbles: true, detail: { hls } }));
  }

  async function fetchPlayback(url) {
    const response = await fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((body.error && body.error.message) || "This video cannot be played.");
      error.status = response.status;
      throw error;
    }
    return body;
  }

  class Player {
    constructor(video) {
      this.video = video;
      this.hls = null;
      this.lastRefresh = 0;
      this.message = null;
      this.refreshing = false;
      this.onPlay = null;
      this.onNativeError = () => this.refresh();
    }

    get playUrl() {
      return this.video.dataset.playUrl || `/lectures/${encodeURIComponent(this.video.dataset.lectureId)}/play`;
    }

    async start() {
      try {
        const playback = await fetchPlayback(this.playUrl);
        if (!this.video.poster && playback.thumbnailUrl) this.video.poster = playback.thumbnailUrl;
        await this.attach(playback.videoUrl, { at: resumeAt(this.video, playback.duration), play: false });
      } catch (error) {
        this.fail(error);
      }
    }

    async attach(url, { at, play }) {
      this.detach();
      this.say("");
      const video = this.video;
      if (hasMse()) {
        const Hls = await loadHls();
        if (Hls.isSupported()) return this.attachHls(Hls, url, at, play);
      }
      if (!playsHlsNatively(video)) throw new Error("This browser cannot play this video.");
      play = play || !video.paused; // pressed while the player was getting ready
      video.addEventListener("error", this.onNativeError);
      if (at > 0 || play) {
        video.addEventListener("loadedmetadata", () => {
          if (at > 0) video.currentTime = at;
          if (play) video.play().catch(() => {});
        }, { once: true });
      }
      video.src = url;
      if (play) video.load();
      announce(video, null);
    }

    attachHls(Hls, url, at, asked) {
      const video = this.video;
      // Pressed play while the player was still getting ready (asking /play, loading hls.js):
      // attaching resets the element, so that press would be lost.
      const play = asked || !video.paused;
      // Nothing beyond the playlists is fetched until the viewer presses play.
      const hls = new Hls({
        autoStartLoad: play,
        startPosition: at > 0 ? at : -1,
        enableWorker: false, // the page's CSP allows no blob: workers
        capLevelToPlayerSize: true,
      });
      this.hls = hls;
      this.url = url;
      playing.add(this);
      if (!play) {
        this.onPlay = () => {
          video.removeEventListener("play", this.onPlay);
          this.onPlay = null;
          // startPosition only applies to a load hls.js starts itself: pass it on.
          hls.startLoad(video.currentTime > 0 ? video.currentTime : at > 0 ? at : -1);
        };
        video.addEventListener("play", this.onPlay);
      }
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        if (play) video.play().catch(() => {});
      });
      hls.on(Hls.Events.ERROR, (_event, data) => this.onHlsError(Hls, hls, data));
      hls.loadSource(url);
      hls.attachMedia(video);
      announce(video, hls);
    }

    onHlsError(Hls, hls, data) {
      if (this.hls !== hls || this.refreshing) return;
      const status = data.response && data.response.code;
      if (status === 403 || status === 401) {
        this.refresh(); // a signed URL expired (or access ended: /play will say so)
      } else if (data.fatal && data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
      } else if (data.fatal && data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        this.refresh();
      } else if (data.fatal) {
        this.fail(new Error("This video cannot be played."));
      }
    }

    async refresh() {
      if (this.refreshing) return;
      const now = Date.now();
      if (now - this.lastRefresh < REFRESH_GAP_MS) {
        this.fail(new Error("This video stopped loading. Reload the page to try again."));
        return;
      }
      this.lastRefresh = now;
      const video = this.video;
      const at = video.currentTime || 0;
      const play = !video.paused;
      this.refreshing = true;
      if (this.hls) this.hls.stopLoad(); // the URLs it holds no longer work
      try {
        const playback = await fetchPlayback(this.playUrl);
        await this.attach(playback.videoUrl, { at, play });
      } catch (error) {
        this.fail(error);
      } finally {
        this.refreshing = false;
      }
    }

    async switchTo(lectureId) {
      this.video.dataset.lectureId = lectureId;
      delete this.video.dataset.playUrl;
      this.video.removeAttribute("poster");
      try {
        const playback = await fetchPlayback(this.playUrl);
        if (playback.thumbnailUrl) this.video.poster = playback.thumbnailUrl;
        await this.attach(playback.videoUrl, { at: resumeAt(this.video, playback.duration), play: true });
      } catch (error) {
        this.fail(error);
      }
    }

    detach() {
      if (this.hls) {
        this.hls.destroy();
        this.hls = null;
        playing.delete(this);
      }
      if (this.onPlay) {
        this.video.removeEventListener("play", this.onPlay);
        this.onPlay = null;
      }
      this.video.removeEventListener("error", this.onNativeError);
    }

    fail(error) {
      this.detach();
      const text = error.status === 401 ? "Log in to watch this lecture." : error.message;
      this.say(text || "This video cannot be played.");
    }

    say(text) {
      if (!this.message) {
        if (!text) return;
        this.message = document.createElement("p");
        this.message.className = "player-message muted";
        this.message.setAttribute("role", "status");
        this.video.insertAdjacentElement("afterend", this.message);
      }
      this.message.textContent = text;
      this.message.hidden = !text;
    }
  }

  // A Content-Security-Policy without `media-src blob:` stops hls.js (it feeds the element a
  // blob: MediaSource); where the browser plays HLS itself, carry on natively.
  document.addEventListener("securitypolicyviolation", (event) => {
    if (!String(event.blockedURI).startsWith("blob") || !event.violatedDirective.startsWith("media-src")) return;
    mseBlocked = true;
    for (const player of [...playing]) {
      const { video, url } = player;
      const at = video.currentTime || 0;
      const play = !video.paused;
      player.attach(url, { at, play }).catch((error) => player.fail(error));
    }
  });

  function setUp(root) {
    const scope = root && root.querySelectorAll ? root : document;
    const videos = [...scope.querySelectorAll("video[data-lecture-id]")];
    if (scope instanceof Element && scope.matches("video[data-lecture-id]")) videos.push(scope);
    for (const video of videos) {
      if (players.has(video)) continue;
      const player = new Player(video);
      players.set(video, player);
      player.start();
    }
  }

  // "Preview" links in a curriculum switch the page's player to that lecture.
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest("[data-preview-lecture]");
    if (!link) return;
    const target = document.querySelector(link.getAttribute("href") || "#course-preview");
    const video = target && (target.matches("video") ? target : target.querySelector("video[data-lecture-id]"));
    const player = video && players.get(video);
    if (!player) return; // no player here: the link just scrolls
    event.preventDefault();
    target.scrollIntoView({ block: "nearest" });
    player.switchTo(link.dataset.previewLecture);
  });

  // The engine playing a video (an Hls instance, or null when native), for the page's controls.
  window.coursefrontPlayer = {
    engineOf(video) {
      const player = players.get(video);
      return (player && player.hls) || null;
    },
  };

  // Fragments swapped in by htmx (the studio's video partial) get a player too, and a player
  // swapped out stops loading.
  document.addEventListener("htmx:load", (event) => setUp(event.detail && event.detail.elt));
  document.addEventListener("htmx:beforeCleanupElement", (event) => {
    const elt = event.detail && event.detail.elt;
    const player = elt && players.get(elt);
    if (player) player.detach();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => setUp(document));
  } else {
    setUp(document);
  }
})();
