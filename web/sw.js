// SPDX-License-Identifier: MIT
// Adds the signed-in user's bearer token to the page's own requests for file bytes
// (/api/v1/files/ID), which <video>, <img> and download links make without headers. The
// Range header passes through untouched, so a video seeks with 206 replies instead of
// downloading the whole file. Nothing is cached; no other request is touched.

const CACHE = 'callrec-auth';
const ENTRY = '/__callrec_token';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function token() {
  const c = await caches.open(CACHE);
  const r = await c.match(ENTRY);
  return r ? r.text() : '';
}

async function withAuth(request) {
  const t = await token();
  const headers = new Headers(request.headers);
  if (t) headers.set('Authorization', `Bearer ${t}`);
  // A same-origin request may carry Authorization; the media element's own request is
  // no-cors, whose header guard would drop it.
  return fetch(request.url, {
    method: request.method,
    headers,
    mode: 'same-origin',
    credentials: 'omit',
    cache: 'no-store',
    redirect: 'error',
    signal: request.signal,
  });
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  if (!/^\/api\/v1\/files\/[^/]+$/.test(url.pathname)) return;
  if (event.request.method !== 'GET' && event.request.method !== 'HEAD') return;
  if (event.request.headers.has('Authorization')) return;
  event.respondWith(withAuth(event.request));
});
