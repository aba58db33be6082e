// The door scanner (/door/{event}) and the live counters (also on the organiser's door page).
// Everything works without this file (plain forms); with it: the camera decodes tickets
// (vendored jsQR), scans are sent as JSON, verdicts fill the screen with a sound and a
// vibration, and when the network drops scans are checked against an offline snapshot,
// queued and sent when it comes back (same nonce: a retry is harmless).
// Names only ever reach the page through textContent: never as HTML.
// Times are shown on the event's clock (its time zone), as the server's verdicts are.
// The log of this device has one line per request, showing the server's answer once it
// is known (an offline verdict is replaced when its scan is sent).
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
  const zone = root.dataset.timezone || undefined;
  const eventDays = (root.dataset.days || "").split(" ").filter(Boolean);
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
  // The event's clock: the log and the verdicts show the same time wherever the phone is set.
  function clockFormat(options) {
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        timeZone: zone,
        hourCycle: "h23",
        ...options,
      });
    } catch (_error) {
      return new Intl.DateTimeFormat(undefined, { hourCycle: "h23", ...options });
    }
  }
  const logClock = clockFormat({ hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const verdictClock = clockFormat({ hour: "2-digit", minute: "2-digit" });
  function todayOnEventClock() {
    try {
      // en-CA writes dates as YYYY-MM-DD, the form of data-days.
      return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
        new Date(),
      );
    } catch (_error) {
      return "";
    }
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
  // The phone's own key: the same phone under another name is the same device (a re-scan
  // after renaming it is no conflict).
  const PHONE_KEY = "rencontres.door.device-key";
  const phoneKey = (() => {
    let key = null;
    try {
      key = localStorage.getItem(PHONE_KEY);
    } catch (_error) {
      key = null;
    }
    if (!key || !/^[A-Za-z0-9_-]{8,64}$/.test(key)) {
      key = newNonce().replace(/-/g, "");
      try {
        localStorage.setItem(PHONE_KEY, key);
      } catch (_error) {
        // Not kept: this page's scans still share one key.
      }
    }
    return key;
  })();
  function deviceName() {
    return (deviceInput?.value || "").trim().slice(0, 60);
  }
  function fillDevice() {
    for (const input of document.querySelectorAll("input[data-device]")) input.value = deviceName();
    for (const input of document.querySelectorAll("input[data-device-key]")) input.value = phoneKey;
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
  const dayActions = $("door-day-actions");
  const peopleSelect = $("door-people");
  const codeInput = $("door-code");
  // On a phone the field must not take the focus by itself: the keyboard would cover the
  // camera and its buttons. A keyboard-wedge scanner on a computer needs it.
  const finePointer = window.matchMedia ? window.matchMedia("(pointer: fine)").matches : true;
  function focusCode() {
    if (finePointer) codeInput?.focus();
  }
  let hideTimer = null;
  let pendingConfirm = null;
  let pendingDay = null;

  function hideVerdict() {
    clearTimeout(hideTimer);
    overlay.hidden = true;
    overlayActions.hidden = true;
    if (dayActions) dayActions.hidden = true;
    pendingConfirm = null;
    if (pendingDay) {
      const answer = pendingDay;
      pendingDay = null;
      answer(false);
    }
    if (document.activeElement === document.body || !document.activeElement) focusCode();
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
    if (!overlayActions.contains(event.target) && !dayActions?.contains(event.target)) hideVerdict();
  });
  $("door-dismiss")?.addEventListener("click", hideVerdict);

  // -- the log of this device --------------------------------------------------------------
  // One line per request; ``nonce`` ties a line to its scan, so that the server's answer
  // replaces the offline verdict when a queued scan is sent (never a second line).
  const logList = $("door-log-list");
  function logLine(nonce) {
    if (!logList || !nonce) return null;
    return Array.from(logList.children).find((item) => item.dataset.nonce === nonce) || null;
  }
  function writeLine(item, tone, title, detail) {
    item.className = `door-log-${tone}`;
    item.querySelector("span").textContent = detail ? `${title} — ${detail}` : title;
  }
  function addLog(tone, title, detail, { nonce = "", when = null } = {}) {
    if (!logList) return;
    const existing = logLine(nonce);
    if (existing) {
      writeLine(existing, tone, title, detail);
      return;
    }
    const item = document.createElement("li");
    if (nonce) item.dataset.nonce = nonce;
    const time = document.createElement("time");
    const moment = when && !Number.isNaN(when.getTime()) ? when : new Date();
    time.dateTime = moment.toISOString();
    time.textContent = logClock.format(moment);
    item.append(time, " ", document.createElement("span"));
    writeLine(item, tone, title, detail);
    logList.prepend(item);
    while (logList.children.length > LOG_SIZE) logList.lastElementChild.remove();
  }

  // -- talking to the server ----------------------------------------------------------------
  class NetworkError extends Error {}
  // navigator.onLine says whether there is a network, not whether the server answers (a
  // venue's Wi-Fi without Internet): the last request says that.
  let reachable = true;
  const isOnline = () => navigator.onLine && reachable;
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
      reachable = false;
      throw new NetworkError("network");
    } finally {
      clearTimeout(timer);
    }
    reachable = true;
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
      reachable = true;
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
      case "already_checked_in": {
        const at = entry.at ? new Date(entry.at) : null;
        const title =
          at && !Number.isNaN(at.getTime()) ? fmt(strings.already_at, { time: verdictClock.format(at) }) : strings.already;
        return { tone: "warn", title, detail: name, entry };
      }
      default:
        return { tone: "bad", title: strings[entry.status] || strings.unknown, detail: name, entry };
    }
  }
  function updateBadge() {
    if (!badge) return;
    const waiting = queue.length;
    if (waiting) {
      const text = isOnline()
        ? fmt(strings.syncing, { n: waiting })
        : fmt(waiting === 1 ? strings.waiting_one : strings.waiting_other, { n: waiting });
      badge.textContent = text;
      badge.hidden = false;
    } else if (!isOnline()) {
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
    addLog(verdict.tone, verdict.title, verdict.detail, { nonce: item.nonce, when: new Date(item.scanned_at) });
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
        const when = new Date(item.scanned_at);
        try {
          // The server's answer takes the place of the offline verdict in the log.
          const answer = await postJSON("/scan", item);
          addLog(answer.tone || "bad", answer.message, answer.detail, { nonce: item.nonce, when });
        } catch (error) {
          if (error instanceof NetworkError) break;
          // Server trouble, or signed out (401): keep the queue for the next attempt.
          if (error instanceof HttpError && (error.status >= 500 || error.status === 401)) break;
          // Refused for good (bad input, link revoked): sending it again would not help.
          addLog("bad", strings.error, error.reason, { nonce: item.nonce, when });
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
  function showAnswer(answer, item = null) {
    const tone = answer.tone || (answer.verdict === "admitted" ? "ok" : "bad");
    showVerdict(tone, answer.message, answer.detail);
    if (item) addLog(tone, answer.message, answer.detail, { nonce: item.nonce, when: new Date(item.scanned_at) });
  }
  async function checkIn(scanned, people) {
    const item = {
      scanned,
      nonce: newNonce(),
      device: deviceName(),
      device_key: phoneKey,
      scanned_at: new Date().toISOString(),
    };
    if (people) item.people = people;
    if (!navigator.onLine || queue.length) {
      // Offline, or earlier scans still waiting: keep the order, queue this one too.
      if (navigator.onLine) sync();
      return offlineScan(item);
    }
    try {
      const answer = await postJSON("/scan", item);
      showAnswer(answer, item);
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
      addLog("bad", title, "", { nonce: item.nonce });
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
    exclusively(() => checkIn(scanned, people < left ? people : null));
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

  // "This event is not today": asked once a day before scanning, on the event's clock.
  const dayBanner = $("door-not-today");
  $("door-day-ok-field")?.remove(); // without this script, a checkbox asks instead
  let dayConfirmed = "";
  function notToday() {
    const today = todayOnEventClock();
    return eventDays.length > 0 && today !== "" && !eventDays.includes(today);
  }
  function showDayBanner() {
    if (dayBanner) dayBanner.hidden = !notToday();
  }
  showDayBanner();
  setInterval(showDayBanner, 60000);
  function dayIsConfirmed() {
    if (!notToday() || dayConfirmed === todayOnEventClock() || !dayActions) return Promise.resolve(true);
    return new Promise((resolve) => {
      pendingDay = resolve;
      showVerdict("warn", strings.not_today, strings.not_today_detail, { stay: true });
      dayActions.hidden = false;
      $("door-day-confirm")?.focus();
    });
  }
  $("door-day-confirm")?.addEventListener("click", () => {
    dayConfirmed = todayOnEventClock();
    const answer = pendingDay;
    pendingDay = null;
    hideVerdict();
    answer?.(true);
  });
  $("door-day-cancel")?.addEventListener("click", hideVerdict);

  // One scan at a time, whatever starts it (camera, keyboard, careful mode's confirmation).
  let working = false;
  async function exclusively(task) {
    if (working) return;
    working = true;
    try {
      await task();
    } finally {
      working = false;
    }
  }
  function handleScan(scanned) {
    const text = String(scanned || "").trim();
    if (!text) return Promise.resolve();
    return exclusively(async () => {
      if (!(await dayIsConfirmed())) return;
      if (mode() === "careful") await inspect(text);
      else await checkIn(text, null);
    });
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
    codeInput.focus(); // typed here: the volunteer (or the scanner) goes on typing here
  });
  focusCode();

  // The mode switch exists only with JavaScript (careful mode needs it).
  const modeBox = $("door-mode");
  if (modeBox) {
    modeBox.hidden = false;
    const saved = load("mode", "express");
    const chosen = modeBox.querySelector(`input[value="${saved === "careful" ? "careful" : "express"}"]`);
    if (chosen) chosen.checked = true;
    modeBox.addEventListener("change", () => save("mode", mode()));
  }

  // A check-in from the search or a walk-in answered by htmx: the same full-screen verdict,
  // once per answer. (Looking for a verdict in whatever was swapped showed an old one again:
  // a later search swaps out the element that still holds the last check-in's verdict.)
  document.body.addEventListener("htmx:afterSwap", () => {
    for (const result of root.querySelectorAll(".door-result:not([data-shown])")) {
      result.dataset.shown = "true";
      const tone = result.classList.contains("door-result-ok")
        ? "ok"
        : result.classList.contains("door-result-warn")
          ? "warn"
          : "bad";
      const title = result.querySelector(".door-verdict-title")?.textContent || "";
      const detail = result.querySelector(".door-verdict-detail")?.textContent || "";
      showVerdict(tone, title, detail);
      addLog(tone, title, detail);
    }
  });

  // -- the camera ---------------------------------------------------------------------------
  const video = $("door-video");
  const canvas = $("door-canvas");
  const cameraBox = $("door-camera");
  const cameraNote = $("door-camera-note");
  const startButton = $("door-camera-start");
  const torchButton = $("door-torch");
  let stream = null;
  // Each code in view: when it was last seen, and whether it was scanned since it came into
  // view. A ticket held in front of the camera is one scan however long it stays (gaps under
  // 3 seconds included), even when another code (a poster, another ticket) is read in
  // between; a ticket shown while a verdict is on screen is scanned once it is gone.
  const inView = new Map();

  function note(text) {
    if (!cameraNote) return;
    cameraNote.textContent = text;
    cameraNote.hidden = !text;
  }
  function decoded(text) {
    const now = Date.now();
    for (const [code, seen] of inView) if (now - seen.at >= DEDUPE_MS) inView.delete(code);
    const key = normaliseCode(text) || text;
    const seen = inView.get(key) || { at: now, scanned: false };
    seen.at = now;
    inView.set(key, seen);
    if (seen.scanned || working || pendingConfirm || pendingDay || !overlay.hidden) return;
    seen.scanned = true;
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
    if (stream) return; // one stream, one decoding loop
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
