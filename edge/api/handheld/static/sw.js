// The handheld's service worker: keeps the app's shell (page, script, styles, camera decoder) so the
// app opens with the gateway unreachable, and asks open pages to replay their outbox on "sync".
// Data (/v1/...) is never cached here: the outbox in IndexedDB is the only place a scan waits.
const SHELL = "wims-shell-v1";
const FILES = ["/app/", "/app/static/app.js", "/app/static/app.css", "/app/static/icon.svg",
  "/app/manifest.webmanifest", "/app/static/vendor/zxing-wasm/index.js", "/app/static/vendor/zxing-wasm/zxing_reader.wasm"];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/app")) {
    return;  // the API goes to the network, always
  }
  // network first (a fresh page when the gateway answers), the cached shell when it does not
  ev.respondWith(fetch(ev.request).then((res) => {
    if (res.ok) { const copy = res.clone(); caches.open(SHELL).then((c) => c.put(url.pathname === "/app" ? "/app/" : ev.request, copy)); }
    return res;
  }).catch(() => caches.match(ev.request, { ignoreSearch: true }).then((hit) => hit || caches.match("/app/"))));
});
self.addEventListener("sync", (ev) => {
  if (ev.tag === "wims-outbox") {
    ev.waitUntil(self.clients.matchAll().then((cs) => cs.forEach((c) => c.postMessage("replay"))));
  }
});
