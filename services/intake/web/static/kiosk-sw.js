// The kiosk's service worker: keeps a copy of the kiosk page and its assets so the page also
// reloads without a network. Network first (a fixed page reaches kiosks at their next load),
// the copy when the network fails or is too slow. The API is never cached but for the phrase bank
// and the screening rules exported for offline hints (the same for everyone): letters go through
// the page's IndexedDB outbox, and the kiosk keeps its own copy of the prisoner list.

const CACHE = "letters-kiosk-v4";
const NETWORK_TIMEOUT_MS = 4000;
const PHRASES = "/api/v1/phrases";
const OFFLINE_RULES = "/api/v1/screening/offline-rules";
const ASSETS = [
  "/kiosk",
  "/static/base.css",
  "/static/kiosk.css",
  "/static/kiosk.js",
  "/static/kiosk-queue.js",
  "/static/kiosk-pin.js",
  "/static/api.js",
  "/static/editor.js",
  "/static/i18n.js",
  "/staff-kit/i18n-core.js", // the public pages' language switch is the staff kit's
  "/static/strings.js",
  "/static/prisoners.js",
  "/static/phrases.js",
  "/static/offline-hints.js",
  "/static/kiosk-qr.js",
  "/static/vendor/qrcode-generator.js",
  "/static/icon.svg",
  "/static/kiosk.webmanifest",
  PHRASES,
  OFFLINE_RULES,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(ASSETS))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function cacheKey(request) {
  const url = new URL(request.url);
  return url.origin + url.pathname; // /kiosk?idle=30 and /kiosk are the same page
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  const key = cacheKey(request);
  const fromNetwork = fetch(request).then((response) => {
    if (response.ok && response.type === "basic") cache.put(key, response.clone());
    return response;
  });
  fromNetwork.catch(() => {}); // when the copy answered first, a late failure is nobody's business
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), NETWORK_TIMEOUT_MS));
  try {
    const first = await Promise.race([fromNetwork, timeout]);
    if (first) return first;
    return (await cache.match(key)) || (await fromNetwork); // slow network: the copy, if there is one
  } catch {
    const copy = await cache.match(key);
    if (copy) return copy;
    return Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // The page, its assets (the language switch from /staff-kit/ among them) and the shared API answers.
  if (!ASSETS.includes(url.pathname) && !url.pathname.startsWith("/static/")) return;
  event.respondWith(networkFirst(request));
});
