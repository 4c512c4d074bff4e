// SPDX-License-Identifier: MIT
// Where the token lives: localStorage for the page, and a Cache Storage entry that the
// service worker reads to authenticate media and download requests (sw.js).

const KEY = 'callrec.token';
const CACHE = 'callrec-auth';
const ENTRY = '/__callrec_token';

export function loadToken() {
  return localStorage.getItem(KEY) || '';
}

export async function saveToken(token) {
  localStorage.setItem(KEY, token);
  if ('caches' in self) {
    const c = await caches.open(CACHE);
    await c.put(ENTRY, new Response(token));
  }
}

export async function clearToken() {
  localStorage.removeItem(KEY);
  if ('caches' in self) await caches.delete(CACHE);
}

// Registers sw.js and waits until it controls this page, so that the first <video> is
// already authenticated. Without service workers (an insecure origin) attachments fall
// back to blob URLs (ui/attachments.js).
export async function startServiceWorker() {
  if (!('serviceWorker' in navigator)) return false;
  try {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
        setTimeout(resolve, 3000);
      });
    }
    return !!navigator.serviceWorker.controller;
  } catch (e) {
    console.warn('service worker unavailable:', e.message);
    return false;
  }
}
