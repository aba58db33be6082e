// The door scanner (/door/{event}) and the live counters (also on the organiser's door page).
// Everything works without this file (plain forms); with it: the camera decodes tickets
// (vendored jsQR), scans are sent as JSON, verdicts fill the screen with a sound and a
// vibration, and when the network drops scans are checked against an offline snapshot,
// queued and sent when it comes back (same nonce: a retry is harmless).
// Names only ever reach the page through textContent: never as HTML.
"use strict";
(() => {
  const DEDUPE_MS = 3000;
  const VERDICT_MS = 1500;
  const REQUEST_TIMEOUT_MS = 5000;
  const SNAPSHOT_EVERY_MS = 60000;
  const SYNC_EVERY_MS = 5000;
  const LOG_SIZE = 20;
  const CODE = /^[abcdefghjkmnpqrstuvwxyz23456789]{27}$/;

  // -- live counters (server-sent events) -------------------------------------------------
  function renderCounters(section, counters) {
    for (const element of section.querySelectorAll("[data-counter]")) {
      const value = counters[element.dataset.counter];
      if (value !== undefined) element.textContent = String(value);
    }
    const chart = section.querySelector("[data-chart]");
    if (!chart || !Array.isArray(counters.arrivals)) return;
    chart.replaceChildren(
      ...counters.arrivals.map((bar) => {
        const item = document.createElement("li");
        const level = Math.max(0, Math.min(10, Number(bar.level) || 0));
        item.className = "bar-" + level;
        item.title = `${bar.time}: ${bar.count}`;
        const label = document.createElement("span");
        label.className = "visually-hidden";
        label.textContent = item.title;
        item.append(label);
        return item;
      }),
    );
  }

  function startLive(section) {
    if (!window.EventSource || !section.dataset.live) return;
    const source = new EventSource(section.dataset.live);
    source.addEventListener("counters", (event) => {
      try {
        renderCounters(section, JSON.parse(event.data));
      } catch (_error) {
        // A malformed event: keep the figures shown.
      }
    });
    source.addEventListener("closed", () => source.close());
  }

  const counters = document.getElementById("door-counters");
  if (counters) startLive(counters);

  const root = document.getElementById("door");
  if (!root) return;

  // -- configuration and small helpers ----------------------------------------------------
  const base = root.dataset.base;
  const slug = root.dataset.event;
  const strings = JSON.parse(root.dataset.strings || "{}");
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const storageKey = (name) => `rencontres.door.${name}.${slug}`;
  const fmt = (text, values) =>
    String(text || "").replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
  const $ = (id) => document.getElementById(id);

  function load(name, fallback) {
    try {
      const raw = localStorage.getItem(storageKey(name));
      return raw ? JSON.parse(raw) : fallback;
    } catch (_error) {
      return fallback;
    }
  }
  function save(name, value) {
    try {
      localStorage.setItem(storageKey(name), JSON.stringify(value));
    } catch (_error) {
      // Storage full or refused (private mode): the page still works online.
    }
  }
  function newNonce() {
    if (window.crypto?.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function normaliseCode(scanned) {
    let text = String(scanned || "").trim().toLowerCase();
    if (text.includes("/t/")) {
      text = text.slice(text.lastIndexOf("/t/") + 3).split("/")[0].split("?")[0].split("#")[0];
    }
    text = text.replace(/[\s-]/g, "");
    return CODE.test(text) ? text : "";
  }

  // -- the device name ------------------------------------------------------------------------
  const deviceInput = $("door-device");
  const DEVICE_KEY = "rencontres.door.device";
  function deviceName() {
    return (deviceInput?.value || "").trim().slice(0, 60);
  }
  function fillDevice() {
    for (const input of document.querySelectorAll("input[data-device]")) input.value = deviceName();
  }
  if (deviceInput) {
    let stored = null;
    try {
      stored = localStorage.getItem(DEVICE_KEY);
    } catch (_error) {
      stored = null;
    }
    deviceInput.value = stored ?? deviceInput.placeholder ?? "";
    deviceInput.addEventListener("input", () => {
      try {
        localStorage.setItem(DEVICE_KEY, deviceInput.value);
      } catch (_error) {
        // Not kept: it is only a label.
      }
      fillDevice();
    });
  }
  fillDevice();
  document.body.addEventListener("htmx:afterSwap", fillDevice);

  // -- sounds and vibration ---------------------------------------------------------------------
  let audio = null;
  function audioContext() {
    if (!audio && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
    return audio;
  }
  for (const type of ["pointerdown", "keydown"]) {
    document.addEventListener(type, () => audio?.state === "suspended" && audio.resume(), { passive: true });
  }
  function beep(tone) {
    const context = audioContext();
    const patterns = {
      ok: [[880, 0, 0.09, "sine"], [1320, 0.11, 0.12, "sine"]],
      warn: [[660, 0, 0.3, "triangle"]],
      bad: [[220, 0, 0.45, "square"]],
    };
    if (context && context.state !== "closed") {
      for (const [frequency, start, length, wave] of patterns[tone] || patterns.bad) {
        const oscillator = context.createOscillator();
        const gain = context.createGain();
        oscillator.type = wave;
        oscillator.frequency.value = frequency;
        gain.gain.value = 0.15;
        oscillator.connect(gain).connect(context.destination);
        oscillator.start(context.currentTime + start);
        oscillator.stop(context.currentTime + start + length);
      }
    }
    const buzz = { ok: [60], warn: [100, 60, 100], bad: [350] }[tone] || [350];
    if (navigator.vibrate) navigator.vibrate(buzz);
  }

  // -- the verdict overlay --------------------------------------------------------------------
  const overlay = $("door-verdict");
  const overlayTitle = $("door-verdict-title");
  const overlayDetail = $("door-verdict-detail");
  const overlayActions = $("door-verdict-actions");
  const peopleSelect = $("door-people");
  const codeInput = $("door-code");
  let hideTimer = null;
  let pendingConfirm = null;

  function hideVerdict() {
    clearTimeout(hideTimer);
    overlay.hidden = true;
    overlayActions.hidden = true;
    pendingConfirm = null;
    if (document.activeElement === document.body || !document.activeElement) codeInput?.focus();
  }
  function showVerdict(tone, title, detail, { stay = false } = {}) {
    clearTimeout(hideTimer);
    overlay.className = `door-verdict door-verdict-${tone}`;
    overlay.dataset.tone = tone;
    overlayTitle.textContent = title;
    overlayDetail.textContent = detail || "";
    overlay.hidden = false;
    beep(tone);
    if (!stay) hideTimer = setTimeout(hideVerdict, VERDICT_MS);
  }
  overlay.addEventListener("click", (event) => {
    if (!overlayActions.contains(event.target)) hideVerdict();
  });
  $("door-dismiss")?.addEventListener("click", hideVerdict);

  // -- the log of this device --------------------------------------------------------------
  const logList = $("door-log-list");
  function addLog(tone, title, detail) {
    if (!logList) return;
    const item = document.createElement("li");
    item.className = `door-log-${tone}`;
    const time = document.createElement("time");
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const text = document.createElement("span");
    text.textContent = detail ? `${title} — ${detail}` : title;
    item.append(time, " ", text);
    logList.prepend(item);
    while (logList.children.length > LOG_SIZE) logList.lastElementChild.remove();
  }

  // -- talking to the server ----------------------------------------------------------------
  class NetworkError extends Error {}
  class HttpError extends Error {
    constructor(status, body) {
      super(body?.title || String(status));
      this.status = status;
      this.body = body;
      // Problem details: ``detail`` says why (a refusal's sentence), ``title`` what kind.
      this.reason = body?.detail || body?.title || "";
    }
  }
  async function postJSON(path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(base + path, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "content-type": "application/json", accept: "application/json", "x-csrftoken": csrf },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (_error) {
      throw new NetworkError("network");
    } finally {
      clearTimeout(timer);
    }
    if (response.type === "opaqueredirect" || response.status === 0) throw new HttpError(303, { title: strings.no_access });
    let data = null;
    try {
      data = await response.json();
    } catch (_error) {
      data = null;
    }
    if (!response.ok) throw new HttpError(response.status, data);
    return data;
  }

  // -- the offline snapshot and queue -------------------------------------------------------
  let snapshot = load("snapshot", null);
  let queue = load("queue", []);
  const badge = $("door-offline");

  async function refreshSnapshot() {
    if (!navigator.onLine) return;
    try {
      const response = await fetch(`${base}/snapshot.json`, {
        credentials: "same-origin",
        redirect: "manual",
        headers: { accept: "application/json" },
        cache: "no-store",
      });
      if (!response.ok) return;
      const data = await response.json();
      if (data && Array.isArray(data.tickets)) {
        snapshot = data;
        // Offline admissions not yet sent stay applied to the fresh list.
        for (const item of queue) await markLocally(item.scanned, null);
        save("snapshot", snapshot);
      }
    } catch (_error) {
      // Keep the previous snapshot.
    }
  }
  async function sha256Hex(text) {
    if (!window.crypto?.subtle) return "";
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  async function snapshotEntry(scanned) {
    const code = normaliseCode(scanned);
    if (!code || !snapshot || !Array.isArray(snapshot.tickets)) return null;
    const hash = await sha256Hex(snapshot.salt + code);
    return snapshot.tickets.find((ticket) => ticket.h === hash) || null;
  }
  // After an admission, the local list knows it: a second offline scan says "already in".
  async function markLocally(scanned, answer) {
    const entry = await snapshotEntry(scanned);
    if (!entry) return;
    if (answer) {
      entry.arrived = answer.arrived;
    } else if (entry.status === "admitted") {
      entry.arrived = entry.party;
    }
    if (entry.arrived >= entry.party && entry.status === "admitted") {
      entry.status = "already_checked_in";
      entry.at = entry.at || new Date().toISOString();
    }
    save("snapshot", snapshot);
  }
  async function offlineVerdict(scanned) {
    const entry = await snapshotEntry(scanned);
    if (!entry) return { tone: "bad", title: strings.unknown, detail: strings.offline_unknown, entry: null };
    const name = entry.name || "";
    switch (entry.status) {
      case "admitted": {
        const left = entry.party - (entry.arrived || 0);
        const title =
          entry.party > 1
            ? fmt(strings.welcome_party, { name, party: entry.party })
            : fmt(strings.welcome, { name });
        return { tone: "ok", title, detail: strings.offline_checked, entry, left };
      }
      case "already_checked_in":
        return { tone: "warn", title: strings.already, detail: name, entry };
      default:
        return { tone: "bad", title: strings[entry.status] || strings.unknown, detail: name, entry };
    }
  }
  function updateBadge() {
    if (!badge) return;
    const waiting = queue.length;
    if (waiting) {
      const text = navigator.onLine
        ? fmt(strings.syncing, { n: waiting })
        : fmt(waiting === 1 ? strings.waiting_one : strings.waiting_other, { n: waiting });
      badge.textContent = text;
      badge.hidden = false;
    } else if (!navigator.onLine) {
      badge.textContent = strings.offline;
      badge.hidden = false;
    } else {
      badge.hidden = true;
      badge.textContent = "";
    }
    badge.dataset.waiting = String(waiting);
  }
  async function offlineScan(item) {
    const verdict = await offlineVerdict(item.scanned);
    queue.push({ ...item, offline: true });
    save("queue", queue);
    if (verdict.tone === "ok") await markLocally(item.scanned, null);
    showVerdict(verdict.tone, verdict.title, verdict.detail);
    addLog(verdict.tone, verdict.title, verdict.detail);
    updateBadge();
  }
  let syncing = false;
  async function sync() {
    if (syncing || !queue.length || !navigator.onLine) {
      updateBadge();
      return;
    }
    syncing = true;
    updateBadge();
    try {
      while (queue.length) {
        const item = queue[0];
        try {
          const answer = await postJSON("/scan", item);
          if (answer?.conflict) addLog("warn", answer.message, answer.detail);
        } catch (error) {
          if (error instanceof NetworkError) break;
          // Server trouble, or signed out (401): keep the queue for the next attempt.
          if (error instanceof HttpError && (error.status >= 500 || error.status === 401)) break;
          // Refused for good (bad input, link revoked): sending it again would not help.
          addLog("bad", strings.error, error.reason);
        }
        queue.shift();
        save("queue", queue);
        updateBadge();
      }
    } finally {
      syncing = false;
      updateBadge();
    }
  }
  window.addEventListener("online", () => {
    updateBadge();
    sync().then(refreshSnapshot);
  });
  window.addEventListener("offline", updateBadge);
  setInterval(sync, SYNC_EVERY_MS);
  setInterval(refreshSnapshot, SNAPSHOT_EVERY_MS);
  updateBadge();
  sync().then(refreshSnapshot);

  // -- scanning -----------------------------------------------------------------------------
  const undoButton = $("door-undo");
  let lastAdmission = null;

  function mode() {
    return document.querySelector('input[name="door-mode"]:checked')?.value || "express";
  }
  function showAnswer(answer) {
    const tone = answer.tone || (answer.verdict === "admitted" ? "ok" : "bad");
    showVerdict(tone, answer.message, answer.detail);
    addLog(tone, answer.message, answer.detail);
  }
  async function checkIn(scanned, people) {
    const item = { scanned, nonce: newNonce(), device: deviceName(), scanned_at: new Date().toISOString() };
    if (people) item.people = people;
    if (!navigator.onLine || queue.length) {
      // Offline, or earlier scans still waiting: keep the order, queue this one too.
      if (navigator.onLine) sync();
      return offlineScan(item);
    }
    try {
      const answer = await postJSON("/scan", item);
      showAnswer(answer);
      if (answer.verdict === "admitted" && answer.check_in_id) {
        lastAdmission = answer.check_in_id;
        if (undoButton) {
          undoButton.hidden = false;
          undoButton.disabled = false;
        }
        markLocally(scanned, answer);
      }
    } catch (error) {
      if (error instanceof NetworkError) return offlineScan(item);
      const title = error.reason || strings.error;
      showVerdict("bad", title, "");
      addLog("bad", title, "");
    }
  }
  function askToConfirm(scanned, answer) {
    const left = Math.max(1, (answer.party || 1) - (answer.arrived || 0));
    peopleSelect.replaceChildren();
    for (let n = left; n >= 1; n -= 1) {
      const option = document.createElement("option");
      option.value = String(n);
      option.textContent = String(n);
      peopleSelect.append(option);
    }
    peopleSelect.parentElement.hidden = false;
    showVerdict(answer.tone || "ok", answer.message, answer.detail, { stay: true });
    overlayActions.hidden = false;
    pendingConfirm = { scanned, left };
    $("door-confirm")?.focus();
  }
  $("door-confirm")?.addEventListener("click", () => {
    if (!pendingConfirm) return;
    const { scanned, left } = pendingConfirm;
    const people = Number(peopleSelect.value) || left;
    hideVerdict();
    checkIn(scanned, people < left ? people : null);
  });
  async function inspect(scanned) {
    let answer;
    try {
      if (!navigator.onLine) throw new NetworkError("offline");
      answer = await postJSON("/inspect", { scanned });
    } catch (error) {
      if (!(error instanceof NetworkError)) {
        showVerdict("bad", error.reason || strings.error, "");
        return;
      }
      const verdict = await offlineVerdict(scanned);
      if (verdict.tone !== "ok") {
        showVerdict(verdict.tone, verdict.title, verdict.detail);
        return;
      }
      answer = {
        tone: "ok",
        message: fmt(strings.valid, { name: verdict.entry.name, party: verdict.entry.party }),
        detail: strings.offline_checked,
        party: verdict.entry.party,
        arrived: verdict.entry.arrived || 0,
        verdict: "admitted",
      };
    }
    if (answer.verdict === "admitted") askToConfirm(scanned, answer);
    else showAnswer(answer);
  }
  let working = false;
  async function handleScan(scanned) {
    const text = String(scanned || "").trim();
    if (!text || working) return;
    working = true;
    try {
      if (mode() === "careful") await inspect(text);
      else await checkIn(text, null);
    } finally {
      working = false;
    }
  }

  undoButton?.addEventListener("click", async () => {
    if (!lastAdmission) {
      showVerdict("warn", strings.nothing_to_undo, "");
      return;
    }
    const checkInId = lastAdmission;
    lastAdmission = null;
    undoButton.disabled = true;
    try {
      const answer = await postJSON("/undo", { check_in_id: checkInId, device: deviceName() });
      showVerdict("warn", answer.message, answer.detail);
      addLog("warn", answer.message, "");
      refreshSnapshot();
    } catch (error) {
      showVerdict("bad", error.reason || strings.error, "");
    }
  });

  // The text field: keyboard-wedge scanners type the code and press Enter.
  const form = $("door-scan-form");
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = codeInput.value;
    codeInput.value = "";
    handleScan(value);
    codeInput.focus();
  });

  // The mode switch exists only with JavaScript (careful mode needs it).
  const modeBox = $("door-mode");
  if (modeBox) {
    modeBox.hidden = false;
    const saved = load("mode", "express");
    const chosen = modeBox.querySelector(`input[value="${saved === "careful" ? "careful" : "express"}"]`);
    if (chosen) chosen.checked = true;
    modeBox.addEventListener("change", () => save("mode", mode()));
  }

  // A check-in from the search or a walk-in answered by htmx: the same full-screen verdict.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const result = event.detail?.target?.querySelector?.(".door-result") ||
      (event.detail?.target?.classList?.contains("door-result") ? event.detail.target : null);
    if (!result) return;
    const tone = result.classList.contains("door-result-ok")
      ? "ok"
      : result.classList.contains("door-result-warn")
        ? "warn"
        : "bad";
    const title = result.querySelector(".door-verdict-title")?.textContent || "";
    const detail = result.querySelector(".door-verdict-detail")?.textContent || "";
    showVerdict(tone, title, detail);
    addLog(tone, title, detail);
  });

  // -- the camera ---------------------------------------------------------------------------
  const video = $("door-video");
  const canvas = $("door-canvas");
  const cameraBox = $("door-camera");
  const cameraNote = $("door-camera-note");
  const startButton = $("door-camera-start");
  const torchButton = $("door-torch");
  let stream = null;
  let lastCode = "";
  let lastSeenAt = 0;

  function note(text) {
    if (!cameraNote) return;
    cameraNote.textContent = text;
    cameraNote.hidden = !text;
  }
  function decoded(text) {
    const now = Date.now();
    const same = text === lastCode && now - lastSeenAt < DEDUPE_MS;
    lastCode = text;
    lastSeenAt = now; // a ticket held in front of the camera is one scan, however long
    if (same || working || pendingConfirm || !overlay.hidden) return;
    handleScan(text);
  }
  function tick() {
    if (!stream) return;
    if (video.readyState >= 2 && video.videoWidth && !document.hidden && typeof window.jsQR === "function") {
      const scale = Math.min(1, 640 / video.videoWidth);
      const width = Math.round(video.videoWidth * scale);
      const height = Math.round(video.videoHeight * scale);
      if (canvas.width !== width) canvas.width = width;
      if (canvas.height !== height) canvas.height = height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, width, height);
      const image = context.getImageData(0, 0, width, height);
      const code = window.jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) decoded(code.data);
    }
    setTimeout(() => requestAnimationFrame(tick), 120);
  }
  async function startCamera() {
    if (!navigator.mediaDevices?.getUserMedia || typeof window.jsQR !== "function") {
      note(strings.camera_off);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
    } catch (error) {
      stream = null;
      note(error && error.name === "NotAllowedError" ? strings.camera_denied : strings.camera_off);
      if (startButton) startButton.hidden = false;
      return;
    }
    note("");
    if (startButton) startButton.hidden = true;
    video.srcObject = stream;
    cameraBox.hidden = false;
    try {
      await video.play();
    } catch (_error) {
      // Autoplay refused: the muted inline video plays on the first tap.
    }
    const track = stream.getVideoTracks()[0];
    const capabilities = track?.getCapabilities ? track.getCapabilities() : {};
    if (capabilities.torch && torchButton) {
      torchButton.hidden = false;
      torchButton.addEventListener("click", async () => {
        const on = torchButton.getAttribute("aria-pressed") !== "true";
        try {
          await track.applyConstraints({ advanced: [{ torch: on }] });
          torchButton.setAttribute("aria-pressed", String(on));
        } catch (_error) {
          torchButton.hidden = true;
        }
      });
    }
    requestAnimationFrame(tick);
  }
  startButton?.addEventListener("click", startCamera);
  startCamera();

  // -- offline page: the service worker keeps the scanner page and its files ---------------
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register(`${base}/sw.js`, { scope: base }).catch(() => {
      // No offline page (an old browser, a private window): scanning still works online.
    });
  }
})();
