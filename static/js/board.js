// The open-space board (/e/{event}/board..., /t/{code}/board): live views over server-sent
// events, a participant's marks, topics and agenda, and the facilitators' drag-and-drop and
// keyboard moves. Every view works without this script (plain pages and forms); with it,
// the page follows the board as it changes and survives a lost connection: it keeps the
// last board, says "reconnecting", and catches up with the first message once back.
(function () {
  "use strict";

  // The server sends the board at least every 20 s ("ping" otherwise): silence means lost.
  const WATCHDOG_MS = 45000;
  const RETRY_MS = 3000;
  const BANNER_DELAY_MS = 1500;

  function words(value) {
    return new Set((value || "").split(/\s+/).filter(Boolean));
  }

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, (_match, name) => values[name] ?? "");
  }

  function say(root, message) {
    const region = root.querySelector("[data-announce]");
    if (!region || !message) return;
    region.textContent = "";
    window.setTimeout(() => { region.textContent = message; }, 50);
  }

  // Forms rendered by the live stream carry no CSRF token: add this page's.
  function withTokens(root) {
    const token = root.dataset.csrf;
    if (!token) return;
    root.querySelectorAll("form[method=post]").forEach((form) => {
      if (form.querySelector('input[name="_csrf_token"]')) return;
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "_csrf_token";
      input.value = token;
      form.prepend(input);
    });
  }

  async function post(root, url, fields) {
    const response = await fetch(url, {
      method: "POST",
      body: new URLSearchParams(fields),
      headers: { "Accept": "application/json", "x-csrftoken": root.dataset.csrf || "" },
      credentials: "same-origin",
    });
    let data = null;
    try { data = await response.json(); } catch (_error) { data = null; }
    if (!response.ok) {
      throw new Error((data && data.detail) || response.statusText || "error");
    }
    return data;
  }

  // -- the live stream --------------------------------------------------------------------
  function connect(root, onBoard) {
    const banner = root.querySelector("[data-reconnecting]");
    let source = null;
    let watchdog = 0;
    let retry = 0;
    let bannerTimer = 0;

    function lost() {
      if (!banner || bannerTimer) return;
      bannerTimer = window.setTimeout(() => { banner.hidden = false; }, BANNER_DELAY_MS);
    }
    function fine() {
      window.clearTimeout(bannerTimer);
      bannerTimer = 0;
      if (banner) banner.hidden = true;
    }
    function arm() {
      window.clearTimeout(watchdog);
      watchdog = window.setTimeout(() => { lost(); restart(); }, WATCHDOG_MS);
    }
    function close() {
      if (source) source.close();
      source = null;
    }
    function later(ms) {
      window.clearTimeout(retry);
      retry = window.setTimeout(restart, ms);
    }
    function restart() {
      close();
      if (!navigator.onLine) { lost(); return; }
      source = new EventSource(root.dataset.boardLive);
      source.addEventListener("board", (event) => {
        fine();
        arm();
        onBoard(JSON.parse(event.data));
      });
      source.addEventListener("ping", arm);
      source.addEventListener("closed", () => { close(); lost(); later(30000); });
      source.addEventListener("error", () => {
        lost();
        if (source && source.readyState === EventSource.CLOSED) later(RETRY_MS);
      });
      arm();
    }
    window.addEventListener("offline", () => { close(); lost(); });
    window.addEventListener("online", restart);
    restart();
  }

  function liveView(root, afterSwap) {
    let version = 0;
    let pending = null;
    const view = {
      busy: false,
      swap(data) {
        if (data.v < version) return;  // never go back to an older board
        if (view.busy) { pending = data; return; }
        version = data.v;
        root.querySelector("[data-live-root]").innerHTML = data.html;
        withTokens(root);
        if (afterSwap) afterSwap();
      },
      release() {
        view.busy = false;
        if (pending) { const data = pending; pending = null; view.swap(data); }
      },
    };
    connect(root, view.swap);
    return view;
  }

  // -- a participant's phone --------------------------------------------------------------
  function phone(root) {
    const base = root.dataset.base;
    const mine = words(root.dataset.myTopics);
    const interested = words(root.dataset.interested);
    const notForMe = words(root.dataset.notForMe);
    const markTemplate = document.getElementById("board-mark-template");
    const mineTemplate = document.getElementById("board-mine-template");
    const reportTemplate = document.getElementById("board-report-template");
    const seen = new Map();

    function items() {
      const found = new Map();
      root.querySelectorAll("[data-live-root] [data-topic]").forEach((item) => {
        found.set(item.dataset.topic, item);
      });
      return found;
    }

    // A plain form: the page reloads with the answer.
    function reportForm(id, title) {
      const form = reportTemplate.content.firstElementChild.cloneNode(true);
      form.action = base + form.dataset.path.replace("TOPIC", id);
      form.querySelectorAll(".visually-hidden").forEach((span) => {
        span.textContent = " · " + title;
      });
      return form;
    }

    function actions() {
      root.querySelectorAll("[data-live-root] [data-actions]").forEach((slot) => {
        const id = slot.dataset.actions;
        if (!slot.firstElementChild) {
          const title = slot.closest("[data-topic]").dataset.title;
          if (mine.has(id)) {
            slot.append(mineTemplate.content.cloneNode(true));
            slot.closest("[data-topic]").classList.add("is-mine");
          } else {
            const form = markTemplate.content.firstElementChild.cloneNode(true);
            form.action = base + form.dataset.path.replace("TOPIC", id);
            form.querySelectorAll(".visually-hidden").forEach((span) => {
              span.textContent = " · " + title;
            });
            slot.append(form, reportForm(id, title));
          }
        }
        const want = slot.querySelector(".board-mark-interested");
        const not = slot.querySelector(".board-mark-not");
        if (want) {
          want.setAttribute("aria-pressed", String(interested.has(id)));
          want.value = interested.has(id) ? "none" : "interested";
        }
        if (not) {
          not.setAttribute("aria-pressed", String(notForMe.has(id)));
          not.value = notForMe.has(id) ? "none" : "not_for_me";
        }
      });
    }

    function myTopics(found) {
      root.querySelectorAll("[data-mine]").forEach((entry) => {
        const item = found.get(entry.dataset.mine);
        const where = item ? item.dataset.where : root.dataset.goneText;
        const shown = entry.querySelector("[data-where]");
        if (shown) shown.textContent = where;
      });
    }

    function agenda(found) {
      const list = root.querySelector("[data-agenda]");
      if (!list) return;
      const chosen = [...found.values()]
        .filter((item) => item.dataset.starts && (mine.has(item.dataset.topic) || interested.has(item.dataset.topic)))
        .sort((a, b) => a.dataset.starts.localeCompare(b.dataset.starts));
      list.replaceChildren();
      for (const item of chosen) {
        const entry = document.createElement("li");
        const link = document.createElement("a");
        link.href = "#topic-" + item.dataset.topic;
        link.textContent = item.dataset.title;
        entry.append(item.dataset.where + " — ", link);
        list.append(entry);
      }
      if (!chosen.length) {
        const empty = document.createElement("li");
        empty.className = "muted";
        empty.textContent = list.dataset.emptyText;
        list.append(empty);
      }
    }

    // Tell screen-reader users when a topic that concerns them moved.
    function announceMoves(found) {
      const messages = [];
      for (const [id, item] of found) {
        if (!mine.has(id) && !interested.has(id)) continue;
        const before = seen.get(id);
        if (before !== undefined && before !== item.dataset.where) {
          const template = mine.has(id) ? root.dataset.movedText : root.dataset.interestMovedText;
          messages.push(fill(template, { title: item.dataset.title, where: item.dataset.where }));
        }
      }
      seen.clear();
      for (const [id, item] of found) seen.set(id, item.dataset.where);
      if (messages.length) say(root, messages.join(" "));
    }

    function refresh() {
      const found = items();
      actions();
      myTopics(found);
      agenda(found);
      announceMoves(found);
    }

    root.addEventListener("submit", async (event) => {
      const form = event.target;
      if (form.classList.contains("board-report-form")) {
        if (!window.confirm(root.dataset.reportConfirm)) event.preventDefault();
        return;
      }
      if (!form.classList.contains("board-mark-form")) return;
      event.preventDefault();
      const button = event.submitter;
      if (!button) return;
      try {
        const data = await post(root, form.action, { mark: button.value });
        interested.delete(data.topic);
        notForMe.delete(data.topic);
        if (data.mark === "interested") interested.add(data.topic);
        if (data.mark === "not_for_me") notForMe.add(data.topic);
        refresh();
      } catch (error) {
        say(root, error.message);
      }
    });

    refresh();
    liveView(root, refresh);
  }

  // -- the facilitators' grid -------------------------------------------------------------
  function facilitate(root) {
    const base = root.dataset.base;
    let dragged = null;
    let picking = null;

    function showMoveButtons() {
      root.querySelectorAll("[data-move]").forEach((button) => { button.hidden = false; });
    }
    const view = liveView(root, showMoveButtons);
    showMoveButtons();

    async function move(id, target) {
      const title = (root.querySelector(`[data-topic="${id}"]`) || {}).dataset?.title || "";
      try {
        if (target.dataset.drop === "pool") {
          await post(root, `${base}/topics/${id}/unplace`, {});
          say(root, fill(root.dataset.unplacedText, { title }));
        } else {
          await post(root, `${base}/topics/${id}/place`, { slot: target.dataset.slot, room: target.dataset.room });
          say(root, fill(root.dataset.placedText, { title, cell: target.dataset.cellLabel }));
        }
      } catch (error) {
        say(root, error.message);
      }
    }

    function dropTarget(element) {
      return element.closest("td[data-slot][data-room], [data-drop=pool]");
    }

    root.addEventListener("dragstart", (event) => {
      const card = event.target.closest("[data-topic][draggable=true]");
      if (!card) return;
      dragged = card.dataset.topic;
      view.busy = true;
      event.dataTransfer.setData("text/plain", dragged);
      event.dataTransfer.effectAllowed = "move";
    });
    root.addEventListener("dragend", () => { dragged = null; view.release(); });
    root.addEventListener("dragover", (event) => {
      if (dragged && dropTarget(event.target)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
      }
    });
    root.addEventListener("drop", (event) => {
      const target = dropTarget(event.target);
      if (!target) return;
      event.preventDefault();
      const id = event.dataTransfer.getData("text/plain") || dragged;
      if (id) move(id, target);
    });

    // Keyboard: "Move" picks the topic up, the arrows choose a cell, Enter drops it there.
    function targets() {
      return [...root.querySelectorAll("td[data-slot][data-room], [data-drop=pool]")];
    }
    function columns() {
      return Math.max(root.querySelectorAll("thead .board-room-head").length, 1);
    }
    function focusTarget(index) {
      const all = targets();
      if (!all.length) return;
      picking.index = Math.min(Math.max(index, 0), all.length - 1);
      const cell = all[picking.index];
      cell.focus();
    }
    function stopPicking(returnFocus) {
      if (!picking) return;
      const id = picking.id;
      targets().forEach((cell) => {
        cell.removeAttribute("tabindex");
        cell.classList.remove("board-target");
        cell.removeAttribute("aria-label");
      });
      picking = null;
      view.release();
      if (returnFocus) {
        const button = root.querySelector(`[data-move="${id}"]`);
        if (button) button.focus();
      }
    }
    root.addEventListener("click", (event) => {
      const button = event.target.closest("[data-move]");
      if (!button) return;
      const card = button.closest("[data-topic]");
      view.busy = true;
      picking = { id: button.dataset.move, index: 0 };
      targets().forEach((cell) => {
        cell.tabIndex = -1;
        cell.classList.add("board-target");
        cell.setAttribute("aria-label", cell.dataset.cellLabel || root.dataset.poolText);
      });
      const all = targets();
      const current = all.findIndex((cell) => cell.contains(card));
      focusTarget(current >= 0 ? current : all.findIndex((cell) => cell.classList.contains("board-cell-open")));
      say(root, fill(root.dataset.pickedText, { title: card.dataset.title }));
    });
    root.addEventListener("keydown", (event) => {
      if (!picking) return;
      const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(), ArrowUp: -columns() }[event.key];
      if (step) {
        event.preventDefault();
        focusTarget(picking.index + step);
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        const target = targets()[picking.index];
        const id = picking.id;
        stopPicking(false);
        move(id, target);
      } else if (event.key === "Escape") {
        event.preventDefault();
        say(root, root.dataset.cancelledText);
        stopPicking(true);
      }
    });
  }

  function start() {
    document.querySelectorAll("[data-board-live]").forEach((root) => {
      const kind = root.dataset.view;
      if (kind === "phone") phone(root);
      else if (kind === "facilitate") facilitate(root);
      else liveView(root, null);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
