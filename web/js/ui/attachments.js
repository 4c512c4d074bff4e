// SPDX-License-Identifier: MIT
// A post's attachments: MP4/WebM and audio play inline (seeking uses Range requests,
// authenticated by the service worker), images show, anything else is a download link.
// Without a service worker the bytes are fetched with the token into a blob URL.

import { h } from './dom.js';
import { fileUrl } from '../api.js';

let serviceWorkerActive = false;

export function setServiceWorkerActive(active) {
  serviceWorkerActive = active;
}

async function sourceFor(api, id) {
  if (serviceWorkerActive) return fileUrl(id);
  const res = await fetch(fileUrl(id), { headers: { Authorization: `Bearer ${api.token}` } });
  if (!res.ok) throw new Error(`download failed (${res.status})`);
  return URL.createObjectURL(await res.blob());
}

function sizeText(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

async function renderOne(api, id) {
  const box = h('div', { class: 'attachment', 'data-file-id': id }, 'Loading attachment…');
  try {
    const info = await api.fileInfo(id);
    const src = await sourceFor(api, id);
    const type = info.content_type || '';
    const link = h('a', { href: src, download: info.name }, `Download ${info.name}`);
    let media = null;
    if (type.startsWith('video/')) {
      media = h('video', { controls: true, preload: 'metadata', src, 'aria-label': info.name, 'data-file-name': info.name });
    } else if (type.startsWith('audio/')) {
      media = h('audio', { controls: true, preload: 'metadata', src, 'aria-label': info.name });
    } else if (type.startsWith('image/') && type !== 'image/svg+xml') {
      media = h('img', { src, alt: info.name });
    }
    box.replaceChildren(...[media, h('span', {}, link, ` (${sizeText(info.size)})`)].filter(Boolean));
  } catch (e) {
    box.textContent = `Attachment unavailable: ${e.message}`;
  }
  return box;
}

export function renderAttachments(api, fileIds) {
  const wrap = h('div', { class: 'attachments' });
  for (const id of fileIds || []) {
    const slot = h('div', { class: 'attachment' });
    wrap.append(slot);
    renderOne(api, id).then((el) => slot.replaceWith(el));
  }
  return wrap;
}
