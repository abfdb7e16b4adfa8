// Lecture video uploader (templates/teaching/partials/lecture_video.html, app/teaching/upload_views.py).
// The file goes straight to storage in parts (S3 presigned or app-signed local URLs), up to four
// at a time, each retried alone with backoff; progress counts the bytes really sent. An upload
// interrupted by a network drop carries on when the connection is back; one interrupted by a page
// reload resumes when the same file is chosen again (localStorage keeps its id), sending only the
// parts storage does not hold yet. Then it confirms and swaps in the status partial, which polls.
(function () {
  "use strict";
  if (window.CoursefrontUploader) return; // the partial includes this once per lecture
  window.CoursefrontUploader = true;

  var PARALLEL = 4;
  var MAX_ATTEMPTS = 8; // per part (and per JSON call): 1 s, 2 s, 4 s ... 30 s apart
  var URL_BATCH = 20; // part URLs asked for at a time
  var URL_MARGIN_MS = 2 * 60 * 1000; // a URL this close to expiring is renewed before use
  var STALL_MS = 60 * 1000; // no byte sent for this long: the part is aborted and retried
  var SPEED_WINDOW_MS = 8000;
  var EXTENSIONS = [".mp4", ".mov", ".webm", ".mkv"];
  var STORE_PREFIX = "coursefront-upload:";
  var active = new Map(); // lecture id -> Upload

  // -- small helpers ---------------------------------------------------------------------------
  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      return headers["X-CSRFToken"] || "";
    } catch (_) {
      return "";
    }
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function backoff(attempt) {
    var base = Math.min(30000, 1000 * Math.pow(2, attempt - 1));
    return base / 2 + Math.random() * base / 2; // jitter: parts that failed together retry apart
  }

  function online() {
    if (navigator.onLine !== false) return Promise.resolve();
    return new Promise(function (resolve) {
      window.addEventListener("online", function () { resolve(); }, { once: true });
    });
  }

  function formatBytes(n) {
    if (n >= 1073741824) return (n / 1073741824).toFixed(2) + " GB";
    if (n >= 1048576) return (n / 1048576).toFixed(1) + " MB";
    if (n >= 1024) return Math.round(n / 1024) + " kB";
    return n + " bytes";
  }

  function formatDuration(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "";
    if (seconds < 60) return Math.max(1, Math.round(seconds)) + " s";
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function failure(message, extra) {
    var error = new Error(message);
    Object.keys(extra || {}).forEach(function (key) { error[key] = extra[key]; });
    return error;
  }

  // A JSON call to the studio; network errors and 5xx are retried, 4xx are not.
  async function api(method, url, body) {
    for (var attempt = 1; ; attempt++) {
      var response;
      try {
        response = await fetch(url, {
          method: method,
          credentials: "same-origin",
          headers: Object.assign(
            { Accept: "application/json", "X-CSRFToken": csrfToken() },
            body ? { "Content-Type": "application/json" } : {}
          ),
          body: body ? JSON.stringify(body) : undefined,
        });
      } catch (_) {
        response = null; // offline, DNS, connection reset
      }
      var data = null;
      if (response) {
        try { data = await response.json(); } catch (_) { data = null; }
        if (response.ok) return data;
        if (response.status < 500 && response.status !== 429) {
          var error = (data && data.error) || {};
          throw failure(error.message || "The server refused (" + response.status + ").", {
            status: response.status, code: error.code || "", fatal: true,
          });
        }
      }
      if (attempt >= MAX_ATTEMPTS) {
        throw failure("The server cannot be reached. Check your connection and try again.");
      }
      await sleep(backoff(attempt));
      await online();
    }
  }

  function storeKey(lectureId, file) {
    return STORE_PREFIX + [lectureId, file.name, file.size, file.lastModified].join(":");
  }

  function remember(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* private mode */ }
  }

  function recall(key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (_) { return null; }
  }

  function forget(key) {
    try { localStorage.removeItem(key); } catch (_) { /* private mode */ }
  }

  function rootFor(lectureId) {
    return document.querySelector('section.lecture-video[data-lecture-id="' + lectureId + '"]');
  }

  function formFor(lectureId) {
    return document.querySelector('form[data-uploader][data-lecture-id="' + lectureId + '"]');
  }

  // Swap in the lecture's status partial (it polls while the video is processing).
  function refresh(lectureId, statusUrl) {
    var root = rootFor(lectureId);
    if (!root) return Promise.resolve();
    if (window.htmx) {
      return window.htmx.ajax("GET", statusUrl, { target: root, swap: "outerHTML" });
    }
    return fetch(statusUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.text(); })
      .then(function (html) { root.outerHTML = html; enhance(document); });
  }

  // -- one upload -----------------------------------------------------------------------------
  function Upload(form, file) {
    this.lectureId = form.dataset.lectureId;
    this.form = form;
    this.file = file;
    this.key = storeKey(this.lectureId, file);
    this.urls = new Map(); // part number -> {url, expires}
    this.done = new Set();
    this.inflight = new Map(); // part number -> bytes sent so far
    this.xhrs = new Set();
    this.queue = [];
    this.stopped = false;
    this.samples = [];
    this.lastAnnounced = -1;
    this.frame = 0;
  }

  Upload.prototype.el = function (name) {
    // The page may have re-rendered the lecture (another HTMX swap): use the form shown now.
    if (!this.form.isConnected) this.form = formFor(this.lectureId) || this.form;
    return this.form.querySelector("[data-upload-" + name + "]");
  };

  Upload.prototype.partSizeOf = function (n) {
    return Math.min(this.partSize, this.file.size - (n - 1) * this.partSize);
  };

  Upload.prototype.run = async function () {
    this.showBusy(true);
    this.say("Preparing the upload…");
    try {
      await this.begin();
      await this.sendAll();
      await this.confirm();
      forget(this.key);
      this.stopped = true;
      this.render(true);
      this.say("Upload complete. Processing starts in a moment…", "Upload complete.");
      active.delete(this.lectureId);
      await refresh(this.lectureId, this.links.status || this.form.dataset.statusUrl);
    } catch (error) {
      active.delete(this.lectureId);
      this.abortAll();
      if (this.cancelled) return;
      this.showBusy(false);
      this.showError(error.message || "The upload failed.");
    }
  };

  Upload.prototype.adopt = function (data) {
    this.token = data.uploadId;
    this.partSize = data.partSize;
    this.partCount = data.partCount;
    this.links = data.links || {};
    this.addUrls(data.parts || [], data.expiresAt);
  };

  Upload.prototype.addUrls = function (parts, expiresAt) {
    var expires = Date.parse(expiresAt) || Date.now() + 10 * 60 * 1000;
    parts.forEach(function (part) {
      this.urls.set(part.partNumber, { url: part.url, expires: expires });
    }, this);
  };

  // Resume the upload this file started before (this browser, or the one the page names), or
  // start a new one.
  Upload.prototype.begin = async function () {
    var saved = recall(this.key);
    var form = this.form;
    if (!saved && form.dataset.pendingUpload && form.dataset.pendingName === this.file.name &&
        Number(form.dataset.pendingSize) === this.file.size) {
      saved = { uploadId: form.dataset.pendingUpload, stateUrl: form.dataset.pendingUrl };
    }
    if (saved && saved.stateUrl) {
      var state = null;
      try {
        state = await api("GET", saved.stateUrl);
      } catch (error) {
        if (!error.fatal) throw error; // a 4xx: gone or not ours any more, start again
      }
      if (state && state.status === "uploading" && state.fileSize === this.file.size) {
        this.adopt(state);
        this.markStored(state.uploadedParts || []);
        this.say("Resuming: " + formatBytes(this.sentBytes()) + " already stored.");
        return;
      }
      forget(this.key);
    }
    var ticket = await api("POST", form.dataset.uploadUrl, {
      fileName: this.file.name,
      fileSize: this.file.size,
      contentType: this.file.type || "",
    });
    if (this.cancelled) { // cancelled while the upload was being created
      await api("DELETE", ticket.links.cancel).catch(function () { /* cleaned up within a day */ });
      return;
    }
    this.adopt(ticket);
    remember(this.key, { uploadId: ticket.uploadId, stateUrl: ticket.links.self, at: Date.now() });
  };

  Upload.prototype.markStored = function (parts) {
    this.done.clear();
    parts.forEach(function (part) {
      if (part.size === this.partSizeOf(part.partNumber)) this.done.add(part.partNumber);
    }, this);
  };

  Upload.prototype.sendAll = async function () {
    this.queue = [];
    for (var n = 1; n <= this.partCount; n++) if (!this.done.has(n)) this.queue.push(n);
    var self = this;
    var workers = [];
    for (var i = 0; i < Math.min(PARALLEL, this.queue.length); i++) {
      workers.push((async function () {
        while (self.queue.length && !self.stopped) await self.sendPart(self.queue.shift());
      })());
    }
    try {
      await Promise.all(workers);
    } catch (error) {
      this.stopped = true; // the other workers stop after their current part
      throw error;
    }
    if (this.cancelled) throw failure("Cancelled.");
  };

  Upload.prototype.sendPart = async function (n) {
    for (var attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (this.stopped) return;
      var url = await this.urlFor(n);
      try {
        await this.put(n, url);
        this.done.add(n);
        this.inflight.delete(n);
        this.render();
        return;
      } catch (error) {
        this.inflight.delete(n);
        this.render();
        if (this.stopped) return;
        if (error.fatal) throw error;
        if (error.expired) this.urls.delete(n); // a fresh signature next time
        this.say("Connection trouble; part " + n + " is sent again…");
        await sleep(backoff(attempt));
        await online();
      }
    }
    throw failure("A part of the file could not be sent after " + MAX_ATTEMPTS +
      " attempts. Check your connection, then choose the file again to resume.");
  };

  // A URL for part n that does not expire soon: renewed in batches, one request at a time.
  Upload.prototype.urlFor = async function (n) {
    for (;;) {
      var known = this.urls.get(n);
      if (known && known.expires - Date.now() > URL_MARGIN_MS) return known.url;
      if (this.renewing) {
        await this.renewing;
        continue;
      }
      var self = this;
      var wanted = [n].concat(this.queue.filter(function (m) {
        var url = self.urls.get(m);
        return !url || url.expires - Date.now() <= URL_MARGIN_MS;
      })).slice(0, URL_BATCH);
      this.renewing = api("POST", this.links.parts, { partNumbers: wanted })
        .then(function (data) { self.addUrls(data.parts, data.expiresAt); })
        .finally(function () { self.renewing = null; });
      await this.renewing;
    }
  };

  // PUT one part with XMLHttpRequest (fetch reports no upload progress).
  Upload.prototype.put = function (n, url) {
    var self = this;
    var start = (n - 1) * this.partSize;
    var blob = this.file.slice(start, start + this.partSizeOf(n));
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      var stalled = false;
      var timer = 0;
      function watch() {
        clearTimeout(timer);
        timer = setTimeout(function () { stalled = true; xhr.abort(); }, STALL_MS);
      }
      function settle(error) {
        clearTimeout(timer);
        self.xhrs.delete(xhr);
        if (error) reject(error); else resolve(xhr.getResponseHeader("ETag"));
      }
      xhr.open("PUT", url);
      xhr.upload.onprogress = function (event) {
        watch();
        self.inflight.set(n, event.loaded);
        self.render();
      };
      xhr.onload = function () {
        var status = xhr.status;
        if (status >= 200 && status < 300) return settle(null);
        // 403: the signature expired (or the clock is off); 404: the upload is gone.
        settle(failure("Storage answered " + status + ".", {
          status: status,
          expired: status === 403,
          fatal: status === 404,
        }));
      };
      xhr.onerror = function () { settle(failure("The connection dropped.")); };
      xhr.onabort = function () {
        settle(failure(stalled ? "The connection stalled." : "Cancelled."));
      };
      self.xhrs.add(xhr);
      watch();
      xhr.send(blob);
    });
  };

  // Confirm; if storage lacks a part after all (a lost response), send what is missing once more.
  Upload.prototype.confirm = async function () {
    this.say("Checking the upload…");
    for (var round = 1; ; round++) {
      try {
        // A file refused as not a video answers status "failed": the partial shows why.
        return await api("POST", this.form.dataset.confirmUrl, { uploadId: this.token });
      } catch (error) {
        if (error.code !== "size_mismatch" || round >= 3) throw error;
      }
      var state = await api("GET", this.links.self);
      this.markStored(state.uploadedParts || []);
      await this.sendAll();
    }
  };

  Upload.prototype.abortAll = function () {
    this.stopped = true;
    this.xhrs.forEach(function (xhr) { xhr.abort(); });
    this.xhrs.clear();
  };

  Upload.prototype.cancel = async function () {
    this.cancelled = true;
    this.abortAll();
    active.delete(this.lectureId);
    forget(this.key);
    this.say("Cancelling…");
    if (this.token && this.links && this.links.cancel) {
      try { await api("DELETE", this.links.cancel); } catch (_) { /* cleaned up within a day */ }
    }
    this.showBusy(false);
    this.say("", "Upload cancelled.");
    await refresh(this.lectureId, this.form.dataset.statusUrl);
  };

  // -- progress -------------------------------------------------------------------------------
  Upload.prototype.sentBytes = function () {
    var total = 0;
    this.done.forEach(function (n) { total += this.partSizeOf(n); }, this);
    this.inflight.forEach(function (bytes) { total += bytes; });
    return Math.min(total, this.file.size);
  };

  Upload.prototype.render = function (now) {
    if (now) return this.draw();
    if (this.frame) return;
    var self = this;
    this.frame = requestAnimationFrame(function () { self.frame = 0; self.draw(); });
  };

  Upload.prototype.draw = function () {
    if (!this.partSize) return;
    var sent = this.sentBytes();
    var total = this.file.size;
    var percent = total ? Math.floor((sent / total) * 100) : 100;
    var t = Date.now();
    this.samples.push([t, sent]);
    while (this.samples.length > 2 && t - this.samples[0][0] > SPEED_WINDOW_MS) this.samples.shift();
    var first = this.samples[0];
    var seconds = (t - first[0]) / 1000;
    var speed = seconds > 0.5 ? (sent - first[1]) / seconds : 0;
    var bar = this.el("bar");
    if (bar) { bar.value = percent; bar.textContent = percent + " %"; }
    var text = formatBytes(sent) + " of " + formatBytes(total) + " (" + percent + " %)";
    if (speed > 0 && sent < total) {
      text += " · " + formatBytes(speed) + "/s · about " + formatDuration((total - sent) / speed) + " left";
    }
    var line = this.el("text");
    if (line) line.textContent = text;
    var step = Math.floor(percent / 10) * 10; // screen readers hear every 10 %, not every event
    if (step !== this.lastAnnounced) {
      this.lastAnnounced = step;
      var live = this.el("live");
      if (live) live.textContent = "Uploaded " + step + " percent.";
    }
  };

  Upload.prototype.say = function (visible, spoken) {
    var line = this.el("text");
    if (line && visible) line.textContent = visible;
    var live = this.el("live");
    if (live && (spoken || visible)) live.textContent = spoken || visible;
  };

  Upload.prototype.showBusy = function (busy) {
    var panel = this.el("progress");
    if (panel) panel.hidden = !busy;
    var fields = this.form.querySelector("fieldset");
    if (fields) fields.disabled = busy;
    var error = this.el("error");
    if (error && busy) error.hidden = true;
  };

  Upload.prototype.showError = function (message) {
    var error = this.el("error");
    if (!error) return;
    error.textContent = message;
    error.hidden = false;
  };

  // -- wiring ---------------------------------------------------------------------------------
  function refuse(form, message) {
    var error = form.querySelector("[data-upload-error]");
    if (error) { error.textContent = message; error.hidden = false; }
  }

  function start(form) {
    var input = form.querySelector('input[type="file"]');
    var file = input && input.files && input.files[0];
    if (!file) return refuse(form, "Choose a video file first.");
    var name = file.name.toLowerCase();
    if (!EXTENSIONS.some(function (ext) { return name.endsWith(ext); })) {
      return refuse(form, "Choose an MP4, MOV, WebM or MKV video.");
    }
    var limit = Number(form.dataset.maxBytes || 0);
    if (limit && file.size > limit) {
      return refuse(form, "This file is " + formatBytes(file.size) + "; videos may be at most " +
        formatBytes(limit) + ".");
    }
    if (!file.size) return refuse(form, "This file is empty.");
    if (active.has(form.dataset.lectureId)) return;
    var upload = new Upload(form, file);
    active.set(upload.lectureId, upload);
    upload.run();
  }

  // Turn the plain markup into the uploader (on load and in every fragment HTMX swaps in).
  function enhance(scope) {
    (scope || document).querySelectorAll("[data-needs-js]").forEach(function (note) {
      note.hidden = true;
    });
    (scope || document).querySelectorAll("form[data-uploader]").forEach(function (form) {
      var upload = active.get(form.dataset.lectureId);
      var fields = form.querySelector("fieldset");
      if (fields) fields.disabled = Boolean(upload);
      form.querySelectorAll("[data-upload-discard]").forEach(function (button) {
        button.disabled = false;
      });
      if (upload) { // re-rendered during an upload: show its progress here
        upload.form = form;
        upload.showBusy(true);
        upload.render();
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-uploader]");
    if (!form) return;
    event.preventDefault();
    start(form);
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-upload-cancel], [data-upload-discard]");
    if (!target) return;
    var form = target.closest("form[data-uploader]");
    if (!form) return;
    event.preventDefault();
    if (target.hasAttribute("data-upload-cancel")) {
      var upload = active.get(form.dataset.lectureId);
      if (upload) upload.cancel();
      return;
    }
    target.disabled = true;
    api("DELETE", target.getAttribute("data-upload-discard"))
      .catch(function () { /* already gone */ })
      .then(function () { return refresh(form.dataset.lectureId, form.dataset.statusUrl); });
  });

  window.addEventListener("beforeunload", function (event) {
    if (!active.size) return;
    event.preventDefault();
    event.returnValue = ""; // "Leave site?": the upload resumes if the same file is chosen again
  });

  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
