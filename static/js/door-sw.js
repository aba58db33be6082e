// Offline worker of one event's door scanner, served as /door/{event}/sw.js with the
// header Service-Worker-Allowed: /door/{event}, and registered with that scope.
// It keeps the scanner page and its files; scans themselves never go through a cache
// (door.js queues them in localStorage and sends them when the network is back).
"use strict";
const VERSION = "door-v2";
const SCOPE = new URL(self.registration.scope).pathname.replace(/\/$/, "");
const CACHE = `rencontres-${VERSION}-${SCOPE}`;
const ASSETS = [
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/js/door.js",
  "/static/vendor/jsQR-1.4.0.js",
  "/static/vendor/htmx-2.0.10.min.js",
  "/static/favicon.svg",
];
const NETWORK_TIMEOUT_MS = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.allSettled([SCOPE, ...ASSETS].map((url) => cache.add(url))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith("rencontres-door-") && key.endsWith(SCOPE) && key !== CACHE)
            .map((key) => caches.delete(key)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

// The page: the network first (fresh counters, fresh CSRF token), the cached copy when
// the network is down or too slow.
async function scannerPage(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok && response.type === "basic") await cache.put(SCOPE, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(SCOPE);
    if (cached) return cached;
    throw error;
  }
}

// The files: the cached copy at once, refreshed in the background.
async function asset(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  const refresh = fetch(request)
    .then((response) => {
      if (response.ok) cache.put(request, response.clone());
      return response;
    })
    .catch(() => cached);
  return cached || refresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === SCOPE) {
    event.respondWith(scannerPage(request));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(asset(request));
  }
});
